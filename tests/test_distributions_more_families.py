"""Poisson, Cauchy, Gumbel, StudentT and Chi2 against PyTorch: log_prob and its gradient,
moments, cdf/icdf, entropy, samples drawn from the same seed, expand, and the support checks."""

from __future__ import annotations

import numpy as np
import pytest

import gradfit
from tests.compat._normalise import as_gradfit


def _torch():
    import torch  # the reference must be installed: fail, not skip

    return torch


def _make(m, name):
    D = m.distributions
    a = m.tensor([0.4, 2.5, 7.0], dtype=m.float64, requires_grad=True)
    b = m.tensor([0.5, 1.0, 2.0], dtype=m.float64, requires_grad=True)
    if name == "poisson":
        return D.Poisson(a), (a,), np.array([0.0, 2.0, 9.0])
    if name == "cauchy":
        return D.Cauchy(a, b), (a, b), np.array([-1.0, 2.0, 30.0])
    if name == "studentt":
        df = m.tensor([0.8, 1.5, 5.0], dtype=m.float64, requires_grad=True)
        return D.StudentT(df, a, b), (df, a, b), np.array([-1.0, 2.0, 30.0])
    if name == "chi2":
        return D.Chi2(a), (a,), np.array([0.1, 2.0, 9.0])
    return D.Gumbel(a, b), (a, b), np.array([-1.0, 2.0, 9.0])


@pytest.mark.parametrize("name", ["poisson", "cauchy", "gumbel", "studentt", "chi2"])
def test_family_matches_pytorch(name):
    torch = _torch()
    g, gp, value = _make(gradfit, name)
    t, tp, _ = _make(torch, name)
    lg, lt = g.log_prob(gradfit.tensor(value)), t.log_prob(torch.tensor(value))
    np.testing.assert_allclose(lg.detach().numpy(), lt.detach().numpy(), rtol=1e-12)
    lg.sum().backward()
    lt.sum().backward()
    for a, b in zip(gp, tp):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-10)
    for prop in ("mean", "mode", "variance", "stddev"):
        np.testing.assert_allclose(
            getattr(g, prop).detach().numpy(), getattr(t, prop).detach().numpy(), rtol=1e-12
        )
    for fn in ("entropy", "cdf", "icdf"):
        try:
            want = getattr(t, fn)(*([torch.tensor([0.2, 0.5, 0.9])] if fn != "entropy" else []))
        except NotImplementedError:
            continue
        args = [gradfit.tensor([0.2, 0.5, 0.9])] if fn != "entropy" else []
        got = getattr(g, fn)(*args)
        np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-12)
    gradfit.manual_seed(9)
    torch.manual_seed(9)
    np.testing.assert_allclose(g.sample((4,)).numpy(), t.sample((4,)).numpy(), rtol=1e-12)
    assert repr(g) == as_gradfit(repr(t))
    assert tuple(g.expand((2, 3)).batch_shape) == tuple(t.expand((2, 3)).batch_shape)


def test_poisson_rejects_values_outside_its_support():
    with pytest.raises(ValueError, match="within the support"):
        gradfit.distributions.Poisson(gradfit.tensor([1.0])).log_prob(gradfit.tensor([1.5]))
