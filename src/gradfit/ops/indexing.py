"""Index-driven ops: gather/scatter along a dim, index_select/index_add, index assignment,
cumulative sums and products, triangular masks, flips and rolls.

Everything is vectorised: a gather along ``dim`` is ``np.take_along_axis``; its adjoint,
the scatter-add, is ``np.add.at`` on a full index tuple (``full_index``), which adds
repeated indices up as PyTorch's ``scatter_add`` does.
"""

from __future__ import annotations

import numpy as np

from gradfit.autograd.function import Op, ViewOp, linear_backward_graph
from gradfit.ops.elementwise import Abs, Sqrt, piecewise_linear_graph
from gradfit.ops.movement import Index, IndexScatter
from gradfit.ops.reduce import AMax, Sum


def _wants(ctx, i: int) -> bool:
    return getattr(ctx.inputs[i], "_requires_grad", False)


def full_index(index: np.ndarray, dim: int) -> tuple:
    """The advanced-index tuple that addresses ``out[i0, .., index[i], .., ik]`` for every
    position ``i`` of ``index`` (positions along the other axes broadcast as open grids)."""
    nd = index.ndim
    grids = []
    for d, n in enumerate(index.shape):
        if d == dim:
            grids.append(index)
        else:
            shape = [1] * nd
            shape[d] = n
            grids.append(np.arange(n).reshape(shape))
    return tuple(grids)


def _leading(a: np.ndarray, shape: tuple, skip: int | None = None) -> np.ndarray:
    """``a`` cut to ``shape`` on every axis except ``skip`` (PyTorch lets an index be
    smaller than the tensor it reads from or writes to)."""
    if a.shape == shape:
        return a
    return a[tuple(slice(None) if d == skip else slice(0, n) for d, n in enumerate(shape))]


class Gather(Op):
    """out[i][j][k] = a[index[i][j][k]][j][k] (dim 0); backward scatter-adds the gradient."""

    saves_inputs = False

    @staticmethod
    def forward(ctx, a, index=None, dim=0):
        ctx.shape, ctx.index, ctx.dim = a.shape, index, dim
        if a.ndim == 0:
            return a.copy()
        return np.take_along_axis(_leading(a, index.shape, dim), index, axis=dim)

    @staticmethod
    def backward(ctx, grad_output):
        if not ctx.shape:
            return grad_output
        out = np.zeros(ctx.shape, dtype=grad_output.dtype)
        np.add.at(out, full_index(ctx.index, ctx.dim), grad_output)
        return out

    backward_graph = staticmethod(linear_backward_graph)


class Scatter(Op):
    """``a`` with ``src`` written (``reduce=None``), added (``'sum'``: scatter_add;
    ``'add'``: scatter's reduce argument) or multiplied (``'multiply'``) at ``index``
    along ``dim``. ``src`` is a tensor or a number.

    Backward (write): the overwritten entries of ``a`` get no gradient; ``src`` gets the
    gradient gathered at ``index``. (sum): ``a`` gets it all. As in PyTorch, scatter with
    a ``reduce`` argument has no derivative.
    """

    saves_inputs = False

    @staticmethod
    def forward(ctx, a, src, index=None, dim=0, reduce=None):
        idx = full_index(index, dim) if a.ndim else ()
        out = a.copy()
        vals = src if np.ndim(src) == 0 else _leading(src, index.shape)
        if a.ndim == 0:
            vals = np.asarray(vals).reshape(())
        if reduce is None:
            out[idx] = vals
        elif reduce in ("add", "sum"):
            np.add.at(out, idx, np.broadcast_to(vals, index.shape))
        else:
            np.multiply.at(out, idx, np.broadcast_to(vals, index.shape))
        ctx.idx, ctx.index, ctx.reduce = idx, index, reduce
        ctx.src_shape = np.shape(src)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        if ctx.reduce in ("add", "multiply"):
            # As PyTorch: scatter_add is the differentiable form of reduce='add'.
            raise RuntimeError(
                f"the derivative of scatter with reduce={ctx.reduce!r} is not implemented "
                "(use scatter_add)"
            )
        g = grad_output
        ga = gs = None
        if _wants(ctx, 0):
            if ctx.reduce == "sum":
                ga = g
            else:
                ga = np.array(g)  # a copy; g may be a NumPy scalar for 0-d tensors
                ga[ctx.idx] = 0
        if len(ctx.inputs) > 1 and _wants(ctx, 1):
            picked = g[ctx.idx] if ctx.idx else g
            gs = np.zeros(ctx.src_shape, dtype=g.dtype)
            gs[tuple(slice(0, n) for n in picked.shape)] = picked
        return ga, gs

    @staticmethod
    def backward_graph(ctx, g):
        """Linear in ``a`` and ``src`` with a fixed index: the same routing on Tensors."""
        if ctx.reduce in ("add", "multiply"):
            return Scatter.backward(ctx, g._array)  # raises, as in first order
        ga = gs = None
        if _wants(ctx, 0):
            ga = g if ctx.reduce == "sum" else g * _kept(g.shape, ctx.idx, g.dtype)
        if len(ctx.inputs) > 1 and _wants(ctx, 1):
            picked = Index.apply(g, index=ctx.idx) if ctx.idx else g
            if picked.shape != tuple(ctx.src_shape):
                lead = tuple(slice(0, n) for n in picked.shape)
                picked = IndexScatter.apply(picked, shape=ctx.src_shape, index=lead)
            gs = picked
        return ga, gs


