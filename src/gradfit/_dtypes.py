"""Dtypes: gradfit uses NumPy's dtype objects under PyTorch's names.

``gradfit.float32 == np.dtype("float32")``, so a dtype can be passed to NumPy unchanged.
float32 is the default, as in PyTorch; ``set_default_dtype`` changes it.
"""

from __future__ import annotations

import numpy as np

float32 = np.dtype("float32")
float64 = np.dtype("float64")
float16 = np.dtype("float16")
int64 = np.dtype("int64")
int32 = np.dtype("int32")
int16 = np.dtype("int16")
int8 = np.dtype("int8")
uint8 = np.dtype("uint8")
bool_ = np.dtype("bool")

_state = {"default": float32}

_ALIASES = {
    "float": float32,
    "float32": float32,
    "double": float64,
    "float64": float64,
    "half": float16,
    "float16": float16,
    "long": int64,
    "int64": int64,
    "int": int32,
    "int32": int32,
    "int16": int16,
    "short": int16,
    "int8": int8,
    "uint8": uint8,
    "bool": bool_,
}


def get_default_dtype() -> np.dtype:
    """The dtype that factories and Python floats get (float32 unless changed)."""
    return _state["default"]


def set_default_dtype(dtype) -> None:
    """Set the default floating dtype, like ``torch.set_default_dtype``."""
    d = to_dtype(dtype)
    if d not in (float32, float64):
        raise TypeError(f"set_default_dtype: only float32 and float64 are supported, got {d}")
    _state["default"] = d


def to_dtype(dtype) -> np.dtype:
    """Normalise a dtype given as a gradfit/NumPy dtype, a Python type or a name."""
    if dtype is None:
        return _state["default"]
    if isinstance(dtype, str):
        try:
            return _ALIASES[dtype.removeprefix("torch.").removeprefix("gradfit.")]
        except KeyError:
            raise TypeError(
                f"unknown dtype {dtype!r}; expected one of {sorted(_ALIASES)}"
            ) from None
    if dtype is float:
        return _state["default"]
    if dtype is int:
        return int64
    if dtype is bool:
        return bool_
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"unknown dtype {dtype!r}") from None
