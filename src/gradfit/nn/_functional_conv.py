"""The convolution, pooling, padding, interpolation and normalisation functions of
``gradfit.nn.functional`` (re-exported there), with PyTorch's signatures and defaults.

Each checks its arguments, turns int-or-tuple arguments into per-dim tuples, and calls one
op from ``gradfit.ops.conv``, ``gradfit.ops.pooling`` or ``gradfit.ops.normalization``.
Unbatched inputs (no batch axis) are accepted where PyTorch accepts them.
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from gradfit import _rng
from gradfit._arrays import bump_version, unwrap, wrap
from gradfit._grad_mode import no_grad
from gradfit._typenames import scalar_type
from gradfit.autograd._torch_names import named
from gradfit.ops import conv as _conv
from gradfit.ops import normalization as _norm
from gradfit.ops import pooling as _pool
from gradfit.tensor import Tensor

__all__ = [
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "adaptive_max_pool1d",
    "adaptive_max_pool2d",
    "avg_pool1d",
    "avg_pool2d",
    "batch_norm",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "max_pool3d",
    "avg_pool3d",
    "adaptive_avg_pool3d",
    "adaptive_max_pool3d",
    "dropout3d",
    "lp_pool1d",
    "lp_pool2d",
    "lp_pool3d",
    "dropout1d",
    "dropout2d",
    "fold",
    "group_norm",
    "instance_norm",
    "interpolate",
    "max_pool1d",
    "max_pool2d",
    "pad",
    "unfold",
]


def _ntuple(value, n: int, name: str, fn: str) -> tuple:
    if isinstance(value, numbers.Integral):
        return (int(value),) * n
    t = tuple(value)
    if len(t) == 1 and n > 1:
        t = t * n
    if len(t) != n or not all(isinstance(v, numbers.Integral) for v in t):
        raise ValueError(f"{fn}: {name} must be an int or a tuple of {n} ints, got {value!r}")
    return tuple(int(v) for v in t)


def _batched(input: Tensor, nd: int, fn: str, allow_unbatched: bool = True):  # noqa: A002
    """Return (input with a batch axis, whether one was added)."""
    if input.ndim == nd + 2:
        return input, False
    if allow_unbatched and input.ndim == nd + 1:
        return input.unsqueeze(0), True
    want = f"{nd + 1}D (unbatched) or {nd + 2}D (batched)" if allow_unbatched else f"{nd + 2}D"
    raise RuntimeError(f"Expected {want} input to {fn}, but got input of size: {list(input.shape)}")


# ------------------------------------------------------------------------ convolution
def conv_padding(padding, k, d, nd: int, stride, fn: str):
    """Per-dim (before, after) zero padding; 'same' pads d*(k-1) with the odd one after."""
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * nd
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(f"{fn}: padding='same' is not supported for strided convolutions")
            out = []
            for ki, di in zip(k, d):
                total = di * (ki - 1)
                out.append((total // 2, total - total // 2))
            return tuple(out)
        raise ValueError(
            f"{fn}: invalid padding string {padding!r}, should be one of {{'valid', 'same'}}"
        )
    p = _ntuple(padding, nd, "padding", fn)
    if any(v < 0 for v in p):
        raise RuntimeError(f"{fn}: negative padding is not supported, got {p}")
    return tuple((v, v) for v in p)


def _convnd(nd, input, weight, bias, stride, padding, dilation, groups, fn):  # noqa: A002
    x, unbatched = _batched(input, nd, fn)
    if weight.ndim != nd + 2:
        raise RuntimeError(
            f"{fn}: expected a {nd + 2}D weight (out_channels, in_channels/groups, *kernel), "
            f"got weight of size {list(weight.shape)}"
        )
    stride = _ntuple(stride, nd, "stride", fn)
    dilation = _ntuple(dilation, nd, "dilation", fn)
    k = tuple(weight.shape[2:])
    pads = conv_padding(padding, k, dilation, nd, stride, fn)
    c = x.shape[1]
    if groups < 1 or c % groups or weight.shape[0] % groups or weight.shape[1] * groups != c:
        raise RuntimeError(
            f"Given groups={groups}, weight of size {list(weight.shape)}, expected "
            f"input{list(x.shape)} to have {weight.shape[1] * groups} channels, but got "
            f"{c} channels instead"
        )
    if any(s < 1 for s in stride) or any(di < 1 for di in dilation):
        raise RuntimeError(f"{fn}: stride {stride} and dilation {dilation} must be positive")
    for size, ki, di, (lo, hi) in zip(x.shape[2:], k, dilation, pads):
        if size + lo + hi < di * (ki - 1) + 1:
            raise RuntimeError(
                "Calculated padded input size per channel: "
                f"({' x '.join(str(s + a + b) for s, (a, b) in zip(x.shape[2:], pads))}). "
                "Kernel size: ("
                + " x ".join(str(di * (ki - 1) + 1) for ki, di in zip(k, dilation))
                + "). "
                "Kernel size can't be greater than actual input size"
            )
    if unwrap(x).dtype != unwrap(weight).dtype:
        raise RuntimeError(
            f"expected scalar type {scalar_type(unwrap(x).dtype)} but found "
            f"{scalar_type(unwrap(weight).dtype)}"
        )
    y = _conv.ConvNd.apply(
        x, weight, bias, stride=stride, padding=pads, dilation=dilation, groups=groups
    )
    return y.squeeze(0) if unbatched else y


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):  # noqa: A002
    """1-D cross-correlation of (N, C_in, L) with weight (C_out, C_in/groups, k)."""
    return _convnd(1, input, weight, bias, stride, padding, dilation, groups, "conv1d")


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):  # noqa: A002
    """2-D cross-correlation of (N, C_in, H, W) with weight (C_out, C_in/groups, kH, kW)."""
    return _convnd(2, input, weight, bias, stride, padding, dilation, groups, "conv2d")


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):  # noqa: A002
    """3-D cross-correlation of (N, C_in, D, H, W)."""
    return _convnd(3, input, weight, bias, stride, padding, dilation, groups, "conv3d")


def _conv_transposend(
    nd, input, weight, bias, stride, padding, output_padding, groups, dilation, fn
):  # noqa: A002
    x, unbatched = _batched(input, nd, fn)
    stride = _ntuple(stride, nd, "stride", fn)
    padding = _ntuple(padding, nd, "padding", fn)
    output_padding = _ntuple(output_padding, nd, "output_padding", fn)
    dilation = _ntuple(dilation, nd, "dilation", fn)
    if weight.ndim != nd + 2:
        raise RuntimeError(
            f"{fn}: expected a {nd + 2}D weight (in_channels, out_channels/groups, *kernel), "
            f"got weight of size {list(weight.shape)}"
        )
    if x.shape[1] != weight.shape[0] or weight.shape[0] % groups:
        raise RuntimeError(
            f"Given transposed=1, weight of size {list(weight.shape)}, expected input"
            f"{list(x.shape)} to have {weight.shape[0]} channels, but got {x.shape[1]} "
            "channels instead"
        )
    for op, s, d in zip(output_padding, stride, dilation):
        if op >= s and op >= d:
            raise RuntimeError(
                f"{fn}: output padding must be smaller than either stride or dilation, but got "
                f"output_padding={output_padding}, stride={stride}, dilation={dilation}"
            )
    y = _conv.ConvTransposeNd.apply(
        x,
        weight,
        bias,
        stride=stride,
        padding=padding,
        output_padding=output_padding,
        dilation=dilation,
        groups=groups,
    )
    return y.squeeze(0) if unbatched else y


def conv_transpose1d(
    input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1
):  # noqa: A002
    """Transposed 1-D convolution (the input gradient of ``conv1d``)."""
    return _conv_transposend(
        1,
        input,
        weight,
        bias,
        stride,
        padding,
        output_padding,
        groups,
        dilation,
        "conv_transpose1d",
    )


def conv_transpose2d(
    input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1
):  # noqa: A002
    """Transposed 2-D convolution (the input gradient of ``conv2d``)."""
    return _conv_transposend(
        2,
        input,
        weight,
        bias,
        stride,
        padding,
        output_padding,
        groups,
        dilation,
        "conv_transpose2d",
    )


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):  # noqa: A002
    """Sliding blocks of (N, C, H, W) as columns (N, C*kH*kW, L) (im2col)."""
    if input.ndim not in (3, 4):
        raise RuntimeError(
            f"unfold: expected 3D (unbatched) or 4D (batched) input, got size {list(input.shape)}"
        )
    x, unbatched = _batched(input, 2, "unfold")
    k = _ntuple(kernel_size, 2, "kernel_size", "unfold")
    d = _ntuple(dilation, 2, "dilation", "unfold")
    p = _ntuple(padding, 2, "padding", "unfold")
    s = _ntuple(stride, 2, "stride", "unfold")
    y = _conv.Unfold.apply(x, kernel_size=k, dilation=d, padding=tuple((v, v) for v in p), stride=s)
    return y.squeeze(0) if unbatched else y


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):  # noqa: A002
    """Sum columns (N, C*kH*kW, L) back into an image (N, C, H, W) (col2im)."""
    if input.ndim not in (2, 3):
        raise RuntimeError(
            f"fold: expected 2D (unbatched) or 3D (batched) input, got size {list(input.shape)}"
        )
    unbatched = input.ndim == 2
    x = input.unsqueeze(0) if unbatched else input
    o = _ntuple(output_size, 2, "output_size", "fold")
    k = _ntuple(kernel_size, 2, "kernel_size", "fold")
    d = _ntuple(dilation, 2, "dilation", "fold")
    p = _ntuple(padding, 2, "padding", "fold")
    s = _ntuple(stride, 2, "stride", "fold")
    y = _conv.Fold.apply(
        x, output_size=o, kernel_size=k, dilation=d, padding=tuple((v, v) for v in p), stride=s
    )
    return y.squeeze(0) if unbatched else y


# ------------------------------------------------------------------------ pooling
def _pool_args(nd, kernel_size, stride, padding, dilation, fn):
    k = _ntuple(kernel_size, nd, "kernel_size", fn)
    s = (
        k
        if stride is None or (not isinstance(stride, int) and len(stride) == 0)
        else _ntuple(stride, nd, "stride", fn)
    )
    p = _ntuple(padding, nd, "padding", fn)
    d = _ntuple(dilation, nd, "dilation", fn)
    if any(v <= 0 for v in k + s + d):
        raise ValueError(f"{fn}: kernel_size {k}, stride {s} and dilation {d} must be positive")
    for pi, ki, di in zip(p, k, d):
        if fn == "max_pool1d" and pi > ki // 2:
            raise RuntimeError(
                "max_pool1d() padding should be at most half of kernel size, but got "
                f"padding={pi} and kernel_size={ki}"
            )
        if pi > ((ki - 1) * di + 1) // 2:
            raise RuntimeError(
                f"pad should be at most half of effective kernel size, but got pad={pi}, "
                f"kernel_size={ki} and dilation={di}"
            )
    return k, s, p, d


def _check_pool_input(input, nd, fn):  # noqa: A002
    if input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(
            f"{fn}: expected {nd + 1}D or {nd + 2}D input, but got input of size "
            f"{list(input.shape)}"
        )


def _check_pool_output(input, nd, k, s, p, d, ceil_mode, fn):  # noqa: A002
    outs = [
        _pool.pool_out_size(size, ki, si, pi, di, ceil_mode)
        for size, ki, si, pi, di in zip(input.shape[-nd:], k, s, p, d)
    ]
    if min(outs) <= 0:
        if fn == "max_pool1d":
            raise RuntimeError(f"max_pool1d() Invalid computed output size: {outs[0]}")
        if fn == "avg_pool3d":
            t, h, w = input.shape[-3:]
            raise RuntimeError(
                f"input image (T: {t} H: {h} W: {w}) smaller than kernel size "
                f"(kT: {k[0]} kH: {k[1]} kW: {k[2]})"
            )
        # PyTorch's avg_pool1d is avg_pool2d over (C, 1, L)
        planes = (input.shape[-nd - 1], 1) if nd == 1 else (input.shape[-nd - 1],)
        given = "x".join(str(v) for v in (*planes, *input.shape[-nd:]))
        calc = "x".join(str(v) for v in (*planes, *outs))
        raise RuntimeError(
            f"Given input size: ({given}). Calculated output size: ({calc}). "
            "Output size is too small"
        )


def _max_poolnd(nd, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, fn):  # noqa: A002
    _check_pool_input(input, nd, fn)
    k, s, p, d = _pool_args(nd, kernel_size, stride, padding, dilation, fn)
    _check_pool_output(input, nd, k, s, p, d, ceil_mode, fn)
    y = _pool.MaxPoolNd.apply(
        input, kernel_size=k, stride=s, padding=p, dilation=d, ceil_mode=ceil_mode
    )
    if return_indices:
        return y, wrap(_last_indices(y, input, k, s, p, d, ceil_mode))
    return y


def _last_indices(y, input, k, s, p, d, ceil_mode):  # noqa: A002
    node = y.grad_fn
    if node is None or not hasattr(node, "arg"):
        # no graph was recorded (no_grad or no input gradient): run the op's forward again
        node = object.__new__(_pool.MaxPoolNd)
        _pool.MaxPoolNd.forward(
            node,
            unwrap(input),
            kernel_size=k,
            stride=s,
            padding=p,
            dilation=d,
            ceil_mode=ceil_mode,
        )
    return _pool.MaxPoolNd.indices(node)


def max_pool1d(
    input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False
):  # noqa: A002
    """Max over windows of (N, C, L) (-inf padding, PyTorch's ``ceil_mode``)."""
    return _max_poolnd(
        1, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, "max_pool1d"
    )


def max_pool2d(
    input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False
):  # noqa: A002
    """Max over windows of (N, C, H, W) (-inf padding, PyTorch's ``ceil_mode``)."""
    return _max_poolnd(
        2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, "max_pool2d"
    )


def _avg_poolnd(
    nd, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, fn
):  # noqa: A002
    _check_pool_input(input, nd, fn)
    k, s, p, _ = _pool_args(nd, kernel_size, stride, padding, 1, fn)
    _check_pool_output(input, nd, k, s, p, (1,) * nd, ceil_mode, fn)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError(f"{fn}: divisor must be not zero")
    return _pool.AvgPoolNd.apply(
        input,
        kernel_size=k,
        stride=s,
        padding=p,
        ceil_mode=ceil_mode,
        count_include_pad=count_include_pad,
        divisor_override=divisor_override,
    )


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):  # noqa: A002
    """Mean over windows of (N, C, L)."""
    return _avg_poolnd(
        1, input, kernel_size, stride, padding, ceil_mode, count_include_pad, None, "avg_pool1d"
    )


