"""Reductions, (log-)softmax and logsumexp. ``dim`` is None, an int or a tuple of ints
(already normalised to non-negative by the Tensor method)."""

from __future__ import annotations

import numpy as np

from gradfit import _vecmath
from gradfit._cascade_sum import GRAIN_SIZE, cascade_sum, intra_op_threads
from gradfit._exact import exact_rounding
from gradfit.autograd.function import Op, linear_backward_graph
from gradfit.ops.elementwise import Exp
from gradfit.ops.movement import Expand, Reshape


def _restore(g: np.ndarray, dim, keepdim: bool, ndim: int) -> np.ndarray:
    """Re-insert the reduced axes of ``g`` as size-1 axes, so it broadcasts to the input."""
    if keepdim or dim is None and g.ndim == ndim:
        return g
    if dim is None:
        return g.reshape((1,) * ndim)
    return np.expand_dims(g, dim)


def _expand(g: np.ndarray, shape: tuple) -> np.ndarray:
    """``g`` broadcast to ``shape`` as a new array (an assignment into an empty array:
    ``np.broadcast_to`` builds a read-only view through much slower Python-level code)."""
    out = np.empty(shape, dtype=g.dtype)
    out[...] = g
    return out


def _count(shape: tuple, dim) -> int:
    if dim is None:
        return int(np.prod(shape))
    dims = (dim,) if isinstance(dim, int) else dim
    return int(np.prod([shape[d] for d in dims]))


class Sum(Op):
    saves_inputs = False

    @staticmethod
    def forward(ctx, a, dim=None, keepdim=False):
        ctx.shape, ctx.dim, ctx.keepdim = a.shape, dim, keepdim
        # added in PyTorch's order: float32 sums agree with PyTorch's bit for bit
        return cascade_sum(a, dim, keepdim)

    @staticmethod
    def backward(ctx, grad_output):
        g = _restore(grad_output, ctx.dim, ctx.keepdim, len(ctx.shape))
        return _expand(g, ctx.shape)

    @staticmethod
    def backward_graph(ctx, g):
        return _expand_graph(g, ctx.shape, ctx.dim, ctx.keepdim)


class Mean(Op):
    saves_inputs = False

    @staticmethod
    def forward(ctx, a, dim=None, keepdim=False):
        ctx.shape, ctx.dim, ctx.keepdim = a.shape, dim, keepdim
        if a.dtype.char in "fd":  # PyTorch's mean is its sum divided by the count
            return np.asarray(cascade_sum(a, dim, keepdim) / a.dtype.type(_count(a.shape, dim)))
        return np.asarray(a.mean(axis=dim, keepdims=keepdim))

    @staticmethod
    def backward(ctx, grad_output):
        g = _restore(grad_output, ctx.dim, ctx.keepdim, len(ctx.shape))
        n = _count(ctx.shape, ctx.dim)
        return _expand(g / n, ctx.shape)

    @staticmethod
    def backward_graph(ctx, g):
        n = _count(ctx.shape, ctx.dim)
        return _expand_graph(g / n, ctx.shape, ctx.dim, ctx.keepdim)


def _reduced_last(a: np.ndarray, dim) -> np.ndarray:
    """``a`` with the reduced axes moved last and merged, in the order PyTorch's
    TensorIterator walks them (the largest stride outermost)."""
    dims = tuple(range(a.ndim)) if dim is None else ((dim,) if isinstance(dim, int) else dim)
    dims = sorted(dims, key=lambda d: -abs(a.strides[d]))
    kept = [d for d in range(a.ndim) if d not in dims]
    b = np.transpose(a, kept + dims)
    return b.reshape(b.shape[: len(kept)] + (-1,))


