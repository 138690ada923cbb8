"""More functions of ``gradfit.nn.functional`` (re-exported there), with PyTorch's signatures,
defaults and error messages: pixel (un)shuffle, local response and RMS normalisation,
bilinear, alpha dropout, RReLU, max unpooling and ``max_pool*d_with_indices``.

Each is written with existing differentiable gradfit operations (reshape, permute, pad,
pooling, elementwise arithmetic), so first and second derivatives come from those ops,
except max unpooling, one linear op (``gradfit.ops.unpool.MaxUnpool``).
"""

from __future__ import annotations

import numbers

import numpy as np

from gradfit import _rng
from gradfit._arrays import unwrap, wrap
from gradfit.autograd._torch_names import named
from gradfit.nn import _functional_conv as _fc
from gradfit.ops import unpool as _unpool
from gradfit.tensor import Tensor

__all__ = [
    "alpha_dropout",
    "bilinear",
    "feature_alpha_dropout",
    "local_response_norm",
    "max_pool1d_with_indices",
    "max_pool2d_with_indices",
    "max_unpool1d",
    "max_unpool2d",
    "pixel_shuffle",
    "pixel_unshuffle",
    "rms_norm",
    "rrelu",
]


def _int_arg(value, fn: str, name: str, position: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"{fn}(): argument '{name}' (position {position}) must be int, not "
            f"{type(value).__name__}"
        )
    return int(value)


def _named(y: Tensor, name: str) -> Tensor:
    """Give the node that made ``y`` PyTorch's grad_fn name (the function composed here is
    one node in PyTorch)."""
    if y.grad_fn is not None:
        y.grad_fn.torch_name = name
    return y