def avg_pool2d(
    input,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode=False,
    count_include_pad=True,
    divisor_override=None,
):  # noqa: A002
    """Mean over windows of (N, C, H, W) (``divisor_override`` replaces the count)."""
    return _avg_poolnd(
        2,
        input,
        kernel_size,
        stride,
        padding,
        ceil_mode,
        count_include_pad,
        divisor_override,
        "avg_pool2d",
    )


def _adaptive_size(nd, input, output_size, fn):  # noqa: A002
    _check_pool_input(input, nd, fn)
    if isinstance(output_size, numbers.Integral) or output_size is None:
        output_size = (output_size,) * nd
    out = tuple(
        input.shape[input.ndim - nd + i] if o is None else int(o) for i, o in enumerate(output_size)
    )
    if len(out) != nd or any(o <= 0 for o in out):
        raise ValueError(f"{fn}: output_size must be {nd} positive ints, got {output_size!r}")
    return out


def adaptive_avg_pool1d(input, output_size):  # noqa: A002
    return _pool.AdaptiveAvgPoolNd.apply(
        input, output_size=_adaptive_size(1, input, output_size, "adaptive_avg_pool1d")
    )


def adaptive_avg_pool2d(input, output_size):  # noqa: A002
    return _pool.AdaptiveAvgPoolNd.apply(
        input, output_size=_adaptive_size(2, input, output_size, "adaptive_avg_pool2d")
    )


