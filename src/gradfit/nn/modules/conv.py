"""Convolution layers: Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d, Fold, Unfold."""

from __future__ import annotations

import math

import numpy as np

from gradfit import _dtypes
from gradfit.nn import _functional_conv as Fc
from gradfit.nn import init
from gradfit.nn.modules.module import Module
from gradfit.nn.parameter import Parameter
from gradfit.tensor import _check_device

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _ntuple(value, n: int, name: str) -> tuple:
    if isinstance(value, int):
        return (value,) * n
    t = tuple(value)
    if len(t) == 1 and n > 1:
        t = t * n
    if len(t) != n:
        raise ValueError(f"{name} must be an int or a tuple of {n} ints, got {value!r}")
    return t


class _ConvNd(Module):
    """Shared bookkeeping of the convolution layers (PyTorch's ``_ConvNd``).

    Initialisation is PyTorch's: ``kaiming_uniform_(weight, a=sqrt(5))``, then
    ``bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))`` with fan_in = weight.size(1) * kernel
    size, weight drawn before bias from gradfit's generator, so the same seed gives
    PyTorch's numbers.
    """

    _nd = 1
    transposed = False

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device=None,
        dtype=None,
        *,
        output_padding=0,
    ) -> None:
        super().__init__()
        _check_device(device)
        nd = self._nd
        name = type(self).__name__
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(
                f"padding_mode must be one of {list(_PADDING_MODES)}, but got "
                f"padding_mode='{padding_mode}'"
            )
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = _ntuple(kernel_size, nd, "kernel_size")
        self.stride = _ntuple(stride, nd, "stride")
        self.dilation = _ntuple(dilation, nd, "dilation")
        self.output_padding = _ntuple(output_padding, nd, "output_padding")
        self.groups = groups
        self.padding_mode = padding_mode
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(
                    f"Invalid padding string {padding!r}, should be one of {{'valid', 'same'}}"
                )
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
            self.padding = padding
        else:
            self.padding = _ntuple(padding, nd, "padding")
        if self.transposed and (isinstance(padding, str) or padding_mode != "zeros"):
            raise ValueError(
                f"Only 'zeros' padding mode with int/tuple padding is supported for {name}"
            )
        # F.pad order for the non-zero padding modes: last dim first, (before, after)
        pairs = Fc.conv_padding(self.padding, self.kernel_size, self.dilation, nd, (1,) * nd, name)
        self._reversed_padding_repeated_twice = [v for lo_hi in reversed(pairs) for v in lo_hi]
        dt = _dtypes.to_dtype(dtype)
        if self.transposed:
            shape = (in_channels, out_channels // groups) + self.kernel_size
        else:
            shape = (out_channels, in_channels // groups) + self.kernel_size
        self.weight = Parameter(np.empty(shape, dtype=dt))
        if bias:
            self.bias = Parameter(np.empty((out_channels,), dtype=dt))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        nd = self._nd
        s = "{in_channels}, {out_channels}, kernel_size={kernel_size}, stride={stride}"
        if self.padding != (0,) * nd:
            s += ", padding={padding}"
        if self.dilation != (1,) * nd:
            s += ", dilation={dilation}"
        if self.output_padding != (0,) * nd:
            s += ", output_padding={output_padding}"
        if self.groups != 1:
            s += ", groups={groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += ", padding_mode={padding_mode}"
        return s.format(**self.__dict__)

    def _conv_forward(self, input, weight, bias):  # noqa: A002
        nd = self._nd
        if self.padding_mode != "zeros":
            input = Fc.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            padding = 0
        else:
            padding = self.padding
        return Fc._convnd(
            nd,
            input,
            weight,
            bias,
            self.stride,
            padding,
            self.dilation,
            self.groups,
            f"conv{nd}d",
        )

    def forward(self, input):  # noqa: A002
        return self._conv_forward(input, self.weight, self.bias)


class Conv1d(_ConvNd):
    """1-D convolution (cross-correlation) of (N, C_in, L) -> (N, C_out, L_out).

    L_out = floor((L + 2 padding - dilation (kernel_size - 1) - 1) / stride) + 1. Weight
    (C_out, C_in / groups, kernel_size); ``padding`` an int, a tuple, ``'valid'`` or
    ``'same'``; ``padding_mode`` 'zeros', 'reflect', 'replicate' or 'circular'.
    """

    _nd = 1


class Conv2d(_ConvNd):
    """2-D convolution (cross-correlation) of (N, C_in, H, W) -> (N, C_out, H_out, W_out),
    with per-dim ``stride``, ``padding`` (int, tuple, 'valid', 'same'), ``dilation``,
    ``groups`` and ``padding_mode`` as ``Conv1d``."""

    _nd = 2


class _ConvTransposeNd(_ConvNd):
    """The transposed convolutions' shared body, with PyTorch's argument order for them
    (``output_padding`` after ``padding``, ``dilation`` after ``bias``)."""

    transposed = True

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size,
        stride=1,
        padding=0,
        output_padding=0,
        groups=1,
        bias=True,
        dilation=1,
        padding_mode="zeros",
        device=None,
        dtype=None,
    ) -> None:
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            padding_mode,
            device,
            dtype,
            output_padding=output_padding,
        )

    def _output_padding(self, input, output_size):  # noqa: A002
        if output_size is None:
            return self.output_padding
        nd = self._nd
        output_size = tuple(output_size)[-nd:]
        spatial = input.shape[input.ndim - nd :]
        out = []
        for i in range(nd):
            min_size = (
                (spatial[i] - 1) * self.stride[i]
                - 2 * self.padding[i]
                + self.dilation[i] * (self.kernel_size[i] - 1)
                + 1
            )
            max_size = min_size + self.stride[i] - 1
            if not min_size <= output_size[i] <= max_size:
                raise ValueError(
                    f"requested an output size of {output_size}, but valid sizes range from "
                    f"{min_size} to {max_size} (for an input of {spatial})"
                )
            out.append(output_size[i] - min_size)
        return tuple(out)

    def forward(self, input, output_size=None):  # noqa: A002
        op = self._output_padding(input, output_size)
        return Fc._conv_transposend(
            self._nd,
            input,
            self.weight,
            self.bias,
            self.stride,
            self.padding,
            op,
            self.groups,
            self.dilation,
            f"conv_transpose{self._nd}d",
        )


