"""The legacy linear-algebra forms against PyTorch: torch.svd/Tensor.svd (V, some,
compute_uv), qr(some), lu/lu_unpack/lu_solve, cholesky_solve, cholesky_inverse,
triangular_solve, ger/addr, chain_matmul, frobenius_norm, nuclear_norm (values,
dtypes, gradients), and the removed functions raising PyTorch's error."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gradfit
from tests.api_gaps_state import _default_state, _torch  # noqa: F401 - autouse fixture


def _run(fn, arrays, grad=True):
    torch = _torch()
    results = []
    for lib in (gradfit, torch):
        ts = [lib.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = fn(lib, *ts)
        outs = out if isinstance(out, tuple) else (out,)
        values = [(o.detach().numpy(), str(o.dtype).split(".")[-1]) for o in outs]
        grads = []
        if grad and any(o.requires_grad for o in outs):
            loss = sum(
                (o * lib.tensor(np.cos(np.arange(o.numel())).reshape(tuple(o.shape)))).sum()
                for o in outs
                if o.requires_grad
            )
            grads = [g.numpy() for g in lib.autograd.grad(loss, [t for t in ts if t.requires_grad])]
        results.append((values, grads, type(out).__name__))
    return results


def _check(fn, arrays, tol=1e-9, grad=True):
    (gv, gg, gn), (tv, tg, tn) = _run(fn, arrays, grad)
    assert gn == tn
    for (a, da), (b, db) in zip(gv, tv, strict=True):
        assert da == db and a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
    for a, b in zip(gg, tg, strict=True):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


R = np.random.default_rng(0)


def _spd(n, batch=()):
    a = R.standard_normal(batch + (n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def _chol(n, batch=()):
    return np.linalg.cholesky(_spd(n, batch))


# sign-independent functions of the factors (svd and qr fix signs only up to a choice)
CASES = {
    "svd_some": (
        lambda L, a: (lambda u, s, v: (u.abs(), s, v.abs()))(*L.svd(a)),
        [R.standard_normal((4, 3))],
    ),
    "svd_full_tensor": (lambda L, a: a.svd(some=False)[1], [R.standard_normal((3, 5))]),
    "svd_rebuild": (
        lambda L, a: (lambda u, s, v: u @ L.diag_embed(s) @ v.mT)(*L.svd(a)),
        [R.standard_normal((2, 4, 3))],
    ),
    "svd_no_uv": (lambda L, a: L.svd(a, compute_uv=False)[1], [R.standard_normal((4, 3))]),
    "qr_some": (
        lambda L, a: (lambda q, r: (q @ r, r.abs()))(*L.qr(a)),
        [R.standard_normal((5, 3))],
    ),
    "qr_complete": (
        lambda L, a: (lambda q, r: (q @ r, r.abs()))(*a.qr(False)),
        [R.standard_normal((4, 4))],
    ),
    "lu": (lambda L, a: L.lu(a), [R.standard_normal((2, 4, 4))]),
    "lu_infos": (lambda L, a: L.lu(a, get_infos=True), [R.standard_normal((3, 3))]),
    "lu_unpack": (lambda L, a: L.lu_unpack(*L.lu(a)), [R.standard_normal((2, 4, 4))]),
    "lu_unpack_wide": (lambda L, a: L.lu_unpack(*a.lu()), [R.standard_normal((3, 5))]),
    "lu_unpack_tall": (lambda L, a: L.lu_unpack(*a.lu()), [R.standard_normal((5, 3))]),
    "lu_solve": (
        lambda L, a, b: L.lu_solve(b, *L.lu(a)),
        [R.standard_normal((4, 4)), R.standard_normal((4, 2))],
    ),
    "lu_solve_method": (
        lambda L, a, b: b.lu_solve(*L.lu(a)),
        [R.standard_normal((2, 3, 3)), R.standard_normal((2, 3, 2))],
    ),
    "cholesky_solve": (
        lambda L, b, u: L.cholesky_solve(b, u),
        [R.standard_normal((3, 2)), _chol(3)],
    ),
    "cholesky_solve_upper": (
        lambda L, b, u: b.cholesky_solve(u.mT, True),
        [R.standard_normal((2, 3, 2)), _chol(3, (2,))],
    ),
    "cholesky_inverse": (lambda L, u: L.cholesky_inverse(u), [_chol(4)]),
    "cholesky_inverse_upper": (lambda L, u: u.mT.cholesky_inverse(upper=True), [_chol(3)]),
    "triangular_solve": (
        lambda L, b, a: L.triangular_solve(b, a.triu()),
        [R.standard_normal((3, 2)), _chol(3).T],
    ),
    "triangular_solve_opts": (
        lambda L, b, a: b.triangular_solve(a, False, True, True),
        [R.standard_normal((2, 3, 2)), _chol(3, (2,))],
    ),
    "ger": (lambda L, a, b: L.ger(a, b), [R.standard_normal(3), R.standard_normal(4)]),
    "addr": (
        lambda L, m, a, b: L.addr(m, a, b, beta=0.5, alpha=2),
        [R.standard_normal((3, 4)), R.standard_normal(3), R.standard_normal(4)],
    ),
    "addr_method": (
        lambda L, m, a, b: m.addr(a, b),
        [R.standard_normal((3, 4)), R.standard_normal(3), R.standard_normal(4)],
    ),
    "chain_matmul": (
        lambda L, a, b, c: L.chain_matmul(a, b, c),
        [R.standard_normal((2, 3)), R.standard_normal((3, 4)), R.standard_normal((4, 2))],
    ),
    "chain_matmul_one": (lambda L, a: L.chain_matmul(a), [R.standard_normal((2, 3))]),
    "frobenius_norm": (lambda L, a: L.frobenius_norm(a, (0, 2)), [R.standard_normal((2, 3, 4))]),
    "frobenius_norm_keep": (
        lambda L, a: L.frobenius_norm(a, [1], True),
        [R.standard_normal((2, 3))],
    ),
    "nuclear_norm": (lambda L, a: L.nuclear_norm(a), [R.standard_normal((3, 4))]),
    "nuclear_norm_dim": (
        lambda L, a: L.nuclear_norm(a, (0, 2), True),
        [R.standard_normal((3, 2, 4))],
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_legacy_linalg_matches_torch(case):
    fn, arrays = CASES[case]
    _check(fn, arrays)


def test_float32_results():
    _check(lambda L, a: L.qr(a.float())[1].abs(), [R.standard_normal((4, 3))], tol=1e-5)
    _check(
        lambda L, b, u: L.cholesky_solve(b.float(), u.float()),
        [R.standard_normal((3, 2)), _chol(3)],
        tol=1e-5,
    )


def test_addr_beta_zero_ignores_nan():
    m = np.full((2, 3), np.nan)
    _check(
        lambda L, m, a, b: L.addr(m, a, b, beta=0), [m, R.standard_normal(2), R.standard_normal(3)]
    )


def test_lu_unpack_flags():
    torch = _torch()
    a = R.standard_normal((3, 3))
    shapes = []
    for lib in (gradfit, torch):
        lu, piv = lib.lu(lib.tensor(a))
        p1 = lib.lu_unpack(lu, piv, unpack_data=False)
        p2 = lib.lu_unpack(lu, piv, unpack_pivots=False)
        shapes.append([tuple(t.shape) for t in (*p1, *p2)])
    assert shapes[0] == shapes[1]


def test_chain_matmul_warns_as_torch():
    """Once per process (PyTorch's TORCH_WARN_ONCE), every time under set_warn_always."""
    torch = _torch()
    msgs = []
    for lib in (gradfit, torch):
        lib.chain_matmul(lib.ones(2, 2), lib.ones(2, 2))  # the once-per-process warning
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            lib.chain_matmul(lib.ones(2, 2), lib.ones(2, 2))
            assert not w
            lib.set_warn_always(True)
            try:
                lib.chain_matmul(lib.ones(2, 2), lib.ones(2, 2))
                assert lib.is_warn_always_enabled()
            finally:
                lib.set_warn_always(False)
        msgs.append([str(m.message).split(" (Triggered internally")[0] for m in w])
    assert msgs[0] == msgs[1] and len(msgs[0]) == 1


@pytest.mark.parametrize("name", ["solve", "lstsq", "eig", "symeig", "matrix_rank"])
def test_removed_functions_raise_torch_error(name):
    torch = _torch()
    errs = []
    for lib in (torch, gradfit):
        x = lib.eye(3)
        calls = [
            lambda: (
                getattr(lib, name)(x, x) if name in ("solve", "lstsq") else getattr(lib, name)(x)  # noqa: B023
            )
        ]
        if name != "matrix_rank":
            calls.append(
                lambda: getattr(x, name)(x) if name in ("solve", "lstsq") else getattr(x, name)()  # noqa: B023
            )
        for call in calls:
            with pytest.raises(RuntimeError) as e:
                call()
            errs.append(str(e.value))
    half = len(errs) // 2
    assert errs[:half] == errs[half:]


def test_bad_input_errors():
    torch = _torch()
    for call in (
        lambda L: L.ger(L.ones(2, 2), L.ones(2)),
        lambda L: L.lu_solve(L.ones(3, 1), *L.lu(L.eye(2))),
    ):
        kinds = []
        for lib in (torch, gradfit):
            with pytest.raises(RuntimeError) as e:
                call(lib)
            kinds.append(e.type)
        assert kinds[0] is kinds[1]


def test_cholesky_solve_second_order():
    """The backward is written with gradfit operations: differentiable again, as PyTorch's."""
    torch = _torch()
    b, u = R.standard_normal((3, 2)), _chol(3)
    res = []
    for lib in (gradfit, torch):
        bt, ut = lib.tensor(b, requires_grad=True), lib.tensor(u, requires_grad=True)
        out = lib.cholesky_solve(bt, ut)
        gb, gu = lib.autograd.grad((out * out).sum(), [bt, ut], create_graph=True)
        hb, hu = lib.autograd.grad(gb.sum() + (gu * gu).sum(), [bt, ut])
        res.append([t.detach().numpy() for t in (gb, gu, hb, hu)])
    for a, b_ in zip(*res):
        np.testing.assert_allclose(a, b_, rtol=1e-9, atol=1e-10)