def _adaptive_max(nd, input, output_size, return_indices, fn):  # noqa: A002
    out = _adaptive_size(nd, input, output_size, fn)
    y = _pool.AdaptiveMaxPoolNd.apply(input, output_size=out)
    if not return_indices:
        return y
    node = y.grad_fn
    if node is None:
        node = object.__new__(_pool.AdaptiveMaxPoolNd)
        _pool.AdaptiveMaxPoolNd.forward(node, unwrap(input), output_size=out)
    return y, wrap(np.ascontiguousarray(node.indices, dtype=np.int64))


def adaptive_max_pool1d(input, output_size, return_indices=False):  # noqa: A002
    return _adaptive_max(1, input, output_size, return_indices, "adaptive_max_pool1d")


def adaptive_max_pool2d(input, output_size, return_indices=False):  # noqa: A002
    return _adaptive_max(2, input, output_size, return_indices, "adaptive_max_pool2d")


# ------------------------------------------------------------------------ pad, interpolate
_PAD_MODES = ("constant", "reflect", "replicate", "circular")


def _pad_index(size: int, lo: int, hi: int, mode: str) -> np.ndarray:
    """Source index of each output position along one axis; negative amounts crop."""
    j = np.arange(-lo, size + hi)
    if mode == "reflect":
        j = np.abs(j)
        return np.where(j >= size, 2 * (size - 1) - j, j)
    if mode == "replicate":
        return np.clip(j, 0, size - 1)
    # circular: PyTorch crops first, then wraps what is left
    start, kept = max(-lo, 0), size - max(-lo, 0) - max(-hi, 0)
    return start + np.arange(-max(lo, 0), kept + max(hi, 0)) % kept


