"""Memory layouts (``torch.strided``, ``torch.sparse_coo``, ...): every gradfit tensor is
strided (dense); the others exist so that programs can compare ``x.layout`` with them.
Printed with gradfit's module name, as dtypes are."""

from __future__ import annotations


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
    """A dense tensor's order of dimensions in memory (``torch.channels_last``: N, H, W, C
    for a 4-D tensor); one instance per kind, printed with gradfit's module name."""

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


def channels_last_order(fmt, ndim: int) -> tuple | None:
    """The axes of an ``ndim``-D array in memory order for ``fmt`` (None: C order).
    channels_last needs 4 dimensions and channels_last_3d 5, as PyTorch requires."""
    if fmt is None or fmt is contiguous_format or fmt is preserve_format:
        return None
    want = {channels_last: 4, channels_last_3d: 5}.get(fmt)
    if want is None:
        raise TypeError(f"memory_format must be a gradfit.memory_format, not {fmt!r}")
    if ndim != want:
        name = "channels_last" if want == 4 else "channels_last_3d"
        raise RuntimeError(f"required rank {want} tensor to use {name} format")
    return (0,) + tuple(range(2, ndim)) + (1,)


def memory_order(fmt, a) -> tuple | None:
    """The memory order (as ``channels_last_order``) of a copy of array ``a`` made in
    ``fmt``; ``preserve_format`` keeps channels last where ``a`` is laid out so."""
    if fmt is preserve_format:
        if a.ndim in (4, 5) and not a.flags.c_contiguous:
            order = (0,) + tuple(range(2, a.ndim)) + (1,)
            if a.transpose(order).flags.c_contiguous:
                return order
        return None
    return channels_last_order(fmt, a.ndim)


def in_memory_order(a, order):
    """``a`` as a new array with its axes laid out in ``order`` (None: C order)."""
    if order is None:
        return a
    import numpy as np

    return np.ascontiguousarray(a.transpose(order)).transpose(np.argsort(order))


memory_format.__module__ = "gradfit"
