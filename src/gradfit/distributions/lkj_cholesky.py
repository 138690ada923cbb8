"""LKJCholesky(dim, concentration): Cholesky factors of LKJ-distributed correlation matrices."""

from __future__ import annotations

import math

import gradfit as torch
from gradfit.distributions import constraints
from gradfit.distributions.beta import Beta
from gradfit.distributions.distribution import Distribution
from gradfit.distributions.utils import broadcast_all

__all__ = ["LKJCholesky"]


def _mvlgamma(x, p: int):
    """The multivariate log-gamma: p(p-1)/4 log(pi) + sum_i lgamma(x - i/2), i < p."""
    offsets = torch.arange(p, dtype=x.dtype) / 2
    return p * (p - 1) / 4 * math.log(math.pi) + torch.lgamma(x.unsqueeze(-1) - offsets).sum(-1)


class LKJCholesky(Distribution):
    """L with L L^T ~ LKJ(concentration), p(L) proportional to prod_i L_ii^(2 eta - 2 + D - i)
    (Lewandowski, Kurowicka and Joe, 2009). Sampled by PyTorch's vectorised onion method: the
    Beta draws, then the normal draws, on gradfit's reproduction of PyTorch's stream."""

    arg_constraints = {"concentration": constraints.positive}
    support = constraints.corr_cholesky

    def __init__(self, dim, concentration=1.0, validate_args=None):
        if dim < 2:
            raise ValueError(
                f"Expected dim to be an integer greater than or equal to 2. Found dim={dim}."
            )
        self.dim = dim
        (self.concentration,) = broadcast_all(concentration)
        batch_shape = self.concentration.size()
        event_shape = torch.Size((dim, dim))
        # the Beta marginals of section 3.2 of the paper, vectorised
        marginal_conc = self.concentration + 0.5 * (self.dim - 2)
        offset = torch.arange(self.dim - 1, dtype=self.concentration.dtype)
        offset = torch.cat([offset.new_zeros((1,)), offset])
        beta_conc1 = offset + 0.5
        beta_conc0 = marginal_conc.unsqueeze(-1) - 0.5 * offset
        self._beta = Beta(beta_conc1, beta_conc0)
        super().__init__(batch_shape, event_shape, validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(LKJCholesky, _instance)
        batch_shape = torch.Size(batch_shape)
        new.dim = self.dim
        new.concentration = self.concentration.expand(batch_shape)
        new._beta = self._beta.expand(batch_shape + (self.dim,))
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def sample(self, sample_shape=()):
        y = self._beta.sample(sample_shape).unsqueeze(-1)
        u_normal = torch.randn(tuple(self._extended_shape(sample_shape)), dtype=y.dtype).tril(-1)
        u_hypersphere = u_normal / u_normal.norm(dim=-1, keepdim=True)
        # the first row is 0/0: zero it
        first_row = torch.arange(self.dim).reshape(-1, 1) == 0
        u_hypersphere = torch.where(first_row, 0.0, u_hypersphere)
        w = torch.sqrt(y) * u_hypersphere
        eps = torch.finfo(w.dtype).tiny  # keeps the diagonal's sqrt finite
        diag_elems = torch.clamp(1 - torch.sum(w**2, dim=-1), min=eps).sqrt()
        return w + torch.diag_embed(diag_elems)

    def log_prob(self, value):
        # p(L) is proportional to prod_i L_ii^(2 (eta - 1) + D - i), the LKJ density of L L^T
        # times the Jacobian of L -> L L^T (Stan's functions reference)
        if self._validate_args:
            self._validate_sample(value)
        diag_elems = value.diagonal(dim1=-1, dim2=-2)[..., 1:]
        order = torch.arange(2, self.dim + 1)
        order = 2 * (self.concentration - 1).unsqueeze(-1) + self.dim - order
        unnormalized_log_pdf = torch.sum(order * diag_elems.log(), dim=-1)
        dm1 = self.dim - 1
        alpha = self.concentration + 0.5 * dm1
        denominator = torch.lgamma(alpha) * dm1
        numerator = _mvlgamma(alpha - 0.5, dm1)
        # the paper's pi constant D (D-1)/4 log(pi) less mvlgamma's (D-1)(D-2)/4 log(pi)
        pi_constant = 0.5 * dm1 * math.log(math.pi)
        normalize_term = pi_constant + numerator - denominator
        return unnormalized_log_pdf - normalize_term
