"""Memory formats as PyTorch's: ``to``/``contiguous``/``clone``/``empty``/``*_like`` and
``Module.to`` lay tensors out channels-last when asked, with PyTorch's strides and errors;
values and gradients never depend on the layout."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

import gradfit

CASES = {
    "to channels_last": lambda L, x: x.to(memory_format=L.channels_last),
    "contiguous channels_last": lambda L, x: x.contiguous(memory_format=L.channels_last),
    "back to contiguous": lambda L, x: x.to(memory_format=L.channels_last).contiguous(),
    "clone preserves": lambda L, x: x.to(memory_format=L.channels_last).clone(),
    "clone contiguous": lambda L, x: x.to(memory_format=L.channels_last).clone(
        memory_format=L.contiguous_format
    ),
    "clone of a transpose": lambda L, x: x.transpose(2, 3).clone(),
    "clone of a slice": lambda L, x: x[:, :, :2].clone(),
    "empty_like preserves": lambda L, x: L.empty_like(x.to(memory_format=L.channels_last)),
    "zeros_like contiguous": lambda L, x: L.zeros_like(
        x.to(memory_format=L.channels_last), memory_format=L.contiguous_format
    ),
    "full_like": lambda L, x: L.full_like(x.to(memory_format=L.channels_last), 2.0),
    "ones_like channels_last": lambda L, x: L.ones_like(x, memory_format=L.channels_last),
    "empty channels_last": lambda L, x: L.empty(2, 3, 4, 5, memory_format=L.channels_last),
    "to dtype and format": lambda L, x: x.to(L.float64, memory_format=L.channels_last),
    "elementwise keeps it": lambda L, x: x.to(memory_format=L.channels_last) + 1,
    "channels_last_3d": lambda L, x: x.unsqueeze(2).to(memory_format=L.channels_last_3d),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_strides_and_values_match_torch(name):
    xt = torch.arange(120.0).reshape(2, 3, 4, 5)
    xg = gradfit.arange(120.0).reshape(2, 3, 4, 5)
    t, g = CASES[name](torch, xt), CASES[name](gradfit, xg)
    assert g.stride() == t.stride()
    assert g.is_contiguous() == t.is_contiguous()
    assert g.is_contiguous(memory_format=gradfit.channels_last) == t.is_contiguous(
        memory_format=torch.channels_last
    )
    if not name.startswith(("empty", "ones", "zeros", "full")):
        assert g.tolist() == t.tolist()


ERRORS = {
    "to on 3-D": lambda L: L.ones(2, 3, 4).to(memory_format=L.channels_last),
    "contiguous 3d on 4-D": lambda L: L.ones(2, 3, 4, 5).contiguous(
        memory_format=L.channels_last_3d
    ),
    "contiguous preserve": lambda L: L.ones(2, 3).t().contiguous(memory_format=L.preserve_format),
    "module with a 5-D weight": lambda L: L.nn.Conv3d(1, 1, 1).to(memory_format=L.channels_last),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors_match_torch(name):
    with pytest.raises(RuntimeError) as et:
        ERRORS[name](torch)
    with pytest.raises(RuntimeError) as eg:
        ERRORS[name](gradfit)
    assert str(eg.value) == str(et.value)


def test_module_to_channels_last_and_gradients():
    torch.manual_seed(0)
    mt = torch.nn.Conv2d(3, 4, 3).to(memory_format=torch.channels_last)
    mg = gradfit.nn.Conv2d(3, 4, 3)
    mg.load_state_dict({k: gradfit.tensor(v.numpy()) for k, v in mt.state_dict().items()})
    params = list(mg.parameters())
    mg = mg.to(memory_format=gradfit.channels_last)
    assert list(mg.parameters())[0] is params[0]  # the parameters keep their identity
    assert mg.weight.stride() == mt.weight.stride() and mg.bias.stride() == mt.bias.stride()
    x = torch.randn(2, 3, 6, 6)
    xt = x.clone().to(memory_format=torch.channels_last).requires_grad_()
    xg = gradfit.tensor(x.numpy()).to(memory_format=gradfit.channels_last).requires_grad_()
    (mt(xt) ** 2).sum().backward()
    (mg(xg) ** 2).sum().backward()
    assert gradfit.allclose(xg.grad, gradfit.tensor(xt.grad.numpy()), atol=1e-4)
    assert gradfit.allclose(mg.weight.grad, gradfit.tensor(mt.weight.grad.numpy()), atol=1e-3)


def test_formats_print_and_pickle_as_singletons():
    for name in ("channels_last", "channels_last_3d", "contiguous_format", "preserve_format"):
        fmt = getattr(gradfit, name)
        assert repr(fmt) == repr(getattr(torch, name)).replace("torch.", "gradfit.")
        assert pickle.loads(pickle.dumps(fmt)) is fmt
        assert isinstance(fmt, gradfit.memory_format)


def test_random_like_draws_in_memory_order_as_pytorch():
    """rand_like/randn_like of a channels-last (or transposed) tensor fill its memory in
    order, randn by the element-by-element path PyTorch takes for a non-contiguous
    tensor: the same numbers at the same positions, and the same strides."""
    import torch

    results = []
    for lib in (gradfit, torch):
        x = lib.zeros(2, 3, 4, 4).to(memory_format=lib.channels_last)
        t = lib.zeros(5, 3).t()
        lib.manual_seed(3)
        draws = [
            lib.randn_like(x), lib.rand_like(x), lib.randn_like(t),
            lib.randn_like(lib.zeros(2, 3, 4, 4), memory_format=lib.channels_last),
            lib.rand(2),  # the stream continues from the same place
        ]  # fmt: skip
        results.append([(d.numpy(), d.stride()) for d in draws])
    for (got, gs), (want, ws) in zip(*results):
        assert gs == ws
        np.testing.assert_array_equal(got, want)
