"""``gradfit.accelerator``: PyTorch's device-agnostic accelerator API; gradfit has none."""

from __future__ import annotations


def is_available() -> bool:
    """False: gradfit computes on the CPU only."""
    return False


def device_count() -> int:
    return 0


def current_accelerator(check_available: bool = False):
    """None, as PyTorch returns when no accelerator is present."""
    return None
