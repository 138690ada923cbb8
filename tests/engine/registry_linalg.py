"""Registry entries for ``linalg.solve_triangular`` (the triangular solve the
decompositions' second-order derivatives are written with). A is shifted by 4 I so its
diagonal stays away from 0; only its triangle is read, so its gradient lives there."""

from __future__ import annotations

from hypothesis import strategies as st

from .op_registry import OpSpec

_sizes = st.tuples(st.integers(1, 4), st.integers(1, 3))


def _solve_tri(upper, left=True, unitriangular=False):
    def fn(lib, a, b):
        a = a + 4 * lib.eye(a.shape[-1], dtype=a.dtype)
        return lib.linalg.solve_triangular(
            a, b, upper=upper, left=left, unitriangular=unitriangular
        )

    return fn


REGISTRY_LINALG = [
    OpSpec(
        "solve_triangular_upper",
        _solve_tri(True),
        "custom",
        shapes=_sizes.map(lambda t: [(t[0], t[0]), (t[0], t[1])]),
        samples=[[(3, 3), (3, 2)]],
    ),
    OpSpec(
        "solve_triangular_lower_batched",
        _solve_tri(False),
        "custom",
        # A's batch broadcasts against B's
        shapes=_sizes.map(lambda t: [(t[0], t[0]), (2, t[0], t[1])]),
        samples=[[(3, 3), (2, 3, 2)], [(2, 1, 3, 3), (3, 3, 1)]],
    ),
    OpSpec(
        "solve_triangular_right_unit",
        _solve_tri(True, left=False, unitriangular=True),
        "custom",
        shapes=_sizes.map(lambda t: [(t[0], t[0]), (t[1], t[0])]),
        samples=[[(3, 3), (2, 3)]],
    ),
]
