"""Fractional max pooling (Graham 2014), as ATen's FractionalMaxPool2d/3d.cpp.

Along every spatial axis the windows start at a pseudo-random, increasing sequence drawn
from one sample u in [0, 1) per (batch, channel) plane:

    alpha = (in - k) / (out - 1),  start_i = int((i + u) alpha) - int(u alpha)  (i < out - 1),
    start_{out-1} = in - k,

computed in the input's dtype. Each output is the maximum of its k-sized window (the first
maximum in row-major order; a NaN wins), its index the flat position in the input plane.
The windows are gathered at once with index arrays; the backward is one bincount.
"""

from __future__ import annotations

import math

import numpy as np

from gradfit.autograd.function import Op
from gradfit.ops.pooling import _index_backward, _routed_graph


def window_starts(samples: np.ndarray, size: int, out: int, k: int) -> np.ndarray:
    """(..., out) window starts along one axis from per-plane samples (...)."""
    dt = samples.dtype.type
    starts = np.empty(samples.shape + (out,), dtype=np.int64)
    if out > 1:
        alpha = dt(size - k) / dt(out - 1)
        i = np.arange(out - 1).astype(samples.dtype)
        first = ((i + samples[..., None]) * alpha).astype(np.int64)
        starts[..., :-1] = first - (samples * alpha).astype(np.int64)[..., None]
    if out > 0:
        starts[..., -1] = size - k
    return starts


def fractional_indices(x, samples, kernel_size, output_size, axis_sample) -> np.ndarray:
    """Each output's flat position in its input plane (lead + output_size): the first
    maximum of its window (the last NaN if there is one)."""
    nd = len(kernel_size)
    spatial = x.shape[-nd:]
    lead = x.shape[:-nd]
    n_planes = math.prod(lead)
    planes = samples.reshape(-1, samples.shape[-1])[:n_planes].reshape(*lead, samples.shape[-1])
    ks = math.prod(kernel_size)
    n_lead = len(lead)
    index = [np.arange(n).reshape((1,) * i + (n,) + (1,) * (n_lead - i - 1 + 2 * nd))
             for i, n in enumerate(lead)]  # fmt: skip
    flat = 0
    for a in range(nd):
        k, o = kernel_size[a], output_size[a]
        st = window_starts(planes[..., axis_sample[a]], spatial[a], o, k)
        taps = (st[..., None] + np.arange(k)).reshape(
            lead + (1,) * a + (o,) + (1,) * (nd - a - 1) + (1,) * a + (k,) + (1,) * (nd - a - 1)
        )
        index.append(taps)
        flat = flat * spatial[a] + taps
    out_shape = lead + tuple(output_size)
    if ks == 0:  # an empty window: ATen's loop leaves the index at the window's start
        starts = [np.asarray(t).min(axis=tuple(range(-nd, 0)), initial=0) for t in index[n_lead:]]
        idx = 0
        for size, st in zip(spatial, starts):
            idx = idx * size + st
        return np.broadcast_to(idx, out_shape).astype(np.int64)
    vals = x[tuple(index)].reshape(out_shape + (ks,))
    flat = np.broadcast_to(flat, out_shape + tuple(kernel_size)).reshape(out_shape + (ks,))
    pick = np.argmax(vals, axis=-1)
    nan = np.isnan(vals)
    if nan.any():  # ATen keeps the last NaN it meets
        last_nan = ks - 1 - np.argmax(nan[..., ::-1], axis=-1)
        pick = np.where(nan.any(axis=-1), last_nan, pick)
    return np.take_along_axis(flat, pick[..., None], axis=-1)[..., 0]


class FractionalMaxPool(Op):
    """y = x at the maxima ``indices`` (flat positions in each input plane, chosen by
    ``fractional_indices``); x's gradient flows back to them. ``empty``: the windows were
    empty (kernel size 0) and y is -inf, as in ATen."""

    @staticmethod
    def forward(ctx, x, indices, nd=2, empty=False):
        lead = x.shape[: x.ndim - nd]
        planes = x.reshape(math.prod(lead), -1)
        flat = indices.reshape(planes.shape[0], -1)
        y = np.take_along_axis(planes, flat, axis=1).reshape(indices.shape)
        if empty:
            y = np.full(indices.shape, -np.inf, dtype=x.dtype)
        ctx.indices, ctx.shape, ctx.nd = indices, x.shape, nd
        ctx.torch_name = f"FractionalMaxPool{nd}DBackward0"
        return y

    @staticmethod
    def backward(ctx, grad_output):
        if grad_output.dtype == np.float64:
            return _index_backward(ctx, grad_output)
        # float32: added in float32 in output order, as ATen's loop rounds it (windows
        # overlap, so an input may collect several gradients)
        lead = math.prod(ctx.shape[: len(ctx.shape) - ctx.nd])
        size = math.prod(ctx.shape[len(ctx.shape) - ctx.nd :])
        flat = (ctx.indices.reshape(lead, -1) + (np.arange(lead) * size)[:, None]).ravel()
        g = np.zeros(lead * size, dtype=grad_output.dtype)
        np.add.at(g, flat, grad_output.reshape(-1))
        return g.reshape(ctx.shape)

    @staticmethod
    def backward_graph(ctx, g):
        return _routed_graph(g, ctx.shape, ctx.nd, ctx.indices)
