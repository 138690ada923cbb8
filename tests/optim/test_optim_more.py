"""Adadelta, Adamax, NAdam, RAdam, Rprop, ASGD and Adafactor against PyTorch beyond the float64 MLP
runs of test_optim_parity.py (which covers them with every option, save/load and
state_dict exchange): float32 and float64 trajectories from the same gradients, the state
layout and dtypes, Rprop bit for bit, and old-format state dicts.

Bit-for-bit agreement is not expected in general: PyTorch's CPU kernels for ``add(...,
alpha=)``, ``addcmul`` and ``lerp`` use fused multiply-adds (one rounding where NumPy
rounds twice), so each step can differ in the last bit, as for SGD and Adam. Rprop's
products are exact (signs times step sizes), so it agrees exactly."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gradfit

from ._mlp import assert_rel_close, structure, to_numpy

STEPS = 30

OPTIONS = [
    ("Adadelta", dict(lr=0.5, rho=0.8, weight_decay=0.02)),
    ("Adadelta", dict(maximize=True)),
    ("Adamax", dict(lr=0.01, betas=(0.7, 0.9), weight_decay=0.02)),
    ("NAdam", dict(lr=0.01, weight_decay=0.02, momentum_decay=0.02)),
    ("NAdam", dict(lr=0.01, weight_decay=0.02, decoupled_weight_decay=True, maximize=True)),
    ("RAdam", dict(lr=0.01, betas=(0.8, 0.9), weight_decay=0.02)),
    ("RAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("Rprop", dict(lr=0.01, etas=(0.4, 1.5), step_sizes=(1e-4, 0.2))),
    ("Rprop", dict(lr=0.01, maximize=True)),
    ("ASGD", dict(lr=0.02, lambd=0.01, alpha=0.6, t0=5, weight_decay=0.02)),
    ("ASGD", dict(lr=0.02, maximize=True)),
    ("Adafactor", dict(lr=0.05, weight_decay=0.02)),
    ("Adafactor", dict(lr=0.02, eps=(1e-20, 1e-2), d=1.5, beta2_decay=-0.5, maximize=True)),
]


def _trajectory(lib, name: str, kw: dict, dtype, steps: int = STEPS):
    """``steps`` steps on a vector and a matrix parameter of ``dtype``, with gradients
    g_t + 0.3·p (fixed noise plus a pull that depends on the parameters, so the two
    libraries only agree if their parameters do). Returns (params, optimizer)."""
    rng = np.random.default_rng(3)
    shapes = [(17,), (3, 5)]
    inits = [rng.normal(size=s).astype(dtype) for s in shapes]
    noise = [[rng.normal(size=s).astype(dtype) for s in shapes] for _ in range(steps)]
    params = [lib.tensor(a.copy(), requires_grad=True) for a in inits]
    opt = getattr(lib.optim, name)(params, **kw)
    for g_t in noise:
        for p, g in zip(params, g_t):
            p.grad = lib.tensor(g + p.detach().numpy() * dtype(0.3))
        opt.step()
    return [p.detach().numpy().copy() for p in params], opt


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize(("name", "kw"), OPTIONS, ids=[f"{n}-{kw}" for n, kw in OPTIONS])
def test_optim_more_trajectory_matches_torch(name, kw, dtype):
    gp, gopt = _trajectory(gradfit, name, kw, dtype)
    tp, topt = _trajectory(torch, name, kw, dtype)
    tol = 2e-6 if dtype == np.float32 else 1e-13
    for i, (a, b) in enumerate(zip(gp, tp)):
        assert a.dtype == b.dtype == dtype
        if name == "Rprop":  # exact products: the same bits
            assert np.array_equal(a, b), f"param {i}"
        assert_rel_close(a, b, tol, f"param {i}")
    gsd, tsd = gopt.state_dict(), topt.state_dict()
    # same keys in the same (creation) order, same shapes and dtypes (the 0-d step
    # counters in float32, the default dtype), same hyperparameters
    assert structure(gsd) == structure(tsd)
    for idx in tsd["state"]:
        assert list(gsd["state"][idx]) == list(tsd["state"][idx])
    assert gsd["param_groups"] == tsd["param_groups"]
    gs, ts = to_numpy(gsd["state"]), to_numpy(tsd["state"])
    for idx in ts:
        for key, value in ts[idx].items():
            if name == "Rprop":
                assert np.array_equal(gs[idx][key], value), f"state[{idx}][{key}]"
            assert_rel_close(gs[idx][key], value, tol, f"state[{idx}][{key}]")
    assert not np.allclose(gp[0], _trajectory(gradfit, name, kw, dtype, steps=0)[0][0])


def test_optim_more_defaults_match_torch():
    """Same signature defaults: a group built with no arguments equals PyTorch's."""
    for name in ("Adadelta", "Adamax", "NAdam", "RAdam", "Rprop", "ASGD", "Adafactor"):
        g = getattr(gradfit.optim, name)([gradfit.zeros(2, requires_grad=True)])
        t = getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)])
        assert g.state_dict() == t.state_dict(), name


