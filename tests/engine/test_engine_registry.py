"""Every registered op: float64 finite-difference gradcheck over hypothesis-generated
shapes (broadcast pairs and non-contiguous inputs included) and parity with PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import gradfit
from gradfit.autograd import gradcheck

from .op_registry import (
    NON_DIFF,
    REGISTRY,
    binary_sample_shapes,
    broadcast_pair,
    make_array,
    nonempty_shape_st,
    shape_and_dim,
    shape_st,
    unary_sample_shapes,
)

IDS = [s.name for s in REGISTRY]


def _strategy(spec):
    if spec.kind == "unary":
        return shape_st.map(lambda s: ([s], None))
    if spec.kind == "binary":
        return broadcast_pair().map(lambda p: (p, None))
    if spec.kind == "dim":  # a spec may draw its own (shapes, argument) pairs
        return spec.shapes if spec.shapes is not None else shape_and_dim()
    return spec.shapes.map(lambda p: (p, None))


def _call(spec, lib, tensors, dim):
    if spec.kind == "dim":
        return spec.fn(lib, *tensors, dim)
    return spec.fn(lib, *tensors)


def _non_contiguous(arr: np.ndarray) -> np.ndarray:
    """The same values in a strided, non-contiguous layout."""
    if arr.ndim == 0:
        return arr
    big = np.zeros(arr.shape[:-1] + (arr.shape[-1] * 2,), dtype=arr.dtype)
    big[..., ::2] = arr
    view = big[..., ::2]
    if arr.ndim >= 2:  # also transpose through memory
        view = np.ascontiguousarray(np.swapaxes(view, -1, -2)).swapaxes(-1, -2)
    assert np.array_equal(view, arr)
    return view


@pytest.mark.parametrize("spec", REGISTRY, ids=IDS)
@given(data=st.data())
def test_gradcheck_float64(spec, data):
    shapes, dim = data.draw(_strategy(spec))
    seed = data.draw(st.integers(0, 2**16))
    contiguous = data.draw(st.booleans())
    rng = np.random.default_rng(seed)
    arrays = [make_array(s, spec.domain, rng) for s in shapes]
    if not contiguous:
        arrays = [_non_contiguous(a) for a in arrays]
    inputs = tuple(gradfit.from_numpy(a).requires_grad_() for a in arrays)
    out = _call(spec, gradfit, inputs, dim)
    # engine invariant: gradients have the inputs' shapes on every broadcast
    out.backward(gradfit.ones_like(out))
    for x in inputs:
        assert x.grad is not None and x.grad.shape == x.shape and x.grad.dtype == np.float64
    assert gradcheck(
        lambda *t: _call(spec, gradfit, t, dim), inputs, eps=1e-6, atol=1e-6, rtol=1e-5
    )


def _samples(spec):
    if spec.samples:
        return spec.samples
    return unary_sample_shapes() if spec.kind == "unary" else binary_sample_shapes()


def _parity(spec, shapes, dim, dtype, rtol):
    rng = np.random.default_rng(7)
    arrays = [make_array(s, spec.domain, rng).astype(dtype) for s in shapes]
    ours = [gradfit.tensor(a, requires_grad=True) for a in arrays]
    ref = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = _call(spec, gradfit, ours, dim)
    out_ref = _call(spec, torch, ref, dim)
    assert out.dtype == np.dtype(dtype), f"{spec.name} changed dtype to {out.dtype}"
    assert tuple(out.shape) == tuple(out_ref.shape)
    np.testing.assert_allclose(
        out.detach().numpy(), out_ref.detach().numpy(), rtol=rtol, atol=rtol * 1e-2
    )
    w = rng.standard_normal(out_ref.shape).astype(dtype)
    (out * gradfit.tensor(w)).sum().backward()
    (out_ref * torch.tensor(w)).sum().backward()
    for a, b in zip(ours, ref):
        assert a.grad.dtype == np.dtype(dtype)
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=rtol, atol=rtol * 1e-2)


@pytest.mark.parametrize("spec", REGISTRY, ids=IDS)
def test_torch_parity_float64(spec):
    for sample in _samples(spec):
        shapes, dim = sample if spec.kind == "dim" else (sample, None)
        _parity(spec, shapes, dim, np.float64, 1e-10)


@pytest.mark.parametrize("spec", REGISTRY, ids=IDS)
def test_torch_parity_float32(spec):
    for sample in _samples(spec):
        shapes, dim = sample if spec.kind == "dim" else (sample, None)
        _parity(spec, shapes, dim, np.float32, 1e-5)


@pytest.mark.parametrize("name", sorted(NON_DIFF))
def test_non_differentiable_ops_match_torch(name):
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    b[0, 0] = a[0, 0]
    ours = NON_DIFF[name](gradfit, gradfit.tensor(a), gradfit.tensor(b))
    ref = NON_DIFF[name](torch, torch.tensor(a), torch.tensor(b))
    assert not ours.requires_grad
    np.testing.assert_array_equal(ours.numpy(), ref.numpy())


@given(shape=nonempty_shape_st)
def test_registry_covers_float32_preservation(shape):
    x = gradfit.randn(*shape) if False else gradfit.tensor(np.ones(shape, dtype=np.float32))
    for y in (x * 2.0, 2.0 * x, x / 3, x**2, x - 1, gradfit.exp(x), x.mean(), x.sum(0)):
        assert y.dtype == np.float32
