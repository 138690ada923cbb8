"""``gradfit.fft`` against ``torch.fft``: values, dtypes, errors and gradients for every
transform, every norm and signal lengths cut or padded; gradients also against finite
differences on the real and imaginary parts. Parity tests import torch (fail without it)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import gradfit


def _values(kind: str, shape, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    return x + 1j * rng.standard_normal(shape) if kind == "c" else x


# (name, call of (fft module, x), input kind)
CASES = [
    ("fft", lambda F, x: F.fft(x), "c"), ("fft_real", lambda F, x: F.fft(x, n=9), "r"),
    ("fft_dim0_n", lambda F, x: F.fft(x, n=3, dim=0), "c"),
    ("ifft", lambda F, x: F.ifft(x, n=10), "c"), ("ifft_real", lambda F, x: F.ifft(x), "r"),
    ("fft2", lambda F, x: F.fft2(x), "c"), ("ifft2", lambda F, x: F.ifft2(x, s=(5, 4)), "c"),
    ("fft2_real", lambda F, x: F.fft2(x, dim=(0, 1)), "r"),
    ("fftn", lambda F, x: F.fftn(x, s=(3, 7)), "c"), ("ifftn", lambda F, x: F.ifftn(x), "c"),
    ("ifftn_real", lambda F, x: F.ifftn(x, dim=(1, 0)), "r"),
    ("rfft", lambda F, x: F.rfft(x), "r"), ("rfft_n", lambda F, x: F.rfft(x, n=5, dim=0), "r"),
    ("rfft_pad", lambda F, x: F.rfft(x, n=11), "r"),
    ("irfft", lambda F, x: F.irfft(x), "c"), ("irfft_odd", lambda F, x: F.irfft(x, n=9), "c"),
    ("irfft_cut", lambda F, x: F.irfft(x, n=4, dim=0), "c"),
    ("rfft2", lambda F, x: F.rfft2(x), "r"), ("irfft2", lambda F, x: F.irfft2(x, s=(4, 7)), "c"),
    ("rfftn", lambda F, x: F.rfftn(x, dim=(1, 0)), "r"),
    ("irfftn", lambda F, x: F.irfftn(x), "c"),
    ("hfft", lambda F, x: F.hfft(x), "c"), ("hfft_n", lambda F, x: F.hfft(x, n=7), "c"),
    ("ihfft", lambda F, x: F.ihfft(x), "r"), ("ihfft_n", lambda F, x: F.ihfft(x, n=6), "r"),
    ("fftshift", lambda F, x: F.fftshift(x), "c"),
    ("ifftshift", lambda F, x: F.ifftshift(x, dim=1), "r"),
    ("roundtrip", lambda F, x: F.irfft(F.rfft(x) * F.rfft(x), n=6), "r"),
]  # fmt: skip
SHAPE = (4, 6)


@pytest.mark.parametrize("norm", [None, "backward", "ortho", "forward"])
@pytest.mark.parametrize("name", [c[0] for c in CASES])
def test_transform_and_gradient_as_pytorch(name, norm):
    import torch

    _, fn, kind = next(c for c in CASES if c[0] == name)
    seeds = {}
    for dtype, tol in (("float64", 1e-10), ("float32", 1e-4)):
        values = _values(kind, SHAPE)
        values = values.astype(np.complex64 if kind == "c" else np.float32) if (
            dtype == "float32"
        ) else values  # fmt: skip
        for lib in (torch, gradfit):
            x = lib.tensor(values, requires_grad=True)
            F = lib.fft
            if norm is not None and "shift" not in name:
                out = _with_norm(fn, F, x, norm)
            else:
                out = fn(F, x)
            w = lib.tensor(_values(kind, tuple(out.shape), 1).real).to(out.real.dtype)
            loss = (out.real * w).sum() + (out.imag * w.flip(-1)).sum() if out.is_complex() else (
                (out * w).sum()
            )  # fmt: skip
            loss.backward()
            seeds[lib.__name__] = (
                out.detach().resolve_conj().numpy(),
                x.grad.resolve_conj().numpy(),
            )
        (want, want_g), (got, got_g) = seeds["torch"], seeds["gradfit"]
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)
        assert got_g.dtype == want_g.dtype
        np.testing.assert_allclose(got_g, want_g, rtol=tol, atol=tol)


def _with_norm(fn, F, x, norm):
    """The case's call with ``norm=`` added to every transform it makes."""

    class _Normed:
        def __getattr__(self, attr):
            f = getattr(F, attr)
            return lambda *a, **k: f(*a, norm=norm, **k)

    return fn(_Normed(), x)


