"""Registry entries for the rtapi work: ``index_reduce`` (prod, mean, amax, amin, with and
without the input's own values), ``torch.gradient`` and ``torch.corrcoef``. Joined to
``op_registry.REGISTRY``; the gradcheck and the PyTorch parity sweep run them."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from .op_registry import OpSpec, dims
from .registry_tensorops import _index


def _index_reduce(reduce, include_self, d):
    def fn(lib, a, b):
        idx = _index(lib, (b.shape[d],), a.shape[d])
        return a.index_reduce(d, idx, b, reduce, include_self=include_self)

    return fn


def _ir_shapes(d):
    # input (n, k) and source (m, k) along dim 0; (k, n) and (k, m) along dim 1
    def make(t):
        n, m, k = t
        return [(n, k), (m, k)] if d == 0 else [(k, n), (k, m)]

    return st.tuples(dims, dims, dims).map(make)


def _coords(lib, n, like):
    # unevenly spaced, increasing sample positions
    c = np.cumsum(np.linspace(0.5, 1.5, n)) - 0.3
    return lib.tensor(c, dtype=like.dtype)


REGISTRY_RTAPI = (
    [
        OpSpec(
            f"index_reduce_{r}_{'self' if inc else 'noself'}_dim{d}",
            _index_reduce(r, inc, d),
            "custom",
            shapes=_ir_shapes(d),
            samples=[[(4, 3), (6, 3)], [(2, 2), (1, 2)]]
            if d == 0
            else [[(3, 4), (3, 6)], [(2, 2), (2, 1)]],
            domain="away0" if r == "prod" else "real",
        )
        for r in ("prod", "mean", "amax", "amin")
        for inc in (True, False)
        for d in (0, 1)
    ]
    + [
        OpSpec(
            f"gradient_edge{e}",
            lambda lib, a, e=e: lib.gradient(a, spacing=0.7, edge_order=e)[0],
            "custom",
            shapes=st.tuples(st.integers(3, 6)).map(lambda t: [t]),
            samples=[[(5,)], [(3,)]],
        )
        for e in (1, 2)
    ]
    + [
        OpSpec(
            f"gradient_2d_dims_edge{e}",
            lambda lib, a, e=e: lib.stack(lib.gradient(a, spacing=[0.5, 2.0], edge_order=e)),
            "custom",
            shapes=st.tuples(st.integers(3, 5), st.integers(3, 5)).map(lambda t: [t]),
            samples=[[(4, 3)]],
        )
        for e in (1, 2)
    ]
    + [
        OpSpec(
            f"gradient_coords_edge{e}",
            lambda lib, a, e=e: lib.gradient(
                a, spacing=[_coords(lib, a.shape[1], a)], dim=1, edge_order=e
            )[0],
            "custom",
            shapes=st.tuples(st.integers(1, 3), st.integers(3, 6)).map(lambda t: [t]),
            samples=[[(2, 5)], [(1, 3)]],
        )
        for e in (1, 2)
    ]
    + [
        OpSpec(
            "corrcoef",
            lambda lib, a: lib.corrcoef(a),
            "custom",
            shapes=st.tuples(st.integers(1, 3), st.integers(3, 5)).map(lambda t: [t]),
            samples=[[(3, 5)], [(4,)]],
        ),
    ]
)
