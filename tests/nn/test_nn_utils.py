"""nn.utils: gradient clipping and parameter vectors against PyTorch; the gradient monitor on
the lecture's Figure 7.7 setting (50 ReLU layers of width 100)."""

import math
import warnings

import numpy as np
import pytest
import torch
from nn_testing import torch_default_float32  # noqa: F401 - autouse fixture

import gradfit
import gradfit.nn as nn
from gradfit.nn.utils import GradientHealthWarning, GradientMonitor


def _net_pair(dtype=np.float64):
    torch.manual_seed(0)
    g = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).to(dtype)
    t = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    t = t.to(torch.float64 if dtype == np.float64 else torch.float32)
    g.load_state_dict({k: v.detach().numpy() for k, v in t.state_dict().items()})
    x = np.random.default_rng(0).normal(size=(5, 3)).astype(dtype) * 3
    (g(gradfit.tensor(x)) ** 2).sum().backward()
    (t(torch.tensor(x)) ** 2).sum().backward()
    return g, t


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf, "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
def test_clip_grad_norm_matches_torch(max_norm, norm_type, dtype):
    g, t = _net_pair(dtype)
    total_g = nn.utils.clip_grad_norm_(g.parameters(), max_norm, norm_type=norm_type)
    total_t = torch.nn.utils.clip_grad_norm_(t.parameters(), max_norm, norm_type=norm_type)
    rtol = 1e-10 if dtype == np.float64 else 1e-5
    assert isinstance(total_g, gradfit.Tensor) and total_g.shape == ()
    np.testing.assert_allclose(total_g.numpy(), total_t.numpy(), rtol=rtol)
    for gp, tp in zip(g.parameters(), t.parameters()):
        # float32 backprop of the two libraries differs by rounding: an absolute floor
        # relative to the gradient's scale keeps near-zero entries from failing.
        atol = 1e-14 if dtype == np.float64 else 1e-6 * np.abs(tp.grad.numpy()).max()
        np.testing.assert_allclose(gp.grad.numpy(), tp.grad.numpy(), rtol=rtol, atol=atol)
    if max_norm == 0.5:  # the clipped gradients have the requested norm
        flat = np.concatenate([p.grad.numpy().ravel() for p in g.parameters()])
        p = math.inf if norm_type == "inf" else norm_type
        assert np.linalg.norm(flat, ord=p) == pytest.approx(0.5, rel=1e-4)


