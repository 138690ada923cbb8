"""The lesson checkers: each accepts a right answer, rejects a typical wrong one with a
message that names the wrong component (expected against got, with a hint), and reports a
function that still raises NotImplementedError as not done.

The right answers here are written independently of the notebooks' solutions (the solved
notebooks, executed in test_lecture_notebooks.py, pass the same checkers)."""

import math

import numpy as np
import pytest

import gradfit
from gradfit.lecture import exercises as ex
from gradfit.optim.lecture import line_search as gradfit_line_search


# ----------------------------------------------------------------------- right answers
def bracket_update(a, b, c, d, fa, fb, fc, fd):
    if fa <= min(fb, fc, fd):
        return a, (a + b) / 2, (a + c) / 2, (a + d) / 2
    a, d = (a, c) if fb < fc else (b, d)
    return a, a + (d - a) / 3, a + 2 * (d - a) / 3, d


def line_search(f, a, d, tol):
    return gradfit_line_search(f, a, d, tol=tol)


def step_length(loss, phi, g, max_dist):
    return gradfit_line_search(lambda t: loss(phi - t * g), 0.0, max_dist, tol=1e-6)


def linreg_loss(phi, x, y):
    return np.sum((phi[0] + phi[1] * x - y) ** 2)


def linreg_gradient(phi, x, y):
    r = phi[0] + phi[1] * x - y
    return np.array([2 * r.sum(), 2 * (x * r).sum()])


def gradient_descent(phi, x, y, lr, n):
    path = [np.asarray(phi, float)]
    for _ in range(n):
        path.append(path[-1] - lr * linreg_gradient(path[-1], x, y))
    return np.array(path)


def gabor_gradient(phi, x, y):
    z = phi[0] + 0.06 * phi[1] * x
    e = np.exp(-z * z / 32)
    d = 2 * (np.sin(z) * e - y) * (np.cos(z) * e - np.sin(z) * e * z / 16)
    return np.array([d.sum(), (d * 0.06 * x).sum()])


def epoch_batches(n, bs, generator):
    order = gradfit.randperm(n, generator=generator).numpy()
    return np.array_split(order, range(bs, n, bs))


def sgd_step(phi, xb, yb, lr):
    return phi - lr * gabor_gradient(phi, xb, yb)


def momentum_step(phi, m, g, lr, beta):
    m = beta * m + (1 - beta) * g
    return phi - lr * m, m


def nesterov_step(phi, m, grad_fn, lr, beta):
    return momentum_step(phi, m, grad_fn(phi - lr * beta * m), lr, beta)


def torch_momentum(lr, beta):
    return {"lr": lr * (1 - beta), "momentum": beta}


def normalized_step(phi, g, lr, eps):
    return phi - lr * g / (np.abs(g) + eps)


def adam_moments(m, v, g, beta, gamma):
    return beta * m + (1 - beta) * g, gamma * v + (1 - gamma) * g * g


def adam_step(phi, m, v, g, t, lr, beta, gamma, eps):
    m, v = adam_moments(m, v, g, beta, gamma)
    return phi - lr * (m / (1 - beta**t)) / (np.sqrt(v / (1 - gamma**t)) + eps), m, v


def log_grid(low, high, n):
    return np.logspace(math.log10(low), math.log10(high), n)


def train_val_split(n, n_val, generator):
    order = gradfit.randperm(n, generator=generator).numpy()
    return order[n_val:], order[:n_val]


def grid_search(score, lrs, momenta):
    table = np.array([[score(a, b) for b in momenta] for a in lrs])
    i, j = np.unravel_index(table.argmin(), table.shape)
    return table, (lrs[i], momenta[j])


def toy_forward(x, beta, omega):
    f0 = beta[0] + omega[0] * x
    f1 = beta[1] + omega[1] * math.sin(f0)
    f2 = beta[2] + omega[2] * math.exp(f1)
    f3 = beta[3] + omega[3] * math.cos(f2)
    return f0, math.sin(f0), f1, math.exp(f1), f2, math.cos(f2), f3


def toy_backward(x, y, beta, omega, fwd):
    f0, h1, f1, h2, f2, h3, f3 = fwd
    out = [2 * (f3 - y)]
    for local in (omega[3], -math.sin(f2), omega[2], math.exp(f1), omega[1], math.cos(f0)):
        out.append(local * out[-1])
    return tuple(out)


def toy_params(x, fwd, bwd):
    df = [bwd[6], bwd[4], bwd[2], bwd[0]]
    return df, [x * df[0], fwd[1] * df[1], fwd[3] * df[2], fwd[5] * df[3]]


def relu_derivative(f):
    return np.where(f > 0, 1.0, 0.0)


def deep_forward(x, weights, biases):
    hs, fs = [x], []
    for k, (w, b) in enumerate(zip(weights, biases)):
        if k:
            hs.append(np.maximum(fs[-1], 0))
        fs.append(b + w @ hs[-1])
    return fs, hs


