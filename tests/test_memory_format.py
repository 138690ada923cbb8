"""Memory formats as PyTorch's: ``x.to(memory_format=torch.channels_last)``,
``contiguous``/``clone``/``is_contiguous`` with a format, ``Module.to(memory_format=...)``,
the ``*_like`` factories preserving a channels-last layout (random ones drawing in memory
order), gradients through the copies, and the rank errors."""

from __future__ import annotations

import numpy as np
import pytest

import gradfit


def _torch():
    import torch  # the reference: fail, not skip

    return torch


def _report(lib):
    lib.manual_seed(0)
    x = lib.randn(2, 3, 4, 4)
    y = x.to(memory_format=lib.channels_last)
    z = lib.ones(2, 3, 2, 2, 2).to(memory_format=lib.channels_last_3d)
    out = [
        y.stride(), y.is_contiguous(), y.is_contiguous(memory_format=lib.channels_last),
        lib.equal(x, y), y.contiguous().stride(), y.clone().stride(),
        y.clone(memory_format=lib.contiguous_format).stride(),
        x.contiguous(memory_format=lib.channels_last).stride(), z.stride(),
        lib.ones(1, 3, 1, 1).is_contiguous(memory_format=lib.channels_last),
        lib.empty_like(y).stride(), lib.zeros_like(x, memory_format=lib.channels_last).stride(),
        lib.ones_like(y, memory_format=lib.contiguous_format).stride(),
    ]  # fmt: skip
    lib.manual_seed(1)
    draws = [
        lib.randn_like(y),
        lib.rand_like(y),
        lib.randn_like(x, memory_format=lib.channels_last),
    ]
    out += [d.stride() for d in draws]
    conv = lib.nn.Conv2d(3, 4, 3).to(memory_format=lib.channels_last)
    out += [conv.weight.stride(), conv.bias.stride()]
    w = lib.randn(2, 3, 2, 2, dtype=lib.float64, requires_grad=True)
    c = w.to(memory_format=lib.channels_last)
    (c * lib.arange(24.0, dtype=lib.float64).reshape(2, 3, 2, 2)).sum().backward()
    out.append(c.grad_fn.name())
    arrays = [d.numpy() for d in draws] + [w.grad.numpy(), conv(y).detach().numpy()]
    return out, arrays


def test_channels_last_as_pytorch():
    torch = _torch()
    (got, got_arrays), (want, want_arrays) = _report(gradfit), _report(torch)
    assert got == want
    for g, w in zip(got_arrays, want_arrays):
        np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-6)
    assert repr(gradfit.channels_last) == "gradfit.channels_last"
    assert isinstance(gradfit.preserve_format, gradfit.memory_format)


@pytest.mark.parametrize(
    ("shape", "fmt"), [((2, 3), "channels_last"), ((1, 2, 3, 4), "channels_last_3d")]
)
def test_rank_errors_as_pytorch(shape, fmt):
    torch = _torch()
    messages = []
    for lib in (gradfit, torch):
        with pytest.raises(RuntimeError) as err:
            lib.ones(*shape).to(memory_format=getattr(lib, fmt))
        messages.append(str(err.value))
    assert messages[0] == messages[1]
