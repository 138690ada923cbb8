"""Parity with PyTorch for the extra layers: padding, pixel shuffle, parameter containers,
LocalResponseNorm, RMSNorm, Bilinear, Softmax2d, RReLU, alpha dropout, upsampling, max
unpooling, LazyLinear and the extra ``nn.init`` functions.

Each layer is built under the same seed in both libraries: the parameters must be
bit-identical, the reprs and state_dict keys equal, and forward values and gradients equal
(float64 1e-10, float32 1e-5). Bad input must raise PyTorch's exception type and message.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest
import torch

import gradfit
from tests.compat._normalise import as_gradfit
from tests.nn.nn_testing import assert_close, torch_default_float32  # noqa: F401


def _libs():
    return [(gradfit, gradfit.nn), (torch, torch.nn)]


def _np(t):
    return t.detach().numpy() if isinstance(t, torch.Tensor) else gradfit._arrays.unwrap(t)


def _unpool_inputs(nd):
    """(pooled values, indices) of a fixed array, for MaxUnpool."""

    def make(lib, dtype):
        x = np.random.default_rng(3).standard_normal((2, 3) + (4, 6)[:nd] if nd == 2 else (2, 3, 8))
        pool = getattr(lib.nn.functional, f"max_pool{nd}d")
        y, idx = pool(lib.tensor(x.astype(dtype)), 2, return_indices=True)
        return y, idx

    return make


# (id, constructor(nn), input shapes, train mode, extra non-differentiable inputs)
MODULES = [
    ("ZeroPad1d", lambda nn: nn.ZeroPad1d(2), [(2, 3, 5)]),
    ("ZeroPad2d", lambda nn: nn.ZeroPad2d((1, 2, 0, 3)), [(2, 2, 4, 5)]),
    ("ZeroPad3d", lambda nn: nn.ZeroPad3d(1), [(2, 3, 4, 3)]),
    ("ConstantPad1d", lambda nn: nn.ConstantPad1d((2, -1), 3.5), [(3, 5)]),
    ("ConstantPad2d", lambda nn: nn.ConstantPad2d(1, -1.0), [(2, 2, 4, 5)]),
    ("ConstantPad3d", lambda nn: nn.ConstantPad3d((1, 0, 0, 1, 2, 0), 0.5), [(1, 2, 3, 4, 3)]),
    ("ReflectionPad1d", lambda nn: nn.ReflectionPad1d(2), [(2, 3, 5)]),
    ("ReflectionPad2d", lambda nn: nn.ReflectionPad2d((1, 2, 2, 0)), [(2, 2, 4, 5)]),
    ("ReflectionPad2d-crop", lambda nn: nn.ReflectionPad2d((-1, 2, 1, -2)), [(2, 4, 5)]),
    ("ReflectionPad3d", lambda nn: nn.ReflectionPad3d(1), [(1, 2, 3, 4, 3)]),
    ("ReplicationPad1d", lambda nn: nn.ReplicationPad1d((3, 1)), [(2, 3, 5)]),
    ("ReplicationPad2d", lambda nn: nn.ReplicationPad2d(2), [(2, 4, 5)]),
    ("ReplicationPad3d", lambda nn: nn.ReplicationPad3d((1, 0, 2, 1, 0, 1)), [(1, 2, 3, 4, 3)]),
    ("CircularPad1d", lambda nn: nn.CircularPad1d(2), [(2, 3, 5)]),
    ("CircularPad2d", lambda nn: nn.CircularPad2d((1, 0, -1, 2)), [(2, 2, 4, 5)]),
    ("CircularPad3d", lambda nn: nn.CircularPad3d(1), [(2, 3, 4, 3)]),
    ("PixelShuffle", lambda nn: nn.PixelShuffle(2), [(2, 8, 3, 2)]),
    ("PixelUnshuffle", lambda nn: nn.PixelUnshuffle(2), [(2, 2, 4, 6)]),
    ("LocalResponseNorm", lambda nn: nn.LocalResponseNorm(3), [(2, 5, 4, 3)]),
    ("LocalResponseNorm-3d", lambda nn: nn.LocalResponseNorm(2, 0.1, 0.5, 2.0), [(2, 4, 6)]),
    ("RMSNorm", lambda nn: nn.RMSNorm(4), [(2, 3, 4)]),
    ("RMSNorm-noaffine", lambda nn: nn.RMSNorm([3, 4], 1e-6, False), [(2, 3, 4)]),
    ("Bilinear", lambda nn: nn.Bilinear(3, 4, 5), [(6, 3), (6, 4)]),
    ("Bilinear-nobias", lambda nn: nn.Bilinear(2, 2, 3, bias=False), [(2, 4, 2), (2, 4, 2)]),
    ("Softmax2d", lambda nn: nn.Softmax2d(), [(2, 3, 2, 2)]),
    ("RReLU-eval", lambda nn: nn.RReLU().eval(), [(3, 4)]),
    ("RReLU-train", lambda nn: nn.RReLU(0.1, 0.3), [(4, 5)]),
    ("AlphaDropout-train", lambda nn: nn.AlphaDropout(0.3), [(4, 6)]),
    ("AlphaDropout-eval", lambda nn: nn.AlphaDropout(0.3).eval(), [(4, 6)]),
    ("FeatureAlphaDropout", lambda nn: nn.FeatureAlphaDropout(0.4), [(3, 4, 2, 2)]),
    ("UpsamplingNearest2d", lambda nn: nn.UpsamplingNearest2d(scale_factor=2), [(1, 2, 3, 2)]),
    ("UpsamplingNearest2d-size", lambda nn: nn.UpsamplingNearest2d(size=(5, 3)), [(1, 2, 3, 2)]),
    ("UpsamplingBilinear2d", lambda nn: nn.UpsamplingBilinear2d(scale_factor=2), [(1, 2, 3, 4)]),
    ("UpsamplingBilinear2d-size", lambda nn: nn.UpsamplingBilinear2d((3, 7)), [(1, 2, 3, 4)]),
]


def _build(ctor, dtype):
    out = []
    for lib, nn in _libs():
        lib.manual_seed(0)
        m = ctor(nn)
        out.append(m.double() if dtype == np.float64 else m)
    return out


@pytest.mark.parametrize("name,ctor,shapes", MODULES, ids=[m[0] for m in MODULES])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_module_parity(name, ctor, shapes, dtype):
    gm, tm = _build(ctor, dtype)
    assert repr(gm) == as_gradfit(repr(tm))
    assert list(gm.state_dict()) == list(tm.state_dict())
    for (gn, gp), (tn, tp) in zip(gm.named_parameters(), tm.named_parameters(), strict=True):
        assert gn == tn and np.array_equal(_np(gp), _np(tp)), gn  # bit-identical draws
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal(s).astype(dtype) for s in shapes]
    gx = [gradfit.tensor(a, requires_grad=True) for a in arrays]
    tx = [torch.tensor(a, requires_grad=True) for a in arrays]
    gradfit.manual_seed(5)
    torch.manual_seed(5)
    gy, ty = gm(*gx), tm(*tx)
    assert_close(gy, ty, dtype, f"{name} forward")
    u = rng.standard_normal(tuple(ty.shape)).astype(dtype)
    (gy * gradfit.tensor(u)).sum().backward()
    (ty * torch.tensor(u)).sum().backward()
    for i, (g, t) in enumerate(zip(gx, tx)):
        assert_close(g.grad, t.grad, dtype, f"{name} input {i} grad")
    for (gn, gp), (_, tp) in zip(gm.named_parameters(), tm.named_parameters()):
        assert_close(gp.grad, tp.grad, dtype, f"{name} {gn} grad")
    # the random layers drew as many numbers as PyTorch did
    assert gradfit.rand(1).item() == torch.rand(1).item()


@pytest.mark.parametrize("nd", [1, 2])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_max_unpool_parity(nd, dtype):
    outs = []
    for lib, nn in _libs():
        y, idx = _unpool_inputs(nd)(lib, dtype)
        y.requires_grad_(True)
        m = getattr(nn, f"MaxUnpool{nd}d")(2)
        big = (2, 3) + ((4, 6) if nd == 2 else (8,))
        out_default = m(y, idx)
        out_sized = m(y, idx, output_size=big[:2] + tuple(s + 1 for s in big[2:]))
        (out_default.sum() + (out_sized * out_sized).sum()).backward()
        outs.append((repr(m), out_default, out_sized, y.grad))
    (gr, *gvals), (tr, *tvals) = outs
    assert gr == tr
    for g, t in zip(gvals, tvals):
        assert_close(g, t, dtype, f"max_unpool{nd}d")


@pytest.mark.parametrize("nd", [1, 2])
def test_max_pool_with_indices(nd):
    x = np.random.default_rng(0).standard_normal((2, 3) + (5, 6)[:nd])
    g = getattr(gradfit.nn.functional, f"max_pool{nd}d_with_indices")(gradfit.tensor(x), 2)
    t = getattr(torch.nn.functional, f"max_pool{nd}d_with_indices")(torch.tensor(x), 2)
    for a, b in zip(g, t):
        assert np.array_equal(_np(a), _np(b))


def test_random_layers_match_torch_stream_and_gradients():
    """Training-mode alpha dropout, feature alpha dropout and RReLU draw exactly PyTorch's
    numbers (bernoulli masks; one double uniform per non-positive element)."""
    x = np.random.default_rng(2).standard_normal((5, 4, 3))
    for dtype in (np.float32, np.float64):
        for fn, args in [
            ("alpha_dropout", (0.5, True)),
            ("feature_alpha_dropout", (0.2, True)),
            ("rrelu", (0.05, 0.6, True)),
        ]:
            gx = gradfit.tensor(x.astype(dtype), requires_grad=True)
            tx = torch.tensor(x.astype(dtype), requires_grad=True)
            gradfit.manual_seed(11)
            torch.manual_seed(11)
            gy = getattr(gradfit.nn.functional, fn)(gx, *args)
            ty = getattr(torch.nn.functional, fn)(tx, *args)
            assert np.array_equal(_np(gy), _np(ty)), fn
            gy.sum().backward()
            ty.sum().backward()
            assert np.array_equal(_np(gx.grad), _np(tx.grad)), fn
    # eval mode: identity, and the leaky slope (lower + upper) / 2
    g, t = gradfit.tensor(x), torch.tensor(x)
    assert gradfit.nn.functional.alpha_dropout(g, 0.5) is g
    assert np.array_equal(
        _np(gradfit.rrelu(g, 0.1, 0.4)), _np(torch.nn.functional.rrelu(t, 0.1, 0.4))
    )
    for p in (0.0, 1.0):
        assert np.array_equal(
            _np(gradfit.nn.functional.alpha_dropout(g, p, True)),
            _np(torch.nn.functional.alpha_dropout(t, p, True)),
        )


def test_top_level_functions():
    x = np.random.default_rng(0).standard_normal((1, 8, 2, 3))
    y = gradfit.pixel_shuffle(gradfit.tensor(x), 2)
    assert np.array_equal(_np(y), _np(torch.pixel_shuffle(torch.tensor(x), 2)))
    assert np.array_equal(
        _np(gradfit.pixel_unshuffle(y, 2)), _np(torch.pixel_unshuffle(torch.tensor(_np(y)), 2))
    )
    assert_close(
        gradfit.rms_norm(gradfit.tensor(x), [3], None),
        torch.rms_norm(torch.tensor(x), [3], None),
        np.float64,
    )
    w = np.random.default_rng(1).standard_normal((4, 2, 2))
    gx, tx = gradfit.tensor(x[..., :2]), torch.tensor(x[..., :2])
    assert_close(
        gradfit.bilinear(gx, gx, gradfit.tensor(w)),
        torch.bilinear(tx, tx, torch.tensor(w), None),
        np.float64,
    )


def _raises_same(call):
    """Run call(lib) under both libraries: the same exception type and message."""
    results = []
    for lib, _ in _libs():
        with pytest.raises(Exception) as info:
            call(lib)
        results.append(info.value)
    g, t = results
    assert type(g).__name__ == type(t).__name__, (g, t)
    assert str(g) == str(t)


def _t(lib, *shape, dtype=None):
    return lib.zeros(*shape) + 1.0 if dtype is None else lib.zeros(*shape, dtype=dtype) + 1


ERRORS = {
    "pad odd": lambda lib: lib.nn.functional.pad(_t(lib, 2, 3), (1, 1, 1)),
    "pad too long": lambda lib: lib.nn.functional.pad(_t(lib, 2, 3), (1,) * 6),
    "pad mode": lambda lib: lib.nn.functional.pad(_t(lib, 2, 3), (1, 1), "foo"),
    "pad value": lambda lib: lib.nn.functional.pad(_t(lib, 2, 3), (1, 1), "reflect", 2.0),
    "pad dims": lambda lib: lib.nn.functional.pad(_t(lib, 1, 2, 3, 4, 5, 6), (1, 1), "replicate"),
    "pad 1d": lambda lib: lib.nn.functional.pad(_t(lib, 5), (1, 1), "circular"),
    "reflect W": lambda lib: lib.nn.functional.pad(_t(lib, 2, 3, 4, 5), (5, 1), "reflect"),
    "reflect H": lambda lib: lib.nn.functional.pad(_t(lib, 3, 4, 5), (1, 1, 4, 0), "reflect"),
    "reflect D": lambda lib: lib.nn.functional.pad(
        _t(lib, 1, 2, 4, 3, 3), (0,) * 4 + (4, 1), "reflect"
    ),
    "reflect small": lambda lib: lib.nn.functional.pad(_t(lib, 2, 3, 5), (-3, -3), "reflect"),
    "replicate empty": lambda lib: lib.nn.functional.pad(_t(lib, 2, 0, 4), (1, 1), "replicate"),
    "circular wrap": lambda lib: lib.nn.functional.pad(
        _t(lib, 2, 3, 4, 5), (0, 0, 5, 0), "circular"
    ),
    "circular neg": lambda lib: lib.nn.functional.pad(_t(lib, 2, 3, 5), (-3, -3), "circular"),
    "constant crop": lambda lib: lib.nn.functional.pad(_t(lib, 2, 3, 5), (-6, 1)),
    "CircularPad2d dims": lambda lib: lib.nn.CircularPad2d(1)(_t(lib, 2, 3)),
    "shuffle dims": lambda lib: lib.nn.functional.pixel_shuffle(_t(lib, 8, 3), 2),
    "shuffle factor": lambda lib: lib.nn.functional.pixel_shuffle(_t(lib, 1, 8, 2, 3), 0),
    "shuffle channels": lambda lib: lib.nn.functional.pixel_shuffle(_t(lib, 1, 6, 2, 3), 2),
    "shuffle float": lambda lib: lib.nn.functional.pixel_shuffle(_t(lib, 1, 8, 2, 3), 1.5),
    "unshuffle width": lambda lib: lib.nn.functional.pixel_unshuffle(_t(lib, 1, 2, 4, 3), 2),
    "unshuffle height": lambda lib: lib.nn.functional.pixel_unshuffle(_t(lib, 1, 2, 3, 4), 2),
    "lrn dims": lambda lib: lib.nn.functional.local_response_norm(_t(lib, 2, 3), 2),
    "rms shape": lambda lib: lib.nn.functional.rms_norm(_t(lib, 2, 3), [4]),
    "rms weight": lambda lib: lib.nn.functional.rms_norm(_t(lib, 2, 3), [3], _t(lib, 2)),
    "rms empty": lambda lib: lib.nn.functional.rms_norm(_t(lib, 2, 3), []),
    "rms int": lambda lib: lib.nn.functional.rms_norm(_t(lib, 2, 3), 3),
    "bilinear dims": lambda lib: lib.nn.functional.bilinear(
        _t(lib, 2, 3), _t(lib, 2, 4, 1), _t(lib, 5, 3, 4)
    ),
    "bilinear batch": lambda lib: lib.nn.functional.bilinear(
        _t(lib, 2, 3), _t(lib, 3, 4), _t(lib, 5, 3, 4)
    ),
    "bilinear in1": lambda lib: lib.nn.functional.bilinear(
        _t(lib, 2, 2), _t(lib, 2, 4), _t(lib, 5, 3, 4)
    ),
    "bilinear in2": lambda lib: lib.nn.functional.bilinear(
        _t(lib, 2, 3), _t(lib, 2, 5), _t(lib, 5, 3, 4)
    ),
    "bilinear bias": lambda lib: lib.nn.functional.bilinear(
        _t(lib, 2, 3), _t(lib, 2, 4), _t(lib, 5, 3, 4), _t(lib, 4)
    ),
    "Bilinear in1": lambda lib: lib.nn.Bilinear(0, 2, 3),
    "Softmax2d": lambda lib: lib.nn.Softmax2d()(_t(lib, 3, 3)),
    "feature alpha dims": lambda lib: lib.nn.functional.feature_alpha_dropout(
        _t(lib, 3), 0.5, True
    ),
    "alpha p": lambda lib: lib.nn.AlphaDropout(1.5),
    "unpool int32": lambda lib: lib.nn.functional.max_unpool2d(
        _t(lib, 1, 1, 2, 2), lib.zeros(1, 1, 2, 2, dtype=lib.int32), 2
    ),
    "unpool shape": lambda lib: lib.nn.functional.max_unpool2d(
        _t(lib, 1, 1, 2, 2), lib.zeros(1, 1, 2, 1, dtype=lib.int64), 2
    ),
    "unpool index": lambda lib: lib.nn.functional.max_unpool2d(
        _t(lib, 1, 1, 2, 2), lib.zeros(1, 1, 2, 2, dtype=lib.int64) + 16, 2
    ),
    "unpool size": lambda lib: lib.nn.functional.max_unpool2d(
        _t(lib, 1, 1, 2, 2), lib.zeros(1, 1, 2, 2, dtype=lib.int64), 2, output_size=(7, 5)
    ),
    "unpool size len": lambda lib: lib.nn.functional.max_unpool2d(
        _t(lib, 1, 1, 2, 2), lib.zeros(1, 1, 2, 2, dtype=lib.int64), 2, output_size=(1, 2, 5)
    ),
    "unpool dims": lambda lib: lib.nn.functional.max_unpool2d(
        _t(lib, 2, 2), lib.zeros(2, 2, dtype=lib.int64), 2
    ),
    "ParameterList call": lambda lib: lib.nn.ParameterList()(1),
    "ParameterList index": lambda lib: lib.nn.ParameterList([_t(lib, 2)])[3],
    "ParameterList extend": lambda lib: lib.nn.ParameterList().extend(_t(lib, 2)),
    "ParameterDict key": lambda lib: lib.nn.ParameterDict()[1],
    "ParameterDict update": lambda lib: lib.nn.ParameterDict().update(3),
    "ParameterDict pair": lambda lib: lib.nn.ParameterDict().update([("a", 1, 2)]),
    "orthogonal dims": lambda lib: lib.nn.init.orthogonal_(_t(lib, 3)),
    "dirac dims": lambda lib: lib.nn.init.dirac_(_t(lib, 3, 3)),
    "dirac groups": lambda lib: lib.nn.init.dirac_(_t(lib, 3, 3, 3), groups=2),
    "sparse dims": lambda lib: lib.nn.init.sparse_(_t(lib, 3, 3, 3), 0.1),
    "eye dims": lambda lib: lib.nn.init.eye_(_t(lib, 3, 3, 3)),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_errors_as_pytorch(case):
    _raises_same(ERRORS[case])


# ------------------------------------------------------------------ parameter containers
def _containers(lib, nn):
    lib.manual_seed(0)
    plist = nn.ParameterList([nn.Parameter(lib.randn(2, 3)), lib.randn(4)])
    plist.append(lib.randn(1, 2, dtype=lib.float64))
    plist.extend([nn.Parameter(lib.randn(3)), "note"])
    plist += [lib.randn(2)]
    pdict = nn.ParameterDict({"w": lib.randn(2, 2), "b": nn.Parameter(lib.randn(2))})
    pdict.update(OrderedDict([("z", lib.randn(1)), ("a", lib.randn(3))]))
    pdict.update([("scale", lib.randn(1))])
    pdict["k"] = 3
    return plist, pdict


def test_parameter_containers_as_pytorch():
    (gl, gd), (tl, td) = (_containers(lib, nn) for lib, nn in _libs())
    for g, t in ((gl, tl), (gd, td)):
        assert repr(g) == as_gradfit(repr(t))
        assert list(g.state_dict()) == list(t.state_dict())
        gnamed, tnamed = list(g.named_parameters()), list(t.named_parameters())
        assert [n for n, _ in gnamed] == [n for n, _ in tnamed]
        for (_, gp), (_, tp) in zip(gnamed, tnamed):
            assert type(gp).__name__ == type(tp).__name__ == "Parameter"
            assert np.array_equal(_np(gp), _np(tp))
        assert len(g) == len(t)
    assert repr(gl[1:4]) == as_gradfit(repr(tl[1:4]))
    assert gl[-1] is gl[5] and gl[4] == "note" and isinstance(gl[1], gradfit.nn.Parameter)
    assert list(gd.keys()) == list(td.keys())
    assert [k for k, _ in gd.items()] == [k for k, _ in td.items()]
    assert "w" in gd and "q" not in gd and gd.get("q", 7) == 7 and gd["k"] == 3
    for d in (gd, td):
        d.pop("z")
        d.popitem()
        del d["w"]
        d.setdefault("new", None)
    assert repr(gd) == as_gradfit(repr(td))
    assert list(gd.state_dict()) == list(td.state_dict())
    merged_g = gd | gradfit.nn.ParameterDict({"c": gradfit.ones(1)})
    merged_t = td | torch.nn.ParameterDict({"c": torch.ones(1)})
    assert list(merged_g.keys()) == list(merged_t.keys())
    assert dir(gl) == sorted(dir(gl)) and "0" not in dir(gl)


def _train_param_model(lib, nn):
    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.ws = nn.ParameterList([nn.Parameter(lib.randn(3, 3)) for _ in range(2)])
            self.extra = nn.ParameterDict({"scale": nn.Parameter(lib.ones(3))})

        def forward(self, x):
            for w in self.ws:
                x = lib.tanh(x @ w)
            return x * self.extra["scale"]

    lib.manual_seed(0)
    model = Model()
    opt = lib.optim.SGD(model.parameters(), lr=0.1)
    x = lib.randn(4, 3)
    for _ in range(3):
        opt.zero_grad()
        loss = (model(x) ** 2).mean()
        loss.backward()
        opt.step()
    return [_np(p).copy() for p in model.parameters()] + [_np(loss)]


def test_parameter_list_trains_as_pytorch():
    """A model holding its weights in a ParameterList and a ParameterDict: the same SGD
    steps give the same parameters."""
    results = [_train_param_model(lib, nn) for lib, nn in _libs()]
    for g, t in zip(*results, strict=True):
        np.testing.assert_allclose(g, t, rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------ LazyLinear
def test_lazy_linear_as_pytorch():
    results = []
    for lib, nn in _libs():
        lib.manual_seed(0)
        m = nn.LazyLinear(3)
        before = repr(m)
        assert m.has_uninitialized_params()
        opt = lib.optim.SGD(m.parameters(), lr=0.5)  # made before the shapes are known
        x = lib.randn(4, 5)
        y = m(x)
        y.sum().backward()
        opt.step()
        results.append((before, repr(m), type(m).__name__, type(m.weight).__name__, m, y))
    (gb, ga, gcls, gw, gm, gy), (tb, ta, tcls, tw, tm, ty) = results
    assert (gb, ga, gcls, gw) == (as_gradfit(tb), as_gradfit(ta), tcls, tw)
    assert gcls == "Linear" and gw == "Parameter"
    assert_close(gy, ty, np.float32, "LazyLinear forward")
    for (gn, gp), (tn, tp) in zip(gm.named_parameters(), tm.named_parameters(), strict=True):
        assert gn == tn
        assert_close(gp, tp, np.float32, f"LazyLinear {gn} after a step")
    assert gradfit.rand(1).item() == torch.rand(1).item()


LAZY_CASES = [
    ("LazyConv2d", (6, 5), {"padding": 2}, (2, 3, 8, 8)),
    ("LazyConv1d", (4, 3), {"groups": 2, "bias": False}, (2, 6, 5)),
    ("LazyConv3d", (2, 2), {"stride": 2}, (1, 3, 4, 4, 4)),
    ("LazyConv2d", (2, 3), {}, (3, 5, 5)),  # unbatched: in_channels is dimension 0
    ("LazyConvTranspose2d", (3, 2), {"stride": 2, "output_padding": 1}, (1, 4, 3, 3)),
    ("LazyConvTranspose1d", (2, 3), {"groups": 2}, (2, 4, 5)),
    ("LazyBatchNorm2d", (), {}, (4, 3, 2, 2)),
    ("LazyBatchNorm1d", (), {"affine": False, "momentum": None}, (5, 3)),
    ("LazyBatchNorm3d", (), {"track_running_stats": False}, (2, 2, 1, 2, 2)),
]


@pytest.mark.parametrize(("name", "args", "kwargs", "shape"), LAZY_CASES, ids=str)
def test_lazy_conv_and_batch_norm_as_pytorch(name, args, kwargs, shape):
    """The d2l book's layers: reprs before and after the first call, the class they
    become, parameter draws, running statistics, forward values and gradients."""
    results = []
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    for lib, nn in _libs():
        lib.manual_seed(0)
        m = getattr(nn, name)(*args, **kwargs)
        before = repr(m)
        params = list(m.parameters())  # taken before the shapes are known
        y = m(lib.tensor(x, requires_grad=True))
        y.pow(2).sum().backward()
        if params:
            lib.optim.SGD(params, lr=0.01).step()
        state = {k: _np(v) for k, v in m.state_dict().items()}
        results.append(
            (
                before,
                repr(m),
                type(m).__name__,
                m.has_uninitialized_params() if hasattr(m, "has_uninitialized_params") else None,
                state,
                y,
            )
        )
    (gb, ga, gcls, gu, gs, gy), (tb, ta, tcls, tu, ts, ty) = results
    assert (gb, ga, gcls, gu) == (as_gradfit(tb), as_gradfit(ta), tcls, tu)
    assert not gcls.startswith("Lazy")
    assert list(gs) == list(ts)
    for k in gs:
        np.testing.assert_allclose(gs[k], ts[k], rtol=1e-5, atol=1e-6, err_msg=k)
    assert_close(gy, ty, np.float32, f"{name} forward")


def test_lazy_linear_without_bias():
    m = gradfit.nn.LazyLinear(2, bias=False)
    m(gradfit.randn(3, 7))
    assert tuple(m.weight.shape) == (2, 7) and m.bias is None
    assert repr(m) == "Linear(in_features=7, out_features=2, bias=False)"


# ------------------------------------------------------------------ init
@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (4, 2, 3), (6, 6)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_orthogonal_as_pytorch(shape, dtype):
    gradfit.manual_seed(0)
    torch.manual_seed(0)
    gdt = getattr(gradfit, np.dtype(dtype).name)
    g = gradfit.nn.init.orthogonal_(gradfit.empty(*shape, dtype=gdt), gain=1.5)
    t = torch.nn.init.orthogonal_(
        torch.empty(*shape, dtype=getattr(torch, np.dtype(dtype).name)), 1.5
    )
    # same normals and algorithm; Q differs from PyTorch's only by the LAPACK call's rounding
    np.testing.assert_allclose(_np(g), _np(t), rtol=0, atol=1e-6 if dtype == np.float32 else 1e-13)
    flat = _np(g).reshape(shape[0], -1).astype(np.float64) / 1.5
    small = flat @ flat.T if shape[0] <= flat.shape[1] else flat.T @ flat
    np.testing.assert_allclose(small, np.eye(len(small)), atol=1e-5)
    assert gradfit.rand(1).item() == torch.rand(1).item()


def test_dirac_sparse_eye_as_pytorch():
    for shape, groups in [((6, 2, 3, 3), 2), ((4, 3, 5), 1), ((2, 4, 3, 2, 3), 1)]:
        g = gradfit.nn.init.dirac_(gradfit.empty(*shape), groups)
        t = torch.nn.init.dirac_(torch.empty(*shape), groups)
        assert np.array_equal(_np(g), _np(t))
    g = gradfit.nn.init.eye_(gradfit.empty(3, 5))
    assert np.array_equal(_np(g), _np(torch.nn.init.eye_(torch.empty(3, 5))))
    for dtype in (np.float32, np.float64):
        gradfit.manual_seed(4)
        torch.manual_seed(4)
        gdt = getattr(gradfit, np.dtype(dtype).name)
        tdt = getattr(torch, np.dtype(dtype).name)
        g = gradfit.nn.init.sparse_(gradfit.empty(7, 5, dtype=gdt), 0.3, std=0.5)
        t = torch.nn.init.sparse_(torch.empty(7, 5, dtype=tdt), 0.3, std=0.5)
        assert np.array_equal(_np(g), _np(t))
        assert gradfit.rand(1).item() == torch.rand(1).item()


def test_lazy_linear_loads_a_checkpoint_before_its_first_call():
    """load_state_dict materialises the lazy parameters with the checkpoint's shapes (as
    PyTorch's lazy load hook); the first call then checks the input and becomes Linear."""
    reprs = []
    for lib, nn in _libs():
        lib.manual_seed(0)
        state = {"0." + k: v for k, v in nn.Linear(5, 3).state_dict().items()}
        model = nn.Sequential(nn.LazyLinear(3))
        model.load_state_dict(state)
        reprs.append(repr(model))
        model(lib.randn(2, 5))
        reprs.append(repr(model))
        assert np.array_equal(_np(model[0].weight), _np(state["0.weight"]))
        with pytest.raises(RuntimeError, match="size mismatch"):
            nn.Sequential(nn.Linear(4, 3)).load_state_dict(state)
    assert reprs[:2] == reprs[2:]
    lazy = gradfit.nn.Sequential(gradfit.nn.LazyLinear(3))
    lazy.load_state_dict({"0.weight": gradfit.zeros(3, 5), "0.bias": gradfit.zeros(3)})
    with pytest.raises(AssertionError, match="in_features inferred from input: 4"):
        lazy(gradfit.randn(2, 4))


