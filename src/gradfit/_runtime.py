"""The runtime switches PyTorch programs set at the top: threads, determinism, matmul
precision, the default device, and ``torch.compile``.

- ``set_num_threads(n)`` limits NumPy's BLAS thread pool through ``threadpoolctl`` when it
  is installed (the matrix products are where gradfit uses threads), and records ``n``;
  ``get_num_threads()`` answers the recorded value, else the BLAS pool's size.
- gradfit's kernels are deterministic, so ``use_deterministic_algorithms`` only records its
  flags for the functions that read them back.
- ``set_float32_matmul_precision`` validates and records (NumPy always computes float32
  products in float32: ``'highest'``).
- ``set_default_device`` accepts the CPU only: gradfit has no other device.
- ``compile(model)`` compiles nothing; see its docstring for what it returns.
"""

from __future__ import annotations

import functools
import os
import warnings

from gradfit import _cascade_sum
from gradfit.tensor import _no_device_error, device

__all__ = [
    "are_deterministic_algorithms_enabled",
    "compile",
    "get_default_device",
    "get_deterministic_debug_mode",
    "get_float32_matmul_precision",
    "get_num_interop_threads",
    "get_num_threads",
    "is_deterministic_algorithms_warn_only_enabled",
    "set_default_device",
    "set_deterministic_debug_mode",
    "set_float32_matmul_precision",
    "set_num_interop_threads",
    "set_num_threads",
    "use_deterministic_algorithms",
]

_state: dict = {
    "threads": None,
    "interop": None,
    "deterministic": False,
    "warn_only": False,
    "matmul_precision": "highest",
}


def _check_threads(fn: str, n) -> int:
    if isinstance(n, bool) or not isinstance(n, int):
        raise RuntimeError(f"{fn} expects an int, but got {type(n).__name__}")
    if n <= 0:
        raise RuntimeError(f"{fn} expects a positive integer")
    return n


def set_num_threads(num: int) -> None:
    """Use ``num`` threads for the BLAS matrix products (threadpoolctl, if installed)."""
    _state["threads"] = _check_threads("set_num_threads", num)
    _cascade_sum.THREADS[:] = [num]  # large sums split across this many threads, as PyTorch
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # gradfit then records the number only
        return
    threadpool_limits(limits=num, user_api="blas")


def get_num_threads() -> int:
    """The number set by ``set_num_threads``, else the BLAS thread pool's size."""
    if _state["threads"] is not None:
        return _state["threads"]
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return os.cpu_count() or 1
    sizes = [p["num_threads"] for p in threadpool_info() if p.get("user_api") == "blas"]
    return max(sizes) if sizes else os.cpu_count() or 1


def set_num_interop_threads(num: int) -> None:
    """Recorded only: gradfit runs no inter-op thread pool."""
    _state["interop"] = _check_threads("set_num_interop_threads", num)


def get_num_interop_threads() -> int:
    return _state["interop"] if _state["interop"] is not None else os.cpu_count() or 1


