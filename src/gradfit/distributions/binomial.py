"""Binomial(total_count, probs=p) or Binomial(total_count, logits=l)."""

from __future__ import annotations

import numpy as np

import gradfit as torch
from gradfit import _rng
from gradfit._arrays import unwrap, wrap
from gradfit.distributions import constraints
from gradfit.distributions.distribution import Distribution
from gradfit.distributions.utils import (
    _BinaryProbability,
    _probs_or_logits,
    broadcast_all,
)

__all__ = ["Binomial"]


def _clamp_by_zero(x):
    # clamp(x, min=0) whose gradient at 0 is 1/2, as PyTorch's
    return (x.clamp(min=0) + x - x.clamp(max=0)) / 2


def _binomial_draws(total_count: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Binomial counts for each element. PyTorch's ``torch.binomial`` is a C++ sampler
    (BTRS / inversion) that gradfit does not reproduce draw for draw: the counts here come
    from NumPy's binomial sampler seeded by one 64-bit word of gradfit's stream, so they
    follow the same distribution and repeat under ``manual_seed``, but differ from
    PyTorch's for the same seed."""
    seed = int(_rng.default_stream().random64(1)[0])
    n = np.asarray(total_count, np.float64)
    p = np.clip(np.asarray(probs, np.float64), 0.0, 1.0)
    out = np.random.Generator(np.random.PCG64(seed)).binomial(n.astype(np.int64), p)
    return out.astype(probs.dtype)


def _set_counts(d, total_count, probs, logits) -> None:
    """``total_count`` and either ``probs`` or ``logits``, broadcast together, the count in
    the parameter's dtype (Binomial's and NegativeBinomial's parameters)."""
    _probs_or_logits(probs, logits)
    if probs is not None:
        d.total_count, d.probs = broadcast_all(total_count, probs)
        d.total_count = d.total_count.type_as(d.probs)
    else:
        d.total_count, d.logits = broadcast_all(total_count, logits)
        d.total_count = d.total_count.type_as(d.logits)
    d._param = d.probs if probs is not None else d.logits


def _expand_counts(d, cls, batch_shape, _instance):
    """``expand`` of a distribution with ``total_count`` and probs or logits."""
    new = d._get_checked_instance(cls, _instance)
    batch_shape = torch.Size(batch_shape)
    new.total_count = d.total_count.expand(batch_shape)
    d._expand_probs_or_logits(new, batch_shape)
    Distribution.__init__(new, batch_shape, validate_args=False)
    new._validate_args = d._validate_args
    return new


class Binomial(_BinaryProbability, Distribution):
    """The number of successes in ``total_count`` Bernoulli(p) trials:
    P(k) = C(n, k) p^k (1 - p)^(n - k). Sampling is statistical, not PyTorch's stream (see
    ``_binomial_draws``)."""

    arg_constraints = {
        "total_count": constraints.nonnegative_integer,
        "probs": constraints.unit_interval,
        "logits": constraints.real,
    }
    has_enumerate_support = True

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        _set_counts(self, total_count, probs, logits)
        super().__init__(self._param.size(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return _expand_counts(self, Binomial, batch_shape, _instance)

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(0, self.total_count)

    @property
    def mean(self):
        return self.total_count * self.probs

    @property
    def mode(self):
        return ((self.total_count + 1) * self.probs).floor().clamp(max=self.total_count)

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape=()):
        shape = tuple(self._extended_shape(sample_shape))
        with torch.no_grad():
            n = unwrap(self.total_count.expand(shape))
            p = unwrap(self.probs.expand(shape))
            return wrap(_binomial_draws(n, p).reshape(shape))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        log_factorial_n = torch.lgamma(self.total_count + 1)
        log_factorial_k = torch.lgamma(value + 1)
        log_factorial_nmk = torch.lgamma(self.total_count - value + 1)
        # k log p + (n - k) log(1 - p) = k logit - n max(logit, 0) - n log1p(e^-|logit|)
        normalize_term = (
            self.total_count * _clamp_by_zero(self.logits)
            + self.total_count * torch.log1p(torch.exp(-torch.abs(self.logits)))
            - log_factorial_n
        )
        return value * self.logits - log_factorial_k - log_factorial_nmk - normalize_term

    def entropy(self):
        total_count = int(self.total_count.max())
        if not self.total_count.min() == total_count:
            raise NotImplementedError("Inhomogeneous total count not supported by `entropy`.")
        log_prob = self.log_prob(self.enumerate_support(False))
        return -(torch.exp(log_prob) * log_prob).sum(0)

    def enumerate_support(self, expand=True):
        total_count = int(self.total_count.max())
        if not self.total_count.min() == total_count:
            raise NotImplementedError(
                "Inhomogeneous total count not supported by `enumerate_support`."
            )
        values = torch.arange(1 + total_count, dtype=self._param.dtype)
        values = values.view((-1,) + (1,) * len(self._batch_shape))
        if expand:
            values = values.expand((-1,) + tuple(self._batch_shape))
        return values
