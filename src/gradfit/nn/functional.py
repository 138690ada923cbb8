"""``gradfit.nn.functional``: stateless layers, activations and losses, as
``torch.nn.functional``.

The losses check their arguments with cheap shape and dtype comparisons and then call one
fused op from ``gradfit.ops.loss`` (a single graph node whose backward is the closed-form
gradient). Reductions are "none", "mean" (the default) and "sum"; PyTorch's legacy
``size_average``/``reduce`` arguments are accepted and mapped the way PyTorch maps them.

One deliberate difference from PyTorch: the regression losses (``mse_loss``,
``l1_loss``, ``huber_loss``, ``smooth_l1_loss``) raise ``ValueError`` when input and
target shapes differ. PyTorch only warns and broadcasts, which turns a prediction of
shape (N, 1) against targets of shape (N,) into an (N, N) loss that still trains, wrongly.
"""

from __future__ import annotations

import warnings

import numpy as np

from gradfit import _rng
from gradfit._arrays import unwrap, wrap
from gradfit._tensorops_gaps import prelu  # noqa: F401 - nn.functional.prelu is Tensor.prelu
from gradfit._tensorops_more import broadcast_tensors as _broadcast_tensors
from gradfit._typenames import scalar_type
from gradfit.autograd._torch_names import named
from gradfit.ops import activation as _act
from gradfit.ops import elementwise
from gradfit.ops import loss as _loss
from gradfit.ops.matmul import Linear as _Linear
from gradfit.tensor import Tensor

_REDUCTIONS = ("none", "mean", "sum")


# ---------------------------------------------------------------------------- helpers
def _legacy_reduction(size_average, reduce) -> str:
    """PyTorch's mapping of the deprecated ``size_average``/``reduce`` flags."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    reduction = "none" if not reduce else ("mean" if size_average else "sum")
    warnings.warn(
        "size_average and reduce args will be deprecated, please use "
        f"reduction='{reduction}' instead.",
        stacklevel=3,
    )
    return reduction


def _bad_reduction(reduction) -> ValueError:
    return ValueError(
        f"{reduction} is not a valid value for reduction; expected one of {list(_REDUCTIONS)}"
    )


def _as_tensor(x, like: Tensor) -> Tensor:
    if isinstance(x, Tensor):
        return x
    return wrap(np.asarray(x, dtype=like.dtype))


def _const(w, dtype, name: str):
    """A weight argument as a constant array of ``dtype`` (no gradient flows to it)."""
    if w is None:
        return None
    arr = unwrap(w)
    if isinstance(w, Tensor) and w.requires_grad:
        warnings.warn(
            f"{name} requires grad, but gradfit's fused losses treat it as a constant",
            stacklevel=3,
        )
    return arr.astype(dtype, copy=False)


# ---------------------------------------------------------------------------- layers
def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:  # noqa: A002
    """y = x W^T + b (the lecture's f = beta + Omega h), one fused op.

    Raises:
        RuntimeError: the last axis of ``input`` is not ``weight.shape[1]``, or the dtypes
            differ, in PyTorch's words (``mat1 and mat2 shapes cannot be multiplied (4x7
            and 10x3)``).
    """
    return _Linear.apply(input, weight, bias)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False):  # noqa: A002
    """Zero each element with probability p and scale the rest by 1 / (1 - p) (training
    only). The mask is drawn from gradfit's generator as PyTorch draws it
    (``bernoulli_(1 - p)``); p = 0, p = 1 and eval mode draw nothing. ``inplace`` is
    accepted and ignored (the result is a new tensor)."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0 or unwrap(input).size == 0:
        return input
    a = unwrap(input)
    if p == 1.0:
        return input * wrap(np.zeros((), dtype=a.dtype))
    if input.is_meta:  # no mask to draw (PyTorch draws none for a meta tensor)
        return input * 1.0
    order = _memory_order(a)
    if order is None:
        mask = _rng.bernoulli_mask(a.shape, 1.0 - p, a.dtype)
    else:  # PyTorch fills the mask in the input's memory order (a transposed view, say)
        mask = _rng.bernoulli_mask(tuple(a.shape[i] for i in order), 1.0 - p, a.dtype)
        mask = mask.transpose(np.argsort(order))
    mask = mask / np.asarray(1.0 - p, dtype=a.dtype)
    return input * wrap(mask.astype(a.dtype, copy=False))


def _memory_order(a: np.ndarray):
    """The axes of a dense but not C-ordered array from the largest stride to the smallest
    (the order its elements lie in memory), or None when logical order is memory order or
    the array is not dense (PyTorch's ``empty_like`` keeps only dense layouts)."""
    if a.flags.c_contiguous or a.ndim < 2:
        return None
    order = sorted(range(a.ndim), key=lambda i: -a.strides[i])
    expected = a.itemsize
    for i in reversed(order):
        if a.shape[i] != 1 and a.strides[i] != expected:
            return None
        expected *= a.shape[i]
    return order


def layer_norm(input, normalized_shape, weight=None, bias=None, eps: float = 1e-5):  # noqa: A002
    """Normalise over the trailing ``normalized_shape`` axes, then scale and shift:
    y = (x - mean) / sqrt(var + eps) * weight + bias (biased variance), one fused op."""
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    normalized_shape = tuple(normalized_shape)
    k = len(normalized_shape)
    if input.shape[input.ndim - k :] != normalized_shape or input.ndim < k:
        raise RuntimeError(
            f"Given normalized_shape={list(normalized_shape)}, expected input with shape "
            f"[*, {', '.join(map(str, normalized_shape))}], but got input of size"
            f"{list(input.shape)}"
        )
    return _act.LayerNorm.apply(input, weight, bias, k=k, eps=eps)


