"""The update rules of the optimizers, each written once, as functions over NumPy arrays.

This is the shape of PyTorch's functional optimizers (``torch.optim.sgd.sgd(params,
d_p_list, momentum_buffer_list, ...)``) and of optax: a rule is one function of lists of
arrays (parameters, gradients, state buffers) and of the hyperparameters, with no
Tensors, parameter groups or ``state_dict`` in sight. The classes (``SGD``, ``Adam``, ...)
do that bookkeeping and call these; so do the lecture's forms in ``optim.lecture``, with
the lecture's conventions as arguments (``lecture.Momentum`` is ``sgd`` with dampening
β and a buffer that starts at 0, ``lecture.Adam`` is ``adam``, ``lecture.NormalizedGD`` is
``normalized_gd``). Each rule is stated once, in the docstring of its class.

Unlike optax's, these functions work **in place**: they update the parameters and the
state buffers they are given (the arrays of the optimizer's state Tensors, so
``state_dict`` sees the new values), and never write to a gradient. They follow the
single-tensor (``_single_tensor_*``) code paths of ``torch/optim``, the ones PyTorch runs
on the CPU, including the order of floating-point operations, so float64 runs agree with
PyTorch to rounding.

Temporaries are reused (``out=``) where the maths allows, as these run on every step of
every training loop: a temporary is allocated only when an input must survive.
"""

from __future__ import annotations

import numpy as np

# ----------------------------------------------------------------------------- pieces


