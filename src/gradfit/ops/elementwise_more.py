"""More pointwise math (PyTorch's tan, sinh, ..., erf, lgamma, digamma, logit, sinc,
nan_to_num). Each op follows the FUNCTION rule of ``elementwise``: delta_a = delta_b * f'(a),
and ``backward_graph`` writes the same derivative with gradfit ops so second order works.

The special functions come from ``scipy.special`` (scipy is a dependency of scikit-learn),
imported lazily so that ``import gradfit`` stays fast.
"""

from __future__ import annotations

import math

import numpy as np

from gradfit.ops.elementwise import Cos, Exp, Sin, Sqrt, Where, _Unary, piecewise_linear_graph

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_SQRT_PI_OVER_TWO = math.sqrt(math.pi) / 2.0


def _special():
    import scipy.special

    return scipy.special


def _same(out, a):
    """A NumPy result in the input's dtype (scipy may return float64 for a float32 input)."""
    return np.asarray(out).astype(a.dtype, copy=False)


class _SavesInput(_Unary):
    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * _same(type(ctx).derivative(ctx.a), ctx.a)


def _unary(name, fn, derivative, graph):
    """An op f(a) with f'(a) = ``derivative(a)`` (NumPy) and ``graph(x)`` its Tensor form."""

    def forward(ctx, a):
        ctx.a = a
        return _same(fn(a), a)

    def backward_graph(ctx, g):
        return g * graph(ctx.inputs[0])

    return type(
        name,
        (_SavesInput,),
        {
            "forward": staticmethod(forward),
            "derivative": staticmethod(derivative),
            "backward_graph": staticmethod(backward_graph),
            "__doc__": f"{name.lower()}(a), the derivative recorded as gradfit ops.",
        },
    )


class Tan(_Unary):
    saves_inputs = False
    saves_output = True

    @staticmethod
    def forward(ctx, a):
        ctx.out = np.tan(a)
        return ctx.out

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * (1 + ctx.out * ctx.out)

    @staticmethod
    def backward_graph(ctx, g):
        y = Tan.apply(ctx.inputs[0])
        return g * (1 + y * y)


Sinh = _unary("Sinh", np.sinh, np.cosh, lambda x: Cosh.apply(x))
Cosh = _unary("Cosh", np.cosh, np.sinh, lambda x: Sinh.apply(x))
Asin = _unary(
    "Asin", np.arcsin, lambda a: 1 / np.sqrt(1 - a * a), lambda x: 1 / Sqrt.apply(1 - x * x)
)
Acos = _unary(
    "Acos", np.arccos, lambda a: -1 / np.sqrt(1 - a * a), lambda x: -1 / Sqrt.apply(1 - x * x)
)


class Atan(_Unary):
    """atan(a); PyTorch's derivative grad / (a * a + 1), rounded in that order."""

    @staticmethod
    def forward(ctx, a):
        ctx.a = a
        return np.arctan(a)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output / (ctx.a * ctx.a + 1)

    @staticmethod
    def backward_graph(ctx, g):
        x = ctx.inputs[0]
        return g / (x * x + 1)


Asinh = _unary(
    "Asinh", np.arcsinh, lambda a: 1 / np.sqrt(a * a + 1), lambda x: 1 / Sqrt.apply(x * x + 1)
)
Acosh = _unary(
    "Acosh", np.arccosh, lambda a: 1 / np.sqrt(a * a - 1), lambda x: 1 / Sqrt.apply(x * x - 1)
)
Atanh = _unary("Atanh", np.arctanh, lambda a: 1 / (1 - a * a), lambda x: 1 / (1 - x * x))
Log2 = _unary("Log2", np.log2, lambda a: 1 / (a * _LN2), lambda x: 1 / (x * _LN2))
Log10 = _unary("Log10", np.log10, lambda a: 1 / (a * _LN10), lambda x: 1 / (x * _LN10))
Erf = _unary(
    "Erf",
    lambda a: _special().erf(a),
    lambda a: _TWO_OVER_SQRT_PI * np.exp(-a * a),
    lambda x: _TWO_OVER_SQRT_PI * Exp.apply(-x * x),
)
Erfc = _unary(
    "Erfc",
    lambda a: _special().erfc(a),
    lambda a: -_TWO_OVER_SQRT_PI * np.exp(-a * a),
    lambda x: -_TWO_OVER_SQRT_PI * Exp.apply(-x * x),
)


class Exp2(_Unary):
    saves_inputs = False
    saves_output = True

    @staticmethod
    def forward(ctx, a):
        ctx.out = np.exp2(a)
        return ctx.out

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * ctx.out * np.asarray(_LN2, dtype=ctx.out.dtype)

    @staticmethod
    def backward_graph(ctx, g):
        return g * Exp2.apply(ctx.inputs[0]) * _LN2


class Erfinv(_Unary):
    """erfinv(a); its derivative sqrt(pi)/2 * exp(erfinv(a)^2) is recomputed from the saved
    input, as PyTorch does (so editing the output in place is allowed, the input not)."""

    @staticmethod
    def forward(ctx, a):
        ctx.a = a
        return _same(_special().erfinv(a), a)

    @staticmethod
    def backward(ctx, grad_output):
        y = _special().erfinv(ctx.a)
        return grad_output * _same(_SQRT_PI_OVER_TWO * np.exp(y * y), ctx.a)

    @staticmethod
    def backward_graph(ctx, g):
        y = Erfinv.apply(ctx.inputs[0])
        return g * (_SQRT_PI_OVER_TWO * Exp.apply(y * y))