# ---------------------------------------------------------------------------- activations
def relu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """ReLU a[z] = max(0, z) (the lecture's activation); ``inplace=True`` overwrites and
    returns ``input``, as PyTorch's."""
    if inplace:
        return _act.apply_inplace(input, elementwise.Relu.apply)
    return elementwise.Relu.apply(input)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False):  # noqa: A002
    """z for z > 0, negative_slope * z otherwise."""
    if inplace:
        return _act.apply_inplace(
            input, lambda t: elementwise.LeakyRelu.apply(t, negative_slope=negative_slope)
        )
    return elementwise.LeakyRelu.apply(input, negative_slope=negative_slope)


def sigmoid(input: Tensor) -> Tensor:  # noqa: A002
    """1 / (1 + exp(-z)), computed without overflow."""
    return elementwise.Sigmoid.apply(input)


def tanh(input: Tensor) -> Tensor:  # noqa: A002
    return elementwise.Tanh.apply(input)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:  # noqa: A002
    """GELU: z Phi(z) with Phi the normal CDF (``approximate='none'``), or its tanh
    approximation (``approximate='tanh'``)."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"approximate argument must be either none or tanh, got {approximate!r}")
    return _act.Gelu.apply(input, approximate=approximate)


def silu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """SiLU (swish): z sigma(z)."""
    if inplace:
        return _act.apply_inplace(input, _act.Silu.apply)
    return _act.Silu.apply(input)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:  # noqa: A002
    """log(1 + exp(beta z)) / beta, and z itself where beta z > threshold (PyTorch)."""
    return elementwise.Softplus.apply(input, beta=beta, threshold=threshold)


def logsigmoid(input: Tensor) -> Tensor:  # noqa: A002
    """log sigma(z) = min(z, 0) - log1p(exp(-|z|)), stable for large |z|."""
    return _act.LogSigmoid.apply(input)


# ---------------------------------------------------------------------------- more activations
# (issue 12 section 8) Each is one fused op of gradfit.ops.activation; ``inplace=True``
# overwrites and returns ``input`` as PyTorch's does.
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _maybe_inplace(input, fn, inplace: bool):  # noqa: A002
    return _act.apply_inplace(input, fn) if inplace else fn(input)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    """z for z > 0, alpha (exp(z) - 1) otherwise."""
    return _maybe_inplace(input, lambda t: _act.Elu.apply(t, alpha=alpha), inplace)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:  # noqa: A002
    return elu(input, alpha, inplace=True)


def selu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """scale * elu(z, alpha) with the self-normalising constants (Klambauer et al. 2017)."""
    return _maybe_inplace(
        input, lambda t: _act.Elu.apply(t, alpha=_SELU_ALPHA, scale=_SELU_SCALE), inplace
    )


def selu_(input: Tensor) -> Tensor:  # noqa: A002
    return selu(input, inplace=True)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    """max(0, z) + min(0, alpha (exp(z / alpha) - 1))."""
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: celu with alpha = 0")
    grad_scale = 1.0 / float(np.float32(alpha))  # PyTorch's derivative rounds alpha to float
    out = _maybe_inplace(
        input,
        lambda t: _act.Elu.apply(
            t, alpha=alpha, input_scale=1.0 / alpha, grad_input_scale=grad_scale
        ),
        inplace,
    )
    return out if inplace else named(out, "CeluBackward0")


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:  # noqa: A002
    return celu(input, alpha, inplace=True)


def mish(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """z tanh(softplus(z))."""
    return _maybe_inplace(input, _act.Mish.apply, inplace)


def hardtanh(
    input: Tensor,  # noqa: A002
    min_val: float = -1.0,
    max_val: float = 1.0,
    inplace: bool = False,
) -> Tensor:
    """z clamped to [min_val, max_val]; the gradient passes strictly inside."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return _maybe_inplace(
        input, lambda t: _act.Hardtanh.apply(t, min_val=min_val, max_val=max_val), inplace
    )


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:  # noqa: A002
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """min(max(0, z), 6)."""
    return hardtanh(input, 0.0, 6.0, inplace)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """z relu6(z + 3) / 6."""
    return _maybe_inplace(input, _act.Hardswish.apply, inplace)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """relu6(z + 3) / 6."""
    return _maybe_inplace(input, _act.Hardsigmoid.apply, inplace)


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:  # noqa: A002
    """z where z > threshold, else value."""
    return _maybe_inplace(
        input, lambda t: _act.Threshold.apply(t, threshold=threshold, value=value), inplace
    )


_threshold = threshold  # the name the argument shadows below


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:  # noqa: A002
    return _threshold(input, threshold, value, inplace=True)


def relu_(input: Tensor) -> Tensor:  # noqa: A002
    return relu(input, inplace=True)


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:  # noqa: A002
    return leaky_relu(input, negative_slope, inplace=True)


def softsign(input: Tensor) -> Tensor:  # noqa: A002
    """z / (1 + |z|)."""
    return _act.Softsign.apply(input)


def tanhshrink(input: Tensor) -> Tensor:  # noqa: A002
    """z - tanh(z)."""
    return _act.Tanhshrink.apply(input)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:  # noqa: A002
    """z where |z| > lambd, else 0."""
    return _act.Shrink.apply(input, lambd=lambd, soft=False)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:  # noqa: A002
    """z - lambd above lambd, z + lambd below -lambd, else 0."""
    if lambd < 0:
        raise RuntimeError(f"lambda must be greater or equal to 0, but found to be {lambd}.")
    return _act.Shrink.apply(input, lambd=lambd, soft=True)


