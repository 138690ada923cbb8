"""Activation ops beyond the elementwise basics: GELU (exact and tanh forms), SiLU.

Each follows the lecture's FUNCTION rule, delta_a = delta_b * f'(a), with f' written out
in closed form (PyTorch's formulas, aten/src/ATen/native/cpu/Activation.cpp).
"""

from __future__ import annotations

import math

import numpy as np

from gradfit.autograd.function import Op
from gradfit.ops.elementwise import sigmoid_array

_SQRT1_2 = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)  # PyTorch's M_2_SQRTPI * M_SQRT1_2 * 0.5
_TANH_BETA = math.sqrt(2.0 / math.pi)  # M_SQRT2 * M_2_SQRTPI * 0.5
_TANH_KAPPA = 0.044715


def _erf(a: np.ndarray) -> np.ndarray:
    # scipy is a dependency of scikit-learn; importing it lazily keeps `import gradfit` fast.
    from scipy.special import erf

    return erf(a)


class Gelu(Op):
    """GELU(x) = x Phi(x) (``approximate='none'``), Phi the standard normal CDF, or
    0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (``approximate='tanh'``).

    Derivative (exact form): Phi(x) + x phi(x), phi the standard normal density.
    """

    @staticmethod
    def forward(ctx, a, approximate="none"):
        ctx.a, ctx.approximate = a, approximate
        if approximate == "tanh":
            inner = _TANH_BETA * (a + _TANH_KAPPA * (a * a * a))
            ctx.t = np.tanh(inner)
            return 0.5 * a * (1 + ctx.t)
        ctx.cdf = 0.5 * (1 + _erf(a * _SQRT1_2))
        return a * ctx.cdf

    @staticmethod
    def backward(ctx, grad_output):
        a = ctx.a
        if ctx.approximate == "tanh":
            t = ctx.t
            left = 0.5 * a
            d_right = left * (1 - t * t) * (_TANH_BETA * (1 + 3 * _TANH_KAPPA * (a * a)))
            return grad_output * (0.5 * (1 + t) + d_right)
        pdf = np.exp(-0.5 * (a * a)) * _INV_SQRT_2PI
        return grad_output * (ctx.cdf + a * pdf)


class Silu(Op):
    """SiLU(x) = x sigma(x);  derivative sigma(x) (1 + x (1 - sigma(x)))."""

    @staticmethod
    def forward(ctx, a):
        ctx.a = a
        ctx.s = sigmoid_array(a)
        return a * ctx.s

    @staticmethod
    def backward(ctx, grad_output):
        s = ctx.s
        return grad_output * (s * (1 + ctx.a * (1 - s)))


class LayerNorm(Op):
    """Layer normalisation over the last ``k`` axes (PyTorch's ``layer_norm``):

        mu = mean(x), var = mean((x - mu)^2) (biased), x_hat = (x - mu) / sqrt(var + eps),
        y = x_hat * weight + bias   (weight and bias optional, shaped like those axes).

    Backward, with dx_hat = g * weight and means over the normalised axes:
        dx = (dx_hat - mean(dx_hat) - x_hat * mean(dx_hat * x_hat)) / sqrt(var + eps),
        dweight = sum over the leading axes of g * x_hat, dbias = sum of g.
    """

    saves_inputs = True  # backward reads the weight: catch in-place updates

    @staticmethod
    def forward(ctx, x, weight=None, bias=None, k=1, eps=1e-5):
        axes = tuple(range(x.ndim - k, x.ndim))
        mu = x.mean(axis=axes, keepdims=True)
        xc = x - mu
        var = (xc * xc).mean(axis=axes, keepdims=True)
        rstd = 1.0 / np.sqrt(var + eps)
        x_hat = xc * rstd
        ctx.x_hat, ctx.rstd, ctx.axes, ctx.weight = x_hat, rstd, axes, weight
        out = x_hat
        if weight is not None:
            out = out * weight
        if bias is not None:
            out = out + bias
        return out

    @staticmethod
    def backward(ctx, grad_output):
        g, x_hat, axes, w = grad_output, ctx.x_hat, ctx.axes, ctx.weight
        inputs = ctx.inputs
        lead = tuple(range(g.ndim - len(axes)))
        gx = gw = gb = None
        if getattr(inputs[0], "_requires_grad", False):
            dxh = g if w is None else g * w
            gx = ctx.rstd * (
                dxh
                - dxh.mean(axis=axes, keepdims=True)
                - x_hat * (dxh * x_hat).mean(axis=axes, keepdims=True)
            )
        if len(inputs) > 1 and getattr(inputs[1], "_requires_grad", False):
            gw = (g * x_hat).sum(axis=lead) if lead else g * x_hat
        if len(inputs) > 2 and getattr(inputs[2], "_requires_grad", False):
            gb = g.sum(axis=lead) if lead else g
        return gx, gw, gb