class IndexAdd(Op):
    """``a`` with ``alpha * source`` added at ``index`` (1-D) along ``dim``."""

    saves_inputs = False

    @staticmethod
    def forward(ctx, a, source, index=None, dim=0, alpha=1):
        sel = (slice(None),) * dim + (index,)
        out = a.copy()
        src = source if alpha == 1 else source * alpha
        np.add.at(out, sel, src.astype(a.dtype, copy=False))
        ctx.sel, ctx.alpha = sel, alpha
        return out

    @staticmethod
    def backward(ctx, grad_output):
        gs = None
        if _wants(ctx, 1):
            gs = grad_output[ctx.sel]
            if ctx.alpha != 1:
                gs = gs * ctx.alpha
        return grad_output, gs

    @staticmethod
    def backward_graph(ctx, g):
        gs = None
        if _wants(ctx, 1):
            gs = Index.apply(g, index=ctx.sel)
            if ctx.alpha != 1:
                gs = gs * ctx.alpha
        return g, gs


class IndexPut(Op):
    """``a`` with ``a[index] = value`` (PyTorch's index assignment, recorded): the
    overwritten entries of ``a`` get no gradient, ``value`` gets the gradient read back at
    ``index`` (summed over its broadcast by the engine)."""

    saves_inputs = False

    @staticmethod
    def forward(ctx, a, value, index=None, accumulate=False):
        out = a.copy()
        if accumulate:
            np.add.at(out, index, value)
        else:
            out[index] = value
        ctx.index, ctx.accumulate = index, accumulate
        ctx.value_shape = np.shape(value)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        g = grad_output
        ga = gv = None
        if _wants(ctx, 0):
            if ctx.accumulate:
                ga = g
            else:
                ga = np.array(g)  # a copy; g may be a NumPy scalar for 0-d tensors
                ga[ctx.index] = 0
        if _wants(ctx, 1):
            gv = g[ctx.index]
            # NumPy lets a value with extra leading 1-axes fill a smaller region: give the
            # gradient those axes so the engine can sum it back to the value's shape.
            extra = len(ctx.value_shape) - gv.ndim
            if extra > 0:
                gv = gv.reshape((1,) * extra + gv.shape)
        return ga, gv

    @staticmethod
    def backward_graph(ctx, g):
        ga = gv = None
        if _wants(ctx, 0):
            ga = g if ctx.accumulate else g * _kept(g.shape, ctx.index, g.dtype)
        if _wants(ctx, 1):
            gv = Index.apply(g, index=ctx.index)
            extra = len(ctx.value_shape) - gv.ndim
            if extra > 0:
                gv = gv.reshape((1,) * extra + tuple(gv.shape))
        return ga, gv


def _kept(shape: tuple, index, dtype) -> np.ndarray:
    """Ones of ``shape`` with zeros where ``index`` overwrites: the gradient that reaches
    the entries of the input a write keeps (a constant mask, for create_graph)."""
    mask = np.ones(shape, dtype=dtype)
    mask[index] = 0
    return mask


def _acc_dtype(a: np.ndarray):
    # PyTorch accumulates float32 cumulative sums and products in double on the CPU.
    return np.float64 if a.dtype == np.float32 else a.dtype


def _rev_cumsum(g: np.ndarray, dim: int) -> np.ndarray:
    """sum_{j >= i} g_j along ``dim``."""
    return np.flip(np.cumsum(np.flip(g, dim), dim, dtype=_acc_dtype(g)), dim).astype(
        g.dtype, copy=False
    )


class Cumsum(Op):
    """out_i = sum_{j <= i} a_j along ``dim``;  backward: the reversed cumulative sum."""

    saves_inputs = False

    @staticmethod
    def forward(ctx, a, dim=0):
        ctx.dim = dim
        if a.ndim == 0:
            return a.copy()
        return np.cumsum(a, dim, dtype=_acc_dtype(a)).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad_output):
        if grad_output.ndim == 0:
            return grad_output
        return _rev_cumsum(grad_output, ctx.dim)

    backward_graph = staticmethod(linear_backward_graph)


