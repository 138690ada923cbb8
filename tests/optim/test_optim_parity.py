"""Every optimizer and option combination against PyTorch: 100 float64 steps on a small
MLP, state_dict layout, save/load at step 50, and state_dicts exchanged with PyTorch."""

from __future__ import annotations

import copy
import itertools

import numpy as np
import pytest
import torch

import gradfit

from ._mlp import Model, assert_rel_close, init_arrays, structure, to_numpy, to_torch

STEPS = 100
TOL = 1e-10


def _sgd_cases():
    for momentum, nesterov, dampening, wd, maximize in itertools.product(
        (0.0, 0.9), (False, True), (0.0, 0.5), (0.0, 0.01), (False, True)
    ):
        if nesterov and (momentum == 0 or dampening != 0):
            continue
        kw = dict(
            lr=0.05,
            momentum=momentum,
            dampening=dampening,
            weight_decay=wd,
            nesterov=nesterov,
            maximize=maximize,
        )
        if maximize:
            kw["lr"] = 2e-4  # ascent diverges; keep the numbers moderate
        yield pytest.param("SGD", kw, id=f"SGD-{'-'.join(f'{k}={v}' for k, v in kw.items())}")


def _adam_cases():
    for name, amsgrad, wd, maximize in itertools.product(
        ("Adam", "AdamW"), (False, True), (0.0, 0.05), (False, True)
    ):
        kw = dict(lr=0.01, betas=(0.8, 0.99), weight_decay=wd, amsgrad=amsgrad, maximize=maximize)
        yield pytest.param(name, kw, id=f"{name}-amsgrad={amsgrad}-wd={wd}-max={maximize}")


def _rmsprop_cases():
    for centered, momentum, wd in itertools.product((False, True), (0.0, 0.9), (0.0, 0.01)):
        kw = dict(lr=1e-3, alpha=0.9, centered=centered, momentum=momentum, weight_decay=wd)
        yield pytest.param(
            "RMSprop", kw, id=f"RMSprop-centered={centered}-momentum={momentum}-wd={wd}"
        )
    kw = dict(lr=0.001, maximize=True)
    yield pytest.param("RMSprop", kw, id="RMSprop-maximize")


def _adagrad_cases():
    for lr_decay, init_acc, wd in itertools.product((0.0, 0.01), (0.0, 0.5), (0.0, 0.01)):
        kw = dict(lr=0.05, lr_decay=lr_decay, initial_accumulator_value=init_acc, weight_decay=wd)
        yield pytest.param("Adagrad", kw, id=f"Adagrad-lr_decay={lr_decay}-init={init_acc}-wd={wd}")
    yield pytest.param("Adagrad", dict(lr=0.01, maximize=True), id="Adagrad-maximize")


def _more_cases():
    """Adadelta, Adamax, NAdam, RAdam, Rprop and ASGD, each with its own options, weight
    decay and maximize (ascent with a small step, which keeps the numbers moderate)."""
    table = {
        "Adadelta": [
            dict(),
            dict(lr=0.5, rho=0.95, eps=1e-5, weight_decay=0.01),
            dict(lr=0.1, maximize=True),
        ],
        "Adamax": [
            dict(lr=0.01, betas=(0.8, 0.99)),
            dict(lr=0.01, eps=1e-3, weight_decay=0.05),
            dict(lr=2e-4, maximize=True),
        ],
        "NAdam": [
            dict(lr=0.01, betas=(0.8, 0.99)),
            dict(lr=0.01, weight_decay=0.05, momentum_decay=0.01),
            dict(lr=0.01, weight_decay=0.05, decoupled_weight_decay=True),
            dict(lr=2e-4, maximize=True),
        ],
        "RAdam": [  # with β2 = 0.99 the rectified (adaptive) step starts at step 6
            dict(lr=0.01, betas=(0.8, 0.99)),
            dict(lr=0.01, weight_decay=0.05),
            dict(lr=0.01, weight_decay=0.05, decoupled_weight_decay=True),
            dict(lr=2e-4, maximize=True),
        ],
        "Rprop": [
            dict(lr=0.01),
            dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.1)),
            dict(lr=1e-4, step_sizes=(1e-6, 1e-3), maximize=True),
        ],
        "ASGD": [
            dict(lr=0.05),  # t0 = 1e6: ax is a copy of the parameters
            dict(lr=0.05, lambd=1e-2, alpha=0.5, t0=20, weight_decay=0.01),
            dict(lr=2e-4, t0=10, maximize=True),
        ],
    }
    for name, kws in table.items():
        for kw in kws:
            yield pytest.param(
                name, kw, id=f"{name}-{'-'.join(f'{k}={v}' for k, v in kw.items()) or 'default'}"
            )


