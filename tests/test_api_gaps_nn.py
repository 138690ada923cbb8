"""The lazy layers (LazyConv*, LazyConvTranspose*, LazyBatchNorm*, LazyInstanceNorm*),
UninitializedBuffer, NLLLoss2d and Container against PyTorch: the parameters a first call
materialises (same initial draws), the class the module becomes, outputs, state dicts,
warnings and errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gradfit
from tests.api_gaps_state import _default_state, _torch  # noqa: F401 - autouse fixture

LAZY = [
    ("LazyConv1d", (4, 3), {"stride": 2, "bias": True}, (2, 3, 9)),
    ("LazyConv1d", (4, 3), {}, (3, 9)),
    ("LazyConv2d", (4, 3), {"padding": 1, "groups": 2}, (2, 6, 5, 5)),
    ("LazyConv3d", (2, 2), {"bias": False}, (1, 3, 4, 4, 4)),
    ("LazyConvTranspose1d", (4, 3), {"stride": 2}, (2, 3, 5)),
    ("LazyConvTranspose2d", (4, 2), {"groups": 2}, (1, 6, 3, 3)),
    ("LazyConvTranspose3d", (2, 2), {}, (1, 3, 3, 3, 3)),
    ("LazyBatchNorm1d", (), {}, (4, 3, 5)),
    ("LazyBatchNorm2d", (), {"momentum": None}, (2, 3, 4, 4)),
    ("LazyBatchNorm3d", (), {"affine": False}, (2, 3, 2, 2, 2)),
    ("LazyInstanceNorm1d", (), {}, (2, 3, 5)),
    ("LazyInstanceNorm2d", (), {"affine": True, "track_running_stats": True}, (2, 3, 4, 4)),
    ("LazyInstanceNorm3d", (), {}, (1, 2, 3, 3, 3)),
]


@pytest.mark.parametrize("name,args,kwargs,shape", LAZY)
def test_lazy_layer_matches_torch(name, args, kwargs, shape):
    torch = _torch()
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    res = []
    for lib in (gradfit, torch):
        lib.manual_seed(7)
        m = getattr(lib.nn, name)(*args, **kwargs)
        before = (m.has_uninitialized_params(), repr(m))
        y = m(lib.tensor(x, requires_grad=True))
        y.sum().backward()
        res.append(
            (
                before,
                type(m).__name__,
                repr(m),
                y.detach().numpy(),
                {k: v.detach().numpy() for k, v in m.state_dict().items()},
                {k: p.grad.numpy() for k, p in m.named_parameters()},
                m.has_uninitialized_params() if hasattr(m, "has_uninitialized_params") else None,
            )
        )
    g, t = res
    assert g[0] == t[0]
    assert g[1] == t[1] and g[2] == t[2]
    np.testing.assert_allclose(g[3], t[3], rtol=1e-5, atol=1e-5)
    assert g[4].keys() == t[4].keys()
    for k in g[4]:
        np.testing.assert_allclose(g[4][k], t[4][k], rtol=1e-5, atol=1e-5)
        assert g[4][k].dtype == t[4][k].dtype
    assert g[5].keys() == t[5].keys()
    for k in g[5]:
        np.testing.assert_allclose(g[5][k], t[5][k], rtol=1e-4, atol=1e-4)


def test_lazy_conv_errors_match_torch():
    torch = _torch()
    for build, shape in (
        (lambda L: L.nn.LazyConv2d(4, 3), (2, 3, 5)),  # 3-D into a 2-D conv: fine (unbatched)
        (lambda L: L.nn.LazyConv2d(4, 3), (3, 5)),
        (lambda L: L.nn.LazyConv2d(4, 3, groups=2), (1, 3, 5, 5)),
    ):
        outcomes = []
        for lib in (torch, gradfit):
            try:
                build(lib)(lib.zeros(*shape))
                outcomes.append(None)
            except (RuntimeError, ValueError) as e:
                outcomes.append(
                    (type(e), str(e).replace("torch.Size", "Size").replace("gradfit.Size", "Size"))
                )
        assert outcomes[0] == outcomes[1]


def test_lazy_parameters_keep_identity_for_optimizers():
    m = gradfit.nn.LazyConv1d(2, 3)
    params = list(m.parameters())
    m(gradfit.ones(1, 4, 6))
    assert [id(p) for p in m.parameters()] == [id(p) for p in params]
    assert all(type(p) is gradfit.nn.Parameter for p in params)


def test_uninitialized_buffer():
    torch = _torch()
    for lib in (gradfit, torch):
        b = lib.nn.UninitializedBuffer()
        assert isinstance(b, lib.nn.UninitializedBuffer)
        b.materialize((2, 3))
        assert type(b) is lib.Tensor and tuple(b.shape) == (2, 3)
        assert b.dtype == lib.get_default_dtype()


def test_nllloss2d_and_container_warn_as_torch():
    torch = _torch()
    x = np.log(np.random.default_rng(0).dirichlet(np.ones(3), size=(2, 4, 4)).transpose(0, 3, 1, 2))
    y = np.random.default_rng(1).integers(0, 3, size=(2, 4, 4))
    out = []
    for lib in (gradfit, torch):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            loss = lib.nn.NLLLoss2d()(lib.tensor(x), lib.tensor(y))
            c = lib.nn.Container(a=lib.nn.Linear(2, 2))
        out.append(
            (loss.item(), [(m.category, str(m.message)) for m in w], list(dict(c.named_children())))
        )
    assert out[0][1] == out[1][1] and out[0][2] == out[1][2] == ["a"]
    np.testing.assert_allclose(out[0][0], out[1][0], rtol=1e-12)
