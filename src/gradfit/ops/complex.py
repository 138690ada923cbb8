"""Ops of complex tensors that are not holomorphic (or change between real and complex).

PyTorch's convention for complex gradients: for a real loss L and a complex tensor z the
gradient is ``dL/dRe(z) + i dL/dIm(z)`` (twice the conjugate Wirtinger derivative). An op
with output s = f(z) receives g (s's gradient) and returns

    grad_z = g * conj(ds/dz) + conj(g) * ds/dconj(z),

and a real input takes the real part of that. A holomorphic op (ds/dconj(z) = 0:
add, mul, exp, matmul, sum, ...) keeps its real-valued backward: the engine calls it
with conj(g) and conjugates what it returns (``engine._wirtinger``). The ops here work
out both terms themselves and say so with ``complex_grad = True``.
"""

from __future__ import annotations

import numpy as np

from gradfit.autograd._torch_names import TORCH_NAMES
from gradfit.autograd.function import Op


def complex_of(real_dtype: np.dtype) -> np.dtype:
    """The complex dtype of a real floating dtype (float32 -> complex64)."""
    return np.dtype(np.complex128) if real_dtype == np.float64 else np.dtype(np.complex64)


def real_of(complex_dtype: np.dtype) -> np.dtype:
    """The real dtype of a complex one (complex64 -> float32)."""
    return np.dtype(np.float64) if complex_dtype == np.complex128 else np.dtype(np.float32)


def sgn_array(z: np.ndarray) -> np.ndarray:
    """z / |z|, and 0 where z is 0 (``torch.sgn``)."""
    r = np.abs(z)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = z / r
    return np.where(r == 0, 0, s).astype(z.dtype, copy=False)


