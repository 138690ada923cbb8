"""``default_collate`` and ``default_convert``: examples -> batch, as PyTorch's ``collate.py``."""

from __future__ import annotations

import collections.abc
import copy
import re

import numpy as np

from gradfit import _factories
from gradfit._arrays import unwrap, wrap
from gradfit._functional import _check_stackable, stack
from gradfit.tensor import Tensor

# numpy dtypes that cannot become tensors: strings, bytes, objects (PyTorch's pattern).
_NP_STR_OBJ = re.compile(r"[SaUO]")

_ERR = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"
)


def _stack(batch: list[Tensor]) -> Tensor:
    """``torch.stack(batch, 0)``; outside the graph unless an element requires grad."""
    if any(t.requires_grad for t in batch):
        return stack(batch, 0)
    _check_stackable(batch)
    # Same values as the graph-recording stack, without building a graph no one can use.
    return wrap(np.stack([unwrap(t) for t in batch]))


def _is_numpy_value(elem) -> bool:
    cls = type(elem)
    return cls.__module__ == "numpy" and cls.__name__ not in ("str_", "bytes_", "string_")


def _rebuilt_mapping(like, values: dict):
    """``values`` in a mapping of ``like``'s type, as PyTorch's collate rebuilds one: a
    copy of a mutable mapping, updated (so its other attributes stay), else
    ``type(like)(values)``, or the plain dict when the type cannot be built that way."""
    try:
        if isinstance(like, collections.abc.MutableMapping):
            clone = copy.copy(like)
            clone.update(values)
            return clone
        return type(like)(values)
    except TypeError:
        return values


def _rebuilt_sequence(like, items: list):
    """``items`` in a sequence of ``like``'s type, by the same rule as ``_rebuilt_mapping``
    (a copy of a mutable sequence with its items replaced, else ``type(like)(items)``, or
    the plain list)."""
    try:
        if isinstance(like, collections.abc.MutableSequence):
            clone = copy.copy(like)
            for i, item in enumerate(items):
                clone[i] = item
            return clone
        return type(like)(items)
    except TypeError:
        return items


def default_convert(data):
    """Numpy arrays (also inside dicts, lists, tuples) become tensors; other values stay.

    The collate function when automatic batching is off (``batch_size=None``). As in PyTorch,
    a plain tuple becomes a list.
    """
    if isinstance(data, Tensor):
        return data
    if _is_numpy_value(data):
        if isinstance(data, np.ndarray) and _NP_STR_OBJ.search(data.dtype.str):
            return data
        return _factories.as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        return _rebuilt_mapping(data, {key: default_convert(data[key]) for key in data})
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # namedtuple
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, str | bytes):
        return _rebuilt_sequence(data, [default_convert(d) for d in data])
    return data


def default_collate(batch):
    """Merge a list of examples into a batch, by PyTorch's rules.

    Element type -> batch:

    - Tensor -> ``stack(batch, 0)`` (dtype kept);
    - numpy array -> tensors, then stacked; numpy scalar -> 1-D tensor of its dtype;
    - float -> float64 tensor; int -> int64 tensor (bool -> bool tensor); str -> the list;
    - dict -> dict of collated values per key; namedtuple -> namedtuple of collated fields;
    - tuple or list -> collated per position; a tuple gives a **list** (``[stack(xs),
      stack(ys)]`` for a ``TensorDataset``), a list its own type.

    Raises:
        TypeError: for an element of any other type.
        RuntimeError: when the sequences of a batch differ in length.
    """
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack(batch)
    if isinstance(elem, np.ndarray):
        if _NP_STR_OBJ.search(elem.dtype.str):
            raise TypeError(_ERR.format(elem.dtype))
        return default_collate([_factories.as_tensor(b) for b in batch])
    if isinstance(elem, np.bool_ | np.number | np.object_):
        return wrap(np.asarray(batch))
    if isinstance(elem, float):
        return _factories.tensor(batch, dtype=np.float64)
    if isinstance(elem, int):
        return _factories.tensor(batch)
    if isinstance(elem, str | bytes):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        return _rebuilt_mapping(
            elem, {key: default_collate([d[key] for d in batch]) for key in elem}
        )
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(samples) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(e) != size for e in batch):
            raise RuntimeError(
                f"each element in list of batch should be of equal size; sizes are "
                f"{[len(e) for e in batch]}"
            )
        transposed = list(zip(*batch))
        if isinstance(elem, tuple):
            return [default_collate(samples) for samples in transposed]
        return _rebuilt_sequence(elem, [default_collate(samples) for samples in transposed])
    raise TypeError(_ERR.format(type(elem)))