def _trigamma(a):
    """polygamma(1, a) by PyTorch's formula (reflection below 0.5, six recurrence steps,
    then the asymptotic series), so gradients of digamma agree with PyTorch to rounding;
    scipy's more exact value differs from it by ~1e-9."""
    x = np.asarray(a, dtype=np.float64)
    sign = np.where(x < 0.5, -1.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        result = np.where(x < 0.5, -((np.pi / np.sin(np.pi * x)) ** 2), 0.0)
        x = np.where(x < 0.5, 1 - x, x)
        for _ in range(6):
            result = result + 1 / (x * x)
            x = x + 1
        ixx = 1 / (x * x)
        result = result + (1 + 1 / (2 * x) + ixx * (1 / 6 - ixx * (1 / 30 - ixx / 42))) / x
    return sign * result


def _polygamma(n, a):
    sp = _special()
    if n == 0:
        return sp.digamma(a)
    if n == 1:
        return _trigamma(a)
    return sp.polygamma(n, a)


class Polygamma(_Unary):
    """polygamma(n, a), the n-th derivative of digamma; its own derivative is order n + 1,
    so derivatives of every order are recorded as further Polygamma nodes."""

    @staticmethod
    def forward(ctx, a, n=0):
        ctx.a, ctx.n = a, n
        return _same(_polygamma(n, a), a)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * _same(_polygamma(ctx.n + 1, ctx.a), ctx.a)

    @staticmethod
    def backward_graph(ctx, g):
        return g * Polygamma.apply(ctx.inputs[0], n=ctx.n + 1)


Lgamma = _unary(
    "Lgamma",
    # std::lgamma (PyTorch) gives +inf at -inf, scipy's gammaln -inf
    lambda a: np.where(np.isneginf(a), np.inf, _special().gammaln(a)),
    lambda a: _special().digamma(a),
    lambda x: Polygamma.apply(x, n=0),
)


class Logit(_Unary):
    """log(a / (1 - a)), a first clamped to [eps, 1 - eps] when eps is given; the gradient
    is 0 outside that interval, and NaN outside [0, 1] without eps (PyTorch)."""

    @staticmethod
    def forward(ctx, a, eps=None):
        ctx.a = a
        ctx.mask = None
        if eps is not None and eps >= 0:
            lo, hi = eps, 1 - eps
            ctx.mask = ~((a < lo) | (a > hi))  # NaN keeps its NaN gradient
            a = np.clip(a, lo, hi)
        with np.errstate(divide="ignore", invalid="ignore"):
            return _same(np.log(a / (1 - a)), ctx.a)

    @staticmethod
    def backward(ctx, grad_output):
        a = ctx.a
        with np.errstate(divide="ignore", invalid="ignore"):
            out = grad_output / (a * (1 - a))
        return np.where(Logit._keep(ctx), out, Logit._else(ctx)).astype(out.dtype, copy=False)

    @staticmethod
    def backward_graph(ctx, g):
        x = ctx.inputs[0]
        out = g / (x * (1 - x))
        keep = Logit._keep(ctx)
        return Where.apply(keep, out, np.asarray(Logit._else(ctx), dtype=ctx.a.dtype))

    @staticmethod
    def _keep(ctx):
        return ~((ctx.a < 0) | (ctx.a > 1)) if ctx.mask is None else ctx.mask

    @staticmethod
    def _else(ctx):
        return np.nan if ctx.mask is None else 0.0


class Sinc(_Unary):
    """sin(pi a) / (pi a), 1 at 0; the derivative (cos(pi a) - sinc(a)) / a is taken as 0
    at a == 0, as PyTorch does."""

    @staticmethod
    def forward(ctx, a):
        ctx.a = a
        return _same(np.sinc(a), a)

    @staticmethod
    def backward(ctx, grad_output):
        a = ctx.a
        zero = a == 0
        safe = np.where(zero, 1, a).astype(a.dtype, copy=False)
        pa = np.pi * safe
        d = (np.cos(pa) - np.sin(pa) / pa) / safe
        return grad_output * np.where(zero, 0, d).astype(a.dtype, copy=False)

    @staticmethod
    def backward_graph(ctx, g):
        x = ctx.inputs[0]
        zero = ctx.a == 0
        safe = Where.apply(zero, np.ones((), dtype=ctx.a.dtype), x)
        pa = np.pi * safe
        d = (Cos.apply(pa) - Sin.apply(pa) / pa) / safe
        return g * Where.apply(zero, np.zeros((), dtype=ctx.a.dtype), d)


class NanToNum(_Unary):
    """nan, +inf and -inf replaced by numbers; the gradient passes where a is finite."""

    @staticmethod
    def forward(ctx, a, nan=0.0, posinf=None, neginf=None):
        ctx.a = a
        return np.nan_to_num(a, copy=True, nan=nan, posinf=posinf, neginf=neginf)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * np.isfinite(ctx.a).astype(grad_output.dtype)

    backward_graph = staticmethod(piecewise_linear_graph)
