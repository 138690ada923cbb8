"""``gradfit.<op>`` functions: the same ops as the Tensor methods, called as functions."""

from __future__ import annotations

from gradfit import _dtypes
from gradfit._out import with_out
from gradfit.ops import elementwise, movement
from gradfit.tensor import Tensor


def _t(x) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


@with_out
def add(input, other, *, alpha=1):  # noqa: A002
    return _t(input).add(other, alpha=alpha)


@with_out
def sub(input, other, *, alpha=1):  # noqa: A002
    return _t(input).sub(other, alpha=alpha)


@with_out
def mul(input, other):  # noqa: A002
    return _t(input) * other


@with_out
def div(input, other, *, rounding_mode=None):  # noqa: A002
    if rounding_mode is not None:
        return _t(input).div(other, rounding_mode=rounding_mode)
    return _t(input) / other


@with_out
def neg(input):  # noqa: A002
    return -input


@with_out
def pow(input, exponent):  # noqa: A001, A002
    if not isinstance(input, Tensor):
        return _t(exponent).__rpow__(input)
    return input**exponent


@with_out
def matmul(input, other):  # noqa: A002
    return input.matmul(other)


@with_out
def mm(input, mat2):  # noqa: A002
    return input.mm(mat2)


@with_out
def bmm(input, mat2):  # noqa: A002
    return input.bmm(mat2)


@with_out
def dot(input, other):  # noqa: A002
    return input.dot(other)


def _method(name: str):
    def fn(input, *args, **kwargs):  # noqa: A002
        return getattr(input, name)(*args, **kwargs)

    fn.__name__ = name
    fn.__doc__ = f"``gradfit.{name}(t, ...)`` is ``t.{name}(...)``."
    return with_out(fn)


exp, log, log1p, sqrt, rsqrt, abs, sin, cos, tanh, sigmoid, relu = (  # noqa: A001
    _method(n)
    for n in (
        "exp",
        "log",
        "log1p",
        "sqrt",
        "rsqrt",
        "abs",
        "sin",
        "cos",
        "tanh",
        "sigmoid",
        "relu",
    )
)
square, sign, floor, ceil, round, isnan, isinf, isfinite = (  # noqa: A001
    _method(n) for n in ("square", "sign", "floor", "ceil", "round", "isnan", "isinf", "isfinite")
)
clamp, clip, sum, mean, var, std, amax, amin, argmax, argmin = (  # noqa: A001
    _method(n)
    for n in ("clamp", "clip", "sum", "mean", "var", "std", "amax", "amin", "argmax", "argmin")
)
logsumexp, softmax, log_softmax, norm, all, any = (  # noqa: A001
    _method(n) for n in ("logsumexp", "softmax", "log_softmax", "norm", "all", "any")
)
reshape, flatten, squeeze, unsqueeze, transpose, permute, t, split, chunk, unbind = (
    _method(n)
    for n in (
        "reshape",
        "flatten",
        "squeeze",
        "unsqueeze",
        "transpose",
        "permute",
        "t",
        "split",
        "chunk",
        "unbind",
    )
)
eq, ne, lt, le, gt, ge, equal, allclose, clone = (
    _method(n) for n in ("eq", "ne", "lt", "le", "gt", "ge", "equal", "allclose", "clone")
)
swapaxes, broadcast_to, detach, numel = (
    _method(n) for n in ("swapaxes", "broadcast_to", "detach", "numel")
)

# unary math (ops-unary)
(
    tan,
    sinh,
    cosh,
    asin,
    acos,
    atan,
    asinh,
    acosh,
    atanh,
    arcsin,
    arccos,
    arctan,
    arcsinh,
    arccosh,
    arctanh,
    log2,
    log10,
    exp2,
    erf,
    erfc,
    erfinv,
    lgamma,
    digamma,
    logit,
    sinc,
    deg2rad,
    rad2deg,
    nan_to_num,
    signbit,
    isposinf,
    isneginf,
) = (
    _method(n)
    for n in (
        "tan",
        "sinh",
        "cosh",
        "asin",
        "acos",
        "atan",
        "asinh",
        "acosh",
        "atanh",
        "arcsin",
        "arccos",
        "arctan",
        "arcsinh",
        "arccosh",
        "arctanh",
        "log2",
        "log10",
        "exp2",
        "erf",
        "erfc",
        "erfinv",
        "lgamma",
        "digamma",
        "logit",
        "sinc",
        "deg2rad",
        "rad2deg",
        "nan_to_num",
        "signbit",
        "isposinf",
        "isneginf",
    )
)


@with_out
def max(input, dim=None, keepdim=False):  # noqa: A001, A002
    return input.max(dim, keepdim)


