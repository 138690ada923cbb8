"""Discrete Fourier transforms (``torch.fft``) as ops, on NumPy's pocketfft.

Three ops cover the family, as PyTorch's three kernels do: complex to complex
(fft/ifft/fftn/...), real to complex one-sided (rfft/rfftn, ihfft) and complex one-sided
to real (irfft/irfftn, hfft). ``axes`` are the transformed dimensions, ``sizes`` the
signal lengths along them (the input is cut or zero-padded to them first), ``norm``
PyTorch's ``"backward"`` / ``"ortho"`` / ``"forward"``.

Gradients (PyTorch's convention, ``FunctionsManual.cpp``): each transform is linear, so
its gradient is its adjoint applied to g: the adjoint of a DFT of norm X is the inverse
DFT of the swapped norm (backward <-> forward, ortho stays), and the adjoint of padding
is cutting. rfft's gradient pads g's half spectrum with zeros before that and keeps the
real part; irfft's is rfft of g with the entries that stand for two (1 .. n - n//2 - 1
along the last axis) doubled.
"""

from __future__ import annotations

import numpy as np

from gradfit.autograd._torch_names import TORCH_NAMES
from gradfit.autograd.function import Op
from gradfit.ops.complex import complex_of, real_of

_SWAP = {"backward": "forward", "forward": "backward", "ortho": "ortho"}


def resize(a: np.ndarray, axes: tuple, sizes: tuple) -> np.ndarray:
    """``a`` cut or zero-padded at the end to ``sizes`` along ``axes``."""
    index = [slice(None)] * a.ndim
    pad = [(0, 0)] * a.ndim
    changed = False
    for ax, n in zip(axes, sizes):
        if a.shape[ax] > n:
            index[ax] = slice(0, n)
            changed = True
        elif a.shape[ax] < n:
            pad[ax] = (0, n - a.shape[ax])
            changed = True
    if not changed:
        return a
    a = a[tuple(index)]
    return np.pad(a, pad) if any(p != (0, 0) for p in pad) else a


def hermitian_fill(half: np.ndarray, axes: tuple, n: int) -> np.ndarray:
    """The whole spectrum of a real signal from its one-sided half (PyTorch's r2c with
    ``onesided=False``): X[-k] = conj(X[k]), indices taken modulo each length."""
    last = axes[-1]
    m = half.shape[last]
    shape = list(half.shape)
    shape[last] = n
    full = np.empty(shape, half.dtype)
    index = [slice(None)] * half.ndim
    index[last] = slice(0, m)
    full[tuple(index)] = half
    if n > m:
        src = [slice(None)] * half.ndim
        src[last] = slice(n - m, 0, -1)
        mirror = half[tuple(src)]
        for ax in axes[:-1]:  # index j -> -j (mod length) along the other axes
            mirror = np.roll(np.flip(mirror, ax), 1, ax)
        index[last] = slice(m, n)
        full[tuple(index)] = np.conj(mirror)
    return full


class Resize(Op):
    """``resize`` as an op (linear: its adjoint is the resize back), for the FFTs'
    derivatives of second order."""

    complex_grad = True
    saves_inputs = False

    @staticmethod
    def forward(ctx, x, axes=(), sizes=()):
        ctx.back = tuple(x.shape[a] for a in axes)
        return resize(x, axes, sizes)

    @staticmethod
    def backward(ctx, g):
        return resize(g, ctx.kwargs["axes"], ctx.back)

    @staticmethod
    def backward_graph(ctx, g):
        return Resize.apply(g, axes=ctx.kwargs["axes"], sizes=ctx.back)


def _resize_graph(t, axes: tuple, sizes: tuple):
    if tuple(t.shape[a] for a in axes) == tuple(sizes):
        return t
    return Resize.apply(t, axes=axes, sizes=tuple(sizes))


def _sizes(t, axes: tuple) -> tuple:
    return tuple(t.shape[a] for a in axes)


