"""Parity with PyTorch for the index-valued functions of ``gradfit._tensorops_more``
(searchsorted, bucketize, isin, tril/triu_indices, logspace) and PyTorch's errors on bad
shapes for the shape and linear-algebra functions. The differentiable ones are checked
through the op registry (tests/engine/registry_shape_more.py)."""

from __future__ import annotations

import numpy as np
import pytest

import gradfit

rng = np.random.default_rng(7)


def _torch():
    import torch  # parity tests fail, not skip, without torch

    return torch


def _same(a, b):
    got = gradfit._arrays.unwrap(b)
    want = a.numpy()
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


def _both(fn, *arrays):
    torch = _torch()
    return fn(torch, *[torch.tensor(x) for x in arrays]), fn(
        gradfit, *[gradfit.tensor(x) for x in arrays]
    )


# values on and between the boundaries, ties included: left/right differ there
SEQ = np.array([-1.0, 0.0, 0.0, 0.5, 2.0])
VALS = np.array([[-2.0, 0.0, 0.25], [0.5, 2.0, 3.0]])


@pytest.mark.parametrize(
    "call",
    [
        lambda L, s, v: L.searchsorted(s, v),
        lambda L, s, v: L.searchsorted(s, v, right=True),
        lambda L, s, v: L.searchsorted(s, v, side="right", out_int32=True),
        lambda L, s, v: L.searchsorted(s, 0.0),
        lambda L, s, v: L.searchsorted(s.flip(0), v, sorter=L.tensor([4, 3, 2, 1, 0])),
        lambda L, s, v: L.bucketize(v, s),
        lambda L, s, v: L.bucketize(v, s, right=True),
        lambda L, s, v: L.isin(v, s),
        lambda L, s, v: L.isin(v, s, invert=True),
        lambda L, s, v: L.isin(v, 0.5),
    ],
)
def test_search_parity(call):
    _same(*_both(call, SEQ, VALS))


def test_searchsorted_rows():
    seq = np.sort(rng.standard_normal((2, 3, 5)), axis=-1)
    vals = rng.standard_normal((2, 3, 4))
    _same(*_both(lambda L, s, v: L.searchsorted(s, v), seq, vals))
    _same(*_both(lambda L, s, v: L.searchsorted(s, v, side="right"), seq, seq))


@pytest.mark.parametrize("row,col,offset", [(4, 3, 0), (3, 5, 1), (4, 4, -2), (0, 3, 0), (3, 2, 5)])
def test_tri_indices_parity(row, col, offset):
    torch = _torch()
    _same(torch.tril_indices(row, col, offset), gradfit.tril_indices(row, col, offset))
    _same(torch.triu_indices(row, col, offset), gradfit.triu_indices(row, col, offset))


def test_logspace_parity():
    torch = _torch()
    for args, kw in [((-1, 2, 5), {}), ((0, 3, 4), {"base": 2.0}), ((1, 1, 1), {})]:
        a = torch.logspace(*args, dtype=torch.float64, **kw)
        b = gradfit.logspace(*args, dtype=gradfit.float64, **kw)
        np.testing.assert_allclose(gradfit._arrays.unwrap(b), a.numpy(), rtol=1e-12)


def _errors_alike(call, *arrays):
    torch = _torch()
    with pytest.raises(Exception) as want:
        call(torch, *[torch.tensor(x) for x in arrays])
    with pytest.raises(Exception) as got:
        call(gradfit, *[gradfit.tensor(x) for x in arrays])
    assert type(got.value) is type(want.value), (got.value, want.value)


@pytest.mark.parametrize(
    "call,shapes",
    [
        (lambda L, s, v: L.searchsorted(s, v), [(2, 5), (3, 4)]),
        (lambda L, s, v: L.searchsorted(s, v, right=True, side="left"), [(5,), (3,)]),
        (lambda L, b, x: L.bucketize(x, b), [(2, 3), (4,)]),
        (lambda L, i, a, b: L.addmm(i, a, b), [(3,), (2, 4), (3, 3)]),
        (lambda L, i, a, b: L.addmm(i, a, b), [(5,), (2, 4), (4, 3)]),
        (lambda L, a, v: L.mv(a, v), [(2, 4), (3,)]),
        (lambda L, i, a, b: L.baddbmm(i, a, b), [(3, 5), (2, 3, 4), (3, 4, 5)]),
        (lambda L, a, b: L.tensordot(a, b, dims=([0], [0])), [(2, 3), (3, 2)]),
        (lambda L, a, b: L.inner(a, b), [(2, 3), (2, 4)]),
        (lambda L, a, b: L.vdot(a, b), [(3,), (4,)]),
        (lambda L, a, b: L.cross(a, b, dim=0), [(2, 3), (2, 3)]),
        (lambda L, a, b: L.diff(a, prepend=b), [(2, 3), (3,)]),
        (lambda L, a: L.movedim(a, (0, 1), (1,)), [(2, 3)]),
        (lambda L, a: L.movedim(a, (0, 0), (1, 2)), [(2, 3, 4)]),
        (lambda L, a: L.select(a, 1, 3), [(2, 3)]),
        (lambda L, a: L.take(a, L.tensor([6])), [(2, 3)]),
        (lambda L, a: a.unflatten(1, (2, 2)), [(2, 6)]),
        (lambda L, a, b: L.hstack([a, b]), [(2, 3), (3, 3)]),
        (lambda L, a: L.hsplit(a, 3), [(2, 4)]),
        (lambda L, a: L.vsplit(a, 2), [(4,)]),
        (lambda L, a: L.dsplit(a, 2), [(2, 4)]),
        (lambda L, a, b: L.broadcast_tensors(a, b), [(2, 3), (4,)]),
        (lambda L, a: L.combinations(a), [(2, 3)]),
        (lambda L, a: L.cov(a), [(2, 3, 4)]),
        (lambda L, a: L.vander(a), [(2, 3)]),
    ],
)
def test_bad_shapes_raise_like_torch(call, shapes):
    _errors_alike(call, *[rng.standard_normal(s) for s in shapes])


