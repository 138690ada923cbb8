"""The ``meta`` device: tensors that have a shape, a dtype and strides but no data.

PyTorch's meta tensors let a program reason about shapes (run a network on a meta input
to read its output sizes, build a model on ``device='meta'`` and give it memory later
with ``to_empty``). gradfit keeps meta-ness in the array itself: a meta tensor holds a
:class:`MetaArray`, an ``ndarray`` subclass whose values are never read. NumPy keeps the
subclass through every ufunc and array function (``__array_ufunc__`` and
``__array_function__`` below), so most ops keep a meta input meta with no device checks.
An op that builds its result in a fresh array (or ``Op.apply``, which hands back plain
arrays) would lose it: the first meta array a program makes installs a meta-aware op path
(``autograd._meta_mode``) that makes such outputs meta again and checks that the operands
share a device. Programs that never touch the meta device keep the plain op path.

The array's memory comes from ``np.zeros`` (pages the OS maps lazily), so a large meta
weight costs address space, not memory; ops still compute on the zeros (quietly: the
results are never shown).
"""

from __future__ import annotations

import numpy as np

_ITEM_ERROR = "Tensor.item() cannot be called on meta tensors"
NO_DATA = "Cannot copy out of meta tensor; no data!"

# ``with gradfit.device("meta"):`` (and a module built with ``device="meta"``) makes new
# tensors meta; nested blocks count.
DEFAULT_META = [0]

# Called once, when the program makes its first meta array (autograd._meta_mode).
_first_meta_hooks: list = []
_seen = [False]


def on_first_meta(hook) -> None:
    _first_meta_hooks.append(hook)
    if _seen[0]:
        hook()


def _first_meta() -> None:
    _seen[0] = True
    for hook in _first_meta_hooks:
        hook()


class MetaArray(np.ndarray):
    """The array of a meta tensor: NumPy computes its shape and dtype, never its values."""

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        out = kwargs.get("out")
        if out is not None:
            kwargs["out"] = tuple(_plain(o) for o in out)
        with np.errstate(all="ignore"):
            result = getattr(ufunc, method)(*map(_plain, inputs), **kwargs)
        if out is not None:
            return out[0] if len(out) == 1 else out
        return as_meta_result(result)

    def __array_function__(self, func, types, args, kwargs):
        with np.errstate(all="ignore"):
            result = super().__array_function__(func, types, args, kwargs)
        return as_meta_result(result)

    # Reading values out of a meta array is PyTorch's error, whoever asks.
    def item(self, *args):
        raise RuntimeError(_ITEM_ERROR)

    def tolist(self):
        raise NotImplementedError(NO_DATA)


def _plain(x):
    return x.view(np.ndarray) if type(x) is MetaArray else x


def as_meta_result(result):
    """``result`` (of a NumPy call that read a meta array) with its arrays made meta."""
    if isinstance(result, np.ndarray):
        return result if type(result) is MetaArray else result.view(MetaArray)
    if isinstance(result, np.generic):
        return np.asarray(result).view(MetaArray)
    if isinstance(result, tuple | list):
        items = [as_meta_result(r) for r in result]
        if type(result) is list:
            return items
        return type(result)(*items) if hasattr(result, "_fields") else tuple(items)
    return result


def to_meta(arr: np.ndarray) -> MetaArray:
    """A meta array with ``arr``'s shape and dtype (C-contiguous, no data copied)."""
    if type(arr) is MetaArray:
        return arr
    arr = np.asarray(arr)
    return zeros(arr.shape, arr.dtype)


def zeros(shape: tuple, dtype) -> MetaArray:
    """A new meta array (every meta array starts here or from another meta array)."""
    if not _seen[0]:
        _first_meta()
    return np.zeros(shape, dtype).view(MetaArray)


def is_meta(arr) -> bool:
    return type(arr) is MetaArray


def check_devices(arrays) -> None:
    """PyTorch's error for an op mixing meta and CPU tensors (``arrays``: the tensor
    operands' arrays; a 0-d CPU tensor may join a meta op, as a wrapped scalar). Called
    only for an op whose output is meta."""
    expected = None
    for arr in arrays:
        kind = "meta" if type(arr) is MetaArray else "cpu"
        if kind == "cpu" and arr.ndim == 0:
            continue
        if expected is None:
            expected = kind
        elif kind != expected:
            raise RuntimeError(f"Tensor on device {kind} is not on the expected device {expected}!")
