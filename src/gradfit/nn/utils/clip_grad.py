"""Gradient clipping, the standard remedy for exploding gradients (PyTorch's semantics)."""

from __future__ import annotations

import math
import types
import warnings

import numpy as np

from gradfit._arrays import unwrap, wrap
from gradfit.tensor import Tensor


def _grads(parameters) -> list[np.ndarray]:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [unwrap(p.grad) for p in parameters if p.grad is not None]


def _vector_norm(a: np.ndarray, p: float) -> np.ndarray:
    flat = a.reshape(-1)
    if p == 2.0:
        return np.sqrt(np.dot(flat, flat)) if flat.dtype.kind == "f" else np.linalg.norm(flat)
    if p == math.inf:
        return np.abs(flat).max() if flat.size else np.zeros((), flat.dtype)
    if p == -math.inf:
        return np.abs(flat).min() if flat.size else np.full((), np.inf, flat.dtype)
    if p == 0:
        return np.asarray(np.count_nonzero(flat), dtype=flat.dtype)
    if p == 1.0:
        return np.abs(flat).sum()
    return (np.abs(flat) ** p).sum() ** (1.0 / p)


def clip_grad_norm_(
    parameters,
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach=None,
) -> Tensor:
    """Scale all gradients together so that their joint ``norm_type`` norm is at most
    ``max_norm``, as ``torch.nn.utils.clip_grad_norm_``.

    total = || (||g_1||_p, ..., ||g_k||_p) ||_p over the parameters that have a gradient;
    each g_i is multiplied in place by min(1, max_norm / (total + 1e-6)).

    Args:
        parameters: a Tensor or an iterable of Tensors (e.g. ``model.parameters()``).
        max_norm: the largest allowed norm.
        norm_type: p, a float, ``inf`` or ``"inf"``.
        error_if_nonfinite: raise if the total norm is nan or inf instead of scaling.
        foreach: accepted for compatibility, ignored.

    Returns:
        The total norm before clipping, a 0-d Tensor (``tensor(0.)`` with no gradients).
    """
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    elif isinstance(parameters, types.GeneratorType):
        parameters = list(parameters)  # read twice: for the norm, then to scale
        if not parameters:
            warnings.warn(
                "`parameters` is an empty generator, no gradient clipping will occur.",
                stacklevel=2,
            )
    total = get_total_norm(_grads(parameters), norm_type, error_if_nonfinite)
    clip_grads_with_norm_(parameters, max_norm, total)
    return total


def clip_grads_with_norm_(parameters, max_norm: float, total_norm, foreach=None) -> None:
    """Multiply every gradient in place by min(1, max_norm / (total_norm + 1e-6)), the
    second half of ``clip_grad_norm_`` (PyTorch 2.6+), for a norm computed elsewhere."""
    grads = _grads(parameters)
    if not grads:
        return
    total = unwrap(total_norm)
    dtype = total.dtype
    coef = np.asarray(float(max_norm), dtype=dtype) / (total + np.asarray(1e-6, dtype=dtype))
    coef = np.minimum(coef, np.asarray(1.0, dtype=dtype))
    with np.errstate(invalid="ignore"):  # inf * 0 with a non-finite norm gives nan, as torch
        for g in grads:
            np.multiply(g, coef, out=g, casting="unsafe")


def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clamp every gradient entry into [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    for g in _grads(parameters):
        np.clip(g, -clip_value, clip_value, out=g)


def get_total_norm(
    tensors, norm_type: float = 2.0, error_if_nonfinite: bool = False, foreach=None
) -> Tensor:
    """The ``norm_type`` norm of the norms of ``tensors`` (PyTorch 2.6+): the first half of
    ``clip_grad_norm_``; ``tensor(0.)`` for none."""
    if isinstance(tensors, Tensor):
        tensors = [tensors]
    arrays = [unwrap(t) for t in tensors]
    if not arrays:
        return wrap(np.zeros((), dtype=np.float32))
    norm_type = float(norm_type)
    dtype = np.result_type(*arrays)
    norms = np.stack([_vector_norm(a, norm_type).astype(dtype) for a in arrays])
    total = np.asarray(_vector_norm(norms, norm_type), dtype=dtype)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is "
            "non-finite, so it cannot be clipped. To disable this error and scale the "
            "gradients by the non-finite norm anyway, set `error_if_nonfinite=False`"
        )
    return wrap(total)