@pytest.mark.parametrize("name", ["fft", "ifft_real", "rfft_n", "irfft", "irfft_odd", "hfft"])
def test_gradients_are_finite_differences(name):
    # PyTorch's convention without PyTorch: grad = dL/dRe(x) + i dL/dIm(x)
    _, fn, kind = next(c for c in CASES if c[0] == name)
    x0 = _values(kind, (3, 4), 2)

    def outputs(arr, requires_grad=False):
        x = gradfit.tensor(arr, requires_grad=requires_grad)
        out = fn(gradfit.fft, x)
        w = gradfit.tensor(_values("r", tuple(out.shape), 3)).to(out.real.dtype)
        loss = (out.real * w).sum() + (out.imag * w * 0.5).sum() if out.is_complex() else (
            (out * w).sum()
        )  # fmt: skip
        return x, loss

    x, loss = outputs(x0, True)
    loss.backward()
    fd = np.zeros(x0.shape, x0.dtype)
    h = 1e-6
    for idx in np.ndindex(x0.shape):
        for step in (1, 1j) if kind == "c" else (1,):
            plus, minus = x0.copy(), x0.copy()
            plus[idx] += h * step
            minus[idx] -= h * step
            fd[idx] += step * (outputs(plus)[1].item() - outputs(minus)[1].item()) / (2 * h)
    np.testing.assert_allclose(x.grad.numpy(), fd, rtol=1e-6, atol=1e-7)


def _outcome(fn):
    try:
        out = fn()
    except Exception as e:  # noqa: BLE001 - the class and the text are compared
        return type(e).__name__, str(e)
    return None, repr(out).replace("torch", "L").replace("gradfit", "L")


API_CASES = [
    lambda T: T.fft.fft(T.ones(4), norm="x"), lambda T: T.fft.rfft(T.ones(4, dtype=T.cfloat)),
    lambda T: T.fft.fft(T.ones(4), n=0), lambda T: T.fft.fft(T.ones(4), dim=3),
    lambda T: T.fft.fftn(T.ones(4, 4), s=(2, 3, 4)),
    lambda T: T.fft.fftn(T.ones(4, 4), s=(2, 3), dim=(0,)), lambda T: T.fft.fft(T.arange(4)),
    lambda T: T.fft.fftfreq(5, 0.1), lambda T: T.fft.rfftfreq(6, dtype=T.float64),
    lambda T: T.fft.fftfreq(8), lambda T: T.fft.rfftfreq(7, 0.3),
    lambda T: T.fft.fftn(T.ones(2, 3), s=(-1, 4)).shape, lambda T: T.fft.irfft(T.ones(4)).dtype,
    lambda T: T.fft.fft(T.ones(())), lambda T: T.fft.fftn(T.ones(4, 4), dim=(0, 0)),
    lambda T: T.fft.ihfft(T.ones(4, dtype=T.cfloat)), lambda T: T.fft.hfft(T.ones(4)).shape,
    lambda T: T.fft.fftshift(T.arange(6).reshape(2, 3)), lambda T: T.fft.ifftshift(T.arange(7)),
    lambda T: T.fft.irfft(T.ones(4), n=1).shape, lambda T: T.fft.irfft(T.ones(1)).shape,
    lambda T: T.fft.fft(T.ones(4, dtype=T.float16)), lambda T: T.fft.rfft(T.arange(5.0)),
    lambda T: T.fft.rfft2(T.arange(12.0).reshape(3, 4)),
    lambda T: T.fft.fft(T.arange(4.0, dtype=T.float64)).dtype,
    lambda T: T.fft.irfft(T.ones(3, requires_grad=True)).grad_fn is not None,
]  # fmt: skip