def glu(input: Tensor, dim: int = -1) -> Tensor:  # noqa: A002
    """a * sigmoid(b), with a and b the halves of ``input`` along ``dim``."""
    n = input.shape[dim]
    if n % 2:
        raise RuntimeError(
            f"Halving dimension must be even, but dimension {dim % input.ndim} is size {n}"
        )
    a, b = input.split(n // 2, dim)
    return named(a * elementwise.Sigmoid.apply(b), "GluBackward0")


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None):  # noqa: A002
    """softmax(-z) along ``dim`` (the default ``dim`` as ``softmax``)."""
    if dim is None:
        dim = _softmax_dim("softmin", input.ndim, _stacklevel)
    x = input if dtype is None else input.to(dtype)
    return (-x).softmax(dim)


def _softmax_dim(name: str, ndim: int, stacklevel: int) -> int:
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. "
        "Change the call to include dim=X as an argument.",
        stacklevel=stacklevel,
    )
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None):  # noqa: A002
    """exp(z_i) / sum_j exp(z_j) along ``dim`` (shifted by the max: no overflow). Without
    ``dim``, PyTorch's legacy choice (0 for 0-, 1- and 3-D input, else 1) with a warning."""
    if dim is None:
        dim = _softmax_dim("softmax", input.ndim, _stacklevel)
    return input.softmax(dim, dtype=dtype)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None):  # noqa: A002
    """z_i - logsumexp(z) along ``dim``, stable; the default ``dim`` as ``softmax``."""
    if dim is None:
        dim = _softmax_dim("log_softmax", input.ndim, _stacklevel)
    return input.log_softmax(dim, dtype=dtype)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """Integer class labels (any shape) to int64 one-hot vectors on a new last axis."""
    t = unwrap(tensor)
    if t.dtype.kind not in "iu":
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if num_classes == -1:
        num_classes = int(t.max()) + 1 if t.size else 0
    if t.size and t.min() < 0:
        raise RuntimeError("Class values must be non-negative.")
    if t.size and t.max() >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    out = np.zeros(t.shape + (num_classes,), dtype=np.int64)
    np.put_along_axis(out, t[..., None].astype(np.int64), 1, axis=-1)
    return wrap(out)


# ---------------------------------------------------------------------------- regression losses
def _regression(fn_name, op, input, target, size_average, reduce, reduction, weight, **kw):
    a, b = unwrap(input), unwrap(target)
    if a.shape != b.shape:
        # PyTorch's rule, warning included: (N, 1) against (N,) becomes (N, N)
        warnings.warn(
            f"Using a target size ({target.size()}) that is different to the input size "
            f"({input.size()}). This will likely lead to incorrect results due to "
            "broadcasting. Please ensure they have the same size.",
            stacklevel=3,
        )
        input, target = _broadcast_tensors(input, target)  # noqa: A001
        a, b = unwrap(input), unwrap(target)
    if a.dtype != b.dtype:
        # PyTorch computes in the promoted dtype (float32 input, int64 target: float32)
        from gradfit._toplevel import result_type

        dt = result_type(input, target)
        input, target = input.to(dt), target.to(dt)  # noqa: A001
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    if reduction not in _REDUCTIONS:
        raise _bad_reduction(reduction)
    dtype = unwrap(input).dtype
    if dtype.kind not in "fc":  # PyTorch's kernels: no silent integer losses
        if op is not _loss.L1Loss:
            kernel = {_loss.MSELoss: "mse", _loss.HuberLoss: "huber"}.get(op, "smooth_l1")
            raise NotImplementedError(
                f"\"{kernel}_cpu\" not implemented for '{scalar_type(dtype)}'"
            )
        if reduction == "mean":  # L1 is |x - y| then a mean, which refuses integers
            input.mean()
    if weight is None:
        return op.apply(input, target, reduction=reduction, **kw)
    weight = _as_tensor(weight, input)
    if weight.shape != input.shape:
        raise ValueError(
            f"{fn_name}: weight has shape {tuple(weight.shape)}, expected the input's shape "
            f"{tuple(input.shape)}"
        )
    weighted = op.apply(input, target, reduction="none", **kw) * weight
    if reduction == "none":
        return weighted
    if reduction == "sum":
        return weighted.sum()
    # PyTorch divides the weighted MSE and L1 by sum(weight), the weighted Huber by N.
    if op is _loss.HuberLoss:
        return weighted.mean()
    return weighted.sum() / weight.sum()


def mse_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
    weight: Tensor | None = None,
) -> Tensor:
    """Squared error (x - y)^2, reduced; the lecture's least-squares loss. Fused op: the
    mean's gradient is 2 (x - y) / N.

    Input and target of different shapes are broadcast with PyTorch's warning ((N, 1)
    against (N,) becomes (N, N), almost always a bug). With ``weight`` (same shape),
    "mean" is sum(w l) / sum(w) (PyTorch).
    """
    a, b = unwrap(input), unwrap(target)
    if (
        a.shape == b.shape
        and a.dtype == b.dtype
        and a.dtype.kind in "fc"
        and weight is None
        and size_average is None
        and reduce is None
        and (reduction == "mean" or reduction == "sum" or reduction == "none")
    ):
        return _loss.MSELoss.apply(input, target, reduction=reduction)
    return _regression(
        "mse_loss", _loss.MSELoss, input, target, size_average, reduce, reduction, weight
    )


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):  # noqa: A002
    """Absolute error |x - y|, reduced; the gradient at x = y is 0 (PyTorch). Shapes that
    differ are broadcast with PyTorch's warning. With ``weight``, "mean" is
    sum(w l) / sum(w)."""
    return _regression(
        "l1_loss", _loss.L1Loss, input, target, size_average, reduce, reduction, weight
    )


