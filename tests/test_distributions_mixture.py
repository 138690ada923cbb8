"""MixtureSameFamily against PyTorch: log_prob (and its gradient), mean, variance, cdf,
samples drawn from the same seed, support checks, expand, and the shape errors."""

from __future__ import annotations

import numpy as np
import pytest

import gradfit
from tests.compat._normalise import as_gradfit


def _torch():
    import torch  # the reference must be installed: fail, not skip

    return torch


def _build(m, event: bool, batch: bool):
    rng = np.random.default_rng(3)
    lead = (2,) if batch else ()
    logits = m.tensor(rng.standard_normal(lead + (3,)), requires_grad=True)
    shape = lead + (3,) + ((2,) if event else ())
    loc = m.tensor(rng.standard_normal(shape), requires_grad=True)
    scale = m.tensor(rng.uniform(0.5, 1.5, shape))
    comp = m.distributions.Normal(loc, scale)
    if event:
        comp = m.distributions.Independent(comp, 1)
    return m.distributions.MixtureSameFamily(m.distributions.Categorical(logits=logits), comp), (
        logits,
        loc,
    )


@pytest.mark.parametrize("event", [False, True])
@pytest.mark.parametrize("batch", [False, True])
def test_mixture_same_family_matches_pytorch(event, batch):
    torch = _torch()
    g, gp = _build(gradfit, event, batch)
    t, tp = _build(torch, event, batch)
    assert tuple(g.batch_shape) == tuple(t.batch_shape)
    assert tuple(g.event_shape) == tuple(t.event_shape)
    x = np.random.default_rng(5).standard_normal((4,) + tuple(t.batch_shape + t.event_shape))
    lg, lt = g.log_prob(gradfit.tensor(x)), t.log_prob(torch.tensor(x))
    np.testing.assert_allclose(lg.detach().numpy(), lt.detach().numpy(), rtol=1e-12)
    lg.sum().backward()
    lt.sum().backward()
    for a, b in zip(gp, tp):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-10)
    for name in ("mean", "variance"):
        got, want = getattr(g, name), getattr(t, name)
        np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-12)
    if not event:
        xc = x[0]
        np.testing.assert_allclose(
            g.cdf(gradfit.tensor(xc)).detach().numpy(),
            t.cdf(torch.tensor(xc)).detach().numpy(),
            rtol=1e-12,
        )
    gradfit.manual_seed(7)
    torch.manual_seed(7)
    np.testing.assert_allclose(g.sample((5,)).numpy(), t.sample((5,)).numpy(), rtol=1e-12)
    assert repr(g) == as_gradfit(repr(t))
    ge, te = g.expand((4,) + tuple(g.batch_shape)), t.expand((4,) + tuple(t.batch_shape))
    assert tuple(ge.batch_shape) == tuple(te.batch_shape)
    assert repr(g.support) == repr(t.support)
    assert g.support.check(gradfit.tensor(x)).numpy().tolist() == (
        t.support.check(torch.tensor(x)).numpy().tolist()
    )


def test_mixture_same_family_rejects_mismatched_components():
    D = gradfit.distributions
    with pytest.raises(ValueError, match=r"\(3\) does not equal .*\(4\)"):
        D.MixtureSameFamily(D.Categorical(logits=gradfit.zeros(3)), D.Normal(gradfit.zeros(4), 1.0))
    with pytest.raises(ValueError, match="Categorical"):
        D.MixtureSameFamily(D.Normal(0.0, 1.0), D.Normal(gradfit.zeros(4), 1.0))
