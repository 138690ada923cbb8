"""Registry entries for the tensor operations of issue 13 (indexing, sorting, cumulative
ops, triangles, linear algebra, einsum, ...). Joined to ``op_registry.REGISTRY``.

Index arguments are made inside each ``fn`` from the input's shape with a seeded NumPy
generator, so the same indices reach gradfit and PyTorch (``lib.tensor(ndarray)``).
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from .op_registry import OpSpec, dims, nonempty_shape_st

one_shape = nonempty_shape_st.map(lambda s: [s])
two_d = st.tuples(dims, dims).map(lambda t: [t])
batched = st.lists(dims, min_size=2, max_size=4).map(lambda s: [tuple(s)])


def _rng(shape) -> np.random.Generator:
    return np.random.default_rng(int(np.prod(shape)) * 31 + len(shape))


def _index(lib, shape, high):
    """A seeded int64 index tensor of ``shape`` with values in [0, high)."""
    return lib.tensor(_rng(shape).integers(0, high, size=shape, dtype=np.int64))


def _smaller(shape, dim):
    """An index shape no larger than ``shape`` off ``dim`` (PyTorch allows that)."""
    out = list(shape)
    for i, n in enumerate(shape):
        if i != dim and n > 1:
            out[i] = n - 1
    out[dim] = shape[dim] + 1
    return tuple(out)


def _dim_spec(name, body, samples=None, domain="real", shapes=None):
    return OpSpec(
        name,
        body,
        kind="dim",
        domain=domain,
        shapes=shapes,
        samples=samples or [([(3, 4)], 1), ([(2, 3, 4)], 0), ([(5,)], -1)],
    )


def _gather(lib, a, d):
    shape = _smaller(a.shape, d)
    return lib.gather(a, d, _index(lib, shape, a.shape[d]))


def _gather_method(lib, a, d):
    return a.gather(d, _index(lib, a.shape, a.shape[d]))


def _scatter_src(lib, a, d):
    # A permutation along d writes every slot once: the result is deterministic.
    perm = np.argsort(_rng(a.shape).random(a.shape), axis=d)
    src = a * 2.0 + 1.0
    return lib.scatter(a * 0.5, d, lib.tensor(perm), src)


def _scatter_partial(lib, a, b, d):
    # An index smaller than the input (PyTorch's backward needs src shaped as index).
    shape = list(a.shape)
    shape[d] = 1
    idx = _index(lib, tuple(shape), a.shape[d])
    return a.scatter(d, idx, b)


def _scatter_value(lib, a, d):
    shape = list(a.shape)
    shape[d] = 1
    return a.scatter(d, _index(lib, tuple(shape), a.shape[d]), value=-1.5)


def _scatter_add(lib, a, b, d):
    idx = _index(lib, b.shape, a.shape[d])
    return lib.scatter_add(a, d, idx, b)


def _index_select(lib, a, d):
    idx = _index(lib, (a.shape[d] + 2,), a.shape[d])
    return lib.index_select(a, d, idx)


def _index_add(lib, a, b, d):
    idx = _index(lib, (b.shape[d],), a.shape[d])
    return a.index_add(d, idx, b, alpha=1.5)


def _take_along_dim(lib, a, d):
    shape = list(a.shape)
    shape[d] = a.shape[d] + 1
    return lib.take_along_dim(a, _index(lib, tuple(shape), a.shape[d]), d)


def _pair_same_off_dim(extra: int):
    """[(shape of a), (shape of b)] equal except b's dim-0 length, with dim 0."""

    @st.composite
    def strat(draw):
        s = draw(nonempty_shape_st)
        d = draw(st.integers(0, len(s) - 1))
        b = list(s)
        b[d] = draw(st.integers(1, s[d] + extra))
        return [s, tuple(b)], d

    return strat()


@st.composite
def _shape_dim(draw):
    s = draw(nonempty_shape_st)
    return [s], draw(st.integers(-len(s), len(s) - 1))


def _setitem(lib, a, b):
    y = a * 1.0
    y[1:, :1] = b
    return y


def _setitem_adv(lib, a, b):
    y = a * 2.0
    y[lib.tensor([0, 2])] = b
    return y


