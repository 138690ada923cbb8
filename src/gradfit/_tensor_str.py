"""Tensor printing, character for character as PyTorch prints (``torch/_tensor_str.py``).

Programs print tensors, and their output is compared with PyTorch's, so the rules are
PyTorch's: one formatter per tensor chooses integer mode (every finite non-zero value is a
whole number: ``1.``), scientific mode (largest/smallest magnitude > 1000, largest > 1e8 or
smallest < 1e-4, unless ``set_printoptions(sci_mode=...)``) and a common width; tensors with
more than ``threshold`` elements are summarised to ``edgeitems`` per side with ``...``; rows
wrap at ``linewidth``; ``dtype=``, ``size=``, ``grad_fn=`` and ``requires_grad=`` suffixes
follow the tensor. Works on the NumPy array a tensor holds.
"""

from __future__ import annotations

import contextlib
import math

import numpy as np

from gradfit import _dtypes
from gradfit._meta import MetaArray


class _PrinterOptions:
    """The options ``set_printoptions`` sets (PyTorch's ``_tensor_str.PRINT_OPTS``)."""

    def __init__(self) -> None:
        self.precision = 4
        self.threshold: float = 1000
        self.edgeitems = 3
        self.linewidth = 80
        self.sci_mode: bool | None = None


PRINT_OPTS = _PrinterOptions()

_PROFILES = {
    "default": {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80},
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80},
    "full": {"precision": 4, "threshold": math.inf, "edgeitems": 3, "linewidth": 80},
}


def set_printoptions(
    precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None
) -> None:
    """Set printing options, as ``torch.set_printoptions``.

    Args:
        precision: digits after the point (default 4).
        threshold: element count above which tensors are summarised (default 1000).
        edgeitems: items shown at each end of a summarised dimension (default 3).
        linewidth: characters per line before wrapping (default 80).
        profile: ``"default"``, ``"short"`` or ``"full"``, applied before the other options.
        sci_mode: True/False forces scientific notation on/off; None (the default, and what
            every call without it resets to) lets each tensor's values decide.
    """
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(
                f"set_printoptions: unknown profile {profile!r}; expected one of "
                f"{sorted(_PROFILES)}"
            )
        for k, v in _PROFILES[profile].items():
            setattr(PRINT_OPTS, k, v)
    if precision is not None:
        PRINT_OPTS.precision = precision
    if threshold is not None:
        PRINT_OPTS.threshold = threshold
    if edgeitems is not None:
        PRINT_OPTS.edgeitems = edgeitems
    if linewidth is not None:
        PRINT_OPTS.linewidth = linewidth
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions() -> dict:
    """The current options, as keyword arguments for :func:`set_printoptions`."""
    return dict(vars(PRINT_OPTS))


@contextlib.contextmanager
def printoptions(**kwargs):
    """Change the printing options inside a ``with`` block only."""
    old = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**old)


class _Formatter:
    """One tensor's number format: integer/scientific mode and the common width."""

    def __init__(self, arr: np.ndarray):
        self.floating = arr.dtype.kind == "f"
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        values = arr.ravel()
        p = PRINT_OPTS.precision
        if not self.floating:
            for v in values.tolist():
                self.max_width = max(self.max_width, len(f"{v}"))
            return
        nz = values[np.isfinite(values) & (values != 0)]
        if nz.size == 0:
            return
        # Values are formatted as Python floats (the exact value, widened to double), and the
        # mode is decided on double magnitudes, as PyTorch does.
        nz64 = nz.astype(np.float64)
        mags = np.abs(nz64)
        lo, hi = float(mags.min()), float(mags.max())
        self.int_mode = bool(np.all(nz64 == np.ceil(nz64)))
        if PRINT_OPTS.sci_mode is None:
            self.sci_mode = hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4
        else:
            self.sci_mode = PRINT_OPTS.sci_mode
        vals = nz64.tolist()
        if self.sci_mode:
            width = max(len(f"{v:.{p}e}") for v in vals)
        elif self.int_mode:
            width = max(len(f"{v:.0f}") for v in vals) + 1
        else:
            width = max(len(f"{v:.{p}f}") for v in vals)
        self.max_width = max(self.max_width, width)

    def format(self, value) -> str:
        if self.floating:
            if self.sci_mode:
                ret = f"{value:{self.max_width}.{PRINT_OPTS.precision}e}"
            elif self.int_mode:
                ret = f"{value:.0f}"
                if not (math.isinf(value) or math.isnan(value)):
                    ret += "."
            else:
                ret = f"{value:.{PRINT_OPTS.precision}f}"
        else:
            ret = f"{value}"
        return (self.max_width - len(ret)) * " " + ret


def _complex_str(value: complex, fmt: _Formatter, fmt2: _Formatter) -> str:
    """One complex number as PyTorch prints it: the real part in the real parts'
    format, then the imaginary part in theirs, its sign (or ``+``) joining the two."""
    real = fmt.format(value.real)
    imag = (fmt2.format(value.imag) + "j").lstrip()
    return real + imag if imag[0] in "+-" else real + "+" + imag


