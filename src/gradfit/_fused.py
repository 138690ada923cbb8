"""A fused multiply-add with one rounding, on float64 NumPy arrays (rung 0: NumPy only).

PyTorch's CPU kernels compute ``start + step * i`` (its range factories) as one fused
multiply-add: the product is not rounded before the sum. NumPy rounds each operation,
which changes the last bit of a share of the results; ``fma`` rounds once (Dekker's
exact product and Knuth's exact sum, added once). A float32 product is already exact in
float64, so float32 callers need only the final rounding to float32.

(PyTorch's ``add(..., alpha=)``, and so its optimizers' steps, are fused too; gradfit's
optimizers round the product separately: emulating the fused step in float64 made the
lecture's SGD program ~30 % slower, and its forward and backward passes differ from
PyTorch's in the last bit anyway; see README.)
"""

from __future__ import annotations

import numpy as np

_SPLITTER = 134217729.0  # 2**27 + 1, Veltkamp's split of a double into halves


def fma(x, y, z) -> np.ndarray:
    """x·y + z over float64 arrays with one rounding: the product is made exact (Dekker),
    then the sum (Knuth), and the parts are added once."""
    x, y, z = np.broadcast_arrays(*(np.asarray(v, np.float64) for v in (x, y, z)))
    p = x * y
    xh = _SPLITTER * x
    xh = xh - (xh - x)
    yh = _SPLITTER * y
    yh = yh - (yh - y)
    xl, yl = x - xh, y - yh
    err = ((xh * yh - p) + xh * yl + xl * yh) + xl * yl  # p + err == x·y
    total = p + z
    back = total - p
    rest = (p - (total - back)) + (z - back)  # total + rest == p + z
    return total + (rest + err)


def fused(x, y, z):
    """x·y + z rounded once in the precision of ``x`` (a float32 or float64 array or NumPy
    scalar): a float32 product is exact in float64, so one float64 sum rounded to float32
    stands for the fused operation; float64 goes through ``fma``."""
    if x.dtype == np.float32:
        product = np.multiply(x, y, dtype=np.float64)
        return np.add(product, z, out=product).astype(np.float32)
    return fma(x, y, z)
