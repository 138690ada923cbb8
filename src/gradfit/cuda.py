"""``gradfit.cuda``: answers PyTorch's CUDA questions truthfully for a CPU-only library.

Programs select their device with ``torch.device("cuda" if torch.cuda.is_available() else
"cpu")`` and seed every stream with ``torch.cuda.manual_seed_all``; on a machine without CUDA
PyTorch says "not available", counts 0 devices and ignores the seeding. gradfit does the same,
and the functions that need a device raise as PyTorch's CPU build does.
"""

from __future__ import annotations

__all__ = [
    "current_device",
    "device_count",
    "empty_cache",
    "get_device_name",
    "is_available",
    "is_bf16_supported",
    "is_initialized",
    "max_memory_allocated",
    "max_memory_reserved",
    "memory_allocated",
    "memory_reserved",
    "manual_seed",
    "manual_seed_all",
    "seed",
    "seed_all",
    "set_device",
    "synchronize",
]


def _unavailable():
    from gradfit.tensor import _no_device_error

    return _no_device_error("cuda")


def is_available() -> bool:
    """False: gradfit has no CUDA backend."""
    return False


def is_initialized() -> bool:
    return False


def device_count() -> int:
    return 0


def is_bf16_supported(including_emulation: bool = True) -> bool:
    """False, as PyTorch says without CUDA (programs pick float16 or float32 on it)."""
    return False


def memory_allocated(device=None) -> int:
    """0 bytes: no tensor lives on a CUDA device (PyTorch's CPU build says the same)."""
    return 0


memory_reserved = max_memory_allocated = max_memory_reserved = memory_allocated


def manual_seed(seed: int) -> None:
    """No-op, as in PyTorch without CUDA (the call is silently ignored)."""
    int(seed)


def manual_seed_all(seed: int) -> None:
    """No-op, as in PyTorch without CUDA."""
    int(seed)


def seed() -> None:
    """No-op, as in PyTorch without CUDA."""


def seed_all() -> None:
    """No-op, as in PyTorch without CUDA."""


def synchronize(device=None) -> None:
    """Raises, as PyTorch's CPU build does: there is no CUDA device to wait for."""
    raise _unavailable()


def empty_cache() -> None:
    """No-op: there is no device cache."""


def current_device() -> int:
    raise _unavailable()


def get_device_name(device=None) -> str:
    raise _unavailable()


def set_device(device) -> None:
    raise _unavailable()


# --- pruneamp: torch.cuda.amp (deprecated spellings of torch.amp); registered so that
# `import torch.cuda.amp` and `from torch.cuda.amp import GradScaler` work on this module.
import sys as _sys  # noqa: E402

from gradfit.amp import _cuda_amp as amp  # noqa: E402

_sys.modules[__name__ + ".amp"] = amp
