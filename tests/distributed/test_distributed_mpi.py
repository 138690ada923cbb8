"""Data-parallel training over MPI: same weights as one process, replicas identical, and a
failing rank ends the job instead of hanging."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.utils.data.distributed

import gradfit
from gradfit import distributed as dist

SCRIPT = Path(__file__).with_name("mpi_train_script.py")


def run_mpi(mpiexec, args, timeout=120):
    env = dict(os.environ, OMPI_MCA_rmaps_base_oversubscribe="1")
    return subprocess.run(
        mpiexec + [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def test_two_ranks_match_single_process(tmp_path, mpiexec):
    res = run_mpi(mpiexec, [str(tmp_path / "mpi")])
    assert res.returncode == 0, res.stderr[-3000:]
    single = subprocess.run(
        [sys.executable, str(SCRIPT), str(tmp_path / "one"), "--single"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert single.returncode == 0, single.stderr[-3000:]
    r0 = np.load(tmp_path / "mpi_rank0.npz")
    r1 = np.load(tmp_path / "mpi_rank1.npz")
    one = np.load(tmp_path / "one_rank0.npz")
    assert set(r0.files) == set(one.files) == {"0.weight", "0.bias", "2.weight", "2.bias"}
    for k in one.files:
        np.testing.assert_array_equal(r0[k], r1[k])  # replicas identical, bit for bit
        np.testing.assert_allclose(r0[k], one[k], rtol=1e-12, atol=1e-14)
        assert not np.array_equal(one[k], np.load(tmp_path / "one_rank0.npz")[k] * 0)


def test_failing_rank_ends_the_job(tmp_path, mpiexec):
    try:
        res = run_mpi(mpiexec, [str(tmp_path / "fail"), "--fail-rank", "1"], timeout=90)
    except subprocess.TimeoutExpired:
        pytest.fail("a failing rank left the job hanging")
    assert res.returncode != 0
    assert "fails on purpose" in res.stderr + res.stdout


def test_distributed_sampler_shards_are_disjoint_and_cover_the_global_batches():
    data = list(range(23))
    world, batch = 3, 6
    shards = [
        list(dist.DistributedSampler(data, num_replicas=world, rank=r, seed=5))
        for r in range(world)
    ]
    full = list(dist.DistributedSampler(data, num_replicas=1, rank=0, seed=5))
    padded = full + full[: 24 - 23]
    local = batch // world
    for t in range(len(shards[0]) // local):
        union = sorted(i for s in shards for i in s[t * local : (t + 1) * local])
        assert union == sorted(padded[t * batch : (t + 1) * batch])
    # the permutation is torch's: randperm from a generator seeded with seed + epoch
    g = gradfit.Generator().manual_seed(5)
    assert full == gradfit.randperm(23, generator=g).tolist()
    for r in range(world):  # same indices as PyTorch's DistributedSampler, epoch 0 and 1
        for epoch in (0, 1):
            ours = dist.DistributedSampler(data, num_replicas=world, rank=r, seed=5)
            ref = torch.utils.data.distributed.DistributedSampler(
                data, num_replicas=world, rank=r, seed=5
            )
            ours.set_epoch(epoch)
            ref.set_epoch(epoch)
            assert list(ours) == list(ref)
    with pytest.raises(ValueError, match="Invalid rank 3"):
        dist.DistributedSampler(data, num_replicas=3, rank=3)
