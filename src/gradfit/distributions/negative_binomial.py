"""NegativeBinomial(total_count, probs=p) or NegativeBinomial(total_count, logits=l)."""

from __future__ import annotations

import gradfit as torch
from gradfit.distributions import constraints
from gradfit.distributions.binomial import _expand_counts, _set_counts
from gradfit.distributions.distribution import Distribution
from gradfit.distributions.gamma import Gamma
from gradfit.distributions.utils import (
    _BinaryProbability,
    lazy_property,
)

__all__ = ["NegativeBinomial"]


def _logsigmoid(x):
    from gradfit.nn.functional import logsigmoid

    return logsigmoid(x)


class NegativeBinomial(_BinaryProbability, Distribution):
    """The number of successes before ``total_count`` failures, each trial a success with
    probability p: P(k) = C(k + r - 1, k) p^k (1 - p)^r. Sampled as PyTorch does, a Poisson
    of a Gamma(r, (1 - p) / p) rate, both on gradfit's reproduction of PyTorch's stream."""

    arg_constraints = {
        "total_count": constraints.greater_than_eq(0),
        "probs": constraints.half_open_interval(0.0, 1.0),
        "logits": constraints.real,
    }
    support = constraints.nonnegative_integer

    def __init__(self, total_count, probs=None, logits=None, validate_args=None):
        _set_counts(self, total_count, probs, logits)
        super().__init__(self._param.size(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return _expand_counts(self, NegativeBinomial, batch_shape, _instance)

    @property
    def mean(self):
        return self.total_count * torch.exp(self.logits)

    @property
    def mode(self):
        return ((self.total_count - 1) * self.logits.exp()).floor().clamp(min=0.0)

    @property
    def variance(self):
        return self.mean / torch.sigmoid(-self.logits)

    @lazy_property
    def _gamma(self):
        # not validated: total_count may be zero
        return Gamma(
            concentration=self.total_count, rate=torch.exp(-self.logits), validate_args=False
        )

    def sample(self, sample_shape=()):
        with torch.no_grad():
            rate = self._gamma.sample(sample_shape=sample_shape)
            return torch.poisson(rate)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        log_unnormalized_prob = self.total_count * _logsigmoid(-self.logits) + value * _logsigmoid(
            self.logits
        )
        log_normalization = (
            -torch.lgamma(self.total_count + value)
            + torch.lgamma(1.0 + value)
            + torch.lgamma(self.total_count)
        )
        # total_count = 0 and value = 0 has probability 1, where lgamma(0) is infinite
        log_normalization = log_normalization.masked_fill(self.total_count + value == 0.0, 0.0)
        return log_unnormalized_prob - log_normalization
