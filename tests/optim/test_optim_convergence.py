"""Every optimizer (PyTorch-style and the lecture's) reaches the minimum of an
ill-conditioned quadratic and of the Rosenbrock function.

The closure computes the loss and gradient in NumPy and hands the gradient to the
parameter, so that these long runs test the optimizers, not the engine, and stay fast.
Hyperparameters (and, where the method needs one to settle, a schedule) are per method.
"""

from __future__ import annotations

import numpy as np
import pytest

import gradfit
from gradfit.optim import lecture
from gradfit.optim import lr_scheduler as L


def rosenbrock(x):
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


def rosenbrock_grad(x):
    return np.array([-2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] ** 2), 200 * (x[1] - x[0] ** 2)])


A = np.diag([1.0, 10.0])
B = np.array([1.0, -20.0])


def quadratic(x):
    return 0.5 * x @ A @ x - B @ x


def quadratic_grad(x):
    return A @ x - B


PROBLEMS = {
    "quadratic": (quadratic, quadratic_grad, [3.0, 3.0], np.linalg.solve(A, B)),
    "rosenbrock": (rosenbrock, rosenbrock_grad, [-1.5, 2.0], np.ones(2)),
}

# name: (make optimizer, steps, make scheduler or None, tolerance on |x - x*|)
OPTIMIZERS = {
    "SGD": (lambda p: gradfit.optim.SGD(p, lr=1e-3), 20000, None, 1e-3),
    "SGD-momentum": (lambda p: gradfit.optim.SGD(p, lr=1e-3, momentum=0.9), 3000, None, 1e-4),
    "SGD-nesterov": (
        lambda p: gradfit.optim.SGD(p, lr=1e-3, momentum=0.9, nesterov=True),
        3000,
        None,
        1e-4,
    ),
    "Adam": (
        lambda p: gradfit.optim.Adam(p, lr=0.05, betas=(0.9, 0.99)),
        3000,
        lambda o: L.CosineAnnealingLR(o, 3000),
        1e-6,
    ),
    "AdamW": (
        lambda p: gradfit.optim.AdamW(p, lr=0.05, betas=(0.9, 0.99), weight_decay=0),
        3000,
        lambda o: L.CosineAnnealingLR(o, 3000),
        1e-6,
    ),
    "Adam-amsgrad": (
        lambda p: gradfit.optim.Adam(p, lr=0.2, betas=(0.9, 0.999), amsgrad=True),
        3000,
        lambda o: L.CosineAnnealingLR(o, 3000),
        1e-3,
    ),
    "RMSprop": (
        lambda p: gradfit.optim.RMSprop(p, lr=0.01, momentum=0.9),
        3000,
        lambda o: L.ExponentialLR(o, 0.998),
        1e-4,
    ),
    "Adagrad": (lambda p: gradfit.optim.Adagrad(p, lr=1.0), 30000, None, 1e-5),
    # Adadelta's steps start at √ε and grow slowly: on Rosenbrock's curved valley it is
    # still on its way after 5000 steps
    "Adadelta": (
        lambda p: gradfit.optim.Adadelta(p, lr=10.0, rho=0.95),
        5000,
        lambda o: L.CosineAnnealingLR(o, 5000),
        1e-1,
    ),
    "Adamax": (
        lambda p: gradfit.optim.Adamax(p, lr=0.05, betas=(0.9, 0.99)),
        3000,
        lambda o: L.CosineAnnealingLR(o, 3000),
        1e-6,
    ),
    "NAdam": (
        lambda p: gradfit.optim.NAdam(p, lr=0.05, betas=(0.9, 0.99)),
        5000,
        lambda o: L.CosineAnnealingLR(o, 5000),
        1e-3,
    ),
    # RAdam's first steps are plain momentum steps, which Rosenbrock's large gradients at
    # the start blow up unless the rate starts small
    "RAdam": (
        lambda p: gradfit.optim.RAdam(p, lr=0.05, betas=(0.9, 0.99)),
        3000,
        lambda o: L.LinearLR(o, 0.01, 1.0, total_iters=20),
        1e-2,
    ),
    "Rprop": (lambda p: gradfit.optim.Rprop(p, lr=0.01), 3000, None, 1e-2),
    "ASGD": (lambda p: gradfit.optim.ASGD(p, lr=1e-3), 20000, None, 1e-3),
    "LBFGS": (lambda p: gradfit.optim.LBFGS(p, line_search_fn="strong_wolfe"), 5, None, 1e-5),
    "LBFGS-no-line-search": (lambda p: gradfit.optim.LBFGS(p, lr=0.1), 50, None, 1e-3),
    "lecture.LineSearchGD": (
        lambda p: lecture.LineSearchGD(p, max_dist=0.05, tol=1e-6),
        1500,
        None,
        1e-2,
    ),
    "lecture.Momentum": (lambda p: lecture.Momentum(p, lr=1e-2, beta=0.9), 3000, None, 1e-4),
    "lecture.Nesterov": (lambda p: lecture.Nesterov(p, lr=1e-2, beta=0.9), 3000, None, 1e-4),
    # fixed-size steps oscillate around the minimum within about lr (the lecture's remark),
    # so the rate must decay for it to settle
    "lecture.NormalizedGD": (
        lambda p: lecture.NormalizedGD(p, lr=1e-2),
        20000,
        lambda o: L.ExponentialLR(o, 0.9995),
        1e-2,
    ),
    "lecture.Adam": (
        lambda p: lecture.Adam(p, lr=0.05, beta=0.9, gamma=0.99),
        3000,
        lambda o: L.CosineAnnealingLR(o, 3000),
        1e-6,
    ),
}


@pytest.mark.parametrize("problem", list(PROBLEMS))
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_optim_converges(float64, name, problem):
    f, grad, x0, x_star = PROBLEMS[problem]
    make, steps, make_sched, tol = OPTIMIZERS[name]
    p = gradfit.tensor(x0, requires_grad=True)
    opt = make([p])
    sched = make_sched(opt) if make_sched else None

    def closure():
        opt.zero_grad()
        x = p.detach().numpy()
        p.grad = gradfit.tensor(grad(x))
        return gradfit.tensor(f(x))

    start = np.linalg.norm(np.asarray(x0) - x_star)
    for _ in range(steps):
        opt.step(closure)
        if sched is not None:
            sched.step()
    x = p.detach().numpy()
    assert np.all(np.isfinite(x))
    dist = np.linalg.norm(x - x_star)
    assert dist < tol, f"{name} on {problem}: |x - x*| = {dist:.2e} (from {start:.2f})"
    assert f(x) < f(np.asarray(x0))


def test_optim_converges_through_autograd(float64):
    """The same, with the loss and gradient computed by gradfit's engine."""
    x = gradfit.tensor([-1.5, 2.0], requires_grad=True)
    opt = gradfit.optim.LBFGS([x], line_search_fn="strong_wolfe", max_iter=50)

    def closure():
        opt.zero_grad()
        loss = (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2
        loss.backward()
        return loss

    for _ in range(3):
        opt.step(closure)
    assert np.linalg.norm(x.detach().numpy() - 1.0) < 1e-5
