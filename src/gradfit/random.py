"""Random streams that reproduce PyTorch's CPU generator.

``manual_seed(s)`` followed by the same calls gives the same numbers as PyTorch, bit for
bit: ``randperm`` and data-loader shuffles, uniform and normal draws in float32 and
float64 (``tests/test_mt_parity.py``). The stream itself (MT19937 and PyTorch's
transforms) is in ``gradfit._mt`` and the array-level draws in ``gradfit._rng``; this
module holds the ``Generator`` object and the tensor factories.
"""

from __future__ import annotations

import contextlib
import math

import numpy as np

from gradfit import _dtypes, _layout, _meta, _rng
from gradfit._arrays import unwrap, wrap
from gradfit._out import factory_with_out
from gradfit.tensor import _CPU, Tensor, _check_device, _checked_size, _shape_args


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
            raise RuntimeError(f"manual_seed expected a long, but got {type(seed).__name__}")
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
    """Seed gradfit's default generator (as ``torch.manual_seed``, which takes ``int(seed)``)."""
    return default_generator.manual_seed(int(seed))


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


def _size(size: tuple, size_kw, fn: str) -> tuple:
    """The shape of ``rand(2, 3)``, ``rand((2, 3))`` or ``rand(size=(2, 3))``."""
    if size_kw is not None:
        if size:
            raise TypeError("expected the size either positionally or as size=, not both")
        size = (size_kw,)
    return _checked_size(_shape_args(size), fn)


@factory_with_out
def rand(*size, generator=None, dtype=None, device=None, requires_grad=False, **kw) -> Tensor:
    """Uniform samples on [0, 1): ``rand(2, 3)``, ``rand((2, 3))`` or ``rand(size=(2, 3))``."""
    meta = _check_device(device)
    shape = _size(size, kw.pop("size", None), "rand")
    _no_extra("rand", kw)
    if meta:
        return _meta_sample(shape, dtype, requires_grad)
    if dtype is not None and _dtypes.to_dtype(dtype).kind == "c":
        return _sampled(
            _complex_draw(_rng.uniform, shape, 1.0, dtype, generator), shape, requires_grad
        )
    return _sampled(
        _rng.uniform(int(np.prod(shape)), 0.0, 1.0, dtype, generator), shape, requires_grad
    )


@factory_with_out
def randn(*size, generator=None, dtype=None, device=None, requires_grad=False, **kw) -> Tensor:
    """Standard normal samples: ``randn(2, 3)``, ``randn((2, 3))`` or ``randn(size=(2, 3))``."""
    meta = _check_device(device)
    shape = _size(size, kw.pop("size", None), "randn")
    _no_extra("randn", kw)
    if meta:
        return _meta_sample(shape, dtype, requires_grad)
    if dtype is not None and _dtypes.to_dtype(dtype).kind == "c":
        # PyTorch draws the real and imaginary parts, interleaved, with std 1/sqrt(2)
        std = 1 / math.sqrt(2)
        return _sampled(
            _complex_draw(_rng.normal, shape, std, dtype, generator), shape, requires_grad
        )
    return _sampled(
        _rng.normal(int(np.prod(shape)), 0.0, 1.0, dtype, generator), shape, requires_grad
    )


def _complex_draw(draw, shape: tuple, scale: float, dtype, generator) -> np.ndarray:
    """Samples of a complex dtype: its real dtype's, two per element (real, imaginary)."""
    c = _dtypes.to_dtype(dtype)
    real = np.float64 if c == np.complex128 else np.float32
    return draw(2 * int(np.prod(shape)), 0.0, scale, real, generator).view(c)


def _meta_sample(shape: tuple, dtype, requires_grad: bool) -> Tensor:
    """A meta tensor standing for a sample: PyTorch draws nothing for one."""
    arr = _meta.zeros(shape, _dtypes.to_dtype(dtype))
    return _sampled(arr, shape, requires_grad)


def _no_extra(name: str, kw: dict) -> None:
    kw.pop("layout", None)
    kw.pop("pin_memory", None)
    if kw:
        raise TypeError(f"{name}() got unexpected keyword arguments {sorted(kw)}")


def _draw_like(kind, input, dtype, generator, requires_grad, memory_format) -> Tensor:  # noqa: A002
    """``rand``/``randn`` of ``input``'s shape; a tensor laid out otherwise than in C
    order (channels last by ``memory_format``, or by default as ``input`` is) is filled in
    memory order, and for ``randn`` element by element, as PyTorch fills a
    non-contiguous tensor."""
    fmt = _layout.preserve_format if memory_format is None else memory_format
    if input.is_meta:  # a meta input gives a meta sample, drawing nothing
        return _meta_sample(tuple(input.shape), dtype or input.dtype, requires_grad)
    order = _layout.format_axes(unwrap(input), fmt)
    dtype = dtype or input.dtype
    draw = rand if kind == "uniform" else randn
    if order is None or tuple(order) == tuple(range(input.ndim)):
        return draw(input.shape, generator=generator, dtype=dtype, requires_grad=requires_grad)
    shape = tuple(input.shape[i] for i in order)
    args = (0.0, 1.0)
    arr = _rng.fill(kind, shape, dtype, args, generator, contiguous=False).reshape(shape)
    t = wrap(arr).permute(*np.argsort(order).tolist())
    return t.requires_grad_() if requires_grad else t


