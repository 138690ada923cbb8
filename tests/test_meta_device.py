"""The meta device (``gradfit._meta``): shapes, dtypes, printed text and errors as
PyTorch's, op by op; CPU tensors untouched once meta tensors exist."""

from __future__ import annotations

import numpy as np
import pytest

import gradfit


def _outcome(T, fn):
    """What a program would print: the value's repr, or the error's class and text,
    with PyTorch's module name written as gradfit's."""
    try:
        text = repr(fn(T))
    except Exception as e:  # noqa: BLE001 - the class and message are what is compared
        text = f"{type(e).__name__}: {e}"
    return text.replace("torch.", "gradfit.")


def _m(T, *shape, **kw):
    return T.empty(*shape, device="meta", **kw)


F = lambda T: T.nn.functional  # noqa: E731

CASES = [
    lambda T: _m(T, 3, 4), lambda T: _m(T, 2, 3, dtype=T.int64), lambda T: _m(T, 0),
    lambda T: T.zeros(2, 3, device="meta", requires_grad=True),
    lambda T: T.tensor(3.0, device="meta"),
    lambda T: T.tensor([1, 2], device=T.device("meta")), lambda T: T.randn(2, device="meta"),
    lambda T: T.randint(0, 5, (3,), device="meta"), lambda T: T.arange(4, device="meta"),
    lambda T: T.full((2,), 1.5, device="meta"), lambda T: T.ones(2).to("meta"),
    lambda T: T.nn.Parameter(_m(T, 2, 2)), lambda T: T.nn.Linear(3, 4, device="meta").weight,
    lambda T: (_m(T, 3, 4).device, _m(T, 3, 4).is_meta, T.ones(1).is_meta, _m(T, 3).is_cpu),
    lambda T: (_m(T, 3, 4).stride(), _m(T, 3, 4).t().stride(), _m(T, 5).data_ptr()),
    lambda T: _m(T, 3, 4) @ _m(T, 4, 5), lambda T: _m(T, 3, 4).sum(), lambda T: _m(T, 3, 4).mean(1),
    lambda T: _m(T, 3, 4).max(1), lambda T: _m(T, 3, 4).argmax(), lambda T: _m(T, 3, 4) > 0,
    lambda T: _m(T, 3, 4).clone().add_(1), lambda T: _m(T, 3, 4).to(T.float16),
    lambda T: T.cat([_m(T, 2, 3), _m(T, 1, 3)]), lambda T: _m(T, 2, 6).view(3, 4).T,
    lambda T: _m(T, 3, 4) + T.tensor(2.0), lambda T: _m(T, 3, 4) * 2,
    lambda T: F(T).softmax(_m(T, 3, 4), -1), lambda T: F(T).dropout(_m(T, 3, 4), 0.5),
    lambda T: F(T).cross_entropy(_m(T, 3, 4), T.zeros(3, dtype=T.long, device="meta")),
    lambda T: F(T).max_pool2d(_m(T, 1, 2, 6, 6), 2),
    lambda T: T.nn.Conv2d(2, 3, 3, device="meta")(_m(T, 1, 2, 6, 6)),
    lambda T: T.nn.BatchNorm1d(4, device="meta").running_var, lambda T: T.zeros_like(_m(T, 2)),
    lambda T: T.randn_like(_m(T, 2)), lambda T: _m(T, 2).new_ones(3),
    lambda T: _m(T, 2).new_ones(3, device="cpu"),
    lambda T: f"{_m(T, 2).sum()}",
    # what has no data cannot be read
    lambda T: _m(T, 3, 4).sum().item(), lambda T: _m(T, 3, 4).item(), lambda T: _m(T, 3).numpy(),
    lambda T: _m(T, 3).tolist(), lambda T: _m(T, 3).cpu(), lambda T: _m(T, 3).to("cpu"),
    lambda T: float(_m(T, 1)), lambda T: bool(_m(T, 1) > 0),
    lambda T: _m(T, 3, 4) + T.ones(3, 4), lambda T: T.ones(3, 4) + _m(T, 3, 4),
    lambda T: T.cat([_m(T, 2, 3), T.ones(1, 3)]),
    lambda T: T.nn.Linear(2, 2, device="meta").to("cpu"),
    lambda T: T.device("meta", 0),
]  # fmt: skip


