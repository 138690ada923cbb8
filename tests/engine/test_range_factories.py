"""``arange`` and ``linspace`` give PyTorch's values bit for bit (its CPU kernel's fused
multiply-adds, arange's vector lanes and thread split, linspace's two halves), so a
program that builds its inputs with them feeds its model the same numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import gradfit
from gradfit._fused import fma as _fma

RANGES = [(0.0, 1.0, 0.1), (1.2345, 5.1, 0.1), (-math.pi, math.pi, 0.01), (3.0, -2.0, -1 / 3)]


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
@pytest.mark.parametrize("start, end, step", RANGES)
def test_arange_values_equal_torch(start, end, step, dtype):
    t = torch.arange(start, end, step, dtype=getattr(torch, dtype)).numpy()
    g = gradfit.arange(start, end, step, dtype=getattr(gradfit, dtype)).numpy()
    np.testing.assert_array_equal(g, t)


def test_arange_split_across_threads_equals_torch():
    # above 32,768 values PyTorch's kernel runs a chunk per thread, each with its own lanes
    t = torch.arange(-3.3, 4000.0, 0.057).numpy()
    g = gradfit.arange(-3.3, 4000.0, 0.057).numpy()
    assert g.size > 65536
    np.testing.assert_array_equal(g, t)


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int64", "uint8"])
@pytest.mark.parametrize("steps", [1, 2, 7, 100, 2001])
def test_linspace_values_equal_torch(steps, dtype):
    pairs = [(0.3, 17.9), (250.7, 1.2)] + ([(-math.pi, math.pi)] if dtype != "uint8" else [])
    for start, end in pairs:
        t = torch.linspace(start, end, steps, dtype=getattr(torch, dtype)).numpy()
        g = gradfit.linspace(start, end, steps, dtype=getattr(gradfit, dtype)).numpy()
        np.testing.assert_array_equal(g, t)


def test_fma_rounds_once():
    from fractions import Fraction

    rng = np.random.default_rng(0)
    x, y, z = rng.uniform(-1, 1, 300), rng.integers(0, 10**6, 300), rng.uniform(-9, 9, 300)
    exact = [float(Fraction(a) * Fraction(int(b)) + Fraction(c)) for a, b, c in zip(x, y, z)]
    np.testing.assert_array_equal(_fma(x, y, z), exact)