@with_out
def min(input, dim=None, keepdim=False):  # noqa: A001, A002
    return input.min(dim, keepdim)


@with_out
def maximum(input, other):  # noqa: A002
    return input.maximum(other)


@with_out
def minimum(input, other):  # noqa: A002
    return input.minimum(other)


def leaky_relu(input, negative_slope: float = 0.01):  # noqa: A002
    return elementwise.LeakyRelu.apply(input, negative_slope=negative_slope)


def softplus(input, beta: float = 1.0, threshold: float = 20.0):  # noqa: A002
    return elementwise.Softplus.apply(input, beta=beta, threshold=threshold)


@with_out
def cat(tensors, dim: int = 0):
    """Concatenate along an existing dimension, in the dtype PyTorch promotes the inputs to
    (``cat([int64, float32])`` is float32), with PyTorch's errors. A 1-d empty tensor (the
    legacy placeholder) is skipped in the shape checks, as in PyTorch."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    for i, x in enumerate(tensors):
        if x.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be concatenated")
    shaped = [(i, x) for i, x in enumerate(tensors) if tuple(x.shape) != (0,)] or [(0, tensors[0])]
    i0, first = shaped[0]
    nd = first.ndim
    if not -nd <= dim < nd:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-nd}, {nd - 1}], but got {dim})"
        )
    d = dim % nd
    for i, x in shaped[1:]:
        if x.ndim != nd:
            raise RuntimeError(
                f"Tensors must have same number of dimensions: got {nd} and {x.ndim}"
            )
        for k in range(nd):
            if k != d and x.shape[k] != first.shape[k]:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {d}. Expected size "
                    f"{first.shape[k]} but got size {x.shape[k]} for tensor number {i} in the "
                    "list."
                )
    tensors = _promoted(tensors)
    if len(shaped) < len(tensors):
        tensors = [x for x in tensors if tuple(x.shape) != (0,)] or tensors[:1]
    return movement.Cat.apply(*tensors, dim=d)


def _promoted(tensors: list) -> list:
    """The tensors cast to PyTorch's common dtype of them all (``promote_types``)."""
    arrays = [_dtypes.to_dtype(x.dtype) for x in tensors]
    common = None
    for a in arrays:
        common = _dtypes.promote(common, a)
    return [x if a == common else x.to(_dtypes.from_np(common)) for x, a in zip(tensors, arrays)]


concat = concatenate = cat


def _check_stackable(tensors) -> None:
    """PyTorch's error for tensors of different shapes given to ``stack`` (also raised by
    ``default_collate``, which stacks arrays directly)."""
    shape = tensors[0].shape
    for i, x in enumerate(tensors):
        if x.shape != shape:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(shape)} at entry 0 "
                f"and {list(x.shape)} at entry {i}"
            )


@with_out
def stack(tensors, dim: int = 0):
    """Stack equal-shaped tensors along a new dimension."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack: expected a non-empty list of Tensors")
    _check_stackable(tensors)
    tensors = _promoted(tensors)
    shape = tensors[0].shape
    d = dim % (len(shape) + 1)
    out = movement.Cat.apply(*[x.unsqueeze(d) for x in tensors], dim=d)
    if out.grad_fn is not None:
        out.grad_fn.torch_name = "StackBackward0"  # PyTorch's grad_fn name (issue 16)
    return out


@with_out
def outer(input, vec2):  # noqa: A002
    return input.reshape(-1, 1) * vec2.reshape(1, -1)


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def is_floating_point(input) -> bool:  # noqa: A002
    return input.is_floating_point()


# binary ops and reductions (ops-binary): remainder, fmod, atan2, ..., prod, nansum, cummax
(
    remainder,
    fmod,
    floor_divide,
    atan2,
    arctan2,
    hypot,
    xlogy,
    logaddexp,
    logaddexp2,
    fmax,
    fmin,
    copysign,
    float_power,
) = (
    _method(n)
    for n in (
        "remainder",
        "fmod",
        "floor_divide",
        "atan2",
        "arctan2",
        "hypot",
        "xlogy",
        "logaddexp",
        "logaddexp2",
        "fmax",
        "fmin",
        "copysign",
        "float_power",
    )
)
logical_and, logical_or, logical_xor, logical_not, isclose = (
    _method(n) for n in ("logical_and", "logical_or", "logical_xor", "logical_not", "isclose")
)
bitwise_and, bitwise_or, bitwise_xor, bitwise_not = (
    _method(n) for n in ("bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not")
)
prod, nansum, nanmean, count_nonzero, logcumsumexp = (
    _method(n) for n in ("prod", "nansum", "nanmean", "count_nonzero", "logcumsumexp")
)


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):  # noqa: A002
    return input.var_mean(dim, unbiased, keepdim, correction=correction)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):  # noqa: A002
    return input.std_mean(dim, unbiased, keepdim, correction=correction)


def cummax(input, dim):  # noqa: A002
    return input.cummax(dim)


def cummin(input, dim):  # noqa: A002
    return input.cummin(dim)


# ---------------------------------------------------------------------------- distances
# (lossdist) torch.cosine_similarity, torch.pairwise_distance, torch.pdist; the same
# functions are gradfit.nn.functional's. Built from differentiable ops, so their second
# derivatives come from the engine.
import builtins as _builtins  # noqa: E402

import numpy as _np  # noqa: E402

from gradfit import _typenames  # noqa: E402
from gradfit import linalg as _linalg  # noqa: E402
from gradfit._arrays import wrap as _wrap  # noqa: E402
from gradfit._grad_mode import no_grad as _no_grad  # noqa: E402
from gradfit.autograd._torch_names import named  # noqa: E402
from gradfit.autograd.function import broadcast_error as _graph_broadcast_error  # noqa: E402


def _scalar_type(t: Tensor) -> str:
    """PyTorch's scalar type name of a tensor's dtype ("Float", "Long", ...)."""
    return _typenames.NAMES.get(_np.dtype(t.numpy().dtype), "Tensor").removesuffix("Tensor")


def _broadcast_error(shape_a, shape_b) -> RuntimeError | None:
    """PyTorch's error for two shapes that do not broadcast (None when they do)."""
    message = _graph_broadcast_error([shape_a, shape_b])
    return None if message is None else RuntimeError(message)


