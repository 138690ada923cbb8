"""Registry entries of the lossdist work: the distance functions and the losses added to
``gradfit.nn.functional`` (kl_div, margin and triplet losses, Poisson and Gaussian NLL,
multi-class margins). Joined to ``op_registry.REGISTRY``, so gradcheck, gradgradcheck and
the PyTorch parity sweeps cover them.

Targets that are not differentiated (signs, class indices) are built inside ``fn`` from
the input's shape, the same way for both libraries. Inputs are normal draws: a kink of a
clamp lies within the finite-difference step with negligible probability."""

from __future__ import annotations

from hypothesis import strategies as st

from .op_registry import OpSpec, dims, shape_st

# PyTorch has no double backward for these (multi_margin_loss_backward,
# multilabel_margin_loss_backward, _pdist_backward): gradgradcheck only.
TORCH_NO_DOUBLE_BACKWARD = {
    "pdist",
    "multi_margin_loss",
    "multi_margin_loss_p2",
    "multilabel_margin_loss",
}

_rows = st.tuples(dims, st.integers(2, 4))
_same2 = _rows.map(lambda t: [t, t])
_same3 = _rows.map(lambda t: [t, t, t])


def _signs(lib, like, shape=None):
    n = like.shape[0] if shape == "rows" else like.numel()
    s = (lib.arange(n, dtype=like.dtype) % 2) * 2 - 1
    return s if shape == "rows" else s.reshape(like.shape)


def _classes(lib, x):
    n, c = x.shape
    return lib.tensor([(2 * i + 1) % c for i in range(n)])


def _labels(lib, x):
    n, c = x.shape
    rows = [[(i + k) % c if k <= i % c else -1 for k in range(c)] for i in range(n)]
    return lib.tensor(rows)


def _F(lib):
    return lib.nn.functional


LOSSES_MORE = [
    OpSpec(
        "cosine_similarity",
        lambda lib, a, b: _F(lib).cosine_similarity(a, b),
        "custom",
        shapes=_rows.map(lambda t: [t, t[1:]]),
        samples=[[(3, 4), (3, 4)], [(3, 4), (4,)]],
    ),
    OpSpec(
        "pairwise_distance",
        lambda lib, a, b: _F(lib).pairwise_distance(a, b),
        "custom",
        shapes=_same2,
        samples=[[(3, 4), (3, 4)]],
    ),
    OpSpec(
        "pairwise_distance_p3",
        lambda lib, a, b: _F(lib).pairwise_distance(a, b, p=3.0, keepdim=True),
        "custom",
        shapes=_same2,
        samples=[[(3, 4), (3, 4)]],
    ),
    OpSpec(
        "pdist",
        lambda lib, a: _F(lib).pdist(a),
        "custom",
        shapes=_rows.map(lambda t: [t]),
        samples=[[(4, 3)]],
    ),
    OpSpec(
        "normalize",
        lambda lib, a: _F(lib).normalize(a, dim=-1),
        "custom",
        shapes=_rows.map(lambda t: [t]),
        samples=[[(3, 4)]],
    ),
    OpSpec(
        "kl_div_batchmean",
        lambda lib, a, b: _F(lib).kl_div(a, b.exp(), reduction="batchmean"),
        "custom",
        shapes=_same2,
        samples=[[(3, 4)] * 2],
    ),
    OpSpec(
        "kl_div_log_target",
        lambda lib, a, b: _F(lib).kl_div(a, b, reduction="sum", log_target=True),
        "custom",
        shapes=_same2,
        samples=[[(3, 4)] * 2],
    ),
    OpSpec(
        "margin_ranking_loss",
        lambda lib, a, b: _F(lib).margin_ranking_loss(a, b, _signs(lib, a), margin=0.5),
        "custom",
        shapes=shape_st.map(lambda s: [s, s]),
        samples=[[(5,), (5,)]],
    ),
    OpSpec(
        "hinge_embedding_loss",
        lambda lib, a: _F(lib).hinge_embedding_loss(a, _signs(lib, a), reduction="sum"),
        samples=[[(3, 4)]],
    ),
    OpSpec(
        "soft_margin_loss",
        lambda lib, a: _F(lib).soft_margin_loss(a, _signs(lib, a)),
        samples=[[(3, 4)]],
    ),
    OpSpec(
        "cosine_embedding_loss",
        lambda lib, a, b: _F(lib).cosine_embedding_loss(a, b, _signs(lib, a, "rows"), 0.2),
        "custom",
        shapes=_same2,
        samples=[[(4, 3)] * 2],
    ),
    OpSpec(
        "triplet_margin_loss",
        lambda lib, a, p, n: _F(lib).triplet_margin_loss(a, p, n, margin=3.0, swap=True),
        "custom",
        shapes=_same3,
        samples=[[(4, 3)] * 3],
    ),
    OpSpec(
        "triplet_margin_with_distance_loss",
        lambda lib, a, p, n: _F(lib).triplet_margin_with_distance_loss(
            a, p, n, distance_function=lambda x, y: 1 - _F(lib).cosine_similarity(x, y), margin=2.5
        ),
        "custom",
        shapes=_same3,
        samples=[[(4, 3)] * 3],
    ),
    OpSpec(
        "poisson_nll_loss_full",
        lambda lib, a, b: _F(lib).poisson_nll_loss(a, b.exp() + 0.5, full=True),
        "custom",
        shapes=_same2,
        samples=[[(3, 4)] * 2],
    ),
    OpSpec(
        "poisson_nll_loss_rate",
        lambda lib, a: _F(lib).poisson_nll_loss(a.exp(), a * 0 + 2.0, log_input=False),
        samples=[[(3, 4)]],
    ),
    OpSpec(
        "gaussian_nll_loss",
        lambda lib, a, b, v: _F(lib).gaussian_nll_loss(a, b, v.exp(), full=True),
        "custom",
        shapes=_rows.map(lambda t: [t, t, (t[0], 1)]),
        samples=[[(3, 4), (3, 4), (3, 1)]],
    ),
    OpSpec(
        "multi_margin_loss",
        lambda lib, a: _F(lib).multi_margin_loss(a, _classes(lib, a), margin=1.5),
        "custom",
        shapes=_rows.map(lambda t: [t]),
        samples=[[(4, 3)]],
    ),
    OpSpec(
        "multi_margin_loss_p2",
        lambda lib, a: _F(lib).multi_margin_loss(
            a, _classes(lib, a), p=2, weight=lib.arange(1.0, a.shape[1] + 1, dtype=a.dtype)
        ),
        "custom",
        shapes=_rows.map(lambda t: [t]),
        samples=[[(4, 3)]],
    ),
    OpSpec(
        "multilabel_margin_loss",
        lambda lib, a: _F(lib).multilabel_margin_loss(a, _labels(lib, a), reduction="sum"),
        "custom",
        shapes=_rows.map(lambda t: [t]),
        samples=[[(4, 3)]],
    ),
    OpSpec(
        "multilabel_soft_margin_loss",
        lambda lib, a, b: _F(lib).multilabel_soft_margin_loss(a, b.sigmoid()),
        "custom",
        shapes=_same2,
        samples=[[(3, 4)] * 2],
    ),
]
