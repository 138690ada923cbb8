"""More of PyTorch's top-level functions: aliases, small math, dtype rules and shape helpers.

Each one is ``torch.<name>`` with PyTorch's results, dtypes and error messages; those that
PyTorch differentiates are composed of recorded gradfit ops (first and second order), and
say so where the composition is chosen to give PyTorch's last bit.
"""

from __future__ import annotations

import itertools
import operator

import numpy as np

from gradfit import _dtypes
from gradfit._arrays import unwrap, wrap
from gradfit._factories import as_tensor, tensor
from gradfit._out import with_out
from gradfit.tensor import Size, Tensor

__all__ = [
    "absolute",
    "adjoint",
    "index_copy",
    "put",
    "renorm",
    "addcdiv",
    "addcmul",
    "aminmax",
    "atleast_1d",
    "atleast_2d",
    "atleast_3d",
    "block_diag",
    "broadcast_shapes",
    "can_cast",
    "clamp_max",
    "clamp_min",
    "divide",
    "expm1",
    "fix",
    "frac",
    "frexp",
    "gcd",
    "greater",
    "greater_equal",
    "heaviside",
    "is_complex",
    "is_inference",
    "is_nonzero",
    "is_same_size",
    "is_signed",
    "lcm",
    "ldexp",
    "lerp",
    "less",
    "less_equal",
    "matrix_power",
    "multiply",
    "negative",
    "not_equal",
    "positive",
    "promote_types",
    "reciprocal",
    "result_type",
    "rsub",
    "scalar_tensor",
    "sgn",
    "subtract",
    "swapdims",
    "threshold",
    "true_divide",
    "trunc",
    "typename",
    "unravel_index",
]


def _t(x) -> Tensor:
    return x if isinstance(x, Tensor) else as_tensor(x)


def _method(name: str, method: str | None = None):
    """``gradfit.<name>(t, ...)``: the Tensor method ``method`` (default ``name``)."""
    method = method or name

    def fn(input, *args, **kwargs):  # noqa: A002
        return getattr(_t(input), method)(*args, **kwargs)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"``gradfit.{name}(t, ...)`` is ``t.{method}(...)``, as in PyTorch."
    return with_out(fn)


# --- aliases: PyTorch's second names for the same operation -------------------------------
multiply = _method("multiply", "mul")
subtract = _method("subtract", "sub")
negative = _method("negative", "neg")
absolute = _method("absolute", "abs")
greater = _method("greater", "gt")
greater_equal = _method("greater_equal", "ge")
less = _method("less", "lt")
less_equal = _method("less_equal", "le")
not_equal = _method("not_equal", "ne")
swapdims = _method("swapdims", "transpose")
fix = _method("fix", "trunc")
trunc = _method("trunc")
sgn = _method("sgn")
expm1 = _method("expm1")
reciprocal = _method("reciprocal")
frac = _method("frac")
clamp_min = _method("clamp_min")
clamp_max = _method("clamp_max")
addcmul = _method("addcmul")
addcdiv = _method("addcdiv")
lerp = _method("lerp")
heaviside = _method("heaviside")
gcd = _method("gcd")
lcm = _method("lcm")
ldexp = _method("ldexp")
frexp = _method("frexp")
adjoint = _method("adjoint")
index_copy = _method("index_copy")
put = _method("put")
renorm = _method("renorm")


@with_out
def divide(input, other, *, rounding_mode=None):  # noqa: A002
    return _t(input).div(other, rounding_mode=rounding_mode)


@with_out
def true_divide(input, other):  # noqa: A002
    return _t(input).div(other)


def positive(input):  # noqa: A002
    return input.positive()


@with_out
def rsub(input, other, *, alpha=1):  # noqa: A002
    """``other - alpha * input`` (PyTorch's ``sub(other, input, alpha)``)."""
    x = _t(input)
    return other - (x if alpha == 1 else x * alpha)


def threshold(input, threshold, value, inplace: bool = False):  # noqa: A002
    """``input`` where it is above ``threshold``, else ``value`` (``torch.threshold``);
    the gradient flows to the kept entries."""
    return input.threshold_(threshold, value) if inplace else input.threshold(threshold, value)


def aminmax(input, *, dim=None, keepdim: bool = False):  # noqa: A002
    return input.aminmax(dim=dim, keepdim=keepdim)


def matrix_power(input, n: int):  # noqa: A002
    return input.matrix_power(n)


def is_inference(input) -> bool:  # noqa: A002
    return input.is_inference()


# --- shape helpers -------------------------------------------------------------------------
def _atleast(nd: int, tensors):
    if len(tensors) == 1:
        tensors = tensors[0]
        if isinstance(tensors, Tensor):
            return _lift(nd, tensors)
    return tuple(_lift(nd, _t(x)) for x in tensors)


