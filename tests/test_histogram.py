"""torch.histogram against PyTorch: counts and edges for bin counts and explicit edges,
ranges, weights, density, values on the edges, empty and constant input, float32 and
float64, and the method form."""

from __future__ import annotations

import numpy as np
import pytest

import gradfit


def _torch():
    import torch  # the reference must be installed: fail, not skip

    return torch


def _cases(m, dtype_name):
    dt = getattr(m, dtype_name)
    rng = np.random.default_rng(0)
    x = m.tensor(np.tanh(rng.standard_normal((40, 25)) * 2), dtype=dt)
    grid = m.tensor(np.linspace(-1, 1, 41), dtype=dt)  # every value sits on an edge
    w = m.tensor(rng.uniform(0, 2, (40, 25)), dtype=dt)
    return [
        lambda: m.histogram(x, density=True),
        lambda: m.histogram(x, 7),
        lambda: m.histogram(grid, 10),
        lambda: m.histogram(grid, 13),
        lambda: m.histogram(x, 5, range=(-0.5, 0.25)),
        lambda: m.histogram(x, 6, weight=w),
        lambda: m.histogram(x, m.tensor([-1.0, -0.2, 0.0, 0.7, 1.0], dtype=dt), density=True),
        lambda: m.histogram(m.full((5,), 3.0, dtype=dt), 4),
        lambda: m.histogram(m.zeros(0, dtype=dt), 3),
        lambda: x.histogram(9),
    ]


@pytest.mark.parametrize("dtype_name", ["float32", "float64"])
def test_histogram_matches_pytorch(dtype_name):
    torch = _torch()
    for k, (g, t) in enumerate(zip(_cases(gradfit, dtype_name), _cases(torch, dtype_name))):
        (gh, ge), (th, te) = g(), t()
        assert gh.dtype.itemsize == th.dtype.itemsize, k
        np.testing.assert_array_equal(ge.numpy(), te.numpy(), err_msg=str(k))
        np.testing.assert_allclose(gh.numpy(), th.numpy(), rtol=1e-6, err_msg=str(k))


def test_histogram_names_and_errors():
    out = gradfit.histogram(gradfit.tensor([0.0, 1.0, 1.0]), 2)
    assert out.hist.tolist() == [1.0, 2.0] and out.bin_edges.tolist() == [0.0, 0.5, 1.0]
    with pytest.raises(NotImplementedError, match="not implemented for 'Long'"):
        gradfit.histogram(gradfit.tensor([1, 2]), 3)
    with pytest.raises(RuntimeError, match="min should not exceed max"):
        gradfit.histogram(gradfit.tensor([1.0]), 3, range=(2.0, 1.0))
