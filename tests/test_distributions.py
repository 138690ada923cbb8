"""gradfit.distributions against torch.distributions: the same seed gives bit-identical
samples; log_prob, entropy, moments, cdf/icdf and kl_divergence agree (float64 1e-10,
float32 1e-5), and so do their gradients with respect to the parameters (and those of
rsample); reprs, shapes and validation errors are PyTorch's."""

from __future__ import annotations

import numpy as np
import pytest

import gradfit
from tests.compat._normalise import as_gradfit

TOL = {"float64": 1e-10, "float32": 1e-5}
rng = np.random.default_rng(0)


def _lower(n, batch=()):
    a = rng.normal(size=batch + (n, n)) * 0.3
    return np.tril(a, -1) + np.eye(n) * rng.uniform(0.5, 1.5, size=batch + (n,))[..., None]


def _spd(n, batch=()):
    a = rng.normal(size=batch + (n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def _onehot(idx, k):
    return np.eye(k)[idx]


# name -> (class, parameters (positional/keyword as given), extra kwargs, value to score)
CASES = {
    "normal": (
        "Normal",
        {"loc": rng.normal(size=3), "scale": rng.uniform(0.5, 2, 3)},
        {},
        rng.normal(size=(2, 3)),
    ),
    "normal_scalar": ("Normal", {"loc": 0.5, "scale": 2.0}, {}, rng.normal(size=4)),
    "normal_bcast": (
        "Normal",
        {"loc": rng.normal(size=(2, 1)), "scale": rng.uniform(0.5, 2, 3)},
        {},
        rng.normal(size=(2, 3)),
    ),
    "laplace": (
        "Laplace",
        {"loc": rng.normal(size=4), "scale": rng.uniform(0.5, 2, 4)},
        {},
        rng.normal(size=4),
    ),
    "uniform": (
        "Uniform",
        {"low": -rng.uniform(1, 2, 3), "high": rng.uniform(1, 2, 3)},
        {},
        rng.uniform(-1, 1, size=(2, 3)),
    ),
    "exponential": ("Exponential", {"rate": rng.uniform(0.5, 2, 3)}, {}, rng.uniform(0, 3, size=3)),
    "bernoulli_probs": (
        "Bernoulli",
        {"probs": rng.uniform(0.1, 0.9, (2, 3))},
        {},
        rng.integers(0, 2, (2, 3)).astype(float),
    ),
    "bernoulli_logits": (
        "Bernoulli",
        {"logits": rng.normal(size=4)},
        {},
        rng.integers(0, 2, 4).astype(float),
    ),
    "categorical_probs": (
        "Categorical",
        {"probs": rng.uniform(0.1, 1, (2, 4))},
        {},
        rng.integers(0, 4, (3, 2)),
    ),
    "categorical_logits": (
        "Categorical",
        {"logits": rng.normal(size=5)},
        {},
        rng.integers(0, 5, (6, 1)),
    ),
    "onehot": (
        "OneHotCategorical",
        {"logits": rng.normal(size=(2, 3))},
        {},
        _onehot(rng.integers(0, 3, 2), 3),
    ),
    "mvn_scale_tril": (
        "MultivariateNormal",
        {"loc": rng.normal(size=3), "scale_tril": _lower(3)},
        {},
        rng.normal(size=(2, 3)),
    ),
    "mvn_cov_batch": (
        "MultivariateNormal",
        {"loc": rng.normal(size=(2, 3)), "covariance_matrix": _spd(3)},
        {},
        rng.normal(size=(4, 2, 3)),
    ),
    "mvn_precision": (
        "MultivariateNormal",
        {"loc": rng.normal(size=2), "precision_matrix": _spd(2, (3,))},
        {},
        rng.normal(size=(3, 2)),
    ),
    "gamma": (
        "Gamma",
        {
            "concentration": np.array([0.3, 1.0, 2.5, 9.0, 0.05, 20.0]),
            "rate": rng.uniform(0.5, 2, 6),
        },
        {},
        rng.uniform(0.05, 4, (2, 6)),
    ),
    "beta": (
        "Beta",
        {
            "concentration1": np.array([0.5, 2.0, 7.0, 10.0, 0.1]),
            "concentration0": np.array([0.7, 3.0, 8.0, 0.3, 5.0]),
        },
        {},
        rng.uniform(0.05, 0.95, (2, 5)),
    ),
    "dirichlet": (
        "Dirichlet",
        {"concentration": np.array([[0.3, 1.0, 2.5, 9.0], [7.0, 8.0, 0.5, 0.05]])},
        {},
        rng.dirichlet([1.0, 2.0, 3.0, 4.0], (3, 2)),
    ),
    "independent": (
        "Independent",
        {"loc": rng.normal(size=(2, 3)), "scale": rng.uniform(0.5, 2, (2, 3))},
        {"ndims": 1},
        rng.normal(size=(2, 3)),
    ),
}
INT_VALUES = {"Categorical"}


def _shifted(name, v, shift):
    """A parameter moved by ``shift`` while staying valid (for a second distribution)."""
    if name in ("loc", "logits"):
        return v + shift
    if name == "low":
        return v - shift
    if name == "probs":
        return v * (1 - shift / 2)
    return v * (1 + shift)  # scales, rates, upper bounds and matrices


def _build(T, case, dtype_name, grad=True, shift=0.0):
    cls, params, extra, value = CASES[case]
    D = T.distributions
    dtype = getattr(T, dtype_name)
    leaves = {}
    for k, v in params.items():
        v = _shifted(k, v, shift) if shift else v
        if isinstance(v, float):
            leaves[k] = v
        else:
            leaves[k] = T.tensor(v, dtype=dtype, requires_grad=grad)
    if cls == "Independent":
        dist = D.Independent(D.Normal(leaves["loc"], leaves["scale"]), extra["ndims"])
    else:
        dist = getattr(D, cls)(**leaves)
    val_dtype = T.int64 if cls in INT_VALUES else dtype
    return dist, leaves, T.tensor(value, dtype=val_dtype)


def _np(x):
    return x.detach().numpy() if hasattr(x, "detach") else np.asarray(x)


def _close(a, b, tol):
    a, b = _np(a), _np(b)
    assert a.shape == b.shape and a.dtype == b.dtype, (a.shape, b.shape, a.dtype, b.dtype)
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol, equal_nan=True)


def _outcome(fn, *args):
    try:
        return fn(*args), None
    except Exception as e:  # noqa: BLE001 - the exception type is what is compared
        return None, type(e)


STATS = {
    "mean": lambda d, v: d.mean,
    "mode": lambda d, v: d.mode,
    "variance": lambda d, v: d.variance,
    "stddev": lambda d, v: d.stddev,
    "entropy": lambda d, v: d.entropy(),
    "perplexity": lambda d, v: d.perplexity(),
    "log_prob": lambda d, v: d.log_prob(v),
    "cdf": lambda d, v: d.cdf(v),
    "icdf": lambda d, v: d.icdf(d.cdf(v)),
    "enumerate_support": lambda d, v: d.enumerate_support(),
    "enumerate_support_noexpand": lambda d, v: d.enumerate_support(expand=False),
}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_statistics_shapes_and_repr_match_pytorch(case, dtype):
    import torch

    dt, vt, dg, vg = *_build(torch, case, dtype)[::2], *_build(gradfit, case, dtype)[::2]
    assert dg.batch_shape == tuple(dt.batch_shape) and dg.event_shape == tuple(dt.event_shape)
    assert isinstance(dg.batch_shape, gradfit.Size)
    assert repr(dg) == as_gradfit(repr(dt))
    assert dg.has_rsample == dt.has_rsample
    assert dg.has_enumerate_support == dt.has_enumerate_support
    assert repr(dg.support) == as_gradfit(repr(dt.support))
    for name, fn in STATS.items():
        want, want_err = _outcome(fn, dt, vt)
        got, got_err = _outcome(fn, dg, vg)
        assert got_err is want_err, (name, got_err, want_err)
        if want_err is None:
            _close(got, want, TOL[dtype])
    e = (3, *dt.batch_shape)
    assert dg.expand(e).batch_shape == tuple(dt.expand(e).batch_shape)
    one = (-1, *dt.batch_shape, *dt.event_shape)  # one value per distribution of the batch
    _close(dg.expand(e).log_prob(vg.reshape(one)[:1]), dt.expand(e).log_prob(vt.reshape(one)[:1]),
           TOL[dtype])  # fmt: skip


ROUNDED = {"Laplace", "MultivariateNormal"}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_same_seed_same_samples(case, dtype):
    import torch

    draws = {}
    for T in (torch, gradfit):
        dist = _build(T, case, dtype)[0]
        T.manual_seed(7)
        out = [dist.sample(), dist.sample((2, 3)), dist.expand((2, *dist.batch_shape)).sample()]
        if dist.has_rsample:
            out.append(dist.rsample((4,)))
        out.append(T.rand(2))  # the stream is left where PyTorch leaves it
        draws[T] = out
    for got, want in zip(draws[gradfit], draws[torch]):
        assert got.requires_grad == want.requires_grad
        assert _np(got).dtype == _np(want).dtype
        if CASES[case][0] in ROUNDED:
            # the same draws, then a transcendental (log1p in float32) or a LAPACK product,
            # whose last bit PyTorch's kernels may round differently from NumPy's
            tol = 1e-6 if dtype == "float32" else 1e-14
            np.testing.assert_allclose(_np(got), _np(want), rtol=tol, atol=tol)
        else:
            np.testing.assert_array_equal(_np(got), _np(want))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(
    "case", sorted(c for c in CASES if not all(isinstance(v, float) for v in CASES[c][1].values()))
)
def test_gradients_of_log_prob_entropy_and_rsample(case, dtype):
    import torch

    grads = {}
    for T in (torch, gradfit):
        dist, leaves, value = _build(T, case, dtype)
        loss = dist.log_prob(value).sum() * 0.7
        if _outcome(dist.entropy)[1] is None:
            loss = loss + dist.entropy().sum()
        if dist.has_rsample:
            T.manual_seed(3)
            loss = loss + (dist.rsample((2,)) ** 2).sum() * 0.3
        tensors = [v for v in leaves.values() if not isinstance(v, float)]
        grads[T] = T.autograd.grad(loss, tensors)
    for got, want in zip(grads[gradfit], grads[torch]):
        _close(got, want, TOL[dtype] * 10)


KL_PAIRS = [
    ("normal", "normal_bcast"), ("laplace", "laplace"), ("uniform", "uniform"),
    ("exponential", "exponential"), ("bernoulli_probs", "bernoulli_probs"),
    ("bernoulli_logits", "bernoulli_logits"), ("categorical_probs", "categorical_probs"),
    ("categorical_logits", "categorical_logits"), ("onehot", "onehot"),
    ("mvn_scale_tril", "mvn_cov_batch"), ("mvn_precision", "mvn_precision"),
    ("gamma", "gamma"),
    ("beta", "beta"),
    ("dirichlet", "dirichlet"),
    ("independent", "independent"),
]  # fmt: skip


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("p_case", "q_case"), KL_PAIRS)
def test_kl_divergence_matches_pytorch(p_case, q_case, dtype):
    import torch

    out = {}
    for T in (torch, gradfit):
        p, p_leaves, _ = _build(T, p_case, dtype)
        q = _build(T, q_case, dtype, shift=0.3)[0]
        kl = T.distributions.kl_divergence(p, q)
        tensors = [v for v in p_leaves.values() if not isinstance(v, float)]
        out[T] = (kl, *T.autograd.grad(kl.sum(), tensors))
    for got, want in zip(out[gradfit], out[torch]):
        _close(got, want, TOL[dtype] * 10)


