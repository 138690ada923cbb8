"""The update rules of the optimizers, as plain functions on NumPy arrays.

Each function updates ``param`` (and its state buffers) **in place** and never writes to
``grad``, which is the parameter's own ``.grad`` array. They follow the single-tensor
(``_single_tensor_*``) code paths of ``torch/optim`` (the ones PyTorch runs on the CPU),
including the order of floating-point operations where it is cheap to keep, so float64
runs agree with PyTorch to rounding. The optimizer classes do the bookkeeping (which
parameters have gradients, state creation, hyperparameters per group) and call these.

Temporaries are reused where the maths allows (``out=``), since these functions are on the
hot path of every training loop; a temporary is allocated only when an input must survive.
"""

from __future__ import annotations

import numpy as np


def _lerp_(start: np.ndarray, end: np.ndarray, weight: float) -> None:
    """``start += weight * (end - start)`` in place, with PyTorch's two-branch ``lerp``.

    PyTorch computes ``start + w·(end − start)`` for |w| < 0.5 and
    ``end − (end − start)·(1 − w)`` otherwise (better rounding near w = 1).
    """
    diff = np.subtract(end, start)
    if abs(weight) < 0.5:
        diff *= weight
        start += diff
    else:
        diff *= 1.0 - weight
        np.subtract(end, diff, out=start)


# Cache blocking of the elementwise updates. Adam is ~13 elementwise passes; on a whole
# 1M-parameter layer each pass streams the arrays through memory, while on blocks of this
# many elements (0.5 MB per float32 array) the block stays in cache for all the passes. The
# same operations run on the same elements in the same order, so the result is
# bit-identical; the step is ~2x faster on the 784-1024-1024-10 MLP (benchmarks/, W3).
_BLOCK = 1 << 17


def _flat_blocks(*arrays):
    """Matching flat blocks of same-shape C-contiguous arrays (None entries stay None),
    or None when one of them is not contiguous (then the caller works on the whole)."""
    flat = []
    for a in arrays:
        if a is None:
            flat.append(None)
        elif a.flags.c_contiguous and a.shape == arrays[0].shape:
            flat.append(a.reshape(-1))
        else:
            return None
    n = flat[0].size
    return [
        tuple(None if f is None else f[i : i + _BLOCK] for f in flat) for i in range(0, n, _BLOCK)
    ]


def _prepare_grad(
    param: np.ndarray, grad: np.ndarray, weight_decay: float, maximize: bool
) -> tuple[np.ndarray, bool]:
    """``g = ±grad (+ weight_decay·param)``; returns g and whether it is a fresh array."""
    owned = False
    if maximize:
        grad = np.negative(grad)
        owned = True
    if weight_decay != 0:
        if owned:
            grad += weight_decay * param
        else:
            grad = grad + weight_decay * param
            owned = True
    return grad, owned


def sgd(
    param: np.ndarray,
    grad: np.ndarray,
    momentum_buffer: np.ndarray | None,
    *,
    lr: float,
    momentum: float,
    dampening: float,
    weight_decay: float,
    nesterov: bool,
    maximize: bool,
) -> np.ndarray | None:
    """One SGD step (``torch/optim/sgd.py``, ``_single_tensor_sgd``), in place.

    Update rule::

        g = ±grad + λ·p
        b = g                       on the first step (no dampening)
        b = μ·b + (1 − τ)·g         afterwards
        g = g + μ·b  if nesterov  else  b
        p = p − α·g

    Differs from the lecture's momentum (eq. 6.11, ``m ← β·m + (1 − β)·g`` with m starting
    at 0): PyTorch's buffer starts at the first gradient and is not damped unless
    ``dampening`` is set, so its steps are 1/(1 − β) times larger at steady state.

    Returns:
        The momentum buffer (a new array on the first step with momentum), or None when
        ``momentum == 0``.
    """
    g, owned = _prepare_grad(param, grad, weight_decay, maximize)
    if momentum != 0:
        if momentum_buffer is None:
            momentum_buffer = g.copy() if not owned else g
            owned = False  # g is now the buffer and must not be scaled in place
        else:
            momentum_buffer *= momentum
            if dampening != 0:
                momentum_buffer += (1 - dampening) * g
            else:
                momentum_buffer += g
        if nesterov:
            if owned:
                np.add(g, momentum * momentum_buffer, out=g)
            else:
                g = g + momentum * momentum_buffer
                owned = True
        else:
            g = momentum_buffer
            owned = False
    if owned:
        g *= lr
        param -= g
    else:
        param -= lr * g
    return momentum_buffer


def sgd_momentum_(
    param: np.ndarray, grad: np.ndarray, momentum_buffer: np.ndarray, lr, momentum
) -> None:
    """``sgd`` in its common case, after the first step: momentum, no dampening, weight
    decay, Nesterov or maximize. In place::

        b = μ·b + g
        p = p − α·b

    ``lr`` and ``momentum`` may be 0-d arrays of the parameter's dtype (SGD passes them so):
    NumPy converts a Python float operand on every ufunc call (~0.3 µs), and the value used
    is the same either way (a float is cast to the array's dtype), so the result is
    bit-identical to ``sgd``'s.
    """
    momentum_buffer *= momentum
    momentum_buffer += grad
    param -= lr * momentum_buffer


