"""Registry entries for the top-level additions (expm1, lerp, addcmul, addcdiv, rsub,
threshold, ldexp, frexp, aminmax, matrix_power, block_diag, index_copy, put, renorm,
sum_to_size, fill_diagonal_, mH): gradcheck float64, parity with PyTorch (float64 and
float32) and second order come from the shared registry tests.

Ops that return several tensors are checked through a weighted sum of their pieces, so a
gradient sent to the wrong piece changes the result.
"""

from __future__ import annotations

from hypothesis import strategies as st

from .op_registry import OpSpec, dims


def _spec(name, fn, shapes, samples, **kw):
    return OpSpec(name, fn, "custom", shapes=shapes, samples=samples, **kw)


same3 = st.lists(dims, min_size=1, max_size=3).map(lambda s: [tuple(s)] * 3)
same2 = st.lists(dims, min_size=1, max_size=3).map(lambda s: [tuple(s)] * 2)
square = st.tuples(st.integers(0, 2), st.integers(1, 3)).map(lambda t: [(2,) * t[0] + (t[1], t[1])])
rows = st.tuples(st.integers(3, 5), dims).map(lambda t: [t, (2, t[1])])


def _lerp_tensor(lib, a, b, w):
    return lib.lerp(a, b, lib.sigmoid(w))  # weights on both sides of 0.5


def _aminmax(lib, a):
    lo, hi = lib.aminmax(a, dim=-1)
    return lo + 2.0 * hi


def _put(lib, a, s):
    index = lib.tensor([0, a.numel() - 1, -2 if a.numel() > 2 else 0])[: s.shape[0]]
    return a.put(index, s)


def _index_copy(lib, a, s):
    return a.index_copy(0, lib.tensor([2, 0]), s)


def _ldexp(lib, a):
    # Non-negative integer exponents: for a negative one PyTorch's backward computes
    # 2 ** other in integers (a gradient of 0, not 2 ** -k); gradfit's is 2 ** -k. Negative
    # float exponents are checked in ldexp_float.
    return lib.ldexp(a, lib.arange(a.shape[-1]))


REGISTRY_TOPLEVEL: list[OpSpec] = [
    OpSpec("expm1", lambda lib, a: lib.expm1(a)),
    OpSpec("expm1_small", lambda lib, a: (1e-9 * a).expm1()),
    OpSpec("lerp_low", lambda lib, a, b: lib.lerp(a, b, 0.3), kind="binary"),
    OpSpec("lerp_high", lambda lib, a, b: a.lerp(b, 0.8), kind="binary"),
    _spec("lerp_tensor", _lerp_tensor, same3, [[(3, 4)] * 3]),
    _spec(
        "addcmul",
        lambda lib, a, b, c: lib.addcmul(a, b, c, value=0.3),
        same3,
        [[(3, 4)] * 3, [(5,)] * 3],
    ),
    _spec(
        "addcdiv",
        lambda lib, a, b, c: lib.addcdiv(a, b, c.abs() + 0.5, value=-1.5),
        same3,
        [[(3, 4)] * 3],
    ),
    _spec(
        "addcmul_inplace", lambda lib, a, b, c: (a * 1).addcmul_(b, c, value=2), same3, [[(4,)] * 3]
    ),
    OpSpec("rsub", lambda lib, a, b: lib.rsub(a, b, alpha=0.5), kind="binary"),
    OpSpec("rsub_scalar", lambda lib, a: lib.rsub(a, 3.0)),
    OpSpec("threshold", lambda lib, a: lib.threshold(a, 0.2, -1.5), domain="away_clamp"),
    OpSpec("threshold_", lambda lib, a: lib.threshold_(a * 1, 0.2, 3.0), domain="away_clamp"),
    _spec(
        "ldexp",
        _ldexp,
        st.lists(dims, min_size=1, max_size=3).map(lambda s: [tuple(s)]),
        [[(3, 4)]],
    ),
    _spec(
        "ldexp_float",
        lambda lib, a: lib.ldexp(a, lib.arange(a.shape[-1], dtype=a.dtype) - 1.5),
        st.lists(dims, min_size=1, max_size=3).map(lambda s: [tuple(s)]),
        [[(3, 4)]],
    ),
    # The mantissa jumps at powers of two, where a difference quotient is meaningless: the
    # inputs are mapped into (1.25, 1.75), one binade with a margin, first.
    OpSpec("frexp_mantissa", lambda lib, a: lib.frexp(1.5 + 0.25 * lib.tanh(a)).mantissa * 3.0),
    _spec(
        "aminmax",
        _aminmax,
        st.lists(dims, min_size=1, max_size=3).map(lambda s: [tuple(s)]),
        [[(3, 4)], [(5,)]],
    ),
    _spec("matrix_power_2", lambda lib, a: lib.matrix_power(a, 2), square, [[(3, 3)]]),
    _spec("matrix_power_3", lambda lib, a: a.matrix_power(3), square, [[(2, 3, 3)]]),
    _spec("matrix_power_6", lambda lib, a: a.matrix_power(6) * 0.01, square, [[(3, 3)]]),
    _spec(
        "matrix_power_neg",
        lambda lib, a: (a + 3 * lib.eye(a.shape[-1], dtype=a.dtype)).matrix_power(-2),
        square,
        [[(3, 3)]],
    ),
    _spec(
        "block_diag",
        lambda lib, a, b, c: lib.block_diag(a, b, c),
        st.just([(2, 3), (1, 2), (3,)]),
        [[(2, 3), (1, 2), (3,)], [(), (2, 2), (1, 1)]],
    ),
    _spec("index_copy", _index_copy, rows, [[(4, 3), (2, 3)]]),
    _spec(
        "index_copy_",
        lambda lib, a, s: (a * 1).index_copy_(0, lib.tensor([1, 2]), s),
        rows,
        [[(4, 3), (2, 3)]],
    ),
    _spec("put", _put, st.just([(3, 4), (3,)]), [[(3, 4), (3,)], [(5,), (2,)]]),
    _spec(
        "renorm",
        lambda lib, a: (3.0 * a).renorm(2, 0, 1.0),
        st.lists(dims, min_size=2, max_size=3).map(lambda s: [tuple(s)]),
        [[(3, 4)], [(2, 3, 2)]],
    ),
    _spec("renorm_p1_dim1", lambda lib, a: lib.renorm(a, 1, 1, 0.7), st.just([(3, 4)]), [[(3, 4)]]),
    _spec("sum_to_size", lambda lib, a: a.sum_to_size(3, 1), st.just([(2, 3, 4)]), [[(2, 3, 4)]]),
    _spec(
        "fill_diagonal_",
        lambda lib, a: (a * 2).fill_diagonal_(0.5),
        st.just([(4, 3)]),
        [[(4, 3)], [(2, 5)]],
    ),
    _spec(
        "fill_diagonal_wrap",
        lambda lib, a: (a * 2).fill_diagonal_(-1.0, wrap=True),
        st.just([(7, 2)]),
        [[(7, 2)]],
    ),
    _spec(
        "mH", lambda lib, a: a.mH * lib.arange(a.shape[-2], dtype=a.dtype), square, [[(2, 3, 3)]]
    ),
    _spec("adjoint_H", lambda lib, a: a.adjoint() + 2 * a.H, st.just([(3, 3)]), [[(3, 3)]]),
    OpSpec(
        "swapdims",
        lambda lib, a: lib.swapdims(a, 0, -1) * 2,
        kind="unary",
        samples=[[(2, 3)], [(2, 3, 4)]],
    ),
    OpSpec("positive", lambda lib, a: lib.positive(a) * lib.negative(a)),
]
