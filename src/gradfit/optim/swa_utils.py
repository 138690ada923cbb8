"""Stochastic weight averaging, as ``torch.optim.swa_utils``.

``AveragedModel`` keeps a deep copy of a model whose parameters (and, with
``use_buffers=True``, buffers) are running averages of the model's: by default the equal
weight average (SWA) ``avg + (p - avg) / (n + 1)``, or any ``avg_fn`` /
``multi_avg_fn`` (``get_ema_multi_avg_fn(decay)`` gives the exponential moving average
``lerp(avg, p, 1 - decay)``). The first ``update_parameters`` copies the model.
``SWALR`` anneals each group's lr to ``swa_lr`` over ``anneal_epochs`` steps (cosine or
linear), then holds it. ``update_bn`` recomputes BatchNorm running statistics with one
pass over a loader (cumulative averages: ``momentum=None`` during the pass).
The arithmetic follows PyTorch's CPU path (the tensor functions, or ``torch.lerp``'s
formula for the multi-tensor forms), so averages agree with PyTorch's bit for bit.
"""

from __future__ import annotations

import itertools
import math
import warnings
from copy import deepcopy
from typing import Any

import numpy as np

import gradfit
from gradfit import _arrays
from gradfit.nn.modules.module import Module
from gradfit.optim.lr_scheduler import LRScheduler, _format_param

__all__ = [
    "AveragedModel",
    "update_bn",
    "SWALR",
    "get_ema_multi_avg_fn",
    "get_swa_multi_avg_fn",
    "get_ema_avg_fn",
    "get_swa_avg_fn",
]


def _lerp_(ends_from, ends_to, weight: float) -> None:
    """``torch._foreach_lerp_`` with a scalar weight: ``a + w (b - a)`` for ``|w| < 0.5``,
    else ``b - (b - a)(1 - w)``, each a fused multiply-add in the tensors' dtype as
    PyTorch's CPU kernel computes it (the float32 product is exact in float64, so one
    float64 sum rounded to float32 is the fused result)."""
    for a_t, b_t in zip(ends_from, ends_to, strict=True):
        a = _arrays.unwrap(a_t)
        b = _arrays.unwrap(b_t).astype(a.dtype, copy=False)
        w = a.dtype.type(weight)
        diff = b - a
        wide = np.float64 if a.dtype == np.float32 else a.dtype
        if abs(weight) < 0.5:
            new = a.astype(wide) + wide(w) * diff.astype(wide)
        else:
            new = b.astype(wide) - diff.astype(wide) * wide(a.dtype.type(1) - w)
        with _arrays.modified(a_t):
            a[...] = new


def _inexact(t) -> bool:
    """Floating point or complex (PyTorch's test for using lerp)."""
    return _arrays.unwrap(t).dtype.kind in "fc"


def get_ema_multi_avg_fn(decay=0.999):
    """The exponential moving average for ``multi_avg_fn``: ``avg <- lerp(avg, p, 1 - decay)``."""
    if decay < 0.0 or decay > 1.0:
        raise ValueError(
            f"Invalid decay value {decay} provided. Please provide a value in [0,1] range."
        )

    @gradfit.no_grad()
    def ema_update(ema_param_list, current_param_list, _) -> None:
        if _inexact(ema_param_list[0]):
            _lerp_(ema_param_list, current_param_list, 1 - decay)
        else:
            for p_ema, p_model in zip(ema_param_list, current_param_list, strict=True):
                p_ema.copy_(p_ema * decay + p_model * (1 - decay))

    return ema_update


