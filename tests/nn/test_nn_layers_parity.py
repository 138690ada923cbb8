"""Every layer against PyTorch with copied weights: outputs, input and parameter gradients."""

import warnings

import numpy as np
import pytest
import torch
from nn_testing import (
    DTYPES,
    assert_close,
    check_fn,
    check_module,
    pair,
    torch_default_float32,  # noqa: F401 - autouse fixture
)

import gradfit
import gradfit.nn as nn
import gradfit.nn.functional as F

_TORCH_DTYPE = {np.float64: torch.float64, np.float32: torch.float32}


def _x(shape, dtype, seed=0, scale=1.5):
    return (np.random.default_rng(seed).normal(size=shape) * scale).astype(dtype)


def _both(gcls, tcls, dtype, *args, **kwargs):
    g = gcls(*args, **kwargs).to(dtype)
    t = tcls(*args, **kwargs).to(_TORCH_DTYPE[dtype])
    return g, t


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(4, 5), (2, 3, 5), (5,)])
def test_linear(shape, bias, dtype):
    g, t = _both(nn.Linear, torch.nn.Linear, dtype, 5, 3, bias=bias)
    check_module(g, t, [_x(shape, dtype)], dtype, what=f"Linear {shape} bias={bias}")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "name, args",
    [
        ("ReLU", ()),
        ("LeakyReLU", (0.2,)),
        ("Sigmoid", ()),
        ("Tanh", ()),
        ("GELU", ()),
        ("GELU", ("tanh",)),
        ("SiLU", ()),
        ("Softplus", ()),
        ("Softplus", (2.0, 1.5)),
        ("Softmax", (1,)),
        ("Softmax", (-1,)),
        ("LogSoftmax", (1,)),
        ("LogSoftmax", (0,)),
        ("Identity", ()),
        ("Flatten", ()),
        ("Flatten", (0, 1)),
    ],
)
def test_parameterless_layers(name, args, dtype):
    g, t = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    x = _x((3, 4, 2), dtype, seed=1, scale=2.0)
    check_module(g, t, [x], dtype, what=f"{name}{args}")
    assert repr(g) == repr(t)


def test_unflatten():
    g, t = nn.Unflatten(1, (2, 3)), torch.nn.Unflatten(1, (2, 3))
    check_module(g, t, [_x((4, 6), np.float64)], np.float64, what="Unflatten")
    assert repr(g) == repr(t)


@pytest.mark.parametrize("dtype", DTYPES)
def test_functional_activations(dtype):
    x = _x((5, 3), dtype, seed=2, scale=3.0)
    tf = torch.nn.functional
    for gfn, tfn in [
        (F.relu, tf.relu),
        (lambda a: F.leaky_relu(a, 0.1), lambda a: tf.leaky_relu(a, 0.1)),
        (F.sigmoid, tf.sigmoid),
        (F.tanh, tf.tanh),
        (F.gelu, tf.gelu),
        (lambda a: F.gelu(a, approximate="tanh"), lambda a: tf.gelu(a, approximate="tanh")),
        (F.silu, tf.silu),
        (
            lambda a: F.softplus(a, beta=0.5, threshold=1.0),
            lambda a: tf.softplus(a, beta=0.5, threshold=1.0),
        ),
        (F.logsigmoid, tf.logsigmoid),
        (lambda a: F.softmax(a, dim=0), lambda a: tf.softmax(a, dim=0)),
        (lambda a: F.log_softmax(a, dim=1), lambda a: tf.log_softmax(a, dim=1)),
    ]:
        check_fn(gfn, tfn, [x], dtype)


def test_softmax_implicit_dim_warns_and_matches_torch():
    x = _x((2, 3, 4), np.float64, seed=3)
    with pytest.warns(UserWarning, match="Implicit dimension"):
        g = F.softmax(gradfit.tensor(x))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = torch.nn.functional.softmax(torch.tensor(x))
    assert_close(g, t, np.float64, "implicit softmax dim (3-D -> 0)")


def test_gelu_rejects_unknown_approximation():
    with pytest.raises(ValueError, match="none or tanh"):
        nn.GELU("erf")


@pytest.mark.parametrize("dtype", DTYPES)
def test_functional_linear_and_layer_norm(dtype):
    x, w, b = _x((4, 5), dtype), _x((3, 5), dtype, 1), _x((3,), dtype, 2)
    check_fn(F.linear, torch.nn.functional.linear, [x, w, b], dtype, what="F.linear")
    x = _x((3, 2, 4), dtype, 3)
    gamma, beta = _x((2, 4), dtype, 4), _x((2, 4), dtype, 5)
    check_fn(
        lambda a, g, bb: F.layer_norm(a, (2, 4), g, bb, eps=1e-3),
        lambda a, g, bb: torch.nn.functional.layer_norm(a, (2, 4), g, bb, eps=1e-3),
        [x, gamma, beta],
        dtype,
        what="F.layer_norm",
    )


