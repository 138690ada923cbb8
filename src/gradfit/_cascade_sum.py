"""Floating-point sums added in the order of PyTorch's CPU kernel, so that float32 results
agree with PyTorch's bit for bit (a loss printed with ``.item()``, a parameter after many
updates built on sums of gradients).

PyTorch's ``sum`` (``aten/src/ATen/native/cpu/SumKernel.cpp``, ``cascade_sum``) first lays
the reduction out as ``TensorIterator`` does: reduced dimensions innermost, dimensions
ordered by stride, adjacent dimensions merged where memory allows. The two innermost
dimensions go to one of four loops; the others are iterated, each call adding its result
into the output. The loops add with

- ``multi_row_sum``: rows added one after another into an accumulator per column, in
  chunks of ``2**p`` rows (``p = max(4, ceil(log2(n)) // 4)``) whose sums cascade through
  three more levels of accumulators, every ``2**p`` chunks one level up;
- ``row_sum``: the rows interleaved four ways (``ilp_factor``), each way a
  ``multi_row_sum``, the leftover rows added to the first way, then the four ways added;
- along a contiguous reduced dimension at least one SIMD vector long, ``row_sum`` over
  whole vectors (each lane its own accumulator), then the leftover elements and the lanes
  added one by one.

The emulation here adds in that order with NumPy, every "lane" a column of one array, so
its cost stays a few vectorised passes. From 32,768 elements on, a whole-tensor sum is
split into one contiguous range per thread (``two_pass_reduction``), each summed as above,
then the per-thread sums added; a partial sum of that many elements is split across
threads along the kept dimensions, which is not reproduced (the order there is the
single-thread one).
"""

from __future__ import annotations

import math
import os

import numpy as np

GRAIN_SIZE = 32768  # at::internal::GRAIN_SIZE: below it PyTorch reduces on one thread


# The sum kernel's vector: 32 bytes (8 float32 lanes), measured against PyTorch 2.13 on
# AVX-512 machines too (its reductions run the 256-bit kernel there).
VECTOR_BYTES = 32
THREADS: list = []  # set_num_threads's number (gradfit._runtime writes it here)


