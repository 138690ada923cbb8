"""Adam and AdamW (PyTorch's ``torch.optim.Adam`` and ``torch.optim.AdamW``)."""

from __future__ import annotations

import numpy as np

from gradfit.optim._functional import adam
from gradfit.optim.optimizer import Optimizer, _step_array, constructor

# PyTorch's order of the group's entries (its ``defaults`` dict), which a printed
# state_dict shows
_ORDER = (
    "lr betas eps weight_decay amsgrad maximize foreach capturable differentiable fused "
    "decoupled_weight_decay"
)


class Adam(Optimizer):
    """Adaptive moment estimation, as PyTorch does it (``torch/optim/adam.py``).

    Update rule (g = grad, t = step count from 1, α = lr, (β1, β2) = betas, ε = eps,
    λ = weight_decay)::

        g = ±grad;  g = g + λ·p  (or p = p·(1 − α·λ) when decoupled_weight_decay)
        m = β1·m + (1 − β1)·g
        v = β2·v + (1 − β2)·g²            (v̂ = max(v̂, v) if amsgrad, used instead of v)
        p = p − α/(1 − β1^t) · m / (√v/√(1 − β2^t) + ε)

    This is the lecture's Adam (eqs. 6.15–6.17, with β = β1 and γ = β2): the bias
    corrections m/(1 − β^t) and v/(1 − γ^t) are the same, only folded into the step size,
    and ε is added after correcting v as in eq. 6.17 (``gradfit.optim.lecture.Adam`` is
    the literal form and agrees to rounding). A parameter whose ``.grad`` is None is
    skipped entirely (no state, no step count).

    State per parameter: ``step`` (0-d float Tensor), ``exp_avg`` (m), ``exp_avg_sq`` (v),
    and ``max_exp_avg_sq`` when amsgrad.

    Args:
        weight_decay: λ, an L2 term added to the gradient, or, with
            ``decoupled_weight_decay=True`` (AdamW), a decay of the weights.
        amsgrad: use the running maximum of v.
    """

    # the state in PyTorch's creation order, which the state_dict keeps
    _state_spec = (
        ("step", _step_array),
        ("exp_avg", np.zeros_like),
        ("exp_avg_sq", np.zeros_like),
        ("max_exp_avg_sq", np.zeros_like, "amsgrad"),
    )
    _rule = staticmethod(adam)

    __init__ = constructor(
        {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0, "amsgrad": False},
        "* foreach maximize capturable differentiable fused decoupled_weight_decay",
        checked="lr eps betas weight_decay",
        order=_ORDER,
    )

    def _sparse_update(self, group: dict, params: list, arrays: list, grads: list) -> None:
        raise RuntimeError(
            "Adam does not support sparse gradients, please consider SparseAdam instead"
        )


class AdamW(Adam):
    """Adam with decoupled weight decay (``torch/optim/adamw.py``; Loshchilov & Hutter).

    Same as ``Adam(..., decoupled_weight_decay=True)``: before the moment updates the
    weights are multiplied by (1 − α·λ), with the scheduled α and without bias correction,
    instead of adding λ·p to the gradient. The default ``weight_decay`` is 1e-2.
    """

    __init__ = constructor(
        {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 1e-2, "amsgrad": False},
        "* maximize foreach capturable differentiable fused",
        checked="lr eps betas weight_decay",
        order=_ORDER,
        fixed={"decoupled_weight_decay": True},
    )

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
