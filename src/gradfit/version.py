"""``gradfit.version`` (``torch.version``): the version, and no CUDA, ROCm or XPU build."""

from gradfit import __version__

cuda = None
hip = None
rocm = None
xpu = None
debug = False

__all__ = ["__version__", "cuda", "debug", "hip", "rocm", "xpu"]
