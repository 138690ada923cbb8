"""Checkers for the exercises of the lesson notebooks (``python -m gradfit.lecture.lesson``).

Each ``check_*`` function takes the reader's function, calls it on inputs of its own, and
compares the result with the answer it computes itself with gradfit (autodiff, the
optimizers of ``gradfit.optim`` and ``gradfit.optim.lecture``) or NumPy. It prints a line
starting with a check mark and returns True when everything agrees; otherwise it raises
``ExerciseError`` whose message names the component that is wrong, with the expected and
the received value and, where the mistake is a common one, a hint::

    ExerciseError: dL/dphi[1] at phi = [0.6, -0.2]: expected -9.776, got 9.776 (sign?)

A function whose body still raises ``NotImplementedError`` (the student version of a
notebook) gives ``NotDoneError``: the exercise is not done yet.

The checkers are grouped by notebook, in lecture order. Every expected value is computed
when the checker runs; nothing is stored.
"""

from __future__ import annotations

import math

import numpy as np

import gradfit
from gradfit.optim import lecture as L

__all__ = [
    "ExerciseError",
    "NotDoneError",
    # 01 line search
    "check_bracket_update",
    "check_line_search",
    "check_step_length",
    # 02 gradient descent
    "check_linreg_loss",
    "check_linreg_gradient",
    "check_gradient_descent",
    # 03 SGD
    "check_gabor_gradient",
    "check_epoch_batches",
    "check_sgd_step",
    # 04 momentum
    "check_momentum_step",
    "check_nesterov_step",
    "check_torch_momentum",
    # 05 Adam
    "check_normalized_step",
    "check_adam_moments",
    "check_adam_step",
    # 06 hyperparameter search
    "check_log_grid",
    "check_train_val_split",
    "check_grid_search",
    # 07 backprop, toy model
    "check_toy_forward",
    "check_toy_backward",
    "check_toy_parameter_gradients",
    # 08 backprop, deep network
    "check_relu_derivative",
    "check_deep_forward",
    "check_deep_backward",
    # 09 initialisation
    "check_he_variance",
    "check_next_variance",
    "check_compromise_variance",
]

F64 = gradfit.float64


class ExerciseError(AssertionError):
    """An exercise's answer is wrong; the message says which component and how."""


class NotDoneError(ExerciseError):
    """The exercise's function still raises ``NotImplementedError``."""


# --------------------------------------------------------------------------- helpers
def _call(fn, name: str, *args, **kwargs):
    """Call the reader's function; a missing body becomes ``NotDoneError``."""
    __tracebackhide__ = True  # IPython and pytest show the message, not these frames
    if not callable(fn):
        raise ExerciseError(f"{name}: expected your function, got {type(fn).__name__} {fn!r}")
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        raise NotDoneError(
            f"not done yet: {name} still raises NotImplementedError; write its body where "
            "the cell says YOUR CODE HERE, run the cell, then run this check again"
        ) from None


def _array(label: str, got) -> np.ndarray:
    __tracebackhide__ = True
    if got is None:
        raise ExerciseError(f"{label}: got None; does your function return its result?")
    if hasattr(got, "detach"):  # a gradfit (or torch) tensor
        got = got.detach().numpy()
    try:
        arr = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        raise ExerciseError(
            f"{label}: expected a number or an array of numbers, got {type(got).__name__} "
            f"{got!r:.60}"
        ) from None
    return arr


def _fmt(v: float) -> str:
    return f"{v:.6g}"


def _generic_hint(e: np.ndarray, g: np.ndarray) -> str:
    if not np.all(np.isfinite(g)):
        return " (not finite: did something overflow or divide by zero?)"
    if np.allclose(e, 0):
        return ""
    if np.allclose(g, -e, rtol=1e-6, atol=1e-9):
        return " (sign?)"
    if np.allclose(g, 2 * e, rtol=1e-6, atol=1e-9):
        return " (twice the expected value: a stray factor 2?)"
    if np.allclose(2 * g, e, rtol=1e-6, atol=1e-9):
        return " (half the expected value: a factor 2 missing?)"
    if np.allclose(g, 0):
        return " (zero: is a term missing?)"
    return ""


def _same(label, expected, got, *, rtol=1e-6, atol=1e-9, typical=None, names=None):
    """Raise ``ExerciseError`` naming the first component of ``got`` that is not ``expected``.

    ``typical`` maps a hint to the value a typical mistake gives (the hint is added when
    ``got`` matches it); ``names`` gives each component of a 1-D value its own name.
    """
    __tracebackhide__ = True
    e = np.asarray(expected, dtype=np.float64)
    g = _array(label, got)
    if g.shape != e.shape:
        hint = ""
        if g.size == e.size:
            hint = " (the right numbers in another shape? reshape it"
            hint += ", or is it transposed?)" if e.ndim == 2 else ")"
        raise ExerciseError(f"{label}: expected shape {e.shape}, got shape {g.shape}{hint}")
    bad = ~np.isclose(g, e, rtol=rtol, atol=atol)
    if not bad.any():
        return
    idx = tuple(int(i) for i in np.argwhere(bad)[0])
    if names is not None and e.ndim == 1:
        comp = names[idx[0]]
    elif e.ndim == 0:
        comp = label
    else:
        comp = f"{label}[{', '.join(map(str, idx))}]"
    hint = ""
    for message, value in (typical or {}).items():
        v = np.asarray(value, dtype=np.float64)
        if v.shape == g.shape and np.allclose(g, v, rtol=1e-6, atol=1e-9):
            hint = f" ({message})"
            break
    hint = hint or _generic_hint(np.asarray(e[idx]), np.asarray(g[idx]))
    raise ExerciseError(f"{comp}: expected {_fmt(e[idx])}, got {_fmt(g[idx])}{hint}")


def _passed(what: str) -> bool:
    print(f"\u2714 {what}: correct")
    return True


def _vec(values) -> str:
    return "[" + ", ".join(f"{float(v):.4g}" for v in np.ravel(values)) + "]"


def _randn(seed: int, *shape) -> np.ndarray:
    g = gradfit.Generator().manual_seed(seed)
    return gradfit.randn(*shape, generator=g, dtype=F64).numpy()


# --------------------------------------------------------------------------- 01 line search
def _expected_bracket(a: float, d: float, values: tuple[float, float, float, float]):
    """One iteration of gradfit's line search on a function with the given four values.

    The bracket is the one gradfit's search starts from (b and c at 0.33 and 0.66 of
    [a, d]), so that its first iteration is the expected answer.
    """
    b = a + L.NOTEBOOK_START[0] * (d - a)
    c = a + L.NOTEBOOK_START[1] * (d - a)
    table = dict(zip((a, b, c, d), values))
    _, history = L.line_search(lambda t: table[t], a, d, tol=1e-12, max_iter=1, return_history=True)
    return (a, b, c, d), history[1]


