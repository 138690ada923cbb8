"""torch.'s own forms of functional ops (torch.conv2d, torch.dropout, torch.embedding,
torch.kl_div, ...), the F names older programs call (upsample*, *_with_indices, rrelu_,
max_unpool3d) and the Tensor methods prelu/hardshrink, against PyTorch: values, dtypes,
shapes, gradients, random draws and errors. Each case runs one lambda under both
libraries (``lib`` is gradfit or torch)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gradfit
from tests.api_gaps_state import _default_state, _torch  # noqa: F401 - autouse fixture


def _run(fn, arrays, seed=None):
    """fn's outputs and the gradients of a fixed weighting of them, under both libraries."""
    torch = _torch()
    results = []
    for lib in (gradfit, torch):
        if seed is not None:
            lib.manual_seed(seed)
        ts = [
            lib.tensor(a, requires_grad=a.dtype.kind == "f") if isinstance(a, np.ndarray) else a
            for a in arrays
        ]
        out = fn(lib, *ts)
        outs = out if isinstance(out, tuple | list) else (out,)
        values = [(o.detach().numpy(), str(o.dtype).split(".")[-1], tuple(o.shape)) for o in outs]
        leaves = [t for t in ts if hasattr(t, "requires_grad") and t.requires_grad]
        grads = []
        diff = [o for o in outs if o.requires_grad]
        if diff and leaves:
            loss = sum(
                (o * lib.tensor(np.cos(np.arange(o.numel())).reshape(tuple(o.shape)))).sum()
                for o in diff
            )
            grads = [
                None if g is None else g.numpy()
                for g in lib.autograd.grad(loss, leaves, allow_unused=True)
            ]
        results.append((values, grads))
    return results


def _check(fn, arrays, seed=None, tol=1e-10):
    (gv, gg), (tv, tg) = _run(fn, arrays, seed)
    assert len(gv) == len(tv)
    for (a, da, sa), (b, db, sb) in zip(gv, tv):
        assert sa == sb and da == db, (sa, sb, da, db)
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
    assert len(gg) == len(tg)
    for a, b in zip(gg, tg):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


R = np.random.default_rng(0)
PW = np.abs(R.standard_normal(4))


def _x(*shape):
    return R.standard_normal(shape)


