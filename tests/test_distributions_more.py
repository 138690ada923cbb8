"""The rest of torch.distributions (transforms, TransformedDistribution and the families
built on it, the count distributions, mixtures, relaxations) against PyTorch: statistics,
shapes, reprs and supports; gradients of log_prob / entropy / rsample; kl_divergence;
validation errors; and the same seed giving the same samples wherever PyTorch's sampler is
built from draws gradfit reproduces (Binomial's is not: its samples are tested for their
moments instead)."""

from __future__ import annotations

import numpy as np
import pytest

import gradfit
from tests.compat._normalise import as_gradfit
from tests.test_distributions import STATS, TOL, _close, _np, _outcome

rng = np.random.default_rng(1)

# name -> (constructor over the library T and its leaves, parameters, value to score)
CASES = {
    "lognormal": (
        lambda D, p: D.LogNormal(p["loc"], p["scale"]),
        {"loc": rng.normal(size=3), "scale": rng.uniform(0.5, 1.5, 3)},
        rng.uniform(0.2, 3, (2, 3)),
    ),
    "lognormal_scalar": (
        lambda D, p: D.LogNormal(0.3, 0.8),
        {},
        rng.uniform(0.2, 3, 4),
    ),
    "halfnormal": (
        lambda D, p: D.HalfNormal(p["scale"]),
        {"scale": rng.uniform(0.5, 2, 3)},
        rng.uniform(0, 3, (2, 3)),
    ),
    "halfcauchy": (
        lambda D, p: D.HalfCauchy(p["scale"]),
        {"scale": rng.uniform(0.5, 2, 3)},
        rng.uniform(0, 3, (2, 3)),
    ),
    "cauchy": (
        lambda D, p: D.Cauchy(p["loc"], p["scale"]),
        {"loc": rng.normal(size=3), "scale": rng.uniform(0.5, 2, 3)},
        rng.normal(size=(2, 3)) * 3,
    ),
    "studentt": (
        lambda D, p: D.StudentT(p["df"], p["loc"], p["scale"]),
        {
            "df": np.array([0.7, 1.5, 3.0, 9.0]),
            "loc": rng.normal(size=4),
            "scale": rng.uniform(0.5, 2, 4),
        },
        rng.normal(size=(2, 4)) * 2,
    ),
    "chi2": (
        lambda D, p: D.Chi2(p["df"]),
        {"df": np.array([0.6, 2.0, 5.0, 17.0])},
        rng.uniform(0.1, 6, (2, 4)),
    ),
    "gumbel": (
        lambda D, p: D.Gumbel(p["loc"], p["scale"]),
        {"loc": rng.normal(size=3), "scale": rng.uniform(0.5, 2, 3)},
        rng.normal(size=(2, 3)) * 2,
    ),
    "gumbel_scalar": (lambda D, p: D.Gumbel(1.0, 2.0), {}, rng.normal(size=3)),
    "pareto": (
        lambda D, p: D.Pareto(p["scale"], p["alpha"]),
        {"scale": rng.uniform(0.5, 1.5, 4), "alpha": np.array([0.5, 1.5, 2.5, 4.0])},
        rng.uniform(1.6, 4, (2, 4)),
    ),
    "weibull": (
        lambda D, p: D.Weibull(p["scale"], p["concentration"]),
        {"scale": rng.uniform(0.5, 2, 3), "concentration": np.array([0.7, 1.5, 3.0])},
        rng.uniform(0.1, 3, (2, 3)),
    ),
    "poisson": (
        lambda D, p: D.Poisson(p["rate"]),
        {"rate": np.array([0.3, 2.5, 7.0, 15.0, 40.0])},
        rng.integers(0, 12, (2, 5)).astype(float),
    ),
    "geometric_probs": (
        lambda D, p: D.Geometric(probs=p["probs"]),
        {"probs": rng.uniform(0.1, 0.9, 4)},
        rng.integers(0, 6, (2, 4)).astype(float),
    ),
    "geometric_logits": (
        lambda D, p: D.Geometric(logits=p["logits"]),
        {"logits": rng.normal(size=3)},
        rng.integers(0, 6, 3).astype(float),
    ),
    "binomial": (
        lambda D, p: D.Binomial(8, probs=p["probs"]),
        {"probs": rng.uniform(0.1, 0.9, 4)},
        rng.integers(0, 9, (2, 4)).astype(float),
    ),
    "binomial_logits": (
        lambda D, p: D.Binomial(p["n"], logits=p["logits"]),
        {"n": np.array([3.0, 5.0, 10.0]), "logits": rng.normal(size=3)},
        np.array([1.0, 5.0, 2.0]),
    ),
    "multinomial": (
        lambda D, p: D.Multinomial(6, probs=p["probs"]),
        {"probs": rng.uniform(0.1, 1, (2, 3))},
        np.array([[1.0, 2.0, 3.0], [0.0, 6.0, 0.0]]),
    ),
    "multinomial_logits": (
        lambda D, p: D.Multinomial(4, logits=p["logits"]),
        {"logits": rng.normal(size=4)},
        np.array([[1.0, 1.0, 0.0, 2.0], [0.0, 0.0, 4.0, 0.0]]),
    ),
    "mixture": (
        lambda D, p: D.MixtureSameFamily(
            D.Categorical(logits=p["logits"]), D.Normal(p["loc"], p["scale"])
        ),
        {
            "logits": rng.normal(size=(2, 3)),
            "loc": rng.normal(size=(2, 3)),
            "scale": rng.uniform(0.5, 2, (2, 3)),
        },
        rng.normal(size=(4, 2)),
    ),
    "mixture_mvn": (
        lambda D, p: D.MixtureSameFamily(
            D.Categorical(logits=p["logits"]),
            D.Independent(D.Normal(p["loc"], p["scale"]), 1),
        ),
        {
            "logits": rng.normal(size=3),
            "loc": rng.normal(size=(3, 2)),
            "scale": rng.uniform(0.5, 2, (3, 2)),
        },
        rng.normal(size=(4, 2)),
    ),
    "relaxed_bernoulli": (
        lambda D, p: D.RelaxedBernoulli(p["temperature"], probs=p["probs"]),
        {"temperature": np.array(0.7), "probs": rng.uniform(0.1, 0.9, 3)},
        rng.uniform(0.05, 0.95, (2, 3)),
    ),
    "relaxed_onehot": (
        lambda D, p: D.RelaxedOneHotCategorical(p["temperature"], logits=p["logits"]),
        {"temperature": np.array(0.5), "logits": rng.normal(size=(2, 3))},
        rng.dirichlet([1.0, 1.0, 1.0], 2),
    ),
    "lowrank_mvn": (
        lambda D, p: D.LowRankMultivariateNormal(p["loc"], p["cov_factor"], p["cov_diag"]),
        {
            "loc": rng.normal(size=(2, 3)),
            "cov_factor": rng.normal(size=(3, 2)),
            "cov_diag": rng.uniform(0.5, 1.5, 3),
        },
        rng.normal(size=(4, 2, 3)),
    ),
    "negative_binomial": (
        lambda D, p: D.NegativeBinomial(p["total_count"], probs=p["probs"]),
        {"total_count": np.array([0.5, 3.0, 10.0]), "probs": rng.uniform(0.1, 0.9, 3)},
        rng.integers(0, 9, (2, 3)).astype(float),
    ),
    "negative_binomial_logits": (
        lambda D, p: D.NegativeBinomial(4.0, logits=p["logits"]),
        {"logits": rng.normal(size=3)},
        rng.integers(0, 9, 3).astype(float),
    ),
    "inverse_gamma": (
        lambda D, p: D.InverseGamma(p["concentration"], p["rate"]),
        {"concentration": np.array([0.5, 1.5, 3.0, 8.0]), "rate": rng.uniform(0.5, 2, 4)},
        rng.uniform(0.1, 3, (2, 4)),
    ),
    "kumaraswamy": (
        lambda D, p: D.Kumaraswamy(p["concentration1"], p["concentration0"]),
        {
            "concentration1": np.array([0.5, 2.0, 3.0, 1.5]),
            "concentration0": np.array([0.7, 3.0, 0.9, 2.0]),
        },
        rng.uniform(0.05, 0.95, (2, 4)),
    ),
    "fisher_snedecor": (
        lambda D, p: D.FisherSnedecor(p["df1"], p["df2"]),
        {"df1": np.array([1.0, 3.0, 5.0, 10.0]), "df2": np.array([1.5, 3.0, 6.0, 12.0])},
        rng.uniform(0.1, 3, (2, 4)),
    ),
    "continuous_bernoulli": (
        lambda D, p: D.ContinuousBernoulli(probs=p["probs"]),
        {"probs": np.array([0.1, 0.4995, 0.7, 0.95])},
        rng.uniform(0.0, 1.0, (2, 4)),
    ),
    "continuous_bernoulli_logits": (
        lambda D, p: D.ContinuousBernoulli(logits=p["logits"]),
        {"logits": np.array([-2.0, 0.001, 1.5])},
        rng.uniform(0.0, 1.0, 3),
    ),
    "logistic_normal": (
        lambda D, p: D.LogisticNormal(p["loc"], p["scale"]),
        {"loc": rng.normal(size=(2, 3)), "scale": rng.uniform(0.5, 1.5, (2, 3))},
        rng.dirichlet([1.0, 2.0, 1.0, 3.0], 2),
    ),
    "generalized_pareto": (
        lambda D, p: D.GeneralizedPareto(p["loc"], p["scale"], p["concentration"]),
        {
            "loc": rng.normal(size=4) * 0.1,
            "scale": rng.uniform(0.5, 2, 4),
            "concentration": np.array([-0.2, 0.0, 0.3, 0.7]),
        },
        rng.uniform(0.3, 1.5, (2, 4)),
    ),
    "von_mises": (
        lambda D, p: D.VonMises(p["loc"], p["concentration"]),
        {"loc": rng.uniform(-3, 3, 4), "concentration": np.array([1e-6, 0.5, 3.0, 12.0])},
        rng.uniform(-3, 3, (2, 4)),
    ),
    "lkj_cholesky": (
        lambda D, p: D.LKJCholesky(3, p["concentration"]),
        {"concentration": np.array([0.5, 1.0, 4.0])},
        np.linalg.cholesky(
            np.array([[[1.0, 0.3, -0.2], [0.3, 1.0, 0.5], [-0.2, 0.5, 1.0]]] * 3)
            * np.array([1.0, 0.9, 0.8])[:, None, None]
            + np.eye(3) * np.array([0.0, 0.1, 0.2])[:, None, None]
        ),
    ),
    "wishart": (
        lambda D, p: D.Wishart(p["df"], covariance_matrix=p["covariance_matrix"]),
        {
            "df": np.array([3.5, 6.0]),
            "covariance_matrix": np.array([[[2.0, 0.3, 0.1], [0.3, 1.0, -0.2], [0.1, -0.2, 1.5]]]),
        },
        np.array([[[1.5, 0.2, 0.0], [0.2, 2.0, 0.4], [0.0, 0.4, 1.0]]] * 2),
    ),
    "wishart_precision": (
        lambda D, p: D.Wishart(4.0, precision_matrix=p["precision_matrix"]),
        {"precision_matrix": np.array([[1.0, 0.3], [0.3, 2.0]])},
        np.array([[1.5, 0.2], [0.2, 2.0]]),
    ),
    "tanh_normal": (
        lambda D, p: D.TransformedDistribution(
            D.Normal(p["loc"], p["scale"]),
            [D.TanhTransform(cache_size=1), D.AffineTransform(0.5, 2.0)],
        ),
        {"loc": rng.normal(size=3), "scale": rng.uniform(0.5, 1.5, 3)},
        rng.uniform(-1.2, 2.2, (2, 3)),
    ),
    "sigmoid_power": (
        lambda D, p: D.TransformedDistribution(
            D.Normal(p["loc"], p["scale"]),
            [D.SigmoidTransform(), D.PowerTransform(p["exponent"])],
        ),
        {
            "loc": rng.normal(size=3),
            "scale": rng.uniform(0.5, 1.5, 3),
            "exponent": rng.uniform(0.5, 2, 3),
        },
        rng.uniform(0.1, 0.9, (2, 3)),
    ),
    "softplus_affine_event": (
        lambda D, p: D.TransformedDistribution(
            D.Independent(D.Normal(p["loc"], p["scale"]), 1),
            [D.SoftplusTransform(), D.AffineTransform(p["shift"], p["mult"], event_dim=1)],
        ),
        {
            "loc": rng.normal(size=(2, 3)),
            "scale": rng.uniform(0.5, 1.5, (2, 3)),
            "shift": rng.normal(size=3),
            "mult": rng.uniform(0.5, 2, 3),
        },
        rng.uniform(2.5, 4.0, (2, 3)),
    ),
    "stick_breaking": (
        lambda D, p: D.TransformedDistribution(
            D.Normal(p["loc"], p["scale"]), D.StickBreakingTransform()
        ),
        {"loc": rng.normal(size=(2, 3)), "scale": rng.uniform(0.5, 1.5, (2, 3))},
        rng.dirichlet([1.0, 2.0, 1.0, 3.0], 2),
    ),
    "exp_reshape": (
        lambda D, p: D.TransformedDistribution(
            D.Normal(p["loc"], p["scale"]),
            [D.ExpTransform().inv.inv, D.ReshapeTransform((2, 3), (6,))],
        ),
        {"loc": rng.normal(size=(2, 3)), "scale": rng.uniform(0.5, 1.5, (2, 3))},
        rng.uniform(0.2, 3, (4, 6)),
    ),
}