CASES = [*_sgd_cases(), *_adam_cases(), *_rmsprop_cases(), *_adagrad_cases(), *_more_cases()]
# L-BFGS amplifies rounding differences chaotically on a non-convex loss (torch against
# itself with weights perturbed by 1e-15 drifts apart by 1e-2 within 30 steps), so its
# parity runs use a smooth (tanh) MLP with an L2 penalty, where it is contractive, and
# two iterations per step so that the run takes some 60 steps to converge.
LBFGS_CASES = [
    pytest.param(dict(lr=0.5, max_iter=2, history_size=10), id="LBFGS-none"),
    pytest.param(
        dict(lr=1.0, max_iter=2, history_size=10, line_search_fn="strong_wolfe"),
        id="LBFGS-strong_wolfe",
    ),
]


def _make(lib, name: str, kw: dict, seed: int = 0):
    if name == "LBFGS":
        model = Model(lib, init_arrays(seed), "tanh", l2=0.05)
    else:
        model = Model(lib, init_arrays(seed))
    return model, getattr(lib.optim, name)(model.parameters(), **kw)


def _train(model, opt, steps: int, lbfgs: bool = False) -> list[float]:
    losses = []
    for _ in range(steps):
        if lbfgs:

            def closure():
                opt.zero_grad()
                loss = model.loss()
                loss.backward()
                return loss

            losses.append(opt.step(closure).item())
        else:
            opt.zero_grad()
            loss = model.loss()
            loss.backward()
            opt.step()
            losses.append(loss.item())
    return losses


def _compare_models(gm: Model, tm: Model, tol: float = TOL) -> None:
    ga, ta = gm.arrays(), tm.arrays()
    for k in ga:
        assert_rel_close(ga[k], ta[k], tol, k)


def _compare_state(gsd: dict, tsd: dict, tol: float = TOL) -> None:
    """Same layout, same hyperparameters, state values equal to ``tol``."""
    assert structure(gsd) == structure(tsd)
    assert gsd["param_groups"] == tsd["param_groups"]
    gs, ts = to_numpy(gsd["state"]), to_numpy(tsd["state"])
    for idx in ts:
        for key, tv in ts[idx].items():
            gv = gs[idx][key]
            if isinstance(tv, list):
                for a, b in zip(gv, tv):
                    if b is not None:
                        assert_rel_close(a, b, tol, f"state[{idx}][{key}]")
            elif isinstance(tv, np.ndarray):
                assert_rel_close(gv, tv, tol, f"state[{idx}][{key}]")
            else:
                assert gv == pytest.approx(tv, rel=tol), f"state[{idx}][{key}]"


# ---------------------------------------------------------------------- parity with torch
@pytest.mark.parametrize(("name", "kw"), CASES)
def test_optim_matches_torch_100_steps(float64, name, kw):
    gm, gopt = _make(gradfit, name, kw)
    tm, topt = _make(torch, name, kw)
    gl = _train(gm, gopt, STEPS)
    tl = _train(tm, topt, STEPS)
    assert_rel_close(gl, tl, TOL, "losses")
    _compare_models(gm, tm)
    _compare_state(gopt.state_dict(), topt.state_dict())
    # the unused parameter never had a gradient: untouched and without state
    assert np.array_equal(gm.arrays()["unused"], init_arrays(0)["unused"])
    if name != "Adagrad":  # Adagrad's state is eager
        assert 4 not in gopt.state_dict()["state"]
    # the run did something
    assert not np.allclose(gm.arrays()["W1"], init_arrays(0)["W1"])


@pytest.mark.parametrize("kw", LBFGS_CASES)
def test_optim_lbfgs_matches_torch_100_steps(float64, kw):
    gm, gopt = _make(gradfit, "LBFGS", kw)
    tm, topt = _make(torch, "LBFGS", kw)
    gl = _train(gm, gopt, STEPS, lbfgs=True)
    tl = _train(tm, topt, STEPS, lbfgs=True)
    assert_rel_close(gl, tl, TOL, "losses")
    _compare_models(gm, tm)
    gsd, tsd = gopt.state_dict(), topt.state_dict()
    assert gsd["param_groups"] == tsd["param_groups"]
    assert list(gsd["state"]) == list(tsd["state"]) == [0]
    assert set(gsd["state"][0]) == set(tsd["state"][0])
    g0, t0 = gsd["state"][0], tsd["state"][0]
    for key in ("func_evals", "n_iter"):
        assert g0[key] == t0[key]
    for key in ("d", "prev_flat_grad", "H_diag"):
        assert isinstance(g0[key], gradfit.Tensor)
        assert g0[key].shape == t0[key].shape
    for key in ("old_dirs", "old_stps", "ro", "al"):
        assert structure(g0[key]) == structure(t0[key])
    assert g0["prev_loss"] == pytest.approx(t0["prev_loss"], rel=TOL)


