"""Among equal values, sort (unstable by default), argsort, topk (sorted or not),
kthvalue and mode return the indices PyTorch's CPU kernels return: gradfit repeats their
algorithms (libstdc++'s std::sort / nth_element / partial_sort, PyTorch's quickselect;
``gradfit._stl``) on rows whose result the values alone do not fix."""

from __future__ import annotations

import numpy as np
import pytest

import gradfit


def _rows(seed: int, dtype, nan: bool):
    rng = np.random.default_rng(seed)
    for n in (3, 16, 17, 40, 300):
        x = rng.integers(0, 4, (3, n)).astype(dtype)
        if nan:
            x[rng.random((3, n)) < 0.1] = np.nan
        yield x


CASES = {
    "sort": lambda lib, x: x.sort(1).indices,
    "sort_descending": lambda lib, x: x.sort(1, descending=True).indices,
    "sort_stable": lambda lib, x: x.sort(dim=1, descending=True, stable=True).indices,
    "argsort": lambda lib, x: lib.argsort(x, dim=0),
    "topk": lambda lib, x: x.topk(min(3, x.shape[1]), 1).indices,
    "topk_smallest_unsorted": lambda lib, x: x.topk(x.shape[1] // 2, 1, False, False).indices,
    "topk_partial_sort": lambda lib, x: x.topk(max(1, x.shape[1] // 64), 1).indices,
    "kthvalue": lambda lib, x: x.kthvalue(max(1, x.shape[1] // 3), 1).indices,
    "mode": lambda lib, x: x.mode(1).indices,
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize(("dtype", "nan"), [(np.int64, False), (np.float32, True)])
def test_indices_among_equal_values_match_torch(case, dtype, nan):
    import torch

    for x in _rows(len(case), dtype, nan):
        ours = CASES[case](gradfit, gradfit.from_numpy(x)).tolist()
        ref = CASES[case](torch, torch.from_numpy(x)).tolist()
        assert ours == ref, (case, x.shape)


def test_distinct_values_keep_the_fast_path_and_long_rows_numpys_order():
    from gradfit import _tensorops

    x = np.random.default_rng(0).permutation(50).astype(np.float32)
    assert gradfit.from_numpy(x).sort().indices.tolist() == np.argsort(x).tolist()
    long_row = np.zeros(_tensorops._EMULATED_ROW_LENGTH + 1, np.float32)
    assert gradfit.from_numpy(long_row).sort().indices.tolist() == list(range(long_row.size))
