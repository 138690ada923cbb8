"""Semantics of the tensor operations of issue 13 that the registry's gradcheck and
parity sweep do not reach: index outputs, orders with ties and NaN, dtype promotion,
in-place forms, errors, and the named tuples they return. Compared with PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gradfit


def _both(arr):
    return gradfit.tensor(arr), torch.tensor(arr)


def _eq(ours, ref):
    assert ours.dtype == np.dtype(str(ref.dtype).replace("torch.", "")), (ours.dtype, ref.dtype)
    np.testing.assert_array_equal(np.asarray(ours.detach().numpy()), ref.detach().numpy())


TIES = np.array([[3.0, 1.0, 3.0, np.nan, -0.0, 1.0], [0.0, 2.0, np.nan, 2.0, 0.0, -1.0]])


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize(
    "arr",
    [TIES, TIES.astype(np.float32), np.array([[3, 1, 3, -5, 1, 7]]), np.array([True, False, True])],
    ids=["f64", "f32", "int", "bool"],
)
def test_sort_and_argsort_stable_with_ties_and_nan(arr, descending):
    ours, ref = _both(arr)
    s, r = (
        gradfit.sort(ours, descending=descending),
        torch.sort(ref, descending=descending, stable=True),
    )
    _eq(s.values, r.values)
    _eq(s.indices, r.indices)
    _eq(ours.argsort(descending=descending), ref.argsort(descending=descending, stable=True))


@pytest.mark.parametrize("fn", ["topk", "sort", "max", "min", "kthvalue"])
def test_return_types_are_named_tuples_printed_as_pytorch(fn):
    ours, ref = _both(np.array([[4, 1, 3], [0, 5, 2]]))
    args = {"topk": (2,), "kthvalue": (2,)}.get(fn, (1,) if fn in ("max", "min") else ())
    a, b = getattr(ours, fn)(*args), getattr(ref, fn)(*args)
    assert isinstance(a, tuple) and type(a).__name__ == type(b).__name__
    assert a._fields if hasattr(a, "_fields") else True
    _eq(a.values, b.values)
    _eq(a.indices, b.indices)
    values, indices = a
    _eq(values, b[0])
    assert repr(a) == repr(b).replace("torch.", "gradfit.")


def test_topk_largest_and_smallest_match_torch():
    rng = np.random.default_rng(0)
    ours, ref = _both(rng.standard_normal((4, 7)))
    for dim in (0, 1, -1):
        for largest in (True, False):
            k = 3
            a, b = ours.topk(k, dim, largest), ref.topk(k, dim, largest)
            _eq(a.values, b.values)
            _eq(a.indices, b.indices)
    with pytest.raises(RuntimeError, match="k=8 out of range"):
        ours.topk(8)


def test_where_forms_and_promotion_match_torch():
    arr = np.array([[1.5, -2.0], [0.0, 3.0]], dtype=np.float32)
    ours, ref = _both(arr)
    for a, b in [(1.0, 0.0), (1, 0), (True, False), (1, 0.5)]:
        _eq(gradfit.where(ours > 0, a, b), torch.where(ref > 0, a, b))
    _eq(gradfit.where(ours > 0, ours, 2), torch.where(ref > 0, ref, 2))
    _eq(gradfit.where(ours > 0, ours, ours.double()), torch.where(ref > 0, ref, ref.double()))
    i_ours, i_ref = _both(np.array([1, 2, 3]))
    _eq(gradfit.where(i_ours > 1, i_ours, 0.5), torch.where(i_ref > 1, i_ref, 0.5))
    for x, y in zip(gradfit.where(ours > 0), torch.where(ref > 0)):
        _eq(x, y)
    _eq(ours.where(ours > 0, -ours), ref.where(ref > 0, -ref))
    with pytest.raises(RuntimeError, match="boolean"):
        gradfit.where(ours, ours, ours)


def test_nonzero_matches_torch():
    ours, ref = _both(np.array([[0, 1, 0], [2, 0, 3]]))
    _eq(ours.nonzero(), ref.nonzero())
    for a, b in zip(gradfit.nonzero(ours, as_tuple=True), torch.nonzero(ref, as_tuple=True)):
        _eq(a, b)
    _eq(gradfit.tensor(5).nonzero(), torch.tensor(5).nonzero())


def test_masked_fill_forms_and_errors():
    arr = np.arange(6.0).reshape(2, 3)
    ours, ref = _both(arr)
    m_ours, m_ref = _both(np.array([True, False, True]))
    _eq(ours.masked_fill(m_ours, -1), ref.masked_fill(m_ref, -1))
    _eq(
        gradfit.masked_fill(ours, m_ours, gradfit.tensor(2.5)),
        ref.masked_fill(m_ref, torch.tensor(2.5)),
    )
    ours.masked_fill_(m_ours, 7.0)
    ref.masked_fill_(m_ref, 7.0)
    _eq(ours, ref)
    with pytest.raises(RuntimeError, match="boolean mask"):
        ours.masked_fill(gradfit.tensor([1, 0, 1]), 0.0)
    with pytest.raises(RuntimeError, match="0-dimensional value"):
        ours.masked_fill(m_ours, gradfit.tensor([1.0]))


def test_masked_fill_tensor_value_gets_gradient():
    x = gradfit.tensor([1.0, -2.0, 3.0], requires_grad=True)
    v = gradfit.tensor(0.5, requires_grad=True)
    (x.masked_fill(x > 0, v) * gradfit.tensor([1.0, 2.0, 3.0])).sum().backward()
    xt = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
    vt = torch.tensor(0.5, requires_grad=True)
    (xt.masked_fill(xt > 0, vt) * torch.tensor([1.0, 2.0, 3.0])).sum().backward()
    _eq(x.grad, xt.grad)
    _eq(v.grad, vt.grad)


def test_scatter_forms_match_torch():
    arr = np.zeros((3, 4))
    ours, ref = _both(arr)
    idx = np.array([[0, 2, 1, 0], [2, 0, 0, 1]])
    src = np.arange(8.0).reshape(2, 4)
    io, ir = _both(idx)
    so, sr = _both(src)
    _eq(ours.scatter(0, io, so), ref.scatter(0, ir, sr))
    _eq(ours.scatter(0, io, 9.0), ref.scatter(0, ir, 9.0))
    _eq(ours.scatter(0, io, so, reduce="add"), ref.scatter(0, ir, sr, reduce="add"))
    _eq(
        (ours + 2).scatter(0, io, so, reduce="multiply"),
        (ref + 2).scatter(0, ir, sr, reduce="multiply"),
    )
    _eq(gradfit.scatter_add(ours, 0, io, so), torch.scatter_add(ref, 0, ir, sr))
    ours.scatter_add_(0, io, so)
    ref.scatter_add_(0, ir, sr)
    _eq(ours, ref)
    ours.scatter_(1, io, so)
    ref.scatter_(1, ir, sr)
    _eq(ours, ref)
    with pytest.raises(IndexError, match="out of bounds"):
        ours.scatter(0, gradfit.tensor([[3]]), 1.0)
    with pytest.raises(RuntimeError, match="int64"):
        ours.scatter(0, gradfit.tensor([[0]], dtype=gradfit.int32), 1.0)
    x = gradfit.zeros(3, requires_grad=True)
    y = x.scatter(0, gradfit.tensor([1]), gradfit.tensor([2.0]), reduce="add")
    with pytest.raises(RuntimeError, match="not implemented"):
        y.sum().backward()


def test_gather_index_select_index_add_match_torch():
    rng = np.random.default_rng(1)
    arr = rng.standard_normal((3, 5))
    ours, ref = _both(arr)
    io, ir = _both(np.array([[4, 0], [1, 1]]))
    _eq(ours.gather(1, io), ref.gather(1, ir))
    with pytest.raises(IndexError, match="index 5 is out of bounds"):
        ours.gather(1, gradfit.tensor([[5]]))
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        ours.gather(1, gradfit.tensor([1]))
    vo, vr = _both(np.array([2, 0, 2]))
    _eq(ours.index_select(1, vo), ref.index_select(1, vr))
    _eq(gradfit.index_select(ours, 0, vo), torch.index_select(ref, 0, vr))
    so, sr = _both(np.ones((3, 3)))
    _eq(ours.index_add(1, vo, so, alpha=2), ref.index_add(1, vr, sr, alpha=2))
    ours.index_add_(0, vo, gradfit.ones(3, 5, dtype=gradfit.float64))
    ref.index_add_(0, vr, torch.ones(3, 5, dtype=torch.float64))
    _eq(ours, ref)


def test_cumsum_and_cumprod_dtypes_and_float32_bits():
    rng = np.random.default_rng(2)
    arr = rng.standard_normal((40, 300)).astype(np.float32)
    ours, ref = _both(arr)
    for d in (0, 1):
        _eq(ours.cumsum(d), ref.cumsum(d))
        _eq((ours * 0.01 + 1).cumprod(d), (ref * 0.01 + 1).cumprod(d))
    io, ir = _both(np.array([[True, False], [True, True]]))
    _eq(io.cumsum(0), ir.cumsum(0))
    _eq(gradfit.cumsum(io, 1, dtype=gradfit.float64), torch.cumsum(ir, 1, dtype=torch.float64))
    _eq(gradfit.cumprod(io.int(), 1), torch.cumprod(ir.int(), 1))


@pytest.mark.parametrize(
    "row",
    [[2.0, 0.0, 3.0, 4.0], [0.0, 2.0, 0.0, 5.0], [1.5, 2.0, 3.0, 0.0], [0.0, 0.0, 0.0, 1.0]],
)
def test_cumprod_gradient_with_zeros_matches_torch(row):
    w = np.array([0.3, -1.2, 0.7, 2.0])
    x = gradfit.tensor(np.array(row), requires_grad=True)
    xt = torch.tensor(np.array(row), requires_grad=True)
    (x.cumprod(0) * gradfit.tensor(w)).sum().backward()
    (xt.cumprod(0) * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_tril_triu_match_torch_and_reject_1d():
    arr = np.arange(24.0).reshape(2, 3, 4)
    ours, ref = _both(arr)
    for k in (-2, -1, 0, 1, 3):
        _eq(ours.tril(k), ref.tril(k))
        _eq(gradfit.triu(ours, k), torch.triu(ref, k))
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        gradfit.tril(gradfit.ones(3))


def test_setitem_without_graph_writes_through_views():
    x = gradfit.zeros(2, 3)
    row = x[1]
    row[gradfit.tensor([0, 2])] = 5.0
    xt = torch.zeros(2, 3)
    rt = xt[1]
    rt[torch.tensor([0, 2])] = 5.0
    _eq(x, xt)


def test_setitem_on_a_leaf_that_requires_grad_is_refused():
    x = gradfit.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        x[0] = 1.0
    with gradfit.no_grad():
        x[0] = 1.0
    assert x.tolist() == [1.0, 0.0, 0.0]


def test_setitem_records_value_gradient_into_plain_tensor():
    v = gradfit.tensor([1.0, 2.0], requires_grad=True)
    y = gradfit.zeros(3, 2)
    y[1] = v
    assert y.requires_grad and y.grad_fn is not None
    (y * gradfit.tensor([[1.0, 1.0], [3.0, 4.0], [1.0, 1.0]])).sum().backward()
    assert v.grad.tolist() == [3.0, 4.0]
