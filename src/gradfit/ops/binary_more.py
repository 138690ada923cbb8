"""More binary elementwise ops and reductions: remainder, fmod, atan2, hypot, xlogy,
logaddexp(2), fmax/fmin, copysign, prod, cummax/cummin and logcumsumexp.

Gradients follow PyTorch's derivatives.yaml. Operands broadcast as in NumPy; the engine
sums gradients back to each operand's shape.
"""

from __future__ import annotations

import numpy as np

from gradfit.autograd.function import Op
from gradfit.ops.elementwise import _wants, check_integer_divisor, piecewise_linear_graph

_LN2 = float(np.log(2.0))


def _graph_fns():
    # The graph versions are written with Tensor methods; importing gradfit here (not at
    # module level) avoids an import cycle with gradfit.tensor.
    import gradfit

    return gradfit


class _Remainder(Op):
    """a − b·round(a / b), with ``round`` floor (``remainder``) or trunc (``fmod``);
    d/da = 1, d/db = −round(a / b)."""

    backward_graph = staticmethod(piecewise_linear_graph)

    @staticmethod
    def forward(ctx, a, b):
        check_integer_divisor(a, b)
        ctx.a, ctx.b = a, b
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.asarray(type(ctx).remainder(a, b))

    @staticmethod
    def backward(ctx, grad_output):
        gb = None
        if _wants(ctx, 1):
            with np.errstate(divide="ignore", invalid="ignore"):
                gb = -grad_output * type(ctx).rounding(ctx.a / ctx.b)
        return grad_output, gb


class Remainder(_Remainder):
    """Python-style remainder (the sign of the divisor)."""

    remainder, rounding = staticmethod(np.mod), staticmethod(np.floor)


class Fmod(_Remainder):
    """C-style remainder (the sign of the dividend)."""

    remainder, rounding = staticmethod(np.fmod), staticmethod(np.trunc)


class Atan2(Op):
    """atan2(a, b); d/da = b / (a^2 + b^2), d/db = -a / (a^2 + b^2)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.a, ctx.b = a, b
        return np.asarray(np.arctan2(a, b))

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.a, ctx.b
        r = grad_output / (a * a + b * b)
        return (r * b if _wants(ctx, 0) else None), (-r * a if _wants(ctx, 1) else None)

    @staticmethod
    def backward_graph(ctx, g):
        a, b = ctx.inputs
        r = g / (a * a + b * b)
        return (r * b if _wants(ctx, 0) else None), (-r * a if _wants(ctx, 1) else None)


class Hypot(Op):
    """sqrt(a^2 + b^2); d/da = a / out, d/db = b / out."""

    saves_output = True

    @staticmethod
    def forward(ctx, a, b):
        out = np.asarray(np.hypot(a, b))
        ctx.a, ctx.b, ctx.out = a, b, out
        return out

    @staticmethod
    def backward(ctx, grad_output):
        # derivatives.yaml: grad * self / result, rounded in that order
        g, out = grad_output, ctx.out
        return (g * ctx.a / out if _wants(ctx, 0) else None), (
            g * ctx.b / out if _wants(ctx, 1) else None
        )

    @staticmethod
    def backward_graph(ctx, g):
        a, b = ctx.inputs
        r = Hypot.apply(a, b)
        return (g * a / r if _wants(ctx, 0) else None), (g * b / r if _wants(ctx, 1) else None)


def _xlogy(a, b):
    with np.errstate(divide="ignore", invalid="ignore"):
        out = a * np.log(b)
    return np.where((a == 0) & ~np.isnan(b), np.zeros((), a.dtype), out).astype(out.dtype)


class Xlogy(Op):
    """a * log(b), 0 where a == 0 (unless b is NaN); d/da = log(b) (0 where a == 0 and
    b <= 0), d/db = a / b."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.a, ctx.b = a, b
        return np.asarray(_xlogy(a, b))

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.a, ctx.b
        ga = gb = None
        if _wants(ctx, 0):
            ga = _xlogy(grad_output, b)
            ga = np.where((a == 0) & (b <= 0), np.zeros((), ga.dtype), ga).astype(ga.dtype)
        if _wants(ctx, 1):
            with np.errstate(divide="ignore", invalid="ignore"):
                gb = grad_output * a / b
        return ga, gb

    @staticmethod
    def backward_graph(ctx, g):
        gf = _graph_fns()
        a, b = ctx.inputs
        ga = gb = None
        if _wants(ctx, 0):
            ga = Xlogy.apply(g, b)
            ga = gf.where((a == 0) & (b <= 0), gf.zeros_like(ga), ga)
        if _wants(ctx, 1):
            gb = g * a / b
        return ga, gb