# ---------------------------------------------------------------------- save / resume
def _resume_case(name, kw, lbfgs=False):
    """Train 100 steps straight, and 50 + save + load into fresh objects + 50."""
    gm, gopt = _make(gradfit, name, kw)
    straight = _train(gm, gopt, STEPS, lbfgs)
    final = gm.arrays()

    m1, o1 = _make(gradfit, name, kw)
    m2, o2 = _make(gradfit, name, kw)  # fresh objects, to be overwritten by the snapshot
    first = _train(m1, o1, STEPS // 2, lbfgs)
    saved = copy.deepcopy({"model": m1.arrays(), "optim": o1.state_dict()})
    _train(m1, o1, 3, lbfgs)  # later steps must not leak into the snapshot

    with gradfit.no_grad():
        for k, p in m2.params.items():
            p.copy_(gradfit.tensor(saved["model"][k]))
    o2.load_state_dict(saved["optim"])
    second = _train(m2, o2, STEPS - STEPS // 2, lbfgs)
    assert first + second == straight
    for k, v in m2.arrays().items():
        assert np.array_equal(v, final[k]), k


@pytest.mark.parametrize(("name", "kw"), CASES)
def test_optim_save_load_at_50_continues_identically(float64, name, kw):
    _resume_case(name, kw)


@pytest.mark.parametrize("kw", LBFGS_CASES)
def test_optim_lbfgs_save_load_at_50_continues_identically(float64, kw):
    _resume_case("LBFGS", kw, lbfgs=True)


# ---------------------------------------------------------------------- exchange with torch
EXCHANGE = [
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.01)),
    ("AdamW", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.003, centered=True, momentum=0.5)),
    ("Adagrad", dict(lr=0.05, lr_decay=0.01)),
    ("Adadelta", dict(lr=0.5, weight_decay=0.01)),
    ("Adamax", dict(lr=0.01, weight_decay=0.01)),
    ("NAdam", dict(lr=0.01, weight_decay=0.01, decoupled_weight_decay=True)),
    ("RAdam", dict(lr=0.01, weight_decay=0.01)),
    ("Rprop", dict(lr=0.01, etas=(0.4, 1.3))),
    ("ASGD", dict(lr=0.05, t0=15)),
    ("LBFGS", dict(lr=1.0, max_iter=2, line_search_fn="strong_wolfe")),
]


@pytest.mark.parametrize(("name", "kw"), EXCHANGE, ids=[e[0] for e in EXCHANGE])
def test_optim_state_dict_exchanges_with_torch(float64, name, kw):
    lbfgs = name == "LBFGS"
    steps = 10 if lbfgs else 30
    tm, topt = _make(torch, name, kw)
    _train(tm, topt, steps, lbfgs)
    # torch -> gradfit: a PyTorch state_dict loads as is
    gm, gopt = _make(gradfit, name, kw)
    with gradfit.no_grad():
        for k, p in gm.params.items():
            p.copy_(gradfit.tensor(tm.arrays()[k]))
    gopt.load_state_dict(topt.state_dict())
    # gradfit -> torch, after one more gradfit step
    _train(gm, gopt, 1, lbfgs)
    _train(tm, topt, 1, lbfgs)
    tm2, topt2 = _make(torch, name, kw)
    with torch.no_grad():
        for k, p in tm2.params.items():
            p.copy_(torch.tensor(gm.arrays()[k]))
    topt2.load_state_dict(to_torch(gopt.state_dict()))
    gl = _train(gm, gopt, steps, lbfgs)
    tl = _train(tm, topt, steps, lbfgs)
    tl2 = _train(tm2, topt2, steps, lbfgs)
    assert_rel_close(gl, tl, TOL, "gradfit loaded from torch")
    assert_rel_close(tl2, tl, TOL, "torch loaded from gradfit")
    _compare_models(gm, tm)


# ---------------------------------------------------------------------- details
def test_optim_state_dict_layout_before_any_step():
    gm, gopt = _make(gradfit, "Adagrad", dict(lr=0.1))
    tm, topt = _make(torch, "Adagrad", dict(lr=0.1))
    # Adagrad's state is eager: one entry per parameter, step 0, sum = initial value
    assert structure(gopt.state_dict()) == structure(topt.state_dict())
    gm, gopt = _make(gradfit, "SGD", dict(lr=0.1))
    assert gopt.state_dict() == {
        "state": {},
        "param_groups": [
            {
                "lr": 0.1,
                "momentum": 0,
                "dampening": 0,
                "weight_decay": 0,
                "nesterov": False,
                "maximize": False,
                "foreach": None,
                "differentiable": False,
                "fused": None,
                "params": [0, 1, 2, 3, 4],
            }
        ],
    }


