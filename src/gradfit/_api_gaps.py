"""Top-level functions older programs still call (apigaps): the window functions
(``hann_window``, ``hamming_window``, ``blackman_window``, ``bartlett_window``,
``kaiser_window``), the deprecated ``range`` and ``set_default_tensor_type`` (with
PyTorch's warnings), ``empty_strided``, ``empty_permuted``, ``asarray``, ``frombuffer``,
``fill``, ``cumulative_trapezoid``, ``histogramdd``, the global switches
(``set_warn_always``, ``set_flush_denormal``, ``set_anomaly_enabled``), ``newaxis``, the
``*_copy`` forms of the view ops and ``svd_lowrank``/``pca_lowrank``.

The windows follow ATen's CPU kernels step by step in the requested dtype (``arange``,
then the scalar products in that dtype), so the float64 cosine windows agree with
PyTorch's bit for bit; float32 ones differ from PyTorch's by at most half an ulp of 1 at
a few points (PyTorch's vectorised float32 cosine is not always correctly rounded), and
the Kaiser window's I0 (SciPy's Cephes series, as PyTorch's) agrees to ~1e-14 relative
in float64.
"""

from __future__ import annotations

import builtins
import math
import warnings

import numpy as np

from gradfit import _dtypes, _typenames
from gradfit._arrays import unwrap, wrap
from gradfit._tensorops_gaps import WARN_ALWAYS, warn_once
from gradfit.autograd import anomaly_mode as _anomaly
from gradfit.ops import special as _sp

newaxis = None


# ------------------------------------------------------------------------ windows
def _window_dtype(fn: str, dtype):
    dt = _dtypes.default_np() if dtype is None else _dtypes.to_dtype(dtype)
    if dt.kind != "f":
        raise RuntimeError(
            f"{fn} expects floating point dtypes, got: TensorOptions(dtype={_dtypes.from_np(dt)}"
            ", device=cpu, layout=Strided, requires_grad=false (default), pinned_memory=false "
            "(default), memory_format=(nullopt))"
        )
    return dt


def _window_start(fn: str, window_length: int, dtype):
    if window_length < 0:
        raise RuntimeError(
            f"{fn} requires non-negative window_length, got window_length={window_length}"
        )
    dt = _window_dtype(fn, dtype)
    if window_length == 0:
        return dt, np.empty((0,), dtype=dt)
    if window_length == 1:
        return dt, np.ones((1,), dtype=dt)
    return dt, None


def _cos(w):
    """cos in w's dtype, rounded from float64: closer to PyTorch's float32 cosine (SLEEF,
    within 1 ulp) than NumPy's float32 one."""
    return np.cos(w.astype(np.float64)).astype(w.dtype)


def _done(a, requires_grad: bool):
    t = wrap(np.ascontiguousarray(a))
    return t.requires_grad_() if requires_grad else t


def hamming_window(
    window_length: int,
    periodic: bool = True,
    alpha: float = 0.54,
    beta: float = 0.46,
    *,
    dtype=None,
    layout=None,
    device=None,
    requires_grad: bool = False,
):
    """alpha - beta cos(2 pi n / (N - 1)); ``periodic`` computes N + 1 points and drops
    the last (a window for spectral analysis)."""
    dt, early = _window_start("hamming_window", window_length, dtype)
    if early is not None:
        return _done(early, requires_grad)
    n = window_length + 1 if periodic else window_length
    w = np.arange(n, dtype=dt)
    w = w * dt.type(math.pi * 2.0 / (n - 1))
    w = _cos(w) * dt.type(-beta) + dt.type(alpha)
    return _done(w[: n - 1] if periodic else w, requires_grad)


def hann_window(
    window_length: int,
    periodic: bool = True,
    *,
    dtype=None,
    layout=None,
    device=None,
    requires_grad: bool = False,
):
    """0.5 - 0.5 cos(2 pi n / (N - 1)): ``hamming_window`` with alpha = beta = 1/2, as
    ATen computes it."""
    _window_start("hann_window", window_length, dtype)
    return hamming_window(
        window_length, periodic, 0.5, 0.5, dtype=dtype, requires_grad=requires_grad
    )


