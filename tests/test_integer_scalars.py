"""Python numbers meeting integer tensors, against PyTorch: arithmetic casts the number as
C does (wrapping), fills and bounds refuse what does not fit (c10's checked conversion,
an unsigned type taking small negatives), integers to negative powers as ``powi``; and two
results that round in PyTorch's precision (quantile's ranks, instance norm as batch norm).
"""

from __future__ import annotations

import numpy as np
import pytest

import gradfit


@pytest.fixture(scope="module")
def torch():
    import torch

    return torch


def _outcome(lib, expr: str):
    """The values and dtypes of ``expr`` (a tensor or a tuple of them) under ``lib``, or
    its error type and message."""
    names = {"L": lib, "F": lib.nn.functional, "np": np}
    try:
        out = eval(expr, names)  # noqa: S307 - the expressions below
    except Exception as error:  # noqa: BLE001 - the error is what is compared
        return type(error).__name__, str(error)
    outs = out if isinstance(out, tuple) else (out,)
    return [(o.tolist(), str(o.dtype).rpartition(".")[2]) for o in outs]


CASES = [
    # arithmetic wraps the number (C cast)
    "L.tensor([1, 2], dtype=L.int8) * 200",
    "L.tensor([1, 2], dtype=L.int8) + 300",
    "L.tensor([1, 2], dtype=L.uint8) * -1",
    "L.tensor([1, 2], dtype=L.uint8) - 300",
    "L.tensor([1, 2], dtype=L.int8).add(1000)",
    "L.tensor([3], dtype=L.int16) // 70000",
    "300 - L.tensor([1], dtype=L.int8)",
    "2**40 * L.tensor([1], dtype=L.int32)",
    "L.tensor([5], dtype=L.int8) % 300",
    "L.tensor([5], dtype=L.int8).remainder(-200)",
    "L.tensor([5], dtype=L.int8).div(300, rounding_mode='floor')",
    # true division does not: the number is divided as it is
    "L.tensor([5], dtype=L.int8) / 300",
    "2 / L.tensor([5], dtype=L.int8)",
    # fills and bounds are checked
    "L.tensor([1, 2], dtype=L.int8).fill_(300)",
    "L.zeros(2, dtype=L.uint8).fill_(-1)",
    "L.full((2,), 300, dtype=L.int8)",
    "L.full((2,), -1, dtype=L.uint8)",
    "L.full((2,), -300, dtype=L.uint8)",
    "L.full_like(L.tensor([1], dtype=L.int16), 70000)",
    "L.tensor([1, 2], dtype=L.int8).new_full((2,), 300)",
    "L.tensor([1, 2], dtype=L.int8).masked_fill(L.tensor([True, False]), 300)",
    "L.tensor([1, 2], dtype=L.uint8).masked_fill(L.tensor([True, False]), -1)",
    "L.where(L.tensor([True, False]), L.tensor([1, 2], dtype=L.int8), 300)",
    "L.where(L.tensor([True, False]), L.tensor([1, 2], dtype=L.uint8), -1)",
    "L.tensor([1, 2], dtype=L.int8).index_fill(0, L.tensor([0]), 300)",
    "L.tensor([1], dtype=L.int8).clamp(max=300)",
    "L.tensor([1], dtype=L.uint8).clamp(min=-1)",
    "L.tensor([5], dtype=L.uint8).clamp(-300)",
    "L.tensor([5], dtype=L.int8) ** 300",
    # tensor() checks Python numbers, casts NumPy data
    "L.tensor(300, dtype=L.int8)",
    "L.tensor([[1, -70000]], dtype=L.int16)",
    "L.tensor([-1], dtype=L.uint8)",
    "L.tensor([1.5, 300.0], dtype=L.int8)",
    "L.tensor([2**40], dtype=L.int32)",
    "L.tensor(np.array([300]), dtype=L.int8)",
    "L.as_tensor([300], dtype=L.int8)",
    # integers to negative integer powers
    "L.tensor([2, 1, -1, -1, 0, 3]) ** L.tensor([-1, -3, -3, -2, -1, 0])",
    "L.tensor([2, 3], dtype=L.int8) ** L.tensor([-1, 2], dtype=L.int8)",
    "L.tensor(2) ** L.tensor([-1])",
    "L.pow(2, L.tensor([-1, 2]))",
    "L.tensor([2]) ** -1",
]


@pytest.mark.parametrize("expr", CASES)
def test_integer_tensor_with_a_python_number_matches_torch(expr, torch):
    assert _outcome(gradfit, expr) == _outcome(torch, expr)