def rand_like(
    input,
    *,
    dtype=None,
    generator=None,
    device=None,
    requires_grad=False,  # noqa: A002
    memory_format=None,
) -> Tensor:
    return _draw_like("uniform", input, dtype, generator, requires_grad, memory_format)


def randn_like(
    input,
    *,
    dtype=None,
    generator=None,
    device=None,
    requires_grad=False,  # noqa: A002
    memory_format=None,
) -> Tensor:
    return _draw_like("normal", input, dtype, generator, requires_grad, memory_format)


@factory_with_out
def randint(*args, generator=None, dtype=None, device=None, requires_grad=False, **kw) -> Tensor:
    """Integers uniform on [low, high), in all of PyTorch's spellings.

    ``randint(high, size)``, ``randint(low, high, size)``, ``randint(9, size=(1,))``,
    ``randint(low=0, high=5, size=(2,))``; int64 unless ``dtype`` says otherwise.
    """
    meta = _check_device(device)
    names = ("low", "high", "size")
    given = dict(kw)
    if len(args) > 3:
        raise TypeError(f"randint() takes at most 3 positional arguments, got {len(args)}")
    if len(args) == 3 or (len(args) == 2 and "size" not in given):
        pos = dict(zip(names, args)) if len(args) == 3 else {"high": args[0], "size": args[1]}
    elif len(args) == 2:
        pos = {"low": args[0], "high": args[1]}
    elif len(args) == 1:
        pos = {"high": args[0]} if "high" not in given else {"low": args[0]}
    else:
        pos = {}
    for k, v in pos.items():
        if k in given:
            raise TypeError(f"randint() got multiple values for argument '{k}'")
        given[k] = v
    low, high, size = given.pop("low", 0), given.pop("high", None), given.pop("size", None)
    _no_extra("randint", given)
    if high is None or size is None:
        raise TypeError("randint(low=0, high, size): high and size are required")
    low, high = int(low), int(high)
    if high <= low:
        raise RuntimeError(
            f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}"
        )
    shape = _size((size,), None, "randint")
    if meta:
        return _meta_sample(shape, dtype or np.int64, requires_grad)
    arr = _rng.stream(generator).randint(low, high, int(np.prod(shape)))
    return _sampled(arr.astype(_dtypes.to_dtype(dtype or np.int64)), shape, requires_grad)


def randint_like(input, low=0, high=None, *, dtype=None, generator=None, device=None) -> Tensor:  # noqa: A002
    """``randint_like(input, high)`` or ``randint_like(input, low, high)``."""
    if high is None:
        low, high = 0, low
    return randint(low, high, tuple(input.shape), generator=generator, dtype=dtype or input.dtype)


