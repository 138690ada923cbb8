"""Registry entries of the sparse COO ops (sparse): each builds a sparse tensor from the
values input (``sparse_coo_tensor``, fixed indices with a repeated entry, so gradients
cross duplicates) or from a dense input (``to_sparse``) and ends in a dense tensor, so
the float64 gradient check and the PyTorch parity sweep see the values' and the dense
operands' gradients through every sparse op: ``sparse.mm`` / ``@``, ``* number``,
sparse + sparse, ``.t()``, ``coalesce``, ``sparse.sum`` over a dim, ``to_dense``."""

from __future__ import annotations

from hypothesis import strategies as st

from .op_registry import OpSpec

ROWS = 3


def _indices(lib, nnz: int, cols: int):
    return lib.tensor([[k % ROWS for k in range(nnz)], [(2 * k + 1) % cols for k in range(nnz)]])


def _coo(lib, v, cols: int, *dense):
    idx = _indices(lib, v.shape[0], cols)
    return lib.sparse_coo_tensor(idx, v, (ROWS, cols, *dense), check_invariants=False)


def _mm(lib, v, d):
    return lib.sparse.mm(_coo(lib, v, d.shape[0]), d)


def _matmul(lib, v, d):
    return _coo(lib, v, d.shape[0]) @ d


def _chain(lib, v, d):
    s = _coo(lib, v, d.shape[0])
    mixed = (s * 2.5 + s.coalesce() * -0.5).t()
    return lib.cat([mixed.to_dense().reshape(-1), (mixed.t() @ d).reshape(-1)])


def _sum_dim(lib, v):
    return lib.sparse.sum(_coo(lib, v, 4, v.shape[1]), dim=1).to_dense()


def _to_sparse(lib, x):
    s = x.to_sparse()
    product = s @ lib.ones(x.shape[1], 2, dtype=x.dtype)
    return lib.cat([lib.sparse.sum(s * 3.0, dim=0).to_dense(), product.reshape(-1)])


nnz = st.integers(1, 6)
cols = st.integers(1, 4)
_vd = st.tuples(nnz, cols, st.integers(1, 3)).map(lambda t: [(t[0],), (t[1], t[2])])

REGISTRY_SPARSE = [
    OpSpec("sparse.mm", _mm, "custom", shapes=_vd, samples=[[(5,), (4, 2)], [(1,), (1, 3)]]),
    OpSpec("sparse @ dense", _matmul, "custom", shapes=_vd, samples=[[(6,), (3, 2)]]),
    OpSpec("sparse mul add t", _chain, "custom", shapes=_vd, samples=[[(5,), (3, 2)]]),
    OpSpec(
        "sparse.sum dim",
        _sum_dim,
        "custom",
        shapes=st.tuples(nnz, st.integers(1, 3)).map(lambda t: [t]),
        samples=[[(5, 2)]],
    ),
    OpSpec(
        "to_sparse",
        _to_sparse,
        "custom",
        shapes=st.tuples(st.integers(1, 3), st.integers(1, 3)).map(lambda t: [t]),
        samples=[[(3, 4)]],
    ),
]