def deep_backward(weights, biases, fs, hs, y):
    delta, dw, db = 2 * (fs[-1] - y), [], []
    for k in range(len(weights) - 1, -1, -1):
        dw.insert(0, delta @ hs[k].T)
        db.insert(0, delta)
        if k:
            delta = (fs[k - 1] > 0) * (weights[k].T @ delta)
    return dw, db


def he_variance(fan_in):
    return 2 / fan_in


def next_variance(var_f, var_omega, d_h):
    return d_h * var_omega * var_f / 2


def compromise_variance(fan_in, fan_out):
    return 2 / ((fan_in + fan_out) / 2)


# ----------------------------------------------------------------------- typical mistakes
def _swap_last_rule(a, b, c, d, fa, fb, fc, fd):
    if fa <= min(fb, fc, fd):
        return a, (a + b) / 2, (a + c) / 2, (a + d) / 2
    a, d = (a, c) if fb > fc else (b, d)  # the comparison the wrong way round
    return a, a + (d - a) / 3, a + 2 * (d - a) / 3, d


def _deep_backward_no_transpose(weights, biases, fs, hs, y):
    dw, db = deep_backward(weights, biases, fs, hs, y)
    return [w.T for w in dw], db


def _toy_backward_cos_sign(x, y, beta, omega, fwd):
    out = list(toy_backward(x, y, beta, omega, fwd))
    out[2] = math.sin(fwd[4]) * out[1]  # d cos/df = +sin: the sign error
    for k, local in zip(range(3, 7), (omega[2], math.exp(fwd[2]), omega[1], math.cos(fwd[0]))):
        out[k] = local * out[k - 1]
    return tuple(out)


