"""Tensor operations real PyTorch programs use that the other op files lack:
``index_reduce``, ``apply_`` / ``map_``, ``torch.gradient`` and ``torch.corrcoef``.

Each is ``torch.<name>`` (or the Tensor method) with PyTorch's defaults, results and error
messages. ``index_reduce``, ``gradient`` and ``corrcoef`` are composed of recorded gradfit
ops, so they are differentiable as PyTorch's are; ``apply_`` and ``map_`` call a Python
function per element and, as in PyTorch, refuse tensors that require a gradient.
"""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING

import numpy as np

from gradfit import _tensorops_more as _tmore
from gradfit._arrays import modified, unwrap, wrap
from gradfit.autograd import function as _graph
from gradfit.autograd._torch_names import named
from gradfit.ops import movement

if TYPE_CHECKING:
    from gradfit.tensor import Tensor

_INDEX_REDUCTIONS = ("prod", "mean", "amax", "amin")


def index_reduce(input, dim: int, index, source, reduce: str, *, include_self: bool = True):  # noqa: A002
    """``input`` with the slices of ``source`` combined in at ``index`` along ``dim`` by
    ``reduce`` ('prod', 'mean', 'amax', 'amin'): out[..., index[i], ...] = reduce(
    out[..., index[i], ...], source[..., i, ...]). ``include_self=False`` leaves
    ``input``'s own values out of the slices that receive something.

    It is ``scatter_reduce`` with ``index`` spread over ``source``'s other dimensions, so
    values and gradients are the same as PyTorch's ``index_reduce``.
    """
    if reduce not in _INDEX_REDUCTIONS:
        raise RuntimeError(
            f"index_reduce(): Expected reduce to be one of prod, mean, amax or amin but got "
            f"{reduce}."
        )
    nd = max(input.ndim, 1)
    if not -nd <= dim < nd:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-nd}, {nd - 1}], but got {dim})"
        )
    d = dim % nd
    idx = unwrap(index) if isinstance(index, _graph.Tensor) else np.asarray(index)
    if idx.ndim > 1:
        raise IndexError("index_reduce_(): Index is supposed to be a vector")
    if idx.dtype.kind not in "iu":
        raise IndexError(
            f"index_reduce_(): Expected dtype int32/int64 for index but got {idx.dtype}"
        )
    if not isinstance(source, _graph.Tensor):
        raise TypeError(
            f"index_reduce(): argument 'source' must be Tensor, not {type(source).__name__}"
        )
    if source.dtype != input.dtype:
        raise RuntimeError(
            f"index_reduce_(): self ({input.dtype}) and source ({source.dtype}) must have "
            "the same scalar type"
        )
    idx = idx.reshape(-1).astype(np.int64)
    if input.ndim == 0:
        out = index_reduce(
            input.reshape(1), 0, wrap(idx), source.reshape(-1), reduce, include_self=include_self
        )
        return out.reshape(())
    want = tuple(input.shape[:d]) + (idx.size,) + tuple(input.shape[d + 1 :])
    if tuple(source.shape) != want and not (source.ndim == 0 and idx.size == 1):
        raise RuntimeError(
            f"index_reduce_(): source has shape {tuple(source.shape)}, expected {want} for "
            f"an index of {idx.size} entries along dim {d}"
        )
    n = input.shape[d]
    bad = idx[(idx < -n) | (idx >= n)]
    if bad.size:
        raise IndexError(f"index_reduce(): index {int(bad[0])} is out of bounds for size {n}")
    src = source.reshape(want)
    shape = [1] * input.ndim
    shape[d] = idx.size
    spread = np.broadcast_to((idx % n).reshape(shape), want).copy()
    out = input.scatter_reduce(d, wrap(spread), src, reduce, include_self=include_self)
    return named(out, "IndexReduceBackward0")


def _check_no_grad(t: Tensor, name: str) -> None:
    if t.requires_grad:
        raise RuntimeError(
            f"Can't call {name}() on Variable that requires grad. Use var.detach().{name}() "
            "instead."
        )


def _python_values(arr: np.ndarray) -> list:
    # PyTorch hands the callable Python numbers (float, int, bool, complex), not NumPy scalars.
    return arr.reshape(-1).tolist()


def apply_(self: Tensor, callable) -> Tensor:  # noqa: A002 - PyTorch's name
    """Replace each element ``x`` by ``callable(x)`` (a Python number in and out), in place."""
    _check_no_grad(self, "apply_")
    arr = unwrap(self)
    new = np.array([callable(v) for v in _python_values(arr)], dtype=object)
    with modified(self) as (a,):
        a[...] = _cast(new, arr.dtype).reshape(arr.shape)
    return self


