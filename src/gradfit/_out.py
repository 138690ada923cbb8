"""The ``out=`` argument of PyTorch's math functions, written once: ``with_out(fn)`` gives
``fn`` an ``out`` keyword that writes the result into an existing tensor (or a tuple of
tensors for functions that return several) with PyTorch's rules:

- an ``out`` call records no graph, so it is refused when an input requires a gradient
  (with grad mode on), as PyTorch refuses it;
- the result is cast to ``out``'s dtype only within a category (bool < int < float):
  a float result into an integer ``out`` is an error;
- an ``out`` of another shape is resized (with PyTorch's deprecation warning when it
  held elements); otherwise the values are written into its memory, so views see them.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np

from gradfit._arrays import bump_version, set_array, unwrap
from gradfit._grad_mode import _enabled
from gradfit.autograd import function as _graph

_RANK = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def _write(name: str, result, out):
    if not isinstance(out, _graph.Tensor):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    res = unwrap(result)
    if _RANK[res.dtype.kind] > _RANK[unwrap(out).dtype.kind]:
        raise RuntimeError(
            f"result type {_type_name(res.dtype)} can't be cast to the desired output type "
            f"{_type_name(unwrap(out).dtype)}"
        )
    if tuple(out.shape) != res.shape:
        if out.numel():
            warnings.warn(
                f"An output with one or more elements was resized since it had shape "
                f"{list(out.shape)}, which does not match the required output shape "
                f"{list(res.shape)}. This behavior is deprecated, and in a future PyTorch "
                "release outputs will not be resized unless they have zero elements. You can "
                "explicitly reuse an out tensor t by resizing it, inplace, to zero elements "
                "with t.resize_(0).",
                UserWarning,
                stacklevel=4,
            )
        set_array(out, np.array(res, dtype=out.dtype))
    else:
        np.copyto(unwrap(out), res, casting="unsafe")
    bump_version(out)
    return out


def _type_name(dtype: np.dtype) -> str:
    return {
        "float32": "Float",
        "float64": "Double",
        "float16": "Half",
        "int64": "Long",
        "int32": "Int",
        "int16": "Short",
        "int8": "Char",
        "uint8": "Byte",
        "bool": "Bool",
    }.get(str(dtype), str(dtype))


def with_out(fn):
    """``fn`` with PyTorch's ``out=`` keyword (see the module docstring)."""

    @functools.wraps(fn)
    def wrapper(*args, out=None, **kwargs):
        if out is None:
            return fn(*args, **kwargs)
        name = fn.__name__
        outs = tuple(out) if isinstance(out, tuple | list) else (out,)
        if _enabled[0] and any(isinstance(o, _graph.Tensor) and o.requires_grad for o in outs):
            raise RuntimeError(
                f"{name}(): functions with out=... arguments don't support automatic "
                "differentiation, but one of the arguments requires grad."
            )
        result = fn(*args, **kwargs)
        results = tuple(result) if isinstance(result, tuple) else (result,)
        if any(isinstance(r, _graph.Tensor) and r.requires_grad for r in results):
            raise RuntimeError(
                f"{name}(): functions with out=... arguments don't support automatic "
                "differentiation, but one of the arguments requires grad."
            )
        if len(results) != len(outs):
            raise RuntimeError(
                f"{name}(): expected out to be a tuple of {len(results)} tensors, got {len(outs)}"
            )
        written = tuple(_write(name, r, o) for r, o in zip(results, outs))
        if isinstance(out, tuple | list):
            return type(result)(*written) if hasattr(result, "_fields") else written
        return written[0]

    return wrapper


def factory_with_out(fn):
    """A factory (``zeros``, ``arange``, ``randn``, ...) with PyTorch's ``out=``: the
    values are made in ``out``'s dtype (unless ``dtype`` is given) and written into it."""

    @functools.wraps(fn)
    def wrapper(*args, out=None, **kwargs):
        if out is None:
            return fn(*args, **kwargs)
        if not isinstance(out, _graph.Tensor):
            raise TypeError(
                f"{fn.__name__}(): argument 'out' must be Tensor, not {type(out).__name__}"
            )
        if kwargs.get("dtype") is None:
            kwargs["dtype"] = out.dtype
        return _write(fn.__name__, fn(*args, **kwargs), out)

    return wrapper
