"""The lecture's optimizers, in the slides' own forms (chapter 6, "Fitting models").

These follow the equations of the lecture literally, where PyTorch's optimizers follow
PyTorch's conventions (see ``gradfit.optim.SGD``, ``gradfit.optim.Adam``):

* ``line_search`` / ``LineSearchGD``: the bracketing line search of the "Line Search"
  notebook, and gradient descent whose step length it chooses.
* ``Momentum``: eq. 6.11, m ← β·m + (1 − β)·g, φ ← φ − α·m, with m starting at 0.
* ``Nesterov``: eq. 6.12, the same with g taken at the look-ahead point φ − α·β·m.
* ``NormalizedGD``: eqs. 6.13–6.14, φ ← φ − α·g/(√(g²) + ε).
* ``Adam``: eqs. 6.15–6.17 with bias correction; equal to ``torch.optim.Adam``.

The gradient is whatever the loss gives. The lecture's loss is the *sum* of the
per-example losses ℓ_i over the batch (L = Σ ℓ_i), i.e. ``reduction="sum"``; with
``reduction="mean"`` every gradient, and so every step of the non-normalised methods, is
smaller by the batch size.

All of them are ``Optimizer`` subclasses: ``param_groups``, per-parameter ``state`` and
``state_dict`` work as for PyTorch's optimizers.
"""

from __future__ import annotations

import numpy as np

from gradfit.optim.optimizer import Optimizer, _check_nonnegative, _step_tensor
from gradfit.tensor import Tensor

__all__ = ["line_search", "LineSearchGD", "Momentum", "Nesterov", "NormalizedGD", "Adam"]


def line_search(
    f, a: float, d: float, tol: float = 1e-4, max_iter: int = 100, *, return_history: bool = False
):
    """The lecture's bracketing line search for the minimum of ``f`` on [a, d].

    Four points a < b < c < d, with b and c at the thirds of [a, d]. Each iteration:

    1. if f(a) is the lowest of the four, pull b, c and d halfway towards a (the minimum
       is near a: shrink the interval towards it);
    2. otherwise, if f(b) < f(c), the minimum is left of c: d ← c;
    3. otherwise it is right of b: a ← b;

    then b and c are put at the thirds of the new [a, d]. The search stops when
    |b − c| < tol or after ``max_iter`` iterations and returns (b + c)/2. No derivatives
    are used; for a unimodal f on [a, d] the result is within about ``tol`` of the
    minimiser.

    Args:
        f: a function of one float returning a float.
        a, d: the ends of the search interval (a < d).
        tol: stop when the two middle points are closer than this.
        max_iter: the most iterations.
        return_history: also return the list of brackets (a, b, c, d): the initial one,
            then one per iteration, for plotting.

    Returns:
        The estimated minimiser, or (minimiser, history) when ``return_history``.
    """
    a, d = float(a), float(d)
    if not a < d:
        raise ValueError(f"line_search: the interval [a, d] = [{a}, {d}] must have a < d")
    cache: dict[float, float] = {}

    def fx(x: float) -> float:
        # a and d are often unchanged between iterations: evaluate each point once
        v = cache.get(x)
        if v is None:
            v = cache[x] = float(f(x))
        return v

    b = a + (d - a) / 3
    c = a + 2 * (d - a) / 3
    history = [(a, b, c, d)]
    n_iter = 0
    while abs(b - c) >= tol and n_iter < max_iter:
        n_iter += 1
        fa, fb, fc, fd = fx(a), fx(b), fx(c), fx(d)
        if fa <= fb and fa <= fc and fa <= fd:
            b = a + (b - a) / 2
            c = a + (c - a) / 2
            d = a + (d - a) / 2
        else:
            if fb < fc:
                d = c
            else:
                a = b
            b = a + (d - a) / 3
            c = a + 2 * (d - a) / 3
        history.append((a, b, c, d))
    x = (b + c) / 2
    return (x, history) if return_history else x


def _arrays_with_grad(group: dict):
    """(param, param array, grad array) for the parameters of ``group`` that have a grad."""
    for p in group["params"]:
        if p.grad is not None:
            yield p, p._array, p.grad._array


