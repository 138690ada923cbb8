"""Pure-NumPy reproduction of PyTorch's CPU random number generator.

PyTorch's CPU generator (``at::CPUGeneratorImpl``, ``ATen/CPUGeneratorImpl.h``) wraps a
Mersenne Twister ``at::mt19937`` (``ATen/core/MT19937RNGEngine.h``) seeded with Matsumoto and
Nishimura's ``init_genrand`` on the low 32 bits of the seed, plus one cached ``double`` normal
sample for the scalar Box-Muller path.  That is the same engine and seeding as NumPy's legacy
``np.random.RandomState(seed)``, so this module keeps the 624-word key and position in a
``np.random.MT19937`` bit generator and reads raw 32-bit outputs with ``random_raw``.

The distribution kernels are re-implemented from the torch 2.13 CPU sources
(``ATen/native/cpu/DistributionTemplates.h``, ``ATen/core/DistributionsHelper.h``,
``ATen/core/TransformationHelper.h``, ``ATen/native/TensorFactories.cpp``) and checked
call-for-call against torch 2.13.0 (CPU wheel, Linux x86-64, glibc 2.36) in
``tests/test_mt_parity.py``; every draw is bit-exact.  Three details of the compiled kernels
matter for that:

* In torch's AVX2/AVX512 kernel builds (any x86-64 CPU with AVX2+FMA), GCC contracts
  ``x * (to - from) + from`` and ``val * std + mean`` into fused multiply-adds;
  :func:`_fma64` and :func:`_fmaf` emulate them exactly.  The portable ``DEFAULT`` build does
  not fuse; :attr:`MT.cpu_capability` selects the flavour (auto-detected, see
  :data:`CPU_CAPABILITY`).
* The float32 Box-Muller transform (``normal_`` with 16 or more elements) uses
  ``avx_mathfun.h``'s Cephes ``log256_ps``/``sincos256_ps`` in the AVX2/AVX512 builds (ported
  in :func:`_avx_log256` and :func:`_avx_sincos256`, fused multiply-adds included) and glibc's
  ``logf``/``sinf``/``cosf`` in the ``DEFAULT`` build (ported, tables included, in
  :func:`_glibc_logf` and :func:`_glibc_sincosf`, and checked against glibc on all 2**24
  inputs the kernel can produce).
* The float64 transforms call the C library's ``log``/``log1p``/``sin``/``cos``; they are
  taken from Python's :mod:`math`, which calls the same libm.  (NumPy's own ``np.log`` and
  ``np.log1p`` differ from glibc in the last bit for a fraction of inputs.)

This module deliberately depends on NumPy and the standard library only; ``gradfit.Generator``
wraps one :class:`MT` per generator.
"""

from __future__ import annotations

import math
import operator
import os
import platform
import struct

import numpy as np

__all__ = ["DEFAULT_SEED", "MT"]

#: ``default_rng_seed_val`` in ``c10/core/GeneratorImpl.h``: the seed of a fresh generator.
DEFAULT_SEED = 67280421310721

_N = 624  # MERSENNE_STATE_N
_STATE_SIZE = 5056  # sizeof(CPUGeneratorImplState)
_STATE_KEY_OFFSET = 24
_NORMAL_OFFSET = _STATE_KEY_OFFSET + 8 * _N  # normal_x, normal_y, normal_rho, normal_is_valid
_FLOAT_NORMAL_OFFSET = 5048  # next_float_normal_sample, its valid flag
_RANDPERM_SMALL_LIMIT = 0xFFFFFFFF // 20  # randperm_cpu: n < uint32 max / 20 uses random() % k
_RANDINT_64BIT_RANGE = 1 << 28  # uniform_int_from_to_distribution: range >= 2**28 -> random64
_MASK53 = np.uint64((1 << 53) - 1)
_MASK24 = np.uint32((1 << 24) - 1)
_TWO_PI = 2.0 * math.pi  # ``2.0f * c10::pi<double>`` and ``2.0 * c10::pi<double>``


# --------------------------------------------------------------------------------------------
# Exact floating-point helpers
# --------------------------------------------------------------------------------------------


