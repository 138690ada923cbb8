"""softmax, log_softmax, cross-entropy and nll_loss of float32 inputs bit for bit as
PyTorch's CPU kernels compute them, where gradfit takes PyTorch's roundings: outside a
graph (``no_grad``), up to ``EXACT_ELEMENTS`` values (SLEEF's exp and log, the SIMD
lanes' order of the row sums, nll_loss's cascade of partial sums; ``gradfit._vecmath``)."""

from __future__ import annotations

import numpy as np
import pytest

import gradfit
from gradfit import _vecmath
from gradfit._exact import EXACT_ELEMENTS

LAST_AXIS = [(5,), (64, 5), (64, 16), (32, 37), (8, 100), (2, 3, 4, 9)]


@pytest.mark.parametrize("shape", LAST_AXIS)
@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
def test_last_axis_is_bit_identical(shape, fn):
    import torch

    x = (np.random.default_rng(len(shape)).standard_normal(shape) * 3).astype(np.float32)
    with gradfit.no_grad():
        ours = getattr(gradfit.nn.functional, fn)(gradfit.from_numpy(x), -1).numpy()
    ref = getattr(torch.nn.functional, fn)(torch.from_numpy(x), -1).numpy()
    np.testing.assert_array_equal(ours, ref)


@pytest.mark.parametrize(("shape", "dim"), [((8, 10, 6), 1), ((4, 20, 33), 1), ((6, 9), 0)])
def test_another_axis_mostly_bit_identical(shape, dim):
    import torch

    x = (np.random.default_rng(dim).standard_normal(shape) * 3).astype(np.float32)
    for fn in ("softmax", "log_softmax"):
        with gradfit.no_grad():
            ours = getattr(gradfit.nn.functional, fn)(gradfit.from_numpy(x), dim).numpy()
        ref = getattr(torch.nn.functional, fn)(torch.from_numpy(x), dim).numpy()
        # a few entries in a thousand may differ in the last bit (module docstring)
        assert (ours != ref).mean() < 0.01
        np.testing.assert_allclose(ours, ref, rtol=2e-7, atol=1e-7)


def test_special_values_as_torch():
    import torch

    x = np.array(
        [[0, -np.inf, 1], [np.inf, 1, 2], [np.nan, 0, 1], [-np.inf] * 3, [1e30, -1e30, 0]],
        np.float32,
    )
    for fn in ("softmax", "log_softmax"):
        with gradfit.no_grad():
            ours = getattr(gradfit.from_numpy(x), fn)(-1).numpy()
        ref = getattr(torch.from_numpy(x), fn)(-1).numpy()
        np.testing.assert_array_equal(ours, ref)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignored", [False, True])
def test_cross_entropy_and_nll_are_bit_identical(reduction, weighted, ignored):
    import torch

    rng = np.random.default_rng(7)
    for n, c in [(1, 3), (33, 10), (300, 7)]:
        x = (rng.standard_normal((n, c)) * 3).astype(np.float32)
        t = rng.integers(0, c, n)
        if ignored:
            t[rng.random(n) < 0.2] = -100
        w = rng.random(c).astype(np.float32) if weighted else None
        outs = []
        for lib in (gradfit, torch):
            kw = {"weight": None if w is None else lib.tensor(w), "reduction": reduction}
            with lib.no_grad():
                logits, target = lib.tensor(x), lib.tensor(t)
                ce = lib.nn.functional.cross_entropy(logits, target, **kw)
                nll = lib.nn.functional.nll_loss(logits.log_softmax(1), target, **kw)
            outs.append((ce.numpy(), nll.numpy()))
        for ours, ref in zip(*outs):
            np.testing.assert_array_equal(ours, ref)


def test_exp_and_log_match_torchs_kernels_on_many_values():
    import torch

    x = (np.random.default_rng(1).standard_normal((500, 64)) * 4).astype(np.float32)
    ref = torch.from_numpy(x).log_softmax(-1).numpy()
    assert np.array_equal(_vecmath.log_softmax(x, 1), ref)
    # SLEEF's exp is not NumPy's: this is what the emulation buys
    assert not np.array_equal(
        np.exp(x - x.max(1, keepdims=True)), _vecmath.expf(x - x.max(1, keepdims=True))
    )


def test_recording_and_large_inputs_keep_numpys_exp():
    x = np.random.default_rng(2).standard_normal((4, 10)).astype(np.float32)
    t = gradfit.tensor(x, requires_grad=True)
    y = t.softmax(-1)  # grad mode on: the fast path, still differentiable
    y.sum().backward()
    e = np.exp(x - x.max(1, keepdims=True))
    np.testing.assert_array_equal(y.detach().numpy(), e / e.sum(1, keepdims=True))
    big = np.zeros((EXACT_ELEMENTS // 8 + 1, 8), np.float32)
    with gradfit.no_grad():
        np.testing.assert_array_equal(gradfit.from_numpy(big).softmax(-1).numpy(), 0.125)
