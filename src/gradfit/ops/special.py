"""The ``torch.special`` functions gradfit had no op for: expm1, erfcx, the modified
Bessel functions i0/i0e/i1/i1e, ndtri, log_ndtr, entr, xlog1py, the Hurwitz zeta and the
incomplete gamma functions. Derivatives are PyTorch's (derivatives.yaml), written once
on arrays and once with gradfit ops (``backward_graph``) so that second order works.
Values come from ``scipy.special``, imported on first use.
"""

from __future__ import annotations

import math

import numpy as np

from gradfit.autograd.function import Op
from gradfit.ops.elementwise import Where, _wants
from gradfit.ops.elementwise_more import _same, _special, _unary

_SQRT_2PI = math.sqrt(2.0 * math.pi)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _at_zero(x, fn, a):
    """``fn(x)`` (Tensors) with ``a`` where x is 0, a removable singularity of ``fn``;
    ``fn`` is evaluated at 1 there so that no NaN reaches the gradient."""
    zero = x._array == 0
    safe = Where.apply(zero, np.ones((), x._array.dtype), x) if zero.any() else x
    return Where.apply(zero, np.asarray(a, dtype=x._array.dtype), fn(safe))


def _quiet(fn):
    def wrapped(a):
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return fn(a)

    return wrapped


Expm1 = _unary("Expm1", np.expm1, np.exp, lambda x: x.exp())

Erfcx = _unary(
    "Erfcx",
    lambda a: _special().erfcx(a),
    lambda a: 2 * a * _special().erfcx(a) - _TWO_OVER_SQRT_PI,
    lambda x: 2 * x * Erfcx.apply(x) - _TWO_OVER_SQRT_PI,
)

I0 = _unary("I0", lambda a: _special().i0(a), lambda a: _special().i1(a), lambda x: I1.apply(x))

I0e = _unary(
    "I0e",
    lambda a: _special().i0e(a),
    lambda a: _special().i1e(a) - np.sign(a) * _special().i0e(a),
    lambda x: I1e.apply(x) - x.sign() * I0e.apply(x),
)

I1 = _unary(
    "I1",
    lambda a: _special().i1(a),
    # i0(x) - i1(x) / x, 1/2 at 0
    _quiet(lambda a: np.where(a == 0, 0.5, _special().i0(a) - _special().i1(a) / a)),
    lambda x: _at_zero(x, lambda s: I0.apply(s) - I1.apply(s) / s, 0.5),
)

I1e = _unary(
    "I1e",
    lambda a: _special().i1e(a),
    # i0e(x) - i1e(x) (sign(x) + 1/x), 1/2 at 0
    _quiet(
        lambda a: np.where(
            a == 0, 0.5, _special().i0e(a) - _special().i1e(a) * (np.sign(a) + 1 / a)
        )
    ),
    lambda x: _at_zero(x, lambda s: I0e.apply(s) - I1e.apply(s) * (s.sign() + 1 / s), 0.5),
)

Ndtri = _unary(
    "Ndtri",
    lambda a: _special().ndtri(a),
    _quiet(lambda a: _SQRT_2PI * np.exp(_special().ndtri(a) ** 2 / 2)),
    lambda x: _SQRT_2PI * (Ndtri.apply(x) ** 2 / 2).exp(),
)

LogNdtr = _unary(
    "LogNdtr",
    lambda a: _special().log_ndtr(a),
    _quiet(lambda a: np.exp(-(a**2) / 2 - _special().log_ndtr(a)) / _SQRT_2PI),
    lambda x: (-(x**2) / 2 - LogNdtr.apply(x)).exp() / _SQRT_2PI,
)

Entr = _unary(
    "Entr",
    lambda a: _entr(a),
    _quiet(lambda a: -(1 + np.log(a))),
    lambda x: -(1 + x.log()),
)


