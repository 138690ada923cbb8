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

import numpy as np

from gradfit._arrays import wrap
from gradfit.tensor import Tensor, _legacy_array


class _LegacyTensorMeta(type):
    def __call__(cls, *args, requires_grad: bool = False):
        t = wrap(_legacy_array(args, cls.dtype))
        if requires_grad:
            t.requires_grad_(True)
        return t

    def __instancecheck__(cls, obj) -> bool:
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype

    def __repr__(cls) -> str:
        return f"<class 'gradfit.{cls.__name__}'>"


def _make_type(name: str, dtype: np.dtype) -> type:
    # ``legacy_dtype`` is what ``Tensor.type(FloatTensor)`` reads (gradfit._typenames).
    return _LegacyTensorMeta(
        name, (), {"dtype": dtype, "legacy_dtype": dtype, "__module__": "gradfit"}
    )


FloatTensor = _make_type("FloatTensor", np.dtype("float32"))
DoubleTensor = _make_type("DoubleTensor", np.dtype("float64"))
HalfTensor = _make_type("HalfTensor", np.dtype("float16"))
LongTensor = _make_type("LongTensor", np.dtype("int64"))
IntTensor = _make_type("IntTensor", np.dtype("int32"))
ShortTensor = _make_type("ShortTensor", np.dtype("int16"))
CharTensor = _make_type("CharTensor", np.dtype("int8"))
ByteTensor = _make_type("ByteTensor", np.dtype("uint8"))
BoolTensor = _make_type("BoolTensor", np.dtype("bool"))
