"""Shape and layout ops: reshape, permute, expand, indexing, concatenation, casts."""

from __future__ import annotations

import re

import numpy as np

from gradfit import _layout
from gradfit.autograd.function import Op, ViewOp


class Reshape(ViewOp):
    saves_inputs = False

    @staticmethod
    def forward(ctx, a, shape=()):
        ctx.shape = a.shape
        return a.reshape(shape)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output.reshape(ctx.shape)

    @staticmethod
    def backward_graph(ctx, g):
        return Reshape.apply(g, shape=ctx.shape)


class Permute(ViewOp):
    saves_inputs = False

    @staticmethod
    def forward(ctx, a, dims=()):
        ctx.inverse = tuple(np.argsort(dims))
        return a.transpose(dims)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output.transpose(ctx.inverse)

    @staticmethod
    def backward_graph(ctx, g):
        return Permute.apply(g, dims=ctx.inverse)


class Expand(ViewOp):
    """Broadcast to ``shape`` (a read-only view); the engine's sum_to_shape is its adjoint."""

    saves_inputs = False

    @staticmethod
    def forward(ctx, a, shape=()):
        return np.broadcast_to(a, shape)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output

    @staticmethod
    def backward_graph(ctx, g):
        return g


def _is_advanced(index) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return any(isinstance(i, np.ndarray | list) for i in items)


def _index_error(numpy_message: str, index, shape) -> str:
    """PyTorch's words for NumPy's indexing errors (an index past the end, a mask of
    another shape); other errors keep NumPy's text after the index and shape."""
    past_end = r"index (-?\d+) is out of bounds for axis (\d+) with size (\d+)"
    m = re.fullmatch(past_end, numpy_message)
    if m:
        return f"index {m[1]} is out of bounds for dimension {m[2]} with size {m[3]}"
    m = re.fullmatch(
        r"boolean index did not match indexed array along (?:axis|dimension) (\d+); size of "
        r"(?:axis|dimension) is (\d+) but size of corresponding boolean (?:axis|dimension) "
        r"is (\d+)",
        numpy_message,
    )
    if m:
        # PyTorch names the mask's dimension and the tensor left after integer indices
        items = index if isinstance(index, tuple) else (index,)
        axis, kept, start, mask_shape = int(m[1]), [], None, [int(m[3])]
        for k, item in enumerate(items):
            if isinstance(item, int | np.integer):
                continue
            if isinstance(item, np.ndarray) and item.dtype == bool and start is None:
                start, mask_shape = len(kept), list(item.shape)
            kept.append(k)
        dropped = sum(isinstance(it, int | np.integer) for it in items[:axis])
        reduced = [n for k, n in enumerate(shape) if k >= len(items) or k in kept]
        at = axis - dropped
        return (
            f"The shape of the mask {mask_shape} at index {at - (start or 0)} does not match "
            f"the shape of the indexed tensor {reduced} at index {at}"
        )
    return f"index {index!r} is out of range for a tensor of shape {shape}: {numpy_message}"


class Index(ViewOp):
    """a[index], basic or integer-array indexing. The gradient is scattered back; with
    integer arrays, repeated indices add up (np.add.at)."""

    saves_inputs = False

    @staticmethod
    def forward(ctx, a, index=None):
        try:
            out = a[index]
        except IndexError as e:
            raise IndexError(_index_error(str(e), index, a.shape)) from None
        if isinstance(out, np.generic) and not _is_advanced(index):
            # an element (x[0] of a vector) is a 0-d view, as in PyTorch: x[0].mul_(2) edits x
            out = a[(*index, Ellipsis) if isinstance(index, tuple) else (index, Ellipsis)]
        ctx.shape, ctx.index = a.shape, index
        return out

    @staticmethod
    def backward(ctx, grad_output):
        out = np.zeros(ctx.shape, dtype=grad_output.dtype)
        if _is_advanced(ctx.index):
            np.add.at(out, ctx.index, grad_output)
        else:
            out[ctx.index] = grad_output
        return out

    @staticmethod
    def backward_graph(ctx, g):
        return IndexScatter.apply(g, shape=ctx.shape, index=ctx.index)


def check_cat(shapes, dim: int) -> None:
    """PyTorch's errors for tensors ``cat`` cannot join along ``dim``: another number of
    dimensions, or another size in a dimension other than ``dim`` (the first one found)."""
    first = shapes[0]
    for i, shape in enumerate(shapes):
        if len(shape) != len(first):
            raise RuntimeError(
                f"Tensors must have same number of dimensions: got {len(first)} and {len(shape)}"
            )
        for j, (a, b) in enumerate(zip(first, shape, strict=True)):
            if j != dim and a != b:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {dim}. Expected size {a} "
                    f"but got size {b} for tensor number {i} in the list."
                )


class Cat(Op):
    """Concatenate along ``dim``; the gradient is split back into the pieces."""

    saves_inputs = False

    @staticmethod
    def forward(ctx, *arrays, dim=0):
        ctx.sizes = [a.shape[dim] for a in arrays]
        ctx.dim = dim
        return np.concatenate(arrays, axis=dim)

    @staticmethod
    def backward(ctx, grad_output):
        bounds = np.cumsum(ctx.sizes)[:-1]
        return tuple(np.split(grad_output, bounds, axis=ctx.dim))

    @staticmethod
    def backward_graph(ctx, g):
        lead = (slice(None),) * (ctx.dim % g.ndim)
        out, start = [], 0
        for n in ctx.sizes:
            out.append(Index.apply(g, index=lead + (slice(start, start + n),)))
            start += n
        return tuple(out)


class Contiguous(Op):
    """A copy (``clone``/``contiguous``), C-contiguous or in the ``memory_format`` given;
    the gradient passes through."""

    saves_inputs = False

    @staticmethod
    def forward(ctx, a, memory_format=None):
        if memory_format is None:
            return np.array(a, order="C", copy=True)
        return _layout.copy_as(a, memory_format)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output

    @staticmethod
    def backward_graph(ctx, g):
        return g


class Cast(Op):
    """Change dtype; the gradient is cast back to the input's dtype."""

    saves_inputs = False

    @staticmethod
    def forward(ctx, a, dtype=None):
        ctx.dtype = a.dtype
        return a.astype(dtype)

    @staticmethod
    def backward(ctx, grad_output):
        if ctx.dtype.kind != "f":
            return None
        return grad_output.astype(ctx.dtype)

    @staticmethod
    def backward_graph(ctx, g):
        if ctx.dtype.kind != "f":
            return None
        return Cast.apply(g, dtype=ctx.dtype)


class IndexScatter(Op):
    """The gradient of ``Index`` as an op (for create_graph): ``g`` added into zeros of
    ``shape`` at ``index``. Its own gradient is ``Index`` again."""

    saves_inputs = False

    @staticmethod
    def forward(ctx, g, shape=(), index=None):
        ctx.index = index
        return Index.backward(_Shape(shape, index), g)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output[ctx.index]

    @staticmethod
    def backward_graph(ctx, g):
        return Index.apply(g, index=ctx.index)


class _Shape:
    """The fields ``Index.backward`` reads from its ctx."""

    def __init__(self, shape, index):
        self.shape, self.index = shape, index
