"""``torch.cuda.amp`` and ``torch.cpu.amp``: PyTorch's deprecated spellings of
``torch.amp.autocast(device_type, ...)`` and ``torch.amp.GradScaler(device, ...)``, with
PyTorch's FutureWarning on construction."""

from __future__ import annotations

import warnings

from gradfit.amp.autocast_mode import autocast as _autocast
from gradfit.amp.autocast_mode import custom_bwd as _custom_bwd
from gradfit.amp.autocast_mode import custom_fwd as _custom_fwd
from gradfit.amp.grad_scaler import GradScaler as _GradScaler


def _warn(old: str, new: str) -> None:
    warnings.warn(
        f"`torch.{old}(args...)` is deprecated. Please use `torch.{new}` instead.",
        FutureWarning,
        stacklevel=3,
    )


class CudaAutocast(_autocast):
    def __init__(self, enabled: bool = True, dtype=None, cache_enabled: bool = True):
        _warn("cuda.amp.autocast", "amp.autocast('cuda', args...)")
        super().__init__("cuda", enabled=enabled, dtype=dtype, cache_enabled=cache_enabled)


class CpuAutocast(_autocast):
    def __init__(self, enabled: bool = True, dtype=None, cache_enabled: bool = True):
        _warn("cpu.amp.autocast", "amp.autocast('cpu', args...)")
        super().__init__("cpu", enabled=enabled, dtype=dtype, cache_enabled=cache_enabled)


class CudaGradScaler(_GradScaler):
    def __init__(
        self,
        init_scale: float = 2.0**16,
        growth_factor: float = 2.0,
        backoff_factor: float = 0.5,
        growth_interval: int = 2000,
        enabled: bool = True,
    ) -> None:
        _warn("cuda.amp.GradScaler", "amp.GradScaler('cuda', args...)")
        super().__init__(
            "cuda", init_scale, growth_factor, backoff_factor, growth_interval, enabled
        )


class CpuGradScaler(_GradScaler):
    def __init__(
        self,
        init_scale: float = 2.0**16,
        growth_factor: float = 2.0,
        backoff_factor: float = 0.5,
        growth_interval: int = 2000,
        enabled: bool = True,
    ) -> None:
        _warn("cpu.amp.GradScaler", "amp.GradScaler('cpu', args...)")
        super().__init__("cpu", init_scale, growth_factor, backoff_factor, growth_interval, enabled)


for _cls, _name in (
    (CudaAutocast, "autocast"),
    (CpuAutocast, "autocast"),
    (CudaGradScaler, "GradScaler"),
    (CpuGradScaler, "GradScaler"),
):
    _cls.__name__ = _cls.__qualname__ = _name


def cuda_custom_fwd(fwd=None, *, cast_inputs=None):
    """``torch.cuda.amp.custom_fwd``: ``torch.amp.custom_fwd(device_type='cuda')``."""
    return _custom_fwd(fwd, device_type="cuda", cast_inputs=cast_inputs)


def cuda_custom_bwd(bwd):
    """``torch.cuda.amp.custom_bwd``: ``torch.amp.custom_bwd(device_type='cuda')``."""
    return _custom_bwd(bwd, device_type="cuda")