def _check_bool(name: str, value, position: str = "") -> bool:
    if not isinstance(value, bool):
        raise TypeError(
            f"_set_deterministic_algorithms(): argument '{name}'{position} must be bool, not "
            f"{type(value).__name__}"
        )
    return value


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Record the flags: every gradfit kernel is deterministic already."""
    _state["deterministic"] = _check_bool("mode", mode, " (position 1)")
    _state["warn_only"] = _check_bool("warn_only", warn_only)


def are_deterministic_algorithms_enabled() -> bool:
    return _state["deterministic"]


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    return _state["warn_only"]


_DEBUG_MODES = ("default", "warn", "error")


def set_deterministic_debug_mode(debug_mode) -> None:
    """``'default'``/0: off; ``'warn'``/1: deterministic, warn only; ``'error'``/2: on."""
    if isinstance(debug_mode, str):
        if debug_mode not in _DEBUG_MODES:
            raise RuntimeError(
                "invalid value of debug_mode, expected one of `default`, `warn`, `error`, but "
                f"got {debug_mode}"
            )
        debug_mode = _DEBUG_MODES.index(debug_mode)
    elif not isinstance(debug_mode, int) or isinstance(debug_mode, bool):
        raise TypeError(f"debug_mode must be str or int, but got {type(debug_mode).__name__}")
    if debug_mode not in (0, 1, 2):
        raise RuntimeError(
            f"invalid value of debug_mode, expected 0, 1, or 2, but got {debug_mode}"
        )
    _state["deterministic"], _state["warn_only"] = debug_mode != 0, debug_mode == 1


def get_deterministic_debug_mode() -> int:
    if not _state["deterministic"]:
        return 0
    return 1 if _state["warn_only"] else 2


def set_float32_matmul_precision(precision: str) -> None:
    """``'highest'``, ``'high'`` or ``'medium'``, recorded; anything else is PyTorch's
    warning and no change."""
    if not isinstance(precision, str):
        raise RuntimeError(
            f"set_float32_matmul_precision expects a str, but got {type(precision).__name__}"
        )
    if precision not in ("highest", "high", "medium"):
        warnings.warn(
            f"{precision} is not one of 'highest', 'high', or 'medium'; the current"
            "setFloat32MatmulPrecision call has no effect.",
            UserWarning,
            stacklevel=2,
        )
        return
    _state["matmul_precision"] = precision


def get_float32_matmul_precision() -> str:
    return _state["matmul_precision"]


def set_default_device(device_) -> None:
    """Only the CPU (or None, the default) is accepted; another device is refused at
    once with the error placing data on it gives."""
    if device_ is None:
        return
    d = device_ if isinstance(device_, device) else device(device_)
    if d.type != "cpu":
        raise _no_device_error(d.type)


def get_default_device() -> device:
    return device("cpu")


_MODES = ("default", "lite", "reduce-overhead", "max-autotune-no-cudagraphs", "max-autotune")


def compile(
    model=None,
    *,
    fullgraph=False,
    dynamic=None,
    backend="inductor",
    mode=None,
    options=None,
    disable=False,
    **kwargs,
):  # noqa: A001, E501, ARG001 - PyTorch's signature
    """``torch.compile``: gradfit compiles nothing, and the result computes exactly what
    ``model`` computes.

    A ``Module`` comes back wrapped, as PyTorch's ``OptimizedModule``: the same parameters
    (shared, so it trains the original), but its ``state_dict`` keys and its repr carry
    PyTorch's ``_orig_mod.`` prefix, so a program prints what it prints under PyTorch. A
    function comes back as a wrapper calling it. Without ``model``, a decorator.
    """
    if mode is not None and mode not in _MODES:
        raise RuntimeError(f"Unrecognized mode={mode}, should be one of: {', '.join(_MODES)}")
    if model is None:
        return lambda m: compile(m, mode=mode, disable=disable)
    if not callable(model):
        raise AssertionError(f"A callable function is expected, but {type(model)} is provided.")
    from gradfit import nn

    if isinstance(model, nn.Module):
        return _optimized_module_class()(model)

    @functools.wraps(model)
    def fn(*args, **kw):
        return model(*args, **kw)

    return fn


@functools.cache
def _optimized_module_class():
    from gradfit import nn

    class OptimizedModule(nn.Module):
        """A compiled module: ``_orig_mod`` runs the forward pass (PyTorch's layout)."""

        def __init__(self, mod) -> None:
            super().__init__()
            self._orig_mod = mod

        def forward(self, *args, **kwargs):
            return self._orig_mod(*args, **kwargs)

        def __getattr__(self, name: str):
            try:
                return super().__getattr__(name)
            except AttributeError:
                return getattr(self.__dict__["_modules"]["_orig_mod"], name)

    return OptimizedModule
