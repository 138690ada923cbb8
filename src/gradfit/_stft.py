"""``torch.stft`` and ``torch.istft`` (also ``Tensor.stft``/``Tensor.istft``), made of
differentiable operations: padding by an index gather, frames by ``unfold``, the window
product, the FFT ops of ``ops.spectral``, and for the inverse an overlap-add by
``index_add`` divided by the window's squared envelope, as ATen's SpectralOps.cpp does.
"""

from __future__ import annotations

import warnings

import numpy as np

from gradfit._arrays import unwrap, wrap
from gradfit.ops import complex as _complex
from gradfit.ops import spectral as _spectral

_PAD_MODES = ("constant", "reflect", "replicate", "circular")


def _padded_window(window, n_fft: int, win_length: int, dtype):
    """The window (ones if None) centred in n_fft samples, as a Tensor or an array."""
    if window is None:
        w = np.ones(win_length, dtype)
    else:
        w = window
        if tuple(w.shape) != (win_length,):
            raise RuntimeError(
                f"stft: expected a 1D window tensor of size equal to win_length={win_length}, "
                f"but got window with size {list(w.shape)}"
            )
    if win_length == n_fft:
        return w
    left = (n_fft - win_length) // 2
    if window is None:
        return np.pad(w, (left, n_fft - win_length - left))
    full = wrap(np.zeros(n_fft, unwrap(w).dtype))
    return full.index_add(0, wrap(np.arange(left, left + win_length)), w)


def _pad_signal(x, pad: int, mode: str):
    """x padded by ``pad`` samples at both ends of its last dimension (F.pad's modes)."""
    n = x.shape[-1]
    if mode not in _PAD_MODES:
        raise NotImplementedError(f"stft: unsupported pad_mode {mode!r}; expected {_PAD_MODES}")
    if mode == "reflect" and pad >= n:
        raise RuntimeError(
            f"Argument #4: Padding size should be less than the corresponding input dimension, "
            f"but got: padding ({pad}, {pad}) at dimension {x.ndim - 1} of input {list(x.shape)}"
        )
    i = np.arange(-pad, n + pad)
    if mode == "constant":
        zeros = wrap(np.zeros((*x.shape[:-1], n + 2 * pad), unwrap(x).dtype))
        return zeros.index_add(-1, wrap(np.arange(pad, pad + n)), x)
    if mode == "reflect":
        i = np.abs(i)
        i = np.where(i >= n, 2 * (n - 1) - i, i)
    elif mode == "replicate":
        i = np.clip(i, 0, n - 1)
    else:
        i = i % n
    return x[..., i]


