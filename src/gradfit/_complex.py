"""PyTorch's top-level functions of complex tensors: ``complex``, ``polar``,
``view_as_real``, ``view_as_complex``, ``conj``, ``real``, ``angle``, ...

The ops (and their gradients, in PyTorch's convention) are in ``gradfit.ops.complex``;
the Tensor methods in ``tensor.py``. Here are the checks PyTorch makes on the arguments,
with its messages.
"""

from __future__ import annotations

from gradfit._arrays import unwrap
from gradfit._factories import as_tensor
from gradfit.ops import complex as _ops
from gradfit.tensor import Tensor

__all__ = [
    "angle",
    "complex",
    "conj",
    "conj_physical",
    "imag",
    "is_conj",
    "is_neg",
    "polar",
    "real",
    "resolve_conj",
    "resolve_neg",
    "view_as_complex",
    "view_as_real",
]

# PyTorch's scalar type names, which its messages use.
_TYPE_NAMES = {
    "float16": "Half",
    "float32": "Float",
    "float64": "Double",
    "int64": "Long",
    "int32": "Int",
    "int16": "Short",
    "int8": "Char",
    "uint8": "Byte",
    "bool": "Bool",
    "complex64": "ComplexFloat",
    "complex128": "ComplexDouble",
}


def _type_name(t: Tensor) -> str:
    name = unwrap(t).dtype.name
    return _TYPE_NAMES.get(name, name)


def _check_pair(a: Tensor, b: Tensor) -> None:
    da, db = unwrap(a).dtype, unwrap(b).dtype
    if da.kind != "f" or db.kind != "f" or da.itemsize < 4 or db.itemsize < 4:
        raise RuntimeError(
            "Expected both inputs to be Half, Float or Double tensors but got "
            f"{_type_name(a)} and {_type_name(b)}"
        )
    if da != db:
        raise RuntimeError(
            f"Expected object of scalar type {_TYPE_NAMES[da.name]} but got scalar type "
            f"{_TYPE_NAMES[db.name]} for second argument"
        )


def complex(real: Tensor, imag: Tensor) -> Tensor:  # noqa: A001 - PyTorch's name
    """``torch.complex``: real + i imag, of the complex dtype of their (equal) float dtype."""
    _check_pair(real, imag)
    return _ops.Complex.apply(real, imag)


def polar(abs: Tensor, angle: Tensor) -> Tensor:  # noqa: A002 - PyTorch's names
    """``torch.polar``: abs * (cos(angle) + i sin(angle))."""
    _check_pair(abs, angle)
    return _ops.Polar.apply(abs, angle)


def view_as_real(input: Tensor) -> Tensor:  # noqa: A002
    """The real (..., 2) view of a complex tensor, sharing its memory."""
    if unwrap(input).dtype.kind != "c":
        raise RuntimeError("view_as_real is only supported for complex tensors")
    return _ops.ViewAsReal.apply(input)


def view_as_complex(input: Tensor) -> Tensor:  # noqa: A002
    """The complex view of a float tensor whose last dimension (size 2, stride 1) holds
    real and imaginary parts, sharing its memory."""
    arr = unwrap(input)
    if arr.dtype not in ("float32", "float64"):
        raise RuntimeError(
            "view_as_complex is only supported for half, float and double tensors, but got a "
            f"tensor of scalar type: {_type_name(input)}"
        )
    if arr.ndim == 0 or arr.shape[-1] != 2:
        raise RuntimeError("Tensor must have a last dimension of size 2")
    if arr.strides[-1] != arr.itemsize:
        raise RuntimeError("Tensor must have a last dimension with stride 1")
    # (a length-1 dimension's stride is never used: NumPy may give it any value)
    if any(s % (2 * arr.itemsize) for s, n in zip(arr.strides[:-1], arr.shape) if n > 1):
        raise RuntimeError("Tensor must have a stride divisible by 2 for all but last dimension")
    return _ops.ViewAsComplex.apply(input)


def conj(input: Tensor) -> Tensor:  # noqa: A002
    return input.conj()


def conj_physical(input: Tensor) -> Tensor:  # noqa: A002
    return input.conj_physical()


def resolve_conj(input: Tensor) -> Tensor:  # noqa: A002
    return input.resolve_conj()


def resolve_neg(input: Tensor) -> Tensor:  # noqa: A002
    return input.resolve_neg()


def is_conj(input: Tensor) -> bool:  # noqa: A002
    return input.is_conj()


def is_neg(input: Tensor) -> bool:  # noqa: A002
    return input.is_neg()


def real(input: Tensor) -> Tensor:  # noqa: A002
    return as_tensor(input).real


def imag(input: Tensor) -> Tensor:  # noqa: A002
    return as_tensor(input).imag


def angle(input: Tensor) -> Tensor:  # noqa: A002
    return as_tensor(input).angle()
