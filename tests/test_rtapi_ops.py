"""rtapi: Tensor.apply_/map_/index_reduce/bfloat16, torch.gradient/corrcoef/poisson,
F.gumbel_softmax, random.fork_rng and the device context manager, against PyTorch.
(The gradchecks and value/gradient parity of index_reduce, gradient and corrcoef are in
the op registry: tests/engine/registry_rtapi.py.)"""

from __future__ import annotations

import numpy as np
import pytest

import gradfit
import gradfit.nn.functional as F


def _torch():
    import torch

    return torch


def _err(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - the error itself is compared
        return type(e).__name__, str(e)
    return None


# ---------------------------------------------------------------- apply_ / map_
@pytest.mark.parametrize("dtype", ["float32", "int64"])
def test_apply_and_map_match_torch(dtype):
    torch = _torch()
    vals = np.array([[1, -2, 3], [4, 5, -6]], dtype=dtype)
    other = np.array([10, 20, 30], dtype=dtype)
    out = {}
    for lib in (torch, gradfit):
        a = lib.tensor(vals.copy())
        r = a.apply_(lambda v: v * 3 - 1 if v > 0 else v / 2)
        assert r is a
        a.map_(lib.tensor(other), lambda x, y: x * y + 0.5)
        out[lib] = a.numpy()
    np.testing.assert_array_equal(out[torch], out[gradfit])
    assert out[gradfit].dtype == np.dtype(dtype)


def test_apply_map_refuse_grad_and_bad_shapes():
    torch = _torch()
    errs = {}
    for lib in (torch, gradfit):
        x = lib.ones(2, requires_grad=True)
        errs[lib] = [
            _err(lambda x=x: x.apply_(lambda v: v)),
            _err(lambda x=x, lib=lib: x.map_(lib.ones(2), lambda a, b: a)),
            _err(lambda lib=lib: lib.ones(2).map_(lib.ones(2, 2), lambda a, b: a)),
        ]
    assert errs[gradfit][0] == errs[torch][0]
    assert errs[gradfit][1] == errs[torch][1]
    assert errs[gradfit][2][0] == errs[torch][2][0] == "RuntimeError"
    assert "expand" in errs[gradfit][2][1]


def test_bfloat16_is_a_clear_error():
    with pytest.raises(TypeError, match="bfloat16 is not supported"):
        gradfit.randn(2).bfloat16()
    assert gradfit.randn(2).half().dtype == gradfit.float16  # float16 exists in NumPy


# ---------------------------------------------------------------- index_reduce
@pytest.mark.parametrize("reduce", ["prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_index_reduce_inplace_and_int_dtype(reduce, include_self):
    torch = _torch()
    rng = np.random.default_rng(3)
    base = rng.integers(-5, 6, size=(4, 3))
    src = rng.integers(-5, 6, size=(4, 5))
    idx = np.array([0, 2, 2, 1, 0])
    out = {}
    for lib in (torch, gradfit):
        a = lib.tensor(base.copy())
        r = a.index_reduce_(1, lib.tensor(idx), lib.tensor(src), reduce, include_self=include_self)
        assert r is a
        f = lib.tensor(base.astype(np.float32)).index_reduce(
            -1, lib.tensor(idx), lib.tensor(src.astype(np.float32)), reduce
        )
        out[lib] = (a.numpy(), f.numpy())
    np.testing.assert_array_equal(out[torch][0], out[gradfit][0])
    np.testing.assert_allclose(out[torch][1], out[gradfit][1], rtol=1e-6)


def test_index_reduce_errors_and_node_name():
    torch = _torch()
    errs = {}
    for lib in (torch, gradfit):
        a = lib.zeros(3)
        errs[lib] = _err(
            lambda lib=lib, a=a: a.index_reduce(0, lib.tensor([0]), lib.ones(1), "sum")
        )
    assert errs[gradfit] == errs[torch]
    y = gradfit.ones(3, requires_grad=True).index_reduce(
        0, gradfit.tensor([0, 0]), gradfit.tensor([2.0, 3.0]), "mean"
    )
    assert y.grad_fn.name() == "IndexReduceBackward0"


# ---------------------------------------------------------------- gradient / corrcoef
def test_gradient_forms_match_torch():
    torch = _torch()
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 5))
    coords = np.array([0.0, 0.5, 1.5, 1.75, 3.0])
    cases = [
        dict(),
        dict(spacing=2.0),
        dict(spacing=[0.5, 3.0], edge_order=2),
        dict(dim=1, edge_order=2),
        dict(dim=[-1]),
        dict(spacing=[coords], dim=1),
        dict(spacing=[coords], dim=1, edge_order=2),
    ]
    for kw in cases:
        got = {}
        for lib in (torch, gradfit):
            k = dict(kw)
            if "spacing" in k and isinstance(k["spacing"], list) and len(k["spacing"]) == 1:
                k["spacing"] = [lib.tensor(coords)]
            got[lib] = [g.numpy() for g in lib.gradient(lib.tensor(a), **k)]
        assert len(got[torch]) == len(got[gradfit]), kw
        for t, g in zip(got[torch], got[gradfit], strict=True):
            np.testing.assert_allclose(g, t, rtol=1e-12, atol=1e-12, err_msg=str(kw))
    # integer input gives float results, as PyTorch's
    ti = torch.gradient(torch.tensor([1, 4, 9, 16]))[0]
    gi = gradfit.gradient(gradfit.tensor([1, 4, 9, 16]))[0]
    assert str(gi.dtype).split(".")[1] == str(ti.dtype).split(".")[1]
    np.testing.assert_array_equal(gi.numpy(), ti.numpy())


def test_gradient_errors_match_torch():
    torch = _torch()
    for kw, shape in [
        (dict(edge_order=3), (4,)),
        (dict(edge_order=2), (2,)),
        (dict(spacing=[1.0, 2.0]), (4,)),
        (dict(dim=[0, 0]), (3, 3)),
    ]:
        errs = [
            _err(lambda lib=lib, shape=shape, kw=kw: lib.gradient(lib.zeros(shape), **kw))
            for lib in (torch, gradfit)
        ]
        assert errs[1] is not None and errs[0] is not None
        assert errs[1] == errs[0], (kw, errs)


def test_corrcoef_matches_torch():
    torch = _torch()
    rng = np.random.default_rng(1)
    for x in (rng.standard_normal((3, 6)), rng.standard_normal(5), np.array([[1.0, 1.0, 1.0]])):
        t = torch.corrcoef(torch.tensor(x)).numpy()
        g = gradfit.corrcoef(gradfit.tensor(x)).numpy()
        np.testing.assert_allclose(g, t, rtol=1e-12, atol=1e-12, equal_nan=True)
    errs = [_err(lambda lib=lib: lib.corrcoef(lib.zeros(2, 2, 2))) for lib in (torch, gradfit)]
    assert errs[0] == errs[1]


# ---------------------------------------------------------------- poisson
def test_poisson_matches_torch_stream_bit_for_bit():
    torch = _torch()
    rates = np.array([[0.0, 0.3, 1.0, 4.5], [9.99, 10.0, 37.5, 250.0]])
    for dtype in ("float32", "float64"):
        out = {}
        for lib in (torch, gradfit):
            lib.manual_seed(7)
            g = lib.Generator().manual_seed(11)
            a = lib.poisson(lib.tensor(rates.astype(dtype)))
            b = lib.poisson(lib.tensor(rates.astype(dtype)).t(), generator=g)
            out[lib] = (a.numpy(), b.numpy(), lib.rand(3).numpy(), g.initial_seed())
            assert a.dtype == getattr(lib, dtype)
        for t, g in zip(out[torch], out[gradfit], strict=True):
            np.testing.assert_array_equal(g, t)


def test_poisson_gradient_is_zero_and_errors():
    torch = _torch()
    res = {}
    for lib in (torch, gradfit):
        x = lib.tensor([1.0, 20.0], requires_grad=True)
        y = lib.poisson(x)
        y.sum().backward()
        res[lib] = (
            y.grad_fn.name(),
            x.grad.numpy(),
            _err(lambda lib=lib: lib.poisson(lib.tensor([-1.0]))),
        )
        res[lib] += (_err(lambda lib=lib: lib.poisson(lib.tensor([1, 2]))),)
    assert res[gradfit][0] == res[torch][0]
    np.testing.assert_array_equal(res[gradfit][1], res[torch][1])
    assert res[gradfit][2:] == res[torch][2:]


# ---------------------------------------------------------------- gumbel_softmax
@pytest.mark.parametrize("hard", [False, True])
def test_gumbel_softmax_matches_torch_stream_and_gradient(hard):
    torch = _torch()
    import torch.nn.functional as TF

    logits = np.random.default_rng(2).standard_normal((3, 5)).astype(np.float32)
    w = np.arange(15, dtype=np.float32).reshape(3, 5)
    out = {}
    for lib, fn in ((torch, TF.gumbel_softmax), (gradfit, F.gumbel_softmax)):
        lib.manual_seed(5)
        x = lib.tensor(logits, requires_grad=True)
        y = fn(x, tau=0.7, hard=hard, dim=0)
        (y * lib.tensor(w)).sum().backward()
        out[lib] = (y.detach().numpy(), x.grad.numpy(), lib.rand(2).numpy())
    # the same Gumbel noise; softmax itself may differ in the last bit
    np.testing.assert_allclose(out[gradfit][0], out[torch][0], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(out[gradfit][1], out[torch][1], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(out[gradfit][2], out[torch][2])


# ---------------------------------------------------------------- fork_rng, device
def test_fork_rng_restores_the_stream():
    torch = _torch()
    out = {}
    for lib in (torch, gradfit):
        lib.manual_seed(3)
        with lib.random.fork_rng():
            inside = lib.rand(4).numpy()
        after = lib.rand(4).numpy()
        with lib.random.fork_rng(devices=[], enabled=False):
            lib.rand(1)
        last = lib.rand(2).numpy()

        @lib.random.fork_rng()
        def draw(lib=lib):
            return lib.randn(3)

        draw()
        out[lib] = (inside, after, last, lib.rand(2).numpy())
    np.testing.assert_array_equal(out[gradfit][0], out[gradfit][1])  # restored
    for t, g in zip(out[torch], out[gradfit], strict=True):
        np.testing.assert_array_equal(g, t)
    with pytest.raises(AssertionError, match="CUDA"):
        with gradfit.random.fork_rng(devices=[0]):
            pass


def test_device_context_manager_and_default_device():
    with gradfit.device("cpu") as d:
        assert d == gradfit.device("cpu")
        assert gradfit.zeros(1).device == d
    gradfit.set_default_device("cpu")
    assert gradfit.get_default_device() == gradfit.device("cpu")
    with pytest.raises(AssertionError, match="CUDA"):
        with gradfit.device("cuda"):
            pass
