"""Parity checks for what hand-derived backward passes (Karpathy's "backprop ninja",
tests/compat/programs/backprop_ninja.py) compare bit for bit with autograd; one test per
fix."""

from __future__ import annotations

import numpy as np
import pytest

import gradfit
from gradfit._arrays import unwrap


def _torch():
    import torch  # the reference must be installed: fail, not skip

    return torch


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_tanh_backward_rounds_as_aten_tanh_backward(dtype):
    # ATen's kernel rounds 1 - y*y once (a fused multiply-add): for about half of all
    # values that differs in the last bit from g * (1 - y * y) rounded step by step
    torch = _torch()
    rng = np.random.default_rng(0)
    x = gradfit.tensor(rng.standard_normal(4099).astype(dtype) * 2, requires_grad=True)
    g = rng.standard_normal(4099).astype(dtype)
    y = gradfit.tanh(x)
    y.backward(gradfit.tensor(g))
    want = torch.ops.aten.tanh_backward(torch.tensor(g), torch.tensor(unwrap(y).copy()))
    got = unwrap(x.grad)
    assert got.dtype == want.numpy().dtype
    assert np.array_equal(got, want.numpy())


def _grads(module, fn, x, g):
    t = module.tensor(x, requires_grad=True)
    out = fn(t)
    out.backward(module.tensor(g))
    return np.asarray(t.grad.numpy()), out


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "fn",
    [
        lambda x: x.reciprocal(),
        lambda x: 1.0 / x,
        lambda x: 3.0 / x,
        lambda x: x.rsqrt(),
        lambda x: (x - 0.6) / x,  # the divisor's gradient, -g * ((a / b) / b)
        lambda x: x.atan(),  # (its value is libm's, not SLEEF's: only the gradient is compared)
    ],
    ids=["reciprocal", "one_over", "three_over", "rsqrt", "div_divisor", "atan"],
)
def test_derivative_rounds_as_pytorch_formula(fn, dtype, request):
    # derivatives.yaml's formulas, rounded in their order: bit for bit where the values
    # agree (correctly rounded division and square root)
    torch = _torch()
    rng = np.random.default_rng(1)
    x = (rng.random(2053) + 0.05).astype(dtype)
    g = rng.standard_normal(2053).astype(dtype)
    got, out = _grads(gradfit, fn, x, g)
    want, want_out = _grads(torch, fn, x, g)
    if "atan" not in request.node.name:
        assert np.array_equal(out.detach().numpy(), want_out.detach().numpy())
    assert np.array_equal(got, want)


def test_scalar_over_tensor_is_reciprocal_times_scalar():
    # PyTorch's Tensor.__rdiv__: 3.0 / x rounds twice, as x.reciprocal() * 3.0
    x = gradfit.tensor(np.random.default_rng(2).random(500).astype("float32") + 0.05)
    y = 3.0 / x
    assert np.array_equal(unwrap(y), unwrap(x.reciprocal() * 3.0))
    assert type(y.grad_fn).__name__ != "ReciprocalBackward0"


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sigmoid_backward_rounds_as_aten_sigmoid_backward(dtype):
    # ATen rounds (g * (1 - s)) * s; s * (1 - s) * g differs in the last bit for many values
    torch = _torch()
    rng = np.random.default_rng(3)
    x = gradfit.tensor(rng.standard_normal(4099).astype(dtype) * 3, requires_grad=True)
    g = rng.standard_normal(4099).astype(dtype)
    s = gradfit.sigmoid(x)
    s.backward(gradfit.tensor(g))
    want = torch.ops.aten.sigmoid_backward(torch.tensor(g), torch.tensor(unwrap(s).copy()))
    assert np.array_equal(unwrap(x.grad), want.numpy())


@pytest.mark.parametrize("dtype, share", [("float32", 0.999), ("float64", 0.95)])
def test_softplus_backward_rounds_as_aten_softplus_backward(dtype, share):
    # ATen: g * e / (e + 1), e = exp(beta x); g * sigmoid(beta x) agrees with it for only
    # ~2/3 of the values. What remains is exp's last bit (libm's in float64)
    torch = _torch()
    rng = np.random.default_rng(4)
    x_np = (rng.standard_normal(4099) * 4).astype(dtype)
    g = rng.standard_normal(4099).astype(dtype)
    x = gradfit.tensor(x_np, requires_grad=True)
    gradfit.nn.functional.softplus(x, beta=2.0, threshold=5.0).backward(gradfit.tensor(g))
    want = torch.ops.aten.softplus_backward(torch.tensor(g), torch.tensor(x_np), 2.0, 5.0)
    np.testing.assert_array_max_ulp(unwrap(x.grad), want.numpy(), maxulp=2)
    assert np.mean(unwrap(x.grad) == want.numpy()) >= share


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "fn",
    [
        lambda m, x: x.var(0),
        lambda m, x: x.std(1, keepdim=True),
        lambda m, x: x.std(),
        lambda m, x: x.var(1, unbiased=False),
        lambda m, x: m.nn.functional.mse_loss(x, x.detach().flip(0)),
        lambda m, x: m.nn.functional.binary_cross_entropy(
            x, (x.detach().flip(0) > 0.5).to(x.dtype)
        ),
        lambda m, x: m.nn.functional.binary_cross_entropy(
            x, x.detach().flip(1), weight=x.detach().flip(0), reduction="sum"
        ),
    ],
    ids=["var0", "std1_keepdim", "std_all", "var_biased", "mse_mean", "bce_mean", "bce_w_sum"],
)
def test_reduction_and_loss_gradients_round_as_pytorch(fn, dtype, request):
    # var_backward: (2 / dof) * g * (x - x.mean()) with PyTorch's own mean; mse_backward:
    # (2 / N * (x - y)) * g; binary_cross_entropy_backward: g (x - y) / max(...), then / N
    torch = _torch()
    rng = np.random.default_rng(5)
    x = (rng.random((64, 33)) * 0.9 + 0.05).astype(dtype)
    outs = []
    for m in (torch, gradfit):
        t = m.tensor(x, requires_grad=True)
        y = fn(m, t)
        g = np.asarray(np.random.default_rng(6).standard_normal(tuple(y.shape))).astype(dtype)
        y.backward(m.tensor(g))
        outs.append((y.detach().numpy(), np.asarray(t.grad.numpy())))
    (want_y, want), (got_y, got) = outs
    if "mse" not in request.node.name:  # (mse's value sums in another order)
        assert np.array_equal(got_y, want_y)
    assert np.array_equal(got, want)


def test_hypot_backward_rounds_as_pytorch_formula():
    # derivatives.yaml: grad * self / result (float32, where the values agree bit for bit)
    torch = _torch()
    rng = np.random.default_rng(7)
    x, y = (rng.random((2, 2053)) + 0.05).astype("float32")
    g = rng.standard_normal(2053).astype("float32")
    got, out = _grads(gradfit, lambda t: t.hypot(gradfit.tensor(y)), x, g)
    want, want_out = _grads(torch, lambda t: t.hypot(torch.tensor(y)), x, g)
    assert np.array_equal(out.detach().numpy(), want_out.detach().numpy())
    assert np.array_equal(got, want)
