"""The lecture's optimizers, in the slides' own forms (chapter 6, "Fitting models").

These follow the equations of the lecture literally, where PyTorch's optimizers follow
PyTorch's conventions (see ``gradfit.optim.SGD``, ``gradfit.optim.Adam``):

* ``line_search`` / ``LineSearchGD``: the bracketing line search of the course's "Line
  search" notebook (with its starting points, 0.33 and 0.66 of the interval), and the
  gradient descent of the "Gradient descent" notebook, whose step length it chooses.
* ``Momentum``: eq. 6.11, m ← β·m + (1 − β)·g, φ ← φ − α·m, with m starting at 0.
* ``Nesterov``: eq. 6.12, the same with g taken at the look-ahead point φ − α·β·m.
* ``NormalizedGD``: eqs. 6.13–6.14, φ ← φ − α·g/(√(g²) + ε).
* ``Adam``: eqs. 6.15–6.17 with bias correction; equal to ``torch.optim.Adam``.
* ``Newton``: the damped Newton step φ ← φ − α (H + λI)⁻¹ ∇L, with the Hessian H from
  the engine's second derivatives (``create_graph=True``).

The maths is shared with PyTorch's optimizers: each form calls the function of
``gradfit.optim._functional`` that ``SGD`` or ``Adam`` calls, with the lecture's
conventions as arguments (``Momentum`` is SGD with dampening β and a buffer starting at 0).

The gradient is whatever the loss gives. The lecture's loss is the *sum* of the
per-example losses ℓ_i over the batch (L = Σ ℓ_i), i.e. ``reduction="sum"``; with
``reduction="mean"`` every gradient, and so every step of the non-normalised methods, is
smaller by the batch size.

All of them are ``Optimizer`` subclasses: ``param_groups``, per-parameter ``state`` and
``state_dict`` work as for PyTorch's optimizers.
"""

from __future__ import annotations

import numpy as np

from gradfit._arrays import bump_version, modified, unwrap, wrap
from gradfit.optim._functional import adam, normalized_gd, sgd
from gradfit.optim.adam import Adam as _PyTorchAdam
from gradfit.optim.optimizer import Optimizer, _check_nonnegative

__all__ = [
    "line_search",
    "LineSearchGD",
    "Momentum",
    "Nesterov",
    "NormalizedGD",
    "Adam",
    "Newton",
]


# Where the course's notebooks put the inner points b and c at the start: 0.33 and 0.66 of
# the interval, not the exact thirds. With their iteration cap (15 in "Gradient descent")
# the search ends before it converges, and the two starts give visibly different steps.
NOTEBOOK_START = (0.33, 0.66)


def line_search(
    f, a: float, d: float, tol: float = 1e-4, max_iter: int = 100, *, return_history: bool = False
):
    """The lecture's bracketing line search for the minimum of ``f`` on [a, d].

    The procedure of the course's notebooks ("Line search" 6.1, and inside "Gradient
    descent" 6.2). Four points a < b < c < d, with b and c at 0.33 and 0.66 of [a, d] at
    the start (the notebooks' values, not the exact thirds). While |b − c| > tol and fewer
    than ``max_iter`` iterations have run, evaluate f at the four points and:

    1. if f(a) is the lowest of the four (ties included), halve the distances from a to b,
       c and d (the minimum is near a: shrink the interval towards it);
    2. otherwise, if f(b) < f(c), the minimum is left of c: d ← c;
    3. otherwise it is right of b: a ← b;

    after rule 2 or 3, b and c are put at the thirds of the new [a, d]. The result is
    (b + c)/2. No derivatives are used; for a unimodal f on [a, d] and enough iterations
    the result is within about ``tol`` of the minimiser. Each distinct point is evaluated
    once (a and d often stay put between iterations), which changes nothing for a
    deterministic f.

    Args:
        f: a function of one float returning a float.
        a, d: the ends of the search interval (a < d).
        tol: stop when the two middle points are this close (the notebooks' ``thresh``).
        max_iter: the most iterations (the notebooks use 10 and 15).
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
        v = cache.get(x)
        if v is None:
            v = cache[x] = float(f(x))
        return v

    b = a + NOTEBOOK_START[0] * (d - a)
    c = a + NOTEBOOK_START[1] * (d - a)
    history = [(a, b, c, d)]
    n_iter = 0
    while abs(b - c) > tol and n_iter < max_iter:
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


class LineSearchGD(Optimizer):
    """Gradient descent with the step length chosen by the lecture's line search.

    ``step(closure)``: evaluate the loss and gradient g at φ, then search the step length
    t ∈ [0, max_dist] minimising L[φ − t·g] with ``line_search`` (each trial evaluates the
    closure at φ − t·g), and set φ ← φ − t·g. This is ``gradient_descent_step`` of the
    course's "Gradient descent" notebook (6.2), whose line search starts its inner points
    at 0.33 and 0.66 of [0, max_dist]; the notebook's own settings are ``max_dist=0.1,
    tol=1e-5, max_iter=15``.

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
        self._closure = closure  # evaluated by _update at each trial step length
        try:
            return super().step(closure)
        finally:
            del self._closure

    def _update(self, group: dict, params: list, arrays: list, grads: list) -> None:
        if not params:
            return
        start = [a.copy() for a in arrays]
        grads = [g.copy() for g in grads]

        def move_to(t: float) -> None:
            for a, a0, g in zip(arrays, start, grads):
                np.subtract(a0, t * g, out=a)
            bump_version(*params)

        def loss_at(t: float) -> float:
            move_to(t)
            return float(self._eval_closure(self._closure))

        t = line_search(
            loss_at, 0.0, group["max_dist"], tol=group["tol"], max_iter=group["max_iter"]
        )
        move_to(t)
        for p, g in zip(params, grads):
            p.grad = wrap(g)
        self.state[group["params"][0]]["last_t"] = t


