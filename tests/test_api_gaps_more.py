"""The *_copy forms, as_strided_scatter, resize_/resize_as_, new_empty_strided,
resolve_neg and svd_lowrank/pca_lowrank against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import gradfit
from tests.api_gaps_state import _default_state, _torch  # noqa: F401 - autouse fixture

R = np.random.default_rng(3)

COPIES = [
    ("view_copy", lambda L, x: L.view_copy(x, (4, 6))),
    ("permute_copy", lambda L, x: L.permute_copy(x, (2, 0, 1))),
    ("t_copy", lambda L, x: L.t_copy(x[0])),
    ("transpose_copy", lambda L, x: L.transpose_copy(x, 0, 2)),
    ("unsqueeze_copy", lambda L, x: L.unsqueeze_copy(x, 1)),
    ("squeeze_copy", lambda L, x: L.squeeze_copy(x[:, :1])),
    ("squeeze_copy_dim", lambda L, x: L.squeeze_copy(x[:, :1], 1)),
    ("select_copy", lambda L, x: L.select_copy(x, 1, 2)),
    ("slice_copy", lambda L, x: L.slice_copy(x, 2, 1, None, 2)),
    ("split_copy", lambda L, x: tuple(L.split_copy(x, 2, 2))),
    ("split_with_sizes_copy", lambda L, x: tuple(L.split_with_sizes_copy(x, [1, 2], 1))),
    ("unbind_copy", lambda L, x: tuple(L.unbind_copy(x, 0))),
    ("unfold_copy", lambda L, x: L.unfold_copy(x, 2, 2, 1)),
    ("expand_copy", lambda L, x: L.expand_copy(x[:, :1], (2, 3, 4))),
    ("diagonal_copy", lambda L, x: L.diagonal_copy(x, 1, 1, 2)),
    ("alias_copy", lambda L, x: L.alias_copy(x)),
    ("as_strided_copy", lambda L, x: L.as_strided_copy(x, (3, 2), (2, 5), 1)),
]


@pytest.mark.parametrize("name,fn", COPIES, ids=[c[0] for c in COPIES])
def test_copy_forms_match_torch(name, fn):
    torch = _torch()
    x = R.standard_normal((2, 3, 4))
    res = []
    for lib in (gradfit, torch):
        t = lib.tensor(x, requires_grad=True)
        out = fn(lib, t)
        outs = out if isinstance(out, tuple) else (out,)
        vals = [o.detach().numpy().copy() for o in outs]
        grads = None
        if any(o.requires_grad for o in outs):
            loss = sum(
                (o * lib.tensor(np.cos(np.arange(o.numel())).reshape(tuple(o.shape)))).sum()
                for o in outs
            )
            (grads,) = lib.autograd.grad(loss, [t])
            grads = grads.numpy()
        for o in outs:  # a copy: writing it leaves the input alone
            with lib.no_grad():
                o.view(-1)[0] = 1234.5
        assert not (t.detach().numpy() == 1234.5).any()
        res.append((vals, grads))
    (gv, gg), (tv, tg) = res
    assert len(gv) == len(tv)
    for a, b in zip(gv, tv):
        assert a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    assert (gg is None) == (tg is None)
    if gg is not None:
        np.testing.assert_allclose(gg, tg, rtol=1e-12, atol=1e-12)


def test_detach_copy():
    torch = _torch()
    x = R.standard_normal((2, 3))
    g, t = (lib.detach_copy(lib.tensor(x)) for lib in (gradfit, torch))
    np.testing.assert_array_equal(g.numpy(), t.numpy())


@pytest.mark.parametrize(
    "size,stride,offset", [((2, 2), (1, 4), 2), ((3,), (5,), None), ((2, 3), (6, 1), 1)]
)
def test_as_strided_scatter(size, stride, offset):
    """Values and src's gradient as PyTorch's; input's gradient is the output gradient with
    the overwritten positions zeroed (the derivative; PyTorch 2.13's eager formula keeps
    those positions instead, a known weak spot of its as_strided_scatter backward)."""
    torch = _torch()
    x = R.standard_normal((2, 3, 4))
    src = R.standard_normal(size)
    w = np.cos(np.arange(24.0)).reshape(2, 3, 4)
    res = []
    for lib in (gradfit, torch):
        t, s = lib.tensor(x, requires_grad=True), lib.tensor(src, requires_grad=True)
        out = lib.as_strided_scatter(t, s, size, stride, offset)
        out2 = t.detach().as_strided_scatter(s.detach(), size, stride, offset)
        gt, gs = lib.autograd.grad((out * lib.tensor(w)).sum(), [t, s])
        res.append((out.detach().numpy(), out2.numpy(), gs.numpy(), gt.numpy()))
    for a, b in zip(res[0][:3], res[1][:3]):
        np.testing.assert_array_equal(a, b)
    mask = res[0][0] != x  # the positions src overwrote (src differs from x there)
    np.testing.assert_array_equal(res[0][3], np.where(mask, 0.0, w))
    with pytest.raises(RuntimeError):
        gradfit.as_strided_scatter(gradfit.zeros(4), gradfit.zeros(2), (2,), (1,), 3)


def test_resize():
    torch = _torch()
    out = []
    for lib in (gradfit, torch):
        x = lib.arange(6.0)
        y = x.resize_(2, 2)
        assert y is x
        first = x.numpy().copy()
        x.resize_((2, 3))  # grows back over the elements it kept
        second = x.numpy().copy()
        z = lib.zeros(5).resize_as_(lib.ones(2, 2))
        out.append((first, second, tuple(z.shape), z.numpy().copy()))
        with pytest.raises(RuntimeError) as e:
            lib.ones(2, requires_grad=True).resize_(3)
        out.append(str(e.value))
    for a, b in zip(out[0], out[2]):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert out[1] == out[3]


def test_new_empty_strided_and_resolve_neg():
    torch = _torch()
    for lib in (gradfit, torch):
        base = lib.ones(2, dtype=lib.float64)
        e = base.new_empty_strided((2, 3), (1, 2))
        assert e.stride() == (1, 2) and e.dtype == lib.float64
        assert base.resolve_neg() is base


@pytest.mark.parametrize(
    "shape,q,kw", [((8, 5), 3, {}), ((4, 9), 2, {"niter": 0}), ((2, 6, 4), 4, {})]
)
def test_svd_lowrank_same_draws(shape, q, kw):
    """Same seed, same random basis: S agrees to rounding; U and V agree up to each
    singular pair's sign (LAPACK builds may choose it differently), so U S V^T agrees."""
    torch = _torch()
    a = R.standard_normal(shape)
    res = []
    for lib in (gradfit, torch):
        lib.manual_seed(11)
        u, s, v = lib.svd_lowrank(lib.tensor(a), q, **kw)
        res.append((u.numpy(), s.numpy(), v.numpy()))
    (gu, gs, gv), (tu, ts, tv) = res
    np.testing.assert_allclose(gs, ts, rtol=1e-10, atol=1e-12)
    sign = np.sign(np.sum(gu * tu, axis=-2, keepdims=True))
    np.testing.assert_allclose(gu * sign, tu, atol=1e-9)
    np.testing.assert_allclose(gv * sign, tv, atol=1e-9)


