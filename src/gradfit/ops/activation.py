"""Activation ops beyond the elementwise basics: GELU (exact and tanh forms), SiLU, ELU
(SELU, CELU), Mish, Hardtanh (ReLU6), Hardswish, Hardsigmoid, Threshold, LogSigmoid,
Softsign, Tanhshrink, PReLU, Hard/Softshrink.

Each follows the lecture's FUNCTION rule, delta_a = delta_b * f'(a), with f' written out
in closed form (PyTorch's formulas, aten/src/ATen/native/cpu/Activation.cpp).
"""

from __future__ import annotations

import math

import numpy as np

from gradfit._exact import exact_rounding
from gradfit._fused import fused
from gradfit._moments import rowwise_moments
from gradfit.autograd.function import Op
from gradfit.ops.elementwise import (
    Abs,
    Exp,
    Log1p,
    Relu,
    Sigmoid,
    Sqrt,
    Tanh,
    Where,
    piecewise_linear_graph,
    sigmoid_array,
)
from gradfit.ops.reduce import Mean

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

    @staticmethod
    def backward_graph(ctx, g):
        a = ctx.inputs[0]
        if ctx.approximate == "tanh":
            return _composite_grad(Gelu.composite_tanh, a, g)
        pdf = Exp.apply(a * a * -0.5) * _INV_SQRT_2PI
        return g * (NormalCdf.apply(a) + a * pdf)

    @staticmethod
    def composite_tanh(a):
        inner = (a + a * a * a * _TANH_KAPPA) * _TANH_BETA
        return a * 0.5 * (1 + Tanh.apply(inner))


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

    @staticmethod
    def composite(a):
        return a * Sigmoid.apply(a)


class LayerNorm(Op):
    """Layer normalisation over the last ``k`` axes (PyTorch's ``layer_norm``):

        mu = mean(x), var = mean((x - mu)^2) (biased), x_hat = (x - mu) / sqrt(var + eps),
        y = x_hat * weight + bias   (weight and bias optional, shaped like those axes).

    Backward, with dx_hat = g * weight and means over the normalised axes:
        dx = (dx_hat - mean(dx_hat) - x_hat * mean(dx_hat * x_hat)) / sqrt(var + eps),
        dweight = sum over the leading axes of g * x_hat, dbias = sum of g.

    Outside a graph (``gradfit._exact``) the forward pass rounds as PyTorch's CPU kernel:
    each row's moments by its Welford
    cascade (``_moments.rowwise_moments``), ``rstd = 1 / sqrt(var + eps)`` in the input's
    dtype, ``y = fused(x_hat, weight, bias)`` (``fused(x - mu, rstd, bias)`` without a weight);
    the backward pass rounds in NumPy's order.
    """

    saves_inputs = True  # backward reads the weight: catch in-place updates

    @staticmethod
    def forward(ctx, x, weight=None, bias=None, k=1, eps=1e-5):
        axes = tuple(range(x.ndim - k, x.ndim))
        lead = x.shape[: x.ndim - k]
        exact = exact_rounding(x, (np.float32, np.float64))
        if exact:
            rows = np.ascontiguousarray(x).reshape(-1, int(np.prod(x.shape[x.ndim - k :])))
            mean, var = rowwise_moments(rows)
            rstd = x.dtype.type(1) / np.sqrt(var + x.dtype.type(eps))
            mu, rstd = mean.reshape(lead + (1,) * k), rstd.reshape(lead + (1,) * k)
        else:
            mu = x.mean(axis=axes, keepdims=True)
            xc = x - mu
            rstd = 1.0 / np.sqrt((xc * xc).mean(axis=axes, keepdims=True) + eps)
        x_hat = (x - mu) * rstd
        ctx.x_hat, ctx.rstd, ctx.axes, ctx.weight = x_hat, rstd, axes, weight
        ctx.mu = mu  # the mean PyTorch saves (saved-tensor hooks pack it)
        if weight is None and bias is None:
            return x_hat
        if not exact:
            out = x_hat if weight is None else x_hat * weight
            return out if bias is None else out + bias
        # PyTorch's (x - mu) * rstd * weight + bias, contracted as its compiler does
        if weight is None:
            return fused(x - mu, np.broadcast_to(rstd, x.shape), bias)
        return x_hat * weight if bias is None else fused(x_hat, weight, bias)

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

    @staticmethod
    def composite(x, weight=None, bias=None, k=1, eps=1e-5):
        axes = tuple(range(x.ndim - k, x.ndim))
        xc = x - Mean.apply(x, dim=axes, keepdim=True)
        var = Mean.apply(xc * xc, dim=axes, keepdim=True)
        out = xc / Sqrt.apply(var + eps)
        if weight is not None:
            out = out * weight
        return out if bias is None else out + bias