CASES = [
    # checker, right answer, wrong answer, words the message must contain
    (
        ex.check_bracket_update,
        bracket_update,
        _swap_last_rule,
        ["case f(b) < f(c): new", "expected"],
    ),
    (ex.check_line_search, line_search, lambda f, a, d, tol: (a + d) / 2, ["minimiser of"]),
    (ex.check_step_length, step_length, lambda loss, phi, g, m: 1.0, ["step length t at phi"]),
    (
        ex.check_linreg_loss,
        linreg_loss,
        lambda phi, x, y: np.mean((phi[0] + phi[1] * x - y) ** 2),
        ["L[phi] at phi = [0.6, -0.2]", "mean over the examples"],
    ),
    (
        ex.check_linreg_gradient,
        linreg_gradient,
        lambda phi, x, y: -linreg_gradient(phi, x, y),
        ["dL/dphi[0] at phi = [0.6, -0.2]: expected -21.904, got 21.904 (sign?)"],
    ),
    (
        ex.check_gradient_descent,
        gradient_descent,
        lambda phi, x, y, lr, n: gradient_descent(phi, x, y, -lr, n),
        ["path[1][0] (phi0 after 1 steps)", "uphill"],
    ),
    (
        ex.check_gabor_gradient,
        gabor_gradient,
        lambda phi, x, y: gabor_gradient(phi, x, y) / len(x),
        ["dL/dphi[0] at phi = [-1.5, 6.5]", "mean over the examples"],
    ),
    (
        ex.check_epoch_batches,
        epoch_batches,
        lambda n, bs, g: [
            gradfit.randint(0, n, (min(bs, n - i),), generator=g).numpy() for i in range(0, n, bs)
        ],
        ["times in one epoch, expected exactly once"],
    ),
    (
        ex.check_sgd_step,
        sgd_step,
        lambda phi, xb, yb, lr: phi - lr * gabor_gradient(phi, xb, yb) / len(xb),
        ["new phi[0] (phi = [-1.5, 6.5], batch [3, 17, 5], lr = 0.5)", "averaged"],
    ),
    (
        ex.check_momentum_step,
        momentum_step,
        lambda phi, m, g, lr, beta: (phi - lr * (beta * m + g), beta * m + g),
        ["m[0] after step 1", "undamped"],
    ),
    (
        ex.check_nesterov_step,
        nesterov_step,
        lambda phi, m, grad_fn, lr, beta: momentum_step(phi, m, grad_fn(phi), lr, beta),
        ["m[0] after step 2", "plain momentum"],
    ),
    (
        ex.check_torch_momentum,
        torch_momentum,
        lambda lr, beta: {"lr": lr, "momentum": beta},
        ["phi[0] after step 1 of SGD", "not damped"],
    ),
    (
        ex.check_normalized_step,
        normalized_step,
        lambda phi, g, lr, eps: phi - lr * g,
        ["new phi[0] (grad[0] =", "plain gradient descent"],
    ),
    (
        ex.check_adam_moments,
        adam_moments,
        lambda m, v, g, beta, gamma: (beta * m + (1 - beta) * g, gamma * v + (1 - gamma) * g),
        ["v[0] after step 1", "squared gradient"],
    ),
    (
        ex.check_adam_step,
        adam_step,
        lambda phi, m, v, g, t, lr, beta, gamma, eps: (
            phi
            - lr
            * adam_moments(m, v, g, beta, gamma)[0]
            / (np.sqrt(adam_moments(m, v, g, beta, gamma)[1]) + eps),
            *adam_moments(m, v, g, beta, gamma),
        ),
        ["phi[0] after step 2", "no bias correction"],
    ),
    (ex.check_log_grid, log_grid, np.linspace, ["log_grid(0.001, 1.0, 4)[1]", "linear scale"]),
    (
        ex.check_train_val_split,
        train_val_split,
        lambda n, n_val, g: (np.arange(n), np.arange(n_val)),
        ["expected 80 training indices, got 100"],
    ),
    (
        ex.check_grid_search,
        grid_search,
        lambda score, lrs, mom: (grid_search(score, lrs, mom)[0].T, (lrs[0], mom[0])),
        ["table: expected shape (7, 5), got shape (5, 7)", "transposed"],
    ),
    (
        ex.check_toy_forward,
        toy_forward,
        lambda x, b, w: toy_forward(x, b, w)[::-1],
        ["f0 (x = 2.3)"],
    ),
    (
        ex.check_toy_backward,
        toy_backward,
        _toy_backward_cos_sign,
        ["dl/df2 (x = 2.3, y = 2.0)", "(sign?)"],
    ),
    (
        ex.check_toy_parameter_gradients,
        toy_params,
        lambda x, fwd, bwd: (toy_params(x, fwd, bwd)[0], toy_params(x, fwd, bwd)[0]),
        ["dl/domega0 (x = 2.3)", "source of omega_k"],
    ),
    (
        ex.check_relu_derivative,
        relu_derivative,
        lambda f: np.maximum(f, 0),
        ["relu_derivative(f)[0, 0]"],
    ),
    (
        ex.check_deep_forward,
        deep_forward,
        lambda x, ws, bs: ([b + w @ x for w, b in zip(ws[:1], bs)], [x]),
        ["all_f has 1 entries, expected 4"],
    ),
    (
        ex.check_deep_backward,
        deep_backward,
        _deep_backward_no_transpose,
        ["dl/dOmega_3: expected shape (1, 6), got shape (6, 1)", "transposed"],
    ),
    (
        ex.check_he_variance,
        he_variance,
        lambda fan_in: 1 / fan_in,
        ["he_variance(10)", "ReLU zeros half"],
    ),
    (
        ex.check_next_variance,
        next_variance,
        lambda var_f, var_omega, d_h: d_h * var_omega * var_f,
        ["next_variance(var_f=1.0, var_omega=0.02, d_h=100): expected 1, got 2", "without the 1/2"],
    ),
    (
        ex.check_compromise_variance,
        compromise_variance,
        lambda fan_in, fan_out: 2 / (fan_in + fan_out),
        ["compromise_variance(100, 100): expected 0.02, got 0.01", "ReLU factor"],
    ),
]
IDS = [case[0].__name__ for case in CASES]


def test_every_checker_is_covered():
    checkers = {n for n in ex.__all__ if n.startswith("check_")}
    assert set(IDS) == checkers and len(checkers) == 27


@pytest.mark.parametrize("checker, right, wrong, words", CASES, ids=IDS)
def test_checker_accepts_the_right_answer(checker, right, wrong, words, capsys):
    assert checker(right) is True
    assert "\u2714" in capsys.readouterr().out


@pytest.mark.parametrize("checker, right, wrong, words", CASES, ids=IDS)
def test_checker_names_what_is_wrong(checker, right, wrong, words):
    with pytest.raises(ex.ExerciseError) as info:
        checker(wrong)
    assert not isinstance(info.value, ex.NotDoneError)
    message = str(info.value)
    for word in words:
        assert word in message, message


@pytest.mark.parametrize("checker", [case[0] for case in CASES], ids=IDS)
def test_checker_reports_not_done(checker):
    def placeholder(*args, **kwargs):
        raise NotImplementedError("exercise: write this part")

    placeholder.__name__ = "f"
    with pytest.raises(ex.NotDoneError, match="not done yet: .* still raises NotImplementedError"):
        checker(placeholder)


def test_checker_rejects_a_non_function_and_a_non_number():
    with pytest.raises(ex.ExerciseError, match="expected your function, got NoneType"):
        ex.check_he_variance(None)
    with pytest.raises(ex.ExerciseError, match="expected a number or an array"):
        ex.check_he_variance(lambda fan_in: "two over fan_in")
    with pytest.raises(ex.ExerciseError, match="got None; does your function return"):
        ex.check_linreg_gradient(lambda phi, x, y: None)
