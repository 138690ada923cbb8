"""The sorting and selection algorithms behind PyTorch's CPU ``sort``, ``topk``,
``kthvalue`` and ``mode``, step by step on Python lists (rung 0: NumPy and the standard
library only).

Among equal values, the indices these functions return (and topk's order when
``sorted=False``) are whatever the algorithms leave, so gradfit repeats them:
libstdc++'s ``std::sort`` (introsort with a median-of-three pivot, insertion sort below
17 elements: ``sort`` unless ``stable=True``, ``mode``), ``std::nth_element`` and
``std::partial_sort`` (``topk``, ``TopKImpl.h``), and PyTorch's own Sedgewick quickselect
(``kthvalue``, ``quick_select_template``).
"""

from __future__ import annotations

import numpy as np


def _lg(n):
    return n.bit_length() - 1


def _move_median_to_first(a, result, x, y, z, comp):
    if comp(a[x], a[y]):
        if comp(a[y], a[z]):
            a[result], a[y] = a[y], a[result]
        elif comp(a[x], a[z]):
            a[result], a[z] = a[z], a[result]
        else:
            a[result], a[x] = a[x], a[result]
    elif comp(a[x], a[z]):
        a[result], a[x] = a[x], a[result]
    elif comp(a[y], a[z]):
        a[result], a[z] = a[z], a[result]
    else:
        a[result], a[y] = a[y], a[result]


def _unguarded_partition(a, first, last, pivot, comp):
    while True:
        while comp(a[first], a[pivot]):
            first += 1
        last -= 1
        while comp(a[pivot], a[last]):
            last -= 1
        if not first < last:
            return first
        a[first], a[last] = a[last], a[first]
        first += 1


def _partition_pivot(a, first, last, comp):
    mid = first + (last - first) // 2
    _move_median_to_first(a, first, first + 1, mid, last - 1, comp)
    return _unguarded_partition(a, first + 1, last, first, comp)


def _unguarded_linear_insert(a, last, comp):
    val = a[last]
    nxt = last - 1
    while comp(val, a[nxt]):
        a[last] = a[nxt]
        last = nxt
        nxt -= 1
    a[last] = val


def _insertion_sort(a, first, last, comp):
    if first == last:
        return
    for i in range(first + 1, last):
        if comp(a[i], a[first]):
            val = a[i]
            a[first + 1 : i + 1] = a[first:i]
            a[first] = val
        else:
            _unguarded_linear_insert(a, i, comp)


def _final_insertion_sort(a, first, last, comp):
    if last - first > 16:
        _insertion_sort(a, first, first + 16, comp)
        for i in range(first + 16, last):
            _unguarded_linear_insert(a, i, comp)
    else:
        _insertion_sort(a, first, last, comp)


def _push_heap(a, first, hole, top, value, comp):
    parent = (hole - 1) // 2
    while hole > top and comp(a[first + parent], value):
        a[first + hole] = a[first + parent]
        hole = parent
        parent = (hole - 1) // 2
    a[first + hole] = value


def _adjust_heap(a, first, hole, length, value, comp):
    top = hole
    second = hole
    while second < (length - 1) // 2:
        second = 2 * (second + 1)
        if comp(a[first + second], a[first + second - 1]):
            second -= 1
        a[first + hole] = a[first + second]
        hole = second
    if length % 2 == 0 and second == (length - 2) // 2:
        second = 2 * (second + 1)
        a[first + hole] = a[first + second - 1]
        hole = second - 1
    _push_heap(a, first, hole, top, value, comp)


def _make_heap(a, first, last, comp):
    length = last - first
    if length < 2:
        return
    parent = (length - 2) // 2
    while True:
        _adjust_heap(a, first, parent, length, a[first + parent], comp)
        if parent == 0:
            return
        parent -= 1


def _pop_heap(a, first, last, result, comp):
    value = a[result]
    a[result] = a[first]
    _adjust_heap(a, first, 0, last - first, value, comp)


def _heap_select(a, first, middle, last, comp):
    _make_heap(a, first, middle, comp)
    for i in range(middle, last):
        if comp(a[i], a[first]):
            _pop_heap(a, first, middle, i, comp)


def _sort_heap(a, first, last, comp):
    while last - first > 1:
        last -= 1
        _pop_heap(a, first, last, last, comp)


def partial_sort(a, first, middle, last, comp):
    """``std::partial_sort``: the smallest (by ``comp``) middle - first elements, sorted."""
    _heap_select(a, first, middle, last, comp)
    _sort_heap(a, first, middle, comp)


def _introsort_loop(a, first, last, depth, comp):
    while last - first > 16:
        if depth == 0:
            partial_sort(a, first, last, last, comp)
            return
        depth -= 1
        cut = _partition_pivot(a, first, last, comp)
        _introsort_loop(a, cut, last, depth, comp)
        last = cut


