"""float32 sums and ranges equal to PyTorch's bit for bit: ``sum``/``mean`` (whole tensor
and over dims, contiguous or not), the losses reduced with them, the gradient of a
broadcast (summed back to the input's shape), ``linspace`` and ``arange``."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

import gradfit

SHAPES = [(5,), (17,), (100,), (2000,), (40000,), (7, 3), (10, 40), (64, 10), (3, 5, 7)]
SHAPES += [(16, 3, 8, 8), (2, 1, 300), (130, 1)]


def _axes(ndim):
    yield None
    for r in range(1, ndim + 1):
        yield from itertools.combinations(range(ndim), r)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_sum_and_mean_add_in_pytorch_order(shape, dtype):
    x = (np.random.default_rng(len(shape)).standard_normal(shape) * 10).astype(dtype)
    t, g = torch.from_numpy(x), gradfit.tensor(x)
    for dims in _axes(x.ndim):
        for keepdim in (False, True) if dims is not None else (False,):
            for name in ("sum", "mean"):
                args = () if dims is None else (dims, keepdim)
                want = getattr(t, name)(*args).numpy()
                got = getattr(g, name)(*args).numpy()
                assert got.shape == want.shape and got.dtype == want.dtype
                np.testing.assert_array_equal(got, want, err_msg=f"{name}{args}")
    if x.ndim == 2:  # a transposed (non-contiguous) view
        for dims in (None, 0, 1):
            args = () if dims is None else (dims,)
            want, got = t.t().sum(*args).numpy(), g.t().sum(*args).numpy()
            np.testing.assert_array_equal(got, want)


def test_sum_of_negative_zeros_is_positive_zero():
    t = torch.tensor([-0.0, -0.0]).sum()
    g = gradfit.tensor([-0.0, -0.0]).sum()
    assert math.copysign(1, g.item()) == math.copysign(1, t.item())


def test_losses_and_broadcast_gradients_add_in_pytorch_order():
    rng = np.random.default_rng(0)
    a, b = rng.random((2, 32, 784), dtype=np.float32)
    for name in ("mse_loss", "l1_loss", "binary_cross_entropy"):
        for reduction in ("mean", "sum"):
            want = getattr(torch.nn.functional, name)(
                torch.tensor(a), torch.tensor(b), reduction=reduction
            )
            got = getattr(gradfit.nn.functional, name)(
                gradfit.tensor(a), gradfit.tensor(b), reduction=reduction
            )
            assert got.item() == want.item(), (name, reduction)
    # a scalar and a row broadcast over 2000 rows: their gradients are sums of 2000 terms
    x = rng.standard_normal((2000, 3)).astype(np.float32)
    grads = []
    for lib in (torch, gradfit):
        s = lib.tensor(0.5, requires_grad=True)
        row = lib.tensor([0.1, -0.2, 0.3], requires_grad=True)
        ((s * lib.tensor(x) + row) ** 2).sum().backward()
        grads.append((s.grad.numpy(), row.grad.numpy()))
    np.testing.assert_array_equal(grads[1][0], grads[0][0])
    np.testing.assert_array_equal(grads[1][1], grads[0][1])


RANGES = [(-math.pi, math.pi, 2000), (-3, 3, 101), (0.1, 7.3, 1000), (0, 10, 7), (1, 0, 11)]


@pytest.mark.parametrize("start,end,steps", RANGES + [(0, 1, 1), (0, 1, 0), (-1, 1, 2)])
def test_linspace_float32_equals_pytorch(start, end, steps):
    want = torch.linspace(start, end, steps).numpy()
    got = gradfit.linspace(start, end, steps).numpy()
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)
    want = torch.linspace(start, end, steps, dtype=torch.float64).numpy()
    got = gradfit.linspace(start, end, steps, dtype=gradfit.float64).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-15, atol=1e-15)


@pytest.mark.parametrize(
    "args",
    [(0, 5, 0.1), (-3.2, 7.1, 0.013), (0.5, 100.5, 0.7), (-1, 1, 0.001), (3.0,), (0, 40000, 0.5)],
)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_arange_floats_equal_pytorch(args, dtype):
    want = torch.arange(*args, dtype=getattr(torch, dtype)).numpy()
    got = gradfit.arange(*args, dtype=getattr(gradfit, dtype)).numpy()
    assert got.shape == want.shape
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_var_and_std_equal_pytorchs_bit_for_bit(shape, dtype):
    """var/std follow PyTorch's CPU kernels: a whole-tensor reduction sums squared
    deviations in double, a reduction over dims runs Welford's update in double, and
    std takes its square root in double before rounding (a data set standardised with
    ``X.std(dim=0)`` prints the same means)."""
    x = (np.random.default_rng(len(shape)).standard_normal(shape) * 3 + 1).astype(dtype)
    views = [x] + ([x.T] if x.ndim == 2 else [])
    for arr in views:
        t, g = torch.from_numpy(arr), gradfit.tensor(arr)
        for dims in _axes(arr.ndim):
            for correction in (1, 0):
                for name in ("var", "std"):
                    kw = {"correction": correction}
                    if dims is not None:
                        kw.update(dim=dims, keepdim=correction == 0)
                    want = getattr(t, name)(**kw).numpy()
                    got = getattr(g, name)(**kw).numpy()
                    assert got.shape == want.shape and got.dtype == want.dtype
                    np.testing.assert_array_equal(got, want, err_msg=f"{name}{kw}")


def test_std_gradient_is_zero_where_std_is_zero():
    for dims in (None, 1):
        t = torch.ones(2, 3, dtype=torch.float64, requires_grad=True)
        g = gradfit.ones(2, 3, dtype=gradfit.float64, requires_grad=True)
        t.std(dims).sum().backward()
        g.std(dims).sum().backward()
        np.testing.assert_array_equal(g.grad.numpy(), t.grad.numpy())
    x = np.random.default_rng(0).standard_normal((4, 5))
    t = torch.tensor(x, requires_grad=True)
    g = gradfit.tensor(x, requires_grad=True)
    (t.std(0, keepdim=True) * torch.arange(5.0)).sum().backward()
    (g.std(0, keepdim=True) * gradfit.arange(5.0)).sum().backward()
    np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), rtol=1e-12)
