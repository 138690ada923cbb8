"""``torch.special``: special functions, with PyTorch's signatures, values and
derivatives. Most are gradfit's existing ops under their ``torch.special`` names; the
rest are ops of ``gradfit.ops.special`` (values from ``scipy.special``). Integer inputs
are computed in the default float dtype, as PyTorch does. The Bessel functions of the
first and second kinds (``bessel_j0``, ``bessel_y1``, ``modified_bessel_k0``, ...) record
no graph in PyTorch (their results do not require grad), nor here.
"""

from __future__ import annotations

import math

import numpy as np

from gradfit import _arrays
from gradfit._dtypes import get_default_dtype
from gradfit.ops import elementwise_more as _emore
from gradfit.ops import special as _sp
from gradfit.tensor import Tensor

__all__ = [
    "bessel_j0",
    "bessel_j1",
    "bessel_y0",
    "bessel_y1",
    "digamma",
    "entr",
    "erf",
    "erfc",
    "erfcx",
    "erfinv",
    "exp2",
    "expit",
    "expm1",
    "gammainc",
    "gammaincc",
    "gammaln",
    "i0",
    "i0e",
    "i1",
    "i1e",
    "log1p",
    "log_ndtr",
    "log_softmax",
    "logit",
    "logsumexp",
    "modified_bessel_i0",
    "modified_bessel_i1",
    "modified_bessel_k0",
    "modified_bessel_k1",
    "multigammaln",
    "ndtr",
    "ndtri",
    "polygamma",
    "psi",
    "round",
    "scaled_modified_bessel_k0",
    "scaled_modified_bessel_k1",
    "sinc",
    "softmax",
    "spherical_bessel_j0",
    "xlog1py",
    "xlogy",
    "zeta",
]

_SQRT1_2 = math.sqrt(0.5)


