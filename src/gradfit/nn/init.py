"""``gradfit.nn.init``: in-place weight initialisation, as ``torch.nn.init``.

Every function fills its tensor in place under ``no_grad`` and returns it, drawing from
gradfit's default generator (or ``generator=``) in the same order and with the same
formulas as PyTorch, so ``manual_seed(s)`` followed by the same calls gives PyTorch's
numbers. Fans follow PyTorch: for a weight of shape (out, in, *kernel),
fan_in = in * prod(kernel) and fan_out = out * prod(kernel); for a Linear weight
Omega (D_h' x D_h) that is fan_in = D_h and fan_out = D_h' in the lecture's notation.

``he_normal_`` is the lecture's own He initialisation with its three variants: the
forward pass (variance 2 / D_h), the backward pass (2 / D_h') and the compromise
(4 / (D_h + D_h')).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from gradfit import _rng
from gradfit._arrays import unwrap
from gradfit._grad_mode import no_grad
from gradfit.tensor import Tensor

__all__ = [
    "calculate_gain",
    "uniform_",
    "normal_",
    "trunc_normal_",
    "constant_",
    "ones_",
    "zeros_",
    "eye_",
    "xavier_uniform_",
    "xavier_normal_",
    "kaiming_uniform_",
    "kaiming_normal_",
    "he_normal_",
    "orthogonal_",
    "dirac_",
    "sparse_",
]

_LINEAR_FNS = (
    "linear",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
)


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity (PyTorch's table).

    linear, conv*, conv_transpose*, sigmoid: 1; tanh: 5/3; relu: sqrt(2);
    leaky_relu: sqrt(2 / (1 + s^2)) with s = ``param`` (0.01 if None); selu: 3/4.

    Raises:
        ValueError: an unknown nonlinearity, or a leaky_relu slope that is not a number.
    """
    if nonlinearity in _LINEAR_FNS or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope = 0.01
        elif (not isinstance(param, bool) and isinstance(param, int)) or isinstance(param, float):
            negative_slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + negative_slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(
        f"Unsupported nonlinearity {nonlinearity}; expected one of linear, conv1d, conv2d, "
        "conv3d, conv_transpose1d, conv_transpose2d, conv_transpose3d, sigmoid, tanh, relu, "
        "leaky_relu, selu"
    )


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """(fan_in, fan_out) = (size(1), size(0)) times the receptive field size prod(size[2:])."""
    if tensor.ndim < 2:
        raise ValueError(
            "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions "
            f"(got shape {tuple(tensor.shape)})"
        )
    receptive = 1
    for s in tensor.shape[2:]:
        receptive *= s
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _calculate_correct_fan(tensor: Tensor, mode: str) -> int:
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of ['fan_in', 'fan_out']")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _no_op_if_empty(tensor: Tensor) -> bool:
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return True
    return False


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
    """Fill with samples of U(a, b)."""
    with no_grad():
        return tensor.uniform_(a, b, generator=generator)


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
    """Fill with samples of N(mean, std^2)."""
    with no_grad():
        return tensor.normal_(mean, std, generator=generator)


