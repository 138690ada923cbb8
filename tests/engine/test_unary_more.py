"""The unary math of ops-unary against PyTorch where the op registry does not reach:
values at domain edges (+-0, +-1, +-inf, NaN, poles), integer and bool inputs, the
forward-only predicates, nan_to_num's arguments and gradient, and the in-place forms."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

import gradfit

FLOAT_OPS = (
    "tan sinh cosh asin acos atan asinh acosh atanh arcsin arccos arctan arcsinh arccosh "
    "arctanh log2 log10 exp2 erf erfc erfinv lgamma digamma logit sinc deg2rad rad2deg "
    "nan_to_num"
).split()
PREDICATES = ("signbit", "isposinf", "isneginf")

EDGES = np.array(
    [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0, -2.5, 1.5, 1e-30, 30.0, -30.0, 100.0, -100.0]
    + [np.inf, -np.inf, np.nan, 1e38, -1e38]
)


def _same_dtype(ours, ref):
    assert ours.dtype == np.dtype(str(ref.dtype).replace("torch.", "")), (ours.dtype, ref.dtype)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", FLOAT_OPS + list(PREDICATES))
def test_edge_values_match_torch(name, dtype):
    x = EDGES.astype(dtype)
    ours = getattr(gradfit, name)(gradfit.tensor(x))
    ref = getattr(torch, name)(torch.tensor(x))
    _same_dtype(ours, ref)
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=2e-6, atol=0, err_msg=name)
    method = getattr(gradfit.tensor(x), name)()
    np.testing.assert_array_equal(method.numpy(), ours.numpy())


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("values", [[0, 1, 2, -3], [True, False]])
@pytest.mark.parametrize("name", FLOAT_OPS + list(PREDICATES))
def test_integer_and_bool_inputs_match_torch(name, values):
    ours = getattr(gradfit, name)(gradfit.tensor(values))
    ref = getattr(torch, name)(torch.tensor(values))
    _same_dtype(ours, ref)
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=2e-6, err_msg=name)


@pytest.mark.parametrize("eps", [None, 0.0, 0.1, -1.0])
def test_logit_eps_values_and_gradient_match_torch(eps):
    x = np.array([-0.5, 0.0, 0.05, 0.3, 0.5, 0.95, 1.0, 1.2, np.nan])
    ours = gradfit.tensor(x, requires_grad=True)
    ref = torch.tensor(x, requires_grad=True)
    with np.errstate(all="ignore"):
        out = gradfit.logit(ours, eps=eps)
        out.sum().backward()
    out_ref = torch.logit(ref, eps=eps)
    out_ref.sum().backward()
    np.testing.assert_allclose(out.detach().numpy(), out_ref.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.grad.numpy(), ref.grad.numpy(), rtol=1e-12)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the weighted sum overflows float16
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize(
    "kwargs",
    [{}, {"nan": 1.5}, {"posinf": 7.0}, {"nan": -2.0, "posinf": 3.0, "neginf": -4.0}],
)
def test_nan_to_num_arguments_and_gradient_match_torch(kwargs, dtype):
    x = np.array([np.nan, np.inf, -np.inf, 1.25, -0.0]).astype(dtype)
    ours = gradfit.tensor(x, requires_grad=True)
    ref = torch.tensor(x, requires_grad=True)
    out = gradfit.nan_to_num(ours, **kwargs)
    out_ref = torch.nan_to_num(ref, **kwargs)
    _same_dtype(out, out_ref)
    np.testing.assert_array_equal(out.detach().numpy(), out_ref.detach().numpy())
    w = np.arange(1.0, 6.0).astype(dtype)
    (out * gradfit.tensor(w)).sum().backward()
    (out_ref * torch.tensor(w)).sum().backward()
    np.testing.assert_array_equal(ours.grad.numpy(), ref.grad.numpy())


def test_nan_to_num_of_integers_is_a_copy_like_torch():
    t = gradfit.tensor([1, -2, 3])
    out = gradfit.nan_to_num(t, nan=5.0)
    ref = torch.nan_to_num(torch.tensor([1, -2, 3]), nan=5.0)
    _same_dtype(out, ref)
    np.testing.assert_array_equal(out.numpy(), ref.numpy())
    out[0] = 9
    assert t[0].item() == 1


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("name", FLOAT_OPS)
def test_inplace_forms_match_torch_and_keep_the_graph(name):
    x = np.array([0.2, 0.7, -0.4, 1.6, np.inf])
    ours = gradfit.tensor(x, requires_grad=True)
    ref = torch.tensor(x, requires_grad=True)
    a = ours * 1.0
    assert getattr(a, name + "_")() is a
    with torch.no_grad():
        in_place = getattr(torch.tensor(x), name + "_")()
    np.testing.assert_allclose(a.detach().numpy(), in_place.numpy(), rtol=1e-12)
    # PyTorch has no derivative for some in-place forms (asinh_, ...): its out-of-place one
    b = getattr(torch, name)(ref * 1.0)
    w = np.array([1.0, -2.0, 0.5, 3.0, 0.0])
    (a * gradfit.tensor(w)).sum().backward()
    (b * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), ref.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("name", ["sinh", "erf", "logit", "deg2rad"])
def test_inplace_on_an_integer_tensor_fails_like_torch(name):
    with pytest.raises(RuntimeError, match="can't be cast"):
        getattr(torch.tensor([1, 2]), name + "_")()
    with pytest.raises(RuntimeError, match="can't be cast"):
        getattr(gradfit.tensor([1, 2]), name + "_")()


def test_nan_to_num_in_place_keeps_integers_like_torch():
    t, ref = gradfit.tensor([1, -2]), torch.tensor([1, -2])
    assert t.nan_to_num_() is t
    ref.nan_to_num_()
    _same_dtype(t, ref)
    np.testing.assert_array_equal(t.numpy(), ref.numpy())


def _backward_after_edit(lib, name, edit):
    x = lib.tensor([0.3, -0.2, 0.6], requires_grad=True)
    shift = {"acosh": 1.5, "arccosh": 1.5, "log2": 1.0, "log10": 1.0, "lgamma": 1.0}
    y = x * 1.0 + shift.get(name, 0.0)
    z = getattr(y, name)()
    (y if edit == "input" else z).mul_(1.0)
    try:
        (z * 1.0).sum().backward()
    except RuntimeError as e:
        assert re.search("modified by an in-?place operation", str(e)), str(e)
        return "raised"
    return "ok"


@pytest.mark.parametrize("edit", ["input", "output"])
@pytest.mark.parametrize("name", FLOAT_OPS)
def test_saved_tensors_are_version_checked_like_torch(name, edit):
    """An op refuses to differentiate when a tensor its backward reads (input or output,
    as PyTorch saves it) was edited in place after the forward pass."""
    ours = _backward_after_edit(gradfit, name, edit)
    assert ours == _backward_after_edit(torch, name, edit), (name, edit, ours)


@pytest.mark.parametrize("name", FLOAT_OPS)
def test_grad_fn_names_match_torch(name):
    v = [1.5] if name in ("acosh", "arccosh") else [0.3]
    ours = getattr(gradfit, name)(gradfit.tensor(v, requires_grad=True))
    ref = getattr(torch, name)(torch.tensor(v, requires_grad=True))
    assert ours.grad_fn.name() == ref.grad_fn.name()


@pytest.mark.parametrize(
    "name", ["exp", "log", "sqrt", "rsqrt", "log1p", "sin", "cos", "tanh", "sigmoid"]
)
@pytest.mark.parametrize("values", [[0, 1, 2, 7], [True, False]], ids=["int", "bool"])
def test_older_unary_ops_compute_integer_inputs_in_the_default_float(name, values):
    import torch

    got = getattr(gradfit.tensor(values), name)()
    want = getattr(torch.tensor(values), name)()
    assert str(got.dtype) == str(want.dtype).replace("torch.", "gradfit.")
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)
