"""RMSprop (PyTorch's ``torch.optim.RMSprop``)."""

from __future__ import annotations

import numpy as np

from gradfit.optim import _functional as F
from gradfit.optim.optimizer import Optimizer, _check_nonnegative, _step_tensor
from gradfit.tensor import Tensor


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
        _check_nonnegative("lr", lr, "learning rate")
        _check_nonnegative("eps", eps, "epsilon value")
        _check_nonnegative("momentum", momentum, "momentum value")
        _check_nonnegative("weight_decay", weight_decay, "weight_decay value")
        _check_nonnegative("alpha", alpha, "alpha value")
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "alpha": alpha,
            "eps": eps,
            "centered": centered,
            "weight_decay": weight_decay,
            "capturable": capturable,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Perform one step; ``closure`` (optional) re-evaluates the loss and is returned."""
        loss = self._eval_closure(closure)
        state = self.state
        rmsprop = F.rmsprop
        for group in self.param_groups:
            lr = float(group["lr"])
            alpha = float(group["alpha"])
            eps = float(group["eps"])
            weight_decay = float(group["weight_decay"])
            momentum = float(group["momentum"])
            centered = group["centered"]
            maximize = group["maximize"]
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                st = state[p]
                if len(st) == 0:
                    st["step"] = _step_tensor()
                    st["square_avg"] = Tensor._make(np.zeros_like(p._array), None)
                    if momentum > 0:
                        st["momentum_buffer"] = Tensor._make(np.zeros_like(p._array), None)
                    if centered:
                        st["grad_avg"] = Tensor._make(np.zeros_like(p._array), None)
                st["step"]._array += 1
                rmsprop(
                    p._array,
                    grad._array,
                    st["square_avg"]._array,
                    st["grad_avg"]._array if centered else None,
                    st["momentum_buffer"]._array if momentum > 0 else None,
                    lr=lr,
                    alpha=alpha,
                    eps=eps,
                    weight_decay=weight_decay,
                    momentum=momentum,
                    centered=centered,
                    maximize=maximize,
                )
                p._version += 1
        return loss
