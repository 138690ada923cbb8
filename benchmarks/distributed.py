"""W3 over MPI: throughput of 1 rank against N ranks (issue #7).

The 784-1024-1024-10 ReLU MLP with cross-entropy and Adam, float32, global batch B; with
N ranks each rank computes the gradient of B / N samples and one Allreduce averages them.
Each rank uses one BLAS thread, so N ranks on N cores is compared with one process on one
core and with one process using N BLAS threads.

Run:  python -m benchmarks.distributed [--ranks 2] [--batch 256] [--steps 20] [--write]
It launches itself under ``mpiexec`` and prints a markdown table; ``--write`` keeps it in
``benchmarks/mpi.md`` and puts it into BENCHMARKS.md (``python -m benchmarks`` carries the
kept table into every report it writes).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.kept import MPI

HERE = Path(__file__).resolve().parent


def _worker(batch: int, steps: int, warmup: int) -> None:
    import numpy as np

    import gradfit
    import gradfit.nn as nn
    from gradfit import distributed as dist

    comm = dist.init()
    world, rank = comm.Get_size(), comm.Get_rank()
    gradfit.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(784, 1024), nn.ReLU(), nn.Linear(1024, 1024), nn.ReLU(), nn.Linear(1024, 10)
    )
    opt = gradfit.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    allreduce = dist.GradientAllreduce(model.parameters())
    rng = np.random.default_rng(rank)
    local = batch // world
    x = gradfit.tensor(rng.standard_normal((local, 784)).astype(np.float32))
    y = gradfit.tensor(rng.integers(0, 10, local))
    times = []
    for i in range(warmup + steps):
        comm.Barrier()
        t0 = time.perf_counter()
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        allreduce()
        opt.step()
        comm.Barrier()
        if i >= warmup:
            times.append(time.perf_counter() - t0)
    if rank == 0:
        times.sort()
        med = times[len(times) // 2]
        print(
            json.dumps(
                {
                    "ranks": world,
                    "batch": batch,
                    "ms_per_step": med * 1e3,
                    "samples_per_s": batch / med,
                }
            )
        )


def _run(ranks: int, threads: int, batch: int, steps: int) -> dict:
    env = dict(
        os.environ,
        OMP_NUM_THREADS=str(threads),
        OPENBLAS_NUM_THREADS=str(threads),
        MKL_NUM_THREADS=str(threads),
    )
    mpiexec = shutil.which("mpiexec", path=str(Path(sys.executable).parent)) or "mpiexec"
    cmd = [
        mpiexec,
        "--allow-run-as-root",
        "--oversubscribe",
        "--bind-to",
        "none",
        "-n",
        str(ranks),
        sys.executable,
        "-m",
        "benchmarks.distributed",
        "--worker",
        "--batch",
        str(batch),
        "--steps",
        str(steps),
    ]
    out = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        env=env,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    row = json.loads(out.stdout.strip().splitlines()[-1])
    row["threads_per_rank"] = threads
    return row


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ranks", type=int, default=2)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--write", action="store_true", help="keep the table, update BENCHMARKS.md")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        _worker(args.batch, args.steps, warmup=3)
        return
    rows = [
        _run(1, 1, args.batch, args.steps),
        _run(1, args.ranks, args.batch, args.steps),
        _run(args.ranks, 1, args.batch, args.steps),
    ]
    base = rows[0]["samples_per_s"]
    lines = [
        "## W3 over MPI — 1 rank against N ranks (issue #7)",
        "",
        f"Global batch {args.batch}, median of {args.steps} timed steps, "
        f"{platform.machine()}, {os.cpu_count()} cores, {time.strftime('%Y-%m-%d')}. "
        "Each rank computes the gradient of batch / N samples, one Allreduce averages them.",
        "",
        "Command: `python -m benchmarks.distributed "
        f"--ranks {args.ranks} --batch {args.batch} --steps {args.steps} --write`",
        "",
        "| ranks | BLAS threads per rank | ms / step | samples / s | vs 1 rank, 1 thread |",
        "|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['ranks']} | {r['threads_per_rank']} | {r['ms_per_step']:.1f} | "
            f"{r['samples_per_s']:.0f} | {r['samples_per_s'] / base:.2f}x |"
        )
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        MPI.save(text)


if __name__ == "__main__":
    main()
