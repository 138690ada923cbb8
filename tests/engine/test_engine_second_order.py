"""Second order for every registered op: PyTorch's double backward (float64, 1e-10) and
``gradgradcheck`` (central differences of the create_graph gradient), on the registry's
sample shapes. An op listed in ``registry_second_order.NO_SECOND_ORDER`` must instead
refuse create_graph with an error naming it (never a silently wrong second derivative)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import gradfit
from gradfit.autograd import gradgradcheck

from .op_registry import REGISTRY, broadcast_pair, make_array
from .registry_second_order import NO_SECOND_ORDER, TORCH_HAS_NO_DOUBLE_BACKWARD
from .test_engine_registry import _call, _non_contiguous, _samples

IDS = [s.name for s in REGISTRY]


def _smallest_sample(spec):
    def size(sample):
        shapes = sample[0] if spec.kind == "dim" else sample
        return sum(int(np.prod(s)) for s in shapes)

    sample = min(_samples(spec), key=size)
    return sample if spec.kind == "dim" else (sample, None)


def _double_backward(lib, spec, arrays, dim, w, v):
    """d/dx of <v, d<w, f(x)>/dx>, by grad of grad with create_graph."""
    xs = [lib.tensor(a, requires_grad=True) for a in arrays]
    out = _call(spec, lib, xs, dim)
    first = lib.autograd.grad((out * lib.tensor(w)).sum(), xs, create_graph=True, allow_unused=True)
    total = sum((g * lib.tensor(u)).sum() for g, u in zip(first, v) if g is not None)
    if not getattr(total, "requires_grad", False):
        return [None] * len(xs)  # the gradient is constant: no second derivative
    second = lib.autograd.grad(total, xs, allow_unused=True)
    if lib is torch:  # a ZeroTensor (PyTorch's known-zero gradient) converts only by force
        return [None if s is None else s.detach().numpy(force=True) for s in second]
    return [None if s is None else s.detach().numpy() for s in second]


_PARITY = [s for s in REGISTRY if s.name not in TORCH_HAS_NO_DOUBLE_BACKWARD]


@pytest.mark.parametrize("spec", _PARITY, ids=[s.name for s in _PARITY])
def test_double_backward_matches_torch(spec):
    shapes, dim = _smallest_sample(spec)
    rng = np.random.default_rng(11)
    arrays = [make_array(s, spec.domain, rng) for s in shapes]
    out_shape = tuple(_call(spec, torch, [torch.tensor(a) for a in arrays], dim).shape)
    w = rng.standard_normal(out_shape)
    v = [rng.standard_normal(a.shape) for a in arrays]
    if spec.name in NO_SECOND_ORDER:
        with pytest.raises(RuntimeError, match="no second-order derivative|not differentiable"):
            _double_backward(gradfit, spec, arrays, dim, w, v)
        return
    ours = _double_backward(gradfit, spec, arrays, dim, w, v)
    ref = _double_backward(torch, spec, arrays, dim, w, v)
    for a, b, x in zip(ours, ref, arrays):
        a = np.zeros_like(x) if a is None else a
        b = np.zeros_like(x) if b is None else b
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10, err_msg=spec.name)


@pytest.mark.parametrize(
    "spec",
    [s for s in REGISTRY if s.name not in NO_SECOND_ORDER],
    ids=[s.name for s in REGISTRY if s.name not in NO_SECOND_ORDER],
)
def test_gradgradcheck_float64(spec):
    shapes, dim = _smallest_sample(spec)
    rng = np.random.default_rng(5)
    arrays = [_non_contiguous(make_array(s, spec.domain, rng)) for s in shapes]
    inputs = tuple(gradfit.from_numpy(a).requires_grad_() for a in arrays)
    assert gradgradcheck(
        lambda *t: _call(spec, gradfit, t, dim), inputs, eps=1e-6, atol=1e-6, rtol=1e-5
    )


_BINARY = [s for s in REGISTRY if s.kind == "binary" and s.name not in NO_SECOND_ORDER]


@pytest.mark.parametrize("spec", _BINARY, ids=[s.name for s in _BINARY])
@settings(max_examples=3, deadline=None)
@given(data=st.data())
def test_gradgradcheck_broadcast_pairs(spec, data):
    shapes = data.draw(broadcast_pair())
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    inputs = tuple(
        gradfit.from_numpy(make_array(s, spec.domain, rng)).requires_grad_() for s in shapes
    )
    assert gradgradcheck(lambda *t: spec.fn(gradfit, *t), inputs, atol=1e-6, rtol=1e-5)
