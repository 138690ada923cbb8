"""Trains a small MLP data-parallel; run under mpiexec (or alone with --single).

Usage: python mpi_train_script.py OUT_PREFIX [--single] [--fail-rank R]
"""

from __future__ import annotations

import sys

import numpy as np

import gradfit
import gradfit.nn as nn
from gradfit import distributed as dist
from gradfit.optim import SGD
from gradfit.utils.data import DataLoader, TensorDataset

GLOBAL_BATCH = 16


def main(argv):
    out = argv[0]
    single = "--single" in argv
    fail_rank = int(argv[argv.index("--fail-rank") + 1]) if "--fail-rank" in argv else None
    if single:
        world, rank, allreduce = 1, 0, None
    else:
        dist.init()
        world, rank = dist.get_world_size(), dist.get_rank()
    gradfit.set_default_dtype(gradfit.float64)
    gradfit.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 3))
    if not single:
        allreduce = dist.GradientAllreduce(model.parameters())
    rng = np.random.default_rng(0)
    x = gradfit.tensor(rng.standard_normal((64, 8)))
    y = gradfit.tensor(rng.standard_normal((64, 3)))
    dataset = TensorDataset(x, y)
    sampler = dist.DistributedSampler(dataset, num_replicas=world, rank=rank, seed=1)
    loader = DataLoader(dataset, batch_size=GLOBAL_BATCH // world, sampler=sampler)
    opt = SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss_fn = nn.MSELoss()
    step = 0
    for epoch in range(3):
        sampler.set_epoch(epoch)
        for xb, yb in loader:
            if fail_rank == rank and step == 2:
                raise RuntimeError(f"rank {rank} fails on purpose at step {step}")
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            if allreduce is not None:
                allreduce()
            opt.step()
            step += 1
    np.savez(f"{out}_rank{rank}.npz", **{k: v.numpy() for k, v in model.state_dict().items()})


if __name__ == "__main__":
    main(sys.argv[1:])
