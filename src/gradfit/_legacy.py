"""PyTorch's legacy tensor types: ``FloatTensor``, ``LongTensor``, ... and their type strings.

Tutorials still write ``torch.FloatTensor(2, 3)``, ``torch.LongTensor([1, 2])``,
``x.type(torch.FloatTensor)``, ``isinstance(x, torch.FloatTensor)`` and compare
``x.type() == 'torch.FloatTensor'``. Each legacy name here is a class whose call builds an
ordinary :class:`~gradfit.Tensor` of its dtype (sizes or data, as the legacy constructor) and
whose ``isinstance`` check compares the dtype. ``Tensor.type()`` returns PyTorch's own strings
(``'torch.FloatTensor'``, from ``gradfit._typenames``), since programs compare them with
literals.
"""

from __future__ import annotations

from gradfit import _dtypes
from gradfit._arrays import wrap
from gradfit.tensor import Tensor, _legacy_array


class _LegacyTensorMeta(type):
    def __call__(cls, *args, requires_grad: bool = False):
        t = wrap(_legacy_array(args, cls.dtype))
        if requires_grad:
            t.requires_grad_(True)
        return t

    def __instancecheck__(cls, obj) -> bool:
        return isinstance(obj, Tensor) and obj.dtype is cls.dtype

    def __repr__(cls) -> str:
        return f"<class 'gradfit.{cls.__name__}'>"


def _make_type(name: str, dtype: _dtypes.dtype) -> type:
    # ``legacy_dtype`` is what ``Tensor.type(FloatTensor)`` reads (gradfit._typenames).
    return _LegacyTensorMeta(
        name, (), {"dtype": dtype, "legacy_dtype": dtype, "__module__": "gradfit"}
    )


FloatTensor = _make_type("FloatTensor", _dtypes.float32)
DoubleTensor = _make_type("DoubleTensor", _dtypes.float64)
HalfTensor = _make_type("HalfTensor", _dtypes.float16)
LongTensor = _make_type("LongTensor", _dtypes.int64)
IntTensor = _make_type("IntTensor", _dtypes.int32)
ShortTensor = _make_type("ShortTensor", _dtypes.int16)
CharTensor = _make_type("CharTensor", _dtypes.int8)
ByteTensor = _make_type("ByteTensor", _dtypes.uint8)
BoolTensor = _make_type("BoolTensor", _dtypes.bool_)
