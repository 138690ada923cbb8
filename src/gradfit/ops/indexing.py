"""Index-driven ops: gather/scatter along a dim, index_select/index_add, index assignment,
cumulative sums and products, triangular masks, flips and rolls.

Everything is vectorised: a gather along ``dim`` is ``np.take_along_axis``; its adjoint,
the scatter-add, is ``np.add.at`` on a full index tuple (``full_index``), which adds
repeated indices up as PyTorch's ``scatter_add`` does.
"""

from __future__ import annotations

import numpy as np

from gradfit.autograd.function import Op


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


class Cumprod(Op):
    """out_i = prod_{j <= i} a_j along ``dim``.

    Backward, exact with zeros (z = position of the first zero along ``dim``):
        k < z:  grad_k = sum_{j >= k} g_j out_j / a_k
        k = z:  grad_z = sum_{j >= z} g_j prod_{i <= j, i != z} a_i
        k > z:  grad_k = 0 (every product it enters also holds a_z = 0).
    """

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


class Flip(Op):
    saves_inputs = False

    @staticmethod
    def forward(ctx, a, dims=()):
        ctx.dims = dims
        return np.flip(a, dims).copy()

    @staticmethod
    def backward(ctx, grad_output):
        return np.flip(grad_output, ctx.dims)


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


class Diagonal(Op):
    """``diagonal(offset, dim1, dim2)``: the diagonal moved to the last axis."""

    saves_inputs = False

    @staticmethod
    def forward(ctx, a, offset=0, dim1=0, dim2=1):
        ctx.shape, ctx.offset, ctx.dim1, ctx.dim2 = a.shape, offset, dim1, dim2
        return np.diagonal(a, offset, dim1, dim2).copy()

    @staticmethod
    def backward(ctx, grad_output):
        out = np.zeros(ctx.shape, dtype=grad_output.dtype)
        k = ctx.offset
        rows = np.arange(grad_output.shape[-1]) + max(-k, 0)
        np.moveaxis(out, (ctx.dim1, ctx.dim2), (-2, -1))[..., rows, rows + k] = grad_output
        return out
