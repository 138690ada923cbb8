"""Learning-rate schedules (PyTorch's ``torch.optim.lr_scheduler``).

The lecture (slides "SGD with learning rate schedule") decreases α by a constant factor
every N epochs: that is ``StepLR``. The others are PyTorch's standard schedules.

Each schedule has one formula, ``_lr(lr, base_lr, i)``: the learning rate of group ``i``
at ``last_epoch``, given the group's current ``lr`` and its ``base_lr``. Where PyTorch has
it, the formula is PyTorch's **chainable** recurrence and moves the *current* lr (StepLR,
MultiStepLR, ConstantLR, LinearLR, ExponentialLR, PolynomialLR, CosineAnnealingLR,
MultiplicativeLR): so two of them on one optimizer compose (their factors multiply, as in
``ChainedScheduler``), and the values agree with PyTorch's bit for bit (the recursive
cosine differs from its closed form by about 1e-17). ``LambdaLR``, ``OneCycleLR`` and
``CyclicLR`` compute the lr from the base lr or their own bounds and override whatever
ran before them, as in PyTorch.

PyTorch's deprecated ``step(epoch)`` (jump to an epoch through a second, closed-form
formula) is not offered, except by ``CosineAnnealingWarmRestarts``, whose ``step(epoch)``
(a float epoch: ``step(epoch + i / iters)`` once per batch) is PyTorch's documented usage,
not a deprecated one. The one place PyTorch still jumps is ``SequentialLR`` at a
milestone, which restarts the next schedule at epoch 0: the schedules PyTorch gives a
closed form evaluate their formula from the base lrs there (``_restart_lrs``; cosine
annealing writes PyTorch's closed form at 0, η_min + (base − η_min), which can differ from
base by a rounding), the others continue from the current lrs.

Protocol: the constructor records ``initial_lr`` in each group, sets ``base_lrs`` and
performs one step (``last_epoch`` goes from -1 to 0; e.g. ``LinearLR`` applies its start
factor). Then call ``optimizer.step()`` before ``scheduler.step()``; the reverse order
gives PyTorch's UserWarning (the optimizer's ``step`` is wrapped to detect it).
"""

from __future__ import annotations

import math
import types
import warnings
from bisect import bisect_right
from collections import Counter
from functools import partial, wraps
from weakref import ref

from gradfit.optim.optimizer import Optimizer
from gradfit.tensor import Tensor

__all__ = [
    "LRScheduler",
    "LambdaLR",
    "MultiplicativeLR",
    "StepLR",
    "MultiStepLR",
    "ConstantLR",
    "LinearLR",
    "ExponentialLR",
    "SequentialLR",
    "PolynomialLR",
    "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts",
    "ChainedScheduler",
    "ReduceLROnPlateau",
    "CyclicLR",
    "OneCycleLR",
]


def _format_param(name: str, optimizer: Optimizer, param) -> list:
    """One value per param group, from a scalar or a list of the right length."""
    if isinstance(param, (list, tuple)):
        if len(param) != len(optimizer.param_groups):
            raise ValueError(
                f"{name} must have the same length as optimizer.param_groups. {name} has "
                f"{len(param)} values, param_groups has {len(optimizer.param_groups)}."
            )
        return list(param)
    return [param] * len(optimizer.param_groups)


def _same(value):
    """``value`` unchanged, copied if it is a Tensor (so a group's lr is never aliased)."""
    return value.clone() if isinstance(value, Tensor) else value


def _param_groups_val_list(optimizer: Optimizer, key: str) -> list:
    """``[group[key] for group in param_groups]``, copying Tensor values (no aliasing)."""
    return [_same(g[key]) for g in optimizer.param_groups]


def _update_param_group_val(group: dict, key: str, val) -> None:
    if isinstance(group[key], Tensor):
        group[key].fill_(float(val))
    else:
        group[key] = val


