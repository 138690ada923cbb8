"""Random streams that reproduce PyTorch's CPU generator.

``manual_seed(s)`` followed by the same calls gives the same numbers as PyTorch:
``randperm`` and data-loader shuffles exactly, uniform and normal draws exactly in float64
and within 1 ulp in float32. The stream itself (MT19937 and PyTorch's transforms) is in
``gradfit._mt``; this module holds the ``Generator`` object and the tensor factories.
"""

from __future__ import annotations

import numpy as np

from gradfit import _dtypes
from gradfit.tensor import Tensor, _check_device, _shape_args

_DEFAULT_SEED = 67280421310721


class Generator:
    """A random stream, as ``torch.Generator`` (CPU)."""

    def __init__(self, device="cpu"):
        _check_device(device)
        self._mt = None

    @property
    def mt(self):
        if self._mt is None:
            from gradfit._mt import MT

            self._mt = MT(_DEFAULT_SEED)
        return self._mt

    @property
    def device(self):
        from gradfit.tensor import _CPU

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
        return Tensor._make(self.mt.get_state(), None)

    def set_state(self, new_state) -> Generator:
        arr = new_state._array if isinstance(new_state, Tensor) else np.asarray(new_state)
        self.mt.set_state(arr.astype(np.uint8, copy=False))
        return self


default_generator = Generator()


def _gen(generator) -> Generator:
    return default_generator if generator is None else generator


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


def _float_dtype(dtype) -> np.dtype:
    d = _dtypes.to_dtype(dtype)
    if d.kind != "f":
        raise TypeError(f"expected a floating point dtype, got {d}")
    return d


def _uniform_array(n: int, a: float, b: float, dtype, generator=None) -> np.ndarray:
    return _gen(generator).mt.uniform(n, a, b, _float_dtype(dtype))


def _normal_array(n: int, mean: float, std: float, dtype, generator=None) -> np.ndarray:
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    return _gen(generator).mt.normal(n, mean, std, _float_dtype(dtype))


def _make(arr: np.ndarray, shape: tuple, requires_grad: bool) -> Tensor:
    t = Tensor._make(arr.reshape(shape), None)
    if requires_grad:
        t.requires_grad_(True)
    return t


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Uniform samples on [0, 1)."""
    _check_device(device)
    shape = _shape_args(size)
    return _make(
        _uniform_array(int(np.prod(shape)), 0.0, 1.0, dtype, generator), shape, requires_grad
    )


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Standard normal samples."""
    _check_device(device)
    shape = _shape_args(size)
    return _make(
        _normal_array(int(np.prod(shape)), 0.0, 1.0, dtype, generator), shape, requires_grad
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
    arr = _gen(generator).mt.randint(int(low), int(high), int(np.prod(shape)))
    return Tensor._make(arr.reshape(shape).astype(_dtypes.to_dtype(dtype or np.int64)), None)


def randperm(n: int, *, generator=None, dtype=None, device=None) -> Tensor:
    """A random permutation of 0..n-1."""
    _check_device(device)
    if n < 0:
        raise RuntimeError(f"randperm: n must be non-negative, got {n}")
    arr = _gen(generator).mt.randperm(int(n))
    return Tensor._make(arr.astype(_dtypes.to_dtype(dtype or np.int64), copy=False), None)


def normal(mean, std, size=None, *, generator=None, dtype=None) -> Tensor:
    """``normal(mean: float, std: float, size)`` samples."""
    if size is None:
        raise TypeError("normal(mean, std, size): only the float form with a size is supported")
    shape = tuple(size)
    return _make(_normal_array(int(np.prod(shape)), mean, std, dtype, generator), shape, False)


def bernoulli_mask(shape: tuple, p: float, dtype, generator=None) -> np.ndarray:
    """A 0/1 array with P(1) = p, drawn from the stream (used by dropout)."""
    return _gen(generator).mt.bernoulli(int(np.prod(shape)), p, dtype).reshape(shape)