class LogAddExp(Op):
    """log(exp(a) + exp(b)) (base 2 with ``base2``); d/da = sigmoid(a - b), d/db =
    sigmoid(b - a), with the differences scaled by ln 2 in base 2."""

    @staticmethod
    def forward(ctx, a, b, base2=False):
        ctx.a, ctx.b, ctx.base2 = a, b, base2
        return np.asarray((np.logaddexp2 if base2 else np.logaddexp)(a, b))

    @staticmethod
    def backward(ctx, grad_output):
        d = ctx.a - ctx.b
        if ctx.base2:
            d = d * _LN2
        with np.errstate(over="ignore"):
            sa = 1 / (1 + np.exp(-d))
        ga = grad_output * sa if _wants(ctx, 0) else None
        gb = grad_output * (1 - sa) if _wants(ctx, 1) else None
        return ga, gb

    @staticmethod
    def backward_graph(ctx, g):
        a, b = ctx.inputs
        d = a - b
        if ctx.base2:
            d = d * _LN2
        ga = g * d.sigmoid() if _wants(ctx, 0) else None
        gb = g * (-d).sigmoid() if _wants(ctx, 1) else None
        return ga, gb


class FMax(Op):
    """fmax/fmin: maximum/minimum that ignores NaN. As PyTorch, a tie sends the whole
    gradient to ``a``; a NaN operand gets none."""

    backward_graph = staticmethod(piecewise_linear_graph)

    @staticmethod
    def forward(ctx, a, b, which="max"):
        ctx.a, ctx.b, ctx.which = a, b, which
        return np.asarray((np.fmax if which == "max" else np.fmin)(a, b))

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.a, ctx.b
        take_a = ((a >= b) if ctx.which == "max" else (a <= b)) | np.isnan(b)
        zero = np.zeros((), grad_output.dtype)
        ga = np.where(take_a, grad_output, zero) if _wants(ctx, 0) else None
        gb = np.where(take_a, zero, grad_output) if _wants(ctx, 1) else None
        return ga, gb


class Copysign(Op):
    """|a| with the sign of b; d/da = out / a (0 where a == 0), d/db = 0."""

    backward_graph = staticmethod(piecewise_linear_graph)

    @staticmethod
    def forward(ctx, a, b):
        out = np.asarray(np.copysign(a, b))
        ctx.a, ctx.out = a, out
        return out

    @staticmethod
    def backward(ctx, grad_output):
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(ctx.a == 0, 0, ctx.out / ctx.a)
        ga = (grad_output * ratio).astype(grad_output.dtype)
        gb = np.zeros_like(grad_output) if _wants(ctx, 1) else None
        return ga, gb


def _exclusive_prod(a: np.ndarray, axis: int) -> np.ndarray:
    """prod_{j != i} a_j along ``axis``, exact with zeros: the product of the exclusive
    cumulative products from the left and from the right (PyTorch's
    prod_safe_zeros_backward)."""
    ones_shape = list(a.shape)
    ones_shape[axis] = 1
    one = np.ones(ones_shape, dtype=a.dtype)
    left = np.cumprod(np.concatenate([one, a], axis=axis), axis=axis)
    left = np.delete(left, -1, axis=axis)
    flipped = np.flip(a, axis)
    right = np.cumprod(np.concatenate([one, flipped], axis=axis), axis=axis)
    right = np.flip(np.delete(right, -1, axis=axis), axis)
    return left * right


