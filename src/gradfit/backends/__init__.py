"""``gradfit.backends``: PyTorch's backend switches, answered for a CPU-only library.

Each is a submodule, as in PyTorch, so that ``import torch.backends.cudnn as cudnn`` works:
``mps.is_available()`` is False; ``cudnn``'s flags (``benchmark``, ``deterministic``,
``enabled``, ``allow_tf32``) and ``cuda.matmul``'s can be read and set, as programs do before
training, and change nothing because there is no GPU library; ``mkldnn.enabled`` and
``openmp.is_available()`` answer as PyTorch's CPU build does.
"""

from __future__ import annotations

from gradfit.backends import cpu, cuda, cudnn, mkldnn, mps, openmp

__all__ = ["cpu", "cuda", "cudnn", "mkldnn", "mps", "openmp"]
