"""The losses and distances of the lossdist work against PyTorch: values and gradients
(float64 1e-10, float32 1e-5) for every reduction and option, second derivatives of a few,
module reprs and PyTorch's errors for bad arguments."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from nn_testing import (
    DTYPES,
    assert_close,
    check_fn,
    check_module,
    torch_default_float32,  # noqa: F401 - autouse fixture
)

import gradfit
import gradfit.nn as nn
import gradfit.nn.functional as F

REDUCTIONS = ["mean", "sum", "none"]


def _rng(seed=0):
    return np.random.default_rng(seed)


def _signs(rng, shape, dtype):
    return np.where(rng.random(shape) < 0.5, -1.0, 1.0).astype(dtype)


def _both(fn, arrays, dtype, grad=None, what=""):
    """``fn(functional_module, *tensors)`` in gradfit and torch: values and gradients."""
    check_fn(
        lambda *t: fn(F, *t),
        lambda *t: fn(TF, *t),
        arrays,
        dtype,
        grad=grad,
        what=what,
    )


# ---------------------------------------------------------------------------- distances
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "shapes, kw",
    [
        ([(4, 5), (4, 5)], {}),
        ([(4, 5), (5,)], {}),  # broadcast
        ([(4, 1), (4, 5)], {}),  # the norm is of the broadcast input
        ([(3, 4, 5), (3, 4, 5)], {"dim": -1}),
        ([(3, 4, 5), (3, 4, 5)], {"dim": 0, "eps": 2.5}),  # eps clamps some norms
        ([(5,), (5,)], {"dim": 0}),
    ],
)
def test_cosine_similarity(shapes, kw, dtype):
    rng = _rng(1)
    arrays = [rng.normal(size=s).astype(dtype) for s in shapes]
    _both(lambda f, a, b: f.cosine_similarity(a, b, **kw), arrays, dtype, what=f"cos {kw}")
    ga, ta = (lib.tensor(arrays[0]) for lib in (gradfit, torch))
    gb, tb = (lib.tensor(arrays[1]) for lib in (gradfit, torch))
    assert_close(
        gradfit.cosine_similarity(ga, gb, **kw), torch.cosine_similarity(ta, tb, **kw), dtype
    )


def test_cosine_similarity_zero_vector_and_integer_input():
    x = np.array([[0.0, 0.0, 0.0], [1.0, 2.0, 3.0]])
    y = np.array([[1.0, 2.0, 2.0], [0.0, 0.0, 0.0]])
    _both(lambda f, a, b: f.cosine_similarity(a, b), [x, y], np.float64, what="zeros")
    # an integer input takes the other's floating dtype
    gi, ti = gradfit.tensor([[1, 2, 3]]), torch.tensor([[1, 2, 3]])
    assert_close(
        F.cosine_similarity(gi, gradfit.tensor(y)),
        TF.cosine_similarity(ti, torch.tensor(y)),
        np.float64,
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "shapes, kw",
    [
        ([(4, 5), (4, 5)], {}),
        ([(4, 5), (5,)], {"p": 1.0}),
        ([(2, 4, 5), (4, 5)], {"p": 3.0, "keepdim": True}),
        ([(4, 5), (4, 5)], {"p": float("inf")}),
        ([(4, 5), (4, 5)], {"p": 0.5, "eps": 1e-3}),
        ([(5,), (5,)], {}),
    ],
)
def test_pairwise_distance(shapes, kw, dtype):
    rng = _rng(2)
    arrays = [rng.normal(size=s).astype(dtype) for s in shapes]
    _both(lambda f, a, b: f.pairwise_distance(a, b, **kw), arrays, dtype, what=f"pd {kw}")
    g = gradfit.pairwise_distance(*(gradfit.tensor(a) for a in arrays), **kw)
    assert_close(g, torch.pairwise_distance(*(torch.tensor(a) for a in arrays), **kw), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, float("inf")])
def test_pdist(p, dtype):
    x = _rng(3).normal(size=(5, 3)).astype(dtype)
    _both(lambda f, a: f.pdist(a, p), [x], dtype, what=f"pdist p={p}")
    assert_close(gradfit.pdist(gradfit.tensor(x), p), torch.pdist(torch.tensor(x), p), dtype)


def test_pdist_equal_rows_have_zero_gradient_and_one_row_gives_empty():
    x = _rng(4).normal(size=(4, 3))
    x[2] = x[0]  # a zero distance: PyTorch's gradient there is 0, not NaN
    _both(lambda f, a: f.pdist(a), [x], np.float64, what="pdist equal rows")
    _both(lambda f, a: f.pdist(a), [x[:1]], np.float64, what="pdist one row")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "shape, kw",
    [((4, 5), {}), ((4, 5), {"p": 1.0, "dim": 0}), ((2, 3, 4), {"p": 3.0, "dim": -1})],
)
def test_normalize(shape, kw, dtype):
    x = _rng(5).normal(size=shape).astype(dtype)
    x[0] *= 1e-3  # below eps=0.1: the clamp's zero gradient
    for eps in (1e-12, 0.1):
        _both(
            lambda f, a, eps=eps: f.normalize(a, eps=eps, **kw), [x], dtype, what=f"norm {kw} {eps}"
        )


def test_normalize_out():
    x = _rng(5).normal(size=(3, 4))
    out = gradfit.empty(3, 4, dtype=gradfit.float64)
    F.normalize(gradfit.tensor(x), out=out)
    assert_close(out, TF.normalize(torch.tensor(x)), np.float64)


# ---------------------------------------------------------------------------- pair losses
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", [*REDUCTIONS, "batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(reduction, log_target, dtype):
    rng = _rng(6)
    x = np.log(rng.dirichlet(np.ones(5), size=4)).astype(dtype)
    p = rng.dirichlet(np.ones(5), size=4)
    p[0, 1] = 0.0  # 0 log 0 = 0 (no gradient to a zero target: PyTorch's is NaN there)
    y = (np.log(rng.dirichlet(np.ones(5), size=4)) if log_target else p).astype(dtype)
    grad = [True, log_target]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _both(
            lambda f, a, b: f.kl_div(a, b, reduction=reduction, log_target=log_target),
            [x, y],
            dtype,
            grad=grad,
            what=f"kl_div {reduction} {log_target}",
        )


def test_kl_div_target_gradient_and_mean_warning():
    rng = _rng(7)
    x, y = np.log(rng.dirichlet(np.ones(4), size=3)), rng.dirichlet(np.ones(4), size=3)
    _both(lambda f, a, b: f.kl_div(a, b, reduction="sum"), [x, y], np.float64, what="kl y")
    with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
        F.kl_div(gradfit.tensor(x), gradfit.tensor(y))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [0.0, 0.5])
def test_margin_ranking_loss(reduction, margin, dtype):
    rng = _rng(8)
    a, b = (rng.normal(size=7).astype(dtype) for _ in range(2))
    y = _signs(rng, 7, dtype)
    _both(
        lambda f, u, v, t: f.margin_ranking_loss(u, v, t, margin=margin, reduction=reduction),
        [a, b, y],
        dtype,
        grad=[True, True, False],
        what=f"margin_ranking {margin} {reduction}",
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [1.0, 0.4])
def test_hinge_embedding_loss(reduction, margin, dtype):
    rng = _rng(9)
    x = rng.normal(size=(3, 5)).astype(dtype)
    y = _signs(rng, (3, 5), dtype)
    y[0, 0] = 0.0  # neither 1 nor -1: both terms, as PyTorch
    _both(
        lambda f, u, t: f.hinge_embedding_loss(u, t, margin=margin, reduction=reduction),
        [x, y],
        dtype,
        grad=[True, False],
        what=f"hinge {margin} {reduction}",
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_soft_margin_loss(reduction, dtype):
    rng = _rng(10)
    x = (rng.normal(size=(3, 5)) * 3).astype(dtype)
    y = _signs(rng, (5,), dtype)  # broadcast to the input's shape
    _both(
        lambda f, u, t: f.soft_margin_loss(u, t, reduction=reduction),
        [x, y],
        dtype,
        grad=[True, False],
        what=f"soft_margin {reduction}",
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [0.0, 0.3])
def test_cosine_embedding_loss(reduction, margin, dtype):
    rng = _rng(11)
    a, b = (rng.normal(size=(6, 4)).astype(dtype) for _ in range(2))
    y = _signs(rng, 6, dtype)

    def fn(f, u, v, t):
        return f.cosine_embedding_loss(u, v, t, margin=margin, reduction=reduction)

    _both(fn, [a, b, y], dtype, grad=[True, True, False], what=f"cos_emb {margin} {reduction}")
    _both(fn, [a[0], b[0], y[0]], dtype, grad=[True, True, False], what="cos_emb 1-D")


# ---------------------------------------------------------------------------- triplets
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    "kw", [{}, {"p": 1.0, "swap": True}, {"p": 3.0, "margin": 2.0, "eps": 1e-3}]
)
def test_triplet_margin_loss(kw, reduction, dtype):
    rng = _rng(12)
    a, p, n = (rng.normal(size=(6, 4)).astype(dtype) for _ in range(3))
    _both(
        lambda f, u, v, w: f.triplet_margin_loss(u, v, w, reduction=reduction, **kw),
        [a, p, n],
        dtype,
        what=f"triplet {kw} {reduction}",
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dist", ["default", "cosine", "module"])
@pytest.mark.parametrize("swap", [False, True])
def test_triplet_margin_with_distance_loss(dist, swap, reduction, dtype):
    rng = _rng(13)
    a, p, n = (rng.normal(size=(6, 4)).astype(dtype) for _ in range(3))

    def fn(f, u, v, w):
        lib = gradfit if f is F else torch
        d = {
            "default": None,
            "cosine": lambda x, y: 1.0 - f.cosine_similarity(x, y),
            "module": lib.nn.PairwiseDistance(p=1.0),
        }[dist]
        return f.triplet_margin_with_distance_loss(
            u, v, w, distance_function=d, margin=0.5, swap=swap, reduction=reduction
        )

    _both(fn, [a, p, n], dtype, what=f"triplet_dist {dist} {swap} {reduction}")


# ---------------------------------------------------------------------------- likelihoods
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("log_input", [True, False])
@pytest.mark.parametrize("full", [False, True])
def test_poisson_nll_loss(log_input, full, reduction, dtype):
    rng = _rng(14)
    x = rng.normal(size=(4, 5)) if log_input else rng.uniform(0.1, 3.0, size=(4, 5))
    y = rng.uniform(0.2, 4.0, size=(4, 5))  # both sides of Stirling's y > 1
    _both(
        lambda f, u, t: f.poisson_nll_loss(
            u, t, log_input=log_input, full=full, reduction=reduction
        ),
        [x.astype(dtype), y.astype(dtype)],
        dtype,
        what=f"poisson {log_input} {full} {reduction}",
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("full", [False, True])
@pytest.mark.parametrize("var_shape", [(4, 3), (4,), (4, 1), (1, 3)])
def test_gaussian_nll_loss(var_shape, full, reduction, dtype):
    rng = _rng(15)
    x, y = (rng.normal(size=(4, 3)).astype(dtype) for _ in range(2))
    var = rng.uniform(0.2, 2.0, size=var_shape)
    var.reshape(-1)[0] = 1e-8  # below eps: clamped in value, the gradient flows on
    _both(
        lambda f, u, t, v: f.gaussian_nll_loss(u, t, v, full=full, reduction=reduction),
        [x, y, var.astype(dtype)],
        dtype,
        what=f"gaussian {var_shape} {full} {reduction}",
    )


def test_gaussian_nll_loss_float_var():
    rng = _rng(16)
    x, y = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    _both(lambda f, u, t: f.gaussian_nll_loss(u, t, 0.7), [x, y], np.float64, what="gauss f")


# ---------------------------------------------------------------------------- multi-class
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("p, margin, weighted", [(1, 1.0, False), (2, 0.7, True), (1, 2.0, True)])
def test_multi_margin_loss(p, margin, weighted, reduction, dtype):
    rng = _rng(17)
    x = rng.normal(size=(5, 4)).astype(dtype)
    t = np.array([0, 3, 1, 1, 2])
    w = rng.uniform(0.5, 2.0, size=4).astype(dtype) if weighted else None

    def fn(f, u, tt):
        lib = gradfit if f is F else torch
        ww = None if w is None else lib.tensor(w)
        return f.multi_margin_loss(u, tt, p=p, margin=margin, weight=ww, reduction=reduction)

    _both(fn, [x, t], dtype, what=f"multi_margin {p} {margin} {weighted} {reduction}")
    _both(fn, [x[0], t[0]], dtype, what="multi_margin unbatched")
    _both(fn, [x[0], t[:1]], dtype, what="multi_margin unbatched, (1,) target")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multilabel_margin_loss(reduction, dtype):
    x = _rng(18).normal(size=(4, 5)).astype(dtype)
    # targets end at the first -1; a repeated class counts once per entry (PyTorch)
    t = np.array([[3, 0, -1, 1, 2], [1, 2, 3, 4, 0], [-1, 0, 0, 0, 0], [2, 2, 4, -1, -1]])

    def fn(f, u, tt):
        return f.multilabel_margin_loss(u, tt, reduction=reduction)

    _both(fn, [x, t], dtype, what=f"multilabel_margin {reduction}")
    _both(fn, [x[0], t[0]], dtype, what="multilabel_margin 1-D")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_multilabel_soft_margin_loss(weighted, reduction, dtype):
    rng = _rng(19)
    x = (rng.normal(size=(4, 5)) * 3).astype(dtype)
    y = (rng.random((4, 5)) < 0.4).astype(dtype)
    arrays = [x, y] + ([rng.uniform(0.5, 2, size=5).astype(dtype)] if weighted else [])

    def fn(f, u, t, *w):
        return f.multilabel_soft_margin_loss(u, t, *w, reduction=reduction)

    _both(fn, arrays, dtype, grad=[True, False, True][: len(arrays)], what=f"mlsm {reduction}")


# ---------------------------------------------------------------------------- legacy flags
@pytest.mark.parametrize(
    "name, make",
    [
        ("kl_div", lambda r: [np.log(r.dirichlet(np.ones(3), 2)), r.dirichlet(np.ones(3), 2)]),
        ("soft_margin_loss", lambda r: [r.normal(size=(2, 3)), np.sign(r.normal(size=(2, 3)))]),
        ("poisson_nll_loss", lambda r: [r.normal(size=(2, 3)), r.uniform(0, 3, (2, 3))]),
        ("multilabel_margin_loss", lambda r: [r.normal(size=(2, 3)), np.array([[0, -1, 1]] * 2)]),
        ("multilabel_soft_margin_loss", lambda r: [r.normal(size=(2, 3)), r.random((2, 3))]),
    ],
)
@pytest.mark.parametrize("size_average, reduce", [(False, None), (None, False), (True, True)])
def test_legacy_size_average_reduce(name, make, size_average, reduce):
    arrays = make(_rng(20))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _both(
            lambda f, *t: getattr(f, name)(*t, size_average=size_average, reduce=reduce),
            arrays,
            np.float64,
            grad=[True, False],
            what=f"{name} legacy {size_average} {reduce}",
        )


# ---------------------------------------------------------------------------- modules
MODULES = [
    ("CosineSimilarity", {"dim": 0, "eps": 1e-6}, 2, "float"),
    ("PairwiseDistance", {"p": 1.0, "keepdim": True}, 2, "float"),
    ("KLDivLoss", {"reduction": "batchmean", "log_target": True}, 2, "float"),
    ("MarginRankingLoss", {"margin": 0.2, "reduction": "sum"}, 3, "sign"),
    ("HingeEmbeddingLoss", {"margin": 0.5}, 2, "sign"),
    ("SoftMarginLoss", {"reduction": "none"}, 2, "sign"),
    ("CosineEmbeddingLoss", {"margin": 0.1}, 3, "sign"),
    ("TripletMarginLoss", {"margin": 0.5, "p": 1.0, "swap": True}, 3, "float"),
    ("TripletMarginWithDistanceLoss", {"margin": 0.5}, 3, "float"),
    ("PoissonNLLLoss", {"log_input": False, "full": True}, 2, "positive"),
    ("GaussianNLLLoss", {"full": True}, 3, "var"),
    ("MultiMarginLoss", {"p": 2, "margin": 0.5}, 2, "index"),
    ("MultiLabelMarginLoss", {}, 2, "labels"),
    ("MultiLabelSoftMarginLoss", {"reduction": "sum"}, 2, "binary"),
]


def _module_inputs(kind: str, n_inputs: int, rng) -> list:
    x = rng.normal(size=(4, 3))
    if kind == "float":
        return [rng.normal(size=(4, 3)) for _ in range(n_inputs)]
    if kind == "sign":
        if n_inputs == 3 and x.ndim == 2:  # (input1, input2, target)
            pairs = [rng.normal(size=(4, 3)), rng.normal(size=(4, 3))]
            return pairs + [_signs(rng, 4, np.float64)]
        return [x, _signs(rng, (4, 3), np.float64)]
    if kind == "positive":
        return [rng.uniform(0.1, 2, (4, 3)), rng.uniform(0.1, 3, (4, 3))]
    if kind == "var":
        return [x, rng.normal(size=(4, 3)), rng.uniform(0.1, 2, (4, 1))]
    if kind == "index":
        return [x, np.array([0, 2, 1, 2])]
    if kind == "labels":
        return [x, np.array([[0, -1, 1], [2, 1, -1], [1, 1, 1], [-1, 0, 0]])]
    return [x, (rng.random((4, 3)) < 0.5).astype(np.float64)]


@pytest.mark.parametrize("name, kw, n_inputs, kind", MODULES, ids=[m[0] for m in MODULES])
def test_modules_match_torch(name, kw, n_inputs, kind):
    gmod, tmod = getattr(nn, name)(**kw), getattr(torch.nn, name)(**kw)
    assert repr(gmod) == repr(tmod)
    arrays = _module_inputs(kind, n_inputs, _rng(21))
    if name == "MarginRankingLoss":
        arrays = [arrays[0][:, 0], arrays[1][:, 0], arrays[2]]
    grad = [a.dtype.kind == "f" for a in arrays]
    if kind in ("sign", "binary"):  # the target gets no gradient
        grad[-1] = False
    check_fn(gmod, tmod, arrays, np.float64, grad=grad, what=name)


def test_module_attributes_and_weight_buffer():
    w = np.array([1.0, 2.0, 0.5])
    gmod = nn.MultiMarginLoss(weight=gradfit.tensor(w))
    tmod = torch.nn.MultiMarginLoss(weight=torch.tensor(w))
    assert list(gmod.state_dict()) == list(tmod.state_dict()) == ["weight"]
    x, t = _rng(22).normal(size=(4, 3)), np.array([0, 2, 1, 2])
    check_module(gmod, tmod, [x, t], np.float64, what="weighted MultiMarginLoss")
    assert nn.PairwiseDistance(p=3.0).norm == torch.nn.PairwiseDistance(p=3.0).norm == 3.0
    m = nn.TripletMarginWithDistanceLoss(distance_function=F.pairwise_distance)
    assert repr(m) == "TripletMarginWithDistanceLoss()"


# ---------------------------------------------------------------------------- second order
SECOND_ORDER = [
    ("cosine_similarity", lambda f, a, b: f.cosine_similarity(a, b, eps=0.5)),
    ("pairwise_distance_p3", lambda f, a, b: f.pairwise_distance(a, b, p=3.0)),
    ("normalize", lambda f, a, b: f.normalize(a * b, dim=0)),
    ("kl_div_log_target", lambda f, a, b: f.kl_div(a, b, reduction="sum", log_target=True)),
    ("soft_margin", lambda f, a, b: f.soft_margin_loss(a * b, b.detach().sign())),
    ("cosine_embedding", lambda f, a, b: f.cosine_embedding_loss(a, b, -(a[:, 0].sign()))),
    ("triplet_swap", lambda f, a, b: f.triplet_margin_loss(a, b, a * b, margin=3.0, swap=True)),
    ("poisson_full", lambda f, a, b: f.poisson_nll_loss(a, b.exp() + 0.5, full=True)),
    ("gaussian", lambda f, a, b: f.gaussian_nll_loss(a, b, (a * b).exp()[:, :1])),
    ("mlsm", lambda f, a, b: f.multilabel_soft_margin_loss(a, b.sigmoid())),
]


@pytest.mark.parametrize("name, fn", SECOND_ORDER, ids=[s[0] for s in SECOND_ORDER])
def test_second_derivatives_match_torch(name, fn):
    rng = _rng(23)
    arrays = [rng.normal(size=(4, 3)), rng.normal(size=(4, 3))]
    v = rng.normal(size=(4, 3))
    results = []
    for lib, f in ((gradfit, F), (torch, TF)):
        a, b = (lib.tensor(x, requires_grad=True) for x in arrays)
        out = fn(f, a, b).sum()
        ga, gb = lib.autograd.grad(out, (a, b), create_graph=True)
        # a Hessian-vector product through both first derivatives
        hv = lib.autograd.grad((ga * lib.tensor(v)).sum() + (gb * gb).sum(), (a, b))
        results.append([ga, gb, *hv])
    for g, t in zip(*results):
        assert_close(g.detach(), t, np.float64, name)


# ---------------------------------------------------------------------------- errors
ERRORS = [
    ("cos_int", lambda L, f: f.cosine_similarity(L.tensor([1, 2]), L.tensor([3, 4]), dim=0)),
    ("cos_bcast", lambda L, f: f.cosine_similarity(L.ones(3, 4), L.ones(2, 4))),
    ("pd_bcast", lambda L, f: f.pairwise_distance(L.ones(3, 4), L.ones(2, 4))),
    ("normalize_dim", lambda L, f: f.normalize(L.ones(3))),
    ("pdist_1d", lambda L, f: f.pdist(L.ones(3))),
    ("pdist_int", lambda L, f: f.pdist(L.ones(3, 2, dtype=L.int64))),
    ("pdist_neg_p", lambda L, f: f.pdist(L.ones(3, 2), p=-1)),
    ("kl_bad_reduction", lambda L, f: f.kl_div(L.ones(2), L.ones(2), reduction="bad")),
    ("kl_bcast", lambda L, f: f.kl_div(L.ones(3, 4), L.ones(5), reduction="sum")),
    (
        "ranking_dims",
        lambda L, f: f.margin_ranking_loss(L.ones(3), L.ones(3), L.ones(3, 1)),
    ),
    ("hinge_bcast", lambda L, f: f.hinge_embedding_loss(L.ones(3, 4), L.ones(5))),
    ("soft_margin_inplace", lambda L, f: f.soft_margin_loss(L.ones(4), L.ones(3, 4))),
    (
        "cos_emb_target_2d",
        lambda L, f: f.cosine_embedding_loss(L.ones(3, 4), L.ones(3, 4), L.ones(3, 1)),
    ),
    (
        "cos_emb_1d_target",
        lambda L, f: f.cosine_embedding_loss(L.ones(4), L.ones(4), L.ones(3)),
    ),
    (
        "cos_emb_0d_target",
        lambda L, f: f.cosine_embedding_loss(L.ones(3, 4), L.ones(3, 4), L.ones(())),
    ),
    ("triplet_margin", lambda L, f: f.triplet_margin_loss(L.ones(2), L.ones(2), L.ones(2), 0.0)),
    ("triplet_dims", lambda L, f: f.triplet_margin_loss(L.ones(2, 3), L.ones(2, 3), L.ones(3))),
    (
        "triplet_dist_reduction",
        lambda L, f: f.triplet_margin_with_distance_loss(
            L.ones(2), L.ones(2), L.ones(2), reduction="avg"
        ),
    ),
    ("poisson_reduction", lambda L, f: f.poisson_nll_loss(L.ones(2), L.ones(2), reduction="x")),
    ("gauss_neg_float", lambda L, f: f.gaussian_nll_loss(L.ones(2), L.ones(2), -1.0)),
    ("gauss_neg", lambda L, f: f.gaussian_nll_loss(L.ones(2), L.ones(2), -L.ones(2))),
    ("gauss_shape", lambda L, f: f.gaussian_nll_loss(L.ones(3, 4), L.ones(3, 4), L.ones(4))),
    ("gauss_shape2", lambda L, f: f.gaussian_nll_loss(L.ones(3, 4), L.ones(3, 4), L.ones(2, 4))),
    (
        "gauss_reduction",
        lambda L, f: f.gaussian_nll_loss(L.ones(2), L.ones(2), L.ones(2), reduction="x"),
    ),
    ("mm_p", lambda L, f: f.multi_margin_loss(L.ones(2, 3), L.tensor([0, 1]), p=3)),
    (
        "mm_weight_dim",
        lambda L, f: f.multi_margin_loss(L.ones(2, 3), L.tensor([0, 1]), weight=L.ones(3, 1)),
    ),
    (
        "mm_weight_size",
        lambda L, f: f.multi_margin_loss(L.ones(2, 3), L.tensor([0, 1]), weight=L.ones(2)),
    ),
    ("mm_target_size", lambda L, f: f.multi_margin_loss(L.ones(2, 3), L.tensor([0, 1, 2]))),
    ("mm_target_range", lambda L, f: f.multi_margin_loss(L.ones(2, 3), L.tensor([0, 3]))),
    ("mm_target_float", lambda L, f: f.multi_margin_loss(L.ones(2, 3), L.ones(2))),
    ("mm_3d", lambda L, f: f.multi_margin_loss(L.ones(2, 3, 4), L.tensor([0, 1]))),
    ("mlm_size", lambda L, f: f.multilabel_margin_loss(L.ones(2, 3), L.tensor([[0, 1, -1]]))),
    (
        "mlm_range",
        lambda L, f: f.multilabel_margin_loss(L.ones(1, 3), L.tensor([[0, -1, 5]])),
    ),
    (
        "mlsm_reduction",
        lambda L, f: f.multilabel_soft_margin_loss(L.ones(2), L.ones(2), None, None, None, "x"),
    ),
    ("TripletMarginLoss", lambda L, f: L.nn.TripletMarginLoss(margin=-1.0)),
    ("TripletMarginWithDistance", lambda L, f: L.nn.TripletMarginWithDistanceLoss(margin=0)),
    ("MultiMarginLoss_p", lambda L, f: L.nn.MultiMarginLoss(p=3)),
    ("MultiMarginLoss_w", lambda L, f: L.nn.MultiMarginLoss(weight=L.ones(3, 1))),
]


@pytest.mark.parametrize("name, fn", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_match_torch(name, fn):
    with pytest.raises(Exception) as t_err:
        fn(torch, TF)
    with pytest.raises(type(t_err.value)) as g_err:
        fn(gradfit, F)
    # gradfit's bad-reduction messages add the valid choices after PyTorch's text; sizes
    # print as gradfit.Size
    g_msg = str(g_err.value).replace("gradfit.Size", "torch.Size")
    assert g_msg.startswith(str(t_err.value)), (g_msg, str(t_err.value))


def test_soft_margin_loss_refuses_a_target_that_requires_grad_as_torch():
    import torch

    messages = []
    for lib in (gradfit, torch):
        x, y = lib.randn(3, requires_grad=True), lib.ones(3, requires_grad=True)
        with pytest.raises(RuntimeError) as info:
            lib.nn.functional.soft_margin_loss(x, y)
        messages.append(str(info.value))
    assert messages[0] == messages[1]
