"""Adagrad (PyTorch's ``torch.optim.Adagrad``)."""

from __future__ import annotations

import numpy as np

from gradfit.optim._functional import adagrad
from gradfit.optim._sparse_functional import has_sparse, sparse_adagrad
from gradfit.optim.optimizer import Optimizer, _hyperparameters, _step_array


class Adagrad(Optimizer):
    """Adagrad (Duchi et al. 2011), as PyTorch does it (``torch/optim/adagrad.py``).

    Update rule (g = grad, t = step count from 1, λ = weight_decay)::

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
        params: parameters or parameter groups.
        lr: learning rate (default 1e-2).
        lr_decay: learning-rate decay per step (default 0).
        weight_decay: λ (default 0).
        initial_accumulator_value: start value of S (default 0).
        eps: ε (default 1e-10).
        foreach, differentiable, fused: accepted for compatibility, stored in groups.
        maximize: ascend instead of descend.
    """

    # the state in PyTorch's creation order, which the state_dict keeps
    _state_spec = (("sum", np.zeros_like), ("step", _step_array))
    _rule = staticmethod(adagrad)

    def __init__(
        self,
        params,
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        defaults = _hyperparameters(
            locals(),
            "lr",
            "lr_decay",
            "weight_decay",
            "initial_accumulator_value",
            "eps",
            order=(
                "lr lr_decay eps weight_decay initial_accumulator_value "
                "foreach maximize differentiable fused"
            ),
        )
        super().__init__(params, defaults)
        for group in self.param_groups:
            self._init_state(group)

    def _init_state(self, group: dict) -> None:
        value = group["initial_accumulator_value"]
        self._state_arrays(group["params"], "step", _step_array)
        self._state_arrays(group["params"], "sum", lambda a: np.full_like(a, value))

    def add_param_group(self, param_group: dict) -> None:
        """Add a group; its state is created at once, as at construction."""
        super().add_param_group(param_group)
        if hasattr(self, "state") and len(self.param_groups) > 0:
            self._init_state(self.param_groups[-1])

    def _sparse_update(self, group: dict, params: list, arrays: list, grads: list) -> None:
        # PyTorch's sparse branch for sparse gradients, the usual rule for the others.
        dense = [i for i, g in enumerate(grads) if not has_sparse([g])]
        if dense:
            self._update(
                group, [params[i] for i in dense], [arrays[i] for i in dense],
                [grads[i] for i in dense],
            )  # fmt: skip
        sparse = [i for i in range(len(grads)) if i not in dense]
        ps = [params[i] for i in sparse]
        sums = self._state_arrays(ps, "sum")
        steps = self._state_arrays(ps, "step", _step_array)
        for j, i in enumerate(sparse):
            sparse_adagrad(
                arrays[i], grads[i], sums[j], steps[j],
                lr=float(group["lr"]), lr_decay=float(group["lr_decay"]),
                weight_decay=float(group["weight_decay"]), eps=float(group["eps"]),
                maximize=group["maximize"],
            )  # fmt: skip