_NONCONST_PAD_HELP = (
    "Supported combinations for non-constant padding:\n"
    "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
    "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
    "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)"
)


def _check_nonconstant_pad(shape: tuple, pairs: tuple, mode: str) -> None:
    """PyTorch's checks (and messages) for reflect, replicate and circular padding;
    ``pairs`` are (before, after) from the first padded axis to the last."""
    nd, ndim = len(pairs), len(shape)
    if not nd + 1 <= ndim <= nd + 2:
        raise NotImplementedError(
            f"Padding size {2 * nd} is not supported for {ndim}D input tensor.\n"
            + _NONCONST_PAD_HELP
        )
    sizes = shape[ndim - nd :]
    if mode == "circular":
        for s, (lo, hi) in zip(sizes, pairs):
            if lo > s or hi > s:
                raise RuntimeError("Padding value causes wrapping around more than once.")
            if lo + hi + s < 0:
                raise RuntimeError("Negative padding value is resulting in an empty dimension")
            if lo + hi + s > 0 and s - max(-lo, 0) - max(-hi, 0) <= 0:
                # PyTorch returns uninitialised memory here
                raise RuntimeError(
                    f"circular padding ({lo}, {hi}) crops the whole dimension of size {s} and "
                    "leaves nothing to wrap around"
                )
        return
    if any(v == 0 for v in shape[1:]) or (ndim == nd + 1 and shape[0] == 0):
        raise RuntimeError(
            f"Expected {nd + 1}D or {nd + 2}D (batch mode) tensor with possibly 0 batch size "
            f"and other non-zero dimensions for input, but got: {list(shape)}"
        )
    if mode == "reflect":
        # PyTorch checks W, then H, then D: padding arguments #4, #6, #8
        for i, ax in enumerate(reversed(range(ndim - nd, ndim))):
            lo, hi = pairs[ax - (ndim - nd)]
            if lo >= shape[ax] or hi >= shape[ax]:
                raise RuntimeError(
                    f"Argument #{4 + 2 * i}: Padding size should be less than the "
                    f"corresponding input dimension, but got: padding ({lo}, {hi}) at "
                    f"dimension {ax} of input {list(shape)}"
                )
    out = [s + lo + hi for s, (lo, hi) in zip(sizes, pairs)]
    if any(o < 1 for o in out):
        names = "DHW"[3 - nd :]
        given = ", ".join(f"{n}: {s}" for n, s in zip(names, sizes))
        calc = " ".join(f"{n}: {o}" for n, o in zip(names, out))
        raise RuntimeError(f"input ({given}) is too small. Calculated output {calc}")


