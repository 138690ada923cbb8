"""Max unpooling: the scatter that ``max_unpool1d/2d`` are made of."""

from __future__ import annotations

import numpy as np

from gradfit.autograd.function import Op, linear_backward_graph


class MaxUnpool(Op):
    """Scatter x (*, h, w) into zeros (*, oh, ow): element (..., i, j) goes to the flat
    position ``indices[..., i, j]`` (row-major over (oh, ow)) of its own leading slice.
    Where two elements name one position the later one wins (PyTorch's CPU order); the
    gradient of each element is the output gradient at its position, overwritten or not,
    as PyTorch's backward gathers it. Linear in x, so differentiable to any order."""

    saves_inputs = False

    @staticmethod
    def forward(ctx, x, indices=None, out_spatial=(1, 1)):
        lead = x.shape[:-2]
        n = int(np.prod(lead, dtype=np.int64))
        size = int(out_spatial[0]) * int(out_spatial[1])
        idx = indices.reshape(n, -1)
        ctx.idx, ctx.in_shape = idx, x.shape
        out = np.zeros((n, size), dtype=x.dtype)
        np.put_along_axis(out, idx, x.reshape(n, -1), axis=1)
        return out.reshape(lead + tuple(out_spatial))

    @staticmethod
    def backward(ctx, grad_output):
        g = grad_output.reshape(ctx.idx.shape[0], -1)
        return np.take_along_axis(g, ctx.idx, axis=1).reshape(ctx.in_shape)

    backward_graph = staticmethod(linear_backward_graph)