def get_swa_multi_avg_fn():
    """The equal-weight average for ``multi_avg_fn``: ``avg <- lerp(avg, p, 1 / (n + 1))``."""

    @gradfit.no_grad()
    def swa_update(averaged_param_list, current_param_list, num_averaged) -> None:
        if _inexact(averaged_param_list[0]):
            _lerp_(averaged_param_list, current_param_list, float(1 / (num_averaged + 1)))
        else:
            if isinstance(num_averaged, gradfit.Tensor):
                # PyTorch's _foreach_addcdiv_ refuses integer tensors
                raise RuntimeError(
                    "Integer division with addcdiv is no longer supported, and in a future  "
                    "release addcdiv will perform a true division of tensor1 and tensor2. The "
                    "historic addcdiv behavior can be implemented as (input + value * "
                    "torch.trunc(tensor1 / tensor2)).to(input.dtype) for integer inputs and as "
                    "(input + value * tensor1 / tensor2) for float inputs. The future addcdiv "
                    "behavior is just the latter implementation: (input + value * tensor1 / "
                    "tensor2), for all dtypes."
                )
            for p_avg, p_model in zip(averaged_param_list, current_param_list, strict=True):
                p_avg.add_(p_model - p_avg, alpha=1.0 / (num_averaged + 1))

    return swa_update


def get_ema_avg_fn(decay=0.999):
    """The exponential moving average for ``avg_fn``: ``decay * avg + (1 - decay) * p``."""
    if decay < 0.0 or decay > 1.0:
        raise ValueError(
            f"Invalid decay value {decay} provided. Please provide a value in [0,1] range."
        )

    @gradfit.no_grad()
    def ema_update(ema_param, current_param, num_averaged):
        return decay * ema_param + (1 - decay) * current_param

    return ema_update


def get_swa_avg_fn():
    """The equal-weight average for ``avg_fn``: ``avg + (p - avg) / (n + 1)``."""

    @gradfit.no_grad()
    def swa_update(averaged_param, current_param, num_averaged):
        return averaged_param + (current_param - averaged_param) / (num_averaged + 1)

    return swa_update


class AveragedModel(Module):
    """A copy of ``model`` holding averaged parameters (PyTorch's class).

    Args:
        model: the model to average (deep-copied).
        device: where to keep the copy (the CPU only).
        avg_fn: ``avg_fn(averaged, current, n_averaged) -> new averaged``, per tensor.
        multi_avg_fn: ``multi_avg_fn(averaged_list, current_list, n_averaged)``, in place.
        use_buffers: average the buffers too (else copy them from ``model``).

    Attributes:
        module: the averaged copy; calling the AveragedModel calls it.
        n_averaged: a long buffer counting ``update_parameters`` calls.
    """

    def __init__(self, model, device=None, avg_fn=None, multi_avg_fn=None, use_buffers=False):
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", gradfit.tensor(0, dtype=gradfit.long, device=device))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def update_parameters(self, model) -> None:
        """Fold ``model``'s current parameters into the averages."""
        self_param = (
            itertools.chain(self.module.parameters(), self.module.buffers())
            if self.use_buffers
            else self.parameters()
        )
        model_param = (
            itertools.chain(model.parameters(), model.buffers())
            if self.use_buffers
            else model.parameters()
        )
        self_param_detached = []
        model_param_detached = []
        copy_param = bool(self.n_averaged == 0)
        for p_averaged, p_model in zip(self_param, model_param, strict=False):
            p_model_ = p_model.detach()
            self_param_detached.append(p_averaged.detach())
            model_param_detached.append(p_model_)
            if copy_param:
                p_averaged.detach().copy_(p_model_)
        if self.n_averaged > 0:
            if self.multi_avg_fn is not None or self.avg_fn is None:
                # PyTorch groups by (device, dtype); on the CPU it has no multi-tensor SWA
                # kernel and runs get_swa_avg_fn per tensor.
                groups: dict = {}
                for a, m in zip(self_param_detached, model_param_detached, strict=True):
                    g = groups.setdefault(a.dtype, ([], []))
                    g[0].append(a)
                    g[1].append(m)
                for self_params, model_params in groups.values():
                    if self.multi_avg_fn:
                        self.multi_avg_fn(self_params, model_params, self.n_averaged)
                    else:
                        avg_fn = get_swa_avg_fn()
                        for p_averaged, p_model in zip(self_params, model_params, strict=True):
                            p_averaged.copy_(avg_fn(p_averaged, p_model, self.n_averaged))
            else:
                for p_averaged, p_model in zip(
                    self_param_detached, model_param_detached, strict=True
                ):
                    p_averaged.detach().copy_(
                        self.avg_fn(p_averaged.detach(), p_model, self.n_averaged)
                    )
        if not self.use_buffers:
            for b_swa, b_model in zip(self.module.buffers(), model.buffers(), strict=True):
                b_swa.detach().copy_(b_model.detach())
        self.n_averaged += 1


