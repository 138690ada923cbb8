"""Every learning-rate schedule against PyTorch: attached to SGD with momentum and stepped
once per optimizer step for 100 steps on the MLP, with exact lr trajectories, parameters to
1e-10, state_dict layout, and save/load at step 50."""

from __future__ import annotations

import copy
import math
import warnings

import numpy as np
import pytest
import torch

import gradfit
from gradfit.optim import lr_scheduler as gls

from ._mlp import Model, assert_rel_close, init_arrays, structure

STEPS = 100
LR = 0.05


class Decay:
    """A callable object: LambdaLR saves its ``__dict__`` in the state_dict."""

    def __init__(self, rate: float):
        self.rate = rate

    def __call__(self, epoch: int) -> float:
        return 1.0 / (1.0 + self.rate * epoch)


class Shrink:
    """A callable object as CyclicLR's scale_fn: its ``__dict__`` goes in the state_dict."""

    def __init__(self, rate: float):
        self.rate = rate

    def __call__(self, x: float) -> float:
        return 1.0 / (1.0 + self.rate * x)


def _sched(lib, name: str, opt):
    """Build the scheduler ``name`` from library ``lib`` (gradfit or torch)."""
    L = lib.optim.lr_scheduler
    if name == "StepLR":
        return L.StepLR(opt, step_size=10, gamma=0.5)
    if name == "MultiStepLR":
        return L.MultiStepLR(opt, milestones=[10, 30, 30, 60], gamma=0.5)
    if name == "ExponentialLR":
        return L.ExponentialLR(opt, gamma=0.97)
    if name == "CosineAnnealingLR":
        return L.CosineAnnealingLR(opt, T_max=30, eta_min=0.001)  # past T_max: rises again
    if name == "LinearLR":
        return L.LinearLR(opt, start_factor=0.25, total_iters=20)
    if name == "LambdaLR":
        return L.LambdaLR(opt, lambda e: 1.0 / (1.0 + 0.05 * e))
    if name == "LambdaLR-object":
        return L.LambdaLR(opt, Decay(0.03))
    if name == "MultiplicativeLR":
        return L.MultiplicativeLR(opt, lambda e: 0.98)
    if name == "ConstantLR":
        return L.ConstantLR(opt, factor=0.5, total_iters=10)
    if name == "PolynomialLR":
        return L.PolynomialLR(opt, total_iters=80, power=2.0)
    if name == "OneCycleLR":
        return L.OneCycleLR(opt, max_lr=0.1, total_steps=STEPS)
    if name == "OneCycleLR-three-phase-linear":
        return L.OneCycleLR(
            opt, max_lr=0.1, total_steps=STEPS, three_phase=True, anneal_strategy="linear"
        )
    if name == "ReduceLROnPlateau":
        return L.ReduceLROnPlateau(opt, factor=0.5, patience=2, threshold=0.05, cooldown=1)
    if name == "SequentialLR":
        warm = L.LinearLR(opt, start_factor=0.1, total_iters=10)
        cos = L.CosineAnnealingLR(opt, T_max=90)
        return L.SequentialLR(opt, [warm, cos], milestones=[10])
    if name == "CyclicLR":
        return L.CyclicLR(opt, base_lr=0.01, max_lr=0.1, step_size_up=10, step_size_down=15)
    if name == "CyclicLR-triangular2":
        return L.CyclicLR(opt, 0.01, 0.1, step_size_up=8, mode="triangular2", max_momentum=0.95)
    if name == "CyclicLR-exp_range-no-momentum":
        return L.CyclicLR(
            opt, 0.01, 0.1, step_size_up=7, mode="exp_range", gamma=0.98, cycle_momentum=False
        )
    if name == "CyclicLR-scale_fn-object":
        return L.CyclicLR(opt, 0.02, 0.08, 6, 4, scale_fn=Shrink(0.1), scale_mode="iterations")
    if name == "CosineAnnealingWarmRestarts":
        return L.CosineAnnealingWarmRestarts(opt, T_0=15, eta_min=0.001)
    if name == "CosineAnnealingWarmRestarts-T_mult":
        return L.CosineAnnealingWarmRestarts(opt, T_0=5, T_mult=2)
    if name == "ChainedScheduler":
        return L.ChainedScheduler([L.ExponentialLR(opt, 0.99), L.StepLR(opt, 20, 0.5)])
    raise KeyError(name)


