"""Fractional max pooling against PyTorch: seeded calls draw the same random samples (the
same windows, and the random stream left where PyTorch leaves it), outputs, indices and
gradients bit for bit (ties and NaNs included), output_size or output_ratio, batched and
unbatched, argument checks, the modules' constructors and reprs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gradfit


def _pool(lib, nd, x, k, seed, **kw):
    lib.manual_seed(seed)
    xt = lib.tensor(x, requires_grad=True)
    f = getattr(lib.nn.functional, f"fractional_max_pool{nd}d")
    y, idx = f(xt, k, return_indices=True, **kw)
    w = np.linspace(-1, 1, y.numel()).reshape(tuple(y.shape)).astype(x.dtype)
    (y * lib.tensor(w)).sum().backward()
    after = lib.rand(3).numpy()  # where the random stream was left
    return y.detach().numpy(), idx.numpy(), xt.grad.numpy(), after


CASES = [
    (2, (2, 3, 9, 8), (3, 2), {"output_size": (5, 6)}),
    (2, (3, 10, 7), 2, {"output_ratio": (0.5, 0.7)}),
    (2, (1, 2, 6, 6), (2, 2), {"output_size": 5}),
    (3, (2, 2, 6, 7, 8), (2, 3, 2), {"output_size": (3, 4, 5)}),
    (3, (2, 5, 6, 7), 2, {"output_ratio": (0.5, 0.6, 0.7)}),
]


@pytest.mark.parametrize("nd,shape,k,kw", CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fractional_max_pool_matches_torch(nd, shape, k, kw, dtype):
    rng = np.random.default_rng(len(shape) + nd)
    for variant in ("normal", "ties", "nan"):
        x = rng.standard_normal(shape)
        if variant == "ties":
            x = np.round(x)
        elif variant == "nan":
            x.ravel()[rng.choice(x.size, 3, replace=False)] = np.nan
        x = x.astype(dtype)
        ours = _pool(gradfit, nd, x, k, seed=7, **kw)
        ref = _pool(torch, nd, x, k, seed=7, **kw)
        for a, b in zip(ours, ref):
            assert a.dtype == b.dtype
            np.testing.assert_array_equal(a, b)


def test_given_samples_and_module_buffer():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 8, 9))
    samples = rng.random((2, 3, 2))
    outs = []
    for lib in (gradfit, torch):
        m = lib.nn.FractionalMaxPool2d(2, output_size=(4, 5), return_indices=True,
                                       _random_samples=lib.tensor(samples))  # fmt: skip
        assert list(m.state_dict()) == ["_random_samples"]
        y, idx = m(lib.tensor(x))
        outs.append((y.numpy(), idx.numpy()))
        assert repr(m) == "FractionalMaxPool2d()"
        m3 = lib.nn.FractionalMaxPool3d(2, output_ratio=0.5)
        assert (m3.kernel_size, m3.output_ratio, m3.output_size) == ((2, 2, 2), (0.5,) * 3, None)
        assert repr(m3) == "FractionalMaxPool3d()"
    for a, b in zip(*outs):
        np.testing.assert_array_equal(a, b)


def _error(lib, make):
    try:
        make(lib)
    except Exception as e:  # noqa: BLE001 - type and message compared
        return type(e).__name__, str(e)
    return None


BAD_CALLS = [
    (2, (2, 3, 10, 9), 3, {"output_ratio": 0.5}),
    (2, (2, 3, 10, 9), 3, {}),
    (2, (2, 3, 10, 9), 3, {"output_size": 9}),
    (2, (2, 3, 10, 9), 3, {"output_size": (8, 8)}),
    (2, (9, 9), 3, {"output_size": 2}),
    (2, (2, 3, 0, 9), 3, {"output_size": 2}),
    (2, (2, 3, 10, 9), (3, 2, 1), {"output_size": 2}),
    (2, (2, 3, 10, 9), 3, {"output_size": (2, 2, 2)}),
    (2, (2, 3, 10, 9), 3, {"output_size": 2, "samples": (2, 3, 3)}),
    (2, (2, 3, 10, 9), 3, {"output_size": 2, "samples": (1, 3, 2)}),
    (2, (2, 3, 10, 9), 3, {"output_size": 2, "samples": (2, 2, 2)}),
    (3, (2, 3, 6, 7, 8), 2, {"output_size": (5, 5, 5)}),
    (3, (2, 3, 6, 7, 8), 2, {"output_size": (4, 6, 5)}),
    (3, (2, 3, 6, 7, 8), 2, {"output_size": 3, "samples": (2, 3, 2)}),
    (3, (6, 7, 8), 2, {"output_size": 3}),
]


@pytest.mark.parametrize("nd,shape,k,kw", BAD_CALLS)
def test_fractional_errors_match_torch(nd, shape, k, kw):
    def make(lib):
        kw2 = dict(kw)
        s = kw2.pop("samples", None)
        if s is not None:
            kw2["_random_samples"] = lib.rand(*s)
        getattr(lib.nn.functional, f"fractional_max_pool{nd}d")(lib.zeros(*shape), k, **kw2)

    theirs = _error(torch, make)
    assert theirs is not None
    assert _error(gradfit, make) == theirs


@pytest.mark.parametrize(
    "cls,args",
    [
        ("FractionalMaxPool2d", (3,)),
        ("FractionalMaxPool2d", (3, 2, 0.5)),
        ("FractionalMaxPool2d", (3, None, 1.5)),
        ("FractionalMaxPool3d", (0, None, 0.5)),
        ("FractionalMaxPool3d", ((2, 0, 1), 2)),
        ("FractionalMaxPool3d", (2, None, (0.5, 0.5, 1.0))),
    ],
)
def test_module_argument_errors_match_torch(cls, args):
    def make(lib):
        getattr(lib.nn, cls)(*args)

    theirs = _error(torch, make)
    assert theirs is not None
    assert _error(gradfit, make) == theirs
