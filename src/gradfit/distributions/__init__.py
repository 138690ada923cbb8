"""Probability distributions, as ``torch.distributions``: sampling from gradfit's generator
draw for draw as PyTorch does (same seed, same samples), differentiable ``log_prob``,
``entropy`` and ``rsample``, and ``kl_divergence`` between pairs of them."""

from gradfit.distributions import constraints
from gradfit.distributions import transforms as transforms  # the submodule, as PyTorch's
from gradfit.distributions.bernoulli import Bernoulli
from gradfit.distributions.beta import Beta
from gradfit.distributions.categorical import Categorical
from gradfit.distributions.cauchy import Cauchy
from gradfit.distributions.dirichlet import Dirichlet
from gradfit.distributions.distribution import Distribution
from gradfit.distributions.exponential import Exponential
from gradfit.distributions.gamma import Gamma
from gradfit.distributions.gumbel import Gumbel
from gradfit.distributions.half_normal import HalfNormal
from gradfit.distributions.independent import Independent
from gradfit.distributions.kl import kl_divergence, register_kl
from gradfit.distributions.laplace import Laplace
from gradfit.distributions.log_normal import LogNormal
from gradfit.distributions.mixture_same_family import MixtureSameFamily
from gradfit.distributions.multivariate_normal import MultivariateNormal
from gradfit.distributions.normal import Normal
from gradfit.distributions.one_hot_categorical import (
    OneHotCategorical,
    OneHotCategoricalStraightThrough,
)
from gradfit.distributions.poisson import Poisson
from gradfit.distributions.transformed_distribution import TransformedDistribution
from gradfit.distributions.transforms import (
    AbsTransform,
    AffineTransform,
    ComposeTransform,
    ExpTransform,
    IndependentTransform,
    PowerTransform,
    ReshapeTransform,
    SigmoidTransform,
    SoftmaxTransform,
    SoftplusTransform,
    TanhTransform,
    Transform,
    identity_transform,
)
from gradfit.distributions.uniform import Uniform

__all__ = [
    # torch.distributions re-exports its transforms
    "AbsTransform",
    "AffineTransform",
    "ComposeTransform",
    "ExpTransform",
    "IndependentTransform",
    "PowerTransform",
    "ReshapeTransform",
    "SigmoidTransform",
    "SoftmaxTransform",
    "SoftplusTransform",
    "TanhTransform",
    "Transform",
    "Bernoulli",
    "Beta",
    "Categorical",
    "Cauchy",
    "Dirichlet",
    "Distribution",
    "Exponential",
    "Gamma",
    "Gumbel",
    "Independent",
    "HalfNormal",
    "Laplace",
    "LogNormal",
    "MixtureSameFamily",
    "MultivariateNormal",
    "Normal",
    "OneHotCategorical",
    "OneHotCategoricalStraightThrough",
    "Poisson",
    "TransformedDistribution",
    "Uniform",
    "constraints",
    "identity_transform",
    "kl_divergence",
    "register_kl",
]