@pytest.mark.parametrize("case", range(len(API_CASES)))
def test_api_as_pytorch(case):
    import torch

    fn = API_CASES[case]
    assert _outcome(lambda: fn(gradfit)) == _outcome(lambda: fn(torch))


def test_fft_loads_lazily():
    # `import gradfit` does not load gradfit.fft (import time); first use does
    code = (
        "import sys, gradfit; assert 'gradfit.fft' not in sys.modules; "
        "gradfit.fft.fft(gradfit.ones(2)); assert 'gradfit.fft' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# ---- stft / istft and the window functions ------------------------------------------------
STFT_CASES = [
    (None, {"n_fft": 8}), (8, {"n_fft": 8, "hop_length": 3}),
    (5, {"n_fft": 8, "win_length": 5, "hop_length": 1}),
    (16, {"n_fft": 16, "hop_length": 4, "normalized": True}), (8, {"n_fft": 8, "onesided": False}),
    (None, {"n_fft": 8, "pad_mode": "constant"}),
    (None, {"n_fft": 6, "pad_mode": "circular", "hop_length": 2}),
    (None, {"n_fft": 6, "pad_mode": "replicate", "hop_length": 2}),
]  # fmt: skip


@pytest.mark.filterwarnings("ignore:A window was not provided")
@pytest.mark.parametrize("case", range(len(STFT_CASES)))
def test_stft_istft_as_pytorch(case):
    import torch

    window_length, kwargs = STFT_CASES[case]
    xv = _values("r", (2, 40), 4)
    got = {}
    for lib in (torch, gradfit):
        k = dict(kwargs)
        if window_length:
            k["window"] = lib.hann_window(window_length, dtype=lib.float64)
        x = lib.tensor(xv, requires_grad=True)
        spec = lib.stft(x, return_complex=True, **k)
        ((spec.real**2).sum() + spec.imag.sum()).backward()
        k.pop("pad_mode", None)
        back = lib.istft(spec.detach(), length=40, **k)
        z = lib.tensor(_values("c", tuple(spec.shape), 5), requires_grad=True)
        lib.istft(z, length=37, **k).pow(2).sum().backward()  # istft's own gradient
        got[lib.__name__] = [spec.detach().numpy(), x.grad.numpy(), back.numpy(), z.grad.numpy()]
    for g, w in zip(got["gradfit"], got["torch"]):
        assert g.shape == w.shape and g.dtype == w.dtype
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(got["gradfit"][2], xv, atol=1e-10)  # istft inverts stft


@pytest.mark.parametrize(
    "name", ["hann_window", "hamming_window", "blackman_window", "bartlett_window"]
)
def test_windows_as_pytorch(name):
    import torch

    for n, periodic in ((0, True), (1, False), (5, True), (8, False), (64, True)):
        for dtype in ("float32", "float64"):
            want = getattr(torch, name)(n, periodic, dtype=getattr(torch, dtype)).numpy()
            got = getattr(gradfit, name)(n, periodic, dtype=getattr(gradfit, dtype)).numpy()
            assert got.dtype == want.dtype
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


STFT_API = [
    lambda T: T.stft(T.ones(16), 4),
    lambda T: T.stft(T.ones(16), 4, window=T.ones(3), return_complex=True),
    lambda T: T.stft(T.ones(16), 4, window=T.ones(4), return_complex=False).shape,
    lambda T: T.ones(16).stft(4, window=T.hann_window(4), return_complex=True).shape,
    lambda T: T.istft(T.ones(3, 5), 4, window=T.ones(4)),
    lambda T: T.stft(T.ones(1, 16, dtype=T.cfloat), 4, window=T.ones(4)).shape,
]  # fmt: skip


@pytest.mark.parametrize("case", range(len(STFT_API)))
def test_stft_api_as_pytorch(case):
    import torch

    fn = STFT_API[case]
    got, want = _outcome(lambda: fn(gradfit)), _outcome(lambda: fn(torch))
    assert got[0] == want[0] and (got[0] is not None or got == want)
