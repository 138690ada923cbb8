"""The lecture's optimizers (gradfit.optim.lecture) against straight NumPy transcriptions
of the slide equations, plus their defining properties."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch

import gradfit
from gradfit.optim import lecture

from ._mlp import Model, assert_rel_close, init_arrays

# A 3-D quadratic L[φ] = ½ φᵀAφ − bᵀφ, with ∂L/∂φ = Aφ − b and minimum A⁻¹b.
A = np.array([[3.0, 0.5, 0.0], [0.5, 1.0, 0.2], [0.0, 0.2, 0.5]])
B = np.array([1.0, -2.0, 0.5])
PHI0 = np.array([2.0, 1.0, -1.0])


def grad_np(phi: np.ndarray) -> np.ndarray:
    return A @ phi - B


def _problem(make_opt):
    """φ as a gradfit parameter, an optimizer on it, and the closure of the loss."""
    phi = gradfit.tensor(PHI0.copy(), requires_grad=True)
    a, b = gradfit.tensor(A), gradfit.tensor(B)
    opt = make_opt([phi])

    def closure():
        opt.zero_grad()
        loss = 0.5 * (phi * (a @ phi)).sum() - (b * phi).sum()
        loss.backward()
        return loss

    return phi, opt, closure


def _value(phi) -> np.ndarray:
    return phi.detach().numpy().copy()


# ---------------------------------------------------------------------- the equations
def test_optim_lecture_momentum_is_eq_6_11():
    lr, beta = 0.1, 0.8
    phi, opt, closure = _problem(lambda p: lecture.Momentum(p, lr=lr, beta=beta))
    ref, m = PHI0.copy(), np.zeros(3)  # m starts at 0
    for _ in range(30):
        opt.step(closure)
        m = beta * m + (1 - beta) * grad_np(ref)
        ref = ref - lr * m
        np.testing.assert_allclose(_value(phi), ref, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(opt.state[phi]["momentum_buffer"].numpy(), m, rtol=1e-13)


def test_optim_lecture_momentum_first_step_is_damped_unlike_torch():
    # the lecture's m starts at 0: the first step is α(1 − β)g; PyTorch's is αg
    phi, opt, closure = _problem(lambda p: lecture.Momentum(p, lr=0.1, beta=0.9))
    opt.step(closure)
    np.testing.assert_allclose(_value(phi), PHI0 - 0.1 * 0.1 * grad_np(PHI0), rtol=1e-14)


def test_optim_lecture_nesterov_is_eq_6_12_with_look_ahead():
    lr, beta = 0.1, 0.8
    phi, opt, closure = _problem(lambda p: lecture.Nesterov(p, lr=lr, beta=beta))
    ref, m = PHI0.copy(), np.zeros(3)
    for _ in range(30):
        loss = opt.step(closure)
        look = ref - lr * beta * m  # the gradient is taken at the look-ahead point
        assert loss.item() == pytest.approx(0.5 * look @ A @ look - B @ look, rel=1e-12)
        m = beta * m + (1 - beta) * grad_np(look)
        ref = ref - lr * m
        np.testing.assert_allclose(_value(phi), ref, rtol=1e-13, atol=1e-15)


def test_optim_lecture_nesterov_differs_from_momentum_and_needs_closure():
    p1, o1, c1 = _problem(lambda p: lecture.Nesterov(p, lr=0.1, beta=0.9))
    p2, o2, c2 = _problem(lambda p: lecture.Momentum(p, lr=0.1, beta=0.9))
    for _ in range(3):
        o1.step(c1)
        o2.step(c2)
    assert not np.allclose(_value(p1), _value(p2))
    with pytest.raises(RuntimeError, match="closure"):
        o1.step()


def test_optim_lecture_normalized_gd_is_eq_6_13_6_14():
    lr, eps = 0.05, 1e-8
    phi, opt, closure = _problem(lambda p: lecture.NormalizedGD(p, lr=lr, eps=eps))
    ref = PHI0.copy()
    for _ in range(20):
        opt.step(closure)
        m = grad_np(ref)
        v = m**2
        ref = ref - lr * m / (np.sqrt(v) + eps)
        np.testing.assert_allclose(_value(phi), ref, rtol=1e-13, atol=1e-15)


def test_optim_lecture_normalized_gd_moves_each_coordinate_by_lr():
    p = gradfit.tensor([0.0, 0.0, 0.0, 0.0], dtype=gradfit.float64, requires_grad=True)
    opt = lecture.NormalizedGD([p], lr=0.01)
    p.grad = gradfit.tensor([1e3, -2.0, 0.5, -1e-3], dtype=gradfit.float64)
    opt.step()
    np.testing.assert_allclose(_value(p), [-0.01, 0.01, -0.01, 0.01], rtol=1e-5)


def _adam_np(g_fn, phi, lr, beta, gamma, eps, steps):
    """Eqs. 6.15–6.17 transcribed: moments, bias correction, update."""
    m, v = np.zeros_like(phi), np.zeros_like(phi)
    out = []
    for t in range(steps):
        g = g_fn(phi)
        m = beta * m + (1 - beta) * g
        v = gamma * v + (1 - gamma) * g**2
        m_t = m / (1 - beta ** (t + 1))
        v_t = v / (1 - gamma ** (t + 1))
        phi = phi - lr * m_t / (np.sqrt(v_t) + eps)
        out.append(phi)
    return out


def test_optim_lecture_adam_is_eqs_6_15_to_6_17():
    phi, opt, closure = _problem(lambda p: lecture.Adam(p, lr=0.05, beta=0.8, gamma=0.95))
    ref = _adam_np(grad_np, PHI0.copy(), 0.05, 0.8, 0.95, 1e-8, 40)
    for r in ref:
        opt.step(closure)
        np.testing.assert_allclose(_value(phi), r, rtol=1e-13, atol=1e-15)
    assert opt.state[phi]["step"].item() == 40


def test_optim_lecture_adam_first_step_moves_each_coordinate_by_lr():
    p = gradfit.tensor([1.0, 1.0, 1.0], dtype=gradfit.float64, requires_grad=True)
    opt = lecture.Adam([p], lr=0.01)
    p.grad = gradfit.tensor([300.0, -0.02, 1.0], dtype=gradfit.float64)
    opt.step()
    # m̃ = g and √ṽ = |g| on the first step: a move of exactly lr·sign(g), up to ε
    np.testing.assert_allclose(_value(p) - 1.0, [-0.01, 0.01, -0.01], rtol=1e-6)


def test_optim_lecture_adam_equals_torch_adam_over_50_steps(float64):
    gm, tm = Model(gradfit, init_arrays()), Model(torch, init_arrays())
    gopt = lecture.Adam(gm.parameters(), lr=0.01, beta=0.85, gamma=0.99, eps=1e-8)
    topt = torch.optim.Adam(tm.parameters(), lr=0.01, betas=(0.85, 0.99), eps=1e-8)
    for _ in range(50):
        for m, o in ((gm, gopt), (tm, topt)):
            o.zero_grad()
            m.loss().backward()
            o.step()
    ga, ta = gm.arrays(), tm.arrays()
    for k in ga:
        assert_rel_close(ga[k], ta[k], 1e-10, k)
    # same state names as PyTorch's Adam, and the unused parameter is skipped
    gsd, tsd = gopt.state_dict()["state"], topt.state_dict()["state"]
    assert gsd.keys() == tsd.keys() == {0, 1, 2, 3}
    for i in tsd:
        assert gsd[i].keys() == tsd[i].keys()
        assert_rel_close(gsd[i]["exp_avg_sq"].numpy(), tsd[i]["exp_avg_sq"].numpy(), 1e-10)


# ---------------------------------------------------------------------- shared maths
def _mlp_run(make_opt, steps=30, prepare=None):
    model = Model(gradfit, init_arrays())
    opt = make_opt(model.parameters())
    if prepare is not None:
        prepare(opt, model.parameters())
    for _ in range(steps):
        opt.zero_grad()
        model.loss().backward()
        opt.step()
    return model.arrays()


def _zero_buffers(opt, params):
    for p in params:
        opt.state[p]["momentum_buffer"] = gradfit.zeros_like(p)


def _assert_same_arrays(a: dict, b: dict) -> None:
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def test_optim_lecture_forms_are_the_pytorch_rules_with_the_lectures_conventions():
    # eq. 6.11 is SGD with dampening β and a buffer that starts at 0: the same numbers
    lecture_momentum = _mlp_run(lambda p: lecture.Momentum(p, lr=0.1, beta=0.8))
    _assert_same_arrays(
        lecture_momentum,
        _mlp_run(lambda p: gradfit.optim.SGD(p, lr=0.1, momentum=0.8, dampening=0.8),
                 prepare=_zero_buffers),
    )  # fmt: skip
    # ... and, up to rounding, SGD(lr=α(1 − β), momentum=β) with a zero-initialised buffer
    undamped = _mlp_run(
        lambda p: gradfit.optim.SGD(p, lr=0.1 * (1 - 0.8), momentum=0.8), prepare=_zero_buffers
    )
    for k in undamped:
        assert_rel_close(undamped[k], lecture_momentum[k], 1e-12, k)
    # eqs. 6.15-6.17 are PyTorch's Adam with betas (β, γ): the same function, the same numbers
    _assert_same_arrays(
        _mlp_run(lambda p: lecture.Adam(p, lr=0.01, beta=0.85, gamma=0.99)),
        _mlp_run(lambda p: gradfit.optim.Adam(p, lr=0.01, betas=(0.85, 0.99))),
    )
    # normalised gradients are Adam without the averages (β = γ = 0)
    _assert_same_arrays(
        _mlp_run(lambda p: lecture.NormalizedGD(p, lr=0.01)),
        _mlp_run(lambda p: gradfit.optim.Adam(p, lr=0.01, betas=(0.0, 0.0))),
    )


# ---------------------------------------------------------------------- line search
def test_optim_line_search_finds_minimiser_of_quadratic():
    x = lecture.line_search(lambda t: (t - 0.37) ** 2, 0.0, 1.0, tol=1e-6)
    assert abs(x - 0.37) < 1e-6


def test_optim_line_search_non_quadratic_and_near_the_ends():
    # cos(3x) + x is unimodal on [0.2, 2] with its minimum where sin(3x) = 1/3
    x_star = (math.pi - math.asin(1 / 3)) / 3
    x = lecture.line_search(lambda t: math.cos(3 * t) + t, 0.2, 2.0, tol=1e-7)
    assert abs(x - x_star) < 1e-6
    # minimum close to a: rule 1 (pull b, c, d towards a) is needed
    x = lecture.line_search(lambda t: (t - 0.003) ** 2, 0.0, 1.0, tol=1e-7)
    assert abs(x - 0.003) < 1e-6
    # minimum beyond d: the search ends at d
    x = lecture.line_search(lambda t: (t - 5.0) ** 2, 0.0, 1.0, tol=1e-6)
    assert abs(x - 1.0) < 1e-5


def test_optim_line_search_history_follows_the_rules():
    f = lambda t: (t - 0.1) ** 2  # noqa: E731
    x, hist = lecture.line_search(f, 0.0, 1.0, tol=1e-4, return_history=True)
    assert hist[0] == (0.0, 0.33, 0.66, 1.0)  # the notebooks' start, not the exact thirds
    rules = set()
    for (a0, b0, c0, d0), (a, b, c, d) in zip(hist, hist[1:]):
        assert a < b < c < d
        fa, fb, fc, fd = f(a0), f(b0), f(c0), f(d0)
        if fa <= min(fb, fc, fd):
            rules.add(1)  # b, c, d halfway towards a: b and c keep their place in [a, d]
            assert (a, b, c, d) == pytest.approx((a0, (a0 + b0) / 2, (a0 + c0) / 2, (a0 + d0) / 2))
            continue
        if fb < fc:
            rules.add(2)
            assert (a, d) == pytest.approx((a0, c0))  # rule 2: d <- c
        else:
            rules.add(3)
            assert (a, d) == pytest.approx((b0, d0))  # rule 3: a <- b
        assert b == pytest.approx(a + (d - a) / 3) and c == pytest.approx(a + 2 * (d - a) / 3)
    assert rules == {1, 2, 3}
    a, b, c, d = hist[-1]
    assert abs(b - c) <= 1e-4 and x == (b + c) / 2
    assert abs(hist[-2][1] - hist[-2][2]) > 1e-4  # it stopped as soon as |b - c| <= tol
    _, short = lecture.line_search(f, 0.0, 1.0, tol=1e-12, max_iter=5, return_history=True)
    assert len(short) == 6
    with pytest.raises(ValueError, match="a < d"):
        lecture.line_search(f, 1.0, 0.0)


def test_optim_line_search_gd_takes_the_exact_line_minimum():
    phi, opt, closure = _problem(lambda p: lecture.LineSearchGD(p, max_dist=1.0, tol=1e-9))
    g = grad_np(PHI0)
    t_star = (g @ g) / (g @ A @ g)  # exact minimiser of L[φ − t·g] for the quadratic
    assert 0 < t_star < 1
    loss = opt.step(closure)
    assert loss.item() == pytest.approx(0.5 * PHI0 @ A @ PHI0 - B @ PHI0)
    np.testing.assert_allclose(_value(phi), PHI0 - t_star * g, atol=1e-8)
    np.testing.assert_allclose(phi.grad.numpy(), g)  # .grad holds the gradient used
    assert opt.state[phi]["last_t"] == pytest.approx(t_star, abs=1e-8)


# The course's "Gradient descent" notebook (6.2), transcribed in plain NumPy: its data, its
# loss and hand-derived gradient, its line search (inner points from 0.33 and 0.66 of
# [0, max_dist], stop when |b - c| <= thresh or after max_iter iterations) and its descent
# loop (10 steps from phi = (1.6, -0.5), thresh 1e-5, max_dist 0.1, max_iter 15).
NB_X = np.array([0.03, 0.19, 0.34, 0.46, 0.78, 0.81, 1.08, 1.18, 1.39, 1.60, 1.65, 1.90])
NB_Y = np.array([0.67, 0.85, 1.05, 1.00, 1.40, 1.50, 1.30, 1.54, 1.55, 1.68, 1.73, 1.60])


def _nb_loss(phi):
    pred_y = phi[0] + phi[1] * NB_X
    return np.sum((pred_y - NB_Y) ** 2)


def _nb_gradient(phi):
    dl_dphi0 = 2 * np.sum(phi[0] + phi[1] * NB_X - NB_Y)
    dl_dphi1 = 2 * np.sum((phi[0] + phi[1] * NB_X - NB_Y) * NB_X)
    return np.array([dl_dphi0, dl_dphi1])


def _nb_line_search(phi, gradient, thresh, max_dist, max_iter, start=(0.33, 0.66)):
    def loss_1d(dist_prop):
        return _nb_loss(phi - gradient * dist_prop)

    a, b, c, d = 0, start[0] * max_dist, start[1] * max_dist, 1.0 * max_dist
    n_iter = 0
    while np.abs(b - c) > thresh and n_iter < max_iter:
        n_iter = n_iter + 1
        lossa, lossb, lossc, lossd = loss_1d(a), loss_1d(b), loss_1d(c), loss_1d(d)
        # Rule 1: a is the lowest: halve the distances from a to b, c and d
        if np.argmin((lossa, lossb, lossc, lossd)) == 0:
            b = a + (b - a) / 2
            c = a + (c - a) / 2
            d = a + (d - a) / 2
            continue
        # Rule 2: b below c: d becomes c, b and c at the thirds of the new [a, d]
        if lossb < lossc:
            d = c
            b = a + (d - a) / 3
            c = a + 2 * (d - a) / 3
            continue
        # Rule 3: a becomes b, b and c at the thirds of the new [a, d]
        a = b
        b = a + (d - a) / 3
        c = a + 2 * (d - a) / 3
    return (b + c) / 2.0


def _nb_descent(n_steps=10, **search):
    phi = np.array([1.6, -0.5])
    path = [phi]
    for _ in range(n_steps):
        gradient = _nb_gradient(phi)
        alpha = _nb_line_search(phi, gradient, **search)
        phi = phi - alpha * gradient
        path.append(phi)
    return np.array(path)


NB_SEARCH = dict(thresh=1e-5, max_dist=0.1, max_iter=15)


def _gradfit_descent(hand_gradient: bool, n_steps=10):
    p = gradfit.tensor([1.6, -0.5], dtype=gradfit.float64, requires_grad=True)
    opt = lecture.LineSearchGD([p], max_dist=0.1, tol=1e-5, max_iter=15)
    x, y = gradfit.tensor(NB_X), gradfit.tensor(NB_Y)

    def closure():
        opt.zero_grad()
        if hand_gradient:  # the notebook's own loss and gradient, on the same numbers
            phi = p.detach().numpy()
            p.grad = gradfit.tensor(_nb_gradient(phi))
            return gradfit.tensor(_nb_loss(phi))
        loss = ((p[0] + p[1] * x - y) ** 2).sum()
        loss.backward()
        return loss

    path = [_value(p)]
    for _ in range(n_steps):
        opt.step(closure)
        path.append(_value(p))
    return np.array(path)


def test_optim_line_search_gd_is_the_notebooks_gradient_descent():
    reference = _nb_descent(**NB_SEARCH)
    # the same loss and gradient numbers: the same decisions, the same path to the bit
    np.testing.assert_array_equal(_gradfit_descent(hand_gradient=True), reference)
    # the gradient by autodiff rounds differently, not by more than rounding
    np.testing.assert_allclose(_gradfit_descent(hand_gradient=False), reference, rtol=1e-12)
    # every step goes downhill, towards the least-squares line
    losses = [_nb_loss(phi) for phi in reference]
    assert all(after < before for before, after in zip(losses, losses[1:]))
    design = np.stack([np.ones_like(NB_X), NB_X], axis=1)
    best = _nb_loss(np.linalg.lstsq(design, NB_Y, rcond=None)[0])
    assert losses[-1] < 1.1 * best < losses[0] / 10
    # with the iteration cap, starting from the exact thirds takes another path
    thirds = _nb_descent(**NB_SEARCH, start=(1 / 3, 2 / 3))
    assert np.max(np.abs(thirds - reference)) > 1e-3


# ---------------------------------------------------------------------- Optimizer API
LECTURE_OPTS = [
    ("Momentum", dict(lr=0.1, beta=0.9)),
    ("Nesterov", dict(lr=0.1, beta=0.9)),
    ("NormalizedGD", dict(lr=0.01)),
    ("Adam", dict(lr=0.05)),
    ("LineSearchGD", dict(max_dist=0.5)),
]


@pytest.mark.parametrize(("name", "kw"), LECTURE_OPTS, ids=[n for n, _ in LECTURE_OPTS])
def test_optim_lecture_optimizers_save_load_resume(name, kw):
    def run(opt, closure, n):
        return [opt.step(closure).item() for _ in range(n)]

    phi, opt, closure = _problem(lambda p: getattr(lecture, name)(p, **kw))
    straight = run(opt, closure, 20)
    final = _value(phi)

    phi1, opt1, closure1 = _problem(lambda p: getattr(lecture, name)(p, **kw))
    first = run(opt1, closure1, 10)
    saved = copy.deepcopy({"phi": _value(phi1), "optim": opt1.state_dict()})
    phi2, opt2, closure2 = _problem(lambda p: getattr(lecture, name)(p, **kw))
    with gradfit.no_grad():
        phi2.copy_(gradfit.tensor(saved["phi"]))
    opt2.load_state_dict(saved["optim"])
    assert opt2.param_groups[0].keys() == opt1.param_groups[0].keys()
    second = run(opt2, closure2, 10)
    assert first + second == straight
    assert np.array_equal(_value(phi2), final)
    assert isinstance(opt2, gradfit.optim.Optimizer)


def test_optim_lecture_skips_params_without_grad():
    a = gradfit.ones(2, requires_grad=True)
    b = gradfit.ones(2, requires_grad=True)
    for opt in (
        lecture.Momentum([a, b], lr=0.1, beta=0.9),
        lecture.NormalizedGD([a, b], lr=0.1),
        lecture.Adam([a, b], lr=0.1),
    ):
        a.grad, b.grad = gradfit.ones(2), None
        opt.step()
        assert np.array_equal(b.detach().numpy(), [1.0, 1.0]) and b not in opt.state


def test_optim_lecture_errors():
    p = gradfit.zeros(1, requires_grad=True)
    with pytest.raises(ValueError, match="Invalid learning rate: -0.1"):
        lecture.Momentum([p], lr=-0.1, beta=0.9)
    with pytest.raises(ValueError, match="Invalid beta value: 1.0"):
        lecture.Nesterov([p], lr=0.1, beta=1.0)
    with pytest.raises(ValueError, match="Invalid gamma value: 1.5"):
        lecture.Adam([p], lr=0.1, gamma=1.5)
    with pytest.raises(ValueError, match="Invalid epsilon value: -1"):
        lecture.NormalizedGD([p], lr=0.1, eps=-1)
    with pytest.raises(ValueError, match="Invalid max_dist: 0"):
        lecture.LineSearchGD([p], max_dist=0)
