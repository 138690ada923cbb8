"""Cauchy(loc, scale): heavy tails (no mean, infinite variance)."""

from __future__ import annotations

import math

import gradfit as torch
from gradfit.distributions.normal import _LocScale

__all__ = ["Cauchy"]


class Cauchy(_LocScale):
    """density 1 / (pi scale (1 + ((x - loc) / scale)^2)); samples are
    ``loc + scale * tan(pi (u - 1/2))`` drawn by ``Tensor.cauchy_`` as PyTorch draws them."""

    @property
    def mean(self):
        return torch.full(self._extended_shape(), math.nan, dtype=self.loc.dtype)

    @property
    def variance(self):
        return torch.full(self._extended_shape(), math.inf, dtype=self.loc.dtype)

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        eps = self.loc.new(shape).cauchy_()
        return self.loc + eps * self.scale

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        z = (value - self.loc) / self.scale
        return -math.log(math.pi) - self.scale.log() - (z**2).log1p()

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return torch.atan((value - self.loc) / self.scale) / math.pi + 0.5

    def icdf(self, value):
        return torch.tan(math.pi * (value - 0.5)) * self.scale + self.loc

    def entropy(self):
        return math.log(4 * math.pi) + self.scale.log()


Cauchy._family = Cauchy
