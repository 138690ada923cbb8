"""L-BFGS with an optional strong-Wolfe line search (PyTorch's ``torch.optim.LBFGS``)."""

from __future__ import annotations

import numpy as np

from gradfit._arrays import bump_version, unwrap, wrap
from gradfit.optim.optimizer import Optimizer, _check_nonnegative
from gradfit.tensor import Tensor


def _cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None) -> float:
    """Minimiser of the cubic through (x1, f1, g1) and (x2, f2, g2), clamped to ``bounds``.

    From minFunc's ``polyinterp`` (as ported in ``torch/optim/lbfgs.py``)::

        d1 = g1 + g2 − 3(f1 − f2)/(x1 − x2);  d2 = √(d1² − g1·g2)
        x = x2 − (x2 − x1)·(g2 + d2 − d1)/(g2 − g1 + 2·d2)

    If d1² − g1·g2 < 0 the cubic has no minimum and the midpoint of the bounds is returned.
    """
    if bounds is not None:
        xmin_bound, xmax_bound = bounds
    else:
        xmin_bound, xmax_bound = (x1, x2) if x1 <= x2 else (x2, x1)
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1**2 - g1 * g2
    if d2_square >= 0:
        d2 = d2_square**0.5
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(min_pos, xmin_bound), xmax_bound)
    return (xmin_bound + xmax_bound) / 2.0


def _strong_wolfe(obj_func, x, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9, max_ls=25):
    """Line search for a step t satisfying the strong Wolfe conditions along ``d``.

    Sufficient decrease f(x + t·d) ≤ f + c1·t·gtd and curvature |∇f(x + t·d)·d| ≤ −c2·gtd.
    A bracketing phase (extrapolating by cubic interpolation, clamped to
    [t + 0.01(t − t_prev), 10t]) is followed by a zoom phase (cubic interpolation inside the
    bracket, kept 10% of its width away from its ends when progress stalls). Ported from
    minFunc's ``WolfeLineSearch`` via ``torch/optim/lbfgs.py``; ``g``, ``d`` are flat arrays.

    Returns:
        (f_new, g_new, t, number of function evaluations).
    """
    d_norm = float(np.abs(d).max())
    g = g.copy()
    f_new, g_new = obj_func(x, t, d)
    ls_func_evals = 1
    gtd_new = float(g_new.dot(d))

    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    ls_iter = 0
    while ls_iter < max_ls:
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket = [t_prev, t]
            bracket_f = [f_prev, f_new]
            bracket_g = [g_prev, g_new.copy()]
            bracket_gtd = [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket = [t_prev, t]
            bracket_f = [f_prev, f_new]
            bracket_g = [g_prev, g_new.copy()]
            bracket_gtd = [gtd_prev, gtd_new]
            break
        # extrapolate
        min_step = t + 0.01 * (t - t_prev)
        max_step = t * 10
        tmp = t
        t = _cubic_interpolate(
            t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=(min_step, max_step)
        )
        t_prev, f_prev, g_prev, gtd_prev = tmp, f_new, g_new.copy(), gtd_new
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = float(g_new.dot(d))
        ls_iter += 1

    if ls_iter == max_ls:
        bracket = [0, t]
        bracket_f = [f, f_new]
        bracket_g = [g, g_new]

    # zoom: refine the bracket until a point satisfies the conditions
    insuf_progress = False
    low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = _cubic_interpolate(
            bracket[0], bracket_f[0], bracket_gtd[0], bracket[1], bracket_f[1], bracket_gtd[1]
        )
        # A point too close to an end of the bracket makes slow progress: after two such
        # points in a row (or one exactly at an end) move it to 10% of the width inside.
        eps = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < eps:
            if insuf_progress or t >= max(bracket) or t <= min(bracket):
                if abs(t - max(bracket)) < abs(t - min(bracket)):
                    t = max(bracket) - eps
                else:
                    t = min(bracket) + eps
                insuf_progress = False
            else:
                insuf_progress = True
        else:
            insuf_progress = False

        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = float(g_new.dot(d))
        ls_iter += 1

        if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low_pos]:
            # no sufficient decrease, or not below the lowest point: shrink from the top
            bracket[high_pos] = t
            bracket_f[high_pos] = f_new
            bracket_g[high_pos] = g_new.copy()
            bracket_gtd[high_pos] = gtd_new
            low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high_pos] - bracket[low_pos]) >= 0:
                # the old high end becomes the new low end
                bracket[high_pos] = bracket[low_pos]
                bracket_f[high_pos] = bracket_f[low_pos]
                bracket_g[high_pos] = bracket_g[low_pos]
                bracket_gtd[high_pos] = bracket_gtd[low_pos]
            bracket[low_pos] = t
            bracket_f[low_pos] = f_new
            bracket_g[low_pos] = g_new.copy()
            bracket_gtd[low_pos] = gtd_new

    t = bracket[low_pos]
    return bracket_f[low_pos], bracket_g[low_pos], t, ls_func_evals