def _vector_str(
    a: np.ndarray, indent: int, summarize: bool, fmt: _Formatter, fmt2: _Formatter | None = None
) -> str:
    element_length = fmt.max_width + 2
    if fmt2 is not None:
        element_length += fmt2.max_width + 1
        fmt = _ComplexFormat(fmt, fmt2)
    per_line = max(1, math.floor((PRINT_OPTS.linewidth - indent) / element_length))
    e = PRINT_OPTS.edgeitems
    if summarize and not e:
        data = ["..."]
    elif summarize and a.shape[0] > 2 * e:
        data = (
            [fmt.format(v) for v in a[:e].tolist()]
            + [" ..."]
            + [fmt.format(v) for v in a[-e:].tolist()]
        )
    else:
        data = [fmt.format(v) for v in a.tolist()]
    lines = [", ".join(data[i : i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


class _ComplexFormat:
    """The two formatters of a complex tensor, used as one by ``_vector_str``."""

    def __init__(self, fmt: _Formatter, fmt2: _Formatter):
        self.fmt, self.fmt2 = fmt, fmt2

    def format(self, value) -> str:
        return _complex_str(complex(value), self.fmt, self.fmt2)


def _str_with_formatter(
    a: np.ndarray, indent: int, summarize: bool, fmt: _Formatter, fmt2: _Formatter | None = None
) -> str:
    if a.ndim == 0:
        if fmt2 is not None:
            return _complex_str(complex(a.item()), fmt, fmt2)
        return fmt.format(a.item())
    if a.ndim == 1:
        return _vector_str(a, indent, summarize, fmt, fmt2)
    e = PRINT_OPTS.edgeitems
    n = a.shape[0]
    if summarize and n > 2 * e:
        rows = (
            [_str_with_formatter(a[i], indent + 1, summarize, fmt, fmt2) for i in range(e)]
            + ["..."]
            + [_str_with_formatter(a[i], indent + 1, summarize, fmt, fmt2) for i in range(n - e, n)]
        )
    else:
        rows = [_str_with_formatter(a[i], indent + 1, summarize, fmt, fmt2) for i in range(n)]
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(rows) + "]"


def _summarized_data(a: np.ndarray) -> np.ndarray:
    """The elements a summarised print shows (what its formatter is fitted to)."""
    e = PRINT_OPTS.edgeitems
    if a.ndim == 0:
        return a
    if a.ndim == 1:
        return np.concatenate((a[:e], a[-e:])) if a.shape[0] > 2 * e else a
    if not e:
        return a[tuple(slice(0, 0) for _ in range(a.ndim))]
    if a.shape[0] > 2 * e:
        rows = [a[i] for i in range(e)] + [a[i] for i in range(a.shape[0] - e, a.shape[0])]
    else:
        rows = list(a)
    return np.stack([_summarized_data(r) for r in rows])


def _array_str(a: np.ndarray, indent: int) -> str:
    if a.size == 0:
        return "[]"
    summarize = a.size > PRINT_OPTS.threshold
    if a.dtype == np.float16:
        a = a.astype(np.float32)
    if a.dtype.kind == "c":
        # PyTorch formats the real and the imaginary parts each with its own formatter.
        shown = _summarized_data(a) if summarize else a
        return _str_with_formatter(
            a, indent, summarize, _Formatter(shown.real), _Formatter(shown.imag)
        )
    fmt = _Formatter(_summarized_data(a) if summarize else a)
    return _str_with_formatter(a, indent, summarize, fmt)


def _add_suffixes(text: str, suffixes: list, indent: int) -> str:
    parts = [text]
    last_line_len = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        # Lines break where PyTorch's would: its suffix says "torch." where ours says
        # "gradfit.", so the layout is measured in its spelling.
        n = len(suffix) - suffix.count("gradfit.") * 2
        if last_line_len + n + 2 > PRINT_OPTS.linewidth:
            parts.append(",\n" + " " * indent + suffix)
            last_line_len = indent + n
        else:
            parts.append(", " + suffix)
            last_line_len += n + 2
    parts.append(")")
    return "".join(parts)


def _default_complex(default: np.dtype) -> np.dtype:
    return np.dtype(np.complex128) if default == np.float64 else np.dtype(np.complex64)


def tensor_repr(
    arr: np.ndarray, grad_fn_name: str | None, requires_grad: bool, tangent=None
) -> str:
    """``repr`` of a tensor holding ``arr``, as PyTorch's ``_str_intern`` (CPU, strided);
    ``tangent``: a dual tensor's tangent (forward AD), printed after the other suffixes."""
    prefix = "tensor("
    indent = len(prefix)
    suffixes = []
    default = _dtypes.default_np()
    if type(arr) is MetaArray:  # no values: PyTorch prints its size (and a non-default dtype)
        suffixes.append("device='meta'")
        suffixes.append("size=" + str(tuple(arr.shape)))
        if arr.dtype != default:
            suffixes.append(f"dtype={_dtypes.from_np(arr.dtype)}")
        body = "..."
    elif arr.size == 0:
        if arr.ndim != 1:
            suffixes.append("size=" + str(tuple(arr.shape)))
        if arr.dtype != default:
            suffixes.append(f"dtype={_dtypes.from_np(arr.dtype)}")
        body = "[]"
    else:
        if not PRINT_OPTS.edgeitems:
            suffixes.append("size=" + str(tuple(arr.shape)))
        if arr.dtype not in (default, np.int64, np.bool_, _default_complex(default)):
            suffixes.append(f"dtype={_dtypes.from_np(arr.dtype)}")
        body = _array_str(arr, indent)
    if grad_fn_name is not None:
        suffixes.append(f"grad_fn=<{grad_fn_name}>")
    elif requires_grad:
        suffixes.append("requires_grad=True")
    if tangent is not None:
        suffixes.append(f"tangent={tangent}")
    return _add_suffixes(prefix + body, suffixes, indent)
