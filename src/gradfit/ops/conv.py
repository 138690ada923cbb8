"""Convolution, transposed convolution, unfold and fold, for any number of spatial dims.

Everything is built from two array helpers:

- ``im2col``: a strided view of the (padded) input with one window per output position
  (``as_strided``, no copy), laid out as ``(G, N*L, Cg*K)`` (G groups, L output positions,
  Cg channels per group, K kernel taps) by one copy, so that a convolution is one batched
  matrix product with the weight ``(G, Cg*K, Og)``.
- ``col2im``: the adjoint, which adds every tap's column back into the input. It loops
  over the K kernel taps (9 for a 3x3 kernel), each step one strided slice addition over
  all positions at once, so no ``np.add.at`` and no loop over positions.

Shapes follow PyTorch: input ``(N, C, *S)``, weight ``(O, C/G, *k)`` for a convolution
and ``(C, O/G, *k)`` for a transposed one. Padding is given per spatial dim as
``(before, after)`` (asymmetric padding is what ``padding='same'`` needs for even
kernels); only zero padding happens here, the other modes are ``pad`` applied first.

Convolutions compute channels last internally (see ``ConvNd``) and return PyTorch's
contiguous ``(N, O, *S)`` layout.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from numpy.lib.stride_tricks import as_strided

from gradfit.autograd.function import Op, linear_backward_graph


def _wants(ctx, i: int) -> bool:
    inputs = ctx.inputs
    return i < len(inputs) and getattr(inputs[i], "_requires_grad", False)


def _prod(xs) -> int:
    return int(math.prod(xs))


def out_size(size: int, k: int, s: int, d: int, lo: int, hi: int) -> int:
    """Output length of a convolution along one dim (floor mode)."""
    return (size + lo + hi - d * (k - 1) - 1) // s + 1


def axis_order(a: np.ndarray) -> tuple:
    """The axes of ``a`` from the largest stride to the smallest (its memory order)."""
    return tuple(sorted(range(a.ndim), key=lambda i: -abs(a.strides[i])))


def alloc(shape, order, value, dtype) -> np.ndarray:
    """An array of ``shape`` filled with ``value`` whose axes lie in memory in ``order``
    (so a padded copy or a gradient keeps the layout of the array it mirrors)."""
    buf = np.full(tuple(shape[i] for i in order), value, dtype=dtype)
    return buf.transpose(np.argsort(order))


def pad_zeros(x: np.ndarray, padding, value=0.0) -> np.ndarray:
    """Pad the trailing ``len(padding)`` dims of ``x`` by ``(before, after)`` pairs."""
    if not any(lo or hi for lo, hi in padding):
        return x
    spatial = x.shape[x.ndim - len(padding) :]
    out = alloc(
        x.shape[: x.ndim - len(padding)]
        + tuple(s + lo + hi for s, (lo, hi) in zip(spatial, padding)),
        axis_order(x),
        value,
        x.dtype,
    )
    inner = (Ellipsis,) + tuple(slice(lo, lo + s) for s, (lo, _) in zip(spatial, padding))
    out[inner] = x
    return out


def windows(xp: np.ndarray, k, s, d, out) -> np.ndarray:
    """View ``(..., *P)`` as ``(..., *out, *k)``: window ``o`` holds taps
    ``o*s + t*d`` for ``t < k`` along each of the trailing ``len(k)`` dims (no copy)."""
    nd = len(k)
    lead = xp.shape[: xp.ndim - nd]
    st = xp.strides
    sp = st[xp.ndim - nd :]
    return as_strided(
        xp,
        shape=lead + tuple(out) + tuple(k),
        strides=st[: xp.ndim - nd]
        + tuple(a * b for a, b in zip(sp, s))
        + tuple(a * b for a, b in zip(sp, d)),
        writeable=False,
    )


def im2col(xp: np.ndarray, groups: int, k, s, d, out) -> np.ndarray:
    """Padded input ``(N, C, *P)`` -> contiguous columns ``(G, N*L, Cg*K)``."""
    n, c = xp.shape[:2]
    nd = len(k)
    cg = c // groups
    w = windows(xp.reshape((n, groups, cg) + xp.shape[2:]), k, s, d, out)
    # (N, G, Cg, *out, *k) -> (G, N, *out, Cg, *k)
    perm = (1, 0) + tuple(range(3, 3 + nd)) + (2,) + tuple(range(3 + nd, 3 + 2 * nd))
    cols = np.ascontiguousarray(w.transpose(perm))
    return cols.reshape(groups, n * _prod(out), cg * _prod(k))


def col2im(cols: np.ndarray, n: int, groups: int, padded, k, s, d, out) -> np.ndarray:
    """Adjoint of ``im2col``: columns ``(G, N*L, Cg*K)`` -> ``(N, G*Cg, *padded)``, each
    column entry added at the input position its tap read."""
    nd = len(k)
    cg = cols.shape[2] // _prod(k)
    c6 = cols.reshape((groups, n) + tuple(out) + (cg,) + tuple(k))
    # (G, N, *out, Cg, *k) -> (N, G, Cg, *k, *out): each tap's slab is then (N, G, Cg, *out)
    perm = (1, 0, 2 + nd) + tuple(range(3 + nd, 3 + 2 * nd)) + tuple(range(2, 2 + nd))
    c6 = c6.transpose(perm)
    res = np.zeros((n, groups, cg) + tuple(padded), dtype=cols.dtype)
    for tap in itertools.product(*(range(ki) for ki in k)):
        dst = (Ellipsis,) + tuple(
            slice(t * di, t * di + si * (oi - 1) + 1, si) for t, di, si, oi in zip(tap, d, s, out)
        )
        res[dst] += c6[(slice(None),) * 3 + tap]
    return res.reshape((n, groups * cg) + tuple(padded))


def _crop(x: np.ndarray, padding) -> np.ndarray:
    if not any(lo or hi for lo, hi in padding):
        return x
    nd = len(padding)
    sp = x.shape[x.ndim - nd :]
    return x[(Ellipsis,) + tuple(slice(lo, size - hi) for size, (lo, hi) in zip(sp, padding))]


def _to_channels_first(y: np.ndarray, n: int, groups: int, og: int, out) -> np.ndarray:
    """``(G, N*L, Og)`` -> ``(N, G*Og, *out)`` (a view when G == 1)."""
    nd = len(out)
    y = y.reshape((groups, n) + tuple(out) + (og,))
    perm = (1, 0, 2 + nd) + tuple(range(2, 2 + nd))
    y = y.transpose(perm)  # (N, G, Og, *out)
    if groups == 1:
        return y[:, 0]
    return y.reshape((n, groups * og) + tuple(out))


def _to_rows(g: np.ndarray, groups: int) -> np.ndarray:
    """``(N, G*Og, *out)`` -> ``(G, N*L, Og)``, the layout of the matrix product."""
    n, c = g.shape[:2]
    nd = g.ndim - 2
    og = c // groups
    g = g.reshape((n, groups, og) + g.shape[2:])
    perm = (1, 0) + tuple(range(3, 3 + nd)) + (2,)
    return np.ascontiguousarray(g.transpose(perm)).reshape(groups, -1, og)


# From this many output positions per sample on, a convolution multiplies sample by sample
# (writing PyTorch's layout directly); below, one product over all rows and a transposing
# copy is faster (the per-sample products are too small for the BLAS).
_PER_SAMPLE_MIN_L = 128


def _channels_last_windows(xl: np.ndarray, k, s, d, out, groups: int) -> np.ndarray:
    """Windows of a channels-last array (N, *P, C) as (N, *out, *k, G, Cg) (no copy)."""
    n, c = xl.shape[0], xl.shape[-1]
    nd = len(k)
    st = xl.strides
    sp = st[1 : 1 + nd]
    cg = c // groups
    return as_strided(
        xl,
        shape=(n,) + tuple(out) + tuple(k) + (groups, cg),
        strides=(st[0],)
        + tuple(a * b for a, b in zip(sp, s))
        + tuple(a * b for a, b in zip(sp, d))
        + (st[-1] * cg, st[-1]),
        writeable=False,
    )


class ConvNd(Op):
    """y = x (*) w + b, a cross-correlation with stride, zero padding, dilation, groups.

    Computed channels last: the input is viewed as (N, *S, C), its windows are copied
    once into columns ``X`` of shape (G, N*L, K*Cg) ordered (tap, channel) so every tap
    reads a contiguous run of channels, and ``Y = X W^T`` is one matrix product per group.
    Backward, with ``G`` the output gradient as rows (N*L, O): ``dW = G^T X`` (one
    product), ``dX = col2im(G W)`` (one product, then one strided addition per kernel tap
    into the channels-last input gradient), ``db = sum of G``.
    """

    @staticmethod
    def forward(ctx, x, w, b=None, stride=(1,), padding=((0, 0),), dilation=(1,), groups=1):
        n, c = x.shape[:2]
        nd = x.ndim - 2
        k = w.shape[2:]
        o = w.shape[0]
        og, cg = o // groups, c // groups
        xl = np.moveaxis(x, 1, -1)  # (N, *S, C), a view
        if any(lo or hi for lo, hi in padding):
            padded = tuple(si + lo + hi for si, (lo, hi) in zip(xl.shape[1:-1], padding))
            xpl = np.zeros((n,) + padded + (c,), dtype=x.dtype)
            xpl[
                (slice(None),)
                + tuple(slice(lo, lo + si) for si, (lo, _) in zip(xl.shape[1:-1], padding))
            ] = xl
        else:
            padded = xl.shape[1:-1]
            xpl = xl
        out = tuple(
            (p - di * (ki - 1) - 1) // si + 1 for p, ki, si, di in zip(padded, k, stride, dilation)
        )
        win = _channels_last_windows(xpl, k, stride, dilation, out, groups)
        rows = n * _prod(out)
        kc = _prod(k) * cg
        # weights ordered (tap, channel) like the columns: (G, Og, K*Cg)
        wm = np.moveaxis(w.reshape((groups, og, cg) + k), 2, -1).reshape(groups, og, kc)
        if groups == 1:
            it = xpl.itemsize
            if dilation[-1] == 1 and xpl.strides[-1] == it and xpl.strides[-2] == c * it:
                # the last tap axis and the channels form one contiguous run per window:
                # view them as one axis, so the copy moves runs of k*C, not of C
                st = xpl.strides
                win = as_strided(
                    xpl,
                    shape=(n,) + out + k[:-1] + (k[-1] * c,),
                    strides=(st[0],)
                    + tuple(a * b for a, b in zip(st[1 : 1 + nd], stride))
                    + tuple(a * b for a, b in zip(st[1:nd], dilation[:-1]))
                    + (it,),
                    writeable=False,
                )
            cols = np.ascontiguousarray(win).reshape(rows, kc)
            ctx.cols, ctx.wm, ctx.geo = cols, wm, (x.shape, padded, stride, dilation, padding, out)
            ctx.groups, ctx.wshape = groups, w.shape
            if rows // n >= _PER_SAMPLE_MIN_L:
                # one product per sample, W (O, K*C) @ X_n^T, writes (N, O, L) directly:
                # PyTorch's layout without a transposing copy
                y = np.matmul(wm[0], cols.reshape(n, -1, kc).transpose(0, 2, 1))
                if b is not None:
                    y += b[:, None]
                return y.reshape((n, o) + out)
            # few positions per sample: one product over all rows, then one transposing copy
            y = cols.dot(wm[0].T)
            if b is not None:
                y += b
            return np.ascontiguousarray(np.moveaxis(y.reshape((n,) + out + (o,)), -1, 1))
        perm = (1 + 2 * nd, 0) + tuple(range(1, 1 + 2 * nd)) + (2 + 2 * nd,)
        cols = np.ascontiguousarray(win.transpose(perm)).reshape(groups, rows, kc)
        y = np.matmul(cols, wm.transpose(0, 2, 1))  # (G, N*L, Og)
        if b is not None:
            y += b.reshape(groups, 1, og)
        y = np.moveaxis(y.reshape((groups, n) + out + (og,)), 0, -2).reshape((n,) + out + (o,))
        ctx.cols, ctx.wm, ctx.geo = cols, wm, (x.shape, padded, stride, dilation, padding, out)
        ctx.groups, ctx.wshape = groups, w.shape
        # (N, O, *out) in PyTorch's memory order: what reads memory order (a dropout mask
        # drawn after the convolution, stride(), is_contiguous()) then behaves as PyTorch's
        return np.ascontiguousarray(np.moveaxis(y, -1, 1))

    @staticmethod
    def backward(ctx, grad_output):
        xshape, padded, s, d, padding, out = ctx.geo
        groups, wm, cols = ctx.groups, ctx.wm, ctx.cols
        n, c = xshape[:2]
        nd = len(out)
        o = grad_output.shape[1]
        og, cg = o // groups, c // groups
        k = ctx.wshape[2:]
        nl = n * _prod(out)
        per_sample = groups == 1 and nl // n >= _PER_SAMPLE_MIN_L
        if per_sample:
            g3 = grad_output.reshape(n, o, -1)  # (N, O, L), per-sample products as forward
        elif groups == 1:
            rows = np.moveaxis(grad_output, 1, -1).reshape(nl, o)
        else:
            gl = np.moveaxis(grad_output, 1, -1)  # (N, *out, O)
            rows = np.ascontiguousarray(gl.reshape(nl, groups, og).transpose(1, 0, 2))
        gx = gw = gb = None
        if _wants(ctx, 0):
            if per_sample:
                gc = np.matmul(g3.transpose(0, 2, 1), wm[0]).reshape((n,) + out + k + (1, cg))
            elif groups == 1:
                gc = rows.dot(wm[0]).reshape((n,) + out + k + (1, cg))
            else:
                gc = np.matmul(rows, wm).reshape((groups, n) + out + k + (cg,))
                gc = np.moveaxis(gc, 0, -2)  # (N, *out, *k, G, Cg)
            res = np.zeros((n,) + padded + (groups, cg), dtype=grad_output.dtype)
            lead = (slice(None),) * (1 + nd)
            for tap in itertools.product(*(range(ki) for ki in k)):
                dst = (slice(None),) + tuple(
                    slice(t * di, t * di + si * (oi - 1) + 1, si)
                    for t, di, si, oi in zip(tap, d, s, out)
                )
                res[dst] += gc[lead + tap]
            spatial = xshape[2:]
            res = res[
                (slice(None),) + tuple(slice(lo, lo + si) for si, (lo, _) in zip(spatial, padding))
            ].reshape((n,) + spatial + (c,))
            gx = np.moveaxis(res, -1, 1)
        if _wants(ctx, 1):
            if per_sample:
                gwm = np.matmul(g3, cols.reshape(n, -1, cols.shape[-1])).sum(axis=0)[None]
            elif groups == 1:
                gwm = rows.T.dot(cols)[None]
            else:
                gwm = np.matmul(rows.transpose(0, 2, 1), cols)  # (G, Og, K*Cg)
            gw = np.moveaxis(gwm.reshape((groups, og) + k + (cg,)), -1, 2).reshape(ctx.wshape)
        if _wants(ctx, 2):
            gb = g3.sum(axis=(0, 2)) if per_sample else rows.sum(axis=-2).reshape(-1)
        return gx, gw, gb

    @staticmethod
    def composite(x, w, b=None, stride=(1,), padding=((0, 0),), dilation=(1,), groups=1):
        """im2col (``Unfold``, linear) and one batched product per group, in gradfit ops."""
        from gradfit.ops.matmul import MatMul
        from gradfit.ops.movement import Reshape

        n, c = x.shape[:2]
        o, k = w.shape[0], tuple(w.shape[2:])
        out = tuple(
            (si + lo + hi - di * (ki - 1) - 1) // st + 1
            for si, (lo, hi), ki, st, di in zip(x.shape[2:], padding, k, stride, dilation)
        )
        cols = Unfold.apply(x, kernel_size=k, dilation=dilation, padding=padding, stride=stride)
        cols = Reshape.apply(cols, shape=(n, groups, (c // groups) * _prod(k), -1))
        wg = Reshape.apply(w, shape=(groups, o // groups, -1))
        y = Reshape.apply(MatMul.apply(wg, cols), shape=(n, o) + out)
        if b is None:
            return y
        return y + Reshape.apply(b, shape=(1, o) + (1,) * len(out))


class ConvTransposeNd(Op):
    """The adjoint of ``ConvNd`` with respect to its input (PyTorch's
    ``conv_transpose``): ``y = col2im(X^T W)`` cropped by ``padding``, with
    ``output_padding`` extra positions on the far side. Its input gradient is a
    convolution of the output gradient, its weight gradient one matrix product."""

    @staticmethod
    def forward(
        ctx, x, w, b=None, stride=(1,), padding=(0,), output_padding=(0,), dilation=(1,), groups=1
    ):
        n = x.shape[0]
        k = w.shape[2:]
        cin = w.shape[0]
        spatial = x.shape[2:]
        full = tuple(
            (si - 1) * st + di * (ki - 1) + 1 + op
            for si, st, di, ki, op in zip(spatial, stride, dilation, k, output_padding)
        )
        rows = _to_rows(x, groups)  # (G, N*S, Cin_g)
        wm = w.reshape(groups, cin // groups, -1)  # (G, Cin_g, Og*K)
        cols = np.matmul(rows, wm)
        y = col2im(cols, n, groups, full, k, stride, dilation, spatial)
        pads = tuple((p, p) for p in padding)
        y = np.ascontiguousarray(_crop(y, pads))
        if b is not None:
            y += b.reshape((1, -1) + (1,) * len(k))
        ctx.rows, ctx.w, ctx.groups = rows, w, groups
        ctx.geo = (n, spatial, stride, dilation, pads, full)
        return y

    @staticmethod
    def backward(ctx, grad_output):
        n, spatial, s, d, pads, full = ctx.geo
        w, groups = ctx.w, ctx.groups
        k = w.shape[2:]
        gp = pad_zeros(grad_output, pads)
        # ``full`` may exceed the padded gradient by nothing; windows cover exactly S
        gcols = im2col(gp, groups, k, s, d, spatial)  # (G, N*S, Og*K)
        gx = gw = gb = None
        wm = w.reshape(groups, w.shape[0] // groups, -1)
        if _wants(ctx, 0):
            gx = _to_channels_first(
                np.matmul(gcols, wm.transpose(0, 2, 1)), n, groups, w.shape[0] // groups, spatial
            )
        if _wants(ctx, 1):
            gw = np.matmul(ctx.rows.transpose(0, 2, 1), gcols).reshape(w.shape)
        if _wants(ctx, 2):
            gb = grad_output.sum(axis=(0,) + tuple(range(2, grad_output.ndim)))
        return gx, gw, gb

    @staticmethod
    def composite(
        x, w, b=None, stride=(1,), padding=(0,), output_padding=(0,), dilation=(1,), groups=1
    ):
        """One batched product per group (``W_g^T X_g``) and ``Fold`` (col2im, linear),
        then ``padding`` cropped and ``output_padding`` added (``ConstantPad``)."""
        from gradfit.ops.matmul import MatMul
        from gradfit.ops.movement import Permute, Reshape
        from gradfit.ops.pooling import ConstantPad

        n, cin = x.shape[:2]
        og, k = w.shape[1], tuple(w.shape[2:])
        nd = len(k)
        cg = cin // groups
        xg = Reshape.apply(x, shape=(n, groups, cg, -1))
        wt = Permute.apply(Reshape.apply(w, shape=(groups, cg, -1)), dims=(0, 2, 1))
        cols = Reshape.apply(MatMul.apply(wt, xg), shape=(n, groups * og * _prod(k), -1))
        full = tuple(
            (si - 1) * st + di * (ki - 1) + 1
            for si, st, di, ki in zip(x.shape[2:], stride, dilation, k)
        )
        y = Fold.apply(
            cols,
            output_size=full,
            kernel_size=k,
            dilation=dilation,
            padding=((0, 0),) * nd,
            stride=stride,
        )
        pads = tuple((-p, op - p) for p, op in zip(padding, output_padding))
        if any(lo or hi for lo, hi in pads):
            y = ConstantPad.apply(y, pads=pads, value=0.0)
        if b is None:
            return y
        return y + Reshape.apply(b, shape=(1, -1) + (1,) * nd)


class Unfold(Op):
    """``unfold`` (im2col): ``(N, C, *S)`` -> ``(N, C*K, L)``, rows ordered (c, taps)."""

    @staticmethod
    def forward(ctx, x, kernel_size=(1,), dilation=(1,), padding=((0, 0),), stride=(1,)):
        n, c = x.shape[:2]
        nd = len(kernel_size)
        xp = pad_zeros(x, padding)
        out = tuple(
            (p - di * (ki - 1) - 1) // si + 1
            for p, ki, si, di in zip(xp.shape[2:], kernel_size, stride, dilation)
        )
        if any(o <= 0 for o in out):
            raise RuntimeError(
                f"unfold: the kernel {tuple(kernel_size)} with dilation {tuple(dilation)} and "
                f"padding does not fit the input of spatial size {tuple(x.shape[2:])}"
            )
        w = windows(xp, kernel_size, stride, dilation, out)  # (N, C, *out, *k)
        perm = (0, 1) + tuple(range(2 + nd, 2 + 2 * nd)) + tuple(range(2, 2 + nd))
        ctx.geo = (n, xp.shape[2:], kernel_size, stride, dilation, padding, out)
        return np.ascontiguousarray(w.transpose(perm)).reshape(n, c * _prod(kernel_size), -1)

    @staticmethod
    def backward(ctx, grad_output):
        n, padded, k, s, d, padding, out = ctx.geo
        return _crop(fold_array(grad_output, n, padded, k, s, d, out), padding)

    backward_graph = staticmethod(linear_backward_graph)


def fold_array(g: np.ndarray, n: int, padded, k, s, d, out) -> np.ndarray:
    """``(N, C*K, L)`` -> ``(N, C, *padded)``: sum every block back in place."""
    ck = g.shape[1]
    c = ck // _prod(k)
    # (N, C, *k, L) -> rows (1, N*L, C*K) as col2im expects
    rows = g.reshape(n, c * _prod(k), -1).transpose(0, 2, 1).reshape(1, -1, ck)
    return col2im(np.ascontiguousarray(rows), n, 1, padded, k, s, d, out)


class Fold(Op):
    """``fold`` (col2im), the adjoint of ``Unfold``: ``(N, C*K, L)`` -> ``(N, C, *S)``."""

    @staticmethod
    def forward(
        ctx, x, output_size=(1,), kernel_size=(1,), dilation=(1,), padding=((0, 0),), stride=(1,)
    ):
        n = x.shape[0]
        padded = tuple(o + lo + hi for o, (lo, hi) in zip(output_size, padding))
        out = tuple(
            (p - di * (ki - 1) - 1) // si + 1
            for p, ki, si, di in zip(padded, kernel_size, stride, dilation)
        )
        kk = _prod(kernel_size)
        if x.shape[1] % kk or x.shape[2] != _prod(out):
            raise RuntimeError(
                f"fold: expected input of shape (N, C*{kk}, {_prod(out)}) for kernel "
                f"{tuple(kernel_size)} and output size {tuple(output_size)}, got {x.shape}"
            )
        ctx.geo = (kernel_size, stride, dilation, padding, out)
        y = fold_array(x, n, padded, kernel_size, stride, dilation, out)
        return np.ascontiguousarray(_crop(y, padding))

    @staticmethod
    def backward(ctx, grad_output):
        k, s, d, padding, out = ctx.geo
        gp = pad_zeros(grad_output, padding)
        n, c = gp.shape[:2]
        nd = len(k)
        w = windows(gp, k, s, d, out)
        perm = (0, 1) + tuple(range(2 + nd, 2 + 2 * nd)) + tuple(range(2, 2 + nd))
        return np.ascontiguousarray(w.transpose(perm)).reshape(n, c * _prod(k), -1)

    backward_graph = staticmethod(linear_backward_graph)
