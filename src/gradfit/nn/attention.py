"""``torch.nn.attention``: choosing the kernels ``scaled_dot_product_attention`` may use.

gradfit has one implementation, PyTorch's math path, which serves for ``MATH`` and, on a
CPU, ``FLASH_ATTENTION`` (PyTorch's CPU flash kernel computes the same function). A
context that allows neither refuses the call as PyTorch does.
"""

from __future__ import annotations

import contextlib
import enum

__all__ = ["SDPBackend", "sdpa_kernel"]


class SDPBackend(enum.Enum):
    """The attention kernels PyTorch knows (the same names and numbers)."""

    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4


_CPU_BACKENDS = frozenset({SDPBackend.MATH, SDPBackend.FLASH_ATTENTION})
_allowed = [frozenset(SDPBackend) - {SDPBackend.ERROR}]


@contextlib.contextmanager
def sdpa_kernel(backends, set_priority: bool = False):
    """Within the context, ``scaled_dot_product_attention`` may use only ``backends`` (one
    ``SDPBackend`` or a list); the previous choice comes back on exit."""
    chosen = [backends] if isinstance(backends, SDPBackend) else list(backends)
    for b in chosen:
        if not isinstance(b, SDPBackend):
            raise AssertionError("Backend must be an instance of SDPBackend")
    previous = _allowed[0]
    _allowed[0] = frozenset(chosen)
    try:
        yield
    finally:
        _allowed[0] = previous


def check_backend(ndim: int) -> None:
    """Refuse an attention call that the chosen kernels cannot serve on a CPU, as PyTorch."""
    usable = _allowed[0] & _CPU_BACKENDS
    if SDPBackend.MATH in usable:
        return
    if not usable:
        raise RuntimeError(
            "No viable backend for scaled_dot_product_attention was found. This is likely "
            "due to turning off both the math kernel and the fused kernels."
        )
    if ndim != 4:  # PyTorch's CPU flash kernel takes (batch, heads, length, features) only
        raise RuntimeError("No available kernel.  Aborting execution.")
