"""nn.Module hooks of the rtapi work: state-dict pre/post hooks, load-state-dict pre/post
hooks, full backward pre-hooks, and to_empty, run side by side with PyTorch: the same
calls in the same order with the same arguments, and the same numbers."""

from __future__ import annotations

import numpy as np
import pytest

import gradfit
import gradfit.nn as gnn


def _libs():
    import torch
    import torch.nn as tnn

    return [(torch, tnn), (gradfit, gnn)]


def _shape(t):
    return None if t is None else list(t.shape)


def _state_dict_log(lib, nn):
    log = []
    lib.manual_seed(0)
    m = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2), nn.Linear(2, 1))
    m[0].register_state_dict_pre_hook(
        lambda mod, prefix, keep_vars: log.append(("pre", type(mod).__name__, prefix, keep_vars))
    )
    m.register_state_dict_post_hook(
        lambda mod, sd, prefix, meta: log.append(("post", list(sd), prefix, dict(meta)))
    )

    def private(mod, sd, prefix, meta):
        log.append(("private", prefix, dict(meta)))
        return {"replaced": 1}  # replaces this module's result only

    m[2]._register_state_dict_hook(private)
    sd = m.state_dict(keep_vars=True)
    log.append(("keys", list(sd), [(k, dict(v)) for k, v in sd._metadata.items()]))
    h = m.register_state_dict_post_hook(lambda *a: 1)
    try:
        m.state_dict()
    except RuntimeError as e:
        log.append(("error", str(e)))
    h.remove()
    return log


def test_state_dict_hooks_match_torch():
    (torch, tnn), (g, gnn_) = _libs()
    assert _state_dict_log(g, gnn_) == _state_dict_log(torch, tnn)


def _load_log(lib, nn):
    log = []
    lib.manual_seed(0)
    m = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
    sd = m.state_dict()

    def pre(mod, state, prefix, meta, strict, missing, unexpected, errors):
        log.append(("pre", type(mod).__name__, prefix, dict(meta), strict, list(missing)))
        if prefix == "1.":  # a hook may rename keys of (a copy of) the state dict
            state["1.bias"] = state.pop("1.old_bias", state.get("1.bias"))

    def post(mod, keys):
        log.append(
            ("post", type(mod).__name__, list(keys.missing_keys), list(keys.unexpected_keys))
        )
        keys.unexpected_keys[:] = [k for k in keys.unexpected_keys if k != "extra"]

    m.register_load_state_dict_pre_hook(pre)
    m[1].register_load_state_dict_pre_hook(pre)
    m.register_load_state_dict_post_hook(post)
    m[0].register_load_state_dict_post_hook(post)
    renamed = {("1.old_bias" if k == "1.bias" else k): v * 2 for k, v in sd.items()}
    renamed["extra"] = lib.zeros(1)
    res = m.load_state_dict(renamed)
    log.append(("result", list(res.missing_keys), list(res.unexpected_keys), str(res)))
    log.append(("bias", m[1].bias.detach().numpy().tolist()))
    assert "1.old_bias" in renamed  # the caller's dict is left as it was
    plain = dict(sd)
    del plain["0.weight"]
    res = m.load_state_dict(plain, strict=False)
    log.append(("nonstrict", list(res.missing_keys), list(res.unexpected_keys)))
    m.register_load_state_dict_post_hook(lambda mod, keys: 3)
    try:
        m.load_state_dict(sd)
    except AssertionError as e:
        log.append(("error", str(e)))
    return log


def test_load_state_dict_hooks_match_torch():
    (torch, tnn), (g, gnn_) = _libs()
    assert _load_log(g, gnn_) == _load_log(torch, tnn)


class _Two:
    @staticmethod
    def make(nn):
        class Two(nn.Module):
            def forward(self, x):
                return x * 2, x.sum(), x.detach() + 1, 3

        return Two()


