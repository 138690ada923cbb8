"""Registry entries for complex tensors and ``gradfit.fft`` (complexfft). The registry's
inputs and outputs are real, so each entry goes through complex numbers and back
(``view_as_real``, ``real``/``imag``, ``abs``, ``irfft``): the gradient check, the
PyTorch parity sweep, second order and forward AD then cover the complex ops inside,
in PyTorch's convention for complex gradients."""

from __future__ import annotations

from hypothesis import strategies as st

from .op_registry import OpSpec

_last = st.lists(st.integers(1, 4), min_size=0, max_size=2).flatmap(
    lambda lead: st.integers(2, 6).map(lambda n: [(*lead, n)])
)
_pairs = st.lists(st.integers(1, 3), min_size=0, max_size=2).map(lambda lead: [(*lead, 2)])
_two = st.tuples(st.integers(2, 4), st.integers(2, 5)).map(lambda t: [t])


def _cplx(lib, x):
    """A complex tensor made differentiably from a real one (x + i x^2 / 2)."""
    return lib.complex(x, x * x / 2)


REGISTRY_COMPLEX = [
    OpSpec("complex_mul_abs", lambda L, x: (_cplx(L, x) * _cplx(L, x.flip(-1))).abs(),
           "custom", shapes=_last, samples=[[(3, 4)]]),
    OpSpec("complex_exp_view_as_real", lambda L, x: L.view_as_real(_cplx(L, x).exp()),
           "custom", shapes=_last, samples=[[(5,)]]),
    OpSpec("complex_polar_angle", lambda L, x: L.polar(x * x + 1, x).sqrt().angle(),
           "custom", shapes=_last, samples=[[(2, 3)]]),
    OpSpec("complex_view_as_complex", lambda L, x: (L.view_as_complex(x.contiguous()) ** 2).imag,
           "custom", shapes=_pairs, samples=[[(3, 2)]]),
    OpSpec("complex_sgn_conj", lambda L, x: (_cplx(L, x).sgn() * _cplx(L, x).conj()).real,
           "custom", shapes=_last, samples=[[(4,)]]),
    OpSpec("fft_abs", lambda L, x: L.fft.fft(x, norm="ortho").abs(),
           "custom", shapes=_last, samples=[[(2, 5)]]),
    OpSpec("fft_c2c", lambda L, x: L.view_as_real(L.fft.ifft(L.fft.fft(_cplx(L, x)) * 1j, n=7)),
           "custom", shapes=_last, samples=[[(6,)]]),
    OpSpec("rfft_irfft", lambda L, x: L.fft.irfft(L.fft.rfft(x) ** 2, n=x.shape[-1]),
           "custom", shapes=_last, samples=[[(3, 5)], [(6,)]]),
    OpSpec("irfft_odd", lambda L, x: L.fft.irfft(_cplx(L, x), n=5, norm="forward"),
           "custom", shapes=_last, samples=[[(2, 3)]]),
    OpSpec("rfft2_irfft2", lambda L, x: L.fft.irfft2(L.fft.rfft2(x) * (1 + 2j), s=(3, 4)),
           "custom", shapes=_two, samples=[[(3, 4)]]),
    OpSpec("fftn_real", lambda L, x: L.view_as_real(L.fft.fftn(x, s=(3, 3))),
           "custom", shapes=_two, samples=[[(2, 4)]]),
    OpSpec("hfft_ihfft", lambda L, x: L.fft.hfft(L.fft.ihfft(x) * 2),
           "custom", shapes=_last, samples=[[(4,)]]),
]  # fmt: skip