def blackman_window(
    window_length: int,
    periodic: bool = True,
    *,
    dtype=None,
    layout=None,
    device=None,
    requires_grad: bool = False,
):
    """0.42 - 0.5 cos(2 pi n / (N - 1)) + 0.08 cos(4 pi n / (N - 1))."""
    dt, early = _window_start("blackman_window", window_length, dtype)
    if early is not None:
        return _done(early, requires_grad)
    n = window_length + 1 if periodic else window_length
    w = np.arange(n, dtype=dt) * dt.type(math.pi / (n - 1))
    w = _cos(w * dt.type(4)) * dt.type(0.08) - _cos(w * dt.type(2)) * dt.type(0.5) + dt.type(0.42)
    return _done(w[: n - 1] if periodic else w, requires_grad)


def bartlett_window(
    window_length: int,
    periodic: bool = True,
    *,
    dtype=None,
    layout=None,
    device=None,
    requires_grad: bool = False,
):
    """The triangular window 1 - |2n / (N - 1) - 1|."""
    dt, early = _window_start("bartlett_window", window_length, dtype)
    if early is not None:
        return _done(early, requires_grad)
    n = window_length + 1 if periodic else window_length
    w = np.arange(n, dtype=dt) * dt.type(2.0 / (n - 1))
    half = ((n - 1) >> 1) + 1
    w[half:] = w[half:] * dt.type(-1) + dt.type(2)
    return _done(w[: n - 1] if periodic else w, requires_grad)


def kaiser_window(
    window_length: int,
    periodic: bool = True,
    beta: float = 12.0,
    *,
    dtype=None,
    layout=None,
    device=None,
    requires_grad: bool = False,
):
    """I0(beta sqrt(1 - ((n - a) / a)^2)) / I0(beta), a = (N - 1) / 2."""
    dt, early = _window_start("kaiser_window", window_length, dtype)
    if early is not None:
        return _done(early, requires_grad)
    n = window_length + 1 if periodic else window_length
    x = np.arange(n, dtype=dt)
    a = dt.type((n - 1) / 2.0)
    b = dt.type(beta)
    arg = b * np.sqrt(dt.type(1) - ((x - a) / a) ** dt.type(2))
    i0 = unwrap(_sp.I0.apply(wrap(np.concatenate([arg, np.asarray([b], dtype=dt)]))))
    w = (i0[:-1] / i0[-1]).astype(dt)
    return _done(w[: n - 1] if periodic else w, requires_grad)


# ------------------------------------------------------------------------ factories
def range(start, end, step=1, *, dtype=None, layout=None, device=None, requires_grad=False):  # noqa: A001
    """Deprecated: start, start + step, ..., up to and including end (PyTorch warns, and
    the result is of the default floating dtype unless ``dtype`` says otherwise)."""
    warnings.warn(
        "torch.range is deprecated and will be removed in a future release because its "
        "behavior is inconsistent with Python's range builtin. Instead, use torch.arange, "
        "which produces values in [start, end).",
        stacklevel=2,
    )
    dt = _dtypes.default_np() if dtype is None else _dtypes.to_dtype(dtype)
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (step > 0 and start > end) or (step < 0 and start < end):
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    size = int(math.floor((float(end) - float(start)) / float(step))) + 1
    acc = np.float64 if dt.kind == "f" else np.int64
    vals = acc(start) + np.arange(size, dtype=acc) * acc(step)
    return _done(vals.astype(dt), requires_grad)


def _done_view(a, requires_grad: bool):
    t = wrap(a)
    return t.requires_grad_() if requires_grad else t


def empty_permuted(
    size,
    physical_layout,
    *,
    dtype=None,
    layout=None,
    device=None,
    requires_grad=False,
    pin_memory=False,
):
    """An uninitialised tensor of ``size`` whose memory runs in the order of
    ``physical_layout`` (outermost first)."""
    size, perm = tuple(int(s) for s in size), tuple(int(p) for p in physical_layout)
    if sorted(perm) != list(builtins.range(len(size))):
        raise RuntimeError(
            f"Number of dimensions in size does not match the length of the physical_layout; "
            f"i.e. len(size) = {len(size)} is not equal to len(physical_layout) = {len(perm)}"
        )
    dt = _dtypes.default_np() if dtype is None else _dtypes.to_dtype(dtype)
    a = np.empty(tuple(size[p] for p in perm), dtype=dt).transpose(np.argsort(perm))
    return _done_view(a, requires_grad)