def intra_op_threads() -> int:
    """PyTorch's intra-op thread count, which splits large whole-tensor sums: the number
    given to ``set_num_threads``, else OpenMP's default (the CPUs this process may use)."""
    if THREADS:
        return THREADS[0]
    env = os.environ.get("OMP_NUM_THREADS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _seq(a: np.ndarray, axis: int = 0) -> np.ndarray:
    """Sum along ``axis`` one element after another, from zero (what an accumulator loop
    does). ``np.add.reduce`` does that when its inner loop runs over another axis (one of
    more than one element with a smaller stride); along the innermost axis it adds
    pairwise (from 8 elements on) and starts from the first element, so a cumulative sum
    is read there instead."""
    shape = a.shape
    n = shape[axis]
    if n <= 1:
        if n == 0:
            return np.zeros(np.delete(shape, axis), dtype=a.dtype)
        return np.take(a, 0, axis=axis)
    strides = a.strides
    own = abs(strides[axis])
    axis %= len(shape)
    for i, m in enumerate(shape):
        if i != axis and m > 1 and abs(strides[i]) < own:
            return _add_reduce(a, axis)
    return np.take(np.cumsum(a, axis=axis), -1, axis=axis)


_add_reduce = np.add.reduce


def _multi_row_sum(r: np.ndarray) -> np.ndarray:
    """``multi_row_sum`` over the rows of ``r`` (size, lanes): one accumulator per lane."""
    size = r.shape[0]
    power = max(4, (int(size - 1).bit_length() if size > 2 else 1) // 4)
    step = 1 << power
    chunks = size // step
    lanes = r.shape[1:]
    if chunks == 0:
        return _seq(r) + 0 if size > 1 else r[0] + 0
    if chunks < step and r.ndim == 2 and r.shape[1] > 1 and r.flags.c_contiguous:
        # the common case, written out: level-0 chunks, their sum, the leftover rows
        level = _add_reduce(r[: chunks * step].reshape(chunks, step, r.shape[1]), 1)
        acc1 = _add_reduce(level, 0) if chunks > 1 else level[0]
        if size % step:
            return _add_reduce(r[chunks * step :], 0) + acc1 + 0
        return acc1 + 0
    zero = np.zeros(lanes, dtype=r.dtype)
    level = _seq(r[: chunks * step].reshape(chunks, step, *lanes), axis=1)  # level-0 sums
    rests = []
    for _ in range(2):  # levels 1 and 2 flush into the next level every ``step`` entries
        full = level.shape[0] // step
        rests.append(_seq(level[full * step :]) if level.shape[0] % step else zero)
        level = (
            _seq(level[: full * step].reshape(full, step, *lanes), axis=1) if full else level[:0]
        )
    acc3 = _seq(level) if level.shape[0] else zero
    acc0 = _seq(r[chunks * step :]) if size % step else zero
    return ((acc0 + rests[0]) + rests[1]) + acc3


def _row_sum(r: np.ndarray) -> np.ndarray:
    """``row_sum`` over the rows of ``r`` (size, lanes): four interleaved accumulators."""
    size = r.shape[0]
    n4 = size // 4
    if not n4:
        return _seq(r) + 0
    lanes = r.shape[1:]
    ways = _multi_row_sum(r[: n4 * 4].reshape(n4, 4 * math.prod(lanes))).reshape(4, *lanes)
    if size % 4:  # way 0, the leftover rows, then ways 1-3: one sum in that order
        return _seq(np.concatenate((ways[:1], r[n4 * 4 :], ways[1:])))
    return _seq(ways)


def _outer_2d(x: np.ndarray) -> np.ndarray:
    """The sum over axis 0 of a C-contiguous (rows, columns) array, columns > 1: blocks of
    four 8-lane vectors of columns (four single columns below 8) through
    ``multi_row_sum``, the other columns through ``row_sum``."""
    cols = x.shape[1]
    vec = VECTOR_BYTES // x.itemsize
    split = cols // (4 * vec) * (4 * vec) if cols >= vec else cols // 4 * 4
    if split == cols:
        return _multi_row_sum(x)
    if split == 0:
        return _row_sum(x)
    return np.concatenate((_multi_row_sum(x[:, :split]), _row_sum(x[:, split:])))


def _sum_flat(x: np.ndarray):
    """The whole-tensor sum of a contiguous 1-D ``x`` on one thread: ``row_sum`` over its
    vectors, then the leftover elements and the lanes (a scalar of ``x``'s type)."""
    n = x.shape[0]
    vec = VECTOR_BYTES // x.itemsize
    if n < vec:  # row_sum over the elements themselves
        if n < 4:
            return _seq(x) + x.dtype.type(0)
        first = x[0]
        for i in range(4, n):
            first = first + x[i]
        return ((first + x[1]) + x[2]) + x[3]
    nvec = n // vec
    vecs = x[: nvec * vec].reshape(nvec, vec)
    n4 = nvec // 4
    if n4 >= 16:
        ways = _multi_row_sum(vecs[: n4 * 4].reshape(n4, 4 * vec)).reshape(4, vec)
    elif n4:
        ways = _add_reduce(vecs[: n4 * 4].reshape(n4, 4, vec), 0)  # rows in order
    if n4:
        # way 0, the leftover vectors, then ways 1-3: one sum in that order
        rows = np.concatenate((ways[:1], vecs[n4 * 4 :], ways[1:])) if nvec % 4 else ways
        lanes = _add_reduce(rows, 0)
    else:
        lanes = _add_reduce(vecs, 0)  # one to three vectors, in order
    if n % vec:
        lanes = np.concatenate((x[nvec * vec :], lanes))
    return np.cumsum(lanes)[-1] + 0


def _loop(x: np.ndarray, s0: int, s1: int, vec: int) -> np.ndarray:
    """The 2-D loop of ``cascade_sum`` on ``x`` (..., size1, size0), reducing size0, with
    element strides ``s0``/``s1`` of the two dimensions; returns (..., size1)."""
    batch = x.shape[:-2]
    size1, size0 = x.shape[-2], x.shape[-1]
    if s0 == 1 and size0 >= vec:  # contiguous inner reduction
        rows = x.reshape(-1, size0)
        nvec = size0 // vec
        vecs = rows[:, : nvec * vec].reshape(-1, nvec, vec).transpose(1, 0, 2)
        partial = _row_sum(np.ascontiguousarray(vecs).reshape(nvec, -1)).reshape(-1, vec)
        tail = rows[:, nvec * vec :]
        out = _seq(np.concatenate([tail, partial], axis=1), axis=1)
        return out.reshape(*batch, size1)
    cols = np.moveaxis(x, -1, 0)  # (size0, ..., size1)
    if s1 == 1 and size1 >= vec:  # contiguous outer reduction
        split = size1 // (4 * vec) * (4 * vec)
    elif s0 < s1:  # scalar inner reduction
        split = 0
    else:  # scalar outer reduction: four columns at a time
        split = size1 // 4 * 4
    parts = []
    if split:
        block = cols[..., :split]
        parts.append(_multi_row_sum(block.reshape(size0, -1)).reshape(block.shape[1:]))
    if split < size1:
        block = cols[..., split:]
        parts.append(_row_sum(block.reshape(size0, -1)).reshape(block.shape[1:]))
    return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=-1)


def _layout(shape: tuple, strides: tuple, reduced: set):
    """TensorIterator's dimension order (innermost first) and merged dimensions: a list
    of [size, input stride, is_reduced, original axes]."""
    dims = [[n, s, ax in reduced, [ax]] for ax, (n, s) in enumerate(zip(shape, strides)) if n != 1]
    out_strides = {}
    step = 1
    for ax in reversed(range(len(shape))):  # the output: contiguous over the kept axes
        out_strides[ax] = 0 if ax in reduced else step
        step *= 1 if ax in reduced else shape[ax]
    for d in dims:
        d.append(out_strides[d[3][0]])

    def after(a, b) -> bool:  # should_swap(a, b) > 0: a goes after b
        if a[2] != b[2]:
            return b[2]  # reduced dimensions first
        for sa, sb in ((a[4], b[4]), (a[1], b[1])):
            if sa == 0 or sb == 0:
                continue
            if sa != sb:
                return sa > sb
            if a[0] > b[0]:
                return True
        return False

    order = list(reversed(dims))
    for i in range(1, len(order)):
        j = i
        while j > 0 and after(order[j - 1], order[j]):
            order[j - 1], order[j] = order[j], order[j - 1]
            j -= 1
    merged: list = []
    for d in order:
        if merged:
            p = merged[-1]
            if p[0] * p[1] == d[1] and p[0] * p[4] == d[4]:
                p[0] *= d[0]
                p[3] = p[3] + d[3]
                continue
        merged.append(list(d))
    return merged


def cascade_sum(a: np.ndarray, axis=None, keepdims: bool = False) -> np.ndarray:
    """``a.sum(axis, keepdims=keepdims)`` for float32/float64, added in PyTorch's order."""
    if a.dtype.char not in "fd" or a.size == 0:
        return np.asarray(_add_reduce(a, axis=axis, keepdims=keepdims))
    if a.flags.c_contiguous and a.size < GRAIN_SIZE:
        if axis is None:
            out = np.asarray(_sum_flat(a.reshape(-1)))
            return out.reshape((1,) * a.ndim) if keepdims else out
        if a.ndim == 2 and (axis == 0 or axis == (0,)) and a.shape[0] > 1 and a.shape[1] > 1:
            out = _outer_2d(a)
            return out.reshape(1, -1) if keepdims else out
    ndim = a.ndim
    axes = tuple(range(ndim)) if axis is None else (axis,) if isinstance(axis, int) else axis
    axes = tuple(ax % ndim for ax in axes) if ndim else ()
    reduced = set(axes)
    out_shape = tuple(1 if ax in reduced else n for ax, n in enumerate(a.shape))
    if not keepdims:
        out_shape = tuple(n for ax, n in enumerate(a.shape) if ax not in reduced)
    if a.size == 1 or all(a.shape[ax] == 1 for ax in reduced):
        return np.asarray(a.reshape(out_shape) + a.dtype.type(0))
    if a.size >= GRAIN_SIZE and all(a.shape[ax] == 1 or ax in reduced for ax in range(ndim)):
        threads = intra_op_threads()
        if threads > 1:
            # the ranges follow memory order, as the iterator's merged dimension does
            order = np.argsort([-abs(s) for s in a.strides], kind="stable")
            flat = np.ascontiguousarray(np.transpose(a, order)).reshape(-1)
            tasks = min(threads, -(-flat.size // GRAIN_SIZE))
            chunk = -(-flat.size // tasks)
            parts = np.zeros(threads, dtype=a.dtype)
            for i in range(tasks):
                parts[i] = _sum_flat(flat[i * chunk : (i + 1) * chunk])
            return np.asarray(cascade_sum(parts)).reshape(out_shape)
    if a.flags.c_contiguous and all(ax in reduced or a.shape[ax] == 1 for ax in range(ndim)):
        return np.asarray(_sum_flat(a.reshape(-1))).reshape(out_shape)
    itemsize = a.itemsize
    if any(s <= 0 or s % itemsize for s in a.strides):
        a = np.ascontiguousarray(a)
    strides = tuple(s // itemsize for s in a.strides)
    dims = _layout(a.shape, strides, reduced)
    if len(dims) == 1:
        dims.append([1, 0, False, [], 1])
    # a view with the iterator's dimensions, outermost first: (..., size1, size0)
    view = np.lib.stride_tricks.as_strided(
        a,
        shape=tuple(d[0] for d in reversed(dims)),
        strides=tuple(d[1] * itemsize for d in reversed(dims)),
        writeable=False,
    )
    d0, d1 = dims[0], dims[1]
    if not d0[2] and d1[2]:  # "move reduction to be the 1st dim"
        view = np.swapaxes(view, -1, -2)
        d0, d1 = d1, d0
    vec = VECTOR_BYTES // itemsize
    res = _loop(view, d0[1], d1[1], vec) if d0[2] else view.copy() + a.dtype.type(0)
    outer = list(reversed(dims[2:]))  # outermost first, as the result's leading axes
    kept = []  # the result's kept dimensions, outermost first
    if d1[2]:
        res = _seq(res, axis=-1)  # every call adds into one output, in order
    else:
        kept = [d1]
    red_axes = [i for i, d in enumerate(outer) if d[2]]
    if red_axes:
        # the outer loop runs dims[2] fastest: adding in C order over those axes
        keep_axes = [i for i, d in enumerate(outer) if not d[2]]
        res = np.transpose(res, red_axes + keep_axes + list(range(len(outer), res.ndim)))
        res = _seq(res.reshape(-1, *res.shape[len(red_axes) :]), axis=0)
    kept = [d for d in outer if not d[2]] + kept
    res = res + a.dtype.type(0)  # 0 + (-0.0): PyTorch's output starts at zero
    # back to the original axes: each kept dimension splits into its axes, outermost first
    sizes, order = [], []
    for d in kept:
        for ax in reversed(d[3]):
            sizes.append(a.shape[ax])
            order.append(ax)
    res = res.reshape(sizes)
    res = np.transpose(res, np.argsort(order))
    return np.asarray(res.reshape(out_shape))


# --- nll_loss's reduction (aten/src/ATen/native/LossNLL.cpp, nll_loss_out_frame) --------
_NLL_LEVELS = 8


def _ceil_log2(n: int) -> int:
    return 1 if n <= 2 else (n - 1).bit_length()


def nll_cascade_sum(values: np.ndarray, valid: np.ndarray | None = None):
    """The sum of ``values`` (1-D, one per row) as PyTorch's ``nll_loss`` adds its rows:
    eight partial sums, each row added into the first, level j flushed into level j + 1
    whenever the row index is a multiple of 2^(p·(j+1)) (p = max(4, ceil(log2 n) / 8));
    rows where ``valid`` is False are skipped, flush included. The partial sums are then
    added from the first. Each complete group of 2^p items is summed in order, side by
    side with the others, so the cost is a few vectorised passes."""
    dt = values.dtype
    n = values.shape[0]
    power = max(4, _ceil_log2(n) // _NLL_LEVELS)
    if valid is not None and not valid.all():
        return _nll_cascade_loop(values, valid, power)
    size = 1 << power
    # row 0 flushes through every level to the last; rows 1.. fill level 0's groups
    items, partials = values[1:], []
    while len(items) and len(partials) < _NLL_LEVELS - 1:
        full = len(items) // size
        # a running sum adds in order from the first item (NumPy's cumsum is sequential)
        sums = np.cumsum(items[: full * size].reshape(full, size), axis=1)[:, -1]
        rest = items[full * size :]
        partials.append(np.cumsum(rest)[-1] if len(rest) else dt.type(0))
        items = sums
    top = np.cumsum(np.concatenate([values[:1], items]))[-1] if n else dt.type(0)
    return np.cumsum(np.array([*partials, top], dt))[-1]


def _nll_cascade_loop(values: np.ndarray, valid: np.ndarray, power: int):
    """``nll_cascade_sum`` row by row, for inputs with skipped rows."""
    partial = [values.dtype.type(0)] * _NLL_LEVELS
    mask = (1 << power) - 1
    for b, (v, keep) in enumerate(zip(values, valid)):
        if not keep:
            continue
        partial[0] = partial[0] + v
        for j in range(_NLL_LEVELS - 1):
            if b & (mask << (j * power)):
                break
            partial[j + 1] = partial[j + 1] + partial[j]
            partial[j] = values.dtype.type(0)
    total = values.dtype.type(0)
    for p in partial:
        total = total + p
    return total
