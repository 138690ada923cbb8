"""``torch.cuda.amp`` (importable as ``gradfit.cuda.amp``): deprecated aliases of
``torch.amp.autocast('cuda')`` and ``torch.amp.GradScaler('cuda')``, which without CUDA
warn and disable themselves, as in PyTorch."""

from gradfit.amp._deprecated import CudaAutocast as autocast
from gradfit.amp._deprecated import CudaGradScaler as GradScaler
from gradfit.amp._deprecated import cuda_custom_bwd as custom_bwd
from gradfit.amp._deprecated import cuda_custom_fwd as custom_fwd


def amp_definitely_not_available() -> bool:
    """True: gradfit has no CUDA."""
    return True


__all__ = ["amp_definitely_not_available", "autocast", "custom_bwd", "custom_fwd", "GradScaler"]
