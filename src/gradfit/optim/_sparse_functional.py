"""The update rules for sparse gradients (``Embedding(sparse=True)``,
``torch.sparse.mm``), as plain functions over arrays: a gradient here is an
``ops.sparse.SparseArray`` (indices, values, shape), a parameter and its dense state are
ndarrays edited in place. Each follows the sparse branch of PyTorch's rule
(``torch/optim/_functional.py``, ``sgd.py``, ``adagrad.py``): only the rows the gradient
names change.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from gradfit.ops.sparse import SparseArray, coalesce
from gradfit.optim._functional import _read


def has_sparse(grads: list) -> bool:
    """Whether any gradient of the list is sparse."""
    return any(type(g) is SparseArray for g in grads)


def _negated(g: SparseArray) -> SparseArray:
    return SparseArray(g.indices, np.negative(g.values), g.shape, g.coalesced)


def _add_to(param: np.ndarray, g: SparseArray, alpha: float) -> None:
    """``param.add_(g, alpha=alpha)`` with a sparse ``g`` (duplicates add up)."""
    np.add.at(param, tuple(g.indices), (alpha * g.values).astype(param.dtype, copy=False))


def sparse_sgd(param: np.ndarray, grad: SparseArray, buf, group: Mapping):
    """One SGD step with a sparse gradient (``_single_tensor_sgd``); returns the momentum
    buffer, a sparse array as in PyTorch (a copy of the first gradient, then
    ``buf·μ + (1 − τ)·g`` by appending entries, as its in-place sparse add does)."""
    lr, momentum, dampening, weight_decay, nesterov, maximize = _read(
        group, "lr momentum dampening weight_decay nesterov maximize"
    )
    if weight_decay != 0:
        raise RuntimeError("add(sparse, dense) is not supported. Use add(dense, sparse) instead.")
    g = _negated(grad) if maximize else grad
    if momentum != 0:
        if buf is None:
            buf = g.copy()
        else:
            buf.values = buf.values * momentum
            buf += SparseArray(g.indices, g.values * (1 - dampening), g.shape, g.coalesced)
        if nesterov:
            g = g + SparseArray(buf.indices, buf.values * momentum, buf.shape, buf.coalesced)
        else:
            g = buf
    _add_to(param, g, -lr)
    return buf


def sparse_adagrad(
    param: np.ndarray, grad: SparseArray, state_sum: np.ndarray, step: np.ndarray, group: Mapping
) -> None:
    """One Adagrad step with a sparse gradient: on the coalesced gradient's rows,
    S += g², p −= clr · g / (√S + ε) with clr = lr / (1 + (t − 1)·lr_decay)."""
    lr, lr_decay, weight_decay, eps, maximize = _read(
        group, "lr lr_decay weight_decay eps maximize"
    )
    step += 1
    if weight_decay != 0:
        raise RuntimeError("weight_decay option is not compatible with sparse gradients")
    g = coalesce(_negated(grad) if maximize else grad)
    clr = lr / (1 + (step.item() - 1) * lr_decay)
    where = tuple(g.indices)
    np.add.at(state_sum, where, g.values * g.values)
    std = np.sqrt(state_sum[where]) + eps
    np.add.at(param, where, (-clr * (g.values / std)).astype(param.dtype, copy=False))


def sparse_adam(params: list, grads: list, state: tuple, group: Mapping) -> None:
    """``torch.optim.SparseAdam``'s step (``_functional.sparse_adam``): Adam's moments and
    bias-corrected step on the rows the coalesced gradient names, the other rows and
    their moments left as they are. ``state`` is ``(steps, exp_avgs, exp_avg_sqs)``, the
    steps the (already incremented) step counts.

        m_r += (1 − β1)(g_r − m_r);  v_r += (1 − β2)(g_r² − v_r)
        p_r −= lr·√(1 − β2^t)/(1 − β1^t) · m_r / (√v_r + ε)
    """
    steps, exp_avgs, exp_avg_sqs = state
    lr, beta1, beta2, eps, maximize = _read(group, "lr betas eps maximize")
    for param, grad, exp_avg, exp_avg_sq, step in zip(params, grads, exp_avgs, exp_avg_sqs, steps):
        g = coalesce(_negated(grad) if maximize else grad)
        if g.values.size == 0:
            continue
        where = tuple(g.indices)
        values = g.values
        old_m = exp_avg[where]
        m_update = (values - old_m) * (1 - beta1)
        exp_avg[where] += m_update
        old_v = exp_avg_sq[where]
        v_update = (values * values - old_v) * (1 - beta2)
        exp_avg_sq[where] += v_update
        numer = m_update + old_m
        denom = np.sqrt(v_update + old_v) + eps
        step_size = lr * math.sqrt(1 - beta2**step) / (1 - beta1**step)
        param[where] += (-step_size * (numer / denom)).astype(param.dtype, copy=False)
