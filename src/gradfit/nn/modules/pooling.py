"""Pooling and resizing layers: MaxPool, AvgPool, AdaptiveAvgPool, AdaptiveMaxPool and
LPPool in 1, 2 and 3 dimensions, Upsample."""

from __future__ import annotations

from gradfit.nn import _functional_conv as Fc
from gradfit.nn.modules.module import Module


class _MaxPoolNd(Module):
    def __init__(
        self,
        kernel_size,
        stride=None,
        padding=0,
        dilation=1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )

    def forward(self, input):  # noqa: A002
        return getattr(Fc, f"max_pool{self._nd}d")(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            ceil_mode=self.ceil_mode,
            return_indices=self.return_indices,
        )


class MaxPool1d(_MaxPoolNd):
    """Max over windows of (N, C, L): L_out = floor((L + 2 padding - dilation (k - 1) - 1)
    / stride) + 1 (ceil with ``ceil_mode``); ``return_indices`` also returns the flat
    input positions of the maxima."""

    _nd = 1


class MaxPool2d(_MaxPoolNd):
    """Max over windows of (N, C, H, W), per-dim arguments as ``MaxPool1d``."""

    _nd = 2


class MaxPool3d(_MaxPoolNd):
    """Max over windows of (N, C, D, H, W), per-dim arguments as ``MaxPool1d``."""

    _nd = 3


class AvgPool1d(Module):
    """Mean over windows of (N, C, L); ``count_include_pad`` counts the zero padding."""

    def __init__(
        self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True
    ) -> None:
        super().__init__()
        self.kernel_size = Fc._ntuple(kernel_size, 1, "kernel_size", "AvgPool1d")
        self.stride = Fc._ntuple(
            stride if stride is not None else kernel_size, 1, "stride", "AvgPool1d"
        )
        self.padding = Fc._ntuple(padding, 1, "padding", "AvgPool1d")
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def forward(self, input):  # noqa: A002
        return Fc.avg_pool1d(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
        )

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(Module):
    """Mean over windows of (N, C, H, W); ``divisor_override`` replaces the count."""

    def __init__(
        self,
        kernel_size,
        stride=None,
        padding=0,
        ceil_mode=False,
        count_include_pad=True,
        divisor_override=None,
    ) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    _nd = 2

    def forward(self, input):  # noqa: A002
        return getattr(Fc, f"avg_pool{self._nd}d")(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
            self.divisor_override,
        )

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool3d(AvgPool2d):
    """Mean over windows of (N, C, D, H, W), arguments as ``AvgPool2d``."""

    _nd = 3


class _AdaptivePool(Module):
    def __init__(self, output_size) -> None:
        super().__init__()
        self.output_size = output_size

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptivePool):
    """Mean over ``output_size`` cells covering (N, C, L); cell i spans
    [floor(i L / O), ceil((i + 1) L / O))."""

    def forward(self, input):  # noqa: A002
        return Fc.adaptive_avg_pool1d(input, self.output_size)


class AdaptiveAvgPool2d(_AdaptivePool):
    """Mean over an ``output_size`` grid of cells (an int, a pair, None keeps a size)."""

    def forward(self, input):  # noqa: A002
        return Fc.adaptive_avg_pool2d(input, self.output_size)


class AdaptiveAvgPool3d(_AdaptivePool):
    """Mean over an ``output_size`` grid of cells of (N, C, D, H, W)."""

    def forward(self, input):  # noqa: A002
        return Fc.adaptive_avg_pool3d(input, self.output_size)


class _AdaptiveMaxPool(_AdaptivePool):
    def __init__(self, output_size, return_indices: bool = False) -> None:
        super().__init__(output_size)
        self.return_indices = return_indices


class AdaptiveMaxPool1d(_AdaptiveMaxPool):
    """Max over ``output_size`` adaptive cells of (N, C, L)."""

    def forward(self, input):  # noqa: A002
        return Fc.adaptive_max_pool1d(input, self.output_size, self.return_indices)


class AdaptiveMaxPool2d(_AdaptiveMaxPool):
    """Max over an ``output_size`` grid of adaptive cells of (N, C, H, W)."""

    def forward(self, input):  # noqa: A002
        return Fc.adaptive_max_pool2d(input, self.output_size, self.return_indices)


class AdaptiveMaxPool3d(_AdaptiveMaxPool):
    """Max over an ``output_size`` grid of adaptive cells of (N, C, D, H, W)."""

    def forward(self, input):  # noqa: A002
        return Fc.adaptive_max_pool3d(input, self.output_size, self.return_indices)


class Upsample(Module):
    """Resize with ``interpolate`` (nearest, linear, bilinear, trilinear)."""

    def __init__(
        self,
        size=None,
        scale_factor=None,
        mode="nearest",
        align_corners=None,
        recompute_scale_factor=None,
    ) -> None:
        super().__init__()
        self.size = size
        self.scale_factor = (
            float(scale_factor) if isinstance(scale_factor, int | float) else scale_factor
        )
        self.mode = mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input):  # noqa: A002
        return Fc.interpolate(
            input,
            self.size,
            self.scale_factor,
            self.mode,
            self.align_corners,
            recompute_scale_factor=self.recompute_scale_factor,
        )

    def extra_repr(self) -> str:
        if self.scale_factor is not None:
            info = f"scale_factor={self.scale_factor!r}"
        else:
            info = f"size={self.size!r}"
        return info + f", mode={self.mode!r}"


class _LPPoolNd(Module):
    def __init__(self, norm_type: float, kernel_size, stride=None, ceil_mode: bool = False):
        super().__init__()
        self.norm_type = norm_type
        self.kernel_size = kernel_size
        self.stride = stride
        self.ceil_mode = ceil_mode

    def extra_repr(self) -> str:
        return (
            f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}, ceil_mode={self.ceil_mode}"
        )

    def forward(self, input):  # noqa: A002
        pool = getattr(Fc, f"lp_pool{self._nd}d")
        return pool(input, float(self.norm_type), self.kernel_size, self.stride, self.ceil_mode)


class LPPool1d(_LPPoolNd):
    """(sum of x^p over each window)^(1/p) of (N, C, L)."""

    _nd = 1


class LPPool2d(_LPPoolNd):
    """(sum of x^p over each window)^(1/p) of (N, C, H, W)."""

    _nd = 2


class LPPool3d(_LPPoolNd):
    """(sum of x^p over each window)^(1/p) of (N, C, D, H, W)."""

    _nd = 3