def pad(input, pad, mode="constant", value=None):  # noqa: A002
    """Pad the last len(pad)//2 dims: ``pad = (last_before, last_after, prev_before, ...)``.

    Modes: 'constant' (with ``value``, 0 by default), 'reflect' (mirror without repeating
    the edge), 'replicate' (repeat the edge), 'circular' (wrap). Negative amounts crop, in
    every mode. The non-constant modes pad the last 1, 2 or 3 dims of an input with one
    or two more dims (PyTorch's rule).
    """
    pad = tuple(int(v) for v in pad)
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > input.ndim:
        raise RuntimeError(
            "Padding length should be less than or equal to two times the input dimension "
            f"but got padding length {len(pad)} and input of dimension {input.ndim}"
        )
    if mode not in _PAD_MODES:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    nd = len(pad) // 2
    pairs = tuple((pad[2 * i], pad[2 * i + 1]) for i in reversed(range(nd)))
    sizes = input.shape[input.ndim - nd :]
    if mode == "constant":
        if any(s + min(lo, 0) + min(hi, 0) < 0 for s, (lo, hi) in zip(sizes, pairs)):
            raise RuntimeError("narrow(): length must be non-negative.")
        return _pool.ConstantPad.apply(input, pads=pairs, value=0.0 if value is None else value)
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    _check_nonconstant_pad(tuple(input.shape), pairs, mode)
    if input.numel() == 0 or any(s + lo + hi == 0 for s, (lo, hi) in zip(sizes, pairs)):
        # an empty result (an empty batch, or circular cropping a whole axis): only its
        # shape matters
        empty = tuple(
            (-s, 0) if s + lo + hi == 0 else (lo, hi) for s, (lo, hi) in zip(sizes, pairs)
        )
        return _pool.ConstantPad.apply(input, pads=empty, value=0.0)
    maps = tuple(
        (_pad_index(s, lo, hi, mode)[:, None], None) if lo or hi else (None, None)
        for s, (lo, hi) in zip(sizes, pairs)
    )
    y = _pool.AxisMap.apply(input, maps=maps)
    if y.grad_fn is not None and mode != "circular":  # PyTorch's grad_fn name
        kind = "Reflection" if mode == "reflect" else "Replication"
        y.grad_fn.torch_name = f"{kind}Pad{nd}DBackward0"
    return y


_INTERP_ND = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}
_CUBIC_A = -0.75  # PyTorch's (and OpenCV's) cubic convolution parameter


def _interp_map(size_in, size_out, scale, mode, align_corners, dtype):
    """(index, weight) arrays of shape (out, J) for one axis, PyTorch's source-index rules."""
    dst = np.arange(size_out)
    if mode == "nearest":
        if size_in == size_out:
            return None, None
        # PyTorch computes this in float: floor(dst * scale) with scale = 1/sf or in/out
        s = np.float32(1.0 / scale) if scale else np.float32(size_in / size_out)
        src = np.floor(dst.astype(np.float32) * s).astype(np.int64)
        return np.minimum(src, size_in - 1)[:, None], None
    if mode == "nearest-exact":
        if size_in == size_out:
            return None, None
        s = np.float32(1.0 / scale) if scale else np.float32(size_in / size_out)
        src = np.floor((dst.astype(np.float32) + np.float32(0.5)) * s).astype(np.int64)
        return np.minimum(src, size_in - 1)[:, None], None
    opmath = np.float32 if dtype == np.float32 else np.float64
    if mode == "bicubic":
        return _cubic_map(size_in, size_out, scale, align_corners, opmath)
    if align_corners:
        s = opmath((size_in - 1) / (size_out - 1)) if size_out > 1 else opmath(0)
        src = s * dst.astype(opmath)
    else:
        s = opmath(1.0 / scale) if scale else opmath(size_in / size_out)
        src = np.maximum(s * (dst.astype(opmath) + opmath(0.5)) - opmath(0.5), opmath(0))
    i0 = src.astype(np.int64)
    lam = np.clip(src - i0.astype(opmath), 0, 1).astype(opmath)
    i1 = i0 + (i0 < size_in - 1)
    idx = np.stack([i0, i1], axis=1)
    wts = np.stack([1 - lam, lam], axis=1)
    return idx, wts


def _cubic_map(size_in, size_out, scale, align_corners, opmath):
    """Bicubic's four taps per output position (PyTorch's upsample_bicubic2d): source
    positions without clamping at 0, indices clamped to the border, and Keys' cubic
    convolution weights with A = -0.75."""
    dst = np.arange(size_out).astype(opmath)
    if align_corners:
        s = opmath((size_in - 1) / (size_out - 1)) if size_out > 1 else opmath(0)
        src = s * dst
    else:
        s = opmath(1.0 / scale) if scale else opmath(size_in / size_out)
        src = s * (dst + opmath(0.5)) - opmath(0.5)
    base = np.floor(src)
    t = (src - base).astype(opmath)
    a = opmath(_CUBIC_A)

    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    one = opmath(1)
    wts = np.stack([far(t + one), near(t), near(one - t), far(one - t + one)], axis=1)
    idx = base.astype(np.int64)[:, None] + np.arange(-1, 3)
    return np.clip(idx, 0, size_in - 1), wts.astype(opmath)


