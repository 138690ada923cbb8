"""Batch and group normalisation as fused ops (one graph node each, closed-form backward).

Batch norm normalises each channel (axis 1) over the batch and all spatial positions:

    mu_c = mean(x), var_c = mean((x - mu_c)^2) (biased), x_hat = (x - mu_c) / sqrt(var_c + eps),
    y = x_hat * weight_c + bias_c.

In training the statistics are the batch's and the input gradient, with M values per
channel and g_hat = g * weight,

    dx = (g_hat - mean(g_hat) - x_hat * mean(g_hat * x_hat)) / sqrt(var + eps);

in evaluation they are the running estimates (constants), so dx = g * weight / sqrt(var + eps).
Group norm (and instance norm, one channel per group) normalises each sample over the
channels of a group and all positions, with the same backward over those axes.
"""

from __future__ import annotations

import numpy as np

from gradfit.autograd.function import Op
from gradfit.ops.elementwise import Sqrt
from gradfit.ops.movement import Reshape
from gradfit.ops.reduce import Mean


def _wants(ctx, i: int) -> bool:
    inputs = ctx.inputs
    return i < len(inputs) and getattr(inputs[i], "_requires_grad", False)


def _chan(a: np.ndarray, ndim: int) -> np.ndarray:
    """A per-channel vector shaped to broadcast against (N, C, *S)."""
    return a.reshape((1, -1) + (1,) * (ndim - 2))


class BatchNorm(Op):
    """Fused batch normalisation over axis 1 (see the module docstring).

    ``stats`` (training only): a list the forward appends the batch ``(mean, var)`` to
    (biased variance), so the caller can update running estimates without a second pass.
    """

    @staticmethod
    def forward(
        ctx, x, weight=None, bias=None, mean=None, var=None, training=True, eps=1e-5, stats=None
    ):
        axes = (0,) + tuple(range(2, x.ndim))
        dt = x.dtype
        nd = x.ndim
        if training:
            inv_m = 1.0 / (x.size // x.shape[1])
            mu = np.add.reduce(x, axis=axes) * inv_m
            xc = x - _chan(mu, nd)
            v = np.add.reduce(xc * xc, axis=axes) * inv_m
            if stats is not None:
                stats.append((mu, v))
            invstd = (1.0 / np.sqrt(v + eps)).astype(dt, copy=False)
            xc *= _chan(invstd, nd)
            xhat = xc
        else:
            mu, v = mean.astype(dt, copy=False), var.astype(dt, copy=False)
            invstd = (1.0 / np.sqrt(v + eps)).astype(dt, copy=False)
            xhat = (x - _chan(mu, nd)) * _chan(invstd, nd)
        y = xhat if weight is None else xhat * _chan(weight, x.ndim)
        if bias is not None:
            y += _chan(bias, x.ndim)
        ctx.xhat, ctx.invstd, ctx.weight, ctx.training, ctx.axes = (
            xhat,
            invstd,
            weight,
            training,
            axes,
        )
        return y

    @staticmethod
    def backward(ctx, g):
        xhat, invstd, w, axes = ctx.xhat, ctx.invstd, ctx.weight, ctx.axes
        nd = g.ndim
        gx = gw = gb = None
        sum_g = np.add.reduce(g, axis=axes)
        sum_gx = np.add.reduce(g * xhat, axis=axes)
        if _wants(ctx, 0):
            scale = invstd if w is None else invstd * w
            if ctx.training:
                m = g.size // g.shape[1]
                gx = xhat * _chan(sum_gx * (-1.0 / m), nd)
                gx += g
                gx -= _chan(sum_g * (1.0 / m), nd)
                gx *= _chan(scale, nd)
            else:
                gx = g * _chan(scale, nd)
        if _wants(ctx, 1):
            gw = sum_gx
        if _wants(ctx, 2):
            gb = sum_g
        return gx, gw, gb

    @staticmethod
    def composite(
        x, weight=None, bias=None, mean=None, var=None, training=True, eps=1e-5, stats=None
    ):
        axes = (0,) + tuple(range(2, x.ndim))
        if training:
            xc = x - Mean.apply(x, dim=axes, keepdim=True)
            xhat = xc / Sqrt.apply(Mean.apply(xc * xc, dim=axes, keepdim=True) + eps)
        else:
            dt = x._array.dtype
            inv = (1.0 / np.sqrt(var.astype(dt) + eps)).astype(dt, copy=False)
            xhat = (x - _chan(mean.astype(dt), x.ndim)) * _chan(inv, x.ndim)
        return _affine_graph(xhat, weight, bias)


class GroupNorm(Op):
    """Fused group normalisation of (N, C, *S) with ``num_groups`` groups of channels,
    then a per-channel affine map (``weight``, ``bias`` optional)."""

    @staticmethod
    def forward(ctx, x, weight=None, bias=None, num_groups=1, eps=1e-5):
        n, c = x.shape[:2]
        xg = x.reshape(n, num_groups, -1)
        mu = xg.mean(axis=2, keepdims=True)
        xc = xg - mu
        v = (xc * xc).mean(axis=2, keepdims=True)
        invstd = (1.0 / np.sqrt(v + eps)).astype(x.dtype, copy=False)
        xhat = (xc * invstd).reshape(x.shape)
        y = xhat if weight is None else xhat * _chan(weight, x.ndim)
        if bias is not None:
            y = y + _chan(bias, x.ndim)
        ctx.xhat, ctx.invstd, ctx.weight, ctx.groups = xhat, invstd, weight, num_groups
        return y

    @staticmethod
    def backward(ctx, g):
        xhat, invstd, w, groups = ctx.xhat, ctx.invstd, ctx.weight, ctx.groups
        axes = (0,) + tuple(range(2, g.ndim))
        gx = gw = gb = None
        if _wants(ctx, 0):
            gh = g if w is None else g * _chan(w, g.ndim)
            n = g.shape[0]
            ghg = gh.reshape(n, groups, -1)
            xhg = xhat.reshape(n, groups, -1)
            gx = (
                invstd
                * (
                    ghg
                    - ghg.mean(axis=2, keepdims=True)
                    - xhg * (ghg * xhg).mean(axis=2, keepdims=True)
                )
            ).reshape(g.shape)
        if _wants(ctx, 1):
            gw = (g * xhat).sum(axis=axes)
        if _wants(ctx, 2):
            gb = g.sum(axis=axes)
        return gx, gw, gb

    @staticmethod
    def composite(x, weight=None, bias=None, num_groups=1, eps=1e-5):
        n = x.shape[0]
        xg = Reshape.apply(x, shape=(n, num_groups, -1))
        xc = xg - Mean.apply(xg, dim=2, keepdim=True)
        xhat = xc / Sqrt.apply(Mean.apply(xc * xc, dim=2, keepdim=True) + eps)
        return _affine_graph(Reshape.apply(xhat, shape=tuple(x.shape)), weight, bias)


def _affine_graph(xhat, weight, bias):
    """The per-channel affine map of a normalisation's composite (gradfit ops)."""
    shape = (1, -1) + (1,) * (xhat.ndim - 2)
    if weight is not None:
        xhat = xhat * Reshape.apply(weight, shape=shape)
    return xhat if bias is None else xhat + Reshape.apply(bias, shape=shape)