class Prod(Op):
    """Product over ``dim`` (an int) or all elements (None). The gradient is the product
    of the other elements, exact with zeros (one zero: the others' product at the zero;
    two or more: 0)."""

    @staticmethod
    def forward(ctx, a, dim=None, keepdim=False):
        ctx.a, ctx.dim, ctx.keepdim = a, dim, keepdim
        return np.asarray(np.prod(a, axis=dim, keepdims=keepdim))

    @staticmethod
    def backward(ctx, grad_output):
        a = ctx.a
        if a.ndim == 0:
            return grad_output.reshape(())
        if ctx.dim is None:
            others = _exclusive_prod(a.reshape(-1), 0).reshape(a.shape)
            return grad_output.reshape(()) * others
        g = grad_output if ctx.keepdim else np.expand_dims(grad_output, ctx.dim)
        return g * _exclusive_prod(a, ctx.dim)

    @staticmethod
    def backward_graph(ctx, g):
        # prod_{j != i} a_j as a Prod over a copy of the row with a_i set to 1: O(n^2),
        # but differentiable again with no special case for zeros.
        gf = _graph_fns()
        a = ctx.inputs[0]
        if a.ndim == 0:
            return g.reshape(())
        if ctx.dim is None:
            x, d = a.reshape(-1), 0
        else:
            x, d = a, ctx.dim
        x = x.transpose(d, -1)
        n = x.shape[-1]
        rows = x.unsqueeze(-2).expand(*x.shape[:-1], n, n)
        eye = gf.eye(n, dtype=gf.bool)
        others = Prod.apply(gf.where(eye, 1.0, rows), dim=rows.ndim - 1)
        others = others.transpose(d, -1)
        if ctx.dim is None:
            return g.reshape(()) * others.reshape(a.shape)
        return (g if ctx.keepdim else g.unsqueeze(ctx.dim)) * others


def cum_extreme(a: np.ndarray, dim: int, which: str):
    """Running max/min along ``dim`` and the index where each was reached (the latest on
    ties, as PyTorch)."""
    acc = np.maximum if which == "max" else np.minimum
    values = acc.accumulate(a, axis=dim)
    shape = [1] * a.ndim
    shape[dim] = a.shape[dim]
    pos = np.arange(a.shape[dim], dtype=np.int64).reshape(shape)
    idx = np.maximum.accumulate(np.where(a == values, pos, 0), axis=dim)
    return values, idx


class CumExtreme(Op):
    """Values of cummax/cummin; the gradient goes to the index each value came from."""

    saves_inputs = False

    @staticmethod
    def forward(ctx, a, dim=0, which="max", indices=None):
        ctx.shape, ctx.dim, ctx.indices, ctx.which = a.shape, dim, indices, which
        return np.take_along_axis(a, indices, axis=dim)

    @staticmethod
    def backward(ctx, grad_output):
        out = np.zeros(ctx.shape, dtype=grad_output.dtype)
        ix = list(np.indices(ctx.shape, sparse=True))
        ix[ctx.dim] = ctx.indices
        np.add.at(out, tuple(ix), grad_output)
        return out

    @staticmethod
    def backward_graph(ctx, g):
        gf = _graph_fns()
        zeros = gf.zeros(ctx.shape, dtype=g.dtype)
        return zeros.scatter_add(ctx.dim, gf.tensor(ctx.indices), g)


class LogCumSumExp(Op):
    """log(cumsum(exp(a))) along ``dim``, computed with logaddexp (no overflow or
    underflow). d out_j / d a_i = exp(a_i - out_j) for i <= j."""

    saves_output = True

    @staticmethod
    def forward(ctx, a, dim=0):
        out = np.logaddexp.accumulate(a, axis=dim) if a.size else a.copy()
        ctx.a, ctx.out, ctx.dim = a, out, dim
        return np.asarray(out)

    @staticmethod
    def backward(ctx, grad_output):
        a = np.moveaxis(ctx.a, ctx.dim, -1)
        out = np.moveaxis(ctx.out, ctx.dim, -1)
        g = np.moveaxis(grad_output, ctx.dim, -1)
        n = a.shape[-1]
        upper = np.triu(np.ones((n, n), dtype=bool))  # [i, j]: i <= j
        with np.errstate(over="ignore", invalid="ignore"):
            w = np.where(upper, np.exp(a[..., :, None] - out[..., None, :]), 0)
        return np.moveaxis((w * g[..., None, :]).sum(-1), -1, ctx.dim)

    @staticmethod
    def backward_graph(ctx, g):
        gf = _graph_fns()
        a = ctx.inputs[0].transpose(ctx.dim, -1)
        out = LogCumSumExp.apply(ctx.inputs[0], dim=ctx.dim).transpose(ctx.dim, -1)
        n = a.shape[-1]
        upper = gf.ones(n, n, dtype=gf.bool).triu()
        # Masked before exp: exp of the unused entries could overflow, and 0 * inf is NaN.
        w = gf.where(upper, a.unsqueeze(-1) - out.unsqueeze(-2), -float("inf")).exp()
        return (w * g.transpose(ctx.dim, -1).unsqueeze(-2)).sum(-1).transpose(ctx.dim, -1)