def _aa_map(size_in, size_out, scale, mode, align_corners, opmath):
    """Anti-aliased bilinear/bicubic taps for one axis (PyTorch's
    ``_compute_weights_aa``, as PIL's resampling): when shrinking by ``s``, the filter
    (triangle, or Keys' cubic with A = -0.5) is stretched over ``s`` input pixels, and
    each output's weights are normalised to sum to 1. Returns (index, weight) of shape
    (out, J), unused taps with weight 0."""
    interp = 2 if mode == "bilinear" else 4
    if align_corners:
        s = opmath((size_in - 1) / (size_out - 1)) if size_out > 1 else opmath(0)
    else:
        s = opmath(1.0 / scale) if scale else opmath(size_in / size_out)
    support = opmath(interp * 0.5) * s if s >= 1 else opmath(interp * 0.5)
    invscale = opmath(1) / s if s >= 1 else opmath(1)
    width = int(math.ceil(float(support))) * 2 + 1  # PyTorch's max_interp_size
    center = s * (np.arange(size_out).astype(opmath) + opmath(0.5))
    half = opmath(0.5)
    xmin = np.maximum(np.trunc(center - support + half).astype(np.int64), 0)
    xsize = np.minimum(np.trunc(center + support + half).astype(np.int64), size_in) - xmin
    j = np.arange(width)
    x = np.abs((j[None, :] + xmin[:, None]).astype(opmath) - center[:, None] + half) * invscale
    if mode == "bilinear":
        w = np.where(x < 1, 1 - x, 0)
    else:
        a = opmath(-0.5)
        near = ((a + 2) * x - (a + 3)) * x * x + 1
        far = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
        w = np.where(x < 1, near, np.where(x < 2, far, 0))
    w = np.where(j[None, :] < xsize[:, None], w, 0).astype(opmath)
    total = w.sum(axis=1, keepdims=True)
    w = np.where(total != 0, w / np.where(total != 0, total, 1), w).astype(opmath)
    return np.clip(xmin[:, None] + j[None, :], 0, size_in - 1), w


def interpolate(
    input,
    size=None,
    scale_factor=None,
    mode="nearest",
    align_corners=None,
    recompute_scale_factor=None,
    antialias=False,
):  # noqa: A002
    """Resize the spatial dims of (N, C, *S): 'nearest', 'nearest-exact', 'linear' (3-D
    input), 'bilinear' and 'bicubic' (4-D), 'trilinear' (5-D), with PyTorch's
    ``align_corners`` and scale rules; 'area' is adaptive average pooling."""
    nd = input.ndim - 2
    if nd < 1:
        raise ValueError(f"interpolate: expected at least a 3D input (N, C, *), got {input.ndim}D")
    if antialias and (mode not in ("bilinear", "bicubic") or input.ndim != 4):
        raise ValueError(
            "Anti-alias option is restricted to bilinear, bicubic, and lanczos modes and "
            "requires a 4-D tensor as input"
        )
    if mode in ("nearest", "nearest-exact", "area"):
        if align_corners is not None:
            raise ValueError(
                "align_corners option can only be set with the interpolating modes: "
                "linear | bilinear | bicubic | trilinear"
            )
    elif mode in _INTERP_ND:
        if _INTERP_ND[mode] != nd:
            raise NotImplementedError(
                f"Got {input.ndim}D input, but {mode} mode needs {_INTERP_ND[mode] + 2}D input"
            )
        align_corners = bool(align_corners)
    else:
        raise NotImplementedError(
            f"interpolate: mode {mode!r} is not supported; expected nearest, nearest-exact, "
            "linear, bilinear, bicubic, trilinear or area"
        )
    if (size is None) == (scale_factor is None):
        raise ValueError(
            "only one of size or scale_factor should be defined"
            if size is not None
            else "either size or scale_factor should be defined"
        )
    sizes = input.shape[2:]
    if size is not None:
        out = _ntuple(size, nd, "size", "interpolate")
        scales = (None,) * nd
    else:
        sf = (
            tuple(float(v) for v in scale_factor)
            if isinstance(scale_factor, tuple | list)
            else (float(scale_factor),) * nd
        )
        if len(sf) != nd:
            raise ValueError(
                f"interpolate: scale_factor must have {nd} entries, got {scale_factor}"
            )
        out = tuple(int(math.floor(float(s) * f)) for s, f in zip(sizes, sf))
        scales = (None,) * nd if recompute_scale_factor else sf
    if any(o <= 0 for o in out):
        raise ValueError(
            f"interpolate: input and output sizes should be greater than 0, but got input "
            f"(spatial) size {tuple(sizes)} and output size {out}"
        )
    if mode == "area":
        return _pool.AdaptiveAvgPoolNd.apply(input, output_size=out)
    dt = unwrap(input).dtype
    if antialias:
        opmath = np.float32 if dt == np.float32 else np.float64
        maps = tuple(
            _aa_map(si, so, sc, mode, align_corners, opmath)
            for si, so, sc in zip(sizes, out, scales)
        )
        y = _pool.AxisMap.apply(input, maps=maps)
        return named(y, f"Upsample{mode.capitalize()}2DAaBackward0")
    maps = tuple(
        _interp_map(si, so, sc, mode, align_corners, dt) for si, so, sc in zip(sizes, out, scales)
    )
    out = _pool.AxisMap.apply(input, maps=maps)
    kind = {"nearest-exact": "NearestExact"}.get(mode, mode.capitalize())
    return named(out, f"Upsample{kind}{input.ndim - 2}DBackward0")  # PyTorch's kernel