def map_(self: Tensor, tensor, callable) -> Tensor:  # noqa: A002
    """Replace each element ``x`` by ``callable(x, y)``, ``y`` the matching element of
    ``tensor`` broadcast to this tensor's shape, in place."""
    _check_no_grad(self, "map_")
    if not isinstance(tensor, _graph.Tensor):
        raise TypeError(f"map_(): argument 'tensor' must be Tensor, not {type(tensor).__name__}")
    arr = unwrap(self)
    other = unwrap(tensor)
    if other.ndim > arr.ndim:
        raise RuntimeError(
            f"expand({_legacy_name(other)}{{{list(other.shape)}}}, size={list(arr.shape)}): the "
            f"number of sizes provided ({arr.ndim}) must be greater or equal to the number of "
            f"dimensions in the tensor ({other.ndim})"
        )
    try:
        other = np.broadcast_to(other, arr.shape)
    except ValueError:
        raise RuntimeError(
            f"The size of tensor a ({arr.shape[-1] if arr.ndim else 1}) must match the size of "
            f"tensor b ({other.shape[-1]}) at non-singleton dimension "
            f"{arr.ndim - 1}"
        ) from None
    pairs = zip(_python_values(arr), _python_values(np.ascontiguousarray(other)), strict=True)
    new = np.array([callable(a, b) for a, b in pairs], dtype=object)
    with modified(self) as (a,):
        a[...] = _cast(new, arr.dtype).reshape(arr.shape)
    return self


def _legacy_name(arr: np.ndarray) -> str:
    names = {"f": "FloatTensor", "d": "DoubleTensor", "l": "LongTensor", "i": "IntTensor"}
    return "torch." + names.get(arr.dtype.char, "Tensor")


