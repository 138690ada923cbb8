"""Tensor API and factories against PyTorch: dtypes, conversions, attributes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gradfit
from tests.compat._normalise import as_gradfit


def same(ours, ref):
    assert tuple(ours.shape) == tuple(ref.shape)
    assert str(ours.dtype) == as_gradfit(str(ref.dtype))
    np.testing.assert_array_equal(ours.numpy(), ref.numpy())


@pytest.mark.parametrize(
    "make",
    [
        lambda m: m.tensor([1.0, 2.0]),
        lambda m: m.tensor([1, 2]),
        lambda m: m.tensor([[True, False]]),
        lambda m: m.tensor(3.5),
        lambda m: m.tensor(np.arange(3.0)),  # numpy float64 keeps its dtype
        lambda m: m.zeros(2, 3),
        lambda m: m.ones((2, 3), dtype=m.float64),
        lambda m: m.full((2,), 7.0),
        lambda m: m.full((2,), 7),
        lambda m: m.arange(5),
        lambda m: m.arange(0, 1, 0.25),
        lambda m: m.arange(1.0, 4.0),
        lambda m: m.linspace(0, 1, 5),
        lambda m: m.eye(3),
        lambda m: m.eye(2, 3, dtype=m.float64),
        lambda m: m.zeros_like(m.ones(2, 2, dtype=m.float64)),
        lambda m: m.ones_like(m.arange(3)),
        lambda m: m.full_like(m.zeros(2), 3.0),
        lambda m: m.as_tensor([1.0, 2.0]),
        lambda m: m.from_numpy(np.ones(3, dtype=np.float32)),
        lambda m: m.tensor([1, 2]).float(),
        lambda m: m.tensor([1.5, 2.5]).long(),
        lambda m: m.tensor([1.5]).double(),
        lambda m: m.tensor([1.5]).to(m.float64),
        lambda m: m.tensor([0.0, 1.0]).bool(),
        lambda m: m.tensor([1, 2]) * 1.5,
        lambda m: m.tensor([1, 2]) / 2,
        lambda m: m.tensor([1, 2]) + m.tensor([0.5, 0.5]),
        lambda m: m.tensor([1.0, 2.0], dtype=m.float64) + m.tensor([1.0, 1.0]),
        lambda m: m.tensor([[1.0, 2.0], [3.0, 4.0]]).sum(),
        lambda m: m.tensor([1, 2, 3]).sum(),
        lambda m: m.tensor([1.0, 2.0]).T,
        lambda m: m.tensor([[1.0, 2.0], [3.0, 4.0]]).T,
    ],
)
def test_factories_and_dtype_rules_match_torch(make):
    same(make(gradfit), make(torch))


def test_default_dtype_switch():
    try:
        gradfit.set_default_dtype(gradfit.float64)
        assert gradfit.tensor([1.0]).dtype == np.float64
        assert gradfit.zeros(2).dtype == np.float64
    finally:
        gradfit.set_default_dtype(gradfit.float32)
    assert gradfit.tensor([1.0]).dtype == np.float32
    with pytest.raises(TypeError, match="int64"):
        gradfit.set_default_dtype(gradfit.int64)


def test_attributes():
    x = gradfit.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    assert x.shape == (1, 3) and x.size() == (1, 3) and x.size(1) == 3
    assert x.ndim == 2 and x.dim() == 2 and x.numel() == 3
    assert x.is_leaf and x.grad_fn is None and x.requires_grad
    assert x.dtype == gradfit.float32 == gradfit.float
    assert x.device == gradfit.device("cpu")
    y = x * 2
    assert not y.is_leaf and y.grad_fn.name() == "MulBackward0"
    assert y.sum().item() == 12.0
    assert y.tolist() == [[2.0, 4.0, 6.0]]
    assert x.detach().numpy().dtype == np.float32
    with pytest.raises(RuntimeError, match="detach"):
        x.numpy()
    with pytest.raises(RuntimeError, match="3 elements"):
        x.item()


def test_device_keywords_and_errors():
    assert gradfit.zeros(2, device="cpu").device.type == "cpu"
    assert gradfit.ones(2).to("cpu").shape == (2,)
    # PyTorch's CPU build raises AssertionError("Torch not compiled with CUDA enabled").
    with pytest.raises(AssertionError, match="CUDA.*CPU only"):
        gradfit.zeros(2, device="cuda")
    with pytest.raises(AssertionError, match="CPU only"):
        gradfit.ones(2).cuda()


def test_inplace_factories_ops_under_no_grad():
    t = gradfit.zeros(3)
    t.fill_(2.0)
    t.add_(gradfit.ones(3), alpha=3)
    t.mul_(0.5)
    assert t.tolist() == [2.5, 2.5, 2.5]
    t.copy_(gradfit.tensor([1.0, 2.0, 3.0]))
    t.zero_()
    assert t.tolist() == [0.0, 0.0, 0.0]
    t[1] = 5.0
    assert t.tolist() == [0.0, 5.0, 0.0]


def test_repr_resembles_torch():
    assert repr(gradfit.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(gradfit.tensor([1.0], requires_grad=True)) == "tensor([1.], requires_grad=True)"
    assert repr(gradfit.tensor([1, 2])) == "tensor([1, 2])"
    assert "dtype=gradfit.float64" in repr(gradfit.tensor([1.0], dtype=gradfit.float64))
    assert "grad_fn=<MulBackward0>" in repr(gradfit.tensor([1.0], requires_grad=True) * 2)


def test_max_min_with_indices_and_split_chunk_match_torch():
    a = np.random.default_rng(0).standard_normal((4, 5))
    ours, ref = gradfit.tensor(a), torch.tensor(a)
    v, i = ours.max(dim=1)
    rv, ri = ref.max(dim=1)
    same(v, rv)
    same(i, ri)
    same(ours.argmax(), ref.argmax())
    for p, q in zip(ours.split([1, 3], 0), ref.split([1, 3], 0)):
        same(p, q)
    for p, q in zip(ours.chunk(3, 1), ref.chunk(3, 1)):
        same(p, q)
    same(gradfit.stack([ours, ours], 2), torch.stack([ref, ref], 2))
    same(ours.unsqueeze(1).expand(4, 3, 5), ref.unsqueeze(1).expand(4, 3, 5))


def test_errors_name_values():
    with pytest.raises(RuntimeError, match=r"shape '\[7\]' is invalid for input of size 6"):
        gradfit.zeros(2, 3).reshape(7)
    with pytest.raises(IndexError, match="Dimension out of range"):
        gradfit.zeros(2, 3).sum(dim=2)
    with pytest.raises(
        RuntimeError,
        match="Sizes of tensors must match except in dimension 0. Expected size 3 but got size 4",
    ):
        gradfit.cat([gradfit.zeros(2, 3), gradfit.zeros(2, 4)])
    with pytest.raises(TypeError, match="unknown dtype"):
        gradfit.zeros(2, dtype="complex256")