def _entr(a):
    """-x log x for x > 0, 0 at 0, -inf below; NaN stays NaN."""
    pos = a > 0
    out = -a * np.log(np.where(pos, a, 1))
    return np.where(pos | np.isnan(a), out, np.where(a == 0, 0.0, -np.inf))


class Xlog1py(Op):
    """a * log1p(b), 0 where a == 0 (unless b is NaN); d/da = log1p(b) (0 where a == 0
    and b <= -1), d/db = a / (1 + b)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.a, ctx.b = a, b
        return np.asarray(_xlog1py(a, b))

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.a, ctx.b
        ga = gb = None
        if _wants(ctx, 0):
            ga = _xlog1py(grad_output, b)
            ga = np.where((a == 0) & (b <= -1), np.zeros((), ga.dtype), ga).astype(ga.dtype)
        if _wants(ctx, 1):
            with np.errstate(divide="ignore", invalid="ignore"):
                gb = grad_output * a / (b + 1)
        return ga, gb

    @staticmethod
    def backward_graph(ctx, g):
        a, b = ctx.inputs
        ga = gb = None
        if _wants(ctx, 0):
            ga = Xlog1py.apply(g, b)
            mask = (np.asarray(getattr(a, "_array", a)) == 0) & (
                np.asarray(getattr(b, "_array", b)) <= -1
            )
            ga = Where.apply(mask, np.zeros((), ga._array.dtype), ga)
        if _wants(ctx, 1):
            gb = g * a / (b + 1)
        return ga, gb


def _xlog1py(a, b):
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.asarray(a * np.log1p(b))
        return np.where((a == 0) & ~np.isnan(b), np.zeros((), out.dtype), out).astype(out.dtype)


class Zeta(Op):
    """The Hurwitz zeta function zeta(x, q); d/dq = -x zeta(x + 1, q). PyTorch has no
    derivative with respect to x, and neither has this op."""

    @staticmethod
    def forward(ctx, x, q):
        ctx.x, ctx.q = x, q
        out = np.asarray(_special().zeta(x, q))
        return out.astype(np.result_type(x, q), copy=False)

    @staticmethod
    def backward(ctx, grad_output):
        if _wants(ctx, 0):
            raise NotImplementedError("the derivative for 'zeta' is not implemented.")
        return None, grad_output * _same(-ctx.x * _special().zeta(ctx.x + 1, ctx.q), ctx.q)

    @staticmethod
    def backward_graph(ctx, g):
        if _wants(ctx, 0):
            raise NotImplementedError("the derivative for 'zeta' is not implemented.")
        x, q = ctx.inputs
        return None, g * -x * Zeta.apply(x + 1, q)


class _Gammainc(Op):
    """The regularized lower (``upper=False``) or upper incomplete gamma function
    P(a, x) / Q(a, x). d/dx P = x^(a-1) e^(-x) / Gamma(a) (Q: its negative); PyTorch has
    no derivative with respect to a, and neither has this op."""

    @staticmethod
    def forward(ctx, a, x, upper=False):
        ctx.a, ctx.x, ctx.upper = a, x, upper
        fn = _special().gammaincc if upper else _special().gammainc
        return np.asarray(fn(a, x)).astype(np.result_type(a, x), copy=False)

    @staticmethod
    def backward(ctx, grad_output):
        if _wants(ctx, 0):
            name = "igammac" if ctx.upper else "igamma"
            raise NotImplementedError(f"the derivative for '{name}: input' is not implemented.")
        a, x = ctx.a, ctx.x
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            d = np.exp((a - 1) * np.log(x) - x - _special().gammaln(a))
        return None, grad_output * _same(-d if ctx.upper else d, x)

    @staticmethod
    def backward_graph(ctx, g):
        if _wants(ctx, 0):
            name = "igammac" if ctx.upper else "igamma"
            raise NotImplementedError(f"the derivative for '{name}: input' is not implemented.")
        a, x = ctx.inputs
        d = ((a - 1) * x.log() - x - a.lgamma()).exp()
        return None, g * (-d if ctx.upper else d)


Gammainc = _Gammainc
