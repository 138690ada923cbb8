"""The activations of issue 12 section 8 beyond the registry's value/gradient parity:
module reprs, PReLU's parameter, the in-place forms and their errors, against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gradfit
import gradfit.nn.functional as F

MODULES = [
    ("ELU", ()),
    ("ELU", (0.5, True)),
    ("SELU", (True,)),
    ("CELU", (2.0,)),
    ("GELU", ("tanh",)),
    ("SiLU", (True,)),
    ("Mish", ()),
    ("Softplus", (2.0, 10.0)),
    ("LeakyReLU", (0.2, True)),
    ("PReLU", (3,)),
    ("Hardtanh", (-2.0, 2.0)),
    ("ReLU6", (True,)),
    ("ReLU6", ()),
    ("Hardswish", ()),
    ("Hardsigmoid", ()),
    ("Softsign", ()),
    ("Tanhshrink", ()),
    ("LogSigmoid", ()),
    ("Softmin", (1,)),
    ("Threshold", (0.1, 20.0)),
    ("Hardshrink", ()),
    ("Softshrink", (0.3,)),
    ("GLU", ()),
]


@pytest.mark.parametrize(("name", "args"), MODULES, ids=[f"{n}{a}" for n, a in MODULES])
def test_module_repr_and_output_match_torch(name, args):
    ours, ref = getattr(gradfit.nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(ours) == repr(ref)
    x = (np.random.default_rng(0).standard_normal((2, 3, 4)) * 3).astype(np.float32)
    shape = (2, 3, 4)
    if name == "GLU":
        x = x[..., :4]
    a, b = gradfit.tensor(x), torch.tensor(x)
    got, want = ours(a).detach().numpy(), ref(b).detach().numpy()
    assert got.dtype == want.dtype
    # atol: the tanh-GELU cancels in its far negative tail, where float32 tanh rounding
    # differs between libraries in the last bits of a ~1e-4 result
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    assert a.shape == shape


def test_prelu_parameter_init_and_state_dict():
    m, t = gradfit.nn.PReLU(4, init=0.1), torch.nn.PReLU(4, init=0.1)
    assert list(m.state_dict()) == list(t.state_dict()) == ["weight"]
    assert m.weight.shape == (4,) and m.weight.dtype == np.float32
    np.testing.assert_array_equal(m.weight.detach().numpy(), t.weight.detach().numpy())
    x = np.random.default_rng(1).standard_normal((5, 4, 3)).astype(np.float32)
    m(gradfit.tensor(x)).sum().backward()
    t(torch.tensor(x)).sum().backward()
    np.testing.assert_allclose(m.weight.grad.numpy(), t.weight.grad.numpy(), rtol=1e-6)
    with pytest.raises(RuntimeError, match="Got Double and Float"):
        m(gradfit.ones(2, 4, dtype=gradfit.float64))
    with pytest.raises(RuntimeError, match="channel size = 3"):
        F.prelu(gradfit.ones(2, 3), gradfit.ones(4))


@pytest.mark.parametrize(
    ("name", "kw"),
    [
        ("relu", {}),
        ("elu", {"alpha": 0.5}),
        ("selu", {}),
        ("celu", {"alpha": 2.0}),
        ("leaky_relu", {"negative_slope": 0.2}),
        ("hardtanh", {}),
        ("relu6", {}),
        ("hardswish", {}),
        ("hardsigmoid", {}),
        ("silu", {}),
        ("mish", {}),
        ("threshold", {"threshold": 0.5, "value": -2.0}),
    ],
)
def test_inplace_forms_overwrite_and_return_input(name, kw):
    x = np.linspace(-4, 4, 9)
    ours, ref = gradfit.tensor(x), torch.tensor(x)
    out_o = getattr(F, name)(ours, inplace=True, **kw)
    out_r = getattr(torch.nn.functional, name)(ref, inplace=True, **kw)
    assert out_o is ours
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-12)
    # inside a graph: the gradient flows through the overwritten tensor, as PyTorch's
    a, b = gradfit.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ya, yb = a * 2.0, b * 2.0
    getattr(F, name)(ya, inplace=True, **kw)
    getattr(torch.nn.functional, name)(yb, inplace=True, **kw)
    (ya * ya).sum().backward()
    (yb * yb).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-10)
    assert out_r is ref


def test_inplace_on_a_leaf_that_requires_grad_is_refused():
    x = gradfit.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        F.elu(x, inplace=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        gradfit.nn.ReLU(inplace=True)(x)


def test_activation_argument_errors():
    with pytest.raises(ValueError, match="min_val cannot be greater than max_val"):
        gradfit.nn.Hardtanh(1.0, -1.0)
    with pytest.raises(RuntimeError, match="Halving dimension must be even"):
        F.glu(gradfit.ones(3))
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmin"):
        F.softmin(gradfit.ones(2, 3))
