"""``grid_sample`` and ``affine_grid`` (Spatial Transformer Networks), with PyTorch's
argument checks, warnings and error messages (torch/nn/functional.py and ATen's
``GridSampler.cpp`` / ``AffineGridGenerator.cpp``)."""

from __future__ import annotations

import functools
import warnings
from fractions import Fraction

import numpy as np

from gradfit._arrays import unwrap
from gradfit._typenames import NAMES
from gradfit.ops.grid_sample import MODES, PADDINGS, AffineGrid, GridSample
from gradfit.tensor import Tensor

__all__ = ["affine_grid", "grid_sample"]

_ALIGN_WARNING = (
    "Default grid_sample and affine_grid behavior has changed "
    "to align_corners=False since 1.3.0. Please specify "
    "align_corners=True if the old behavior is desired. "
    "See the documentation of grid_sample for details."
)


def _scalar_type(dtype) -> str:
    return NAMES.get(np.dtype(dtype), str(dtype)).removesuffix("Tensor")


def _check_grid_sampler(x: np.ndarray, grid: np.ndarray, mode: str) -> None:
    """ATen's ``check_grid_sampler_common`` / ``_2d`` / ``_3d``, in their order."""
    sizes = f"input with sizes {list(x.shape)} and grid with sizes {list(grid.shape)}"
    if x.ndim < 1 or grid.ndim < 1 or x.shape[0] != grid.shape[0]:
        raise RuntimeError(
            f"grid_sampler(): expected grid and input to have same batch size, but got {sizes}"
        )
    if grid.shape[-1] != x.ndim - 2:
        raise RuntimeError(
            f"grid_sampler(): expected grid to have size {x.ndim - 2} in last dimension, "
            f"but got grid with sizes {list(grid.shape)}"
        )
    for i in range(2, x.ndim):
        if x.shape[i] <= 0:
            raise RuntimeError(
                "grid_sampler(): expected input to have non-empty spatial dimensions, but "
                f"input has sizes {list(x.shape)} with dimension {i} being empty"
            )
    want = 4 if x.ndim == 4 else 5
    if x.ndim != want or grid.ndim != want:
        raise RuntimeError(
            f"grid_sampler(): expected {want}D input and grid with same number of "
            f"dimensions, but got {sizes}"
        )
    if want == 5 and mode == "bicubic":
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    if x.dtype.kind != "f":
        raise NotImplementedError(
            f'"grid_sampler_{want - 2}d_cpu{"_kernel_impl" if want == 4 else ""}" not '
            f"implemented for '{_scalar_type(x.dtype)}'"
        )
    if grid.dtype != x.dtype:
        raise RuntimeError(
            f"expected scalar type {_scalar_type(x.dtype)} but found {_scalar_type(grid.dtype)}"
        )


def grid_sample(
    input: Tensor,  # noqa: A002
    grid: Tensor,
    mode: str = "bilinear",
    padding_mode: str = "zeros",
    align_corners: bool | None = None,
) -> Tensor:
    """Sample ``input`` (N, C, H_in, W_in) or (N, C, D_in, H_in, W_in) at the positions
    ``grid`` (N, H_out, W_out, 2) or (N, D_out, H_out, W_out, 3) gives in [-1, 1]
    (x first), as ``torch.nn.functional.grid_sample``.

    ``mode``: 'bilinear' (trilinear on 5-D inputs), 'nearest' (ties to even) or
    'bicubic' (4-D only, cubic convolution with A = -0.75). ``padding_mode``: out-of-range
    positions read 0 ('zeros'), the nearest border value ('border') or the value
    reflected at the borders ('reflection'). ``align_corners``: -1 and 1 are the centres
    of the corner pixels (True) or their outer edges (False, the default).
    Differentiable in both ``input`` and ``grid``.
    """
    if mode not in MODES:
        raise ValueError(
            "nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or "
            f"'bicubic', but got: '{mode}'"
        )
    if padding_mode not in PADDINGS:
        raise ValueError(
            "nn.functional.grid_sample(): expected padding_mode "
            "to be 'zeros', 'border', or 'reflection', "
            f"but got: '{padding_mode}'"
        )
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    _check_grid_sampler(unwrap(input), unwrap(grid), mode)
    return GridSample.apply(
        input, grid, mode=mode, padding_mode=padding_mode, align_corners=bool(align_corners)
    )


