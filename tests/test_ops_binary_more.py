"""Parity with PyTorch for the ops-binary additions beyond the op registry: prod's
gradient with zeros (first and second order), the non-differentiable logical/bitwise
ops and isclose on edge values, integer remainder/floor_divide, dtypes and in-place forms."""

from __future__ import annotations

import numpy as np
import pytest

import gradfit


def _torch():
    import torch  # parity tests fail, not skip, without torch

    return torch


PROD_CASES = [
    np.array([2.0, 0.0, 3.0, -4.0]),  # one zero
    np.array([0.0, 3.0, 0.0, 2.0]),  # two zeros
    np.array([[1.5, 0.0, -2.0], [0.0, 0.0, 3.0], [0.5, 2.0, 4.0]]),  # rows with 0, 1, 2 zeros
]


@pytest.mark.parametrize("case", range(len(PROD_CASES)))
@pytest.mark.parametrize("dim", [None, 0, -1])
def test_prod_gradient_with_zeros_matches_torch(case, dim):
    torch = _torch()
    a = PROD_CASES[case]
    x = gradfit.tensor(a, requires_grad=True)
    tx = torch.tensor(a, requires_grad=True)
    out = x.prod() if dim is None else gradfit.prod(x, dim)
    tout = tx.prod() if dim is None else torch.prod(tx, dim)
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-12)
    w = np.arange(1.0, out.numel() + 1).reshape(tuple(out.shape))
    (g,) = gradfit.autograd.grad((out * gradfit.tensor(w)).sum(), [x], create_graph=True)
    (tg,) = torch.autograd.grad((tout * torch.tensor(w)).sum(), [tx], create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), tg.detach().numpy(), rtol=1e-12)
    # second order through the zero-safe gradient
    (gg,) = gradfit.autograd.grad((g * g).sum(), [x])
    (tgg,) = torch.autograd.grad((tg * tg).sum(), [tx])
    np.testing.assert_allclose(gg.numpy(), tgg.numpy(), rtol=1e-12, atol=1e-12)


def test_prod_dtypes_match_torch():
    torch = _torch()
    a = np.array([[1, -2, 3], [4, 5, 0]], dtype=np.int32)
    for kw in ({}, {"dtype": gradfit.float64}):
        tkw = {"dtype": torch.float64} if kw else {}
        ours, ref = gradfit.tensor(a).prod(1, **kw), torch.tensor(a).prod(1, **tkw)
        assert str(ours.dtype).split(".")[-1] == str(ref.dtype).split(".")[-1]
        np.testing.assert_array_equal(ours.numpy(), ref.numpy())


EDGE = np.array([0.0, -0.0, 1.0, -2.5, np.inf, -np.inf, np.nan, 3.0])
EDGE2 = np.array([0.0, 1.0, 1.0 + 1e-9, 2.5, np.inf, 1.0, np.nan, -3.0])
INTS = np.array([0, 1, -1, 7, -8, 12, 255, -256], dtype=np.int64)
INTS2 = np.array([3, -2, 5, 3, 3, -5, 16, 7], dtype=np.int64)

NON_DIFF = {
    "logical_and": lambda lib, a, b: lib.logical_and(a, b),
    "logical_or": lambda lib, a, b: a.logical_or(b),
    "logical_xor": lambda lib, a, b: lib.logical_xor(a, b),
    "logical_not": lambda lib, a, b: lib.logical_not(a),
    "isclose": lambda lib, a, b: lib.isclose(a, b),
    "isclose_nan": lambda lib, a, b: lib.isclose(a, b, rtol=1e-3, atol=0.5, equal_nan=True),
    "count_nonzero": lambda lib, a, b: lib.count_nonzero(a.reshape(2, 4), dim=1),
    "count_nonzero_all": lambda lib, a, b: a.count_nonzero(),
    "nansum": lambda lib, a, b: lib.nansum(lib.where(lib.isinf(a), 0.0, a)),
    "fmax": lambda lib, a, b: lib.fmax(a, b),
    "fmin": lambda lib, a, b: lib.fmin(a, b),
    "copysign": lambda lib, a, b: lib.copysign(a, b),
    "logaddexp": lambda lib, a, b: lib.logaddexp(a, b),
}

