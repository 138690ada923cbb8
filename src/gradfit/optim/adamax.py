"""Adamax (PyTorch's ``torch.optim.Adamax``)."""

from __future__ import annotations

import numpy as np

from gradfit.optim._functional import adamax
from gradfit.optim.optimizer import Optimizer, _step_array, constructor


class Adamax(Optimizer):
    """Adamax, Adam with the infinity norm (Kingma & Ba 2015, §7.1), as PyTorch does it
    (``torch/optim/adamax.py``).

    Update rule (g = grad, t = step count from 1, (β1, β2) = betas, ε = eps, λ = weight_decay)::

        g = ±grad + λ·p
        m = β1·m + (1 − β1)·g
        u = max(β2·u, |g| + ε)
        p = p − lr/(1 − β1^t) · m/u

    Unlike Adam's v, u needs no bias correction. A parameter whose ``.grad`` is None is
    skipped entirely.

    State per parameter: ``step`` (0-d float Tensor), ``exp_avg`` (m), ``exp_inf`` (u).
    """

    # the state in PyTorch's creation order, which the state_dict keeps
    _state_spec = (("step", _step_array), ("exp_avg", np.zeros_like), ("exp_inf", np.zeros_like))
    _rule = staticmethod(adamax)

    __init__ = constructor(
        {"lr": 2e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0},
        "foreach * maximize differentiable capturable",
        checked="lr eps betas weight_decay",
    )
