"""``torch.testing``: ``assert_close`` (PyTorch's tolerances by dtype and its error
messages) and ``make_tensor``."""

from __future__ import annotations

import collections.abc
import math

import numpy as np

from gradfit import _arrays, _dtypes
from gradfit.tensor import Tensor

__all__ = ["assert_allclose", "assert_close", "make_tensor"]

# PyTorch's default (rtol, atol) per dtype; any other dtype compares exactly.
_DTYPE_PRECISIONS = {
    "float16": (0.001, 1e-5),
    "bfloat16": (0.016, 1e-5),
    "float32": (1.3e-6, 1e-5),
    "float64": (1e-7, 1e-7),
    "complex64": (1.3e-6, 1e-5),
    "complex128": (1e-7, 1e-7),
}
_NUMBER_DTYPE = {bool: "bool", int: "int64", float: "float64", complex: "complex128"}


class _Mismatch(Exception):
    def __init__(self, type_, msg, id_=()):
        super().__init__(msg)
        self.type, self.msg, self.id = type_, msg, id_

    def to_error(self, msg=None):
        if not isinstance(msg, str):
            generated = self.msg
            if self.id:
                generated += "\n\nThe failure occurred for item " + "".join(
                    str([item]) for item in self.id
                )
            msg = msg(generated) if callable(msg) else generated
        return self.type(msg)


def _dtype_name(x) -> str:
    if isinstance(x, Tensor):
        return str(_arrays.unwrap(x).dtype)
    if isinstance(x, np.ndarray):
        return str(x.dtype)
    return _NUMBER_DTYPE[type(x)]


def _tolerances(a, b, rtol, atol, id_):
    if (rtol is None) ^ (atol is None):
        raise _Mismatch(
            ValueError,
            "Both 'rtol' and 'atol' must be either specified or omitted, but got no "
            f"{'rtol' if rtol is None else 'atol'}.",
            id_,
        )
    if rtol is not None:
        return rtol, atol
    pairs = [_DTYPE_PRECISIONS.get(_dtype_name(x), (0.0, 0.0)) for x in (a, b)]
    return max(p[0] for p in pairs), max(p[1] for p in pairs)


def _is_number(x) -> bool:
    return type(x) in (int, float, complex) or isinstance(x, np.number)


def _make_msg(identifier, extra, abs_diff, abs_idx, atol, rel_diff, rel_idx, rtol):
    equality = rtol == 0 and atol == 0

    def diff_msg(kind, diff, idx, tol):
        if idx is None:
            msg = f"{kind.title()} difference: {diff}"
        else:
            msg = f"Greatest {kind} difference: {diff} at index {idx}"
        if not equality:
            msg += f" (up to {tol} allowed)"
        return msg + "\n"

    msg = f"{identifier} are not {'equal' if equality else 'close'}!\n\n"
    if extra:
        msg += f"{extra.strip()}\n"
    msg += diff_msg("absolute", abs_diff, abs_idx, atol)
    msg += diff_msg("relative", rel_diff, rel_idx, rtol)
    return msg.strip()


def _scalar_msg(actual, expected, rtol, atol):
    abs_diff = abs(actual - expected)
    rel_diff = float("inf") if expected == 0 else abs_diff / abs(expected)
    return _make_msg(
        "Scalars", f"Expected {expected} but got {actual}.", abs_diff, None, atol, rel_diff,
        None, rtol,
    )  # fmt: skip


def _compare_arrays(a, e, rtol, atol, equal_nan, id_):
    """PyTorch's isclose test of two same-shape, same-dtype arrays; raises on mismatch."""
    if a.dtype == np.bool_:
        matches = a == e
    else:
        with np.errstate(invalid="ignore", over="ignore"):
            if a.dtype.kind in "iu":
                matches = a == e if rtol == 0 and atol == 0 else _isclose(a, e, rtol, atol, False)
            else:
                matches = _isclose(a, e, rtol, atol, equal_nan)
    if np.all(matches):
        return
    if a.shape == ():
        raise _Mismatch(AssertionError, _scalar_msg(a.item(), e.item(), rtol, atol), id_)
    n = matches.size
    bad = n - int(matches.sum())
    extra = f"Mismatched elements: {bad} / {n} ({bad / n:.1%})"
    af, ef, mf = a.reshape(-1), e.reshape(-1), matches.reshape(-1)
    if a.dtype.kind not in "fc":
        af, ef = af.astype(np.int64), ef.astype(np.int64)
        rel_dtype = _dtypes.default_np()
    else:
        rel_dtype = np.abs(af).dtype
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        abs_diff = np.abs(af - ef)
        abs_diff[mf] = 0
        rel_diff = (abs_diff / np.abs(ef)).astype(rel_dtype, copy=False)
        rel_diff[mf] = 0
    i_abs, i_rel = _argmax(abs_diff), _argmax(rel_diff)
    raise _Mismatch(
        AssertionError,
        _make_msg(
            "Tensor-likes",
            extra,
            abs_diff[i_abs].item(),
            _unravel(i_abs, a.shape),
            atol,
            rel_diff[i_rel].item(),
            _unravel(i_rel, a.shape),
            rtol,
        ),  # fmt: skip
        id_,
    )


