"""Dtypes: one ``gradfit.dtype`` object per NumPy dtype, under PyTorch's names.

A ``gradfit.dtype`` is a singleton, like ``torch.dtype``: ``x.dtype is gradfit.float32``
holds, and it prints ``gradfit.float32`` where PyTorch prints ``torch.float32``. It holds
the NumPy dtype it stands for in ``.dtype``, which is NumPy's own protocol for dtype-like
objects, so ``np.zeros(3, dtype=gradfit.float32)`` and ``arr.astype(gradfit.float32)``
work unchanged. It compares equal (and hashes equal) to that NumPy dtype and its scalar
type, so a dict keyed by NumPy dtypes finds it.

The core keeps working with NumPy dtypes (an array's ``.dtype``); the conversion to the
public object happens here only: ``from_np`` (what ``Tensor.dtype`` returns) and
``to_dtype`` (the other way, for any dtype-like argument).
float32 is the default, as in PyTorch; ``set_default_dtype`` changes it.
"""

from __future__ import annotations

import numpy as np

from gradfit._typenames import NAMES


class dtype:  # noqa: N801 - PyTorch's name
    """A tensor's element type (``torch.dtype``): ``gradfit.float32``, ``gradfit.int64``, ..."""

    __slots__ = ("dtype", "_name", "is_floating_point", "is_complex", "is_signed", "itemsize")

    def __init__(self, np_dtype: np.dtype | None, name: str, kind: str = "", itemsize: int = 0):
        # np_dtype None: a PyTorch dtype NumPy has no type for (bfloat16), named so that
        # programs can refer to it; ``to_dtype`` refuses it with a clear message.
        kind = kind or np_dtype.kind
        init = object.__setattr__
        init(self, "dtype", np_dtype)
        init(self, "_name", name)
        init(self, "is_floating_point", kind == "f")
        init(self, "is_complex", kind == "c")
        init(self, "is_signed", kind in "fci")
        init(self, "itemsize", itemsize or np_dtype.itemsize)  # bytes per element

    def __setattr__(self, name, value):
        # Shared singletons: a change would change every tensor's dtype.
        raise AttributeError(f"{self}: dtype attributes are read-only")

    def to_real(self) -> dtype:
        """The real dtype of a complex one (``complex64`` -> ``float32``); others unchanged."""
        return from_np(np.empty(0, self.dtype).real.dtype) if self.is_complex else self

    def to_complex(self) -> dtype:
        """The complex dtype of a floating one (``float32`` -> ``complex64``)."""
        if self.is_complex:
            return self
        if self.dtype.kind != "f" or self.dtype.itemsize < 4:
            raise RuntimeError(f"to_complex is only supported for float32 and float64, got {self}")
        return from_np(np.result_type(self.dtype, np.complex64))

    def __repr__(self) -> str:
        return "gradfit." + self._name

    __str__ = __repr__

    def __eq__(self, other):
        if type(other) is dtype:
            return self is other
        # NumPy dtypes and scalar types (np.float32) compare by value: internal code and
        # NumPy users compare a tensor's dtype with them. Anything else (None, strings,
        # Python types) is not a dtype, as in PyTorch.
        if isinstance(other, np.dtype):
            return self.dtype == other
        if isinstance(other, type) and issubclass(other, np.generic):
            return self.dtype == np.dtype(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.dtype)

    def __reduce__(self):
        # Pickles as its name in the gradfit module (as torch's dtypes do in torch), so
        # unpickling gives back the singleton; one gradfit has no public name for (uint16)
        # as the NumPy dtype it stands for.
        if _ALIASES.get(self._name) is self:
            return self._name
        return from_np, (self.dtype,)

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self


dtype.__module__ = "gradfit"

# Public name -> singleton (the names PyTorch uses; aliases are added in _ALIASES).
_BY_NP: dict = {}


def _make(np_name: str, name: str) -> dtype:
    d = dtype(np.dtype(np_name), name)
    _BY_NP[d.dtype] = d
    return d


float32 = _make("float32", "float32")
float64 = _make("float64", "float64")
float16 = _make("float16", "float16")
int64 = _make("int64", "int64")
int32 = _make("int32", "int32")
int16 = _make("int16", "int16")
int8 = _make("int8", "int8")
uint8 = _make("uint8", "uint8")
# PyTorch's "shell" unsigned types: storage, conversion, comparison and a few ops, and no
# promotion with another integer type (``promote`` refuses it, as PyTorch does).
uint16 = _make("uint16", "uint16")
uint32 = _make("uint32", "uint32")
uint64 = _make("uint64", "uint64")
_SHELL_UINTS = (uint16.dtype, uint32.dtype, uint64.dtype)
bfloat16 = dtype(None, "bfloat16", kind="f", itemsize=2)
bool_ = _make("bool", "bool")
complex64 = _make("complex64", "complex64")
complex128 = _make("complex128", "complex128")

