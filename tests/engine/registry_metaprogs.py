"""Registry entries from the metaprogs work: ``cdist``'s matrix-product form (p = 2 with
``use_mm_for_euclid_dist``, or more than 25 rows on a side), ATen's ``_euclidean_dist``."""

from __future__ import annotations

from hypothesis import strategies as st

from .op_registry import OpSpec

_dims = st.integers(1, 4)

REGISTRY_METAPROGS = [
    OpSpec(
        "cdist_mm",
        lambda lib, a, b: lib.cdist(a, b, compute_mode="use_mm_for_euclid_dist"),
        "custom",
        shapes=st.tuples(_dims, _dims, _dims).map(lambda t: [(t[0], t[2]), (t[1], t[2])]),
        samples=[[(3, 4), (5, 4)], [(2, 3, 4), (2, 2, 4)], [(27, 2), (3, 2)]],
    ),
]