def _check(x, fn: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(
            f"special_{fn}(): argument 'input' (position 1) must be Tensor, not {type(x).__name__}"
        )
    return x


def _float(x, fn: str) -> Tensor:
    """The input as a floating tensor (integers and bools go to the default dtype)."""
    x = _check(x, fn)
    if _arrays.unwrap(x).dtype.kind in "fc":
        return x
    return x.to(get_default_dtype())


def _pair(a, b, fn: str) -> tuple:
    """Two operands (a Tensor and a Tensor or number) as tensors of one float dtype."""
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        raise TypeError(f"special_{fn}(): expected at least one Tensor argument")
    dts = [t.dtype for t in (a, b) if isinstance(t, Tensor)]
    floats = [d for d in dts if d.is_floating_point]
    if len(floats) == 2:
        dt = floats[0] if floats[0].itemsize >= floats[1].itemsize else floats[1]
    elif floats:
        dt = floats[0]
    else:
        dt = get_default_dtype()

    def conv(t):
        if isinstance(t, Tensor):
            return t.to(dt)
        return _arrays.wrap(np.asarray(t, dtype=_arrays.unwrap(_empty(dt)).dtype))

    return conv(a), conv(b)


def _tensors(a, b, fn: str) -> None:
    for i, (arg, t) in enumerate((("input", a), ("other", b))):
        if not isinstance(t, Tensor):
            raise TypeError(
                f"special_{fn}(): argument '{arg}' (position {i + 1}) must be Tensor, not "
                f"{type(t).__name__}"
            )


def _empty(dt):
    from gradfit import empty

    return empty(0, dtype=dt)


# --- existing ops under their torch.special names ------------------------------------------


def expit(input):  # noqa: A002
    return _float(input, "expit").sigmoid()


def logit(input, eps=None):  # noqa: A002
    return _float(input, "logit").logit(eps)


def erf(input):  # noqa: A002
    return _float(input, "erf").erf()


def erfc(input):  # noqa: A002
    return _float(input, "erfc").erfc()


def erfinv(input):  # noqa: A002
    return _float(input, "erfinv").erfinv()


def exp2(input):  # noqa: A002
    return _float(input, "exp2").exp2()


def log1p(input):  # noqa: A002
    return _float(input, "log1p").log1p()


def sinc(input):  # noqa: A002
    return _float(input, "sinc").sinc()


def gammaln(input):  # noqa: A002
    return _float(input, "gammaln").lgamma()


def digamma(input):  # noqa: A002
    return _float(input, "digamma").digamma()


psi = digamma


def polygamma(n, input):  # noqa: A002
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise RuntimeError(f"polygamma(n, x) does not support negative n. (got n={n!r})")
    return _emore.Polygamma.apply(_float(input, "polygamma"), n=n)


def multigammaln(input, p):  # noqa: A002
    """The multivariate log-gamma function of dimension ``p``:
    sum_{i<p} lgamma(a - i/2) + p(p-1)/4 log(pi)."""
    x = _float(input, "multigammaln")
    if not isinstance(p, int) or p < 1:
        raise RuntimeError(f"p has to be greater than or equal to 1 (got p={p!r})")
    if bool((x <= (p - 1) / 2).any()):
        raise RuntimeError(f"All elements must be greater than (p-1)/2 = {(p - 1) / 2}")
    offsets = _arrays.wrap(np.arange(-p * 0.5 + 0.5, 0.5, 0.5, dtype=_arrays.unwrap(x).dtype))
    return (x.unsqueeze(-1) + offsets).lgamma().sum(-1) + p * (p - 1) / 4 * math.log(math.pi)


def round(input, *, decimals=0):  # noqa: A001, A002
    return _check(input, "round").round(decimals=decimals)


def softmax(input, dim, *, dtype=None):  # noqa: A002
    return _check(input, "softmax").softmax(dim, dtype=dtype)


def log_softmax(input, dim, *, dtype=None):  # noqa: A002
    return _check(input, "log_softmax").log_softmax(dim, dtype=dtype)


def logsumexp(input, dim, keepdim=False):  # noqa: A002
    return _check(input, "logsumexp").logsumexp(dim, keepdim=keepdim)


def xlogy(input, other):  # noqa: A002
    a, b = _pair(input, other, "xlogy")
    return a.xlogy(b)


def ndtr(input):  # noqa: A002
    """The standard normal CDF, (1 + erf(x / sqrt 2)) / 2, written with erfc for accuracy
    in the lower tail."""
    x = _float(input, "ndtr")
    return (x * -_SQRT1_2).erfc() * 0.5


# --- ops of gradfit.ops.special --------------------------------------------------------------


def expm1(input):  # noqa: A002
    return _sp.Expm1.apply(_float(input, "expm1"))


def erfcx(input):  # noqa: A002
    return _sp.Erfcx.apply(_float(input, "erfcx"))


def i0(input):  # noqa: A002
    return _sp.I0.apply(_float(input, "i0"))


def i0e(input):  # noqa: A002
    return _sp.I0e.apply(_float(input, "i0e"))


def i1(input):  # noqa: A002
    return _sp.I1.apply(_float(input, "i1"))


def i1e(input):  # noqa: A002
    return _sp.I1e.apply(_float(input, "i1e"))


def ndtri(input):  # noqa: A002
    return _sp.Ndtri.apply(_float(input, "ndtri"))


def log_ndtr(input):  # noqa: A002
    return _sp.LogNdtr.apply(_float(input, "log_ndtr"))


def entr(input):  # noqa: A002
    return _sp.Entr.apply(_float(input, "entr"))


def xlog1py(input, other):  # noqa: A002
    return _sp.Xlog1py.apply(*_pair(input, other, "xlog1py"))


def zeta(input, other):  # noqa: A002
    """The Hurwitz zeta function sum_k (k + other)^-input."""
    return _sp.Zeta.apply(*_pair(input, other, "zeta"))


def gammainc(input, other):  # noqa: A002
    """The regularized lower incomplete gamma function P(input, other)."""
    _tensors(input, other, "gammainc")
    return _sp.Gammainc.apply(*_pair(input, other, "gammainc"))


def gammaincc(input, other):  # noqa: A002
    """The regularized upper incomplete gamma function Q(input, other) = 1 - P."""
    _tensors(input, other, "gammaincc")
    return _sp.Gammainc.apply(*_pair(input, other, "gammaincc"), upper=True)


# --- Bessel functions: values only; PyTorch records no graph for them ------------------------


def _values_only(name, scipy_name, *lead):
    def fn(input):  # noqa: A002
        x = _float(input, name)
        arr = _arrays.unwrap(x)
        out = getattr(_emore._special(), scipy_name)(*lead, arr)
        return _arrays.wrap(np.asarray(out).astype(arr.dtype, copy=False))

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"``torch.special.{name}`` (scipy.special.{scipy_name}); not differentiable."
    return fn


bessel_j0 = _values_only("bessel_j0", "j0")
bessel_j1 = _values_only("bessel_j1", "j1")
bessel_y0 = _values_only("bessel_y0", "y0")
bessel_y1 = _values_only("bessel_y1", "y1")
modified_bessel_i0 = _values_only("modified_bessel_i0", "i0")
modified_bessel_i1 = _values_only("modified_bessel_i1", "i1")
modified_bessel_k0 = _values_only("modified_bessel_k0", "k0")
modified_bessel_k1 = _values_only("modified_bessel_k1", "k1")
scaled_modified_bessel_k0 = _values_only("scaled_modified_bessel_k0", "k0e")
scaled_modified_bessel_k1 = _values_only("scaled_modified_bessel_k1", "k1e")
spherical_bessel_j0 = _values_only("spherical_bessel_j0", "spherical_jn", 0)
