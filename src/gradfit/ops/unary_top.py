"""Pointwise ops of the top-level additions whose composition would lose PyTorch's accuracy.

``expm1(a) = exp(a) - 1`` computed as ``exp(a) - 1`` loses every digit for |a| < 1e-8;
PyTorch calls the C library's ``expm1``, as NumPy does.
"""

from __future__ import annotations

import numpy as np

from gradfit.ops.elementwise import Exp, _Unary


class Expm1(_Unary):
    """out = exp(a) - 1; delta_a = delta_out * (out + 1), PyTorch's formula."""

    saves_inputs = False
    saves_output = True

    @staticmethod
    def forward(ctx, a):
        ctx.out = np.expm1(a)
        return ctx.out

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * (ctx.out + 1)

    @staticmethod
    def backward_graph(ctx, g):
        return g * Exp.apply(ctx.inputs[0])
