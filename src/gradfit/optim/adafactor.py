"""``Adafactor`` (Shazeer & Stern 2018), as PyTorch's ``torch/optim/_adafactor.py``."""

from __future__ import annotations

import numpy as np

from gradfit import linalg
from gradfit._arrays import unwrap, wrap
from gradfit.optim._functional import _lerp_
from gradfit.optim.optimizer import Optimizer, _step_array


def _norm(a: np.ndarray, dim=None, keepdim: bool = False) -> np.ndarray:
    """The 2-norm as PyTorch's kernel adds it up (``gradfit.linalg.vector_norm``)."""
    return unwrap(linalg.vector_norm(wrap(a), 2, dim, keepdim))


def adafactor(params: list, grads: list, state: tuple, group) -> None:
    """One step of ``Adafactor`` (``_single_tensor_adafactor``); ``steps`` are
    incremented before use. With t the step, beta2_t = 1 − t^beta2_decay,
    rho_t = min(lr, 1/sqrt(t)), alpha = max(eps2, RMS(p))·rho_t:

        p ← p·(1 − lr·λ)
        matrices (last two dims): R ← lerp(R, mean_col(g²), 1 − beta2_t),
            C ← lerp(C, mean_row(g²), 1 − beta2_t), V = R C / max(mean(R), eps1)
        vectors: V ← lerp(V, g², 1 − beta2_t)
        u = g / sqrt(max(V, eps1²)),  p ← p − alpha / max(1, RMS(u)/d) · u

    eps1 None means the first parameter's dtype's machine epsilon, kept for the others
    (PyTorch's loop rebinds it once). The rule has ``optim._functional``'s shape: state is
    (steps, row_vars, col_vars, variances), group the hyperparameters."""
    steps, row_vars, col_vars, variances = state
    lr, beta2_decay, d, weight_decay = (
        float(group[k]) for k in ("lr", "beta2_decay", "d", "weight_decay")
    )
    maximize = group["maximize"]
    eps1, eps2 = group["eps"]
    for i, param in enumerate(params):
        grad = -grads[i] if maximize else grads[i]
        step = steps[i]
        if eps1 is None:
            eps1 = float(np.finfo(param.dtype).eps)
        step += 1
        t = step.item()
        one_minus_beta2_t = t**beta2_decay
        rho_t = min(lr, 1 / (t**0.5))
        alpha = max(eps2, _norm(param).item() / (param.size**0.5)) * rho_t
        if weight_decay != 0:
            param *= 1 - lr * weight_decay
        if grad.ndim > 1:
            row_var, col_var = row_vars[i], col_vars[i]
            row_mean = np.square(_norm(grad, -1, True))
            row_mean /= grad.shape[-1]
            _lerp_(row_var, row_mean, one_minus_beta2_t)
            col_mean = np.square(_norm(grad, -2, True))
            col_mean /= grad.shape[-2]
            _lerp_(col_var, col_mean, one_minus_beta2_t)
            var_estimate = np.matmul(row_var, col_var)
            mean = unwrap(wrap(row_var).mean(-2, keepdim=True))  # PyTorch's order
            var_estimate /= np.maximum(mean, param.dtype.type(eps1))
        else:
            variance = variances[i]
            _lerp_(variance, grad * grad, one_minus_beta2_t)
            var_estimate = variance.copy()
        np.maximum(var_estimate, param.dtype.type(eps1 * eps1), out=var_estimate)
        update = np.reciprocal(np.sqrt(var_estimate))
        update *= grad
        denom = max(1.0, _norm(update).item() / ((update.size**0.5) * d))
        update *= param.dtype.type(-alpha / denom)
        param += update


class Adafactor(Optimizer):
    """Adafactor (Shazeer & Stern 2018, "Adafactor: Adaptive Learning Rates with Sublinear
    Memory Cost"), PyTorch's variant (``torch.optim.Adafactor``): no first moment, the
    second moment factored into row and column means for tensors of 2 or more
    dimensions, a relative step size and update clipping (rule in ``adafactor``).

    State per parameter: ``step`` (0-d float Tensor), then ``row_var`` and ``col_var``
    (the gradient's shape with the last, resp. second-to-last, dimension 1) for a
    parameter of 2+ dimensions, else ``variance``.

    Args:
        params: parameters or parameter groups.
        lr: the cap on the relative step size rho_t (default 1e-2).
        beta2_decay: the exponent of 1 - beta2_t = t^beta2_decay (default -0.8).
        eps: (eps1, eps2): the floor of the second moment (None: the dtype's machine
            epsilon) and of the parameters' RMS (default (None, 1e-3)).
        d: the update clipping threshold (default 1).
        weight_decay: decoupled weight decay λ (default 0).
        foreach: accepted for compatibility, stored in the groups.
        maximize: ascend instead of descend.
    """

    def __init__(
        self,
        params,
        lr: float = 1e-2,
        beta2_decay: float = -0.8,
        eps: tuple = (None, 1e-3),
        d: float = 1.0,
        weight_decay: float = 0.0,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
    ) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        defaults = {
            "lr": lr,
            "beta2_decay": beta2_decay,
            "eps": eps,
            "d": d,
            "weight_decay": weight_decay,
            "foreach": foreach,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _update(self, group: dict, params: list, arrays: list, grads: list) -> None:
        if any(np.iscomplexobj(a) for a in arrays):
            raise RuntimeError("Adafactor does not support complex parameters")
        # state in PyTorch's creation order: step, then row_var/col_var or variance
        for p, g in zip(params, grads):
            st = self.state[p]
            if not st:
                st["step"] = wrap(_step_array())
                if g.ndim > 1:
                    st["row_var"] = wrap(np.zeros(g.shape[:-1] + (1,), dtype=g.dtype))
                    st["col_var"] = wrap(
                        np.zeros(g.shape[:-2] + (1,) + g.shape[-1:], dtype=g.dtype)
                    )
                else:
                    st["variance"] = wrap(np.zeros_like(g))
        steps = self._state_arrays(params, "step", None)
        rows = self._state_arrays(params, "row_var", None)
        cols = self._state_arrays(params, "col_var", None)
        variances = self._state_arrays(params, "variance", None)
        adafactor(arrays, grads, (steps, rows, cols, variances), group)


__all__ = ["Adafactor", "adafactor"]