def huber_loss(input, target, reduction="mean", delta: float = 1.0, weight=None):  # noqa: A002
    """Huber: 0.5 d^2 if |d| < delta else delta (|d| - delta / 2), d = x - y. Shapes
    that differ are broadcast with PyTorch's warning. With ``weight``, "mean" is
    mean(w l) (PyTorch)."""
    if delta <= 0:
        raise RuntimeError(
            f"huber_loss does not support non-positive values for delta, got {delta}"
        )
    return _regression(
        "huber_loss", _loss.HuberLoss, input, target, None, None, reduction, weight, delta=delta
    )


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):  # noqa: A002
    """Smooth L1: 0.5 d^2 / beta if |d| < beta else |d| - beta / 2 (beta = 0 gives L1).
    Shapes that differ are broadcast with PyTorch's warning."""
    if beta < 0:
        raise RuntimeError(f"smooth_l1_loss does not support negative values for beta, got {beta}")
    return _regression(
        "smooth_l1_loss",
        _loss.SmoothL1Loss,
        input,
        target,
        size_average,
        reduce,
        reduction,
        None,
        beta=beta,
    )


# ---------------------------------------------------------------------------- classification
def _class_weight(weight, input: Tensor, fn: str):
    if weight is None:
        return None
    w = _const(weight, input.dtype, "weight")
    c = input.shape[0] if input.ndim == 1 else input.shape[1]
    if w.shape != (c,):
        raise RuntimeError(
            f"weight tensor should be defined either for all {c} classes or no classes "
            f"but got weight tensor of shape: {list(w.shape)}"
        )
    return w


def _check_index_target(fn: str, x: np.ndarray, t: np.ndarray) -> None:
    if fn == "cross_entropy" and x.ndim > 1 and t.shape == x.shape:
        raise RuntimeError(
            "Expected floating point type for target with class probabilities, got "
            f"{scalar_type(t.dtype)}"
        )
    if t.dtype not in (np.int64, np.uint8):
        raise RuntimeError(
            f"expected target dtype to be Long or Byte, but got {scalar_type(t.dtype)}"
        )
    if x.ndim == 1:
        if t.ndim != 0:
            raise RuntimeError(
                f"{fn}: for unbatched input of shape {tuple(x.shape)} the target must be a "
                f"0-d class index, got shape {tuple(t.shape)}"
            )
        return
    expected = x.shape[:1] + x.shape[2:]
    if t.shape != expected:
        if x.ndim == 2 and t.ndim == 1:
            raise ValueError(
                f"Expected input batch_size ({x.shape[0]}) to match target batch_size "
                f"({t.shape[0]})."
            )
        if x.ndim > 2:
            raise RuntimeError(f"Expected target size {list(expected)}, got {list(t.shape)}")
        raise RuntimeError(
            f"{fn}: size mismatch (got input: {list(x.shape)}, target: {list(t.shape)}); "
            f"expected target shape {list(expected)}"
        )