def adam(
    param: np.ndarray,
    grad: np.ndarray,
    exp_avg: np.ndarray,
    exp_avg_sq: np.ndarray,
    max_exp_avg_sq: np.ndarray | None,
    step: float,
    *,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float,
    amsgrad: bool,
    maximize: bool,
    decoupled_weight_decay: bool,
) -> None:
    """One Adam/AdamW step (``torch/optim/adam.py``, ``_single_tensor_adam``), in place.

    ``step`` is the step count t after incrementing (1 on the first step). Update rule::

        g = ±grad
        decoupled (AdamW): p = p·(1 − α·λ)     else: g = g + λ·p
        m = m + (1 − β1)·(g − m)               # = β1·m + (1 − β1)·g
        v = β2·v + (1 − β2)·g²
        v̂ = max(v̂, v) if amsgrad (the max of the *uncorrected* v), used in place of v
        p = p − α/(1 − β1^t) · m / (√v / √(1 − β2^t) + ε)

    This is the lecture's Adam (eqs. 6.15–6.17, β = β1, γ = β2) with the bias
    corrections folded into the step size; ε is added after the correction of v, as in
    the lecture. AdamW's decay uses the scheduled α and is not bias-corrected.
    """
    if param.size > _BLOCK:
        blocks = _flat_blocks(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq)
        if blocks is not None:
            for p, g, m, v, vmax in blocks:
                adam(
                    p, g, m, v, vmax, step, lr=lr, beta1=beta1, beta2=beta2, eps=eps,
                    weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize,
                    decoupled_weight_decay=decoupled_weight_decay,
                )  # fmt: skip
            return
    if maximize:
        grad = np.negative(grad)
    if weight_decay != 0:
        if decoupled_weight_decay:
            param *= 1 - lr * weight_decay
        else:
            grad = grad + weight_decay * param
    _lerp_(exp_avg, grad, 1 - beta1)
    exp_avg_sq *= beta2
    sq = grad * (1 - beta2)
    sq *= grad
    exp_avg_sq += sq
    bias_correction1 = 1 - beta1**step
    bias_correction2 = 1 - beta2**step
    step_size = lr / bias_correction1
    bias_correction2_sqrt = bias_correction2**0.5
    if amsgrad:
        np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        denom = np.sqrt(max_exp_avg_sq, out=sq)
    else:
        denom = np.sqrt(exp_avg_sq, out=sq)
    denom /= bias_correction2_sqrt
    denom += eps
    # PyTorch's addcdiv computes (value·m)/denom
    upd = np.multiply(exp_avg, -step_size)
    upd /= denom
    param += upd


def rmsprop(
    param: np.ndarray,
    grad: np.ndarray,
    square_avg: np.ndarray,
    grad_avg: np.ndarray | None,
    momentum_buffer: np.ndarray | None,
    *,
    lr: float,
    alpha: float,
    eps: float,
    weight_decay: float,
    momentum: float,
    centered: bool,
    maximize: bool,
) -> None:
    """One RMSprop step (``torch/optim/rmsprop.py``, ``_single_tensor_rmsprop``), in place.

    Update rule (no bias correction; all buffers start at 0)::

        g = ±grad + λ·p
        s = α·s + (1 − α)·g²
        centered: ḡ = ḡ + (1 − α)·(g − ḡ);  a = √(s − ḡ²) + ε     else: a = √s + ε
        μ > 0: b = μ·b + g/a;  p = p − lr·b        else: p = p − lr·g/a

    The lecture does not cover RMSprop; it is Adam without the first moment and without
    bias correction (α here plays the role of the lecture's γ).
    """
    g, _ = _prepare_grad(param, grad, weight_decay, maximize)
    square_avg *= alpha
    sq = g * (1 - alpha)
    sq *= g
    square_avg += sq
    if centered:
        _lerp_(grad_avg, g, 1 - alpha)
        np.multiply(grad_avg, grad_avg, out=sq)
        avg = np.subtract(square_avg, sq, out=sq)
        np.sqrt(avg, out=avg)
    else:
        avg = np.sqrt(square_avg, out=sq)
    avg += eps
    if momentum > 0:
        momentum_buffer *= momentum
        momentum_buffer += g / avg
        param -= lr * momentum_buffer
    else:
        upd = g * (-lr)
        upd /= avg
        param += upd


def adagrad(
    param: np.ndarray,
    grad: np.ndarray,
    state_sum: np.ndarray,
    step: float,
    *,
    lr: float,
    lr_decay: float,
    weight_decay: float,
    eps: float,
    maximize: bool,
) -> None:
    """One Adagrad step (``torch/optim/adagrad.py``, ``_single_tensor_adagrad``), in place.

    ``step`` is the step count t after incrementing. Update rule::

        g = ±grad + λ·p
        α_t = α / (1 + (t − 1)·lr_decay)
        S = S + g²
        p = p − α_t · g / (√S + ε)

    Like the lecture's normalised gradient (eqs. 6.13–6.14), but normalised by the *sum*
    of all past squared gradients, so the steps shrink over time.
    """
    g, _ = _prepare_grad(param, grad, weight_decay, maximize)
    clr = lr / (1 + (step - 1) * lr_decay)
    sq = np.multiply(g, g)
    state_sum += sq
    std = np.sqrt(state_sum, out=sq)
    std += eps
    upd = g * (-clr)
    upd /= std
    param += upd