@factory_with_out
def randperm(n: int, *, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A random permutation of 0..n-1."""
    meta = _check_device(device)
    if n < 0:
        raise RuntimeError(f"randperm: n must be non-negative, got {n}")
    if meta:
        return _meta_sample((int(n),), dtype or np.int64, requires_grad)
    arr = _rng.stream(generator).randperm(int(n))
    return _sampled(arr.astype(_dtypes.to_dtype(dtype or np.int64), copy=False), (int(n),), False)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, device=None, **kw):
    """Normal samples in all of PyTorch's forms, drawn as PyTorch draws them.

    - ``normal(mean, std, size)`` with numbers: ``empty(size).normal_(mean, std)``;
    - ``normal(mean_tensor, std=1.0)``: ``normal_(0, std)`` over ``mean``'s shape, then
      ``+ mean``;
    - ``normal(mean, std_tensor)`` and ``normal(mean_tensor, std_tensor)``: ``normal_(0, 1)``
      over the broadcast shape, then ``* std + mean``.
    """
    _check_device(device)
    requires_grad = kw.pop("requires_grad", False)
    _no_extra("normal", kw)
    m_t, s_t = isinstance(mean, Tensor), isinstance(std, Tensor)
    if not m_t and not s_t:
        if size is None:
            raise TypeError("normal(mean: float, std: float) needs a size: normal(mean, std, size)")
        shape = _size((size,), None, "normal")
        arr = _rng.normal(int(np.prod(shape)), float(mean), float(std), dtype, generator)
        return _sampled(arr, shape, requires_grad)
    if size is not None:
        raise TypeError("normal(): size= is only for float mean and std")
    m = unwrap(mean) if m_t else None
    s = unwrap(std) if s_t else None
    for name, a in (("mean", m), ("std", s)):
        if a is not None and a.dtype.kind != "f":
            raise RuntimeError(f"normal expects floating-point {name}, got {a.dtype}")
    if s is not None and s.size and not np.all(s >= 0):
        raise RuntimeError("normal expects all elements of std >= 0.0")
    out_dtype = (m if m is not None else s).dtype
    if s is None:
        z = _rng.normal(m.size, 0.0, float(std), out_dtype, generator).reshape(m.shape)
        return wrap(z + m)
    shape = np.broadcast_shapes(s.shape, () if m is None else m.shape)
    z = _rng.normal(int(np.prod(shape)), 0.0, 1.0, out_dtype, generator).reshape(shape)
    z = z * s
    return wrap((z + (out_dtype.type(mean) if m is None else m)).astype(out_dtype, copy=False))


def bernoulli(input, p=None, *, generator=None) -> Tensor:  # noqa: A002
    """``bernoulli(probs)``: 0/1 with each element's probability; ``bernoulli(x, p)``: with
    one probability ``p`` for every element of ``x``'s shape. Keeps the input's dtype."""
    return wrap(_rng.bernoulli(unwrap(input), p, generator))


def multinomial(input, num_samples: int, replacement: bool = False, *, generator=None):  # noqa: A002
    """Category indices drawn from each row of non-negative weights, as ``torch.multinomial``.

    Without replacement (and for one sample) PyTorch races exponentials; with replacement it
    searches the normalised running sum (see ``gradfit._mt.MT.multinomial``). Each is
    reproduced draw for draw.
    """
    return wrap(_rng.multinomial(unwrap(input), num_samples, replacement, generator))


# --- rtapi: torch.poisson and torch.random.fork_rng ----------------------------------------
def _sample_poisson(rate: float, mt) -> int:
    """One draw of PyTorch's CPU ``sample_poisson`` (ATen/native/Distributions.cpp): for
    rate >= 10 Hoermann's transformed rejection (PTRS, 1993), below it the product of
    uniforms; every uniform is ``uniform_real_distribution<double>(0, 1)``, drawn one at a
    time because the number of draws depends on the values."""
    import math

    def u() -> float:
        return float(mt._u53(1)[0])

    if rate >= 10:
        slam = math.sqrt(rate)
        loglam = math.log(rate)
        b = 0.931 + 2.53 * slam
        a = -0.059 + 0.02483 * b
        invalpha = 1.1239 + 1.1328 / (b - 3.4)
        vr = 0.9277 - 3.6224 / (b - 2)
        while True:
            uu = u() - 0.5
            v = u()
            us = 0.5 - abs(uu)
            k = math.floor((2 * a / us + b) * uu + rate + 0.43)
            if us >= 0.07 and v <= vr:
                return k
            if k < 0 or (us < 0.013 and v > us):
                continue
            if (math.log(v) + math.log(invalpha) - math.log(a / (us * us) + b)) <= (
                -rate + k * loglam - math.lgamma(k + 1.0)
            ):
                return k
    if rate == 0:
        return 0
    enlam = math.exp(-rate)
    x, prod = 0, 1.0
    while True:
        prod *= u()
        if prod > enlam:
            x += 1
        else:
            return x


def poisson(input, generator=None) -> Tensor:  # noqa: A002
    """Counts drawn from Poisson distributions with the rates in ``input``, element by
    element in memory order, as ``torch.poisson`` (bit for bit with PyTorch's CPU stream).
    The result has ``input``'s dtype; its gradient with respect to the rates is zero."""
    from gradfit.ops.sampling import Poisson

    if not isinstance(input, Tensor):
        raise TypeError(f"poisson(): argument 'input' must be Tensor, not {type(input).__name__}")
    rates = unwrap(input)
    if rates.dtype.kind != "f":
        names = {"i": "Int", "l": "Long", "h": "Short", "b": "Char", "B": "Byte", "?": "Bool"}
        raise NotImplementedError(
            f"\"poisson_cpu\" not implemented for '{names.get(rates.dtype.char, rates.dtype)}'"
        )
    flat = np.ascontiguousarray(rates).reshape(-1).astype(np.float64)
    if np.any(flat < 0) or np.any(np.isnan(flat)):
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    mt = _rng.stream(generator)
    sample = np.array([_sample_poisson(r, mt) for r in flat.tolist()], dtype=rates.dtype)
    return Poisson.apply(input, sample=sample.reshape(rates.shape))


@contextlib.contextmanager
def fork_rng(
    devices=None,
    enabled: bool = True,
    _caller: str = "fork_rng",
    _devices_kw: str = "devices",
    device_type: str = "cuda",
):
    """Fork the RNG: on exit the default CPU generator is back at the state it had on entry
    (as ``torch.random.fork_rng``), so draws inside the block leave the stream outside it
    untouched. ``devices`` lists the ``device_type`` devices whose streams to fork too:
    gradfit has none, so only None or an empty list is accepted. ``enabled=False`` makes
    it a no-op. Usable as ``with fork_rng():`` or as a decorator."""
    if devices is not None and len(list(devices)) > 0:
        from gradfit.tensor import _no_device_error

        raise _no_device_error(device_type)
    if not enabled:
        yield
        return
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)