def test_clip_grad_norm_nonfinite_and_empty():
    p = nn.Parameter(gradfit.ones(3))
    p.grad = gradfit.tensor([1.0, float("inf"), 0.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    total = nn.utils.clip_grad_norm_([p], 1.0)
    assert math.isinf(total.item())
    assert nn.utils.clip_grad_norm_([nn.Parameter(gradfit.ones(2))], 1.0).item() == 0.0
    single = nn.Parameter(gradfit.ones(4))
    single.grad = gradfit.full((4,), 2.0)
    assert nn.utils.clip_grad_norm_(single, 1.0).item() == pytest.approx(4.0)


def test_clip_grad_value_matches_torch():
    g, t = _net_pair()
    nn.utils.clip_grad_value_(g.parameters(), 0.3)
    torch.nn.utils.clip_grad_value_(t.parameters(), 0.3)
    for gp, tp in zip(g.parameters(), t.parameters()):
        np.testing.assert_allclose(gp.grad.numpy(), tp.grad.numpy(), rtol=1e-10, atol=1e-14)
        assert np.abs(gp.grad.numpy()).max() <= 0.3


def test_parameters_to_vector_and_back():
    g, t = _net_pair()
    vec = nn.utils.parameters_to_vector(g.parameters())
    want = torch.nn.utils.parameters_to_vector(t.parameters())
    np.testing.assert_array_equal(vec.detach().numpy(), want.detach().numpy())
    assert vec.shape == (sum(p.numel() for p in g.parameters()),)
    # Differentiable, as in PyTorch.
    (vec * gradfit.arange(vec.numel(), dtype=gradfit.float64)).sum().backward()
    assert g[0].weight.grad is not None
    new = gradfit.arange(vec.numel(), dtype=gradfit.float64)
    nn.utils.vector_to_parameters(new, g.parameters())
    assert g[0].weight.detach().numpy().ravel().tolist() == list(range(12))
    assert g[2].bias.detach().numpy().tolist() == [vec.numel() - 2, vec.numel() - 1]
    with gradfit.no_grad():
        new.add_(1.0)  # the parameters are views of the vector, as in PyTorch
    assert g[0].weight.detach().numpy()[0, 0] == 1.0
    with pytest.raises(TypeError, match="expected gradfit.Tensor"):
        nn.utils.vector_to_parameters([1.0], g.parameters())


# ---------------------------------------------------------------------------- monitor
def _deep_relu(var: float | None, depth: int = 50, width: int = 100, dtype=gradfit.float64):
    """Figure 7.7's network: `depth` ReLU layers of `width`, zero biases, N(0, var) weights
    (He when var is None)."""
    layers = []
    for _ in range(depth):
        layer = nn.Linear(width, width, dtype=dtype)
        if var is None:
            nn.init.he_normal_(layer.weight)
        else:
            nn.init.normal_(layer.weight, 0.0, math.sqrt(var))
        nn.init.zeros_(layer.bias)
        layers += [layer, nn.ReLU()]
    return nn.Sequential(*layers)


def _run(model, dtype=gradfit.float64, batch=32):
    x = gradfit.randn(batch, 100, dtype=dtype)
    out = model(x)
    (out * out).sum().backward()  # least squares against y = 0


@pytest.mark.parametrize("dtype", [gradfit.float64, gradfit.float32])
def test_monitor_flags_exploding_network(dtype):
    gradfit.manual_seed(0)
    model = _deep_relu(1.0, dtype=dtype)
    monitor = GradientMonitor(model, factor=2.0)
    with pytest.warns(GradientHealthWarning) as record, np.errstate(all="ignore"):
        _run(model, dtype)
    messages = [str(w.message) for w in record]
    assert any("activations" in m for m in messages) and any("gradients" in m for m in messages)
    forward = [f for f in monitor.flagged if f.direction == "forward"]
    backward = [f for f in monitor.flagged if f.direction == "backward"]
    assert len(forward) >= 10 and len(backward) >= 10
    grows = [f for f in forward if f.problem == "grows"]
    # The lecture: Var[f'] = D_h sigma^2 / 2 Var[f] = 50 Var[f] per layer.
    assert grows and all(10 < f.ratio < 250 for f in grows)
    if dtype == gradfit.float32:  # 50^50 overflows float32: flagged as non-finite
        assert any(f.problem == "non-finite" for f in forward)
    report = monitor.report()
    assert "forward grows" in report and report.count("\n") == 51
    monitor.remove()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _run(_deep_relu(1.0, depth=3))  # removed hooks: silent


def test_monitor_flags_vanishing_network():
    gradfit.manual_seed(1)
    model = _deep_relu(0.001)  # ratio 0.05 per layer
    monitor = GradientMonitor(model, factor=2.0, warn=False)
    _run(model)
    shrinks = [f for f in monitor.flagged if f.problem in ("shrinks", "zero")]
    assert {f.direction for f in shrinks} == {"forward", "backward"}
    assert all(f.ratio < 0.5 for f in shrinks)


def test_monitor_quiet_with_he_initialisation():
    gradfit.manual_seed(2)
    model = _deep_relu(None)
    with warnings.catch_warnings():
        warnings.simplefilter("error", GradientHealthWarning)
        with GradientMonitor(model, factor=2.0) as monitor:
            _run(model)
            assert monitor.flagged == []
            assert len(monitor.layers) == 50 and monitor.passes == 1
            acts = [s.activation_var for s in monitor.layers]
            grads = [s.grad_var for s in monitor.layers]
            assert all(v is not None and v > 0 for v in acts + grads)
            # Stable across all 50 layers, as in Figure 7.7 for sigma^2 = 2 / D_h.
            assert 0.05 < acts[-1] / acts[0] < 20 and 0.05 < grads[0] / grads[-1] < 20
    assert not model[0]._forward_hooks and not model._forward_hooks


def test_monitor_records_variances_of_activations_and_gradients():
    gradfit.manual_seed(3)
    model = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 1))
    monitor = GradientMonitor(model, warn=False)
    captured = {}
    model[0].register_forward_hook(lambda m, a, out: captured.setdefault("f1", out))
    x = gradfit.randn(8, 4)
    out = model(x)
    captured["f1"].retain_grad()
    out.sum().backward()
    s0 = monitor.layers[0]
    assert s0.name == "0" and s0.kind == "Linear"
    assert s0.activation_var == pytest.approx(np.var(captured["f1"].detach().numpy()), rel=1e-6)
    assert s0.grad_var == pytest.approx(np.var(captured["f1"].grad.numpy()), rel=1e-6)
    assert monitor.layers[1].grad_var == 0.0  # d(sum)/d(out) = 1 everywhere
    with pytest.raises(ValueError, match="factor must be > 1"):
        GradientMonitor(model, factor=0.5)


def test_monitor_module_selection():
    model = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 2), nn.ReLU())
    m = GradientMonitor(model, modules=nn.ReLU, warn=False)
    assert [s.name for s in m.layers] == ["1", "3"]
    m.remove()
    m = GradientMonitor(model, modules=[model[2]], warn=False)
    assert [s.name for s in m.layers] == ["2"]
    m.remove()
    with pytest.raises(ValueError, match="no layers"):
        GradientMonitor(nn.ReLU())


def test_clip_grad_norm_in_two_halves_matches_torch():
    # get_total_norm then clip_grads_with_norm_ (PyTorch 2.6+), and the one-call form on a
    # generator of parameters, which must be read twice
    import torch

    out = {}
    for lib in (torch, gradfit):
        lib.manual_seed(0)
        m = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Tanh(), lib.nn.Linear(4, 2))
        m(lib.randn(5, 3)).pow(2).sum().backward()
        first = lib.nn.utils.clip_grad_norm_(m.parameters(), 0.5)
        total = lib.nn.utils.get_total_norm([p.grad for p in m.parameters()], 1.0)
        lib.nn.utils.clip_grads_with_norm_(m.parameters(), 0.1, total)
        out[lib] = [first.item(), total.item()] + [p.grad.tolist() for p in m.parameters()]
    # float32 products may differ in the last bit (BLAS), so compare to rounding
    for got, want in zip(out[gradfit], out[torch]):
        np.testing.assert_allclose(got, want, rtol=1e-6)
