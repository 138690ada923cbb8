"""Tensor and utility methods older programs call, against PyTorch: window functions
(float64 bit for bit, float32 to 1 ulp), range, set_default_tensor_type, empty_strided,
empty_permuted, frombuffer, asarray, fill, cumulative_trapezoid, histogram, the
*_scatter forms (with gradients), split_with_sizes, unsafe_*, narrow_copy, shifts,
nextafter, i0/polygamma/mvlgamma/igamma, isreal, and the CPU-only facts."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gradfit
from tests.api_gaps_state import _default_state, _torch  # noqa: F401 - autouse fixture

R = np.random.default_rng(0)


def _both(fn):
    torch = _torch()
    return fn(gradfit), fn(torch)


def _np(t):
    return t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)


def _same(a, b, tol=0.0):
    a, b = _np(a), _np(b)
    assert a.shape == b.shape and a.dtype == b.dtype, (a.shape, b.shape, a.dtype, b.dtype)
    if tol == 0.0:
        np.testing.assert_array_equal(a, b)
    else:
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def _ulps(a, b):
    a, b = _np(a), _np(b)
    return np.max(
        np.abs(a - b) / np.spacing(np.maximum(np.abs(a), np.abs(b)).astype(a.dtype)), initial=0
    )


# ------------------------------------------------------------------------ windows
@pytest.mark.parametrize(
    "name", ["hann_window", "hamming_window", "blackman_window", "bartlett_window", "kaiser_window"]
)
@pytest.mark.parametrize("n", [0, 1, 2, 7, 64])
@pytest.mark.parametrize("periodic", [True, False])
def test_windows(name, n, periodic):
    g64, t64 = _both(lambda L: getattr(L, name)(n, periodic, dtype=L.float64))
    g32, t32 = _both(lambda L: getattr(L, name)(n, periodic, dtype=L.float32))
    g0, t0 = _both(lambda L: getattr(L, name)(n))
    assert (
        g64.dtype == gradfit.float64
        and g32.dtype == gradfit.float32
        and g0.dtype == gradfit.float32
    )
    eps32 = np.finfo(np.float32).eps
    if name == "kaiser_window":  # I0's argument amplifies a last-bit difference ~beta times
        _same(g64, t64, 1e-14)
        assert np.abs(_np(g32) - _np(t32)).max(initial=0) <= 4 * eps32
    else:  # float64 bit for bit; float32 within half an ulp of 1 (PyTorch's SLEEF cosine)
        _same(g64, t64)
        assert np.abs(_np(g32) - _np(t32)).max(initial=0) <= 0.5 * eps32
        assert np.abs(_np(g0) - _np(t0)).max(initial=0) <= 0.5 * eps32


def test_window_extras_and_errors():
    g, t = _both(lambda L: L.kaiser_window(10, False, 5.0, dtype=L.float64))
    _same(g, t, 1e-14)
    g, t = _both(lambda L: L.hamming_window(9, True, 0.6, 0.3, dtype=L.float64))
    _same(g, t)
    assert gradfit.hann_window(4, requires_grad=True).requires_grad
    for call in (lambda L: L.hann_window(-1), lambda L: L.hann_window(3, dtype=L.int64)):
        errs = []
        for lib in _both(lambda L: L):
            with pytest.raises(RuntimeError) as e:
                call(lib)
            errs.append(str(e.value).split("(")[0])
        assert errs[0] == errs[1]


# ------------------------------------------------------------------------ factories
def test_range_deprecated_inclusive():
    for args, kw in (
        ((0, 3), {}),
        ((1, 2, 0.25), {}),
        ((5, 1, -1.5), {}),
        ((0, 4), {"dtype": "int64"}),
    ):
        res, msgs = [], []
        for lib in _both(lambda L: L):
            k = {"dtype": getattr(lib, kw["dtype"])} if kw else {}
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                res.append(lib.range(*args, **k))
            msgs.append([str(m.message) for m in w])
        _same(*res)
        assert msgs[0] == msgs[1]


def test_set_default_tensor_type():
    torch = _torch()
    try:
        for lib in (gradfit, torch):
            for t in (lib.DoubleTensor, "torch.DoubleTensor"):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    lib.set_default_tensor_type(t)
                assert lib.get_default_dtype() == lib.float64
                assert lib.tensor([1.0]).dtype == lib.float64
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    lib.set_default_tensor_type(lib.FloatTensor)
                assert lib.get_default_dtype() == lib.float32
    finally:
        torch.set_default_dtype(torch.float32)
        gradfit.set_default_dtype(gradfit.float32)


def test_empty_strided_and_permuted():
    for size, stride in (((2, 3), (1, 2)), ((2, 3, 4), (12, 1, 3)), ((0, 3), (3, 1))):
        g, t = _both(lambda L: L.empty_strided(size, stride, dtype=L.float64))  # noqa: B023
        assert g.stride() == t.stride() and tuple(g.shape) == tuple(t.shape)
    g, t = _both(lambda L: L.empty_permuted((2, 3, 4), (0, 2, 1)))
    assert g.stride() == t.stride() and g.dtype == gradfit.float32
    g.fill_(1.0)
    assert float(g.sum()) == 24.0


def test_frombuffer_shares_memory():
    buf = bytearray(np.arange(6, dtype=np.int32).tobytes())
    g, t = _both(lambda L: L.frombuffer(buf, dtype=L.int32, count=4, offset=4))
    _same(g, t)
    g[0] = 100
    assert np.frombuffer(buf, dtype=np.int32)[1] == 100


def test_asarray():
    a = np.arange(6.0).reshape(2, 3)
    g, t = _both(lambda L: L.asarray(a))
    _same(g, t)
    a[0, 0] = 9  # shared with the array
    assert float(g[0, 0]) == float(t[0, 0]) == 9
    g, t = _both(lambda L: L.asarray(a, dtype=L.float32))
    _same(g, t)
    g, t = _both(lambda L: L.asarray([[1, 2], [3, 4]]))
    _same(g, t)
    x = gradfit.ones(3)
    assert gradfit.asarray(x) is x
    assert gradfit.asarray(x, copy=True) is not x


def test_fill():
    g, t = _both(lambda L: L.fill(L.tensor([[1.0, 2.0]]), 3.5))
    _same(g, t)
    g, t = _both(lambda L: L.fill(L.tensor([1, 2]), L.tensor(7)))
    _same(g, t)


# ------------------------------------------------------------------------ integration, histograms
@pytest.mark.parametrize(
    "call",
    [
        lambda L, y, x: L.cumulative_trapezoid(y),
        lambda L, y, x: L.cumulative_trapezoid(y, dx=0.3, dim=0),
        lambda L, y, x: L.cumulative_trapezoid(y, x),
        lambda L, y, x: L.cumulative_trapezoid(y, x[0]),
    ],
)
def test_cumulative_trapezoid(call):
    y, x = R.standard_normal((3, 5)), np.cumsum(R.random((3, 5)), 1)
    res = []
    for lib in _both(lambda L: L):
        yt = lib.tensor(y, requires_grad=True)
        out = call(lib, yt, lib.tensor(x))
        (gy,) = lib.autograd.grad(
            (out * lib.tensor(np.cos(np.arange(out.numel())).reshape(tuple(out.shape)))).sum(), [yt]
        )
        res.append((out, gy))
    _same(res[0][0], res[1][0], 1e-14)
    _same(res[0][1], res[1][1], 1e-14)


def test_histogram():
    x = R.standard_normal(200)
    for kw in ({"bins": 7}, {"bins": 5, "range": (-1.0, 1.0)}, {"bins": 4, "density": True}):
        g, t = _both(lambda L: L.histogram(L.tensor(x), **kw))  # noqa: B023
        _same(g.hist, t.hist, 1e-12)
        _same(g.bin_edges, t.bin_edges, 1e-12)
    g, t = _both(
        lambda L: L.histogram(
            L.tensor(x, dtype=L.float32),
            L.tensor([-2.0, 0.0, 0.5, 3.0]),
            weight=L.tensor(np.abs(x), dtype=L.float32),
        )
    )
    _same(g[0], t[0], 1e-5)
    assert type(g).__name__ == type(t).__name__ == "histogram"


# ------------------------------------------------------------------------ scatter and copy forms
@pytest.mark.parametrize(
    "call,shapes",
    [
        (lambda L, a, s: L.diagonal_scatter(a, s), [(3, 3), (3,)]),
        (lambda L, a, s: a.diagonal_scatter(s, 1, 1, 2), [(2, 3, 4), (2, 3)]),
        (lambda L, a, s: L.select_scatter(a, s, 1, -1), [(2, 3, 4), (2, 4)]),
        (lambda L, a, s: a.select_scatter(s, 0, 0), [(3, 2), (2,)]),
        (lambda L, a, s: L.slice_scatter(a, s, 1, 0, 4, 2), [(2, 5), (2, 2)]),
        (lambda L, a, s: a.slice_scatter(s), [(4, 2), (4, 2)]),
    ],
)
def test_scatter_forms_with_gradients(call, shapes):
    arrays = [R.standard_normal(s) for s in shapes]
    res = []
    for lib in _both(lambda L: L):
        ts = [lib.tensor(a, requires_grad=True) for a in arrays]
        out = call(lib, *ts)
        w = lib.tensor(np.cos(np.arange(out.numel())).reshape(tuple(out.shape)))
        grads = lib.autograd.grad((out * w).sum(), ts)
        res.append((out, *grads))
    for a, b in zip(*res):
        _same(a, b)
    for lib in _both(lambda L: L):
        with pytest.raises(RuntimeError):
            lib.diagonal_scatter(lib.zeros(3, 3), lib.zeros(2))


def test_splits_and_copies():
    x = R.standard_normal((5, 4))
    for call in (
        lambda L, t: t.split_with_sizes([2, 3]),
        lambda L, t: t.split_with_sizes((1, 3), 1),
        lambda L, t: t.unsafe_chunk(2, 1),
        lambda L, t: t.unsafe_split(2),
        lambda L, t: (t.narrow_copy(0, 1, 3), L.narrow_copy(t, 1, 0, 2)),
    ):
        g, t = _both(lambda L: call(L, L.tensor(x)))  # noqa: B023
        assert len(g) == len(t)
        for a, b in zip(g, t):
            _same(a, b)
    g = gradfit.tensor(x)
    c = g.narrow_copy(0, 0, 2)
    c[0, 0] = 100.0
    assert float(g[0, 0]) != 100.0  # a copy, not a view


# ------------------------------------------------------------------------ integer and float bits
def test_shifts():
    a = np.array([1, -8, 3, 127, -1], dtype=np.int64)
    b = np.array([1, 2, 70, 3, -1], dtype=np.int64)
    for dt in ("int64", "int32", "int8", "uint8"):
        aa, bb = a.astype(dt), np.abs(b).astype(dt)
        for fn in (
            lambda L, x, y: L.bitwise_left_shift(x, y),
            lambda L, x, y: L.bitwise_right_shift(x, y),
            lambda L, x, y: x << y,
            lambda L, x, y: x >> 2,
            lambda L, x, y: x.bitwise_left_shift(3),
        ):
            g, t = _both(lambda L: fn(L, L.tensor(aa), L.tensor(bb)))  # noqa: B023
            _same(g, t)
    g, t = _both(lambda L: L.bitwise_left_shift(L.tensor(a), L.tensor(b)))
    _same(g, t)
    g, t = _both(lambda L: L.bitwise_right_shift(L.tensor(a), L.tensor(b)))
    _same(g, t)


def test_nextafter():
    a, b = R.standard_normal(6), R.standard_normal(6)
    for dt in ("float64", "float32"):
        g, t = _both(
            lambda L: L.nextafter(
                L.tensor(a, dtype=getattr(L, dt)),  # noqa: B023
                L.tensor(b, dtype=getattr(L, dt)),  # noqa: B023
            )
        )
        _same(g, t)
        g, t = _both(
            lambda L: L.tensor(a, dtype=getattr(L, dt)).nextafter(  # noqa: B023
                L.tensor([np.inf], dtype=getattr(L, dt))  # noqa: B023
            )
        )
        _same(g, t)


@pytest.mark.parametrize(
    "call,data",
    [
        (lambda L, x: L.i0(x), R.standard_normal(6) * 3),
        (lambda L, x: x.i0(), R.standard_normal(6)),
        (lambda L, x: L.polygamma(1, x), np.abs(R.standard_normal(6)) + 0.5),
        (lambda L, x: x.polygamma(2), np.abs(R.standard_normal(6)) + 0.5),
        (lambda L, x: L.mvlgamma(x, 3), np.abs(R.standard_normal(6)) + 1.5),
        (lambda L, x: x.mvlgamma(2), np.abs(R.standard_normal(6)) + 1.0),
        (
            lambda L, x: L.igamma(L.tensor(np.arange(1.0, 7.0)), x),
            np.abs(R.standard_normal(6)) + 0.1,
        ),
        (lambda L, x: L.tensor(np.arange(1.0, 7.0)).igammac(x), np.abs(R.standard_normal(6)) + 0.1),
    ],
)
def test_special_functions(call, data):
    res = []
    for lib in _both(lambda L: L):
        x = lib.tensor(data, requires_grad=True)
        out = call(lib, x)
        (gx,) = lib.autograd.grad(out.sum(), [x])
        res.append((out, gx))
    _same(res[0][0], res[1][0], 1e-10)
    _same(res[0][1], res[1][1], 1e-9)
    g, t = _both(lambda L: L.i0(L.tensor([0, 1, 2])))
    _same(g, t, 1e-6)


def test_inplace_special_forms():
    g, t = _both(lambda L: L.tensor([0.5, 1.5], dtype=L.float64).i0_())
    _same(g, t, 1e-12)
    g, t = _both(lambda L: L.tensor([0.5, 1.5]).i0_())  # float32: I0 to 1 ulp
    _same(g, t, 2e-7)
    g, t = _both(lambda L: L.tensor([2.5, 3.5], dtype=L.float64).mvlgamma_(2))
    _same(g, t, 1e-12)
    g, t = _both(lambda L: L.tensor([1, 4]).bitwise_left_shift_(2))
    _same(g, t)


def test_flags_and_cpu_facts():
    torch = _torch()
    for lib in (gradfit, torch):
        x = lib.ones(2)
        assert x.get_device() == -1 and lib.get_device(x) == -1
        assert not x.is_pinned() and not x.is_shared()
        assert x.share_memory_() is x and x.is_shared()
        assert lib.ones(2).is_shared() is False
        assert x.is_meta is False and x.is_quantized is False and x.is_nested is False
        assert x.is_neg() is False
        _same(*(t.isreal() for t in (gradfit.ones(3), torch.ones(3))))
        assert lib.newaxis is None
        lib.set_anomaly_enabled(True)
        assert lib.is_anomaly_enabled()
        lib.set_anomaly_enabled(False)
        assert not lib.is_anomaly_enabled()
    errs = []
    for lib in (torch, gradfit):
        with pytest.raises(RuntimeError) as e:
            lib.ones(2).pin_memory()
        errs.append(str(e.value))
    assert errs[0] == errs[1]
    assert gradfit.set_flush_denormal(True) is False  # NumPy cannot flush denormals


def test_corrcoef_method():
    x = R.standard_normal((3, 6))
    g, t = _both(lambda L: L.tensor(x).corrcoef())
    _same(g, t, 1e-12)
