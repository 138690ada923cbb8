"""gradfit.nn.init: PyTorch's gain table and draws, the variance formulas, and the lecture's
He initialisation (forward 2/D_h, backward 2/D_h', compromise 4/(D_h + D_h'))."""

import math

import numpy as np
import pytest
import torch
from nn_testing import torch_default_float32  # noqa: F401 - autouse fixture

import gradfit
import gradfit.nn as nn
from gradfit.nn import init

NONLINEARITIES = [
    "linear",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "sigmoid",
    "tanh",
    "relu",
    "leaky_relu",
    "selu",
]


@pytest.mark.parametrize("name", NONLINEARITIES)
def test_calculate_gain_matches_torch(name):
    assert init.calculate_gain(name) == torch.nn.init.calculate_gain(name)


@pytest.mark.parametrize("param", [None, 0.2, 0, 1, math.sqrt(5), 3])
def test_calculate_gain_leaky_relu_param(param):
    got = init.calculate_gain("leaky_relu", param)
    assert got == torch.nn.init.calculate_gain("leaky_relu", param)
    s = 0.01 if param is None else param
    assert got == pytest.approx(math.sqrt(2 / (1 + s * s)))


def test_calculate_gain_table_values():
    assert init.calculate_gain("tanh") == 5.0 / 3
    assert init.calculate_gain("relu") == math.sqrt(2.0)
    assert init.calculate_gain("selu") == 0.75
    assert init.calculate_gain("sigmoid") == 1


def test_calculate_gain_errors():
    with pytest.raises(ValueError, match="Unsupported nonlinearity gelu"):
        init.calculate_gain("gelu")
    with pytest.raises(ValueError):
        torch.nn.init.calculate_gain("gelu")
    with pytest.raises(ValueError, match="not a valid number"):
        init.calculate_gain("leaky_relu", True)
    with pytest.raises(ValueError, match="not a valid number"):
        init.calculate_gain("leaky_relu", "0.1")


def _var(t):
    return float(np.var(t.numpy(), dtype=np.float64))


def _trunc_normal_var(mean, std, a, b):
    al, be = (a - mean) / std, (b - mean) / std
    phi = lambda x: math.exp(-x * x / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    cdf = lambda x: 0.5 * (1 + math.erf(x / math.sqrt(2)))  # noqa: E731
    z = cdf(be) - cdf(al)
    return std**2 * (1 + (al * phi(al) - be * phi(be)) / z - ((phi(al) - phi(be)) / z) ** 2)


FAN_IN, FAN_OUT = 1000, 1000
VARIANCE_CASES = [
    ("uniform_", {"a": -0.5, "b": 1.5}, (2.0**2) / 12),
    ("normal_", {"mean": 1.0, "std": 0.3}, 0.09),
    ("trunc_normal_", {"std": 1.0}, _trunc_normal_var(0, 1, -2, 2)),
    (
        "trunc_normal_",
        {"mean": 0.5, "std": 2.0, "a": -1.0, "b": 3.0},
        _trunc_normal_var(0.5, 2, -1, 3),
    ),
    ("trunc_normal_", {"a": 1.0, "b": 3.0}, _trunc_normal_var(0, 1, 1, 3)),
    ("xavier_uniform_", {}, 2 / (FAN_IN + FAN_OUT)),
    ("xavier_uniform_", {"gain": 2.0}, 4 * 2 / (FAN_IN + FAN_OUT)),
    ("xavier_normal_", {}, 2 / (FAN_IN + FAN_OUT)),
    ("xavier_normal_", {"gain": 0.5}, 0.25 * 2 / (FAN_IN + FAN_OUT)),
    ("kaiming_uniform_", {}, 2 / FAN_IN),
    ("kaiming_uniform_", {"a": math.sqrt(5)}, (2 / 6) / FAN_IN),
    ("kaiming_uniform_", {"mode": "fan_out", "nonlinearity": "relu"}, 2 / FAN_OUT),
    ("kaiming_uniform_", {"nonlinearity": "tanh"}, (5 / 3) ** 2 / FAN_IN),
    ("kaiming_normal_", {}, 2 / FAN_IN),
    ("kaiming_normal_", {"a": 0.2, "mode": "fan_out"}, (2 / 1.04) / FAN_OUT),
    ("kaiming_normal_", {"nonlinearity": "linear"}, 1 / FAN_IN),
    ("he_normal_", {}, 2 / FAN_IN),
]


@pytest.mark.parametrize("name, kwargs, variance", VARIANCE_CASES)
def test_sample_variance_within_3_percent(name, kwargs, variance):
    gradfit.manual_seed(0)
    t = gradfit.empty(FAN_OUT, FAN_IN)
    out = getattr(init, name)(t, **kwargs)
    assert out is t
    assert _var(t) == pytest.approx(variance, rel=0.03)


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("uniform_", {"a": -2.0, "b": 3.0}),
        ("normal_", {"mean": 0.5, "std": 2.0}),
        ("xavier_uniform_", {"gain": 1.5}),
        ("xavier_normal_", {}),
        ("kaiming_uniform_", {"a": 0.1, "mode": "fan_out"}),
        ("kaiming_normal_", {"nonlinearity": "relu"}),
        ("trunc_normal_", {"std": 0.02}),
        ("trunc_normal_", {"a": 1.0, "b": 3.0}),  # little mass: uniform rejection branch
    ],
)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_same_numbers_as_torch_with_same_seed(name, kwargs, dtype):
    gradfit.manual_seed(7)
    torch.manual_seed(7)
    g = getattr(init, name)(gradfit.empty(30, 20, dtype=dtype), **kwargs)
    t = getattr(torch.nn.init, name)(
        torch.empty(30, 20, dtype=torch.float64 if dtype == np.float64 else torch.float32),
        **kwargs,
    )
    np.testing.assert_allclose(
        g.numpy(),
        t.numpy(),
        rtol=1e-5 if dtype == np.float32 else 1e-12,
        atol=1e-7 if dtype == np.float32 else 1e-14,
    )


