"""Tensor factories: ``tensor``, ``zeros``, ``ones``, ``arange``, ... with PyTorch's
dtype rules (floats get the default dtype, float32 unless changed)."""

from __future__ import annotations

import numpy as np

from gradfit import _dtypes, _layout, _meta
from gradfit._arrays import set_array, unwrap, wrap
from gradfit._cascade_sum import GRAIN_SIZE, VECTOR_BYTES, intra_op_threads
from gradfit._fused import fma as _fma
from gradfit._out import factory_with_out
from gradfit.tensor import Tensor, _check_device, _checked_size, _shape_args, _to_array


def _finish(arr: np.ndarray, requires_grad: bool, meta: bool = False) -> Tensor:
    t = wrap(_meta.to_meta(arr) if meta else arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def tensor(data, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A new tensor copying ``data`` (a number, nested list, array or tensor)."""
    meta = _check_device(device)
    arr = np.array(_to_array(data, dtype), copy=True)
    return _finish(arr, requires_grad, meta)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like ``tensor`` but shares memory with a NumPy array or Tensor when it can."""
    meta = _check_device(device)
    if isinstance(data, Tensor) and (dtype is None or _dtypes.to_dtype(dtype) == data.dtype):
        return data.to("meta") if meta else data
    return _finish(_to_array(data, dtype), False, meta)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``array`` (its dtype is kept)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray (got {type(array).__name__})")
    return wrap(array)


def _filled(fill, shape, dtype, device, requires_grad, fn: str = "full") -> Tensor:
    meta = _check_device(device)
    shape = _checked_size(_shape_args(shape), fn)
    dtype = _dtypes.to_dtype(dtype)
    if meta:  # no values to fill
        return _finish(_meta.zeros(shape, dtype), requires_grad)
    return _finish(np.full(shape, _dtypes.fill_number(fill, dtype), dtype=dtype), requires_grad)


@factory_with_out
def zeros(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _filled(0, size, dtype, device, requires_grad, "zeros")


@factory_with_out
def ones(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _filled(1, size, dtype, device, requires_grad, "ones")


@factory_with_out
def empty(
    *size,
    dtype=None,
    layout=None,
    device=None,
    requires_grad: bool = False,
    pin_memory: bool = False,
    memory_format=None,
) -> Tensor:
    # ``layout`` and ``pin_memory``: PyTorch's keywords; every gradfit tensor is strided
    t = _filled(0, size, dtype, device, requires_grad, "empty")
    if memory_format is not None and memory_format is not _layout.contiguous_format:
        set_array(t, _layout.empty_as(unwrap(t), memory_format))
    return t


@factory_with_out
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


def _like(fill, t: Tensor, dtype, requires_grad, memory_format, device=None) -> Tensor:
    # laid out as ``t`` (preserve_format, the default) or in ``memory_format``, as PyTorch;
    # on ``t``'s device unless ``device`` says otherwise
    dtype = t.dtype if dtype is None else _dtypes.to_dtype(dtype)
    src = unwrap(t)
    meta = _meta.is_meta(src) if device is None else _check_device(device)
    arr = _layout.empty_as(src.view(np.ndarray), memory_format, dtype)
    if not meta:
        arr.fill(_dtypes.fill_number(fill, arr.dtype))
    return _finish(arr, requires_grad, meta)


def _like_of(fill, name: str):
    def like(
        input,  # noqa: A002
        *,
        dtype=None,
        device=None,
        requires_grad=False,
        memory_format=_layout.preserve_format,
        layout=None,
    ) -> Tensor:
        return _like(fill, input, dtype, requires_grad, memory_format, device)

    like.__name__ = like.__qualname__ = name
    like.__doc__ = f"A tensor of ``input``'s shape (and layout) filled with {fill}."
    return like


zeros_like = _like_of(0, "zeros_like")
ones_like = _like_of(1, "ones_like")
empty_like = _like_of(0, "empty_like")  # zeros: gradfit never hands out stale memory


def full_like(
    input,  # noqa: A002
    fill_value,
    *,
    dtype=None,
    device=None,
    requires_grad=False,
    memory_format=_layout.preserve_format,
    layout=None,
) -> Tensor:
    return _like(fill_value, input, dtype, requires_grad, memory_format, device)


@factory_with_out
def arange(
    start, end=None, step=1, *, dtype=None, device=None, requires_grad: bool = False
) -> Tensor:
    """Values in [start, end) by ``step``; integer arguments give int64, as in PyTorch."""
    meta = _check_device(device)
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
    elif np.dtype(dtype).kind == "f":
        arr = _arange_values(float(start), float(step), n, np.dtype(dtype))
    else:
        arr = (start + step * np.arange(n, dtype=np.float64)).astype(dtype)
    return _finish(arr, requires_grad, meta)


# PyTorch's range kernels (aten/src/ATen/native/cpu/RangeFactoriesKernel.cpp) compute
# each value as one fused multiply-add in double, and arange a vector of lanes at a time
# from a base rounded to the dtype; the values below are theirs bit for bit, so a program
# that builds its inputs with arange or linspace feeds the same numbers to its model.


def _arange_values(start: float, step: float, n: int, dtype: np.dtype) -> np.ndarray:
    """``torch.arange``'s floating values: per thread chunk, vectors of ``lanes`` values
    ``base + j·step`` with ``base = start + step·i`` rounded to the dtype (two vectors at
    a time), then the chunk's remainder one by one as ``start + step·i``; all in the
    accumulation type (double, or float for float16)."""
    acc = np.float32 if dtype == np.float16 else np.float64
    start, step = acc(start), acc(step)

    def fused(x, y, z):
        return _fma(x, y, z).astype(acc).astype(dtype)

    out = np.empty(n, dtype)
    lanes = VECTOR_BYTES // dtype.itemsize  # the vector PyTorch's kernels run at (AVX2)
    tasks = min(intra_op_threads(), -(-n // GRAIN_SIZE)) if n > GRAIN_SIZE else 1
    chunk = -(-n // tasks) if n else 1
    for begin in range(0, n, chunk):
        end = min(begin + chunk, n)
        vec_end = begin + (end - begin) // (2 * lanes) * (2 * lanes)
        base = fused(step, np.arange(begin, vec_end, lanes), start)
        lane = np.arange(lanes, dtype=np.float64)
        out[begin:vec_end] = fused(lane[None, :], step, base[:, None]).ravel()
        out[vec_end:end] = fused(step, np.arange(vec_end, end), start)
    return out


@factory_with_out
def linspace(
    start, end, steps: int, *, dtype=None, device=None, requires_grad: bool = False
) -> Tensor:
    meta = _check_device(device)
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    return _finish(
        _linspace_values(start, end, steps, np.dtype(_dtypes.to_dtype(dtype))), requires_grad, meta
    )


def _linspace_values(start, end, steps: int, dtype: np.dtype) -> np.ndarray:
    """``torch.linspace``'s values: the first half ``start + step·i``, the second half
    ``end − step·(steps − 1 − i)``. Floating dtypes compute in their own type, fused
    (float16 rounds each operation, as c10::Half does); integer dtypes truncate start and
    end, step in double, and truncate the values."""
    if steps == 1:
        return np.array([start], dtype=dtype)
    i = np.arange(steps)
    down = steps - 1 - i
    if dtype == np.float16:
        h = np.float16
        first, last = h(start), h(end)
        with np.errstate(over="ignore"):  # a count past 65504 is inf in float16, as there
            step = h(np.float32(last - first) / np.float32(h(steps - 1)))
        with np.errstate(over="ignore", invalid="ignore"):
            lo = first + step * i.astype(h)
            hi = last - step * down.astype(h)
    else:
        if dtype.kind == "f":
            first, last = dtype.type(start), dtype.type(end)
            step = np.float64((last - first) / dtype.type(steps - 1))
        else:
            first, last = int(start), int(end)
            step = (float(last) - float(first)) / (steps - 1)
        # a float32 step times i is exact in double: the float32 rounding is the only one
        lo, hi = _fma(step, i, first), _fma(-step, down, last)
    return np.where(i < steps // 2, lo, hi).astype(dtype)


@factory_with_out
def eye(
    n: int, m: int | None = None, *, dtype=None, device=None, requires_grad: bool = False
) -> Tensor:
    meta = _check_device(device)
    return _finish(np.eye(n, m, dtype=_dtypes.to_dtype(dtype)), requires_grad, meta)