def test_optim_asgd_averages_from_t0(float64):
    """ax copies the parameters up to step t0 + 2, then is the running mean of the
    iterates from step t0 + 2 on (μ = 1/max(1, t − t0) is set after step t, for the next)."""
    p = gradfit.tensor([1.0, -1.0], requires_grad=True)
    opt = gradfit.optim.ASGD([p], lr=0.1, t0=3)
    seen = []
    for k in range(1, 8):
        p.grad = gradfit.tensor([0.5 * k, -0.25])
        opt.step()
        seen.append(p.detach().numpy().copy())
        ax = opt.state[p]["ax"].numpy()
        if k <= 5:
            assert np.array_equal(ax, seen[-1])
        else:
            assert np.allclose(ax, np.mean(seen[4:], axis=0), rtol=1e-14, atol=0)
    assert opt.state[p]["mu"].item() == 1 / (7 - 3)


OLD_STATES = {
    "NAdam": dict(
        lr=0.1,
        state=dict(
            step=4.0, mu_product=0.5, exp_avg=[0.1, 0.2, -0.3], exp_avg_sq=[0.01, 0.04, 0.09]
        ),
    ),
    "ASGD": dict(lr=0.1, t0=5, state=dict(step=6.0, eta=0.05, mu=1.0, ax=[0.5, -1.0, 0.2])),
}


@pytest.mark.parametrize("name", list(OLD_STATES))
def test_optim_more_old_number_state_loads_like_torch(float64, name):
    """A state dict whose 0-d entries (``step``, NAdam's ``mu_product``, ASGD's ``eta``
    and ``mu``) are plain numbers, as older PyTorch saved them, loads and continues as
    in PyTorch."""
    kw = dict(OLD_STATES[name])
    saved = kw.pop("state")
    runs = {}
    for lib in (gradfit, torch):
        p = lib.tensor([1.0, -2.0, 0.5], requires_grad=True)
        opt = getattr(lib.optim, name)([p], **kw)
        state = {k: lib.tensor(v) if isinstance(v, list) else v for k, v in saved.items()}
        group = dict(opt.state_dict()["param_groups"][0])
        opt.load_state_dict({"state": {0: state}, "param_groups": [group]})
        for _ in range(3):
            p.grad = lib.tensor([0.3, -0.1, 0.2])
            opt.step()
        runs[lib.__name__] = (p.detach().numpy().copy(), opt.state_dict()["state"])
    (gp, gs), (tp, ts) = runs["gradfit"], runs["torch"]
    assert_rel_close(gp, tp, 1e-13, "params")
    assert structure(gs) == structure(ts)  # numbers became 0-d tensors of the same dtype
    gs, ts = to_numpy(gs), to_numpy(ts)
    assert gs[0]["step"] == ts[0]["step"] == saved["step"] + 3
    for key, value in ts[0].items():
        assert_rel_close(gs[0][key], value, 1e-13, key)