# ---------------------------------------------------------------------------- more activations
# PyTorch's formulas (aten/src/ATen/native/cpu/Activation.cpp); each op saves the one array
# its backward reads.


def apply_inplace(x, fn):
    """``x`` made to hold ``fn(x)``: the ``inplace=True`` form of an activation (PyTorch's
    semantics: the input tensor is modified and returned; refused on a leaf that
    requires grad)."""
    return x._inplace_op(fn)


class Elu(Op):
    """ELU: scale * x for x > 0, scale * alpha * (exp(input_scale * x) - 1) otherwise
    (SELU and CELU are ELU with other constants).
    Derivative: scale for x > 0, scale * alpha * input_scale * exp(input_scale * x) else."""

    @staticmethod
    def forward(ctx, a, alpha=1.0, scale=1.0, input_scale=1.0, grad_input_scale=None):
        # grad_input_scale: CELU's derivative in PyTorch uses 1 / float32(alpha) where its
        # forward uses 1 / alpha (derivatives.yaml: ``1.0/alpha.toFloat()``).
        neg = np.expm1(np.minimum(a, 0) * input_scale)
        ctx.a, ctx.neg, ctx.k = a, neg, (alpha, scale, input_scale, grad_input_scale)
        out = np.where(a > 0, a * scale, neg * (alpha * scale))
        return out.astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad_output):
        alpha, scale, input_scale, grad_scale = ctx.k
        if grad_scale is None:
            grad_scale, ex = input_scale, ctx.neg + 1
        else:
            ex = np.exp(np.minimum(ctx.a, 0) * grad_scale)
        local = np.where(ctx.a > 0, scale, ex * (grad_scale * alpha * scale))
        return grad_output * local.astype(grad_output.dtype, copy=False)

    @staticmethod
    def backward_graph(ctx, g):
        alpha, scale, input_scale, grad_scale = ctx.k
        grad_scale = input_scale if grad_scale is None else grad_scale
        neg = ctx.a <= 0
        # exp of the negative part only: exp(0) = 1 where the branch is not taken.
        ex = Exp.apply(ctx.inputs[0] * neg.astype(g.dtype) * grad_scale)
        local = Where.apply(~neg, np.asarray(scale, g.dtype), ex * (grad_scale * alpha * scale))
        return g * local


class Mish(Op):
    """Mish: x tanh(softplus(x));  derivative t + x sigma(x) (1 - t^2), t = tanh(softplus(x))."""

    @staticmethod
    def forward(ctx, a):
        t = np.tanh(np.log1p(np.exp(-np.abs(a))) + np.maximum(a, 0))
        ctx.a, ctx.t = a, t
        return a * t

    @staticmethod
    def backward(ctx, grad_output):
        a, t = ctx.a, ctx.t
        return grad_output * (t + a * sigmoid_array(a) * (1 - t * t))

    @staticmethod
    def composite(a):
        softplus = Log1p.apply(Exp.apply(-Abs.apply(a))) + Relu.apply(a)
        return a * Tanh.apply(softplus)


class Hardtanh(Op):
    """clamp(x, min_val, max_val); the gradient passes strictly inside (PyTorch's
    hardtanh_backward, unlike clamp's closed interval)."""

    @staticmethod
    def forward(ctx, a, min_val=-1.0, max_val=1.0):
        ctx.a, ctx.lo, ctx.hi = a, min_val, max_val
        return np.minimum(np.maximum(a, min_val), max_val).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad_output):
        a = ctx.a
        return grad_output * ((a > ctx.lo) & (a < ctx.hi))

    backward_graph = staticmethod(piecewise_linear_graph)


class Hardswish(Op):
    """x relu6(x + 3) / 6;  derivative 0 below -3, x / 3 + 1/2 up to 3, 1 above."""

    @staticmethod
    def forward(ctx, a):
        ctx.a = a
        return a * np.minimum(np.maximum(a + 3, 0), 6) / 6

    @staticmethod
    def backward(ctx, grad_output):
        a = ctx.a
        mid = grad_output * (a / 3 + 0.5)
        return np.where(a < -3, 0, np.where(a <= 3, mid, grad_output)).astype(
            grad_output.dtype, copy=False
        )

    @staticmethod
    def backward_graph(ctx, g):
        a = ctx.a
        mid = g * (ctx.inputs[0] / 3 + 0.5)
        zero = np.zeros((), g.dtype)
        return Where.apply(a < -3, zero, Where.apply(a <= 3, mid, g))


_ONE_SIXTH_F32 = float(np.float32(1.0) / np.float32(6.0))