_state = {"default": float32.dtype}

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
    "uint16": uint16,
    "uint32": uint32,
    "uint64": uint64,
    "bfloat16": bfloat16,
    "bool": bool_,
    "complex64": complex64,
    "cfloat": complex64,
    "complex128": complex128,
    "cdouble": complex128,
}


def from_np(np_dtype: np.dtype) -> dtype:
    """The gradfit dtype of a NumPy dtype (what ``Tensor.dtype`` returns)."""
    d = _BY_NP.get(np_dtype)
    if d is not None:
        return d
    # A NumPy dtype gradfit has no name for (uint16, a byte-swapped float32 from a file...):
    # the native-order one's, or a new singleton under NumPy's name, made once.
    native = np.dtype(np_dtype).newbyteorder("=")
    d = _BY_NP.get(native)
    if d is None:
        d = dtype(native, native.name)
        _BY_NP[native] = d
    return d


def get_default_dtype() -> dtype:
    """The dtype that factories and Python floats get (float32 unless changed)."""
    return _BY_NP[_state["default"]]


def default_np() -> np.dtype:
    """The default floating dtype as a NumPy dtype (for the core)."""
    return _state["default"]


def set_default_dtype(dtype) -> None:
    """Set the default floating dtype, like ``torch.set_default_dtype``."""
    d = to_dtype(dtype)
    if d not in (float32.dtype, float64.dtype):
        raise TypeError(
            f"set_default_dtype: only float32 and float64 are supported, got {from_np(d)}"
        )
    _state["default"] = d


def to_dtype(dtype_like) -> np.dtype:
    """The NumPy dtype of a dtype given as a gradfit/NumPy dtype, a Python type or a name."""
    if type(dtype_like) is dtype:
        if dtype_like.dtype is None:
            raise _no_array_type(dtype_like)
        return dtype_like.dtype
    if dtype_like is None:
        return _state["default"]
    if isinstance(dtype_like, str):
        try:
            named = _ALIASES[dtype_like.removeprefix("torch.").removeprefix("gradfit.")]
        except KeyError:
            raise TypeError(
                f"unknown dtype {dtype_like!r}; expected one of {sorted(_ALIASES)}"
            ) from None
        return to_dtype(named)
    if dtype_like is float:
        return _state["default"]
    if dtype_like is int:
        return int64.dtype
    if dtype_like is bool:
        return bool_.dtype
    try:
        return np.dtype(dtype_like)
    except TypeError:
        raise TypeError(f"unknown dtype {dtype_like!r}") from None


def _no_array_type(d: dtype) -> TypeError:
    return TypeError(
        f"gradfit tensors cannot hold {d}: NumPy has no {d._name} type; use gradfit.float32 "
        "(or gradfit.float16 to halve the memory)"
    )


# bfloat16's format: float32's 8 exponent bits and 7 of its 23 fraction bits
_BFLOAT16_FRACTION_BITS = 7


class finfo:  # noqa: N801 - PyTorch's name
    """Machine limits of a floating dtype, as ``torch.finfo`` (the default dtype when
    none is given; a complex dtype gives its real part's)."""

    __slots__ = ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype")

    def __init__(self, type=None):  # noqa: A002 - PyTorch's argument name
        if type is bfloat16:  # float32's range, 7 fraction bits
            f32 = np.finfo(np.float32)
            self.bits, self.dtype = 16, "bfloat16"
            self.eps = 2.0**-_BFLOAT16_FRACTION_BITS
            self.max = (2 - self.eps) * 2.0 ** float(f32.maxexp - 1)
            self.min, self.tiny = -self.max, float(f32.smallest_normal)
            self.smallest_normal = self.tiny
            self.resolution = 10.0 ** -int(_BFLOAT16_FRACTION_BITS * np.log10(2))
            return
        d = to_dtype(type)
        if d.kind == "c":
            d = np.empty(0, d).real.dtype
        if d.kind != "f":
            raise TypeError(f"finfo() requires a floating point input type, got {from_np(d)}")
        info = np.finfo(d)
        self.bits = int(info.bits)
        self.eps, self.tiny = float(info.eps), float(info.smallest_normal)
        self.max, self.min = float(info.max), float(info.min)
        self.smallest_normal, self.resolution = self.tiny, 10.0 ** -int(info.precision)
        self.dtype = d.name

    def __eq__(self, other):
        return isinstance(other, finfo) and self.dtype == other.dtype

    def __hash__(self) -> int:
        return hash(("finfo", self.dtype))

    def __repr__(self) -> str:
        return (
            f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
            f"eps={self.eps:g}, smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, "
            f"dtype={self.dtype})"
        )


