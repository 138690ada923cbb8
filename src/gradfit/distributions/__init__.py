"""Probability distributions, as ``torch.distributions``: sampling from gradfit's generator
draw for draw as PyTorch does (same seed, same samples), differentiable ``log_prob``,
``entropy`` and ``rsample``, and ``kl_divergence`` between pairs of them."""

from gradfit.distributions import constraints
from gradfit.distributions.categorical import (
    Bernoulli,
    Categorical,
    OneHotCategorical,
    OneHotCategoricalStraightThrough,
)
from gradfit.distributions.distribution import Distribution
from gradfit.distributions.kl import kl_divergence, register_kl
from gradfit.distributions.multivariate_normal import Independent, MultivariateNormal
from gradfit.distributions.normal import Laplace, Normal
from gradfit.distributions.uniform import Exponential, Uniform

__all__ = [
    "Bernoulli",
    "Categorical",
    "Distribution",
    "Exponential",
    "Independent",
    "Laplace",
    "MultivariateNormal",
    "Normal",
    "OneHotCategorical",
    "OneHotCategoricalStraightThrough",
    "Uniform",
    "constraints",
    "kl_divergence",
    "register_kl",
]
