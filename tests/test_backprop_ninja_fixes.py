"""Parity checks for what hand-derived backward passes (Karpathy's "backprop ninja",
tests/compat/programs/backprop_ninja.py) compare bit for bit with autograd; one test per
fix."""

from __future__ import annotations

import numpy as np
import pytest

import gradfit
from gradfit._arrays import unwrap


def _torch():
    import torch  # the reference must be installed: fail, not skip

    return torch


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_tanh_backward_rounds_as_aten_tanh_backward(dtype):
    # ATen's kernel rounds 1 - y*y once (a fused multiply-add): for about half of all
    # values that differs in the last bit from g * (1 - y * y) rounded step by step
    torch = _torch()
    rng = np.random.default_rng(0)
    x = gradfit.tensor(rng.standard_normal(4099).astype(dtype) * 2, requires_grad=True)
    g = rng.standard_normal(4099).astype(dtype)
    y = gradfit.tanh(x)
    y.backward(gradfit.tensor(g))
    want = torch.ops.aten.tanh_backward(torch.tensor(g), torch.tensor(unwrap(y).copy()))
    got = unwrap(x.grad)
    assert got.dtype == want.numpy().dtype
    assert np.array_equal(got, want.numpy())
