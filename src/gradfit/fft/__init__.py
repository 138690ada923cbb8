"""``torch.fft``: discrete Fourier transforms, differentiable, with PyTorch's arguments.

``n``/``s`` (signal lengths: the input is cut or zero-padded to them), ``dim``, and
``norm`` (``"backward"``: no scaling forward, 1/n inverse, the default; ``"ortho"``:
1/sqrt(n) both ways; ``"forward"``: 1/n forward). A float32 input gives complex64, as in
PyTorch; integer inputs are taken as the default float dtype. The transforms are the ops
of ``gradfit.ops.spectral``; loaded on first use of ``gradfit.fft``.
"""

from __future__ import annotations

import numpy as np

from gradfit import _dtypes
from gradfit._arrays import unwrap, wrap
from gradfit._factories import as_tensor
from gradfit.ops import spectral as _ops
from gradfit.ops.complex import complex_of
from gradfit.tensor import Tensor

__all__ = [
    "fft",
    "ifft",
    "fft2",
    "ifft2",
    "fftn",
    "ifftn",
    "rfft",
    "irfft",
    "rfft2",
    "irfft2",
    "rfftn",
    "irfftn",
    "hfft",
    "ihfft",
    "fftfreq",
    "rfftfreq",
    "fftshift",
    "ifftshift",
]

_TYPE_NAMES = {"complex64": "ComplexFloat", "complex128": "ComplexDouble"}


def _norm(norm) -> str:
    if norm is None:
        return "backward"
    if norm not in ("backward", "ortho", "forward"):
        raise RuntimeError(f'Invalid normalization mode: "{norm}"')
    return norm


def _floating(x: Tensor, name: str, real_only: bool = False) -> Tensor:
    x = as_tensor(x)
    kind = unwrap(x).dtype
    if kind.kind in "biu":
        return x.to(_dtypes.default_np())
    if kind == np.float16:
        raise RuntimeError("Unsupported dtype Half")
    if real_only and kind.kind == "c":
        raise RuntimeError(
            f"{name} expects a real input tensor, but got {_TYPE_NAMES.get(kind.name, kind.name)}"
        )
    return x


def _as_complex(x: Tensor) -> Tensor:
    d = unwrap(x).dtype
    return x if d.kind == "c" else x.to(complex_of(d))


def _wrap_dim(d: int, ndim: int) -> int:
    if not -max(ndim, 1) <= d < max(ndim, 1) or ndim == 0:
        if ndim == 0:
            raise IndexError(f"Dimension specified as {d} but tensor has no dimensions")
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-ndim}, {ndim - 1}], but "
            f"got {d})"
        )
    return d % ndim


def _dims_and_sizes(x: Tensor, s, dim, default_dim=None) -> tuple[tuple, list]:
    """PyTorch's canonical (dims, sizes) of an n-dimensional transform (``s`` entries of
    -1 keep the input's size; the sizes of the last dim are the caller's to adjust)."""
    shape = tuple(x.shape)
    ndim = len(shape)
    if dim is None and default_dim is not None:
        dim = default_dim
    if isinstance(dim, int):
        dim = (dim,)
    if s is not None:
        s = [int(v) for v in s]
        if dim is None:
            if len(s) > ndim:
                raise RuntimeError(
                    f"Got shape with {len(s)} values but input tensor only has {ndim} dimensions."
                )
            dim = tuple(range(ndim - len(s), ndim))
        elif len(dim) != len(s):
            raise RuntimeError("When given, dim and shape arguments must have the same length")
    dims = tuple(_wrap_dim(d, ndim) for d in dim) if dim is not None else tuple(range(ndim))
    if len(set(dims)) != len(dims):
        raise RuntimeError("FFT dims must be unique")
    sizes = [shape[d] if s is None or s[i] == -1 else s[i] for i, d in enumerate(dims)]
    for n in sizes:
        if n < 1:
            raise RuntimeError(f"Invalid number of data points ({n}) specified")
    return dims, sizes


# ---- complex to complex --------------------------------------------------------------------
def _c2c(input, s, dim, norm, inverse: bool, default_dim=None) -> Tensor:  # noqa: A002
    x = _floating(input, "fft")
    dims, sizes = _dims_and_sizes(x, s, dim, default_dim)
    norm = _norm(norm)
    if unwrap(x).dtype.kind != "c":
        # A real signal goes through the one-sided transform and its mirror image, as in
        # PyTorch (ifft(x) = conj(fft(x)) with the other scaling), which gives its last bits.
        out = _ops.RFFT.apply(
            x, axes=dims, sizes=tuple(sizes), norm=_SWAP[norm] if inverse else norm, onesided=False
        )
        return out.conj() if inverse else out
    return _ops.FFT.apply(x, axes=dims, sizes=tuple(sizes), norm=norm, inverse=inverse)


def fft(input, n=None, dim=-1, norm=None) -> Tensor:  # noqa: A002
    """One-dimensional DFT: X[k] = sum_t x[t] exp(-2 pi i k t / n)."""
    return _c2c(input, None if n is None else (n,), (dim,), norm, False)


def ifft(input, n=None, dim=-1, norm=None) -> Tensor:  # noqa: A002
    """Inverse of ``fft``: x[t] = 1/n sum_k X[k] exp(2 pi i k t / n)."""
    return _c2c(input, None if n is None else (n,), (dim,), norm, True)


def fft2(input, s=None, dim=(-2, -1), norm=None) -> Tensor:  # noqa: A002
    return _c2c(input, s, dim, norm, False)