def _argmax(x) -> int:
    """torch.max's index: the first maximum, NaN counting as the largest."""
    nan = np.isnan(x) if x.dtype.kind in "fc" else np.zeros(x.shape, bool)
    if nan.any():
        return int(np.argmax(nan))
    return int(np.argmax(x))


def _unravel(i, shape):
    return tuple(int(k) for k in np.unravel_index(i, shape))


def _isclose(a, e, rtol, atol, equal_nan):
    close = (a == e) | (np.abs(a - e) <= atol + rtol * np.abs(e))
    # infinities match only when equal (handled by a == e); NaN never unless equal_nan
    close &= np.isfinite(a) & np.isfinite(e) | (a == e)
    if equal_nan:
        close |= np.isnan(a) & np.isnan(e)
    return close


def _compare(actual, expected, id_, opts):
    if actual is None or expected is None:
        if not (actual is None and expected is None):
            raise _Mismatch(AssertionError, f"None mismatch: {actual} is not {expected}", id_)
        return
    tensor_like = (Tensor, np.ndarray)
    if isinstance(actual, tensor_like) or isinstance(expected, tensor_like):
        return _compare_tensors(actual, expected, id_, opts)
    if isinstance(actual, bool | np.bool_) and isinstance(expected, bool | np.bool_):
        if bool(actual) != bool(expected):
            raise _Mismatch(
                AssertionError,
                f"Booleans mismatch: {actual} is not {expected}",
                id_,
            )
        return
    if _is_number(actual) and _is_number(expected):
        return _compare_numbers(actual, expected, id_, opts)
    if isinstance(actual, str) or isinstance(expected, str):
        if actual != expected:
            raise _Mismatch(AssertionError, f"{actual} != {expected}", id_)
        return
    if isinstance(actual, collections.abc.Sequence) and isinstance(
        expected, collections.abc.Sequence
    ):
        if len(actual) != len(expected):
            raise _Mismatch(
                AssertionError,
                f"The length of the sequences mismatch: {len(actual)} != {len(expected)}",
                id_,
            )
        for i, (a, e) in enumerate(zip(actual, expected)):
            _compare(a, e, (*id_, i), opts)
        return
    if isinstance(actual, collections.abc.Mapping) and isinstance(
        expected, collections.abc.Mapping
    ):
        ka, ke = set(actual.keys()), set(expected.keys())
        if ka != ke:
            missing, extra = ke - ka, ka - ke
            raise _Mismatch(
                AssertionError,
                f"The keys of the mappings do not match:\nMissing keys in the actual mapping: "
                f"{sorted(missing)}\nAdditional keys in the actual mapping: {sorted(extra)}",
                id_,
            )
        for k in actual:
            _compare(actual[k], expected[k], (*id_, k), opts)
        return
    try:
        equal = actual == expected
    except Exception as error:  # noqa: BLE001 - reported as PyTorch reports it
        raise _Mismatch(
            ValueError, f"{actual} == {expected} failed with:\n{error}.", id_
        ) from error
    if not equal:
        raise _Mismatch(AssertionError, f"{actual} != {expected}", id_)


def _compare_numbers(actual, expected, id_, opts):
    if opts["check_dtype"] and type(actual) is not type(expected):
        raise _Mismatch(
            AssertionError,
            f"The (d)types do not match: {type(actual)} != {type(expected)}.",
            id_,
        )
    rtol, atol = _tolerances(actual, expected, opts["rtol"], opts["atol"], id_)
    a, e = complex(actual), complex(expected)
    if type(actual) is complex or type(expected) is complex:
        close = _scalar_close(a, e, rtol, atol, opts["equal_nan"])
    else:
        close = _scalar_close(a.real, e.real, rtol, atol, opts["equal_nan"])
    if not close:
        raise _Mismatch(AssertionError, _scalar_msg(actual, expected, rtol, atol), id_)


def _scalar_close(a, e, rtol, atol, equal_nan):
    if a == e:
        return True
    if equal_nan and _isnan(a) and _isnan(e):
        return True
    if not (_isfinite(a) and _isfinite(e)):
        return False
    return abs(a - e) <= atol + rtol * abs(e)


