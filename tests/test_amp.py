"""gradfit.amp against torch.amp: autocast's state, warnings and decorator form,
the refusal of enabled CPU autocast (no bfloat16), GradScaler disabled (a pass-through)
and enabled on the CPU (scaling, unscale_, skipping a step on inf gradients, scale
backoff and growth, state_dict), and the deprecated torch.cuda.amp / torch.cpu.amp
spellings with PyTorch's FutureWarning text."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
import torch

import gradfit


def _messages(fn):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        out = fn()
    return out, [(x.category.__name__, str(x.message).replace("gradfit.", "torch.")) for x in w]


def test_autocast_cuda_without_cuda_warns_and_disables_as_pytorch():
    for kwargs in ({}, {"dtype": torch.float16}, {"enabled": False}):
        gkw = {k: (gradfit.float16 if k == "dtype" else v) for k, v in kwargs.items()}
        t, tw = _messages(lambda: torch.autocast(device_type="cuda", **kwargs))  # noqa: B023
        g, gw = _messages(lambda: gradfit.autocast(device_type="cuda", **gkw))  # noqa: B023
        assert gw == tw
        assert g._enabled == t._enabled is False
        with g:
            assert gradfit.is_autocast_enabled("cuda") is False
    assert gradfit.autocast is gradfit.amp.autocast


def test_autocast_state_nesting_and_decorator():
    assert not gradfit.is_autocast_enabled("xpu")
    with gradfit.autocast("xpu"):  # no gradfit tensor lives there: state only, as PyTorch
        assert gradfit.is_autocast_enabled("xpu")
        assert gradfit.amp.autocast_mode.get_autocast_dtype("xpu") == gradfit.float16
        with gradfit.autocast("xpu", enabled=False):
            assert not gradfit.is_autocast_enabled("xpu")
        assert gradfit.is_autocast_enabled("xpu")
    assert not gradfit.is_autocast_enabled("xpu")

    @gradfit.autocast("xpu")
    def f(x):
        return gradfit.is_autocast_enabled("xpu"), x * 2

    assert f(3) == (True, 6) and not gradfit.is_autocast_enabled("xpu")
    with pytest.raises(TypeError, match="requires a callable"):
        gradfit.autocast("xpu")(5)


def test_autocast_errors_and_unsupported_dtype_warning_match_pytorch():
    for bad, exc in ((3, ValueError), ("foo", RuntimeError)):
        with pytest.raises(exc) as te:
            torch.autocast(bad)
        with pytest.raises(exc) as ge:
            gradfit.autocast(bad)
        assert str(ge.value) == str(te.value)
    t, tw = _messages(lambda: torch.autocast("cpu", dtype=torch.float32))
    g, gw = _messages(lambda: gradfit.autocast("cpu", dtype=gradfit.float32))
    assert gw == tw and g._enabled is t._enabled is False
    with gradfit.autocast("cpu", enabled=False):
        y = gradfit.ones(2, 3) @ gradfit.ones(3, 2)
    assert y.dtype == gradfit.float32


def test_enabled_cpu_autocast_is_refused_with_one_clear_error():
    for kwargs in ({}, {"dtype": gradfit.float16}):
        with pytest.raises(RuntimeError, match="no bfloat16.*enabled=False"):
            gradfit.autocast("cpu", **kwargs)


def _model_pair(lib):
    lib.manual_seed(0)
    return lib.nn.Linear(3, 2)


def _scaler_run(lib, **kwargs):
    """Seven steps of SGD through a GradScaler, an inf loss at step 3; returns what a
    script could observe each step."""
    m = _model_pair(lib)
    if lib is gradfit:  # the same start
        t = _model_pair(torch)
        m.weight.data.copy_(gradfit.tensor(t.weight.detach().numpy()))
        m.bias.data.copy_(gradfit.tensor(t.bias.detach().numpy()))
    opt = lib.optim.SGD(m.parameters(), lr=0.1)
    s = lib.amp.GradScaler(**kwargs)
    x = lib.tensor(np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3))
    seen = []
    for i in range(7):
        opt.zero_grad()
        loss = m(x).pow(2).sum()
        if i == 3 and kwargs.get("enabled", True):  # a disabled scaler would step on it
            loss = loss * float("inf")
        scaled = s.scale(loss)
        seen.append(
            ("scaled", round(scaled.item() / max(loss.item(), 1e-30), 6) if i != 3 else None)
        )
        with np.errstate(all="ignore"):
            scaled.backward()
        if i == 5:
            s.unscale_(opt)
            seen.append(("grad", np.round(m.weight.grad.numpy(), 5).tolist()))
        ret = s.step(opt)
        s.update()
        seen.append((i, ret, s.get_scale(), s._get_growth_tracker(), s.state_dict()))
        seen.append(np.round(m.weight.detach().numpy(), 5).tolist())
    return seen


@pytest.mark.parametrize(
    "kwargs",
    [
        {"device": "cpu", "init_scale": 1024.0, "growth_interval": 2},
        {"device": "cpu", "init_scale": 2.0**127, "growth_interval": 1},  # growth capped
        {"enabled": False},
    ],
)
def test_grad_scaler_steps_skips_and_updates_as_pytorch(kwargs):
    assert _scaler_run(gradfit, **kwargs) == _scaler_run(torch, **kwargs)


def test_grad_scaler_unscale_is_bit_exact_and_flags_non_finite():
    grads = np.array([[1e-3, -7.25, 3.0e4], [0.5, 2.0**-20, -1.0]], dtype=np.float32)
    for lib in (torch, gradfit):
        p = lib.zeros(2, 3, requires_grad=True)
        p.grad = lib.tensor(grads)
        opt = lib.optim.SGD([p], lr=1.0)
        s = lib.amp.GradScaler("cpu", init_scale=3.0)
        s.scale(lib.ones(()))
        s.unscale_(opt)
        if lib is torch:
            expected = p.grad.numpy().copy()
        else:
            np.testing.assert_array_equal(p.grad.numpy(), expected)
        with pytest.raises(RuntimeError, match="already been called"):
            s.unscale_(opt)


def test_grad_scaler_disabled_and_errors_as_pytorch():
    for lib in (torch, gradfit):
        s = lib.amp.GradScaler(enabled=False)
        loss = lib.ones(())
        assert s.scale(loss) is loss and s.get_scale() == 1.0 and s.state_dict() == {}
        assert not s.is_enabled()
        s.update()
        s.load_state_dict({})
    _, tw = _messages(lambda: torch.amp.GradScaler())
    g, gw = _messages(lambda: gradfit.amp.GradScaler())
    assert gw == tw and not g.is_enabled()
    for kw in ({"growth_factor": 1.0}, {"backoff_factor": 1.0}):
        with pytest.raises(AssertionError) as te:
            torch.amp.GradScaler("cpu", **kw)
        with pytest.raises(AssertionError) as ge:
            gradfit.amp.GradScaler("cpu", **kw)
        assert str(ge.value) == str(te.value)
    for lib in (torch, gradfit):
        s = lib.amp.GradScaler("cpu")
        with pytest.raises(AssertionError, match="_scale is None"):
            s.update()
        with pytest.raises(RuntimeError, match="empty"):
            s.load_state_dict({})
        s.load_state_dict({"scale": 8.0, "growth_factor": 3.0, "backoff_factor": 0.25,
                           "growth_interval": 5, "_growth_tracker": 2})  # fmt: skip
        assert s.get_scale() == 8.0 and s.get_growth_factor() == 3.0
        assert pickle.loads(pickle.dumps(s)).state_dict() == s.state_dict()
        s.scale(lib.ones(()))
        s.update(0.5)
        assert s.get_scale() == 0.5


def test_deprecated_cuda_and_cpu_amp_spellings_warn_as_pytorch():
    import gradfit.cpu.amp  # noqa: I001 - the import forms scripts use
    import gradfit.cuda.amp
    from gradfit.cuda.amp import GradScaler  # noqa: F401

    pairs = [
        (lambda lib: lib.cuda.amp.GradScaler(enabled=False)),
        (lambda lib: lib.cuda.amp.GradScaler()),
        (lambda lib: lib.cpu.amp.GradScaler()),
        (lambda lib: lib.cuda.amp.autocast()),
        (lambda lib: lib.cpu.amp.autocast(enabled=False)),
    ]
    for make in pairs:
        t, tw = _messages(lambda: make(torch))  # noqa: B023
        g, gw = _messages(lambda: make(gradfit))  # noqa: B023
        assert gw == tw
        assert type(g).__name__ == type(t).__name__
    assert gradfit.cpu.is_available() and gradfit.cpu.device_count() == torch.cpu.device_count()