# PyTorch 2.13's GeneralizedPareto.log_prob raises for float64 parameters (it compares them
# with a float32 zero in isclose): only its float32 form is compared
FLOAT32_ONLY = {"generalized_pareto"}


def _pairs(cases):
    return [(c, d) for c in sorted(cases) for d in ("float64", "float32")
            if d == "float32" or c not in FLOAT32_ONLY]  # fmt: skip


def _build(T, case, dtype_name, grad=True, shift=0.0):
    make, params, value = CASES[case]
    dtype = getattr(T, dtype_name)
    leaves = {k: T.tensor(v * (1 + shift), dtype=dtype, requires_grad=grad and k != "n")
              for k, v in params.items()}  # fmt: skip
    if not params:  # a distribution of numbers (the default dtype)
        T.set_default_dtype(dtype)
        try:
            dist = make(T.distributions, leaves)
        finally:
            T.set_default_dtype(T.float32)
    else:
        dist = make(T.distributions, leaves)
    return dist, leaves, T.tensor(value, dtype=dtype)


@pytest.fixture(autouse=True)
def _torch_validates():
    import torch

    before = torch.distributions.Distribution._validate_args
    torch.distributions.Distribution.set_default_validate_args(True)
    yield
    torch.distributions.Distribution.set_default_validate_args(before)


