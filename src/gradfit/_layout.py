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