CASES = {
    "conv1d": (lambda L, x, w, b: L.conv1d(x, w, b, 2, 1, 1, 1), [_x(2, 4, 9), _x(3, 4, 3), _x(3)]),
    "conv2d": (
        lambda L, x, w: L.conv2d(x, w, None, 1, "same", 2),
        [_x(1, 2, 6, 6), _x(3, 2, 3, 3)],
    ),
    "conv3d": (lambda L, x, w: L.conv3d(x, w, groups=2), [_x(1, 4, 4, 4, 4), _x(2, 2, 2, 2, 2)]),
    "conv_transpose1d": (
        lambda L, x, w: L.conv_transpose1d(x, w, None, 2, 1, 1),
        [_x(2, 3, 5), _x(3, 2, 3)],
    ),
    "conv_transpose2d": (
        lambda L, x, w, b: L.conv_transpose2d(x, w, b, 1, 0, 0, 1, 2),
        [_x(1, 2, 4, 4), _x(2, 3, 2, 2), _x(3)],
    ),
    "conv_transpose3d": (
        lambda L, x, w: L.conv_transpose3d(x, w),
        [_x(1, 2, 3, 3, 3), _x(2, 1, 2, 2, 2)],
    ),
    "max_pool1d": (lambda L, x: L.max_pool1d(x, 3), [_x(2, 3, 10)]),
    "max_pool1d_stride": (lambda L, x: L.max_pool1d(x, 3, 2, 1, 1, True), [_x(2, 3, 10)]),
    "max_pool2d": (lambda L, x: L.max_pool2d(x, 2), [_x(1, 2, 6, 6)]),
    "max_pool2d_list": (lambda L, x: L.max_pool2d(x, [3, 2], [], [1, 0]), [_x(1, 2, 6, 6)]),
    "max_pool3d": (lambda L, x: L.max_pool3d(x, 2, 1), [_x(1, 1, 4, 4, 4)]),
    "max_pool1d_with_indices": (lambda L, x: L.max_pool1d_with_indices(x, 2), [_x(2, 3, 8)]),
    "avg_pool1d": (lambda L, x: L.avg_pool1d(x, 3, 2, 1, True, False), [_x(2, 3, 10)]),
    "adaptive_avg_pool1d": (lambda L, x: L.adaptive_avg_pool1d(x, 4), [_x(2, 3, 10)]),
    "adaptive_max_pool1d": (lambda L, x: L.adaptive_max_pool1d(x, 4), [_x(2, 3, 10)]),
    "batch_norm_train": (
        lambda L, x, w, b: L.batch_norm(x, w, b, None, None, True, 0.1, 1e-5, False),
        [_x(4, 3, 5), _x(3), _x(3)],
    ),
    "layer_norm": (lambda L, x, w: L.layer_norm(x, [5], w), [_x(4, 3, 5), _x(5)]),
    "group_norm": (lambda L, x: L.group_norm(x, 2), [_x(4, 4, 5)]),
    "instance_norm": (
        lambda L, x, w, b: L.instance_norm(x, w, b, None, None, True, 0.1, 1e-5, False),
        [_x(2, 3, 5), _x(3), _x(3)],
    ),
    "celu": (lambda L, x: L.celu(x, 0.7), [_x(3, 4)]),
    "selu": (lambda L, x: L.selu(x), [_x(3, 4)]),
    "prelu": (lambda L, x, w: L.prelu(x, w), [_x(2, 3, 4), np.abs(_x(3))]),
    "prelu_method": (lambda L, x, w: x.prelu(w), [_x(2, 3, 4), np.abs(_x(1))]),
    "hardshrink": (lambda L, x: L.hardshrink(x, 0.3), [_x(3, 4)]),
    "hardshrink_method": (lambda L, x: x.hardshrink(), [_x(3, 4)]),
    "kl_div_default": (lambda L, x, y: L.kl_div(x, y), [_x(3, 4), np.abs(_x(3, 4))]),
    "kl_div_mean": (lambda L, x, y: L.kl_div(x, y, 1), [_x(3, 4), np.abs(_x(3, 4))]),
    "bce_logits_default": (
        lambda L, x, y: L.binary_cross_entropy_with_logits(x, y),
        [_x(3, 4), R.random((3, 4))],
    ),
    "triplet_margin_loss_default": (
        lambda L, a, p, n: L.triplet_margin_loss(a, p, n),
        [_x(4, 5), _x(4, 5), _x(4, 5)],
    ),
    "kl_div_sum_log": (lambda L, x, y: L.kl_div(x, y, 2, log_target=True), [_x(3, 4), _x(3, 4)]),
    "bce_logits": (
        lambda L, x, y: L.binary_cross_entropy_with_logits(x, y, None, L.tensor(PW), 0),
        [_x(3, 4), R.random((3, 4))],
    ),
    "cosine_embedding_loss": (
        lambda L, a, b, y: L.cosine_embedding_loss(a, b, y, 0.1, 2),
        [_x(4, 5), _x(4, 5), None],
    ),
    "margin_ranking_loss": (
        lambda L, a, b, y: L.margin_ranking_loss(a, b, y, 0.2, 1),
        [_x(6), _x(6), None],
    ),
    "hinge_embedding_loss": (
        lambda L, a, y: L.hinge_embedding_loss(a, y, 0.5, 0),
        [_x(6), None],
    ),
    "triplet_margin_loss": (
        lambda L, a, p, n: L.triplet_margin_loss(a, p, n, 1.0, 2.0, 1e-6, True, 1),
        [_x(4, 5), _x(4, 5), _x(4, 5)],
    ),
    "poisson_nll_loss": (
        lambda L, x, y: L.poisson_nll_loss(x, y, True, True, 1e-8, 1),
        [_x(3, 4), np.abs(_x(3, 4)) * 3],
    ),
    "channel_shuffle": (lambda L, x: L.channel_shuffle(x, 2), [_x(2, 4, 3)]),
    "constant_pad_nd": (lambda L, x: L.constant_pad_nd(x, [1, 2, 0, 1], 1.5), [_x(2, 3, 4)]),
    "constant_pad_nd_neg": (lambda L, x: L.constant_pad_nd(x, (-1, 2)), [_x(2, 3, 4)]),
    "upsample": (
        lambda L, x: L.nn.functional.upsample(x, scale_factor=2, mode="bilinear"),
        [_x(1, 2, 3, 3)],
    ),
    "upsample_nearest": (
        lambda L, x: L.nn.functional.upsample_nearest(x, size=5),
        [_x(1, 2, 3, 3)],
    ),
    "upsample_bilinear": (
        lambda L, x: L.nn.functional.upsample_bilinear(x, scale_factor=2),
        [_x(1, 2, 3, 3)],
    ),
    "adaptive_max_pool1d_with_indices": (
        lambda L, x: L.nn.functional.adaptive_max_pool1d_with_indices(x, 3),
        [_x(2, 3, 7)],
    ),
    "adaptive_max_pool2d_with_indices": (
        lambda L, x: L.nn.functional.adaptive_max_pool2d_with_indices(x, (2, 3)),
        [_x(2, 3, 5, 7)],
    ),
    "adaptive_max_pool3d_with_indices": (
        lambda L, x: L.nn.functional.adaptive_max_pool3d_with_indices(x, 2),
        [_x(1, 2, 4, 5, 3)],
    ),
    "max_pool3d_with_indices": (
        lambda L, x: L.nn.functional.max_pool3d_with_indices(x, 2, 1, 1),
        [_x(1, 2, 3, 4, 4)],
    ),
}


