"""Parity checks for what whole PyTorch programs (sequences, NLP, generative models,
higher-order gradients) used that gradfit lacked; one test per fix."""

from __future__ import annotations

import numpy as np
import pytest

import gradfit


def _torch():
    import torch  # the reference must be installed: fail, not skip

    return torch


@pytest.mark.parametrize(
    "call",
    [
        lambda m, x: x.sum(1, keepdims=True),
        lambda m, x: m.sum(x, axis=0),
        lambda m, x: x.mean(axis=1, keepdims=True),
        lambda m, x: x.std(0, keepdims=True),
        lambda m, x: x.max(axis=1).values,
        lambda m, x: x.amax(axis=0, keepdims=True),
        lambda m, x: x.logsumexp(axis=1),
        lambda m, x: x.softmax(axis=0),
        lambda m, x: x.argmax(axis=1),
    ],
)
def test_numpy_argument_names_axis_keepdims(call):
    torch = _torch()
    a = np.random.default_rng(0).standard_normal((3, 4))
    got = call(gradfit, gradfit.tensor(a)).numpy()
    want = call(torch, torch.tensor(a)).numpy()
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_numpy_argument_name_and_its_alias_together_is_an_error():
    with pytest.raises(TypeError, match="'dim' and its alias 'axis'"):
        gradfit.ones(2, 3).sum(dim=0, axis=1)
