"""Gamma(concentration, rate), sampled draw for draw as PyTorch's CPU kernel does
(Marsaglia and Tsang's method on the generator's double uniforms and Box-Muller normals),
with PyTorch's approximation of the reparameterised gradient."""

from __future__ import annotations

import math

import numpy as np

import gradfit as torch
from gradfit import _rng
from gradfit._arrays import unwrap, wrap
from gradfit.autograd import Function
from gradfit.distributions import constraints
from gradfit.distributions.distribution import Distribution
from gradfit.distributions.utils import _Number, broadcast_all

__all__ = ["Gamma"]

# float literals of PyTorch's kernels, as the float32 values the C++ compiler stores
_F = lambda v: float(np.float32(v))  # noqa: E731
_THIRD_F = float(np.float32(1.0) / np.float32(3.0))


def _sample_gamma_one(alpha: float, mt, single: bool) -> float:
    """One Gamma(alpha, 1) draw: the generator's stream consumed as PyTorch's sample_gamma
    does; ``single`` when alpha is a float32 (its boost and offset are rounded in float)."""
    scale = 1.0
    if alpha < 1.0:
        if alpha == 0.0:
            return 0.0
        u = float(mt.uniform(1, 0.0, 1.0, np.float64)[0])
        exponent = float(np.float32(1.0) / np.float32(alpha)) if single else 1.0 / alpha
        scale *= (1 - u) ** exponent
        alpha = float(np.float32(alpha) + np.float32(1.0)) if single else alpha + 1.0
    d = float(np.float32(alpha) - np.float32(_THIRD_F)) if single else alpha - _THIRD_F
    c = 1.0 / math.sqrt(9.0 * d)
    while True:
        while True:
            x = float(mt.normal(1, 0.0, 1.0, np.float64)[0])
            y = 1.0 + c * x
            if y > 0:
                break
        v = y * y * y
        u = 1 - float(mt.uniform(1, 0.0, 1.0, np.float64)[0])
        xx = x * x
        if u < 1.0 - _F(0.0331) * xx * xx:
            return scale * d * v
        if math.log(u) < 0.5 * xx + d * (1.0 - v + math.log(v)):
            return scale * d * v


def _standard_gamma_array(alpha: np.ndarray) -> np.ndarray:
    """Gamma(alpha, 1) for each element in order, at least the dtype's smallest normal."""
    mt = _rng.stream(None)
    single = alpha.dtype == np.float32
    tiny = np.finfo(alpha.dtype).tiny
    flat = np.ascontiguousarray(alpha).ravel().tolist()
    out = np.array([_sample_gamma_one(a, mt, single) for a in flat], np.float64)
    return np.maximum(out.astype(alpha.dtype), tiny).reshape(alpha.shape)


_PSI_10 = 2.25175258906672110764
_DIGAMMA_A = (
    8.33333333333333333333e-2,
    -2.10927960927960927961e-2,
    7.57575757575757575758e-3,
    -4.16666666666666666667e-3,
    3.96825396825396825397e-3,
    -8.33333333333333333333e-3,
    8.33333333333333333333e-2,
)


def _digamma_one(x: float) -> float:
    """PyTorch's digamma of the gamma kernels (Cephes), in double."""
    if x == 0:
        return math.inf
    extra = 0.0
    if x < 0:
        if x == math.floor(x):
            return math.inf
        extra = -math.pi / math.tan(math.pi * x)
        x = 1 - x
    result = 0.0
    while x < 10:
        result -= 1 / x
        x += 1
    if x == 10:
        return result + _PSI_10 + extra
    y = 0.0
    if x < _F(1.0e17):
        z = 1.0 / (x * x)
        poly = 0.0
        for a in _DIGAMMA_A:
            poly = poly * z + a
        y = z * poly
    return result + math.log(x) - (0.5 / x) - y + extra


_GRAD_UV = (
    (0.16009398, -0.094634809, 0.025146376, -0.0030648343, 1, 0.32668115, 0.10406089,
     0.0014179084),
    (0.53487893, 0.1298071, 0.065735949, -0.0015649758, 0.16639465, 0.020070113,
     -0.0035938915, -0.00058392623),
    (0.040121004, -0.0065914022, -0.0026286047, -0.0013441777, 0.017050642, -0.0021309326,
     0.00085092367, -1.5247877e-07),
)  # fmt: skip


def _standard_gamma_grad_one(alpha: float, x: float) -> float:
    """d x / d alpha for a Gamma(alpha, 1) draw x, i.e. -(dF/dalpha) / pdf, approximated
    as PyTorch does: a Taylor series for small x, Rice's saddle point expansion for large
    alpha, else a bivariate rational fit."""
    if x < _F(0.8):
        numer, denom = 1.0, alpha
        series1, series2 = numer / denom, numer / (denom * denom)
        for i in range(1, 6):
            numer *= -x / i
            denom += 1
            series1 += numer / denom
            series2 += numer / (denom * denom)
        pow_x_alpha = x**alpha
        gamma_pdf = x ** (alpha - 1) * math.exp(-x)
        gamma_cdf = pow_x_alpha * series1
        gamma_cdf_alpha = (math.log(x) - _digamma_one(alpha)) * gamma_cdf - pow_x_alpha * series2
        result = -gamma_cdf_alpha / gamma_pdf
        return 0.0 if math.isnan(result) else result
    if alpha > 8.0:
        if _F(0.9) * alpha <= x <= _F(1.1) * alpha:
            numer_1 = 1 + 24 * alpha * (1 + 12 * alpha)
            numer_2 = (
                1440 * (alpha * alpha)
                + 6 * x * (53 - 120 * x)
                - 65 * x * x / alpha
                + alpha * (107 + 3600 * x)
            )
            denom = 1244160 * (alpha * alpha) * (alpha * alpha)
            return numer_1 * numer_2 / denom
        denom = math.sqrt(8 * alpha)
        term2 = denom / (alpha - x)
        term3 = (x - alpha - alpha * math.log(x / alpha)) ** -1.5
        term23 = term2 - term3 if x < alpha else term2 + term3
        term1 = math.log(x / alpha) * term23 - math.sqrt(2 / alpha) * (alpha + x) / (
            (alpha - x) * (alpha - x)
        )
        stirling = 1 + 1 / (12 * alpha) * (1 + 1 / (24 * alpha))
        return -stirling * (x * term1) / denom
    u = math.log(x / alpha)
    v = math.log(alpha)
    cv = [_GRAD_UV[0][i] + u * (_GRAD_UV[1][i] + u * _GRAD_UV[2][i]) for i in range(8)]
    p = cv[0] + v * (cv[1] + v * (cv[2] + v * cv[3]))
    q = cv[4] + v * (cv[5] + v * (cv[6] + v * cv[7]))
    return math.exp(p / q)


