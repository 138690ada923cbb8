"""Dirichlet(concentration): draws as PyTorch's CPU kernel makes them (Gamma draws in
double, normalised), with PyTorch's approximation of the reparameterised gradient."""

from __future__ import annotations

import math

import numpy as np

import gradfit as torch
from gradfit import _rng
from gradfit._arrays import unwrap, wrap
from gradfit.autograd import Function
from gradfit.distributions import constraints
from gradfit.distributions.distribution import Distribution
from gradfit.distributions.gamma import _digamma_one, _sample_gamma_one

__all__ = ["Dirichlet"]


def _sample_dirichlet_array(alpha: np.ndarray) -> np.ndarray:
    mt = _rng.stream(None)
    flat = np.ascontiguousarray(alpha).ravel().tolist()
    dmin = np.finfo(np.float64).tiny
    g = np.array([max(dmin, _sample_gamma_one(a, mt, False)) for a in flat], np.float64)
    g = g.reshape(alpha.shape)
    x = (g / g.sum(-1, keepdims=True)).astype(alpha.dtype)
    top = np.nextafter(alpha.dtype.type(1), alpha.dtype.type(0))
    return np.minimum(top, np.maximum(np.finfo(alpha.dtype).tiny, x))


def _beta_grad_alpha_small(x, alpha, beta):
    # x near 0: a Taylor expansion
    factor = _digamma_one(alpha) - _digamma_one(alpha + beta) - math.log(x)
    numer = 1.0
    series = numer / alpha * (factor + 1 / alpha)
    for i in range(1, 11):
        numer *= (i - beta) * x / i
        denom = alpha + i
        series += numer / denom * (factor + 1 / denom)
    result = x * (1 - x) ** -beta * series
    return 0.0 if math.isnan(result) else result


def _beta_grad_beta_small(x, alpha, beta):
    factor = _digamma_one(alpha + beta) - _digamma_one(beta)
    numer, betas, dbetas, series = 1.0, 1.0, 0.0, factor / alpha
    for i in range(1, 9):
        numer *= -x / i
        dbetas = dbetas * (beta - i) + betas
        betas = betas * (beta - i)
        series += numer / (alpha + i) * (dbetas + factor * betas)
    result = -((1 - x) ** (1 - beta)) * series
    return 0.0 if math.isnan(result) else result


def _beta_grad_alpha_mid(x, alpha, beta):
    # alpha and beta both large: Rice's saddle point expansion
    total = alpha + beta
    mean = alpha / total
    std = math.sqrt(alpha * beta / (total + 1)) / total
    if mean - 0.1 * std <= x <= mean + 0.1 * std:
        poly = 47 * x * (beta * beta) * (beta * beta) + alpha * (
            (43 + 20 * (16 + 27 * beta) * x) * (beta * beta) * beta
            + alpha
            * (
                3 * (59 + 180 * beta - 90 * x) * (beta * beta)
                + alpha
                * (
                    (453 + 1620 * beta * (1 - x) - 455 * x) * beta
                    + alpha * (8 * (1 - x) * (135 * beta - 11))
                )
            )
        )
        prefactor_num = (1 + 12 * alpha) * (1 + 12 * beta) / (total * total)
        prefactor_den = 12960 * alpha * alpha * alpha * beta * beta * (1 + 12 * total)
        return prefactor_num / (1 - x) * poly / prefactor_den
    prefactor = -x / math.sqrt(2 * alpha * beta / total)
    stirling = (
        (1 + 1 / (12 * alpha) + 1 / (288 * alpha * alpha))
        * (1 + 1 / (12 * beta) + 1 / (288 * beta * beta))
        / (1 + 1 / (12 * total) + 1 / (288 * total * total))
    )
    term1_num = 2 * (alpha * alpha) * (x - 1) + alpha * beta * (x - 1) - x * (beta * beta)
    axbx = alpha * (x - 1) + beta * x
    term1_den = math.sqrt(2 * alpha / beta) * total**1.5 * axbx * axbx
    term1 = term1_num / term1_den
    term2 = 0.5 * math.log(alpha / (total * x))
    term3 = math.sqrt(8 * alpha * beta / total) / (beta * x + alpha * (x - 1))
    term4_base = beta * math.log(beta / (total * (1 - x))) + alpha * math.log(alpha / (total * x))
    term4 = term4_base**-1.5
    term1234 = term1 + term2 * (term3 + (term4 if x < mean else -term4))
    return stirling * prefactor * term1234


