"""RMSprop (PyTorch's ``torch.optim.RMSprop``)."""

from __future__ import annotations

from gradfit.optim._functional import rmsprop
from gradfit.optim.optimizer import Optimizer, _hyperparameters, _step_array, rule_hyperparameters


class RMSprop(Optimizer):
    """RMSprop (Hinton's lecture 6e), as PyTorch does it (``torch/optim/rmsprop.py``).

    Update rule (g = grad, α = smoothing constant ``alpha``, μ = momentum, λ = weight_decay)::

        g = ±grad + λ·p
        s = α·s + (1 − α)·g²
        centered: ḡ = α·ḡ + (1 − α)·g;  a = √(s − ḡ²) + ε      else: a = √s + ε
        μ > 0: b = μ·b + g/a;  p = p − lr·b                    else: p = p − lr·g/a

    Buffers start at 0 and there is no bias correction (unlike the lecture's Adam,
    eqs. 6.15–6.17, whose second moment this is, with α in the role of γ).
    A parameter whose ``.grad`` is None is skipped entirely.

    State per parameter: ``step``, ``square_avg``, ``momentum_buffer`` (μ > 0) and
    ``grad_avg`` (centered).

    Args:
        params: parameters or parameter groups.
        lr: learning rate (default 1e-2).
        alpha: smoothing constant α (default 0.99).
        eps: ε (default 1e-8).
        weight_decay: λ (default 0).
        momentum: μ (default 0).
        centered: normalise by the estimated variance instead of the second moment.
        capturable, foreach, differentiable: accepted for compatibility, stored in groups.
        maximize: ascend instead of descend.
    """

    def __init__(
        self,
        params,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        defaults = _hyperparameters(
            locals(),
            "lr",
            "eps",
            "momentum",
            "weight_decay",
            "alpha",
            order=(
                "lr momentum alpha eps centered weight_decay capturable "
                "foreach maximize differentiable"
            ),
        )
        super().__init__(params, defaults)

    def _update(self, group: dict, params: list, arrays: list, grads: list) -> None:
        nothing = [None] * len(params)
        # created in PyTorch's order, which the state_dict keeps
        steps = self._state_arrays(params, "step", _step_array)
        square_avgs = self._state_arrays(params, "square_avg")
        buffers = (
            self._state_arrays(params, "momentum_buffer") if group["momentum"] > 0 else nothing
        )
        grad_avgs = self._state_arrays(params, "grad_avg") if group["centered"] else nothing
        rmsprop(
            arrays,
            grads,
            square_avgs,
            grad_avgs,
            buffers,
            steps,
            **rule_hyperparameters(rmsprop, group),
        )