@functools.lru_cache(maxsize=256)
def _linspace_from_neg_one(n: int, align_corners: bool, dtype) -> np.ndarray:
    """``torch.linspace(-1, 1, n)`` as ATen computes it: from both ends towards the
    middle, each value one fused multiply-add (start + step * i, end - step * j; exact
    rational arithmetic rounded once stands for the FMA), scaled by (n - 1) / n when the
    corners are not aligned. Read-only (cached)."""
    if n <= 1:
        r = np.zeros(1, dtype=dtype)
        r.flags.writeable = False
        return r
    dt = np.dtype(dtype).type
    step = Fraction(float((dt(1) - dt(-1)) / dt(n - 1)))
    half = n // 2
    exact = [-1 + step * i if i < half else 1 - step * (n - 1 - i) for i in range(n)]
    # float() rounds the exact value to float64; float32 rounds once more (as an FMA
    # would, but for ties, which a float32 step times a small integer never produces)
    r = np.array([float(v) for v in exact]).astype(dtype)
    if not align_corners:
        r = (r * dt(n - 1) / dt(n)).astype(dtype)
    r.flags.writeable = False
    return r


def _base_grid(n: int, spatial, align_corners: bool, dtype) -> np.ndarray:
    """(n, *spatial, nd + 1) of (x, y[, z], 1): x runs along the last spatial axis."""
    nd = len(spatial)
    base = np.empty((n, *spatial, nd + 1), dtype=dtype)
    for k in range(nd):  # component k varies along spatial axis nd - 1 - k
        axis = nd - 1 - k
        shape = [1] * nd
        shape[axis] = spatial[axis]
        base[..., k] = _linspace_from_neg_one(
            spatial[axis], align_corners, np.dtype(dtype)
        ).reshape(shape)
    base[..., nd] = 1
    return base


def affine_grid(theta: Tensor, size, align_corners: bool | None = None) -> Tensor:
    """The sampling grid of the affine maps ``theta`` (N, 2, 3) or (N, 3, 4) for an output
    of ``size`` (N, C, H, W) or (N, C, D, H, W), as ``torch.nn.functional.affine_grid``:
    grid[n, ..., :] = theta[n] @ (x, y[, z], 1) over the output's normalised pixel
    centres. Differentiable in ``theta``."""
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    th = unwrap(theta)
    if th.dtype.kind != "f":
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    if len(size) == 4:
        if th.ndim != 3 or th.shape[-2] != 2 or th.shape[-1] != 3:
            raise ValueError(
                f"Expected a batch of 2D affine matrices of shape Nx2x3 for size {size}. "
                f"Got {theta.shape}."
            )
        spatial = tuple(size[-2:])
    elif len(size) == 5:
        if th.ndim != 3 or th.shape[-2] != 3 or th.shape[-1] != 4:
            raise ValueError(
                f"Expected a batch of 3D affine matrices of shape Nx3x4 for size {size}. "
                f"Got {theta.shape}."
            )
        spatial = tuple(size[-3:])
    else:
        raise NotImplementedError(
            "affine_grid only supports 4D and 5D sizes, "
            "for 2D and 3D affine transforms, respectively. "
            f"Got size {size}."
        )
    if align_corners and min(spatial) == 1:
        warnings.warn(
            "Since version 1.3.0, affine_grid behavior has changed "
            "for unit-size grids when align_corners=True. "
            "This is not an intended use case of affine_grid. "
            "See the documentation of affine_grid for details.",
            stacklevel=2,
        )
    elif min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    n, nd = int(size[0]), len(spatial)
    if th.shape[0] != n:
        raise RuntimeError(
            "Expected size for first two dimensions of batch2 tensor to be: "
            f"[{n}, {nd + 1}] but got: [{th.shape[0]}, {nd + 1}]."
        )
    base = _base_grid(n, spatial, bool(align_corners), th.dtype)
    return AffineGrid.apply(theta, base)