def _lift(nd: int, x: Tensor) -> Tensor:
    if x.ndim >= nd:
        return x
    if nd == 1 or x.ndim == 0:
        return x.reshape((1,) * nd)
    if nd == 2 or x.ndim == 2:  # 1-D: a row; 2-D: a trailing axis
        return x.unsqueeze(0) if x.ndim == 1 else x.unsqueeze(-1)
    return x.unsqueeze(0).unsqueeze(-1)  # 1-D to 3-D: (1, n, 1), as PyTorch


def atleast_1d(*tensors):
    """Each input with at least one dimension (a scalar becomes shape (1,))."""
    return _atleast(1, tensors)


def atleast_2d(*tensors):
    """Each input with at least two dimensions (a vector becomes a row)."""
    return _atleast(2, tensors)


def atleast_3d(*tensors):
    """Each input with at least three dimensions (PyTorch's (1, n, 1), (r, c, 1))."""
    return _atleast(3, tensors)


def broadcast_shapes(*shapes) -> Size:
    """The shape that tensors of ``shapes`` broadcast to, without making them."""
    dims = []
    for s in shapes:
        if isinstance(s, int | np.integer):
            dims.append((int(s),))
        elif isinstance(s, tuple | list):
            dims.append(tuple(int(d) for d in s))
        else:
            raise RuntimeError(
                f"Input shapes should be of type ints, a tuple of ints, or a list of ints, got {s}"
            )
    for s in dims:
        for d in s:
            if d < 0:
                raise RuntimeError(
                    f"Trying to create tensor with negative dimension {d}: {list(s)}"
                )
    result: list = []
    for i, s in enumerate(dims):
        if len(s) > len(result):
            result = [1] * (len(s) - len(result)) + result
        for k in range(1, len(s) + 1):
            d, r = s[-k], result[-k]
            if d == r or d == 1:
                continue
            if r == 1:
                result[-k] = d
                continue
            raise RuntimeError(
                f"Attempting to broadcast a dimension of length {d} at {-k}! Mismatching "
                f"argument at index {i} had {shapes[i] if isinstance(shapes[i], list) else s}; but "
                f"expected shape should be broadcastable to {result}"
            )
    return Size(result)


def block_diag(*tensors) -> Tensor:
    """A block-diagonal matrix of the inputs (0-D and 1-D count as 1 x n), in their
    promoted dtype; differentiable in each block."""
    if not tensors:
        return wrap(np.zeros((1, 0), dtype=_dtypes.default_np()))
    mats = []
    for i, x in enumerate(tensors):
        if x.ndim > 2:
            raise RuntimeError(
                f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {i} has "
                f"{x.ndim} dimensions"
            )
        mats.append(x.reshape(1, -1) if x.ndim < 2 else x)
    dt = _dtypes.to_dtype(result_type(*tensors)) if len(tensors) > 1 else unwrap(mats[0]).dtype
    width = sum(m.shape[1] for m in mats)
    rows, col = [], 0
    for m in mats:
        r, c = m.shape
        m = m.to(dt) if unwrap(m).dtype != dt else m
        parts = []
        if col:
            parts.append(wrap(np.zeros((r, col), dtype=dt)))
        parts.append(m)
        if width - col - c:
            parts.append(wrap(np.zeros((r, width - col - c), dtype=dt)))
        rows.append(parts[0] if len(parts) == 1 else _cat(parts, 1))
        col += c
    out = rows[0].clone() if len(rows) == 1 else _cat(rows, 0)  # always a new tensor
    from gradfit.autograd._torch_names import named

    return named(out, "BlockDiagBackward0")


def _cat(parts, dim):
    from gradfit._functional import cat

    return cat(parts, dim)


def unravel_index(indices, shape):
    """The coordinates in an array of ``shape`` of flat (C-order) ``indices``, one int64
    tensor per dimension (PyTorch's floor-division and remainder, so indices wrap)."""
    indices = _t(indices)
    if unwrap(indices).dtype.kind not in "iu":
        raise TypeError(f"expected 'indices' to be integer dtype, but got {indices.dtype}")
    if isinstance(shape, int | np.integer):
        shape = (int(shape),)
    elif isinstance(shape, tuple | list):
        for d in shape:
            if not isinstance(d, int | np.integer):
                raise TypeError(
                    f"expected 'shape' sequence to only contain ints, but got {type(d)}"
                )
        shape = tuple(int(d) for d in shape)
    else:
        raise TypeError(f"expected 'shape' to be int or sequence of ints, but got {type(shape)}")
    if any(d < 0 for d in shape):
        raise ValueError(f"'shape' cannot have negative values, but got {shape}")
    coefs = list(reversed(list(itertools.accumulate(reversed(shape[1:] + (1,)), operator.mul))))
    idx = unwrap(indices).astype(np.int64)[..., None]
    with np.errstate(divide="ignore"):
        out = np.floor_divide(idx, np.asarray(coefs, dtype=np.int64))
        shp = np.asarray(shape, dtype=np.int64)
        if (shp == 0).any():
            raise RuntimeError("ZeroDivisionError")
        out = np.remainder(out, shp)
    return tuple(wrap(np.array(out[..., i])) for i in range(len(shape)))