INT_OPS = {
    "bitwise_and": lambda lib, a, b: lib.bitwise_and(a, b),
    "bitwise_or": lambda lib, a, b: a.bitwise_or(b),
    "bitwise_xor": lambda lib, a, b: lib.bitwise_xor(a, b),
    "bitwise_not": lambda lib, a, b: lib.bitwise_not(a),
    "and_op": lambda lib, a, b: a & b,
    "or_op": lambda lib, a, b: a | b,
    "xor_op": lambda lib, a, b: a ^ b,
    "invert_op": lambda lib, a, b: ~a,
    "remainder": lambda lib, a, b: lib.remainder(a, b),
    "mod_op": lambda lib, a, b: a % b,
    "rmod_op": lambda lib, a, b: 17 % b,
    "fmod": lambda lib, a, b: lib.fmod(a, b),
    "floor_divide": lambda lib, a, b: lib.floor_divide(a, b),
    "floordiv_op": lambda lib, a, b: a // b,
    "rfloordiv_op": lambda lib, a, b: 17 // b,
    "bool_xor": lambda lib, a, b: (a > 0) ^ (b > 0),
    "bool_invert": lambda lib, a, b: ~(a > 0),
}


def _check(fn, a, b):
    torch = _torch()
    ours = fn(gradfit, gradfit.tensor(a), gradfit.tensor(b))
    ref = fn(torch, torch.tensor(a), torch.tensor(b))
    assert not ours.requires_grad
    assert str(ours.dtype).split(".")[-1] == str(ref.dtype).split(".")[-1]
    np.testing.assert_array_equal(ours.numpy(), ref.numpy())


@pytest.mark.parametrize("name", sorted(NON_DIFF))
def test_float_edge_values_match_torch(name):
    _check(NON_DIFF[name], EDGE, EDGE2)


@pytest.mark.parametrize("name", sorted(INT_OPS))
def test_integer_ops_match_torch(name):
    _check(INT_OPS[name], INTS, INTS2)


def test_float_remainder_fmod_floor_divide_signs_match_torch():
    torch = _torch()
    a = np.array([5.5, -5.5, 5.5, -5.5, 0.0, 7.0])
    b = np.array([2.0, 2.0, -2.0, -2.0, 3.0, 0.5])
    for fn in ("remainder", "fmod", "floor_divide"):
        ours = getattr(gradfit, fn)(gradfit.tensor(a), gradfit.tensor(b))
        ref = getattr(torch, fn)(torch.tensor(a), torch.tensor(b))
        np.testing.assert_array_equal(ours.numpy(), ref.numpy())


def test_bitwise_on_float_raises():
    with pytest.raises(RuntimeError, match="bitwise_and"):
        gradfit.bitwise_and(gradfit.tensor([1.0]), gradfit.tensor([2.0]))


def test_float_power_is_float64_and_int_promotion():
    torch = _torch()
    a = np.array([1.5, 2.0, 3.0], dtype=np.float32)
    out = gradfit.float_power(gradfit.tensor(a), 2.5)
    ref = torch.float_power(torch.tensor(a), 2.5)
    assert out.dtype == gradfit.float64
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-14)
    i, j = np.array([1, 2, 3]), np.array([3, 1, 2])
    for fn in ("hypot", "logaddexp", "logaddexp2"):  # as PyTorch: no integer kernel
        with pytest.raises(NotImplementedError, match=fn):
            getattr(gradfit, fn)(gradfit.tensor(i), gradfit.tensor(j))
    for fn in ("atan2", "xlogy", "copysign"):
        ours = getattr(gradfit, fn)(gradfit.tensor(i), gradfit.tensor(j))
        ref = getattr(torch, fn)(torch.tensor(i), torch.tensor(j))
        assert str(ours.dtype).split(".")[-1] == str(ref.dtype).split(".")[-1]
        np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-6)