def test_optim_asgd_loaded_state_in_float64_params_like_torch():
    """float64 parameters with the float32 default: a loaded state dict holds eta and mu
    in float64 (PyTorch casts them to the parameters' dtype), while each new value still
    passes through a float32 tensor first, as in PyTorch."""
    runs = {}
    for lib in (gradfit, torch):
        p = lib.tensor([1.0, -2.0, 0.5], dtype=lib.float64, requires_grad=True)
        opt = lib.optim.ASGD([p], lr=0.013, lambd=0.03, t0=2)
        for k in range(3):
            p.grad = lib.tensor([0.3, -0.1, 0.2 * k], dtype=lib.float64)
            opt.step()
        fresh = lib.optim.ASGD([p], lr=0.013, lambd=0.03, t0=2)
        fresh.load_state_dict(opt.state_dict())
        for k in range(4):
            p.grad = lib.tensor([0.1, 0.2 * k, -0.3], dtype=lib.float64)
            fresh.step()
        runs[lib.__name__] = to_numpy(fresh.state_dict()["state"][0])
    g, t = runs["gradfit"], runs["torch"]
    assert g["eta"].dtype == t["eta"].dtype == np.float64
    assert g["eta"] == t["eta"] and g["mu"] == t["mu"]
    assert g["eta"] == np.float32(g["eta"])  # a float32 value


TUTORIAL = [
    ("Adadelta", dict()),
    ("Adamax", dict(lr=0.01)),
    ("NAdam", dict(lr=0.01, weight_decay=1e-4, decoupled_weight_decay=True)),
    ("RAdam", dict(lr=0.01, weight_decay=1e-4)),
    ("Rprop", dict(lr=0.001)),
    ("ASGD", dict(lr=0.05, t0=10)),
]


@pytest.mark.parametrize(("name", "kw"), TUTORIAL, ids=[t[0] for t in TUTORIAL])
def test_optim_more_tutorial_loop_prints_what_torch_prints(name, kw):
    """A float32 nn.Module trained the tutorials' way, with per-batch warm restarts
    (``scheduler.step(epoch + i / iters)``): the same printed optimizer and losses."""
    rng = np.random.default_rng(5)
    x = rng.normal(size=(32, 4)).astype(np.float32)
    y = (x[:, :1] * x[:, 1:2] - x[:, 2:3]).astype(np.float32)
    torch.manual_seed(0)
    tnet = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    gnet = gradfit.nn.Sequential(
        gradfit.nn.Linear(4, 8), gradfit.nn.Tanh(), gradfit.nn.Linear(8, 1)
    )
    gnet.load_state_dict({k: gradfit.tensor(v.numpy()) for k, v in tnet.state_dict().items()})
    printed = {}
    for lib, net in ((torch, tnet), (gradfit, gnet)):
        opt = getattr(lib.optim, name)(net.parameters(), **kw)
        sched = lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=2)
        lines, iters = [repr(opt)], 4
        for epoch in range(5):
            total = 0.0
            for i in range(iters):
                xb, yb = lib.tensor(x[i::iters]), lib.tensor(y[i::iters])
                opt.zero_grad()
                loss = lib.nn.functional.mse_loss(net(xb), yb)
                loss.backward()
                opt.step()
                sched.step(epoch + i / iters)
                total += loss.item()
            lines.append(f"epoch {epoch}: loss {total / iters:.4f} lr {sched.get_last_lr()[0]:.6f}")
        printed[lib.__name__] = lines
    assert printed["gradfit"] == printed["torch"]
    assert len(set(printed["torch"][1:])) == 5
    gw, tw = gnet.state_dict(), tnet.state_dict()
    for k in tw:
        assert_rel_close(gw[k].numpy(), tw[k].numpy(), 1e-5, k)


@pytest.mark.parametrize(
    "name",
    [
        "Adam",
        "AdamW",
        "RMSprop",
        "Adagrad",
        "NAdam",
        "RAdam",
        "Adamax",
        "Adadelta",
        "ASGD",
        "Rprop",
    ],
)
def test_a_0d_parameter_trains_as_in_torch(name):
    results = []
    for lib in (gradfit, torch):
        p = lib.nn.Parameter(lib.tensor(1.5, dtype=lib.float64))
        kwargs = {"momentum": 0.9, "centered": True} if name == "RMSprop" else {}
        opt = getattr(lib.optim, name)([p], lr=0.1, **kwargs)
        for _ in range(3):
            opt.zero_grad()
            (p * p).backward()
            opt.step()
        shapes = {k: tuple(v.shape) for k, v in opt.state[p].items()}
        results.append((p.item(), shapes))
    assert results[0][1] == results[1][1]
    assert results[0][0] == pytest.approx(results[1][0], rel=1e-12)
