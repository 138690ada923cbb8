"""torch.autograd.profiler (profile, record_function) and torch.mps, against PyTorch."""

import pytest

import gradfit


def _torch():
    import torch  # parity tests fail, not skip, without torch

    return torch


def _profiled(lib):
    from importlib import import_module

    profiler = import_module(f"{lib.__name__}.autograd.profiler")
    x = lib.ones(4, 3, requires_grad=True)
    with profiler.profile(record_shapes=True) as prof:
        with profiler.record_function("forward_pass"):
            y = (x * 2).sum()
        y.backward()
    keys = {e.key for e in prof.key_averages()}
    events = prof.function_events
    with pytest.raises(RuntimeError, match="not reentrant"):
        with prof:
            pass
    with lib.autograd.profiler.profile(enabled=False) as off:
        (x * 2).sum()
    table = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=5)
    return (
        "forward_pass" in keys,
        "forward_pass" in [e.name for e in events],
        off is None,
        table.splitlines()[1].split()[:3],
        prof.self_cpu_time_total > 0,
    )


def test_autograd_profiler_matches_torch():
    assert _profiled(gradfit) == _profiled(_torch())


def test_mps_namespace_matches_torch_without_mps():
    torch = _torch()
    for lib in (gradfit, torch):
        assert lib.mps.is_available() is False
        assert lib.mps.device_count() == 0
        lib.mps.manual_seed(3)
        for fn in ("synchronize", "empty_cache", "current_allocated_memory", "seed"):
            with pytest.raises(RuntimeError, match="without MPS backend"):
                getattr(lib.mps, fn)()
        assert lib.backends.mps.is_available() is False