class iinfo:  # noqa: N801 - PyTorch's name
    """Limits of an integer dtype, as ``torch.iinfo``."""

    __slots__ = ("bits", "min", "max", "dtype")

    def __init__(self, type):  # noqa: A002 - PyTorch's argument name
        d = to_dtype(type)
        if d.kind == "b":
            raise TypeError(f"{from_np(d)} is not supported by iinfo")
        if d.kind not in "iu":
            raise TypeError(f"iinfo() requires an integer input type, got {from_np(d)}")
        info = np.iinfo(d)
        self.bits, self.min, self.max, self.dtype = (
            int(info.bits),
            int(info.min),
            int(info.max),
            d.name,
        )

    def __eq__(self, other):
        return isinstance(other, iinfo) and self.dtype == other.dtype

    def __hash__(self) -> int:
        return hash(("iinfo", self.dtype))

    def __repr__(self) -> str:
        return f"iinfo(min={float(self.min):g}, max={float(self.max):g}, dtype={self.dtype})"


# --- Python ints taken in an integer dtype, as PyTorch's C++ takes them ------------------
_C_NAMES = {
    "int8": "int8_t", "uint8": "uint8_t", "int16": "int16_t", "int32": "int",
    "int64": "int64_t", "uint16": "uint16_t", "uint32": "uint32_t", "uint64": "uint64_t",
}  # fmt: skip


def c_cast_int(value: int, dtype: np.dtype, *, checked: bool = False) -> int:
    """``value`` as a number of the integer ``dtype``, as PyTorch's kernels receive it.

    Arithmetic (``int8_tensor + 300``, ``uint8_tensor * -1``) casts as C does, wrapping
    modulo 2**bits. Fills and bounds (``full``, ``fill_``, ``masked_fill``, ``where``,
    ``clamp``, a ``pow`` exponent) check first (c10's ``checked_convert``): a number out of
    range is refused, except that an unsigned type takes a negative number whose size fits
    (-1 is 255 for uint8), as two's complement does."""
    if checked:
        check_fits(value, value, dtype, _C_NAMES[dtype.name])
    bits = 8 * dtype.itemsize
    value %= 1 << bits
    return value - (1 << bits) if dtype.kind == "i" and value >> (bits - 1) else value


def check_fits(low, high, dtype: np.dtype, name: str) -> None:
    """Refuse numbers from ``low`` to ``high`` that an integer ``dtype`` cannot hold, as
    c10's ``checked_convert`` (an unsigned type takes -top..top, two's complement)."""
    top = (1 << (8 * dtype.itemsize - (dtype.kind == "i"))) - 1
    if low < (-top - 1 if dtype.kind == "i" else -top) or high > top:
        raise RuntimeError(f"value cannot be converted to type {name} without overflow")


def fill_number(value, dtype: np.dtype):
    """A fill value (``full``, ``fill_``, ``masked_fill``, ``where``, clamp's bounds, ...)
    for ``dtype``: a Python int for an integer dtype is checked as PyTorch checks it
    (``c_cast_int``); anything else is left to NumPy's conversion."""
    if type(value) is int and dtype.kind in "iu":
        return c_cast_int(value, dtype, checked=True)
    return value


# --- PyTorch's type promotion ------------------------------------------------------------
_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def promote(a: np.dtype | None, b: np.dtype | None) -> np.dtype | None:
    """PyTorch's promote_types: a float (complex) type wins over any integer or bool one
    (float16 + int32 is float16, where NumPy widens); otherwise NumPy's table agrees."""
    if a is None:
        return b
    if b is None or a == b:
        return a
    ca, cb = _CATEGORY[a.kind], _CATEGORY[b.kind]
    if ca >= 2 and cb < 2:
        return a
    if cb >= 2 and ca < 2:
        return b
    if a in _SHELL_UINTS or b in _SHELL_UINTS:
        names = {d: n.removesuffix("Tensor") for d, n in NAMES.items()}
        raise RuntimeError(
            "Promotion for uint16, uint32, uint64 types is not supported, attempted to promote "
            f"{names[a]} and {names[b]}"
        )
    return np.promote_types(a, b)


def combine_categories(higher: np.dtype | None, lower: np.dtype | None) -> np.dtype | None:
    """PyTorch's combine_categories: the type of the higher-priority operands (dimensioned
    tensors over 0-d tensors over Python numbers) unless a lower one is of a higher
    category (bool < int < float < complex)."""
    if higher is None:
        return lower
    if lower is None:
        return higher
    if higher.kind == "c":
        return higher
    if lower.kind == "c":
        if higher.kind == "f":
            return np.result_type(higher, np.complex64)
        return lower
    if higher.kind == "f":
        return higher
    if higher.kind == "b" or lower.kind == "f":
        return promote(higher, lower)
    return higher


def tensors_result(a: np.ndarray, b: np.ndarray) -> np.dtype:
    """The dtype PyTorch computes a binary op of two tensors in: a 0-d tensor counts only
    when its category is higher than the other's (float32 (3,) * float64 0-d is float32)."""
    if (a.ndim == 0) == (b.ndim == 0):
        return promote(a.dtype, b.dtype)
    if a.ndim == 0:
        a, b = b, a
    return combine_categories(a.dtype, b.dtype)