def ifft2(input, s=None, dim=(-2, -1), norm=None) -> Tensor:  # noqa: A002
    return _c2c(input, s, dim, norm, True)


def fftn(input, s=None, dim=None, norm=None) -> Tensor:  # noqa: A002
    return _c2c(input, s, dim, norm, False)


def ifftn(input, s=None, dim=None, norm=None) -> Tensor:  # noqa: A002
    return _c2c(input, s, dim, norm, True)


# ---- real to one-sided complex and back ------------------------------------------------------
def _r2c(input, s, dim, norm, name: str) -> Tensor:  # noqa: A002
    x = _floating(input, name, real_only=True)
    dims, sizes = _dims_and_sizes(x, s, dim)
    return _ops.RFFT.apply(x, axes=dims, sizes=tuple(sizes), norm=_norm(norm))


def _c2r(input, s, dim, norm, last_n=None) -> Tensor:  # noqa: A002
    x = _as_complex(_floating(input, "irfft"))
    dims, sizes = _dims_and_sizes(x, s, dim)
    if s is None or (last_n is None and s[-1] == -1):
        sizes[-1] = 2 * (x.shape[dims[-1]] - 1) if last_n is None else last_n
    if sizes[-1] < 1:
        raise RuntimeError(f"Invalid number of data points ({sizes[-1]}) specified")
    return _ops.IRFFT.apply(x, axes=dims, sizes=tuple(sizes), norm=_norm(norm))


def rfft(input, n=None, dim=-1, norm=None) -> Tensor:  # noqa: A002
    """``fft`` of a real signal, its non-negative frequencies only (n // 2 + 1)."""
    return _r2c(input, None if n is None else (n,), (dim,), norm, "rfft")


def irfft(input, n=None, dim=-1, norm=None) -> Tensor:  # noqa: A002
    """Inverse of ``rfft``: a real signal of length n (default 2 (m - 1))."""
    return _c2r(input, None if n is None else (n,), (dim,), norm, n)


def rfft2(input, s=None, dim=(-2, -1), norm=None) -> Tensor:  # noqa: A002
    return _r2c(input, s, dim, norm, "rfftn")


def irfft2(input, s=None, dim=(-2, -1), norm=None) -> Tensor:  # noqa: A002
    return _c2r(input, s, dim, norm)


def rfftn(input, s=None, dim=None, norm=None) -> Tensor:  # noqa: A002
    return _r2c(input, s, dim, norm, "rfftn")


def irfftn(input, s=None, dim=None, norm=None) -> Tensor:  # noqa: A002
    return _c2r(input, s, dim, norm)


def hfft(input, n=None, dim=-1, norm=None) -> Tensor:  # noqa: A002
    """DFT of a Hermitian-symmetric signal given by its first half: a real spectrum,
    ``irfft(conj(x))`` with the opposite normalisation."""
    x = _as_complex(_floating(input, "hfft"))
    return _c2r(x.conj(), None if n is None else (n,), (dim,), _SWAP[_norm(norm)], n)


def ihfft(input, n=None, dim=-1, norm=None) -> Tensor:  # noqa: A002
    """Inverse of ``hfft``: ``conj(rfft(x))`` with the opposite normalisation."""
    x = _floating(input, "ihfft", real_only=True)
    return _r2c(x, None if n is None else (n,), (dim,), _SWAP[_norm(norm)], "ihfft").conj()


_SWAP = {"backward": "forward", "forward": "backward", "ortho": "ortho"}


# ---- frequencies and shifts ------------------------------------------------------------------
def _freq_tensor(k: np.ndarray, n: int, d: float, dtype, requires_grad: bool) -> Tensor:
    dt = _dtypes.to_dtype(dtype)
    # PyTorch multiplies the integers by 1 / (n d) in the tensor's dtype
    out = wrap((k.astype(dt) * np.asarray(1.0 / (n * d)).astype(dt)).astype(dt, copy=False))
    return out.requires_grad_(True) if requires_grad else out


def fftfreq(
    n: int, d: float = 1.0, *, dtype=None, layout=None, device=None, requires_grad=False
) -> Tensor:
    """The sample frequencies of ``fft``: [0, 1, ..., (n-1)//2, -(n//2), ..., -1] / (d n)."""
    k = np.concatenate((np.arange((n + 1) // 2), np.arange(-(n // 2), 0)))
    return _freq_tensor(k, n, d, dtype, requires_grad)


def rfftfreq(
    n: int, d: float = 1.0, *, dtype=None, layout=None, device=None, requires_grad=False
) -> Tensor:
    """The sample frequencies of ``rfft``: [0, 1, ..., n//2] / (d n)."""
    return _freq_tensor(np.arange(n // 2 + 1), n, d, dtype, requires_grad)


def _shift(input, dim, sign: int) -> Tensor:  # noqa: A002
    x = as_tensor(input)
    if dim is None:
        dim = tuple(range(x.ndim))
    elif isinstance(dim, int):
        dim = (dim,)
    dims = tuple(_wrap_dim(d, x.ndim) for d in dim)
    if not dims:
        return x
    return x.roll(tuple(sign * (x.shape[d] // 2) for d in dims), dims)


def fftshift(input, dim=None) -> Tensor:  # noqa: A002
    """Moves the zero frequency to the centre (a roll by n // 2 along ``dim``)."""
    return _shift(input, dim, 1)


def ifftshift(input, dim=None) -> Tensor:  # noqa: A002
    """Inverse of ``fftshift`` (a roll by -(n // 2))."""
    return _shift(input, dim, -1)