def _isnan(x):
    return math.isnan(x.real) or (isinstance(x, complex) and math.isnan(x.imag))


def _isfinite(x):
    return math.isfinite(x.real) and (not isinstance(x, complex) or math.isfinite(x.imag))


def _compare_tensors(actual, expected, id_, opts):
    if not all(isinstance(x, Tensor | np.ndarray) for x in (actual, expected)):
        raise _Mismatch(
            TypeError,
            f"No comparison pair was able to handle inputs of type {type(actual)} and "
            f"{type(expected)}.",
            id_,
        )
    if type(actual) is not type(expected) and not opts["allow_subclasses"]:
        raise _Mismatch(
            TypeError,
            f"No comparison pair was able to handle inputs of type {type(actual)} and "
            f"{type(expected)}.",
            id_,
        )
    if isinstance(actual, np.ndarray) != isinstance(expected, np.ndarray):
        raise _Mismatch(
            TypeError,
            f"No comparison pair was able to handle inputs of type {type(actual)} and "
            f"{type(expected)}.",
            id_,
        )

    def mismatch(attr, a, e):
        raise _Mismatch(
            AssertionError, f"The values for attribute '{attr}' do not match: {a} != {e}.", id_
        )

    if tuple(actual.shape) != tuple(expected.shape):
        mismatch("shape", actual.shape, expected.shape)
    if isinstance(actual, Tensor):
        if opts["check_device"] and actual.device != expected.device:
            mismatch("device", actual.device, expected.device)
        if opts["check_dtype"] and actual.dtype != expected.dtype:
            mismatch("dtype", actual.dtype, expected.dtype)
        if opts["check_stride"] and actual.stride() != expected.stride():
            mismatch("stride()", actual.stride(), expected.stride())
        a, e = _arrays.unwrap(actual.detach()), _arrays.unwrap(expected.detach())
    else:
        if opts["check_dtype"] and actual.dtype != expected.dtype:
            mismatch("dtype", actual.dtype, expected.dtype)
        a, e = actual, expected
    rtol, atol = _tolerances(actual, expected, opts["rtol"], opts["atol"], id_)
    if a.dtype != e.dtype:
        common = np.promote_types(a.dtype, e.dtype)
        a, e = a.astype(common), e.astype(common)
    _compare_arrays(np.asarray(a), np.asarray(e), rtol, atol, opts["equal_nan"], id_)


def assert_close(
    actual,
    expected,
    *,
    allow_subclasses=True,
    rtol=None,
    atol=None,
    equal_nan=False,
    check_device=True,
    check_dtype=True,
    check_layout=True,
    check_stride=False,
    msg=None,
):
    """Assert that ``actual`` and ``expected`` are close: |actual - expected| <= atol +
    rtol * |expected| elementwise, with PyTorch's default tolerances by dtype (float32:
    rtol 1.3e-6, atol 1e-5; float64: 1e-7, 1e-7; integers and bools: exact). Tensors,
    NumPy arrays, numbers and (nested) sequences and mappings of them are compared;
    shape, dtype (``check_dtype``) and device (``check_device``) must match. Raises
    PyTorch's AssertionError message ("Tensor-likes are not close!", ...), or ``msg``
    (a string, or a callable given the generated message)."""
    opts = {
        "allow_subclasses": allow_subclasses,
        "rtol": rtol,
        "atol": atol,
        "equal_nan": equal_nan,
        "check_device": check_device,
        "check_dtype": check_dtype,
        "check_stride": check_stride,
    }
    try:
        _compare(actual, expected, (), opts)
    except _Mismatch as m:
        raise m.to_error(msg) from None


# assert_allclose's (deprecated) defaults
_ALLCLOSE_PRECISIONS = {"float16": (1e-3, 1e-3), "float32": (1e-4, 1e-5), "float64": (1e-5, 1e-8)}


def assert_allclose(actual, expected, rtol=None, atol=None, equal_nan=True, msg=""):
    """Deprecated in PyTorch for ``assert_close`` (a FutureWarning, as there): non-tensors
    become tensors, dtypes need not match, NaNs compare equal, looser default tolerances."""
    import warnings

    from gradfit import tensor

    warnings.warn(
        "`torch.testing.assert_allclose()` is deprecated since 1.12 and will be removed in a "
        "future release. Please use `torch.testing.assert_close()` instead. You can find "
        "detailed upgrade instructions in https://github.com/pytorch/pytorch/issues/61844.",
        FutureWarning,
        stacklevel=2,
    )
    if not isinstance(actual, Tensor):
        actual = tensor(actual)
    if not isinstance(expected, Tensor):
        expected = tensor(expected, dtype=actual.dtype)
    if rtol is None and atol is None:
        pairs = [_ALLCLOSE_PRECISIONS.get(_dtype_name(x), (0.0, 0.0)) for x in (actual, expected)]
        rtol, atol = max(p[0] for p in pairs), max(p[1] for p in pairs)
    assert_close(
        actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan, check_device=True,
        check_dtype=False, check_stride=False, msg=msg or None,
    )  # fmt: skip


