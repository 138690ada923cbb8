"""The fused loss and activation ops against float64 central differences (independent of
PyTorch): every closed-form backward in gradfit.ops.loss and gradfit.ops.activation."""

import numpy as np
import pytest
import torch  # noqa: F401 - the nn suite needs the reference installed
from nn_testing import torch_default_float32  # noqa: F401 - autouse fixture

import gradfit
import gradfit.nn as nn
import gradfit.nn.functional as F
from gradfit.autograd import gradcheck


def _t(shape, seed, scale=1.0, low=None, high=None):
    rng = np.random.default_rng(seed)
    if low is not None:
        arr = rng.uniform(low, high, size=shape)
    else:
        arr = rng.normal(size=shape) * scale
    return gradfit.tensor(arr, requires_grad=True)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_regression_losses_gradcheck(reduction):
    x, y = _t((3, 4), 0, 2.0), _t((3, 4), 1)
    for fn in (
        lambda a, b: F.mse_loss(a, b, reduction=reduction),
        lambda a, b: F.l1_loss(a, b, reduction=reduction),
        lambda a, b: F.huber_loss(a, b, reduction=reduction, delta=0.7),
        lambda a, b: F.smooth_l1_loss(a, b, reduction=reduction, beta=0.6),
    ):
        assert gradcheck(fn, (x, y))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_classification_losses_gradcheck(reduction):
    x = _t((4, 3, 2), 2, 2.0)
    t = gradfit.tensor([[0, 2], [1, 1], [2, -100], [0, 1]])
    w = gradfit.tensor([0.5, 1.0, 2.0], dtype=gradfit.float64)
    assert gradcheck(
        lambda a: F.cross_entropy(a, t, weight=w, label_smoothing=0.1, reduction=reduction), (x,)
    )
    assert gradcheck(lambda a: F.nll_loss(a, t, weight=w, reduction=reduction), (x,))
    p = _t((4, 3, 2), 3, low=0.1, high=1.0)
    assert gradcheck(
        lambda a, b: F.cross_entropy(a, b, weight=w, label_smoothing=0.2, reduction=reduction),
        (x, p),
    )
    probs, y = _t((5, 2), 4, low=0.05, high=0.95), _t((5, 2), 5, low=0.0, high=1.0)
    assert gradcheck(lambda a, b: F.binary_cross_entropy(a, b, reduction=reduction), (probs, y))
    logits = _t((5, 2), 6, 3.0)
    pw = gradfit.tensor([0.5, 3.0], dtype=gradfit.float64)
    assert gradcheck(
        lambda a, b: F.binary_cross_entropy_with_logits(a, b, pos_weight=pw, reduction=reduction),
        (logits, y),
    )


def test_activation_and_norm_ops_gradcheck():
    x = _t((3, 5), 7, 2.0)
    assert gradcheck(F.gelu, (x,))
    assert gradcheck(lambda a: F.gelu(a, approximate="tanh"), (x,))
    assert gradcheck(F.silu, (x,))
    gamma, beta = _t((5,), 8), _t((5,), 9)
    assert gradcheck(lambda a, g, b: F.layer_norm(a, (5,), g, b), (x, gamma, beta))
    assert gradcheck(lambda a: F.layer_norm(a, (2, 3), eps=1e-3), (_t((4, 2, 3), 11),))


def test_gru_cell_gradcheck():
    gradfit.manual_seed(0)
    cell = nn.GRUCell(2, 3).double()
    x, h = _t((2, 2), 12), _t((2, 3), 13)
    params = list(cell.parameters())

    def fn(a, b, *ps):
        return cell(a, b)

    assert gradcheck(fn, (x, h, *params))
