"""Ops whose gradient is zero almost everywhere, which in-place methods record in a graph.

``Overwrite`` is what ``fill_``, ``zero_``, ``copy_`` and the random fills (``normal_``,
...) do to a tensor inside a graph: the old values are dropped (their gradient is zero,
which PyTorch reports as zeros, not as a missing gradient), and a tensor source gets the
incoming gradient. ``Step`` is a step function (floor, ceil, round, trunc, sign, and
division with a rounding mode): PyTorch keeps the result in the graph with a zero
gradient, so a later ``backward`` through it gives zeros rather than an error.
"""

from __future__ import annotations

import numpy as np

from gradfit.autograd.function import Op
from gradfit.ops.elementwise import check_integer_divisor, piecewise_linear_graph


class Overwrite(Op):
    """out = src broadcast to a's shape and dtype; delta_a = 0, delta_src = delta_out."""

    saves_inputs = False
    backward_graph = staticmethod(piecewise_linear_graph)

    @staticmethod
    def forward(ctx, a, src):
        ctx.src_is_array = isinstance(src, np.ndarray)
        out = np.empty_like(a)
        np.copyto(out, src, casting="unsafe")
        return out

    @staticmethod
    def backward(ctx, grad_output):
        return np.zeros_like(grad_output), grad_output if ctx.src_is_array else None


_STEPS = {
    "floor": np.floor,
    "ceil": np.ceil,
    "trunc": np.trunc,
    "sign": np.sign,
    "sgn": np.sign,  # sign for real numbers; its own grad_fn name
}


class Step(Op):
    """A step function of a (and of b for a division with a rounding mode); zero
    gradient for both, as PyTorch's derivatives.yaml defines it. Rounding an integer
    tensor gives a copy (PyTorch keeps its dtype), as does the sign of a bool tensor."""

    saves_inputs = False
    backward_graph = staticmethod(piecewise_linear_graph)

    @staticmethod
    def forward(ctx, a, b=None, fn="floor", decimals=0):
        ctx.b_is_array = isinstance(b, np.ndarray)
        if fn.startswith("div_"):
            check_integer_divisor(a, b)
            with np.errstate(divide="ignore", invalid="ignore"):  # inf and nan, as PyTorch
                if fn == "div_floor":
                    out = np.floor_divide(a, b)
                else:
                    out = np.trunc(np.true_divide(a, b))
                    if np.result_type(a, b).kind in "iu":
                        out = out.astype(np.result_type(a, b))
        elif a.dtype.kind == "b" or a.dtype.kind in "iu" and fn not in ("sign", "sgn"):
            out = a.copy()
        elif fn in ("sign", "sgn") and a.dtype.kind == "f":
            out = np.where(np.isnan(a), 0, np.sign(a))  # PyTorch's sign of NaN is 0
        elif fn == "round":
            out = np.round(a, decimals)
        else:
            out = _STEPS[fn](a)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        zero = np.zeros_like(grad_output)
        return zero, zero if ctx.b_is_array else None


class FloorDivide(Step):
    """``floor_divide`` (``//``): PyTorch records it but has no derivative for it, so a
    backward through it raises (``div(rounding_mode='floor')`` has a zero one)."""

    backward_graph = None

    @staticmethod
    def backward(ctx, grad_output):
        raise RuntimeError("derivative for aten::floor_divide is not implemented")
