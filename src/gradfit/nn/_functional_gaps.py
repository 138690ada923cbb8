"""nn.functional names older programs still call: the deprecated ``upsample``,
``upsample_nearest`` and ``upsample_bilinear`` (with PyTorch's warnings), the
``*_with_indices`` pooling forms, ``rrelu_`` and ``max_unpool3d``."""

from __future__ import annotations

import warnings

from gradfit.autograd._torch_names import named
from gradfit.nn import _functional_conv as _fc
from gradfit.nn import _functional_layers as _fl

__all__ = [
    "adaptive_max_pool1d_with_indices",
    "adaptive_max_pool2d_with_indices",
    "adaptive_max_pool3d_with_indices",
    "max_pool3d_with_indices",
    "max_unpool3d",
    "rrelu_",
    "upsample",
    "upsample_bilinear",
    "upsample_nearest",
]


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):  # noqa: A002
    """Deprecated alias of ``interpolate`` (PyTorch warns, then interpolates)."""
    warnings.warn(
        "`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` instead.",
        stacklevel=2,
    )
    return _fc.interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):  # noqa: A002
    """Deprecated: ``interpolate(..., mode="nearest")``."""
    warnings.warn(
        "`nn.functional.upsample_nearest` is deprecated. Use `nn.functional.interpolate` instead.",
        stacklevel=2,
    )
    return _fc.interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):  # noqa: A002
    """Deprecated: ``interpolate(..., mode="bilinear", align_corners=True)``."""
    warnings.warn(
        "`nn.functional.upsample_bilinear` is deprecated. Use `nn.functional.interpolate` instead.",
        stacklevel=2,
    )
    return _fc.interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):  # noqa: A002
    """``adaptive_max_pool1d`` returning (output, indices) (``return_indices`` is ignored)."""
    return _fc.adaptive_max_pool1d(input, output_size, True)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):  # noqa: A002
    """``adaptive_max_pool2d`` returning (output, indices) (``return_indices`` is ignored)."""
    return _fc.adaptive_max_pool2d(input, output_size, True)


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=False):  # noqa: A002
    """``adaptive_max_pool3d`` returning (output, indices) (``return_indices`` is ignored)."""
    return _fc.adaptive_max_pool3d(input, output_size, True)


def max_pool3d_with_indices(
    input,  # noqa: A002
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode=False,
    return_indices=False,
):
    """``max_pool3d`` returning (output, indices) (``return_indices`` is ignored)."""
    return _fc.max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):  # noqa: A002
    """In-place ``rrelu``: the same draws, written into ``input``."""
    out = _fl.rrelu(input, lower, upper, training)
    input.copy_(out)
    return input


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):  # noqa: A002
    """Partial inverse of ``max_pool3d``: each value goes to the flat position
    (d H W + h W + w) its index names in its (sample, channel) volume; zeros elsewhere."""
    if input.ndim not in (4, 5):
        raise RuntimeError(
            "Input to max_unpooling3d should be a 4d or 5d Tensor, but got a tensor with "
            f"{input.ndim} dimensions."
        )
    k = _fl._tuple(kernel_size, 3)
    s = k if stride is None else _fl._tuple(stride, 3)
    p = _fl._tuple(padding, 3)
    od, oh, ow = _fl._unpool_output_size(input, k, s, p, output_size)
    # the flat index runs over (od, oh * ow) as over (od, oh, ow): unpool the volume as a plane
    y = _fl._max_unpool2d_raw(input.flatten(-2), indices.flatten(-2), [od, oh * ow])
    y = y.reshape(*input.shape[:-3], od, oh, ow)
    return named(y, "MaxUnpool3DBackward0")