# the rational correction's coefficients: [numerator, denominator][u power][a power][b power]
_C = np.array(
    [
        [[1.003668233, -0.01061107488, -0.0657888334, 0.01201642863],
         [0.6336835991, -0.3557432599, 0.05486251648, -0.001465281033],
         [-0.03276231906, 0.004474107445, 0.002429354597, -0.0001557569013]],
        [[0.221950385, -0.3187676331, 0.01799915743, 0.01074823814],
         [-0.2951249643, 0.06219954479, 0.01535556598, 0.001550077057],
         [0.02155310298, 0.004170831599, 0.001292462449, 6.976601077e-05]],
        [[-0.05980841433, 0.008441916499, 0.01085618172, 0.002319392565],
         [0.02911413504, 0.01400243777, -0.002721828457, 0.000751041181],
         [0.005900514878, -0.001936558688, -9.495446725e-06, 5.385558597e-05]],
        [[1, -0.02924021934, -0.04438342661, 0.007285809825],
         [0.6357567472, -0.3473456711, 0.05454656494, -0.002407477521],
         [-0.03301322327, 0.004845219414, 0.00231480583, -0.0002307248149]],
        [[0.5925320577, -0.1757678135, 0.01505928619, 0.000564515273],
         [0.1014815858, -0.06589186703, 0.01272886114, -0.0007316646956],
         [-0.007258481865, 0.001096195486, 0.0003934994223, -4.12701925e-05]],
        [[0.06469649321, -0.0236701437, 0.002902096474, -5.896963079e-05],
         [0.001925008108, -0.002869809258, 0.0008000589141, -6.063713228e-05],
         [-0.0003477407336, 6.959756487e-05, 1.097287507e-05, -1.650964693e-06]],
    ]
).reshape(2, 3, 3, 4).tolist()  # fmt: skip


def _dirichlet_grad_one(x, alpha, total):
    """-(dF/dalpha) / pdf / (1 - x) for x drawn from Beta(alpha, total - alpha), as PyTorch
    approximates it."""
    beta = total - alpha
    boundary = total * x * (1 - x)
    if x <= 0.5 and boundary < 2.5:
        return _beta_grad_alpha_small(x, alpha, beta)
    if x >= 0.5 and boundary < 0.75:
        return -_beta_grad_beta_small(1 - x, beta, alpha)
    if alpha > 6 and beta > 6:
        return _beta_grad_alpha_mid(x, alpha, beta)
    u = math.log(x)
    a = math.log(alpha) - u
    b = math.log(total) - a
    pow_u = (1.0, u, u * u)
    pow_a = (1.0, a, a * a)
    p = q = 0.0
    for i in range(3):
        for j in range(3):
            ua = pow_u[i] * pow_a[j]
            cp, cq = _C[0][i][j], _C[1][i][j]
            p += ua * (cp[0] + b * (cp[1] + b * (cp[2] + b * cp[3])))
            q += ua * (cq[0] + b * (cq[1] + b * (cq[2] + b * cq[3])))
    approx = x * (_digamma_one(total) - _digamma_one(alpha)) / beta
    return p / q * approx


class _Dirichlet(Function):
    @staticmethod
    def forward(ctx, concentration):
        x = wrap(_sample_dirichlet_array(unwrap(concentration)))
        ctx.save_for_backward(x, concentration)
        return x

    @staticmethod
    def backward(ctx, grad_output):
        x, concentration = ctx.saved_tensors
        total = concentration.sum(-1, True).expand_as(concentration)
        xs, al, tot = (unwrap(t) for t in (x, concentration, total))
        xs, al, tot = np.broadcast_arrays(xs, al, tot)
        g = [
            _dirichlet_grad_one(*v)
            for v in zip(xs.ravel().tolist(), al.ravel().tolist(), tot.ravel().tolist())
        ]
        grad = wrap(np.array(g, np.float64).astype(xs.dtype).reshape(xs.shape))
        return grad * (grad_output - (x * grad_output).sum(-1, True))


class Dirichlet(Distribution):
    """Dirichlet(concentration): distributions on the simplex of the last dim."""

    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, concentration, validate_args=None):
        if concentration.dim() < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        batch_shape, event_shape = concentration.shape[:-1], concentration.shape[-1:]
        super().__init__(batch_shape, event_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Dirichlet, _instance)
        batch_shape = torch.Size(batch_shape)
        new.concentration = self.concentration.expand(tuple(batch_shape + self.event_shape))
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def rsample(self, sample_shape=()):
        shape = tuple(self._extended_shape(sample_shape))
        return _Dirichlet.apply(self.concentration.expand(shape))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return (
            torch.xlogy(self.concentration - 1.0, value).sum(-1)
            + torch.lgamma(self.concentration.sum(-1))
            - torch.lgamma(self.concentration).sum(-1)
        )

    @property
    def mean(self):
        return self.concentration / self.concentration.sum(-1, True)

    @property
    def mode(self):
        from gradfit.nn.functional import one_hot

        concentrationm1 = (self.concentration - 1).clamp(min=0.0)
        mode = concentrationm1 / concentrationm1.sum(-1, True)
        mask = (self.concentration < 1).all(dim=-1)
        mode[mask] = one_hot(mode[mask].argmax(dim=-1), concentrationm1.shape[-1]).to(mode)
        return mode

    @property
    def variance(self):
        con0 = self.concentration.sum(-1, True)
        return self.concentration * (con0 - self.concentration) / (con0.pow(2) * (con0 + 1))

    def entropy(self):
        k = self.concentration.size(-1)
        a0 = self.concentration.sum(-1)
        return (
            torch.lgamma(self.concentration).sum(-1)
            - torch.lgamma(a0)
            - (k - a0) * torch.digamma(a0)
            - ((self.concentration - 1.0) * torch.digamma(self.concentration)).sum(-1)
        )
