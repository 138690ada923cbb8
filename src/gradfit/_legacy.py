"""PyTorch's legacy tensor types: ``FloatTensor``, ``LongTensor``, ... and their type strings.

Tutorials still write ``torch.FloatTensor(2, 3)``, ``torch.LongTensor([1, 2])``,
``x.type(torch.FloatTensor)``, ``isinstance(x, torch.FloatTensor)`` and compare
``x.type() == 'torch.FloatTensor'``. Each legacy name here is a class whose call builds an
ordinary :class:`~gradfit.Tensor` of its dtype (sizes or data, as the legacy constructor) and
whose ``isinstance`` check compares the dtype. ``Tensor.type()`` returns PyTorch's own strings
(``'torch.FloatTensor'``), since programs compare them with literals.
"""

from __future__ import annotations

import numpy as np

from gradfit.tensor import Tensor, _legacy_array

# PyTorch's legacy type name for each dtype gradfit has.
_NAMES = {
    np.dtype("float32"): "FloatTensor",
    np.dtype("float64"): "DoubleTensor",
    np.dtype("float16"): "HalfTensor",
    np.dtype("int64"): "LongTensor",
    np.dtype("int32"): "IntTensor",
    np.dtype("int16"): "ShortTensor",
    np.dtype("int8"): "CharTensor",
    np.dtype("uint8"): "ByteTensor",
    np.dtype("bool"): "BoolTensor",
}
_DTYPES = {name: dt for dt, name in _NAMES.items()}


class _LegacyTensorMeta(type):
    def __call__(cls, *args, requires_grad: bool = False):
        t = Tensor._make(_legacy_array(args, cls.dtype), None)
        if requires_grad:
            t.requires_grad_(True)
        return t

    def __instancecheck__(cls, obj) -> bool:
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype

    def __repr__(cls) -> str:
        return f"<class 'gradfit.{cls.__name__}'>"


def _make_type(name: str, dtype: np.dtype) -> type:
    return _LegacyTensorMeta(name, (), {"dtype": dtype, "__module__": "gradfit"})


FloatTensor = _make_type("FloatTensor", np.dtype("float32"))
DoubleTensor = _make_type("DoubleTensor", np.dtype("float64"))
HalfTensor = _make_type("HalfTensor", np.dtype("float16"))
LongTensor = _make_type("LongTensor", np.dtype("int64"))
IntTensor = _make_type("IntTensor", np.dtype("int32"))
ShortTensor = _make_type("ShortTensor", np.dtype("int16"))
CharTensor = _make_type("CharTensor", np.dtype("int8"))
ByteTensor = _make_type("ByteTensor", np.dtype("uint8"))
BoolTensor = _make_type("BoolTensor", np.dtype("bool"))


def type_string(dtype: np.dtype) -> str:
    """``Tensor.type()``: PyTorch's string for a CPU tensor of ``dtype``."""
    try:
        return "torch." + _NAMES[np.dtype(dtype)]
    except KeyError:
        raise TypeError(f"no legacy tensor type for dtype {dtype}") from None


def target_dtype(target):
    """The dtype meant by ``x.type(target)``: a legacy class, its string, or a dtype."""
    if isinstance(target, _LegacyTensorMeta):
        return target.dtype
    if isinstance(target, str):
        name = target.removeprefix("torch.").removeprefix("gradfit.")
        if name in _DTYPES:
            return _DTYPES[name]
    return target


def Variable(data, requires_grad: bool = False, volatile: bool = False) -> Tensor:  # noqa: N802
    """``torch.autograd.Variable`` with its current meaning: returns the Tensor itself.

    Since PyTorch 0.4 a Variable is a Tensor; ``Variable(t, requires_grad=True)`` marks ``t``
    (a leaf) as requiring a gradient and returns it.
    """
    if not isinstance(data, Tensor):
        raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
    if requires_grad:
        data.requires_grad_(True)
    return data