NAMES = [
    "StepLR",
    "MultiStepLR",
    "ExponentialLR",
    "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts",
    "CosineAnnealingWarmRestarts-T_mult",
    "LinearLR",
    "LambdaLR",
    "LambdaLR-object",
    "MultiplicativeLR",
    "ConstantLR",
    "PolynomialLR",
    "OneCycleLR",
    "OneCycleLR-three-phase-linear",
    "ReduceLROnPlateau",
    "SequentialLR",
    "ChainedScheduler",
    "CyclicLR",
    "CyclicLR-triangular2",
    "CyclicLR-exp_range-no-momentum",
    "CyclicLR-scale_fn-object",
]


def _setup(lib, name: str, arrays=None):
    model = Model(lib, arrays if arrays is not None else init_arrays())
    opt = lib.optim.SGD(model.parameters(), lr=LR, momentum=0.9)
    return model, opt, _sched(lib, name, opt)


def _run(model, opt, sched, steps: int) -> tuple[list, list]:
    """Train ``steps`` steps; return the lrs used (group lr, get_last_lr) and momentum."""
    lrs, momenta = [], []
    for _ in range(steps):
        opt.zero_grad()
        loss = model.loss()
        loss.backward()
        lrs.append(opt.param_groups[0]["lr"])
        momenta.append(opt.param_groups[0]["momentum"])
        opt.step()
        if isinstance(sched, (gls.ReduceLROnPlateau, torch.optim.lr_scheduler.ReduceLROnPlateau)):
            sched.step(loss.item())
        else:
            sched.step()
        assert sched.get_last_lr() == [opt.param_groups[0]["lr"]]
    return lrs, momenta


@pytest.mark.parametrize("name", NAMES)
def test_optim_scheduler_matches_torch(float64, name):
    gm, gopt, gs = _setup(gradfit, name)
    tm, topt, ts = _setup(torch, name)
    assert gs.get_last_lr() == pytest.approx(ts.get_last_lr(), rel=1e-12, abs=0)
    assert gopt.param_groups[0]["lr"] == pytest.approx(topt.param_groups[0]["lr"], rel=1e-12)
    glr, gmom = _run(gm, gopt, gs, STEPS)
    tlr, tmom = _run(tm, topt, ts, STEPS)
    assert glr == pytest.approx(tlr, rel=1e-12, abs=0)
    assert gmom == pytest.approx(tmom, rel=1e-12, abs=0)
    assert len(set(glr)) > 1, "the schedule never changed the lr"
    ga, ta = gm.arrays(), tm.arrays()
    for k in ga:
        assert_rel_close(ga[k], ta[k], 1e-10, k)
    assert getattr(gs, "last_epoch", None) == getattr(ts, "last_epoch", None)
    if hasattr(ts, "base_lrs"):
        assert gs.base_lrs == pytest.approx(ts.base_lrs, rel=1e-15)
    # same state_dict layout (keys, nesting, value kinds) as PyTorch's
    assert structure(gs.state_dict()) == structure(ts.state_dict())
    gsd, tsd = gopt.state_dict(), topt.state_dict()
    assert gsd["param_groups"][0].keys() == tsd["param_groups"][0].keys()


