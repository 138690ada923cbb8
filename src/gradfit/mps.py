"""``torch.mps``, Apple's GPU backend: gradfit has no MPS device, so this namespace reports
it missing as PyTorch does on a machine without one: ``is_available()`` is False,
``device_count()`` 0, ``manual_seed`` is accepted (and does nothing, as there), and the
functions that need the device raise PyTorch's "without MPS backend" error."""

from __future__ import annotations

__all__ = [
    "current_allocated_memory",
    "device_count",
    "driver_allocated_memory",
    "empty_cache",
    "get_rng_state",
    "is_available",
    "manual_seed",
    "recommended_max_memory",
    "seed",
    "set_per_process_memory_fraction",
    "set_rng_state",
    "synchronize",
]


def _missing(what: str):
    raise RuntimeError(f"Cannot execute {what}() without MPS backend.")


def is_available() -> bool:
    return False


def device_count() -> int:
    return 0


def manual_seed(seed: int) -> None:
    """Seeds the MPS generator: there is none, so nothing happens (as in PyTorch)."""
    if not isinstance(seed, int):
        raise TypeError(f"manual_seed expected an int seed, got {type(seed).__name__}")


def seed() -> None:
    _missing("getDefaultGenerator")


def get_rng_state(device="mps"):
    _missing("getDefaultGenerator")


def set_rng_state(new_state, device="mps") -> None:
    _missing("getDefaultGenerator")


def synchronize() -> None:
    _missing("deviceSynchronize")


def empty_cache() -> None:
    _missing("emptyCache")


def set_per_process_memory_fraction(fraction) -> None:
    _missing("setMemoryFraction")


def current_allocated_memory() -> int:
    _missing("getCurrentAllocatedMemory")


def driver_allocated_memory() -> int:
    _missing("getDriverAllocatedMemory")


def recommended_max_memory() -> int:
    _missing("getRecommendedMaxMemory")
