"""``fractional_max_pool2d`` / ``fractional_max_pool3d`` with PyTorch's argument handling
(torch/nn/functional.py, ATen's FractionalMaxPool2d/3d.cpp): ``output_size`` or
``output_ratio``, ``return_indices``, and ``_random_samples`` drawn as PyTorch draws them
(``rand(N, C, dims)`` in the input's dtype, from gradfit's PyTorch-exact stream) when not
given, so a seeded program pools the same windows."""

from __future__ import annotations

import numpy as np

from gradfit import random as _random
from gradfit._arrays import unwrap, wrap
from gradfit._typenames import NAMES
from gradfit.ops.fractional_pool import FractionalMaxPool, fractional_indices
from gradfit.tensor import Tensor

__all__ = [
    "fractional_max_pool2d",
    "fractional_max_pool2d_with_indices",
    "fractional_max_pool3d",
    "fractional_max_pool3d_with_indices",
]


def _tuple(v, n: int) -> tuple:
    if isinstance(v, (list, tuple)):
        return tuple(v)
    return (v,) * n


def _check_samples(samples: np.ndarray, x: np.ndarray, nd: int) -> None:
    """ATen's ``fractional_max_pool_check_shape``."""
    if samples.dtype != x.dtype:
        raise RuntimeError("Expect _random_samples to have the same dtype as input")
    if samples.ndim != 3:
        raise RuntimeError(f"Expect _random_samples to have 3 dimensions, got {samples.ndim}")
    batched = x.ndim == nd + 2
    batch, channels = (x.shape[0], x.shape[1]) if batched else (1, x.shape[0])
    if samples.shape[0] < batch:
        raise RuntimeError("Expect _random_samples.size(0) no less then input batch size.")
    if samples.shape[1] != channels:
        raise RuntimeError("Expect _random_samples.size(1) equals to input channel size.")
    if samples.shape[2] != nd:
        raise RuntimeError(
            f"Expect _random_samples.size(2) equals to {nd}; got {samples.shape[2]}."
        )


def _with_indices(input, kernel_size, output_size, output_ratio, samples, nd: int):  # noqa: A002
    """(output, indices) of fractional max pooling over the last ``nd`` dims."""
    name = f"fractional_max_pool{nd}d"
    if output_size is None and output_ratio is None:
        raise ValueError(f"{name} requires specifying either an output_size or an output_ratio")
    if output_size is None:
        if len(output_ratio) > nd:  # a float has no len(), as in PyTorch
            raise ValueError(
                f"{name} requires output_ratio to either be a single Int or tuple of Ints."
            )
        ratio = _tuple(output_ratio, nd)
        output_size = [int(input.size(-nd + i) * ratio[i]) for i in range(nd)]
    x = unwrap(input)
    if samples is None and x.ndim < nd + 1:  # PyTorch fails reading input.size(-nd - 1)
        d = max(x.ndim, 1)
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-d}, {d - 1}], but got "
            f"{-nd - 1})"
        )
    if samples is None:
        n_batch = 1 if input.dim() == nd + 1 else input.size(0)
        if x.dtype.kind != "f":
            type_name = NAMES.get(x.dtype, str(x.dtype)).removesuffix("Tensor")
            raise NotImplementedError(f"\"check_uniform_bounds\" not implemented for '{type_name}'")
        samples = _random.rand(n_batch, input.size(-nd - 1), nd, dtype=input.dtype)
    kernel = _tuple(kernel_size, nd)
    out = _tuple(output_size, nd)
    where = f"{name}()" if nd == 2 else "fractional_max_pool3d_out()"
    if len(kernel) != nd:
        raise RuntimeError(f"{name}: kernel_size must either be a single Int or tuple of Ints")
    if len(out) != nd:
        raise RuntimeError(f"{name}: output_size must either be a single Int or tuple of Ints")
    if x.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(
            f"{where}: Expected {nd + 1}D or {nd + 2}D tensor, but got: {list(x.shape)}"
        )
    for i in range(1, x.ndim):
        if x.shape[i] <= 0:
            raise RuntimeError(
                f"{where}: Expected input to have non-zero size for non-batch dimensions, "
                f"but got{list(x.shape)} with dimension {i} being empty."
            )
    axes = ("height", "width") if nd == 2 else ("time", "height", "width")
    for axis, k, o, size in zip(axes, kernel, out, x.shape[-nd:]):
        # the 3-D kernel's bound is strict (ATen)
        if (o + k - 1 > size) if nd == 2 else (o + k - 1 >= size):
            raise RuntimeError(
                f"{where}: pool {axis} {k} too large relative to input {axis} {size}"
            )
    _check_samples(unwrap(samples), x, nd)
    # the samples' last axis lists (W, H) in 2-D and (T, H, W) in 3-D
    axis_sample = (1, 0) if nd == 2 else (0, 1, 2)
    indices = fractional_indices(x, unwrap(samples), kernel, out, axis_sample)
    empty = 0 in kernel
    y = FractionalMaxPool.apply(input, indices, nd=nd, empty=empty)
    return y, wrap(indices)


def fractional_max_pool2d_with_indices(
    input: Tensor,  # noqa: A002
    kernel_size,
    output_size=None,
    output_ratio=None,
    return_indices: bool = False,
    _random_samples: Tensor | None = None,
):
    """2-D fractional max pooling, returning (output, indices)."""
    return _with_indices(input, kernel_size, output_size, output_ratio, _random_samples, 2)


def fractional_max_pool3d_with_indices(
    input: Tensor,  # noqa: A002
    kernel_size,
    output_size=None,
    output_ratio=None,
    return_indices: bool = False,
    _random_samples: Tensor | None = None,
):
    """3-D fractional max pooling, returning (output, indices)."""
    return _with_indices(input, kernel_size, output_size, output_ratio, _random_samples, 3)


def fractional_max_pool2d(
    input: Tensor,  # noqa: A002
    kernel_size,
    output_size=None,
    output_ratio=None,
    return_indices: bool = False,
    _random_samples: Tensor | None = None,
):
    """Max pooling over pseudo-random, overlapping k x k windows whose starts are spread
    to give ``output_size`` (or ``input size * output_ratio``), as
    ``torch.nn.functional.fractional_max_pool2d``; with ``return_indices`` also each
    maximum's flat position in its input plane."""
    out = _with_indices(input, kernel_size, output_size, output_ratio, _random_samples, 2)
    return out if return_indices else out[0]


def fractional_max_pool3d(
    input: Tensor,  # noqa: A002
    kernel_size,
    output_size=None,
    output_ratio=None,
    return_indices: bool = False,
    _random_samples: Tensor | None = None,
):
    """3-D form of ``fractional_max_pool2d`` (``torch.nn.functional.fractional_max_pool3d``)."""
    out = _with_indices(input, kernel_size, output_size, output_ratio, _random_samples, 3)
    return out if return_indices else out[0]