@pytest.mark.parametrize("name", NAMES)
def test_optim_scheduler_save_load_at_50_continues_identically(float64, name):
    gm, gopt, gs = _setup(gradfit, name)
    straight, _ = _run(gm, gopt, gs, STEPS)
    final = gm.arrays()

    m1, o1, s1 = _setup(gradfit, name)
    first, _ = _run(m1, o1, s1, STEPS // 2)
    saved = copy.deepcopy(
        {"model": m1.arrays(), "optim": o1.state_dict(), "sched": s1.state_dict()}
    )
    # fresh objects, as in a new process: scheduler first, then the optimizer's state
    # (PyTorch's documented order: building a scheduler writes the group lrs)
    m2, o2, s2 = _setup(gradfit, name, arrays=saved["model"])
    if name == "LambdaLR-object":
        s2.lr_lambdas[0].rate = 123.0  # must be restored from the state_dict
    if name == "CyclicLR-scale_fn-object":
        s2._scale_fn_custom.rate = 123.0  # likewise
    o2.load_state_dict(saved["optim"])
    s2.load_state_dict(saved["sched"])
    second, _ = _run(m2, o2, s2, STEPS - STEPS // 2)
    assert first + second == straight
    for k, v in m2.arrays().items():
        assert np.array_equal(v, final[k]), k


# ---------------------------------------------------------------------- reference values
def _sgd(lr=0.1, momentum=0.9):
    p = gradfit.zeros(2, requires_grad=True)
    return gradfit.optim.SGD([p], lr=lr, momentum=momentum)


def _trajectory(sched, n):
    out = [sched.get_last_lr()[0]]
    for _ in range(n):
        sched.optimizer.step()
        sched.step()
        out.append(sched.get_last_lr()[0])
    return out


def test_optim_linear_lr_reference_values():
    s = gls.LinearLR(_sgd(0.1))
    expected = [0.1 / 3, 0.14 / 3, 0.06, 0.22 / 3, 0.26 / 3, 0.1, 0.1]
    assert _trajectory(s, 6) == pytest.approx(expected, rel=1e-12)


def test_optim_one_cycle_reference_values_and_momentum():
    opt = _sgd(0.1, momentum=0.9)
    s = gls.OneCycleLR(opt, max_lr=1.0, total_steps=10)
    assert opt.param_groups[0]["momentum"] == 0.95  # written at construction
    assert s.get_last_lr()[0] == 0.040000000000000036
    expected = [0.04, 0.52, 1.0, 0.950485, 0.811746, 0.611262, 0.388742, 0.188258]
    expected += [0.0495194, 4e-6, 0.0495194]
    assert _trajectory(s, 10) == pytest.approx(expected, rel=1e-5)
    opt.step()
    with pytest.raises(ValueError, match="Tried to step 11 times"):
        s.step()


def test_optim_one_cycle_cycles_adam_beta1():
    p = gradfit.zeros(2, requires_grad=True)
    opt = gradfit.optim.Adam([p], lr=0.1, betas=(0.9, 0.999))
    gls.OneCycleLR(opt, max_lr=1.0, total_steps=10, base_momentum=0.8, max_momentum=0.9)
    assert opt.param_groups[0]["betas"] == (0.9, 0.999)
    assert opt.param_groups[0]["max_lr"] == 1.0 and opt.param_groups[0]["min_lr"] == 4e-6


def test_optim_cosine_recursive_form_follows_closed_form_without_clamp():
    s = gls.CosineAnnealingLR(_sgd(0.1), T_max=10, eta_min=0.01)
    lrs = _trajectory(s, 25)
    closed = [0.01 + 0.09 * (1 + math.cos(math.pi * e / 10)) / 2 for e in range(26)]
    assert lrs == pytest.approx(closed, abs=1e-15)
    assert lrs[20] == pytest.approx(0.1)  # back to the base lr at 2·T_max


def test_optim_step_lr_is_the_lecture_schedule():
    s = gls.StepLR(_sgd(0.1), step_size=3, gamma=0.5)
    assert _trajectory(s, 7) == pytest.approx([0.1] * 3 + [0.05] * 3 + [0.025] * 2)


def test_optim_reduce_on_plateau_rules():
    opt = _sgd(1.0)
    s = gls.ReduceLROnPlateau(opt, factor=0.5, patience=1, cooldown=1, min_lr=0.2)
    assert opt.param_groups[0]["lr"] == 1.0 and "initial_lr" not in opt.param_groups[0]
    lrs = []
    for metric in [5, 4, 4, 4, 4, 4, 4, 4, 4]:
        s.step(metric)
        lrs.append(s.get_last_lr()[0])
    # bad epochs 1, 2 -> reduce; cooldown epoch; bad 1, 2 -> reduce; then floored at 0.2
    assert lrs == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25]
    s.step(4)
    s.step(4)
    assert s.get_last_lr() == [0.2]
    s2 = gls.ReduceLROnPlateau(_sgd(1.0), mode="max", threshold_mode="abs", threshold=0.5)
    s2.step(1.0)
    s2.step(1.4)  # not better by 0.5
    assert s2.best == 1.0 and s2.num_bad_epochs == 1


def test_optim_two_schedulers_compose():
    opt = _sgd(0.1)
    a = gls.ExponentialLR(opt, gamma=0.5)
    b = gls.StepLR(opt, step_size=2, gamma=0.1)
    lrs = []
    for _ in range(4):
        opt.step()
        a.step()
        b.step()
        lrs.append(opt.param_groups[0]["lr"])
    assert lrs == pytest.approx([0.05, 0.0025, 0.00125, 0.0000625])


def test_optim_cyclic_lr_cycles_adam_beta1_like_torch(float64):
    runs = {}
    for lib in (gradfit, torch):
        model = Model(lib, init_arrays())
        opt = lib.optim.Adam(model.parameters(), lr=0.01, betas=(0.9, 0.99))
        sched = lib.optim.lr_scheduler.CyclicLR(
            opt, [0.001], [0.01], step_size_up=5, mode="triangular2", base_momentum=0.85
        )
        betas = []
        for _ in range(30):
            opt.zero_grad()
            model.loss().backward()
            opt.step()
            sched.step()
            betas.append(opt.param_groups[0]["betas"])
        runs[lib.__name__] = (betas, sched.get_last_lr(), model.arrays())
    (gb, glr, ga), (tb, tlr, ta) = runs["gradfit"], runs["torch"]
    assert gb == tb and glr == tlr
    assert {b[1] for b in gb} == {0.99} and len({b[0] for b in gb}) > 3
    for k in ga:
        assert_rel_close(ga[k], ta[k], 1e-10, k)


def test_optim_cyclic_lr_triangle_reference_values():
    opt = _sgd(0.5, momentum=0.9)
    s = gls.CyclicLR(opt, base_lr=0.1, max_lr=0.5, step_size_up=2, step_size_down=4)
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[0]["momentum"] == 0.9
    # up in 2 steps, down in 4, then again: the height is 0, 1/2, 1, 3/4, 1/2, 1/4, 0, 1/2
    heights = [0, 0.5, 1, 0.75, 0.5, 0.25, 0, 0.5]
    assert _trajectory(s, 7) == pytest.approx([0.1 + 0.4 * h for h in heights], rel=1e-12)
    assert opt.param_groups[0]["momentum"] == pytest.approx(0.9 - 0.1 * 0.5)


def test_optim_cyclic_lr_errors():
    with pytest.raises(ValueError, match="mode is invalid and scale_fn is None"):
        gls.CyclicLR(_sgd(), 0.1, 1.0, mode="sawtooth")
    p = gradfit.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="must support momentum or beta1"):
        gls.CyclicLR(gradfit.optim.Adagrad([p]), 0.1, 1.0)
    with pytest.raises(ValueError, match="step_size_up must be > 0"):
        gls.CyclicLR(_sgd(), 0.1, 1.0, step_size_up=0)
    with pytest.raises(ValueError, match="max_lr must have the same length"):
        gls.CyclicLR(_sgd(), 0.1, [1.0, 2.0])