# ------------------------------------------------------------------------ normalisation
def batch_norm(
    input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5
):  # noqa: A002
    """Normalise each channel (axis 1) of (N, C, *S), then scale and shift.

    In training the batch statistics are used, and the running estimates (if given) are
    updated in place as PyTorch does: ``r = (1 - momentum) r + momentum * stat`` with the
    **unbiased** batch variance. Otherwise the running estimates are used.
    """
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected at least 2D input, got {input.ndim}D")
    c = input.shape[1]
    if training and input.numel() // c <= 1:
        raise ValueError(
            f"Expected more than 1 value per channel when training, got input size {input.size()}"
        )
    for name, t in (("running_mean", running_mean), ("running_var", running_var)):
        if t is not None and t.numel() != c:
            raise RuntimeError(f"{name} should contain {c} elements not {t.numel()}")
    for name, t in (("weight", weight), ("bias", bias)):  # checked after the running stats
        if t is not None and t.numel() != c:
            raise RuntimeError(f"{name} should contain {c} elements not {t.numel()}")
    if training:
        stats = []
        y = _norm.BatchNorm.apply(input, weight, bias, training=True, eps=eps, stats=stats)
        if running_mean is not None or running_var is not None:
            mu, var_sum, m = stats[0]
            with no_grad():  # PyTorch's update: the momentum in the statistics' dtype
                if running_mean is not None:
                    rm = unwrap(running_mean)
                    factor = rm.dtype.type(momentum)
                    rm[...] = factor * mu.astype(rm.dtype) + (1 - factor) * rm
                    bump_version(running_mean)
                if running_var is not None:
                    rv = unwrap(running_var)
                    factor = rv.dtype.type(momentum)
                    unbiased = (var_sum / var_sum.dtype.type(m - 1)).astype(np.float64)
                    rv[...] = factor * unbiased + ((1 - factor) * rv).astype(np.float64)
                    bump_version(running_var)
        return y
    if running_mean is None or running_var is None:
        raise ValueError("batch_norm: running_mean and running_var must be given when not training")
    return _norm.BatchNorm.apply(
        input,
        weight,
        bias,
        mean=unwrap(running_mean),
        var=unwrap(running_var),
        training=False,
        eps=eps,
    )


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):  # noqa: A002
    """Normalise each sample over groups of ``C / num_groups`` channels and all positions."""
    if input.ndim < 2 or input.shape[1] % num_groups:
        raise RuntimeError(
            f"Expected number of channels in input to be divisible by num_groups, but got input "
            f"of shape {list(input.shape)} and num_groups={num_groups}"
        )
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and (t.ndim != 1 or t.shape[0] != input.shape[1]):
            raise RuntimeError(
                f"Expected {name} to be a vector of size equal to the number of channels in "
                f"input, but got {name} of shape {list(t.shape)} and input of shape "
                f"{list(input.shape)}"
            )
    return _norm.GroupNorm.apply(input, weight, bias, num_groups=num_groups, eps=eps)


def instance_norm(
    input,
    running_mean=None,
    running_var=None,
    weight=None,
    bias=None,
    use_input_stats=True,
    momentum=0.1,
    eps=1e-5,
):  # noqa: A002
    """Normalise each (sample, channel) over its positions. With ``use_input_stats`` the
    running estimates (if given) are updated with the batch average of the instance
    statistics, as PyTorch does; without, they are used instead.

    As PyTorch's ``instance_norm``: batch norm of the input viewed as (1, N * C, ...), with
    the weight, bias and running estimates repeated N times; the estimates are then the
    mean over the N copies. So its values round exactly as ``batch_norm``'s."""
    if not use_input_stats:
        return batch_norm(input, running_mean, running_var, weight, bias, False, momentum, eps)
    n, c = input.shape[:2]
    m = input.numel() // (n * c)
    if m <= 1:
        raise ValueError(
            f"Expected more than 1 spatial element when training, got input size {input.size()}"
        )
    repeated = [None if t is None else t.repeat(n) for t in (weight, bias)]
    with no_grad():
        stats = [None if t is None else t.repeat(n) for t in (running_mean, running_var)]
    flat = input.contiguous().view(1, n * c, *input.shape[2:])
    y = batch_norm(flat, stats[0], stats[1], repeated[0], repeated[1], True, momentum, eps)
    with no_grad():
        for kept, copies in zip((running_mean, running_var), stats):
            if kept is not None:
                unwrap(kept)[...] = unwrap(copies.view(n, c).mean(0))
                bump_version(kept)
    return y.view(input.shape)