def _labels(case: str):
    """The integer/sign targets a loss case needs (the None slots)."""
    signs = np.where(R.random(6) > 0.5, 1.0, -1.0)
    return {
        "cosine_embedding_loss": signs[:4],
        "margin_ranking_loss": signs,
        "hinge_embedding_loss": signs,
    }.get(case)


@pytest.mark.parametrize("case", sorted(CASES))
def test_toplevel_forms_match_torch(case):
    fn, arrays = CASES[case]
    lab = _labels(case)
    lib_arrays = []
    for a in arrays:
        lib_arrays.append(a if a is not None else lab)
    # the label slots are passed as tensors without gradient
    torch = _torch()

    def wrapped(L, *ts):
        ts = [
            L.tensor(t.detach().numpy() if hasattr(t, "detach") else t) if a is None else t
            for t, a in zip(ts, arrays)
        ]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(L, *ts)

    _check(wrapped, [np.asarray(a) for a in lib_arrays])
    assert torch is not None


def test_float32_dtype_kept():
    (gv, _), (tv, _) = _run(
        lambda L, x, w: L.conv2d(x, w, padding=1),
        [_x(1, 2, 4, 4).astype(np.float32), _x(3, 2, 3, 3).astype(np.float32)],
    )
    assert gv[0][1] == tv[0][1] == "float32"
    np.testing.assert_allclose(gv[0][0], tv[0][0], rtol=1e-5, atol=1e-5)


def test_embedding_weight_first_and_padding_idx():
    idx = np.array([[0, 2, 1], [2, 2, 0]])
    for pad in (-1, 2):
        _check(
            lambda L, w, i: L.embedding(
                w,
                L.tensor(i.detach().numpy() if hasattr(i, "detach") else i),
                pad,  # noqa: B023
            ),
            [_x(4, 3), idx],
        )


@pytest.mark.parametrize("reduction", [None, 0, 1, 2])
def test_ctc_loss_reduction_int(reduction):
    T, C, N, S = 6, 4, 2, 3
    lp = np.log(R.dirichlet(np.ones(C), size=(T, N)))
    tg = R.integers(1, C, size=(N, S))

    def fn(L, lp, tg):
        t = L.tensor(tg.detach().numpy() if hasattr(tg, "detach") else tg)
        if reduction is None:  # left out: PyTorch's binding reduces nothing
            return L.ctc_loss(lp, t, [6, 5], [3, 2])
        return L.ctc_loss(lp, t, [6, 5], [3, 2], 0, reduction)

    _check(fn, [lp, tg])


@pytest.mark.parametrize("name", ["dropout", "feature_dropout"])
def test_dropout_forms_draw_as_torch(name):
    x = _x(3, 4, 5)
    _check(lambda L, x: getattr(L, name)(x, 0.4, True), [x], seed=5)
    _check(lambda L, x: getattr(L, name)(x, 0.4, False), [x], seed=5)


@pytest.mark.parametrize(
    "name", ["dropout_", "feature_dropout_", "alpha_dropout_", "feature_alpha_dropout_"]
)
def test_inplace_dropout_forms(name):
    torch = _torch()
    outs = []
    for lib in (gradfit, torch):
        lib.manual_seed(3)
        t = lib.tensor(_x(3, 4, 5) if False else np.arange(60.0).reshape(3, 4, 5) / 7)
        r = getattr(lib, name)(t, 0.3, True)
        assert r is t
        outs.append(t.numpy())
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-12, atol=1e-12)