@pytest.mark.parametrize("n,increasing", [(None, False), (2, True), (4, False), (3, True)])
def test_vander_forward_and_gradients(n, increasing):
    """Forward parity with torch.vander; gradients against PyTorch on the closed form
    ``x ** k`` (torch.vander's own backward fails with an in-place error in PyTorch 2.13),
    and gradcheck / gradgradcheck in float64."""
    torch = _torch()
    x = rng.uniform(0.5, 1.5, size=3) * rng.choice([-1.0, 1.0], size=3)
    w = rng.standard_normal((3, 3 if n is None else n))
    got = gradfit.tensor(x, requires_grad=True)
    out = gradfit.vander(got, N=n, increasing=increasing)
    want = torch.vander(torch.tensor(x), N=n, increasing=increasing)
    np.testing.assert_allclose(gradfit._arrays.unwrap(out), want.numpy(), rtol=1e-12)
    (out * gradfit.tensor(w)).sum().backward()
    ref = torch.tensor(x, requires_grad=True)
    cols = w.shape[1]
    powers = torch.arange(cols) if increasing else torch.arange(cols - 1, -1, -1)
    (ref.unsqueeze(1) ** powers * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(gradfit._arrays.unwrap(got.grad), ref.grad.numpy(), rtol=1e-10)
    f = lambda t: gradfit.vander(t, N=n, increasing=increasing)  # noqa: E731
    assert gradfit.autograd.gradcheck(f, (gradfit.tensor(x, requires_grad=True),))
    assert gradfit.autograd.gradgradcheck(f, (gradfit.tensor(x, requires_grad=True),))


@pytest.mark.parametrize(
    "call,shapes",
    [
        (lambda L, i, a, b: i.addmm_(a, b, beta=0.5, alpha=2.0), [(2, 3), (2, 4), (4, 3)]),
        (lambda L, i, a, b: i.addmv_(a, b, alpha=3.0), [(2,), (2, 4), (4,)]),
        (lambda L, i, a, b: i.baddbmm_(a, b), [(2, 3, 5), (2, 3, 4), (2, 4, 5)]),
        (lambda L, i, a, b: i.addbmm_(a, b, beta=2.0), [(3, 5), (2, 3, 4), (2, 4, 5)]),
    ],
)
def test_inplace_products_match_torch(call, shapes):
    """The in-place forms write into a non-leaf and pass gradients to all three inputs."""
    torch = _torch()
    arrays = [rng.standard_normal(s) for s in shapes]
    results = []
    for lib in (torch, gradfit):
        xs = [lib.tensor(x, requires_grad=True) for x in arrays]
        y = xs[0] * 1.0
        out = call(lib, y, *xs[1:])
        assert out is y
        (y * y).sum().backward()
        results.append([y.detach().numpy()] + [x.grad.numpy() for x in xs])
    for want, got in zip(*results, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-10)


def test_out_keyword():
    torch = _torch()
    i, a, b = (rng.standard_normal(s) for s in [(3,), (2, 4), (4, 3)])
    want = torch.addmm(torch.tensor(i), torch.tensor(a), torch.tensor(b))
    out = gradfit.empty(2, 3, dtype=gradfit.float64)
    res = gradfit.addmm(gradfit.tensor(i), gradfit.tensor(a), gradfit.tensor(b), out=out)
    assert res is out
    np.testing.assert_allclose(gradfit._arrays.unwrap(out), want.numpy(), rtol=1e-12)
    seq, vals = gradfit.tensor(SEQ), gradfit.tensor(VALS)
    idx = gradfit.empty(2, 3, dtype=gradfit.int64)
    assert gradfit.searchsorted(seq, vals, out=idx) is idx
    _same(torch.searchsorted(torch.tensor(SEQ), torch.tensor(VALS)), idx)
