"""Softmax and log-softmax of float32 arrays rounded as PyTorch's CPU kernels round them
(rung 0: NumPy and the standard library only).

PyTorch's softmax kernels (``aten/src/ATen/native/cpu/SoftmaxKernel.cpp``) exponentiate
with its vectorised ``exp`` (SLEEF's ``expf_u10``), take the logarithm of the sums with
SLEEF's ``logf_u10``, and add in the lane order of its SIMD vectors. This module computes
the same functions step by step in NumPy:

- ``expf`` and ``logf``: SLEEF's algorithms (argument reduction, polynomial, and for the
  logarithm double-float arithmetic), every fused multiply-add rounded once;
- along the last dimension, each row's sum as ``vec::reduce_all`` adds it: one
  accumulator per lane over the row's whole vectors, the leftover values added into the
  first lanes, then the lanes folded by halves (256-, 128-, 64-, 32-bit shuffles); a row
  shorter than a vector is added value by value;
- along another dimension, each position adds its values one after another.

The lane count is the CPU's: 16 float32 lanes where PyTorch runs its AVX-512 kernels, 8
with AVX2 (``lanes()``, from the CPU flags and ``ATEN_CPU_CAPABILITY``).
"""

from __future__ import annotations

import functools
import os

import numpy as np

from gradfit._fused import fused

_f32 = np.float32


@functools.cache
def lanes() -> int:
    """float32 lanes of PyTorch's vectorised kernels on this CPU: 16 with AVX-512 (its
    capability needs avx512f, bw, vl and dq), else 8 (AVX2, and the default build)."""
    wanted = os.environ.get("ATEN_CPU_CAPABILITY", "").lower()
    try:
        with open("/proc/cpuinfo") as info:
            flags = next((line.split() for line in info if line.startswith("flags")), [])
    except OSError:
        flags = []
    avx512 = {"avx512f", "avx512bw", "avx512vl", "avx512dq"} <= set(flags)
    return 16 if avx512 and wanted in ("", "avx512") else 8


# SLEEF's expf_u10: e^d = 2^q · e^s, q = rint(d / ln 2), s = d - q·ln 2 in two parts
_R_LN2 = _f32(1.442695040888963407359924681001892137426645954152985934135449406931)
_LN2_HI, _LN2_LO = _f32(0.693145751953125), _f32(1.428606765330187045e-06)
_EXP_POLY = (
    0.000198527617612853646278381,
    0.00139304355252534151077271,
    0.00833336077630519866943359,
    0.0416664853692054748535156,
    0.166666671633720397949219,
    0.5,
)


def expf(d: np.ndarray) -> np.ndarray:
    """e^d for float32 ``d``, as SLEEF's ``expf_u10`` rounds it."""
    d = np.asarray(d, _f32)
    q = np.rint(d * _R_LN2).astype(np.int32)
    qf = q.astype(_f32)
    s = fused(qf, -_LN2_HI, d)
    s = fused(qf, -_LN2_LO, s)
    u = np.full(d.shape, _f32(_EXP_POLY[0]))
    for c in _EXP_POLY[1:]:
        u = fused(u, s, _f32(c))
    u = _f32(1) + fused(s * s, u, s)
    half = q >> 1  # 2^q as two factors, so neither over- nor underflows early
    u = u * np.ldexp(_f32(1), half).astype(_f32) * np.ldexp(_f32(1), q - half).astype(_f32)
    u = np.where(d < -104, _f32(0), u)
    u = np.where(d > 100, _f32(np.inf), u)
    return np.where(np.isnan(d), d, u).astype(_f32, copy=False)


def _two_sum(x, y):
    """x + y as a float32 pair (sum, error), SLEEF's ``dfadd2``."""
    s = x + y
    v = s - x
    return s, (x - (s - v)) + (y - v)


