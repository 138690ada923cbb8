"""Which indices ``torch.topk`` picks among ties, on the CPU.

PyTorch's CPU ``topk`` fills a vector of (value, index) pairs and runs libstdc++'s
``std::partial_sort`` (when ``k * 64 <= n``) or ``std::nth_element`` on it, comparing values
only; the first ``k`` pairs are the answer. Among equal values the winner depends on those
algorithms' exact swaps, so pruning by magnitude only agrees with PyTorch on tied weights
(integer-valued weights, zeros, masks) when the same swaps are made. Here they are, step
for step, on a Python list. When the k-th value is not tied across the boundary the set is
unique and NumPy's ``argpartition`` gives it directly.
"""

from __future__ import annotations

import numpy as np


def topk_index_set(values: np.ndarray, k: int, largest: bool) -> np.ndarray:
    """The indices (in no particular order) of the ``k`` entries ``torch.topk`` selects
    from the 1-D array ``values``."""
    n = values.shape[0]
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    if k >= n:
        return np.arange(n, dtype=np.int64)
    key = -values if largest else values
    if not np.isnan(values).any():
        part = np.argpartition(key, k - 1)
        kth = key[part[k - 1]]
        # unique set: every entry below the k-th value is in, every other one equal to it too
        if int(np.count_nonzero(key <= kth)) == k:
            return part[:k].astype(np.int64)
    return _stl_first_k(values.tolist(), k, largest)


def _stl_first_k(vals: list, k: int, largest: bool) -> np.ndarray:
    nan = float("nan")  # noqa: F841 - NaN compares like PyTorch's comparator below

    def isnan(x):
        return x != x

    if largest:

        def comp(x, y):
            return (isnan(x[0]) and not isnan(y[0])) or x[0] > y[0]
    else:

        def comp(x, y):
            return (not isnan(x[0]) and isnan(y[0])) or x[0] < y[0]

    q = [(v, i) for i, v in enumerate(vals)]
    n = len(q)
    if k * 64 <= n:
        _heap_select(q, 0, k, n, comp)
    else:
        _nth_element(q, 0, k - 1, n, comp)
    return np.array([p[1] for p in q[:k]], dtype=np.int64)


# libstdc++ <bits/stl_heap.h>, <bits/stl_algo.h>: the same index arithmetic and swaps.
def _push_heap(q, first, hole, top, value, comp):
    parent = (hole - 1) // 2
    while hole > top and comp(q[first + parent], value):
        q[first + hole] = q[first + parent]
        hole = parent
        parent = (hole - 1) // 2
    q[first + hole] = value


def _adjust_heap(q, first, hole, length, value, comp):
    top = hole
    second = hole
    while second < (length - 1) // 2:
        second = 2 * (second + 1)
        if comp(q[first + second], q[first + second - 1]):
            second -= 1
        q[first + hole] = q[first + second]
        hole = second
    if (length & 1) == 0 and second == (length - 2) // 2:
        second = 2 * (second + 1)
        q[first + hole] = q[first + second - 1]
        hole = second - 1
    _push_heap(q, first, hole, top, value, comp)


def _make_heap(q, first, last, comp):
    length = last - first
    if length < 2:
        return
    parent = (length - 2) // 2
    while True:
        _adjust_heap(q, first, parent, length, q[first + parent], comp)
        if parent == 0:
            return
        parent -= 1


def _heap_select(q, first, middle, last, comp):
    _make_heap(q, first, middle, comp)
    for i in range(middle, last):
        if comp(q[i], q[first]):
            value = q[i]
            q[i] = q[first]
            _adjust_heap(q, first, 0, middle - first, value, comp)


def _move_median_to_first(q, result, a, b, c, comp):
    if comp(q[a], q[b]):
        if comp(q[b], q[c]):
            m = b
        elif comp(q[a], q[c]):
            m = c
        else:
            m = a
    elif comp(q[a], q[c]):
        m = a
    elif comp(q[b], q[c]):
        m = c
    else:
        m = b
    q[result], q[m] = q[m], q[result]


def _unguarded_partition(q, first, last, pivot, comp):
    while True:
        while comp(q[first], q[pivot]):
            first += 1
        last -= 1
        while comp(q[pivot], q[last]):
            last -= 1
        if not first < last:
            return first
        q[first], q[last] = q[last], q[first]
        first += 1


def _insertion_sort(q, first, last, comp):
    if first == last:
        return
    for i in range(first + 1, last):
        val = q[i]
        if comp(val, q[first]):
            q[first + 1 : i + 1] = q[first:i]
            q[first] = val
        else:
            j = i
            while comp(val, q[j - 1]):
                q[j] = q[j - 1]
                j -= 1
            q[j] = val


def _nth_element(q, first, nth, last, comp):
    if first == last or nth == last:
        return
    depth = 2 * ((last - first).bit_length() - 1)
    while last - first > 3:
        if depth == 0:
            _heap_select(q, first, nth + 1, last, comp)
            q[first], q[nth] = q[nth], q[first]
            return
        depth -= 1
        mid = first + (last - first) // 2
        _move_median_to_first(q, first, first + 1, mid, last - 1, comp)
        cut = _unguarded_partition(q, first + 1, last, first, comp)
        if cut <= nth:
            first = cut
        else:
            last = cut
    _insertion_sort(q, first, last, comp)
