"""The device idiom and the legacy tensor API, checked against PyTorch's CPU build."""

from __future__ import annotations

import numpy as np
import pytest

import gradfit


def _outcome(fn):
    """(exception class name, or None) and the value's repr: what a program would see."""
    try:
        return None, repr(fn())
    except Exception as e:  # noqa: BLE001 - the class is what is compared
        return type(e).__name__, None


DEVICE_CASES = [
    lambda T: T.device("cuda"), lambda T: T.device("cuda:1"), lambda T: T.device("cuda", 2),
    lambda T: T.device("mps"), lambda T: T.device("cpu:0"), lambda T: T.device("gpu"),
    lambda T: T.device(0), lambda T: T.device("cuda:x"),
    lambda T: T.device("cuda").index, lambda T: T.device("cuda:3").index,
    lambda T: T.device("cpu") == T.device("cpu"), lambda T: T.device("cpu") == "cpu",
    lambda T: T.device("cpu") == T.device("cpu:0"), lambda T: str(T.device("cuda", 0)),
    lambda T: T.zeros(2).to("cuda"), lambda T: T.zeros(2, device="cuda"),
    lambda T: T.zeros(2).cuda(), lambda T: T.nn.Linear(2, 2).cuda(),
    lambda T: T.zeros(2).to("mps"), lambda T: T.zeros(2).to(T.device("cpu")).device,
    lambda T: T.zeros(2, device=T.device("cpu")).is_cuda,
    lambda T: T.cuda.is_available(), lambda T: T.cuda.device_count(),
    lambda T: T.cuda.manual_seed(1), lambda T: T.cuda.manual_seed_all(1),
    lambda T: T.cuda.synchronize(), lambda T: T.cuda.empty_cache(),
    lambda T: T.cuda.current_device(), lambda T: T.backends.mps.is_available(),
    lambda T: T.accelerator.is_available(), lambda T: T.backends.cudnn.benchmark,
    lambda T: T.backends.cudnn.deterministic,
]  # fmt: skip


@pytest.mark.parametrize("case", range(len(DEVICE_CASES)))
def test_device_idiom_as_pytorchs_cpu_build(case):
    import torch

    fn = DEVICE_CASES[case]
    assert _outcome(lambda: fn(gradfit)) == _outcome(lambda: fn(torch))


LEGACY_CASES = [
    lambda T: T.FloatTensor(2, 3).zero_(), lambda T: T.FloatTensor([[1, 2], [3, 4]]),
    lambda T: T.LongTensor([1.7, -2.2]), lambda T: T.IntTensor([1, 2]),
    lambda T: T.DoubleTensor([0.5]), lambda T: T.ByteTensor([1, 255]),
    lambda T: T.BoolTensor([True, False]), lambda T: T.HalfTensor([1.5]),
    lambda T: T.Tensor(np.zeros(3)), lambda T: T.Tensor([1, 2]), lambda T: T.Tensor([True]),
    lambda T: T.Tensor(2, 2).zero_(), lambda T: T.Tensor(T.zeros(2, 3).shape).zero_(),
    lambda T: T.Tensor(), lambda T: T.Tensor(np.arange(3)),
    lambda T: T.Tensor(T.zeros(2, dtype=T.float64)),
    lambda T: T.zeros(2).type(), lambda T: T.zeros(2, dtype=T.int64).type(),
    lambda T: T.zeros(2, dtype=T.bool).type(), lambda T: T.zeros(2, dtype=T.uint8).type(),
    lambda T: T.zeros(2).type(T.DoubleTensor), lambda T: T.zeros(2).type("torch.IntTensor"),
    lambda T: T.zeros(2).type(T.float64),
    lambda T: T.nn.Linear(2, 1).type(T.DoubleTensor).bias.dtype == T.float64,
    lambda T: isinstance(T.zeros(2), T.FloatTensor),
    lambda T: isinstance(T.zeros(2), T.LongTensor),
    lambda T: isinstance(T.tensor([1]), T.LongTensor),
    lambda T: T.autograd.Variable(T.ones(2), requires_grad=True),
    lambda T: type(T.autograd.Variable(T.ones(2))) is T.Tensor,
]  # fmt: skip


@pytest.mark.parametrize("case", range(len(LEGACY_CASES)))
def test_legacy_tensor_api_as_pytorchs(case):
    import torch

    from tests.compat._normalise import as_gradfit

    fn = LEGACY_CASES[case]
    err_t, val_t = _outcome(lambda: fn(torch))
    err_g, val_g = _outcome(lambda: fn(gradfit))
    assert err_g == err_t
    assert val_g == (None if val_t is None else as_gradfit(val_t))


def test_legacy_constructor_errors_are_clear():
    with pytest.raises(TypeError, match="data must be a sequence"):
        gradfit.Tensor(1.5)
    with pytest.raises(RuntimeError, match="negative dimension"):
        gradfit.FloatTensor(2, -1)
    with pytest.raises(TypeError, match="sizes .ints. or one sequence"):
        gradfit.Tensor([1], [2])
