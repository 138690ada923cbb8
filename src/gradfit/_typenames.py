"""PyTorch's legacy type names (``'torch.FloatTensor'``) for ``Tensor.type()``.

Below ``tensor`` on the ladder: NumPy only. The legacy classes themselves
(``gradfit.FloatTensor``, ...) live above, in ``gradfit._legacy``; ``Tensor.type(cls)``
knows them by their ``legacy_dtype`` attribute.
"""

from __future__ import annotations

import numpy as np

# PyTorch's legacy type name for each dtype gradfit has.
NAMES = {
    np.dtype("float32"): "FloatTensor",
    np.dtype("float64"): "DoubleTensor",
    np.dtype("float16"): "HalfTensor",
    np.dtype("int64"): "LongTensor",
    np.dtype("int32"): "IntTensor",
    np.dtype("int16"): "ShortTensor",
    np.dtype("int8"): "CharTensor",
    np.dtype("uint8"): "ByteTensor",
    np.dtype("uint16"): "UInt16Tensor",
    np.dtype("uint32"): "UInt32Tensor",
    np.dtype("uint64"): "UInt64Tensor",
    np.dtype("bool"): "BoolTensor",
    np.dtype("complex64"): "ComplexFloatTensor",
    np.dtype("complex128"): "ComplexDoubleTensor",
}
DTYPES = {name: dt for dt, name in NAMES.items()}

# the C++ type names PyTorch's messages print ("float != double"), for each dtype
C_NAMES = {
    np.dtype("float32"): "float",
    np.dtype("float64"): "double",
    np.dtype("float16"): "c10::Half",
    np.dtype("int64"): "long int",
    np.dtype("int32"): "int",
    np.dtype("int16"): "short int",
    np.dtype("int8"): "signed char",
    np.dtype("uint8"): "unsigned char",
    np.dtype("uint16"): "short unsigned int",
    np.dtype("uint32"): "unsigned int",
    np.dtype("uint64"): "long unsigned int",
    np.dtype("bool"): "bool",
}


def scalar_type(dtype) -> str:
    """PyTorch's ScalarType name of ``dtype`` (``Float``, ``Long``), as its messages say it."""
    return NAMES[np.dtype(dtype)].removesuffix("Tensor")


def type_string(dtype) -> str:
    """``Tensor.type()``: PyTorch's string for a CPU tensor of ``dtype``."""
    try:
        return "torch." + NAMES[np.dtype(dtype)]
    except KeyError:
        raise TypeError(f"no legacy tensor type for dtype {dtype}") from None


def target_dtype(target):
    """The dtype meant by ``x.type(target)``: a legacy class, its name, or a dtype."""
    legacy = getattr(target, "legacy_dtype", None)
    if legacy is not None:
        return legacy
    if isinstance(target, str):
        name = target.removeprefix("torch.").removeprefix("gradfit.")
        if name in DTYPES:
            return DTYPES[name]
    return target