class Cumprod(Op):
    """out_i = prod_{j <= i} a_j along ``dim``.

    Backward, exact with zeros (z = position of the first zero along ``dim``):
        k < z:  grad_k = sum_{j >= k} g_j out_j / a_k
        k = z:  grad_z = sum_{j >= z} g_j prod_{i <= j, i != z} a_i
        k > z:  grad_k = 0 (every product it enters also holds a_z = 0).
    """

    saves_output = True  # backward reads the result

    @staticmethod
    def forward(ctx, a, dim=0):
        ctx.a, ctx.dim = a, dim
        if a.ndim == 0:
            ctx.out = a.copy()
            return ctx.out
        ctx.out = np.cumprod(a, dim, dtype=_acc_dtype(a)).astype(a.dtype, copy=False)
        return ctx.out

    @staticmethod
    def backward(ctx, grad_output):
        a, g, dim = ctx.a, grad_output, ctx.dim
        if a.ndim == 0:
            return g
        zero = a == 0
        if not zero.any():
            return _rev_cumsum(g * ctx.out, dim) / a
        n = a.shape[dim]
        pos = np.arange(n).reshape([n if d == dim else 1 for d in range(a.ndim)])
        first = np.where(zero.any(dim, keepdims=True), zero.argmax(dim, keepdims=True), n)
        before, at = pos < first, pos == first
        safe = np.where(before, a, 1)
        grad = np.where(before, _rev_cumsum(g * ctx.out, dim) / safe, 0)
        ones_at_zero = np.where(at, 1, a).astype(a.dtype, copy=False)
        out1 = np.cumprod(ones_at_zero, dim, dtype=_acc_dtype(a)).astype(a.dtype, copy=False)
        grad = np.where(at, _rev_cumsum(g * out1, dim), grad)
        return grad.astype(g.dtype, copy=False)

    @staticmethod
    def composite(a, dim=0):
        """The running product as a chain of products of slices (exact with zeros and
        negative entries, where exp(cumsum(log a)) is not), joined with ``Cat``."""
        from gradfit.ops.movement import Cat, Contiguous

        if a.ndim == 0:
            return Contiguous.apply(a)
        lead = (slice(None),) * (dim % a.ndim)
        p = Index.apply(a, index=lead + (slice(0, 1),))
        outs = [p]
        for i in range(1, a.shape[dim]):
            p = p * Index.apply(a, index=lead + (slice(i, i + 1),))
            outs.append(p)
        return Cat.apply(*outs, dim=dim)


class Tri(Op):
    """tril/triu of the last two axes (``diagonal`` as in NumPy); the gradient is masked
    the same way."""

    saves_inputs = False

    @staticmethod
    def forward(ctx, a, diagonal=0, upper=False):
        ctx.diagonal, ctx.upper = diagonal, upper
        return (np.triu if upper else np.tril)(a, diagonal)

    @staticmethod
    def backward(ctx, grad_output):
        return (np.triu if ctx.upper else np.tril)(grad_output, ctx.diagonal)

    backward_graph = staticmethod(linear_backward_graph)


class Flip(Op):
    saves_inputs = False

    @staticmethod
    def forward(ctx, a, dims=()):
        ctx.dims = dims
        return np.flip(a, dims).copy()

    @staticmethod
    def backward(ctx, grad_output):
        return np.flip(grad_output, ctx.dims)

    backward_graph = staticmethod(linear_backward_graph)


class Roll(Op):
    saves_inputs = False

    @staticmethod
    def forward(ctx, a, shifts=0, dims=None):
        ctx.shifts, ctx.dims = shifts, dims
        return np.roll(a, shifts, dims)

    @staticmethod
    def backward(ctx, grad_output):
        neg = tuple(-s for s in ctx.shifts) if isinstance(ctx.shifts, tuple) else -ctx.shifts
        return np.roll(grad_output, neg, ctx.dims)

    backward_graph = staticmethod(linear_backward_graph)


class MaskedSelect(Op):
    """The entries of ``a`` (broadcast with ``mask``) where ``mask`` holds, as 1-D."""

    saves_inputs = False

    @staticmethod
    def forward(ctx, a, mask=None):
        shape = np.broadcast_shapes(a.shape, mask.shape)
        ctx.shape, ctx.mask = shape, np.broadcast_to(mask, shape)
        return np.broadcast_to(a, shape)[ctx.mask]

    @staticmethod
    def backward(ctx, grad_output):
        out = np.zeros(ctx.shape, dtype=grad_output.dtype)
        out[ctx.mask] = grad_output
        return out

    backward_graph = staticmethod(linear_backward_graph)


