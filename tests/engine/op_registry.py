"""The registry of differentiable ops: one entry per op drives both the finite-difference
gradient check (hypothesis shapes) and the PyTorch parity test.

Each ``fn(lib, *tensors)`` is written once against the API gradfit shares with PyTorch,
so the same lambda runs with ``lib = gradfit`` and with ``lib = torch``. A new op is
checked by adding an entry here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from hypothesis import strategies as st

Shape = tuple


@dataclass
class OpSpec:
    name: str
    fn: object  # fn(lib, *tensors) -> tensor
    kind: str = "unary"  # unary | binary | custom
    domain: str = "real"  # real | positive | unit (|x| < 1) | away0 (|x| > 0.1)
    shapes: object = None  # custom: hypothesis strategy of a list of shapes
    samples: list = field(default_factory=list)  # fixed shape lists for parity
    grad: bool = True


dims = st.integers(1, 4)
shape_st = st.lists(dims, min_size=0, max_size=3).map(tuple)
nonempty_shape_st = st.lists(dims, min_size=1, max_size=3).map(tuple)


@st.composite
def broadcast_pair(draw):
    """Two shapes that broadcast: the second drops leading axes and sets some to 1."""
    a = draw(shape_st)
    keep = draw(st.integers(0, len(a)))
    b = list(a[len(a) - keep :])
    for i in range(len(b)):
        if draw(st.booleans()):
            b[i] = 1
    pair = [a, tuple(b)]
    if draw(st.booleans()):
        pair.reverse()
    return pair


@st.composite
def matmul_shapes(draw):
    n, k, m = draw(dims), draw(dims), draw(dims)
    case = draw(st.sampled_from(["2d", "1d-2d", "2d-1d", "1d-1d", "batched", "bcast"]))
    if case == "2d":
        return [(n, k), (k, m)]
    if case == "1d-2d":
        return [(k,), (k, m)]
    if case == "2d-1d":
        return [(n, k), (k,)]
    if case == "1d-1d":
        return [(k,), (k,)]
    b = draw(dims)
    if case == "batched":
        return [(b, n, k), (b, k, m)]
    return [(b, n, k), (k, m)]


@st.composite
def shape_and_dim(draw):
    s = draw(nonempty_shape_st)
    return [s], draw(st.integers(-len(s), len(s) - 1))


def _dim_op(name, body, samples=None, domain="real"):
    """An op taking a dim: the strategy draws (shapes, dim); fn closes over dim."""
    return OpSpec(
        name,
        body,
        kind="dim",
        domain=domain,
        samples=samples or [([(3, 4)], 1), ([(2, 3, 4)], 0), ([(5,)], -1)],
    )


def lin(lib, x, w, b):
    return lib.nn.functional.linear(x, w, b)


REGISTRY: list[OpSpec] = [
    OpSpec("add", lambda lib, a, b: a + b, "binary"),
    OpSpec("sub", lambda lib, a, b: a - b, "binary"),
    OpSpec("mul", lambda lib, a, b: a * b, "binary"),
    OpSpec("div", lambda lib, a, b: a / b, "binary", domain="away0"),
    OpSpec("radd_scalar", lambda lib, a: 2.5 + a),
    OpSpec("rsub_scalar", lambda lib, a: 2.5 - a),
    OpSpec("rmul_scalar", lambda lib, a: 1.5 * a),
    OpSpec("rdiv_scalar", lambda lib, a: 1.5 / a, domain="away0"),
    OpSpec("neg", lambda lib, a: -a),
    OpSpec("pow_scalar", lambda lib, a: a**3),
    OpSpec("pow_frac", lambda lib, a: a**1.5, domain="positive"),
    OpSpec("pow_tensor", lambda lib, a, b: a**b, "binary", domain="positive"),
    OpSpec("rpow_scalar", lambda lib, a: 2.0**a),
    OpSpec("exp", lambda lib, a: lib.exp(a)),
    OpSpec("log", lambda lib, a: lib.log(a), domain="positive"),
    OpSpec("log1p", lambda lib, a: lib.log1p(a), domain="positive"),
    OpSpec("sqrt", lambda lib, a: lib.sqrt(a), domain="positive"),
    OpSpec("abs", lambda lib, a: lib.abs(a), domain="away0"),
    OpSpec("sin", lambda lib, a: lib.sin(a)),
    OpSpec("cos", lambda lib, a: lib.cos(a)),
    OpSpec("tanh", lambda lib, a: lib.tanh(a)),
    OpSpec("sigmoid", lambda lib, a: lib.sigmoid(a)),
    OpSpec("relu", lambda lib, a: lib.relu(a), domain="away0"),
    OpSpec("leaky_relu", lambda lib, a: lib.nn.functional.leaky_relu(a, 0.1), domain="away0"),
    OpSpec(
        "softplus",
        lambda lib, a: lib.nn.functional.softplus(a, beta=2.0, threshold=3.0),
        domain="away0",
    ),
    OpSpec("clamp", lambda lib, a: lib.clamp(a, -0.5, 0.5), domain="away_clamp"),
    OpSpec("clamp_min", lambda lib, a: a.clamp(min=0.2), domain="away_clamp"),
    OpSpec("maximum", lambda lib, a, b: lib.maximum(a, b), "binary"),
    OpSpec("minimum", lambda lib, a, b: lib.minimum(a, b), "binary"),
    OpSpec("where", lambda lib, a, b: lib.where(a > 0, a, b), "binary", domain="away0"),
    OpSpec("where_scalar", lambda lib, a: lib.where(a > 0, a, 0.5), domain="away0"),
    OpSpec("sum_all", lambda lib, a: a.sum()),
    OpSpec("mean_all", lambda lib, a: a.mean()),
    OpSpec("max_all", lambda lib, a: a.max()),
    OpSpec("min_all", lambda lib, a: a.min()),
    OpSpec("square", lambda lib, a: lib.square(a)),
    OpSpec(
        "matmul",
        lambda lib, a, b: a @ b,
        "custom",
        shapes=matmul_shapes(),
        samples=[
            [(3, 4), (4, 2)],
            [(4,), (4, 2)],
            [(3, 4), (4,)],
            [(4,), (4,)],
            [(2, 3, 4), (2, 4, 5)],
            [(2, 3, 4), (4, 5)],
        ],
    ),
    OpSpec(
        "linear",
        lin,
        "custom",
        shapes=st.tuples(dims, dims, dims).map(lambda t: [(t[0], t[1]), (t[2], t[1]), (t[2],)]),
        samples=[[(5, 3), (4, 3), (4,)], [(1, 7), (2, 7), (2,)]],
    ),
    OpSpec(
        "linear_3d",
        lin,
        "custom",
        shapes=st.tuples(dims, dims, dims, dims).map(
            lambda t: [(t[3], t[0], t[1]), (t[2], t[1]), (t[2],)]
        ),
        samples=[[(2, 5, 3), (4, 3), (4,)]],
    ),
    OpSpec(
        "getitem_slice",
        lambda lib, a: a[1:, ::2],
        "custom",
        shapes=st.tuples(st.integers(2, 4), st.integers(1, 4)).map(lambda t: [t]),
        samples=[[(4, 5)]],
    ),
    OpSpec(
        "getitem_int_array",
        lambda lib, a: a[
            lib.tensor([0, 2, 0, 1]) if lib.__name__ == "gradfit" else lib.tensor([0, 2, 0, 1])
        ],
        "custom",
        shapes=st.integers(1, 3).map(lambda n: [(3, n)]),
        samples=[[(3, 4)]],
    ),
    OpSpec(
        "getitem_mixed",
        lambda lib, a: a[:, [1, 0, 1]],
        "custom",
        shapes=st.integers(1, 3).map(lambda n: [(n, 2)]),
        samples=[[(3, 2)]],
    ),
    OpSpec("getitem_bool", lambda lib, a: a[a > 0], domain="away0"),
    OpSpec("reshape", lambda lib, a: a.reshape(-1), "unary"),
    OpSpec(
        "view_2d",
        lambda lib, a: a.reshape(2, -1),
        "custom",
        shapes=st.tuples(dims, dims).map(lambda t: [(2, t[0], t[1])]),
        samples=[[(2, 3, 4)]],
    ),
    OpSpec(
        "flatten",
        lambda lib, a: a.flatten(1),
        "custom",
        shapes=st.lists(dims, min_size=2, max_size=4).map(lambda s: [tuple(s)]),
        samples=[[(2, 3, 4)]],
    ),
    OpSpec("unsqueeze_squeeze", lambda lib, a: a.unsqueeze(0).unsqueeze(-1).squeeze(0)),
    OpSpec(
        "transpose",
        lambda lib, a: a.transpose(0, 1),
        "custom",
        shapes=st.lists(dims, min_size=2, max_size=3).map(lambda s: [tuple(s)]),
        samples=[[(2, 3)], [(2, 3, 4)]],
    ),
    OpSpec(
        "T",
        lambda lib, a: a.T,
        "custom",
        shapes=st.tuples(dims, dims).map(lambda t: [t]),
        samples=[[(2, 3)]],
    ),
    OpSpec(
        "permute",
        lambda lib, a: a.permute(2, 0, 1),
        "custom",
        shapes=st.tuples(dims, dims, dims).map(lambda t: [t]),
        samples=[[(2, 3, 4)]],
    ),
    OpSpec("expand", lambda lib, a: a.expand(3, *a.shape), samples=[[(2, 1)]]),
    OpSpec(
        "cat",
        lambda lib, a, b: lib.cat([a, b, a], dim=0),
        "custom",
        shapes=st.tuples(dims, dims, dims).map(lambda t: [(t[0], t[2]), (t[1], t[2])]),
        samples=[[(2, 3), (1, 3)]],
    ),
    OpSpec(
        "stack",
        lambda lib, a, b: lib.stack([a, b], dim=1),
        "custom",
        shapes=shape_st.map(lambda s: [s, s]),
        samples=[[(2, 3), (2, 3)]],
    ),
    OpSpec(
        "split",
        lambda lib, a: lib.cat([p * (i + 1) for i, p in enumerate(a.split(2, 0))]),
        "custom",
        shapes=st.tuples(st.integers(1, 6), dims).map(lambda t: [t]),
        samples=[[(5, 3)]],
    ),
    OpSpec(
        "chunk",
        lambda lib, a: lib.cat([p * (i + 1) for i, p in enumerate(a.chunk(3, 1))], 1),
        "custom",
        shapes=st.tuples(dims, st.integers(1, 7)).map(lambda t: [t]),
        samples=[[(2, 7)]],
    ),
    # ops with a dim argument: fn(lib, a, dim)
    _dim_op("sum_dim", lambda lib, a, d: a.sum(dim=d)),
    _dim_op("sum_keepdim", lambda lib, a, d: a.sum(dim=d, keepdim=True)),
    _dim_op("mean_dim", lambda lib, a, d: a.mean(dim=d, keepdim=True)),
    _dim_op("var_dim", lambda lib, a, d: a.var(dim=d) if a.shape[d] > 1 else a.sum(d)),
    _dim_op("var_biased", lambda lib, a, d: a.var(dim=d, unbiased=False)),
    _dim_op(
        "std_dim", lambda lib, a, d: a.std(dim=d, keepdim=True) if a.shape[d] > 1 else a.sum(d)
    ),
    _dim_op("max_dim", lambda lib, a, d: a.max(dim=d)[0]),
    _dim_op("min_dim_keepdim", lambda lib, a, d: a.min(dim=d, keepdim=True).values),
    _dim_op("amax", lambda lib, a, d: a.amax(dim=d)),
    _dim_op("amin", lambda lib, a, d: a.amin(dim=d, keepdim=True)),
    _dim_op("logsumexp", lambda lib, a, d: lib.logsumexp(a, dim=d)),
    _dim_op("softmax", lambda lib, a, d: lib.softmax(a, dim=d)),
    _dim_op("log_softmax", lambda lib, a, d: lib.log_softmax(a, dim=d)),
]


def _targets(lib, n, c):
    return lib.tensor([(3 * i + 1) % c for i in range(n)])


def _probs(lib, shape):
    t = lib.arange(shape[0] * shape[1], dtype=lib.float64).reshape(shape) % 3 + 1
    return t / t.sum(1, keepdim=True)


# Fused primitives of nn.functional (one node each): stable losses, GELU, layer norm.
REGISTRY += [
    OpSpec("gelu", lambda lib, a: lib.nn.functional.gelu(a)),
    OpSpec("gelu_tanh", lambda lib, a: lib.nn.functional.gelu(a, approximate="tanh")),
    OpSpec(
        "mse_loss",
        lambda lib, a, b: lib.nn.functional.mse_loss(a, b),
        "custom",
        shapes=shape_st.map(lambda s: [s, s]),
        samples=[[(3, 4), (3, 4)], [(5,), (5,)]],
    ),
    OpSpec(
        "l1_loss_sum",
        lambda lib, a, b: lib.nn.functional.l1_loss(a, b, reduction="sum"),
        "custom",
        shapes=shape_st.map(lambda s: [s, s]),
        samples=[[(3, 4), (3, 4)]],
        domain="away0",
    ),
    OpSpec(
        "huber_loss",
        lambda lib, a, b: lib.nn.functional.huber_loss(a, b, delta=0.7),
        "custom",
        shapes=shape_st.map(lambda s: [s, s]),
        samples=[[(3, 4), (3, 4)]],
        domain="away0",
    ),
    OpSpec(
        "cross_entropy",
        lambda lib, a: lib.nn.functional.cross_entropy(a, _targets(lib, *a.shape)),
        "custom",
        shapes=st.tuples(dims, st.integers(2, 5)).map(lambda t: [t]),
        samples=[[(4, 3)], [(1, 5)]],
    ),
    OpSpec(
        "cross_entropy_smooth_sum",
        lambda lib, a: lib.nn.functional.cross_entropy(
            a, _targets(lib, *a.shape), label_smoothing=0.2, reduction="sum"
        ),
        "custom",
        shapes=st.tuples(dims, st.integers(2, 5)).map(lambda t: [t]),
        samples=[[(4, 3)]],
    ),
    OpSpec(
        "cross_entropy_probs",
        lambda lib, a: lib.nn.functional.cross_entropy(a, _probs(lib, a.shape).to(a.dtype)),
        "custom",
        shapes=st.tuples(dims, st.integers(2, 5)).map(lambda t: [t]),
        samples=[[(4, 3)]],
    ),
    OpSpec(
        "bce_with_logits",
        lambda lib, a: lib.nn.functional.binary_cross_entropy_with_logits(
            a, (lib.arange(a.numel(), dtype=a.dtype).reshape(a.shape) % 2)
        ),
        samples=[[(3, 4)], [(5,)]],
    ),
    OpSpec(
        "layer_norm",
        lambda lib, a: lib.nn.functional.layer_norm(a, a.shape[-1:]),
        "custom",
        shapes=st.tuples(dims, st.integers(2, 5)).map(lambda t: [t]),
        samples=[[(3, 4)], [(2, 6)]],
    ),
]

# (issue 13) convolution, pooling, padding, interpolation, normalisation
from .registry_conv import CONV_REGISTRY  # noqa: E402

REGISTRY += CONV_REGISTRY

NON_DIFF = {
    "eq": lambda lib, a, b: a == b,
    "lt": lambda lib, a, b: a < b,
    "ge": lambda lib, a, b: a >= b,
    "argmax": lambda lib, a, b: a.argmax(dim=0),
    "argmin": lambda lib, a, b: (a + b).argmin(),
}


def make_array(shape: Shape, domain: str, rng: np.random.Generator) -> np.ndarray:
    x = rng.standard_normal(shape)
    if domain == "positive":
        x = np.abs(x) + 0.5
    elif domain == "away0":
        x = np.sign(x) * (np.abs(x) + 0.2) + (x == 0) * 0.5
    elif domain == "away_clamp":  # away from 0.2, +-0.5 so kinks are not straddled
        x = np.round(x * 4) / 4 + 0.1
    return np.asarray(x, dtype=np.float64)


def unary_sample_shapes():
    return [[(3, 4)], [(5,)], [()], [(2, 3, 4)]]


def binary_sample_shapes():
    return [[(3, 4), (3, 4)], [(3, 4), (4,)], [(2, 1, 4), (3, 1)], [(), (2, 3)]]


# Tensor operations of issue 13 (indexing, sorting, cumulative ops, linear algebra, ...).
from .registry_tensorops import TENSOROPS  # noqa: E402

REGISTRY += TENSOROPS

# sequence models (embedding, attention, recurrent layers): tests/engine/registry_seq.py
from .registry_seq import REGISTRY_SEQ  # noqa: E402

REGISTRY += REGISTRY_SEQ

# linalg.solve_triangular (second order of the decompositions): tests/engine/registry_linalg.py
from .registry_linalg import REGISTRY_LINALG  # noqa: E402

REGISTRY += REGISTRY_LINALG

# remainder, fmod, atan2, ..., prod, nansum, cummax, logcumsumexp: registry_binary_more.py
from .registry_binary_more import BINARY_MORE  # noqa: E402

REGISTRY += BINARY_MORE

# shape and linear algebra (ops-shape): tests/engine/registry_shape_more.py
from .registry_shape_more import SHAPE_MORE  # noqa: E402

REGISTRY += SHAPE_MORE

# unary math (ops-unary): tests/engine/registry_unary_more.py
from .registry_unary_more import REGISTRY_UNARY_MORE  # noqa: E402

REGISTRY += REGISTRY_UNARY_MORE

# linalg additions (linutils): LU, lu_solve, pinv, lstsq, matrix_exp, ...: registry_linalg_more.py
from .registry_linalg_more import REGISTRY_LINALG_MORE  # noqa: E402

REGISTRY += REGISTRY_LINALG_MORE

# extra layers (layersmore): pad crops/3-D, pixel shuffle, LRN, RMS norm, bilinear, unpool
from .registry_layers_more import LAYERS_MORE  # noqa: E402

REGISTRY += LAYERS_MORE

# more losses and distances (lossdist): tests/engine/registry_losses_more.py
from .registry_losses_more import LOSSES_MORE  # noqa: E402

REGISTRY += LOSSES_MORE

# top-level additions (toplevel): tests/engine/registry_toplevel.py
from .registry_toplevel import REGISTRY_TOPLEVEL  # noqa: E402

REGISTRY += REGISTRY_TOPLEVEL

# torch.special ops (funcspecial): tests/engine/registry_special.py
from .registry_special import REGISTRY_SPECIAL  # noqa: E402

REGISTRY += REGISTRY_SPECIAL

# index_reduce, torch.gradient, torch.corrcoef (rtapi): tests/engine/registry_rtapi.py
from .registry_rtapi import REGISTRY_RTAPI  # noqa: E402

REGISTRY += REGISTRY_RTAPI

# sparse COO ops (sparse): tests/engine/registry_sparse.py
from .registry_sparse import REGISTRY_SPARSE  # noqa: E402

REGISTRY += REGISTRY_SPARSE

# grid_sample, affine_grid, ctc_loss, fractional max pooling (nnlayers): registry_nnlayers.py
from .registry_nnlayers import NNLAYERS  # noqa: E402

REGISTRY += NNLAYERS

# complex tensors and torch.fft (complexfft): tests/engine/registry_complex.py
from .registry_complex import REGISTRY_COMPLEX  # noqa: E402

REGISTRY += REGISTRY_COMPLEX

# cdist's matrix-product form (metaprogs): tests/engine/registry_metaprogs.py
from .registry_metaprogs import REGISTRY_METAPROGS  # noqa: E402

REGISTRY += REGISTRY_METAPROGS