class LRScheduler:
    """Base class of the schedules (PyTorch's ``LRScheduler``).

    Subclasses give their formula as ``_lr(lr, base_lr, i)`` (see the module docstring);
    a subclass written for PyTorch, which overrides ``get_lr()`` instead, works too.

    Attributes:
        optimizer: the optimizer whose ``param_groups[i]["lr"]`` are written.
        base_lrs: the groups' ``initial_lr``.
        last_epoch: number of ``step()`` calls since construction (0 after construction).
    """

    _get_lr_called_within_step: bool = False
    _is_initial: bool = False

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", _same(group["lr"]))
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"param 'initial_lr' is not specified in param_groups[{i}] when "
                        f"resuming scheduler with last_epoch={last_epoch} >= 0: load the "
                        "optimizer's state_dict first"
                    )
        self.base_lrs = _param_groups_val_list(optimizer, "initial_lr")
        self.last_epoch = last_epoch
        _patch_track_step_called(optimizer)
        self._initial_step()

    def _initial_step(self) -> None:
        """Reset the step count and perform the constructor's step (epoch −1 → 0)."""
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def state_dict(self) -> dict:
        """Every attribute except the optimizer (PyTorch's layout)."""
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict) -> None:
        self.__dict__.update(state_dict)

    def get_last_lr(self) -> list:
        """The learning rates of the last ``step()``, one float per param group."""
        return self._last_lr

    def get_lr(self) -> list:
        """The learning rate of each group at ``last_epoch`` (called by ``step``)."""
        _warn_get_lr_called_within_step(self)
        return [
            self._lr(group["lr"], base_lr, i)
            for i, (group, base_lr) in enumerate(zip(self.optimizer.param_groups, self.base_lrs))
        ]

    def _lr(self, lr, base_lr, i: int):
        """The schedule's formula: group ``i``'s lr at ``last_epoch``."""
        raise NotImplementedError

    def _restart_lrs(self) -> list:
        """The lrs when ``SequentialLR`` restarts this schedule at epoch 0 (a schedule
        without a closed form in PyTorch continues from the current lrs)."""
        return self.get_lr()

    def step(self) -> None:
        """Advance the schedule by one and write the new lrs into the optimizer."""
        if self._step_count == 1:
            if not hasattr(self.optimizer.step, "_wrapped_by_lr_sched"):
                warnings.warn(
                    "Seems like `optimizer.step()` has been overridden after learning rate "
                    "scheduler initialization. Please, make sure to call `optimizer.step()` "
                    "before `lr_scheduler.step()`.",
                    UserWarning,
                    stacklevel=2,
                )
            elif not getattr(self.optimizer, "_opt_called", False):
                warnings.warn(
                    "Detected call of `lr_scheduler.step()` before `optimizer.step()`. "
                    "In PyTorch 1.1.0 and later, you should call them in the opposite order: "
                    "`optimizer.step()` before `lr_scheduler.step()`.  Failure to do this "
                    "will result in PyTorch skipping the first value of the learning rate "
                    "schedule.",
                    UserWarning,
                    stacklevel=2,
                )
        self._step_count += 1
        self._update_lr()

    def _update_lr(self, restart: bool = False) -> None:
        """Advance ``last_epoch`` (or, ``restart``, set it to 0) and write the lrs."""
        if restart:
            self.last_epoch = 0
            self._write_lrs(self._restart_lrs)
        else:
            self.last_epoch += 1
            self._write_lrs(self.get_lr)

    def _write_lrs(self, compute) -> None:
        """Write ``compute()``, called as from within ``step`` (no warning from
        ``get_lr``), into the groups' lr, and keep them for ``get_last_lr``."""
        self._get_lr_called_within_step = True
        try:
            values = compute()
        finally:
            self._get_lr_called_within_step = False
        for group, lr in zip(self.optimizer.param_groups, values):
            _update_param_group_val(group, "lr", lr)
        self._last_lr = _param_groups_val_list(self.optimizer, "lr")

    def _store_and_start(self, arguments: dict) -> None:
        """A schedule's constructor: keep its own arguments (``arguments``, its
        ``locals()`` after its checks) as attributes, in order, as PyTorch's constructors
        assign them, then start the schedule (``LRScheduler.__init__``)."""
        for name, value in arguments.items():
            if name not in ("self", "optimizer", "last_epoch"):
                setattr(self, name, value)
        LRScheduler.__init__(self, arguments["optimizer"], arguments["last_epoch"])


class _RestartsFromBase:
    """For the schedules PyTorch gives a closed form: a ``SequentialLR`` restart evaluates
    the formula at epoch 0 from the base lrs, which is PyTorch's closed form there."""

    def _restart_lrs(self) -> list:
        self._is_initial = True
        try:
            return [self._lr(base_lr, base_lr, i) for i, base_lr in enumerate(self.base_lrs)]
        finally:
            self._is_initial = False


def _patch_track_step_called(opt: Optimizer) -> None:
    """Wrap ``opt.step`` (once) so that it records that it has been called.

    PyTorch does the same to warn when ``scheduler.step()`` comes before the first
    ``optimizer.step()``, which skips the first value of the schedule.
    """
    if hasattr(opt.step, "_wrapped_by_lr_sched"):
        return
    opt_ref = ref(opt)
    func = opt.step.__func__

    @wraps(func)
    def wrapper(*args, **kwargs):
        o = opt_ref()
        o._opt_called = True
        return func.__get__(o, o.__class__)(*args, **kwargs)

    wrapper._wrapped_by_lr_sched = True
    opt.step = wrapper


def _warn_get_lr_called_within_step(sched: LRScheduler) -> None:
    if not sched._get_lr_called_within_step:
        warnings.warn(
            "To get the last learning rate computed by the scheduler, please use `get_last_lr()`.",
            UserWarning,
            stacklevel=3,
        )


class _LambdaMixin:
    """state_dict of LambdaLR/MultiplicativeLR: functions are not saved, callable objects'
    ``__dict__`` are (as in PyTorch)."""

    def state_dict(self) -> dict:
        sd = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "lr_lambdas")}
        sd["lr_lambdas"] = [_saved_callable(fn) for fn in self.lr_lambdas]
        return sd

    def load_state_dict(self, state_dict: dict) -> None:
        lr_lambdas = state_dict.pop("lr_lambdas")
        self.__dict__.update(state_dict)
        state_dict["lr_lambdas"] = lr_lambdas  # leave the caller's dict as it was
        for fn, saved in zip(self.lr_lambdas, lr_lambdas):
            _restore_callable(fn, saved)