@pytest.mark.parametrize(
    "name",
    "SGD Adam AdamW RMSprop Adagrad Adadelta Adamax NAdam RAdam ASGD Rprop LBFGS".split(),
)
def test_optim_group_keys_in_pytorch_order(name):
    # Programs print param_groups and state_dict()["param_groups"]: dict order shows.
    g = getattr(gradfit.optim, name)([gradfit.zeros(2, requires_grad=True)])
    t = getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)])
    assert list(g.param_groups[0]) == list(t.param_groups[0])
    assert list(g.state_dict()["param_groups"][0]) == list(t.state_dict()["param_groups"][0])


def test_optim_step_state_is_float32_by_default():
    p = gradfit.zeros(3, requires_grad=True)
    opt = gradfit.optim.Adam([p], lr=0.1)
    p.grad = gradfit.ones(3)
    opt.step()
    step = opt.state[p]["step"]
    assert step.shape == () and step.dtype == gradfit.float32 and step.item() == 1.0
    assert opt.state[p]["exp_avg"].dtype == gradfit.float32
    assert p.dtype == gradfit.float32


def test_optim_step_state_is_float64_with_float64_default(float64):
    p = gradfit.zeros(3, requires_grad=True)
    opt = gradfit.optim.RMSprop([p], lr=0.1)
    p.grad = gradfit.ones(3)
    opt.step()
    assert opt.state[p]["step"].dtype == gradfit.float64


def test_optim_groups_and_hyperparameters_reread_each_step(float64):
    gm, tm = Model(gradfit, init_arrays()), Model(torch, init_arrays())

    def groups(m):
        p = m.params
        return [
            {"params": [p["W1"], p["b1"]]},
            {"params": [p["W2"], p["b2"]], "lr": 0.01, "momentum": 0.5},
        ]

    gopt = gradfit.optim.SGD(groups(gm), lr=0.05, momentum=0.9)
    topt = torch.optim.SGD(groups(tm), lr=0.05, momentum=0.9)
    for i in range(20):
        for opt in (gopt, topt):
            opt.param_groups[0]["lr"] = 0.05 / (1 + i)  # changed between steps
        _train(gm, gopt, 1)
        _train(tm, topt, 1)
    _compare_models(gm, tm)
    assert gopt.state_dict()["param_groups"] == topt.state_dict()["param_groups"]


def test_optim_add_param_group_and_named_params():
    a = gradfit.zeros(2, requires_grad=True)
    b = gradfit.zeros(3, requires_grad=True)
    opt = gradfit.optim.SGD([("a", a)], lr=0.1)
    opt.add_param_group({"params": [("b", b)], "lr": 0.2})
    assert opt.param_groups[1]["momentum"] == 0  # filled from defaults
    assert opt.param_groups[1]["param_names"] == ["b"]
    assert opt.state_dict()["param_groups"][1]["params"] == [1]
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [("a2", a)]})


def test_optim_zero_grad():
    p = gradfit.ones(2, requires_grad=True)
    opt = gradfit.optim.SGD([p], lr=0.1)
    p.grad = gradfit.ones(2)
    g = p.grad
    opt.zero_grad(set_to_none=False)
    assert p.grad is g and np.array_equal(g.numpy(), [0.0, 0.0])
    opt.zero_grad()
    assert p.grad is None


def test_optim_skips_params_without_grad_even_with_weight_decay():
    p = gradfit.ones(2, requires_grad=True)
    for opt in (
        gradfit.optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.5),
        gradfit.optim.Adam([p], lr=0.1, weight_decay=0.5),
        gradfit.optim.AdamW([p], lr=0.1),
        gradfit.optim.RMSprop([p], lr=0.1, weight_decay=0.5),
        gradfit.optim.Adagrad([p], lr=0.1, weight_decay=0.5),
        gradfit.optim.Adadelta([p], weight_decay=0.5),
        gradfit.optim.Adamax([p], weight_decay=0.5),
        gradfit.optim.NAdam([p], weight_decay=0.5, decoupled_weight_decay=True),
        gradfit.optim.RAdam([p], weight_decay=0.5),
        gradfit.optim.Rprop([p]),
        gradfit.optim.ASGD([p], weight_decay=0.5),
    ):
        version = p._version
        opt.step()
        assert np.array_equal(p.detach().numpy(), [1.0, 1.0])
        assert p._version == version
    # a zero gradient is not skipped: weight decay still moves the parameter
    p.grad = gradfit.zeros(2)
    gradfit.optim.SGD([p], lr=0.1, weight_decay=0.5).step()
    assert np.allclose(p.detach().numpy(), [0.95, 0.95])