def _as_state(value, dtype):
    """Array or number → Tensor for the state (PyTorch keeps these as tensors)."""
    return wrap(np.asarray(value, dtype=dtype))


def _from_state(value):
    """A state Tensor → its array (a float for a 0-d one); other values as they are."""
    if isinstance(value, Tensor):
        arr = unwrap(value)
        return arr if arr.ndim else float(arr)
    return value


class LBFGS(Optimizer):
    """Limited-memory BFGS, as PyTorch does it (``torch/optim/lbfgs.py``, after minFunc).

    One ``step(closure)`` runs up to ``max_iter`` iterations on the flattened parameters
    (grads that are None count as zeros) and returns the loss of its *first* closure call:

    1. Direction: d = −g on the very first iteration; afterwards the pair
       (y = g − g_prev, s = t·d) is stored when y·s > 1e-10 (keeping the last
       ``history_size`` pairs), H = y·s / y·y, and d = −H̃·g by the two-loop recursion.
    2. Step length: t = min(1, 1/‖g‖₁)·lr on the first iteration, else lr; with
       ``line_search_fn="strong_wolfe"`` a strong-Wolfe line search (c1 = 1e-4, c2 = 0.9)
       chooses t, otherwise p ← p + t·d and the closure is re-evaluated.
    3. Stop on max_iter, max_eval evaluations, max|g| ≤ tolerance_grad,
       max|t·d| ≤ tolerance_change, or |f − f_prev| < tolerance_change.

    Not in the lecture, which covers first-order methods; the lecture's line search
    (``gradfit.optim.lecture.line_search``) is a bracketing search without derivatives.

    State, under the first parameter only (a global state): ``func_evals``, ``n_iter``,
    ``d``, ``t``, ``old_dirs``, ``old_stps``, ``ro``, ``H_diag``, ``prev_flat_grad``,
    ``prev_loss``, ``al``.

    Args:
        params: parameters (one group only).
        lr: learning rate (default 1).
        max_iter: iterations per ``step`` (default 20).
        max_eval: closure evaluations per ``step`` (default max_iter·5//4).
        tolerance_grad: stop when max|g| is below (default 1e-7).
        tolerance_change: stop when a step or loss change is below (default 1e-9).
        history_size: number of (y, s) pairs kept (default 100).
        line_search_fn: None or ``"strong_wolfe"``.
    """

    def __init__(
        self,
        params,
        lr: float = 1,
        max_iter: int = 20,
        max_eval: int | None = None,
        tolerance_grad: float = 1e-7,
        tolerance_change: float = 1e-9,
        history_size: int = 100,
        line_search_fn: str | None = None,
    ) -> None:
        _check_nonnegative("lr", lr)
        if line_search_fn not in (None, "strong_wolfe"):
            raise ValueError(
                f"LBFGS: line_search_fn must be None or 'strong_wolfe', got {line_search_fn!r}"
            )
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = {
            "lr": lr,
            "max_iter": max_iter,
            "max_eval": max_eval,
            "tolerance_grad": tolerance_grad,
            "tolerance_change": tolerance_change,
            "history_size": history_size,
            "line_search_fn": line_search_fn,
        }
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError(
                "LBFGS doesn't support per-parameter options (parameter groups): got "
                f"{len(self.param_groups)} groups"
            )
        self._params = self.param_groups[0]["params"]

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        self._params = self.param_groups[0]["params"]

    # ------------------------------------------------------------------ flat views
    def _gather_flat_grad(self) -> np.ndarray:
        views = []
        for p in self._params:
            if p.grad is None:
                a = unwrap(p)
                views.append(np.zeros(a.size, dtype=a.dtype))
            else:
                views.append(unwrap(p.grad).reshape(-1))
        return np.concatenate(views)

    def _add_grad(self, step_size: float, update: np.ndarray) -> None:
        offset = 0
        for p in self._params:
            a = unwrap(p)
            n = a.size
            a += step_size * update[offset : offset + n].reshape(a.shape)
            offset += n
        bump_version(*self._params)

    def _clone_param(self) -> list[np.ndarray]:
        return [unwrap(p).copy() for p in self._params]

    def _set_param(self, params_data: list[np.ndarray]) -> None:
        for p, data in zip(self._params, params_data):
            np.copyto(unwrap(p), data)
        bump_version(*self._params)

    def _directional_evaluate(self, closure, x, t, d):
        self._add_grad(t, d)
        loss = float(closure())
        flat_grad = self._gather_flat_grad()
        self._set_param(x)
        return loss, flat_grad

    # ------------------------------------------------------------------ step
    def step(self, closure=None):
        """Run up to ``max_iter`` L-BFGS iterations; returns the first closure's loss.

        Args:
            closure: zeroes the gradients, computes the loss, calls ``backward`` and
                returns the loss (it is called several times per step).
        """
        if closure is None:
            raise RuntimeError("LBFGS.step needs a closure that re-evaluates the loss")
        user_closure = closure

        def closure():
            # as in PyTorch, the closure always runs with recording on
            return self._eval_closure(user_closure)

        group = self.param_groups[0]
        lr = float(group["lr"])
        max_iter = group["max_iter"]
        max_eval = group["max_eval"]
        tolerance_grad = group["tolerance_grad"]
        tolerance_change = group["tolerance_change"]
        line_search_fn = group["line_search_fn"]
        history_size = group["history_size"]

        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig_loss = closure()
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1

        flat_grad = self._gather_flat_grad()
        opt_cond = np.abs(flat_grad).max() <= tolerance_grad
        if opt_cond:
            return orig_loss

        d = _from_state(state.get("d"))
        t = _from_state(state.get("t"))
        old_dirs = [_from_state(v) for v in state.get("old_dirs") or []]
        old_stps = [_from_state(v) for v in state.get("old_stps") or []]
        ro = [_from_state(v) for v in state.get("ro") or []]
        H_diag = _from_state(state.get("H_diag"))
        prev_flat_grad = _from_state(state.get("prev_flat_grad"))
        if prev_flat_grad is not None:
            prev_flat_grad = prev_flat_grad.copy()
        prev_loss = state.get("prev_loss")
        al = [_from_state(v) for v in state["al"]] if "al" in state else None

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1

            # ---- direction
            if state["n_iter"] == 1:
                d = -flat_grad
                old_dirs, old_stps, ro = [], [], []
                H_diag = 1
            else:
                y = flat_grad - prev_flat_grad
                s = d * t
                ys = float(y.dot(s))
                if ys > 1e-10:
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    H_diag = ys / float(y.dot(y))
                num_old = len(old_dirs)
                if al is None:
                    al = [None] * history_size
                # two-loop recursion: d = −H̃·g
                q = -flat_grad
                for i in range(num_old - 1, -1, -1):
                    al[i] = float(old_stps[i].dot(q)) * ro[i]
                    q -= al[i] * old_dirs[i]
                d = r = q * H_diag
                for i in range(num_old):
                    be_i = float(old_dirs[i].dot(r)) * ro[i]
                    r += (al[i] - be_i) * old_stps[i]

            if prev_flat_grad is None:
                prev_flat_grad = flat_grad.copy()
            else:
                np.copyto(prev_flat_grad, flat_grad)
            prev_loss = loss

            # ---- step length
            if state["n_iter"] == 1:
                t = min(1.0, 1.0 / float(np.abs(flat_grad).sum())) * lr
            else:
                t = lr
            gtd = float(flat_grad.dot(d))
            if gtd > -tolerance_change:
                break

            ls_func_evals = 0
            if line_search_fn is not None:
                x_init = self._clone_param()

                def obj_func(x, t, d):
                    return self._directional_evaluate(closure, x, t, d)

                loss, flat_grad, t, ls_func_evals = _strong_wolfe(
                    obj_func, x_init, t, d, loss, flat_grad, gtd, max_ls=max_eval - current_evals
                )
                self._add_grad(t, d)
                opt_cond = np.abs(flat_grad).max() <= tolerance_grad
            else:
                self._add_grad(t, d)
                if n_iter != max_iter:
                    # re-evaluate only if another iteration follows (in a stochastic
                    # setting the value at the last point is of no use)
                    loss = float(closure())
                    flat_grad = self._gather_flat_grad()
                    opt_cond = np.abs(flat_grad).max() <= tolerance_grad
                    ls_func_evals = 1

            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals

            # ---- stopping conditions
            if n_iter == max_iter:
                break
            if current_evals >= max_eval:
                break
            if opt_cond:
                break
            if np.abs(d * t).max() <= tolerance_change:
                break
            if abs(loss - prev_loss) < tolerance_change:
                break

        # PyTorch keeps these as tensors (0-d for the scalars), t as a Python number
        dt = flat_grad.dtype
        state["d"] = _as_state(d, dt)
        state["t"] = t
        state["old_dirs"] = [_as_state(v, dt) for v in old_dirs]
        state["old_stps"] = [_as_state(v, dt) for v in old_stps]
        state["ro"] = [_as_state(v, dt) for v in ro]
        state["H_diag"] = _as_state(H_diag, dt)
        state["prev_flat_grad"] = _as_state(prev_flat_grad, dt)
        state["prev_loss"] = prev_loss
        if al is not None:
            state["al"] = [None if v is None else _as_state(v, dt) for v in al]
        return orig_loss