@pytest.mark.parametrize(("case", "dtype"), _pairs(CASES))
def test_statistics_shapes_and_repr_match_pytorch(case, dtype):
    import torch

    dt, _, vt = _build(torch, case, dtype)
    dg, _, vg = _build(gradfit, case, dtype)
    assert dg.batch_shape == tuple(dt.batch_shape) and dg.event_shape == tuple(dt.event_shape)
    assert repr(dg) == as_gradfit(repr(dt))
    assert dg.has_rsample == dt.has_rsample
    assert dg.has_enumerate_support == dt.has_enumerate_support
    assert repr(dg.support) == as_gradfit(repr(dt.support))
    for name, fn in STATS.items():
        want, want_err = _outcome(fn, dt, vt)
        got, got_err = _outcome(fn, dg, vg)
        assert got_err is want_err, (name, got_err, want_err)
        if want_err is None:
            _close(got, want, TOL[dtype] * 10)
    e = (3, *dt.batch_shape)
    assert dg.expand(e).batch_shape == tuple(dt.expand(e).batch_shape)
    assert dg.expand(e).event_shape == tuple(dt.expand(e).event_shape)
    one = (-1, *dt.batch_shape, *dt.event_shape)
    _close(dg.expand(e).log_prob(vg.reshape(one)[:1]), dt.expand(e).log_prob(vt.reshape(one)[:1]),
           TOL[dtype] * 10)  # fmt: skip