class Diag(Op):
    """``diag``: a 1-D input becomes the ``offset`` diagonal of a square matrix; a 2-D input
    gives its ``offset`` diagonal as 1-D."""

    saves_inputs = False

    @staticmethod
    def forward(ctx, a, offset=0):
        ctx.shape, ctx.offset = a.shape, offset
        if a.ndim == 1:
            return np.diag(a, offset)
        return np.diagonal(a, offset).copy()

    @staticmethod
    def backward(ctx, grad_output):
        if len(ctx.shape) == 1:
            return np.diagonal(grad_output, ctx.offset).copy()
        out = np.zeros(ctx.shape, dtype=grad_output.dtype)
        k = ctx.offset
        n = grad_output.shape[0]
        rows = np.arange(n) + max(-k, 0)
        out[rows, rows + k] = grad_output
        return out

    backward_graph = staticmethod(linear_backward_graph)


class Diagonal(ViewOp):
    """``diagonal(offset, dim1, dim2)``: the diagonal moved to the last axis, a view
    sharing the input's memory as PyTorch's (``x.diagonal().add_(eps)`` edits ``x``)."""

    saves_inputs = False

    @staticmethod
    def forward(ctx, a, offset=0, dim1=0, dim2=1):
        ctx.shape, ctx.offset, ctx.dim1, ctx.dim2 = a.shape, offset, dim1, dim2
        out = np.diagonal(a, offset, dim1, dim2)
        if a.flags.writeable:  # NumPy's diagonal view is read-only by default
            out.flags.writeable = True
        return out

    @staticmethod
    def backward(ctx, grad_output):
        out = np.zeros(ctx.shape, dtype=grad_output.dtype)
        k = ctx.offset
        rows = np.arange(grad_output.shape[-1]) + max(-k, 0)
        np.moveaxis(out, (ctx.dim1, ctx.dim2), (-2, -1))[..., rows, rows + k] = grad_output
        return out

    backward_graph = staticmethod(linear_backward_graph)


class Unfold(ViewOp):
    """``Tensor.unfold(dim, size, step)``: every ``size``-long window along ``dim``, ``step``
    apart, as a new last axis: a strided view of the input, as PyTorch's (read-only where
    windows overlap). Backward adds each window's gradient back to the positions it
    covers."""

    saves_inputs = False

    @staticmethod
    def forward(ctx, a, dim=0, size=1, step=1):
        ctx.shape, ctx.dim, ctx.size, ctx.step = a.shape, dim, size, step
        if a.ndim == 0:
            return a.reshape(1)
        win = np.lib.stride_tricks.sliding_window_view(a, size, axis=dim, writeable=step >= size)
        return win[(slice(None),) * dim + (slice(None, None, step),)]

    @staticmethod
    def backward(ctx, grad_output):
        if not ctx.shape:
            return grad_output.reshape(())
        dim, size, step = ctx.dim, ctx.size, ctx.step
        out = np.zeros(ctx.shape, dtype=grad_output.dtype)
        n_win = grad_output.shape[dim]
        cols = step * np.arange(n_win)[:, None] + np.arange(size)  # (windows, size)
        np.add.at(np.moveaxis(out, dim, -1), (Ellipsis, cols), np.moveaxis(grad_output, dim, -2))
        return out

    backward_graph = staticmethod(linear_backward_graph)


class AsStrided(ViewOp):
    """``as_strided(size, stride, storage_offset)`` of a C-contiguous input: a view of its
    memory read with those strides (in elements), as PyTorch's. Entries read more than once
    add their gradients."""

    saves_inputs = False

    @staticmethod
    def forward(ctx, a, size=(), stride=(), offset=0):
        ctx.shape, ctx.size, ctx.stride, ctx.offset = a.shape, size, stride, offset
        flat = a.reshape(-1)[offset:]
        item = a.itemsize
        return np.lib.stride_tricks.as_strided(
            flat, size, tuple(st * item for st in stride), writeable=False
        )

    @staticmethod
    def backward(ctx, grad_output):
        positions = np.full(ctx.size, ctx.offset, dtype=np.int64)
        for axis, (n, st) in enumerate(zip(ctx.size, ctx.stride, strict=True)):
            shape = [1] * len(ctx.size)
            shape[axis] = n
            positions = positions + (np.arange(n, dtype=np.int64) * st).reshape(shape)
        out = np.zeros(int(np.prod(ctx.shape)), dtype=grad_output.dtype)
        np.add.at(out, positions.reshape(-1), grad_output.reshape(-1))
        return out.reshape(ctx.shape)

    backward_graph = staticmethod(linear_backward_graph)


