"""Pooling, padding and interpolation ops for any number of spatial dims.

Max pooling reads a strided window view of the input padded with -inf, takes the argmax
over the taps and keeps the flat input index of every maximum; its backward is one
``np.bincount`` over those indices (no ``np.add.at``). Average pooling sums the window
view and its backward adds the scaled gradient back tap by tap (a loop over the K kernel
taps, each one strided slice over all positions). Adaptive pooling gathers every output
cell's (variable-size) window with index arrays clipped to the cell, so it is exact for
any input/output sizes. Interpolation and the non-constant padding modes are linear maps
along each axis: a gather forward and its transpose (an index-sum) backward.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from gradfit.autograd.function import Op, linear_backward_graph
from gradfit.ops.conv import alloc, axis_order, pad_zeros, windows


def _prod(xs) -> int:
    return int(math.prod(xs))


def pool_out_size(size: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """PyTorch's ``pooling_output_shape``: in ceil mode the last window must start inside
    the input or its left padding."""
    num = size + 2 * p - d * (k - 1) - 1
    if ceil_mode:
        o = -(-num // s) + 1
        if (o - 1) * s >= size + p:
            o -= 1
    else:
        o = num // s + 1
    return o


def _flat_index(spatial, coords) -> np.ndarray:
    """Row-major flat index over ``spatial`` from per-dim coordinate arrays."""
    idx = coords[0]
    for size, c in zip(spatial[1:], coords[1:]):
        idx = idx * size + c
    return idx


def _scatter_sum(values: np.ndarray, index: np.ndarray, lead: int, size: int) -> np.ndarray:
    """Sum ``values`` (lead, M) into (lead, size) at ``index`` (lead, M) with one bincount."""
    offs = (np.arange(lead) * size)[:, None]
    flat = (index.reshape(lead, -1) + offs).ravel()
    out = np.bincount(flat, weights=values.reshape(-1), minlength=lead * size)
    return out.reshape(lead, size)


def _tap_slices(k, s, d, out):
    """For every kernel tap (row-major), the strided slice of the padded input it reads."""
    for tap in itertools.product(*(range(ki) for ki in k)):
        yield (Ellipsis,) + tuple(
            slice(t * di, t * di + si * (oi - 1) + 1, si) for t, di, si, oi in zip(tap, d, s, out)
        )


class MaxPoolNd(Op):
    """y = max over each window (padding counts as -inf).

    The maximum is taken tap by tap (one strided slice per kernel tap, all positions at
    once), keeping the index of the winning tap; the input gradient goes to that element.
    Ties go to the first tap in row-major order and a NaN wins over any number, later NaN
    over earlier, which is PyTorch's ``val > max || isnan(val)`` rule.
    """

    saves_inputs = False

    @staticmethod
    def forward(
        ctx, x, kernel_size=(1,), stride=(1,), padding=(0,), dilation=(1,), ceil_mode=False
    ):
        nd = len(kernel_size)
        spatial = x.shape[x.ndim - nd :]
        out = tuple(
            pool_out_size(s, k, st, p, d, ceil_mode)
            for s, k, st, p, d in zip(spatial, kernel_size, stride, padding, dilation)
        )
        pads = []
        for s, k, st, p, d, o in zip(spatial, kernel_size, stride, padding, dilation, out):
            need = (o - 1) * st + d * (k - 1) + 1  # padded length the windows read
            pads.append((p, max(need - s - p, 0)))
        fill = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
        xp = pad_zeros(x, pads, value=fill)
        nan = x.dtype.kind == "f" and x.size > 0 and bool(np.isnan(x.max()))
        kk = _prod(kernel_size)
        adt = np.uint8 if kk < 256 else np.int32
        arg = None
        y = None
        for i, sl in enumerate(_tap_slices(kernel_size, stride, dilation, out)):
            v = xp[sl]
            if y is None:
                y = v.copy(order="K")
                arg = np.zeros_like(y, dtype=adt)
                continue
            better = v > y
            if nan:
                better |= np.isnan(v)
                np.copyto(y, v, where=better)
            else:
                np.maximum(y, v, out=y)
            # arg = i where better, else unchanged: arithmetic, which NumPy does much
            # faster than a masked assignment (wrapping uint8 arithmetic is exact here)
            arg += better.view(np.uint8).astype(adt, copy=False) * (adt(i) - arg)
        ctx.arg, ctx.layout = arg, axis_order(x)
        ctx.geo = (x.shape, xp.shape, pads, kernel_size, stride, dilation, out)
        return y

    @staticmethod
    def backward(ctx, grad_output):
        shape, pshape, pads, k, s, d, out = ctx.geo
        arg = ctx.arg
        # windows that never share an element write their slices; overlapping ones add
        disjoint = all(ki == 1 or (di == 1 and si >= ki) for ki, si, di in zip(k, s, d))
        nd = len(k)
        sp = pshape[len(pshape) - nd :]
        covered = disjoint and all(
            si == ki and oi * si == n for ki, si, oi, n in zip(k, s, out, sp)
        )  # the windows tile the (padded) input exactly: every element is written
        if covered:
            res = np.empty(tuple(pshape[i] for i in ctx.layout), dtype=grad_output.dtype)
            res = res.transpose(np.argsort(ctx.layout))
        else:
            res = alloc(pshape, ctx.layout, 0, grad_output.dtype)
        for i, sl in enumerate(_tap_slices(k, s, d, out)):
            if disjoint:
                np.multiply(grad_output, arg == i, out=res[sl])
            else:
                res[sl] += grad_output * (arg == i)
        if pshape == shape:
            return res
        return res[(Ellipsis,) + tuple(slice(lo, n - hi) for n, (lo, hi) in zip(sp, pads))]

    @staticmethod
    def indices(ctx) -> np.ndarray:
        """PyTorch's ``return_indices``: each maximum's flat position in its input plane."""
        shape, _, pads, k, s, d, out = ctx.geo
        nd = len(k)
        spatial = shape[len(shape) - nd :]
        taps = np.unravel_index(ctx.arg, k)
        grids = np.meshgrid(*(np.arange(o) for o in out), indexing="ij")
        coords = [
            np.clip(g * st + t * di - lo, 0, size - 1)
            for g, t, st, di, (lo, _), size in zip(grids, taps, s, d, pads, spatial)
        ]
        return _flat_index(spatial, coords).astype(np.int64)

    @staticmethod
    def backward_graph(ctx, g):
        shape, nd = ctx.geo[0], len(ctx.geo[3])
        return _routed_graph(g, shape, nd, MaxPoolNd.indices(ctx))


def _index_backward(ctx, grad_output):
    """Gradient of a gather-by-index max: one bincount into the input planes."""
    shape, nd = ctx.shape, ctx.nd
    lead = _prod(shape[: len(shape) - nd])
    size = _prod(shape[len(shape) - nd :])
    g = _scatter_sum(grad_output, ctx.indices, lead, size)
    return g.astype(grad_output.dtype, copy=False).reshape(shape)


def _routed_graph(g, shape: tuple, nd: int, flat: np.ndarray):
    """create_graph for max pooling: the input gradient is ``g`` added into zeros at the
    maxima (``flat``: each output's flat position in its input plane, shaped as the
    output), linear in ``g`` with indices fixed by the forward pass; its derivative in
    ``g`` is the gather at the same positions (``IndexScatter``), and it does not depend
    on the input (zero almost everywhere, as in PyTorch)."""
    from gradfit.ops.movement import IndexScatter

    lead = len(shape) - nd
    index = tuple(
        np.arange(n).reshape((1,) * i + (n,) + (1,) * (flat.ndim - i - 1))
        for i, n in enumerate(shape[:lead])
    ) + np.unravel_index(flat, shape[lead:])
    return IndexScatter.apply(g, shape=shape, index=index)


def _avg_divisors(spatial, out, kernel_size, stride, padding, count_include_pad, divisor_override):
    """The divisor of every output cell, PyTorch's rule (``AvgPoolKernel.cpp``): the
    window clipped to input+padding (include_pad) or to the input (exclude)."""
    if divisor_override:
        return None
    per_dim = []
    for s, o, k, st, p in zip(spatial, out, kernel_size, stride, padding):
        start = np.arange(o) * st - p
        end = np.minimum(start + k, s + p)
        size_pad = end - start
        cnt = np.minimum(end, s) - np.maximum(start, 0)
        per_dim.append(size_pad if count_include_pad else cnt)
    div = per_dim[0].astype(np.float64)
    for v in per_dim[1:]:
        div = np.multiply.outer(div, v)
    return div


class AvgPoolNd(Op):
    """y = sum over each window / divisor (``count_include_pad``, ``divisor_override``,
    ``ceil_mode`` as PyTorch). Backward spreads g / divisor over the window's taps."""

    saves_inputs = False

    @staticmethod
    def forward(
        ctx,
        x,
        kernel_size=(1,),
        stride=(1,),
        padding=(0,),
        ceil_mode=False,
        count_include_pad=True,
        divisor_override=None,
    ):
        nd = len(kernel_size)
        spatial = x.shape[x.ndim - nd :]
        out = tuple(
            pool_out_size(s, k, st, p, 1, ceil_mode)
            for s, k, st, p in zip(spatial, kernel_size, stride, padding)
        )
        pads = []
        for s, k, st, p, o in zip(spatial, kernel_size, stride, padding, out):
            need = (o - 1) * st + k
            pads.append((p, max(need - s - p, 0)))
        xp = pad_zeros(x, pads)
        w = windows(xp, kernel_size, stride, (1,) * nd, out)
        total = w.sum(axis=tuple(range(x.ndim, x.ndim + nd)))
        div = _avg_divisors(
            spatial, out, kernel_size, stride, padding, count_include_pad, divisor_override
        )
        div = np.asarray(divisor_override, dtype=x.dtype) if div is None else div.astype(x.dtype)
        ctx.geo = (x.shape, pads, kernel_size, stride, out, div, xp.shape)
        return total / div

    @staticmethod
    def backward(ctx, grad_output):
        shape, pads, k, s, out, div, pshape = ctx.geo
        g = grad_output / div
        res = np.zeros(pshape, dtype=grad_output.dtype)
        for tap in itertools.product(*(range(ki) for ki in k)):
            dst = (Ellipsis,) + tuple(
                slice(t, t + si * (oi - 1) + 1, si) for t, si, oi in zip(tap, s, out)
            )
            res[dst] += g
        sp = pshape[len(pshape) - len(k) :]
        return res[(Ellipsis,) + tuple(slice(lo, n - hi) for n, (lo, hi) in zip(sp, pads))]

    backward_graph = staticmethod(linear_backward_graph)