STATISTICAL = {"binomial", "binomial_logits"}  # torch.binomial's C++ sampler is not reproduced
ROUNDED = {"lognormal", "lognormal_scalar", "gumbel", "gumbel_scalar", "pareto", "weibull",
           "relaxed_bernoulli", "relaxed_onehot", "tanh_normal", "sigmoid_power",
           "softplus_affine_event", "stick_breaking", "exp_reshape", "kumaraswamy",
           "continuous_bernoulli", "continuous_bernoulli_logits", "generalized_pareto",
           "logistic_normal", "inverse_gamma", "lowrank_mvn", "fisher_snedecor",
           "lkj_cholesky", "wishart", "wishart_precision"}  # fmt: skip


@pytest.mark.parametrize(("case", "dtype"), _pairs(set(CASES) - STATISTICAL))
def test_same_seed_same_samples(case, dtype):
    import torch

    draws = {}
    for T in (torch, gradfit):
        dist = _build(T, case, dtype)[0]
        T.manual_seed(11)
        out = [dist.sample(), dist.sample((2, 3)), dist.expand((2, *dist.batch_shape)).sample()]
        if dist.has_rsample:
            out.append(dist.rsample((4,)))
        out.append(T.rand(2))  # the stream is left where PyTorch leaves it
        draws[T] = out
    for got, want in zip(draws[gradfit], draws[torch]):
        assert got.requires_grad == want.requires_grad
        assert _np(got).dtype == _np(want).dtype and _np(got).shape == _np(want).shape
        if case in ROUNDED:
            # the same draws through a transcendental (log, tan, exp, pow) whose last bit
            # PyTorch's vectorised kernels may round differently from NumPy's
            tol = 1e-5 if dtype == "float32" else 1e-12
            np.testing.assert_allclose(_np(got), _np(want), rtol=tol, atol=tol)
        else:
            np.testing.assert_array_equal(_np(got), _np(want))