class FFT(Op):
    """Complex-to-complex DFT over ``axes`` (inverse if ``inverse``)."""

    complex_grad = True
    saves_inputs = False

    @staticmethod
    def forward(ctx, x, axes=(), sizes=(), norm="backward", inverse=False):
        ctx.shape, ctx.dtype = x.shape, x.dtype
        fn = np.fft.ifftn if inverse else np.fft.fftn
        return fn(x, sizes, axes, norm=norm).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        k = ctx.kwargs
        fn = np.fft.fftn if k.get("inverse") else np.fft.ifftn
        gx = fn(g, None, k["axes"], norm=_SWAP[k.get("norm", "backward")])
        sizes = tuple(ctx.shape[a] for a in k["axes"])
        return resize(gx, k["axes"], sizes).astype(ctx.dtype, copy=False)

    @staticmethod
    def backward_graph(ctx, g):
        k = ctx.kwargs
        axes = k["axes"]
        gx = FFT.apply(
            g,
            axes=axes,
            sizes=_sizes(g, axes),
            norm=_SWAP[k.get("norm", "backward")],
            inverse=not k.get("inverse", False),
        )
        return _resize_graph(gx, axes, _sizes(ctx.inputs[0], axes))


class RFFT(Op):
    """Real-to-complex DFT over ``axes``, one-sided along the last of them
    (``onesided=False``: the whole spectrum, as fft of the real input)."""

    complex_grad = True
    saves_inputs = False

    @staticmethod
    def forward(ctx, x, axes=(), sizes=(), norm="backward", onesided=True):
        ctx.shape, ctx.dtype = x.shape, x.dtype
        half = np.fft.rfftn(x, sizes, axes, norm=norm).astype(complex_of(x.dtype), copy=False)
        return half if onesided else hermitian_fill(half, axes, sizes[-1])

    @staticmethod
    def backward(ctx, g):
        k = ctx.kwargs
        axes, sizes = k["axes"], k["sizes"]
        # the half spectrum's other half gets no gradient: pad with zeros, then the
        # adjoint of the full transform
        g = resize(g, axes[-1:], sizes[-1:])
        gx = np.fft.ifftn(g, None, axes, norm=_SWAP[k.get("norm", "backward")]).real
        return resize(gx, axes, tuple(ctx.shape[a] for a in axes)).astype(ctx.dtype, copy=False)

    @staticmethod
    def backward_graph(ctx, g):
        k = ctx.kwargs
        axes = k["axes"]
        g = _resize_graph(g, axes[-1:], k["sizes"][-1:])
        norm = _SWAP[k.get("norm", "backward")]
        gx = FFT.apply(g, axes=axes, sizes=_sizes(g, axes), norm=norm, inverse=True).real
        return _resize_graph(gx, axes, _sizes(ctx.inputs[0], axes))


class IRFFT(Op):
    """One-sided complex-to-real DFT over ``axes`` (the inverse of ``RFFT``); ``sizes``
    are the output's lengths (the last one's input is cut or padded to sizes[-1]//2 + 1)."""

    complex_grad = True
    saves_inputs = False

    @staticmethod
    def forward(ctx, x, axes=(), sizes=(), norm="backward"):
        ctx.shape, ctx.dtype = x.shape, x.dtype
        return np.fft.irfftn(x, sizes, axes, norm=norm).astype(real_of(x.dtype), copy=False)

    @staticmethod
    def backward(ctx, g):
        k = ctx.kwargs
        axes, sizes = k["axes"], k["sizes"]
        gx = np.fft.rfftn(g, None, axes, norm=_SWAP[k.get("norm", "backward")])
        n, m = sizes[-1], gx.shape[axes[-1]]
        if n - m > 0:  # entries that stand for themselves and their mirror image
            index = [slice(None)] * gx.ndim
            index[axes[-1]] = slice(1, 1 + n - m)
            gx[tuple(index)] *= 2
        shape = tuple(ctx.shape[a] for a in axes)
        return resize(gx, axes, shape).astype(ctx.dtype, copy=False)

    @staticmethod
    def backward_graph(ctx, g):
        k = ctx.kwargs
        axes, sizes = k["axes"], k["sizes"]
        norm = _SWAP[k.get("norm", "backward")]
        gx = RFFT.apply(g, axes=axes, sizes=_sizes(g, axes), norm=norm)
        n, m = sizes[-1], gx.shape[axes[-1]]
        if n - m > 0:
            weight = np.ones(m, real_of(ctx.dtype))
            weight[1 : 1 + n - m] = 2
            weight = weight.reshape([m if a == axes[-1] % g.ndim else 1 for a in range(g.ndim)])
            gx = gx * weight
        return _resize_graph(gx, axes, _sizes(ctx.inputs[0], axes))


TORCH_NAMES.update(
    {
        "spectral.FFT": "FftC2CBackward0",
        "spectral.RFFT": "FftR2CBackward0",
        "spectral.IRFFT": "FftC2RBackward0",
        "spectral.Resize": "ConstantPadNdBackward0",
    }
)
