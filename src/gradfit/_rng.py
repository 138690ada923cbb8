"""Array-level random draws and the default stream, below ``gradfit.tensor``.

``Tensor.uniform_`` / ``normal_``, ``gradfit.random`` (whose ``default_generator`` wraps
the default stream), ``nn.init`` and dropout all draw through these functions, so one
stream serves them all and the tensor layer needs nothing above it. A ``generator`` is
any object with an ``mt`` attribute (``gradfit.Generator``); None means the default
stream. The stream itself (MT19937 and PyTorch's transforms, bit-exact) is ``_mt.MT``.
"""

from __future__ import annotations

import numpy as np

from gradfit import _dtypes

_default_stream = []


def default_stream():
    """The default ``_mt.MT`` stream, made on first use."""
    if not _default_stream:
        # Deferred: importing _mt and seeding the stream would otherwise be paid by every
        # `import gradfit`, random draws or not.
        from gradfit._mt import DEFAULT_SEED, MT

        _default_stream.append(MT(DEFAULT_SEED))
    return _default_stream[0]


def new_stream():
    """A fresh ``_mt.MT`` stream with PyTorch's default seed (a new ``Generator``)."""
    from gradfit._mt import DEFAULT_SEED, MT

    return MT(DEFAULT_SEED)


def stream(generator):
    """The ``_mt.MT`` stream of ``generator`` (the default stream for None)."""
    return default_stream() if generator is None else generator.mt


def float_dtype(dtype) -> np.dtype:
    """``dtype`` as a NumPy dtype; a floating one, or TypeError naming it."""
    d = _dtypes.to_dtype(dtype)
    if d.kind != "f":
        raise TypeError(f"expected a floating point dtype, got {d}")
    return d


def uniform(n: int, a: float, b: float, dtype, generator=None) -> np.ndarray:
    """``n`` samples uniform on [a, b), as ``torch.Tensor.uniform_`` draws them."""
    return stream(generator).uniform(n, a, b, float_dtype(dtype))


def normal(n: int, mean: float, std: float, dtype, generator=None) -> np.ndarray:
    """``n`` normal samples, as ``torch.Tensor.normal_`` draws them."""
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    return stream(generator).normal(n, mean, std, float_dtype(dtype))


def bernoulli_mask(shape: tuple, p: float, dtype, generator=None) -> np.ndarray:
    """A 0/1 array with P(1) = p, drawn from the stream (used by dropout)."""
    return stream(generator).bernoulli(int(np.prod(shape)), p, dtype).reshape(shape)