def trunc_normal_(
    tensor: Tensor,
    mean: float = 0.0,
    std: float = 1.0,
    a: float = -2.0,
    b: float = 2.0,
    generator=None,
) -> Tensor:
    """Fill with N(mean, std^2) truncated to [a, b], by PyTorch's (2.13) rejection sampling,
    draw for draw.

    When the interval holds more than 30% of the mass, draw normals and redraw (a whole
    tensor of normals, used where needed) every value outside [a, b]; otherwise draw
    uniform candidates on [a, b] and accept each with probability
    exp(-((x - mean) / std)^2 / 2) / peak, redrawing the rejected ones.
    """

    def norm_cdf(x: float) -> float:
        return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0

    if (mean < a - 2 * std) or (mean > b + 2 * std):
        warnings.warn(
            "mean is more than 2 std from [a, b] in nn.init.trunc_normal_. "
            "The distribution of values may be incorrect.",
            stacklevel=2,
        )
    n, dtype = tensor.numel(), unwrap(tensor).dtype
    with no_grad():
        p = norm_cdf((b - mean) / std) - norm_cdf((a - mean) / std)
        if p > 0.3:
            lo, hi = dtype.type(a), dtype.type(b)
            result = _rng.normal(n, mean, std, dtype, generator)
            while True:
                mask = (result < lo) | (result > hi)
                if not mask.any():
                    break
                fresh = _rng.normal(n, mean, std, dtype, generator)
                result = np.where(mask, fresh, result)
        else:
            mode = max(a, min(mean, b))
            log_peak = -0.5 * ((mode - mean) / std) ** 2

            def log_pdf(x):
                return ((x - mean) / std) ** 2 * -0.5 - log_peak

            def accept_draw():
                with np.errstate(divide="ignore"):
                    return np.log(_rng.uniform(n, 0.0, 1.0, dtype, generator))

            result = _rng.uniform(n, a, b, dtype, generator)
            pending = accept_draw() > log_pdf(result)
            while pending.any():
                candidates = _rng.uniform(n, a, b, dtype, generator)
                result = np.where(pending, candidates, result)
                pending = np.where(pending, accept_draw() > log_pdf(candidates), pending)
        tensor.copy_(result.reshape(tensor.shape))
    return tensor


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with the constant ``val``."""
    with no_grad():
        return tensor.fill_(val)


def ones_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 1.0)


def zeros_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 0.0)


def eye_(tensor: Tensor) -> Tensor:
    """Fill a 2-D tensor with the identity (ones on the diagonal)."""
    if tensor.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    with no_grad():
        return tensor.copy_(np.eye(*tensor.shape, dtype=tensor.dtype))


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Glorot: U(-b, b) with b = sqrt(3) * gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Glorot: N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def kaiming_uniform_(
    tensor: Tensor,
    a: float = 0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator=None,
) -> Tensor:
    """He (uniform): U(-b, b) with b = sqrt(3) * gain / sqrt(fan), gain from
    ``calculate_gain(nonlinearity, a)`` (sqrt(2) by default: leaky_relu with a = 0).
    The variance is gain^2 / fan: 2 / D_h for ReLU with mode="fan_in", the lecture's
    He initialisation."""
    if _no_op_if_empty(tensor):
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    gain = calculate_gain(nonlinearity, a)
    std = gain / math.sqrt(fan)
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(
    tensor: Tensor,
    a: float = 0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator=None,
) -> Tensor:
    """He (normal): N(0, std^2) with std = gain / sqrt(fan)."""
    if _no_op_if_empty(tensor):
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    gain = calculate_gain(nonlinearity, a)
    std = gain / math.sqrt(fan)
    return normal_(tensor, 0.0, std, generator)


def he_normal_(tensor: Tensor, mode: str = "fan_in", generator=None) -> Tensor:
    """The lecture's He initialisation for a ReLU layer f' = beta + Omega h:
    Omega ~ N(0, sigma^2) with

    - ``mode="fan_in"``: sigma^2 = 2 / D_h, keeps the forward variance of the
      pre-activations constant (D_h = fan_in = tensor.shape[1]);
    - ``mode="fan_out"``: sigma^2 = 2 / D_h', keeps the backward variance of the
      gradients constant (D_h' = fan_out = tensor.shape[0]);
    - ``mode="fan_avg"``: sigma^2 = 4 / (D_h + D_h'), the compromise for a non-square
      Omega.

    ``fan_in`` and ``fan_out`` equal ``kaiming_normal_(nonlinearity="relu")``.
    """
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    if mode == "fan_in":
        var = 2.0 / fan_in
    elif mode == "fan_out":
        var = 2.0 / fan_out
    elif mode == "fan_avg":
        var = 4.0 / (fan_in + fan_out)
    else:
        raise ValueError(
            f"he_normal_: mode {mode!r} not supported; use 'fan_in', 'fan_out' or 'fan_avg'"
        )
    return normal_(tensor, 0.0, math.sqrt(var), generator)


# ---------------------------------------------------------------------------- more layers
def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """Fill a (out, in, *kernel) convolution weight so that the convolution is the identity
    on the first min(out/groups, in) channels of each group: a 1 at the kernel centre of
    (g * out/groups + d, d), zeros elsewhere."""
    dims = tensor.ndim
    if dims not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    sizes = tensor.shape
    if sizes[0] % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    per_group = sizes[0] // groups
    d = np.arange(min(per_group, sizes[1]))
    out = np.zeros(sizes, dtype=unwrap(tensor).dtype)
    centre = tuple(s // 2 for s in sizes[2:])
    for g in range(groups):
        out[(g * per_group + d, d, *centre)] = 1
    with no_grad():
        return tensor.copy_(out)


def orthogonal_(tensor: Tensor, gain: float = 1, generator=None) -> Tensor:
    """Fill with a (semi-)orthogonal matrix times ``gain`` (Saxe et al. 2013), PyTorch's
    algorithm: draw A ~ N(0, 1) of shape (rows, numel / rows) (transposed if wide), take
    its QR factorisation A = QR, and use Q with each column's sign set by diag(R) (so that
    Q is uniform on the orthogonal group). Same draws as PyTorch; Q equals PyTorch's up to
    the rounding of the LAPACK call."""
    if tensor.ndim < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    dtype = unwrap(tensor).dtype
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flat = _rng.normal(rows * cols, 0.0, 1.0, dtype, generator).reshape(rows, cols)
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q = (q * np.sign(np.diagonal(r))).astype(dtype, copy=False)
    if rows < cols:
        q = q.T
    with no_grad():
        tensor.copy_(np.ascontiguousarray(q).reshape(tensor.shape))
        tensor.mul_(gain)
    return tensor


def sparse_(tensor: Tensor, sparsity: float, std: float = 0.01, generator=None) -> Tensor:
    """Fill a 2-D tensor with N(0, std^2) values, then zero ceil(sparsity * rows) of each
    column, the rows picked by a ``randperm`` per column. As PyTorch, the permutations come
    from the default generator even when ``generator`` is given (it serves the normals)."""
    if tensor.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    rows, cols = tensor.shape
    num_zeros = math.ceil(sparsity * rows)
    with no_grad():
        tensor.normal_(0, std, generator=generator)
        values = unwrap(tensor).copy()
        for col in range(cols):
            perm = _rng.default_stream().randperm(rows)
            values[perm[:num_zeros], col] = 0
        tensor.copy_(values)
    return tensor


# PyTorch's deprecated non-underscore aliases.
uniform, normal, constant = uniform_, normal_, constant_
xavier_uniform, xavier_normal = xavier_uniform_, xavier_normal_
kaiming_uniform, kaiming_normal = kaiming_uniform_, kaiming_normal_
orthogonal, sparse = orthogonal_, sparse_
