"""Shape and layout ops: reshape, permute, expand, indexing, concatenation, casts."""

from __future__ import annotations

import numpy as np

from gradfit.autograd.function import Op


class Reshape(Op):
    saves_inputs = False

    @staticmethod
    def forward(ctx, a, shape=()):
        ctx.shape = a.shape
        return a.reshape(shape)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output.reshape(ctx.shape)


class Permute(Op):
    saves_inputs = False

    @staticmethod
    def forward(ctx, a, dims=()):
        ctx.inverse = tuple(np.argsort(dims))
        return a.transpose(dims)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output.transpose(ctx.inverse)


class Expand(Op):
    """Broadcast to ``shape`` (a read-only view); the engine's sum_to_shape is its adjoint."""

    saves_inputs = False

    @staticmethod
    def forward(ctx, a, shape=()):
        return np.broadcast_to(a, shape)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output


def _is_advanced(index) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return any(isinstance(i, np.ndarray | list) for i in items)


class Index(Op):
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


class Contiguous(Op):
    """A C-contiguous copy (``clone``/``contiguous``); the gradient passes through."""

    saves_inputs = False

    @staticmethod
    def forward(ctx, a):
        return np.array(a, order="C", copy=True)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output


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
