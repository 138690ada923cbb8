"""Adagrad (PyTorch's ``torch.optim.Adagrad``)."""

from __future__ import annotations

import numpy as np

from gradfit.optim._functional import adagrad
from gradfit.optim._sparse_functional import sparse_adagrad
from gradfit.optim.optimizer import Optimizer, _step_array, constructor


class Adagrad(Optimizer):
    """Adagrad (Duchi et al. 2011), as PyTorch does it (``torch/optim/adagrad.py``).

    Update rule (g = grad, t = step count from 1, ε = eps, λ = weight_decay)::

        g = ±grad + λ·p
        α_t = lr / (1 + (t − 1)·lr_decay)
        S = S + g²                          (S starts at initial_accumulator_value)
        p = p − α_t · g / (√S + ε)

    The lecture's normalised gradient (eqs. 6.13–6.14) divides by √(g²) of the current
    gradient only; Adagrad divides by the root of the accumulated sum, so its steps shrink.

    Unlike the other optimizers the state is created **eagerly** at construction (``step``
    = 0, ``sum`` = initial_accumulator_value), so ``state_dict()`` has an entry for every
    parameter before the first step, as in PyTorch.

    Args:
        lr_decay: the learning rate's decay per step.
        initial_accumulator_value: the start value of S.
    """

    # the state in PyTorch's creation order, which the state_dict keeps
    _state_spec = (("sum", np.zeros_like), ("step", _step_array))
    _rule = staticmethod(adagrad)

    __init__ = constructor(
        {
            "lr": 1e-2,
            "lr_decay": 0,
            "weight_decay": 0,
            "initial_accumulator_value": 0,
            "eps": 1e-10,
        },
        "foreach * maximize differentiable fused",
        checked="lr lr_decay weight_decay initial_accumulator_value eps",
        order=(
            "lr lr_decay eps weight_decay initial_accumulator_value foreach maximize "
            "differentiable fused"
        ),
    )

    def add_param_group(self, param_group: dict) -> None:
        """Add a group; its state is created at once (as at construction, where the
        base class adds the first groups through this)."""
        super().add_param_group(param_group)
        params, value = param_group["params"], param_group["initial_accumulator_value"]
        self._state_arrays(params, "step", _step_array)
        self._state_arrays(params, "sum", lambda a: np.full_like(a, value))

    def _sparse_rule(self, group: dict, params: list, arrays: list, grads: list) -> None:
        # PyTorch's sparse branch
        sums = self._state_arrays(params, "sum")
        steps = self._state_arrays(params, "step", _step_array)
        for a, g, state_sum, step in zip(arrays, grads, sums, steps):
            sparse_adagrad(a, g, state_sum, step, group)