def test_xlogy_zero_x():
    torch = _torch()
    a, b = np.array([0.0, 0.0, 0.0, 2.0]), np.array([0.0, -1.0, np.nan, 3.0])
    x, tx = gradfit.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    out, ref = gradfit.xlogy(x, gradfit.tensor(b)), torch.xlogy(tx, torch.tensor(b))
    np.testing.assert_array_equal(out.detach().numpy(), ref.detach().numpy())
    out.sum().backward()
    ref.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())


@pytest.mark.parametrize("name", ["remainder", "fmod", "atan2", "hypot", "xlogy", "copysign"])
def test_inplace_forms_match_torch(name):
    torch = _torch()
    a, b = np.array([1.5, -2.5, 3.25]), np.array([0.75, 1.5, -2.0])
    x, tx = gradfit.tensor(a), torch.tensor(a)
    r = getattr(x, name + "_")(gradfit.tensor(b))
    getattr(tx, name + "_")(torch.tensor(b))
    assert r is x
    np.testing.assert_array_equal(x.numpy(), tx.numpy())


@pytest.mark.parametrize("name", ["bitwise_and", "bitwise_or", "bitwise_xor", "floor_divide"])
def test_integer_inplace_forms_match_torch(name):
    torch = _torch()
    x, tx = gradfit.tensor(INTS), torch.tensor(INTS)
    assert getattr(x, name + "_")(gradfit.tensor(INTS2)) is x
    getattr(tx, name + "_")(torch.tensor(INTS2))
    np.testing.assert_array_equal(x.numpy(), tx.numpy())


@pytest.mark.parametrize("name", ["logical_and", "logical_or", "logical_xor"])
def test_logical_inplace_forms_keep_dtype_as_torch(name):
    torch = _torch()
    y, ty = gradfit.tensor(EDGE), torch.tensor(EDGE)
    getattr(y, name + "_")(gradfit.tensor(EDGE2))
    getattr(ty, name + "_")(torch.tensor(EDGE2))
    assert y.dtype == gradfit.float64
    np.testing.assert_array_equal(y.numpy(), ty.numpy())


def test_unary_inplace_logical_and_bitwise_not():
    torch = _torch()
    y, ty = gradfit.tensor(EDGE), torch.tensor(EDGE)
    y.logical_not_()
    ty.logical_not_()
    np.testing.assert_array_equal(y.numpy(), ty.numpy())
    x, tx = gradfit.tensor(INTS), torch.tensor(INTS)
    x.bitwise_not_()
    tx.bitwise_not_()
    np.testing.assert_array_equal(x.numpy(), tx.numpy())


def test_cummax_cummin_ties_and_gradient_match_torch():
    torch = _torch()
    a = np.array([[1.0, 3.0, 3.0, 2.0, 3.0], [0.0, 0.0, -1.0, -1.0, 4.0]])
    for fn in ("cummax", "cummin"):
        for dim in (0, 1):
            x, tx = gradfit.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
            r, tr = getattr(gradfit, fn)(x, dim), getattr(torch, fn)(tx, dim)
            np.testing.assert_array_equal(r.indices.numpy(), tr.indices.numpy())
            np.testing.assert_array_equal(r.values.detach().numpy(), tr.values.detach().numpy())
            w = np.arange(10.0).reshape(2, 5)
            (r.values * gradfit.tensor(w)).sum().backward()
            (tr.values * torch.tensor(w)).sum().backward()
            np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())


def test_logcumsumexp_wide_range_matches_torch():
    torch = _torch()
    a = np.array([-1000.0, 0.0, 800.0, -5.0, 800.0])
    x, tx = gradfit.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    out, ref = gradfit.logcumsumexp(x, 0), torch.logcumsumexp(tx, 0)
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-14)
    w = np.array([1.0, -2.0, 0.5, 3.0, 1.0])
    (out * gradfit.tensor(w)).sum().backward()
    (ref * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-300)


def test_var_mean_std_mean_match_torch():
    torch = _torch()
    a = np.random.default_rng(0).standard_normal((3, 4))
    for fn in ("var_mean", "std_mean"):
        for kw in ({}, {"dim": 1}, {"dim": 0, "correction": 0, "keepdim": True}):
            ours = getattr(gradfit, fn)(gradfit.tensor(a), **kw)
            ref = getattr(torch, fn)(torch.tensor(a), **kw)
            assert isinstance(ours, tuple) and len(ours) == 2
            for o, r in zip(ours, ref):
                np.testing.assert_allclose(o.numpy(), r.numpy(), rtol=1e-12)


