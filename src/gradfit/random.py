"""Random streams that reproduce PyTorch's CPU generator.

``manual_seed(s)`` followed by the same calls gives the same numbers as PyTorch, bit for
bit: ``randperm`` and data-loader shuffles, uniform and normal draws in float32 and
float64 (``tests/test_mt_parity.py``). The stream itself (MT19937 and PyTorch's
transforms) is in ``gradfit._mt`` and the array-level draws in ``gradfit._rng``; this
module holds the ``Generator`` object and the tensor factories.
"""

from __future__ import annotations

import numpy as np

from gradfit import _dtypes, _rng
from gradfit._arrays import unwrap, wrap
from gradfit.tensor import _CPU, Tensor, _check_device, _shape_args


class Generator:
    """A random stream, as ``torch.Generator`` (CPU)."""

    def __init__(self, device="cpu"):
        _check_device(device)
        self._mt = None

    @property
    def mt(self):
        """The ``_mt.MT`` stream (``default_generator`` shares ``_rng``'s default one)."""
        if self._mt is None:
            self._mt = _rng.default_stream() if self is default_generator else _rng.new_stream()
        return self._mt

    @property
    def device(self):
        return _CPU

    def manual_seed(self, seed: int) -> Generator:
        if not isinstance(seed, int | np.integer):
            raise TypeError(f"manual_seed expected an int, got {type(seed).__name__}")
        self.mt.manual_seed(int(seed))
        return self

    def seed(self) -> int:
        """Seed from the OS's entropy; returns the seed used."""
        s = int(np.random.SeedSequence().entropy) % (2**63)
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        return self.mt.initial_seed

    def get_state(self) -> Tensor:
        return wrap(self.mt.get_state())

    def set_state(self, new_state) -> Generator:
        self.mt.set_state(unwrap(new_state).astype(np.uint8, copy=False))
        return self


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed gradfit's default generator (as ``torch.manual_seed``)."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state() -> Tensor:
    return default_generator.get_state()


def set_rng_state(new_state) -> None:
    default_generator.set_state(new_state)


def _sampled(arr: np.ndarray, shape: tuple, requires_grad: bool) -> Tensor:
    t = wrap(arr.reshape(shape))
    if requires_grad:
        t.requires_grad_(True)
    return t


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Uniform samples on [0, 1)."""
    _check_device(device)
    shape = _shape_args(size)
    return _sampled(
        _rng.uniform(int(np.prod(shape)), 0.0, 1.0, dtype, generator), shape, requires_grad
    )


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Standard normal samples."""
    _check_device(device)
    shape = _shape_args(size)
    return _sampled(
        _rng.normal(int(np.prod(shape)), 0.0, 1.0, dtype, generator), shape, requires_grad
    )


def rand_like(input, *, dtype=None, generator=None, requires_grad=False) -> Tensor:  # noqa: A002
    return rand(
        input.shape, generator=generator, dtype=dtype or input.dtype, requires_grad=requires_grad
    )


def randn_like(input, *, dtype=None, generator=None, requires_grad=False) -> Tensor:  # noqa: A002
    return randn(
        input.shape, generator=generator, dtype=dtype or input.dtype, requires_grad=requires_grad
    )


def randint(low, high=None, size=None, *, generator=None, dtype=None, device=None) -> Tensor:
    """Integers uniform on [low, high); ``randint(high, size)`` as in PyTorch."""
    _check_device(device)
    if size is None:
        low, high, size = 0, low, high
    if high is None or size is None:
        raise TypeError("randint(low=0, high, size): high and size are required")
    if high <= low:
        raise RuntimeError(
            f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}"
        )
    shape = tuple(size)
    arr = _rng.stream(generator).randint(int(low), int(high), int(np.prod(shape)))
    return wrap(arr.reshape(shape).astype(_dtypes.to_dtype(dtype or np.int64)))


def randperm(n: int, *, generator=None, dtype=None, device=None) -> Tensor:
    """A random permutation of 0..n-1."""
    _check_device(device)
    if n < 0:
        raise RuntimeError(f"randperm: n must be non-negative, got {n}")
    arr = _rng.stream(generator).randperm(int(n))
    return wrap(arr.astype(_dtypes.to_dtype(dtype or np.int64), copy=False))


def normal(mean, std, size=None, *, generator=None, dtype=None) -> Tensor:
    """``normal(mean: float, std: float, size)`` samples."""
    if size is None:
        raise TypeError("normal(mean, std, size): only the float form with a size is supported")
    shape = tuple(size)
    return _sampled(_rng.normal(int(np.prod(shape)), mean, std, dtype, generator), shape, False)