@gradfit.no_grad()
def update_bn(loader, model, device=None) -> None:
    """Recompute the running mean and variance of every BatchNorm in ``model`` from one
    pass over ``loader`` (the first element of list/tuple batches is the input)."""
    from gradfit.nn.modules.batchnorm import _BatchNorm

    momenta = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    for input in loader:  # noqa: A001 - PyTorch's name
        if isinstance(input, (list, tuple)):
            input = input[0]  # noqa: A001
        if device is not None:
            input = input.to(device)  # noqa: A001
        model(input)
    for bn_module in momenta:
        bn_module.momentum = momenta[bn_module]
    model.train(was_training)


class SWALR(LRScheduler):
    """Anneal each group's lr to ``swa_lr`` over ``anneal_epochs`` steps, then hold it.

    At step ``s`` (``t = clamp(s / max(1, anneal_epochs), 0, 1)``, ``alpha = t`` for
    ``'linear'`` or ``(1 - cos(pi t)) / 2`` for ``'cos'``) the lr is
    ``swa_lr * alpha + lr0 * (1 - alpha)``, where ``lr0`` is recovered from the current lr
    and the previous step's alpha, PyTorch's chainable form.
    """

    def __init__(
        self, optimizer, swa_lr, anneal_epochs=10, anneal_strategy="cos", last_epoch=-1
    ) -> None:
        swa_lrs = _format_param("swa_lr", optimizer, swa_lr)
        for swa_lr_, group in zip(swa_lrs, optimizer.param_groups, strict=True):
            group["swa_lr"] = swa_lr_
        if anneal_strategy not in ["cos", "linear"]:
            raise ValueError(
                f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}"
            )
        self._set_anneal_func(anneal_strategy)
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got {anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t):
        return t

    @staticmethod
    def _cosine_anneal(t):
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr, swa_lr, alpha):
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    def get_lr(self):
        if not self._get_lr_called_within_step:
            warnings.warn(
                "To get the last learning rate computed by the scheduler, please use "
                "`get_last_lr()`.",
                UserWarning,
                stacklevel=2,
            )
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        prev_t = max(0, min(1, (step - 1) / max(1, self.anneal_epochs)))
        prev_alpha = self.anneal_func(prev_t)
        prev_lrs = [
            self._get_initial_lr(group["lr"], group["swa_lr"], prev_alpha)
            for group in self.optimizer.param_groups
        ]
        t = max(0, min(1, step / max(1, self.anneal_epochs)))
        alpha = self.anneal_func(t)
        return [
            group["swa_lr"] * alpha + lr * (1 - alpha)
            for group, lr in zip(self.optimizer.param_groups, prev_lrs, strict=True)
        ]

    def _set_anneal_func(self, anneal_strategy) -> None:
        self._anneal_strategy = anneal_strategy
        if anneal_strategy == "cos":
            self.anneal_func = self._cosine_anneal
        else:
            self.anneal_func = self._linear_anneal

    def state_dict(self) -> dict[str, Any]:
        return {
            key: value
            for key, value in self.__dict__.items()
            if key not in ("optimizer", "anneal_func")
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.__dict__.update(state_dict)
        self._set_anneal_func(self._anneal_strategy)