@pytest.mark.parametrize("interpolation", ["linear", "midpoint", "nearest", "lower", "higher"])
def test_quantile_ranks_round_in_the_input_dtype(interpolation, torch):
    # q * (n - 1) in float32: 0.3 * 3 is 0.90000004 there, so linear gives 1.9000001
    rng = np.random.default_rng(0)
    for n in (4, 7, 31):
        x = rng.normal(size=(3, n)).astype(np.float32)
        for q in (0.3, 0.7, rng.random(4).astype(np.float32)):
            ours, ref = (
                lib.quantile(
                    lib.from_numpy(x),
                    lib.from_numpy(q) if isinstance(q, np.ndarray) else q,
                    dim=1,
                    interpolation=interpolation,
                ).numpy()
                for lib in (gradfit, torch)
            )
            if interpolation == "linear":  # PyTorch's lerp is fused: the last bit may differ
                np.testing.assert_allclose(ours, ref, rtol=1e-6, atol=1e-6)
            else:
                np.testing.assert_array_equal(ours, ref)
    exact = [lib.tensor([1.0, 2.0, 3.0, 4.0]).quantile(0.3).item() for lib in (gradfit, torch)]
    assert exact[0] == exact[1]


@pytest.mark.parametrize("shape", [(1, 2, 4), (3, 5, 7), (2, 3, 4, 5), (2, 2, 3, 3, 3)])
def test_instance_norm_rounds_as_batch_norm_of_the_flattened_batch(shape, torch):
    rng = np.random.default_rng(1)
    x = rng.normal(size=shape).astype(np.float32)
    w, b = (rng.normal(size=shape[1]).astype(np.float32) for _ in range(2))
    g = rng.normal(size=shape).astype(np.float32)
    results = []
    for lib in (gradfit, torch):
        xt = lib.tensor(x, requires_grad=True)
        rm, rv = lib.zeros(shape[1]), lib.ones(shape[1])
        y = lib.nn.functional.instance_norm(xt, rm, rv, lib.tensor(w), lib.tensor(b))
        (y * lib.tensor(g)).sum().backward()
        results.append((y.detach().numpy(), rm.numpy(), rv.numpy(), xt.grad.numpy()))
        assert y.grad_fn.name() == "ViewBackward0"
    (y, rm, rv, gx), (ty, trm, trv, tgx) = results
    np.testing.assert_array_equal(y, ty)
    np.testing.assert_array_equal(rm, trm)
    np.testing.assert_array_equal(rv, trv)
    np.testing.assert_allclose(gx, tgx, rtol=1e-5, atol=1e-6)  # backward: NumPy's order


FLOAT_ONLY = [
    "F.softmax(L.tensor([[1, 2, 3]]), dim=0)",
    "F.softmax(L.tensor([[1, 2, 3]]), dim=1)",
    "F.log_softmax(L.tensor([[True, False]]), dim=-1)",
    "F.mse_loss(L.tensor([1, 2]), L.tensor([1, 3]))",
    "F.mse_loss(L.tensor([1, 2], dtype=L.int32), L.tensor([1, 3], dtype=L.int32), reduction='sum')",
    "F.mse_loss(L.tensor([1.0, 2.0]), L.tensor([1, 3]))",
    "F.smooth_l1_loss(L.tensor([1, 2]), L.tensor([1, 3]), reduction='none')",
    "F.huber_loss(L.tensor([1, 2]), L.tensor([1, 3]))",
    "F.l1_loss(L.tensor([1, 2]), L.tensor([1, 3]))",
    "F.l1_loss(L.tensor([1, 2]), L.tensor([1, 4]), reduction='sum')",
    "L.tensor([1, 2]).mean()",
    "L.tensor([True]).mean()",
    "L.tensor([1, 2]).nanmean()",
    "L.tensor([1, 2]).var()",
    "L.tensor([1, 2]).std(0)",
    "L.var_mean(L.tensor([1, 2]))",
    "L.std_mean(L.tensor([1, 2]))",
]


@pytest.mark.parametrize("expr", FLOAT_ONLY)
def test_floating_only_kernels_refuse_integers_as_torch(expr, torch):
    # an integer MSE or variance would otherwise be a silently truncated number
    assert _outcome(gradfit, expr) == _outcome(torch, expr)


FACTORY_OUT = [
    "L.arange(3, out=L.empty(3, dtype=L.long))",
    "L.arange(0, 1, 0.25, out=L.empty(0, dtype=L.float64))",
    "L.linspace(0, 1, 3, out=L.empty(3))",
    "L.logspace(0, 2, 3, out=L.empty(3))",
    "L.zeros(2, 2, out=L.ones(4))",
    "L.ones(2, out=L.empty(2, dtype=L.long))",
    "L.full((3,), 2, out=L.empty(3))",
    "L.eye(2, out=L.empty(0))",
    "L.empty(2, out=L.ones(2, dtype=L.long)).zero_()",
    "(L.manual_seed(0), L.randn(3, out=L.empty(3, dtype=L.float64)))[1]",
    "(L.manual_seed(0), L.rand(2, 2, out=L.empty(4)))[1]",
    "(L.manual_seed(0), L.randint(0, 5, (2,), out=L.empty(2)))[1]",
    "(L.manual_seed(0), L.randperm(4, out=L.empty(4, dtype=L.long)))[1]",
    "L.zeros(2, out=[1, 2])",
]


@pytest.mark.parametrize("expr", FACTORY_OUT)
def test_factories_write_into_out_in_its_dtype(expr, torch):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the resize warning, PyTorch's too
        assert _outcome(gradfit, expr) == _outcome(torch, expr)