def stft(
    input,  # noqa: A002 - PyTorch's names
    n_fft: int,
    hop_length: int | None = None,
    win_length: int | None = None,
    window=None,
    center: bool = True,
    pad_mode: str = "reflect",
    normalized: bool = False,
    onesided: bool | None = None,
    return_complex: bool | None = None,
    align_to_window: bool | None = None,
):
    """Short-time Fourier transform: the DFT of windowed frames of ``input`` (1-D or a
    batch of 1-D signals), shape (..., n_fft // 2 + 1 or n_fft, frames)."""
    x = input
    dtype = unwrap(x).dtype
    is_complex = dtype.kind == "c" or (window is not None and unwrap(window).dtype.kind == "c")
    if return_complex is None:
        if not is_complex:
            raise RuntimeError(
                "stft requires the return_complex parameter be given for real inputs, and will "
                "further require that return_complex=True in a future PyTorch release."
            )
        return_complex = True
    if x.ndim not in (1, 2):
        raise RuntimeError(f"stft: expected a 1D or 2D tensor, but got {x.ndim}D")
    hop = n_fft // 4 if hop_length is None else hop_length
    win_length = n_fft if win_length is None else win_length
    if not 0 < win_length <= n_fft:
        raise RuntimeError(
            f"stft: expected 0 < win_length <= n_fft, but got win_length={win_length}"
        )
    if hop <= 0:
        raise RuntimeError(f"stft: expected hop_length > 0, but got hop_length={hop}")
    if window is None:
        warnings.warn(
            "A window was not provided. A rectangular window will be applied,which is known "
            "to cause spectral leakage. Other windows such as torch.hann_window or "
            "torch.hamming_window are recommended to reduce spectral leakage.To suppress this "
            "warning and use a rectangular window, explicitly set `window=torch.ones(n_fft, "
            "device=<device>)`.",
            UserWarning,
            stacklevel=2,
        )
    if dtype.kind in "biu":
        raise RuntimeError(
            f"stft: expected a tensor of floating point or complex values, got {x.dtype}"
        )
    if center:
        x = _pad_signal(x, n_fft // 2, pad_mode)
    if x.shape[-1] < n_fft:
        raise RuntimeError(f"stft: expected 0 < n_fft <= {x.shape[-1]}, but got n_fft={n_fft}")
    frames = x.unfold(-1, n_fft, hop)  # (..., n_frames, n_fft)
    w = _padded_window(
        window, n_fft, win_length, _complex.real_of(dtype) if dtype.kind == "c" else dtype
    )
    frames = frames * w
    onesided = not is_complex if onesided is None else onesided
    norm = "ortho" if normalized else "backward"
    axes = (frames.ndim - 1,)
    if unwrap(frames).dtype.kind == "c":
        if onesided:
            raise RuntimeError("Cannot have onesided output if window or input is complex")
        out = _spectral.FFT.apply(frames, axes=axes, sizes=(n_fft,), norm=norm, inverse=False)
    else:
        out = _spectral.RFFT.apply(frames, axes=axes, sizes=(n_fft,), norm=norm, onesided=onesided)
    out = out.transpose(-1, -2)
    return out if return_complex else _complex.ViewAsReal.apply(out.contiguous())


def istft(
    input,  # noqa: A002 - PyTorch's names
    n_fft: int,
    hop_length: int | None = None,
    win_length: int | None = None,
    window=None,
    center: bool = True,
    normalized: bool = False,
    onesided: bool | None = None,
    length: int | None = None,
    return_complex: bool = False,
):
    """Inverse of ``stft``: each frame's inverse DFT, windowed, overlap-added and divided
    by the window's squared envelope; the centre padding is cut off (or ``length``)."""
    z = input
    if unwrap(z).dtype.kind != "c":
        raise RuntimeError(
            "istft requires a complex-valued input tensor matching the output from stft with "
            "return_complex=True."
        )
    hop = n_fft // 4 if hop_length is None else hop_length
    win_length = n_fft if win_length is None else win_length
    n_freq, n_frames = z.shape[-2], z.shape[-1]
    onesided = n_freq != n_fft if onesided is None else onesided
    expected = n_fft // 2 + 1 if onesided else n_fft
    if n_freq != expected:
        raise RuntimeError(
            f"istft: expected the frequency dimension (-2) of the input to be {expected}, "
            f"got {n_freq}"
        )
    norm = "ortho" if normalized else "backward"
    spec = z.transpose(-1, -2)  # (..., n_frames, n_freq)
    axes = (spec.ndim - 1,)
    if return_complex:
        if onesided:
            raise RuntimeError("cannot have onesided output if window or input is complex")
        frames = _spectral.FFT.apply(spec, axes=axes, sizes=(n_fft,), norm=norm, inverse=True)
    else:
        # a real signal: PyTorch reads only the one-sided half of a full spectrum
        if not onesided:
            spec = spec[..., : n_fft // 2 + 1]
        frames = _spectral.IRFFT.apply(spec, axes=axes, sizes=(n_fft,), norm=norm)
    real = _complex.real_of(unwrap(z).dtype)
    w = _padded_window(window, n_fft, win_length, real)
    if isinstance(w, np.ndarray):
        w = wrap(w)
    frames = frames * w
    out_len = n_fft + hop * (n_frames - 1)
    positions = wrap((np.arange(n_frames)[:, None] * hop + np.arange(n_fft)).reshape(-1))
    lead = tuple(frames.shape[:-2])
    y = wrap(np.zeros((*lead, out_len), unwrap(frames).dtype))
    y = y.index_add(-1, positions, frames.reshape(*lead, n_frames * n_fft))
    envelope = wrap(np.zeros(out_len, unwrap(w).dtype))
    envelope = envelope.index_add(0, positions, (w * w).repeat(n_frames))
    start = n_fft // 2 if center else 0
    if length is not None:
        end = start + length
    else:
        end = out_len - n_fft // 2 if center else out_len
    stop = min(end, out_len)
    y = y[..., start:stop]
    envelope = envelope[start:stop]
    lowest = float(np.abs(unwrap(envelope)).min()) if envelope.shape[0] else 1.0
    if lowest < 1e-11:
        raise RuntimeError(f"istft: window overlap add min: {lowest:g} (must be >= 1e-11)")
    y = y / envelope
    if end > out_len:  # zeros after the signal, up to ``length``
        full = wrap(np.zeros((*lead, end - start), unwrap(y).dtype))
        y = full.index_add(-1, wrap(np.arange(stop - start)), y)
    return y