@pytest.mark.parametrize("case", sorted(STATISTICAL))
def test_binomial_samples_have_the_binomial_moments_and_repeat_under_a_seed(case):
    dist = _build(gradfit, case, "float64")[0]
    gradfit.manual_seed(5)
    s = dist.sample((20000,))
    gradfit.manual_seed(5)
    np.testing.assert_array_equal(_np(dist.sample((20000,))), _np(s))
    assert s.shape == (20000, *dist.batch_shape) and s.dtype == gradfit.float64
    n = _np(dist.total_count)
    assert ((_np(s) >= 0) & (_np(s) <= n) & (_np(s) % 1 == 0)).all()
    mean, var = _np(dist.mean), _np(dist.variance)
    # 20000 draws: the sample mean is within 5 standard errors
    np.testing.assert_array_less(np.abs(_np(s).mean(0) - mean), 5 * np.sqrt(var / 20000))
    np.testing.assert_allclose(_np(s).var(0), var, rtol=0.1)


@pytest.mark.parametrize(("case", "dtype"), _pairs(c for c in CASES if CASES[c][1]))
def test_gradients_of_log_prob_entropy_and_rsample(case, dtype):
    import torch

    grads = {}
    for T in (torch, gradfit):
        dist, leaves, value = _build(T, case, dtype)
        loss = dist.log_prob(value).sum() * 0.7
        if _outcome(dist.entropy)[1] is None:
            loss = loss + dist.entropy().sum()
        # PyTorch 2.13 cannot differentiate Wishart.rsample (its redraw pass edits a mask
        # the graph saved in place): its log_prob and entropy gradients are compared
        if dist.has_rsample and not case.startswith("wishart"):
            T.manual_seed(3)
            loss = loss + (dist.rsample((2,)) ** 2).sum() * 0.3
        tensors = [v for v in leaves.values() if v.requires_grad]
        grads[T] = T.autograd.grad(loss, tensors, allow_unused=True)
    for got, want in zip(grads[gradfit], grads[torch]):
        if want is None:
            assert got is None or not _np(got).any()
        else:
            tol = TOL[dtype] * (10 if dtype == "float64" else 100)
            _close(got, want, tol)


KL_PAIRS = [
    ("lognormal", "lognormal"), ("halfnormal", "halfnormal"), ("cauchy", "cauchy"),
    ("gumbel", "gumbel"), ("pareto", "pareto"), ("poisson", "poisson"),
    ("geometric_probs", "geometric_probs"), ("binomial", "binomial"),
    ("chi2", "chi2"), ("tanh_normal", "tanh_normal"), ("lowrank_mvn", "lowrank_mvn"),
    ("continuous_bernoulli", "continuous_bernoulli"), ("inverse_gamma", "inverse_gamma"),
]  # fmt: skip


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("p_case", "q_case"), KL_PAIRS)
def test_kl_divergence_matches_pytorch(p_case, q_case, dtype):
    import torch

    out = {}
    for T in (torch, gradfit):
        p, p_leaves, _ = _build(T, p_case, dtype)
        q = _build(T, q_case, dtype, shift=0.3)[0]
        if p_case == "tanh_normal":  # the same transforms (PyTorch compares them by identity)
            q = T.distributions.TransformedDistribution(q.base_dist, p.transforms)
        kl = T.distributions.kl_divergence(p, q)
        tensors = [v for v in p_leaves.values() if v.requires_grad]
        out[T] = (kl, *T.autograd.grad(kl.sum(), tensors))
    for got, want in zip(out[gradfit], out[torch]):
        _close(got, want, TOL[dtype] * 10)