def sort(a, first, last, comp):
    """``std::sort``: introsort, then a final insertion sort."""
    if first != last:
        _introsort_loop(a, first, last, _lg(last - first) * 2, comp)
        _final_insertion_sort(a, first, last, comp)


def nth_element(a, first, nth, last, comp):
    """``std::nth_element``: introselect, finished by insertion sort below 4 elements."""
    if first == last or nth == last:
        return
    depth = _lg(last - first) * 2
    while last - first > 3:
        if depth == 0:
            _heap_select(a, first, nth + 1, last, comp)
            a[first], a[nth] = a[nth], a[first]
            return
        depth -= 1
        cut = _partition_pivot(a, first, last, comp)
        if cut <= nth:
            first = cut
        else:
            last = cut
    _insertion_sort(a, first, last, comp)


def _nan(v) -> bool:
    return v != v


def _descending(x, y) -> bool:  # PyTorch's comparators of (value, index): NaN largest
    return (_nan(x[0]) and not _nan(y[0])) or x[0] > y[0]


def _ascending(x, y) -> bool:
    return (not _nan(x[0]) and _nan(y[0])) or x[0] < y[0]


def sort_indices(values: list, descending: bool) -> list:
    """The order PyTorch's default (unstable) ``sort`` gives one row of ``values``:
    ``std::sort`` of (value, index) pairs compared by value."""
    queue = [(v, j) for j, v in enumerate(values)]
    sort(queue, 0, len(queue), _descending if descending else _ascending)
    return [j for _, j in queue]


def topk_indices(values: list, k: int, largest: bool, sorted_: bool) -> list:
    """The indices PyTorch's ``topk`` picks from one row of ``values`` (NaN counts as the
    largest), in its order: ``partial_sort`` where k·64 <= n, else ``nth_element`` then,
    if ``sorted_``, a sort of the first k - 1."""
    queue = [(v, j) for j, v in enumerate(values)]
    comp = _descending if largest else _ascending
    n = len(queue)
    if k * 64 <= n:
        partial_sort(queue, 0, k, n, comp)
    else:
        nth_element(queue, 0, k - 1, n, comp)
        if sorted_:
            sort(queue, 0, k - 1, comp)
    return [j for _, j in queue[:k]]


def mode_order(values: list) -> list:
    """The order ``mode``'s kernel sorts one row in: ``std::sort`` of (value, index) pairs
    by ``value < value`` (NaN compares false with everything)."""
    queue = [(v, j) for j, v in enumerate(values)]
    sort(queue, 0, len(queue), lambda x, y: x[0] < y[0])
    return [j for _, j in queue]


def kth_smallest_index(values: list, k: int) -> int:
    """The index ``kthvalue`` returns for the k-th smallest (0-based ``k``) of one row:
    PyTorch's quickselect (median-of-three pivot, Sedgewick's partition), NaN largest."""
    arr, idx = list(values), list(range(len(values)))

    def gt(x, y):
        return (_nan(x) and not _nan(y)) or x > y

    def swap(i, j):
        arr[i], arr[j] = arr[j], arr[i]
        idx[i], idx[j] = idx[j], idx[i]

    lo, hi = 0, len(arr) - 1
    while hi > lo:
        if hi == lo + 1:
            if gt(arr[lo], arr[hi]):
                swap(lo, hi)
            break
        swap((lo + hi) >> 1, lo + 1)
        if gt(arr[lo + 1], arr[hi]):
            swap(lo + 1, hi)
        if gt(arr[lo], arr[hi]):
            swap(lo, hi)
        if gt(arr[lo + 1], arr[lo]):
            swap(lo + 1, lo)
        i, j, pivot = lo + 1, hi, arr[lo]
        while True:
            i += 1
            while gt(pivot, arr[i]):
                i += 1
            j -= 1
            while gt(arr[j], pivot):
                j -= 1
            if j < i:
                break
            swap(i, j)
        swap(lo, j)
        if j <= k:
            lo = i
        if j >= k:
            hi = j - 1
    return idx[k]


def topk_index_set(values: np.ndarray, k: int, largest: bool) -> np.ndarray:
    """The indices (in no particular order) of the ``k`` entries ``torch.topk`` selects
    from the 1-D array ``values`` (magnitude pruning's choice among tied weights). When
    the k-th value is not tied across the boundary the set is unique and NumPy's
    ``argpartition`` gives it at once; otherwise ``topk_indices``."""
    n = values.shape[0]
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    if k >= n:
        return np.arange(n, dtype=np.int64)
    key = -values if largest else values
    if not np.isnan(values).any():
        part = np.argpartition(key, k - 1)
        if int(np.count_nonzero(key <= key[part[k - 1]])) == k:
            return part[:k].astype(np.int64)
    return np.array(topk_indices(values.tolist(), k, largest, False), dtype=np.int64)