def cross_entropy(
    input: Tensor,  # noqa: A002
    target: Tensor,
    weight: Tensor | None = None,
    size_average=None,
    ignore_index: int = -100,
    reduce=None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Cross-entropy of logits, fused with its log-softmax (stable for large logits).

    ``input`` is (N, C), (N, C, d1, ...) or unbatched (C,). ``target`` holds class
    indices (integers, shape (N,), (N, d1, ...) or ()) or class probabilities (floats,
    the input's shape). Index targets: l_n = -w_{y_n} log softmax(x_n)[y_n], ignored
    where y_n == ignore_index, and "mean" divides by the sum of the non-ignored targets'
    weights. ``label_smoothing`` eps mixes in the uniform distribution:
    (1 - eps) l_n + eps / C * sum_c (-w_c log softmax(x_n)_c). Probability targets: the
    mean divides by N; ignore_index is not allowed. PyTorch's semantics throughout.
    """
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    if reduction not in _REDUCTIONS:
        raise _bad_reduction(reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    x, t = unwrap(input), unwrap(target)
    if x.ndim == 0:
        raise ValueError("Expected 1 or more dimensions (got 0)")
    w = _class_weight(weight, input, "cross_entropy")
    if t.dtype.kind == "f":
        if t.shape != x.shape:
            raise RuntimeError(
                f"cross_entropy: probability targets must have the input's shape "
                f"{list(x.shape)}, got {list(t.shape)}"
            )
        if ignore_index != -100:
            raise RuntimeError("ignore_index is not supported for floating point target")
        if t.dtype != x.dtype:
            target = target.to(x.dtype)
        return _loss.CrossEntropyProbLoss.apply(
            input, target, weight=w, label_smoothing=label_smoothing, reduction=reduction
        )
    _check_index_target("cross_entropy", x, t)
    return _loss.CrossEntropyLoss.apply(
        input,
        target,
        weight=w,
        ignore_index=ignore_index,
        label_smoothing=label_smoothing,
        reduction=reduction,
    )


def nll_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    weight: Tensor | None = None,
    size_average=None,
    ignore_index: int = -100,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood of log-probabilities: l_n = -w_{y_n} x[n, y_n]; weights,
    ignore_index and the weighted mean as ``cross_entropy``."""
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    if reduction not in _REDUCTIONS:
        raise _bad_reduction(reduction)
    x, t = unwrap(input), unwrap(target)
    if x.ndim == 0:
        raise ValueError("Expected 1 or more dimensions (got 0)")
    w = _class_weight(weight, input, "nll_loss")
    _check_index_target("nll_loss", x, t)
    return _loss.NLLLoss.apply(
        input, target, weight=w, ignore_index=ignore_index, reduction=reduction
    )


def _check_binary(fn: str, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
    if target.shape != input.shape:  # PyTorch's two messages
        if fn == "binary_cross_entropy_with_logits":
            raise ValueError(
                f"Target size ({target.size()}) must be the same as input size ({input.size()})"
            )
        raise ValueError(
            f"Using a target size ({target.size()}) that is different to the input size "
            f"({input.size()}) is deprecated. Please ensure they have the same size."
        )
    if target.dtype != input.dtype:
        if fn == "binary_cross_entropy":
            raise RuntimeError(
                f"Found dtype {scalar_type(target.dtype)} but expected {scalar_type(input.dtype)}"
            )
        if not target.dtype.is_floating_point:
            raise RuntimeError(
                f"result type {scalar_type(input.dtype)} can't be cast to the desired output "
                f"type {scalar_type(target.dtype)}"
            )
    return target


def binary_cross_entropy(
    input: Tensor,  # noqa: A002
    target: Tensor,
    weight: Tensor | None = None,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """-w (y log x + (1 - y) log(1 - x)) for probabilities x in [0, 1], each log clamped
    at -100 as in PyTorch. Prefer ``binary_cross_entropy_with_logits`` on logits."""
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    if reduction not in _REDUCTIONS:
        raise _bad_reduction(reduction)
    target = _check_binary("binary_cross_entropy", input, target)
    x, y = unwrap(input), unwrap(target)
    if x.size and (x.min() < 0 or x.max() > 1 or np.isnan(x).any()):
        raise RuntimeError("all elements of input should be between 0 and 1")
    if y.size and (y.min() < 0 or y.max() > 1):
        raise RuntimeError("all elements of target should be between 0 and 1")
    w = _const(weight, input.dtype, "weight")
    return _loss.BCELoss.apply(input, target, weight=w, reduction=reduction)


def binary_cross_entropy_with_logits(
    input: Tensor,  # noqa: A002
    target: Tensor,
    weight: Tensor | None = None,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """Binary cross-entropy on logits, fused with the sigmoid and stable for any |x|:
    l = w ((1 - y) x - (1 + (pw - 1) y) log sigma(x)). ``pos_weight`` (broadcast along the
    last axis, typically (C,)) weighs the positive term; ``weight`` broadcasts to the
    input. Both are constants (no gradient flows to them)."""
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    if reduction not in _REDUCTIONS:
        raise _bad_reduction(reduction)
    target = _check_binary("binary_cross_entropy_with_logits", input, target)
    if target.dtype != input.dtype:  # both floating: PyTorch computes in the wider one
        from gradfit._toplevel import result_type

        dt = result_type(input, target)
        input, target = input.to(dt), target.to(dt)  # noqa: A001
    w = _const(weight, input.dtype, "weight")
    pw = _const(pos_weight, input.dtype, "pos_weight")
    return _loss.BCEWithLogitsLoss.apply(
        input, target, weight=w, pos_weight=pw, reduction=reduction
    )


__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "dropout",
    "gelu",
    "huber_loss",
    "l1_loss",
    "layer_norm",
    "leaky_relu",
    "linear",
    "log_softmax",
    "logsigmoid",
    "mse_loss",
    "nll_loss",
    "one_hot",
    "relu",
    "sigmoid",
    "silu",
    "smooth_l1_loss",
    "softmax",
    "softplus",
    "tanh",
]


# ---------------------------------------------------------------------------- conv, pooling, norms
# (issue 13) defined in gradfit.nn._functional_conv
from gradfit.nn import _functional_conv  # noqa: E402
from gradfit.nn._functional_conv import *  # noqa: E402, F403 - the names in its __all__

__all__ += _functional_conv.__all__

# ---------------------------------------------------------------------------- sequence models
from gradfit.nn._seq_functional import (  # noqa: E402
    embedding,
    embedding_bag,
    multi_head_attention_forward,
    scaled_dot_product_attention,
)

__all__ += [
    "embedding",
    "embedding_bag",
    "multi_head_attention_forward",
    "scaled_dot_product_attention",
]

# ---------------------------------------------------------------------------- more layers
# pixel shuffle, LRN, RMSNorm, bilinear, alpha dropout, rrelu, max unpooling:
# defined in gradfit.nn._functional_layers
from gradfit.nn import _functional_layers  # noqa: E402
from gradfit.nn._functional_layers import *  # noqa: E402, F403 - the names in its __all__

__all__ += _functional_layers.__all__

# ------------------------------------------------------------------ more losses, distances
# (lossdist) PyTorch's remaining losses and distance functions, built from differentiable
# gradfit operations in the order aten/src/ATen/native/Loss.cpp (and torch.nn.functional)
# computes them: same numbers, and second derivatives from the engine.
import math as _math  # noqa: E402

from gradfit._functional import (  # noqa: E402
    _broadcast_error,
    _scalar_type,
    cosine_similarity,
    pairwise_distance,
    pdist,
)
from gradfit._functional import div as _div  # noqa: E402
from gradfit._functional import minimum as _minimum  # noqa: E402
from gradfit._grad_mode import is_grad_enabled  # noqa: E402
from gradfit._grad_mode import no_grad as _no_grad  # noqa: E402
from gradfit._tensorops import where as _where  # noqa: E402


def _reduction_arg(size_average, reduce, reduction: str) -> str:
    if size_average is not None or reduce is not None:
        return _legacy_reduction(size_average, reduce)
    if reduction not in _REDUCTIONS:
        raise _bad_reduction(reduction)
    return reduction


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _check_broadcast(a: Tensor, b: Tensor) -> None:
    err = _broadcast_error(tuple(a.shape), tuple(b.shape))
    if err is not None:
        raise err


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out=None):  # noqa: A002
    """x / max(||x||_p, eps) along ``dim`` (the clamp is differentiable: no gradient flows
    through the norm where it is below ``eps``)."""
    lo, hi = (-1, 0) if input.ndim == 0 else (-input.ndim, input.ndim - 1)
    if isinstance(dim, int) and not lo <= dim <= hi:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{lo}, {hi}], but got {dim})"
        )
    denom = input.norm(p, dim, keepdim=True).clamp_min(eps).expand_as(input)
    if out is None:
        return input / denom
    return _div(input, denom, out=out)