@pytest.mark.parametrize("call", ["prod(5)", "cummax(2)", "cummin(-3)", "logcumsumexp(-3)"])
def test_dim_out_of_range_raises_as_torch(call):
    torch = _torch()
    with pytest.raises(IndexError) as ref:
        eval(f"x.{call}", {"x": torch.ones(2, 3)})
    with pytest.raises(IndexError) as ours:
        eval(f"x.{call}", {"x": gradfit.ones(2, 3)})
    assert str(ours.value) == str(ref.value)


@pytest.mark.parametrize("fn", ["prod", "cummax", "cummin", "logcumsumexp", "nansum"])
def test_zero_dim_input_matches_torch(fn):
    torch = _torch()
    args = () if fn in ("prod", "nansum") else (0,)
    x, tx = gradfit.tensor(1.75, requires_grad=True), torch.tensor(1.75, requires_grad=True)
    out, ref = getattr(x, fn)(*args), getattr(tx, fn)(*args)
    out, ref = (out[0], ref[0]) if fn.startswith("cum") else (out, ref)
    assert tuple(out.shape) == tuple(ref.shape)
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-6)
    out.backward()
    ref.backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-6)


STEP_CALLS = [
    lambda t, x: x.floor(),
    lambda t, x: x.ceil(),
    lambda t, x: x.round(),
    lambda t, x: x.round(decimals=1),
    lambda t, x: t.round(x, decimals=2),
    lambda t, x: x.sign(),
    lambda t, x: x.sgn(),
    lambda t, x: x.trunc(),
    lambda t, x: x.div(2, rounding_mode="floor"),
    lambda t, x: x.div(t.tensor(2.0), rounding_mode="trunc"),
    lambda t, x: x // 2,
    lambda t, x: 2 // x,
]


@pytest.mark.parametrize("call", range(len(STEP_CALLS)))
def test_step_functions_stay_in_the_graph_printed_as_torch(call):
    torch = _torch()
    texts = []
    for t in (gradfit, torch):
        x = t.tensor([1.25, 2.5, -0.55, 3.0], requires_grad=True)
        texts.append(repr(STEP_CALLS[call](t, x)))
    assert texts[0] == texts[1]


def test_step_gradients_are_zero_and_floor_divide_has_none():
    torch = _torch()
    for t in (gradfit, torch):
        x = t.tensor([1.5, -2.5], requires_grad=True)
        sum(STEP_CALLS[i](t, x).sum() for i in range(10)).backward()
        np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])
        with pytest.raises(RuntimeError, match="derivative for aten::floor_divide"):
            (x // 2).sum().backward()


@pytest.mark.parametrize(
    "call",
    [
        lambda t, i: i // t.tensor([1, 0, 1]),
        lambda t, i: i % 0,
        lambda t, i: i.fmod(t.tensor([0, 1, 1])),
        lambda t, i: i.div(0, rounding_mode="trunc"),
        lambda t, i: i.remainder(t.tensor([1, 1, 0])),
    ],
)
def test_integer_division_by_zero_raises_as_torch(call):
    torch = _torch()
    for t in (gradfit, torch):
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            call(t, t.tensor([5, -7, 3]))


def test_rounding_an_integer_tensor_keeps_it():
    torch = _torch()
    for name in ("floor", "ceil", "round", "trunc", "sign"):
        ours = getattr(gradfit.tensor([5, -7, 3]), name)()
        ref = getattr(torch.tensor([5, -7, 3]), name)()
        assert repr(ours) == repr(ref), name


def test_sign_of_nan_is_zero_and_of_a_bool_is_itself():
    torch = _torch()
    for name in ("sign", "sgn"):
        for t in ([float("nan"), -0.0, 2.0, -float("inf")], [True, False]):
            ours, ref = getattr(gradfit.tensor(t), name)(), getattr(torch.tensor(t), name)()
            assert repr(ours) == repr(ref), name
