"""Every random function in its PyTorch forms: values bit-equal to PyTorch's for the same seed,
and the stream left where PyTorch leaves it (the next draws agree too)."""

from __future__ import annotations

import numpy as np
import pytest

import gradfit

# Each case is evaluated with T bound to torch or to gradfit, G to a generator of that library
# seeded the same way, and P to a probability table; the default stream is seeded too.
CASES = [
    "T.rand(2, 3)", "T.rand((17,))", "T.rand(size=(2, 9))", "T.rand(3, dtype=T.float64)",
    "T.randn(5)", "T.randn(size=(4, 5))", "T.randn(20, dtype=T.float64)", "T.randn(3, generator=G)",
    "T.normal(2.0, 3.0, size=(5,))", "T.normal(2.0, 3.0, (20,))", "T.normal(-1.0, 0.5, (2, 2))",
    "T.normal(T.arange(6.0), 2.0)", "T.normal(T.arange(20.0))", "T.normal(mean=T.zeros(3, 4))",
    "T.normal(1.5, T.linspace(0.1, 2.0, 18))", "T.normal(0.0, T.ones(5, dtype=T.float64))",
    "T.normal(T.arange(6.0), T.linspace(0.5, 1.0, 6))",
    "T.normal(T.zeros(17), T.ones(17), generator=G)", "T.normal(mean=T.zeros(2, 3), std=T.ones(3))",
    "T.randint(9, size=(1,))", "T.randint(10, (3, 4))", "T.randint(-5, 5, (6,))",
    "T.randint(0, 2**40, (4,))", "T.randint(low=2, high=7, size=(5,))",
    "T.randint(3, 8, (4,), generator=G)", "T.randint(0, 100, (3,), dtype=T.int32)",
    "T.randint(high=4, size=(2, 2))", "T.randint(5, size=(3,), dtype=T.float32)",
    "T.rand_like(T.zeros(2, 3))", "T.randn_like(T.zeros(20, dtype=T.float64))",
    "T.randint_like(T.zeros(4), 10)", "T.randint_like(T.zeros(2, 2), 3, 9)",
    "T.randperm(10)", "T.randperm(7, generator=G)", "T.randperm(5, dtype=T.int32)",
    "T.bernoulli(P[:1])", "T.bernoulli(P[:1].double())", "T.bernoulli(P[:1], generator=G)",
    "T.bernoulli(T.zeros(6), 0.3)",
    "T.multinomial(P, 1)", "T.multinomial(P, 3)", "T.multinomial(P, 4, replacement=True)",
    "T.multinomial(P[0], 2)", "T.multinomial(P[0], 30, True)", "T.multinomial(P.double(), 1, True)",
    "T.multinomial(P, 2, generator=G)", "P.multinomial(5, True)",
    "T.empty(5).uniform_()", "T.empty(20).uniform_(-2, 3)", "T.empty(3, 2).normal_()",
    "T.empty(40).normal_(1.0, 0.5)", "T.empty(4, dtype=T.float64).normal_(generator=G)",
    "T.empty(6).random_()", "T.empty(6, dtype=T.float64).random_()",
    "T.empty(6, dtype=T.int64).random_()", "T.empty(6, dtype=T.int32).random_()",
    "T.empty(6, dtype=T.uint8).random_()", "T.empty(6).random_(10)", "T.empty(6).random_(3, 9)",
    "T.empty(6, dtype=T.int64).random_(0, 2**40)",
    "T.empty(8).bernoulli_()", "T.empty(8).bernoulli_(0.2)", "T.empty(2, 3).bernoulli_(P[:1, :3])",
    "T.empty(8, dtype=T.float64).bernoulli_(0.7, generator=G)",
    "T.empty(8).exponential_()", "T.empty(8, dtype=T.float64).exponential_(2.5)",
    "T.empty(8).geometric_(0.3)", "T.empty(8).cauchy_()", "T.empty(8).cauchy_(1.0, 0.5)",
    "T.empty(8).log_normal_()", "T.empty(20, dtype=T.float64).log_normal_(0.0, 0.25)",
    # Strided views: PyTorch fills them in memory order, normal_ element by element.
    "T.empty(4, 5).t().uniform_()", "T.empty(4, 6)[:, ::2].normal_()",
    "T.empty(5, 4).t().normal_(1.0, 2.0)", "T.empty(3, 4, 5).permute(2, 0, 1).bernoulli_(0.4)",
    "T.empty(2, 3).t().bernoulli_(P[:1, :2])", "T.empty(6, 4).t().random_(0, 9)",
]  # fmt: skip


def _env(T, seed):
    T.manual_seed(seed)
    G = T.Generator().manual_seed(seed + 1)
    P = T.tensor([[0.1, 0.4, 0.0, 0.3, 0.2], [1.0, 2.0, 3.0, 4.0, 5.0]])
    return {"T": T, "G": G, "P": P}


def _np(x):
    return x.numpy() if hasattr(x, "numpy") else np.asarray(x)


@pytest.mark.parametrize("expr", CASES)
def test_random_forms_match_torch_and_leave_the_stream_where_torch_does(expr):
    import torch

    for seed in (0, 12345):
        te, ge = _env(torch, seed), _env(gradfit, seed)
        expected, got = _np(eval(expr, te)), _np(eval(expr, ge))
        assert got.shape == expected.shape and str(got.dtype) == str(expected.dtype), expr
        np.testing.assert_array_equal(got, expected, err_msg=expr)
        # The next draws (both streams, both paths of normal_) agree: same stream state.
        for nxt in ("T.rand(3)", "T.randn(3)", "T.randn(16)", "T.rand(2, generator=G)"):
            np.testing.assert_array_equal(_np(eval(nxt, ge)), _np(eval(nxt, te)), err_msg=nxt)


def test_random_argument_errors_are_clear():
    with pytest.raises(TypeError, match="needs a size"):
        gradfit.normal(0.0, 1.0)
    with pytest.raises(RuntimeError, match="from=5 >= to=5"):
        gradfit.randint(5, 5, (2,))
    with pytest.raises(TypeError, match="high and size are required"):
        gradfit.randint(5)
    with pytest.raises(RuntimeError, match="without replacement"):
        gradfit.multinomial(gradfit.ones(3), 4)
    with pytest.raises(RuntimeError, match="element < 0"):
        gradfit.multinomial(gradfit.tensor([0.5, -0.1]), 1)
    with pytest.raises(RuntimeError, match="floating-point"):
        gradfit.multinomial(gradfit.tensor([1, 2]), 1)
    with pytest.raises(RuntimeError, match=r"geometric_ expects p to be in \(0, 1\)"):
        gradfit.empty(2).geometric_(1.5)
    with pytest.raises(RuntimeError, match="std >= 0.0"):
        gradfit.normal(gradfit.zeros(2), gradfit.tensor([1.0, -1.0]))
