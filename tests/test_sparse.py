"""Sparse COO tensors against PyTorch: creation, printing, coalescing, the maths and its
gradients (dense ones to the dense operand and the values, sparse ones where PyTorch
gives them), ``Embedding(sparse=True)``, and the optimizers that take (or refuse)
sparse gradients. PyTorch is imported at test time: these tests fail without it."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gradfit
from tests.compat._normalise import as_gradfit


@pytest.fixture(scope="module")
def torch():
    import torch

    warnings.filterwarnings("ignore", "Sparse invariant checks")
    return torch


def _both(torch, fn):
    """fn(lib) under gradfit and under PyTorch."""
    return fn(gradfit), fn(torch)


def _dense(t):
    t = t.detach()
    return (t.to_dense() if t.is_sparse else t).numpy()


def _same(ours, ref, rtol=1e-6):
    assert ours.is_sparse == ref.is_sparse
    assert tuple(ours.shape) == tuple(ref.shape)
    np.testing.assert_allclose(_dense(ours), _dense(ref), rtol=rtol, atol=rtol * 1e-2)


def _same_repr(ours, ref):
    assert repr(ours) == as_gradfit(repr(ref))


IDX = [[0, 1, 1, 0], [2, 0, 2, 2]]  # (0, 2) twice: an uncoalesced tensor
VALS = [3.0, 4.0, 5.0, -1.5]


def _coo(lib, dtype=None, requires_grad=False, **kw):
    v = lib.tensor(VALS, dtype=dtype, requires_grad=requires_grad)
    return lib.sparse_coo_tensor(lib.tensor(IDX), v, (2, 3), **kw), v


# ----------------------------------------------------------------------------- creation
def test_printing_matches_pytorch(torch):
    cases = [
        lambda lib: _coo(lib)[0],
        lambda lib: _coo(lib, requires_grad=True)[0],
        lambda lib: _coo(lib, dtype=lib.float64, requires_grad=True)[0],
        lambda lib: _coo(lib)[0].coalesce(),
        lambda lib: _coo(lib, requires_grad=True)[0] * 2,
        lambda lib: lib.tensor([[0.0, 1.5], [-2.0, 0.0]]).to_sparse().requires_grad_(),
        lambda lib: lib.tensor([[0.0, 1.5]], requires_grad=True).to_sparse(),
        lambda lib: lib.sparse_coo_tensor(lib.zeros(2, 0, dtype=lib.int64), lib.zeros(0), (2, 2)),
        lambda lib: lib.sparse_coo_tensor([[0, 2]], [[1.0, 2.0], [3.0, 4.0]]),
        lambda lib: lib.sparse_coo_tensor([[0, 1], [1, 1]], [1, 2]),
        lambda lib: lib.sparse_coo_tensor(
            [[0, 1], [1, 1]], [1.0, 2], dtype=lib.float64, requires_grad=True
        ),
        lambda lib: lib.arange(30.0).reshape(5, 6).to_sparse(),
    ]
    for case in cases:
        _same_repr(*_both(torch, case))


def test_facts_match_pytorch(torch):
    for make in (
        lambda lib: _coo(lib)[0],
        lambda lib: _coo(lib)[0].coalesce(),
        lambda lib: lib.sparse_coo_tensor([[0], [1]], [2.0], (2, 2)),
        lambda lib: lib.tensor([[0.0, 1.0], [2.0, 0.0]]).to_sparse(),
        lambda lib: lib.sparse_coo_tensor([[0, 2]], [[1.0, 2.0], [3.0, 4.0]]),
    ):
        ours, ref = _both(torch, make)
        assert ours.is_sparse and ref.is_sparse
        assert repr(ours.layout) == as_gradfit(repr(ref.layout))
        assert ours.is_coalesced() == ref.is_coalesced()
        assert (ours._nnz(), ours.sparse_dim(), ours.dense_dim()) == (
            ref._nnz(),
            ref.sparse_dim(),
            ref.dense_dim(),
        )
        assert tuple(ours.shape) == tuple(ref.shape)
        assert repr(ours.dtype) == as_gradfit(repr(ref.dtype))
        assert ours.stride() == ref.stride() and ours.is_contiguous() == ref.is_contiguous()
        for a, b in ((ours.clone(), ref.clone()), (ours.double(), ref.double())):
            _same_repr(a, b)
        np.testing.assert_array_equal(ours._indices().numpy(), ref._indices().numpy())
        np.testing.assert_array_equal(ours._values().numpy(), ref._values().numpy())
        _same(ours, ref)
    dense = gradfit.ones(2)
    assert not dense.is_sparse and repr(dense.layout) == "gradfit.strided"
    assert dense.to_dense() is dense


def test_coalesce_matches_pytorch(torch):
    ours, ref = _both(torch, lambda lib: _coo(lib)[0].coalesce())
    np.testing.assert_array_equal(ours.indices().numpy(), ref.indices().numpy())
    np.testing.assert_array_equal(ours.values().detach().numpy(), ref.values().numpy())
    assert ours.coalesce() is ours  # as PyTorch: a coalesced tensor is returned itself
    # size inferred from the indices, values' trailing dims
    ours, ref = _both(torch, lambda lib: lib.sparse_coo_tensor([[3, 0, 3]], [[1.0], [2], [3]]))
    _same(ours, ref)


def _error(fn, lib):
    with pytest.raises(Exception) as info:
        fn(lib)
    return info.type, str(info.value)


def test_errors_match_pytorch(torch):
    s = lambda lib: _coo(lib)[0]  # noqa: E731
    cases = [
        lambda lib: s(lib).indices(),
        lambda lib: s(lib).values(),
        lambda lib: lib.ones(2).indices(),
        lambda lib: lib.ones(2).values(),
        lambda lib: lib.ones(2).coalesce(),
        lambda lib: lib.ones(2).is_coalesced(),
        lambda lib: s(lib).numpy(),
        lambda lib: s(lib).tolist(),
        lambda lib: s(lib) + lib.ones(2, 3),
        lambda lib: lib.sparse.mm(s(lib), lib.ones(4, 2)),
        lambda lib: lib.sparse_coo_tensor([[0, 1]], [1.0, 2.0, 3.0], (2,)),
        lambda lib: lib.sparse_coo_tensor([[0, 1]], [1.0, 2.0], (2, 3)),
        lambda lib: lib.sparse_coo_tensor([0, 1], [1.0, 2.0], (2,)),
        lambda lib: lib.sparse_coo_tensor([[0, 3]], [1.0, 2.0], (2,), check_invariants=True),
        lambda lib: lib.sparse_coo_tensor([[0, -1]], [1.0, 2.0], (2,), check_invariants=True),
    ]
    for case in cases:
        ours, ref = _error(case, gradfit), _error(case, torch)
        assert ours == ref or (ours[0] is ref[0] and ours[1] == ref[1].split("\n")[0])


# ----------------------------------------------------------------------------- maths
def _grads_match(torch, fn, dense_shape=(3, 2), rtol=1e-6, dtype="float32"):
    """fn(lib, values, dense) -> tensor; output and gradients of values and dense."""
    rng = np.random.default_rng(0)
    d = rng.standard_normal(dense_shape).astype(dtype)
    w = None
    results, names = [], []
    for lib in (gradfit, torch):
        v = lib.tensor(np.array(VALS, dtype=dtype), requires_grad=True)
        x = lib.tensor(d, requires_grad=True)
        out = fn(lib, v, x)
        names.append(out.grad_fn.name())
        if w is None:
            w = rng.standard_normal(tuple(out.shape)).astype(dtype)
        dense_out = out.to_dense() if out.is_sparse else out
        (dense_out * lib.tensor(w)).sum().backward()
        results.append((out, v.grad, x.grad))
    (o1, v1, x1), (o2, v2, x2) = results
    _same(o1, o2, rtol)
    for a, b in ((v1, v2), (x1, x2)):
        assert (a is None) == (b is None)
        if a is not None:
            _same(a, b, rtol)
    assert names[0] == names[1]
    return results


def _s(lib, v):
    return lib.sparse_coo_tensor(lib.tensor(IDX), v, (2, 3))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_products_and_their_gradients_match_pytorch(torch, dtype):
    rtol = 1e-10 if dtype == "float64" else 1e-5
    fns = [
        lambda lib, v, x: lib.sparse.mm(_s(lib, v), x),
        lambda lib, v, x: _s(lib, v) @ x,
        lambda lib, v, x: lib.mm(_s(lib, v), x),
        lambda lib, v, x: lib.matmul(_s(lib, v), x),
        lambda lib, v, x: _s(lib, v).coalesce() @ x,
        lambda lib, v, x: (_s(lib, v) * 2.5).t().to_dense() @ x[:2],
        lambda lib, v, x: (_s(lib, v) + _s(lib, v * 2).coalesce()) @ x,
        lambda lib, v, x: lib.spmm(_s(lib, v), x),
        lambda lib, v, x: lib.sparse.addmm(x[:2] * 3, _s(lib, v), x, beta=0.5, alpha=2.0),
        lambda lib, v, x: x[:2] + _s(lib, v).to_dense() @ x,
    ]
    for fn in fns:
        _grads_match(torch, fn, rtol=rtol, dtype=dtype)
    _grads_match(torch, lambda lib, v, x: _s(lib, v) @ x[:, 0], rtol=rtol, dtype=dtype)


def test_sparse_operand_gradients_match_pytorch(torch):
    # torch.sparse.mm: a sparse gradient on the operand's pattern; mm/@: a dense one.
    d = np.random.default_rng(1).standard_normal((2, 3)).astype(np.float32)
    for op in ("sparse.mm", "@", "to_dense", "sparse.sum", "sparse.sum dim"):
        grads = []
        for lib in (gradfit, torch):
            a = lib.tensor([[0.0, 1.0], [2.0, 0.0]]).to_sparse().requires_grad_()
            x = lib.tensor(d)
            if op == "sparse.mm":
                lib.sparse.mm(a, x).sum().backward()
            elif op == "@":
                (a @ x).sum().backward()
            elif op == "to_dense":
                (a.to_dense() * lib.tensor(d[:, :2])).sum().backward()
            elif op == "sparse.sum":
                lib.sparse.sum(a).backward()
            else:
                (lib.sparse.sum(a, dim=1).to_dense() * lib.tensor([2.0, 3.0])).sum().backward()
            grads.append(a.grad)
        _same(*grads)
        _same_repr(*grads)


def test_sparse_sum_matches_pytorch(torch):
    for dim in (None, 0, 1, -1, (0, 1)):
        for make in (
            lambda lib: _coo(lib)[0],
            lambda lib: lib.sparse_coo_tensor([[0, 2, 0]], [[1.0, 2.0], [3, 4], [5, 6]]),
        ):
            s = make(gradfit), make(torch)
            if dim is None:
                ours, ref = gradfit.sparse.sum(s[0]), torch.sparse.sum(s[1])
            else:
                ours, ref = gradfit.sparse.sum(s[0], dim), torch.sparse.sum(s[1], dim)
            _same(ours, ref)
            _same_repr(ours, ref)


def test_add_and_transpose_keep_pytorchs_entries(torch):
    # sparse + sparse merges the entries in their stored order, as PyTorch's CPU kernel.
    u = lambda lib: lib.sparse_coo_tensor([[0, 0, 1]], [1.0, 2.0, 3.0], (3,))  # noqa: E731
    w = lambda lib: lib.sparse_coo_tensor([[2, 0]], [1.0, 2.0], (3,))  # noqa: E731
    for case in (
        lambda lib: u(lib) + u(lib),
        lambda lib: u(lib) + w(lib),
        lambda lib: u(lib).coalesce() + w(lib),
        lambda lib: u(lib) + w(lib).coalesce(),
        lambda lib: u(lib).coalesce() + w(lib).coalesce(),
        lambda lib: u(lib) - w(lib),
        lambda lib: _coo(lib)[0].t(),
        lambda lib: _coo(lib)[0].coalesce().t(),
        lambda lib: -_coo(lib)[0] / 2,
    ):
        ours, ref = _both(torch, case)
        _same_repr(ours, ref)
        assert ours.is_coalesced() == ref.is_coalesced()


# ----------------------------------------------------------------------------- embedding
def test_sparse_embedding_gradient_matches_pytorch(torch):
    for kw in ({}, {"padding_idx": 1}):
        grads = []
        for lib in (gradfit, torch):
            lib.manual_seed(0)
            emb = lib.nn.Embedding(5, 3, sparse=True, **kw)
            emb(lib.tensor([[1, 3], [1, 0]])).pow(2).sum().backward()
            # accumulates by PyTorch's sparse add (a merge of contiguous values)
            emb(lib.tensor([2, 3])).pow(3).sum().backward()
            grads.append(emb.weight.grad)
        _same(*grads)
        _same_repr(*grads)
    lib_grads = []
    for lib in (gradfit, torch):
        w = lib.ones(4, 2, requires_grad=True)
        lib.nn.functional.embedding(lib.tensor([3, 3, 0]), w, sparse=True).sum().backward()
        lib_grads.append(w.grad)
    _same_repr(*lib_grads)


def test_sparse_embedding_refuses_scale_grad_by_freq(torch):
    def fn(lib):
        emb = lib.nn.Embedding(5, 2, sparse=True, scale_grad_by_freq=True)
        emb(lib.tensor([1, 1])).sum().backward()

    assert _error(fn, gradfit) == _error(fn, torch)


# ----------------------------------------------------------------------------- optimizers
def _train(lib, make_opt, steps=4, extra_dense=False):
    lib.manual_seed(0)
    emb = lib.nn.Embedding(6, 3, sparse=True)
    params = list(emb.parameters())
    if extra_dense:
        head = lib.nn.Linear(3, 1)
        params = params + list(head.parameters())
    opt = make_opt(lib, params)
    batches = [[[1, 4], [1, 0]], [[2, 2], [5, 1]], [[3, 0], [0, 0]], [[1, 1], [4, 2]]]
    for b in batches[:steps]:
        opt.zero_grad()
        out = emb(lib.tensor(b))
        loss = (head(out).sum() if extra_dense else (out * out).sum()) + out.sum()
        loss.backward()
        opt.step()
    return [p.detach().numpy().copy() for p in params], opt


@pytest.mark.parametrize(
    "make",
    [
        lambda lib, p: lib.optim.SparseAdam(p, lr=0.1),
        lambda lib, p: lib.optim.SparseAdam(p, lr=0.05, betas=(0.8, 0.95), maximize=True),
        lambda lib, p: lib.optim.SGD(p, lr=0.1),
        lambda lib, p: lib.optim.SGD(p, lr=0.1, momentum=0.9),
        lambda lib, p: lib.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, maximize=True),
        lambda lib, p: lib.optim.SGD(p, lr=0.1, momentum=0.5, dampening=0.3),
        lambda lib, p: lib.optim.Adagrad(p, lr=0.1),
        lambda lib, p: lib.optim.Adagrad(p, lr=0.1, lr_decay=0.1, maximize=True),
    ],
)
def test_optimizers_with_sparse_gradients_match_pytorch(torch, make):
    ours, _ = _train(gradfit, make)
    ref, _ = _train(torch, make)
    for a, b in zip(ours, ref):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_sgd_and_adagrad_mix_sparse_and_dense_gradients(torch):
    for make in (
        lambda lib, p: lib.optim.SGD(p, lr=0.1, momentum=0.9),
        lambda lib, p: lib.optim.Adagrad(p, lr=0.1),
    ):
        ours, _ = _train(gradfit, make, extra_dense=True)
        ref, _ = _train(torch, make, extra_dense=True)
        for a, b in zip(ours, ref):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_optimizer_refusals_match_pytorch(torch):
    cases = [
        lambda lib: _train(lib, lambda lib, p: lib.optim.Adam(p), 1),
        lambda lib: _train(lib, lambda lib, p: lib.optim.AdamW(p), 1),
        lambda lib: _train(lib, lambda lib, p: lib.optim.RMSprop(p), 1),
        lambda lib: _train(lib, lambda lib, p: lib.optim.Adamax(p), 1),
        lambda lib: _train(lib, lambda lib, p: lib.optim.SGD(p, lr=0.1, weight_decay=0.1), 1),
        lambda lib: _train(lib, lambda lib, p: lib.optim.Adagrad(p, weight_decay=0.1), 1),
        lambda lib: _train(lib, lambda lib, p: lib.optim.SparseAdam(p), 1, extra_dense=True),
        lambda lib: lib.optim.SparseAdam([lib.nn.Parameter(lib.ones(2))], lr=-1.0),
        lambda lib: lib.optim.SparseAdam([lib.nn.Parameter(lib.ones(2))], eps=0.0),
        lambda lib: lib.optim.SparseAdam([lib.nn.Parameter(lib.ones(2))], betas=(1.0, 0.9)),
        lambda lib: lib.optim.SparseAdam([lib.nn.Parameter(lib.ones(2))], betas=(0.9, -0.1)),
    ]
    for case in cases:
        assert _error(case, gradfit) == _error(case, torch)


def test_sparse_adam_state_and_zero_grad(torch):
    _, ours = _train(gradfit, lambda lib, p: lib.optim.SparseAdam(p, lr=0.1), 2)
    _, ref = _train(torch, lambda lib, p: lib.optim.SparseAdam(p, lr=0.1), 2)
    (so,), (sr,) = ours.state.values(), ref.state.values()
    assert so["step"] == sr["step"] == 2
    np.testing.assert_allclose(so["exp_avg_sq"].numpy(), sr["exp_avg_sq"].numpy(), rtol=1e-6)
    # the state survives state_dict() / load_state_dict(), step an int as in PyTorch
    for lib, opt in ((gradfit, ours), (torch, ref)):
        params = opt.param_groups[0]["params"]
        again = lib.optim.SparseAdam(params, lr=0.1)
        again.load_state_dict(opt.state_dict())
        lib.nn.functional.embedding(lib.tensor([1, 5]), params[0], sparse=True).sum().backward()
        again.step()
        assert again.state[params[0]]["step"] == 3
    np.testing.assert_allclose(
        ours.param_groups[0]["params"][0].detach().numpy(),
        ref.param_groups[0]["params"][0].detach().numpy(),
        rtol=1e-5,
    )
    # zero_grad(set_to_none=False) empties a sparse gradient, as PyTorch's zero_()
    for opt in (ours, ref):
        opt.zero_grad(set_to_none=False)
    (po,), (pr,) = ours.param_groups[0]["params"], ref.param_groups[0]["params"]
    assert po.grad._nnz() == pr.grad._nnz() == 0
    assert po.grad.is_sparse and tuple(po.grad.shape) == tuple(pr.grad.shape)


def test_dense_tensors_stay_plain():
    # The sparse subclass appears only for sparse arrays; dense results are plain Tensors.
    x = gradfit.ones(2, 2, requires_grad=True)
    y = (x * 2).sum()
    assert type(x) is gradfit.Tensor and type(y) is gradfit.Tensor
    s = x.to_sparse()
    assert type(s).__name__ == "SparseTensor" and type(s.to_dense()) is gradfit.Tensor