def logf(d: np.ndarray) -> np.ndarray:
    """ln d for float32 ``d``, as SLEEF's ``logf_u10`` rounds it: d = m · 2^e with m in
    [0.75, 1.5), ln d = e·ln 2 + 2 atanh((m - 1)/(m + 1)), in double-float arithmetic."""
    d = np.asarray(d, _f32)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        _, e = np.frexp(d * _f32(1 / 0.75))
        e = (e - 1).astype(_f32)  # floor(log2(d · (1/0.75) rounded)): getexp / ilogb
        if lanes() == 16:  # AVX-512: the mantissa on its own (getmant into [0.75, 1.5))
            f, _ = np.frexp(d)
            m = np.where(f < 0.75, f * _f32(2), f).astype(_f32)
        else:  # AVX2: d · 2^-e
            m = d * np.ldexp(_f32(1), -e.astype(np.int32)).astype(_f32)
        # e · ln 2 as a float32 pair
        hi, lo = _f32(0.69314718246459960938), _f32(-1.904654323148236017e-09)
        sx = hi * e
        sy = fused(lo, e, fused(hi, e, -sx))
        # x = (m - 1) / (m + 1) as a pair
        nx, ny = _two_sum(np.full(m.shape, _f32(-1)), m)
        dx, dy = _two_sum(np.full(m.shape, _f32(1)), m)
        t = _f32(1) / dx
        xx = nx * t
        u = fused(t, nx, -xx)
        v = fused(-dy, t, fused(-dx, t, _f32(1)))
        xy = fused(xx, v, fused(ny, t, u))
        x2 = xx * xx
        poly = fused(np.full(x2.shape, _f32(0.3027294874)), x2, _f32(0.3996108174))
        poly = fused(poly, x2, _f32(0.6666694880))
        # s += 2x, then s += x^3 · poly, each a double-float addition
        ax, ay = xx * _f32(2), xy * _f32(2)
        s1 = sx + ax
        s1y = ((sx - s1) + ax) + (sy + ay)
        w = (x2 * xx) * poly
        s2 = s1 + w
        s2y = ((s1 - s2) + w) + s1y
        r = s2 + s2y
    r = np.where(d == 0, _f32(-np.inf), r)
    r = np.where(np.isposinf(d), _f32(np.inf), r)
    return np.where((d < 0) | np.isnan(d), _f32(np.nan), r).astype(_f32, copy=False)


def _fold_lanes(acc: np.ndarray) -> np.ndarray:
    """Each row's lanes (rows, L) added by halves, as ``vec_reduce_all``'s shuffles."""
    n = acc.shape[1]
    if n == 16:  # 256-bit halves, then 128-bit blocks pairwise
        acc = acc + np.concatenate([acc[:, 8:], acc[:, :8]], axis=1)
        acc = acc + acc.reshape(-1, 4, 4)[:, [1, 0, 3, 2]].reshape(-1, 16)
    else:
        acc = acc + np.concatenate([acc[:, 4:], acc[:, :4]], axis=1)
    quads = np.arange(n).reshape(-1, 4)
    acc = acc + acc[:, quads[:, [2, 3, 0, 1]].ravel()]  # 64-bit pairs
    acc = acc + acc[:, quads[:, [1, 0, 3, 2]].ravel()]  # 32-bit neighbours
    return acc[:, 0]


def row_sums(x: np.ndarray) -> np.ndarray:
    """Each row's sum (``x``: (rows, size) float32) in ``vec::reduce_all``'s order."""
    rows, size = x.shape
    width = lanes()
    if size < width:  # one partial vector, added value by value into the first lane
        return np.cumsum(x, axis=1)[:, -1]
    whole = size - size % width
    acc = x[:, :width].copy()
    for start in range(width, whole, width):
        acc += x[:, start : start + width]
    if whole < size:
        acc[:, : size - whole] += x[:, whole:]
    return _fold_lanes(acc)


@np.errstate(all="ignore")  # inf and nan inputs give PyTorch's nan silently, as there
def softmax(x: np.ndarray, axis: int) -> np.ndarray:
    """softmax of float32 ``x`` along ``axis``, rounded as PyTorch's CPU kernels."""
    e, total = _exp_and_sums(x, axis, x - x.max(axis=axis, keepdims=True))
    if axis == x.ndim - 1:
        return e * (_f32(1) / total)
    return e / total


@np.errstate(all="ignore")
def log_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    """log_softmax of float32 ``x`` along ``axis``, rounded as PyTorch's CPU kernels."""
    shifted = x - x.max(axis=axis, keepdims=True)
    _, total = _exp_and_sums(x, axis, shifted)
    return shifted - logf(total)


def _exp_and_sums(x: np.ndarray, axis: int, shifted: np.ndarray):
    """exp(shifted) and its sums along ``axis`` (kept).

    Along the last axis every value goes through the vector ``exp``. Along another, the
    kernel runs vectors across the positions after ``axis``, finishes the last
    (positions mod lanes) with the C library's scalar ``expf`` (taken here as correctly
    rounded, which it is but for ~0.06 % of arguments), and adds each position's values
    one after another. (There a few entries in a thousand still differ from PyTorch's,
    for a reason not found.)"""
    e = expf(shifted)
    if axis == x.ndim - 1:
        flat = e.reshape(-1, e.shape[-1])
        total = row_sums(np.ascontiguousarray(flat)).reshape(e.shape[:-1] + (1,))
        return e, total
    after = x.shape[axis + 1 :]
    inner = int(np.prod(after))
    tail = np.broadcast_to(np.arange(inner).reshape(after) >= inner - inner % lanes(), e.shape)
    e[tail] = np.exp(shifted[tail], dtype=np.float64).astype(_f32)
    return e, np.cumsum(e, axis=axis).take([-1], axis=axis)