def _cast(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """The callable's results converted as PyTorch's C++ casts do: truncation toward zero
    for an integer tensor, a TypeError for a value that is not a number."""
    for v in values:
        if not isinstance(v, numbers.Number):
            kind = "an integer" if dtype.kind in "iub" else "a number"
            raise TypeError(f"'{type(v).__name__}' object cannot be interpreted as {kind}")
    if dtype.kind in "iu":
        return np.array([int(v) for v in values], dtype=dtype)
    return values.astype(dtype)


# ------------------------------------------------------------------ torch.gradient
def _dims(dim, ndim: int) -> list[int]:
    if dim is None:
        return list(range(ndim))
    dims = [dim] if isinstance(dim, int) else list(dim)
    out = []
    for d in dims:
        if not -ndim <= d < ndim:
            raise IndexError(
                f"Dimension out of range (expected to be in range of [{-ndim}, {ndim - 1}], "
                f"but got {d})"
            )
        out.append(d % ndim)
    for i, d in enumerate(out):
        if d in out[:i]:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    return out


def _slice(t: Tensor, d: int, start: int, stop: int | None) -> Tensor:
    idx = [slice(None)] * t.ndim
    idx[d] = slice(start, stop)
    return t[tuple(idx)]


def _along(coef: np.ndarray, d: int, ndim: int, like: Tensor) -> Tensor:
    shape = [1] * ndim
    shape[d] = coef.size
    return wrap(coef.reshape(shape).astype(unwrap(like).dtype))


def gradient(input, *, spacing=1, dim=None, edge_order: int = 1):  # noqa: A002
    """The derivative of ``input`` along each of ``dim`` by second-order central
    differences inside and one-sided differences of order ``edge_order`` (1 or 2) at the
    ends, as ``torch.gradient`` (and ``numpy.gradient``).

    ``spacing``: a number (the step of every dimension), a list of numbers (one step per
    dimension) or a list of 1-D tensors (the coordinates of the samples along each
    dimension, which need not be evenly spaced).

    Returns:
        A tuple with one tensor per dimension of ``dim``.
    """
    if not isinstance(input, _graph.Tensor):
        raise TypeError(f"gradient(): argument 'input' must be Tensor, not {type(input).__name__}")
    if edge_order not in (1, 2):
        raise RuntimeError("torch.gradient only supports edge_order=1 and edge_order=2.")
    dims = _dims(dim, input.ndim)
    if isinstance(spacing, list | tuple):
        if len(spacing) != len(dims) and dim is None:
            raise RuntimeError(
                f"torch.gradient expected spacing to be unspecified, a scalar, or a list of "
                f"length equal to 'self.dim() = {input.ndim}', since dim argument was not "
                f"given, but got a list of length {len(spacing)}"
            )
        if len(spacing) != len(dims):
            raise RuntimeError(
                f"torch.gradient expected spacing to be unspecified, a scalar or it's spacing "
                f"and dim arguments to have the same length, but got a spacing argument of "
                f"length {len(spacing)} and a dim argument of length {len(dims)}."
            )
        steps = list(spacing)
    else:
        steps = [spacing] * len(dims)
    for d in dims:
        if input.shape[d] < edge_order + 1:
            raise RuntimeError(
                "torch.gradient expected each dimension size to be at least edge_order+1"
            )
    x = input
    if unwrap(x).dtype.kind in "iub":
        x = x.to(np.float32)  # PyTorch's result type for integer input
    out = []
    for d, h in zip(dims, steps, strict=True):
        if isinstance(h, _graph.Tensor):
            if h.ndim != 1 or h.shape[0] != input.shape[d]:
                raise RuntimeError(
                    f"torch.gradient expected each tensor to be on the same device and to "
                    f"have as many elements as the size of dimension {d} of the input"
                )
            out.append(_gradient_coords(x, d, unwrap(h).astype(np.float64), edge_order))
        else:
            out.append(_gradient_uniform(x, d, h, edge_order))
    return tuple(out)


def _gradient_uniform(x: Tensor, d: int, h, edge_order: int) -> Tensor:
    # PyTorch's order of rounding: the difference over h, then halved
    interior = (_slice(x, d, 2, None) - _slice(x, d, 0, -2)) / h / 2
    if edge_order == 1:
        first = (_slice(x, d, 1, 2) - _slice(x, d, 0, 1)) / h
        last = (_slice(x, d, -1, None) - _slice(x, d, -2, -1)) / h
    else:
        first = (
            -1.5 * _slice(x, d, 0, 1) + 2.0 * _slice(x, d, 1, 2) - 0.5 * _slice(x, d, 2, 3)
        ) / h
        last = (
            0.5 * _slice(x, d, -3, -2) - 2.0 * _slice(x, d, -2, -1) + 1.5 * _slice(x, d, -1, None)
        ) / h
    return movement.Cat.apply(first, interior, last, dim=d)


def _gradient_coords(x: Tensor, d: int, c: np.ndarray, edge_order: int) -> Tensor:
    nd = x.ndim
    dx = np.diff(c)
    a, b = dx[:-1], dx[1:]  # the steps before and after each interior sample
    interior = (
        _along(-b / (a * (a + b)), d, nd, x) * _slice(x, d, 0, -2)
        + _along((b - a) / (a * b), d, nd, x) * _slice(x, d, 1, -1)
        + _along(a / (b * (a + b)), d, nd, x) * _slice(x, d, 2, None)
    )
    if edge_order == 1:
        first = (_slice(x, d, 1, 2) - _slice(x, d, 0, 1)) / float(dx[0])
        last = (_slice(x, d, -1, None) - _slice(x, d, -2, -1)) / float(dx[-1])
    else:
        h1, h2 = float(dx[0]), float(dx[1])
        first = (
            -(2 * h1 + h2) / (h1 * (h1 + h2)) * _slice(x, d, 0, 1)
            + (h1 + h2) / (h1 * h2) * _slice(x, d, 1, 2)
            - h1 / (h2 * (h1 + h2)) * _slice(x, d, 2, 3)
        )
        h1, h2 = float(dx[-2]), float(dx[-1])
        last = (
            h2 / (h1 * (h1 + h2)) * _slice(x, d, -3, -2)
            - (h2 + h1) / (h1 * h2) * _slice(x, d, -2, -1)
            + (2 * h2 + h1) / (h2 * (h1 + h2)) * _slice(x, d, -1, None)
        )
    return movement.Cat.apply(first, interior, last, dim=d)


# ------------------------------------------------------------------ torch.corrcoef
def corrcoef(input):  # noqa: A002
    """Pearson correlation coefficients of the rows (variables) of ``input`` over its
    columns (observations): cov(input) divided by the outer product of the standard
    deviations, clipped to [-1, 1], as ``torch.corrcoef``."""
    if input.ndim > 2:
        raise RuntimeError(
            "corrcoef(): expected input to have two or fewer dimensions but got an input with "
            f"{input.ndim} dimensions"
        )
    c = _tmore.cov(input)
    if c.ndim == 0:
        return c / c  # nan for a zero, infinite or nan variance, else 1
    std = c.diagonal().sqrt()
    c = c / std.reshape(-1, 1)
    c = c / std.reshape(1, -1)
    return c.clamp(-1, 1)
