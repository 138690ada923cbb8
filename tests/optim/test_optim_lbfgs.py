"""L-BFGS on Rosenbrock from (-1.5, 2) in float64, step by step against PyTorch: loss,
iterate, closure calls and ``func_evals``, with and without the strong-Wolfe search."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gradfit


def _rosenbrock_problem(lib, **kw):
    x = lib.tensor([-1.5, 2.0], dtype=lib.float64, requires_grad=True)
    opt = lib.optim.LBFGS([x], **kw)
    calls = [0]

    def closure():
        calls[0] += 1
        opt.zero_grad()
        loss = (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2
        loss.backward()
        return loss

    return x, opt, closure, calls


@pytest.mark.parametrize("line_search_fn", ["strong_wolfe", None])
def test_optim_lbfgs_rosenbrock_first_steps_match_torch(float64, line_search_fn):
    # Without a line search, lr=1 overshoots wildly after the first step (the test below
    # follows more steps with the search), so that case checks one step.
    kw = dict(lr=1, line_search_fn=line_search_fn)
    gx, gopt, gclosure, gcalls = _rosenbrock_problem(gradfit, **kw)
    tx, topt, tclosure, tcalls = _rosenbrock_problem(torch, **kw)
    for _ in range(2 if line_search_fn else 1):
        assert gopt.step(gclosure).item() == pytest.approx(topt.step(tclosure).item(), rel=1e-12)
        assert gx.detach().numpy() == pytest.approx(tx.detach().numpy(), rel=1e-9, abs=1e-10)
        assert gcalls == tcalls
        assert gopt.state[gx]["func_evals"] == topt.state[tx]["func_evals"]


def test_optim_lbfgs_rosenbrock_matches_torch_over_steps(float64):
    kw = dict(lr=1, line_search_fn="strong_wolfe")
    gx, gopt, gclosure, gcalls = _rosenbrock_problem(gradfit, **kw)
    tx, topt, tclosure, tcalls = _rosenbrock_problem(torch, **kw)
    for _ in range(4):
        gl, tl = gopt.step(gclosure).item(), topt.step(tclosure).item()
        assert gl == pytest.approx(tl, rel=1e-9)
        assert gx.detach().numpy() == pytest.approx(tx.detach().numpy(), rel=1e-8, abs=1e-12)
        assert gcalls == tcalls


def test_optim_lbfgs_stops_at_a_minimum(float64):
    x = gradfit.tensor([1.0, 1.0], requires_grad=True)
    opt = gradfit.optim.LBFGS([x])
    calls = [0]

    def closure():
        calls[0] += 1
        opt.zero_grad()
        loss = ((x - 1.0) ** 2).sum()
        loss.backward()
        return loss

    assert opt.step(closure).item() == 0.0
    assert calls[0] == 1  # max|g| <= tolerance_grad: returns after the first evaluation
    assert np.array_equal(x.detach().numpy(), [1.0, 1.0])


def test_optim_lbfgs_errors():
    a, b = gradfit.zeros(1, requires_grad=True), gradfit.zeros(1, requires_grad=True)
    with pytest.raises(ValueError, match="parameter groups"):
        gradfit.optim.LBFGS([{"params": [a]}, {"params": [b]}])
    with pytest.raises(ValueError, match="line_search_fn must be None or 'strong_wolfe'"):
        gradfit.optim.LBFGS([a], line_search_fn="armijo")
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        gradfit.optim.LBFGS([a], lr=-1)
    with pytest.raises(RuntimeError, match="closure"):
        gradfit.optim.LBFGS([a]).step()