# PyTorch's options that the lecture's forms of its rules leave off
_OPTIONS_OFF = {
    "weight_decay": 0.0,
    "nesterov": False,
    "amsgrad": False,
    "maximize": False,
    "decoupled_weight_decay": False,
}


def _check_beta(name: str, value: float) -> None:
    if not 0.0 <= value < 1.0:
        raise ValueError(f"Invalid {name} value: {value} (expected 0 <= {name} < 1)")


class Momentum(Optimizer):
    """SGD with momentum in the lecture's form (eq. 6.11).

    Update rule (α = lr, β = beta, g = ∂L/∂φ summed over the batch)::

        m ← β·m + (1 − β)·g         (m starts at 0)
        φ ← φ − α·m

    This is ``SGD``'s rule with momentum μ = β, dampening τ = β and a buffer that starts
    at 0 (PyTorch's starts at the first gradient and is undamped, so its steps are
    1/(1 − β) times larger at steady state); the same function computes both.

    State per parameter: ``momentum_buffer`` (m).
    """

    def __init__(self, params, lr: float, beta: float = 0.9):
        _check_nonnegative("lr", lr)
        _check_beta("beta", beta)
        super().__init__(params, {"lr": lr, "beta": beta})

    def _update(self, group: dict, params: list, arrays: list, grads: list) -> None:
        # PyTorch's SGD with dampening β and a buffer that starts at 0
        beta = group["beta"]
        pytorch_group = {**_OPTIONS_OFF, "lr": group["lr"], "momentum": beta, "dampening": beta}
        sgd(arrays, grads, (self._state_arrays(params, "momentum_buffer"),), pytorch_group)