# cross-family pairs: p and q from different families
CROSS = [
    "D.Normal(T.tensor([0.3, -1.0]), T.tensor([1.2, 0.7])), D.Gumbel(T.tensor([0.1, 0.5]), T.tensor([2.0, 1.0]))",  # noqa: E501
    "D.Gumbel(T.tensor([0.3, -1.0]), T.tensor([1.2, 0.7])), D.Normal(T.tensor([0.1, 0.5]), T.tensor([2.0, 1.0]))",  # noqa: E501
    "D.Exponential(T.tensor([0.3, 2.0])), D.Gumbel(T.tensor([0.1, 0.5]), T.tensor([2.0, 1.0]))",
    "D.Gamma(T.tensor([0.3, 2.0]), T.tensor([1.5, 0.5])), D.Gumbel(T.tensor([0.1, 0.5]), T.tensor([2.0, 1.0]))",  # noqa: E501
    "D.Uniform(T.tensor([0.3, -1.0]), T.tensor([1.2, 0.7])), D.Gumbel(T.tensor([0.1, 0.5]), T.tensor([2.0, 1.0]))",  # noqa: E501
    "D.Pareto(T.tensor([0.3, 1.0]), T.tensor([0.7, 3.0])), D.Exponential(T.tensor([0.3, 2.0]))",
    "D.Pareto(T.tensor([0.3, 1.0]), T.tensor([0.7, 3.0])), D.Gamma(T.tensor([0.3, 2.0]), T.tensor([1.5, 0.5]))",  # noqa: E501
    "D.Pareto(T.tensor([0.3, 1.0]), T.tensor([1.7, 3.0])), D.Normal(T.tensor([0.1, 0.5]), T.tensor([2.0, 1.0]))",  # noqa: E501
    "D.Uniform(T.tensor([0.5, 1.5]), T.tensor([1.2, 2.7])), D.Pareto(T.tensor([0.7, 1.0]), T.tensor([0.7, 3.0]))",  # noqa: E501
    "D.Bernoulli(T.tensor([0.3, 0.8])), D.Poisson(T.tensor([0.5, 2.0]))",
    "D.Normal(0.0, 1.0), D.Pareto(1.0, 2.0)",
    "D.Poisson(T.tensor([0.5, 2.0])), D.Binomial(3, T.tensor([0.3, 0.8]))",
    "D.Gumbel(0.0, 1.0), D.Exponential(1.0)",
    "D.ContinuousBernoulli(T.tensor([0.2, 0.5, 0.9])), D.Normal(T.tensor([0.1, 0.5, 1.0]), 2.0)",
    "D.ContinuousBernoulli(T.tensor([0.2, 0.5, 0.9])), D.Exponential(T.tensor([0.1, 0.5, 1.0]))",
    "D.ContinuousBernoulli(T.tensor([0.2, 0.9])), D.Uniform(T.tensor([-0.5, 0.1]), 1.5)",
    "D.Uniform(T.tensor([0.1, 0.0]), T.tensor([0.7, 1.0])), D.ContinuousBernoulli(T.tensor([0.2, 0.9]))",  # noqa: E501
    "D.Beta(T.tensor([1.5, 0.7]), T.tensor([0.7, 2.0])), D.ContinuousBernoulli(T.tensor([0.2, 0.9]))",  # noqa: E501
    "D.MultivariateNormal(T.zeros(2, 3), T.eye(3) * 2), D.LowRankMultivariateNormal(T.ones(3), T.ones(3, 1), T.ones(3))",  # noqa: E501
    "D.LowRankMultivariateNormal(T.ones(2, 3), T.ones(3, 2), T.ones(3)), D.MultivariateNormal(T.zeros(3), T.eye(3) * 2)",  # noqa: E501
]


@pytest.mark.parametrize("pair", CROSS)
def test_cross_family_kl_matches_pytorch(pair):
    import torch

    got = eval(f"D.kl_divergence({pair})", {"T": gradfit, "D": gradfit.distributions})
    want = eval(f"D.kl_divergence({pair})", {"T": torch, "D": torch.distributions})
    _close(got, want, 1e-5)


TRANSFORMS = [
    ("ExpTransform()", (2, 3)),
    ("ExpTransform().inv", (2, 3)),
    ("AffineTransform(0.5, -2.0)", (2, 3)),
    ("AffineTransform(T.tensor([0.5, 1.0, 2.0]), T.tensor([-2.0, 0.5, 3.0]), event_dim=1)", (2, 3)),
    ("SigmoidTransform()", (2, 3)),
    ("TanhTransform()", (2, 3)),
    ("SoftplusTransform()", (2, 3)),
    ("PowerTransform(T.tensor(1.7))", (2, 3)),
    ("AbsTransform()", (2, 3)),
    ("SoftmaxTransform()", (2, 3)),
    ("StickBreakingTransform()", (2, 3)),
    ("LowerCholeskyTransform()", (2, 3, 3)),
    ("PositiveDefiniteTransform()", (2, 3, 3)),
    ("CorrCholeskyTransform()", (2, 6)),
    ("ReshapeTransform((2, 3), (3, 2))", (4, 2, 3)),
    ("IndependentTransform(SigmoidTransform(), 1)", (2, 3)),
    (
        "ComposeTransform([ExpTransform(), AffineTransform(1.0, 2.0),"
        " PowerTransform(T.tensor(0.5))])",
        (2, 3),
    ),  # noqa: E501
    ("ComposeTransform([StickBreakingTransform(), ExpTransform().inv])", (2, 3)),
    ("CatTransform([ExpTransform(), AffineTransform(1.0, 3.0)], dim=1, lengths=[1, 2])", (2, 3)),
    ("StackTransform([ExpTransform(), SigmoidTransform()], dim=0)", (2, 3)),
    ("CumulativeDistributionTransform(Normal(T.tensor(0.5), T.tensor(2.0)))", (2, 3)),
]