def test_optim_step_bumps_version_and_breaks_stale_graphs():
    w = gradfit.tensor([1.0, 2.0], requires_grad=True)
    opt = gradfit.optim.SGD([w], lr=0.1)
    y = (w * w).sum()  # saves w for backward
    w.grad = gradfit.ones(2)
    version = w._version
    opt.step()
    assert w._version == version + 1
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_optim_step_returns_closure_loss_and_records_graph():
    p = gradfit.tensor([1.0, -1.0], requires_grad=True)
    opt = gradfit.optim.Adam([p], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    with gradfit.no_grad():  # the closure runs with recording on anyway
        loss = opt.step(closure)
    assert loss.item() == 2.0
    assert np.allclose(p.detach().numpy(), [0.9, -0.9])


def test_optim_repr_lists_groups():
    p = gradfit.zeros(1, requires_grad=True)
    text = repr(gradfit.optim.SGD([p], lr=0.1))
    assert text.startswith("SGD (\nParameter Group 0\n") and "    lr: 0.1" in text


def test_optim_repr_of_several_groups_is_pytorchs():
    # fine-tuning scripts print an optimizer with one group per part of the model
    reprs = []
    for lib in (torch, gradfit):
        a, b = lib.zeros(1, requires_grad=True), lib.zeros(1, requires_grad=True)
        opt = lib.optim.SGD([{"params": [a], "lr": 1e-4}, {"params": [b]}], lr=1e-3, momentum=0.9)
        reprs.append(repr(opt))
    assert reprs[1] == reprs[0]


@pytest.mark.parametrize(
    ("name", "kw"),
    [
        ("SGD", dict(lr=0.1, momentum=0.9, weight_decay=0.1, nesterov=True, maximize=True)),
        ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.1)),
        ("Adam", dict(lr=0.1, weight_decay=0.1, amsgrad=True)),
        ("AdamW", dict(lr=0.1)),
        ("RMSprop", dict(lr=0.1, momentum=0.9, centered=True, weight_decay=0.1)),
        ("Adagrad", dict(lr=0.1, lr_decay=0.1, weight_decay=0.1)),
        ("Adadelta", dict(lr=0.1, rho=0.8, weight_decay=0.1)),
        ("Adamax", dict(lr=0.1, weight_decay=0.1)),
        ("NAdam", dict(lr=0.1, weight_decay=0.1, momentum_decay=0.01)),
        ("RAdam", dict(lr=0.1, weight_decay=0.1, decoupled_weight_decay=True)),
        ("Rprop", dict(lr=0.1, etas=(0.5, 1.5), step_sizes=(1e-4, 1.0))),
        ("ASGD", dict(lr=0.1, lambd=0.1, alpha=0.5, t0=1.0, weight_decay=0.1)),
    ],
)
def test_optim_float32_stays_float32(name, kw):
    """No silent float64 promotion, even with NumPy float64 hyperparameters."""
    kw = {k: np.float64(v) if isinstance(v, float) else v for k, v in kw.items()}
    p = gradfit.tensor([1.0, -2.0, 3.0], requires_grad=True)
    opt = getattr(gradfit.optim, name)([p], **kw)
    for _ in range(3):
        p.grad = gradfit.tensor([0.5, 0.25, -1.0])
        opt.step()
    assert p.dtype == gradfit.float32 and p.grad.dtype == gradfit.float32
    for key, value in opt.state[p].items():
        if key != "step":
            assert value.dtype == gradfit.float32, key


@pytest.mark.parametrize(("name", "kw"), CASES)
def test_optim_never_writes_to_grad_or_aliases_it(name, kw):
    p = gradfit.tensor([1.0, -2.0, 3.0], requires_grad=True)
    opt = getattr(gradfit.optim, name)([p], **kw)
    p.grad = gradfit.tensor([0.5, 0.25, -1.0])
    for _ in range(3):  # the same grad Tensor each step (no zero_grad)
        opt.step()
        assert np.array_equal(p.grad.numpy(), [0.5, 0.25, -1.0])
    for key, value in opt.state[p].items():
        assert not np.shares_memory(value.numpy(), p.grad.numpy()), key
        assert not np.shares_memory(value.numpy(), p.detach().numpy()), key
