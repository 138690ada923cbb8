"""``gradfit.cpu``, as ``torch.cpu``: the CPU device module (always there, one device)
and its deprecated ``amp`` namespace."""

from __future__ import annotations

from gradfit.cpu import amp

__all__ = [
    "amp",
    "current_device",
    "device_count",
    "is_available",
    "is_initialized",
    "set_device",
    "synchronize",
]


def is_available() -> bool:
    """True: the CPU is always available."""
    return True


def is_initialized() -> bool:
    return True


def device_count() -> int:
    """1, as PyTorch counts the CPU."""
    return 1


def current_device() -> str:
    return "cpu"


def set_device(device) -> None:
    """No-op, as in PyTorch: there is one CPU device."""


def synchronize(device=None) -> None:
    """No-op: CPU work is done when the call returns."""
