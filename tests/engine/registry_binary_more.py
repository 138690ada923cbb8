"""Registry entries for the binary ops and reductions of the ops-binary work (remainder,
fmod, atan2, hypot, xlogy, logaddexp, fmax, copysign, prod, nansum, cummax, ...). Joined
to ``op_registry.REGISTRY``.

Inputs stay away from kinks: remainder/fmod divide by |b| > 0.2 at random points, so
a / b is almost surely not within the finite-difference step of an integer.
"""

from __future__ import annotations

from .op_registry import OpSpec


def _dim_spec(name, body, domain="real"):
    return OpSpec(
        name,
        body,
        kind="dim",
        domain=domain,
        samples=[([(3, 4)], 1), ([(2, 3, 4)], 0), ([(5,)], -1)],
    )


BINARY_MORE = [
    OpSpec("remainder", lambda lib, a, b: lib.remainder(a * 3, b), "binary", domain="away0"),
    OpSpec("mod_operator", lambda lib, a, b: (a * 3) % b, "binary", domain="away0"),
    OpSpec("fmod", lambda lib, a, b: lib.fmod(a * 3, b), "binary", domain="away0"),
    OpSpec("atan2", lambda lib, a, b: lib.atan2(a, b), "binary", domain="away0"),
    OpSpec("hypot", lambda lib, a, b: lib.hypot(a, b), "binary", domain="away0"),
    OpSpec("xlogy", lambda lib, a, b: lib.xlogy(a, b), "binary", domain="positive"),
    OpSpec("xlogy_signed_x", lambda lib, a, b: lib.xlogy(a - 1.2, b), "binary", "positive"),
    OpSpec("logaddexp", lambda lib, a, b: lib.logaddexp(a, b), "binary"),
    OpSpec("logaddexp2", lambda lib, a, b: lib.logaddexp2(a, b), "binary"),
    OpSpec("fmax", lambda lib, a, b: lib.fmax(a, b), "binary"),
    OpSpec("fmin", lambda lib, a, b: lib.fmin(a, b), "binary"),
    OpSpec("copysign", lambda lib, a, b: lib.copysign(a, b), "binary", domain="away0"),
    OpSpec(
        "float_power",
        lambda lib, a, b: lib.float_power(a, b).to(a.dtype),
        "binary",
        domain="positive",
    ),
    OpSpec("prod_all", lambda lib, a: a.prod(), domain="away0"),
    _dim_spec("prod_dim", lambda lib, a, d: lib.prod(a, d)),
    _dim_spec("prod_keepdim", lambda lib, a, d: a.prod(d, keepdim=True)),
    OpSpec("nansum_all", lambda lib, a: lib.nansum(a)),
    _dim_spec("nansum_dim", lambda lib, a, d: a.nansum(d)),
    _dim_spec("nanmean_dim", lambda lib, a, d: lib.nanmean(a, d, keepdim=True)),
    _dim_spec(
        "var_mean",
        lambda lib, a, d: (lambda vm: vm[0] * 2 + vm[1])(lib.var_mean(a, d, correction=0)),
    ),
    _dim_spec(
        "std_mean",
        # cat: the reduced dim has two distinct values at least (std of one value has no
        # finite gradient)
        lambda lib, a, d: (lambda sm: sm[0] * 2 + sm[1])(
            lib.std_mean(lib.cat([a, a * 2 + 1], d), d)
        ),
    ),
    _dim_spec("cummax", lambda lib, a, d: lib.cummax(a, d).values),
    _dim_spec("cummin", lambda lib, a, d: a.cummin(d)[0]),
    _dim_spec("logcumsumexp", lambda lib, a, d: lib.logcumsumexp(a, d)),
]