def _backward_pre_log(lib, nn):
    log = []
    lib.manual_seed(0)
    m = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))

    def double(mod, grad_output):
        log.append(("tanh", [_shape(g) for g in grad_output]))
        return (grad_output[0] * 2,)

    h = m[1].register_full_backward_pre_hook(double)
    m[2].register_full_backward_pre_hook(
        lambda mod, go: log.append(("last", round(float(go[0].sum()), 6)))
    )
    x = lib.randn(5, 3)
    m(x).pow(2).sum().backward()
    log.append(("grad", m[0].weight.grad.numpy().round(6).tolist()))
    h.remove()
    m.zero_grad()
    m(x).pow(2).sum().backward()
    log.append(("grad_no_hook", m[0].weight.grad.numpy().round(6).tolist()))
    two = _Two.make(nn)
    two.register_full_backward_pre_hook(
        lambda mod, go: log.append(("two", [_shape(g) for g in go]))
    )
    xx = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    a, b, c, d = two(xx)
    (a.pow(2).sum() + 3 * b).backward()
    log.append(("two_grad", xx.grad.numpy().tolist(), c.requires_grad, d))
    bad = nn.Linear(2, 2)
    bad.register_full_backward_pre_hook(lambda mod, go: (go[0], go[0]))
    try:
        bad(lib.ones(1, 2)).sum().backward()
    except RuntimeError as e:
        log.append(("error", str(e)))
    return log


def test_full_backward_pre_hooks_match_torch():
    (torch, tnn), (g, gnn_) = _libs()
    assert _backward_pre_log(g, gnn_) == _backward_pre_log(torch, tnn)


def test_hooks_are_off_the_plain_call_path():
    m = gnn.Linear(2, 2)
    y = m(gradfit.ones(1, 2, requires_grad=True))
    assert y.grad_fn.name() == "AddmmBackward0"  # no identity node without a hook
    m.register_full_backward_pre_hook(lambda mod, go: None)
    assert m(gradfit.ones(1, 2)).grad_fn.name() != "AddmmBackward0"


def test_to_empty_keeps_shapes_dtypes_and_parameters():
    m = gnn.Sequential(gnn.Linear(3, 2), gnn.BatchNorm1d(2)).double()
    params = list(m.parameters())
    shapes = [(tuple(t.shape), t.dtype) for t in m.state_dict().values()]
    out = m.to_empty(device="cpu")
    assert out is m
    assert list(m.parameters()) == params  # the same Parameter objects, new storage
    assert [(tuple(t.shape), t.dtype) for t in m.state_dict().values()] == shapes
    with pytest.raises(AssertionError, match="CUDA"):
        m.to_empty(device="cuda")
    with gradfit.no_grad():
        for p in m.parameters():
            p.fill_(1.0)
    np.testing.assert_array_equal(m[0].weight.detach().numpy(), np.ones((2, 3)))


class _ThreeIn:
    @staticmethod
    def make(nn):
        class Two(nn.Module):
            def forward(self, a, b, c):
                return a * b, a.sum() + c

        return Two()


def _full_backward_log(lib, nn):
    import warnings

    log = []
    lib.manual_seed(0)
    m = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))

    def full(mod, grad_input, grad_output):
        log.append(("full", [_shape(g) for g in grad_input], [_shape(g) for g in grad_output]))
        log.append(("go_sum", round(float(grad_output[0].sum()), 5)))
        return (grad_input[0] * 3,)

    m[1].register_full_backward_hook(full)
    m[1].register_full_backward_pre_hook(lambda mod, go: (go[0] * 2,))
    m[0].register_full_backward_hook(
        lambda mod, gi, go: log.append(("first", [_shape(g) for g in gi], [_shape(g) for g in go]))
    )
    x = lib.randn(5, 3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        m(x).pow(2).sum().backward()  # no input needs a gradient: the hook fires early
    log.append(("warned", any("no inputs require gradients" in str(w.message) for w in caught)))
    log.append(("w0", m[0].weight.grad.numpy().round(5).tolist()))
    xr = lib.randn(5, 3, requires_grad=True)
    m.zero_grad()
    m(xr).pow(2).sum().backward()
    log.append(("x", xr.grad.numpy().round(5).tolist()))
    t = _ThreeIn.make(nn)
    t.register_full_backward_hook(
        lambda mod, gi, go: log.append(("two", [_shape(g) for g in gi], [_shape(g) for g in go]))
    )
    a = lib.ones(3, requires_grad=True)
    b = lib.full((3,), 2.0, requires_grad=True)
    p, q = t(a, b, 5)
    (p.sum() + q * 3).backward()
    log.append((a.grad.tolist(), b.grad.tolist()))
    a2 = lib.ones(3, requires_grad=True)
    p, q = t(a2, lib.ones(3), 1)
    p.sum().backward()  # q unused: None in grad_output; b needs no grad: zeros
    log.append(a2.grad.tolist())
    return log


def test_full_backward_hooks_match_torch():
    (torch, tnn), (g, gnn_) = _libs()
    assert _full_backward_log(g, gnn_) == _full_backward_log(torch, tnn)