def check_bracket_update(bracket_update) -> bool:
    """Exercise: one step of the line search's bracketing rule.

    ``bracket_update(a, b, c, d, fa, fb, fc, fd)`` returns the new ``(a, b, c, d)``.
    """
    __tracebackhide__ = True
    cases = {
        "f(a) is the lowest": (0.0, 3.0, (0.1, 0.5, 0.7, 0.9)),
        "f(b) < f(c)": (0.0, 3.0, (0.8, 0.2, 0.5, 0.9)),
        "f(c) < f(b)": (1.0, 2.5, (0.8, 0.5, 0.2, 0.9)),
        "f(c) < f(b), f(d) lowest": (-1.0, 2.0, (0.8, 0.5, 0.3, 0.1)),
    }
    for case, (a, d, values) in cases.items():
        points, expected = _expected_bracket(a, d, values)
        got = _call(bracket_update, "bracket_update", *points, *values)
        if not isinstance(got, tuple | list) or len(got) != 4:
            raise ExerciseError(
                f"bracket_update: expected a tuple (a, b, c, d), got {type(got).__name__} "
                f"{got!r:.60}"
            )
        a, b, c, d = points
        typical = {}
        if case == "f(a) is the lowest":
            typical["the whole bracket shrinks towards a by half: b, c and d move halfway to a"] = (
                a,
                b,
                c,
                d,
            )
        if case.startswith("f(c) < f(b)"):
            typical["when f(c) < f(b) the minimum is right of b: a moves to b"] = (
                a,
                a + (c - a) / 3,
                a + 2 * (c - a) / 3,
                c,
            )
        _same(
            f"case {case}, bracket (a, b, c, d)",
            expected,
            [float(v) for v in got],
            names=[f"case {case}: new {n}" for n in "abcd"],
            typical=typical,
        )
    return _passed("bracket_update (all four cases of the rule)")


_LS_FUNCS = {
    "f(t) = (t - 0.3)^2 on [0, 1]": (lambda t: (t - 0.3) ** 2, 0.0, 1.0),
    "f(t) = cos(3t) on [0, 2]": (lambda t: math.cos(3 * t), 0.0, 2.0),
    "f(t) = exp(t) on [0, 4] (minimum at the left end)": (math.exp, 0.0, 4.0),
    "f(t) = -t exp(-t) on [0, 5]": (lambda t: -t * math.exp(-t), 0.0, 5.0),
}


def check_line_search(line_search) -> bool:
    """Exercise: the whole bracketing search, ``line_search(f, a, d, tol) -> t``."""
    __tracebackhide__ = True
    for name, (f, a, d) in _LS_FUNCS.items():
        expected = L.line_search(f, a, d, tol=1e-6)
        got = _call(line_search, "line_search", f, a, d, 1e-6)
        _same(f"minimiser of {name}", expected, got, atol=1e-4, rtol=0)
    return _passed("line_search (four functions)")


def _quadratic_loss(phi) -> gradfit.Tensor:
    # a tilted bowl: its minimum along -g is not at a round step length
    return 1.5 * (phi[0] - 1.0) ** 2 + 0.4 * (phi[1] + 0.5) ** 2 + 0.3 * phi[0] * phi[1]


def check_step_length(step_length) -> bool:
    """Exercise: ``step_length(loss, phi, g, max_dist) -> t`` minimising loss(phi - t g)."""
    __tracebackhide__ = True

    def loss(phi):
        return float(_quadratic_loss(np.asarray(phi, dtype=np.float64)))

    for start in ([0.0, 0.0], [2.0, 1.0], [-1.0, 3.0]):
        p = gradfit.tensor(start, dtype=F64, requires_grad=True)
        opt = L.LineSearchGD([p], max_dist=2.0, tol=1e-6)

        def closure(p=p, opt=opt):
            opt.zero_grad()
            value = _quadratic_loss(p)
            value.backward()
            return value

        p0 = p.detach().numpy().copy()
        opt.step(closure)
        g = p.grad.numpy().copy()
        expected = opt.state[p]["last_t"]
        got = _call(step_length, "step_length", loss, p0.copy(), g.copy(), 2.0)
        _same(f"step length t at phi = {_vec(p0)}", expected, got, atol=1e-4, rtol=0)
    return _passed("step_length (three starting points)")


# --------------------------------------------------------------------------- 02 gradient descent
def _linreg_data():
    data = gradfit.datasets.linreg()
    return data.x[:, 0].copy(), data.y[:, 0].copy()


_LINREG_PHIS = ([0.6, -0.2], [1.8, -0.9], [0.0, 1.0])


def _linreg_loss_and_grad(phi, x, y):
    p = gradfit.tensor(phi, dtype=F64, requires_grad=True)
    xt, yt = gradfit.tensor(x, dtype=F64), gradfit.tensor(y, dtype=F64)
    loss = ((p[0] + p[1] * xt - yt) ** 2).sum()
    loss.backward()
    return loss.item(), p.grad.numpy()


def check_linreg_loss(compute_loss) -> bool:
    """Exercise: ``compute_loss(phi, x, y)``, the least-squares loss of eq. 6.5."""
    __tracebackhide__ = True
    x, y = _linreg_data()
    for phi in _LINREG_PHIS:
        expected, _ = _linreg_loss_and_grad(phi, x, y)
        got = _call(compute_loss, "compute_loss", np.array(phi), x.copy(), y.copy())
        r = phi[0] + phi[1] * x - y
        typical = {
            "that is the mean over the examples; eq. 6.5 sums them": np.mean(r**2),
            "the residuals are not squared": np.sum(r),
            "sum of |residual|; eq. 6.5 squares them": np.sum(np.abs(r)),
        }
        _same(f"L[phi] at phi = {phi}", expected, got, typical=typical)
    return _passed("compute_loss (eq. 6.5)")


def check_linreg_gradient(compute_gradient) -> bool:
    """Exercise: ``compute_gradient(phi, x, y) -> [dL/dphi0, dL/dphi1]`` (eqs. 6.6-6.7)."""
    __tracebackhide__ = True
    x, y = _linreg_data()
    for phi in _LINREG_PHIS:
        _, expected = _linreg_loss_and_grad(phi, x, y)
        got = _call(compute_gradient, "compute_gradient", np.array(phi), x.copy(), y.copy())
        typical = {
            "the mean over the examples; eq. 6.6 sums the per-example derivatives": expected
            / len(x),
            "components swapped: dL/dphi0 comes first": expected[::-1],
        }
        _same(
            f"dL/dphi at phi = {phi}",
            expected,
            np.ravel(_array("compute_gradient", got)) if np.size(got) == 2 else got,
            names=[f"dL/dphi[{k}] at phi = {phi}" for k in range(2)],
            typical=typical,
        )
    return _passed("compute_gradient (eq. 6.7, checked against gradfit's autodiff)")


