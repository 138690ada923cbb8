"""Adadelta (PyTorch's ``torch.optim.Adadelta``)."""

from __future__ import annotations

import numpy as np

from gradfit.optim._functional import adadelta
from gradfit.optim.optimizer import Optimizer, _step_array, constructor


class Adadelta(Optimizer):
    """Adadelta (Zeiler 2012), as PyTorch does it (``torch/optim/adadelta.py``).

    Update rule (g = grad, ρ = rho, ε = eps, λ = weight_decay)::

        g = ±grad + λ·p
        v = ρ·v + (1 − ρ)·g²
        Δ = √(u + ε) / √(v + ε) · g
        u = ρ·u + (1 − ρ)·Δ²
        p = p − lr·Δ

    The step is the ratio of two running RMS values, so its units are those of p and
    ``lr`` = 1 (the default) is the method as published. A parameter whose ``.grad`` is
    None is skipped entirely.

    State per parameter: ``step`` (0-d float Tensor), ``square_avg`` (v), ``acc_delta`` (u).

    Args:
        rho: ρ, the decay of both running averages, in [0, 1].
    """

    # the state in PyTorch's creation order, which the state_dict keeps
    _state_spec = (
        ("step", _step_array),
        ("square_avg", np.zeros_like),
        ("acc_delta", np.zeros_like),
    )
    _rule = staticmethod(adadelta)

    __init__ = constructor(
        {"lr": 1.0, "rho": 0.9, "eps": 1e-6, "weight_decay": 0},
        "foreach * capturable maximize differentiable",
        checked="lr rho eps weight_decay",
        order="lr rho eps weight_decay maximize capturable foreach differentiable",
    )
