"""``gradfit.return_types``: the named tuples PyTorch's multi-output functions return
(``torch.return_types.topk`` and friends): tuples whose items are also attributes
(``values``/``indices``, ...), printed in PyTorch's form::

    gradfit.return_types.topk(
    values=tensor([3., 2.]),
    indices=tensor([0, 2]))
"""

from __future__ import annotations

from collections import namedtuple


def _structseq(name: str, fields: tuple):
    base = namedtuple(name, fields)

    def __repr__(self) -> str:  # noqa: N807 - a method body
        body = ",\n".join(f"{f}={v!r}" for f, v in zip(fields, self))
        return f"gradfit.return_types.{name}(\n{body})"

    cls = type(name, (base,), {"__slots__": (), "__repr__": __repr__, "__str__": __repr__})
    cls.__module__ = __name__
    cls.n_fields = cls.n_sequence_fields = len(fields)
    return cls


_VI = ("values", "indices")
max = _structseq("max", _VI)  # noqa: A001 - PyTorch's names
min = _structseq("min", _VI)  # noqa: A001
sort = _structseq("sort", _VI)
topk = _structseq("topk", _VI)
kthvalue = _structseq("kthvalue", _VI)
median = _structseq("median", _VI)
nanmedian = _structseq("nanmedian", _VI)
mode = _structseq("mode", _VI)
cummax = _structseq("cummax", _VI)
cummin = _structseq("cummin", _VI)
aminmax = _structseq("aminmax", ("min", "max"))
slogdet = _structseq("slogdet", ("sign", "logabsdet"))
linalg_slogdet = _structseq("linalg_slogdet", ("sign", "logabsdet"))
linalg_eigh = _structseq("linalg_eigh", ("eigenvalues", "eigenvectors"))
linalg_qr = _structseq("linalg_qr", ("Q", "R"))
linalg_svd = _structseq("linalg_svd", ("U", "S", "Vh"))
svd = _structseq("svd", ("U", "S", "V"))
qr = _structseq("qr", ("Q", "R"))
linalg_inv_ex = _structseq("linalg_inv_ex", ("inverse", "info"))
linalg_cholesky_ex = _structseq("linalg_cholesky_ex", ("L", "info"))
frexp = _structseq("frexp", ("mantissa", "exponent"))  # toplevel

__all__ = [
    "aminmax",
    "cummax",
    "cummin",
    "frexp",
    "kthvalue",
    "linalg_cholesky_ex",
    "linalg_eigh",
    "linalg_inv_ex",
    "linalg_qr",
    "linalg_slogdet",
    "linalg_svd",
    "max",
    "median",
    "min",
    "mode",
    "nanmedian",
    "qr",
    "slogdet",
    "sort",
    "svd",
    "topk",
]