def check_gradient_descent(gradient_descent) -> bool:
    """Exercise: ``gradient_descent(phi_start, x, y, lr, n_steps)`` -> the path, shape
    (n_steps + 1, 2), of fixed-step gradient descent (eq. 6.3)."""
    __tracebackhide__ = True
    x, y = _linreg_data()
    xt, yt = gradfit.tensor(x, dtype=F64), gradfit.tensor(y, dtype=F64)
    start, lr, n = [1.6, -0.6], 0.03, 6
    p = gradfit.tensor(start, dtype=F64, requires_grad=True)
    opt = gradfit.optim.SGD([p], lr=lr)
    path = [p.detach().numpy().copy()]
    uphill = [np.array(start)]
    for _ in range(n):
        opt.zero_grad()
        ((p[0] + p[1] * xt - yt) ** 2).sum().backward()
        opt.step()
        path.append(p.detach().numpy().copy())
        _, g = _linreg_loss_and_grad(uphill[-1], x, y)
        uphill.append(uphill[-1] + lr * g)
    got = _call(gradient_descent, "gradient_descent", np.array(start), x.copy(), y.copy(), lr, n)
    got = _array("gradient_descent", got)
    expected = np.array(path)
    if got.shape == (n + 1, 2):
        for k in range(n + 1):
            _same(
                f"path[{k}] (phi after {k} steps)",
                expected[k],
                got[k],
                names=[f"path[{k}][{j}] (phi{j} after {k} steps)" for j in range(2)],
                typical={"the step goes uphill: phi <- phi - lr * dL/dphi": np.array(uphill)[k]},
            )
    _same("gradient_descent path", expected, got)
    return _passed("gradient_descent (eq. 6.3, against gradfit.optim.SGD)")


# --------------------------------------------------------------------------- 03 SGD
def _gabor_data():
    data = gradfit.datasets.gabor()
    return data.x[:, 0].copy(), data.y[:, 0].copy()


def _gabor_loss(p, xt, yt):
    z = p[0] + 0.06 * p[1] * xt
    return ((gradfit.sin(z) * gradfit.exp(-(z * z) / 32.0) - yt) ** 2).sum()


def _gabor_grad(phi, x, y):
    p = gradfit.tensor(phi, dtype=F64, requires_grad=True)
    _gabor_loss(p, gradfit.tensor(x, dtype=F64), gradfit.tensor(y, dtype=F64)).backward()
    return p.grad.numpy()


def check_gabor_gradient(gabor_gradient) -> bool:
    """Exercise: ``gabor_gradient(phi, x, y) -> [dL/dphi0, dL/dphi1]`` for the Gabor model
    (eq. 6.8) with the summed least-squares loss."""
    __tracebackhide__ = True
    x, y = _gabor_data()
    for phi in ([-1.5, 6.5], [0.5, 16.0], [2.0, 12.0]):
        expected = _gabor_grad(phi, x, y)
        got = _call(gabor_gradient, "gabor_gradient", np.array(phi), x.copy(), y.copy())
        _same(
            f"dL/dphi at phi = {phi}",
            expected,
            np.ravel(_array("gabor_gradient", got)) if np.size(got) == 2 else got,
            names=[f"dL/dphi[{k}] at phi = {phi}" for k in range(2)],
            typical={
                "the mean over the examples; the lecture's loss sums them": expected / len(x),
                "dz/dphi1 = 0.06 x: is the 0.06 missing?": [expected[0], expected[1] / 0.06],
            },
        )
    return _passed("gabor_gradient (checked against gradfit's autodiff)")


