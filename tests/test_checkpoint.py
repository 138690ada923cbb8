"""utils.checkpoint against PyTorch: the same outputs and gradients (dropout included, the
random stream left where PyTorch leaves it), checkpoint_sequential, the use_reentrant
warnings, the reentrant rule for inputs without requires_grad, and PyTorch's errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.utils.checkpoint as tcp

import gradfit
import gradfit.utils.checkpoint as gcp


def _net(lib):
    nn = lib.nn
    lib.manual_seed(0)
    return nn.Sequential(
        nn.Linear(4, 6), nn.Tanh(), nn.Dropout(0.3), nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 2)
    )


def _run(lib, cp, call):
    net = _net(lib)
    x = lib.tensor(np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4), requires_grad=True)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        y = call(cp, net, x)
    (y**2).sum().backward()
    return (
        y.detach().numpy(),
        x.grad.numpy(),
        net[0].weight.grad.numpy(),
        [str(m.message) for m in w],
        lib.rand(2).tolist(),
    )


CALLS = {
    "default": lambda cp, net, x: cp.checkpoint(net, x),
    "reentrant": lambda cp, net, x: cp.checkpoint(net, x, use_reentrant=True),
    "non_reentrant_kwargs": lambda cp, net, x: cp.checkpoint(
        lambda a, scale: net(a) * scale, x, use_reentrant=False, scale=2.0
    ),
    "sequential": lambda cp, net, x: cp.checkpoint_sequential(net, 3, x),
    "sequential_list": lambda cp, net, x: cp.checkpoint_sequential(
        list(net), 2, x, use_reentrant=False, preserve_rng_state=True
    ),
}


@pytest.mark.parametrize("call", sorted(CALLS))
def test_outputs_gradients_warnings_and_rng_match_pytorch(call):
    t = _run(torch, tcp, CALLS[call])
    g = _run(gradfit, gcp, CALLS[call])
    for a, b in zip(g[:3], t[:3], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert g[3] == t[3]
    assert g[4] == t[4]


def test_reentrant_output_needs_a_tensor_input_with_grad():
    for lib, cp in ((torch, tcp), (gradfit, gcp)):
        net = _net(lib)
        with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True"):
            out = cp.checkpoint(net, lib.ones(2, 4), use_reentrant=True)
        assert not out.requires_grad
        assert cp.checkpoint(net, lib.ones(2, 4), use_reentrant=False).requires_grad


def test_errors_match_pytorch():
    cases = [
        lambda cp, f, x: cp.checkpoint(f, x, use_reentrant=True, foo=1, bar=2),
        lambda cp, f, x: cp.checkpoint(f, x, use_reentrant=True, debug=True),
        lambda cp, f, x: cp.checkpoint(f, x, use_reentrant=False, determinism_check="all"),
        lambda cp, f, x: cp.checkpoint_sequential([f], 1, x, use_reentrant=False, foo=1),
    ]
    for case in cases:
        with pytest.raises(ValueError) as te:
            case(tcp, torch.nn.Identity(), torch.ones(1, requires_grad=True))
        with pytest.raises(ValueError) as ge:
            case(gcp, gradfit.nn.Identity(), gradfit.ones(1, requires_grad=True))
        assert str(ge.value) == str(te.value)
    assert gradfit.utils.checkpoint is gcp