# ------------------------------------------------------------------------ dropout
def _feature_dropout(input, p, training):  # noqa: A002
    """PyTorch's ``feature_dropout``: zero whole channels (dimension 1) of (N, C, ...) with
    probability p and scale the rest by 1/(1 - p); one draw per (sample, channel)."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0 or input.numel() == 0:
        return input
    a = unwrap(input)
    if p == 1.0:
        return input * wrap(np.zeros((), dtype=a.dtype))
    if a.ndim < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    mask = _rng.bernoulli_mask(a.shape[:2] + (1,) * (a.ndim - 2), 1.0 - p, a.dtype)
    mask = mask / np.asarray(1.0 - p, dtype=a.dtype)
    return input * wrap(mask.astype(a.dtype, copy=False))


def _unbatched_feature_dropout(input, p, training):  # noqa: A002
    """A channel-first input without its batch dimension is treated as a batch of one."""
    return _feature_dropout(input.unsqueeze(0), p, training).squeeze(0)


def _warn_feature_dims(fn: str, input, dims: tuple, spatial: str) -> None:  # noqa: A002
    if input.ndim not in dims:
        warnings.warn(
            f"{fn}: Received a {input.ndim}-D input to {fn}, which is deprecated and will "
            "result in an error in a future release. To retain the behavior and silence this "
            f"warning, please use dropout instead. Note that {fn} exists to provide "
            f"channel-wise dropout on inputs with {spatial} spatial dimensions, a channel "
            f"dimension, and an optional batch dimension (i.e. {dims[0]}D or {dims[1]}D inputs).",
            stacklevel=3,
        )


def dropout1d(input, p=0.5, training=True, inplace=False):  # noqa: A002
    """Zero whole channels of (N, C, L) (or (C, L)) with probability p, scale by 1/(1-p).
    The mask is one draw per (sample, channel), as PyTorch draws it."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if input.ndim not in (2, 3):
        raise RuntimeError(
            f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D input. Note "
            "that dropout1d exists to provide channel-wise dropout on inputs with 1 spatial "
            "dimension, a channel dimension, and an optional batch dimension (i.e. 2D or 3D "
            "inputs)."
        )
    if input.ndim == 2:
        return _unbatched_feature_dropout(input, p, training)
    return _feature_dropout(input, p, training)


def dropout2d(input, p=0.5, training=True, inplace=False):  # noqa: A002
    """Zero whole channels of (N, C, H, W) with probability p. As in PyTorch, a 3-D input
    is taken as (N, C, L) (with its warning) and other ranks are accepted with a
    deprecation warning: dimension 1 is the channel."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    _warn_feature_dims("dropout2d", input, (3, 4), "2")
    if input.ndim == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D "
            "dropout behavior is desired - input is interpreted as shape (N, C, L), where C is "
            "the channel dim. This behavior will change in a future release to interpret the "
            "input as one without a batch dimension, i.e. shape (C, H, W). To maintain the 1D "
            "channel-wise dropout behavior, please switch to using dropout1d instead.",
            stacklevel=2,
        )
    return _feature_dropout(input, p, training)


# ------------------------------------------------------------------------ 3-D forms
def conv_transpose3d(
    input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1
):  # noqa: A002
    """Transposed 3-D convolution (the input gradient of ``conv3d``)."""
    return _conv_transposend(
        3, input, weight, bias, stride, padding, output_padding, groups, dilation,
        "conv_transpose3d",
    )  # fmt: skip


def max_pool3d(
    input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False
):  # noqa: A002
    """Max over windows of (N, C, D, H, W), arguments as ``max_pool2d``."""
    return _max_poolnd(
        3, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, "max_pool3d"
    )


def avg_pool3d(
    input,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode=False,
    count_include_pad=True,
    divisor_override=None,
):  # noqa: A002
    """Mean over windows of (N, C, D, H, W), arguments as ``avg_pool2d``."""
    return _avg_poolnd(
        3, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override,
        "avg_pool3d",
    )  # fmt: skip


def adaptive_avg_pool3d(input, output_size):  # noqa: A002
    return _pool.AdaptiveAvgPoolNd.apply(
        input, output_size=_adaptive_size(3, input, output_size, "adaptive_avg_pool3d")
    )


def adaptive_max_pool3d(input, output_size, return_indices=False):  # noqa: A002
    return _adaptive_max(3, input, output_size, return_indices, "adaptive_max_pool3d")


def dropout3d(input, p=0.5, training=True, inplace=False):  # noqa: A002
    """Zero whole channels of (N, C, D, H, W) (or (C, D, H, W)) with probability p; other
    ranks are accepted with PyTorch's deprecation warning (a rank other than 5 is taken as
    unbatched)."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    _warn_feature_dims("dropout3d", input, (4, 5), "3")
    if input.ndim != 5:
        return _unbatched_feature_dropout(input, p, training)
    return _feature_dropout(input, p, training)


def _lp_poolnd(nd, input, norm_type, kernel_size, stride, ceil_mode, fn):  # noqa: A002
    """PyTorch's formula: (sum over the window of x^p)^(1/p), through the average pool
    times the window's size (sign(s) relu(|s|) keeps a negative sum's sign, as PyTorch)."""
    k = _ntuple(kernel_size, nd, "kernel_size", fn)
    out = _avg_poolnd(nd, input.pow(norm_type), k, stride, 0, ceil_mode, True, None, fn)
    return (out.sign() * out.abs().relu()).mul(math.prod(k)).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):  # noqa: A002
    """Power-average pooling of (N, C, L): (sum of x^p over each window)^(1/p)."""
    return _lp_poolnd(1, input, norm_type, kernel_size, stride, ceil_mode, "lp_pool1d")


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):  # noqa: A002
    """Power-average pooling of (N, C, H, W)."""
    return _lp_poolnd(2, input, norm_type, kernel_size, stride, ceil_mode, "lp_pool2d")


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):  # noqa: A002
    """Power-average pooling of (N, C, D, H, W)."""
    return _lp_poolnd(3, input, norm_type, kernel_size, stride, ceil_mode, "lp_pool3d")