class ShareEqual(Op):
    """A value chosen from ``a`` (median, ...) given as ``value``: the gradient is shared
    evenly by the entries of ``a`` equal to it (PyTorch's ``evenly_distribute_backward``)."""

    @staticmethod
    def forward(ctx, a, value=None):
        ctx.a, ctx.value = a, value
        return np.asarray(value, dtype=a.dtype).copy()

    @staticmethod
    def backward(ctx, grad_output):
        a, v = ctx.a, ctx.value
        mask = (a == v) | (np.isnan(a) & np.isnan(v)) if a.dtype.kind == "f" else a == v
        return grad_output * mask / max(int(mask.sum()), 1)

    # g times a constant mask / count: zero second derivative almost everywhere.
    backward_graph = staticmethod(piecewise_linear_graph)


class VectorNorm(Op):
    """``(sum |x|^p)^(1/p)`` over ``dim`` (all axes for None); ``p`` may be inf, -inf or 0.

    Backward: g x |x|^(p-2) / norm^(p-1); p = 2 gives g x / norm (0 where the norm is 0,
    as PyTorch); p = 1 gives g sign(x); +-inf share g among the entries at the extreme.
    """

    saves_output = True  # backward reads the result

    @staticmethod
    def forward(ctx, a, p=2.0, dim=None, keepdim=False):
        ab = np.abs(a)
        if p == np.inf:
            out = np.max(ab, axis=dim, keepdims=True)
        elif p == -np.inf:
            out = np.min(ab, axis=dim, keepdims=True)
        elif p == 0:
            out = np.sum(ab != 0, axis=dim, keepdims=True).astype(a.dtype)
        elif p == 1:
            out = np.sum(ab, axis=dim, keepdims=True)
        elif p == 2:
            out = np.sqrt(np.sum(a * a, axis=dim, keepdims=True))
        else:
            out = np.sum(ab**p, axis=dim, keepdims=True) ** (1.0 / p)
        out = out.astype(a.dtype, copy=False)
        ctx.a, ctx.out, ctx.p, ctx.dim, ctx.keepdim = a, out, p, dim, keepdim
        if keepdim:
            return out
        return out.reshape(()) if dim is None else np.squeeze(out, dim)

    @staticmethod
    def backward(ctx, grad_output):
        a, out, p, dim = ctx.a, ctx.out, ctx.p, ctx.dim
        g = grad_output
        if not ctx.keepdim:
            g = g.reshape((1,) * a.ndim) if dim is None else np.expand_dims(g, dim)
        if p == 0:
            return np.zeros_like(a)
        if p == 1:
            return g * np.sign(a)
        if p in (np.inf, -np.inf):
            mask = (np.abs(a) == out).astype(a.dtype)
            return g * np.sign(a) * mask / mask.sum(axis=dim, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            if p == 2:
                local = a / out
            else:
                local = a * np.abs(a) ** (p - 2) / out ** (p - 1)
        return g * np.where(out == 0, 0, local).astype(a.dtype, copy=False)

    @staticmethod
    def composite(a, p=2.0, dim=None, keepdim=False):
        if p == 0:
            return VectorNorm.apply(a.detach(), p=0, dim=dim, keepdim=keepdim)
        ab = Abs.apply(a)
        if p in (np.inf, -np.inf):
            return AMax.apply(ab, dim=dim, keepdim=keepdim, which="max" if p > 0 else "min")
        if p == 1:
            return Sum.apply(ab, dim=dim, keepdim=keepdim)
        if p == 2:
            return Sqrt.apply(Sum.apply(a * a, dim=dim, keepdim=keepdim))
        return Sum.apply(ab**p, dim=dim, keepdim=keepdim) ** (1.0 / p)


class Cdist(Op):
    """Pairwise p-norm distances: out[..., i, j] = ||x1[..., i, :] - x2[..., j, :]||_p."""

    saves_output = True  # backward reads the result

    @staticmethod
    def forward(ctx, x1, x2, p=2.0):
        diff = x1[..., :, None, :] - x2[..., None, :, :]
        ad = np.abs(diff)
        if p == np.inf:
            out = ad.max(-1) if diff.shape[-1] else np.zeros(diff.shape[:-1], x1.dtype)
        elif p == 0:
            out = (ad != 0).sum(-1).astype(x1.dtype)
        elif p == 1:
            out = ad.sum(-1)
        elif p == 2:
            out = np.sqrt((diff * diff).sum(-1))
        else:
            out = (ad**p).sum(-1) ** (1.0 / p)
        ctx.diff, ctx.out, ctx.p = diff, out, p
        return out

    @staticmethod
    def backward(ctx, grad_output):
        diff, out, p = ctx.diff, ctx.out[..., None], ctx.p
        g = grad_output[..., None]
        if p == 0:
            local = np.zeros_like(diff)
        elif p == 1:
            local = np.sign(diff)
        elif p == np.inf:
            local = np.sign(diff) * (np.abs(diff) == out)
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                if p == 2:
                    local = diff / out
                else:
                    local = diff * np.abs(diff) ** (p - 2) / out ** (p - 1)
            local = np.where(out == 0, 0, local)
        gd = (g * local).astype(diff.dtype, copy=False)
        return gd.sum(-2), -gd.sum(-3)

    @staticmethod
    def composite(x1, x2, p=2.0):
        return VectorNorm.apply(x1.unsqueeze(-2) - x2.unsqueeze(-3), p=p, dim=-1)


class EuclideanDist(Op):
    """PyTorch's matrix-product form of Euclidean distances (ATen's ``_euclidean_dist``,
    which ``cdist`` takes for p = 2 when a side has more than 25 rows):
    sqrt(max(0, [-2·x1, |x1|², 1]·[x2, 1, |x2|²]ᵀ)), one product of padded matrices. Its
    cancellation for nearby points (the smallest distances) is PyTorch's, not the exact
    differences' (``Cdist``). The backward is ATen's ``_euclidean_dist_backward``, whose
    subgradient at a zero distance is 0."""

    saves_output = True

    @staticmethod
    def forward(ctx, x1, x2):
        n1 = (x1 * x1).sum(-1, keepdims=True)
        n2 = (x2 * x2).sum(-1, keepdims=True)
        a = np.concatenate([x1 * x1.dtype.type(-2), n1, np.ones_like(n1)], -1)
        b = np.concatenate([x2, np.ones_like(n2), n2], -1)
        out = np.sqrt(np.maximum(a @ np.swapaxes(b, -1, -2), 0))
        ctx.x1, ctx.x2, ctx.out = x1, x2, out
        return out

    @staticmethod
    def backward(ctx, grad_output):
        x1, x2, out = ctx.x1, ctx.x2, ctx.out
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(out == 0, 0, grad_output / out).astype(out.dtype, copy=False)
        g1 = x1 * ratio.sum(-1, keepdims=True) - ratio @ x2
        g2 = x2 * ratio.sum(-2)[..., None] - np.swapaxes(ratio, -1, -2) @ x1
        return g1, g2

    @staticmethod
    def composite(x1, x2):
        return VectorNorm.apply(x1.unsqueeze(-2) - x2.unsqueeze(-3), p=2.0, dim=-1)


class Einsum(Op):
    """``np.einsum`` on an equation with explicit output and no ellipsis (the caller
    expands both). Backward for operand i: the einsum of the output gradient with the
    other operands onto operand i's letters, broadcast over letters only it has, and
    written onto the diagonal when a letter repeats in it (``'ii->i'``)."""

    saves_inputs = False

    @staticmethod
    def forward(ctx, *arrays, equation=""):
        ins, out = equation.split("->")
        ctx.ins, ctx.out, ctx.arrays = ins.split(","), out, arrays
        return np.asarray(np.einsum(equation, *arrays, optimize=len(arrays) > 2))

    @staticmethod
    def backward(ctx, grad_output):
        grads = []
        for i, (subs, a) in enumerate(zip(ctx.ins, ctx.arrays)):
            if not _wants(ctx, i):
                grads.append(None)
                continue
            others = [(s, x) for j, (s, x) in enumerate(zip(ctx.ins, ctx.arrays)) if j != i]
            avail = set(ctx.out).union(*[set(s) for s, _ in others])
            unique = "".join(dict.fromkeys(subs))
            present = "".join(c for c in unique if c in avail)
            eq = ",".join([ctx.out] + [s for s, _ in others]) + "->" + present
            g = np.einsum(eq, grad_output, *[x for _, x in others], optimize=len(others) > 1)
            sizes = {c: n for c, n in zip(subs, a.shape)}
            # letters only this operand has were summed out: broadcast back over them
            g = g.reshape([sizes[c] if c in present else 1 for c in unique])
            g = np.broadcast_to(g, [sizes[c] for c in unique])
            if len(unique) != len(subs):  # repeated letters: place on the diagonal
                full = np.zeros(a.shape, dtype=grad_output.dtype)
                grids = np.ix_(*[np.arange(sizes[c]) for c in unique])
                full[tuple(grids[unique.index(c)] for c in subs)] = g
                g = full
            grads.append(np.ascontiguousarray(g, dtype=grad_output.dtype))
        return tuple(grads)

    @staticmethod
    def backward_graph(ctx, g):
        """``backward`` in gradfit ops: the same einsums, recorded (Einsum is linear in
        each operand, so its gradients are einsums again)."""
        from gradfit.ops.movement import Expand, IndexScatter, Reshape

        grads = []
        for i, (subs, a) in enumerate(zip(ctx.ins, ctx.inputs)):
            if not _wants(ctx, i):
                grads.append(None)
                continue
            others = [(s, x) for j, (s, x) in enumerate(zip(ctx.ins, ctx.inputs)) if j != i]
            avail = set(ctx.out).union(*[set(s) for s, _ in others])
            unique = "".join(dict.fromkeys(subs))
            present = "".join(c for c in unique if c in avail)
            eq = ",".join([ctx.out] + [s for s, _ in others]) + "->" + present
            gi = Einsum.apply(g, *[x for _, x in others], equation=eq)
            sizes = {c: n for c, n in zip(subs, a.shape)}
            gi = Reshape.apply(gi, shape=tuple(sizes[c] if c in present else 1 for c in unique))
            full = tuple(sizes[c] for c in unique)
            if tuple(gi.shape) != full:
                gi = Expand.apply(gi, shape=full)
            if len(unique) != len(subs):  # repeated letters: onto the diagonal
                grids = np.ix_(*[np.arange(sizes[c]) for c in unique])
                index = tuple(grids[unique.index(c)] for c in subs)
                gi = IndexScatter.apply(gi, shape=tuple(a.shape), index=index)
            grads.append(gi)
        return tuple(grads)


_REDUCE_UFUNC = {
    "sum": np.add,
    "mean": np.add,
    "prod": np.multiply,
    "amax": np.maximum,
    "amin": np.minimum,
}


def _identity(reduce: str, dtype):
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    if dtype.kind == "f":
        return -np.inf if reduce == "amax" else np.inf
    info = np.iinfo(dtype)
    return info.min if reduce == "amax" else info.max


class ScatterReduce(Op):
    """``scatter_reduce``: ``src`` combined into ``a`` at ``index`` along ``dim`` by
    sum/prod/mean/amax/amin, with or without ``a``'s own values (``include_self``).

    Backward (PyTorch's scatter_reduce_backward): sum passes g; mean divides it by the
    count at each position; amax/amin share it evenly among the entries equal to the
    result (a's and src's); prod gives each factor g times the product of the others
    (``_prod_grads``).
    """

    @staticmethod
    def forward(ctx, a, src, index=None, dim=0, reduce="sum", include_self=True):
        idx = full_index(index, dim)
        vals = _leading(src, index.shape)
        out = a.copy()
        scattered = np.zeros(a.shape, dtype=bool)
        scattered[idx] = True
        if not include_self:
            out[scattered] = _identity(reduce, a.dtype)
        _REDUCE_UFUNC[reduce].at(out, idx, vals)
        count = None
        if reduce == "mean":
            count = np.zeros(a.shape, dtype=np.int64)
            np.add.at(count, idx, 1)
            count = count + (1 if include_self else 0)
            count = np.maximum(count, 1)
            if a.dtype.kind == "f":
                out = out / count
            else:
                out = np.floor_divide(out, count)
            out = out.astype(a.dtype, copy=False)
        ctx.a, ctx.vals, ctx.out, ctx.idx, ctx.index, ctx.dim = a, vals, out, idx, index, dim
        ctx.reduce, ctx.include_self, ctx.scattered, ctx.count = (
            reduce,
            include_self,
            scattered,
            count,
        )
        ctx.src_shape = src.shape
        return out

    @staticmethod
    def backward(ctx, grad_output):
        g, reduce, idx = grad_output, ctx.reduce, ctx.idx
        if reduce == "prod":
            ga, gv = _prod_grads(ctx, g)
        elif reduce in ("sum", "mean"):
            gd = g / ctx.count if reduce == "mean" else g
            ga = np.where(ctx.scattered, 0, gd) if not ctx.include_self else gd
            gv = gd[idx]
        else:
            # PyTorch counts the input's own entry among the ties even when it is left
            # out (include_self=False), then gives it no gradient.
            self_is = ctx.a == ctx.out
            src_is = ctx.vals == ctx.out[idx]
            n = self_is.astype(g.dtype)
            np.add.at(n, idx, src_is.astype(g.dtype))
            gd = g / np.maximum(n, 1)
            if not ctx.include_self:
                self_is &= ~ctx.scattered
            ga = np.where(self_is, gd, 0)
            gv = np.where(src_is, gd[idx], 0)
        gs = np.zeros(ctx.src_shape, dtype=g.dtype)
        gs[tuple(slice(0, k) for k in gv.shape)] = gv
        return ga.astype(g.dtype, copy=False), gs

    @staticmethod
    def backward_graph(ctx, g):
        """The same routing on Tensors: ``g`` times weights fixed by the forward pass
        (counts for mean; for amax/amin the ties' shares, piecewise constant in the
        inputs, so their own derivative is zero almost everywhere, as ``AMax``'s)."""
        dt, idx = g.dtype, ctx.idx
        if ctx.reduce == "prod":
            ga, gv = _prod_grads_graph(ctx, g)
        elif ctx.reduce in ("sum", "mean"):
            gd = g if ctx.reduce == "sum" else g * (1 / ctx.count).astype(dt)
            ga = gd if ctx.include_self else gd * (~ctx.scattered).astype(dt)
            gv = Index.apply(gd, index=idx)
        else:
            self_is = ctx.a == ctx.out  # counted among the ties, as in ``backward``
            src_is = ctx.vals == ctx.out[idx]
            n = self_is.astype(dt)
            np.add.at(n, idx, src_is.astype(dt))
            gd = g * (1 / np.maximum(n, 1)).astype(dt)
            if not ctx.include_self:
                self_is &= ~ctx.scattered
            ga = gd * self_is.astype(dt)
            gv = Index.apply(gd, index=idx) * src_is.astype(dt)
        if tuple(gv.shape) != tuple(ctx.src_shape):
            lead = tuple(slice(0, k) for k in gv.shape)
            gv = IndexScatter.apply(gv, shape=ctx.src_shape, index=lead)
        return ga, gv


def _prod_masks(ctx):
    """What PyTorch's prod backward fixes from the forward values: a's zeros, src's zeros,
    the src zeros alone at their position (their gradient is the product of the others,
    which dividing the result by them cannot give), and whether some position gets more
    than one src zero (then every src zero there has gradient 0)."""
    a, vals, idx = ctx.a, ctx.vals, ctx.idx
    self_zero = a == 0
    src_zero = vals == 0
    n_zeros = np.zeros(a.shape, dtype=np.int64)
    np.add.at(n_zeros, idx, src_zero.astype(np.int64))
    n_zeros = n_zeros[idx]
    return self_zero, src_zero, src_zero & (n_zeros == 1), bool((n_zeros > 1).any())


def _prod_into(a, vals, ctx):
    """The forward's product on arrays, for other values of a or src."""
    out = a.copy()
    if not ctx.include_self:
        out[ctx.scattered] = 1
    np.multiply.at(out, ctx.idx, vals)
    return out


def _prod_grads(ctx, g):
    """PyTorch's scatter_reduce_backward for prod (include_self or not), zeros included:
    ga = g * prod(with a's zeros read as 1) / (a with zeros read as 1); gsrc = (g * out)
    [idx] / src, except at a src zero alone at its position: g times the product with
    that zero read as 1."""
    self_zero, src_zero, single, _ = _prod_masks(ctx)
    masked_self = np.where(self_zero, 1, ctx.a)
    ga = g * _prod_into(masked_self, ctx.vals, ctx) / masked_self
    masked_src_out = _prod_into(ctx.a, np.where(single, 1, ctx.vals), ctx)
    gv = np.where(
        single,
        (g * masked_src_out)[ctx.idx],
        (g * ctx.out)[ctx.idx] / np.where(src_zero, 1, ctx.vals),
    )
    if not ctx.include_self:
        ga = np.where(ctx.scattered, 0, ga)
    return ga, gv


class _ScatterProdSrcGrad(Op):
    """The src gradient of a prod scatter_reduce where a position gets more than one src
    zero: PyTorch has no double backward there (its DelayedError), nor does gradfit."""

    saves_inputs = False

    @staticmethod
    def forward(ctx, value):
        return value

    @staticmethod
    def _raise(ctx, grad_output):
        raise RuntimeError(
            "scatter_reduce(): Double backward is unsupported for src when >1 zeros in src "
            "are scattered to the same position."
        )

    backward = _raise
    backward_graph = _raise


def _prod_grads_graph(ctx, g):
    """``_prod_grads`` in gradfit operations, as PyTorch's formula is differentiated: the
    products are ScatterReduce again (on the inputs, with zeros read as 1 through
    constant masks: a masked entry's derivative is 0, as masked_fill's)."""
    a, src = ctx.inputs[0], ctx.inputs[1]
    kwargs = ctx.kwargs
    dt, idx = g.dtype, ctx.idx
    self_zero, src_zero, single, many = _prod_masks(ctx)
    vals = src
    if tuple(src.shape) != tuple(ctx.vals.shape):
        vals = Index.apply(src, index=tuple(slice(0, k) for k in ctx.vals.shape))
    masked_self = a * (~self_zero).astype(dt) + self_zero.astype(dt)
    ga = g * ScatterReduce.apply(masked_self, vals, **kwargs) / masked_self
    masked_src = vals * (~single).astype(dt) + single.astype(dt)
    out = ScatterReduce.apply(a, vals, **kwargs)
    divisor = vals * (~src_zero).astype(dt) + src_zero.astype(dt)
    gv = Index.apply(g * ScatterReduce.apply(a, masked_src, **kwargs), index=idx) * single.astype(
        dt
    ) + (Index.apply(g * out, index=idx) / divisor) * (~single).astype(dt)
    if many:
        gv = _ScatterProdSrcGrad.apply(gv)
    if not ctx.include_self:
        ga = ga * (~ctx.scattered).astype(dt)
    return ga, gv
