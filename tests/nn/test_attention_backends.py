"""``nn.attention.sdpa_kernel`` as PyTorch's on a CPU: MATH and FLASH_ATTENTION serve
``scaled_dot_product_attention`` (flash only for 4-D inputs); other choices refuse it."""

from __future__ import annotations

import warnings

import pytest
import torch
import torch.nn.attention as torch_attention

import gradfit
from gradfit.nn import attention

CHOICES = [
    ["MATH"],
    ["FLASH_ATTENTION"],
    ["EFFICIENT_ATTENTION", "CUDNN_ATTENTION"],
    ["FLASH_ATTENTION", "MATH"],
]


def _outcome(lib, module, names, ndim):
    x = lib.ones(*(1, 2, 3, 4)[4 - ndim :])
    with module.sdpa_kernel([getattr(module.SDPBackend, n) for n in names]):
        try:
            return tuple(lib.nn.functional.scaled_dot_product_attention(x, x, x).shape)
        except RuntimeError as e:
            return str(e)


@pytest.mark.parametrize("ndim", [3, 4])
@pytest.mark.parametrize("names", CHOICES)
def test_backend_choice_matches_torch(names, ndim):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch explains why its flash kernel declined
        want = _outcome(torch, torch_attention, names, ndim)
    assert _outcome(gradfit, attention, names, ndim) == want


def test_backends_are_torchs_and_the_choice_is_restored():
    assert {b.name: b.value for b in attention.SDPBackend} == {
        b: v.value for b, v in torch_attention.SDPBackend.__members__.items()
    }
    assert repr(attention.SDPBackend.MATH) == repr(torch_attention.SDPBackend.MATH)
    x = gradfit.ones(2, 3, 4)
    with pytest.raises(RuntimeError), attention.sdpa_kernel(attention.SDPBackend.ERROR):
        gradfit.nn.functional.scaled_dot_product_attention(x, x, x)
    assert gradfit.nn.functional.scaled_dot_product_attention(x, x, x).shape == (2, 3, 4)


def test_backends_cuda_switches_are_the_same_choice_as_torch():
    import torch

    for lib in (torch, gradfit):
        cuda = lib.backends.cuda
        q = lib.ones(1, 2, 3, 4)
        assert [cuda.flash_sdp_enabled(), cuda.math_sdp_enabled()] == [True, True]
        cuda.enable_math_sdp(False)
        cuda.enable_flash_sdp(False)
        with pytest.raises(RuntimeError, match="No viable backend"):
            lib.nn.functional.scaled_dot_product_attention(q, q, q)
        cuda.enable_math_sdp(True)
        cuda.enable_flash_sdp(True)
        with pytest.warns(FutureWarning, match="sdp_kernel"):
            with cuda.sdp_kernel(enable_math=False, enable_flash=False):
                assert not cuda.math_sdp_enabled() and cuda.mem_efficient_sdp_enabled()
                with pytest.raises(RuntimeError, match="No viable backend"):
                    lib.nn.functional.scaled_dot_product_attention(q, q, q)
        assert cuda.math_sdp_enabled() and cuda.flash_sdp_enabled()