def kl_div(
    input: Tensor,  # noqa: A002
    target: Tensor,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
    log_target: bool = False,
) -> Tensor:
    """Pointwise KL divergence of log-probabilities ``input`` from ``target``:
    target (log target - input), or exp(target) (target - input) with ``log_target``;
    0 log 0 = 0. "batchmean" divides the sum by the batch size (the KL divergence);
    "mean" divides by the number of elements (and warns, as PyTorch)."""
    if size_average is not None or reduce is not None:
        red = _legacy_reduction(size_average, reduce)
    else:
        if reduction == "mean":
            warnings.warn(
                "reduction: 'mean' divides the total loss by both the batch size and the "
                "support size.'batchmean' divides only by the batch size, and aligns with "
                "the KL div math definition.'mean' will be changed to behave the same as "
                "'batchmean' in the next major release.",
                stacklevel=2,
            )
        if reduction == "batchmean":
            red = "sum"
        elif reduction in _REDUCTIONS:
            red = reduction
        else:
            raise ValueError(
                f"{reduction} is not a valid value for reduction; expected one of "
                f"['none', 'batchmean', 'mean', 'sum']"
            )
    _check_broadcast(target, input)
    if log_target:
        out = target.exp() * (target - input)
    else:
        out = target.xlogy(target) - target * input
    reduced = _reduce(out, red)
    if reduction == "batchmean" and input.ndim != 0:
        reduced = reduced / input.shape[0]
    return reduced


