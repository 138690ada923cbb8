"""Shape and layout ops: reshape, permute, expand, indexing, concatenation, casts."""

from __future__ import annotations

import numpy as np

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


class Index(ViewOp):
    """a[index], basic or integer-array indexing. The gradient is scattered back; with
    integer arrays, repeated indices add up (np.add.at)."""

    saves_inputs = False

    @staticmethod
    def forward(ctx, a, index=None):
        try:
            out = a[index]
        except IndexError as e:
            raise IndexError(
                f"index {index!r} is out of range for a tensor of shape {a.shape}: {e}"
            ) from None
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
    """A C-contiguous copy (``clone``/``contiguous``); the gradient passes through."""

    saves_inputs = False

    @staticmethod
    def forward(ctx, a):
        return np.array(a, order="C", copy=True)

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
