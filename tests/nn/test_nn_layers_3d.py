"""The 3-D convolution, pooling, normalisation and dropout layers and EmbeddingBag against
PyTorch: same weights under the same seed, outputs, input and parameter gradients, reprs
(float64)."""

from __future__ import annotations

import numpy as np
import pytest

import gradfit

CASES = {
    "Conv3d": (lambda L: L.nn.Conv3d(2, 3, (2, 3, 2), padding=1), (2, 2, 4, 5, 3)),
    "Conv3d-groups": (lambda L: L.nn.Conv3d(4, 2, 2, groups=2, bias=False), (1, 4, 3, 3, 3)),
    "ConvTranspose3d": (lambda L: L.nn.ConvTranspose3d(2, 3, 2, stride=2), (1, 2, 2, 3, 2)),
    "MaxPool3d": (lambda L: L.nn.MaxPool3d(2, stride=1), (1, 2, 3, 4, 3)),
    "AvgPool3d": (lambda L: L.nn.AvgPool3d(2, padding=1, count_include_pad=False), (1, 2, 3, 4, 3)),
    "AdaptiveAvgPool3d": (lambda L: L.nn.AdaptiveAvgPool3d((2, 1, 2)), (1, 2, 3, 4, 5)),
    "AdaptiveMaxPool3d": (lambda L: L.nn.AdaptiveMaxPool3d(2), (1, 2, 3, 4, 5)),
    "BatchNorm3d": (lambda L: L.nn.BatchNorm3d(2), (3, 2, 2, 3, 2)),
    "InstanceNorm3d": (lambda L: L.nn.InstanceNorm3d(2, affine=True), (3, 2, 2, 3, 2)),
    "Dropout3d": (lambda L: L.nn.Dropout3d(0.5), (3, 4, 2, 2, 2)),
    "LPPool1d": (lambda L: L.nn.LPPool1d(2, 3), (2, 3, 7)),
    "LPPool2d": (lambda L: L.nn.LPPool2d(2, (2, 3), (1, 2), True), (1, 2, 5, 6)),
    "LPPool3d": (lambda L: L.nn.LPPool3d(1.5, 2), (1, 1, 4, 4, 4)),
}  # fmt: skip


def _run(lib, build, x):
    lib.manual_seed(0)
    module = build(lib).double()
    t = lib.tensor(x, requires_grad=True)
    y = module(t)
    y.pow(2).sum().backward()
    buffers = [b.numpy().copy() for b in module.buffers() if b.dtype != lib.int64]
    params = [(p.detach().numpy().copy(), p.grad.numpy()) for p in module.parameters()]
    return y.detach().numpy(), t.grad.numpy(), repr(module), params, buffers


@pytest.mark.parametrize("name", sorted(CASES))
def test_3d_layers_match_torch(name):
    import torch

    build, shape = CASES[name]
    x = np.random.default_rng(0).standard_normal(shape)
    if name.startswith("LPPool"):
        x = np.abs(x) + 0.1  # a fractional power of a negative sum is NaN in both
    ours, ref = _run(gradfit, build, x), _run(torch, build, x)
    np.testing.assert_allclose(ours[0], ref[0], atol=1e-12)
    np.testing.assert_allclose(ours[1], ref[1], atol=1e-12)
    assert ours[2] == ref[2]
    for (w, g), (w_ref, g_ref) in zip(ours[3], ref[3], strict=True):
        np.testing.assert_array_equal(w, w_ref)
        np.testing.assert_allclose(g, g_ref, atol=1e-10)
    for b, b_ref in zip(ours[4], ref[4], strict=True):
        np.testing.assert_allclose(b, b_ref, atol=1e-12)


def test_3d_layers_refuse_other_ranks():
    with pytest.raises(ValueError, match="expected 5D input"):
        gradfit.nn.BatchNorm3d(2)(gradfit.ones(2, 2, 3, 3))
    with pytest.raises(RuntimeError):
        gradfit.nn.Conv3d(2, 3, 2)(gradfit.ones(2, 2, 3))


def _bag(lib, mode, options):
    lib.manual_seed(0)
    kwargs = {k: options[k] for k in ("padding_idx", "include_last_offset") if k in options}
    module = lib.nn.EmbeddingBag(10, 3, mode=mode, **kwargs).double()
    inp = lib.tensor([1, 2, 4, 5, 4, 3, 2, 9, 0])
    off = lib.tensor([0, 4, 4, 6] + ([9] if options.get("include_last_offset") else []))
    psw = lib.arange(9, dtype=lib.float64) * 0.1 if options.get("psw") else None
    out = module(inp, off, per_sample_weights=psw)
    (out * lib.arange(out.numel(), dtype=lib.float64).reshape(out.shape)).sum().backward()
    fixed = module(lib.tensor([[1, 2], [3, 4]]))  # 2-D input: each row a bag
    return out.detach().numpy(), module.weight.grad.numpy(), repr(module), fixed.detach().numpy()


@pytest.mark.parametrize(
    "mode,options",
    [("mean", {}), ("sum", {}), ("max", {}), ("sum", {"psw": True}),
     ("mean", {"padding_idx": 4}), ("sum", {"include_last_offset": True})],
)  # fmt: skip
def test_embedding_bag_matches_torch(mode, options):
    import torch

    ours, ref = _bag(gradfit, mode, options), _bag(torch, mode, options)
    np.testing.assert_allclose(ours[0], ref[0], atol=1e-12)  # an empty bag gives zeros
    np.testing.assert_allclose(ours[1], ref[1], atol=1e-12)
    assert ours[2] == ref[2]
    np.testing.assert_allclose(ours[3], ref[3], atol=1e-12)
