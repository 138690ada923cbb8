"""The internal array API: how code above the core reaches a tensor's NumPy array.

It sits below ``gradfit.tensor`` (it knows the Tensor class as the graph machinery does,
through ``autograd.function.Tensor``, bound once by ``gradfit.tensor``), so the tensor-level
helpers that ``tensor.py`` imports (``_tensorops``, ``linalg``) can use it too.

The core (``tensor``, ``autograd``, ``ops``) owns a Tensor's private fields. Everything
above it (``nn``, ``optim``, ``utils``, ``train``, ``lecture``, ``distributed``,
``serialization``, the factories and random streams) goes through these functions, so the
way a Tensor stores its data can change in one place. A test
(``tests/test_architecture.py``) keeps it that way.

- ``unwrap(t)``: the array inside ``t`` (no copy; NumPy data passes through ``asarray``);
  ``unwrap_many(ts)`` for a list of Tensors; ``to_update(ts)`` gathers the tensors that
  have a gradient with both arrays and counts their edit (an optimizer step);
  ``clear_grads(ts)`` sets their ``.grad`` to None (``zero_grad``).
- ``wrap(arr)``: a Tensor around ``arr`` (no copy), outside the graph.
- ``set_array(t, arr)``: make ``t`` hold ``arr`` (``param.data = ...``, loading weights).
- ``bump_version(*ts)``: after editing arrays in place, mark the tensors as changed so
  the engine refuses a backward through a graph that saved their old values.
- ``modified(*ts)``: the same as a context manager, for code that reads better that way::

      with modified(p) as (w,):
          w -= lr * g
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from gradfit.autograd import function as _graph

__all__ = [
    "unwrap",
    "unwrap_many",
    "to_update",
    "clear_grads",
    "wrap",
    "set_array",
    "bump_version",
    "modified",
]


def unwrap(t) -> np.ndarray:
    """The array a Tensor holds (shared, not copied); other data as ``np.asarray``."""
    return t._array if isinstance(t, _graph.Tensor) else np.asarray(t)


def unwrap_many(tensors) -> list:
    """The arrays of a sequence of Tensors (None stays None), in one call: optimizers
    gather every parameter's, gradient's and buffer's array each step."""
    return [None if t is None else t._array for t in tensors]


def to_update(tensors) -> tuple[list, list, list]:
    """The tensors of ``tensors`` whose ``.grad`` is set, their arrays and their
    gradients' arrays, in one pass (an optimizer gathers them at every step). The caller
    edits those arrays in place: their versions are counted here, as ``modified`` would."""
    kept, arrays, grads = [], [], []
    for t in tensors:
        g = t._grad
        if g is not None:
            kept.append(t)
            arrays.append(t._array)
            grads.append(g._array)
            _graph.count_edit(t)
    return kept, arrays, grads


def clear_grads(tensors) -> None:
    """Set each tensor's ``.grad`` to None (``zero_grad``'s default); None needs none of
    the checks an assigned gradient gets."""
    for t in tensors:
        t._grad = None


def wrap(arr):
    """A Tensor sharing ``arr``'s memory, with no graph node and no gradient."""
    return _graph.Tensor._make(arr, None)


def set_array(t, arr: np.ndarray) -> None:
    """Make ``t`` hold ``arr`` (no copy), as ``t.data = arr`` does."""
    t._array = arr


def bump_version(*tensors) -> None:
    """Count an in-place edit of each tensor's array (made through ``unwrap``)."""
    for t in tensors:
        _graph.count_edit(t)


@contextmanager
def modified(*tensors):
    """Yield the tensors' arrays for in-place edits; bump their versions afterwards."""
    try:
        yield tuple(t._array for t in tensors)
    finally:
        bump_version(*tensors)