@pytest.mark.parametrize(("expr", "shape"), TRANSFORMS)
def test_transforms_match_pytorch(expr, shape):
    import torch

    x0 = rng.normal(size=shape) * 0.8
    out = {}
    for T in (torch, gradfit):
        ns = dict(vars(T.distributions.transforms), T=T, Normal=T.distributions.Normal)
        t = eval(expr, ns)
        x = T.tensor(x0, dtype=T.float64, requires_grad=True)
        y = t(x)
        res = [y, t.inv(y.detach())]
        loss = y.sum()
        if t.bijective or "Affine" in expr:
            ladj = t.log_abs_det_jacobian(x, y)
            res.append(ladj)
            loss = loss + ladj.sum()
        res.append(T.autograd.grad(loss, x)[0])
        fs = tuple(t.forward_shape(T.Size(shape)))
        dom, cod = t.domain, t.codomain
        res_meta = (repr(t), fs, tuple(t.inverse_shape(T.Size(fs))), t.bijective,
                    repr(dom), repr(cod), dom.event_dim, cod.event_dim)  # fmt: skip
        out[T] = res, res_meta
    (got, got_meta), (want, want_meta) = out[gradfit], out[torch]
    assert got_meta == tuple(as_gradfit(m) if isinstance(m, str) else m for m in want_meta)
    for g, w in zip(got, want):
        _close(g, w, 1e-10)


def test_transform_cache_equality_and_inverse_identity():
    import torch

    for T in (torch, gradfit):
        tr = T.distributions.transforms
        t = tr.TanhTransform(cache_size=1)
        x = T.tensor([30.0, -0.2], dtype=T.float64)
        y = t(x)
        assert t.inv(y) is x  # the cached pre-image, not atanh(1.0) = inf
        assert t(x) is y and t.inv.inv is t
        assert tr.ExpTransform() == tr.ExpTransform() and tr.ExpTransform() != tr.TanhTransform()
        assert tr.AffineTransform(1.0, 2.0) == tr.AffineTransform(1.0, 2.0)
        assert tr.identity_transform(x) is x
        with pytest.raises(ValueError, match="cache_size must be 0 or 1"):
            tr.ExpTransform(cache_size=2)
    assert repr(gradfit.distributions.transforms.ExpTransform().inv) == repr(
        torch.distributions.transforms.ExpTransform().inv
    )


CONSTRAINTS = [
    "constraints.real", "constraints.positive", "constraints.nonnegative",
    "constraints.greater_than(T.tensor(1.5))", "constraints.greater_than_eq(-2.0)",
    "constraints.less_than(3.0)", "constraints.unit_interval",
    "constraints.interval(T.tensor(-1.0), T.tensor(2.0))",
    "constraints.half_open_interval(0.0, 5.0)", "constraints.simplex",
    "constraints.real_vector", "constraints.independent(constraints.positive, 1)",
    "constraints.lower_cholesky", "constraints.positive_definite", "constraints.corr_cholesky",
    "constraints.cat([constraints.positive, constraints.real], 1, [1, 2])",
    "constraints.stack([constraints.positive, constraints.unit_interval], 0)",
]  # fmt: skip


@pytest.mark.parametrize("expr", CONSTRAINTS)
@pytest.mark.parametrize("registry", ["biject_to", "transform_to"])
def test_biject_to_and_transform_to_match_pytorch(expr, registry):
    import torch

    out = {}
    for T in (torch, gradfit):
        D = T.distributions
        c = eval(expr, {"T": T, "constraints": D.constraints})
        try:
            t = getattr(D, registry)(c)
        except NotImplementedError as e:
            out[T] = ("NotImplementedError", str(e))
            continue
        shape = {2: (2, 3, 3), 1: (2, 3)}.get(t.domain.event_dim, (2, 3))
        if "corr" in expr:
            shape = (2, 3)
        x = T.tensor(np.linspace(-1.5, 1.5, int(np.prod(shape))).reshape(shape))
        y = t(x)
        out[T] = (repr(t), y.detach().numpy(), bool(c.check(y).all()))
    (g, w) = out[gradfit], out[torch]
    assert g[0] == as_gradfit(w[0])
    if len(w) == 3:
        np.testing.assert_allclose(g[1], w[1], rtol=1e-12, atol=1e-12)
        assert g[2] == w[2]