def test_linear_feature_mismatch_error():
    layer = nn.Linear(10, 3)
    # PyTorch's words: linear is a product with the transposed weight
    with pytest.raises(RuntimeError, match=r"shapes cannot be multiplied \(4x7 and 10x3\)"):
        layer(gradfit.zeros(4, 7))
    with pytest.raises(RuntimeError, match=r"shapes cannot be multiplied \(1x7 and 10x3\)"):
        F.linear(gradfit.zeros(7), layer.weight)
    with pytest.raises(RuntimeError, match="same dtype, but got Double and Float"):
        layer(gradfit.zeros(4, 10, dtype=gradfit.float64))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "kwargs, shape",
    [
        ({}, (5,)),
        ({"elementwise_affine": False}, (5,)),
        ({"bias": False}, (5,)),
        ({"eps": 1e-2}, (3, 5)),
    ],
)
def test_layer_norm(kwargs, shape, dtype):
    g, t = _both(nn.LayerNorm, torch.nn.LayerNorm, dtype, shape, **kwargs)
    # Random affine parameters, so weight and bias gradients are exercised non-trivially.
    with torch.no_grad():
        for p in t.parameters():
            p.copy_(torch.tensor(_x(tuple(p.shape), dtype, seed=9)))
    x = _x((4,) + ((3, 5) if len(shape) == 2 else (2, 5)), dtype, seed=6, scale=3.0) + 1.0
    check_module(g, t, [x], dtype, what=f"LayerNorm {shape} {kwargs}")
    assert repr(g) == repr(t)


def test_layer_norm_shape_error():
    with pytest.raises(RuntimeError, match=r"normalized_shape=\[4\].*\[3, 5\]"):
        nn.LayerNorm(4)(gradfit.zeros(3, 5))


@pytest.mark.parametrize("dtype", DTYPES)
def test_dropout_eval_is_identity_and_train_matches_torch_stream(dtype):
    x = _x((6, 7), dtype, seed=7)
    g, t = nn.Dropout(0.3), torch.nn.Dropout(0.3)
    g.eval()
    t.eval()
    check_module(g, t, [x], dtype, what="Dropout eval")
    g.train()
    t.train()
    gradfit.manual_seed(11)
    torch.manual_seed(11)
    check_module(g, t, [x], dtype, what="Dropout train, same seed")
    # Dropped entries are zero, kept ones scaled by 1 / (1 - p).
    gradfit.manual_seed(12)
    out = g(gradfit.tensor(x)).numpy()
    kept = out != 0
    np.testing.assert_allclose(out[kept], x[kept] / np.asarray(0.7, dtype), rtol=1e-6)
    assert 0 < kept.mean() < 1


@pytest.mark.parametrize("p", [0.0, 1.0])
def test_dropout_edge_probabilities(p):
    x = _x((4, 3), np.float64, seed=8)
    g, t = nn.Dropout(p), torch.nn.Dropout(p)
    state = gradfit.get_rng_state().numpy().copy()
    check_module(g, t, [x], np.float64, what=f"Dropout p={p}")
    # p = 0 and p = 1 draw nothing from the generator (as PyTorch).
    np.testing.assert_array_equal(gradfit.get_rng_state().numpy(), state)


def test_dropout_statistics():
    gradfit.manual_seed(0)
    out = F.dropout(gradfit.ones(200, 200), p=0.25).numpy()
    assert abs((out == 0).mean() - 0.25) < 0.01
    assert abs(out.mean() - 1.0) < 0.02
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)


@pytest.mark.parametrize("dtype", DTYPES)
def test_lecture_network(dtype):
    """The lecture's model: Linear(10,40)-ReLU-Linear(40,40)-ReLU-Linear(40,5) with MSE."""
    layers = lambda lib: lib.nn.Sequential(  # noqa: E731
        lib.nn.Linear(10, 40),
        lib.nn.ReLU(),
        lib.nn.Linear(40, 40),
        lib.nn.ReLU(),
        lib.nn.Linear(40, 5),
    )
    g, t = layers(gradfit).to(dtype), layers(torch).to(_TORCH_DTYPE[dtype])
    check_module(g, t, [_x((10, 10), dtype, 1)], dtype, what="lecture network")
    gx, tx = pair(_x((8, 10), dtype, 2))
    gy, ty = pair(_x((8, 5), dtype, 3), requires_grad=False)
    g.zero_grad()
    t.zero_grad()
    gl, tl = nn.MSELoss()(g(gx), gy), torch.nn.MSELoss()(t(tx), ty)
    assert_close(gl, tl, dtype, "lecture loss")
    gl.backward()
    tl.backward()
    for (name, gp), tp in zip(g.named_parameters(), t.parameters()):
        assert_close(gp.grad, tp.grad, dtype, f"lecture grad {name}")


@pytest.mark.parametrize("dtype", DTYPES)
def test_linear_init_matches_torch_with_same_seed(dtype):
    for seed in (0, 1234):
        gradfit.manual_seed(seed)
        torch.manual_seed(seed)
        g = nn.Linear(7, 3, dtype=dtype)
        t = torch.nn.Linear(7, 3, dtype=_TORCH_DTYPE[dtype])
        # kaiming_uniform_(a=sqrt(5)) reproduces the bound to 1 ulp; allow 2 ulp.
        for gp, tp in zip(g.parameters(), t.parameters()):
            np.testing.assert_allclose(
                gp.detach().numpy(), tp.detach().numpy(), rtol=4 * np.finfo(dtype).eps, atol=0
            )
        # The same stream continues: the next layers agree too.
        g2 = nn.Sequential(nn.Linear(4, 6), nn.Linear(6, 2))
        t2 = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.Linear(6, 2))
        for gp, tp in zip(g2.parameters(), t2.parameters()):
            np.testing.assert_allclose(gp.detach().numpy(), tp.detach().numpy(), rtol=1e-6)


def test_gru_init_matches_torch_with_same_seed():
    gradfit.manual_seed(5)
    torch.manual_seed(5)
    g, t = nn.GRU(3, 4, num_layers=2), torch.nn.GRU(3, 4, num_layers=2)
    for (name, gp), tp in zip(g.named_parameters(), t.parameters()):
        np.testing.assert_allclose(
            gp.detach().numpy(), tp.detach().numpy(), rtol=1e-6, err_msg=name
        )