def make_tensor(
    *shape,
    dtype,
    device="cpu",
    low=None,
    high=None,
    requires_grad=False,
    noncontiguous=False,
    exclude_zero=False,
    memory_format=None,
):
    """A tensor of ``shape`` filled with values drawn uniformly from [low, high) (defaults
    by dtype as PyTorch: floats [-9, 9), signed integers [-9, 10), unsigned [0, 10),
    bools [0, 2)). The values come from gradfit's default generator and do not match
    the ones ``torch.testing.make_tensor`` draws for the same seed."""
    from gradfit import get_default_dtype, rand, randint

    if len(shape) == 1 and isinstance(shape[0], collections.abc.Sequence):
        shape = shape[0]
    shape = tuple(int(s) for s in shape)
    if noncontiguous and memory_format is not None:
        raise ValueError(
            "The parameters `noncontiguous` and `memory_format` are mutually exclusive, but "
            f"got noncontiguous={noncontiguous} and memory_format={memory_format}"
        )
    np_dtype = np.dtype(_arrays.unwrap(_empty(dtype)).dtype)
    kind = np_dtype.kind
    if requires_grad and kind in "biu":
        raise ValueError(
            "`requires_grad=True` is not supported for boolean and integral dtypes, but got "
            f"dtype={dtype}"
        )
    if kind == "b":
        lo, hi = _low_high(low, high, dtype, 0, 2, 0, 2, integral=True)
        out = randint(lo, hi, shape).to(dtype)
    elif kind in "iu":
        info = np.iinfo(np_dtype)
        top = info.max + (1 if np_dtype != np.int64 else 0)
        lo, hi = _low_high(low, high, dtype, info.min, top, -9, 10, integral=True)
        out = randint(lo, hi, shape, dtype=dtype)
    elif kind in "fc":
        info = np.finfo(np_dtype)
        lo, hi = _low_high(low, high, dtype, float(info.min), float(info.max), -9, 9)
        real = np.float32 if np_dtype == np.complex64 else np_dtype
        if kind == "c":
            parts = rand((*shape, 2), dtype=get_default_dtype())
            arr = _arrays.unwrap(parts).astype(np.float64) * (hi - lo) + lo
            out = _arrays.wrap((arr[..., 0] + 1j * arr[..., 1]).astype(np_dtype))
        else:
            u = _arrays.unwrap(rand(shape, dtype=get_default_dtype())).astype(np.float64)
            out = _arrays.wrap((u * (hi - lo) + lo).astype(real))
    else:
        raise TypeError(
            f"The requested dtype '{dtype}' is not supported by torch.testing.make_tensor(). "
            "To request support, file an issue at: https://github.com/pytorch/pytorch/issues"
        )
    if exclude_zero:
        arr = _arrays.unwrap(out).copy()
        if kind == "b":
            arr[...] = True
        elif kind in "iu":
            arr[arr == 0] = 1
        else:
            tiny = np.finfo(np_dtype).tiny if kind == "f" else np.finfo(np_dtype).tiny
            arr[arr == 0] = tiny
        out = _arrays.wrap(arr)
    if noncontiguous and out.numel() > 1:
        wide = _arrays.wrap(np.repeat(_arrays.unwrap(out), 2, axis=-1))
        out = wide[..., ::2]
    if requires_grad:
        out.requires_grad_(True)
    return out


def _empty(dtype):
    from gradfit import empty

    return empty(0, dtype=dtype)


def _low_high(low, high, dtype, lowest, highest, default_low, default_high, integral=False):
    low = default_low if low is None else low
    high = default_high if high is None else high
    if any(isinstance(v, float) and math.isnan(v) for v in (low, high)):
        raise ValueError(f"`low` and `high` cannot be NaN, but got low={low} and high={high}")
    if low >= high and not (low == high and not integral):
        raise ValueError(f"`low` must be less than `high`, but got {low} >= {high}")
    if high < lowest or low >= highest:
        raise ValueError(
            f"The value interval specified by `low` and `high` is [{low}, {high}), but {dtype} "
            f"only supports [{lowest}, {highest})"
        )
    low, high = min(max(low, lowest), highest), min(max(high, lowest), highest)
    if integral:
        return math.ceil(low), math.ceil(high)
    return low, high
