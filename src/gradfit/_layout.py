"""Memory layouts (``torch.strided``, ``torch.sparse_coo``, ...): every gradfit tensor is
strided (dense); the others exist so that programs can compare ``x.layout`` with them.
And memory formats (``torch.channels_last``, ...): the order of a strided tensor's
elements in memory, which ``to``, ``contiguous``, ``clone`` and the ``*_like`` factories
take as PyTorch's do (values never depend on it). Printed with gradfit's module name, as
dtypes are."""

from __future__ import annotations

import numpy as np


class layout:  # noqa: N801 - PyTorch's class name
    """A tensor layout; one instance per kind, compared by identity."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"gradfit.{self.name}"

    def __reduce__(self):
        return self.name  # pickled as the module global of that name


strided = layout("strided")
sparse_coo = layout("sparse_coo")
sparse_csr = layout("sparse_csr")
sparse_csc = layout("sparse_csc")
sparse_bsr = layout("sparse_bsr")
sparse_bsc = layout("sparse_bsc")
jagged = layout("jagged")


class memory_format:  # noqa: N801 - PyTorch's class name
    """An order of a dense tensor's elements in memory (``torch.channels_last``, ...)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"gradfit.{self.name}"

    def __reduce__(self):
        return self.name


contiguous_format = memory_format("contiguous_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")
preserve_format = memory_format("preserve_format")

# the axes of an (N, C, H, W) or (N, C, D, H, W) tensor from the outermost in memory
_AXES = {channels_last: (0, 2, 3, 1), channels_last_3d: (0, 2, 3, 4, 1)}


def _dense_in(a: np.ndarray, axes) -> bool:
    """Whether ``a``'s elements fill memory without gaps in the order ``axes`` (outermost
    first); dimensions of size 1 have any stride, as in PyTorch's checks."""
    expected = a.itemsize
    for d in reversed(axes):
        if a.shape[d] != 1:
            if a.strides[d] != expected:
                return False
            expected *= a.shape[d]
    return True


def is_in_format(a: np.ndarray, fmt: memory_format) -> bool:
    """``is_contiguous(memory_format=fmt)``: a channels-last format needs its rank."""
    axes = _AXES.get(fmt)
    if axes is None:
        return a.flags.c_contiguous
    return a.ndim == len(axes) and _dense_in(a, axes)


def format_axes(a: np.ndarray, fmt: memory_format) -> tuple | None:
    """The memory order (outermost axis first) of an array of ``a``'s shape laid out in
    ``fmt``; ``preserve_format`` keeps ``a``'s own order when ``a`` is dense and
    non-overlapping (None: C order), as PyTorch's ``clone`` and ``*_like`` do."""
    if fmt is preserve_format:
        axes = tuple(sorted(range(a.ndim), key=lambda d: -a.strides[d]))
        return axes if _dense_in(a, axes) else None
    axes = _AXES.get(fmt)
    if axes is not None and a.ndim != len(axes):
        raise RuntimeError(f"required rank {len(axes)} tensor to use {fmt.name} format")
    if axes is None and fmt is not contiguous_format:
        raise TypeError(f"memory_format must be a gradfit.memory_format, not {fmt!r}")
    return axes


def empty_as(a: np.ndarray, fmt: memory_format, dtype=None) -> np.ndarray:
    """An uninitialised array of ``a``'s shape in memory format ``fmt``."""
    axes = format_axes(a, fmt)
    dtype = a.dtype if dtype is None else dtype
    if axes is None:
        return np.empty(a.shape, dtype)
    return np.empty([a.shape[d] for d in axes], dtype).transpose(np.argsort(axes))


def copy_as(a: np.ndarray, fmt: memory_format) -> np.ndarray:
    """A copy of ``a`` in memory format ``fmt`` (``clone``, ``contiguous``, ``to``)."""
    out = empty_as(a, fmt)
    out[...] = a
    return out


def memory_owner(a: np.ndarray) -> np.ndarray:
    """The array that owns ``a``'s memory, following NumPy's chain of bases: a tensor's
    storage (``storage_offset`` counts from its start). A strided view made by NumPy's
    ``as_strided`` (``unfold``, ``as_strided``) has a holder of the interface in between."""
    while True:
        base = a.base
        if not isinstance(base, np.ndarray):
            base = getattr(base, "base", None)  # stride_tricks' DummyArray
            if not isinstance(base, np.ndarray):
                return a
        a = base