def margin_ranking_loss(
    input1: Tensor,
    input2: Tensor,
    target: Tensor,
    margin: float = 0,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """max(0, -y (x1 - x2) + margin) with y = 1 (x1 should rank higher) or -1."""
    red = _reduction_arg(size_average, reduce, reduction)
    if input1.ndim != input2.ndim or input1.ndim != target.ndim:
        raise RuntimeError(
            f"margin_ranking_loss : All input tensors should have same dimension but got "
            f"sizes: input1: {input1.size()}, input2: {input2.size()}, target: "
            f"{target.size()} "
        )
    _check_broadcast(input1, input2)
    diff = input1 - input2
    _check_broadcast(target, diff)
    return _reduce(((-target) * diff + margin).clamp_min(0), red)


def hinge_embedding_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    margin: float = 1.0,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """x where y = 1, max(0, margin - x) where y = -1 (both terms for other values of y,
    as PyTorch)."""
    red = _reduction_arg(size_average, reduce, reduction)
    _check_broadcast(target, input)
    zeros = input.new_zeros(())
    margin_clamp = (margin - input).clamp_min(0)
    out = _where(target != 1, margin_clamp, zeros) + _where(target != -1, input, zeros)
    return _reduce(out, red)


def soft_margin_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """log(1 + exp(-y x)), y in {1, -1}; the loss has the input's shape (PyTorch computes
    it in place in an output of that shape)."""
    red = _reduction_arg(size_average, reduce, reduction)
    _check_broadcast(input, target)
    shape = np.broadcast_shapes(tuple(input.shape), tuple(target.shape))
    if shape != tuple(input.shape):
        raise RuntimeError(
            f"output with shape {list(input.shape)} doesn't match the broadcast shape {list(shape)}"
        )
    if target.requires_grad and is_grad_enabled():
        raise RuntimeError(
            "The function 'soft_margin_loss' is not differentiable with respect to argument "
            "'target'. This input cannot have requires_grad True."
        )
    return named(_reduce(((-input) * target).exp().log1p(), red), "SoftMarginLossBackward0")


_COSINE_EMBEDDING_EPS = 1e-12  # EPSILON in aten/src/ATen/native/Loss.cpp


def cosine_embedding_loss(
    input1: Tensor,
    input2: Tensor,
    target: Tensor,
    margin: float = 0,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """1 - cos(x1, x2) where y = 1, max(0, cos(x1, x2) - margin) where y = -1, with
    cos = <x1, x2> / sqrt((||x1||^2 + 1e-12)(||x2||^2 + 1e-12)) over the feature axis of
    (N, D) inputs with an (N,) target, or (D,) inputs with a 0-d target."""
    red = _reduction_arg(size_average, reduce, reduction)
    tdim = target.ndim
    if tdim not in (0, 1):
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    want = 2 if tdim == 1 else 1
    if input1.ndim != want or input2.ndim != want:
        raise RuntimeError(
            f"{tdim}D target tensor expects {want}D input tensors, but found inputs with "
            f"sizes {list(input1.shape)} and {list(input2.shape)}."
        )
    _check_broadcast(input1, input2)
    prod_sum = (input1 * input2).sum(tdim)
    mag1 = (input1 * input1).sum(tdim) + _COSINE_EMBEDDING_EPS
    mag2 = (input2 * input2).sum(tdim) + _COSINE_EMBEDDING_EPS
    cos = prod_sum / (mag1 * mag2).sqrt()
    _check_broadcast(target, cos)
    zeros = cos.new_zeros(())
    pos = _where(target == 1, 1 - cos, zeros)
    neg = _where(target == -1, (cos - margin).clamp_min(0), zeros)
    return _reduce(pos + neg, red)


def _check_triplet_dims(anchor, positive, negative) -> None:
    a, p, n = anchor.ndim, positive.ndim, negative.ndim
    if not (a == p and p == n):
        raise RuntimeError(
            f"The anchor, positive, and negative tensors are expected to have the same "
            f"number of dimensions, but got: anchor {a}D, positive {p}D, and negative "
            f"{n}D inputs"
        )


def triplet_margin_loss(
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    margin: float = 1.0,
    p: float = 2,
    eps: float = 1e-6,
    swap: bool = False,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """max(0, margin + d(a, p) - d(a, n)) with d = ``pairwise_distance(., ., p, eps)``;
    ``swap`` uses min(d(a, n), d(p, n)) (Balntas et al.)."""
    red = _reduction_arg(size_average, reduce, reduction)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    _check_triplet_dims(anchor, positive, negative)
    dist_pos = pairwise_distance(anchor, positive, p, eps)
    dist_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        dist_neg = _minimum(dist_neg, pairwise_distance(positive, negative, p, eps))
    return _reduce((margin + dist_pos - dist_neg).clamp_min(0), red)


def triplet_margin_with_distance_loss(
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    *,
    distance_function=None,
    margin: float = 1.0,
    swap: bool = False,
    reduction: str = "mean",
) -> Tensor:
    """``triplet_margin_loss`` with any distance ``distance_function(x1, x2)`` (default
    ``pairwise_distance``)."""
    if reduction not in _REDUCTIONS:
        raise _bad_reduction(reduction)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    _check_triplet_dims(anchor, positive, negative)
    if distance_function is None:
        distance_function = pairwise_distance
    dist_pos = distance_function(anchor, positive)
    dist_neg = distance_function(anchor, negative)
    if swap:
        dist_neg = _minimum(dist_neg, distance_function(positive, negative))
    return _reduce((margin + dist_pos - dist_neg).clamp_min(0), reduction)


def poisson_nll_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    log_input: bool = True,
    full: bool = False,
    size_average=None,
    eps: float = 1e-8,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """Poisson negative log-likelihood: exp(x) - y x for a log-rate x (``log_input``), else
    x - y log(x + eps); ``full`` adds Stirling's y log y - y + log(2 pi y) / 2 where y > 1."""
    red = _reduction_arg(size_average, reduce, reduction)
    _check_broadcast(target, input)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        stirling = target * target.log() - target + 0.5 * (2 * _math.pi * target).log()
        loss = loss + stirling.masked_fill(target <= 1, 0)
    return _reduce(loss, red)


def gaussian_nll_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    var,
    full: bool = False,
    eps: float = 1e-6,
    reduction: str = "mean",
) -> Tensor:
    """Gaussian negative log-likelihood (log(max(var, eps)) + (x - y)^2 / max(var, eps)) / 2
    (+ log(2 pi) / 2 with ``full``). ``var`` has the input's shape, or one dimension fewer,
    or a size-1 dimension where the input has another size (one shared variance), or is a
    float. The clamp is applied under no_grad to a copy, as PyTorch: the gradient to
    ``var`` flows as if unclamped."""
    if isinstance(var, float):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = var * input.new_ones(input.shape)
    elif not isinstance(var, Tensor):
        raise TypeError(
            f"gaussian_nll_loss: var must be a Tensor or a float, got {type(var).__name__}"
        )
    elif bool((var < 0).any()):
        raise ValueError("var has negative entry/entries")
    if var.shape != input.shape:
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif input.ndim == var.ndim and (
            sum(v for i, v in zip(input.shape, var.shape) if i != v) == 1
        ):
            pass
        else:
            raise ValueError("var is of incorrect size")
    if reduction not in _REDUCTIONS:
        raise ValueError(reduction + " is not valid")
    var = var.clone()
    with _no_grad():
        var.clamp_(min=eps)
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * _math.log(2 * _math.pi)
    return _reduce(loss, reduction)


def _margin_frames(fn: str, x: np.ndarray) -> tuple[int, int]:
    """(number of samples, number of classes) of a multi-class margin loss's input."""
    nd = x.ndim
    if not ((nd == 2 and x.shape[1] != 0) or (nd == 1 and x.shape[0] != 0) or nd == 0):
        raise RuntimeError(
            f"Expected non-empty vector or matrix with optional 0-dim batch size, but got: "
            f"{list(x.shape)}"
        )
    if nd <= 1:
        return 1, 1 if nd == 0 else x.shape[0]
    return x.shape[0], x.shape[1]


def _long_target(t: Tensor) -> None:
    if unwrap(t).dtype != np.int64:
        raise RuntimeError(f"expected scalar type Long but found {_scalar_type(t)}")


def multi_margin_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    p: int = 1,
    margin: float = 1.0,
    weight: Tensor | None = None,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """Multi-class hinge loss: sum over classes j != y of w_y max(0, margin - x_y + x_j)^p,
    divided by the number of classes C. ``weight`` (C,) is a constant (PyTorch gives it no
    gradient)."""
    red = _reduction_arg(size_average, reduce, reduction)
    if p != 1 and p != 2:
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.ndim != 1:
        raise ValueError("weight must be one-dimensional")
    x, t = unwrap(input), unwrap(target)
    nframe, dim = _margin_frames("multi_margin_loss", x)
    if t.ndim > 1 or t.size != nframe:
        raise RuntimeError(
            f"multi_margin_loss: target tensor should be 1-D with size equal to the number "
            f"of input samples (batch size). Expected target size [{nframe}], but got "
            f"{list(t.shape)}. Input has shape {list(x.shape)}."
        )
    _long_target(target)
    if weight is not None:
        if weight.numel() != dim:
            raise RuntimeError(
                f"inconsistent weight size, expected {dim} but got {list(weight.shape)}"
            )
        if weight.dtype != input.dtype:
            raise RuntimeError(
                f"expected scalar type {_scalar_type(input)} but found {_scalar_type(weight)}"
            )
    idx = t.reshape(nframe, 1)
    if idx.size and (idx.min() < 0 or idx.max() >= dim):
        raise RuntimeError("target out of range")
    xs = input.reshape(nframe, dim)
    z = (margin - xs.gather(1, wrap(idx))) + xs
    h = z.relu() if p == 1 else z.relu() ** 2
    mask = np.ones((nframe, dim), dtype=x.dtype)
    np.put_along_axis(mask, idx, 0, axis=1)
    if weight is not None:
        mask = mask * np.take(unwrap(weight), idx)
    loss = (h * wrap(mask)).sum(1) / dim
    if red == "none":
        out = loss if t.ndim > 0 else loss.reshape(())
    else:
        out = _reduce(loss, red)
    return named(out, "MultiMarginLossBackward0")


def multilabel_margin_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """Multi-label hinge loss: for each target class j (the target row's indices up to the
    first -1) and each non-target class k, max(0, 1 - (x_j - x_k)), summed and divided by
    the number of classes C."""
    red = _reduction_arg(size_average, reduce, reduction)
    x, t = unwrap(input), unwrap(target)
    nframe, dim = _margin_frames("multilabel_margin_loss", x)
    ok = (
        (t.ndim <= 1 and t.size == dim)
        if x.ndim <= 1
        else (t.ndim == 2 and t.shape == (nframe, dim))
    )
    if not ok:
        raise RuntimeError(
            f"inconsistent target size: {list(t.shape)} for input of size: {list(x.shape)}"
        )
    _long_target(target)
    t2 = t.reshape(nframe, dim)
    if t2.size and (t2.min() < -1 or t2.max() >= dim):
        raise RuntimeError("argument #2 'target' is out of range")
    # the target classes: the entries before a row's first -1, each counted once per entry
    valid = np.cumprod(t2 >= 0, axis=1).astype(bool)
    count = np.zeros((nframe, dim), dtype=x.dtype)
    rows = np.broadcast_to(np.arange(nframe)[:, None], t2.shape)
    np.add.at(count, (rows[valid], t2[valid]), 1)
    pair = count[:, :, None] * (count == 0)[:, None, :]  # (n, target j, non-target k)
    xs = input.reshape(nframe, dim)
    z = (1 - xs.unsqueeze(2)) + xs.unsqueeze(1)
    loss = (z.relu() * wrap(pair.astype(x.dtype))).sum((1, 2)) / dim
    if red == "none":
        return loss if x.ndim == 2 else loss.reshape(())
    return _reduce(loss, red)


def multilabel_soft_margin_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    weight: Tensor | None = None,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """-(y log sigma(x) + (1 - y) log sigma(-x)), times ``weight``, averaged over the
    classes (the last dimension)."""
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    _check_broadcast(target, input)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    class_dim = input.ndim - 1
    loss = loss.sum(dim=class_dim) / input.shape[class_dim]
    if reduction not in _REDUCTIONS:
        raise ValueError(reduction + " is not valid")
    return _reduce(loss, reduction)


__all__ += [
    "cosine_embedding_loss",
    "cosine_similarity",
    "gaussian_nll_loss",
    "hinge_embedding_loss",
    "kl_div",
    "margin_ranking_loss",
    "multi_margin_loss",
    "multilabel_margin_loss",
    "multilabel_soft_margin_loss",
    "normalize",
    "pairwise_distance",
    "pdist",
    "poisson_nll_loss",
    "soft_margin_loss",
    "triplet_margin_loss",
    "triplet_margin_with_distance_loss",
]


# --- rtapi: gumbel_softmax -----------------------------------------------------------------
def gumbel_softmax(
    logits: Tensor, tau: float = 1, hard: bool = False, eps: float = 1e-10, dim: int = -1
) -> Tensor:
    """Samples of the Gumbel-softmax (concrete) distribution, as PyTorch's:
    softmax((logits + g) / tau) along ``dim``, g = -log(e) with e ~ Exponential(1) drawn by
    ``exponential_`` (PyTorch's stream, so the same seed gives the same sample).
    ``hard=True``: the one-hot of the argmax in the forward pass, with the soft sample's
    gradient (straight-through: y_hard - y_soft.detach() + y_soft)."""
    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.", stacklevel=2)
    from gradfit._factories import empty_like, zeros_like

    gumbels = -empty_like(logits).exponential_().log()  # ~Gumbel(0, 1)
    gumbels = (logits + gumbels) / tau  # ~Gumbel(logits, tau)
    y_soft = gumbels.softmax(dim)
    if hard:
        index = y_soft.max(dim, keepdim=True)[1]
        y_hard = zeros_like(logits).scatter_(dim, index, 1.0)
        return y_hard - y_soft.detach() + y_soft
    return y_soft


__all__ += ["gumbel_softmax"]

# ------------------------------------------------------------------ (nnlayers) more layers
# grid_sample / affine_grid, ctc_loss, fractional max pooling, channel_shuffle:
# defined in gradfit.nn._nnlayers_functional
from gradfit.nn import _nnlayers_functional  # noqa: E402
from gradfit.nn._nnlayers_functional import *  # noqa: E402, F403 - the names in its __all__

__all__ += _nnlayers_functional.__all__

# --- apigaps: upsample*, the *_with_indices pooling forms, rrelu_, max_unpool3d ----------
from gradfit.nn import _functional_gaps  # noqa: E402
from gradfit.nn._functional_gaps import *  # noqa: E402, F403 - the names in its __all__

__all__ += _functional_gaps.__all__