def _broadcast(x1: Tensor, x2: Tensor) -> tuple[Tensor, Tensor]:
    err = _broadcast_error(tuple(x1.shape), tuple(x2.shape))
    if err is not None:
        raise err
    shape = _np.broadcast_shapes(tuple(x1.shape), tuple(x2.shape))
    return (
        x1 if tuple(x1.shape) == shape else x1.expand(shape),
        x2 if tuple(x2.shape) == shape else x2.expand(shape),
    )


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """<x1, x2> / (max(||x1||, eps) max(||x2||, eps)) along ``dim`` of the broadcast shape.

    As PyTorch (aten Distance.cpp): each input is divided by its own clamped norm before
    the product (no overflow of <x1, x2>, |result| <= 1), and the clamp is applied under
    no_grad to a copy of the norm, so the gradient flows through the unclamped norm.
    """
    x1, x2 = _t(x1), _t(x2)
    f1, f2 = x1.is_floating_point(), x2.is_floating_point()
    if not (f1 or f2):
        common = _scalar_type(x1) if x1.dtype == x2.dtype else "Long"
        raise RuntimeError(
            f"expected common dtype to be floating point, yet common dtype is {common}"
        )
    if not f1:
        x1 = x1.to(x2.dtype)
    if not f2:
        x2 = x2.to(x1.dtype)
    x1, x2 = _broadcast(x1, x2)
    n1 = _linalg.vector_norm(x1, 2, dim, True).clone()
    n2 = _linalg.vector_norm(x2, 2, dim, True).clone()
    with _no_grad():
        n1.clamp_min_(eps)
        n2.clamp_min_(eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pairwise_distance(
    x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False
) -> Tensor:
    """||x1 - x2 + eps||_p over the last dimension of the broadcast shape (PyTorch adds
    ``eps`` to the difference, not to the norm)."""
    x1, x2 = _t(x1), _t(x2)
    err = _broadcast_error(tuple(x1.shape), tuple(x2.shape))
    if err is not None:
        raise err
    dim = _builtins.max(x1.ndim, x2.ndim) - 1
    diff = x1 - x2 + eps
    out = _linalg.vector_norm(diff, p, dim if diff.ndim else -1, keepdim)
    return named(out, "NormBackward1")


def pdist(input: Tensor, p: float = 2) -> Tensor:  # noqa: A002
    """The p-norm distances between the rows of an (N, M) input, for the pairs i < j in
    row-major order: N (N - 1) / 2 values (the upper triangle of ``cdist(x, x)``)."""
    if input.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.ndim}D")
    if not input.is_floating_point():
        raise RuntimeError("pdist only supports floating-point dtypes")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    i, j = _np.triu_indices(input.shape[0], 1)
    diff = input[_wrap(i.astype(_np.int64))] - input[_wrap(j.astype(_np.int64))]
    return _linalg.vector_norm(diff, p, 1)