def frombuffer(buffer, *, dtype, count: int = -1, offset: int = 0, requires_grad: bool = False):
    """A 1-D tensor over the memory of a Python buffer (shared, not copied)."""
    dt = _dtypes.to_dtype(dtype)
    mv = memoryview(buffer)
    if mv.readonly:
        warn_once(
            "The given buffer is not writable, and PyTorch does not support non-writable "
            "tensors. This means you can write to the underlying (supposedly non-writable) "
            "buffer using the tensor. You may want to copy the buffer to protect its data or "
            "make it writable before converting it to a tensor. This type of warning will be "
            "suppressed for the rest of this program."
        )
    nbytes = mv.nbytes
    if offset < 0 or offset >= nbytes:
        raise ValueError(
            f"both buffer length ({nbytes}) and offset ({offset}) must be greater than 0 and "
            f"the offset less than buffer length"
        )
    if count <= 0 and (nbytes - offset) % dt.itemsize:
        raise ValueError(
            f"buffer length ({nbytes - offset} after offset) must be a multiple of element "
            f"size ({dt.itemsize})"
        )
    a = np.frombuffer(buffer, dtype=dt, count=count, offset=offset)
    if not a.flags.writeable:
        a = a.view()
    return _done_view(a, requires_grad)


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad: bool = False):
    """``obj`` as a tensor, sharing memory with a tensor or NumPy array when its dtype
    already fits (``copy=False`` demands sharing, ``copy=True`` forbids it)."""
    from gradfit.tensor import Tensor

    want = None if dtype is None else _dtypes.to_dtype(dtype)
    if isinstance(obj, Tensor) or isinstance(obj, np.ndarray):
        a = unwrap(obj) if isinstance(obj, Tensor) else obj
        fits = want is None or a.dtype == want
        if copy is False and not fits:
            raise ValueError(
                "can't alias tensor from device 'cpu' to 'cpu' with dtype "
                f"{_dtypes.from_np(a.dtype)} to {_dtypes.from_np(want)}: copy=False"
            )
        if copy or not fits:
            a = a.astype(want or a.dtype, copy=True)
        if isinstance(obj, Tensor) and a is unwrap(obj):
            t = obj if not requires_grad else obj.detach()
            return t.requires_grad_() if requires_grad else t
        return _done_view(a, requires_grad)
    from gradfit._factories import tensor

    t = tensor(obj, dtype=dtype)
    return t.requires_grad_() if requires_grad else t


def fill(input, value):  # noqa: A002
    """A tensor like ``input`` filled with ``value`` (out of place)."""
    from gradfit._factories import full_like

    v = value.item() if hasattr(value, "shape") else value
    return full_like(input, v)


# ------------------------------------------------------------------------ global switches
def set_default_tensor_type(t) -> None:
    """Deprecated: set the default floating dtype from a legacy tensor type
    (``torch.DoubleTensor`` or ``'torch.DoubleTensor'``), with PyTorch's warning."""
    warn_once(
        "torch.set_default_tensor_type() is deprecated as of PyTorch 2.1, please use "
        "torch.set_default_dtype() and torch.set_default_device() as alternatives."
    )
    name = t if isinstance(t, str) else f"torch.{getattr(t, '__name__', t)}"
    dt = (
        _typenames.dtype_of_type_string(name)
        if hasattr(_typenames, "dtype_of_type_string")
        else None
    )
    if dt is None:
        table = {"torch.FloatTensor": _dtypes.float32, "torch.DoubleTensor": _dtypes.float64}
        if name not in table:
            raise TypeError(f"invalid type: '{name}'")
        dt = table[name]
    _dtypes.set_default_dtype(dt)


def set_warn_always(b: bool) -> None:
    """Make warnings that PyTorch gives once per process appear every time (a flag that
    ``is_warn_always_enabled`` reads)."""
    WARN_ALWAYS[0] = bool(b)


def is_warn_always_enabled() -> bool:
    return WARN_ALWAYS[0]


def set_flush_denormal(mode: bool) -> bool:
    """Whether denormal floats can be flushed to zero: NumPy has no such switch, so this
    returns False (what PyTorch returns on a CPU without the feature) and changes nothing."""
    return False


def set_anomaly_enabled(enabled: bool, check_nan: bool = True) -> None:
    """Turn anomaly detection on or off (``autograd.set_detect_anomaly``)."""
    _anomaly.set_detect_anomaly(enabled, check_nan)


def get_device(input) -> int:  # noqa: A002
    """-1: every gradfit tensor lives on the CPU."""
    return -1


