"""Stochastic gradient descent with momentum (PyTorch's ``torch.optim.SGD``)."""

from __future__ import annotations

import numpy as np

from gradfit.optim import _functional as F
from gradfit.optim.optimizer import Optimizer, _check_nonnegative
from gradfit.tensor import Tensor


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum, as PyTorch does it.

    Update rule (``torch/optim/sgd.py``; g = grad, λ = weight_decay, μ = momentum,
    τ = dampening, α = lr)::

        g = ±grad + λ·p                  (minus when maximize)
        b = g on the first step, afterwards b = μ·b + (1 − τ)·g
        g = g + μ·b if nesterov else b
        p = p − α·g

    Without momentum this is the lecture's gradient step φ ← φ − α·∂L/∂φ (eq. 6.3; with
    a batch, SGD eq. 6.9). With momentum it differs from the lecture's eq. 6.11
    (``m ← β·m + (1 − β)·g``, m starting at 0, see ``gradfit.optim.lecture.Momentum``):
    PyTorch's buffer starts at the first gradient and is undamped by default. PyTorch's
    Nesterov variant is the "look-ahead" form rewritten so that the gradient is taken at the
    current parameters. A parameter whose ``.grad`` is None is skipped entirely.

    State per parameter: ``momentum_buffer`` (only when momentum ≠ 0).

    Args:
        params: parameters or parameter groups.
        lr: learning rate α (default 1e-3).
        momentum: μ (default 0).
        dampening: τ (default 0).
        weight_decay: λ, L2 penalty added to the gradient (default 0).
        nesterov: Nesterov momentum (needs momentum > 0 and dampening 0).
        maximize: ascend instead of descend.
        foreach, differentiable, fused: accepted for compatibility with PyTorch scripts and
            stored in the groups; gradfit has a single implementation.
    """

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        _check_nonnegative("lr", lr, "learning rate")
        _check_nonnegative("momentum", momentum, "momentum value")
        _check_nonnegative("weight_decay", weight_decay, "weight_decay value")
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
            "foreach": foreach,
            "differentiable": differentiable,
            "fused": fused,
        }
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(
                "Nesterov momentum requires a momentum and zero dampening, got "
                f"momentum={momentum}, dampening={dampening}"
            )
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Perform one step; ``closure`` (optional) re-evaluates the loss and is returned."""
        loss = self._eval_closure(closure)
        state = self.state
        sgd = F.sgd
        for group in self.param_groups:
            lr = float(group["lr"])
            momentum = float(group["momentum"])
            dampening = float(group["dampening"])
            weight_decay = float(group["weight_decay"])
            nesterov = group["nesterov"]
            maximize = group["maximize"]
            # The common case (momentum; no dampening, weight decay, Nesterov or maximize),
            # once a parameter has its buffer, takes F.sgd_momentum_ with lr and momentum as
            # 0-d arrays of the parameter's dtype, made once per group and step: the same
            # update, but NumPy no longer converts a Python float on each of the calls.
            plain = (
                momentum != 0
                and dampening == 0
                and weight_decay == 0
                and not nesterov
                and not maximize
            )
            scalars: dict = {}
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                if momentum != 0:
                    st = state[p]
                    buf = st.get("momentum_buffer")
                    dt = p._array.dtype
                    if plain and buf is not None and buf._array.dtype is dt:
                        sc = scalars.get(dt)
                        if sc is None:
                            sc = scalars[dt] = (np.asarray(lr, dt), np.asarray(momentum, dt))
                        F.sgd_momentum_(p._array, grad._array, buf._array, sc[0], sc[1])
                        p._version += 1
                        continue
                    new = sgd(
                        p._array,
                        grad._array,
                        None if buf is None else buf._array,
                        lr=lr,
                        momentum=momentum,
                        dampening=dampening,
                        weight_decay=weight_decay,
                        nesterov=nesterov,
                        maximize=maximize,
                    )
                    if buf is None:
                        st["momentum_buffer"] = Tensor._make(new, None)
                else:
                    sgd(
                        p._array,
                        grad._array,
                        None,
                        lr=lr,
                        momentum=0,
                        dampening=dampening,
                        weight_decay=weight_decay,
                        nesterov=nesterov,
                        maximize=maximize,
                    )
                p._version += 1
        return loss