class Conv3d(_ConvNd):
    """3-D convolution (cross-correlation) of (N, C_in, D, H, W), per-dim arguments as
    ``Conv2d``."""

    _nd = 3


class ConvTranspose1d(_ConvTransposeNd):
    """Transposed 1-D convolution: (N, C_in, L) -> (N, C_out, L_out) with
    L_out = (L - 1) stride - 2 padding + dilation (kernel_size - 1) + output_padding + 1.
    Weight (C_in, C_out / groups, kernel_size)."""

    _nd = 1


class ConvTranspose2d(_ConvTransposeNd):
    """Transposed 2-D convolution, per-dim arguments as ``ConvTranspose1d``."""

    _nd = 2


class ConvTranspose3d(_ConvTransposeNd):
    """Transposed 3-D convolution, per-dim arguments as ``ConvTranspose1d``."""

    _nd = 3


class Unfold(Module):
    """Extract sliding blocks: (N, C, H, W) -> (N, C * prod(kernel_size), L)."""

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1) -> None:
        super().__init__()
        self.kernel_size, self.dilation, self.padding, self.stride = (
            kernel_size,
            dilation,
            padding,
            stride,
        )

    def forward(self, input):  # noqa: A002
        return Fc.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, "
            f"stride={self.stride}"
        )


class Fold(Module):
    """Combine sliding blocks into an image: (N, C * prod(kernel_size), L) -> (N, C, *output_size),
    summing overlapping values (the adjoint of ``Unfold``)."""

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1) -> None:
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, input):  # noqa: A002
        return Fc.fold(
            input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride
        )

    def extra_repr(self) -> str:
        return (
            f"output_size={self.output_size}, kernel_size={self.kernel_size}, "
            f"dilation={self.dilation}, padding={self.padding}, stride={self.stride}"
        )