# ------------------------------------------------------------------------ integration
def cumulative_trapezoid(y, x=None, *, dx=None, dim: int = -1):
    """The running trapezoid-rule integral of y along ``dim`` (one element fewer), in
    ATen's order of operations: (dx / 2 * (y[:-1] + y[1:])).cumsum for a constant
    spacing, ((y[:-1] + y[1:]) * diff(x)).cumsum / 2 for sample points x."""
    if x is not None and dx is not None:
        raise TypeError("cumulative_trapezoid() received an invalid combination of arguments")
    if unwrap(y).dtype == np.bool_ or (x is not None and unwrap(x).dtype == np.bool_):
        raise RuntimeError(
            "cumulative_trapezoid: received a bool input for `x` or `y`, but bool is not supported"
        )
    d = dim % y.ndim if y.ndim else 0
    n = y.shape[d]
    left, right = y.narrow(d, 0, max(n - 1, 0)), y.narrow(d, min(1, n), max(n - 1, 0))
    if x is None:
        return ((1.0 if dx is None else float(dx)) / 2.0 * (left + right)).cumsum(d)
    if x.ndim == 1:
        if x.shape[0] != n:
            raise RuntimeError(
                "cumulative_trapezoid: There must be one `x` value for each sample point"
            )
        xv = x.reshape([n if i == d else 1 for i in builtins.range(y.ndim)])
    elif x.ndim < y.ndim:
        xv = x.reshape([1] * (y.ndim - x.ndim) + list(x.shape))
    else:
        xv = x
    m = xv.shape[d]
    step = xv.narrow(d, 1, m - 1) - xv.narrow(d, 0, m - 1)
    return ((left + right) * step).cumsum(d) / 2.0


# ------------------------------------------------------------------------ *_copy forms
# PyTorch's view ops with a copy for an output (what functionalisation produces): the same
# values and gradients as the view, in memory of their own.
def view_copy(input, size):  # noqa: A002
    if hasattr(size, "itemsize") or isinstance(size, str) or type(size).__name__ == "dtype":
        return input.view(size).clone()
    return input.view(*size if isinstance(size, list | tuple) else (size,)).clone()


def permute_copy(input, dims):  # noqa: A002
    return input.permute(*dims).clone()


def t_copy(input):  # noqa: A002
    return input.t().clone()


def transpose_copy(input, dim0, dim1):  # noqa: A002
    return input.transpose(dim0, dim1).clone()


def unsqueeze_copy(input, dim):  # noqa: A002
    return input.unsqueeze(dim).clone()


def squeeze_copy(input, dim=None):  # noqa: A002
    return (input.squeeze() if dim is None else input.squeeze(dim)).clone()


def select_copy(input, dim, index):  # noqa: A002
    return input.select(dim, index).clone()


def slice_copy(input, dim=0, start=None, end=None, step=1):  # noqa: A002
    d = dim % input.ndim
    return input[(slice(None),) * d + (slice(start, end, step),)].clone()


def split_copy(input, split_size, dim=0):  # noqa: A002
    return [t.clone() for t in input.split(split_size, dim)]


def split_with_sizes_copy(input, split_sizes, dim=0):  # noqa: A002
    return [t.clone() for t in input.split(list(split_sizes), dim)]


def unbind_copy(input, dim=0):  # noqa: A002
    return [t.clone() for t in input.unbind(dim)]


def unfold_copy(input, dimension, size, step):  # noqa: A002
    return input.unfold(dimension, size, step).clone()


def expand_copy(input, size, *, implicit=False):  # noqa: A002
    return input.expand(*size).clone()


def diagonal_copy(input, offset=0, dim1=0, dim2=1):  # noqa: A002
    return input.diagonal(offset, dim1, dim2).clone()


def detach_copy(input):  # noqa: A002
    return input.detach().clone()


def alias_copy(input):  # noqa: A002
    return input.clone()


def as_strided_copy(input, size, stride, storage_offset=None):  # noqa: A002
    return input.as_strided(size, stride, storage_offset).clone()


# ------------------------------------------------------------------------ randomised low rank
def _floating(a):
    return a if a.dtype.is_floating_point else a.to(_dtypes.get_default_dtype())