def test_kl_edge_values_and_unregistered_pairs():
    import torch

    for T in (torch, gradfit):
        D = T.distributions
        assert np.isinf(_np(D.kl_divergence(D.Uniform(0.0, 2.0), D.Uniform(0.5, 1.0)))).all()
    for p, q in [((0.0, 0.5), (0.0, 1.0)), ((0.0, 1.0), (0.0, 1.0))]:
        pr = [[p[0], 1 - p[0]], [p[1], 1 - p[1]]]
        qr = [[q[0], 1 - q[0]], [q[1], 1 - q[1]]]
        kt = torch.distributions.kl_divergence(
            torch.distributions.Categorical(torch.tensor(pr)),
            torch.distributions.Categorical(torch.tensor(qr)),
        )
        kg = gradfit.distributions.kl_divergence(
            gradfit.distributions.Categorical(gradfit.tensor(pr)),
            gradfit.distributions.Categorical(gradfit.tensor(qr)),
        )
        np.testing.assert_array_equal(_np(kg), _np(kt))
        bt = torch.distributions.kl_divergence(
            torch.distributions.Bernoulli(torch.tensor(p)),
            torch.distributions.Bernoulli(torch.tensor(q)),
        )
        bg = gradfit.distributions.kl_divergence(
            gradfit.distributions.Bernoulli(gradfit.tensor(p)),
            gradfit.distributions.Bernoulli(gradfit.tensor(q)),
        )
        np.testing.assert_array_equal(_np(bg), _np(bt))
    D = gradfit.distributions
    with pytest.raises(NotImplementedError, match="p type Normal and q type Laplace"):
        D.kl_divergence(D.Normal(0.0, 1.0), D.Laplace(0.0, 1.0))


