"""Registry entries for the shape and linear-algebra functions of ``gradfit._tensorops_more``
(addmm, tensordot, kron, cross, diff, movedim, hstack, tensor_split, ...). Joined to
``op_registry.REGISTRY``: gradcheck float64, parity with PyTorch, second order.

Ops that return several tensors are checked through a weighted ``cat`` of their pieces, so
a gradient sent to the wrong piece changes the result.
"""

from __future__ import annotations

from hypothesis import strategies as st

from .op_registry import OpSpec, dims

one_shape = st.lists(dims, min_size=1, max_size=3).map(lambda s: [tuple(s)])


def _weighted_cat(lib, pieces, dim):
    return lib.cat([p * float(i + 1) for i, p in enumerate(pieces)], dim)


def _mm_shapes(t):
    n, k, m = t
    return [(m,), (n, k), (k, m)]


def _spec(name, fn, shapes, samples, **kw):
    return OpSpec(name, fn, "custom", shapes=shapes, samples=samples, **kw)


three = st.tuples(dims, dims, dims)

SHAPE_MORE: list[OpSpec] = [
    _spec(
        "addmm",
        lambda lib, i, a, b: lib.addmm(i, a, b, beta=0.5, alpha=2.0),
        three.map(_mm_shapes),
        [[(3,), (2, 4), (4, 3)], [(2, 3), (2, 4), (4, 3)]],
    ),
    _spec(
        "addmm_method",
        lambda lib, i, a, b: i.addmm(a, b),
        three.map(lambda t: [(t[0], t[2]), (t[0], t[1]), (t[1], t[2])]),
        [[(2, 3), (2, 4), (4, 3)]],
    ),
    _spec(
        "addmv",
        lambda lib, i, a, v: lib.addmv(i, a, v, beta=2.0, alpha=0.5),
        st.tuples(dims, dims).map(lambda t: [(t[0],), t, (t[1],)]),
        [[(3,), (3, 4), (4,)], [(1,), (3, 4), (4,)]],
    ),
    _spec(
        "mv",
        lambda lib, a, v: a.mv(v),
        st.tuples(dims, dims).map(lambda t: [t, (t[1],)]),
        [[(3, 4), (4,)]],
    ),
    _spec(
        "baddbmm",
        lambda lib, i, a, b: lib.baddbmm(i, a, b, beta=0.5, alpha=1.5),
        st.tuples(dims, dims, dims, dims).map(
            lambda t: [(t[1], t[3]), (t[0], t[1], t[2]), (t[0], t[2], t[3])]
        ),
        [[(3, 5), (2, 3, 4), (2, 4, 5)], [(2, 3, 5), (2, 3, 4), (2, 4, 5)]],
    ),
    _spec(
        "addbmm",
        lambda lib, i, a, b: i.addbmm(a, b, alpha=2.0),
        st.tuples(dims, dims, dims, dims).map(
            lambda t: [(t[3],), (t[0], t[1], t[2]), (t[0], t[2], t[3])]
        ),
        [[(5,), (2, 3, 4), (2, 4, 5)]],
    ),
    _spec(
        "outer_method",
        lambda lib, a, b: a.outer(b),
        st.tuples(dims, dims).map(lambda t: [(t[0],), (t[1],)]),
        [[(3,), (4,)]],
    ),
    _spec(
        "inner",
        lambda lib, a, b: lib.inner(a, b),
        st.tuples(dims, dims, dims).map(lambda t: [(t[0], t[2]), (t[1], t[2])]),
        [[(2, 3, 4), (5, 4)], [(4,), (4,)], [(), (2, 3)]],
    ),
    _spec(
        "vdot",
        lambda lib, a, b: a.vdot(b),
        dims.map(lambda n: [(n,), (n,)]),
        [[(4,), (4,)]],
    ),
    _spec(
        "tensordot",
        lambda lib, a, b: lib.tensordot(a, b),
        three.map(lambda t: [(t[0], t[1], t[2]), (t[1], t[2], t[0])]),
        [[(2, 3, 4), (3, 4, 5)]],
    ),
    _spec(
        "tensordot_lists",
        lambda lib, a, b: lib.tensordot(a, b, dims=([0, 2], [2, 0])),
        three.map(lambda t: [(t[0], t[1], t[2]), (t[2], t[1], t[0])]),
        [[(2, 3, 4), (4, 5, 2)]],
    ),
    _spec(
        "kron",
        lambda lib, a, b: lib.kron(a, b),
        st.tuples(one_shape, one_shape).map(lambda t: t[0] + t[1]),
        [[(2, 3), (3, 2, 2)], [(2,), (3,)]],
    ),
    _spec(
        "cross",
        lambda lib, a, b: lib.cross(a, b, dim=1),
        dims.map(lambda n: [(n, 3, 2), (1, 3, 2)]),
        [[(2, 3, 4), (1, 3, 4)]],
    ),
    _spec(
        "cross_method_last",
        lambda lib, a, b: a.cross(b, dim=-1),
        dims.map(lambda n: [(n, 3), (n, 3)]),
        [[(4, 3), (4, 3)]],
    ),
    _spec(
        "diff",
        lambda lib, a: lib.diff(a, dim=0),
        st.tuples(dims, dims).map(lambda t: [t]),
        [[(4, 3)], [(1, 3)]],
    ),
    _spec(
        "diff_n2_prepend_append",
        lambda lib, a, p, q: a.diff(2, -1, p, q),
        st.tuples(dims, dims).map(lambda t: [t, (t[0], 2), (t[0], 1)]),
        [[(3, 4), (3, 2), (3, 1)]],
    ),
    _spec(
        "dist",
        lambda lib, a, b: lib.dist(a, b),
        st.tuples(dims, dims).map(lambda t: [t, (t[1],)]),
        [[(3, 4), (4,)]],
        domain="away0",
    ),
    _spec(
        "dist_p3",
        lambda lib, a, b: a.dist(b, 3),
        st.tuples(dims, dims).map(lambda t: [t, t]),
        [[(3, 4), (3, 4)]],
        domain="away0",
    ),
    _spec(
        "movedim",
        lambda lib, a: lib.movedim(a, (0, 1), (2, 0)),
        three.map(lambda t: [t]),
        [[(2, 3, 4)]],
    ),
    _spec(
        "moveaxis_method", lambda lib, a: a.moveaxis(-1, 0), three.map(lambda t: [t]), [[(2, 3, 4)]]
    ),
    _spec(
        "ravel",
        lambda lib, a: a.t().ravel() * 2.0,
        st.tuples(dims, dims).map(lambda t: [t]),
        [[(3, 4)]],
    ),
    _spec("select", lambda lib, a: lib.select(a, 1, -1), three.map(lambda t: [t]), [[(2, 3, 4)]]),
    _spec(
        "take",
        lambda lib, a: lib.take(a, lib.tensor([[0, -1], [0, a.numel() - 1]])),
        one_shape,
        [[(2, 3)]],
    ),
    _spec(
        "unflatten",
        lambda lib, a: a.unflatten(1, (2, -1)),
        st.tuples(dims, dims).map(lambda t: [(t[0], 2 * t[1])]),
        [[(2, 6)]],
    ),
    _spec(
        "hstack",
        lambda lib, a, b: lib.hstack([a, b * 2.0]),
        st.tuples(dims, dims, dims).map(lambda t: [(t[0], t[1]), (t[0], t[2])]),
        [[(2, 3), (2, 1)]],
    ),
    _spec(
        "vstack",
        lambda lib, a, b: lib.vstack([a, b * 2.0]),
        st.tuples(dims, dims).map(lambda t: [(t[1],), t]),
        [[(3,), (2, 3)]],
    ),
    _spec(
        "dstack",
        lambda lib, a, b: lib.dstack([a, b * 2.0]),
        st.tuples(dims, dims).map(lambda t: [t, t + (2,)]),
        [[(2, 3), (2, 3, 2)]],
    ),
    _spec(
        "column_stack",
        lambda lib, a, b: lib.column_stack([a, b * 2.0]),
        st.tuples(dims, dims).map(lambda t: [(t[0],), t]),
        [[(3,), (3, 2)]],
    ),
    _spec(
        "tensor_split",
        lambda lib, a: _weighted_cat(lib, lib.tensor_split(a, 3, dim=1), 1),
        st.tuples(dims, dims).map(lambda t: [(t[0], t[1] + 2)]),
        [[(2, 7)]],
    ),
    _spec(
        "hsplit_indices",
        lambda lib, a: _weighted_cat(lib, a.hsplit([1, 3]), 1),
        st.tuples(dims, dims).map(lambda t: [(t[0], t[1] + 3)]),
        [[(2, 5)]],
    ),
    _spec(
        "vsplit",
        lambda lib, a: _weighted_cat(lib, lib.vsplit(a, 2), 0),
        st.tuples(dims, dims).map(lambda t: [(2 * t[0], t[1])]),
        [[(4, 3)]],
    ),
    _spec(
        "dsplit",
        lambda lib, a: _weighted_cat(lib, a.dsplit([1, -1]), 2),
        st.tuples(dims, dims).map(lambda t: [(t[0], t[1], 4)]),
        [[(2, 2, 4)]],
    ),
    _spec(
        "broadcast_tensors",
        lambda lib, a, b: _weighted_cat(lib, lib.broadcast_tensors(a, b), 0),
        st.tuples(dims, dims).map(lambda t: [(t[0], 1), (t[1],)]),
        [[(2, 1), (3,)]],
    ),
    _spec(
        "diagflat",
        lambda lib, a: lib.diagflat(a, -1),
        st.tuples(dims, dims).map(lambda t: [t]),
        [[(2, 2)]],
    ),
    _spec(
        "combinations",
        lambda lib, a: lib.combinations(a, 2),
        dims.map(lambda n: [(n,)]),
        [[(4,)]],
    ),
    _spec(
        "combinations_replacement",
        lambda lib, a: lib.combinations(a, 3, with_replacement=True),
        dims.map(lambda n: [(n,)]),
        [[(3,)]],
    ),
    _spec(
        "cov",
        lambda lib, a: lib.cov(a),
        st.tuples(dims, dims).map(lambda t: [(t[0], t[1] + 1)]),
        [[(3, 5)], [(5,)]],
    ),
    _spec(
        "cov_weights",
        lambda lib, a, w: a.cov(
            correction=2, fweights=lib.tensor([1, 3, 2, 1]), aweights=w * w + 0.5
        ),
        dims.map(lambda n: [(n, 4), (4,)]),
        [[(3, 4), (4,)]],
    ),
    _spec(
        "trapezoid",
        lambda lib, y: lib.trapezoid(y, dx=0.5),
        st.tuples(dims, dims).map(lambda t: [t]),
        [[(3, 5)], [(4, 1)]],
    ),
    _spec(
        "trapezoid_x",
        lambda lib, y, x: lib.trapezoid(y, x, dim=0),
        st.tuples(dims, dims).map(lambda t: [t, (t[0], 1)]),
        [[(3, 5), (3, 1)]],
    ),
]