def check_epoch_batches(epoch_batches) -> bool:
    """Exercise: ``epoch_batches(n, batch_size, generator)`` -> a list of index arrays that
    together use every example exactly once (one epoch, drawn without replacement)."""
    __tracebackhide__ = True
    orders = []
    for n, bs, seed in ((28, 3, 0), (28, 7, 1), (10, 4, 2), (28, 3, 3)):
        g = gradfit.Generator().manual_seed(seed)
        got = _call(epoch_batches, "epoch_batches", n, bs, g)
        try:
            batches = [np.asarray(_array("batch", b), dtype=np.int64).ravel() for b in got]
        except TypeError:
            raise ExerciseError(
                f"epoch_batches: expected a list of index arrays, got {type(got).__name__}"
            ) from None
        expected_sizes = [bs] * (n // bs) + ([n % bs] if n % bs else [])
        sizes = [len(b) for b in batches]
        if len(sizes) != len(expected_sizes):
            raise ExerciseError(
                f"epoch_batches(n={n}, batch_size={bs}): expected {len(expected_sizes)} "
                f"batches (the last one with the {n % bs or bs} left over), got {len(sizes)}"
            )
        for k, (s, es) in enumerate(zip(sizes, expected_sizes)):
            if s != es:
                raise ExerciseError(
                    f"epoch_batches(n={n}, batch_size={bs}): batch {k} has {s} examples, "
                    f"expected {es}"
                )
        flat = np.concatenate(batches)
        counts = np.bincount(flat[(flat >= 0) & (flat < n)], minlength=n)
        if flat.min() < 0 or flat.max() >= n:
            raise ExerciseError(
                f"epoch_batches(n={n}): index {int(flat.max() if flat.max() >= n else flat.min())}"
                f" is not an example index (expected 0..{n - 1})"
            )
        for i in range(n):
            if counts[i] != 1:
                raise ExerciseError(
                    f"epoch_batches(n={n}, batch_size={bs}): example {i} is used {counts[i]} "
                    "times in one epoch, expected exactly once (draw without replacement)"
                )
        orders.append(tuple(flat))
    if orders[0] == orders[3] or orders[0] == tuple(range(28)):
        raise ExerciseError(
            "epoch_batches: the order is the same for different generators (or not shuffled "
            "at all): draw a random permutation from the generator, e.g. gradfit.randperm(n, "
            "generator=generator)"
        )
    return _passed("epoch_batches (every example once per epoch, shuffled)")


def check_sgd_step(sgd_step) -> bool:
    """Exercise: ``sgd_step(phi, x_batch, y_batch, lr)`` -> the new phi (eq. 6.9)."""
    __tracebackhide__ = True
    x, y = _gabor_data()
    for phi, idx, lr in (([-1.5, 6.5], [3, 17, 5], 0.5), ([1.0, 12.5], [0, 1, 2, 9, 20], 0.2)):
        xb, yb = x[idx], y[idx]
        p = gradfit.tensor(phi, dtype=F64, requires_grad=True)
        opt = gradfit.optim.SGD([p], lr=lr)
        _gabor_loss(p, gradfit.tensor(xb, dtype=F64), gradfit.tensor(yb, dtype=F64)).backward()
        g = p.grad.numpy().copy()
        opt.step()
        expected = p.detach().numpy()
        got = _call(sgd_step, "sgd_step", np.array(phi), xb.copy(), yb.copy(), lr)
        _same(
            f"new phi from phi = {phi}, batch {idx}, lr = {lr}",
            expected,
            np.ravel(_array("sgd_step", got)) if np.size(got) == 2 else got,
            names=[f"new phi[{k}] (phi = {phi}, batch {idx}, lr = {lr})" for k in range(2)],
            typical={
                "the batch gradient is averaged; eq. 6.9 sums it": np.array(phi)
                - lr * g / len(idx),
                "the step goes uphill: subtract lr times the gradient": np.array(phi) + lr * g,
                "the gradient of the whole data set, not of the batch": np.array(phi)
                - lr * _gabor_grad(phi, x, y),
            },
        )
    return _passed("sgd_step (eq. 6.9, against gradfit.optim.SGD)")


# --------------------------------------------------------------------------- 04 momentum
def _grad_sequence(seed: int, n: int = 4) -> np.ndarray:
    return _randn(seed, n, 2)


def check_momentum_step(momentum_step) -> bool:
    """Exercise: ``momentum_step(phi, m, grad, lr, beta) -> (phi, m)`` (eq. 6.11)."""
    __tracebackhide__ = True
    lr, beta = 0.1, 0.8
    grads = _grad_sequence(11)
    p = gradfit.tensor([1.0, -2.0], dtype=F64, requires_grad=True)
    opt = L.Momentum([p], lr=lr, beta=beta)
    phi, m = np.array([1.0, -2.0]), np.zeros(2)
    for t, g in enumerate(grads):
        m_prev, phi_prev = m.copy(), phi.copy()
        p.grad = gradfit.tensor(g, dtype=F64)
        opt.step()
        exp_m = opt.state[p]["momentum_buffer"].numpy()
        exp_phi = p.detach().numpy()
        got = _call(momentum_step, "momentum_step", phi.copy(), m.copy(), g.copy(), lr, beta)
        if not isinstance(got, tuple | list) or len(got) != 2:
            raise ExerciseError(f"momentum_step: expected a tuple (phi, m), got {got!r:.60}")
        phi, m = (_array("momentum_step", v) for v in got)
        _same(
            f"m after step {t + 1}",
            exp_m,
            m,
            names=[f"m[{k}] after step {t + 1}" for k in range(2)],
            typical={
                "PyTorch's undamped buffer m = beta m + g; eq. 6.11 weights g by (1 - beta)": beta
                * m_prev
                + g,
                "beta and (1 - beta) swapped": (1 - beta) * m_prev + beta * g,
            },
        )
        _same(
            f"phi after step {t + 1}",
            exp_phi,
            phi,
            names=[f"phi[{k}] after step {t + 1}" for k in range(2)],
            typical={
                "phi moved with the old m_t; eq. 6.11 uses the new m_{t+1}": phi_prev - lr * m_prev,
                "the step goes uphill: phi <- phi - lr * m": phi_prev + lr * exp_m,
            },
        )
    return _passed("momentum_step (eq. 6.11, against gradfit.optim.lecture.Momentum)")


def _valley(p):
    # a long, narrow valley: plain momentum and Nesterov take visibly different steps
    return 0.5 * p[0] ** 2 + 4.0 * (p[1] - 0.3 * p[0]) ** 2


def _valley_grad(phi) -> np.ndarray:
    p = gradfit.tensor(np.asarray(phi, dtype=np.float64), dtype=F64, requires_grad=True)
    _valley(p).backward()
    return p.grad.numpy()


def check_nesterov_step(nesterov_step) -> bool:
    """Exercise: ``nesterov_step(phi, m, grad_fn, lr, beta) -> (phi, m)`` (eq. 6.12), the
    gradient taken at the look-ahead point phi - lr * beta * m."""
    __tracebackhide__ = True
    lr, beta = 0.1, 0.9
    start = np.array([2.0, -1.0])
    p = gradfit.tensor(start, dtype=F64, requires_grad=True)
    opt = L.Nesterov([p], lr=lr, beta=beta)

    def closure():
        opt.zero_grad()
        value = _valley(p)
        value.backward()
        return value

    phi, m = start.copy(), np.zeros(2)
    for t in range(5):
        m_prev, phi_prev = m.copy(), phi.copy()
        opt.step(closure)
        exp_m = opt.state[p]["momentum_buffer"].numpy()
        exp_phi = p.detach().numpy()
        got = _call(nesterov_step, "nesterov_step", phi.copy(), m.copy(), _valley_grad, lr, beta)
        if not isinstance(got, tuple | list) or len(got) != 2:
            raise ExerciseError(f"nesterov_step: expected a tuple (phi, m), got {got!r:.60}")
        phi, m = (_array("nesterov_step", v) for v in got)

        def m_at(point, m_prev=m_prev):
            return beta * m_prev + (1 - beta) * _valley_grad(point)

        _same(
            f"m after step {t + 1}",
            exp_m,
            m,
            names=[f"m[{k}] after step {t + 1}" for k in range(2)],
            typical={
                "gradient taken at phi_t: that is plain momentum; take it at the look-ahead "
                "point phi - lr * beta * m": m_at(phi_prev),
                "look-ahead phi - lr * m (the slide's shorthand); here use where momentum "
                "alone would go, phi - lr * beta * m": m_at(phi_prev - lr * m_prev),
            },
        )
        _same(
            f"phi after step {t + 1}",
            exp_phi,
            phi,
            names=[f"phi[{k}] after step {t + 1}" for k in range(2)],
            typical={
                "phi moved from the look-ahead point; move from phi_t": phi_prev
                - lr * beta * m_prev
                - lr * exp_m
            },
        )
    return _passed("nesterov_step (eq. 6.12, against gradfit.optim.lecture.Nesterov)")


def check_torch_momentum(torch_momentum) -> bool:
    """Exercise: ``torch_momentum(lr, beta) -> {"lr": ..., "momentum": ...}``, the settings
    of PyTorch's ``SGD`` that take exactly the steps of the lecture's momentum."""
    __tracebackhide__ = True
    for lr, beta in ((0.1, 0.9), (0.05, 0.5)):
        got = _call(torch_momentum, "torch_momentum", lr, beta)
        if not isinstance(got, dict) or set(got) != {"lr", "momentum"}:
            raise ExerciseError(
                f"torch_momentum({lr}, {beta}): expected a dict with the keys 'lr' and "
                f"'momentum', got {got!r:.80}"
            )
        start = np.array([1.5, -1.0])
        a = gradfit.tensor(start, dtype=F64, requires_grad=True)
        b = gradfit.tensor(start, dtype=F64, requires_grad=True)
        lecture = L.Momentum([a], lr=lr, beta=beta)
        try:
            torch_style = gradfit.optim.SGD(
                [b], lr=float(got["lr"]), momentum=float(got["momentum"])
            )
        except (ValueError, TypeError) as err:
            raise ExerciseError(f"torch_momentum({lr}, {beta}): SGD refused it: {err}") from None
        hint = ""
        if math.isclose(float(got["lr"]), lr) and math.isclose(float(got["momentum"]), beta):
            hint = (
                "; PyTorch's buffer b = momentum * b + g is not damped by (1 - beta), so it is "
                "1/(1 - beta) times the lecture's m: scale the learning rate to compensate"
            )
        for t in range(6):
            for p, opt in ((a, lecture), (b, torch_style)):
                opt.zero_grad()
                _valley(p).backward()
                opt.step()
            try:
                _same(
                    f"phi after step {t + 1}",
                    a.detach().numpy(),
                    b.detach().numpy(),
                    rtol=1e-9,
                    names=[
                        f"phi[{k}] after step {t + 1} of SGD(**{got}), against the lecture's "
                        f"Momentum(lr={lr}, beta={beta})"
                        for k in range(2)
                    ],
                )
            except ExerciseError as err:
                raise ExerciseError(f"{err}{hint}") from None
    return _passed("torch_momentum: SGD(lr=..., momentum=...) takes the lecture's steps")


# --------------------------------------------------------------------------- 05 Adam
def check_normalized_step(normalized_step) -> bool:
    """Exercise: ``normalized_step(phi, grad, lr, eps)`` -> the new phi (eqs. 6.13-6.14)."""
    __tracebackhide__ = True
    lr, eps = 0.15, 1e-8
    for seed in (21, 22):
        phi, g = _randn(seed, 2), _randn(seed + 100, 2) * np.array([0.01, 30.0])
        p = gradfit.tensor(phi, dtype=F64, requires_grad=True)
        opt = L.NormalizedGD([p], lr=lr, eps=eps)
        p.grad = gradfit.tensor(g, dtype=F64)
        opt.step()
        got = _call(normalized_step, "normalized_step", phi.copy(), g.copy(), lr, eps)
        _same(
            f"new phi (grad = {_vec(g)})",
            p.detach().numpy(),
            got,
            names=[f"new phi[{k}] (grad[{k}] = {g[k]:.4g})" for k in range(2)],
            typical={
                "plain gradient descent: divide by sqrt(g^2) + eps": phi - lr * g,
                "divided by g^2 instead of its square root": phi - lr * g / (g * g + eps),
            },
        )
    return _passed("normalized_step (eqs. 6.13-6.14, against gradfit.optim.lecture.NormalizedGD)")


def _adam_reference(lr, beta, gamma, eps, grads, start):
    p = gradfit.tensor(start, dtype=F64, requires_grad=True)
    opt = L.Adam([p], lr=lr, beta=beta, gamma=gamma, eps=eps)
    out = []
    for g in grads:
        p.grad = gradfit.tensor(g, dtype=F64)
        opt.step()
        st = opt.state[p]
        out.append(
            (
                p.detach().numpy().copy(),
                st["exp_avg"].numpy().copy(),
                st["exp_avg_sq"].numpy().copy(),
            )
        )
    return out


def check_adam_moments(adam_moments) -> bool:
    """Exercise: ``adam_moments(m, v, grad, beta, gamma) -> (m, v)`` (eq. 6.15)."""
    __tracebackhide__ = True
    beta, gamma = 0.9, 0.99
    grads = _grad_sequence(31)
    ref = _adam_reference(0.1, beta, gamma, 1e-8, grads, np.zeros(2))
    m, v = np.zeros(2), np.zeros(2)
    for t, (g, (_, exp_m, exp_v)) in enumerate(zip(grads, ref)):
        m_prev, v_prev = m.copy(), v.copy()
        got = _call(adam_moments, "adam_moments", m.copy(), v.copy(), g.copy(), beta, gamma)
        if not isinstance(got, tuple | list) or len(got) != 2:
            raise ExerciseError(f"adam_moments: expected a tuple (m, v), got {got!r:.60}")
        m, v = (_array("adam_moments", x) for x in got)
        _same(
            f"m after step {t + 1}",
            exp_m,
            m,
            names=[f"m[{k}] after step {t + 1}" for k in range(2)],
            typical={"beta and (1 - beta) swapped": (1 - beta) * m_prev + beta * g},
        )
        _same(
            f"v after step {t + 1}",
            exp_v,
            v,
            names=[f"v[{k}] after step {t + 1}" for k in range(2)],
            typical={
                "v averages the squared gradient g * g, not g": gamma * v_prev + (1 - gamma) * g,
                "v used beta; its coefficient is gamma": beta * v_prev + (1 - beta) * g * g,
            },
        )
    return _passed("adam_moments (eq. 6.15, against gradfit.optim.lecture.Adam's state)")


def check_adam_step(adam_step) -> bool:
    """Exercise: ``adam_step(phi, m, v, grad, t, lr, beta, gamma, eps) -> (phi, m, v)``, one
    Adam step with bias correction (eqs. 6.15-6.17); ``t`` is this step's number, from 1."""
    __tracebackhide__ = True
    lr, beta, gamma, eps = 0.1, 0.9, 0.99, 1e-8
    grads = _grad_sequence(41) * np.array([0.05, 20.0])
    start = np.array([0.5, -0.5])
    ref = _adam_reference(lr, beta, gamma, eps, grads, start)
    phi, m, v = start.copy(), np.zeros(2), np.zeros(2)
    for t, (g, (exp_phi, exp_m, exp_v)) in enumerate(zip(grads, ref), start=1):
        phi_prev = phi.copy()
        got = _call(
            adam_step,
            "adam_step",
            phi.copy(),
            m.copy(),
            v.copy(),
            g.copy(),
            t,
            lr,
            beta,
            gamma,
            eps,
        )
        if not isinstance(got, tuple | list) or len(got) != 3:
            raise ExerciseError(f"adam_step: expected a tuple (phi, m, v), got {got!r:.60}")
        phi, m, v = (_array("adam_step", x) for x in got)
        _same(f"m after step {t}", exp_m, m, names=[f"m[{k}] after step {t}" for k in range(2)])
        _same(f"v after step {t}", exp_v, v, names=[f"v[{k}] after step {t}" for k in range(2)])
        _same(
            f"phi after step {t}",
            exp_phi,
            phi,
            names=[f"phi[{k}] after step {t}" for k in range(2)],
            typical={
                "no bias correction: divide m by (1 - beta^t) and v by (1 - gamma^t)": phi_prev
                - lr * exp_m / (np.sqrt(exp_v) + eps),
                "bias correction with t + 1; t is already this step's number (1 first)": phi_prev
                - lr
                * (exp_m / (1 - beta ** (t + 1)))
                / (np.sqrt(exp_v / (1 - gamma ** (t + 1))) + eps),
                "the step goes uphill: phi <- phi - lr * m~ / (sqrt(v~) + eps)": phi_prev
                + lr * (exp_m / (1 - beta**t)) / (np.sqrt(exp_v / (1 - gamma**t)) + eps),
            },
        )
    return _passed("adam_step (eqs. 6.15-6.17, against gradfit.optim.lecture.Adam)")


# --------------------------------------------------------------------------- 06 hyperparameters
def check_log_grid(log_grid) -> bool:
    """Exercise: ``log_grid(low, high, n)`` -> n values from low to high, evenly spaced on a
    log scale (each one the previous times a constant factor)."""
    __tracebackhide__ = True
    for low, high, n in ((1e-3, 1.0, 4), (0.01, 0.5, 7)):
        got = _call(log_grid, "log_grid", low, high, n)
        _same(
            f"log_grid({low}, {high}, {n})",
            np.geomspace(low, high, n),
            got,
            rtol=1e-9,
            typical={
                "evenly spaced on a linear scale; space the logarithms evenly": np.linspace(
                    low, high, n
                )
            },
        )
    return _passed("log_grid (against np.geomspace)")


def check_train_val_split(train_val_split) -> bool:
    """Exercise: ``train_val_split(n, n_val, generator) -> (train_idx, val_idx)``: a random
    split of the indices 0..n-1 into two disjoint sets, n_val of them for validation."""
    __tracebackhide__ = True
    seen = []
    for n, n_val, seed in ((100, 20, 0), (30, 10, 1), (100, 20, 5)):
        got = _call(
            train_val_split, "train_val_split", n, n_val, gradfit.Generator().manual_seed(seed)
        )
        if not isinstance(got, tuple | list) or len(got) != 2:
            raise ExerciseError(f"train_val_split: expected (train_idx, val_idx), got {got!r:.60}")
        tr, va = (np.asarray(_array("indices", v), dtype=np.int64).ravel() for v in got)
        label = f"train_val_split(n={n}, n_val={n_val})"
        if len(va) != n_val:
            raise ExerciseError(f"{label}: expected {n_val} validation indices, got {len(va)}")
        if len(tr) != n - n_val:
            raise ExerciseError(f"{label}: expected {n - n_val} training indices, got {len(tr)}")
        both = np.intersect1d(tr, va)
        if both.size:
            raise ExerciseError(
                f"{label}: example {int(both[0])} is in both sets; validation examples must "
                "be held out of training"
            )
        if sorted(np.concatenate([tr, va]).tolist()) != list(range(n)):
            raise ExerciseError(f"{label}: the two sets together must be 0..{n - 1}, each once")
        seen.append(tuple(sorted(va.tolist())))
    if seen[0] == seen[2] or seen[0] == tuple(range(80, 100)) or seen[0] == tuple(range(20)):
        raise ExerciseError(
            "train_val_split: the validation set does not depend on the generator (or is the "
            "first/last block): draw it with gradfit.randperm(n, generator=generator)"
        )
    return _passed("train_val_split (disjoint, complete, random)")


def _toy_score(lr: float, momentum: float) -> float:
    # a made-up validation loss with its best value at lr = 0.03, momentum = 0.8
    return (math.log10(lr) - math.log10(0.03)) ** 2 + 3 * (momentum - 0.8) ** 2 + 0.1


def check_grid_search(grid_search) -> bool:
    """Exercise: ``grid_search(score, lrs, momenta) -> (table, best)`` with
    ``table[i, j] = score(lrs[i], momenta[j])`` and ``best`` the (lr, momentum) pair with
    the lowest score."""
    __tracebackhide__ = True
    lrs, momenta = np.geomspace(1e-3, 1.0, 7), np.array([0.0, 0.5, 0.8, 0.9, 0.99])
    calls = []

    def score(lr, momentum):
        calls.append((float(lr), float(momentum)))
        return _toy_score(float(lr), float(momentum))

    got = _call(grid_search, "grid_search", score, lrs.copy(), momenta.copy())
    if not isinstance(got, tuple | list) or len(got) != 2:
        raise ExerciseError(f"grid_search: expected a tuple (table, best), got {got!r:.60}")
    table, best = got
    expected = np.array([[_toy_score(a, b) for b in momenta] for a in lrs])
    if len(calls) != expected.size:
        raise ExerciseError(
            f"grid_search: score was called {len(calls)} times, expected {expected.size} "
            f"(once per (lr, momentum) pair: {len(lrs)} x {len(momenta)})"
        )
    _same(
        "table", expected, table, typical={"rows must follow lrs and columns momenta": expected.T}
    )
    i, j = np.unravel_index(np.argmin(expected), expected.shape)
    _same(
        "best (lr, momentum)",
        [lrs[i], momenta[j]],
        np.ravel(_array("best", best)),
        names=["best lr", "best momentum"],
        typical={
            "that is the pair with the HIGHEST score": [
                lrs[np.unravel_index(np.argmax(expected), expected.shape)[0]],
                momenta[np.unravel_index(np.argmax(expected), expected.shape)[1]],
            ]
        },
    )
    return _passed("grid_search (table and best pair)")


# --------------------------------------------------------------------------- 07 backprop, toy
TOY_NAMES = ("f0", "h1", "f1", "h2", "f2", "h3", "f3")
TOY_BACKWARD_NAMES = ("dl/df3", "dl/dh3", "dl/df2", "dl/dh2", "dl/df1", "dl/dh1", "dl/df0")
_TOY_CASES = (
    (2.3, 2.0, [1.0, 2.0, -3.0, 0.4], [0.1, -0.4, 2.0, 3.0]),
    (-0.7, 0.5, [0.3, -1.0, 0.5, -0.2], [1.2, 0.8, -1.5, 1.1]),
)


def _toy_autodiff(x, y, beta, omega):
    """Forward values, dl/d(intermediates) and parameter gradients by gradfit's autodiff."""
    b = [gradfit.tensor(v, dtype=F64, requires_grad=True) for v in beta]
    w = [gradfit.tensor(v, dtype=F64, requires_grad=True) for v in omega]
    f0 = b[0] + w[0] * x
    h1 = gradfit.sin(f0)
    f1 = b[1] + w[1] * h1
    h2 = gradfit.exp(f1)
    f2 = b[2] + w[2] * h2
    h3 = gradfit.cos(f2)
    f3 = b[3] + w[3] * h3
    inter = [f0, h1, f1, h2, f2, h3, f3]
    for t in inter:
        t.retain_grad()
    ((f3 - y) ** 2).backward()
    forward = np.array([t.item() for t in inter])
    backward = np.array([t.grad.item() for t in reversed(inter)])  # df3 first, as eq. 7.12
    return (
        forward,
        backward,
        np.array([t.grad.item() for t in b]),
        np.array([t.grad.item() for t in w]),
    )


def check_toy_forward(forward_pass) -> bool:
    """Exercise: ``forward_pass(x, beta, omega) -> (f0, h1, f1, h2, f2, h3, f3)``."""
    __tracebackhide__ = True
    for x, _y, beta, omega in _TOY_CASES:
        fwd, _, _, _ = _toy_autodiff(x, _y, beta, omega)
        got = _call(forward_pass, "forward_pass", x, list(beta), list(omega))
        _same(
            f"forward pass at x = {x}",
            fwd,
            [float(v) for v in got] if isinstance(got, tuple | list) else got,
            names=[f"{n} (x = {x})" for n in TOY_NAMES],
        )
    return _passed("forward_pass (against gradfit)")


def check_toy_backward(backward_pass) -> bool:
    """Exercise: ``backward_pass(x, y, beta, omega, forward) -> (dl_df3, dl_dh3, dl_df2,
    dl_dh2, dl_df1, dl_dh1, dl_df0)``: backward pass #1 (eq. 7.12)."""
    __tracebackhide__ = True
    for x, y, beta, omega in _TOY_CASES:
        fwd, expected, _, _ = _toy_autodiff(x, y, beta, omega)
        got = _call(backward_pass, "backward_pass", x, y, list(beta), list(omega), tuple(fwd))
        _same(
            f"backward pass at x = {x}",
            expected,
            [float(v) for v in got] if isinstance(got, tuple | list) else got,
            names=[f"{n} (x = {x}, y = {y})" for n in TOY_BACKWARD_NAMES],
        )
    return _passed("backward_pass (eq. 7.12, against gradfit's retain_grad)")


def check_toy_parameter_gradients(parameter_gradients) -> bool:
    """Exercise: ``parameter_gradients(x, forward, backward) -> (dl_dbeta, dl_domega)``,
    four values each: backward pass #2."""
    __tracebackhide__ = True
    for x, y, beta, omega in _TOY_CASES:
        fwd, bwd, exp_b, exp_w = _toy_autodiff(x, y, beta, omega)
        got = _call(parameter_gradients, "parameter_gradients", x, tuple(fwd), tuple(bwd))
        if not isinstance(got, tuple | list) or len(got) != 2:
            raise ExerciseError(
                f"parameter_gradients: expected a tuple (dl_dbeta, dl_domega), got {got!r:.60}"
            )
        dl_df = bwd[::-2]  # df0, df1, df2, df3
        _same(
            f"dl/dbeta at x = {x}",
            exp_b,
            got[0],
            names=[f"dl/dbeta{k} (x = {x})" for k in range(4)],
        )
        _same(
            f"dl/domega at x = {x}",
            exp_w,
            got[1],
            names=[f"dl/domega{k} (x = {x})" for k in range(4)],
            typical={
                "each dl/domega_k is dl/df_k times the source of omega_k: x, h1, h2, h3": dl_df,
                "the sources are off by one: omega_k multiplies h_k (omega_0 multiplies x)": dl_df
                * np.array([fwd[1], fwd[3], fwd[5], 1.0]),
            },
        )
    return _passed("parameter_gradients (backward pass #2, against gradfit)")


# --------------------------------------------------------------------------- 08 backprop, deep
def _deep_case(seed: int = 0, sizes=(4, 6, 6, 6, 1)):
    """Weights, biases (column vectors), one input and target, as the notebook uses them."""
    g = gradfit.Generator().manual_seed(seed)
    weights = [
        gradfit.randn(sizes[k + 1], sizes[k], generator=g, dtype=F64).numpy()
        * np.sqrt(2 / sizes[k])
        for k in range(len(sizes) - 1)
    ]
    biases = [
        gradfit.randn(sizes[k + 1], 1, generator=g, dtype=F64).numpy() * 0.1
        for k in range(len(sizes) - 1)
    ]
    x = gradfit.randn(sizes[0], 1, generator=g, dtype=F64).numpy()
    y = gradfit.randn(sizes[-1], 1, generator=g, dtype=F64).numpy()
    return weights, biases, x, y


def _deep_autodiff(weights, biases, x, y):
    W = [gradfit.tensor(w, dtype=F64, requires_grad=True) for w in weights]
    B = [gradfit.tensor(b, dtype=F64, requires_grad=True) for b in biases]
    fs, hs = [], [gradfit.tensor(x, dtype=F64)]
    f = B[0] + W[0] @ hs[0]
    fs.append(f)
    for k in range(1, len(W)):
        hs.append(gradfit.relu(fs[-1]))
        fs.append(B[k] + W[k] @ hs[-1])
    ((fs[-1] - gradfit.tensor(y, dtype=F64)) ** 2).sum().backward()
    return (
        [t.detach().numpy() for t in fs],
        [t.detach().numpy() for t in hs],
        [t.grad.numpy() for t in W],
        [t.grad.numpy() for t in B],
    )


def check_relu_derivative(relu_derivative) -> bool:
    """Exercise: ``relu_derivative(f)`` -> the indicator I[f > 0], the same shape as f."""
    __tracebackhide__ = True
    f = _randn(51, 5, 3)
    t = gradfit.tensor(f, dtype=F64, requires_grad=True)
    gradfit.relu(t).sum().backward()
    got = _call(relu_derivative, "relu_derivative", f.copy())
    _same(
        "relu_derivative(f)",
        t.grad.numpy(),
        got,
        typical={
            "that is ReLU itself, max(f, 0); its derivative is 1 where f > 0, else 0": np.maximum(
                f, 0
            )
        },
    )
    return _passed("relu_derivative (against gradfit's relu backward)")


def check_deep_forward(forward_pass) -> bool:
    """Exercise: ``forward_pass(x, weights, biases) -> (all_f, all_h)``: the lists
    f_0..f_K and h_0 = x, h_1..h_K of the lecture's forward pass."""
    __tracebackhide__ = True
    weights, biases, x, y = _deep_case()
    fs, hs, _, _ = _deep_autodiff(weights, biases, x, y)
    got = _call(
        forward_pass,
        "forward_pass",
        x.copy(),
        [w.copy() for w in weights],
        [b.copy() for b in biases],
    )
    if not isinstance(got, tuple | list) or len(got) != 2:
        raise ExerciseError(f"forward_pass: expected a tuple (all_f, all_h), got {got!r:.60}")
    all_f, all_h = got
    for name, exp_list, got_list in (("f", fs, all_f), ("h", hs, all_h)):
        if len(got_list) != len(exp_list):
            raise ExerciseError(
                f"forward_pass: all_{name} has {len(got_list)} entries, expected "
                f"{len(exp_list)} ({name}_0 .. {name}_{len(exp_list) - 1})"
            )
        for k, (e, g) in enumerate(zip(exp_list, got_list)):
            typical = {}
            if name == "h" and k > 0:
                typical["h_k is relu(f_{k-1}), not f_{k-1}"] = fs[k - 1]
            _same(f"{name}_{k}", e, g, typical=typical)
    return _passed("forward_pass (every f_k and h_k, against gradfit)")


def check_deep_backward(backward_pass) -> bool:
    """Exercise: ``backward_pass(weights, biases, all_f, all_h, y) -> (dl_dweights,
    dl_dbiases)``: the lecture's backward pass for the loss (f_K - y)^2 summed."""
    __tracebackhide__ = True
    weights, biases, x, y = _deep_case()
    fs, hs, dW, dB = _deep_autodiff(weights, biases, x, y)
    got = _call(
        backward_pass,
        "backward_pass",
        [w.copy() for w in weights],
        [b.copy() for b in biases],
        [f.copy() for f in fs],
        [h.copy() for h in hs],
        y.copy(),
    )
    if not isinstance(got, tuple | list) or len(got) != 2:
        raise ExerciseError(
            f"backward_pass: expected a tuple (dl_dweights, dl_dbiases), got {got!r:.60}"
        )
    gW, gB = got
    K = len(weights) - 1
    for name, exp_list, got_list in (("Omega", dW, gW), ("beta", dB, gB)):
        if len(got_list) != len(exp_list):
            raise ExerciseError(
                f"backward_pass: dl_d{name} has {len(got_list)} entries, expected {len(exp_list)}"
            )
        # the last layer first: that is where the backward pass starts
        for k in range(K, -1, -1):
            _same(f"dl/d{name}_{k}", exp_list[k], got_list[k])
    return _passed("backward_pass (every dl/dOmega_k and dl/dbeta_k, against gradfit's autodiff)")


# --------------------------------------------------------------------------- 09 initialisation
def _relu_gain2() -> float:
    return gradfit.nn.init.calculate_gain("relu") ** 2


def check_he_variance(he_variance) -> bool:
    """Exercise: ``he_variance(fan_in)`` -> sigma_Omega^2 that keeps the pre-activation
    variance constant through ReLU layers (He initialisation)."""
    __tracebackhide__ = True
    for fan_in in (10, 64, 100, 7):
        got = _call(he_variance, "he_variance", fan_in)
        _same(
            f"he_variance({fan_in})",
            _relu_gain2() / fan_in,
            got,
            typical={
                "1/D_h forgets that ReLU zeros half of its inputs: E[h^2] = sigma_f^2 / 2": 1
                / fan_in,
                "that is a standard deviation; the exercise asks for the variance": math.sqrt(
                    _relu_gain2() / fan_in
                ),
            },
        )
    return _passed("he_variance (against gradfit.nn.init.calculate_gain('relu')^2 / fan_in)")


def check_next_variance(next_variance) -> bool:
    """Exercise: ``next_variance(var_f, var_omega, d_h)`` -> the variance of the next
    layer's pre-activations f' = Omega relu(f) (zero biases)."""
    __tracebackhide__ = True
    for var_f, var_omega, d_h in ((1.0, 0.02, 100), (2.5, 0.001, 64), (0.3, 1.0, 10)):
        expected = 0.5 * d_h * var_omega * var_f
        got = _call(next_variance, "next_variance", var_f, var_omega, d_h)
        _same(
            f"next_variance(var_f={var_f}, var_omega={var_omega}, d_h={d_h})",
            expected,
            got,
            typical={
                "without the 1/2: ReLU keeps only the positive half, E[h^2] = var_f / 2": 2
                * expected,
                "sigma_Omega^2 multiplies the SUM over the d_h inputs": expected / d_h,
            },
        )
    # the formula against a measurement: one wide random layer in float64
    g = gradfit.Generator().manual_seed(7)
    f = gradfit.randn(4000, 200, generator=g, dtype=F64) * math.sqrt(2.0)
    w = gradfit.randn(200, 200, generator=g, dtype=F64) * math.sqrt(0.005)
    measured = float((gradfit.relu(f) @ w.T).numpy().var())
    got = float(_call(next_variance, "next_variance", 2.0, 0.005, 200))
    if abs(measured - got) > 0.05 * measured:
        raise ExerciseError(
            f"next_variance(2.0, 0.005, 200) = {got:.4g}, but a measured layer gives {measured:.4g}"
        )
    return _passed("next_variance (formula, and against a measured random layer)")


def check_compromise_variance(compromise_variance) -> bool:
    """Exercise: ``compromise_variance(fan_in, fan_out)``: the variance that averages the
    forward condition (2/D_h) and the backward one (2/D_h'), the way Glorot/Xavier do."""
    __tracebackhide__ = True
    for fan_in, fan_out in ((100, 100), (10, 40), (784, 10)):
        # xavier_normal_'s std is gain * sqrt(2 / (fan_in + fan_out))
        expected = _relu_gain2() * 2.0 / (fan_in + fan_out)
        got = _call(compromise_variance, "compromise_variance", fan_in, fan_out)
        _same(
            f"compromise_variance({fan_in}, {fan_out})",
            expected,
            got,
            typical={
                "the mean of 2/D_h and 2/D_h'; the lecture averages the COUNTS: "
                "2 / ((D_h + D_h')/2)": 0.5 * (2 / fan_in + 2 / fan_out),
                "2/(D_h + D_h') misses the ReLU factor 2": 2.0 / (fan_in + fan_out),
            },
        )
    return _passed(
        "compromise_variance (against xavier_normal_'s variance with gain calculate_gain('relu'))"
    )
