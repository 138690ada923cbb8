"""The functional forms of the layers added by the nnlayers work (re-exported by
``gradfit.nn.functional``): grid sampling, CTC loss, fractional max pooling, channel
shuffle."""

from __future__ import annotations

from gradfit._arrays import unwrap
from gradfit.nn._ctc import ctc_loss
from gradfit.nn._fractional_pool import (
    fractional_max_pool2d,
    fractional_max_pool2d_with_indices,
    fractional_max_pool3d,
    fractional_max_pool3d_with_indices,
)
from gradfit.nn._grid_sample import affine_grid, grid_sample
from gradfit.ops.channel_shuffle import ChannelShuffle as _ChannelShuffle

__all__ = [
    "affine_grid",
    "channel_shuffle",
    "native_channel_shuffle",
    "ctc_loss",
    "fractional_max_pool2d",
    "fractional_max_pool2d_with_indices",
    "fractional_max_pool3d",
    "fractional_max_pool3d_with_indices",
    "grid_sample",
]


def channel_shuffle(input, groups: int):  # noqa: A002
    """Split the channels of ``input`` (N, C, *) into ``groups`` groups and interleave
    them, as ``torch.nn.functional.channel_shuffle`` (ShuffleNet)."""
    x = unwrap(input)
    if x.ndim <= 2:
        raise RuntimeError(
            f"channel_shuffle expects input with > 2 dims, but got input with sizes {list(x.shape)}"
        )
    c = x.shape[1]
    if groups <= 0:
        raise RuntimeError(
            f"Number of groups to divide channels in must be positive. Value of groups:{groups}"
        )
    if c % groups != 0:
        raise RuntimeError(
            f"Number of channels must be divisible by groups. Got {c} channels and {groups} groups."
        )
    return _ChannelShuffle.apply(input, groups=int(groups))


native_channel_shuffle = channel_shuffle
