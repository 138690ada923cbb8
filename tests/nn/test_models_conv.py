"""The model builders of ``gradfit.models``: shapes, options, errors, and the same model as
PyTorch's for the same seed (the builders take the layer namespace, so ``nn=torch.nn``
builds the PyTorch twin)."""

import numpy as np
import pytest
import torch
from nn_testing import torch_default_float32  # noqa: F401 - autouse fixture

import gradfit
from gradfit import models


@pytest.mark.parametrize(
    "kind, kwargs",
    [
        ("cnn1d", {}),
        ("cnn1d", {"channels": 8, "layers": 2}),
        ("resnet1d", {"channels": 6, "blocks": 2}),
        ("resnet1d", {"channels": 4, "blocks": 1, "batch_norm": False, "head": "avgpool"}),
    ],
)
def test_builder_matches_torch_twin(kind, kwargs):
    gradfit.manual_seed(3)
    torch.manual_seed(3)
    g = models.build(kind, (40,), 10, **kwargs).double()
    t = models.MODELS[kind]((40,), 10, nn=torch.nn, **kwargs).double()
    gs, ts = g.state_dict(), t.state_dict()
    assert list(gs) == list(ts)
    for k in ts:
        np.testing.assert_allclose(gs[k].numpy(), ts[k].numpy(), rtol=2e-7, atol=1e-8, err_msg=k)
    g.load_state_dict({k: v.numpy().copy() for k, v in ts.items()})
    x = np.random.default_rng(0).standard_normal((5, 40))
    g.eval()
    t.eval()
    out = g(gradfit.tensor(x))
    assert tuple(out.shape) == (5, 10)
    np.testing.assert_allclose(
        out.detach().numpy(), t(torch.tensor(x)).detach().numpy(), rtol=1e-10, atol=1e-12
    )


def test_cnn1d_is_the_course_network():
    m = models.cnn1d((40,), 10)
    convs = [l for l in m if isinstance(l, gradfit.nn.Conv1d)]
    assert [(c.in_channels, c.out_channels, c.kernel_size, c.stride) for c in convs] == [
        (1, 15, (3,), (2,)),
        (15, 15, (3,), (2,)),
        (15, 15, (3,), (2,)),
    ]
    head = m[-1]
    assert head.in_features == 60 and np.all(head.bias.detach().numpy() == 0)
    # He initialisation of the head: U(-sqrt(6/60), sqrt(6/60))
    assert np.abs(head.weight.detach().numpy()).max() <= np.sqrt(6 / 60)
    assert models.num_parameters(m) == 15 * 3 + 15 + 2 * (15 * 15 * 3 + 15) + 60 * 10 + 10


def test_channel_input_shape_and_errors():
    m = models.resnet1d((2, 12), 3, channels=4, blocks=1)
    assert tuple(m(gradfit.randn(2, 2, 12)).shape) == (2, 3)
    with pytest.raises(ValueError, match="unknown model kind 'vgg'"):
        models.build("vgg", (40,), 10)
    with pytest.raises(ValueError, match="its options are"):
        models.build("cnn1d", (40,), 10, width=3)
    with pytest.raises(ValueError, match="do not fit an input of length 5"):
        models.cnn1d((5,), 10)
    with pytest.raises(ValueError, match="kernel_size must be odd"):
        models.resnet1d((40,), 10, kernel_size=4)