def test_generator_argument():
    g1, g2 = gradfit.Generator().manual_seed(3), gradfit.Generator().manual_seed(3)
    a = init.kaiming_normal_(gradfit.empty(5, 4), generator=g1)
    b = init.kaiming_normal_(gradfit.empty(5, 4), generator=g2)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    tg = torch.Generator().manual_seed(3)
    c = torch.nn.init.kaiming_normal_(torch.empty(5, 4), generator=tg)
    np.testing.assert_allclose(a.numpy(), c.numpy(), rtol=1e-5)


@pytest.mark.parametrize("shape", [(300, 700), (700, 300)])
def test_he_normal_modes_follow_the_slides(shape):
    """Omega is D_h' x D_h: forward 2/D_h, backward 2/D_h', compromise 4/(D_h + D_h')."""
    d_out, d_in = shape  # D_h' = fan_out = shape[0], D_h = fan_in = shape[1]
    expected = {
        "fan_in": 2 / d_in,
        "fan_out": 2 / d_out,
        "fan_avg": 4 / (d_in + d_out),
    }
    for mode, var in expected.items():
        gradfit.manual_seed(1)
        t = init.he_normal_(gradfit.empty(*shape), mode=mode)
        assert _var(t) == pytest.approx(var, rel=0.03), mode
        assert abs(float(t.numpy().mean())) < 3 * math.sqrt(var / t.numel())
    # fan_in/fan_out are kaiming_normal_(nonlinearity="relu"): the same draws.
    gradfit.manual_seed(2)
    a = init.he_normal_(gradfit.empty(*shape), mode="fan_out")
    gradfit.manual_seed(2)
    b = init.kaiming_normal_(gradfit.empty(*shape), mode="fan_out", nonlinearity="relu")
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    with pytest.raises(ValueError, match="fan_avg"):
        init.he_normal_(gradfit.empty(3, 3), mode="fan_sum")


def test_constant_initialisers():
    t = gradfit.empty(3, 4)
    assert init.constant_(t, 2.5).numpy().tolist() == [[2.5] * 4] * 3
    assert init.ones_(t).numpy().sum() == 12
    assert init.zeros_(t).numpy().sum() == 0
    np.testing.assert_array_equal(init.eye_(t).numpy(), np.eye(3, 4))
    with pytest.raises(ValueError, match="2 dimensions"):
        init.eye_(gradfit.empty(3))


def test_inits_work_on_parameters_outside_the_graph():
    layer = nn.Linear(4, 3)
    init.kaiming_uniform_(layer.weight)  # a leaf requiring grad: needs no_grad inside
    init.zeros_(layer.bias)
    assert layer.weight.requires_grad and layer.weight.grad_fn is None
    assert layer.bias.numpy().sum() == 0 if not layer.bias.requires_grad else True
    assert np.all(layer.bias.detach().numpy() == 0)


def test_fan_errors_and_empty_tensors():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(gradfit.empty(5))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(gradfit.empty(2, 2), mode="fan_avg")
    with pytest.warns(UserWarning, match="zero-element"):
        init.kaiming_uniform_(gradfit.empty(0, 3))
    # Convolution-shaped weights: the receptive field multiplies both fans.
    assert init._calculate_fan_in_and_fan_out(gradfit.empty(8, 4, 3, 3)) == (36, 72)