BAD = [
    "D.LogNormal(0.0, -1.0)",
    "D.HalfNormal(T.tensor([1.0, -1.0]))",
    "D.HalfNormal(T.tensor([1.0])).log_prob(T.tensor([-1.0]))",
    "D.Cauchy(T.tensor([0.0]), T.tensor([0.0]))",
    "D.StudentT(T.tensor([-1.0]))",
    "D.Chi2(T.tensor([-1.0]))",
    "D.Gumbel(T.tensor([0.0]), T.tensor([-1.0]))",
    "D.Pareto(T.tensor([1.0]), T.tensor([1.0])).log_prob(T.tensor([0.5]))",
    "D.Weibull(T.tensor([1.0]), T.tensor([0.0]))",
    "D.Poisson(T.tensor([-1.0]))",
    "D.Poisson(T.tensor([1.0])).log_prob(T.tensor([0.5]))",
    "D.Geometric(T.tensor([0.0, 0.5]))",
    "D.Geometric(T.tensor([1.5]))",
    "D.Geometric()",
    "D.Binomial(3, T.tensor([1.5]))",
    "D.Binomial(T.tensor([2.5]), T.tensor([0.5]))",
    "D.Binomial(3, T.tensor([0.5])).log_prob(T.tensor([4.0]))",
    "D.Binomial(T.tensor([2.0, 3.0]), T.tensor([0.5, 0.5])).entropy()",
    "D.Multinomial(T.tensor(3), T.tensor([0.5, 0.5]))",
    "D.Multinomial(3, T.tensor([0.5, 0.5])).log_prob(T.tensor([3.0, 1.0]))",
    "D.MixtureSameFamily(D.Normal(0.0, 1.0), D.Normal(T.zeros(2), 1.0))",
    "D.MixtureSameFamily(D.Categorical(T.ones(3)), D.Normal(T.zeros(2), 1.0))",
    "D.MixtureSameFamily(D.Categorical(T.ones(2, 2)), D.Normal(T.zeros(3, 2), 1.0))",
    "D.TransformedDistribution(D.Normal(0.0, 1.0), 3)",
    "D.TransformedDistribution(D.Normal(0.0, 1.0), [3])",
    "D.TransformedDistribution(D.Normal(0.0, 1.0), D.StickBreakingTransform())",
    "D.RelaxedBernoulli(T.tensor(0.5), T.tensor([1.5]))",
    "D.transforms.ReshapeTransform((2, 3), (4,))",
    "D.biject_to(D.constraints.boolean)",
    "D.kl_divergence(D.Poisson(T.tensor([1.0])), D.ContinuousBernoulli(T.tensor([0.3])))",
    "D.Poisson(T.tensor([1.0])).entropy()",
    "D.VonMises(T.tensor([0.0]), T.tensor([-1.0]))",
    "D.LowRankMultivariateNormal(T.zeros(3), T.ones(2, 1), T.ones(3))",
    "D.NegativeBinomial(T.tensor([-1.0]), T.tensor([0.5]))",
    "D.ContinuousBernoulli(T.tensor([1.5]), validate_args=True)",
    "D.kl_divergence(D.Binomial(2, T.tensor([0.5])), D.Binomial(3, T.tensor([0.5])))",
]


@pytest.mark.parametrize("expr", BAD)
def test_validation_errors_match_pytorch(expr):
    import torch

    def run(T):
        with pytest.raises(Exception) as info:
            eval(expr, {"T": T, "D": T.distributions})
        return info

    want, got = run(torch), run(gradfit)
    assert got.type is want.type
    assert str(got.value) == as_gradfit(str(want.value))


def test_wishart_rsample_gradient_and_redraw_warning_match_pytorch():
    import torch

    out = {}
    for T in (torch, gradfit):
        T.manual_seed(0)
        cov = T.tensor([[2.0, 0.3], [0.3, 1.0]], dtype=T.float64, requires_grad=True)
        d = T.distributions.Wishart(T.tensor(4.0, dtype=T.float64), covariance_matrix=cov)
        with pytest.warns(UserWarning, match="Singular sample detected."):
            s = d.rsample()
        out[T] = (s, *T.autograd.grad(s.sum(), cov))
    for got, want in zip(out[gradfit], out[torch]):
        _close(got, want, 1e-12)
