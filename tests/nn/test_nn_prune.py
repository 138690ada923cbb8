"""nn.utils.prune against PyTorch: same masks for the same seed (random draws and
magnitude ties included), PyTorch's parameter/buffer/hook layout and state_dict keys,
forward values and gradients through the mask, composition in a PruningContainer,
global pruning, remove(), and PyTorch's errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.utils.prune as tprune

import gradfit
import gradfit.nn.utils.prune as gprune
from gradfit._stl import topk_index_set


def _pair(make, seed=0):
    """The same layer in both libraries: gradfit's gets torch's initial values."""
    torch.manual_seed(seed)
    gradfit.manual_seed(seed)
    t = make(torch.nn)
    g = make(gradfit.nn)
    with torch.no_grad():
        for (_, tp), (_, gp) in zip(t.named_parameters(), g.named_parameters(), strict=True):
            gp.data.copy_(gradfit.tensor(tp.detach().numpy()))
    return t, g


def _np(x):
    return x.detach().numpy() if isinstance(x, torch.Tensor) else x.detach().numpy()


# Each step: (function name, name, args, kwargs); applied in order to both libraries.
SCENARIOS = {
    "random_unstructured": [("random_unstructured", "weight", (0.4,), {})],
    "l1_int_amount": [("l1_unstructured", "weight", (5,), {})],
    "ln_structured_l2_dim0": [("ln_structured", "weight", (0.5,), {"n": 2, "dim": 0})],
    "ln_structured_l1_dim_last": [("ln_structured", "weight", (2,), {"n": 1, "dim": -1})],
    "random_structured": [("random_structured", "weight", (0.5,), {"dim": 1})],
    "identity": [("identity", "weight", (), {})],
    "container": [
        ("random_unstructured", "weight", (0.3,), {}),
        ("l1_unstructured", "weight", (0.3,), {}),
        ("ln_structured", "weight", (1,), {"n": float("inf"), "dim": 0}),
        ("random_structured", "weight", (1,), {"dim": -1}),
    ],
    "bias_and_weight": [
        ("l1_unstructured", "bias", (0.5,), {}),
        ("random_unstructured", "weight", (3,), {}),
    ],
}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
@pytest.mark.parametrize("layer", ["linear", "conv"])
def test_masks_layout_and_values_match_pytorch(scenario, layer):
    if layer == "linear":
        make = lambda nn: nn.Linear(6, 5)  # noqa: E731
        x = np.random.default_rng(1).standard_normal((3, 6)).astype(np.float32)
    else:
        make = lambda nn: nn.Conv2d(3, 4, 3)  # noqa: E731
        x = np.random.default_rng(1).standard_normal((2, 3, 5, 5)).astype(np.float32)
    t, g = _pair(make)
    torch.manual_seed(7)
    gradfit.manual_seed(7)
    for fname, name, args, kwargs in SCENARIOS[scenario]:
        getattr(tprune, fname)(t, name, *args, **kwargs)
        getattr(gprune, fname)(g, name, *args, **kwargs)
    assert list(g.state_dict()) == list(t.state_dict())
    assert [n for n, _ in g.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert [n for n, _ in g.named_buffers()] == [n for n, _ in t.named_buffers()]
    for key, tv in t.state_dict().items():
        np.testing.assert_array_equal(g.state_dict()[key].numpy(), tv.numpy(), err_msg=key)
    for name in ("weight", "bias"):
        np.testing.assert_array_equal(_np(getattr(g, name)), _np(getattr(t, name)))
    assert gprune.is_pruned(g) and tprune.is_pruned(t)
    hooks_t = [type(h).__name__ for h in t._forward_pre_hooks.values()]
    assert [type(h).__name__ for h in g._forward_pre_hooks.values()] == hooks_t
    # forward and the gradient reaching <name>_orig through the mask
    yt = t(torch.tensor(x))
    yg = g(gradfit.tensor(x))
    np.testing.assert_allclose(yg.detach().numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-6)
    (yt**2).sum().backward()
    (yg**2).sum().backward()
    np.testing.assert_allclose(
        g.weight_orig.grad.numpy(), t.weight_orig.grad.numpy(), rtol=1e-4, atol=1e-5
    )
    # the draws consumed the same random numbers
    assert gradfit.rand(3).tolist() == torch.rand(3).tolist()


def test_hook_recomputes_after_orig_changes_and_remove_makes_it_permanent():
    t, g = _pair(lambda nn: nn.Linear(4, 3))
    tprune.l1_unstructured(t, "weight", amount=0.5)
    gprune.l1_unstructured(g, "weight", amount=0.5)
    with torch.no_grad():
        t.weight_orig.add_(1.0)
    with gradfit.no_grad():
        g.weight_orig.add_(1.0)
    x = np.ones((2, 4), dtype=np.float32)
    np.testing.assert_allclose(
        g(gradfit.tensor(x)).detach().numpy(), t(torch.tensor(x)).detach().numpy(), rtol=1e-6
    )
    tprune.remove(t, "weight")
    gprune.remove(g, "weight")
    assert list(g.state_dict()) == list(t.state_dict())  # weight re-registered last
    assert sorted(g.state_dict()) == ["bias", "weight"]
    assert isinstance(g.weight, gradfit.nn.Parameter)
    np.testing.assert_array_equal(g.weight.detach().numpy(), t.weight.detach().numpy())
    assert not gprune.is_pruned(g) and not g._forward_pre_hooks


def test_global_unstructured_and_custom_from_mask_match_pytorch():
    t, g = _pair(lambda nn: nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 3)))
    tprune.l1_unstructured(t[2], "weight", 2)  # an existing mask is honoured
    gprune.l1_unstructured(g[2], "weight", 2)
    tparams = [(t[0], "weight"), (t[0], "bias"), (t[2], "weight")]
    gparams = [(g[0], "weight"), (g[0], "bias"), (g[2], "weight")]
    tscores = {(t[0], "bias"): torch.arange(4.0)}
    gscores = {(g[0], "bias"): gradfit.arange(4.0)}
    tprune.global_unstructured(
        tparams, tprune.L1Unstructured, importance_scores=tscores, amount=0.4
    )
    gprune.global_unstructured(
        gparams, gprune.L1Unstructured, importance_scores=gscores, amount=0.4
    )
    for key, tv in t.state_dict().items():
        np.testing.assert_array_equal(g.state_dict()[key].numpy(), tv.numpy(), err_msg=key)
    mask = np.array([1, 0, 1], dtype=np.float32)
    tprune.custom_from_mask(t[2], "bias", torch.tensor(mask))
    gprune.custom_from_mask(g[2], "bias", gradfit.tensor(mask))
    np.testing.assert_array_equal(g[2].bias.detach().numpy(), t[2].bias.detach().numpy())
    assert isinstance(
        g[2]._forward_pre_hooks[next(iter(g[2]._forward_pre_hooks))], gprune.PruningContainer
    )


def test_magnitude_ties_are_broken_as_torch_topk():
    # Integer-valued weights tie everywhere; PyTorch's choice comes from libstdc++'s
    # nth_element / partial_sort, replayed by gradfit._stl.
    rng = np.random.default_rng(0)
    for _ in range(300):
        n = int(rng.integers(1, 200))
        k = int(rng.integers(1, n + 1))
        v = rng.integers(0, 4, n).astype(np.float32)
        largest = bool(rng.integers(2))
        expected = set(torch.topk(torch.tensor(v), k, largest=largest).indices.tolist())
        assert set(topk_index_set(v, k, largest).tolist()) == expected
    # and through the public API, on a tied weight (the partial_sort branch: k * 64 <= n)
    w = rng.integers(-2, 3, (40, 80)).astype(np.float32)
    for amount in (3, 0.5):
        t, g = torch.nn.Linear(80, 40), gradfit.nn.Linear(80, 40)
        with torch.no_grad():
            t.weight.copy_(torch.tensor(w))
        g.weight.data.copy_(gradfit.tensor(w))
        tprune.l1_unstructured(t, "weight", amount)
        gprune.l1_unstructured(g, "weight", amount)
        np.testing.assert_array_equal(g.weight_mask.numpy(), t.weight_mask.numpy())


def test_prune_method_and_pytorch_errors():
    x = np.arange(12.0, dtype=np.float32).reshape(3, 4)
    np.testing.assert_array_equal(
        gprune.L1Unstructured(amount=5).prune(gradfit.tensor(x)).numpy(),
        tprune.L1Unstructured(amount=5).prune(torch.tensor(x)).numpy(),
    )
    cases = [
        (lambda p, nn: p.l1_unstructured(nn.Linear(2, 2), "weight", amount=-1), ValueError),
        (lambda p, nn: p.l1_unstructured(nn.Linear(2, 2), "weight", amount=1.5), ValueError),
        (lambda p, nn: p.l1_unstructured(nn.Linear(2, 2), "weight", amount="x"), TypeError),
        (lambda p, nn: p.l1_unstructured(nn.Linear(2, 2), "weight", amount=5), ValueError),
        (lambda p, nn: p.ln_structured(nn.Linear(2, 2), "bias", 1, n=2, dim=0), ValueError),
        (lambda p, nn: p.random_structured(nn.Linear(2, 2), "weight", 1, dim=2), IndexError),
        (lambda p, nn: p.remove(nn.Linear(2, 2), "weight"), ValueError),
        (lambda p, nn: p.global_unstructured(5, p.L1Unstructured, amount=1), TypeError),
        (
            lambda p, nn: p.global_unstructured(
                [(nn.Linear(2, 2), "weight")], p.RandomStructured, amount=1
            ),
            TypeError,
        ),
    ]
    for case, exc in cases:
        with pytest.raises(exc) as te:
            case(tprune, torch.nn)
        with pytest.raises(exc) as ge:
            case(gprune, gradfit.nn)
        expected = str(te.value).replace("torch.", "gradfit.")
        if "Linear" not in expected:  # messages naming the module print its repr
            assert str(ge.value) == expected
    # a failed pruning leaves the parameter where it was
    t, g = torch.nn.Linear(2, 2), gradfit.nn.Linear(2, 2)
    for p, m in ((tprune, t), (gprune, g)):
        with pytest.raises(ValueError):
            p.l1_unstructured(m, "weight", amount=5)
    assert list(g.state_dict()) == list(t.state_dict())
    assert isinstance(g.weight, gradfit.nn.Parameter) and not g._forward_pre_hooks
