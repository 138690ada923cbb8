"""optim.lecture.Newton: the damped Newton step from the engine's Hessian (issue 15)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gradfit
from gradfit.lecture import _common
from gradfit.optim.lecture import Newton


def test_one_newton_step_solves_least_squares():
    x, y = _common.linear_regression_data()
    phi = gradfit.tensor([0.0, 0.0], dtype=gradfit.float64, requires_grad=True)
    opt = Newton([phi])
    xt, yt = gradfit.tensor(x), gradfit.tensor(y)

    def closure():
        return ((phi[0] + phi[1] * xt - yt) ** 2).sum()

    opt.step(closure)
    design = np.stack([np.ones_like(x), x], axis=1)
    best = np.linalg.lstsq(design, y, rcond=None)[0]
    np.testing.assert_allclose(phi.detach().numpy(), best, rtol=1e-10)
    hess = opt.state[phi]["hessian"]
    np.testing.assert_allclose(hess, 2 * design.T @ design, rtol=1e-12)
    (g,) = gradfit.autograd.grad(closure(), phi)
    assert np.abs(g.numpy()).max() < 1e-9


def test_damped_newton_on_the_gabor_loss_matches_a_torch_newton_step():
    x, y = _common.gabor_data()
    start = np.array([0.4, 14.5])
    phi = gradfit.tensor(start, requires_grad=True)
    opt = Newton([phi], lr=0.5, damping=2.0)
    loss0 = opt.step(lambda: _common.gabor_loss(phi, x, y))

    def torch_loss(p):
        z = p[0] + 0.06 * p[1] * torch.tensor(x)
        return (((z.sin() * (-(z * z) / 32.0).exp()) - torch.tensor(y)) ** 2).sum()

    p = torch.tensor(start, requires_grad=True)
    (g,) = torch.autograd.grad(torch_loss(p), p)
    h = torch.autograd.functional.hessian(torch_loss, p.detach())
    expected = start - 0.5 * torch.linalg.solve(h + 2.0 * torch.eye(2), g).numpy()
    np.testing.assert_allclose(phi.detach().numpy(), expected, rtol=1e-10)
    np.testing.assert_allclose(phi.grad.numpy(), g.numpy(), rtol=1e-10)
    assert float(loss0) == pytest.approx(float(torch_loss(torch.tensor(start))), rel=1e-12)


def test_newton_needs_a_differentiable_closure():
    phi = gradfit.tensor([1.0], requires_grad=True)
    opt = Newton([phi])
    with pytest.raises(RuntimeError, match="needs a closure"):
        opt.step()
    with pytest.raises(RuntimeError, match="does not require grad"):
        opt.step(lambda: (phi * 2).sum().detach())
    with pytest.raises(ValueError, match="damping"):
        Newton([phi], damping=-1.0)
