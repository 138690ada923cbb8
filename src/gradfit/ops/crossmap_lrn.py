"""The legacy cross-map local response normalisation (``torch.nn.CrossMapLRN2d``, from Lua
Torch), computed as PyTorch's ``torch/nn/modules/_functions.py`` computes it.

Its forward slides a running sum of squares across the channels (a window that, as in
PyTorch, never drops the first channel once the window has passed it: it differs from
``local_response_norm``), and its backward is the Lua formula, not the derivative of that
forward: both are reproduced here because programs that use this layer get PyTorch's
numbers. Loops run over channels; each step is vectorized over batch and positions.
"""

from __future__ import annotations

import numpy as np

from gradfit.autograd.function import Op


def _dt(x, v):
    return np.asarray(v, dtype=x.dtype)


def _pow(a, e):
    """a ** e rounded once (float32 through float64, as a correctly rounded powf)."""
    if a.dtype == np.float32:
        return np.power(a.astype(np.float64), float(e)).astype(np.float32)
    return np.power(a, e)


class CrossMapLRN2d(Op):
    """y = x * (k + alpha / size * s_c)^-beta with s_c PyTorch's running channel sum."""

    @staticmethod
    def forward(ctx, x, size=5, alpha=1e-4, beta=0.75, k=1.0):
        channels = x.shape[1]
        sq = x * x
        scale = np.empty_like(x)
        pre_pad = int((size - 1) / 2 + 1)
        first = np.zeros_like(x[:, 0])
        for c in range(min(pre_pad, channels)):
            first = first + sq[:, c]
        scale[:, 0] = first
        for c in range(1, channels):
            cur = scale[:, c - 1]
            if c < channels - pre_pad + 1:
                cur = cur + sq[:, c + pre_pad - 1]
            if c > pre_pad:
                cur = cur - sq[:, c - pre_pad]
            scale[:, c] = cur
        scale = scale * _dt(x, alpha / size) + _dt(x, k)
        out = _pow(scale, -beta) * x
        ctx.x, ctx.out, ctx.scale = x, out, scale
        ctx.size, ctx.alpha, ctx.beta = size, alpha, beta
        ctx.torch_name = "CrossMapLRN2dBackward"
        return out

    @staticmethod
    def backward(ctx, grad_output):
        x, out, scale, size = ctx.x, ctx.out, ctx.scale, ctx.size
        n, channels, h, w = x.shape
        inverse_pre_pad = int(size - (size - 1) / 2)
        if inverse_pre_pad + channels > channels + size - 1:
            raise RuntimeError(
                f"start ({inverse_pre_pad}) + length ({channels}) exceeds dimension size "
                f"({channels + size - 1})."
            )
        cache = _dt(x, 2 * ctx.alpha * ctx.beta / size)
        grad = _pow(scale, -ctx.beta) * grad_output
        padded = np.zeros((n, channels + size - 1, h, w), dtype=x.dtype)
        padded[:, inverse_pre_pad : inverse_pre_pad + channels] = grad_output * out / scale
        accum = padded[:, : size - 1].sum(axis=1) if size > 1 else np.zeros((n, h, w), x.dtype)
        for c in range(channels):
            accum = accum + padded[:, c + size - 1]
            grad[:, c] = grad[:, c] + x[:, c] * accum * -cache
            accum = accum - padded[:, c]
        return grad
