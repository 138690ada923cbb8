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


# ---------------------------------------------------------------------------- issue 16
# The rest of PyTorch's random functions at array level (gradfit.random and Tensor's
# in-place fills wrap them), each drawn as PyTorch's CPU kernel draws.


def bernoulli(probs: np.ndarray, p=None, generator=None) -> np.ndarray:
    """``torch.bernoulli(probs)`` (each element's own probability) or, with a number ``p``,
    ``bernoulli_(p)`` over ``probs``' shape; the result has ``probs``' dtype."""
    if probs.dtype.kind != "f":
        raise RuntimeError(f"bernoulli expects a floating-point input, got {probs.dtype}")
    mt = stream(generator)
    if p is not None:
        return mt.bernoulli(probs.size, float(p), probs.dtype).reshape(probs.shape)
    return mt.bernoulli_p(probs, probs.dtype)


def multinomial(p: np.ndarray, num_samples: int, replacement: bool, generator=None):
    """``torch.multinomial`` on an array of weights (1-D or one distribution per row)."""
    if p.dtype.kind != "f":
        raise RuntimeError(
            f"multinomial only supports floating-point dtypes for input, got {p.dtype}"
        )
    if p.ndim not in (1, 2):
        raise RuntimeError(f"prob_dist must be 1 or 2 dim, got a {p.ndim}-D tensor")
    if num_samples <= 0:
        raise RuntimeError(f"cannot sample n_sample <= 0 samples, got {num_samples}")
    n_cat = p.shape[-1]
    if not replacement and num_samples > n_cat:
        raise RuntimeError(
            f"cannot sample n_sample > prob_dist.size(-1) samples without replacement "
            f"(n_sample={num_samples}, categories={n_cat})"
        )
    rows = p.reshape(-1, n_cat)
    if not np.all(np.isfinite(rows)) or np.any(rows < 0):
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    if np.any(rows.sum(axis=1) <= 0):
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    out = stream(generator).multinomial(rows, int(num_samples), bool(replacement))
    return out.reshape(p.shape[:-1] + (int(num_samples),))


def fill(
    kind: str, shape: tuple, dtype, args: tuple, generator=None, contiguous: bool = True
) -> np.ndarray:
    """The values an in-place random fill (``x.uniform_(...)``, ``x.bernoulli_(p)``, ...)
    writes into a tensor of ``shape``/``dtype`` (a probability tensor given as an array), in
    the order drawn. ``contiguous=False``: the target is a strided view, for which PyTorch's
    ``normal_`` draws element by element (the scalar Box-Muller path) whatever the size."""
    n = int(np.prod(shape))
    mt = stream(generator)
    dt = _dtypes.to_dtype(dtype)
    if kind == "uniform":
        arr = uniform(n, float(args[0]), float(args[1]), dt, generator)
    elif kind == "normal" and not contiguous:
        if not float(args[1]) >= 0.0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {args[1]}")
        arr = mt._normal_scalar(n, float(args[0]), float(args[1])).astype(float_dtype(dt))
    elif kind == "normal":
        arr = normal(n, float(args[0]), float(args[1]), dt, generator)
    elif kind == "exponential":
        arr = mt.exponential(n, float(args[0]), dt)
    elif kind == "geometric":
        arr = mt.geometric(n, float(args[0]), dt)
    elif kind == "cauchy":
        arr = mt.cauchy(n, float(args[0]), float(args[1]), dt)
    elif kind == "log_normal":
        arr = mt.log_normal(n, float(args[0]), float(args[1]), dt)
    elif kind == "bernoulli":
        p = args[0]
        if isinstance(p, np.ndarray):
            return mt.bernoulli_p(np.broadcast_to(p, shape), dt)
        arr = mt.bernoulli(n, float(p), dt)
    elif kind == "random":
        low, high = args
        if high is None and low == 0:
            arr = mt.random_full(n, dt)
        else:
            if high is None:
                low, high = 0, low
            arr = mt.randint(int(low), int(high), n).astype(dt)
    else:  # pragma: no cover - Tensor's methods pass only the kinds above
        raise ValueError(f"unknown random fill {kind!r}")
    return arr.reshape(shape)
