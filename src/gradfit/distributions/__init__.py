"""Probability distributions, as ``torch.distributions``: sampling from gradfit's generator
draw for draw as PyTorch does (same seed, same samples), differentiable ``log_prob``,
``entropy`` and ``rsample``, and ``kl_divergence`` between pairs of them."""

from gradfit.distributions import constraints, transforms  # noqa: F401 - a public submodule
from gradfit.distributions.bernoulli import Bernoulli
from gradfit.distributions.beta import Beta
from gradfit.distributions.binomial import Binomial
from gradfit.distributions.categorical import Categorical
from gradfit.distributions.cauchy import Cauchy
from gradfit.distributions.chi2 import Chi2
from gradfit.distributions.constraint_registry import biject_to, transform_to
from gradfit.distributions.continuous_bernoulli import ContinuousBernoulli
from gradfit.distributions.dirichlet import Dirichlet
from gradfit.distributions.distribution import Distribution
from gradfit.distributions.exp_family import ExponentialFamily
from gradfit.distributions.exponential import Exponential
from gradfit.distributions.fishersnedecor import FisherSnedecor
from gradfit.distributions.gamma import Gamma
from gradfit.distributions.generalized_pareto import GeneralizedPareto
from gradfit.distributions.geometric import Geometric
from gradfit.distributions.gumbel import Gumbel
from gradfit.distributions.half_cauchy import HalfCauchy
from gradfit.distributions.half_normal import HalfNormal
from gradfit.distributions.independent import Independent
from gradfit.distributions.inverse_gamma import InverseGamma
from gradfit.distributions.kl import kl_divergence, register_kl
from gradfit.distributions.kumaraswamy import Kumaraswamy
from gradfit.distributions.laplace import Laplace
from gradfit.distributions.lkj_cholesky import LKJCholesky
from gradfit.distributions.log_normal import LogNormal
from gradfit.distributions.logistic_normal import LogisticNormal
from gradfit.distributions.lowrank_multivariate_normal import LowRankMultivariateNormal
from gradfit.distributions.mixture_same_family import MixtureSameFamily
from gradfit.distributions.multinomial import Multinomial
from gradfit.distributions.multivariate_normal import MultivariateNormal
from gradfit.distributions.negative_binomial import NegativeBinomial
from gradfit.distributions.normal import Normal
from gradfit.distributions.one_hot_categorical import (
    OneHotCategorical,
    OneHotCategoricalStraightThrough,
)
from gradfit.distributions.pareto import Pareto
from gradfit.distributions.poisson import Poisson
from gradfit.distributions.relaxed_bernoulli import RelaxedBernoulli
from gradfit.distributions.relaxed_categorical import RelaxedOneHotCategorical
from gradfit.distributions.studentT import StudentT
from gradfit.distributions.transformed_distribution import TransformedDistribution
from gradfit.distributions.transforms import *  # noqa: F403 - PyTorch re-exports them
from gradfit.distributions.transforms import __all__ as _transforms_all
from gradfit.distributions.uniform import Uniform
from gradfit.distributions.von_mises import VonMises
from gradfit.distributions.weibull import Weibull
from gradfit.distributions.wishart import Wishart

__all__ = [
    "Bernoulli",
    "Beta",
    "Categorical",
    "Dirichlet",
    "Distribution",
    "Exponential",
    "Gamma",
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
    "Binomial",
    "Cauchy",
    "Chi2",
    "ExponentialFamily",
    "Geometric",
    "Gumbel",
    "HalfCauchy",
    "HalfNormal",
    "LogNormal",
    "MixtureSameFamily",
    "Multinomial",
    "Pareto",
    "Poisson",
    "RelaxedBernoulli",
    "RelaxedOneHotCategorical",
    "StudentT",
    "TransformedDistribution",
    "Weibull",
    "biject_to",
    "transform_to",
    "ContinuousBernoulli",
    "FisherSnedecor",
    "GeneralizedPareto",
    "InverseGamma",
    "Kumaraswamy",
    "LogisticNormal",
    "LowRankMultivariateNormal",
    "NegativeBinomial",
    "VonMises",
    "LKJCholesky",
    "Wishart",
]
__all__ += _transforms_all