def _saved_callable(fn):
    """What a state_dict keeps of a user function: nothing for a plain function or lambda,
    the ``__dict__`` of a callable object (PyTorch's rule)."""
    if fn is None or isinstance(fn, types.FunctionType):
        return None
    return fn.__dict__.copy()


def _restore_callable(fn, saved) -> None:
    if saved is not None:
        fn.__dict__.update(saved)


def _lambdas(optimizer: Optimizer, lr_lambda) -> list:
    if not isinstance(lr_lambda, (list, tuple)):
        return [lr_lambda] * len(optimizer.param_groups)
    if len(lr_lambda) != len(optimizer.param_groups):
        raise ValueError(
            f"Expected {len(optimizer.param_groups)} lr_lambdas, but got {len(lr_lambda)}"
        )
    return list(lr_lambda)


class LambdaLR(_LambdaMixin, LRScheduler):
    """lr = base_lr · f(epoch), one f per group or shared. Not chainable (uses base_lrs)."""

    def __init__(self, optimizer: Optimizer, lr_lambda, last_epoch: int = -1) -> None:
        self.optimizer = optimizer
        self.lr_lambdas = _lambdas(optimizer, lr_lambda)
        super().__init__(optimizer, last_epoch)

    def _lr(self, lr, base_lr, i: int):
        return base_lr * self.lr_lambdas[i](self.last_epoch)


class MultiplicativeLR(_LambdaMixin, LRScheduler):
    """lr ← lr · f(epoch) at every step after construction (chainable)."""

    def __init__(self, optimizer: Optimizer, lr_lambda, last_epoch: int = -1) -> None:
        self.optimizer = optimizer
        self.lr_lambdas = _lambdas(optimizer, lr_lambda)
        for f in self.lr_lambdas:
            if not callable(f):
                raise TypeError(f"lr_lambda should be a function, but got {type(f).__name__}")
        super().__init__(optimizer, last_epoch)

    def _lr(self, lr, base_lr, i: int):
        if self._is_initial:
            return _same(lr)
        return lr * self.lr_lambdas[i](self.last_epoch)


class StepLR(_RestartsFromBase, LRScheduler):
    """lr ← γ·lr every ``step_size`` epochs (the lecture's schedule): base_lr·γ^⌊e/step_size⌋,
    as a chainable step (multiply by γ when e > 0 and e % step_size == 0)."""

    def __init__(
        self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1
    ) -> None:
        self._store_and_start(locals())

    def _lr(self, lr, base_lr, i: int):
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return _same(lr)
        return lr * self.gamma


class MultiStepLR(_RestartsFromBase, LRScheduler):
    """lr ← γ^k·lr at each milestone (k = how often the epoch appears in ``milestones``):
    base_lr·γ^(number of milestones ≤ epoch)."""

    def __init__(
        self, optimizer: Optimizer, milestones, gamma: float = 0.1, last_epoch: int = -1
    ) -> None:
        milestones = Counter(milestones)
        self._store_and_start(locals())

    def _lr(self, lr, base_lr, i: int):
        if self.last_epoch not in self.milestones:
            return _same(lr)
        return lr * self.gamma ** self.milestones[self.last_epoch]


def _check_factor(which: str, factor: float) -> None:
    """PyTorch's check of a factor in [0, 1] (ConstantLR's, LinearLR's end)."""
    if factor > 1.0 or factor < 0:
        raise ValueError(
            f"{which} multiplicative factor expected to be between 0 and 1, got {factor}"
        )


class ConstantLR(_RestartsFromBase, LRScheduler):
    """lr · factor until epoch ``total_iters``, then lr (multiplied back by 1/factor)."""

    def __init__(
        self,
        optimizer: Optimizer,
        factor: float = 1.0 / 3,
        total_iters: int = 5,
        last_epoch: int = -1,
    ) -> None:
        _check_factor("Constant", factor)
        self._store_and_start(locals())

    def _lr(self, lr, base_lr, i: int):
        if self.last_epoch == 0:
            return lr * self.factor
        if self.last_epoch != self.total_iters:
            return _same(lr)
        return lr * (1.0 / self.factor)


