"""``torch.nn.modules.utils``: the helpers that turn a layer's size arguments into tuples
(``_single``, ``_pair``, ``_triple``, ``_quadruple``, ``_ntuple``), which user-written
layers import from here as PyTorch's own layers do, and the state-dict prefix helper."""

from __future__ import annotations

import collections.abc
from itertools import repeat

__all__ = ["consume_prefix_in_state_dict_if_present"]


def _ntuple(n: int, name: str = "parse"):
    """A function giving an iterable argument as a tuple and repeating anything else
    ``n`` times (``_pair(3) == (3, 3)``, ``_pair((1, 2)) == (1, 2)``)."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise TypeError(f"_ntuple: n must be a non-negative int, got {n!r}")

    def parse(x):
        if isinstance(x, collections.abc.Iterable):
            return tuple(x)
        return tuple(repeat(x, n))

    parse.__name__ = name
    return parse


_single = _ntuple(1, "_single")
_pair = _ntuple(2, "_pair")
_triple = _ntuple(3, "_triple")
_quadruple = _ntuple(4, "_quadruple")


def _reverse_repeat_tuple(t, n: int) -> tuple:
    """The elements of ``t`` in reverse order, each repeated ``n`` times (a conv's
    ``padding`` as ``F.pad`` takes it: ``(1, 2)`` -> ``(2, 2, 1, 1)``)."""
    return tuple(x for x in reversed(t) for _ in range(n))


def _list_with_default(out_size, defaults):
    """An adaptive pooling's output size with its None entries taken from the input's
    trailing sizes ``defaults``; an int is returned as it is."""
    if isinstance(out_size, int):
        return out_size
    if len(defaults) <= len(out_size):
        raise ValueError(f"Input dimension should be at least {len(out_size) + 1}")
    return [
        v if v is not None else d
        for v, d in zip(out_size, defaults[-len(out_size) :], strict=False)
    ]


def consume_prefix_in_state_dict_if_present(state_dict, prefix: str) -> None:
    """Strip ``prefix`` from the keys of ``state_dict`` that start with it, in place, and
    from its ``_metadata`` (a checkpoint saved from a ``DataParallel`` model: ``module.``)."""
    if not isinstance(prefix, str):
        raise TypeError(f"prefix must be a str, got {type(prefix).__name__}")
    for key in list(state_dict.keys()):
        if key.startswith(prefix):
            state_dict[key[len(prefix) :]] = state_dict.pop(key)
    metadata = getattr(state_dict, "_metadata", None)
    if metadata is not None:
        for key in list(metadata.keys()):
            if len(key) == 0:
                continue
            if key == prefix.replace(".", "") or key.startswith(prefix):
                metadata[key[len(prefix) :]] = metadata.pop(key)