# ------------------------------------------------------------------------ pixel shuffle
def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:  # noqa: A002
    """Rearrange (*, C r^2, H, W) into (*, C, H r, W r): channel ``c r^2 + i r + j`` of
    pixel (h, w) goes to pixel (h r + i, w r + j) of channel c (sub-pixel convolution)."""
    r = _int_arg(upscale_factor, "pixel_shuffle", "upscale_factor", 2)
    if input.ndim < 3:
        raise RuntimeError(
            "pixel_shuffle expects input to have at least 3 dimensions, but got input with "
            f"{input.ndim} dimension(s)"
        )
    if r <= 0:
        raise RuntimeError(f"pixel_shuffle expects a positive upscale_factor, but got {r}")
    *batch, c, h, w = input.shape
    if c % (r * r):
        raise RuntimeError(
            "pixel_shuffle expects its input's 'channel' dimension to be divisible by the "
            f"square of upscale_factor, but input.size(-3)={c} is not divisible by {r * r}"
        )
    nb = len(batch)
    x = input.reshape(*batch, c // (r * r), r, r, h, w)
    b = tuple(range(nb))
    x = x.permute(*b, nb, nb + 3, nb + 1, nb + 4, nb + 2)
    return _named(x.reshape(*batch, c // (r * r), h * r, w * r), "PixelShuffleBackward0")


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:  # noqa: A002
    """The inverse of ``pixel_shuffle``: (*, C, H r, W r) into (*, C r^2, H, W)."""
    r = _int_arg(downscale_factor, "pixel_unshuffle", "downscale_factor", 2)
    if input.ndim < 3:
        raise RuntimeError(
            "pixel_unshuffle expects input to have at least 3 dimensions, but got input with "
            f"{input.ndim} dimension(s)"
        )
    if r <= 0:
        raise RuntimeError(f"pixel_unshuffle expects a positive downscale_factor, but got {r}")
    *batch, c, h, w = input.shape
    if w % r:
        raise RuntimeError(
            "pixel_unshuffle expects width to be divisible by downscale_factor, but "
            f"input.size(-1)={w} is not divisible by {r}"
        )
    if h % r:
        raise RuntimeError(
            "pixel_unshuffle expects height to be divisible by downscale_factor, but "
            f"input.size(-2)={h} is not divisible by {r}"
        )
    nb = len(batch)
    x = input.reshape(*batch, c, h // r, r, w // r, r)
    b = tuple(range(nb))
    x = x.permute(*b, nb, nb + 2, nb + 4, nb + 1, nb + 3)
    return _named(x.reshape(*batch, c * r * r, h // r, w // r), "PixelUnshuffleBackward0")


# ------------------------------------------------------------------------ normalisation
def local_response_norm(
    input: Tensor,  # noqa: A002
    size: int,
    alpha: float = 1e-4,
    beta: float = 0.75,
    k: float = 1.0,
) -> Tensor:
    """AlexNet's normalisation across channels: b_c = a_c / (k + alpha/n sum_{c'} a_{c'}^2)^beta,
    the sum over the ``size`` channels around c (zero beyond the edges), as PyTorch computes
    it (an average pool of the squares along the channel axis)."""
    dim = input.ndim
    if dim < 3:
        raise ValueError(
            f"Expected 3D or higher dimensionality                          input (got {dim} "
            "dimensions)"
        )
    if input.numel() == 0:
        return input
    div = input.mul(input)
    if dim == 3:
        div = div.unsqueeze(1)
        div = _fc.pad(div, (0, 0, size // 2, (size - 1) // 2))
        div = _fc.avg_pool2d(div, (size, 1), stride=1).squeeze(1)
    else:
        sizes = tuple(input.shape)
        # PyTorch views (N, 1, C, H, rest) and pools (size, 1, 1); pooling (size, 1) over
        # (N, 1, C, H * rest) averages the same numbers
        div = div.reshape(sizes[0], 1, sizes[1], -1)
        div = _fc.pad(div, (0, 0, size // 2, (size - 1) // 2))
        div = _fc.avg_pool2d(div, (size, 1), stride=1).squeeze(1)
        div = div.reshape(sizes)
    div = div.mul(alpha).add(k).pow(beta)
    return input / div


def rms_norm(input: Tensor, normalized_shape, weight=None, eps: float | None = None) -> Tensor:  # noqa: A002
    """y = x / sqrt(mean(x^2) + eps) * weight over the trailing ``normalized_shape`` axes;
    ``eps=None`` is the machine epsilon of the input's dtype (PyTorch's default)."""
    if not isinstance(normalized_shape, tuple | list) or not all(
        isinstance(s, numbers.Integral) for s in normalized_shape
    ):
        raise TypeError(
            "rms_norm(): argument 'normalized_shape' (position 2) must be tuple of ints, not "
            f"{type(normalized_shape).__name__}"
        )
    shape = [int(s) for s in normalized_shape]
    if not shape:
        raise RuntimeError(
            "Expected normalized_shape to be at least 1-dimensional, i.e., containing at "
            f"least one element, but got normalized_shape = {shape}"
        )
    if weight is not None and list(weight.shape) != shape:
        raise RuntimeError(
            "Expected weight to be of same shape as normalized_shape, but got weight of shape "
            f"{list(weight.shape)} and normalized_shape = {shape}"
        )
    n = len(shape)
    if input.ndim < n or list(input.shape[input.ndim - n :]) != shape:
        raise RuntimeError(
            f"Given normalized_shape={shape}, expected input with shape "
            f"[*{', '.join(str(s) for s in shape)}], but got input of size"
            f"{list(input.shape)}"
        )
    dt = unwrap(input).dtype
    if eps is None:
        eps = float(np.finfo(dt).eps)
    dims = tuple(range(input.ndim - n, input.ndim))
    scale = input.pow(2).mean(dim=dims, keepdim=True).add(eps).rsqrt()
    y = input.mul(scale)
    return y if weight is None else y.mul(weight)


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias=None) -> Tensor:
    """y_o = x1^T A_o x2 + b_o for weight A of shape (out, in1, in2); inputs (*, in1) and
    (*, in2) with the same leading shape."""
    if input1.ndim != input2.ndim:
        raise RuntimeError(
            f"bilinear(): input dimensions do not match: got {input1.ndim} and {input2.ndim}"
        )
    for i in range(input1.ndim - 1):
        if input1.shape[i] != input2.shape[i]:
            raise RuntimeError(
                f"bilinear(): input batch dimensions do not match at dim {i}: got "
                f"{input1.shape[i]} and {input2.shape[i]}"
            )
    if weight.ndim != 3:
        raise RuntimeError(
            f"bilinear(): weight must be 3D (out, in1, in2), got weight of size "
            f"{list(weight.shape)}"
        )
    o, i1, i2 = weight.shape
    if input1.shape[-1] != i1:
        raise RuntimeError(
            f"bilinear(): input1 size does not match weight size: got {input1.shape[-1]} but "
            f"expected {i1}"
        )
    if input2.shape[-1] != i2:
        raise RuntimeError(
            f"bilinear(): input2 size does not match weight size: got {input2.shape[-1]} but "
            f"expected {i2}"
        )
    if bias is not None and bias.shape[0] != o:
        raise RuntimeError(
            f"bilinear(): bias size does not match weight size: got {bias.shape[0]} but "
            f"expected {o}"
        )
    lead = tuple(input1.shape[:-1])
    x1 = input1.reshape(-1, i1)
    x2 = input2.reshape(-1, i2)
    # (B, in1) @ (in1, out * in2): the products x1^T A_o for every o at once
    t = x1.matmul(weight.permute(1, 0, 2).reshape(i1, o * i2)).reshape(-1, o, i2)
    y = t.mul(x2.unsqueeze(1)).sum(-1)
    if bias is not None:
        y = y + bias
    return y.reshape(*lead, o)


# ------------------------------------------------------------------------ alpha dropout
_SELU_ALPHA_PRIME = 1.7580993408473766  # -scale * alpha of SELU: where SELU sends -inf


def _alpha_dropout(input, p, training, feature: bool):  # noqa: A002
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if p == 0 or not training or input.numel() == 0:
        return input
    a = unwrap(input)
    if p == 1:
        return input * wrap(np.zeros((), dtype=a.dtype))
    if feature:
        if a.ndim < 2:
            raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
        shape = a.shape[:2] + (1,) * (a.ndim - 2)
    else:
        shape = a.shape
    # PyTorch: noise ~ bernoulli(1 - p) (one draw per element or per (sample, channel));
    # y = x * (noise * a) + ((noise - 1) * alpha' a + alpha' a p), the scalars rounded to
    # the input's dtype, so that dropped units sit at SELU's saturation value and the
    # output keeps zero mean and unit variance
    noise = _rng.bernoulli_mask(shape, 1.0 - p, a.dtype)
    scale = 1.0 / np.sqrt((_SELU_ALPHA_PRIME**2 * p + 1) * (1 - p))
    dt = a.dtype.type
    b = (noise - dt(1)) * dt(_SELU_ALPHA_PRIME * scale) + dt(_SELU_ALPHA_PRIME * scale * p)
    noise = noise * dt(scale)
    return input * wrap(noise.astype(a.dtype, copy=False)) + wrap(b.astype(a.dtype, copy=False))


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False):  # noqa: A002
    """Dropout for SELU networks: dropped units are set to SELU's negative saturation and the
    result is rescaled to keep zero mean and unit variance (training only; the identity in
    eval mode). ``inplace`` is accepted and ignored (the result is a new tensor)."""
    return _alpha_dropout(input, p, training, feature=False)


def feature_alpha_dropout(
    input: Tensor,  # noqa: A002
    p: float = 0.5,
    training: bool = False,
    inplace: bool = False,
):
    """``alpha_dropout`` of whole channels: one draw per (sample, channel) of (N, C, *)."""
    return _alpha_dropout(input, p, training, feature=True)


# ------------------------------------------------------------------------ rrelu
def rrelu(
    input: Tensor,  # noqa: A002
    lower: float = 1.0 / 8,
    upper: float = 1.0 / 3,
    training: bool = False,
    inplace: bool = False,
) -> Tensor:
    """Randomised leaky ReLU: x for x > 0, a x otherwise, with a ~ U(lower, upper) drawn per
    non-positive element in training (PyTorch's CPU draw: one double-precision uniform per
    such element, in order) and a = (lower + upper) / 2 in eval mode. ``inplace`` is
    accepted and ignored (the result is a new tensor)."""
    if not training:
        from gradfit.nn.functional import leaky_relu

        return named(leaky_relu(input, (float(lower) + float(upper)) / 2), _RRELU)
    a = unwrap(input)
    if a.dtype.kind != "f":
        raise RuntimeError(f"rrelu: expected a floating-point input, got {a.dtype}")
    flat = np.ascontiguousarray(a).reshape(-1)
    neg = flat <= 0
    dt = a.dtype.type
    # the bounds pass through the input's dtype (PyTorch's opmath) before the double draw
    lo, hi = float(dt(lower)), float(dt(upper))
    # u = (random64 & (2^53 - 1)) 2^-53: what uniform_ on [0, 1) in float64 draws, exactly
    u = _rng.uniform(int(neg.sum()), 0.0, 1.0, np.float64)
    r = (u * (hi - lo) + lo).astype(a.dtype)
    noise = np.ones_like(flat)
    noise[neg] = r
    return named(input * wrap(noise.reshape(a.shape)), _RRELU)


_RRELU = "RreluWithNoiseBackward0"


# ------------------------------------------------------------------------ max unpooling
def max_pool1d_with_indices(
    input,  # noqa: A002
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode=False,
    return_indices=False,
):
    """``max_pool1d`` returning (output, indices) (``return_indices`` is ignored)."""
    return _fc.max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(
    input,  # noqa: A002
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode=False,
    return_indices=False,
):
    """``max_pool2d`` returning (output, indices) (``return_indices`` is ignored)."""
    return _fc.max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def _tuple(v, n):
    if isinstance(v, numbers.Integral):
        return (int(v),) * n
    return tuple(int(x) for x in v)


def _unpool_output_size(input, kernel_size, stride, padding, output_size):  # noqa: A002
    nd = len(kernel_size)
    default = [
        (input.shape[input.ndim - nd + d] - 1) * stride[d] + kernel_size[d] - 2 * padding[d]
        for d in range(nd)
    ]
    if output_size is None:
        ret = default
    else:
        output_size = tuple(output_size)
        if len(output_size) == nd + 2:
            output_size = output_size[2:]
        if len(output_size) != nd:
            raise ValueError(
                f"output_size should be a sequence containing {nd} or {nd + 2} elements, but it "
                f"has a length of '{len(output_size)}'"
            )
        for d in range(nd):
            lo, hi = default[d] - stride[d], default[d] + stride[d]
            if not lo < output_size[d] < hi:
                raise ValueError(
                    f'invalid output_size "{output_size}" (dim {d} must be between {lo} and {hi})'
                )
        ret = list(output_size)
    for d in range(nd):
        if ret[d] < 0:
            raise ValueError(
                "max_unpooling: output_size must contain non-negative spatial dimensions, but "
                f"got output_size[{d}]={ret[d]}"
            )
    return [int(v) for v in ret]


def _max_unpool2d_raw(x, indices, out_hw):
    if x.ndim not in (3, 4):
        raise RuntimeError(
            "Input to max_unpooling2d should be a 3d or 4d Tensor, but got a tensor with "
            f"{x.ndim} dimensions."
        )
    if len(out_hw) != 2:
        raise RuntimeError(
            "There should be exactly two elements (height, width) in output_size, but got "
            f"{len(out_hw)} elements."
        )
    idx = unwrap(indices)
    if idx.dtype != np.int64:
        names = {np.int32: "Int", np.int16: "Short", np.int8: "Char", np.uint8: "Byte"}
        name = names.get(idx.dtype.type, str(idx.dtype))
        raise RuntimeError(f"elements in indices should be type int64 but got: {name}")
    if tuple(idx.shape) != tuple(x.shape):
        raise RuntimeError(
            f"Expected shape of indices to be same as that of the input tensor ({list(x.shape)})"
            f" but got indices tensor with shape: {list(idx.shape)}"
        )
    oh, ow = out_hw
    if idx.size and (idx.min() < 0 or idx.max() >= oh * ow):
        bad = idx[(idx < 0) | (idx >= oh * ow)].reshape(-1)[0]
        raise RuntimeError(
            f"Found an invalid max index: {int(bad)} (output volumes are of size {oh}x{ow})"
        )
    y = _unpool.MaxUnpool.apply(x, indices=idx, out_spatial=(oh, ow))
    return _named(y, "MaxUnpool2DBackward0")


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):  # noqa: A002
    """Partial inverse of ``max_pool1d``: each value goes to the position its index names
    (within its (sample, channel) row); every other position is zero."""
    k = _tuple(kernel_size, 1)
    s = k if stride is None else _tuple(stride, 1)
    p = _tuple(padding, 1)
    out = _unpool_output_size(input, k, s, p, output_size)
    y = _max_unpool2d_raw(input.unsqueeze(-1), indices.unsqueeze(-1), out + [1])
    return y.squeeze(-1)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):  # noqa: A002
    """Partial inverse of ``max_pool2d``: each value goes to the flat position (h W + w) its
    index names in its (sample, channel) plane; every other position is zero."""
    k = _tuple(kernel_size, 2)
    s = k if stride is None else _tuple(stride, 2)
    p = _tuple(padding, 2)
    out = _unpool_output_size(input, k, s, p, output_size)
    return _max_unpool2d_raw(input, indices, out)