def _standard_gamma_grad(alpha: np.ndarray, x: np.ndarray) -> np.ndarray:
    a, v = np.broadcast_arrays(alpha, x)
    out = [_standard_gamma_grad_one(p, q) for p, q in zip(a.ravel().tolist(), v.ravel().tolist())]
    return np.array(out, np.float64).astype(alpha.dtype).reshape(a.shape)


class _StandardGamma(Function):
    """torch._standard_gamma: Gamma(alpha, 1) draws, differentiable in alpha."""

    @staticmethod
    def forward(ctx, alpha):
        out = wrap(_standard_gamma_array(unwrap(alpha)))
        ctx.save_for_backward(alpha, out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        alpha, out = ctx.saved_tensors
        return grad_output * wrap(_standard_gamma_grad(unwrap(alpha), unwrap(out)))


def _gammainc(a: float, x: float) -> float:
    """The regularized lower incomplete gamma P(a, x): its power series below a + 1, else
    one minus Lentz's continued fraction for the upper one."""
    if x <= 0:
        return 0.0
    if math.isinf(x):
        return 1.0
    log_front = a * math.log(x) - x - math.lgamma(a)
    if x < a + 1:
        term = total = 1.0 / a
        n = a
        for _ in range(1000):
            n += 1
            term *= x / n
            total += term
            if abs(term) < abs(total) * 1e-17:
                break
        return total * math.exp(log_front)
    tiny = 1e-300
    b = x + 1 - a
    c = 1 / tiny
    d = 1 / b
    h = d
    for i in range(1, 1000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        delta = d * c
        h *= delta
        if abs(delta - 1) < 1e-17:
            break
    return 1.0 - math.exp(log_front) * h


class _GammaInc(Function):
    """torch.special.gammainc(a, x), differentiable in x (PyTorch has no gradient in a)."""

    @staticmethod
    def forward(ctx, a, x):
        aa, xx = np.broadcast_arrays(unwrap(a), unwrap(x))
        dtype = np.result_type(aa.dtype, xx.dtype)
        out = [_gammainc(p, q) for p, q in zip(aa.ravel().tolist(), xx.ravel().tolist())]
        ctx.save_for_backward(a, x)
        return wrap(np.array(out, np.float64).astype(dtype).reshape(aa.shape))

    @staticmethod
    def backward(ctx, grad_output):
        a, x = ctx.saved_tensors
        if ctx.needs_input_grad[0]:
            raise NotImplementedError(
                "derivative for aten::igamma is not implemented (the concentration of Gamma.cdf)"
            )
        # dP/dx is the Gamma(a, 1) density
        density = torch.exp((a - 1) * torch.log(x) - x - torch.lgamma(a))
        return None, grad_output * density


def _standard_gamma(concentration):
    return _StandardGamma.apply(concentration)


class Gamma(Distribution):
    """Gamma(concentration, rate): density rate^a x^(a-1) exp(-rate x) / Gamma(a)."""

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, concentration, rate, validate_args=None):
        self.concentration, self.rate = broadcast_all(concentration, rate)
        if isinstance(concentration, _Number) and isinstance(rate, _Number):
            batch_shape = torch.Size()
        else:
            batch_shape = self.concentration.size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Gamma, _instance)
        batch_shape = torch.Size(batch_shape)
        new.concentration = self.concentration.expand(batch_shape)
        new.rate = self.rate.expand(batch_shape)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        return self.concentration / self.rate

    @property
    def mode(self):
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self):
        return self.concentration / self.rate.pow(2)

    def rsample(self, sample_shape=()):
        shape = tuple(self._extended_shape(sample_shape))
        value = _standard_gamma(self.concentration.expand(shape)) / self.rate.expand(shape)
        value.detach().clamp_(min=torch.finfo(value.dtype).tiny)  # outside the graph
        return value

    def log_prob(self, value):
        value = torch.as_tensor(value, dtype=self.rate.dtype)
        if self._validate_args:
            self._validate_sample(value)
        return (
            torch.xlogy(self.concentration, self.rate)
            + torch.xlogy(self.concentration - 1, value)
            - self.rate * value
            - torch.lgamma(self.concentration)
        )

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return _GammaInc.apply(self.concentration, self.rate * value)

    def entropy(self):
        return (
            self.concentration
            - torch.log(self.rate)
            + torch.lgamma(self.concentration)
            + (1.0 - self.concentration) * torch.digamma(self.concentration)
        )