class LineSearchGD(Optimizer):
    """Gradient descent with the step length chosen by the lecture's line search.

    ``step(closure)``: evaluate the loss and gradient g at φ, then search the step length
    t ∈ [0, max_dist] minimising L[φ − t·g] with ``line_search`` (each trial evaluates the
    closure at φ − t·g), and set φ ← φ − t·g. This is the notebook "Line Search"
    (gradient descent where the step size is found by line search along −g).

    After the step the parameters' ``.grad`` hold g, the gradient that was used, and
    ``state[first parameter of the group]["last_t"]`` the step length chosen.

    Args:
        params: parameters or parameter groups.
        max_dist: the far end of the search interval for t (default 1).
        tol: the line search's tolerance on t (default 1e-4).
        max_iter: the line search's iteration limit (default 100).
    """

    def __init__(self, params, max_dist: float = 1.0, tol: float = 1e-4, max_iter: int = 100):
        if not max_dist > 0:
            raise ValueError(f"Invalid max_dist: {max_dist} (expected > 0)")
        if not tol > 0:
            raise ValueError(f"Invalid tol: {tol} (expected > 0)")
        super().__init__(params, {"max_dist": max_dist, "tol": tol, "max_iter": max_iter})

    def step(self, closure=None):
        """One line-search step; returns the loss at the starting point.

        Args:
            closure: zeroes the gradients, computes the loss, calls ``backward`` and
                returns the loss.
        """
        if closure is None:
            raise RuntimeError("LineSearchGD.step needs a closure that re-evaluates the loss")
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            items = list(_arrays_with_grad(group))
            if not items:
                continue
            start = [a.copy() for _, a, _ in items]
            grads = [g.copy() for _, _, g in items]

            def loss_at(t: float, items=items, start=start, grads=grads) -> float:
                for (p, a, _), a0, g in zip(items, start, grads):
                    np.subtract(a0, t * g, out=a)
                    p._version += 1
                return float(self._eval_closure(closure))

            t = line_search(
                loss_at, 0.0, group["max_dist"], tol=group["tol"], max_iter=group["max_iter"]
            )
            for (p, a, _), a0, g in zip(items, start, grads):
                np.subtract(a0, t * g, out=a)
                p._version += 1
                p.grad = Tensor._make(g, None)
            self.state[group["params"][0]]["last_t"] = t
        return loss