def _approximate_basis(A, q, niter, M):  # noqa: N803
    """Halko et al.'s range finder, PyTorch's ``get_approximate_basis`` step by step (its
    ``randn`` draw included, so the same seed gives the same basis)."""
    from gradfit import linalg
    from gradfit.random import randn

    niter = 2 if niter is None else niter
    R = randn(A.shape[-1], q, dtype=_floating(A).dtype)  # noqa: N806
    X = A @ R  # noqa: N806
    if M is not None:
        X = X - M @ R  # noqa: N806
    Q = linalg.qr(X).Q  # noqa: N806
    for _ in builtins.range(niter):
        X = A.mH @ Q  # noqa: N806
        if M is not None:
            X = X - M.mH @ Q  # noqa: N806
        Q = linalg.qr(X).Q  # noqa: N806
        X = A @ Q  # noqa: N806
        if M is not None:
            X = X - M @ Q  # noqa: N806
        Q = linalg.qr(X).Q  # noqa: N806
    return Q


def _svd_lowrank(A, q=6, niter=2, M=None):  # noqa: N803
    from gradfit import linalg

    q = 6 if q is None else q
    m, n = A.shape[-2:]
    if M is not None:
        M = M.broadcast_to(A.shape)  # noqa: N806
    if m < n:  # work on the tall one
        A = A.mH  # noqa: N806
        if M is not None:
            M = M.mH  # noqa: N806
    Q = _approximate_basis(A, q, niter, M)  # noqa: N806
    B = Q.mH @ A  # noqa: N806
    if M is not None:
        B = B - Q.mH @ M  # noqa: N806
    U, S, Vh = linalg.svd(B, full_matrices=False)  # noqa: N806
    V = Vh.mH  # noqa: N806
    U = Q @ U  # noqa: N806
    if m < n:
        U, V = V, U  # noqa: N806
    return U, S, V


def svd_lowrank(A, q=6, niter=2, M=None):  # noqa: N803
    """(U, S, V) of a rank-q approximation of A - M by randomised subspace iteration
    (Halko et al. 2009, Algorithm 5.1), PyTorch's steps and random draws."""
    return _svd_lowrank(A, q, niter, M)


def pca_lowrank(A, q=None, center: bool = True, niter: int = 2):  # noqa: N803
    """(U, S, V) of the principal components of A (centred over its rows unless
    ``center=False``) by ``svd_lowrank``; q defaults to min(6, m, n)."""
    m, n = A.shape[-2:]
    if q is None:
        q = min(6, m, n)
    elif not (q >= 0 and q <= min(m, n)):
        raise ValueError(
            f"q(={q}) must be non-negative integer and not greater than min(m, n)={min(m, n)}"
        )
    if not (niter >= 0):
        raise ValueError(f"niter(={niter}) must be non-negative integer")
    if not center:
        return _svd_lowrank(A, q, niter, None)
    C = A.mean(dim=(-2,), keepdim=True)  # noqa: N806
    return _svd_lowrank(A - C, q, niter, None)


def histogramdd(input, bins=10, *, range=None, weight=None, density: bool = False):  # noqa: A002
    """(hist, bin_edges) of the rows of ``input`` (N, D): per dimension ``bins`` equal bins
    over ``range`` (min0, max0, min1, max1, ...; default the data's extent), or the given
    edges; each last bin is closed."""
    from gradfit import return_types
    from gradfit._factories import linspace

    a = unwrap(input)
    if a.dtype.kind != "f":
        raise RuntimeError(
            f"torch.histogramdd: input tensor and bins tensors should have the same dtype, but "
            f"got input {_dtypes.from_np(a.dtype)} and bins {_dtypes.from_np(a.dtype)}"
        )
    pts = a.reshape(-1, a.shape[-1])
    d = pts.shape[1]
    if isinstance(bins, int | np.integer):
        bins = [int(bins)] * d
    edges = []
    for k, b in enumerate(bins):
        if hasattr(b, "shape"):
            edges.append(unwrap(b).astype(a.dtype))
            continue
        if range is not None:
            lo, hi = float(range[2 * k]), float(range[2 * k + 1])
        elif pts.shape[0]:
            lo, hi = float(pts[:, k].min()), float(pts[:, k].max())
        else:
            lo = hi = 0.0
        if lo == hi:
            lo, hi = lo - 0.5, hi + 0.5
        edges.append(unwrap(linspace(lo, hi, int(b) + 1, dtype=_dtypes.from_np(a.dtype))))
    w = None if weight is None else unwrap(weight).reshape(-1)
    hist, _ = np.histogramdd(
        pts, bins=[e.astype(np.float64) for e in edges], weights=w, density=density
    )
    return return_types.histogramdd(wrap(hist.astype(a.dtype)), tuple(wrap(e) for e in edges))
