"""Convolution, pooling and normalisation layers against PyTorch: initialisation from the
same seed, state_dict keys and dtypes, forward/backward with copied weights, BatchNorm
running statistics over several steps, channel-dropout masks, and whole networks (a
small CNN and a residual 1-D network with BatchNorm) trained for 5 SGD steps."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from nn_testing import (
    DTYPES,
    assert_close,
    check_module,
    torch_default_float32,  # noqa: F401 - autouse fixture
)

import gradfit
import gradfit.nn as nn
import gradfit.nn.functional as F

_TD = {np.float64: torch.float64, np.float32: torch.float32}


def _x(shape, dtype=np.float64, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype(dtype)


# ------------------------------------------------------------------ init and state dict
LAYERS = [
    ("Conv1d", (3, 5, 3), {}),
    (
        "Conv1d",
        (4, 6, 4),
        {"stride": 2, "padding": "same" if False else 1, "groups": 2, "bias": False},
    ),
    ("Conv1d", (2, 3, 4), {"padding": "same", "padding_mode": "circular", "dilation": 2}),
    ("Conv2d", (3, 8, (3, 2)), {"stride": (2, 1), "padding": (1, 0)}),
    ("Conv2d", (4, 4, 3), {"padding": "same", "padding_mode": "reflect", "groups": 4}),
    ("Conv2d", (2, 3, 3), {"padding": "valid", "padding_mode": "replicate"}),
    ("ConvTranspose1d", (4, 6, 3), {"stride": 2, "output_padding": 1, "groups": 2}),
    ("ConvTranspose2d", (3, 5, (2, 3)), {"stride": 2, "padding": 1, "dilation": 2}),
    ("BatchNorm1d", (5,), {}),
    ("BatchNorm2d", (3,), {"momentum": None, "affine": False}),
    ("BatchNorm1d", (3,), {"track_running_stats": False}),
    ("BatchNorm1d", (3,), {"bias": False}),
    ("GroupNorm", (2, 6), {}),
    ("GroupNorm", (3, 6), {"affine": False}),
    ("InstanceNorm1d", (4,), {}),
    ("InstanceNorm2d", (3,), {"affine": True, "track_running_stats": True}),
    ("MaxPool1d", (3,), {"stride": 2, "padding": 1, "ceil_mode": True}),
    ("MaxPool2d", ((2, 3),), {"dilation": 2, "return_indices": True}),
    ("AvgPool1d", (3,), {"count_include_pad": False}),
    ("AvgPool2d", (2,), {"divisor_override": 3}),
    ("AdaptiveAvgPool1d", (5,), {}),
    ("AdaptiveAvgPool2d", ((3, None),), {}),
    ("AdaptiveMaxPool1d", (4,), {"return_indices": True}),
    ("AdaptiveMaxPool2d", (2,), {}),
    ("Upsample", (), {"scale_factor": 2, "mode": "bilinear", "align_corners": True}),
    ("Upsample", (), {"size": 7}),
    ("Dropout1d", (0.3,), {}),
    ("Dropout2d", (), {}),
    ("Unfold", ((2, 3),), {"padding": 1}),
    ("Fold", ((4, 5), 2), {}),
]


@pytest.mark.parametrize(
    "name, args, kwargs", LAYERS, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(LAYERS)]
)
def test_same_seed_same_init_keys_and_repr(name, args, kwargs):
    gradfit.manual_seed(123)
    torch.manual_seed(123)
    g = getattr(nn, name)(*args, **kwargs)
    t = getattr(torch.nn, name)(*args, **kwargs)
    assert repr(g) == repr(t)
    gs, ts = g.state_dict(), t.state_dict()
    assert list(gs) == list(ts)
    for k in ts:
        a, b = gs[k].numpy(), ts[k].numpy()
        assert a.dtype == b.dtype and a.shape == b.shape, k
        # torch draws uniform floats in float32 with one rounding; allow 1 ulp
        np.testing.assert_allclose(a, b, rtol=2e-7, atol=1e-8, err_msg=k)
    # the stream is left where torch leaves it: the next draw agrees
    np.testing.assert_allclose(gradfit.rand(3).numpy(), torch.rand(3).numpy(), rtol=1e-7)


def test_module_to_casts_buffers_but_not_the_counter():
    bn = nn.BatchNorm1d(3).double()
    assert bn.running_mean.dtype == np.float64 and bn.weight.dtype == np.float64
    assert bn.num_batches_tracked.dtype == np.int64
    bn.to(gradfit.float32)
    assert bn.running_var.dtype == np.float32
    assert [n for n, _ in bn.named_buffers()] == [
        "running_mean",
        "running_var",
        "num_batches_tracked",
    ]


# ------------------------------------------------------------ forward/backward, copied weights
MODULE_CASES = [
    ("Conv1d", (3, 4, 3), {"stride": 2, "padding": 1, "dilation": 2}, (2, 3, 11)),
    ("Conv1d", (4, 6, 2), {"padding": "same", "groups": 2}, (2, 4, 7)),
    ("Conv1d", (2, 3, 3), {"padding": 2, "padding_mode": "circular"}, (2, 2, 6)),
    ("Conv1d", (2, 3, 3), {"padding": 1}, (2, 5)),  # unbatched
    ("Conv2d", (3, 4, (3, 2)), {"stride": (2, 1), "padding": (1, 2)}, (2, 3, 7, 6)),
    ("Conv2d", (2, 4, 3), {"padding": "same", "padding_mode": "reflect"}, (2, 2, 5, 6)),
    ("Conv2d", (2, 4, 3), {"padding": 1, "padding_mode": "replicate", "bias": False}, (1, 2, 4, 5)),
    # >= 128 output positions per sample: the per-sample product path
    ("Conv2d", (3, 4, 3), {"padding": 1}, (2, 3, 12, 12)),
    ("Conv1d", (2, 3, 3), {"padding": 1, "bias": False}, (2, 2, 130)),
    (
        "ConvTranspose1d",
        (4, 6, 3),
        {"stride": 2, "padding": 1, "output_padding": 1, "groups": 2},
        (2, 4, 5),
    ),
    ("ConvTranspose2d", (3, 2, (2, 3)), {"stride": (2, 1), "dilation": 2}, (2, 3, 4, 3)),
    ("MaxPool1d", (3,), {"stride": 2, "padding": 1, "ceil_mode": True}, (2, 3, 10)),
    ("MaxPool2d", (2,), {}, (2, 3, 6, 7)),
    ("AvgPool1d", (3,), {"stride": 2, "padding": 1, "count_include_pad": False}, (2, 3, 9)),
    ("AvgPool2d", (3,), {"stride": 2, "padding": 1, "ceil_mode": True}, (2, 3, 7, 6)),
    ("AdaptiveAvgPool1d", (4,), {}, (2, 3, 10)),
    ("AdaptiveAvgPool2d", ((3, 2),), {}, (2, 3, 7, 5)),
    ("AdaptiveMaxPool2d", ((3, 2),), {}, (2, 3, 7, 5)),
    ("Upsample", (), {"scale_factor": 2, "mode": "linear"}, (2, 3, 5)),
    ("Upsample", (), {"size": (5, 7), "mode": "nearest"}, (2, 3, 3, 4)),
    ("GroupNorm", (2, 4), {}, (3, 4, 5)),
    ("InstanceNorm1d", (3,), {"affine": True}, (2, 3, 6)),
    ("BatchNorm1d", (3,), {}, (4, 3)),
    ("BatchNorm2d", (3,), {}, (2, 3, 4, 3)),
    ("Unfold", ((2, 3),), {"padding": 1, "stride": 2}, (2, 3, 5, 6)),
    ("Fold", ((4, 5), (2, 2)), {}, (2, 8, 12)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "name, args, kwargs, shape",
    MODULE_CASES,
    ids=[c[0] + str(i) for i, c in enumerate(MODULE_CASES)],
)
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_module_matches_torch(name, args, kwargs, shape, dtype, mode):
    g = getattr(nn, name)(*args, **kwargs).to(dtype)
    t = getattr(torch.nn, name)(*args, **kwargs).to(_TD[dtype])
    if mode == "eval":
        if "Norm" in name and hasattr(t, "running_mean") and t.running_mean is not None:
            # non-trivial running statistics to normalise with
            with torch.no_grad():
                t.running_mean.uniform_(-0.5, 0.5)
                t.running_var.uniform_(0.5, 2.0)
        g.eval()
        t.eval()
    check_module(g, t, [_x(shape, dtype)], dtype, what=f"{name} {mode}")
    for k, v in t.state_dict().items():  # running statistics updated alike
        assert_close(g.state_dict()[k], v, dtype, f"{name} buffer {k}")


def test_max_pool_indices_match_torch():
    x = _x((2, 3, 7, 9))
    for kw in (
        {"kernel_size": 2},
        {
            "kernel_size": (3, 2),
            "stride": (2, 3),
            "padding": 1,
            "dilation": (1, 2),
            "ceil_mode": True,
        },
    ):
        y, i = F.max_pool2d(gradfit.tensor(x), return_indices=True, **kw)
        ty, ti = torch.nn.functional.max_pool2d(torch.tensor(x), return_indices=True, **kw)
        np.testing.assert_array_equal(y.numpy(), ty.numpy())
        assert i.dtype == np.int64
        np.testing.assert_array_equal(i.numpy(), ti.numpy())
    y, i = nn.AdaptiveMaxPool1d(4, return_indices=True)(gradfit.tensor(x[:, :, 0]))
    ty, ti = torch.nn.AdaptiveMaxPool1d(4, return_indices=True)(torch.tensor(x[:, :, 0]))
    np.testing.assert_array_equal(i.numpy(), ti.numpy())


def test_max_pool_nan_and_ties_as_torch():
    x = np.zeros((1, 2, 4, 6))  # all ties: the first element of each window wins
    x[0, 1, 0, 3] = np.nan  # a NaN wins its window, and the gradient goes to it
    x[0, 1, 2, 0] = x[0, 1, 3, 1] = np.nan  # two NaNs in one window: PyTorch takes the later
    g = gradfit.tensor(x, requires_grad=True)
    t = torch.tensor(x, requires_grad=True)
    (yg, ig), (yt, it) = (
        F.max_pool2d(g, 2, return_indices=True),
        torch.nn.functional.max_pool2d(t, 2, return_indices=True),
    )
    np.testing.assert_array_equal(ig.numpy(), it.numpy())
    np.testing.assert_array_equal(np.isnan(yg.detach().numpy()), np.isnan(yt.detach().numpy()))
    yg.sum().backward()
    yt.sum().backward()
    np.testing.assert_array_equal(g.grad.numpy(), t.grad.numpy())


def test_functional_errors_name_the_bad_value():
    x = gradfit.zeros(1, 2, 5)
    # PyTorch's own messages (tests/nn/test_nn_layers_more.py compares them with torch's)
    with pytest.raises(RuntimeError, match=r"Padding size should be less than .* \(5, 0\)"):
        F.pad(x, (5, 0), mode="reflect")
    with pytest.raises(NotImplementedError, match="Unrecognised padding mode mirror"):
        F.pad(x, (1, 1), mode="mirror")
    with pytest.raises(ValueError, match="only one of size or scale_factor"):
        F.interpolate(x, size=3, scale_factor=2)
    with pytest.raises(ValueError, match="align_corners option can only be set"):
        F.interpolate(x, size=3, align_corners=True)
    with pytest.raises(RuntimeError, match="padding should be at most half"):
        F.max_pool1d(x, 2, padding=2)
    with pytest.raises(RuntimeError, match="output padding must be smaller"):
        F.conv_transpose1d(x, gradfit.zeros(2, 1, 3), stride=2, output_padding=2)
    with pytest.raises(
        ValueError, match="num_channels \\(5\\) must be divisible by num_groups \\(2\\)"
    ):
        nn.GroupNorm(2, 5)


def test_conv_transpose_output_size_argument():
    gradfit.manual_seed(0)
    torch.manual_seed(0)
    g, t = (
        nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1),
        torch.nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1),
    )
    x = _x((1, 2, 4, 4), np.float32)
    yg = g(gradfit.tensor(x), output_size=(8, 8))
    yt = t(torch.tensor(x), output_size=(8, 8))
    assert_close(yg, yt, np.float32, "output_size")
    with pytest.raises(ValueError, match="valid sizes range from 7 to 8"):
        g(gradfit.tensor(x), output_size=(10, 10))


# ------------------------------------------------------------------ BatchNorm running statistics
@pytest.mark.parametrize("momentum", [0.1, 0.5, None])
@pytest.mark.parametrize(
    "cls, shape",
    [("BatchNorm1d", (6, 3)), ("BatchNorm1d", (4, 3, 5)), ("BatchNorm2d", (3, 3, 2, 4))],
)
def test_batchnorm_running_stats_over_steps(cls, shape, momentum):
    g = getattr(nn, cls)(3, momentum=momentum).double()
    t = getattr(torch.nn, cls)(3, momentum=momentum).double()
    for step in range(4):
        x = _x(shape, seed=step) * (step + 1) + step
        assert_close(g(gradfit.tensor(x)), t(torch.tensor(x)), np.float64, f"train step {step}")
    for k, v in t.state_dict().items():
        np.testing.assert_allclose(g.state_dict()[k].numpy(), v.numpy(), rtol=1e-12, err_msg=k)
    assert int(g.num_batches_tracked.item()) == 4
    g.eval()
    t.eval()
    x = _x(shape, seed=9)
    assert_close(g(gradfit.tensor(x)), t(torch.tensor(x)), np.float64, "eval")


def test_batchnorm_errors_name_the_problem():
    with pytest.raises(ValueError, match="expected 2D or 3D input \\(got 4D input\\)"):
        nn.BatchNorm1d(3)(gradfit.zeros(2, 3, 4, 4))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(gradfit.zeros(1, 3))
    with pytest.raises(RuntimeError, match="expected input\\[2, 4, 8\\] to have 3 channels"):
        nn.Conv1d(3, 2, 3)(gradfit.zeros(2, 4, 8))
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        nn.Conv2d(3, 2, 3, stride=2, padding="same")
    with pytest.raises(RuntimeError, match="Kernel size can't be greater than actual input size"):
        nn.Conv1d(1, 1, 5)(gradfit.zeros(1, 1, 3))


def test_instance_norm_running_stats_train_then_eval():
    g = nn.InstanceNorm1d(3, track_running_stats=True, affine=True).double()
    t = torch.nn.InstanceNorm1d(3, track_running_stats=True, affine=True).double()
    for step in range(3):
        x = _x((2, 3, 5), seed=step) + step
        assert_close(g(gradfit.tensor(x)), t(torch.tensor(x)), np.float64, "train")
    for k in ("running_mean", "running_var"):
        np.testing.assert_allclose(getattr(g, k).numpy(), getattr(t, k).numpy(), rtol=1e-12)
    g.eval()
    t.eval()
    x = _x((2, 3, 5), seed=7)
    assert_close(g(gradfit.tensor(x)), t(torch.tensor(x)), np.float64, "eval")


# ------------------------------------------------------------------ channel dropout masks
@pytest.mark.parametrize(
    "name, shape",
    [
        ("Dropout1d", (4, 5, 3)),
        ("Dropout1d", (5, 3)),
        ("Dropout2d", (3, 4, 2, 2)),
        ("Dropout2d", (2, 3, 4)),  # taken as (N, C, L), with PyTorch's warning
        ("Dropout2d", (6, 5)),  # other ranks: deprecated, dimension 1 is the channel
        ("Dropout2d", (2, 3, 2, 2, 2)),
        ("Dropout3d", (2, 3, 2, 2, 2)),
        ("Dropout3d", (3, 2, 2, 2)),  # unbatched
        ("Dropout3d", (4, 3, 2)),  # deprecated, taken as unbatched
    ],
)
def test_channel_dropout_masks_equal_torch(name, shape):
    import warnings

    x = np.abs(_x(shape, np.float32)) + 1
    gradfit.manual_seed(5)
    torch.manual_seed(5)
    g, t = getattr(nn, name)(0.4), getattr(torch.nn, name)(0.4)
    with warnings.catch_warnings(record=True) as wg:
        warnings.simplefilter("always")
        yg = g(gradfit.tensor(x, requires_grad=True))
    with warnings.catch_warnings(record=True) as wt:
        warnings.simplefilter("always")
        yt = t(torch.tensor(x, requires_grad=True))
    assert [str(w.message) for w in wg] == [str(w.message) for w in wt]
    np.testing.assert_array_equal(yg.detach().numpy() == 0, yt.detach().numpy() == 0)
    np.testing.assert_allclose(yg.detach().numpy(), yt.detach().numpy(), rtol=1e-6)
    assert yg.grad_fn.name() == yt.grad_fn.name()
    g.eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.testing.assert_array_equal(g(gradfit.tensor(x)).numpy(), x)


@pytest.mark.parametrize("fn, shape", [("dropout1d", (2, 3, 4, 5)), ("dropout1d", (3,))])
def test_channel_dropout_rank_errors_match_torch(fn, shape):
    x = np.ones(shape, np.float32)
    with pytest.raises(RuntimeError) as et:
        getattr(torch.nn.functional, fn)(torch.tensor(x))
    with pytest.raises(RuntimeError) as eg:
        getattr(gradfit.nn.functional, fn)(gradfit.tensor(x))
    assert str(eg.value) == str(et.value)


def test_dropout_after_a_convolution_draws_torchs_mask():
    # the mask is filled in the input's memory order, so the layout of a convolution's
    # output must be PyTorch's (contiguous) for the masks to agree
    x = _x((3, 2, 9), np.float32)
    gradfit.manual_seed(11)
    torch.manual_seed(11)
    g = nn.Sequential(nn.Conv1d(2, 4, 3), nn.Dropout(0.5), nn.ConvTranspose1d(4, 2, 3, stride=2))
    t = torch.nn.Sequential(
        torch.nn.Conv1d(2, 4, 3), torch.nn.Dropout(0.5), torch.nn.ConvTranspose1d(4, 2, 3, stride=2)
    )
    yg, yt = g(gradfit.tensor(x)), t(torch.tensor(x))
    assert g[0](gradfit.tensor(x)).is_contiguous() and yg.is_contiguous()
    assert_close(yg, yt, np.float32, "conv -> dropout -> conv_transpose")


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


# ------------------------------------------------------------ registry configs, hypothesis
def _registry():
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    if str(root.parent) not in sys.path:
        sys.path.insert(0, str(root.parent))
    import tests.engine.op_registry  # noqa: F401 - first: it imports registry_conv itself
    from tests.engine.registry_conv import CONV_REGISTRY

    return CONV_REGISTRY


@pytest.mark.parametrize("spec", _registry(), ids=lambda s: s.name)
@settings(max_examples=8, deadline=None)
@given(data=st.data())
def test_drawn_configurations_match_torch(spec, data):
    shapes, cfg = data.draw(spec.shapes)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    arrays = [rng.standard_normal(s) for s in shapes]
    gs = [gradfit.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    yg, yt = spec.fn(gradfit, *gs, cfg), spec.fn(torch, *ts, cfg)
    assert_close(yg, yt, np.float64, f"{spec.name} {cfg}")
    u = rng.standard_normal(tuple(yt.shape))
    (yg * gradfit.tensor(u)).sum().backward()
    (yt * torch.tensor(u)).sum().backward()
    for a, b in zip(gs, ts):
        assert_close(a.grad, b.grad, np.float64, f"{spec.name} grad {cfg}")


# ------------------------------------------------------------------ whole networks, 5 SGD steps
def _cnn(lib):
    n = lib.nn
    return n.Sequential(
        n.Conv2d(1, 4, 3, padding=1),
        n.BatchNorm2d(4),
        n.ReLU(),
        n.MaxPool2d(2),
        n.Conv2d(4, 6, 3, stride=1, padding="same", padding_mode="reflect"),
        n.ReLU(),
        n.AdaptiveAvgPool2d((2, 2)),
        n.Flatten(),
        n.Linear(24, 3),
    )


def _make_residual(lib):
    n = lib.nn

    class Block(n.Module):
        def __init__(self, c):
            super().__init__()
            self.block = n.Sequential(
                n.Conv1d(c, c, 3, padding=1, bias=False),
                n.BatchNorm1d(c),
                n.ReLU(),
                n.Conv1d(c, c, 3, padding=1, bias=False),
                n.BatchNorm1d(c),
            )

        def forward(self, x):
            return lib.relu(x + self.block(x))

    class ResNet1d(n.Module):
        def __init__(self):
            super().__init__()
            self.stem = n.Conv1d(1, 4, 3, stride=2)
            self.blocks = n.ModuleList([Block(4), Block(4)])
            self.head = n.Sequential(n.AdaptiveAvgPool1d(1), n.Flatten(), n.Linear(4, 3))

        def forward(self, x):
            x = self.stem(x)
            for b in self.blocks:
                x = b(x)
            return self.head(x)

    return ResNet1d()


@pytest.mark.parametrize(
    "make, shape", [(_cnn, (6, 1, 8, 8)), (_make_residual, (6, 1, 20))], ids=["cnn2d", "resnet1d"]
)
def test_network_trains_five_sgd_steps_like_torch(make, shape):
    gradfit.manual_seed(0)
    torch.manual_seed(0)
    g, t = make(gradfit).double(), make(torch).double()
    for (kg, vg), (kt, vt) in zip(g.state_dict().items(), t.state_dict().items()):
        assert kg == kt
        np.testing.assert_allclose(vg.numpy(), vt.numpy(), rtol=2e-7, atol=1e-8, err_msg=kg)
    g.load_state_dict({k: v.numpy().copy() for k, v in t.state_dict().items()})  # exact start
    og = gradfit.optim.SGD(g.parameters(), lr=0.1, momentum=0.9)
    ot = torch.optim.SGD(t.parameters(), lr=0.1, momentum=0.9)
    rng = np.random.default_rng(1)
    for step in range(5):
        x = rng.standard_normal(shape)
        y = rng.integers(0, 3, size=shape[0])
        lg = F.cross_entropy(g(gradfit.tensor(x)), gradfit.tensor(y))
        lt = torch.nn.functional.cross_entropy(t(torch.tensor(x)), torch.tensor(y))
        np.testing.assert_allclose(lg.item(), lt.item(), rtol=1e-10, err_msg=f"loss {step}")
        og.zero_grad()
        ot.zero_grad()
        lg.backward()
        lt.backward()
        og.step()
        ot.step()
    for k, v in t.state_dict().items():
        np.testing.assert_allclose(
            g.state_dict()[k].numpy(), v.numpy(), rtol=1e-9, atol=1e-12, err_msg=k
        )
    g.eval()
    t.eval()
    x = rng.standard_normal(shape)
    assert_close(g(gradfit.tensor(x)), t(torch.tensor(x)), np.float64, "eval after training")


@pytest.mark.parametrize(
    "shape,kwargs",
    [
        ((1, 2, 5, 7), {"scale_factor": 2}),
        ((2, 1, 3, 4), {"scale_factor": 1.7}),
        ((1, 1, 6, 6), {"size": (4, 9)}),
        ((1, 1, 5, 5), {"size": (8, 3), "align_corners": True}),
    ],
)
def test_bicubic_interpolation_matches_torch(shape, kwargs):
    # Bicubic weights are partly negative: float32 sums cancel, so entries near zero agree
    # to ~1e-6 absolute (the order of the four taps' additions differs).
    rng = np.random.default_rng(5)
    for dtype, atol in ((np.float64, 1e-12), (np.float32, 2e-6)):
        a = rng.standard_normal(shape).astype(dtype)
        xt = torch.tensor(a, requires_grad=True)
        xg = gradfit.tensor(a, requires_grad=True)
        ot = torch.nn.functional.interpolate(xt, mode="bicubic", **kwargs)
        og = gradfit.nn.functional.interpolate(xg, mode="bicubic", **kwargs)
        w = rng.standard_normal(tuple(ot.shape)).astype(dtype)
        (ot * torch.tensor(w)).sum().backward()
        (og * gradfit.tensor(w)).sum().backward()
        np.testing.assert_allclose(og.detach().numpy(), ot.detach().numpy(), atol=atol)
        np.testing.assert_allclose(xg.grad.numpy(), xt.grad.numpy(), atol=atol)
    x = gradfit.tensor(rng.standard_normal((1, 1, 3, 4)), requires_grad=True)
    f = gradfit.nn.functional.interpolate
    assert gradfit.autograd.gradcheck(lambda t: f(t, mode="bicubic", **kwargs), (x,))


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@pytest.mark.parametrize(
    "shape,kwargs",
    [
        ((1, 2, 8, 8), {"size": (3, 3)}),
        ((2, 1, 9, 7), {"scale_factor": 0.4}),
        ((1, 1, 6, 10), {"size": (4, 13), "align_corners": True}),
        ((1, 1, 5, 5), {"scale_factor": (0.5, 1.6)}),
    ],
)
def test_antialiased_interpolation_matches_torch(mode, shape, kwargs):
    """antialias=True (PIL-style resampling when shrinking): values, gradients, the node
    name, for float64 and float32."""
    rng = np.random.default_rng(6)
    for dtype, atol in ((np.float64, 1e-12), (np.float32, 2e-6)):
        a = rng.standard_normal(shape).astype(dtype)
        xt = torch.tensor(a, requires_grad=True)
        xg = gradfit.tensor(a, requires_grad=True)
        ot = torch.nn.functional.interpolate(xt, mode=mode, antialias=True, **kwargs)
        og = gradfit.nn.functional.interpolate(xg, mode=mode, antialias=True, **kwargs)
        assert og.grad_fn.name() == ot.grad_fn.name()
        w = rng.standard_normal(tuple(ot.shape)).astype(dtype)
        (ot * torch.tensor(w)).sum().backward()
        (og * gradfit.tensor(w)).sum().backward()
        np.testing.assert_allclose(og.detach().numpy(), ot.detach().numpy(), atol=atol)
        np.testing.assert_allclose(xg.grad.numpy(), xt.grad.numpy(), atol=atol)
    with pytest.raises(ValueError, match="Anti-alias option is restricted"):
        gradfit.nn.functional.interpolate(
            gradfit.ones(1, 1, 4), size=2, mode="linear", antialias=True
        )
