"""optim.swa_utils against PyTorch: AveragedModel's SWA / EMA averages bit for bit (default,
avg_fn, multi_avg_fn, use_buffers) over several updates, SWALR's learning rates for both
anneal strategies, update_bn's recomputed BatchNorm statistics, and PyTorch's errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.optim.swa_utils as tswa

import gradfit
import gradfit.optim.swa_utils as gswa


def _net(nn):
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))


def _set(model, arrays):
    """Write the same values into a torch or a gradfit model (parameters, then buffers)."""
    tensors = list(model.parameters()) + [b for b in model.buffers() if b.is_floating_point()]
    for t, a in zip(tensors, arrays, strict=True):
        if isinstance(t, torch.Tensor):
            with torch.no_grad():
                t.copy_(torch.tensor(a))
        else:
            t.data.copy_(gradfit.tensor(a))


def _shapes():
    m = _net(torch.nn)
    return [tuple(t.shape) for t in list(m.parameters()) + list(m.buffers())[:2]]


@pytest.mark.parametrize(
    "kind",
    ["swa", "ema_multi", "ema_avg_fn", "ema_multi_buffers", "swa_avg_fn", "swa_multi_buffers"],
)
def test_averages_match_pytorch_bit_for_bit(kind):
    rng = np.random.default_rng(0)
    shapes = _shapes()
    results = {}
    for lib, swa in ((torch, tswa), (gradfit, gswa)):
        model = _net(lib.nn)
        kwargs = {
            "swa": {},
            "ema_multi": {"multi_avg_fn": swa.get_ema_multi_avg_fn(0.9)},
            "ema_avg_fn": {"avg_fn": swa.get_ema_avg_fn(0.75)},
            "ema_multi_buffers": {"multi_avg_fn": swa.get_ema_multi_avg_fn(), "use_buffers": True},
            "swa_multi_buffers": {"multi_avg_fn": swa.get_swa_multi_avg_fn(), "use_buffers": True},
            "swa_avg_fn": {"avg_fn": swa.get_swa_avg_fn()},
        }[kind]
        avg = swa.AveragedModel(model, **kwargs)
        rng = np.random.default_rng(0)
        try:
            for _ in range(5):
                _set(model, [rng.standard_normal(s).astype(np.float32) for s in shapes])
                model[1].num_batches_tracked += 3  # an integer buffer (use_buffers averages it)
                avg.update_parameters(model)
        except RuntimeError as e:  # PyTorch refuses SWA's multi-tensor form on integers
            results[lib.__name__] = str(e)
            continue
        results[lib.__name__] = {k: v.numpy().copy() for k, v in avg.state_dict().items()}
    if isinstance(results["torch"], str):
        assert results["gradfit"] == results["torch"] and kind == "swa_multi_buffers"
        return
    assert list(results["gradfit"]) == list(results["torch"])
    for key, expected in results["torch"].items():
        np.testing.assert_array_equal(results["gradfit"][key], expected, err_msg=key)


def test_averaged_model_forward_and_errors():
    t = tswa.AveragedModel(torch.nn.Linear(2, 2))
    g = gswa.AveragedModel(gradfit.nn.Linear(2, 2))
    assert [n for n, _ in g.named_parameters()] == [n for n, _ in t.named_parameters()]
    x = gradfit.ones(1, 2)
    np.testing.assert_array_equal(g(x).detach().numpy(), g.module(x).detach().numpy())
    with pytest.raises(AssertionError, match="Only one of avg_fn and multi_avg_fn"):
        gswa.AveragedModel(gradfit.nn.Linear(2, 2), avg_fn=gswa.get_swa_avg_fn(),
                           multi_avg_fn=gswa.get_swa_multi_avg_fn())  # fmt: skip
    for make in (lambda s: s.get_ema_avg_fn(1.5), lambda s: s.get_ema_multi_avg_fn(-0.1)):
        with pytest.raises(ValueError) as te:
            make(tswa)
        with pytest.raises(ValueError) as ge:
            make(gswa)
        assert str(ge.value) == str(te.value)


@pytest.mark.parametrize("strategy,anneal_epochs", [("cos", 3), ("linear", 4), ("cos", 0)])
def test_swalr_learning_rates_match_pytorch(strategy, anneal_epochs):
    lrs = {}
    for lib, swa in ((torch, tswa), (gradfit, gswa)):
        p1, p2 = lib.zeros(2, requires_grad=True), lib.zeros(1, requires_grad=True)
        opt = lib.optim.SGD([{"params": [p1]}, {"params": [p2], "lr": 0.3}], lr=1.0)
        sched = swa.SWALR(opt, swa_lr=[0.05, 0.2], anneal_epochs=anneal_epochs,
                          anneal_strategy=strategy)  # fmt: skip
        seen = [sched.get_last_lr()]
        for _ in range(7):
            opt.step()
            sched.step()
            seen.append(sched.get_last_lr())
        lrs[lib.__name__] = (seen, sorted(sched.state_dict()))
    assert lrs["gradfit"][0] == lrs["torch"][0]  # exact floats
    assert lrs["gradfit"][1] == lrs["torch"][1]
    # the closed form at the end of annealing: the swa_lr itself
    assert math.isclose(lrs["gradfit"][0][-1][0], 0.05)


def test_swalr_errors_match_pytorch():
    for kwargs in ({"anneal_strategy": "exp"}, {"anneal_epochs": -1}, {"anneal_epochs": 1.5}):
        with pytest.raises(ValueError) as te:
            tswa.SWALR(torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1), 0.1, **kwargs)
        with pytest.raises(ValueError) as ge:
            gswa.SWALR(
                gradfit.optim.SGD([gradfit.zeros(1, requires_grad=True)], lr=1), 0.1, **kwargs
            )
        assert str(ge.value) == str(te.value)


def test_update_bn_recomputes_running_statistics():
    rng = np.random.default_rng(3)
    params = [rng.standard_normal(s).astype(np.float32) for s in _shapes()]
    data = [rng.standard_normal((5, 3)).astype(np.float32) for _ in range(3)]
    out = {}
    for lib, swa in ((torch, tswa), (gradfit, gswa)):
        model = _net(lib.nn)
        _set(model, params)
        model.eval()
        loader = [(lib.tensor(d), lib.zeros(5)) for d in data]
        swa.update_bn(loader, model)
        bn = model[1]
        out[lib.__name__] = (
            bn.running_mean.numpy().copy(),
            bn.running_var.numpy().copy(),
            int(bn.num_batches_tracked),
            bn.momentum,
            model.training,
        )
        swa.update_bn([], lib.nn.Linear(2, 2))  # no BatchNorm: nothing to do
    g, t = out["gradfit"], out["torch"]
    np.testing.assert_allclose(g[0], t[0], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(g[1], t[1], rtol=1e-6, atol=1e-7)
    assert g[2:] == t[2:]


def test_submodule_is_reachable_as_in_pytorch():
    import gradfit.optim

    assert gradfit.optim.swa_utils is gswa
    assert "swa_utils" in dir(gradfit.optim) and hasattr(torch.optim, "swa_utils")