class Momentum(Optimizer):
    """SGD with momentum in the lecture's form (eq. 6.11).

    Update rule (α = lr, β = beta, g = ∂L/∂φ summed over the batch)::

        m ← β·m + (1 − β)·g         (m starts at 0)
        φ ← φ − α·m

    PyTorch's ``SGD(momentum=β)`` instead starts m at the first gradient and does not damp
    it by (1 − β), so its steps are 1/(1 − β) times larger at steady state.

    State per parameter: ``momentum_buffer`` (m).
    """

    def __init__(self, params, lr: float, beta: float = 0.9):
        _check_nonnegative("lr", lr, "learning rate")
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"Invalid beta value: {beta} (expected 0 <= beta < 1)")
        super().__init__(params, {"lr": lr, "beta": beta})

    def _momentum_update(self, group: dict) -> None:
        lr, beta = float(group["lr"]), float(group["beta"])
        for p, a, g in _arrays_with_grad(group):
            st = self.state[p]
            if "momentum_buffer" not in st:
                st["momentum_buffer"] = Tensor._make(np.zeros_like(a), None)
            m = st["momentum_buffer"]._array
            m *= beta
            m += (1 - beta) * g
            a -= lr * m
            p._version += 1

    def step(self, closure=None):
        """One step with the current gradients; ``closure`` (optional) is evaluated first."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            self._momentum_update(group)
        return loss


class Nesterov(Momentum):
    """Nesterov accelerated momentum in the lecture's form (eq. 6.12).

    Update rule::

        m ← β·m + (1 − β)·∂L/∂φ evaluated at φ − α·β·m     (m starts at 0)
        φ ← φ − α·m

    The gradient is taken at the point momentum alone would reach next (the book's
    eq. 6.12; the slide abbreviates the look-ahead as φ − α·m). ``step(closure)`` moves
    the parameters there, evaluates the closure (which zeroes the grads, computes the
    loss, calls ``backward`` and returns the loss), restores the parameters and updates.
    PyTorch's ``SGD(nesterov=True)`` is an equivalent rewrite that needs no look-ahead
    evaluation, with PyTorch's momentum convention.

    Returns from ``step``: the loss at the look-ahead point.
    """

    def step(self, closure=None):
        if closure is None:
            raise RuntimeError(
                "Nesterov.step needs a closure: the gradient is evaluated at the look-ahead "
                "point φ − α·β·m"
            )
        saved = []
        for group in self.param_groups:
            lr, beta = float(group["lr"]), float(group["beta"])
            for p in group["params"]:
                st = self.state.get(p)
                if st and "momentum_buffer" in st:
                    a = p._array
                    saved.append((p, a.copy()))
                    a -= (lr * beta) * st["momentum_buffer"]._array
                    p._version += 1
        try:
            loss = self._eval_closure(closure)
        finally:
            for p, a0 in saved:
                np.copyto(p._array, a0)  # exact restore, not a subtraction
                p._version += 1
        for group in self.param_groups:
            self._momentum_update(group)
        return loss


class NormalizedGD(Optimizer):
    """Gradient descent with normalised gradients (eqs. 6.13–6.14).

    Update rule::

        m ← g;  v ← g²
        φ ← φ − α·m/(√v + ε)

    Each coordinate moves by α·sign(g) (up to ε): a fixed distance per step, whatever the
    gradient's size. As the lecture notes, it does not converge to the exact minimum but
    oscillates around it within about α.
    """

    def __init__(self, params, lr: float, eps: float = 1e-8):
        _check_nonnegative("lr", lr, "learning rate")
        _check_nonnegative("eps", eps, "epsilon value")
        super().__init__(params, {"lr": lr, "eps": eps})

    def step(self, closure=None):
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr, eps = float(group["lr"]), float(group["eps"])
            for p, a, g in _arrays_with_grad(group):
                denom = np.multiply(g, g)
                np.sqrt(denom, out=denom)
                denom += eps
                upd = g * lr
                upd /= denom
                a -= upd
                p._version += 1
        return loss


class Adam(Optimizer):
    """Adam in the lecture's form (eqs. 6.15–6.17).

    Update rule (t = step count from 1, β and γ the moment coefficients)::

        m ← β·m + (1 − β)·g                 v ← γ·v + (1 − γ)·g²
        m̃ ← m/(1 − β^t)                     ṽ ← v/(1 − γ^t)
        φ ← φ − α·m̃/(√ṽ + ε)

    with m and v starting at 0. This is PyTorch's Adam with betas=(β, γ) (PyTorch folds
    the corrections into the step size; the two agree to rounding). The first step moves
    every coordinate by α (up to ε), since m̃ = g and √ṽ = |g|.

    State per parameter: ``step``, ``exp_avg`` (m), ``exp_avg_sq`` (v).
    """

    def __init__(
        self, params, lr: float, beta: float = 0.9, gamma: float = 0.999, eps: float = 1e-8
    ):
        _check_nonnegative("lr", lr, "learning rate")
        _check_nonnegative("eps", eps, "epsilon value")
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"Invalid beta value: {beta} (expected 0 <= beta < 1)")
        if not 0.0 <= gamma < 1.0:
            raise ValueError(f"Invalid gamma value: {gamma} (expected 0 <= gamma < 1)")
        super().__init__(params, {"lr": lr, "beta": beta, "gamma": gamma, "eps": eps})

    def step(self, closure=None):
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr, beta = float(group["lr"]), float(group["beta"])
            gamma, eps = float(group["gamma"]), float(group["eps"])
            for p, a, g in _arrays_with_grad(group):
                st = self.state[p]
                if len(st) == 0:
                    st["step"] = _step_tensor()
                    st["exp_avg"] = Tensor._make(np.zeros_like(a), None)
                    st["exp_avg_sq"] = Tensor._make(np.zeros_like(a), None)
                st["step"]._array += 1
                t = float(st["step"]._array)
                m, v = st["exp_avg"]._array, st["exp_avg_sq"]._array
                m *= beta
                m += (1 - beta) * g
                v *= gamma
                v += (1 - gamma) * (g * g)
                m_hat = m / (1 - beta**t)
                v_hat = v / (1 - gamma**t)
                np.sqrt(v_hat, out=v_hat)
                v_hat += eps
                m_hat *= lr
                m_hat /= v_hat
                a -= m_hat
                p._version += 1
        return loss