def test_pca_lowrank():
    torch = _torch()
    a = R.standard_normal((10, 4))
    res = []
    for lib in (gradfit, torch):
        lib.manual_seed(5)
        u, s, v = lib.pca_lowrank(lib.tensor(a))
        lib.manual_seed(5)
        _, s2, _ = lib.pca_lowrank(lib.tensor(a), q=2, center=False)
        res.append((s.numpy(), s2.numpy(), (u @ lib.diag(s) @ v.mT).numpy()))
        with pytest.raises(ValueError) as e:
            lib.pca_lowrank(lib.tensor(a), q=7)
        res[-1] += (str(e.value),)
    for a_, b_ in zip(res[0][:3], res[1][:3]):
        np.testing.assert_allclose(a_, b_, rtol=1e-10, atol=1e-10)
    assert res[0][3] == res[1][3]


def test_histogramdd():
    torch = _torch()
    x = R.standard_normal((60, 2))
    for kw in (
        {"bins": [3, 4]},
        {"bins": 3, "range": [-1.0, 1.0, -2.0, 2.0]},
        {"bins": 2, "density": True},
    ):
        g, t = (lib.histogramdd(lib.tensor(x), **kw) for lib in (gradfit, torch))
        np.testing.assert_allclose(g.hist.numpy(), t.hist.numpy(), rtol=1e-12)
        assert len(g.bin_edges) == len(t.bin_edges) == 2
        for a, b in zip(g.bin_edges, t.bin_edges):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-14)
        assert type(g).__name__ == type(t).__name__ == "histogramdd"


def test_set_and_subclass():
    torch = _torch()
    for lib in (gradfit, torch):
        a, b = lib.ones(3), lib.arange(4.0)
        assert a.set_() is a and tuple(a.shape) == (0,)
        a.set_(b)
        assert a.is_set_to(b) and not lib.ones(2).is_set_to(lib.ones(2))
        a[0] = 7.0
        assert float(b[0]) == 7.0

        class Sub(lib.Tensor):
            pass

        x = lib.ones(2, requires_grad=True) * 2
        y = x.as_subclass(Sub)
        assert type(y) is Sub and y.grad_fn is not None
        (g,) = lib.autograd.grad((y * 3).sum(), [x])
        assert g.tolist() == [3.0, 3.0]
