"""The update rules of the optimizers, each written once, as functions over NumPy arrays.

This is optax's shape: a rule is one function ``rule(params, grads, state, group)`` of

* ``params`` and ``grads``: lists of arrays (the parameters that have a gradient, and
  their gradients);
* ``state``: a tuple of lists of arrays, one list per state entry, in PyTorch's creation
  order (the optimizer's ``_state_spec``); ``steps``, where a rule has them, are 0-d step
  counters the rule increments before use (t = 1 on the first step), also where the rule
  does not use them, as PyTorch counts them;
* ``group``: the hyperparameters, one record with PyTorch's names (a parameter group, or
  any mapping); each rule reads the ones it uses in one line (``_read``),

with no Tensors, ``param_groups`` bookkeeping or ``state_dict`` in sight. The classes
(``SGD``, ``Adam``, ...) do that bookkeeping and call these; so do the lecture's forms in
``optim.lecture``, with the lecture's conventions as the group (``lecture.Momentum`` is
``sgd`` with dampening β and a buffer that starts at 0, ``lecture.Adam`` is ``adam``,
``lecture.NormalizedGD`` is ``normalized_gd``). The rule ``name`` is one step of
``gradfit.optim.Name``, whose docstring states it; it follows the single-tensor code path
of ``torch/optim/name.py`` (``_single_tensor_name``), the one PyTorch runs on the CPU,
including the order of floating-point operations, so float64 runs agree with PyTorch to
rounding.

Unlike optax's, these functions work **in place**: they update the parameters and the
state buffers they are given (the arrays of the optimizer's state Tensors, so
``state_dict`` sees the new values), and never write to a gradient.

Temporaries are reused (``out=``) where the maths allows, as these run on every step of
every training loop: a temporary is allocated only when an input must survive.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

import numpy as np

#: A list of arrays: the parameters, their gradients, or one state entry of each
#: parameter (None where the entry is not kept, as Adam's ``max_exp_avg_sq`` without
#: amsgrad).
Arrays = list[np.ndarray]


# ----------------------------------------------------------------------------- pieces


def _read(group: Mapping, names: str) -> list:
    """The hyperparameters ``names`` (space-separated, PyTorch's) of ``group``: flags as
    they are, numbers as Python floats (a schedule may have stored an int or a 0-d
    tensor), PyTorch's pairs (``betas``, ``etas``, ``step_sizes``) as their two numbers."""
    out = []
    for name in names.split():
        value = group[name]
        if isinstance(value, bool):
            out.append(value)
        elif isinstance(value, (tuple, list)):
            out += map(float, value)
        else:
            out.append(float(value))
    return out


def _scalars_as_1d(rule):
    """``rule`` also for 0-d parameters (PyTorch allows them). NumPy's ufuncs return scalars,
    not arrays, for 0-d operands, which the rules' in-place steps cannot write into, so a
    call with a 0-d parameter gets 1-element views (the same memory) of every 0-d array:
    parameters, gradients, state. The rules read 0-d state values with ``.item()``."""

    @functools.wraps(rule)
    def wrapped(params, grads, state, group, **options):
        for p in params:
            if not p.ndim:
                break
        else:
            return rule(params, grads, state, group, **options)

        def views(arrays):
            return [a.reshape(1) if a is not None and not a.ndim else a for a in arrays]

        state = tuple(map(views, state))
        return rule(views(params), views(grads), state, group, **options)

    return wrapped


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


def _counted(params: Arrays, grads: Arrays, steps: Arrays, weight_decay: float, maximize: bool):
    """For each parameter, ``(i, param, g, t)``: its step counter incremented first (t,
    the new count), then g = ±grad + weight_decay·param (``_decayed_grad``)."""
    for i, param in enumerate(params):
        step = steps[i]
        step += 1
        yield i, param, _decayed_grad(param, grads[i], weight_decay, maximize)[0], step.item()


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


def sgd(params: Arrays, grads: Arrays, state: tuple, group: Mapping) -> list[int]:
    """``momentum_buffers`` has one entry per parameter (ignored when ``momentum == 0``); an
    entry that is None gets a new buffer, a copy of the first (decayed) gradient, as in
    PyTorch. A buffer of zeros instead gives the lecture's momentum, which starts at 0.
    The hyperparameters enter the operations as 0-d arrays of the parameters' dtype
    (``_scalar``). Returns the positions of the new buffers (for the caller to keep).
    """
    (momentum_buffers,) = state
    # read without _read, as its generality costs the lecture's program (W1) ~1 % a step
    lr, momentum = float(group["lr"]), float(group["momentum"])
    dampening, weight_decay = float(group["dampening"]), float(group["weight_decay"])
    nesterov, maximize = group["nesterov"], group["maximize"]
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


def _adam_one(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, hyperparameters) -> None:
    """``adam`` on one parameter (``step`` already incremented)."""
    if param.size > _BLOCK:
        blocks = _flat_blocks(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq)
        if blocks is not None:
            for p, g, m, v, vmax in blocks:
                _adam_one(p, g, m, v, vmax, step, hyperparameters)
            return
    lr, beta1, beta2, eps, weight_decay, amsgrad, maximize, decoupled_weight_decay = hyperparameters
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


@_scalars_as_1d
def adam(params: Arrays, grads: Arrays, state: tuple, group: Mapping) -> None:
    """Also ``AdamW``'s; ``max_exp_avg_sqs`` is read only when ``amsgrad``."""
    steps, exp_avgs, exp_avg_sqs, max_exp_avg_sqs = state
    hyperparameters = _read(
        group, "lr betas eps weight_decay amsgrad maximize decoupled_weight_decay"
    )
    for i, param in enumerate(params):
        step = steps[i]
        step += 1
        _adam_one(
            param, grads[i], exp_avgs[i], exp_avg_sqs[i], max_exp_avg_sqs[i], step.item(),
            hyperparameters,
        )  # fmt: skip


@_scalars_as_1d
def rmsprop(params: Arrays, grads: Arrays, state: tuple, group: Mapping) -> None:
    """``grad_avgs`` is read only when ``centered``, ``momentum_buffers`` only when
    ``momentum > 0``."""
    steps, square_avgs, momentum_buffers, grad_avgs = state
    lr, alpha, eps, weight_decay, momentum, centered, maximize = _read(
        group, "lr alpha eps weight_decay momentum centered maximize"
    )
    for i, param, g, _ in _counted(params, grads, steps, weight_decay, maximize):
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


@_scalars_as_1d
def adagrad(params: Arrays, grads: Arrays, state: tuple, group: Mapping) -> None:
    """The step size decays with the step count: lr / (1 + (t − 1)·lr_decay)."""
    state_sums, steps = state
    lr, lr_decay, weight_decay, eps, maximize = _read(
        group, "lr lr_decay weight_decay eps maximize"
    )
    for i, param, g, step in _counted(params, grads, steps, weight_decay, maximize):
        square = np.multiply(g, g)
        state_sums[i] += square
        _normalized_update_(
            param,
            g,
            state_sums[i],
            square,
            step_size=lr / (1 + (step - 1) * lr_decay),
            eps=eps,
        )


def normalized_gd(params: Arrays, grads: Arrays, state: tuple, group: Mapping) -> None:
    """One step of the lecture's normalised gradients (``lecture.NormalizedGD``,
    eqs. 6.13–6.14): Adam's update with m = g and v = g² (no averaging, no bias
    correction)."""
    lr, eps = _read(group, "lr eps")
    for param, g in zip(params, grads):
        square = np.multiply(g, g)
        _normalized_update_(param, g, square, square, step_size=lr, eps=eps)


# ----------------------------------------------------------------------------- more rules
# Adadelta, Adamax, NAdam, RAdam, Rprop and ASGD, each the ``_single_tensor_<name>`` of
# ``torch/optim/<name>.py`` with its operations in PyTorch's order.


@_scalars_as_1d
def adadelta(params: Arrays, grads: Arrays, state: tuple, group: Mapping) -> None:
    """The step is the ratio of the two running RMS values (of the steps, of g) times g."""
    steps, square_avgs, acc_deltas = state
    lr, rho, eps, weight_decay, maximize = _read(group, "lr rho eps weight_decay maximize")
    for i, param, g, _ in _counted(params, grads, steps, weight_decay, maximize):
        _ema_square_(square_avgs[i], g, rho)
        std = np.add(square_avgs[i], eps)
        np.sqrt(std, out=std)
        delta = np.add(acc_deltas[i], eps)
        np.sqrt(delta, out=delta)
        delta /= std
        delta *= g
        _ema_square_(acc_deltas[i], delta, rho)
        delta *= -lr
        param += delta


@_scalars_as_1d
def adamax(params: Arrays, grads: Arrays, state: tuple, group: Mapping) -> None:
    """Adam with the infinity norm: ``exp_infs`` is a decayed maximum of |g|, not corrected."""
    steps, exp_avgs, exp_infs = state
    lr, beta1, beta2, eps, weight_decay, maximize = _read(
        group, "lr betas eps weight_decay maximize"
    )
    for i, param, g, step in _counted(params, grads, steps, weight_decay, maximize):
        exp_avg, exp_inf = exp_avgs[i], exp_infs[i]
        _lerp_(exp_avg, g, 1 - beta1)
        exp_inf *= beta2
        norm = np.abs(g)
        norm += eps
        np.maximum(exp_inf, norm, out=exp_inf)  # propagates NaN, as torch.maximum
        clr = lr / (1 - beta1**step)
        # addcdiv: (value·exp_avg)/exp_inf
        update = np.multiply(exp_avg, -clr, out=norm)
        update /= exp_inf
        param += update


def _decay_weights(param, grad, lr, weight_decay, decoupled: bool, owned: bool):
    """Adam-style weight decay: the decoupled ``p ← p·(1 − lr·λ)`` in place, or
    ``g ← g + λ·p``; returns g."""
    if weight_decay != 0:
        if decoupled:
            param *= 1 - lr * weight_decay
        elif owned:
            grad += weight_decay * param
        else:
            grad = grad + weight_decay * param
    return grad


@_scalars_as_1d
def nadam(params: Arrays, grads: Arrays, state: tuple, group: Mapping) -> None:
    """The 0-d ``mu_products`` (∏ μ_t, in the step counter's dtype) are updated in place."""
    steps, mu_products, exp_avgs, exp_avg_sqs = state
    lr, beta1, beta2, eps, weight_decay, momentum_decay, decoupled_weight_decay, maximize = _read(
        group, "lr betas eps weight_decay momentum_decay decoupled_weight_decay maximize"
    )
    for i, param in enumerate(params):
        g = np.negative(grads[i]) if maximize else grads[i]
        step_t = steps[i]
        step_t += 1
        step = step_t.item()
        bias_correction2 = 1 - beta2**step
        g = _decay_weights(param, g, lr, weight_decay, decoupled_weight_decay, maximize)
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
        mu_product = mu_products[i]
        mu_product *= mu
        exp_avg = exp_avgs[i]
        _lerp_(exp_avg, g, 1 - beta1)
        denom = _ema_square_(exp_avg_sqs[i], g, beta2)
        np.divide(exp_avg_sqs[i], bias_correction2, out=denom)
        np.sqrt(denom, out=denom)
        mu_product_now = mu_product.item()
        mu_product_next = mu_product_now * mu_next
        denom += eps
        # two addcdiv steps: (value·g)/denom, then (value·m)/denom
        update = np.multiply(g, -lr * (1.0 - mu) / (1.0 - mu_product_now))
        update /= denom
        param += update
        np.multiply(exp_avg, (-lr * mu_next) / (1.0 - mu_product_next), out=update)
        update /= denom
        param += update


@_scalars_as_1d
def radam(params: Arrays, grads: Arrays, state: tuple, group: Mapping) -> None:
    """Plain momentum while the variance of v is too large to trust, then Adam's step
    times the rectification r."""
    steps, exp_avgs, exp_avg_sqs = state
    lr, beta1, beta2, eps, weight_decay, decoupled_weight_decay, maximize = _read(
        group, "lr betas eps weight_decay decoupled_weight_decay maximize"
    )
    rho_inf = 2 / (1 - beta2) - 1
    for i, param in enumerate(params):
        g = np.negative(grads[i]) if maximize else grads[i]
        step_t = steps[i]
        step_t += 1
        step = step_t.item()
        g = _decay_weights(param, g, lr, weight_decay, decoupled_weight_decay, maximize)
        exp_avg, exp_avg_sq = exp_avgs[i], exp_avg_sqs[i]
        _lerp_(exp_avg, g, 1 - beta1)
        square = _ema_square_(exp_avg_sq, g, beta2)
        bias_correction1 = 1 - beta1**step
        bias_correction2 = 1 - beta2**step
        update = np.divide(exp_avg, bias_correction1)
        update *= lr
        rho_t = rho_inf - 2 * step * (beta2**step) / bias_correction2
        if rho_t > 5.0:
            rect = (
                (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
            ) ** 0.5
            # PyTorch's `c / tensor` is tensor.reciprocal() * c
            adaptive = np.sqrt(exp_avg_sq, out=square)
            adaptive += eps
            np.reciprocal(adaptive, out=adaptive)
            adaptive *= bias_correction2**0.5
            update *= adaptive
            update *= rect
        param -= update


@_scalars_as_1d
def rprop(params: Arrays, grads: Arrays, state: tuple, group: Mapping) -> None:
    """Only the sign of g is used; each weight has its own step size."""
    steps, prevs, step_sizes = state
    etaminus, etaplus, step_size_min, step_size_max, maximize = _read(
        group, "etas step_sizes maximize"
    )
    for i, param in enumerate(params):
        steps[i] += 1
        g = np.negative(grads[i]) if maximize else grads[i].copy()
        prev, step_size = prevs[i], step_sizes[i]
        sign = np.multiply(g, prev)
        np.sign(sign, out=sign)
        grew, flipped = sign > 0, sign < 0
        sign[grew] = etaplus
        sign[flipped] = etaminus
        sign[sign == 0] = 1
        step_size *= sign
        np.clip(step_size, step_size_min, step_size_max, out=step_size)
        g[flipped] = 0  # no move where the sign flipped, and no flip counted next time
        np.sign(g, out=sign)
        sign *= step_size
        param -= sign
        prev[...] = g


@_scalars_as_1d
def asgd(
    params: Arrays, grads: Arrays, state: tuple, group: Mapping, scalar_dtype=np.float32
) -> None:
    """The 0-d ``etas`` (the step size η) and ``mus``
    (the averaging weight μ) are the values for this step and receive the next step's,
    rounded to ``scalar_dtype`` first (PyTorch makes them tensors of the default dtype
    before copying them into the state, which a loaded state dict may hold in the
    parameters' dtype)."""
    steps, etas, mus, axs = state
    lr, lambd, alpha, t0, weight_decay, maximize = _read(
        group, "lr lambd alpha t0 weight_decay maximize"
    )
    for i, param, g, step in _counted(params, grads, steps, weight_decay, maximize):
        eta = etas[i].item()
        param *= 1 - lambd * eta
        param -= eta * g
        ax, mu = axs[i], mus[i]
        if mu.item() != 1:
            diff = np.subtract(param, ax)
            diff *= mu.astype(diff.dtype)  # torch casts the 0-d μ to the parameter's dtype
            ax += diff
        else:
            ax[...] = param
        etas[i][...] = np.asarray(lr / ((1 + lambd * lr * step) ** alpha), scalar_dtype)
        mus[i][...] = np.asarray(1 / max(1, step - t0), scalar_dtype)