def test_optim_sequential_restart_uses_each_schedules_formula_from_the_base(float64):
    """At a milestone PyTorch restarts the next schedule at epoch 0: from the base lr for
    the schedules with a closed form, from the current lr for the others."""
    for lib in (gradfit, torch):
        L = lib.optim.lr_scheduler
        p = lib.zeros(2, requires_grad=True)
        opt = lib.optim.SGD([p], lr=0.3, momentum=0.9)
        parts = [
            L.ExponentialLR(opt, 0.9),
            L.ConstantLR(opt, 0.5, 3),
            L.MultiplicativeLR(opt, lambda e: 0.8),
            L.CosineAnnealingLR(opt, 7, eta_min=0.07),
            L.LinearLR(opt, 0.2, total_iters=3),
        ]
        s = L.SequentialLR(opt, parts, milestones=[4, 8, 12, 20])
        lrs = []
        for _ in range(25):
            opt.step()
            s.step()
            lrs.append(opt.param_groups[0]["lr"])
        if lib is gradfit:
            mine = lrs
    assert mine == lrs  # bit for bit


@pytest.mark.parametrize("T_mult", [1, 2])
def test_optim_warm_restarts_float_epoch_matches_torch(float64, T_mult):
    """PyTorch's documented per-batch use, ``scheduler.step(epoch + i / iters)``, then a
    jump back (``step(3)``) and plain ``step()`` calls, which continue from there."""
    runs = {}
    for lib in (gradfit, torch):
        model = Model(lib, init_arrays())
        opt = lib.optim.SGD(model.parameters(), lr=LR, momentum=0.9)
        sched = lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(
            opt, T_0=2, T_mult=T_mult, eta_min=0.002
        )
        iters, lrs = 5, []
        epochs = [e + i / iters for e in range(9) for i in range(iters)] + [3, None, None]
        for epoch in epochs:
            opt.zero_grad()
            model.loss().backward()
            opt.step()
            sched.step(epoch)
            lrs.append(opt.param_groups[0]["lr"])
            assert sched.get_last_lr() == [lrs[-1]]
        runs[lib.__name__] = (lrs, model, sched.state_dict())
    (glr, gm, gsd), (tlr, tm, tsd) = runs["gradfit"], runs["torch"]
    assert glr == tlr  # the same float arithmetic
    assert gsd == tsd  # T_cur (fractional), T_i, last_epoch = floor(epoch), ...
    assert len(set(glr)) > 8 and max(glr) == LR  # lr falls within each epoch
    ga, ta = gm.arrays(), tm.arrays()
    for k in ga:
        assert_rel_close(ga[k], ta[k], 1e-10, k)


