"""``autocast`` as ``torch.amp.autocast_mode``: context manager and decorator.

State is per device type, as in PyTorch: ``is_autocast_enabled(device_type)`` and
``get_autocast_dtype(device_type)`` report what the innermost active ``autocast`` set.
Autocast for a device type only affects operations on tensors of that device; gradfit's
tensors all live on the CPU, so non-CPU autocast changes no number (as PyTorch on a CPU
tensor). CPU autocast, which would change numbers, is refused when enabled (see the
package docstring).
"""

from __future__ import annotations

import functools
import warnings
from typing import Any

from gradfit import _dtypes

__all__ = [
    "autocast_decorator",
    "autocast",
    "is_autocast_available",
    "custom_fwd",
    "custom_bwd",
]

# PyTorch's defaults: CPU autocast targets bfloat16 (a name only in gradfit: no tensor
# holds it), CUDA and the other accelerators float16.
_BFLOAT16 = _dtypes.bfloat16
_state: dict[str, dict[str, Any]] = {}
_nesting = 0
_cache_enabled = True


def _device_state(device_type: str) -> dict[str, Any]:
    st = _state.get(device_type)
    if st is None:
        from gradfit import float16

        dtype = _BFLOAT16 if device_type == "cpu" else float16
        st = _state[device_type] = {"enabled": False, "dtype": dtype}
    return st


def is_autocast_available(device_type: str) -> bool:
    """Whether ``device_type`` is a device type autocast knows (PyTorch's list)."""
    from gradfit.tensor import device

    device(device_type)  # raises PyTorch's error for an unknown type
    return True


def is_autocast_enabled(device_type: str | None = None) -> bool:
    """Whether autocast is on for ``device_type`` (``'cuda'`` when not given, as PyTorch)."""
    return _device_state("cuda" if device_type is None else device_type)["enabled"]


def get_autocast_dtype(device_type: str):
    """The autocast dtype of ``device_type`` (``gradfit.bfloat16`` on the CPU by default)."""
    return _device_state(device_type)["dtype"]


def is_autocast_cache_enabled() -> bool:
    return _cache_enabled


def autocast_decorator(autocast_instance, func):
    @functools.wraps(func)
    def decorate_autocast(*args, **kwargs):
        with autocast_instance:
            return func(*args, **kwargs)

    return decorate_autocast


def _dtype_name(dtype) -> str:
    return "bfloat16" if dtype is _BFLOAT16 else str(dtype)


class autocast:  # noqa: N801 - PyTorch's name
    """Run a region with autocast state set for ``device_type`` (PyTorch's signature).

    Args:
        device_type: ``'cuda'``, ``'cpu'``, ... (a string, as PyTorch requires).
        dtype: the lower precision dtype (default: bfloat16 on the CPU, float16 elsewhere).
        enabled: whether autocasting is on in the region.
        cache_enabled: kept for PyTorch's API (gradfit casts nothing, so caches nothing).

    Raises:
        ValueError: ``device_type`` is not a string.
        RuntimeError: ``device_type`` is unknown, or CPU autocast is enabled with bfloat16
            or float16, which gradfit cannot run (pass ``enabled=False``).
    """

    def __init__(self, device_type: str, dtype=None, enabled: bool = True, cache_enabled=None):
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        self.fast_dtype = get_autocast_dtype(device_type) if dtype is None else dtype
        self.device = device_type
        if not is_autocast_available(self.device):
            raise RuntimeError(
                f"User specified an unsupported autocast device_type '{self.device}'"
            )
        from gradfit import float16

        self._cache_enabled = (
            is_autocast_cache_enabled() if cache_enabled is None else cache_enabled
        )
        device_name = self.device.upper()
        if enabled:
            if self.device == "cuda":
                warnings.warn(
                    "CUDA is not available or torch_xla is imported. Disabling autocast.",
                    stacklevel=2,
                )
                enabled = False
            elif self.fast_dtype is not _BFLOAT16 and self.fast_dtype != float16:
                prefix = str(float16).split(".")[0]
                warnings.warn(
                    f"In {device_name} autocast, but the target dtype is not supported. "
                    f"Disabling autocast.\n{device_name} Autocast only supports dtypes of "
                    f"{prefix}.bfloat16, {float16} currently.",
                    stacklevel=2,
                )
                enabled = False
            elif self.device == "cpu":
                raise RuntimeError(
                    f"autocast(device_type='cpu', dtype={_dtype_name(self.fast_dtype)}) would "
                    "run linear, matmul, conv and PyTorch's other listed ops in "
                    f"{_dtype_name(self.fast_dtype)}; gradfit has no bfloat16 tensors and no CPU "
                    "float16 autocast, so it cannot give PyTorch's numbers: pass "
                    "enabled=False (full precision) or leave out the autocast context"
                )
        self._enabled = enabled

    def __enter__(self):
        global _nesting, _cache_enabled
        st = _device_state(self.device)
        self.prev_cache_enabled = _cache_enabled
        self.prev = st["enabled"]
        self.prev_fastdtype = st["dtype"]
        st["enabled"] = self._enabled
        st["dtype"] = self.fast_dtype
        _nesting += 1
        _cache_enabled = self._cache_enabled
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        global _nesting, _cache_enabled
        _nesting -= 1
        st = _device_state(self.device)
        st["enabled"] = self.prev
        st["dtype"] = self.prev_fastdtype
        _cache_enabled = self.prev_cache_enabled
        return False

    def __call__(self, func):
        if not callable(func):
            raise TypeError(
                f"autocast()(func) requires a callable, but got {type(func).__name__}. Did you "
                "mean to use autocast as a context manager? For example:\n"
                "    with torch.autocast(device_type=...):\n        output = model(input)"
            )
        return autocast_decorator(self, func)


