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
# each name and its fields, as PyTorch's ``torch.return_types``; a class is made on first use
# (module ``__getattr__``), so that importing gradfit does not build them all
_FIELDS = {
    "max": _VI,
    "min": _VI,
    "sort": _VI,
    "topk": _VI,
    "kthvalue": _VI,
    "median": _VI,
    "nanmedian": _VI,
    "mode": _VI,
    "cummax": _VI,
    "cummin": _VI,
    "aminmax": ("min", "max"),
    "slogdet": ("sign", "logabsdet"),
    "linalg_slogdet": ("sign", "logabsdet"),
    "linalg_eigh": ("eigenvalues", "eigenvectors"),
    "linalg_qr": ("Q", "R"),
    "linalg_svd": ("U", "S", "Vh"),
    "svd": ("U", "S", "V"),
    "qr": ("Q", "R"),
    "linalg_inv_ex": ("inverse", "info"),
    "linalg_cholesky_ex": ("L", "info"),
    "linalg_lstsq": ("solution", "residuals", "rank", "singular_values"),
    "linalg_lu_factor": ("LU", "pivots"),
    "linalg_lu_factor_ex": ("LU", "pivots", "info"),
    "linalg_lu": ("P", "L", "U"),
    "linalg_solve_ex": ("result", "info"),
    "frexp": ("mantissa", "exponent"),  # toplevel
    "histogram": ("hist", "bin_edges"),
    "triangular_solve": ("solution", "cloned_coefficient"),  # apigaps
    "lu_unpack": ("P", "L", "U"),  # apigaps
    "_lu_with_info": ("LU", "pivots", "info"),  # apigaps
    "histogramdd": ("hist", "bin_edges"),  # apigaps
}

__all__ = sorted(_FIELDS)


def __getattr__(name: str):
    if name not in _FIELDS:
        raise AttributeError(f"module 'gradfit.return_types' has no attribute {name!r}")
    cls = globals()[name] = _structseq(name, _FIELDS[name])
    return cls


def __dir__() -> list:
    return sorted(set(globals()) | set(_FIELDS))