def test_optim_warm_restarts_restart_in_sequential_lr_like_torch():
    """As a second schedule of SequentialLR it restarts with PyTorch's rule (its formula
    at the current T_cur), then continues."""
    lrs = {}
    for lib in (gradfit, torch):
        L = lib.optim.lr_scheduler
        opt = lib.optim.SGD([lib.zeros(2, requires_grad=True)], lr=0.3)
        parts = [L.LinearLR(opt, 0.1, total_iters=4), L.CosineAnnealingWarmRestarts(opt, 3, 2)]
        s = L.SequentialLR(opt, parts, milestones=[5])
        lrs[lib.__name__] = []
        for _ in range(20):
            opt.step()
            s.step()
            lrs[lib.__name__].append(opt.param_groups[0]["lr"])
    assert lrs["gradfit"] == lrs["torch"]


def test_optim_warm_restarts_errors_like_torch():
    for lib in (gradfit, torch):
        L, opt = lib.optim.lr_scheduler, lib.optim.SGD([lib.zeros(1, requires_grad=True)])
        with pytest.raises(ValueError, match="Expected positive integer T_0, but got 0"):
            L.CosineAnnealingWarmRestarts(opt, T_0=0)
        with pytest.raises(ValueError, match="Expected positive integer T_0, but got 2.5"):
            L.CosineAnnealingWarmRestarts(opt, T_0=2.5)
        with pytest.raises(ValueError, match="Expected integer T_mult >= 1, but got 0"):
            L.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=0)
        with pytest.raises(ValueError, match="Expected float or int eta_min, but got 1e-3"):
            L.CosineAnnealingWarmRestarts(opt, T_0=2, eta_min="1e-3")
        s = L.CosineAnnealingWarmRestarts(opt, T_0=2)
        with pytest.raises(ValueError, match="Expected non-negative epoch, but got -0.5"):
            s.step(-0.5)


# ---------------------------------------------------------------------- warnings, errors
def test_optim_scheduler_step_before_optimizer_step_warns_like_torch():
    for lib in (gradfit, torch):
        p = lib.zeros(2, requires_grad=True)
        opt = lib.optim.SGD([p], lr=0.1)
        s = lib.optim.lr_scheduler.StepLR(opt, 1)
        with pytest.warns(UserWarning, match=r"Detected call of `lr_scheduler.step\(\)` before"):
            s.step()


def test_optim_scheduler_in_right_order_does_not_warn():
    opt = _sgd()
    s = gls.ExponentialLR(opt, 0.9)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(3):
            opt.step()
            s.step()
    assert hasattr(opt.step, "_wrapped_by_lr_sched") and opt._opt_called


def test_optim_get_lr_outside_step_warns():
    s = gls.StepLR(_sgd(), 2)
    with pytest.warns(UserWarning, match="get_last_lr"):
        s.get_lr()


def test_optim_scheduler_errors():
    with pytest.raises(TypeError, match="is not an Optimizer"):
        gls.StepLR(object(), 1)
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        gls.ReduceLROnPlateau(_sgd(), factor=1.5)
    with pytest.raises(ValueError, match="Expected positive integer total_steps"):
        gls.OneCycleLR(_sgd(), max_lr=1.0, total_steps=0)
    with pytest.raises(ValueError, match="Starting multiplicative factor"):
        gls.LinearLR(_sgd(), start_factor=0)
    opt = _sgd()
    with pytest.raises(ValueError, match="number of milestones"):
        gls.SequentialLR(opt, [gls.StepLR(opt, 1), gls.StepLR(opt, 1)], milestones=[1, 2])
    with pytest.raises(KeyError, match="initial_lr"):
        gls.StepLR(_sgd(), 1, last_epoch=3)
    with pytest.raises(ValueError, match="Expected 2 lr_lambdas, but got 1"):
        p, q = gradfit.zeros(1, requires_grad=True), gradfit.zeros(1, requires_grad=True)
        two = gradfit.optim.SGD([{"params": [p]}, {"params": [q]}], lr=0.1)
        gls.LambdaLR(two, [lambda e: 1.0])


def test_optim_schedulers_drive_lecture_optimizers():
    p = gradfit.zeros(2, requires_grad=True)
    opt = gradfit.optim.lecture.Momentum([p], lr=0.1, beta=0.9)
    s = gls.StepLR(opt, step_size=1, gamma=0.5)
    p.grad = gradfit.ones(2)
    opt.step()
    s.step()
    assert opt.param_groups[0]["lr"] == 0.05 and opt.param_groups[0]["initial_lr"] == 0.1