class LinearLR(_RestartsFromBase, LRScheduler):
    """Warm-up: the factor goes linearly from ``start_factor`` to ``end_factor`` over
    ``total_iters`` steps.

    Chainable form: lr·start at construction; for 1 ≤ e ≤ total,
    lr ← lr·(1 + (end − start)/(total·start + (e − 1)(end − start))); then unchanged.
    From lr 0.1 with the defaults: .0333, .0467, .06, .0733, .0867, .1.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
        last_epoch: int = -1,
    ) -> None:
        if start_factor > 1.0 or start_factor <= 0:
            raise ValueError(
                "Starting multiplicative factor expected to be greater than 0 and less or "
                f"equal to 1, got {start_factor}"
            )
        _check_factor("Ending", end_factor)
        self._store_and_start(locals())

    def _lr(self, lr, base_lr, i: int):
        if self.last_epoch == 0:
            return lr * self.start_factor
        if self._is_initial or self.last_epoch > self.total_iters:
            return _same(lr)
        slope = self.end_factor - self.start_factor
        return lr * (
            1.0 + slope / (self.total_iters * self.start_factor + (self.last_epoch - 1) * slope)
        )


class ExponentialLR(_RestartsFromBase, LRScheduler):
    """lr ← γ·lr at every step (not at construction): base_lr·γ^epoch."""

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self._store_and_start(locals())

    def _lr(self, lr, base_lr, i: int):
        if self._is_initial:
            return _same(lr)
        return lr * self.gamma


class SequentialLR(LRScheduler):
    """Run ``schedulers[i]`` between ``milestones[i-1]`` and ``milestones[i]``.

    At construction the lrs are reset to ``initial_lr`` and the sub-schedulers' initial
    steps are undone; only the first one's initial step is redone. At a milestone the next
    scheduler restarts at its epoch 0 (``_restart_lrs``, see the module docstring), as in
    PyTorch.
    """

    def __init__(
        self, optimizer: Optimizer, schedulers: list, milestones: list, last_epoch: int = -1
    ) -> None:
        if len(schedulers) < 1:
            raise ValueError("SequentialLR expects at least one scheduler, but got no scheduler.")
        for i, s in enumerate(schedulers):
            if not hasattr(s, "optimizer"):
                raise TypeError(
                    f"SequentialLR at index {i} should have `optimizer` as its attribute."
                )
            if isinstance(s, ReduceLROnPlateau):
                raise ValueError(
                    "SequentialLR does not support `ReduceLROnPlateau` scheduler as it requires "
                    f"additional kwargs to be specified when calling `step`, but got one at index "
                    f"{i} in the given schedulers sequence."
                )
            if optimizer is not s.optimizer:
                raise ValueError(
                    "SequentialLR expects all schedulers to belong to the same optimizer, but "
                    f"got scheduler {type(s).__name__} at index {i} with another optimizer."
                )
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(
                "Sequential Schedulers expects number of schedulers provided to be one more "
                f"than the number of milestone points, but got number of schedulers "
                f"{len(schedulers)} and the number of milestones to be equal to {len(milestones)}"
            )
        self._schedulers = schedulers
        self._milestones = milestones
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        for group in self.optimizer.param_groups:
            _update_param_group_val(group, "lr", group["initial_lr"])
        self.recursive_undo()
        idx = bisect_right(self._milestones, 0)
        self._schedulers[idx]._initial_step()
        self._last_lr = schedulers[idx].get_last_lr()

    def recursive_undo(self, sched=None) -> None:
        """Undo the initial step of every (nested) sub-scheduler."""
        scheds = self if sched is None else sched
        if hasattr(scheds, "_schedulers"):
            for s in scheds._schedulers:
                self.recursive_undo(s)
        elif hasattr(scheds, "last_epoch"):
            scheds.last_epoch -= 1

    def step(self) -> None:
        self.last_epoch += 1
        idx = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[idx]
        if idx > 0 and self._milestones[idx - 1] == self.last_epoch:
            scheduler._update_lr(restart=True)
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()

    def state_dict(self) -> dict:
        sd = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "_schedulers")}
        sd["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return sd

    def load_state_dict(self, state_dict: dict) -> None:
        scheds = state_dict.pop("_schedulers")
        self.__dict__.update(state_dict)
        state_dict["_schedulers"] = scheds
        for s, sd in zip(self._schedulers, scheds):
            s.load_state_dict(sd)


class PolynomialLR(_RestartsFromBase, LRScheduler):
    """lr decays as base_lr·(1 − e/total_iters)^power until ``total_iters``, then stays;
    as a chainable step, lr ← lr·((1 − e/T)/(1 − (e − 1)/T))^power."""

    def __init__(
        self,
        optimizer: Optimizer,
        total_iters: int = 5,
        power: float = 1.0,
        last_epoch: int = -1,
    ) -> None:
        self._store_and_start(locals())

    def _lr(self, lr, base_lr, i: int):
        if self._is_initial or self.last_epoch > self.total_iters:
            return _same(lr)
        decay = (
            (1.0 - self.last_epoch / self.total_iters)
            / (1.0 - (self.last_epoch - 1) / self.total_iters)
        ) ** self.power
        return lr * decay


class CosineAnnealingLR(LRScheduler):
    """Cosine annealing from base_lr to ``eta_min`` over ``T_max`` steps (SGDR without
    restarts): η_min + (base − η_min)(1 + cos(πe/T_max))/2, in PyTorch's chainable form.

    The step multiplies lr − η_min by (1 + cos(πe/T_max))/(1 + cos(π(e − 1)/T_max)), except
    where that ratio is 0/0, (e − 1 − T_max) % (2·T_max) == 0, where it adds
    (base − η_min)(1 − cos(π/T_max))/2. The result follows the closed form to about 1e-17.
    There is no clamp at T_max: the rate rises back to base_lr at 2·T_max.
    """

    def __init__(
        self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1
    ) -> None:
        self._store_and_start(locals())

    def _lr(self, lr, base_lr, i: int):
        if self._is_initial:
            return _same(lr)
        if (self.last_epoch - 1 - self.T_max) % (2 * self.T_max) == 0:
            return lr + (base_lr - self.eta_min) * (1 - math.cos(math.pi / self.T_max)) / 2
        return (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / (
            1 + math.cos(math.pi * (self.last_epoch - 1) / self.T_max)
        ) * (lr - self.eta_min) + self.eta_min

    def _restart_lrs(self) -> list:
        # PyTorch's closed form at epoch 0: (base − η_min)·(1 + cos 0)/2 is exactly base − η_min
        return [self.eta_min + (base_lr - self.eta_min) for base_lr in self.base_lrs]


class CosineAnnealingWarmRestarts(LRScheduler):
    """Cosine annealing with warm restarts (SGDR, Loshchilov & Hutter 2017).

    lr = η_min + (base − η_min)(1 + cos(π·T_cur/T_i))/2, where T_cur counts the epochs
    since the last restart and T_i is the current period: T_0 at first, then T_i·T_mult
    after each restart, when T_cur reaches T_i and the lr jumps back to base_lr.

    ``step()`` advances by one epoch. ``step(epoch)`` sets the (possibly fractional) epoch
    directly and derives T_cur and T_i from it in closed form: PyTorch's documented usage
    is ``scheduler.step(epoch + i / iters)`` after batch ``i`` of ``iters``, for an lr that
    falls within the epoch. As in PyTorch, ``last_epoch`` is ``floor(epoch)``, this
    ``step`` keeps no step count and gives no call-order warning, and the lr is always the
    closed form (it overrides whatever else set the group's lr).
    """

    def __init__(
        self,
        optimizer: Optimizer,
        T_0: int,
        T_mult: int = 1,
        eta_min: float = 0.0,
        last_epoch: int = -1,
    ) -> None:
        if T_0 <= 0 or not isinstance(T_0, int):
            raise ValueError(f"Expected positive integer T_0, but got {T_0}")
        if T_mult < 1 or not isinstance(T_mult, int):
            raise ValueError(f"Expected integer T_mult >= 1, but got {T_mult}")
        if not isinstance(eta_min, (float, int)):
            raise ValueError(
                f"Expected float or int eta_min, but got {eta_min} of type {type(eta_min)}"
            )
        self.T_0 = T_0
        self.T_i = T_0
        self.T_mult = T_mult
        self.eta_min = eta_min
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        _warn_get_lr_called_within_step(self)
        return [
            self.eta_min
            + (base_lr - self.eta_min) * (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
            for base_lr in self.base_lrs
        ]

    def step(self, epoch=None) -> None:
        """Advance one epoch, or go to ``epoch`` (an int or float ≥ 0)."""
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur = self.T_cur + 1
            if self.T_cur >= self.T_i:
                self.T_cur = self.T_cur % self.T_i
                self.T_i = self.T_i * self.T_mult
        else:
            if epoch < 0:
                raise ValueError(f"Expected non-negative epoch, but got {epoch}")
            if epoch >= self.T_0:
                if self.T_mult == 1:
                    self.T_cur = epoch % self.T_0
                else:
                    # the restart n with T_0·(T_mult^n − 1)/(T_mult − 1) <= epoch
                    n = int(math.log((epoch / self.T_0 * (self.T_mult - 1) + 1), self.T_mult))
                    self.T_cur = epoch - self.T_0 * (self.T_mult**n - 1) / (self.T_mult - 1)
                    self.T_i = self.T_0 * self.T_mult ** (n)
            else:
                self.T_i = self.T_0
                self.T_cur = epoch
        self.last_epoch = math.floor(epoch)
        self._write_lrs(self.get_lr)


class ChainedScheduler(LRScheduler):
    """Step several chainable schedulers together (their factors multiply)."""

    def __init__(self, schedulers, optimizer: Optimizer | None = None) -> None:
        if len(schedulers) < 1:
            raise ValueError(
                "ChainedScheduler expects at least one scheduler to be chained, but got no "
                "scheduler."
            )
        optimizer = optimizer or schedulers[0].optimizer
        for i, s in enumerate(schedulers):
            if isinstance(s, ReduceLROnPlateau):
                raise ValueError(
                    "ChainedScheduler does not support `ReduceLROnPlateau` scheduler, got one "
                    f"at index {i}"
                )
            if optimizer is not s.optimizer:
                raise ValueError(
                    f"ChainedScheduler expects all schedulers to belong to the same optimizer, "
                    f"but scheduler {type(s).__name__} at index {i} has another one."
                )
        self._schedulers = schedulers
        self.optimizer = optimizer
        self._last_lr = _param_groups_val_list(self._schedulers[-1].optimizer, "lr")

    def step(self) -> None:
        for s in self._schedulers:
            s.step()
        self._last_lr = _param_groups_val_list(self._schedulers[-1].optimizer, "lr")

    state_dict = SequentialLR.state_dict
    load_state_dict = SequentialLR.load_state_dict


class ReduceLROnPlateau(LRScheduler):
    """Divide the lr by 1/``factor`` when a metric has stopped improving.

    ``step(metric)`` after each validation: if the metric is better than the best so far
    (``mode='min'``/``'max'``, ``threshold_mode='rel'``: a < best·(1 − threshold),
    ``'abs'``: a < best − threshold), it becomes the best and the bad-epoch count resets;
    otherwise the count grows. During cooldown the count is kept at 0. When the count
    exceeds ``patience``, lr ← max(lr·factor, min_lr) (only if that lowers it by more than
    ``eps``) and cooldown starts. The lr is not touched at construction.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr=0,
        eps: float = 1e-8,
    ) -> None:
        if factor >= 1.0:
            raise ValueError(f"Factor should be < 1.0, got {factor}")
        self.factor = factor
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != len(optimizer.param_groups):
                raise ValueError(
                    f"expected {len(optimizer.param_groups)} min_lrs, got {len(min_lr)}"
                )
            self.default_min_lr = None
            self.min_lrs = list(min_lr)
        else:
            self.default_min_lr = min_lr
            self.min_lrs = [min_lr] * len(optimizer.param_groups)
        self.patience = patience
        self.cooldown = cooldown
        self.eps = eps
        self.last_epoch = 0
        self._last_lr = _param_groups_val_list(self.optimizer, "lr")
        self._init_is_better(mode=mode, threshold=threshold, threshold_mode=threshold_mode)
        self._reset()

    def _reset(self) -> None:
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    def step(self, metrics) -> None:
        """Record the metric of one epoch and reduce the lr if it has plateaued."""
        current = float(metrics)
        self.last_epoch += 1
        if self._is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = _param_groups_val_list(self.optimizer, "lr")

    def _reduce_lr(self) -> None:
        if len(self.optimizer.param_groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise RuntimeError(
                    f"The number of param groups in the `optimizer` "
                    f"({len(self.optimizer.param_groups)}) differs from when "
                    f"`ReduceLROnPlateau` was initialized ({len(self.min_lrs)}); set `min_lrs`"
                )
            self.min_lrs = [self.default_min_lr] * len(self.optimizer.param_groups)
        for i, group in enumerate(self.optimizer.param_groups):
            old_lr = float(group["lr"])
            new_lr = max(old_lr * self.factor, self.min_lrs[i])
            if old_lr - new_lr > self.eps:
                _update_param_group_val(group, "lr", new_lr)

    @property
    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def _is_better(self, a: float, best: float) -> bool:
        if self.mode == "min" and self.threshold_mode == "rel":
            return a < best * (1.0 - self.threshold)
        if self.mode == "min" and self.threshold_mode == "abs":
            return a < best - self.threshold
        if self.mode == "max" and self.threshold_mode == "rel":
            return a > best * (self.threshold + 1.0)
        return a > best + self.threshold

    def _init_is_better(self, mode: str, threshold: float, threshold_mode: str) -> None:
        if mode not in {"min", "max"}:
            raise ValueError(f"mode {mode} is unknown! expected 'min' or 'max'")
        if threshold_mode not in {"rel", "abs"}:
            raise ValueError(f"threshold mode {threshold_mode} is unknown! expected 'rel' or 'abs'")
        self.mode_worse = math.inf if mode == "min" else -math.inf
        self.mode = mode
        self.threshold = threshold
        self.threshold_mode = threshold_mode

    def load_state_dict(self, state_dict: dict) -> None:
        self.__dict__.update(state_dict)
        self._init_is_better(
            mode=self.mode, threshold=self.threshold, threshold_mode=self.threshold_mode
        )


def _set_momentum(group: dict, value, use_beta1: bool) -> None:
    """Write a cycled momentum: Adam's β1 (``betas[0]``) or SGD's ``momentum``."""
    if use_beta1:
        group["betas"] = (value, *group["betas"][1:])
    else:
        group["momentum"] = value


def _start_momentum_cycle(scheduler, base_momentum, max_momentum, last_epoch: int) -> tuple:
    """``cycle_momentum``'s set-up, shared by CyclicLR and OneCycleLR: the optimizer must
    have a momentum or a β1; on a fresh start (``last_epoch == -1``) each group gets
    ``max_momentum`` as its momentum and records both bounds. Returns the two bounds
    per group."""
    optimizer = scheduler.optimizer
    if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
        raise ValueError(
            "optimizer must support momentum or beta1 with `cycle_momentum` option enabled"
        )
    scheduler.use_beta1 = "betas" in optimizer.defaults
    base_momentums = _format_param("base_momentum", optimizer, base_momentum)
    max_momentums = _format_param("max_momentum", optimizer, max_momentum)
    if last_epoch == -1:
        for m_mom, b_mom, group in zip(max_momentums, base_momentums, optimizer.param_groups):
            _set_momentum(group, m_mom, scheduler.use_beta1)
            group["max_momentum"] = m_mom
            group["base_momentum"] = b_mom
    return base_momentums, max_momentums


class CyclicLR(LRScheduler):
    """Cyclical learning rates (Smith 2017), as PyTorch does it: the lr goes back and forth
    between ``base_lr`` and ``max_lr``, stepped after every batch.

    A cycle is ``step_size_up`` steps up and ``step_size_down`` (default: the same) down.
    At step e, with cycle = ⌊1 + e/total⌋ and x = 1 + e/total − cycle (the position in the
    cycle, 0 to 1), the height h is x/r on the way up (x ≤ r = up/total) and
    (x − 1)/(r − 1) on the way down, and::

        lr = base_lr + (max_lr − base_lr)·h·scale

    with scale = ``scale_fn(cycle)`` (``scale_mode="cycle"``) or ``scale_fn(e)``
    (``"iterations"``). The modes: ``"triangular"`` (scale 1), ``"triangular2"`` (the
    amplitude halves every cycle, 1/2^(cycle − 1)) and ``"exp_range"`` (γ^e, per
    iteration); a ``scale_fn`` replaces the mode's. With ``cycle_momentum`` the momentum
    (or Adam's β1) moves the opposite way, momentum = max_momentum − (max_momentum −
    base_momentum)·h·scale, and starts at ``max_momentum``. The lr is set to ``base_lr`` at
    construction; not chainable (it overrides what other schedules wrote).
    """

    def __init__(
        self,
        optimizer: Optimizer,
        base_lr,
        max_lr,
        step_size_up: int = 2000,
        step_size_down: int | None = None,
        mode: str = "triangular",
        gamma: float = 1.0,
        scale_fn=None,
        scale_mode: str = "cycle",
        cycle_momentum: bool = True,
        base_momentum=0.8,
        max_momentum=0.9,
        last_epoch: int = -1,
    ) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        base_lrs = _format_param("base_lr", optimizer, base_lr)
        if last_epoch == -1:
            for lr, group in zip(base_lrs, optimizer.param_groups):
                _update_param_group_val(group, "lr", lr)
        self.max_lrs = _format_param("max_lr", optimizer, max_lr)
        step_size_up = float(step_size_up)
        step_size_down = float(step_size_down) if step_size_down is not None else step_size_up
        if not step_size_up > 0 or not step_size_down >= 0:
            raise ValueError(
                f"CyclicLR: step_size_up must be > 0 and step_size_down >= 0, got "
                f"{step_size_up} and {step_size_down}"
            )
        self.total_size = step_size_up + step_size_down
        self.step_ratio = step_size_up / self.total_size
        if mode not in ("triangular", "triangular2", "exp_range") and scale_fn is None:
            raise ValueError("mode is invalid and scale_fn is None")
        if scale_mode not in ("cycle", "iterations"):
            raise ValueError(f"scale_mode must be 'cycle' or 'iterations', got {scale_mode!r}")
        self.mode = mode
        self.gamma = gamma
        self._scale_fn_custom = scale_fn
        self.scale_mode = scale_mode
        self._init_scale_fn()
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.base_momentums, self.max_momentums = _start_momentum_cycle(
                self, base_momentum, max_momentum, last_epoch
            )
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def _init_scale_fn(self) -> None:
        """The mode's scale function (and its scale mode), unless ``scale_fn`` was given."""
        if self._scale_fn_custom is not None:
            return
        if self.mode == "triangular":
            self._scale_fn_ref = self._triangular_scale_fn
            self.scale_mode = "cycle"
        elif self.mode == "triangular2":
            self._scale_fn_ref = self._triangular2_scale_fn
            self.scale_mode = "cycle"
        elif self.mode == "exp_range":
            self._scale_fn_ref = partial(self._exp_range_scale_fn, self.gamma)
            self.scale_mode = "iterations"

    def scale_fn(self, x) -> float:
        """The amplitude's scale at cycle (or iteration) ``x``."""
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        return self._scale_fn_ref(x)

    @staticmethod
    def _triangular_scale_fn(x: float) -> float:
        return 1.0

    @staticmethod
    def _triangular2_scale_fn(x: float) -> float:
        return 1 / (2.0 ** (x - 1))

    @staticmethod
    def _exp_range_scale_fn(gamma: float, x: float) -> float:
        return gamma**x

    def _height_and_scale(self) -> tuple[float, float]:
        """h (0 at the bottom of the cycle, 1 at the top) and the scale, at last_epoch."""
        cycle = math.floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle
        if x <= self.step_ratio:
            height = x / self.step_ratio
        else:
            height = (x - 1) / (self.step_ratio - 1)
        scale = self.scale_fn(cycle if self.scale_mode == "cycle" else self.last_epoch)
        return height, scale

    def _lr(self, lr, base_lr, i: int):
        height, scale = self._height_and_scale()
        if self.cycle_momentum:
            max_momentum = self.max_momentums[i]
            momentum = max_momentum - (max_momentum - self.base_momentums[i]) * height * scale
            _set_momentum(self.optimizer.param_groups[i], momentum, self.use_beta1)
        return base_lr + (self.max_lrs[i] - base_lr) * height * scale

    def state_dict(self) -> dict:
        """PyTorch's layout: a ``scale_fn`` is saved only as a callable object's
        ``__dict__`` (not as a function), the mode's bound function not at all."""
        sd = super().state_dict()
        sd.pop("_scale_fn_ref", None)
        sd["_scale_fn_custom"] = _saved_callable(sd.pop("_scale_fn_custom"))
        return sd

    def load_state_dict(self, state_dict: dict) -> None:
        saved = state_dict.pop("_scale_fn_custom")
        super().load_state_dict(state_dict)  # keeps this object's own scale_fn
        state_dict["_scale_fn_custom"] = saved  # leave the caller's dict as it was
        _restore_callable(self._scale_fn_custom, saved)
        self._init_scale_fn()


def _phase(end_step: float, start_lr: str, end_lr: str, momentum: str | None = None) -> dict:
    """A phase of OneCycleLR in PyTorch's layout: the lr goes from the group's
    ``start_lr`` bound to its ``end_lr`` bound; the momentum goes the opposite way
    (max_momentum to base_momentum while the lr rises, back while it falls), or stays at
    ``momentum``."""
    rising = end_lr == "max_lr"
    return {
        "end_step": end_step,
        "start_lr": start_lr,
        "end_lr": end_lr,
        "start_momentum": momentum or ("max_momentum" if rising else "base_momentum"),
        "end_momentum": momentum or ("base_momentum" if rising else "max_momentum"),
    }


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith & Topin): lr rises from max_lr/div_factor to max_lr over
    ``pct_start`` of the steps, then anneals to initial_lr/final_div_factor; momentum (or
    Adam's β1) moves the opposite way between ``max_momentum`` and ``base_momentum``.

    Stepped per batch; ``total_steps`` (or ``epochs·steps_per_epoch``) steps are allowed and
    one more raises ValueError. Phase ends are pct·T − 1 and T − 1 (three_phase: pct·T − 1,
    2·pct·T − 2, T − 1); within a phase pct = (e − start)/(end − start) and the value is
    ``end + (start − end)/2·(1 + cos π·pct)`` (cos) or ``start + (end − start)·pct``
    (linear). The momentum is written at construction too, so SGD's 0.9 becomes 0.95.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        max_lr,
        total_steps: int | None = None,
        epochs: int | None = None,
        steps_per_epoch: int | None = None,
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        cycle_momentum: bool = True,
        base_momentum=0.85,
        max_momentum=0.95,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
        last_epoch: int = -1,
    ) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        if total_steps is not None:
            if not isinstance(total_steps, int) or total_steps <= 0:
                raise ValueError(f"Expected positive integer total_steps, but got {total_steps}")
            self.total_steps = total_steps
        elif epochs is not None and steps_per_epoch is not None:
            if not isinstance(epochs, int) or epochs <= 0:
                raise ValueError(f"Expected positive integer epochs, but got {epochs}")
            if not isinstance(steps_per_epoch, int) or steps_per_epoch <= 0:
                raise ValueError(
                    f"Expected positive integer steps_per_epoch, but got {steps_per_epoch}"
                )
            self.total_steps = epochs * steps_per_epoch
        else:
            raise ValueError("You must define either total_steps OR (epochs AND steps_per_epoch)")
        # each phase anneals the lr between two of the group's bounds, and the momentum
        # the opposite way, up to its last step
        warm_up = _phase(float(pct_start * self.total_steps) - 1, "initial_lr", "max_lr")
        if three_phase:
            self._schedule_phases = [
                warm_up,
                _phase(float(2 * pct_start * self.total_steps) - 2, "max_lr", "initial_lr"),
                _phase(self.total_steps - 1, "initial_lr", "min_lr", "max_momentum"),
            ]
        else:
            self._schedule_phases = [warm_up, _phase(self.total_steps - 1, "max_lr", "min_lr")]
        if pct_start < 0 or pct_start > 1 or not isinstance(pct_start, float):
            raise ValueError(f"Expected float between 0 and 1 pct_start, but got {pct_start}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(
                f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}"
            )
        self._anneal_func_type = anneal_strategy
        max_lrs = _format_param("max_lr", self.optimizer, max_lr)
        if last_epoch == -1:
            for i, group in enumerate(self.optimizer.param_groups):
                group["initial_lr"] = max_lrs[i] / div_factor
                group["max_lr"] = max_lrs[i]
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = cycle_momentum
        if self.cycle_momentum:
            _start_momentum_cycle(self, base_momentum, max_momentum, last_epoch)
        super().__init__(optimizer, last_epoch)

    def _anneal_func(self, start, end, pct):
        if self._anneal_func_type == "cos":
            return self._annealing_cos(start, end, pct)
        return self._annealing_linear(start, end, pct)

    @staticmethod
    def _annealing_cos(start, end, pct):
        """Cosine anneal from ``start`` to ``end`` as pct goes from 0 to 1."""
        cos_out = math.cos(math.pi * pct) + 1
        return end + (start - end) / 2.0 * cos_out

    @staticmethod
    def _annealing_linear(start, end, pct):
        """Linear anneal from ``start`` to ``end`` as pct goes from 0 to 1."""
        return (end - start) * pct + start

    def _lr(self, lr, base_lr, i: int):
        step_num = self.last_epoch
        if step_num > self.total_steps:
            raise ValueError(
                f"Tried to step {step_num} times. The specified number of total steps is "
                f"{self.total_steps}"
            )
        group = self.optimizer.param_groups[i]
        start_step = 0.0
        for k, phase in enumerate(self._schedule_phases):
            end_step = phase["end_step"]
            if step_num <= end_step or k == len(self._schedule_phases) - 1:
                pct = (step_num - start_step) / (end_step - start_step)
                if self.cycle_momentum:
                    momentum = self._anneal_func(
                        group[phase["start_momentum"]], group[phase["end_momentum"]], pct
                    )
                    _set_momentum(group, momentum, self.use_beta1)
                return self._anneal_func(group[phase["start_lr"]], group[phase["end_lr"]], pct)
            start_step = phase["end_step"]
