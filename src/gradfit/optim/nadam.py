"""NAdam (PyTorch's ``torch.optim.NAdam``)."""

from __future__ import annotations

import numpy as np

from gradfit.optim._functional import nadam
from gradfit.optim.optimizer import (
    Optimizer,
    _numbers_to_scalar_state,
    _one,
    _step_array,
    constructor,
)


class NAdam(Optimizer):
    """Adam with Nesterov momentum (Dozat 2016), as PyTorch does it
    (``torch/optim/nadam.py``).

    Update rule (g = grad, t = step count from 1, (β1, β2) = betas, ε = eps,
    ψ = momentum_decay, λ = weight_decay)::

        g = ±grad;  g = g + λ·p  (or p = p·(1 − lr·λ) when decoupled_weight_decay)
        μ_t = β1·(1 − 0.96^(t·ψ)/2),  μ_{t+1} likewise,  Π = Π·μ_t  (Π_0 = 1)
        m = β1·m + (1 − β1)·g
        v = β2·v + (1 − β2)·g²
        d = √(v/(1 − β2^t)) + ε
        p = p − lr·(1 − μ_t)/(1 − Π) · g/d − lr·μ_{t+1}/(1 − Π·μ_{t+1}) · m/d

    This is the lecture's Nesterov look-ahead applied to Adam's first moment: the update
    mixes the current gradient with the next step's momentum. With decoupled weight decay
    (PyTorch's NAdamW) the weights shrink as in AdamW. A parameter whose ``.grad`` is None
    is skipped entirely.

    State per parameter: ``step`` and ``mu_product`` (Π) (0-d float Tensors, float32 or
    the default dtype when that is float64), ``exp_avg`` (m), ``exp_avg_sq`` (v).

    Args:
        decoupled_weight_decay: decay the weights instead of adding λ·p to the gradient.
    """

    # the state in PyTorch's creation order, which the state_dict keeps
    _state_spec = (
        ("step", _step_array),
        ("mu_product", _one),
        ("exp_avg", np.zeros_like),
        ("exp_avg_sq", np.zeros_like),
    )
    _rule = staticmethod(nadam)

    __init__ = constructor(
        {"lr": 2e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0, "momentum_decay": 4e-3},
        "decoupled_weight_decay * foreach maximize capturable differentiable",
        checked="lr eps betas weight_decay momentum_decay",
        order=(
            "lr betas eps weight_decay momentum_decay decoupled_weight_decay maximize foreach "
            "capturable differentiable"
        ),
    )

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        _numbers_to_scalar_state(self.state, "mu_product")
