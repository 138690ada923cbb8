"""Adam and AdamW (PyTorch's ``torch.optim.Adam`` and ``torch.optim.AdamW``)."""

from __future__ import annotations

from gradfit.optim._functional import adam
from gradfit.optim.optimizer import Optimizer, _hyperparameters, _step_array, rule_hyperparameters


class Adam(Optimizer):
    """Adaptive moment estimation, as PyTorch does it (``torch/optim/adam.py``).

    Update rule (g = grad, t = step count from 1, α = lr, λ = weight_decay)::

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
        params: parameters or parameter groups.
        lr: α (default 1e-3).
        betas: (β1, β2) (default (0.9, 0.999)).
        eps: ε (default 1e-8).
        weight_decay: λ (default 0): an L2 term added to the gradient, or, with
            ``decoupled_weight_decay=True`` (AdamW), a decay of the weights.
        amsgrad: use the running maximum of v.
        maximize: ascend instead of descend.
        foreach, capturable, differentiable, fused: accepted for compatibility with
            PyTorch scripts and stored in the groups; gradfit has one implementation.
        decoupled_weight_decay: AdamW's decay.
    """

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
        decoupled_weight_decay: bool = False,
    ) -> None:
        defaults = _hyperparameters(
            locals(),
            "lr",
            "eps",
            "betas",
            "weight_decay",
            order=(
                "lr betas eps weight_decay amsgrad maximize foreach "
                "capturable differentiable fused decoupled_weight_decay"
            ),
        )
        super().__init__(params, defaults)

    def _sparse_update(self, group: dict, params: list, arrays: list, grads: list) -> None:
        raise RuntimeError(
            "Adam does not support sparse gradients, please consider SparseAdam instead"
        )

    def _update(self, group: dict, params: list, arrays: list, grads: list) -> None:
        # created in PyTorch's order, which the state_dict keeps
        steps = self._state_arrays(params, "step", _step_array)
        exp_avgs = self._state_arrays(params, "exp_avg")
        exp_avg_sqs = self._state_arrays(params, "exp_avg_sq")
        if group["amsgrad"]:
            max_exp_avg_sqs = self._state_arrays(params, "max_exp_avg_sq")
        else:
            max_exp_avg_sqs = [None] * len(params)
        adam(
            arrays,
            grads,
            exp_avgs,
            exp_avg_sqs,
            max_exp_avg_sqs,
            steps,
            **rule_hyperparameters(adam, group),
        )


class AdamW(Adam):
    """Adam with decoupled weight decay (``torch/optim/adamw.py``; Loshchilov & Hutter).

    Same as ``Adam(..., decoupled_weight_decay=True)``: before the moment updates the
    weights are multiplied by (1 − α·λ), with the scheduled α and without bias correction,
    instead of adding λ·p to the gradient. The default ``weight_decay`` is 1e-2.
    """

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        **compat_flags,
    ) -> None:
        # maximize, foreach, capturable, differentiable, fused: keyword-only, as Adam's
        super().__init__(
            params,
            lr,
            betas,
            eps,
            weight_decay,
            amsgrad,
            decoupled_weight_decay=True,
            **compat_flags,
        )

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
