"""AdaptiveLogSoftmaxWithLoss, ChannelShuffle, CrossMapLRN2d, DataParallel and
SyncBatchNorm against PyTorch: seeded construction (same weights), forward values and
gradients, reprs, state-dict keys, argument checks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gradfit


def _error(lib, make):
    try:
        make(lib)
    except Exception as e:  # noqa: BLE001 - type and message compared
        return type(e).__name__, str(e).replace("torch.", "gradfit.")
    return None


# ------------------------------------------------------------------ AdaptiveLogSoftmaxWithLoss
def _asm_run(lib, target):
    lib.manual_seed(0)
    m = lib.nn.AdaptiveLogSoftmaxWithLoss(8, 12, [3, 7], div_value=2.0, head_bias=True)
    x = lib.randn(6, 8, requires_grad=True)
    out = m(x, lib.tensor(target))
    out.loss.backward()
    single = m(x[1], lib.tensor(target[1]))
    return {
        "repr": repr(m),
        "names": [n for n, _ in m.named_parameters()],
        "weights": [p.detach().numpy() for p in m.parameters()],
        "output": out.output.detach().numpy(),
        "loss": out.loss.detach().numpy(),
        "x_grad": x.grad.numpy(),
        "p_grads": [None if p.grad is None else p.grad.numpy() for p in m.parameters()],
        "log_prob": m.log_prob(x).detach().numpy(),
        "predict": m.predict(x).numpy(),
        "single": (single.output.detach().numpy(), single.loss.detach().numpy()),
        "fields": (type(out).__name__, out._fields),
    }


@pytest.mark.parametrize("target", [[0, 4, 11, 2, 8, 5], [1, 2, 0, 1, 2, 0], [9, 10, 11, 7, 8, 9]])
def test_adaptive_log_softmax_matches_torch(target):
    ours, ref = _asm_run(gradfit, target), _asm_run(torch, target)
    assert ours["repr"] == ref["repr"]
    assert ours["names"] == ref["names"]
    assert ours["fields"] == ref["fields"] == ("_ASMoutput", ("output", "loss"))
    for key in ("weights", "output", "loss", "x_grad", "p_grads", "log_prob", "single"):
        pairs = (
            zip(ours[key], ref[key])
            if isinstance(ours[key], list | tuple)
            else [(ours[key], ref[key])]
        )
        for a, b in pairs:
            assert (a is None) == (b is None)  # a cluster no target reached has no grad
            if a is not None:
                np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(ours["predict"], ref["predict"])


@pytest.mark.parametrize(
    "make",
    [
        lambda lib: lib.nn.AdaptiveLogSoftmaxWithLoss(4, 10, []),
        lambda lib: lib.nn.AdaptiveLogSoftmaxWithLoss(4, 10, [5, 3]),
        lambda lib: lib.nn.AdaptiveLogSoftmaxWithLoss(4, 10, [3, 10]),
        lambda lib: lib.nn.AdaptiveLogSoftmaxWithLoss(4, 10, [3])(
            lib.zeros(2, 4), lib.tensor([1, 10])
        ),
        lambda lib: lib.nn.AdaptiveLogSoftmaxWithLoss(4, 10, [3])(
            lib.zeros(3, 4), lib.tensor([1, 2])
        ),
        lambda lib: lib.nn.AdaptiveLogSoftmaxWithLoss(4, 10, [3])(
            lib.zeros(2, 4), lib.zeros(2, 2).long()
        ),
    ],
)
def test_adaptive_log_softmax_errors_match_torch(make):
    theirs = _error(torch, make)
    assert theirs is not None
    assert _error(gradfit, make) == theirs


# ------------------------------------------------------------------ ChannelShuffle
@pytest.mark.parametrize("shape,groups", [((2, 6, 3), 3), ((1, 8, 2, 2), 2), ((2, 6, 1, 2, 2), 6)])
def test_channel_shuffle_matches_torch(shape, groups):
    x = np.random.default_rng(0).standard_normal(shape)
    res = []
    for lib in (gradfit, torch):
        xt = lib.tensor(x, requires_grad=True)
        m = lib.nn.ChannelShuffle(groups)
        y = m(xt)
        assert repr(m) == f"ChannelShuffle(groups={groups})"
        assert y.grad_fn.name() == "ChannelShuffleBackward0"
        (y * lib.tensor(np.arange(y.numel(), dtype=np.float64).reshape(shape))).sum().backward()
        res.append((y.detach().numpy(), xt.grad.numpy()))
    for a, b in zip(*res):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("shape,groups", [((2, 5, 3), 2), ((2, 6), 2), ((2, 6, 3), 0), ((6,), 2)])
def test_channel_shuffle_errors_match_torch(shape, groups):
    def make(lib):
        lib.nn.functional.channel_shuffle(lib.zeros(*shape), groups)

    theirs = _error(torch, make)
    assert theirs is not None
    assert _error(gradfit, make) == theirs


# ------------------------------------------------------------------ CrossMapLRN2d
@pytest.mark.parametrize("size,channels", [(3, 5), (5, 8), (2, 4), (4, 2), (6, 9)])
def test_cross_map_lrn_matches_torch(size, channels):
    """PyTorch's legacy forward and its (Lua) backward, which is not that forward's
    derivative: both reproduced."""
    rng = np.random.default_rng(size * 10 + channels)
    x = rng.standard_normal((2, channels, 3, 4))
    g = rng.standard_normal(x.shape)
    for dtype, tol in ((np.float64, 1e-12), (np.float32, 1e-6)):
        res = []
        for lib in (gradfit, torch):
            xt = lib.tensor(x.astype(dtype), requires_grad=True)
            m = lib.nn.CrossMapLRN2d(size, alpha=0.5, beta=0.75, k=2.0)
            y = m(xt)
            y.backward(lib.tensor(g.astype(dtype)))
            res.append((y.detach().numpy(), xt.grad.numpy(), repr(m)))
        (y0, g0, r0), (y1, g1, r1) = res
        assert r0 == r1 == f"CrossMapLRN2d({size}, alpha=0.5, beta=0.75, k=2.0)"
        np.testing.assert_allclose(y0, y1, rtol=tol, atol=tol)
        np.testing.assert_allclose(g0, g1, rtol=tol, atol=tol)


def test_cross_map_lrn_errors_match_torch():
    for make in (
        lambda lib: lib.nn.CrossMapLRN2d(3)(lib.zeros(2, 3, 4)),
        lambda lib: (
            lib.nn.CrossMapLRN2d(1)(lib.ones(1, 3, 2, 2, requires_grad=True)).sum().backward()
        ),
    ):
        theirs = _error(torch, make)
        assert theirs is not None
        assert _error(gradfit, make) == theirs


# ------------------------------------------------------------------ DataParallel, SyncBatchNorm
def test_data_parallel_cpu_form():
    res = []
    for lib in (gradfit, torch):
        lib.manual_seed(1)
        dp = lib.nn.DataParallel(lib.nn.Linear(2, 3), device_ids=None, dim=0)
        x = lib.randn(4, 2)
        y = dp(x)
        y.sum().backward()
        res.append(
            (repr(dp), list(dp.state_dict()), dp.device_ids, hasattr(dp, "dim"),
             y.detach().numpy(), dp.module.weight.grad.numpy(), type(dp.module).__name__)
        )  # fmt: skip
    for a, b in zip(*res):
        assert np.array_equal(a, b) if isinstance(a, np.ndarray) else a == b


def _sync_bn(lib):
    lib.manual_seed(0)
    m = lib.nn.SyncBatchNorm(3, momentum=None)
    x = lib.randn(4, 3, 2, 2, requires_grad=True)
    y = m(x)
    y.pow(2).sum().backward()
    m(lib.randn(5, 3))  # any dimensions from 2 on
    out = [repr(m), list(m.state_dict()), m.process_group, y.detach().numpy(), x.grad.numpy(),
           m.running_mean.numpy(), m.running_var.numpy(), int(m.num_batches_tracked)]  # fmt: skip
    m.eval()
    out.append(m(x).detach().numpy())
    net = lib.nn.Sequential(
        lib.nn.Conv2d(1, 3, 1),
        lib.nn.BatchNorm2d(3),
        lib.nn.Sequential(lib.nn.BatchNorm1d(2, affine=False)),
    )
    net[1].eval()
    conv = lib.nn.SyncBatchNorm.convert_sync_batchnorm(net)
    out += [repr(conv), conv is net, conv[1].weight is net[1].weight,
            conv[1].running_mean is net[1].running_mean, conv[1].training, conv[2][0].training,
            repr(lib.nn.SyncBatchNorm.convert_sync_batchnorm(lib.nn.BatchNorm3d(4)))]  # fmt: skip
    return out


def test_sync_batch_norm_matches_torch():
    for a, b in zip(_sync_bn(gradfit), _sync_bn(torch)):
        if isinstance(a, np.ndarray):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
        else:
            assert a == b


def test_sync_batch_norm_errors_match_torch():
    for make in (
        lambda lib: lib.nn.SyncBatchNorm(3)(lib.zeros(4)),
        lambda lib: lib.nn.SyncBatchNorm(3)(lib.zeros(4, 0, 2)),
    ):
        theirs = _error(torch, make)
        assert theirs is not None
        assert _error(gradfit, make) == theirs
