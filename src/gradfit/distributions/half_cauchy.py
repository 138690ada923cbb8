"""HalfCauchy(scale): |X| for X ~ Cauchy(0, scale)."""

from __future__ import annotations

import math

import gradfit as torch
from gradfit.distributions._folded import _Folded
from gradfit.distributions.cauchy import Cauchy

__all__ = ["HalfCauchy"]


class HalfCauchy(_Folded):
    """|X|, X ~ Cauchy(0, scale): density 2 Cauchy(x; 0, scale) on x >= 0."""

    _base = Cauchy

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(HalfCauchy, _instance)
        return super().expand(batch_shape, _instance=new)

    @property
    def mean(self):
        return torch.full(tuple(self._extended_shape()), math.inf, dtype=self.scale.dtype)

    @property
    def variance(self):
        return self.base_dist.variance

    def _as_value(self, value):
        return torch.as_tensor(value, dtype=self.base_dist.scale.dtype)