def _adaptive_index(size: int, out: int):
    """Per output cell: start, end, and an index array (out, Lmax) clipped to end - 1."""
    i = np.arange(out)
    start = (i * size) // out
    end = -((-(i + 1) * size) // out)
    lmax = int((end - start).max())
    idx = start[:, None] + np.arange(lmax)[None, :]
    valid = idx < end[:, None]
    return np.minimum(idx, end[:, None] - 1), valid, end - start


def _adaptive_gather(x, output_size):
    nd = len(output_size)
    spatial = x.shape[x.ndim - nd :]
    parts = [_adaptive_index(s, o) for s, o in zip(spatial, output_size)]
    # index arrays broadcast to (*out, *Lmax): dim i varies along axes i and nd + i
    idx = []
    for i, (ix, _, _) in enumerate(parts):
        shp = [1] * (2 * nd)
        shp[i], shp[nd + i] = ix.shape
        idx.append(ix.reshape(shp))
    g = x[(Ellipsis,) + tuple(idx)]  # (..., *out, *Lmax)
    return g, idx, parts, spatial


class AdaptiveMaxPoolNd(Op):
    """Max over PyTorch's adaptive cells: cell i spans [floor(i S / O), ceil((i+1) S / O))."""

    @staticmethod
    def forward(ctx, x, output_size=(1,)):
        nd = len(output_size)
        g, idx, _, spatial = _adaptive_gather(x, output_size)
        lead = x.shape[: x.ndim - nd]
        flat = g.reshape(lead + tuple(output_size) + (-1,))
        arg = flat.argmax(axis=-1)
        y = np.take_along_axis(flat, arg[..., None], axis=-1)[..., 0]
        full = np.broadcast_to(
            _flat_index(spatial, [np.broadcast_to(i, _bshape(idx)) for i in idx]),
            _bshape(idx),
        ).reshape(tuple(output_size) + (-1,))
        ctx.indices = full[tuple(np.indices(tuple(output_size))) + (arg,)]
        ctx.shape, ctx.nd = x.shape, nd
        return y

    backward = staticmethod(_index_backward)

    @staticmethod
    def backward_graph(ctx, g):
        return _routed_graph(g, ctx.shape, ctx.nd, ctx.indices)


def _bshape(idx):
    return np.broadcast_shapes(*(i.shape for i in idx))


class AdaptiveAvgPoolNd(Op):
    """Mean over PyTorch's adaptive cells (see ``AdaptiveMaxPoolNd``)."""

    saves_inputs = False

    @staticmethod
    def forward(ctx, x, output_size=(1,)):
        nd = len(output_size)
        spatial = x.shape[x.ndim - nd :]
        if all(s % o == 0 for s, o in zip(spatial, output_size)):
            # equal cells: a plain window view, no gather
            k = tuple(s // o for s, o in zip(spatial, output_size))
            w = windows(x, k, k, (1,) * nd, output_size)
            ctx.geo = ("even", x.shape, k)
            return w.mean(axis=tuple(range(x.ndim, x.ndim + nd)))
        g, idx, parts, spatial = _adaptive_gather(x, output_size)
        mask = np.ones((1,) * (2 * nd), dtype=bool)
        count = np.ones((1,) * nd)
        for i, (_, valid, cnt) in enumerate(parts):
            shp = [1] * (2 * nd)
            shp[i], shp[nd + i] = valid.shape
            mask = mask & valid.reshape(shp)
            cshp = [1] * nd
            cshp[i] = cnt.size
            count = count * cnt.reshape(cshp)
        count = count.astype(x.dtype)
        y = np.where(mask, g, 0).sum(axis=tuple(range(x.ndim, x.ndim + nd))) / count
        ctx.geo = ("gather", x.shape, (idx, mask, count, spatial, nd))
        return y

    @staticmethod
    def backward(ctx, grad_output):
        kind, shape, extra = ctx.geo
        if kind == "even":
            k = extra
            nd = len(k)
            g = grad_output / np.asarray(_prod(k), dtype=grad_output.dtype)
            for i in range(nd):
                g = np.repeat(g, k[i], axis=g.ndim - nd + i)
            return g
        idx, mask, count, spatial, nd = extra
        lead_shape = shape[: len(shape) - nd]
        lead = _prod(lead_shape)
        g = grad_output / count
        out = grad_output.shape[grad_output.ndim - nd :]
        vals = np.broadcast_to(g.reshape(g.shape + (1,) * nd) * mask, lead_shape + _bshape(idx))
        flat_idx = np.broadcast_to(
            _flat_index(spatial, [np.broadcast_to(i, _bshape(idx)) for i in idx]),
            lead_shape + _bshape(idx),
        )
        del out
        res = _scatter_sum(vals, flat_idx, lead, _prod(spatial))
        return res.astype(grad_output.dtype, copy=False).reshape(shape)

    backward_graph = staticmethod(linear_backward_graph)


def _linear_map_apply(x: np.ndarray, index_weights, nd: int) -> np.ndarray:
    """Apply per-axis maps y[o] = sum_j w[o, j] x[idx[o, j]] over the trailing nd axes."""
    y = x
    for i, (idx, wts) in enumerate(index_weights):
        ax = y.ndim - nd + i
        if idx is None:
            continue
        g = np.take(y, idx, axis=ax)  # (..., O, J, ...)
        if wts is None:
            y = g[(slice(None),) * (ax + 1) + (0,)] if idx.shape[1] == 1 else g
            continue
        wshape = [1] * g.ndim
        wshape[ax], wshape[ax + 1] = wts.shape
        y = (g * wts.reshape(wshape).astype(y.dtype)).sum(axis=ax + 1)
    return y


def _linear_map_transpose(g: np.ndarray, index_weights, in_sizes, nd: int) -> np.ndarray:
    """The transpose of ``_linear_map_apply``: index-sums back to the input sizes."""
    for i in reversed(range(nd)):
        idx, wts = index_weights[i]
        if idx is None:
            continue
        ax = g.ndim - nd + i
        size = in_sizes[i]
        gm = np.moveaxis(g, ax, -1)  # (..., O)
        lead = gm.shape[:-1]
        o, j = idx.shape
        vals = gm[..., :, None] if wts is None else gm[..., :, None] * wts.astype(g.dtype)
        vals = np.broadcast_to(vals, lead + (o, j))
        m = _prod(lead)
        res = _scatter_sum(
            vals.reshape(m, o * j), np.broadcast_to(idx.ravel(), (m, o * j)), m, size
        )
        g = np.moveaxis(res.astype(g.dtype, copy=False).reshape(lead + (size,)), -1, ax)
    return g


class AxisMap(Op):
    """A separable linear map along each trailing axis, given as (index, weight) pairs:
    used by ``interpolate`` (nearest: one index per output, weight 1; linear: two indices
    and their weights) and by ``pad`` in reflect/replicate/circular modes (pure gathers)."""

    saves_inputs = False

    @staticmethod
    def forward(ctx, x, maps=()):
        nd = len(maps)
        ctx.maps, ctx.in_sizes = maps, x.shape[x.ndim - nd :]
        return np.ascontiguousarray(_linear_map_apply(x, maps, nd))

    @staticmethod
    def backward(ctx, grad_output):
        return _linear_map_transpose(grad_output, ctx.maps, ctx.in_sizes, len(ctx.maps))

    backward_graph = staticmethod(linear_backward_graph)


class ConstantPad(Op):
    """Constant padding; negative amounts crop, as in PyTorch."""

    saves_inputs = False

    @staticmethod
    def forward(ctx, x, pads=((0, 0),), value=0.0):
        nd = len(pads)
        sp = x.shape[x.ndim - nd :]
        crop = tuple(slice(max(-lo, 0), s - max(-hi, 0)) for s, (lo, hi) in zip(sp, pads))
        xc = x[(Ellipsis,) + crop]
        pos = tuple((max(lo, 0), max(hi, 0)) for lo, hi in pads)
        ctx.geo = (x.shape, crop, pos)
        out = pad_zeros(xc, pos, value=value)
        return out if out is not xc else xc.copy()

    @staticmethod
    def backward(ctx, grad_output):
        shape, crop, pos = ctx.geo
        nd = len(pos)
        sp = grad_output.shape[grad_output.ndim - nd :]
        g = grad_output[(Ellipsis,) + tuple(slice(lo, s - hi) for s, (lo, hi) in zip(sp, pos))]
        if g.shape == shape:
            return g
        res = np.zeros(shape, dtype=grad_output.dtype)
        res[(Ellipsis,) + crop] = g
        return res

    backward_graph = staticmethod(linear_backward_graph)
