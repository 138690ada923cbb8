"""Automatic mixed precision, as ``torch.amp``: ``autocast`` and ``GradScaler``.

gradfit computes on the CPU in the dtype of its tensors. ``autocast`` keeps PyTorch's
bookkeeping (per-device enabled flag and dtype, nesting, decorator form) and PyTorch's
behaviour where that behaviour is "do nothing": ``device_type='cuda'`` without CUDA warns
and disables itself, ``enabled=False`` is a no-op. It refuses to pretend on the CPU:
enabled CPU autocast would run PyTorch's listed ops (linear, matmul, conv, ...) in bfloat16
(float16 if asked), which gradfit does not do, so it raises instead of silently giving
float32 numbers. ``GradScaler`` is PyTorch's, scaling, unscaling, inf checks and the scale
update included (``GradScaler('cpu')``), and a no-op when disabled.
"""

from gradfit.amp.autocast_mode import (
    autocast,
    custom_bwd,
    custom_fwd,
    get_autocast_dtype,
    is_autocast_available,
    is_autocast_enabled,
)
from gradfit.amp.grad_scaler import GradScaler, OptState

__all__ = [
    "autocast",
    "custom_bwd",
    "custom_fwd",
    "is_autocast_available",
    "GradScaler",
]

_ = (OptState, get_autocast_dtype, is_autocast_enabled)  # importable as in torch.amp submodules
