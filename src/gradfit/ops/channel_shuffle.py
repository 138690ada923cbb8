"""Channel shuffle (ShuffleNet): the channels, split into ``groups`` groups, interleaved."""

from __future__ import annotations

import numpy as np

from gradfit.autograd.function import Op, linear_backward_graph


def _shuffle(a: np.ndarray, groups: int) -> np.ndarray:
    n, c = a.shape[0], a.shape[1]
    rest = a.shape[2:]
    return np.ascontiguousarray(
        a.reshape(n, groups, c // groups, *rest).swapaxes(1, 2).reshape(a.shape)
    )


class ChannelShuffle(Op):
    """y[:, j * g + i] = x[:, i * (C / g) + j] (g groups); the gradient un-shuffles (a
    shuffle with C / g groups)."""

    saves_inputs = False

    @staticmethod
    def forward(ctx, x, groups=1):
        ctx.groups = groups
        ctx.torch_name = "ChannelShuffleBackward0"
        return _shuffle(x, groups)

    @staticmethod
    def backward(ctx, grad_output):
        return _shuffle(grad_output, grad_output.shape[1] // ctx.groups)

    backward_graph = staticmethod(linear_backward_graph)