def _setitem_mask(lib, a):
    y = a + 0.0
    y[a > 0] = 0.0
    return y * a


def _masked_fill_value(lib, a, v):
    return a.masked_fill(a > 0, v)


def _masked_fill_inplace(lib, a):
    y = a * 3.0
    y.masked_fill_(a < 0, 2.0)
    return y


TENSOROPS: list[OpSpec] = [
    OpSpec("tril", lambda lib, a: lib.tril(a), "custom", shapes=batched, samples=[[(3, 4)]]),
    OpSpec(
        "tril_neg",
        lambda lib, a: a.tril(-1),
        "custom",
        shapes=batched,
        samples=[[(4, 3)], [(2, 3, 3)]],
    ),
    OpSpec("triu_pos", lambda lib, a: lib.triu(a, 1), "custom", shapes=batched, samples=[[(3, 4)]]),
    _dim_spec("sort", lambda lib, a, d: lib.sort(a, dim=d)[0]),
    _dim_spec("sort_desc", lambda lib, a, d: a.sort(d, descending=True).values),
    _dim_spec("topk", lambda lib, a, d: lib.topk(a, min(2, a.shape[d]), dim=d).values),
    _dim_spec("topk_smallest", lambda lib, a, d: a.topk(1, dim=d, largest=False).values * 2.0),
    _dim_spec("kthvalue", lambda lib, a, d: a.kthvalue(1 + a.shape[d] // 2, d).values),
    _dim_spec("cumsum", lambda lib, a, d: lib.cumsum(a, dim=d)),
    _dim_spec("cumprod", lambda lib, a, d: a.cumprod(d)),
    _dim_spec("gather", _gather),
    _dim_spec("gather_method", _gather_method),
    _dim_spec("take_along_dim", _take_along_dim),
    OpSpec(
        "take_along_dim_flat",
        lambda lib, a: lib.take_along_dim(a, _index(lib, (5,), a.numel())),
        "custom",
        shapes=one_shape,
        samples=[[(3, 4)]],
    ),
    _dim_spec("scatter_src", _scatter_src),
    _dim_spec("scatter_value", _scatter_value),
    _dim_spec("index_select", _index_select),
    OpSpec(
        "scatter_partial",
        lambda lib, a, b: _scatter_partial(lib, a, b, 0),
        "custom",
        shapes=st.tuples(st.integers(2, 4), dims).map(lambda t: [t, (1, t[1])]),
        samples=[[(3, 4), (1, 4)]],
    ),
    OpSpec(
        "scatter_add",
        lambda lib, a, b: _scatter_add(lib, a, b, 1),
        "custom",
        shapes=st.tuples(dims, dims, dims).map(lambda t: [(t[0], t[1]), (t[0], t[2])]),
        samples=[[(3, 4), (3, 6)]],
    ),
    OpSpec(
        "index_add",
        lambda lib, a, b: _index_add(lib, a, b, 1),
        "custom",
        shapes=st.tuples(dims, dims, dims).map(lambda t: [(t[0], t[1]), (t[0], t[2])]),
        samples=[[(3, 4), (3, 6)]],
    ),
    OpSpec(
        "masked_fill",
        lambda lib, a: lib.masked_fill(a, a > 0, 0.25),
        domain="away0",
    ),
    OpSpec(
        "masked_fill_tensor_value",
        _masked_fill_value,
        "custom",
        shapes=one_shape.map(lambda s: s + [()]),
        samples=[[(3, 4), ()]],
        domain="away0",
    ),
    OpSpec("masked_fill_", _masked_fill_inplace, domain="away0"),
    OpSpec(
        "masked_select",
        lambda lib, a, b: lib.masked_select(a, b > 0) * 2.0 + b.sum(),
        "custom",
        shapes=nonempty_shape_st.map(lambda s: [s, s[1:]]),
        samples=[[(3, 4), (4,)]],
        domain="away0",
    ),
    OpSpec("where_both_scalars_grad", lambda lib, a: lib.where(a > 0, 1.0, 0.0) * a),
    OpSpec("where_scalar_left", lambda lib, a: lib.where(a > 0, 0.5, a), domain="away0"),
    OpSpec("where_method", lambda lib, a, b: a.where(a > 0, b), "binary", domain="away0"),
    OpSpec(
        "setitem_slice",
        _setitem,
        "custom",
        shapes=st.tuples(st.integers(2, 4), st.integers(1, 4)).map(lambda t: [t, (t[0] - 1, 1)]),
        samples=[[(3, 4), (2, 1)], [(3, 4), ()]],
    ),
    OpSpec(
        "setitem_int_tensor",
        _setitem_adv,
        "custom",
        shapes=st.integers(1, 4).map(lambda n: [(3, n), (n,)]),
        samples=[[(3, 4), (4,)]],
    ),
    OpSpec("setitem_mask", _setitem_mask, domain="away0"),
]


# ---------------------------------------------------------------- rearranging, einsum, stats
def _eye(lib, a):
    return lib.eye(a.shape[-1], dtype=a.dtype)


square = st.tuples(st.integers(0, 2), st.integers(1, 4)).map(
    lambda t: [((t[0],) if t[0] else ()) + (t[1], t[1])]
)
tall = st.tuples(st.integers(1, 4), st.integers(0, 2)).map(lambda t: [(t[0] + t[1], t[0])])
any_matrix = st.tuples(st.integers(1, 4), st.integers(1, 4)).map(lambda t: [t])


def _einsum_spec(name, eq, shapes):
    """``shapes(i, j, k, b)`` -> the operands' shapes for sizes drawn per letter."""
    return OpSpec(
        name,
        lambda lib, *ts: lib.einsum(eq, *ts),
        "custom",
        shapes=st.tuples(dims, dims, dims, dims).map(lambda t: shapes(*t)),
        samples=[shapes(3, 4, 2, 2)],
    )


TENSOROPS += [
    _dim_spec("flip", lambda lib, a, d: lib.flip(a, [d])),
    OpSpec(
        "flip_many",
        lambda lib, a: a.flip(0, -1),
        "custom",
        shapes=batched,
        samples=[[(2, 3, 4)]],
    ),
    _dim_spec("roll", lambda lib, a, d: lib.roll(a, 2, d)),
    OpSpec("roll_flat", lambda lib, a: a.roll(-3), "custom", shapes=one_shape, samples=[[(3, 4)]]),
    OpSpec(
        "roll_two",
        lambda lib, a: lib.roll(a, (1, -2), (0, 1)),
        "custom",
        shapes=batched,
        samples=[[(3, 4)]],
    ),
    OpSpec(
        "rot90",
        lambda lib, a: lib.rot90(a, 1, (0, 1)),
        "custom",
        shapes=batched,
        samples=[[(2, 3)]],
    ),
    OpSpec(
        "rot90_3", lambda lib, a: a.rot90(3, (1, 0)), "custom", shapes=batched, samples=[[(2, 3)]]
    ),
    _dim_spec(
        "narrow",
        lambda lib, a, d: a.narrow(d, a.shape[d] // 2, (a.shape[d] + 1) // 2),
    ),
    OpSpec(
        "tile",
        lambda lib, a: lib.tile(a, (2, 1, 3)),
        "custom",
        shapes=one_shape,
        samples=[[(3, 4)]],
    ),
    OpSpec(
        "tile_short", lambda lib, a: a.tile((2,)), "custom", shapes=one_shape, samples=[[(3, 4)]]
    ),
    _dim_spec("repeat_interleave", lambda lib, a, d: a.repeat_interleave(2, dim=d)),
    _dim_spec(
        "repeat_interleave_counts",
        lambda lib, a, d: lib.repeat_interleave(a, _index(lib, (a.shape[d],), 3), dim=d),
    ),
    OpSpec(
        "repeat_interleave_flat",
        lambda lib, a: lib.repeat_interleave(a, 3),
        "custom",
        shapes=one_shape,
        samples=[[(2, 3)]],
    ),
    _dim_spec("unfold", lambda lib, a, d: a.unfold(d, min(2, a.shape[d]), 1)),
    _dim_spec("unfold_step", lambda lib, a, d: a.unfold(d, 1 if a.shape[d] < 3 else 2, 2)),
    OpSpec(
        "diag_vec",
        lambda lib, a: lib.diag(a, 1),
        "custom",
        shapes=st.integers(1, 4).map(lambda n: [(n,)]),
        samples=[[(3,)]],
    ),
    OpSpec(
        "diag_mat",
        lambda lib, a: a.diag(-1) if a.shape[0] > 1 else a.diag(),
        "custom",
        shapes=any_matrix,
        samples=[[(3, 4)], [(4, 2)]],
    ),
    OpSpec(
        "diagonal",
        lambda lib, a: lib.diagonal(a, 1, 0, -1),
        "custom",
        shapes=batched,
        samples=[[(3, 2, 4)]],
    ),
    OpSpec(
        "diag_embed",
        lambda lib, a: lib.diag_embed(a, -1) * 2.0,
        "custom",
        shapes=one_shape,
        samples=[[(2, 3)]],
    ),
    OpSpec("trace", lambda lib, a: lib.trace(a), "custom", shapes=any_matrix, samples=[[(3, 4)]]),
    OpSpec(
        "median_all",
        lambda lib, a: lib.median(a),
        "custom",
        shapes=one_shape,
        samples=[[(3, 4)], [(5,)]],
    ),
    _dim_spec("median_dim", lambda lib, a, d: a.median(d).values),
    _dim_spec("median_keepdim", lambda lib, a, d: lib.median(a, d, keepdim=True)[0]),
    _dim_spec("quantile_scalar", lambda lib, a, d: lib.quantile(a, 0.3, dim=d)),
    _dim_spec(
        "quantile_tensor",
        lambda lib, a, d: a.quantile(
            lib.tensor([0.1, 0.5, 0.8], dtype=a.dtype), dim=d, keepdim=True
        ),
    ),
    OpSpec(
        "quantile_all",
        lambda lib, a: lib.quantile(a, lib.tensor([0.25, 0.9], dtype=a.dtype)),
        "custom",
        shapes=one_shape,
        samples=[[(3, 4)]],
    ),
    _dim_spec(
        "quantile_midpoint",
        lambda lib, a, d: lib.quantile(a, 0.4, dim=d, interpolation="midpoint"),
    ),
    _dim_spec(
        "quantile_nearest",
        lambda lib, a, d: lib.quantile(a, 0.6, dim=d, interpolation="nearest"),
    ),
    OpSpec(
        "meshgrid",
        lambda lib, a, b: sum(
            (g * (i + 1.0) for i, g in enumerate(lib.meshgrid(a, b, indexing="xy"))), 0.0
        ),
        "custom",
        shapes=st.tuples(dims, dims).map(lambda t: [(t[0],), (t[1],)]),
        samples=[[(3,), (4,)]],
    ),
    OpSpec(
        "cdist",
        lambda lib, a, b: lib.cdist(a, b),
        "custom",
        shapes=st.tuples(dims, dims, dims).map(lambda t: [(t[0], t[2]), (t[1], t[2])]),
        samples=[[(3, 4), (5, 4)], [(2, 3, 4), (2, 2, 4)]],
    ),
    OpSpec(
        "cdist_p1",
        lambda lib, a, b: lib.cdist(a, b, p=1.0),
        "custom",
        shapes=st.tuples(dims, dims, dims).map(lambda t: [(t[0], t[2]), (t[1], t[2])]),
        samples=[[(3, 4), (5, 4)]],
    ),
    OpSpec(
        "cdist_p3",
        lambda lib, a, b: lib.cdist(a, b, p=3.0),
        "custom",
        shapes=st.tuples(dims, dims, dims).map(lambda t: [(t[0], t[2]), (t[1], t[2])]),
        samples=[[(3, 4), (5, 4)]],
    ),
    OpSpec(
        "cdist_inf",
        lambda lib, a, b: lib.cdist(a, b, p=float("inf")),
        "custom",
        shapes=st.tuples(dims, dims, dims).map(lambda t: [(t[0], t[2]), (t[1], t[2])]),
        samples=[[(3, 4), (5, 4)]],
    ),
]

TENSOROPS += [
    _einsum_spec("einsum_mm", "ij,jk->ik", lambda i, j, k, b: [(i, j), (j, k)]),
    _einsum_spec("einsum_bmm", "bij,bjk->bik", lambda i, j, k, b: [(b, i, j), (b, j, k)]),
    _einsum_spec("einsum_ellipsis_t", "...ij->...ji", lambda i, j, k, b: [(b, i, j)]),
    _einsum_spec("einsum_diag", "ii->i", lambda i, j, k, b: [(i, i)]),
    _einsum_spec("einsum_trace_implicit", "ii", lambda i, j, k, b: [(i, i)]),
    _einsum_spec("einsum_outer", "i,j->ij", lambda i, j, k, b: [(i,), (j,)]),
    _einsum_spec("einsum_sum", "ij->", lambda i, j, k, b: [(i, j)]),
    _einsum_spec("einsum_implicit", "ij,jk", lambda i, j, k, b: [(i, j), (j, k)]),
    _einsum_spec("einsum_three", "bij,jk,k->bi", lambda i, j, k, b: [(b, i, j), (j, k), (k,)]),
    _einsum_spec("einsum_colsum", "ij,ij->j", lambda i, j, k, b: [(i, j), (i, j)]),
    _einsum_spec("einsum_broadcast", "...j,...j->...", lambda i, j, k, b: [(b, i, j), (1, j)]),
]

# ---------------------------------------------------------------- norms and linear algebra
TENSOROPS += [
    OpSpec("norm_default", lambda lib, a: lib.norm(a), "unary", domain="away0"),
    _dim_spec("norm_p1_dim", lambda lib, a, d: a.norm(1, d), domain="away0"),
    _dim_spec("norm_p3_dim", lambda lib, a, d: lib.norm(a, 3, d, keepdim=True), domain="away0"),
    _dim_spec("vector_norm_inf", lambda lib, a, d: lib.linalg.vector_norm(a, float("inf"), d)),
    _dim_spec("vector_norm_2", lambda lib, a, d: lib.linalg.vector_norm(a, dim=d)),
    OpSpec(
        "matrix_norm_fro",
        lambda lib, a: lib.linalg.matrix_norm(a),
        "custom",
        shapes=batched,
        samples=[[(2, 3, 4)]],
    ),
    OpSpec(
        "matrix_norm_nuc",
        lambda lib, a: lib.linalg.matrix_norm(a, "nuc"),
        "custom",
        shapes=any_matrix,
        samples=[[(3, 4)]],
    ),
    OpSpec(
        "matrix_norm_2",
        lambda lib, a: lib.linalg.matrix_norm(a, 2),
        "custom",
        shapes=any_matrix,
        samples=[[(4, 3)]],
    ),
    OpSpec(
        "matrix_norm_1",
        lambda lib, a: lib.linalg.matrix_norm(a, 1),
        "custom",
        shapes=batched,
        samples=[[(3, 4)]],
    ),
    OpSpec(
        "matrix_norm_inf",
        lambda lib, a: lib.linalg.norm(a, float("inf")),
        "custom",
        shapes=any_matrix,
        samples=[[(3, 4)]],
    ),
    OpSpec(
        "inv",
        lambda lib, a: lib.linalg.inv(a + 4 * _eye(lib, a)),
        "custom",
        shapes=square,
        samples=[[(3, 3)], [(2, 3, 3)]],
    ),
    OpSpec(
        "det",
        lambda lib, a: lib.linalg.det(a),
        "custom",
        shapes=square,
        samples=[[(3, 3)], [(2, 4, 4)]],
    ),
    OpSpec(
        "det_method",
        lambda lib, a: (a + 3 * _eye(lib, a)).det(),
        "custom",
        shapes=square,
        samples=[[(3, 3)]],
    ),
    OpSpec(
        "slogdet",
        lambda lib, a: lib.linalg.slogdet(a + 3 * _eye(lib, a))[1],
        "custom",
        shapes=square,
        samples=[[(3, 3)]],
    ),
    OpSpec(
        "solve",
        lambda lib, a, b: lib.linalg.solve(a + 4 * _eye(lib, a), b),
        "custom",
        shapes=st.tuples(dims, dims).map(lambda t: [(t[0], t[0]), (t[0], t[1])]),
        samples=[[(3, 3), (3, 2)]],
    ),
    OpSpec(
        "solve_vector",
        lambda lib, a, b: lib.linalg.solve(a + 4 * _eye(lib, a), b),
        "custom",
        shapes=st.tuples(dims, dims).map(lambda t: [(t[1], t[0], t[0]), (t[1], t[0])]),
        samples=[[(2, 3, 3), (2, 3)]],
    ),
    OpSpec(
        "cholesky",
        lambda lib, a: lib.linalg.cholesky(a @ a.mT + 2 * _eye(lib, a)),
        "custom",
        shapes=square,
        samples=[[(3, 3)], [(2, 4, 4)]],
    ),
    OpSpec(
        "cholesky_upper",
        lambda lib, a: lib.linalg.cholesky(a @ a.mT + 2 * _eye(lib, a), upper=True),
        "custom",
        shapes=square,
        samples=[[(3, 3)]],
    ),
    OpSpec(
        "qr",
        lambda lib, a: lib.cat([f.reshape(-1) for f in lib.linalg.qr(a)]),
        "custom",
        shapes=tall,
        samples=[[(4, 3)], [(3, 3)]],
    ),
    OpSpec(
        "svdvals",
        lambda lib, a: lib.linalg.svdvals(a),
        "custom",
        shapes=any_matrix,
        samples=[[(3, 4)], [(4, 2)]],
    ),
    OpSpec(
        "svd_vectors",
        lambda lib, a: (
            lambda usv: usv[0][..., :, :1] * usv[2][..., :1, :] * usv[1][..., :1, None]
        )(lib.linalg.svd(a, full_matrices=False)),
        "custom",
        shapes=any_matrix,
        samples=[[(3, 4)], [(4, 2)]],
    ),
    OpSpec(
        "eigh",
        lambda lib, a: (
            lambda lv: lib.cat(
                [lv[0].reshape(-1), (lv[1][..., :, :1] * lv[1][..., :, :1].mT).reshape(-1)]
            )
        )(lib.linalg.eigh(a + a.mT)),
        "custom",
        shapes=square,
        samples=[[(3, 3)], [(2, 2, 2)]],
    ),
    OpSpec(
        "matrix_power",
        lambda lib, a: lib.linalg.matrix_power(a, 3),
        "custom",
        shapes=square,
        samples=[[(3, 3)]],
    ),
    OpSpec(
        "matrix_power_neg",
        lambda lib, a: lib.linalg.matrix_power(a + 4 * _eye(lib, a), -2),
        "custom",
        shapes=square,
        samples=[[(3, 3)]],
    ),
]


# ---------------------------------------------------------------- activations (issue 12 s. 8)
def _fn(name, **kw):
    return lambda lib, a: getattr(lib.nn.functional, name)(a, **kw)


def _mod(name, *args, scale=1.0):
    return lambda lib, a: getattr(lib.nn, name)(*args)(a * scale)


def _inplace(name, **kw):
    # on a non-leaf copy: PyTorch's in-place activations keep the graph
    return lambda lib, a: getattr(lib.nn.functional, name)(a * 1.0, inplace=True, **kw)


def _prelu(lib, a, w):
    return lib.nn.functional.prelu(a, w)


TENSOROPS += [
    OpSpec("elu", _fn("elu", alpha=0.7), domain="away0"),
    OpSpec("elu_module", _mod("ELU"), domain="away0"),
    OpSpec("elu_inplace", _inplace("elu"), domain="away0"),
    OpSpec("selu", _fn("selu"), domain="away0"),
    OpSpec("selu_module_inplace", _mod("SELU", True), domain="away0"),
    OpSpec("celu", _fn("celu", alpha=1.3), domain="away0"),
    OpSpec("celu_module", _mod("CELU", 0.6), domain="away0"),
    OpSpec("silu", _fn("silu")),
    OpSpec("silu_inplace", _inplace("silu")),
    OpSpec("mish", _fn("mish")),
    OpSpec("mish_module", _mod("Mish", scale=4.0)),
    OpSpec("softplus_module", _mod("Softplus", 2.0, 5.0), domain="away0"),
    OpSpec("leaky_relu_module", _mod("LeakyReLU", 0.2), domain="away0"),
    OpSpec("leaky_relu_inplace", _inplace("leaky_relu", negative_slope=0.3), domain="away0"),
    OpSpec("relu_inplace", _inplace("relu"), domain="away0"),
    OpSpec("hardtanh", _fn("hardtanh", min_val=-0.5, max_val=0.8), domain="away_clamp"),
    OpSpec("hardtanh_module", _mod("Hardtanh"), domain="away0"),
    OpSpec("relu6", _mod("ReLU6", scale=4.0), domain="away0"),
    OpSpec("relu6_inplace", _inplace("relu6"), domain="away0"),
    OpSpec("hardswish", _mod("Hardswish", scale=3.0)),
    OpSpec("hardsigmoid", _mod("Hardsigmoid", scale=3.0)),
    OpSpec("hardswish_inplace", _inplace("hardswish")),
    OpSpec("softsign", _mod("Softsign")),
    OpSpec("tanhshrink", _mod("Tanhshrink")),
    OpSpec("logsigmoid", _mod("LogSigmoid", scale=5.0)),
    _dim_spec("softmin", lambda lib, a, d: lib.nn.Softmin(dim=d)(a)),
    OpSpec("threshold", _mod("Threshold", 0.2, -1.5), domain="away_clamp"),
    OpSpec(
        "threshold_inplace", _inplace("threshold", threshold=0.2, value=3.0), domain="away_clamp"
    ),
    OpSpec("hardshrink", _mod("Hardshrink"), domain="away_clamp"),
    OpSpec("softshrink", _fn("softshrink", lambd=0.3), domain="away_clamp"),
    OpSpec(
        "glu",
        lambda lib, a: lib.nn.GLU(dim=0)(a),
        "custom",
        shapes=st.tuples(dims, dims).map(lambda t: [(2 * t[0], t[1])]),
        samples=[[(4, 3)]],
    ),
    OpSpec(
        "prelu_channels",
        _prelu,
        "custom",
        shapes=st.tuples(dims, dims, st.integers(0, 3)).map(
            lambda t: [(t[0], t[1]) + (t[2],) * (t[2] > 0), (t[1],)]
        ),
        samples=[[(2, 3, 4), (3,)], [(4, 3), (3,)]],
        domain="away0",
    ),
    OpSpec(
        "prelu_shared",
        _prelu,
        "custom",
        shapes=nonempty_shape_st.map(lambda s: [s, (1,)]),
        samples=[[(2, 3, 4), (1,)], [(5,), (1,)]],
        domain="away0",
    ),
]


# ---------------------------------------------------------------- scatter_reduce, index_put/fill
def _scatter_reduce(reduce, include_self):
    def fn(lib, a, b):
        idx = _index(lib, b.shape, a.shape[0])
        return a.scatter_reduce(0, idx, b, reduce, include_self=include_self)

    return fn


_sr_shapes = st.tuples(dims, dims, dims).map(lambda t: [(t[0], t[1]), (t[2], t[1])])

TENSOROPS += [
    OpSpec(
        f"scatter_reduce_{r}_{'self' if inc else 'noself'}",
        _scatter_reduce(r, inc),
        "custom",
        shapes=_sr_shapes,
        samples=[[(4, 3), (6, 3)], [(2, 2), (1, 2)]],
    )
    for r in ("sum", "prod", "mean", "amax", "amin")
    for inc in (True, False)
] + [
    OpSpec(
        "index_put_accumulate",
        lambda lib, a, b: a.index_put(
            (_index(lib, (5,), a.shape[0]), _index(lib, (5,), a.shape[1])), b, accumulate=True
        ),
        "custom",
        shapes=st.tuples(dims, dims).map(lambda t: [t, (5,)]),
        samples=[[(3, 4), (5,)]],
    ),
    OpSpec(
        "index_put_",
        # distinct rows: with repeats, which write wins (and gets the gradient) is unspecified
        lambda lib, a, b: (a * 1.0).index_put_(
            (lib.tensor(np.arange(a.shape[0])[::-2].copy()),), b
        ),
        "custom",
        shapes=st.tuples(dims, dims).map(lambda t: [t, (t[1],)]),
        samples=[[(3, 4), (4,)]],
    ),
    _dim_spec(
        "index_fill",
        lambda lib, a, d: a.index_fill(d, _index(lib, (2,), a.shape[d]), -2.5),
    ),
]
