"""Tensor printing and grad_fn names, compared character for character with PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import gradfit
import gradfit.nn.functional as GF
from tests.compat._normalise import as_gradfit


def _arrays():
    rng = np.random.default_rng(0)
    return {
        "f32 2x3": rng.standard_normal((2, 3)).astype(np.float32),
        "f32 vec": rng.standard_normal(7).astype(np.float32),
        "f32 scalar": np.float32(1.23456),
        "f32 int-valued": np.array([1.0, -2.0, 30.0], np.float32),
        "f32 int-valued big": np.array([1.0, 2e9], np.float32),
        "f32 sci small": np.array([1e-5, 0.5, 3.0], np.float32),
        "f32 sci ratio": np.array([0.01, 20.0], np.float32),
        "f32 nan inf": np.array([np.nan, np.inf, -np.inf, 1.5, 0.0], np.float32),
        "f32 all zero": np.zeros((2, 2), np.float32),
        "f32 only nan": np.array([np.nan, np.inf], np.float32),
        "f32 wide": rng.standard_normal(30).astype(np.float32) * 100,
        "f32 3d": rng.standard_normal((2, 3, 4)).astype(np.float32),
        "f32 4d": rng.standard_normal((2, 1, 2, 2)).astype(np.float32),
        "f32 summarised vec": rng.standard_normal(2000).astype(np.float32),
        "f32 summarised 2d": rng.standard_normal((40, 50)).astype(np.float32),
        "f32 summarised 3d": rng.standard_normal((12, 10, 11)).astype(np.float32),
        "f32 empty": np.zeros((0,), np.float32),
        "f32 empty 2d": np.zeros((0, 3), np.float32),
        "f64 2x2": rng.standard_normal((2, 2)),
        "f64 scalar": np.float64(-3.0),
        "f64 empty": np.zeros((2, 0)),
        "f16": rng.standard_normal(4).astype(np.float16),
        "i64": rng.integers(-100, 100, (3, 4)),
        "i64 scalar": np.int64(7),
        "i64 big": rng.integers(0, 10**6, 1500),
        "i64 empty": np.zeros((0,), np.int64),
        "i32": rng.integers(-5, 5, 6).astype(np.int32),
        "u8": rng.integers(0, 255, 5).astype(np.uint8),
        "bool": rng.standard_normal((2, 3)) > 0,
        "bool scalar": np.bool_(True),
        "neg scalar": np.float32(-0.5),
        "tiny": np.array([1e-10, 2e-12], np.float32),
        "huge": np.array([1e10, 3.5e12], np.float64),
    }


ARRAYS = _arrays()

OPTIONS = [
    {},
    {"precision": 2},
    {"sci_mode": True},
    {"sci_mode": False},
    {"threshold": 5},
    {"threshold": 5, "edgeitems": 1},
    {"linewidth": 40},
    {"profile": "short"},
    {"profile": "full"},
    {"precision": 6, "linewidth": 120},
]


@pytest.mark.parametrize("opts", OPTIONS, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()))
def test_repr_matches_torch_for_every_dtype_and_option(opts):
    import torch

    mismatches = []
    try:
        torch.set_printoptions(**opts)
        gradfit.set_printoptions(**opts)
        for name, arr in ARRAYS.items():
            expected = as_gradfit(repr(torch.tensor(arr)))
            got = repr(gradfit.tensor(arr))
            if expected != got:
                mismatches.append(f"{name}:\n{expected}\n!=\n{got}")
            assert str(gradfit.tensor(arr)) == got
    finally:
        torch.set_printoptions(profile="default")
        gradfit.set_printoptions(profile="default")
    assert not mismatches, "\n\n".join(mismatches)


def test_printoptions_round_trip_and_context_manager():
    import torch

    before = gradfit.get_printoptions()
    assert before == torch._tensor_str.get_printoptions()
    with gradfit.printoptions(precision=1):
        assert repr(gradfit.tensor([1.25])) == "tensor([1.2])"
    assert gradfit.get_printoptions() == before
    with pytest.raises(ValueError, match="unknown profile 'long'"):
        gradfit.set_printoptions(profile="long")


def test_requires_grad_parameter_and_default_dtype_suffixes():
    import torch

    arr = np.array([[0.5, -1.25], [2.0, 3.0]], np.float32)
    pairs = [
        (torch.tensor(arr, requires_grad=True), gradfit.tensor(arr, requires_grad=True)),
        (torch.nn.Parameter(torch.tensor(arr)), gradfit.nn.Parameter(gradfit.tensor(arr))),
        (
            torch.tensor(arr, dtype=torch.float64, requires_grad=True) * 2,
            gradfit.tensor(arr, dtype=gradfit.float64, requires_grad=True) * 2,
        ),
    ]
    for t, g in pairs:
        assert repr(g) == as_gradfit(repr(t))
    try:
        torch.set_default_dtype(torch.float64)
        gradfit.set_default_dtype(gradfit.float64)
        for a in (arr, arr.astype(np.float64)):
            assert repr(gradfit.tensor(a)) == as_gradfit(repr(torch.tensor(a)))
    finally:
        torch.set_default_dtype(torch.float32)
        gradfit.set_default_dtype(gradfit.float32)


def test_size_dtype_and_device_reprs():
    import torch

    assert repr(gradfit.zeros(3, 4).shape) == as_gradfit(repr(torch.zeros(3, 4).shape))
    assert str(gradfit.zeros(3, 4).size()) == as_gradfit(str(torch.zeros(3, 4).size()))
    assert gradfit.zeros(3, 4).shape[1:] == (4,)
    assert repr(gradfit.zeros(3, 4).shape[1:]) == "gradfit.Size([4])"
    for spec in ("cpu", "cuda", "cuda:1", "mps", "cpu:0"):
        assert repr(gradfit.device(spec)) == repr(torch.device(spec))
        assert str(gradfit.device(spec)) == str(torch.device(spec))
    assert repr(gradfit.device("cuda", 2)) == repr(torch.device("cuda", 2))


def test_format_specs_as_torch():
    import torch

    for spec in ("", ".4f", ".2e", "8.3f"):
        assert f"{gradfit.tensor(1.5):{spec}}" == f"{torch.tensor(1.5):{spec}}"
    assert f"{gradfit.tensor([1.5, 2.0])}" == f"{torch.tensor([1.5, 2.0])}"
    with pytest.raises(TypeError, match="unsupported format string"):
        f"{gradfit.tensor([1.5]):.3f}"  # noqa: B018 - PyTorch raises here too


# Each expression runs with T bound to torch or gradfit, F to its functional module, and
# x, y (3x4 float, requiring grad), w (5x4), b (5), v (4), t (3 class indices).
GRAD_FN_EXPRESSIONS = [
    "x + y", "x + 1", "x - y", "1 - x", "x * y", "x * 2", "x / y", "x / 2", "2 / x", "-x",
    "x ** 2", "x.abs() ** y", "x.exp()", "x.abs().log()", "x.abs().log1p()",
    "x.abs().sqrt()", "x.abs()", "x.sin()", "x.cos()", "x.tanh()", "x.sigmoid()", "x.relu()",
    "F.relu(x)", "F.leaky_relu(x)", "F.softplus(x)", "x.clamp(0, 1)", "x.clamp(min=0)",
    "T.maximum(x, y)", "T.minimum(x, y)", "T.where(x > 0, x, y)", "F.mse_loss(x, y)",
    "F.l1_loss(x, y)", "F.huber_loss(x, y)", "F.smooth_l1_loss(x, y)", "F.cross_entropy(x, t)",
    "F.nll_loss(x, t)", "F.cross_entropy(x, y.softmax(1))",
    "F.binary_cross_entropy(x.sigmoid(), y.sigmoid().detach())",
    "F.binary_cross_entropy_with_logits(x, y.sigmoid().detach())", "x @ w.T", "x @ v",
    "v @ v", "T.mm(x, w.t())", "F.linear(x, w, b)", "F.linear(x, w)",
    "F.linear(x.reshape(1, 3, 4), w, b)", "x.view(12)", "x.reshape(12)", "x.t().reshape(12)",
    "x.flatten()", "x.view(-1, 2)", "x.unsqueeze(0)", "x.unsqueeze(0).squeeze(0)",
    "x.permute(1, 0)", "x.t()", "x.T", "x.transpose(0, 1)", "x[None].expand(2, 3, 4)", "x[0]",
    "x[:, 1]", "x[1:]", "x[t]", "T.cat([x, y])", "T.stack([x, y])", "x.t().contiguous()",
    "x.double()", "x.to(T.float64)", "x.sum()", "x.sum(0)", "x.mean()", "x.mean(1)", "x.var()",
    "x.std()", "x.var(0)", "x.max()", "x.max(0).values", "x.min(1).values", "x.amax(0)",
    "x.min()", "x.logsumexp(1)", "x.softmax(1)", "x.log_softmax(1)", "F.softmax(x, dim=1)",
    "F.gelu(x)", "F.silu(x)", "x.split(2, 1)[0]", "x.chunk(2, 1)[1]", "x.unbind(0)[0]",
    "x.masked_fill(x > 0, 0)", "x.repeat(2, 1)", "x.clone()",
]  # fmt: skip


# The later layers' ops (N is the library's nn, x4 a 1x2x6x6 image batch, x3 a 1x2x8 signal).
GRAD_FN_EXPRESSIONS += [
    "N.Conv2d(2, 3, 3)(x4)", "N.Conv1d(2, 3, 3)(x3)", "N.ConvTranspose2d(2, 3, 3)(x4)",
    "F.unfold(x4, 2)", "F.max_pool2d(x4, 2)", "F.max_pool1d(x3, 2)", "F.avg_pool2d(x4, 2)",
    "F.adaptive_max_pool2d(x4, 2)", "F.adaptive_avg_pool2d(x4, 2)", "F.pad(x4, (1, 1))",
    "N.BatchNorm2d(2)(x4)", "N.GroupNorm(1, 2)(x4)", "N.Embedding(5, 3)(t)",
    "x.gather(1, t[:, None])", "x.cumsum(0)", "x.cumprod(0)", "x.tril()", "x.triu()",
    "x.flip(0)", "x.roll(1, 0)", "x.masked_select(x > 0)", "x[0].diag()", "x.diagonal()",
    "x.unfold(0, 2, 1)", "T.cdist(x, x)", "T.linalg.inv(x[:3, :3])", "T.linalg.det(x[:3, :3])",
    "T.linalg.qr(x)[0]", "T.linalg.svd(x)[0]", "F.elu(x)", "F.mish(x)", "F.hardtanh(x)",
    "F.hardswish(x)", "F.hardsigmoid(x)", "F.logsigmoid(x)", "F.softsign(x)",
    "F.tanhshrink(x)", "F.hardshrink(x)", "F.softshrink(x)", "F.selu(x)",
]  # fmt: skip


# Ops composed of others in gradfit that print the node of PyTorch's own kernel.
GRAD_FN_EXPRESSIONS += [
    "x.median()", "x.median(1).values", "x.nanmedian()", "x.nanmedian(0).values",
    "x.kthvalue(1, 1).values", "x.topk(2, 1).values", "x.sort(1).values", "x.msort()",
    "x.cummax(1).values", "x.cummin(0).values", "x.prod()", "x.prod(1)", "x.nansum()",
    "x.logcumsumexp(0)", "x.addcmul(y, y)", "x.addcdiv(y, y.abs() + 1)", "x.lerp(y, 0.3)",
    "x.reciprocal()", "x.square()", "x.abs().rsqrt()", "x.atan2(y)", "x.hypot(y)",
    "x.fmod(2)", "x.remainder(2)", "x.logaddexp(y)", "x.xlogy(y.abs())", "x.frac()",
    "x.clamp_max(0.5)", "x.clamp_min(0.1)", "x.index_select(0, t)", "x.take(t)",
    "x.rot90()", "x.diag_embed()", "x[:, :3].trace()", "T.bmm(x[None], y.t()[None])",
    "T.addmm(b, x, w.t())", "T.baddbmm(x[None, :, :3], x[None], y.t()[None, :, :3])",
    "x.floor()", "x.round(decimals=1)", "x.sign()", "x.sgn()", "x.view_as(y)",
    "x.expand_as(y)", "x.mode(1).values", "x.masked_scatter(x > 0, y)",
    "F.interpolate(x4, scale_factor=2)", "F.interpolate(x3, size=5, mode='linear')",
    "F.interpolate(x4, scale_factor=2, mode='bilinear')",
    "F.interpolate(x4, scale_factor=2, mode='bicubic')",
    "F.interpolate(x4, size=(3, 5), mode='nearest-exact')",
]  # fmt: skip


def _bind(T, F):
    rng = np.random.default_rng(1)
    x, y, w = (rng.standard_normal(s).astype(np.float32) for s in ((3, 4), (3, 4), (5, 4)))
    b, v = rng.standard_normal(5).astype(np.float32), rng.standard_normal(4).astype(np.float32)
    env = {"T": T, "F": F, "N": T.nn, "t": T.tensor([0, 1, 2])}
    env["x4"] = T.tensor(rng.standard_normal((1, 2, 6, 6)).astype(np.float32), requires_grad=True)
    env["x3"] = T.tensor(rng.standard_normal((1, 2, 8)).astype(np.float32), requires_grad=True)
    for k, a in {"x": x, "y": y, "w": w, "b": b, "v": v}.items():
        env[k] = T.tensor(a, requires_grad=True)
    return env


@pytest.mark.parametrize("expr", GRAD_FN_EXPRESSIONS)
def test_grad_fn_names_match_torch(expr):
    import torch
    import torch.nn.functional as TF

    expected = eval(expr, _bind(torch, TF)).grad_fn.name()
    out = eval(expr, _bind(gradfit, GF))
    assert out.grad_fn.name() == expected
    assert repr(out).endswith(f"grad_fn=<{expected}>)")