def _torch_var(a: np.ndarray, dim, correction, take_sqrt: bool) -> np.ndarray:
    """PyTorch's CPU variance (``take_sqrt``: standard deviation), kept dims dropped.

    With one output (``std_var_all_cpu``): the mean of all elements in the input's
    dtype, then the squared deviations added in double, one contiguous range per thread.
    Otherwise (``std_var_kernel``): Welford's update in double along the reduced
    elements of each output, in order. The square root is taken in double, before the
    cast to the input's dtype. float32 is computed with NumPy's double two-pass sums,
    whose rounding is far below a float32 ulp; float64 follows the order exactly."""
    n = _count(a.shape, dim)
    out_shape = _reduced_last(a, dim).shape[:-1] if a.ndim else ()
    with np.errstate(divide="ignore", invalid="ignore"):
        if n == 0:
            return np.full(out_shape, np.nan, dtype=a.dtype)
        divisor = max(n - correction, 0)
        if a.dtype != np.float64:
            x = a.astype(np.float64)
            centered = x - x.mean(axis=dim, keepdims=True)
            var = (centered * centered).sum(axis=dim) / divisor
        elif a.size == n:  # one output
            mean = float(cascade_sum(a, None, False)) / n
            flat = a.ravel(order="K") - mean
            flat *= flat
            threads = min(intra_op_threads(), -(-n // GRAIN_SIZE)) if n > GRAIN_SIZE else 1
            chunk = -(-n // threads)
            total = 0.0
            for start in range(0, n, chunk):
                total += float(np.cumsum(flat[start : start + chunk])[-1])
            var = np.asarray(total / divisor if divisor else np.inf * total)
        else:
            b = _reduced_last(a, dim)
            mean = np.zeros(b.shape[:-1])
            m2 = np.zeros(b.shape[:-1])
            for i in range(n):
                x = b[..., i]
                delta = x - mean
                mean = mean + delta / (i + 1)
                m2 = m2 + delta * (x - mean)
            var = m2 / divisor
        out = np.sqrt(var) if take_sqrt else var
    return np.asarray(out, dtype=a.dtype).reshape(out_shape)


class Var(Op):
    """Variance sum((a - mean)^2) / (N - correction); correction=1 is Bessel's (default).
    With ``take_sqrt`` the standard deviation, whose gradient is the variance's over
    2 std, and 0 where std is 0 (PyTorch's ``std_backward``)."""

    @staticmethod
    def forward(ctx, a, dim=None, correction=1, keepdim=False, take_sqrt=False):
        n = _count(a.shape, dim)
        if a.dtype.char in "fd" and n:
            # var_backward centres with PyTorch's own mean (its sum divided by the count)
            ctx.centered = a - cascade_sum(a, dim, True) / a.dtype.type(n)
        else:
            ctx.centered = a - a.mean(axis=dim, keepdims=True)
        ctx.dim, ctx.keepdim, ctx.denom = dim, keepdim, max(n - correction, 0)
        out = _torch_var(a, dim, correction, take_sqrt)
        if keepdim:
            dims = range(a.ndim) if dim is None else ((dim,) if isinstance(dim, int) else dim)
            out = out.reshape(tuple(1 if d in dims else m for d, m in enumerate(a.shape)))
        ctx.std = out if take_sqrt else None
        return out

    @staticmethod
    def backward(ctx, grad_output):
        g = _restore(grad_output, ctx.dim, ctx.keepdim, ctx.centered.ndim)
        with np.errstate(divide="ignore", invalid="ignore"):
            if ctx.std is not None:
                std = _restore(ctx.std, ctx.dim, ctx.keepdim, ctx.centered.ndim)
                g = np.where(std == 0, 0, g / (2 * std)).astype(g.dtype, copy=False)
            return g * (2 / ctx.denom if ctx.denom else np.nan) * ctx.centered

    @staticmethod
    def backward_graph(ctx, g):
        a = ctx.inputs[0]
        g = _restore_graph(g, a.shape, ctx.dim, ctx.keepdim)
        centered = a - Mean.apply(a, dim=ctx.dim, keepdim=True)
        if ctx.kwargs.get("take_sqrt"):
            kw = dict(ctx.kwargs, keepdim=True)
            std = Var.apply(a, **kw)
            zero = std.detach() == 0
            g = (g / (2 * std)).masked_fill(zero, 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            return g * (2 / ctx.denom if ctx.denom else np.nan) * centered


class AMax(Op):
    """amax/amin over ``dim`` (all dims for None); ties share the gradient evenly."""

    saves_output = True  # and the input (the default)

    @staticmethod
    def forward(ctx, a, dim=None, keepdim=False, which="max"):
        fn = np.max if which == "max" else np.min
        if a.size == 0:
            raise RuntimeError(f"{which}(): expected a non-empty tensor")
        out = np.asarray(fn(a, axis=dim, keepdims=True))
        ctx.a, ctx.out, ctx.dim, ctx.keepdim = a, out, dim, keepdim
        return out if keepdim else (out.reshape(()) if dim is None else np.squeeze(out, dim))

    @staticmethod
    def backward(ctx, grad_output):
        g = _restore(grad_output, ctx.dim, ctx.keepdim, ctx.a.ndim)
        mask = (ctx.a == ctx.out).astype(grad_output.dtype)
        return g * mask / mask.sum(axis=ctx.dim, keepdims=True)

    @staticmethod
    def backward_graph(ctx, g):
        g = _restore_graph(g, ctx.a.shape, ctx.dim, ctx.keepdim)
        mask = (ctx.a == ctx.out).astype(g.dtype)
        return g * (mask / mask.sum(axis=ctx.dim, keepdims=True))


class TakeAlong(Op):
    """Values at ``indices`` along ``dim`` (max/min with a dim): the gradient goes to the
    chosen index only."""

    saves_inputs = False

    @staticmethod
    def forward(ctx, a, indices=None, dim=0, keepdim=False):
        ctx.shape, ctx.dtype, ctx.indices, ctx.dim, ctx.keepdim = (
            a.shape,
            a.dtype,
            indices,
            dim,
            keepdim,
        )
        if a.ndim == 0:
            return a.copy()
        out = np.take_along_axis(a, indices, axis=dim)
        return out if keepdim else np.squeeze(out, dim)

    @staticmethod
    def backward(ctx, grad_output):
        if not ctx.shape:
            return grad_output
        g = grad_output if ctx.keepdim else np.expand_dims(grad_output, ctx.dim)
        out = np.zeros(ctx.shape, dtype=grad_output.dtype)
        np.put_along_axis(out, ctx.indices, g, axis=ctx.dim)
        return out

    backward_graph = staticmethod(linear_backward_graph)


def _stable_max(a: np.ndarray, dim) -> np.ndarray:
    """The max over ``dim`` (kept), with non-finite maxima replaced by 0 so that shifting
    by it never makes inf - inf. A finite sum of the maxima proves them all finite: one
    cheap reduction instead of building the where() on every call."""
    m = np.maximum.reduce(a, axis=dim, keepdims=True)
    if np.isfinite(np.add.reduce(m, axis=None)):
        return m
    return np.where(np.isfinite(m), m, 0).astype(a.dtype, copy=False)


class LogSumExp(Op):
    """log(sum(exp(a))) over ``dim``, shifted by the max so exp never overflows."""

    saves_output = True  # and the input (the default)

    @staticmethod
    def forward(ctx, a, dim=None, keepdim=False):
        m = _stable_max(a, dim)
        out = np.log(np.exp(a - m).sum(axis=dim, keepdims=True)) + m
        ctx.a, ctx.out, ctx.dim, ctx.keepdim = a, out, dim, keepdim
        return out if keepdim else (out.reshape(()) if dim is None else np.squeeze(out, dim))

    @staticmethod
    def backward(ctx, grad_output):
        g = _restore(grad_output, ctx.dim, ctx.keepdim, ctx.a.ndim)
        return g * np.exp(ctx.a - ctx.out)

    @staticmethod
    def backward_graph(ctx, g):
        a = ctx.inputs[0]
        g = _restore_graph(g, a.shape, ctx.dim, ctx.keepdim)
        return g * Exp.apply(a - LogSumExp.apply(a, dim=ctx.dim, keepdim=True))


class Softmax(Op):
    """softmax along ``dim``; backward s * (g - sum(g * s))."""

    saves_inputs = False
    saves_output = True

    @staticmethod
    def forward(ctx, a, dim=-1):
        if vecmath_rounding(a):
            ctx.out = _vecmath.softmax(a, dim % a.ndim)
        else:
            e = np.exp(a - _stable_max(a, dim))
            ctx.out = e / e.sum(axis=dim, keepdims=True)
        ctx.dim = dim
        return ctx.out

    @staticmethod
    def backward(ctx, grad_output):
        s = ctx.out
        return s * (grad_output - (grad_output * s).sum(axis=ctx.dim, keepdims=True))

    @staticmethod
    def backward_graph(ctx, g):
        s = Softmax.apply(ctx.inputs[0], dim=ctx.dim)
        return s * (g - Sum.apply(g * s, dim=ctx.dim, keepdim=True))


# Logits with at most this many classes per row are reduced in the transposed layout.
_NARROW_ROWS = 64


def vecmath_rounding(a: np.ndarray) -> bool:
    """Whether softmax, log_softmax and cross-entropy of ``a`` take PyTorch's roundings
    (``gradfit._vecmath``, float32; when: ``gradfit._exact``)."""
    return a.ndim > 0 and exact_rounding(a)


def log_softmax_array(a: np.ndarray, dim) -> np.ndarray:
    """log softmax along ``dim``: shifted by the (stable) max, then minus log-sum-exp."""
    if vecmath_rounding(a):
        return _vecmath.log_softmax(a, dim % a.ndim)
    if a.ndim == 2 and dim in (1, -1) and a.shape[1] <= _NARROW_ROWS:
        # (batch, classes) with few classes, as in every classifier's loss: NumPy reduces a
        # short contiguous axis with one inner-loop call per row, while in the transposed
        # copy each reduction runs across all rows at once (benchmarks/notes.md). Same
        # values, except the row sums add their terms in another order.
        t = a.T.copy()  # a new C-ordered array: it is modified in place below
        t -= _stable_max(t, 0)
        t -= np.log(np.add.reduce(np.exp(t), axis=0, keepdims=True))
        return np.ascontiguousarray(t.T)
    shifted = a - _stable_max(a, dim)
    return shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True))


class LogSoftmax(Op):
    """log_softmax along ``dim``, stable; backward g - softmax * sum(g)."""

    saves_inputs = False
    saves_output = True

    @staticmethod
    def forward(ctx, a, dim=-1):
        ctx.out = log_softmax_array(a, dim)
        ctx.dim = dim
        return ctx.out

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output - np.exp(ctx.out) * grad_output.sum(axis=ctx.dim, keepdims=True)

    @staticmethod
    def backward_graph(ctx, g):
        s = Exp.apply(LogSoftmax.apply(ctx.inputs[0], dim=ctx.dim))
        return g - s * Sum.apply(g, dim=ctx.dim, keepdim=True)


def _restore_graph(g, shape: tuple, dim, keepdim: bool):
    """``_restore`` on a Tensor: the reduced axes back as size-1 axes (recorded)."""
    if keepdim:
        return g
    dims = range(len(shape)) if dim is None else ((dim,) if isinstance(dim, int) else dim)
    dims = {d % len(shape) for d in dims} if shape else set()
    kept = tuple(1 if i in dims else n for i, n in enumerate(shape))
    return g if tuple(g.shape) == kept else Reshape.apply(g, shape=kept)


def _expand_graph(g, shape: tuple, dim, keepdim: bool):
    """The gradient of a sum: ``g`` with the reduced axes restored, broadcast to ``shape``."""
    g = _restore_graph(g, shape, dim, keepdim)
    return g if tuple(g.shape) == tuple(shape) else Expand.apply(g, shape=shape)
