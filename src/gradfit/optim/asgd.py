"""Averaged SGD (PyTorch's ``torch.optim.ASGD``)."""

from __future__ import annotations

from gradfit.optim._functional import asgd
from gradfit.optim.optimizer import (
    Optimizer,
    _numbers_to_scalar_state,
    _one,
    _step_array,
    constructor,
)


class ASGD(Optimizer):
    """Averaged stochastic gradient descent (Polyak & Juditsky 1992), as PyTorch does it
    (``torch/optim/asgd.py``).

    Update rule (g = grad, t = step count from 1, λ = weight_decay)::

        g = ±grad + λ·p
        p = p·(1 − lambd·η) − η·g
        ā = p if μ = 1, else ā + μ·(p − ā)
        η = lr / (1 + lambd·lr·t)^alpha,   μ = 1 / max(1, t − t0)   (for the next step)

    The parameters follow plain SGD with a slowly decaying step η (and a decay of the
    weights by lambd·η); ``state['ax']`` (ā) is the running average of the iterates from
    step t0 on, the estimate Polyak averaging is about: copy it into the model to use it.
    A parameter whose ``.grad`` is None is skipped entirely.

    State per parameter: ``step``, ``eta`` (η), ``mu`` (μ) (0-d float Tensors, float32 or
    the default dtype when that is float64) and ``ax`` (ā).

    Args:
        lambd: the decay term.
        alpha: the power in η's update.
        t0: the step from which the averaging starts.
    """

    __init__ = constructor(
        {"lr": 1e-2, "lambd": 1e-4, "alpha": 0.75, "t0": 1e6, "weight_decay": 0},
        "foreach maximize differentiable capturable",
        checked="lr weight_decay",
    )

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        _numbers_to_scalar_state(self.state, "eta", "mu")

    def _update(self, group: dict, params: list, arrays: list, grads: list) -> None:
        lr = float(group["lr"])
        # created in PyTorch's order, which the state_dict keeps
        steps = self._state_arrays(params, "step", _step_array)
        etas = self._state_arrays(params, "eta", lambda a: _step_array(value=lr))
        mus = self._state_arrays(params, "mu", _one)
        axs = self._state_arrays(params, "ax")
        asgd(arrays, grads, (steps, etas, mus, axs), group, scalar_dtype=_step_array().dtype)
