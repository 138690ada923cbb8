"""Layer and group normalisation's forward passes bit for bit as PyTorch's CPU kernels
compute them (float32 and float64), where gradfit takes PyTorch's roundings (outside a
graph, ``gradfit._exact``): each row's (or sample and group's) moments by its
Welford cascade over 256-bit vectors (``gradfit._moments``), then its fused affine maps.
(A channels-last input to group norm takes another kernel in PyTorch: not covered.)"""

from __future__ import annotations

import numpy as np
import pytest

import gradfit
from gradfit._moments import rowwise_moments

# row lengths around the vector (8 floats), chunk (16 vectors) and cascade boundaries
LENGTHS = [1, 3, 7, 8, 10, 17, 64, 100, 129, 300, 768, 2050]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_row_moments_are_pytorchs(dtype):
    import torch

    rng = np.random.default_rng(0)
    for n in LENGTHS:
        x = rng.standard_normal((12, n)) * rng.random((12, 1)) * 3 + rng.standard_normal((12, 1))
        x = x.astype(dtype)
        _, mean, rstd = torch.native_layer_norm(torch.from_numpy(x), (n,), None, None, 1e-5)
        ours_mean, var = rowwise_moments(x)
        ours_rstd = dtype(1) / np.sqrt(var + dtype(1e-5))
        np.testing.assert_array_equal(ours_mean, mean.numpy().ravel(), err_msg=f"N={n}")
        np.testing.assert_array_equal(ours_rstd, rstd.numpy().ravel(), err_msg=f"N={n}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("affine", ["none", "weight", "bias", "both"])
@pytest.mark.parametrize(("shape", "k"), [((6, 10), 1), ((2, 5, 64), 1), ((2, 3, 4, 5), 2)])
def test_layer_norm_output_is_bit_identical(dtype, affine, shape, k):
    import torch

    rng = np.random.default_rng(len(shape) + k)
    x = (rng.standard_normal(shape) * 2 + 0.3).astype(dtype)
    normalized = shape[-k:]
    w = rng.standard_normal(normalized).astype(dtype) if affine in ("weight", "both") else None
    b = rng.standard_normal(normalized).astype(dtype) if affine in ("bias", "both") else None
    outs = []
    for lib in (gradfit, torch):
        args = [None if v is None else lib.from_numpy(v) for v in (w, b)]
        with lib.no_grad():
            y = lib.nn.functional.layer_norm(lib.from_numpy(x), normalized, *args)
        outs.append(y.numpy())
    np.testing.assert_array_equal(*outs)


def test_layer_norm_module_matches_torch_outside_a_graph_and_differentiates_inside():
    import torch

    x = np.random.default_rng(3).standard_normal((4, 7, 32)).astype(np.float32)
    outs, grads = [], []
    for lib in (gradfit, torch):
        lib.manual_seed(0)
        norm = lib.nn.LayerNorm(32)
        with lib.no_grad():
            outs.append(norm(lib.tensor(x)).numpy())
        xt = lib.tensor(x, requires_grad=True)
        y = norm(xt)  # in a graph: NumPy's moments, within float32 rounding of PyTorch's
        np.testing.assert_allclose(y.detach().numpy(), outs[-1], rtol=1e-5, atol=1e-5)
        (y * y).sum().backward()
        grads.append((xt.grad.numpy(), norm.weight.grad.numpy(), norm.bias.grad.numpy()))
    np.testing.assert_array_equal(*outs)
    for ours, ref in zip(*grads):  # the backward pass rounds in NumPy's order
        np.testing.assert_allclose(ours, ref, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("affine", ["none", "weight", "bias", "both"])
@pytest.mark.parametrize(("shape", "groups"), [((2, 4, 16), 2), ((3, 6, 5, 5), 3), ((5, 6), 3)])
def test_group_norm_output_is_bit_identical(dtype, affine, shape, groups):
    import torch

    rng = np.random.default_rng(groups)
    x = (rng.standard_normal(shape) * 2 + 0.5).astype(dtype)
    c = shape[1]
    w = rng.standard_normal(c).astype(dtype) if affine in ("weight", "both") else None
    b = rng.standard_normal(c).astype(dtype) if affine in ("bias", "both") else None
    outs = []
    for lib in (gradfit, torch):
        args = [None if v is None else lib.from_numpy(v) for v in (w, b)]
        with lib.no_grad():
            y = lib.nn.functional.group_norm(lib.from_numpy(x), groups, *args)
        outs.append(y.numpy())
    np.testing.assert_array_equal(*outs)


def test_group_norm_refuses_a_single_value_as_torch():
    import torch

    errors = []
    for lib in (gradfit, torch):
        with pytest.raises(ValueError) as error:
            lib.nn.functional.group_norm(lib.ones(1, 1, 1), 1)
        errors.append(str(error.value))
    assert errors[0] == errors[1]
    assert gradfit.nn.functional.group_norm(gradfit.ones(2, 4, 1), 4).shape == (2, 4, 1)
