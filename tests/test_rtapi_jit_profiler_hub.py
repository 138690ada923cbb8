"""gradfit.jit, gradfit.profiler and gradfit.hub (rtapi), against PyTorch where PyTorch
gives a reference: printed modules, numbers and gradients of scripted and traced code,
the profiler's schedule, step ranges and table layout, the hub directory rules."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

import gradfit
import gradfit.nn as gnn


def _torch():
    import torch
    import torch.nn as tnn

    return torch, tnn


def _net(nn):
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 4)
            self.seq = nn.Sequential(nn.Tanh(), nn.Linear(4, 2))
            self.drop = nn.Dropout(0.5)

        def helper(self, x):
            return self.seq(self.drop(self.fc(x)))

        def forward(self, x):
            return self.helper(x) * 2

    return Net()


class _Sub:
    @staticmethod
    def make(nn):
        class MyLinear(nn.Linear):
            def forward(self, x):
                return super().forward(x) + 1  # super() must work on the wrapper

        return MyLinear(3, 2)


# ---------------------------------------------------------------- jit
def _jit_run(lib, nn):
    lib.manual_seed(0)
    m = _net(nn)
    x = lib.randn(5, 3)
    s = lib.jit.script(m)
    t = lib.jit.trace(m.eval(), x)
    m.train()
    out = {"script_repr": repr(s), "trace_repr": repr(t), "child": repr(s.fc)}
    out["names"] = (type(s).__name__, type(t).__name__, s.original_name, t.fc.original_name)
    out["shared"] = (s.fc.weight is m.fc.weight, t.fc.bias is m.fc.bias)
    out["kinds"] = (
        isinstance(s, nn.Module),
        isinstance(s, lib.jit.ScriptModule),
        isinstance(t, lib.jit.ScriptModule),
    )
    s.eval()
    out["training"] = (m.training, s.training, s.drop.training, t.training)
    y = s(x)
    y.pow(2).sum().backward()
    out["y"] = y.detach().numpy()
    out["grad"] = m.fc.weight.grad.numpy().copy()
    out["keys"] = list(s.state_dict())

    def f(a, b):
        return a * b + a.sin()

    a = lib.tensor([0.5, 1.0], requires_grad=True)
    sf = lib.jit.script(f)
    tf = lib.jit.trace(f, (a, lib.ones(2)))
    r = sf(a, lib.tensor([2.0, 3.0])) + tf(a, lib.tensor([1.0, -1.0]))
    r.sum().backward()
    out["fn"] = (r.detach().numpy(), a.grad.numpy())
    out["flags"] = (lib.jit.is_scripting(), lib.jit.is_tracing())
    return out


def test_script_and_trace_match_torch():
    torch, tnn = _torch()
    want = _jit_run(torch, tnn)
    got = _jit_run(gradfit, gnn)
    for key in want:
        if isinstance(want[key], np.ndarray) or key == "fn":
            for w, g in zip(
                want[key] if key == "fn" else [want[key]],
                got[key] if key == "fn" else [got[key]],
                strict=True,
            ):
                np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6, err_msg=key)
        else:
            assert got[key] == want[key], key


def test_scripted_subclass_runs_super_forward():
    # PyTorch's compiler rejects super() in forward; gradfit runs the Python code as it is
    gradfit.manual_seed(0)
    m = _Sub.make(gnn)
    x = gradfit.randn(4, 3)
    np.testing.assert_array_equal(gradfit.jit.script(m)(x).detach().numpy(), m(x).detach().numpy())


def test_is_tracing_inside_trace_and_decorators():
    seen = []

    def f(x):
        seen.append(gradfit.jit.is_tracing())
        return x + 1

    tf = gradfit.jit.trace(f, gradfit.zeros(1))
    tf(gradfit.zeros(1))
    assert seen == [True, False]

    @gradfit.jit.ignore
    def g(x):
        return x

    @gradfit.jit.ignore(drop=True)
    def h(x):
        return x

    assert g(3) == 3 and h(4) == 4
    assert gradfit.jit.unused(g) is g and gradfit.jit.export(g) is g
    assert gradfit.jit.annotate(list, [1]) == [1]
    assert gradfit.jit.wait(gradfit.jit.fork(lambda a: a * 2, 21)) == 42
    torch, _ = _torch()
    assert gradfit.jit.Final is torch.jit.Final


def test_jit_save_load_give_one_line_errors(tmp_path):
    torch, _ = _torch()
    m = gradfit.jit.script(gnn.Linear(2, 2))
    for call in (
        lambda: gradfit.jit.save(m, str(tmp_path / "m.pt")),
        lambda: m.save(str(tmp_path / "m.pt")),
    ):
        with pytest.raises(RuntimeError) as e:
            call()
        assert "\n" not in str(e.value) and "gradfit.save(model.state_dict()" in str(e.value)
    missing = str(tmp_path / "none.pt")
    errs = []
    for lib in (torch, gradfit):
        try:
            lib.jit.load(missing)
        except ValueError as e:
            errs.append(str(e))
    assert errs[0] == errs[1]
    (tmp_path / "f.pt").write_bytes(b"x")
    with pytest.raises(RuntimeError, match="no TorchScript serialization"):
        gradfit.jit.load(str(tmp_path / "f.pt"))


# ---------------------------------------------------------------- profiler
def test_schedule_matches_torch():
    torch, _ = _torch()
    for kw in (
        dict(wait=1, warmup=1, active=2),
        dict(wait=0, warmup=2, active=1, repeat=2, skip_first=3),
        dict(wait=2, warmup=1, active=3, repeat=1, skip_first=1, skip_first_wait=1),
    ):
        ts, gs = torch.profiler.schedule(**kw), gradfit.profiler.schedule(**kw)
        assert [ts(i).name for i in range(25)] == [gs(i).name for i in range(25)]


def _schedule_log(lib):
    log = []
    x = lib.ones(3)

    def ready(prof):
        keys = sorted({e.key for e in prof.key_averages()} & {"ProfilerStep*", "work"})
        log.append((prof.step_num, keys, [e.name for e in prof.events() if "Step" in e.name]))

    sched = lib.profiler.schedule(wait=1, warmup=1, active=2, repeat=2)
    with lib.profiler.profile(schedule=sched, on_trace_ready=ready) as p:
        for _ in range(9):
            with lib.profiler.record_function("work"):
                (x * 2).sum()
            p.step()
    return log


def test_profile_schedule_and_steps_match_torch():
    torch, _ = _torch()
    assert _schedule_log(gradfit) == _schedule_log(torch)


def test_profile_measures_ranges_and_ops():
    x = gradfit.randn(16, 16, requires_grad=True)
    with gradfit.profiler.profile(record_shapes=True, profile_memory=True) as prof:
        with gradfit.profiler.record_function("outer"):
            time.sleep(0.02)
            y = (x @ x).relu().sum()
    evs = {e.key: e for e in prof.key_averages()}
    outer = evs["outer"]
    assert outer.cpu_time_total >= 20000  # microseconds: the sleep is inside
    children = sum(evs[k].cpu_time_total for k in ("aten::matmul", "aten::relu", "aten::sum"))
    assert outer.self_cpu_time_total == pytest.approx(outer.cpu_time_total - children)
    assert evs["aten::matmul"].self_cpu_memory_usage == 16 * 16 * 4
    shapes = prof.key_averages(group_by_input_shape=True)
    assert [e.input_shapes for e in shapes if e.key == "aten::matmul"] == [[[16, 16], [16, 16]]]
    # the ops are timed only while recording
    assert gradfit.autograd.function.Op.__dict__["apply"].__func__.__name__ == "apply"
    with gradfit.profiler.profile() as idle:
        pass
    y.backward()
    assert len(idle.events()) == 0 and len(prof.events()) == 4


def test_table_layout_matches_torch():
    torch, _ = _torch()
    tables = {}
    for lib in (torch, gradfit):
        x = lib.ones(4, 4)
        with lib.profiler.profile(record_shapes=True, profile_memory=True) as prof:
            with lib.profiler.record_function("a_rather_long_range_name"):
                with lib.profiler.record_function("inner"):
                    pass
        text = prof.key_averages(group_by_input_shape=True).table(sort_by="count", row_limit=2)
        x.sum()
        tables[lib] = text.splitlines()
    t, g = tables[torch], tables[gradfit]
    assert len(t) == len(g)
    assert t[0] == g[0] and t[1] == g[1] and t[2] == g[2] and t[-2] == g[-2]
    for line_t, line_g in zip(t[3:-2], g[3:-2], strict=True):
        assert line_t.split()[0] == line_g.split()[0]  # the names, in the same order
        assert len(line_t) == len(line_g)
    assert g[-1].startswith("Self CPU time total: ")


def test_trace_export_and_tensorboard_handler(tmp_path):
    import json

    with gradfit.profiler.profile(
        schedule=gradfit.profiler.schedule(wait=0, warmup=1, active=1, repeat=1),
        on_trace_ready=gradfit.profiler.tensorboard_trace_handler(str(tmp_path), "w0"),
    ) as p:
        for _ in range(3):
            gradfit.ones(2).sum()
            p.step()
    files = os.listdir(tmp_path)
    assert len(files) == 1 and files[0].startswith("w0.") and files[0].endswith(".pt.trace.json")
    events = json.loads((tmp_path / files[0]).read_text())["traceEvents"]
    assert {"ProfilerStep#1", "aten::sum"} <= {e["name"] for e in events}
    assert all(e["dur"] >= 0 for e in events)


# ---------------------------------------------------------------- hub
def test_hub_dir_rules_match_torch(monkeypatch, tmp_path):
    torch, _ = _torch()
    import torch.hub as thub

    import gradfit.hub as ghub

    saved = (thub._hub_dir, ghub._hub_dir)
    try:
        thub._hub_dir = ghub._hub_dir = None
        for env in (
            {"TORCH_HOME": str(tmp_path / "th")},
            {"XDG_CACHE_HOME": str(tmp_path / "x")},
            {},
        ):
            for k in ("TORCH_HOME", "XDG_CACHE_HOME"):
                monkeypatch.delenv(k, raising=False)
            for k, v in env.items():
                monkeypatch.setenv(k, v)
            assert ghub.get_dir() == thub.get_dir()
        thub.set_dir("~/somewhere")
        ghub.set_dir("~/somewhere")
        assert ghub.get_dir() == thub.get_dir()
    finally:
        thub._hub_dir, ghub._hub_dir = saved


def test_hub_loads_cached_checkpoint_and_local_hubconf(tmp_path):
    torch, tnn = _torch()
    torch.manual_seed(0)
    ckpt = tmp_path / "checkpoints"
    ckpt.mkdir()
    want = tnn.Linear(3, 2).state_dict()
    torch.save(want, ckpt / "lin-0123.pth")
    url = "https://example.com/models/lin-0123.pth"
    sd = gradfit.hub.load_state_dict_from_url(url, model_dir=str(ckpt))
    m = gnn.Linear(3, 2)
    m.load_state_dict(sd)
    np.testing.assert_array_equal(m.weight.detach().numpy(), want["weight"].numpy())
    with pytest.raises(RuntimeError, match="invalid hash value"):
        gradfit.hub.load_state_dict_from_url(url, model_dir=str(ckpt), check_hash=True)
    with pytest.raises(RuntimeError) as e:
        gradfit.hub.load_state_dict_from_url(url + ".missing", model_dir=str(ckpt))
    assert url + ".missing" in str(e.value) and "\n" not in str(e.value)
    with pytest.raises(RuntimeError, match="https://example.com/x.bin"):
        gradfit.hub.download_url_to_file("https://example.com/x.bin", str(tmp_path / "x"))
    (tmp_path / "hubconf.py").write_text(
        "import gradfit.nn as nn\n"
        "def tiny(n=2):\n    'A tiny linear model.'\n    return nn.Linear(n, 1)\n"
        "def _private():\n    pass\n"
    )
    model = gradfit.hub.load(str(tmp_path), "tiny", 5, source="local")
    assert tuple(model.weight.shape) == (1, 5)
    assert gradfit.hub.list(str(tmp_path), source="local") == ["tiny"]
    assert gradfit.hub.help(str(tmp_path), "tiny", source="local") == "A tiny linear model."
    with pytest.raises(RuntimeError, match="https://github.com/owner/repo"):
        gradfit.hub.load("owner/repo", "tiny")
