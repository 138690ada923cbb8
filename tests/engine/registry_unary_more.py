"""Registry entries for the unary math of ops-unary (tan ... nan_to_num): gradcheck,
PyTorch parity (float64 and float32) and second order come from the shared registry tests.

Inputs are mapped into each function's domain with ops both libraries share (``0.9 *
tanh(a)`` for (-0.9, 0.9), ``a + 0.7`` on the positive domain for acosh), so the checks
stay away from the poles and branch points where finite differences mean nothing.
"""

from __future__ import annotations

from .op_registry import OpSpec


def _unit(lib, a):
    return 0.9 * lib.tanh(a)


def _open01(lib, a):
    # (0.55, 0.95): logit near 0.5 cancels to a few float32 ulps of 1, too few digits to
    # compare
    return 0.55 + 0.4 * lib.sigmoid(a)


REGISTRY_UNARY_MORE = [
    OpSpec("tan", lambda lib, a: lib.tan(0.25 * a)),
    OpSpec("sinh", lambda lib, a: lib.sinh(a)),
    OpSpec("cosh", lambda lib, a: a.cosh()),
    OpSpec("asin", lambda lib, a: lib.asin(_unit(lib, a))),
    OpSpec("acos", lambda lib, a: lib.acos(_unit(lib, a))),
    OpSpec("arcsin_method", lambda lib, a: _unit(lib, a).arcsin()),
    OpSpec("atan", lambda lib, a: lib.atan(a)),
    OpSpec("asinh", lambda lib, a: lib.asinh(a)),
    OpSpec("acosh", lambda lib, a: lib.acosh(a + 0.7), domain="positive"),
    OpSpec("atanh", lambda lib, a: lib.atanh(_unit(lib, a))),
    OpSpec("log2", lambda lib, a: lib.log2(a), domain="positive"),
    OpSpec("log10", lambda lib, a: a.log10(), domain="positive"),
    OpSpec("exp2", lambda lib, a: lib.exp2(a)),
    OpSpec("erf", lambda lib, a: lib.erf(a)),
    OpSpec("erfc", lambda lib, a: lib.erfc(a)),
    OpSpec("erfinv", lambda lib, a: lib.erfinv(_unit(lib, a))),
    OpSpec("lgamma", lambda lib, a: lib.lgamma(a + 0.3), domain="positive"),
    OpSpec("digamma", lambda lib, a: lib.digamma(a), domain="positive"),
    OpSpec("logit", lambda lib, a: lib.logit(_open01(lib, a))),
    OpSpec("logit_eps", lambda lib, a: lib.logit(0.1 + 0.85 * lib.sigmoid(a), eps=0.2)),
    # near 0 the derivative cancels in float32 (PyTorch's own is off by 0.4% at 1e-3)
    OpSpec("sinc", lambda lib, a: lib.sinc(a), domain="away0"),
    OpSpec("deg2rad", lambda lib, a: lib.deg2rad(a)),
    OpSpec("rad2deg", lambda lib, a: a.rad2deg()),
    OpSpec("nan_to_num", lambda lib, a: lib.nan_to_num(a, nan=1.0)),
    # in place on a non-leaf: the graph records the op through the tensor it overwrote
    OpSpec("sinh_inplace", lambda lib, a: (a * 1.5).sinh_()),
    OpSpec("erfinv_inplace", lambda lib, a: _unit(lib, a).erfinv_()),
    OpSpec("logit_inplace", lambda lib, a: _open01(lib, a).logit_(eps=0.1)),
]