# Invalid constructions and values: the same exception type and message as PyTorch's
# (up to gradfit's own module name in Size and dtype reprs).
BAD = [
    "D.Normal(T.tensor([0.0, 1.0]), T.tensor([1.0, -1.0]))",
    "D.Normal(0.0, 0.0)",
    "D.Normal('a', 1.0)",
    "D.Bernoulli(T.tensor([0.2, 1.5]))",
    "D.Bernoulli()",
    "D.Bernoulli(probs=T.tensor(0.5), logits=T.tensor(0.0))",
    "D.Categorical(T.tensor([0.5, -0.1, 0.6]))",
    "D.Categorical(T.tensor(0.5))",
    "D.Categorical(logits=T.tensor(0.5))",
    "D.Uniform(T.tensor([0.0, 2.0]), T.tensor([1.0, 1.0]))",
    "D.Exponential(T.tensor([-1.0]))",
    "D.Laplace(0.0, -2.0)",
    "D.MultivariateNormal(T.zeros(2), T.tensor([[1.0, 2.0], [2.0, 1.0]]))",
    "D.MultivariateNormal(T.zeros(2), scale_tril=T.tensor([[1.0, 1.0], [0.0, 1.0]]))",
    "D.MultivariateNormal(T.zeros(2))",
    "D.MultivariateNormal(T.tensor(0.0), T.eye(2))",
    "D.MultivariateNormal(T.zeros(2), T.tensor([1.0, 2.0]))",
    "D.Independent(D.Normal(T.zeros(2), 1.0), 2)",
    "D.Gamma(T.tensor([1.0]), T.tensor([-1.0]))",
    "D.Gamma(1.0, 2.0).log_prob(T.tensor([-1.0]))",
    "D.Beta(T.tensor([1.0]), T.tensor([0.0]))",
    "D.Beta(2.0, 2.0).log_prob(T.tensor([1.5]))",
    "D.Dirichlet(T.tensor([1.0, -1.0]))",
    "D.Dirichlet(T.tensor(1.0))",
    "D.Dirichlet(T.ones(3)).log_prob(T.tensor([0.5, 0.6, 0.1]))",
    "D.Normal(T.zeros(2), 1.0).log_prob(T.zeros(3))",
    "D.Normal(T.zeros(2), 1.0).log_prob([0.0, 1.0])",
    "D.Exponential(T.ones(2)).log_prob(T.tensor([1.0, -1.0]))",
    "D.Bernoulli(T.tensor([0.3])).log_prob(T.tensor([0.5]))",
    "D.Categorical(T.ones(2, 3)).log_prob(T.tensor([0, 3]))",
    "D.Uniform(T.zeros(2), 1.0).log_prob(T.tensor([0.5, 1.5]))",
    "D.OneHotCategorical(T.ones(3)).log_prob(T.tensor([1.0, 1.0, 0.0]))",
    "D.MultivariateNormal(T.zeros(2), T.eye(2)).log_prob(T.zeros(3))",
    "D.kl_divergence(D.MultivariateNormal(T.zeros(2), T.eye(2)),"
    " D.MultivariateNormal(T.zeros(3), T.eye(3)))",
]


