"""GRUCell and GRU against torch.nn.GRUCell / torch.nn.GRU with copied weights."""

import numpy as np
import pytest
import torch
from nn_testing import (
    DTYPES,
    check_module,
    torch_default_float32,  # noqa: F401 - autouse fixture
)

import gradfit
import gradfit.nn as nn

_TORCH_DTYPE = {np.float64: torch.float64, np.float32: torch.float32}


def _x(shape, dtype, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype(dtype)


def _pair(gcls, tcls, dtype, *args, **kwargs):
    t = tcls(*args, **kwargs).to(_TORCH_DTYPE[dtype])
    g = gcls(*args, **kwargs).to(dtype)
    return g, t


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("with_h0", [True, False])
def test_gru_cell(with_h0, batched, bias, dtype):
    g, t = _pair(nn.GRUCell, torch.nn.GRUCell, dtype, 3, 5, bias=bias)
    x = _x((4, 3) if batched else (3,), dtype, 1)
    inputs = [x]
    if with_h0:
        inputs.append(_x((4, 5) if batched else (5,), dtype, 2))
    check_module(g, t, inputs, dtype, what=f"GRUCell batched={batched} h0={with_h0}")
    assert repr(g) == repr(t)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "kwargs, x_shape, h0_shape",
    [
        ({}, (6, 2, 3), None),
        ({}, (6, 2, 3), (1, 2, 4)),
        ({"batch_first": True}, (2, 6, 3), (1, 2, 4)),
        ({"batch_first": True}, (2, 6, 3), None),
        ({"num_layers": 2}, (5, 3, 3), (2, 3, 4)),
        ({"num_layers": 2, "batch_first": True}, (3, 5, 3), None),
        ({"num_layers": 2, "bias": False}, (4, 2, 3), (2, 2, 4)),
        ({}, (6, 3), None),  # unbatched
        ({"num_layers": 2}, (6, 3), (2, 4)),  # unbatched with h0
        ({"batch_first": True}, (6, 3), (1, 4)),  # unbatched ignores batch_first
        ({"bidirectional": True}, (5, 2, 3), None),
        ({"bidirectional": True, "num_layers": 2, "batch_first": True}, (2, 5, 3), (4, 2, 4)),
        ({"num_layers": 2, "dropout": 0.5}, (4, 2, 3), None),  # eval below: no dropout
    ],
)
def test_gru(kwargs, x_shape, h0_shape, dtype):
    g, t = _pair(nn.GRU, torch.nn.GRU, dtype, 3, 4, **kwargs)
    if kwargs.get("dropout"):
        g.eval()
        t.eval()
    inputs = [_x(x_shape, dtype, 3)]
    if h0_shape is not None:
        inputs.append(_x(h0_shape, dtype, 4))
    check_module(g, t, inputs, dtype, what=f"GRU {kwargs} {x_shape} h0={h0_shape}")
    assert repr(g) == repr(t)


def test_gru_parameter_names_and_shapes_match_torch():
    g, t = nn.GRU(3, 4, num_layers=2, bidirectional=True), torch.nn.GRU(3, 4, 2, bidirectional=True)
    assert [(n, tuple(p.shape)) for n, p in g.named_parameters()] == [
        (n, tuple(p.shape)) for n, p in t.named_parameters()
    ]
    assert list(g.state_dict()) == list(t.state_dict())


def test_gru_errors():
    gru = nn.GRU(3, 4, num_layers=2)
    with pytest.raises(RuntimeError, match=r"Expected hidden size \(2, 5, 4\), got \[1, 5, 4\]"):
        gru(gradfit.zeros(6, 5, 3), gradfit.zeros(1, 5, 4))
    with pytest.raises(RuntimeError, match="input_size. Expected 3, got 2"):
        gru(gradfit.zeros(6, 5, 2))
    with pytest.raises(ValueError, match="2D or 3D"):
        gru(gradfit.zeros(3))
    with pytest.raises(ValueError, match=r"input.to\(gradfit.float32\)"):
        gru(gradfit.zeros(6, 5, 3, dtype=gradfit.float64))


def test_gru_dropout_in_training_changes_output_only_between_layers():
    gradfit.manual_seed(0)
    gru = nn.GRU(3, 4, num_layers=2, dropout=0.5)
    x = gradfit.randn(5, 2, 3)
    with gradfit.no_grad():
        gru.eval()
        out_eval, _ = gru(x)
        gru.train()
        out_train, _ = gru(x)
        assert not np.allclose(out_eval.numpy(), out_train.numpy())
        single = nn.GRU(3, 4)
        single.train()
        a, _ = single(x)
        b, _ = single(x)
        np.testing.assert_array_equal(a.numpy(), b.numpy())  # one layer: no dropout at all


def test_gru_learns_by_autodiff():
    """Sanity: a few SGD steps on the GRU built from ops reduce a sequence loss."""
    gradfit.manual_seed(1)
    gru = nn.GRU(2, 8, batch_first=True)
    head = nn.Linear(8, 1)
    x = gradfit.randn(16, 5, 2)
    y = x.sum(1)[:, :1]
    params = list(gru.parameters()) + list(head.parameters())
    losses = []
    for _ in range(30):
        out, h = gru(x)
        loss = nn.MSELoss()(head(h[0]), y)
        for p in params:
            p.grad = None
        loss.backward()
        with gradfit.no_grad():
            for p in params:
                p -= 0.1 * p.grad
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def _node_names(lib, cls, **kwargs):
    lib.manual_seed(0)
    m = getattr(lib.nn, cls)(3, 4, **kwargs)
    x = lib.randn(5, 2, 3)
    out, h = m(x)
    hs = h if isinstance(h, tuple) else (h,)
    out1, _ = m(x[:, 0])
    packed = lib.nn.utils.rnn.pack_padded_sequence(x, lib.tensor([5, 3]))
    return [t.grad_fn.name() for t in (out, *hs, out1, m(packed)[0].data)]


@pytest.mark.parametrize("cls", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize(
    "kwargs", [{}, {"batch_first": True}, {"bidirectional": True}, {"num_layers": 2}]
)
def test_recurrent_outputs_print_torch_grad_fn_names(cls, kwargs):
    assert _node_names(gradfit, cls, **kwargs) == _node_names(torch, cls, **kwargs)


@pytest.mark.parametrize("cls", ["LSTMCell", "GRUCell", "RNNCell"])
def test_cell_outputs_print_torch_grad_fn_names(cls):
    names = []
    for lib in (gradfit, torch):
        lib.manual_seed(0)
        out = getattr(lib.nn, cls)(3, 4)(lib.randn(2, 3))
        names.append([t.grad_fn.name() for t in (out if isinstance(out, tuple) else (out,))])
    assert names[0] == names[1]