def _lerp_(start: np.ndarray, end: np.ndarray, weight: float) -> None:
    """``start += weight·(end − start)`` in place, with PyTorch's two-branch ``lerp``.

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


def _ema_square_(average: np.ndarray, g: np.ndarray, decay: float) -> np.ndarray:
    """The second-moment average, in place: ``v ← decay·v + (1 − decay)·g²``.

    Returns the temporary (1 − decay)·g², free for the caller to reuse.
    """
    average *= decay
    square = g * (1 - decay)
    square *= g
    average += square
    return square


def _normalized_update_(
    param: np.ndarray,
    direction: np.ndarray,
    second_moment: np.ndarray,
    out: np.ndarray,
    *,
    step_size: float,
    eps: float,
    correction: float = 1.0,
) -> None:
    """``param ← param − step_size · direction / (√second_moment / correction + ε)``.

    The step shared by Adam, RMSprop, Adagrad and the lecture's normalised gradients.
    ``out`` (which may be ``second_moment`` itself) receives the denominator.
    """
    denom = np.sqrt(second_moment, out=out)
    if correction != 1.0:
        denom /= correction
    denom += eps
    # PyTorch's addcdiv computes (value·direction)/denom
    update = np.multiply(direction, -step_size)
    update /= denom
    param += update


def _decayed_grad(param: np.ndarray, grad: np.ndarray, weight_decay, maximize: bool):
    """``g = ±grad (+ weight_decay·param)``; returns g and whether it is a fresh array.

    ``weight_decay`` may be a 0-d array (see ``sgd``); a zero one adds nothing."""
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


_scalar_arrays: dict = {}


def _scalar(dtype: np.dtype, value: float) -> np.ndarray:
    """``value`` as a read-only 0-d array of ``dtype``.

    A ufunc given a Python float converts it on every call; a 0-d array of the operand's
    dtype holds the value the float would be cast to, so results are the same. The arrays
    are kept (a training loop asks for the same few values at every step), up to a few
    hundred, as a schedule changes the rate.
    """
    key = (value, dtype)
    a = _scalar_arrays.get(key)
    if a is None:
        if len(_scalar_arrays) > 256:
            _scalar_arrays.clear()
        a = _scalar_arrays[key] = np.asarray(value, dtype)
        a.flags.writeable = False
    return a


# Cache blocking of the elementwise updates. Adam is ~13 elementwise passes; on a whole
# 1M-parameter layer each pass streams the arrays through memory, while on blocks of this
# many elements (0.5 MB per float32 array) the block stays in cache for all the passes. The
# same operations run on the same elements in the same order, so the result is the same.
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


# ----------------------------------------------------------------------------- rules


def sgd(
    params: list[np.ndarray],
    grads: list[np.ndarray],
    momentum_buffers: list[np.ndarray | None],
    *,
    lr: float,
    momentum: float,
    dampening: float,
    weight_decay: float,
    nesterov: bool,
    maximize: bool,
) -> list[int]:
    """One step of ``gradfit.optim.SGD`` (``torch/optim/sgd.py``, ``_single_tensor_sgd``).

    ``momentum_buffers`` has one entry per parameter (ignored when ``momentum == 0``); an
    entry that is None gets a new buffer, a copy of the first (decayed) gradient, as in
    PyTorch. A buffer of zeros instead gives the lecture's momentum, which starts at 0.
    The hyperparameters enter the operations as 0-d arrays of the parameters' dtype
    (``_scalar``). Returns the positions of the new buffers (for the caller to keep).
    """
    decayed = maximize or weight_decay != 0
    heavy_ball = momentum != 0
    undamped = dampening == 0
    dtype = None
    created = []
    for i, (param, g) in enumerate(zip(params, grads)):
        if param.dtype is not dtype:
            dtype = param.dtype
            lr_, momentum_ = _scalar(dtype, lr), _scalar(dtype, momentum)
        if decayed:  # a fresh array: it may become the buffer
            g = _decayed_grad(param, g, _scalar(dtype, weight_decay), maximize)[0]
        if heavy_ball:  # b ← μ·b + (1 − τ)·g, b = g on the first step
            buffer = momentum_buffers[i]
            if buffer is None:
                buffer = momentum_buffers[i] = g if decayed else g.copy()
                created.append(i)
            else:
                buffer *= momentum_
                buffer += g if undamped else (1 - dampening) * g
            if nesterov:
                g = g + momentum_ * buffer
            else:
                g = buffer
        param -= lr_ * g
    return created


def _adam_one(
    param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, lr, beta1, beta2, eps,
    weight_decay, amsgrad, maximize, decoupled_weight_decay,
) -> None:  # fmt: skip
    """``adam`` on one parameter (``step`` already incremented)."""
    if param.size > _BLOCK:
        blocks = _flat_blocks(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq)
        if blocks is not None:
            for p, g, m, v, vmax in blocks:
                _adam_one(
                    p, g, m, v, vmax, step, lr, beta1, beta2, eps, weight_decay, amsgrad,
                    maximize, decoupled_weight_decay,
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
    square = _ema_square_(exp_avg_sq, grad, beta2)
    if amsgrad:
        np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        second_moment = max_exp_avg_sq
    else:
        second_moment = exp_avg_sq
    _normalized_update_(
        param,
        exp_avg,
        second_moment,
        square,
        step_size=lr / (1 - beta1**step),
        eps=eps,
        correction=(1 - beta2**step) ** 0.5,
    )


def adam(
    params: list[np.ndarray],
    grads: list[np.ndarray],
    exp_avgs: list[np.ndarray],
    exp_avg_sqs: list[np.ndarray],
    max_exp_avg_sqs: list[np.ndarray | None],
    steps: list[np.ndarray],
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
    """One step of ``gradfit.optim.Adam`` / ``AdamW`` (``torch/optim/adam.py``,
    ``_single_tensor_adam``).

    ``steps`` are the 0-d step counters, incremented here before use (t = 1 on the first
    step); ``max_exp_avg_sqs`` is read only when ``amsgrad``.
    """
    for i, param in enumerate(params):
        step = steps[i]
        step += 1
        _adam_one(
            param, grads[i], exp_avgs[i], exp_avg_sqs[i], max_exp_avg_sqs[i], float(step),
            lr, beta1, beta2, eps, weight_decay, amsgrad, maximize, decoupled_weight_decay,
        )  # fmt: skip


def rmsprop(
    params: list[np.ndarray],
    grads: list[np.ndarray],
    square_avgs: list[np.ndarray],
    grad_avgs: list[np.ndarray | None],
    momentum_buffers: list[np.ndarray | None],
    steps: list[np.ndarray],
    *,
    lr: float,
    alpha: float,
    eps: float,
    weight_decay: float,
    momentum: float,
    centered: bool,
    maximize: bool,
) -> None:
    """One step of ``gradfit.optim.RMSprop`` (``torch/optim/rmsprop.py``,
    ``_single_tensor_rmsprop``).

    ``grad_avgs`` is read only when ``centered``, ``momentum_buffers`` only when
    ``momentum > 0``; ``steps`` are incremented (PyTorch counts them, the rule does not
    use them).
    """
    for i, param in enumerate(params):
        steps[i] += 1
        g, _ = _decayed_grad(param, grads[i], weight_decay, maximize)
        square = _ema_square_(square_avgs[i], g, alpha)
        if centered:
            grad_avg = grad_avgs[i]
            _lerp_(grad_avg, g, 1 - alpha)
            np.multiply(grad_avg, grad_avg, out=square)
            second_moment = np.subtract(square_avgs[i], square, out=square)
        else:
            second_moment = square_avgs[i]
        if momentum > 0:
            denom = np.sqrt(second_moment, out=square)
            denom += eps
            buffer = momentum_buffers[i]
            buffer *= momentum
            buffer += g / denom
            param -= lr * buffer
        else:
            _normalized_update_(param, g, second_moment, square, step_size=lr, eps=eps)


def adagrad(
    params: list[np.ndarray],
    grads: list[np.ndarray],
    state_sums: list[np.ndarray],
    steps: list[np.ndarray],
    *,
    lr: float,
    lr_decay: float,
    weight_decay: float,
    eps: float,
    maximize: bool,
) -> None:
    """One step of ``gradfit.optim.Adagrad`` (``torch/optim/adagrad.py``,
    ``_single_tensor_adagrad``); ``steps`` are incremented before use."""
    for i, param in enumerate(params):
        step = steps[i]
        step += 1
        g, _ = _decayed_grad(param, grads[i], weight_decay, maximize)
        square = np.multiply(g, g)
        state_sums[i] += square
        _normalized_update_(
            param,
            g,
            state_sums[i],
            square,
            step_size=lr / (1 + (float(step) - 1) * lr_decay),
            eps=eps,
        )


def normalized_gd(params: list[np.ndarray], grads: list[np.ndarray], *, lr: float, eps: float):
    """One step of the lecture's normalised gradients (``lecture.NormalizedGD``,
    eqs. 6.13–6.14): Adam's update with m = g and v = g² (no averaging, no bias
    correction)."""
    for param, g in zip(params, grads):
        square = np.multiply(g, g)
        _normalized_update_(param, g, square, square, step_size=lr, eps=eps)
