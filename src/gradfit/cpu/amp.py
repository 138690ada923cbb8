"""``torch.cpu.amp``: deprecated aliases of ``torch.amp.autocast('cpu')`` and
``torch.amp.GradScaler('cpu')`` (each warns with PyTorch's FutureWarning)."""

from gradfit.amp._deprecated import CpuAutocast as autocast
from gradfit.amp._deprecated import CpuGradScaler as GradScaler

__all__ = ["autocast", "GradScaler"]
