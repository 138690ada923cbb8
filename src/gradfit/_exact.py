"""When gradfit's ops take PyTorch's roundings step by step (rung 0).

Some of PyTorch's CPU kernels round in ways NumPy's functions do not: SLEEF's ``exp``
and ``log`` in softmax, log_softmax and cross-entropy (``_vecmath``), the Welford
cascade of layer and group norm (``_moments``). gradfit emulates them operation by
operation, which costs several times NumPy's vectorised call. It does so where values
are evaluated and printed, outside a graph (``no_grad``, ``inference_mode``), for inputs
of up to ``EXACT_ELEMENTS`` values; a training step (grad mode on) and larger inputs take
NumPy's functions, which differ from PyTorch's in the last bit on a share of entries.
"""

from __future__ import annotations

import numpy as np

from gradfit._grad_mode import _enabled

EXACT_ELEMENTS = 1 << 16


def exact_rounding(a: np.ndarray, dtypes: tuple = (np.float32,)) -> bool:
    """Whether an op on ``a`` takes PyTorch's roundings (module docstring)."""
    return not _enabled[0] and a.dtype in dtypes and 0 < a.size <= EXACT_ELEMENTS
