"""Tensor factories: ``tensor``, ``zeros``, ``ones``, ``arange``, ... with PyTorch's
dtype rules (floats get the default dtype, float32 unless changed)."""

from __future__ import annotations

import numpy as np

from gradfit import _dtypes
from gradfit._arrays import wrap
from gradfit.tensor import Tensor, _check_device, _checked_size, _shape_args, _to_array


def _finish(arr: np.ndarray, requires_grad: bool) -> Tensor:
    t = wrap(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def tensor(data, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A new tensor copying ``data`` (a number, nested list, array or tensor)."""
    _check_device(device)
    arr = np.array(_to_array(data, dtype), copy=True)
    return _finish(arr, requires_grad)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like ``tensor`` but shares memory with a NumPy array or Tensor when it can."""
    _check_device(device)
    if isinstance(data, Tensor) and (dtype is None or _dtypes.to_dtype(dtype) == data.dtype):
        return data
    return wrap(_to_array(data, dtype))


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``array`` (its dtype is kept)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray (got {type(array).__name__})")
    return wrap(array)


def _filled(fill, shape, dtype, device, requires_grad, fn: str = "full") -> Tensor:
    _check_device(device)
    shape = _checked_size(_shape_args(shape), fn)
    return _finish(np.full(shape, fill, dtype=_dtypes.to_dtype(dtype)), requires_grad)


def zeros(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _filled(0, size, dtype, device, requires_grad, "zeros")


def ones(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _filled(1, size, dtype, device, requires_grad, "ones")


def empty(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _filled(0, size, dtype, device, requires_grad, "empty")


def full(size, fill_value, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    if dtype is None:
        dtype = (
            _dtypes.bool_
            if isinstance(fill_value, bool)
            else _dtypes.int64
            if isinstance(fill_value, int)
            else None
        )
    return _filled(
        fill_value, (size,) if isinstance(size, int) else size, dtype, device, requires_grad
    )


def _like(fill, t: Tensor, dtype, requires_grad) -> Tensor:
    return _finish(
        np.full(t.shape, fill, dtype=t.dtype if dtype is None else _dtypes.to_dtype(dtype)),
        requires_grad,
    )


def zeros_like(input, *, dtype=None, device=None, requires_grad=False) -> Tensor:  # noqa: A002
    return _like(0, input, dtype, requires_grad)


def ones_like(input, *, dtype=None, device=None, requires_grad=False) -> Tensor:  # noqa: A002
    return _like(1, input, dtype, requires_grad)


def empty_like(input, *, dtype=None, device=None, requires_grad=False) -> Tensor:  # noqa: A002
    return _like(0, input, dtype, requires_grad)


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False):  # noqa: A002
    return _like(fill_value, input, dtype, requires_grad)


def arange(
    start, end=None, step=1, *, dtype=None, device=None, requires_grad: bool = False
) -> Tensor:
    """Values in [start, end) by ``step``; integer arguments give int64, as in PyTorch."""
    _check_device(device)
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("step must be nonzero")
    all_int = all(isinstance(v, int) for v in (start, end, step))
    if dtype is None:
        dtype = _dtypes.int64 if all_int else _dtypes.default_np()
    dtype = _dtypes.to_dtype(dtype)
    n = max(0, int(np.ceil((end - start) / step)))
    if all_int:
        arr = np.arange(start, end, step).astype(dtype)
    elif np.dtype(dtype).char in "fd":
        arr = _arange_float(float(start), float(step), n, np.dtype(dtype).type)
    else:
        arr = (start + step * np.arange(n, dtype=np.float64)).astype(dtype)
    return _finish(arr, requires_grad)


def _arange_float(start: float, step: float, n: int, ftype) -> np.ndarray:
    """PyTorch's CPU kernel, value for value: in double, each 32-byte vector's first value
    ``start + step * i`` (fused multiply-add, as compiled) rounded to the dtype, its lanes
    ``first + k * step``; the elements after the last pair of whole vectors
    ``start + step * i``. From 32,768 elements on, each thread's range starts its own
    vectors. Extended precision stands for the fused operations' single rounding."""
    from gradfit._cascade_sum import GRAIN_SIZE, VECTOR_BYTES, _threads

    wide = np.longdouble
    vec = VECTOR_BYTES // np.dtype(ftype).itemsize
    out = np.empty(n, dtype=ftype)
    tasks = min(_threads(), -(-n // GRAIN_SIZE)) if n >= GRAIN_SIZE else 1
    chunk = -(-n // tasks) if n else 0
    for begin in range(0, n, max(chunk, 1)):
        end = min(n, begin + chunk)
        nv = (end - begin) // (2 * vec) * (2 * vec)
        firsts = wide(start) + wide(step) * np.arange(begin, begin + nv, vec, dtype=wide)
        firsts = firsts.astype(np.float64).astype(ftype).astype(wide)
        lanes = firsts[:, None] + np.arange(vec, dtype=wide) * wide(step)
        out[begin : begin + nv] = lanes.reshape(-1).astype(np.float64)
        rest = wide(start) + wide(step) * np.arange(begin + nv, end, dtype=wide)
        out[begin + nv : end] = rest.astype(np.float64)
    return out


def linspace(
    start, end, steps: int, *, dtype=None, device=None, requires_grad: bool = False
) -> Tensor:
    _check_device(device)
    if steps < 0:
        raise ValueError(f"linspace: number of steps must be non-negative, got {steps}")
    dt = np.dtype(_dtypes.to_dtype(dtype))
    if dt.char in "fd" and steps > 1:
        arr = _linspace_float(start, end, steps, dt.type)
    else:
        arr = np.linspace(start, end, steps).astype(dt)
    return _finish(arr, requires_grad)


def _linspace_float(start, end, steps: int, ftype) -> np.ndarray:
    """PyTorch's CPU formula, in the dtype: ``step = (end - start) / (steps - 1)``, the
    first half ``start + step * i``, the second half ``end - step * (steps - 1 - i)``
    (symmetric, and exact at both ends), each a fused multiply-add as its kernel is
    compiled; extended precision stands for the fused operation's single rounding."""
    s, e = ftype(start), ftype(end)
    step = ftype((e - s) / ftype(steps - 1))
    half = steps // 2
    wide = np.longdouble
    out = np.empty(steps, dtype=ftype)
    out[:half] = wide(s) + wide(step) * np.arange(half, dtype=wide)
    out[half:] = wide(e) - wide(step) * np.arange(steps - half - 1, -1, -1, dtype=wide)
    return out


def eye(
    n: int, m: int | None = None, *, dtype=None, device=None, requires_grad: bool = False
) -> Tensor:
    _check_device(device)
    return _finish(np.eye(n, m, dtype=_dtypes.to_dtype(dtype)), requires_grad)