# --- torch.*'s autocast state functions (what autocast.__enter__ and __exit__ do, by hand) --


def set_autocast_enabled(device_type, enabled=None) -> None:
    """``torch.set_autocast_enabled(device_type, enabled)`` (or the older
    ``set_autocast_enabled(enabled)``, for CUDA). Enabling it on the CPU raises, as
    ``autocast`` does: gradfit cannot compute in bfloat16."""
    if enabled is None:
        device_type, enabled = "cuda", device_type
    if enabled and device_type == "cpu":
        autocast("cpu", dtype=get_autocast_dtype("cpu"))  # raises autocast's error
    _device_state(device_type)["enabled"] = bool(enabled)


def set_autocast_dtype(device_type: str, dtype) -> None:
    """``torch.set_autocast_dtype``: the dtype the next autocast region of
    ``device_type`` uses when it is given none."""
    _device_state(device_type)["dtype"] = dtype


def autocast_increment_nesting() -> int:
    global _nesting
    _nesting += 1
    return _nesting


def autocast_decrement_nesting() -> int:
    global _nesting
    _nesting -= 1
    return _nesting


def set_autocast_cache_enabled(enabled: bool) -> None:
    global _cache_enabled
    _cache_enabled = bool(enabled)


def clear_autocast_cache() -> None:
    """Nothing to clear: gradfit casts nothing, so it caches no casts."""


def _deprecated(name: str, getter, device_type: str):
    """PyTorch's deprecated per-device getter ``name``: ``getter(device_type)``, warned."""

    def get():
        warnings.warn(
            f"gradfit.{name}() is deprecated. Please use gradfit.{getter.__name__}"
            f"('{device_type}') instead.",
            DeprecationWarning,
            stacklevel=2,
        )
        return getter(device_type)

    get.__name__ = get.__qualname__ = name
    return get


get_autocast_cpu_dtype = _deprecated("get_autocast_cpu_dtype", get_autocast_dtype, "cpu")
get_autocast_gpu_dtype = _deprecated("get_autocast_gpu_dtype", get_autocast_dtype, "cuda")
is_autocast_cpu_enabled = _deprecated("is_autocast_cpu_enabled", is_autocast_enabled, "cpu")


def custom_fwd(fwd=None, *, device_type: str, cast_inputs=None):
    """Decorator for a custom ``Function.forward`` (PyTorch's): records the autocast state
    for ``custom_bwd``; with ``cast_inputs`` it would cast floating inputs inside enabled
    autocast, which gradfit never has on the CPU."""
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)

    @functools.wraps(fwd)
    def decorate_fwd(*args, **kwargs):
        args[0]._dtype = get_autocast_dtype(device_type)
        if cast_inputs is None:
            args[0]._fwd_used_autocast = is_autocast_enabled(device_type)
            return fwd(*args, **kwargs)
        args[0]._fwd_used_autocast = False
        if is_autocast_enabled(device_type):
            with autocast(device_type=device_type, enabled=False):
                return fwd(*_cast(args, cast_inputs), **_cast(kwargs, cast_inputs))
        return fwd(*args, **kwargs)

    return decorate_fwd


def custom_bwd(bwd=None, *, device_type: str):
    """Decorator for a custom ``Function.backward``: runs it under the forward's autocast
    state."""
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)

    @functools.wraps(bwd)
    def decorate_bwd(*args, **kwargs):
        with autocast(
            device_type=device_type, enabled=args[0]._fwd_used_autocast, dtype=args[0]._dtype
        ):
            return bwd(*args, **kwargs)

    return decorate_bwd


def _cast(value, dtype):
    import collections.abc

    import numpy as np

    from gradfit import float64
    from gradfit.tensor import Tensor

    if isinstance(value, Tensor):
        ok = value.is_floating_point() and value.dtype != float64
        return value.to(dtype) if ok else value
    if isinstance(value, (str, bytes, np.ndarray)):
        return value
    if isinstance(value, collections.abc.Mapping):
        return {_cast(k, dtype): _cast(v, dtype) for k, v in value.items()}
    if isinstance(value, collections.abc.Iterable):
        it = (_cast(v, dtype) for v in value)
        return type(value)(it) if isinstance(value, (list, tuple)) else it
    return value
