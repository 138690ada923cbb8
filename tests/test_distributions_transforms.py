"""distributions.transforms, TransformedDistribution, LogNormal and HalfNormal against
PyTorch: forward, inverse and log|det J| of each transform, the composed domains/codomains
and event dims, log_prob and its gradient, samples from the same seed, cdf/icdf, expand,
the inverse cache, and the reprs."""

from __future__ import annotations

import numpy as np
import pytest

import gradfit
from tests.compat._normalise import as_gradfit


def _torch():
    import torch  # the reference must be installed: fail, not skip

    return torch


def _transforms(m):
    T = m.distributions.transforms
    scale = m.tensor([0.5, -2.0, 3.0], dtype=m.float64)
    return {
        "exp": T.ExpTransform(),
        "affine": T.AffineTransform(1.0, scale),
        "affine_event": T.AffineTransform(m.zeros(3, dtype=m.float64), scale, event_dim=1),
        "sigmoid": T.SigmoidTransform(),
        "tanh": T.TanhTransform(),
        "softplus": T.SoftplusTransform(),
        "power": T.PowerTransform(m.tensor(1.5, dtype=m.float64)),
        "compose": T.ComposeTransform([T.AffineTransform(0.3, 2.0), T.SigmoidTransform()]),
        "inverse": T.ExpTransform().inv,
        "independent": T.IndependentTransform(T.TanhTransform(), 1),
        "reshape": T.ReshapeTransform((2, 3), (6,)),
    }


@pytest.mark.parametrize("name", list(_transforms(gradfit)))
def test_transform_matches_pytorch(name):
    torch = _torch()
    g, t = _transforms(gradfit)[name], _transforms(torch)[name]
    a = np.random.default_rng(1).uniform(0.1, 0.9, (2, 3))
    xg, xt = gradfit.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    yg, yt = g(xg), t(xt)
    np.testing.assert_allclose(yg.detach().numpy(), yt.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(g.inv(yg).detach().numpy(), a, rtol=1e-10)
    lg, lt = g.log_abs_det_jacobian(xg, yg), t.log_abs_det_jacobian(xt, yt)
    assert tuple(lg.shape) == tuple(lt.shape)
    np.testing.assert_allclose(lg.detach().numpy(), lt.detach().numpy(), rtol=1e-12)
    assert lg.requires_grad == lt.requires_grad
    if lt.requires_grad:
        lg.sum().backward()
        lt.sum().backward()
        np.testing.assert_allclose(xg.grad.numpy(), xt.grad.numpy(), rtol=1e-10)
    assert repr(g.domain) == repr(t.domain) and repr(g.codomain) == repr(t.codomain)
    assert g.bijective == t.bijective
    assert as_gradfit(repr(t)) == repr(g)
    assert tuple(g.forward_shape((2, 3))) == tuple(t.forward_shape((2, 3)))


@pytest.mark.filterwarnings("ignore:divide by zero")
def test_transform_cache_returns_the_input_it_saw():
    T = gradfit.distributions.transforms
    x = gradfit.tensor([30.0])  # tanh(30) rounds to 1: only the cache gives x back
    cached = T.TanhTransform(cache_size=1)
    assert cached.inv(cached(x)) is x
    assert not gradfit.isfinite(T.TanhTransform().inv(T.TanhTransform()(x))).all()
    with pytest.raises(ValueError, match="cache_size must be 0 or 1"):
        T.ExpTransform(cache_size=2)


def _dists(m):
    D, T = m.distributions, m.distributions.transforms
    loc = m.tensor([0.2, -0.4], dtype=m.float64, requires_grad=True)
    scale = m.tensor([0.7, 1.3], dtype=m.float64, requires_grad=True)
    flow = D.TransformedDistribution(
        D.Normal(loc, scale), [T.AffineTransform(0.5, 2.0), T.SigmoidTransform()]
    )
    vec = D.TransformedDistribution(
        D.MultivariateNormal(m.zeros(2, dtype=m.float64), m.eye(2, dtype=m.float64)),
        T.AffineTransform(loc, scale, event_dim=1),
    )
    return {
        "flow": (flow, (loc, scale), 0.3),
        "vector": (vec, (loc, scale), 0.4),
        "lognormal": (D.LogNormal(loc, scale), (loc, scale), 1.7),
        "halfnormal": (D.HalfNormal(scale), (scale,), 0.9),
        "decreasing": (
            D.TransformedDistribution(D.Normal(loc, scale), T.AffineTransform(0.0, -1.0)),
            (loc, scale),
            0.1,
        ),
    }


@pytest.mark.parametrize("name", list(_dists(gradfit)))
def test_transformed_distribution_matches_pytorch(name):
    torch = _torch()
    g, gp, v = _dists(gradfit)[name]
    t, tp, _ = _dists(torch)[name]
    assert tuple(g.batch_shape) == tuple(t.batch_shape)
    assert tuple(g.event_shape) == tuple(t.event_shape)
    assert repr(g) == repr(t) and repr(g.support) == repr(t.support)
    value = np.full(tuple(t.batch_shape + t.event_shape), v)
    lg, lt = g.log_prob(gradfit.tensor(value)), t.log_prob(torch.tensor(value))
    np.testing.assert_allclose(lg.detach().numpy(), lt.detach().numpy(), rtol=1e-12)
    lg.sum().backward()
    lt.sum().backward()
    for a, b in zip(gp, tp):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-10)
    gradfit.manual_seed(4)
    torch.manual_seed(4)
    np.testing.assert_allclose(
        g.rsample((3,)).detach().numpy(), t.rsample((3,)).detach().numpy(), rtol=1e-12
    )
    if not t.event_shape:
        for fn in ("cdf", "icdf"):
            arg = np.full(tuple(t.batch_shape), 0.35)
            got = getattr(g, fn)(gradfit.tensor(arg)).detach().numpy()
            np.testing.assert_allclose(got, getattr(t, fn)(torch.tensor(arg)).detach().numpy())
    for prop in ("mean", "variance", "mode"):
        try:
            want = getattr(t, prop)
        except NotImplementedError:
            continue
        np.testing.assert_allclose(
            getattr(g, prop).detach().numpy(), want.detach().numpy(), rtol=1e-12
        )
    ge, te = g.expand((3,) + tuple(g.batch_shape)), t.expand((3,) + tuple(t.batch_shape))
    assert type(ge) is type(g) and tuple(ge.batch_shape) == tuple(te.batch_shape)


def test_transformed_distribution_rejects_what_is_not_a_transform():
    D = gradfit.distributions
    with pytest.raises(ValueError, match="transforms must be a Transform or list"):
        D.TransformedDistribution(D.Normal(0.0, 1.0), "exp")
