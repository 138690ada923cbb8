"""RAdam (PyTorch's ``torch.optim.RAdam``)."""

from __future__ import annotations

import numpy as np

from gradfit.optim._functional import radam
from gradfit.optim.optimizer import Optimizer, _step_array, constructor


class RAdam(Optimizer):
    """Rectified Adam (Liu et al. 2019), as PyTorch does it (``torch/optim/radam.py``).

    Update rule (g = grad, t = step count from 1, (β1, β2) = betas, ε = eps, λ = weight_decay)::

        g = ±grad;  g = g + λ·p  (or p = p·(1 − lr·λ) when decoupled_weight_decay)
        m = β1·m + (1 − β1)·g
        v = β2·v + (1 − β2)·g²
        ρ_∞ = 2/(1 − β2) − 1,   ρ_t = ρ_∞ − 2t·β2^t/(1 − β2^t)
        m̂ = m/(1 − β1^t)
        ρ_t > 5:  r = √((ρ_t − 4)(ρ_t − 2)ρ_∞ / ((ρ_∞ − 4)(ρ_∞ − 2)ρ_t))
                  p = p − lr · m̂ · √(1 − β2^t)/(√v + ε) · r
        else:     p = p − lr · m̂                       (SGD with momentum)

    Early on, while v's variance is too large to trust, the step is plain momentum; the
    rectification r then brings in Adam's adaptive step gradually, in place of a warm-up.
    A parameter whose ``.grad`` is None is skipped entirely.

    State per parameter: ``step`` (0-d float Tensor), ``exp_avg`` (m), ``exp_avg_sq`` (v).

    Args:
        decoupled_weight_decay: decay the weights instead of adding λ·p to the gradient.
    """

    # the state in PyTorch's creation order, which the state_dict keeps
    _state_spec = (("step", _step_array), ("exp_avg", np.zeros_like), ("exp_avg_sq", np.zeros_like))
    _rule = staticmethod(radam)

    __init__ = constructor(
        {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0},
        "decoupled_weight_decay * foreach maximize capturable differentiable",
        checked="lr eps betas weight_decay",
        order=(
            "lr betas eps weight_decay maximize foreach capturable decoupled_weight_decay "
            "differentiable"
        ),
    )
