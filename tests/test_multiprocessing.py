"""torch.multiprocessing: tensors shared across processes for real (spawn, fork, queues),
Module.share_memory for Hogwild training, spawn's error reporting; compared with PyTorch
where they print or raise the same."""

import os

import numpy as np
import pytest

import gradfit
import gradfit.multiprocessing as mp
from gradfit import nn


def _add_rank(rank, t):
    t[rank] += rank + 1


def _increment_from_queue(q, done):
    t = q.get()
    t += 10
    done.put((t.is_shared(), t.tolist()))


def _raise(rank):
    raise ValueError(f"worker {rank} failed")


def _exit_code(rank):
    os._exit(3)


def _hogwild(rank, model, steps):
    opt = gradfit.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(steps):
        opt.zero_grad()
        model(gradfit.ones(1, 2)).sum().backward()
        opt.step()


def test_share_memory_is_real_across_spawn_and_fork():
    t = gradfit.zeros(4)
    assert not t.is_shared()
    same = t.share_memory_()
    assert same is t and t.is_shared()
    assert t.share_memory_() is t  # already shared: a no-op
    mp.spawn(_add_rank, args=(t,), nprocs=2)
    np.testing.assert_array_equal(t.numpy(), [1, 2, 0, 0])
    p = mp.get_context("fork").Process(target=_add_rank, args=(3, t))
    p.start()
    p.join()
    np.testing.assert_array_equal(t.numpy(), [1, 2, 0, 4])


def test_queue_sends_shared_memory_both_ways():
    ctx = mp.get_context("fork")
    q, done = ctx.Queue(), ctx.Queue()
    u = gradfit.ones(3, dtype=gradfit.float64)
    p = ctx.Process(target=_increment_from_queue, args=(q, done))
    p.start()
    q.put(u)
    assert done.get(timeout=60) == (True, [11.0, 11.0, 11.0])
    p.join()
    assert u.is_shared()  # sending moved it into shared memory, as PyTorch does
    np.testing.assert_array_equal(u.numpy(), [11.0, 11.0, 11.0])


def test_hogwild_updates_land_in_one_model():
    gradfit.manual_seed(0)
    model = nn.Linear(2, 1)
    assert model.share_memory() is model
    assert all(p.is_shared() for p in model.parameters())
    before = model.weight.detach().clone()
    procs = [mp.Process(target=_hogwild, args=(i, model, 3)) for i in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    # each of 2 workers x 3 steps subtracts lr * d(sum)/dw = 0.1 * 1 from every weight
    np.testing.assert_allclose((before - model.weight).detach().numpy(), [[0.6, 0.6]], rtol=1e-5)


def test_spawn_errors_match_torch():
    import torch.multiprocessing as tmp  # parity: fails, not skips, without torch

    for lib in (mp, tmp):
        with pytest.raises(lib.ProcessRaisedException) as info:
            lib.start_processes(_raise, nprocs=2, start_method="fork")
        lines = str(info.value).splitlines()
        assert lines[2] == "-- Process 0 terminated with the following error:"
        assert lines[-1] == "ValueError: worker 0 failed"
        with pytest.raises(lib.ProcessExitedException, match="terminated with exit code 3"):
            lib.start_processes(_exit_code, nprocs=1, start_method="fork")


def test_non_leaf_refused_like_torch():
    from multiprocessing.reduction import ForkingPickler

    import torch
    import torch.multiprocessing as tmp  # noqa: F401 - registers torch's reductions

    for lib in (gradfit, torch):
        x = lib.ones(2, requires_grad=True) * 2
        with pytest.raises(RuntimeError, match="Cowardly refusing to serialize non-leaf tensor"):
            ForkingPickler.dumps(x)


def test_sharing_strategy_and_bad_arguments():
    assert mp.get_sharing_strategy() == "file_system"
    assert mp.get_all_sharing_strategies() == {"file_system"}
    with pytest.raises(ValueError, match="unknown strategy 'bogus'"):
        mp.set_sharing_strategy("bogus")
    with pytest.raises(ValueError, match="nprocs must be a positive int, got 0"):
        mp.start_processes(_raise, nprocs=0)
    with pytest.raises(TypeError, match="args must be a tuple"):
        mp.start_processes(_raise, args=[1])
    assert mp.Process is __import__("multiprocessing").Process
    assert callable(mp.set_start_method) and callable(mp.get_context)