@pytest.fixture(autouse=True)
def _torch_validates():
    """torch.compile (another test may have called it) turns PyTorch's default argument
    validation off for the whole process; these comparisons want it on, as a fresh
    process has it."""
    import torch

    before = torch.distributions.Distribution._validate_args
    torch.distributions.Distribution.set_default_validate_args(True)
    yield
    torch.distributions.Distribution.set_default_validate_args(before)


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


def test_validate_args_off_and_default():
    import torch

    for T in (torch, gradfit):
        D = T.distributions
        assert D.Normal(0.0, -1.0, validate_args=False).scale.item() == -1.0
        d = D.Exponential(T.ones(2), validate_args=False)
        assert np.isfinite(_np(d.log_prob(T.tensor([1.0, -1.0])))).all()
        D.Distribution.set_default_validate_args(False)
        try:
            D.Normal(0.0, -1.0)
        finally:
            D.Distribution.set_default_validate_args(True)
        with pytest.raises(ValueError):
            D.Normal(0.0, -1.0)
    assert gradfit.distributions.Distribution._validate_args is True


def test_lazy_parameters_and_straight_through():
    import torch

    out = {}
    for T in (torch, gradfit):
        D = T.distributions
        logits = T.tensor([[0.2, -1.0, 0.5]], dtype=T.float64, requires_grad=True)
        c = D.Categorical(logits=logits)
        b = D.Bernoulli(probs=T.tensor([0.0, 0.5, 1.0], dtype=T.float64))
        T.manual_seed(1)
        st = D.OneHotCategoricalStraightThrough(logits=logits).rsample((2,))
        (g,) = T.autograd.grad((st * T.arange(3.0, dtype=T.float64)).sum(), logits)
        out[T] = [c.probs, c.logits, b.logits, b.mode, b.entropy(), st, g]
    for got, want in zip(out[gradfit], out[torch]):
        _close(got, want, 1e-12)


def test_classes_live_in_pytorchs_modules():
    import torch

    for name in set(gradfit.distributions.__all__) - {"constraints"}:
        ours, theirs = getattr(gradfit.distributions, name), getattr(torch.distributions, name)
        assert ours.__module__ == theirs.__module__.replace("torch", "gradfit", 1), name


def test_import_gradfit_does_not_load_distributions():
    import subprocess
    import sys

    code = "import sys, gradfit; assert 'gradfit.distributions' not in sys.modules; "
    code += "gradfit.distributions.Normal; assert 'gradfit.distributions' in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