class Nesterov(Momentum):
    """Nesterov accelerated momentum in the lecture's form (eq. 6.12).

    Update rule::

        m ← β·m + (1 − β)·∂L/∂φ evaluated at φ − α·β·m     (m starts at 0)
        φ ← φ − α·m

    The gradient is taken at the point momentum alone would reach next (the book's
    eq. 6.12; the slide abbreviates the look-ahead as φ − α·m). ``step(closure)`` moves
    the parameters there, evaluates the closure (which zeroes the grads, computes the
    loss, calls ``backward`` and returns the loss), restores the parameters and makes
    ``Momentum``'s update. PyTorch's ``SGD(nesterov=True)`` is an equivalent rewrite that
    needs no look-ahead evaluation, with PyTorch's momentum convention.

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
                    with modified(p) as (a,):
                        saved.append((p, a.copy()))
                        a -= (lr * beta) * unwrap(st["momentum_buffer"])
        try:
            loss = self._eval_closure(closure)
        finally:
            for p, a0 in saved:
                np.copyto(unwrap(p), a0)  # exact restore, not a subtraction
            bump_version(*(p for p, _ in saved))
        super().step()
        return loss


class NormalizedGD(Optimizer):
    """Gradient descent with normalised gradients (eqs. 6.13–6.14).

    Update rule::

        m ← g;  v ← g²
        φ ← φ − α·m/(√v + ε)

    Each coordinate moves by α·sign(g) (up to ε): a fixed distance per step, whatever the
    gradient's size. As the lecture notes, it does not converge to the exact minimum but
    oscillates around it within about α. It is Adam's step without the averages (β = γ = 0,
    where the bias corrections are 1), and shares its code.
    """

    def __init__(self, params, lr: float, eps: float = 1e-8):
        _check_nonnegative("lr", lr)
        _check_nonnegative("eps", eps)
        super().__init__(params, {"lr": lr, "eps": eps})

    def _update(self, group: dict, params: list, arrays: list, grads: list) -> None:
        normalized_gd(arrays, grads, (), group)


class Adam(Optimizer):
    """Adam in the lecture's form (eqs. 6.15–6.17).

    Update rule (t = step count from 1, β and γ the moment coefficients)::

        m ← β·m + (1 − β)·g                 v ← γ·v + (1 − γ)·g²
        m̃ ← m/(1 − β^t)                     ṽ ← v/(1 − γ^t)
        φ ← φ − α·m̃/(√ṽ + ε)

    with m and v starting at 0. This is ``gradfit.optim.Adam`` with betas=(β, γ), and the
    same function computes both: PyTorch folds the corrections into the step size,
    φ ← φ − α/(1 − β^t) · m/(√v/√(1 − γ^t) + ε), which is the same expression. The first
    step moves every coordinate by α (up to ε), since m̃ = g and √ṽ = |g|.

    State per parameter: ``step``, ``exp_avg`` (m), ``exp_avg_sq`` (v).
    """

    # PyTorch's Adam's state and rule
    _state_spec = _PyTorchAdam._state_spec
    _rule = staticmethod(adam)

    def __init__(
        self, params, lr: float, beta: float = 0.9, gamma: float = 0.999, eps: float = 1e-8
    ):
        _check_nonnegative("lr", lr)
        _check_nonnegative("eps", eps)
        _check_beta("beta", beta)
        _check_beta("gamma", gamma)
        super().__init__(params, {"lr": lr, "beta": beta, "gamma": gamma, "eps": eps})

    def _update(self, group: dict, params: list, arrays: list, grads: list) -> None:
        # PyTorch's Adam on a group with betas (β, γ) and its other options off
        betas = (group["beta"], group["gamma"])
        pytorch_group = {**_OPTIONS_OFF, "lr": group["lr"], "betas": betas, "eps": group["eps"]}
        super()._update(pytorch_group, params, arrays, grads)


class Newton(Optimizer):
    """Damped Newton's method: φ ← φ − α (H + λI)⁻¹ ∇L.

    H is the Hessian of the loss w.r.t. all parameters of a group (flattened and
    concatenated), computed by the engine: the gradient with ``create_graph=True``, then
    one more backward per entry. On a quadratic loss (least squares) with λ = 0 and
    α = 1 one step lands on the minimum. λ > 0 (Levenberg's damping) keeps the step a
    descent direction where H is not positive definite (the Gabor loss's saddles); the
    step costs one backward per parameter, so this is for small models.

    After the step the parameters' ``.grad`` hold ∇L at the starting point, and
    ``state[first parameter of the group]["hessian"]`` the Hessian (an array).

    Args:
        params: parameters or parameter groups (the Hessian is taken within each group).
        lr: α, the step's scale (default 1: the full Newton step).
        damping: λ, added to H's diagonal (default 0).
    """

    def __init__(self, params, lr: float = 1.0, damping: float = 0.0):
        _check_nonnegative("lr", lr)
        _check_nonnegative("damping", damping)
        super().__init__(params, {"lr": lr, "damping": damping})

    def step(self, closure=None):
        """One Newton step; returns the loss at the starting point.

        Args:
            closure: computes and returns the loss (without calling ``backward``: the
                optimizer differentiates it twice itself).
        """
        from gradfit import autograd
        from gradfit._grad_mode import enable_grad

        if closure is None:
            raise RuntimeError("Newton.step needs a closure that computes the loss")
        with enable_grad():
            loss = closure()
        if not getattr(loss, "requires_grad", False):
            raise RuntimeError(
                "Newton.step: the closure's loss does not require grad (it must compute the "
                "loss from the parameters, without calling backward or detaching it)"
            )
        for group in self.param_groups:
            params = [p for p in group["params"] if p.requires_grad]
            if not params:
                continue
            grads = autograd.grad(loss, params, create_graph=True, allow_unused=True)
            flat_g = [
                g.reshape(-1) if g is not None else wrap(np.zeros(p.numel(), unwrap(p).dtype))
                for p, g in zip(params, grads)
            ]
            g_vec = np.concatenate([unwrap(g) for g in flat_g])
            n = g_vec.size
            hess = np.zeros((n, n), dtype=np.float64)
            row = 0
            for g in flat_g:
                for k in range(g.numel()):
                    if g.requires_grad:
                        second = autograd.grad(g[k], params, retain_graph=True, allow_unused=True)
                        hess[row] = np.concatenate(
                            [
                                np.zeros(p.numel()) if h is None else unwrap(h).reshape(-1)
                                for p, h in zip(params, second)
                            ]
                        )
                    row += 1
            hess = 0.5 * (hess + hess.T)
            step = np.linalg.solve(hess + group["damping"] * np.eye(n), g_vec)
            start = 0
            with modified(*params) as arrays:
                for a in arrays:
                    size = a.size
                    a -= (group["lr"] * step[start : start + size]).reshape(a.shape).astype(a.dtype)
                    start += size
            start = 0
            for p in params:
                p.grad = wrap(g_vec[start : start + p.numel()].reshape(tuple(p.shape)).copy())
                start += p.numel()
            self.state[group["params"][0]]["hessian"] = hess
        return loss.detach()