@pytest.mark.parametrize("case", range(len(CASES)))
def test_meta_tensors_print_and_fail_as_pytorchs(case):
    import torch

    assert _outcome(gradfit, CASES[case]) == _outcome(torch, CASES[case])


def _built_on_meta(T):
    """Build layers on meta, then draw: the stream must be where PyTorch's is."""
    T.manual_seed(3)
    with T.device("meta"):
        net = T.nn.Sequential(T.nn.Linear(5, 4), T.nn.LayerNorm(4), T.nn.Linear(4, 2))
        x = T.randn(7, 5)
    lstm = T.nn.LSTM(4, 3, batch_first=True, device="meta")
    out = lstm(net(x)[None, :, :].expand(2, 7, 2).repeat(1, 1, 2))[0]
    after = T.randn(3).tolist()
    names = [(k, tuple(v.shape), v.is_meta) for k, v in net.state_dict().items()]
    return after, names, tuple(out.shape), str(out.device)


def test_building_on_meta_draws_nothing():
    import torch

    assert _built_on_meta(gradfit) == _built_on_meta(torch)


def _materialised(T):
    T.manual_seed(0)
    model = T.nn.Sequential(T.nn.Linear(3, 4, device="meta"), T.nn.BatchNorm1d(4, device="meta"))
    model.to_empty(device="cpu")
    for m in model:
        m.reset_parameters()
    y = model(T.ones(2, 3))
    y.sum().backward()
    return y.tolist(), model[0].weight.grad.tolist(), str(model[1].running_mean.device)


def test_to_empty_then_reset_gives_pytorchs_cpu_model():
    import torch

    got, want = _materialised(gradfit), _materialised(torch)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-5, atol=1e-6)
    assert got[2] == want[2]


def test_meta_gradients_are_meta_and_cpu_stays_cpu():
    w = gradfit.nn.Conv2d(2, 3, 3, device="meta")
    w(gradfit.empty(1, 2, 5, 5, device="meta")).relu().sum().backward()
    assert w.weight.grad.is_meta and w.bias.grad.is_meta
    assert tuple(w.weight.grad.shape) == (3, 2, 3, 3)
    # once meta tensors exist, CPU tensors and their gradients keep plain arrays
    a = gradfit.ones(2, 3, requires_grad=True)
    b = (a * 2 + 1).sum()
    b.backward()
    assert type(gradfit._arrays.unwrap(b)) is np.ndarray
    assert type(gradfit._arrays.unwrap(a.grad)) is np.ndarray
    assert a.grad.tolist() == [[2.0] * 3] * 2


def test_only_cpu_and_meta_hold_data():
    with pytest.raises(AssertionError, match="CUDA"):
        gradfit.zeros(2, device="cuda")
    with pytest.raises(RuntimeError, match="mps"):
        gradfit.nn.Linear(2, 2, device="mps")


def _load_into_meta(T):
    import warnings

    T.manual_seed(0)
    sd = T.nn.Sequential(T.nn.Linear(3, 2), T.nn.BatchNorm1d(2)).state_dict()
    model = T.nn.Sequential(T.nn.Linear(3, 2, device="meta"), T.nn.BatchNorm1d(2, device="meta"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.load_state_dict(sd)
    still_meta = all(p.is_meta for p in model.state_dict().values())
    model.load_state_dict(sd, assign=True)
    w = model[0].weight
    return (
        [str(c.message).replace("torch.", "gradfit.") for c in caught],
        still_meta,
        type(w).__name__,
        w.requires_grad,
        w.data_ptr() == sd["0.weight"].data_ptr(),
        model[1].num_batches_tracked.data_ptr() == sd["1.num_batches_tracked"].data_ptr(),
        model(T.ones(2, 3)).tolist(),
    )


def test_loading_into_a_meta_model_as_pytorchs():
    import torch

    got, want = _load_into_meta(gradfit), _load_into_meta(torch)
    assert got[:6] == want[:6]
    np.testing.assert_allclose(got[6], want[6], rtol=1e-5, atol=1e-6)