def _two_sum(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Knuth's TwoSum: ``s = fl(a + b)`` and the exact rounding error ``e`` (``a + b = s + e``)."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _two_prod(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dekker's TwoProduct with Veltkamp splitting: ``a * b = p + e`` exactly (no overflow)."""
    p = a * b
    t = 134217729.0 * a  # 2**27 + 1
    ah = t - (t - a)
    al = a - ah
    t = 134217729.0 * b
    bh = t - (t - b)
    bl = b - bh
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def _add_round_to_odd(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a + b`` in float64 rounded to odd (the inexact result gets an odd last bit).

    Rounding to odd followed by one round-to-nearest into a format at least two bits narrower
    is a correct rounding of the exact sum (Boldo and Melquiond, "Emulation of FMA and
    correctly rounded sums: proved algorithms using rounding to odd", IEEE TC 57(4), 2008).
    """
    s, e = _two_sum(a, b)
    fix = (e != 0) & ((s.view(np.int64) & 1) == 0)
    if fix.any():
        s = np.where(fix, np.nextafter(s, np.where(e > 0, np.inf, -np.inf)), s)
    return s


def _fma64(a, b, c) -> np.ndarray:
    """Exact ``fma(a, b, c)`` for float64 arrays (finite operands, no over/underflow).

    Boldo and Melquiond's emulation: the product is split exactly into ``uh + ul``, ``c + uh``
    is split with TwoSum into ``th + tl``, the two small terms are added with rounding to odd,
    and one final round-to-nearest gives the correctly rounded ``a * b + c``.
    """
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    c = np.asarray(c, np.float64)
    uh, ul = _two_prod(a, b)
    th, tl = _two_sum(c, uh)
    return th + _add_round_to_odd(tl, ul)


def _fmaf(a, b, c) -> np.ndarray:
    """Exact single-precision ``fmaf(a, b, c)`` of float32 values, returned as float32.

    The product of two floats is exact in float64, so only the sum is rounded twice (to double,
    then to float).  That double rounding can only go wrong when the double sum lands exactly
    on a midpoint between two floats while being inexact; those (rare) elements are nudged one
    double ulp towards the exact sum first, which is rounding to odd where it matters.  Assumes
    results in float32's normal range, as in every use here.
    """
    p = np.asarray(a, np.float32).astype(np.float64) * np.asarray(b, np.float32).astype(np.float64)
    c = np.asarray(c, np.float32).astype(np.float64)
    s = p + c
    out = s.astype(np.float32)
    mid = (s.view(np.int64) & 0x1FFFFFFF) == 0x10000000
    if mid.any():
        idx = np.nonzero(mid)
        cs = np.broadcast_to(c, s.shape)[idx]
        ps = np.broadcast_to(p, s.shape)[idx]
        ss = s[idx]
        bb = ss - ps
        e = (ps - (ss - bb)) + (cs - bb)
        nudged = np.nextafter(ss, np.where(e > 0, np.inf, -np.inf))
        out[idx] = np.where(e != 0, nudged, ss).astype(np.float32)
    return out


def _libm(fn, x: np.ndarray) -> np.ndarray:
    """Apply a :mod:`math` function (the C library's double version) element-wise."""
    return np.fromiter(map(fn, x.ravel().tolist()), np.float64, count=x.size).reshape(x.shape)


# --------------------------------------------------------------------------------------------
# glibc's single-precision logf / sinf / cosf, ported to vectorised float64 NumPy
# --------------------------------------------------------------------------------------------

# __logf_data (sysdeps/ieee754/flt-32/e_logf_data.c): 16 x {invc, logc}, ln2, poly A[0..2].
_LOGF_TAB = np.array(
    [
        float.fromhex(h)
        for h in (
            "0x1.661ec79f8f3bep+0 -0x1.57bf7808caadep-2 0x1.571ed4aaf883dp+0 -0x1.2bef0a7c06ddbp-2 "
            "0x1.49539f0f010b0p+0 -0x1.01eae7f513a67p-2 0x1.3c995b0b80385p+0 -0x1.b31d8a68224e9p-3 "
            "0x1.30d190c8864a5p+0 -0x1.6574f0ac07758p-3 0x1.25e227b0b8ea0p+0 -0x1.1aa2bc79c8100p-3 "
            "0x1.1bb4a4a1a343fp+0 -0x1.a4e76ce8c0e5ep-4 0x1.12358f08ae5bap+0 -0x1.1973c5a611cccp-4 "
            "0x1.0953f419900a7p+0 -0x1.252f438e10c1ep-5 0x1.0000000000000p+0 0x0.0p+0 "
            "0x1.e608cfd9a47acp-1 0x1.aa5aa5df25984p-5 0x1.ca4b31f026aa0p-1 0x1.c5e53aa362eb4p-4 "
            "0x1.b2036576afce6p-1 0x1.526e57720db08p-3 0x1.9c2d163a1aa2dp-1 0x1.bc2860d224770p-3 "
            "0x1.886e6037841edp-1 0x1.1058bc8a07ee1p-2 0x1.767dcf5534862p-1 0x1.4043057b6ee09p-2"
        ).split()
    ]
).reshape(16, 2)
_LOGF_LN2 = float.fromhex("0x1.62e42fefa39efp-1")
_LOGF_A0 = float.fromhex("-0x1.00ea348b88334p-2")
_LOGF_A1 = float.fromhex("0x1.5575b0be00b6ap-2")
_LOGF_A2 = float.fromhex("-0x1.ffffef20a4123p-2")

# __sincosf_table[0] (sysdeps/ieee754/flt-32/sincosf_data.c); table [1] negates c0..c4.
_SINCOSF_HPI_INV = float.fromhex("0x1.45f306dc9c883p+23")  # 2/pi * 2**24
_SINCOSF_HPI = float.fromhex("0x1.921fb54442d18p+0")  # pi/2
_SINCOSF_C0 = 1.0
_SINCOSF_C1 = float.fromhex("-0x1.ffffffd0c621cp-2")
_SINCOSF_C2 = float.fromhex("0x1.55553e1068f19p-5")
_SINCOSF_C3 = float.fromhex("-0x1.6c087e89a359dp-10")
_SINCOSF_C4 = float.fromhex("0x1.99343027bf8c3p-16")
_SINCOSF_S1 = float.fromhex("-0x1.555545995a603p-3")
_SINCOSF_S2 = float.fromhex("0x1.1107605230bc4p-7")
_SINCOSF_S3 = float.fromhex("-0x1.994eb3774cf24p-13")
_TOP12_PIO4 = (int(np.float32(0.7853982).view(np.uint32)) >> 20) & 0x7FF
_TOP12_TINY = (int(np.float32(2.0**-12).view(np.uint32)) >> 20) & 0x7FF


def _glibc_logf(x: np.ndarray) -> np.ndarray:
    """glibc 2.36 ``logf`` for positive normal float32 ``x`` (``sysdeps/ieee754/flt-32/e_logf.c``).

    ``x = 2**k * z`` with ``z`` in ``[OFF, 2*OFF)``; ``log(x) = log1p(z/c - 1) + log(c) + k*ln2``
    with a 16-entry table of ``1/c, log(c)`` and a cubic polynomial, evaluated in double and
    rounded once to float.  Matches glibc on all of ``1 - k * 2**-24``, the inputs of torch's
    float Box-Muller transform.
    """
    ix = np.asarray(x, np.float32).view(np.uint32).astype(np.int64)
    tmp = ix - 0x3F330000
    i = (tmp >> 19) & 15
    k = tmp >> 23
    z = (ix - (k << 23)).astype(np.uint32).view(np.float32).astype(np.float64)
    r = z * _LOGF_TAB[i, 0] - 1.0
    y0 = _LOGF_TAB[i, 1] + k.astype(np.float64) * _LOGF_LN2
    r2 = r * r
    y = _LOGF_A1 * r + _LOGF_A2
    y = _LOGF_A0 * r2 + y
    y = y * r2 + (y0 + r)
    return np.where(ix == 0x3F800000, np.float32(0.0), y.astype(np.float32))


def _glibc_sincosf(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """glibc 2.36 ``sinf`` and ``cosf`` for float32 ``|x| < 120`` (``s_sinf.c``, ``s_cosf.c``).

    Below ``pi/4`` (compared on the top 12 bits) the polynomials are used directly; otherwise
    the argument is reduced by ``n * pi/2`` with the 2**24-prescaled ``2/pi`` trick and the
    sine/cosine polynomials are swapped and sign-flipped by quadrant.  Matches glibc on every
    ``float(2*pi*k*2**-24)``, the inputs of torch's float Box-Muller transform.
    """
    y = np.asarray(x, np.float32)
    top = (y.view(np.uint32) >> 20) & 0x7FF
    small = top < _TOP12_PIO4
    tiny = top < _TOP12_TINY
    xd = y.astype(np.float64)
    n = (((xd * _SINCOSF_HPI_INV).astype(np.int64) + 0x800000) >> 24).astype(np.int64)
    n = np.where(small, 0, n)
    xr = np.where(small, xd, xd - n.astype(np.float64) * _SINCOSF_HPI)
    q = n & 3
    sign = np.where((q == 1) | (q == 2), -1.0, 1.0)
    alt = np.where((n & 2) != 0, -1.0, 1.0)  # __sincosf_table[1] negates the cosine poly
    xs = xr * sign
    x2 = xr * xr
    x3 = x2 * xs
    x4 = x2 * x2
    s1 = _SINCOSF_S2 + x2 * _SINCOSF_S3
    sv = (xs + x3 * _SINCOSF_S1) + (x3 * x2) * s1
    c2 = alt * _SINCOSF_C3 + x2 * (alt * _SINCOSF_C4)
    c1 = alt * _SINCOSF_C0 + x2 * (alt * _SINCOSF_C1)
    cv = (c1 + x4 * (alt * _SINCOSF_C2)) + (x4 * x2) * c2
    odd = (n & 1) == 1
    sin = np.where(odd, cv, sv).astype(np.float32)
    cos = np.where(odd, sv, cv).astype(np.float32)
    sin = np.where(tiny, y, sin)
    cos = np.where(tiny, np.float32(1.0), cos)
    return sin, cos


# avx_mathfun.h (ATen/native/cpu): Julien Pommier's Cephes-based SIMD log/sincos, as torch
# compiles them for the AVX2 and AVX512 capabilities (GCC fuses a multiply into the following
# add or subtract wherever the product has no other use; those fusions are reproduced).
_F32 = np.float32
_AVX_LOG_P = [
    _F32(c)
    for c in (
        7.0376836292e-2,
        -1.1514610310e-1,
        1.1676998740e-1,
        -1.2420140846e-1,
        1.4249322787e-1,
        -1.6668057665e-1,
        2.0000714765e-1,
        -2.4999993993e-1,
        3.3333331174e-1,
    )
]
_AVX_LOG_Q1 = _F32(-2.12194440e-4)
_AVX_LOG_Q2 = _F32(0.693359375)
_AVX_SQRTHF = _F32(0.707106781186547524)
_AVX_DP = (_F32(-0.78515625), _F32(-2.4187564849853515625e-4), _F32(-3.77489497744594108e-8))
_AVX_COSCOF = (
    _F32(2.443315711809948e-005),
    _F32(-1.388731625493765e-003),
    _F32(4.166664568298827e-002),
)
_AVX_SINCOF = (_F32(-1.9515295891e-4), _F32(8.3321608736e-3), _F32(-1.6666654611e-1))
_AVX_FOPI = _F32(1.27323954473516)  # 4 / pi
_AVX_TWO_PI = _F32(2.0 * math.pi)  # _mm256_set1_ps(2.0f * c10::pi<double>)


def _avx_log256(x: np.ndarray) -> np.ndarray:
    """``log256_ps`` from ``avx_mathfun.h`` on positive float32 values.

    ``x = m * 2**e`` with ``m`` in ``[sqrt(1/2), sqrt(2))``; ``log(x) = e*ln2 + P(m - 1)`` with
    Cephes' degree-9 polynomial and ``ln2`` split into ``q2 + q1``.  Bit-exact for torch 2.13's
    AVX2/AVX512 build, including GCC's fused multiply-adds.
    """
    xi = np.maximum(np.asarray(x, _F32), _F32(1.1754944e-38)).view(np.int32)
    e = ((xi >> 23) - 0x7F).astype(_F32) + _F32(1.0)
    m = ((xi & ~0x7F800000) | 0x3F000000).view(_F32)
    mask = m < _AVX_SQRTHF
    e = e - np.where(mask, _F32(1.0), _F32(0.0))
    x = (m - _F32(1.0)) + np.where(mask, m, _F32(0.0))
    z = x * x
    y = np.full_like(x, _AVX_LOG_P[0])
    for c in _AVX_LOG_P[1:]:
        y = _fmaf(y, x, c)
    y = _fmaf(y * x, z, e * _AVX_LOG_Q1)
    y = y - z * _F32(0.5)
    return _fmaf(e, _AVX_LOG_Q2, x + y)


def _avx_sincos256(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``sincos256_ps`` from ``avx_mathfun.h``: (sin, cos) of float32 values.

    Cephes ``sinf``/``cosf``: reduce by ``j * pi/4`` (``j`` even, ``pi/4`` split in three for
    extended-precision reduction), evaluate the sine and cosine polynomials and select/sign them
    by octant.  Bit-exact for torch 2.13's AVX2/AVX512 build, including GCC's fused
    multiply-adds.
    """
    x = np.asarray(x, _F32)
    sign_sin = x.view(np.int32) & np.int32(-(1 << 31))
    x = np.abs(x)
    j = (x * _AVX_FOPI).astype(np.int32)
    j = (j + 1) & ~1
    y = j.astype(_F32)
    sign_sin = sign_sin ^ ((j & 4) << 29)
    sign_cos = (~(j - 2) & 4) << 29
    poly_mask = (j & 2) == 0
    for dp in _AVX_DP:
        x = _fmaf(y, dp, x)
    z = x * x
    c = _fmaf(_AVX_COSCOF[0], z, _AVX_COSCOF[1])
    c = _fmaf(c, z, _AVX_COSCOF[2])
    c = _fmaf(c * z, z, -(z * _F32(0.5))) + _F32(1.0)
    s = _fmaf(_AVX_SINCOF[0], z, _AVX_SINCOF[1])
    s = _fmaf(s, z, _AVX_SINCOF[2])
    s = _fmaf(s * z, x, x)
    sin = np.where(poly_mask, s, c)
    cos = np.where(poly_mask, c, s)
    sin = (sin.view(np.int32) ^ sign_sin).view(_F32)
    cos = (cos.view(np.int32) ^ sign_cos).view(_F32)
    return sin, cos


def _check_float_dtype(dtype) -> np.dtype:
    dt = np.dtype(dtype)
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise TypeError(f"expected float32 or float64, got {dt}")
    return dt


def _detect_cpu_capability() -> str:
    """Guess which ATen CPU kernel build torch would dispatch to on this machine.

    torch (``ATen/native/DispatchStub.cpp``) honours ``ATEN_CPU_CAPABILITY`` and otherwise picks
    AVX512 or AVX2 on x86 CPUs that have AVX2 and FMA, else the ``DEFAULT`` build.  Both vector
    builds run the same random kernels (``CPU_CAPABILITY_AVX2`` code, fused multiply-adds), so
    this returns ``"avx2"`` for either, and ``"default"`` otherwise.
    """
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return "default"
    if os.environ.get("ATEN_CPU_CAPABILITY", "").strip().lower() == "default":
        return "default"
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return "avx2" if {"avx2", "fma"} <= flags else "default"
    except OSError:
        pass
    return "avx2"


#: The torch CPU kernel flavour that :class:`MT` reproduces by default (see
#: :func:`_detect_cpu_capability`); each instance can override it via ``MT.cpu_capability``.
CPU_CAPABILITY = _detect_cpu_capability()


# --------------------------------------------------------------------------------------------
# The generator
# --------------------------------------------------------------------------------------------


class MT:
    """One torch CPU generator: an MT19937 stream plus torch's cached normal sample.

    Every method consumes the stream exactly as the corresponding torch CPU kernel does, so a
    sequence of calls on an :class:`MT` and on a ``torch.Generator`` with the same seed gives
    the same numbers call for call.

    Attributes:
        initial_seed: The seed last given to :meth:`manual_seed` (or restored by
            :meth:`set_state`), as torch's ``Generator.initial_seed()`` reports it: an unsigned
            64-bit integer.
        cpu_capability: ``"avx2"`` (torch's AVX2 and AVX512 kernels) or ``"default"`` (the
            portable kernels): which flavour of the floating-point kernels to reproduce.
            Defaults to :data:`CPU_CAPABILITY`.  Only ``uniform`` and ``normal`` depend on it.
    """

    def __init__(self, seed: int = DEFAULT_SEED) -> None:
        """Create a generator seeded like ``torch.Generator()`` (or with ``seed``)."""
        self.cpu_capability = CPU_CAPABILITY
        self._bg = np.random.MT19937()
        self.initial_seed = 0
        self._fresh = True
        self._normal: float | None = None
        self._float_normal: float | None = None
        self.manual_seed(seed)

    # ---------------------------------------------------------------- seeding and state

    def manual_seed(self, seed: int) -> None:
        """Reseed exactly like ``torch.Generator.manual_seed(seed)``.

        torch accepts any integer in ``[-2**63, 2**64)``; it stores ``seed mod 2**64`` as the
        initial seed but ``at::mt19937``'s ``init_with_uint32`` only uses its low 32 bits
        (``init_genrand``).  The cached normal samples are discarded.

        Args:
            seed: The seed.

        Raises:
            ValueError: If ``seed`` is outside ``[-2**63, 2**64)`` (torch: "Overflow when
                unpacking long long").
        """
        seed = operator.index(seed)
        if not -(1 << 63) <= seed < (1 << 64):
            raise ValueError("Overflow when unpacking long long")
        seed &= (1 << 64) - 1
        # RandomState(bg).seed runs MT19937's init_genrand on _bg itself, in C: the same
        # key and position (624) as RandomState(seed).get_state() without building a
        # state tuple, and every shuffled DataLoader epoch reseeds a generator (PyTorch's
        # RandomSampler).
        np.random.RandomState(self._bg).seed(seed & 0xFFFFFFFF)
        self.initial_seed = seed
        self._fresh = True
        self._normal = None
        self._float_normal = None

    def _set_key(self, key: np.ndarray, pos: int) -> None:
        self._bg.state = {
            "bit_generator": "MT19937",
            "state": {"key": np.asarray(key, np.uint32), "pos": int(pos)},
        }

    def get_state(self) -> np.ndarray:
        """Return the full state, byte-for-byte as ``torch.Generator.get_state()`` would.

        Layout (``CPUGeneratorImplState``, 5056 bytes, little-endian): ``the_initial_seed``
        (u64), ``left`` (i32), ``seeded`` (i32), ``next`` (u64), the 624 key words (each as
        u64), ``normal_x``, ``normal_y``, ``normal_rho`` (f64; torch keeps the cached double
        normal in ``normal_y``), ``normal_is_valid`` (i32), padding, then the cached float normal
        (f32) and its flag (bool).  torch's ``left``/``next`` relate to NumPy's ``pos`` as
        ``left = 625 - pos``, ``next = pos``, except right after seeding (``left=1, next=0``).

        Returns:
            A new uint8 array of 5056 bytes, accepted by :meth:`set_state` and by torch.
        """
        st = self._bg.state["state"]
        pos = int(st["pos"])
        left, nxt = (1, 0) if self._fresh else (_N + 1 - pos, pos)
        buf = bytearray(_STATE_SIZE)
        struct.pack_into("<QiiQ", buf, 0, self.initial_seed, left, 1, nxt)
        key = np.asarray(st["key"], np.uint32).astype("<u8")
        buf[_STATE_KEY_OFFSET:_NORMAL_OFFSET] = key.tobytes()
        valid = self._normal is not None
        normal = float(self._normal) if valid else 0.0
        struct.pack_into("<dddi", buf, _NORMAL_OFFSET, 0.0, normal, 0.0, int(valid))
        fvalid = self._float_normal is not None
        fnormal = float(self._float_normal) if fvalid else 0.0
        struct.pack_into("<f?", buf, _FLOAT_NORMAL_OFFSET, fnormal, fvalid)
        return np.frombuffer(bytes(buf), np.uint8).copy()

    def set_state(self, state: np.ndarray) -> None:
        """Restore a state from :meth:`get_state` or from ``torch.Generator.get_state()``.

        Follows ``CPUGeneratorImpl::set_state``: the 5056-byte layout of :meth:`get_state` (torch
        2.13 no longer accepts the 5048-byte legacy layout either); the cached double normal is
        read from ``normal_y``.

        Args:
            state: A 1-D uint8 array (or bytes).

        Raises:
            TypeError: If ``state`` is not uint8.
            RuntimeError: If the size is wrong or the ``left``/``next`` pair is invalid, as in
                torch, or if it is a pair torch accepts but no draw sequence produces
                (``left + next != 625``), which the NumPy engine cannot represent.
        """
        if isinstance(state, (bytes, bytearray, memoryview)):
            state = np.frombuffer(bytes(state), np.uint8)
        state = np.asarray(state)
        if state.dtype != np.uint8:
            raise TypeError(f"RNG state must be a uint8 array, got {state.dtype}")
        raw = state.ravel().tobytes()
        if len(raw) != _STATE_SIZE:
            raise RuntimeError(
                f"Expected a CPUGeneratorImplState of size {_STATE_SIZE} but found the input RNG "
                f"state size to be {len(raw)}"
            )
        seed, left, seeded, nxt = struct.unpack_from("<QiiQ", raw, 0)
        _, normal, _, valid = struct.unpack_from("<dddi", raw, _NORMAL_OFFSET)
        fnormal, fvalid = struct.unpack_from("<f?", raw, _FLOAT_NORMAL_OFFSET)
        nxt &= 0xFFFFFFFF  # torch keeps next_ as uint32
        if not (seeded != 0 and 0 < left <= _N and nxt <= _N):
            raise RuntimeError("Invalid mt19937 state")
        if left == 1:
            pos = _N
        elif left + nxt == _N + 1:
            pos = nxt
        else:
            raise RuntimeError(f"unsupported mt19937 state: left={left}, next={nxt}")
        key = np.frombuffer(raw, "<u8", count=_N, offset=_STATE_KEY_OFFSET).astype(np.uint32)
        self._set_key(key, pos)
        self.initial_seed = seed
        self._fresh = left == 1 and nxt == 0
        self._normal = normal if valid else None
        self._float_normal = fnormal if fvalid else None

    # ---------------------------------------------------------------- raw streams

    def random32(self, n: int) -> np.ndarray:
        """Draw ``n`` raw outputs of ``CPUGeneratorImpl::random()`` (tempered MT19937 words).

        Args:
            n: Number of outputs.

        Returns:
            uint32 array of shape ``(n,)``.
        """
        n = operator.index(n)
        if n <= 0:
            return np.empty(0, np.uint32)
        self._fresh = False
        return self._bg.random_raw(n).astype(np.uint32)

    def random64(self, n: int) -> np.ndarray:
        """Draw ``n`` outputs of ``CPUGeneratorImpl::random64()``: ``(first << 32) | second``.

        Args:
            n: Number of outputs (each consumes two 32-bit words).

        Returns:
            uint64 array of shape ``(n,)``.
        """
        n = operator.index(n)
        raw = self.random32(2 * max(n, 0)).astype(np.uint64)
        return (raw[0::2] << np.uint64(32)) | raw[1::2]

    def _u53(self, n: int) -> np.ndarray:
        """``uniform_real_distribution<double>(0, 1)``: ``(random64() & (2**53-1)) * 2**-53``."""
        return (self.random64(n) & _MASK53).astype(np.float64) * 2.0**-53

    def _u24(self, n: int) -> np.ndarray:
        """``uniform_real_distribution<float>(0, 1)``: ``(random() & (2**24-1)) * 2**-24``."""
        return (self.random32(n) & _MASK24).astype(np.float32) * np.float32(2.0**-24)

    # ---------------------------------------------------------------- distributions

    def uniform(self, n: int, low: float = 0.0, high: float = 1.0, dtype=np.float32) -> np.ndarray:
        """Like ``torch.empty(n, dtype=dtype).uniform_(low, high, generator=g)`` (and ``rand``).

        torch's ``uniform_kernel`` (``cpu/DistributionTemplates.h``) draws, per element in
        order, ``x = (random64() & (2**53-1)) * 2**-53`` for float64 or
        ``x = (random() & (2**24-1)) * 2**-24`` for float32 and returns
        ``x * (to - from) + from`` in that precision (``from``/``to`` cast to the dtype first,
        ``to - from`` rounded in it); in the AVX2/AVX512 kernels the compiler fuses it into one
        ``fma``.  A result equal to ``to`` is replaced by ``from``.  Both dtypes are bit-exact
        here (for both kernel flavours).

        Args:
            n: Number of elements.
            low: ``from``.
            high: ``to``.
            dtype: ``np.float32`` or ``np.float64``.

        Returns:
            Array of shape ``(n,)`` and the given dtype.
        """
        dt = _check_float_dtype(dtype)
        n = operator.index(n)
        lo = dt.type(low)
        hi = dt.type(high)
        if not lo <= hi:
            raise RuntimeError(
                f"uniform_ expects to return a [from, to) range, but found from={lo} > to={hi}"
            )
        fused = self.cpu_capability != "default"
        if dt == np.float64:
            u = self._u53(n)
            x = _fma64(u, hi - lo, lo) if fused else u * (hi - lo) + lo
        else:
            u = self._u24(n)
            x = _fmaf(u, hi - lo, lo) if fused else u * (hi - lo) + lo
        return np.where(x == hi, lo, x).astype(dt, copy=False)

    def normal(self, n: int, mean: float = 0.0, std: float = 1.0, dtype=np.float32) -> np.ndarray:
        """Like ``torch.empty(n, dtype=dtype).normal_(mean, std, generator=g)`` (and ``randn``).

        torch's ``normal_kernel`` (``cpu/DistributionTemplates.h``) has two paths:

        * ``n >= 16`` (contiguous): ``normal_fill`` fills the buffer with uniforms of the dtype
          (float32: 24-bit from ``random()``; float64: 53-bit from ``random64()``), then for
          each full block of 16, ``j < 8``: ``u1 = 1 - d[j]``, ``u2 = d[j+8]``,
          ``r = sqrt(-2 * log(u1))``, ``theta = 2*pi*u2`` (rounded to the dtype),
          ``d[j] = fma(r*cos(theta), std, mean)``, ``d[j+8] = fma(r*sin(theta), std, mean)``,
          all in the dtype.  float64 uses the C library's ``log/cos/sin``.  float32 uses, in the
          AVX2/AVX512 kernels, ``log256_ps``/``sincos256_ps`` from ``avx_mathfun.h`` with
          ``theta = float(2*pi) * u2`` in float (:func:`_avx_log256`, :func:`_avx_sincos256`),
          and in the default kernel glibc's ``logf/cosf/sinf`` with ``theta`` rounded from
          double (:func:`_glibc_logf`, :func:`_glibc_sincosf`).  If ``n % 16 != 0`` the last 16
          slots are refilled with 16 fresh uniforms and transformed again.
        * ``n < 16``: per element, ``normal_distribution<double>``: if a cached sample exists it
          is used (and cleared); otherwise ``u1``, ``u2`` are 53-bit uniforms,
          ``r = sqrt(-2*log1p(-u2))``, ``theta = 2*pi*u1``, ``r*sin(theta)`` is cached and
          ``r*cos(theta)`` returned; the result is ``z * std + mean`` in double (fused in the
          AVX2/AVX512 kernels), then cast to the dtype.  The cache lives in the generator and
          survives other draws; only :meth:`manual_seed`/:meth:`set_state` reset it.

        Both dtypes and both paths are bit-exact here (float64 calls the C library's
        ``log``/``log1p``/``sin``/``cos`` through :mod:`math`; glibc 2.36 was checked).  torch
        also takes the scalar path for non-contiguous tensors of any size; this method assumes
        a contiguous one, so callers filling a non-contiguous tensor should use ``n < 16``
        semantics themselves (e.g. by calling this in chunks of one element).

        Args:
            n: Number of elements.
            mean: Mean.
            std: Standard deviation (``>= 0``).
            dtype: ``np.float32`` or ``np.float64``.

        Returns:
            Array of shape ``(n,)`` and the given dtype.
        """
        dt = _check_float_dtype(dtype)
        n = operator.index(n)
        if not std >= 0.0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
        if n < 16:
            return self._normal_scalar(n, float(mean), float(std)).astype(dt)
        if dt == np.float64:
            u = self._u53(n)
            tail = self._u53(16) if n % 16 else None
            transform = self._box_muller16_f64
        else:
            u = self._u24(n)
            tail = self._u24(16) if n % 16 else None
            if self.cpu_capability == "default":
                transform = self._box_muller16_f32_default
            else:
                transform = self._box_muller16_f32_avx2
        m = dt.type(mean)
        s = dt.type(std)
        nfull = n // 16 * 16
        out = np.empty(n, dt)
        out[:nfull] = transform(u[:nfull].reshape(-1, 16), m, s).ravel()
        if tail is not None:
            out[n - 16 :] = transform(tail.reshape(1, 16), m, s).ravel()
        return out

    @staticmethod
    def _box_muller16_f64(d: np.ndarray, mean: np.float64, std: np.float64) -> np.ndarray:
        """``NormalFill16<double>`` on rows of 16 uniforms (glibc ``log/cos/sin`` via math)."""
        radius = np.sqrt(-2.0 * _libm(math.log, 1.0 - d[:, :8]))
        theta = _TWO_PI * d[:, 8:]
        out = np.empty_like(d)
        out[:, :8] = _fma64(radius * _libm(math.cos, theta), std, mean)
        out[:, 8:] = _fma64(radius * _libm(math.sin, theta), std, mean)
        return out

    @staticmethod
    def _box_muller16_f32_avx2(d: np.ndarray, mean: np.float32, std: np.float32) -> np.ndarray:
        """``NormalFill16<float, true>`` (the AVX2 specialisation) on rows of 16 uniforms."""
        radius = np.sqrt(np.float32(-2.0) * _avx_log256(np.float32(1.0) - d[:, :8]))
        sin, cos = _avx_sincos256(_AVX_TWO_PI * d[:, 8:])
        out = np.empty_like(d)
        out[:, :8] = _fmaf(radius * cos, std, mean)
        out[:, 8:] = _fmaf(radius * sin, std, mean)
        return out

    @staticmethod
    def _box_muller16_f32_default(d: np.ndarray, mean: np.float32, std: np.float32) -> np.ndarray:
        """Scalar ``NormalFill16<float>`` on rows of 16 uniforms (glibc ``logf/sincosf``)."""
        radius = np.sqrt(np.float32(-2.0) * _glibc_logf(np.float32(1.0) - d[:, :8]))
        theta = (_TWO_PI * d[:, 8:].astype(np.float64)).astype(np.float32)
        sin, cos = _glibc_sincosf(theta)
        out = np.empty_like(d)
        out[:, :8] = _fmaf(radius * cos, std, mean)
        out[:, 8:] = _fmaf(radius * sin, std, mean)
        return out

    def _normal_scalar(self, n: int, mean: float, std: float) -> np.ndarray:
        """``normal_distribution<double>`` n times, with the generator's cached sample."""
        z = np.empty(n, np.float64)
        for i in range(n):
            if self._normal is not None:
                z[i] = self._normal
                self._normal = None
                continue
            u1, u2 = self._u53(2).tolist()
            r = math.sqrt(-2.0 * math.log1p(-u2))
            theta = _TWO_PI * u1
            self._normal = r * math.sin(theta)
            z[i] = r * math.cos(theta)
        if self.cpu_capability == "default":
            return z * std + mean
        return _fma64(z, std, mean)

    def randperm(self, n: int) -> np.ndarray:
        """Exactly ``torch.randperm(n, generator=g)`` on CPU (int64).

        ``randperm_cpu`` (``ATen/native/TensorFactories.cpp``): for
        ``n < 0xFFFFFFFF // 20`` it starts from ``arange(n)`` and for ``i < n - 1`` swaps
        ``r[i]`` with ``r[i + random() % (n - i)]``; for larger ``n`` it runs the inside-out
        Fisher-Yates shuffle with ``random64() % (i + 1)`` (reproduced, but far too slow in
        Python to be practical).  The swap loop is inherently sequential; it runs over a Python
        list after the offsets have been drawn and reduced with NumPy.

        Args:
            n: Length (``>= 0``).

        Returns:
            int64 array of shape ``(n,)``.
        """
        n = operator.index(n)
        if n < 0:
            raise RuntimeError(f"randperm: n must be non-negative, got {n}")
        if n < _RANDPERM_SMALL_LIMIT:
            if n <= 1:
                return np.arange(n, dtype=np.int64)
            ks = self.random32(n - 1).astype(np.int64) % np.arange(n, 1, -1)
            ks += np.arange(n - 1)
            r = list(range(n))
            for i, k in zip(range(n - 1), ks.tolist()):
                r[i], r[k] = r[k], r[i]
            return np.fromiter(r, np.int64, n)
        z = (self.random64(n) % np.arange(1, n + 1, dtype=np.uint64)).tolist()
        r = [0] * n
        for i, k in enumerate(z):
            r[i] = r[k]
            r[k] = i
        return np.array(r, np.int64)

    def randint(self, low: int, high: int, n: int) -> np.ndarray:
        """Exactly ``torch.randint(low, high, (n,), generator=g)`` on CPU (int64).

        ``random_from_to_kernel`` with ``range = high - low``: each element is
        ``(v % range) + low`` (wrapping in 64 bits), where ``v`` is ``random64()`` if
        ``range >= 2**28`` and ``random()`` otherwise.

        Args:
            low: Inclusive lower bound.
            high: Exclusive upper bound (``> low``).
            n: Number of elements.

        Returns:
            int64 array of shape ``(n,)``.
        """
        low = operator.index(low)
        high = operator.index(high)
        n = operator.index(n)
        rng = high - low
        if rng <= 0:
            raise RuntimeError(
                f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}"
            )
        if rng >= _RANDINT_64BIT_RANGE:
            v = self.random64(n)
        else:
            v = self.random32(n).astype(np.uint64)
        with np.errstate(over="ignore"):
            out = (v % np.uint64(rng)) + np.uint64(low & 0xFFFFFFFFFFFFFFFF)
        return out.view(np.int64)

    def random_int64(self) -> int:
        """Exactly ``torch.empty((), dtype=torch.int64).random_(generator=g).item()``.

        ``random_kernel`` with ``uniform_int_distribution<int64_t>``: ``random64() % 2**63``.
        The DataLoader draws its ``_base_seed`` this way every time an iterator is created.

        Returns:
            A Python int in ``[0, 2**63)``.
        """
        return int(self.random64(1)[0]) & ((1 << 63) - 1)

    def bernoulli(self, n: int, p: float, dtype=np.float32) -> np.ndarray:
        """Like ``torch.empty(n, dtype=dtype).bernoulli_(p, generator=g)``: the dropout mask draw.

        On CPU ``F.dropout(x, p, training=True)`` computes
        ``x * empty_like(x).bernoulli_(1 - p) / (1 - p)``, and ``bernoulli_(p)`` with a float
        ``p`` runs ``bernoulli_scalar_kernel``, which in torch 2.13 is the serial template of
        ``cpu/DistributionTemplates.h`` (checked in the disassembly of ``libtorch_cpu.so``: no
        MKL branch): per element ``bernoulli_distribution<double>``, i.e.
        ``u = (random64() & (2**53-1)) * 2**-53`` and the sample is ``u < p``, whatever the
        dtype.  Reproduced exactly.  (Some older releases drew the mask from an MKL
        ``VSL_BRNG_MCG31`` stream on Intel CPUs; that is not reproduced.)

        Args:
            n: Number of elements.
            p: Probability of a one, in ``[0, 1]``.
            dtype: Output dtype (the draws do not depend on it).

        Returns:
            Array of zeros and ones, shape ``(n,)``.
        """
        if not 0.0 <= p <= 1.0:
            raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
        return (self._u53(operator.index(n)) < float(p)).astype(np.dtype(dtype))

    # ---------------------------------------------------------------- more distributions
    # The kernels below are torch 2.13's serial CPU templates (``cpu/DistributionTemplates.h``
    # with ``ATen/core/DistributionsHelper.h`` and ``TransformationHelper.h``; the MKL paths
    # are compiled out of the released builds): one ``double`` draw per element, in order,
    # transformed in double with the C library's functions, then cast to the dtype.

    def _per_element(self, n: int, fn, dtype) -> np.ndarray:
        u = self._u53(operator.index(n)).tolist()
        return np.fromiter(map(fn, u), np.float64, count=len(u)).astype(np.dtype(dtype))

    def exponential(self, n: int, lambd: float = 1.0, dtype=np.float32) -> np.ndarray:
        """``exponential_(lambd)``: ``-1/lambd * log1p(-u)`` per element, ``u`` a 53-bit uniform."""
        if not lambd > 0.0:
            raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
        scale = -1.0 / float(lambd)
        return self._per_element(n, lambda u: scale * math.log1p(-u), dtype)

    def cauchy(self, n: int, median: float = 0.0, sigma: float = 1.0, dtype=np.float32):
        """``cauchy_(median, sigma)``: ``median + sigma * tan(pi * (u - 0.5))`` per element."""
        m, s = float(median), float(sigma)
        return self._per_element(n, lambda u: m + s * math.tan(math.pi * (u - 0.5)), dtype)

    def geometric(self, n: int, p: float, dtype=np.float32) -> np.ndarray:
        """``geometric_(p)``: ``ceil(log(u) / log1p(-p))`` per element."""
        if not 0.0 < p < 1.0:
            raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
        d = math.log1p(-float(p))
        return self._per_element(n, lambda u: math.ceil(math.log(u) / d), dtype)

    def log_normal(self, n: int, mean: float = 1.0, std: float = 2.0, dtype=np.float32):
        """``log_normal_(mean, std)``: ``exp`` of the scalar ``normal_distribution<double>``
        draw (the Box-Muller path with the generator's cached sample), per element."""
        if not std > 0.0:
            raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std}")
        z = self._normal_scalar(operator.index(n), float(mean), float(std))
        return _libm(math.exp, z).astype(np.dtype(dtype))

    def bernoulli_p(self, p: np.ndarray, dtype=np.float32) -> np.ndarray:
        """``bernoulli_(p_tensor)`` / ``torch.bernoulli(p)``: per element ``u < p`` with ``u``
        a uniform of ``p``'s precision (53-bit for float64 ``p``, 24-bit otherwise)."""
        p = np.asarray(p)
        if p.size and not (np.all(p >= 0) and np.all(p <= 1)):
            raise RuntimeError("bernoulli_: all elements of p must be in [0, 1]")
        flat = p.ravel()
        if p.dtype == np.float64:
            u = self._u53(flat.size)
        else:
            u = self._u24(flat.size)
            flat = flat.astype(np.float32)
        return (u < flat).astype(np.dtype(dtype)).reshape(p.shape)

    def random_full(self, n: int, dtype) -> np.ndarray:
        """``random_()`` without bounds: integers on ``[0, 2**digits]`` for floats (24 or 53
        digits, ``random()``/``random64()``) and ``[0, max]`` for integer types."""
        dt = np.dtype(dtype)
        n = operator.index(n)
        if dt == np.float64:
            return (self.random64(n) % np.uint64(2**53 + 1)).astype(dt)
        if dt == np.float32:
            return (self.random32(n) % np.uint32(2**24 + 1)).astype(dt)
        if dt == np.float16:
            return (self.random32(n) % np.uint32(2**11 + 1)).astype(dt)
        if dt == np.int64:
            return (self.random64(n) % np.uint64(2**63)).astype(dt)
        if dt == np.bool_:
            return (self.random32(n) % np.uint32(2)).astype(dt)
        if dt.kind in "iu":
            top = int(np.iinfo(dt).max) + 1
            return (self.random32(n).astype(np.uint64) % np.uint64(top)).astype(dt)
        raise TypeError(f"random_: unsupported dtype {dt}")

    def multinomial(self, probs: np.ndarray, num_samples: int, replacement: bool) -> np.ndarray:
        """Exactly ``torch.multinomial(probs, num_samples, replacement)`` on CPU (int64).

        ``multinomial`` (``ATen/native/Distributions.cpp``): without replacement, or for a
        single sample, it races exponentials: ``q = empty_like(probs).exponential_(1)`` over
        the whole tensor, then the indices of the ``num_samples`` largest ``probs / q`` per
        row (``argmax``/``topk``). With replacement (``cpu/MultinomialKernel.cpp``), per row:
        the running sum in the dtype, divided by the total, its last entry set to 1; per
        sample one 53-bit uniform ``u`` and a binary search for the first entry ``>= u``.

        Args:
            probs: 2-D float array of non-negative weights, one distribution per row.
            num_samples: samples per row.
            replacement: draw with replacement.
        """
        if not replacement or num_samples == 1:
            q = self.exponential(probs.size, 1.0, probs.dtype).reshape(probs.shape)
            with np.errstate(divide="ignore", invalid="ignore"):
                race = probs / q
            order = np.argsort(-race, axis=-1, kind="stable")
            return order[:, :num_samples].astype(np.int64)
        out = np.empty((probs.shape[0], num_samples), np.int64)
        for i, row in enumerate(probs):
            cum = np.cumsum(row, dtype=row.dtype)
            total = cum[-1]
            if total > 0:
                cum = cum / total
            cum[-1] = 1
            out[i] = np.searchsorted(cum.astype(np.float64), self._u53(num_samples), side="left")
        return out