def _to_input(g: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """A gradient for input ``ref``: its real part when ``ref`` is real."""
    if ref.dtype.kind != "c" and g.dtype.kind == "c":
        return np.ascontiguousarray(g.real)
    return g


class Real(Op):
    """``z.real`` (a view). Its gradient is g + 0i."""

    complex_grad = True
    saves_inputs = False

    @staticmethod
    def forward(ctx, z):
        ctx.dtype = z.dtype
        return z.real

    @staticmethod
    def backward(ctx, g):
        return g.astype(ctx.dtype)

    @staticmethod
    def backward_graph(ctx, g):
        return Complex.apply(g, g * 0)


class Imag(Op):
    """``z.imag`` (a view). Its gradient is 0 + i g."""

    complex_grad = True
    saves_inputs = False

    @staticmethod
    def forward(ctx, z):
        ctx.dtype = z.dtype
        return z.imag

    @staticmethod
    def backward(ctx, g):
        out = np.zeros(g.shape, ctx.dtype)
        out.imag = g
        return out

    @staticmethod
    def backward_graph(ctx, g):
        return Complex.apply(g * 0, g)


class Conj(Op):
    """conj(z): ds/dconj(z) = 1, so the gradient is conj(g)."""

    complex_grad = True
    saves_inputs = False

    @staticmethod
    def forward(ctx, z):
        return np.conj(z)

    @staticmethod
    def backward(ctx, g):
        return np.conj(g)

    @staticmethod
    def backward_graph(ctx, g):
        return Conj.apply(g)


class Abs(Op):
    """|z| of a complex z (real output): grad_z = g * sgn(z), 0 at z = 0 (PyTorch's)."""

    complex_grad = True

    @staticmethod
    def forward(ctx, z):
        ctx.z = z
        return np.abs(z)

    @staticmethod
    def backward(ctx, g):
        return g * sgn_array(ctx.z)

    @staticmethod
    def backward_graph(ctx, g):
        return g * Sgn.apply(ctx.inputs[0])


class Angle(Op):
    """arg(z) (real output): grad_z = g * i z / |z|^2, 0 at z = 0; a real input's
    angle (0 or pi) has a zero gradient."""

    complex_grad = True

    @staticmethod
    def forward(ctx, z):
        ctx.z = z
        if z.dtype.kind != "c":
            return np.where(np.isnan(z), z, np.where(z < 0, np.pi, 0.0)).astype(z.dtype)
        return np.angle(z).astype(real_of(z.dtype), copy=False)

    @staticmethod
    def backward(ctx, g):
        z = ctx.z
        if z.dtype.kind != "c":
            return np.zeros_like(z)
        r2 = (z * np.conj(z)).real
        with np.errstate(divide="ignore", invalid="ignore"):
            out = g * (1j * z) / r2
        return np.where(r2 == 0, 0, out).astype(z.dtype, copy=False)

    @staticmethod
    def backward_graph(ctx, g):
        z = ctx.inputs[0]
        if z._array.dtype.kind != "c":
            return g * 0
        r2 = Abs.apply(z) ** 2
        return (g * z * 1j / r2).masked_fill(r2 == 0, 0)


class Sgn(Op):
    """sgn(z) = z / |z| (0 at 0): ds/dz = 1 / (2|z|), ds/dconj(z) = -s^2 / (2|z|), so
    grad_z = (g - s^2 conj(g)) / (2|z|)."""

    complex_grad = True

    @staticmethod
    def forward(ctx, z):
        ctx.z = z
        s = sgn_array(z)
        ctx.s = s
        return s

    @staticmethod
    def backward(ctx, g):
        z, s = ctx.z, ctx.s
        r = np.abs(z)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = (g - s * s * np.conj(g)) / (2 * r)
        return np.where(r == 0, 0, out).astype(z.dtype, copy=False)

    @staticmethod
    def backward_graph(ctx, g):
        z = ctx.inputs[0]
        s, r = Sgn.apply(z), Abs.apply(z)
        return ((g - s * s * Conj.apply(g)) / (2 * r)).masked_fill(r == 0, 0)


class Complex(Op):
    """``torch.complex(real, imag)``: grad_real = Re(g), grad_imag = Im(g)."""

    complex_grad = True
    saves_inputs = False

    @staticmethod
    def forward(ctx, re, im):
        out = np.empty(np.broadcast_shapes(re.shape, im.shape), complex_of(re.dtype))
        out.real = re
        out.imag = im
        return out

    @staticmethod
    def backward(ctx, g):
        return np.ascontiguousarray(g.real), np.ascontiguousarray(g.imag)

    @staticmethod
    def backward_graph(ctx, g):
        return Real.apply(g), Imag.apply(g)


class Polar(Op):
    """``torch.polar(abs, angle)`` = abs * exp(i angle): d/dabs = exp(i angle),
    d/dangle = i out, each gradient Re(g * conj(derivative))."""

    complex_grad = True

    @staticmethod
    def forward(ctx, r, theta):
        out = np.empty(np.broadcast_shapes(r.shape, theta.shape), complex_of(r.dtype))
        out.real = r * np.cos(theta)
        out.imag = r * np.sin(theta)
        ctx.r, ctx.theta, ctx.out = r, theta, out
        return out

    @staticmethod
    def backward(ctx, g):
        unit = np.cos(ctx.theta) + 1j * np.sin(ctx.theta)
        g_r = (g * np.conj(unit)).real.astype(ctx.r.dtype, copy=False)
        g_theta = (g * np.conj(1j * ctx.out)).real.astype(ctx.theta.dtype, copy=False)
        return g_r, g_theta

    @staticmethod
    def backward_graph(ctx, g):
        r, theta = ctx.inputs
        unit = Polar.apply(r * 0 + 1, theta)
        out = Polar.apply(r, theta)
        return Real.apply(g * Conj.apply(unit)), Real.apply(g * Conj.apply(out * 1j))


class ViewAsReal(Op):
    """``torch.view_as_real``: the (..., 2) real view of a complex tensor's memory."""

    complex_grad = True
    saves_inputs = False

    @staticmethod
    def forward(ctx, z):
        r = z.real  # shares memory; its strides are z's, its items half z's size
        return np.lib.stride_tricks.as_strided(
            r, z.shape + (2,), z.strides + (r.itemsize,), writeable=z.flags.writeable
        )

    @staticmethod
    def backward(ctx, g):
        out = np.empty(g.shape[:-1], complex_of(g.dtype))
        out.real = g[..., 0]
        out.imag = g[..., 1]
        return out

    @staticmethod
    def backward_graph(ctx, g):
        return Complex.apply(g[..., 0], g[..., 1])


class ViewAsComplex(Op):
    """``torch.view_as_complex``: the complex view of a (..., 2) real tensor's memory."""

    complex_grad = True
    saves_inputs = False

    @staticmethod
    def forward(ctx, x):
        # x's last dimension is contiguous (checked by the caller): NumPy reads each pair
        # as one complex item in place.
        return x.view(complex_of(x.dtype))[..., 0]

    @staticmethod
    def backward(ctx, g):
        return np.stack((g.real, g.imag), -1)

    @staticmethod
    def backward_graph(ctx, g):
        return ViewAsReal.apply(g)


# PyTorch's grad_fn names (``z.real`` is a select of view_as_real in PyTorch)
TORCH_NAMES.update(
    {
        "complex.Real": "SelectBackward0",
        "complex.Imag": "SelectBackward0",
        "complex.Conj": "ConjBackward0",
        "complex.Abs": "AbsBackward0",
        "complex.Angle": "AngleBackward0",
        "complex.Sgn": "SgnBackward0",
        "complex.Complex": "ComplexBackward0",
        "complex.Polar": "PolarBackward0",
        "complex.ViewAsReal": "ViewAsRealBackward0",
        "complex.ViewAsComplex": "ViewAsComplexBackward0",
    }
)
