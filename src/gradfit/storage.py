"""Storages (``torch.UntypedStorage``, ``torch.TypedStorage``): the memory a tensor views.

A tensor's storage is the array that owns its memory (NumPy's chain of bases ends there,
``_layout.memory_owner``), seen as bytes (``UntypedStorage``) or as elements of the
tensor's dtype (``TypedStorage``, which PyTorch deprecates and warns about once). Both
share that memory: writing into a storage changes every tensor that views it, and two
tensors share memory exactly when their storages have the same ``data_ptr()``.
"""

from __future__ import annotations

import warnings

import numpy as np

from gradfit import _dtypes
from gradfit._layout import memory_owner
from gradfit.tensor import device as _device

__all__ = ["TypedStorage", "UntypedStorage"]


def _flat(owner: np.ndarray) -> np.ndarray:
    """The owner's elements in memory order (a view: an owner is C or F contiguous)."""
    return owner.ravel(order="K")


class _Storage:
    """What both storages share: a flat NumPy view of the memory, and printing."""

    __slots__ = ("_flat",)

    def __init__(self, flat: np.ndarray) -> None:
        self._flat = flat

    device = property(lambda self: _device("cpu"))
    is_cuda = False

    def size(self) -> int:
        return self._flat.size

    __len__ = size

    def nbytes(self) -> int:
        return self._flat.nbytes

    def element_size(self) -> int:
        return self._flat.itemsize

    def data_ptr(self) -> int:
        return self._flat.__array_interface__["data"][0]

    def tolist(self) -> list:
        return self._flat.tolist()

    def __iter__(self):
        return iter(self.tolist())

    def __getitem__(self, index):
        if isinstance(index, slice):
            return type(self)(self._flat[index])
        return self._flat[index].item()

    def __setitem__(self, index, value) -> None:
        self._flat[index] = value

    def fill_(self, value):
        self._flat[...] = value
        return self

    def copy_(self, source, non_blocking=None):
        if source.nbytes() != self.nbytes():
            raise RuntimeError(f"size mismatch: {source.nbytes()} != {self.nbytes()} bytes")
        self._flat.view(np.uint8)[...] = source._flat.view(np.uint8)
        return self

    def clone(self):
        return type(self)(self._flat.copy())

    def cpu(self):
        return self

    def is_shared(self) -> bool:
        return False

    def share_memory_(self):
        return self

    def is_pinned(self, device="cuda") -> bool:
        return False

    def _info(self) -> str:
        return f"gradfit.storage.{type(self).__name__}(device=cpu) of size {len(self)}"

    def __repr__(self) -> str:
        # PyTorch's format: each element on its own line after a space, then the kind
        return " " + "\n ".join(str(v) for v in self.tolist()) + f"\n[{self._info()}]"

    __str__ = __repr__


class UntypedStorage(_Storage):
    """A tensor's memory as bytes: ``x.untyped_storage()``, or ``UntypedStorage(n)`` for
    ``n`` new (zeroed) bytes."""

    __slots__ = ()

    def __init__(self, size_or_flat=0, *, device=None) -> None:
        if isinstance(size_or_flat, np.ndarray):
            flat = size_or_flat
        else:
            flat = np.zeros(_size(size_or_flat), dtype=np.uint8)
        super().__init__(flat.view(np.uint8) if flat.dtype != np.uint8 else flat)

    @classmethod
    def _of(cls, array: np.ndarray) -> UntypedStorage:
        return cls(_flat(memory_owner(array)))


class TypedStorage(_Storage):
    """A tensor's memory as elements of its dtype: ``x.storage()`` (deprecated in PyTorch,
    which warns), or ``TypedStorage(n, dtype=...)`` / ``TypedStorage(list, dtype=...)``."""

    __slots__ = ()

    def __init__(self, *args, dtype=None, device=None, _flat_view=None) -> None:
        if _flat_view is not None:
            super().__init__(_flat_view)
            return
        _warn_typed_storage_removal(stacklevel=3)
        np_dtype = _dtypes.to_dtype(dtype)
        if len(args) > 1:
            raise TypeError(f"TypedStorage takes one size or sequence, got {len(args)} values")
        if not args or isinstance(args[0], int):
            flat = np.zeros(_size(args[0] if args else 0), dtype=np_dtype)
        else:
            flat = np.asarray(list(args[0]), dtype=np_dtype)
        super().__init__(flat)

    @classmethod
    def _of(cls, array: np.ndarray, warn: bool = False) -> TypedStorage:
        if warn:
            _warn_typed_storage_removal(stacklevel=4)  # at the caller of Tensor.storage
        return cls(_flat_view=_flat(memory_owner(array)).view(array.dtype))

    @property
    def dtype(self):
        return _dtypes.from_np(self._flat.dtype)

    def untyped(self) -> UntypedStorage:
        return UntypedStorage(self._flat)

    def __getitem__(self, index):
        if isinstance(index, slice):
            raise RuntimeError("slices are only supported in UntypedStorage.__getitem__")
        return self._flat[index].item()

    def clone(self):
        return TypedStorage(_flat_view=self._flat.copy())

    def _info(self) -> str:
        return f"gradfit.storage.TypedStorage(dtype={self.dtype}, device=cpu) of size {len(self)}"


def _size(n) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise TypeError(f"a storage's size must be a non-negative int, got {n!r}")
    return int(n)


_warned = [False]


def _warn_typed_storage_removal(stacklevel: int) -> None:
    # PyTorch warns once per process
    if not _warned[0]:
        _warned[0] = True
        warnings.warn(
            "TypedStorage is deprecated. It will be removed in the future and UntypedStorage "
            "will be the only storage class. This should only matter to you if you are using "
            "storages directly.  To access UntypedStorage directly, use "
            "tensor.untyped_storage() instead of tensor.storage()",
            UserWarning,
            stacklevel=stacklevel,
        )