def test_grad_fn_names_as_pytorch():
    cases = [
        lambda lib, x: lib.nn.functional.pad(x[0], (1, 1), "reflect"),
        lambda lib, x: lib.nn.functional.pad(x, (1, 1, 0, 1), "replicate"),
        lambda lib, x: lib.nn.functional.pixel_shuffle(x, 2),
        lambda lib, x: lib.nn.functional.pixel_unshuffle(x, 2),
        lambda lib, x: lib.nn.functional.max_unpool2d(
            x[:, :, :2, :2], lib.zeros(1, 4, 2, 2, dtype=lib.int64), 2
        ),
        # functions gradfit composes of other ops, printed as PyTorch's kernels
        lambda lib, x: lib.nn.functional.linear(x[0, 0, 0], x[0, 0, :2]),
        lambda lib, x: lib.nn.functional.linear(x[0, 0, 0], x[0, 0, :2], x[0, 0, 0, :2]),
        lambda lib, x: lib.nn.functional.linear(x, x[0, 0, :2]),
        lambda lib, x: lib.nn.functional.linear(x[0, 0], x[0, 0, :2]),
        lambda lib, x: lib.nn.functional.pairwise_distance(x, x * 2),
        lambda lib, x: lib.nn.functional.instance_norm(x),
        lambda lib, x: lib.nn.functional.multi_margin_loss(
            x.reshape(4, 4), lib.tensor([0, 1, 2, 3])
        ),
        lambda lib, x: lib.nn.functional.rrelu(x),
        lambda lib, x: lib.nn.functional.rrelu(x, training=True),
        lambda lib, x: x.reshape(4, 4).scatter(1, lib.tensor([[0], [1], [2], [3]]), 1.0),
        lambda lib, x: x.repeat_interleave(2, 0),
        lambda lib, x: x.repeat_interleave(lib.tensor([1, 2, 1, 1]), 1),
        lambda lib, x: lib.kron(x[0, 0], x[0, 1]),
        lambda lib, x: lib.trapezoid(x),
        lambda lib, x: lib.trapezoid(x, lib.arange(2.0)),
        lambda lib, x: lib.block_diag(x[0, 0], x[0, 1]),
        lambda lib, x: lib.clamp(x, min=x * 0.5),
        lambda lib, x: x.quantile(0.5),
        lambda lib, x: x.quantile(0.5, dim=1),
    ]
    for case in cases:
        names = []
        for lib, _ in _libs():
            x = lib.ones(1, 4, 2, 2).requires_grad_(True) * 1
            names.append(repr(case(lib, x)).rsplit("grad_fn=", 1)[1])
        assert names[0] == names[1]


def test_global_module_forward_hooks_as_pytorch():
    """register_module_forward_pre_hook / register_module_forward_hook: run for every
    module, before the module's own hooks, in PyTorch's order, replacing args/outputs."""
    logs = []
    for lib, nn in _libs():
        log = []
        lib.manual_seed(0)
        net = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
        own = net[0].register_forward_hook(
            lambda m, a, o, log=log: log.append(("own", type(m).__name__))
        )
        mod = __import__(nn.__name__ + ".modules.module", fromlist=["module"])
        pre = mod.register_module_forward_pre_hook(
            lambda m, a, log=log: log.append(("pre", type(m).__name__)) or (a[0] * 2,)
        )
        post = mod.register_module_forward_hook(
            lambda m, a, kw, o, log=log: (
                log.append(("post", type(m).__name__, sorted(kw))) or o + 1
            ),
            with_kwargs=True,
        )
        out = net(lib.ones(1, 2))
        pre.remove()
        post.remove()
        own.remove()
        out2 = net(lib.ones(1, 2))
        log.append(_np(out).round(6).tolist() + _np(out2).round(6).tolist())
        logs.append(log)
    assert logs[0] == logs[1]
