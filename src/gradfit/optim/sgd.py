"""Stochastic gradient descent with momentum (PyTorch's ``torch.optim.SGD``)."""

from __future__ import annotations

from gradfit._arrays import unwrap, wrap
from gradfit.optim._functional import sgd
from gradfit.optim._sparse_functional import sparse_sgd
from gradfit.optim.optimizer import Optimizer, constructor


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum, as PyTorch does it.

    Update rule (``torch/optim/sgd.py``; g = grad, λ = weight_decay, μ = momentum,
    τ = dampening, α = lr)::

        g = ±grad + λ·p                  (minus when maximize)
        b = g on the first step, afterwards b = μ·b + (1 − τ)·g
        g = g + μ·b if nesterov else b
        p = p − α·g

    Without momentum this is the lecture's gradient step φ ← φ − α·∂L/∂φ (eq. 6.3; with
    a batch, SGD eq. 6.9). The lecture's momentum (eq. 6.11, ``m ← β·m + (1 − β)·g``,
    ``gradfit.optim.lecture.Momentum``) is this rule with τ = μ = β and a buffer that
    starts at 0 instead of at the first gradient (equivalently, ``SGD(lr=α(1 − β),
    momentum=β)`` with a zero-initialised buffer): PyTorch's undamped buffer makes steps
    1/(1 − β) times larger at steady state. PyTorch's Nesterov variant is the "look-ahead"
    form (eq. 6.12, ``lecture.Nesterov``) rewritten so that the gradient is taken at the
    current parameters. A parameter whose ``.grad`` is None is skipped entirely. The
    maths is ``gradfit.optim._functional.sgd``.

    State per parameter: ``momentum_buffer`` (only when momentum ≠ 0).

    Args:
        weight_decay: λ, an L2 penalty added to the gradient.
        nesterov: Nesterov momentum (needs momentum > 0 and dampening 0).
    """

    __init__ = constructor(
        {"lr": 1e-3, "momentum": 0, "dampening": 0, "weight_decay": 0, "nesterov": False},
        "* maximize foreach differentiable fused",
        checked="lr momentum weight_decay nesterov",
    )

    def _update(self, group: dict, params: list, arrays: list, grads: list) -> None:
        # a missing buffer (None) is made by sgd on the parameter's first step, then kept
        momentum = group["momentum"]
        buffers = self._state_arrays(params, "momentum_buffer", make=None) if momentum else []
        for i in sgd(arrays, grads, (buffers,), group):
            self.state[params[i]]["momentum_buffer"] = wrap(buffers[i])

    def _sparse_rule(self, group: dict, params: list, arrays: list, grads: list) -> None:
        # PyTorch's sparse branch: a sparse momentum buffer
        momentum = group["momentum"]
        for p, a, g in zip(params, arrays, grads):
            buf = self.state[p].get("momentum_buffer") if momentum else None
            buf = sparse_sgd(a, g, None if buf is None else unwrap(buf), group)
            if momentum and "momentum_buffer" not in self.state[p]:
                self.state[p]["momentum_buffer"] = wrap(buf)
