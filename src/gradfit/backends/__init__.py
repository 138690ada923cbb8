"""``gradfit.backends``: PyTorch's backend switches, answered for a CPU-only library.

``backends.mps.is_available()`` is False; ``backends.cudnn``'s flags (``benchmark``,
``deterministic``, ``enabled``, ``allow_tf32``) can be read and set, as programs do before
training, and change nothing because there is no cuDNN.
"""

from __future__ import annotations

from types import SimpleNamespace


def _false() -> bool:
    return False


mps = SimpleNamespace(is_available=_false, is_built=_false)
cudnn = SimpleNamespace(
    benchmark=False,
    deterministic=False,
    enabled=True,
    allow_tf32=True,
    is_available=_false,
    version=lambda: None,
)
cuda = SimpleNamespace(is_built=_false, matmul=SimpleNamespace(allow_tf32=False))
