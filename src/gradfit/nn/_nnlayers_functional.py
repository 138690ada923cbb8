"""The functional forms of the layers added by the nnlayers work (re-exported by
``gradfit.nn.functional``): grid sampling, CTC loss, fractional max pooling, channel
shuffle."""

from __future__ import annotations

from gradfit.nn._ctc import ctc_loss
from gradfit.nn._fractional_pool import (
    fractional_max_pool2d,
    fractional_max_pool2d_with_indices,
    fractional_max_pool3d,
    fractional_max_pool3d_with_indices,
)
from gradfit.nn._grid_sample import affine_grid, grid_sample

__all__ = [
    "affine_grid",
    "ctc_loss",
    "fractional_max_pool2d",
    "fractional_max_pool2d_with_indices",
    "fractional_max_pool3d",
    "fractional_max_pool3d_with_indices",
    "grid_sample",
]
