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

from gradfit._cascade_sum import intra_op_threads
from gradfit._exact import exact_rounding
from gradfit._fused import fused
from gradfit._moments import rowwise_moments
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


def _batch_stats(x: np.ndarray) -> tuple:
    """Each channel's mean and sum of squared deviations, rounded as PyTorch's CPU kernels
    round them (``batch_norm_kernel.cpp``), and the count per channel.

    A float32 input is summed in float64 and the mean rounded to float32; the squared
    deviations are float32 products summed in float64. An input with one value per
    sample and channel (N, C) goes through PyTorch's channels-last kernel instead when
    N > threads: each thread sums its block of rows into a float32 buffer (the squares
    fused into the running sums), and the buffers are added in float64. (With N <= threads
    and fewer than 17 channels PyTorch's variance differs from both in the last bit in
    about one channel in ten; the cause is not known.)
    """
    n = x.size // x.shape[1]
    dt = x.dtype
    threads = intra_op_threads()
    if x.size == x.shape[0] * x.shape[1] and n > threads and dt == np.float32:
        step = -(-n // threads)  # at::parallel_for's blocks of rows, one per thread
        padded = np.zeros((threads * step, x.shape[1]), dt)  # adding the zeros is exact
        padded[:n] = x.reshape(n, -1)

        def side_by_side(a):  # (rows, C) -> (step, threads, C): each thread's j-th row
            return a.reshape(threads, step, -1).swapaxes(0, 1)

        sums = np.cumsum(side_by_side(padded), axis=0, dtype=dt)[-1]
        mean = (sums.astype(np.float64).sum(axis=0) / n).astype(dt)
        squares = (padded - mean).astype(np.float64)
        squares *= squares  # exact: a float32 difference squared fits a float64
        squares[n:] = 0.0
        acc = np.zeros((threads, x.shape[1]), dt)
        exact = np.empty(acc.shape, np.float64)
        for row in side_by_side(squares):  # fused: each running sum rounded once
            np.add(acc, row, out=exact)
            np.copyto(acc, exact, casting="unsafe")
        return mean, acc.astype(np.float64).sum(axis=0).astype(dt), n
    mean = (_channel_sums(x) / n).astype(dt)
    d = x - _chan(mean, x.ndim)
    d *= d
    return mean, _channel_sums(d).astype(dt), n


def _channel_sums(x: np.ndarray) -> np.ndarray:
    """Each channel's sum in float64 (over the samples and positions of (N, C, *S))."""
    rows = x.reshape(x.shape[0], x.shape[1], -1)
    return np.add.reduce(np.add.reduce(rows, axis=2, dtype=np.float64), axis=0)


def _fused_affine(x: np.ndarray, alpha: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """x·alpha + beta rounded once (PyTorch's kernels fuse it); float32 through float64,
    where the product is exact."""
    return fused(x, alpha, beta) if x.dtype == np.float32 else x * alpha + beta


class BatchNorm(Op):
    """Fused batch normalisation over axis 1 (see the module docstring), computed as
    PyTorch's CPU kernel does: per channel alpha = invstd·weight and beta = bias −
    mean·alpha, then y = x·alpha + beta, with its roundings (``_batch_stats``).

    ``stats`` (training only): a list the forward appends the batch ``(mean, var_sum,
    count)`` to, so the caller can update running estimates without a second pass.
    """

    @staticmethod
    def forward(
        ctx,
        x,
        weight=None,
        bias=None,
        mean=None,
        var=None,
        training=True,
        eps=1e-5,
        stats=None,
    ):
        dt = x.dtype
        nd = x.ndim
        if training:
            mu, var_sum, n = _batch_stats(x)
            if stats is not None:
                stats.append((mu, var_sum, n))
            var = var_sum / dt.type(n)  # in the statistics' dtype, as PyTorch divides
            invstd = (1.0 / np.sqrt(var.astype(np.float64) + eps)).astype(dt)
        else:
            mu, v = mean.astype(dt, copy=False), var.astype(dt, copy=False)
            invstd = (1 / np.sqrt(v + dt.type(eps))).astype(dt, copy=False)
        alpha = invstd if weight is None else invstd * weight.astype(dt, copy=False)
        bias_ = np.zeros_like(alpha) if bias is None else bias.astype(dt, copy=False)
        beta = _fused_affine(-mu, alpha, bias_)
        ctx.mu, ctx.invstd, ctx.weight, ctx.training = mu, invstd, weight, training
        ctx.axes = (0,) + tuple(range(2, nd))
        return _fused_affine(x, _chan(alpha, nd), _chan(beta, nd))

    @staticmethod
    def backward(ctx, g):
        invstd, w, axes = ctx.invstd, ctx.weight, ctx.axes
        x = ctx.inputs[0]._array
        nd = g.ndim
        xhat = (x - _chan(ctx.mu, nd)) * _chan(invstd, nd)
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
    then a per-channel affine map (``weight``, ``bias`` optional).

    Outside a graph (``gradfit._exact``) the forward pass of a float32/float64 input rounds
    as PyTorch's CPU kernel: each
    (sample, group)'s moments as layer norm's (``_moments.rowwise_moments``),
    ``rstd = 1 / sqrt(var + eps)`` with ``eps`` a double, then per channel
    ``scale = rstd * weight``, ``shift = fused(-scale, mean, bias)``, ``y = fused(x, scale, shift)``
    (without weight and bias, ``y = (x - mean) * rstd``).
    """

    @staticmethod
    def forward(ctx, x, weight=None, bias=None, num_groups=1, eps=1e-5):
        n, c = x.shape[:2]
        xg = x.reshape(n, num_groups, -1)
        if exact_rounding(x, (np.float32, np.float64)):
            mean, var = rowwise_moments(np.ascontiguousarray(xg).reshape(n * num_groups, -1))
            mu = mean.reshape(n, num_groups, 1)
            invstd = (1.0 / np.sqrt(var.astype(np.float64) + eps)).astype(x.dtype)
            invstd = invstd.reshape(n, num_groups, 1)
            xhat = ((xg - mu) * invstd).reshape(x.shape)
            if weight is None and bias is None:
                y = xhat
            else:
                per_channel = (n, c) + (1,) * (x.ndim - 2)
                rep = c // num_groups
                scale = np.repeat(invstd, rep, axis=1).reshape(per_channel)
                if weight is not None:
                    scale = scale * _chan(weight, x.ndim)
                shift = fused(
                    -scale,
                    np.repeat(mu, rep, axis=1).reshape(per_channel),
                    np.zeros((), x.dtype) if bias is None else _chan(bias, x.ndim),
                )
                y = fused(x, scale, shift)
        else:
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
