"""Padding layers (``ZeroPad*``, ``ConstantPad*``, ``ReflectionPad*``, ``ReplicationPad*``,
``CircularPad*`` in 1, 2 and 3 dims), each a call of ``functional.pad``, as PyTorch's."""

from __future__ import annotations

from collections.abc import Iterable

from gradfit.nn import _functional_conv as Fc
from gradfit.nn.modules.module import Module

__all__ = [
    "CircularPad1d",
    "CircularPad2d",
    "CircularPad3d",
    "ConstantPad1d",
    "ConstantPad2d",
    "ConstantPad3d",
    "ReflectionPad1d",
    "ReflectionPad2d",
    "ReflectionPad3d",
    "ReplicationPad1d",
    "ReplicationPad2d",
    "ReplicationPad3d",
    "ZeroPad1d",
    "ZeroPad2d",
    "ZeroPad3d",
]


def _ntuple(x, n: int) -> tuple:
    # PyTorch's _ntuple: an iterable is kept as given (its length is not checked)
    if isinstance(x, Iterable):
        return tuple(x)
    return (x,) * n


class _PadNd(Module):
    """``padding`` (an int for every side, or (left, right[, top, bottom[, front, back]]))
    as a tuple; ``forward`` pads with ``mode``."""

    mode = "constant"
    nd = 1

    def __init__(self, padding) -> None:
        super().__init__()
        self.padding = _ntuple(padding, 2 * self.nd)

    def forward(self, input):  # noqa: A002
        return Fc.pad(input, self.padding, self.mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _CircularPadNd(_PadNd):
    mode = "circular"

    def forward(self, input):  # noqa: A002
        if input.ndim not in (self.nd + 1, self.nd + 2):
            raise ValueError(
                f"expected {self.nd + 1}D or {self.nd + 2}D input (got {input.ndim}D input)"
            )
        return Fc.pad(input, self.padding, "circular")


class CircularPad1d(_CircularPadNd):
    """Pad the last dim of (N, C, W) or (C, W) by wrapping around (negative amounts crop)."""

    nd = 1


class CircularPad2d(_CircularPadNd):
    """Pad the last two dims of (N, C, H, W) or (C, H, W) by wrapping around."""

    nd = 2


class CircularPad3d(_CircularPadNd):
    """Pad the last three dims of (N, C, D, H, W) or (C, D, H, W) by wrapping around."""

    nd = 3


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value: float) -> None:
        super().__init__(padding)
        self.value = value

    def forward(self, input):  # noqa: A002
        return Fc.pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pad the last dim with ``value`` (negative amounts crop)."""

    nd = 1


class ConstantPad2d(_ConstantPadNd):
    """Pad the last two dims with ``value``."""

    nd = 2


class ConstantPad3d(_ConstantPadNd):
    """Pad the last three dims with ``value``."""

    nd = 3


class _ReflectionPadNd(_PadNd):
    mode = "reflect"


class ReflectionPad1d(_ReflectionPadNd):
    """Pad the last dim with its mirror image, the edge not repeated (each amount smaller
    than the dim)."""

    nd = 1


class ReflectionPad2d(_ReflectionPadNd):
    """Pad the last two dims with their mirror images."""

    nd = 2


class ReflectionPad3d(_ReflectionPadNd):
    """Pad the last three dims with their mirror images."""

    nd = 3


class _ReplicationPadNd(_PadNd):
    mode = "replicate"


class ReplicationPad1d(_ReplicationPadNd):
    """Pad the last dim by repeating its edge values."""

    nd = 1


class ReplicationPad2d(_ReplicationPadNd):
    """Pad the last two dims by repeating their edge values."""

    nd = 2


class ReplicationPad3d(_ReplicationPadNd):
    """Pad the last three dims by repeating their edge values."""

    nd = 3


class ZeroPad1d(ConstantPad1d):
    """Pad the last dim with zeros."""

    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad2d(ConstantPad2d):
    """Pad the last two dims with zeros."""

    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad3d(ConstantPad3d):
    """Pad the last three dims with zeros."""

    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"