# --- dtypes: PyTorch's promotion and casting rules ----------------------------------------
def _np(d) -> np.dtype:
    return _dtypes.to_dtype(d)


def promote_types(type1, type2):
    """The smallest dtype both ``type1`` and ``type2`` convert to without losing range."""
    return _dtypes.from_np(_dtypes.promote(_np(type1), _np(type2)))


def can_cast(from_, to) -> bool:
    """PyTorch's casting rule: no float or complex into an integer, no complex into a
    real type, nothing but bool into bool."""
    src, dst = _np(from_), _np(to)
    if src.kind in "fc" and dst.kind in "biu":
        return False
    if src.kind == "c" and dst.kind != "c":
        return False
    return not (dst.kind == "b" and src.kind != "b")


def result_type(*operands):
    """The dtype PyTorch gives an arithmetic op of ``operands`` (tensors or numbers):
    dimensioned tensors first, then 0-D tensors, then Python numbers, each lower group
    counting only when its category (bool < int < float < complex) is higher."""
    dim = zero = scalar = None
    for x in operands:
        if isinstance(x, Tensor):
            a = unwrap(x).dtype
            if x.ndim:
                dim = _dtypes.promote(dim, a)
            else:
                zero = _dtypes.promote(zero, a)
        elif isinstance(x, bool | np.bool_):
            scalar = _dtypes.promote(scalar, np.dtype(np.bool_))
        elif isinstance(x, int | np.integer):
            scalar = _dtypes.promote(scalar, np.dtype(np.int64))
        elif isinstance(x, float | np.floating):
            scalar = _dtypes.promote(scalar, _dtypes.default_np())
        elif isinstance(x, complex | np.complexfloating):
            scalar = _dtypes.promote(scalar, np.result_type(_dtypes.default_np(), np.complex64))
        else:
            raise TypeError(f"result_type(): expected Tensors or numbers, got {type(x).__name__}")
    return _dtypes.from_np(
        _dtypes.combine_categories(dim, _dtypes.combine_categories(zero, scalar))
    )


def is_complex(input) -> bool:  # noqa: A002
    return input.is_complex()


def is_nonzero(input) -> bool:  # noqa: A002
    return input.is_nonzero()


def is_same_size(input, other) -> bool:  # noqa: A002
    return input.is_same_size(other)


def is_signed(input) -> bool:  # noqa: A002
    return input.is_signed()


def scalar_tensor(s, *, dtype=None, device=None, requires_grad: bool = False, **_) -> Tensor:
    """A 0-D tensor holding ``s``, of the default float dtype unless ``dtype`` is given."""
    return tensor(
        s, dtype=dtype or _dtypes.get_default_dtype(), device=device, requires_grad=requires_grad
    )


def typename(obj) -> str:
    """``'torch.FloatTensor'`` for a tensor; otherwise the object's qualified name."""
    if isinstance(obj, Tensor):
        return obj.type()
    module = getattr(obj, "__module__", "") or ""
    if hasattr(obj, "__qualname__"):
        qualname = obj.__qualname__
    elif hasattr(obj, "__name__"):
        qualname = obj.__name__
    else:
        module = obj.__class__.__module__ or ""
        qualname = obj.__class__.__qualname__
    if module in ("", "builtins"):
        return qualname
    return f"{module}.{qualname}"


# --- ``torch.<name>_(t, ...)``: the in-place functions that are ``t.<name>_(...)`` --------
_INPLACE_FUNCTIONS = (
    "abs acos acosh addmv arccos arccosh arcsin arcsinh arctan arctanh asin asinh atan atanh "
    "ceil clamp clamp_max clamp_min clip cos cosh deg2rad detach erf erfc exp exp2 expm1 fill "
    "fix floor frac gcd index_put lcm ldexp log log10 log1p log2 logit nan_to_num neg negative "
    "rad2deg reciprocal relu round rsqrt sigmoid sin sinc sinh sqrt square tan tanh threshold "
    "trunc xlogy zero"
).split()


def _inplace_function(name: str):
    def fn(input, *args, **kwargs):  # noqa: A002
        return getattr(input, name)(*args, **kwargs)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"``gradfit.{name}(t, ...)`` is ``t.{name}(...)``, as in PyTorch."
    return fn


for _name in _INPLACE_FUNCTIONS:
    globals()[_name + "_"] = _inplace_function(_name + "_")
    __all__.append(_name + "_")
