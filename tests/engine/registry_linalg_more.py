"""Registry entries for the linalg additions (LU, lu_solve, pinv, lstsq, matrix_exp,
cond, cross, vecdot, vander, tensorinv, tensorsolve): gradcheck, parity with PyTorch and
second order through the registry sweeps. Square inputs get a shift of 4 I (or 3 I for
non-square ones, on their leading square block) so they stay well conditioned and the
LU pivots do not tie, where a finite difference would cross a pivoting change."""

from __future__ import annotations

from hypothesis import strategies as st

from .op_registry import OpSpec

_n = st.integers(1, 4)


def _shift(lib, a, c=4.0):
    m, n = a.shape[-2], a.shape[-1]
    return a + c * lib.eye(m, n, dtype=a.dtype)


def _lu_factor(lib, a):
    return lib.linalg.lu_factor(_shift(lib, a)).LU


def _lu_parts(lib, a):
    _, low, up = lib.linalg.lu(_shift(lib, a))
    return lib.cat([low.flatten(-2), up.flatten(-2)], -1)


def _lu_solve(lib, a, b):
    lu, piv = lib.linalg.lu_factor(_shift(lib, a))
    return lib.linalg.lu_solve(lu, piv, b)


def _lu_solve_right_adjoint(lib, a, b):
    lu, piv = lib.linalg.lu_factor(_shift(lib, a))
    return lib.linalg.lu_solve(lu, piv, b, left=False, adjoint=True)


def _cond(lib, a):
    return lib.linalg.cond(_shift(lib, a, 3.0))


REGISTRY_LINALG_MORE = [
    OpSpec(
        "linalg_lu_factor",
        _lu_factor,
        "custom",
        shapes=st.tuples(_n, _n).map(lambda t: [(2, t[0], t[1])]),
        samples=[[(3, 3)], [(2, 3, 5)], [(5, 3)]],
    ),
    OpSpec(
        "linalg_lu",
        _lu_parts,
        "custom",
        shapes=st.tuples(_n, _n).map(lambda t: [(t[0], t[1])]),
        samples=[[(4, 4)], [(3, 5)], [(2, 5, 3)]],
    ),
    OpSpec(
        "linalg_lu_solve",
        _lu_solve,
        "custom",
        shapes=st.tuples(_n, _n).map(lambda t: [(t[0], t[0]), (2, t[0], t[1])]),
        samples=[[(3, 3), (3, 2)], [(2, 3, 3), (4, 1, 3, 2)]],
    ),
    OpSpec(
        "linalg_lu_solve_right_adjoint",
        _lu_solve_right_adjoint,
        "custom",
        shapes=st.tuples(_n, _n).map(lambda t: [(t[0], t[0]), (t[1], t[0])]),
        samples=[[(3, 3), (2, 3)]],
    ),
    OpSpec(
        "linalg_pinv",
        lambda lib, a: lib.linalg.pinv(_shift(lib, a, 6.0)),
        "custom",
        shapes=st.tuples(_n, _n).map(lambda t: [(t[0], t[1])]),
        samples=[[(3, 5)], [(2, 5, 3)], [(3, 3)]],
    ),
    OpSpec(
        "linalg_pinv_hermitian",
        lambda lib, a: lib.linalg.pinv(_shift(lib, a + a.mT), hermitian=True),
        "custom",
        shapes=_n.map(lambda n: [(n, n)]),
        samples=[[(3, 3)], [(2, 4, 4)]],
    ),
    OpSpec(
        "linalg_lstsq",
        lambda lib, a, b: lib.linalg.lstsq(_shift(lib, a, 6.0), b).solution,
        "custom",
        shapes=st.tuples(_n, _n, _n).map(lambda t: [(t[0], t[1]), (t[0], t[2])]),
        samples=[[(5, 3), (5, 2)], [(3, 5), (3, 2)], [(2, 4, 3), (2, 4)]],
    ),
    OpSpec(
        "linalg_matrix_exp",
        lambda lib, a: lib.linalg.matrix_exp(0.5 * a),
        "custom",
        shapes=_n.map(lambda n: [(n, n)]),
        samples=[[(3, 3)], [(2, 4, 4)]],
    ),
    OpSpec(
        "linalg_cond",
        _cond,
        "custom",
        shapes=st.tuples(_n, _n).map(lambda t: [(t[0], t[1])]),
        samples=[[(3, 3)], [(2, 3, 5)]],
    ),
    OpSpec(
        "linalg_cross",
        lambda lib, a, b: lib.linalg.cross(a, b),
        "custom",
        shapes=_n.map(lambda n: [(n, 3), (1, 3)]),
        samples=[[(4, 3), (1, 3)], [(2, 2, 3), (1, 2, 3)]],
    ),
    OpSpec(
        "linalg_vecdot",
        lambda lib, a, b: lib.linalg.vecdot(a, b, dim=0),
        "custom",
        shapes=_n.map(lambda n: [(n, 3), (n, 1)]),
        samples=[[(4, 3), (4, 1)]],
    ),
    OpSpec(
        "linalg_vander",
        lambda lib, a: lib.linalg.vander(a, N=4),
        "custom",
        shapes=_n.map(lambda n: [(2, n)]),
        samples=[[(3,)], [(2, 3)]],
    ),
    OpSpec(
        "linalg_tensorinv",
        lambda lib, a: lib.linalg.tensorinv(_shift(lib, a).reshape(2, 3, 6), ind=2),
        "custom",
        shapes=st.just([(6, 6)]),
        samples=[[(6, 6)]],
    ),
    OpSpec(
        "linalg_tensorsolve",
        lambda lib, a, b: lib.linalg.tensorsolve(_shift(lib, a).reshape(2, 3, 2, 3), b),
        "custom",
        shapes=st.just([(6, 6), (2, 3)]),
        samples=[[(6, 6), (2, 3)]],
    ),
    OpSpec(
        "linalg_householder_product",
        lambda lib, a, t: lib.linalg.householder_product(a, t),
        "custom",
        shapes=st.tuples(_n, _n).map(lambda t: [(t[0] + t[1], t[1]), (t[1],)]),
        samples=[[(5, 3), (3,)], [(2, 4, 4), (2, 3)]],
    ),
]
