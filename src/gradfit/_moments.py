"""Row-wise mean and variance rounded as PyTorch's CPU layer norm computes them, so that
float32 results agree with PyTorch's bit for bit (rung 0: NumPy only).

PyTorch's ``RowwiseMoments`` (``aten/src/ATen/native/cpu/moments_utils.h``) reads a row of
N values as n = N // L vectors of L lanes (L = 32 bytes / itemsize: its layer norm kernel
runs with 256-bit vectors, also on AVX-512 machines), in chunks of 16 vectors:

- within a chunk, each lane runs Welford's update with fused multiply-adds:
  ``m1 = fma(1/(j+1), x - m1, m1)``, ``m2 = fma(delta, x - m1, m2)``;
- the chunks' moments are merged by a binary cascade: a stack of partial moments, level
  j merged into level j + 1 whenever the chunk count's low bit carries, the levels
  merged into level 0 at the end (``AddMomentsVec``);
- the N mod L leftover values run scalar Welford (rounding each operation), then the L
  lanes are merged into it one by one (``AddMoments``), with the fused multiply-adds the
  compiler makes there (found by comparing the rounding of both forms with PyTorch's).

Here every lane is a column of one array and the chunks are computed side by side, so
the cost is about 16 + (number of chunks) + 2L vectorised steps, whatever the row count.
"""

from __future__ import annotations

import numpy as np

from gradfit._fused import fused

_CHUNK = 16


def _ceil_log2(m: int) -> int:
    return 1 if m <= 2 else (m - 1).bit_length()


def _add_moments_vec(dtype, count_add, m1_add, m2_add, count, m1, m2):
    """Merge moments (count_add, m1_add, m2_add) into (count, m1, m2), lane by lane."""
    n = count + count_add
    c = dtype.type(0) if n == 0 else dtype.type(count_add) / dtype.type(n)
    delta = m1_add - m1
    c_delta = c * delta
    m2 = fused(delta * dtype.type(count), c_delta, m2 + m2_add)
    return n, m1 + c_delta, m2


def rowwise_moments(x: np.ndarray) -> tuple:
    """Each row's mean and biased variance (``x``: 2-D, float32 or float64), as PyTorch's
    layer norm rounds them."""
    dt = x.dtype
    rows, size = x.shape
    lanes = 32 // dt.itemsize
    n = size // lanes
    chunks = -(-n // _CHUNK)
    depth = _ceil_log2(chunks)
    zero = np.zeros((rows, lanes), dt)
    # vector j of every chunk side by side: steps[j] is (chunks, rows, lanes), contiguous
    steps = np.zeros((_CHUNK, chunks, rows, lanes), dt)
    vectors = x[:, : n * lanes].reshape(rows, n, lanes).transpose(1, 0, 2)
    steps.reshape(_CHUNK * chunks, rows, lanes)[:n] = vectors  # chunk-major, then j
    steps = steps.reshape(chunks, _CHUNK, rows, lanes).transpose(1, 0, 2, 3).copy()
    counts = np.minimum(_CHUNK, n - _CHUNK * np.arange(chunks))
    # each chunk's Welford moments (the last chunk may be shorter: it stops early)
    m1 = np.zeros((chunks, rows, lanes), dt)
    m2 = np.zeros((chunks, rows, lanes), dt)
    for j in range(int(counts.max(initial=0))):
        xj = steps[j]
        delta = xj - m1
        new_m1 = fused(dt.type(1) / dt.type(j + 1), delta, m1)
        new_m2 = fused(delta, xj - new_m1, m2)
        if j < counts[-1]:
            m1, m2 = new_m1, new_m2
        else:
            live = (counts > j)[:, None, None]
            m1, m2 = np.where(live, new_m1, m1), np.where(live, new_m2, m2)
    # the cascade over chunks
    stack = [[0, zero, zero] for _ in range(depth)]
    for i in range(chunks):
        stack[0] = list(_add_moments_vec(dt, int(counts[i]), m1[i], m2[i], *stack[0]))
        mask, j = i + 1, 1
        while j < depth and (mask & 1) == 0:
            stack[j] = list(_add_moments_vec(dt, *stack[j - 1], *stack[j]))
            stack[j - 1] = [0, zero, zero]
            mask >>= 1
            j += 1
    for j in range(1, depth):
        stack[0] = list(_add_moments_vec(dt, *stack[j], *stack[0]))
    lane_m1, lane_m2 = stack[0][1].T.copy(), stack[0][2].T.copy()
    # the leftover values, then the lanes, one by one
    count = 0
    mean = np.zeros(rows, dt)
    m2_row = np.zeros(rows, dt)
    for xi in x[:, n * lanes :].T.copy():
        delta = xi - mean
        count += 1
        mean = mean + delta / dt.type(count)
        m2_row = m2_row + delta * (xi - mean)
    total = count + n
    c = dt.type(0) if total == 0 else dt.type(n) / dt.type(total)
    for lane in range(lanes):
        delta = lane_m1[lane] - mean
        mean = fused(c, delta, mean)
        m2_row = m2_row + fused(delta * delta * c, dt.type(count), lane_m2[lane])
        count = total
        total = count + n
        c = dt.type(0) if total == 0 else dt.type(n) / dt.type(total)
    return mean, m2_row / dt.type(size)