class Hardsigmoid(Op):
    """relu6(x + 3) / 6;  derivative 1/6 strictly between -3 and 3, else 0."""

    @staticmethod
    def forward(ctx, a):
        ctx.a = a
        return np.minimum(np.maximum(a + 3, 0), 6) / 6

    @staticmethod
    def backward(ctx, grad_output):
        a = ctx.a
        # PyTorch's kernel multiplies by the float constant 1.0f / 6.0f for every dtype.
        return grad_output * ((a > -3) & (a < 3)) * _ONE_SIXTH_F32

    backward_graph = staticmethod(piecewise_linear_graph)


class Threshold(Op):
    """x where x > threshold, else value;  the gradient passes where x > threshold."""

    @staticmethod
    def forward(ctx, a, threshold=0.0, value=0.0):
        ctx.mask = a > threshold
        return np.where(ctx.mask, a, np.asarray(value, a.dtype))

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * ctx.mask

    backward_graph = staticmethod(piecewise_linear_graph)


class LogSigmoid(Op):
    """log sigma(x) = min(x, 0) - log1p(exp(-|x|));  derivative sigma(-x)."""

    @staticmethod
    def forward(ctx, a):
        e = np.exp(-np.abs(a))
        ctx.a, ctx.e = a, e
        return np.minimum(a, 0) - np.log1p(e)

    @staticmethod
    def backward(ctx, grad_output):
        e = ctx.e
        s = np.where(ctx.a < 0, 1 / (1 + e), e / (1 + e))  # sigma(-x) from exp(-|x|)
        return grad_output * s.astype(grad_output.dtype, copy=False)

    @staticmethod
    def composite(a):
        return -(Relu.apply(-a) + Log1p.apply(Exp.apply(-Abs.apply(a))))


class Softsign(Op):
    """x / (1 + |x|);  derivative 1 / (1 + |x|)^2."""

    @staticmethod
    def forward(ctx, a):
        ctx.d = 1 + np.abs(a)
        return a / ctx.d

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output / (ctx.d * ctx.d)

    @staticmethod
    def composite(a):
        return a / (1 + Abs.apply(a))


class Tanhshrink(Op):
    """x - tanh(x);  derivative tanh(x)^2."""

    @staticmethod
    def forward(ctx, a):
        ctx.t = np.tanh(a)
        return a - ctx.t

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * (ctx.t * ctx.t)

    @staticmethod
    def composite(a):
        return a - Tanh.apply(a)


class Prelu(Op):
    """x for x > 0, w x otherwise, with ``w`` broadcast over the input (the caller shapes
    it to the channel axis); dw sums g x over the negative entries (engine broadcast)."""

    @staticmethod
    def forward(ctx, a, w):
        ctx.a, ctx.w = a, w
        return np.where(a > 0, a, w * a)

    @staticmethod
    def backward(ctx, grad_output):
        a, g = ctx.a, grad_output
        pos = a > 0
        ga = (
            np.where(pos, g, g * ctx.w) if getattr(ctx.inputs[0], "_requires_grad", False) else None
        )
        gw = np.where(pos, 0, g * a).astype(g.dtype, copy=False)
        return ga, gw

    @staticmethod
    def composite(a, w):
        return Where.apply(_array(a) > 0, a, a * w)


class Shrink(Op):
    """hardshrink (x where |x| > lambd, else 0) or softshrink (x -+ lambd outside
    [-lambd, lambd], else 0); the gradient passes where |x| > lambd."""

    @staticmethod
    def forward(ctx, a, lambd=0.5, soft=False):
        ctx.mask = (a > lambd) | (a < -lambd)
        ctx.soft = soft  # names the node (autograd/_torch_names.py)
        if soft:
            out = np.where(a > lambd, a - lambd, np.where(a < -lambd, a + lambd, 0))
        else:
            out = np.where(ctx.mask, a, 0)
        return out.astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * ctx.mask

    backward_graph = staticmethod(piecewise_linear_graph)


class NormalCdf(Op):
    """Phi(x), the standard normal CDF (GELU's second derivative needs it as an op);
    Phi' = phi, the density."""

    @staticmethod
    def forward(ctx, a):
        ctx.a = a
        return 0.5 * (1 + _erf(a * _SQRT1_2))

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * (np.exp(-0.5 * (ctx.a * ctx.a)) * _INV_SQRT_2PI)

    @staticmethod
    def backward_graph(ctx, g):
        a = ctx.inputs[0]
        return g * (Exp.apply(a * a * -0.5) * _INV_SQRT_2PI)


def _array(t):
    return t._array if hasattr(t, "_array") else np.asarray(t)


def _composite_grad(fn, a, g):
    """d/da <g, fn(a)> with create_graph (the derivative of a fused op's composite)."""
    from gradfit.autograd.engine import run_backward_graph

    out = fn(a)
    return run_backward_graph([out], [g], True, capture={id(a): a}, stop_at_capture=True).get(id(a))