def test_inplace_activation_forms():
    torch = _torch()
    for name, args in (("celu_", (0.5,)), ("selu_", ()), ("rrelu_", (0.1, 0.3, True))):
        outs = []
        for lib in (gradfit, torch):
            lib.manual_seed(1)
            t = lib.tensor(np.linspace(-2, 2, 12))
            r = getattr(lib, name)(t, *args)
            assert r is t
            outs.append(t.numpy())
        np.testing.assert_allclose(outs[0], outs[1], rtol=1e-12, atol=1e-12)
    outs = []
    for lib in (gradfit, torch):
        lib.manual_seed(2)
        t = lib.tensor(np.linspace(-2, 2, 12))
        lib.nn.functional.rrelu_(t, 0.1, 0.3, True)
        outs.append(t.numpy())
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-12, atol=1e-12)


def test_max_unpool3d_matches_torch():
    torch = _torch()
    x = _x(2, 3, 4, 4, 4)
    res = []
    for lib in (gradfit, torch):
        t = lib.tensor(x, requires_grad=True)
        out, idx = lib.nn.functional.max_pool3d(t, 2, return_indices=True)
        up = lib.nn.functional.max_unpool3d(out, idx, 2)
        up2 = lib.nn.MaxUnpool3d(2)(out, idx, output_size=(5, 5, 5))
        w = lib.tensor(np.cos(np.arange(up.numel())).reshape(tuple(up.shape)))
        (g,) = lib.autograd.grad((up * w).sum() + up2.sum(), [t])
        res.append((up.detach().numpy(), up2.detach().numpy(), g.numpy()))
    for a, b in zip(*res):
        np.testing.assert_array_equal(a, b)
    assert repr(gradfit.nn.MaxUnpool3d(2)) == repr(torch.nn.MaxUnpool3d(2))


def test_deprecated_upsample_warns_as_torch():
    torch = _torch()
    x = np.ones((1, 1, 2, 2))
    for name in ("upsample", "upsample_nearest", "upsample_bilinear"):
        msgs = []
        for lib in (gradfit, torch):
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                getattr(lib.nn.functional, name)(lib.tensor(x), scale_factor=2)
            msgs.append([(type(m.message), str(m.message)) for m in w])
        assert msgs[0] == [(UserWarning, msgs[1][0][1])] and len(msgs[1]) == 1


def test_kl_div_int_mean_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gradfit.kl_div(gradfit.zeros(2, 2), gradfit.ones(2, 2), 1)


@pytest.mark.parametrize(
    "call",
    [
        lambda L: L.dropout(L.ones(3), 0.5),  # train is required
        lambda L: L.batch_norm(L.ones(2, 3), None, None, None, None, True, 0.1, 1e-5),
        lambda L: L.poisson_nll_loss(L.ones(3), L.ones(3), True, False, 1e-8),
    ],
)
def test_required_arguments_are_required(call):
    torch = _torch()
    with pytest.raises(TypeError):
        call(torch)
    with pytest.raises(TypeError):
        call(gradfit)


def test_bad_input_errors_match_torch():
    torch = _torch()
    for call in (
        lambda L: L.dropout(L.ones(3), 1.5, True),
        lambda L: L.prelu(L.ones(2, 3, 4), L.ones(2)),
        lambda L: L.ones(2, 3, 4).prelu(L.ones(2)),
    ):
        errs = []
        for lib in (torch, gradfit):
            with pytest.raises((RuntimeError, ValueError)) as e:
                call(lib)
            errs.append((e.type, str(e.value)))
        assert errs[0] == errs[1]


def test_every_lazy_name_resolves_and_torch_has_it():
    """Each top-level name this work adds loads from its module, under PyTorch's name."""
    torch = _torch()
    mods = ("gradfit.nn._torch_aliases", "gradfit._tensorops_gaps", "gradfit._api_gaps", None)
    names = [n for n, m in gradfit._LAZY_NAMES.items() if m in mods]
    assert len(names) > 100
    for name in names:
        obj = getattr(gradfit, name)
        assert name == "newaxis" or callable(obj), name
        assert hasattr(torch, name), name
