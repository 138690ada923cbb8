"""W5: convolutional networks (issue 13), gradfit against PyTorch, one and two threads.

- W5a: the course's 1-D CNN on MNIST-1D (three ``Conv1d`` 15-channel layers, kernel 3,
  stride 2, ReLU, ``Flatten``, ``Linear``), SGD with momentum, batch 100.
- W5b: an MNIST-shaped 2-D CNN (two Conv2d(3x3, padding 1)-ReLU-MaxPool(2) blocks with 32
  and 64 channels, a Linear head), SGD with momentum, batch 64, 28x28 inputs. The *GEMM*
  column runs the same step's matrix products alone in NumPy (the im2col products of
  both convolutions forward, their weight and input gradients, the head): the ceiling of
  an engine that computes convolutions as matrix products on NumPy.
- W5c: a residual 1-D network with BatchNorm on MNIST-1D shapes (stem Conv1d 1->32, three
  blocks ``relu(x + bn(conv(relu(bn(conv(x))))))``, global average pooling, Linear),
  SGD with momentum, batch 100.

Each step is a whole training step on one fixed random float32 batch (timing needs no real
data): forward, cross-entropy, backward, ``optimizer.step()``. The same code runs with
``F = gradfit`` and ``F = torch``.

``python -m benchmarks.workloads_conv`` times 1 and 2 threads (each in a fresh worker
process with the thread variables set before NumPy and PyTorch load) and prints the table;
``--write`` also keeps it in ``benchmarks/conv.md`` and puts it into BENCHMARKS.md, which
``python -m benchmarks`` then keeps when it rewrites the report.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from benchmarks.kept import CONV

HERE = Path(__file__).resolve().parent


# --------------------------------------------------------------------------- models
def cnn1d(F, n_classes: int = 10):
    nn = F.nn
    return nn.Sequential(
        nn.Conv1d(1, 15, kernel_size=3, stride=2),
        nn.ReLU(),
        nn.Conv1d(15, 15, kernel_size=3, stride=2),
        nn.ReLU(),
        nn.Conv1d(15, 15, kernel_size=3, stride=2),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(60, n_classes),
    )


def cnn2d(F, n_classes: int = 10):
    nn = F.nn
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(64 * 7 * 7, n_classes),
    )


def resnet1d(F, channels: int = 32, blocks: int = 3, n_classes: int = 10):
    nn = F.nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv1d(channels, channels, 3, padding=1, bias=False)
            self.bn1 = nn.BatchNorm1d(channels)
            self.conv2 = nn.Conv1d(channels, channels, 3, padding=1, bias=False)
            self.bn2 = nn.BatchNorm1d(channels)
            self.relu = nn.ReLU()

        def forward(self, x):
            h = self.relu(self.bn1(self.conv1(x)))
            return self.relu(x + self.bn2(self.conv2(h)))

    return nn.Sequential(
        nn.Conv1d(1, channels, 3, padding=1),
        nn.BatchNorm1d(channels),
        nn.ReLU(),
        *[Block() for _ in range(blocks)],
        nn.AdaptiveAvgPool1d(1),
        nn.Flatten(),
        nn.Linear(channels, n_classes),
    )


CASES = {
    "W5a": ("course 1-D CNN, MNIST-1D, batch 100", cnn1d, (100, 1, 40)),
    "W5b": ("2-D CNN 32-64, MNIST 28x28, batch 64", cnn2d, (64, 1, 28, 28)),
    "W5c": ("residual 1-D net + BatchNorm, 32 ch x 3 blocks, batch 100", resnet1d, (100, 1, 40)),
}


def training(F, which: str, steps: int) -> Callable[[], int]:
    """``steps`` SGD(momentum) steps of a W5 model on one fixed random float32 batch."""
    _, build, shape = CASES[which]
    F.manual_seed(0)
    model = build(F)
    criterion = F.nn.CrossEntropyLoss()
    optimizer = F.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = F.randn(*shape)
    y = F.randint(0, 10, (shape[0],))

    def run() -> int:
        for _ in range(steps):
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()
        loss.item()
        return steps

    return run


def w5b_gemm(steps: int) -> Callable[[], int]:
    """W5b's matrix products alone, in NumPy float32 (im2col layout, as gradfit computes
    them): per conv the forward product, the weight gradient and (second conv only) the
    input-gradient product; the head's three products. No im2col copies, no col2im."""
    rng = np.random.default_rng(0)
    b = 64
    f32 = np.float32
    c1 = rng.standard_normal((b * 28 * 28, 9), dtype=f32)  # conv1 columns (1 ch x 3x3)
    w1 = rng.standard_normal((9, 32), dtype=f32)
    g1 = rng.standard_normal((b * 28 * 28, 32), dtype=f32)
    c2 = rng.standard_normal((b * 14 * 14, 288), dtype=f32)  # conv2 columns (32 ch x 3x3)
    w2 = rng.standard_normal((288, 64), dtype=f32)
    g2 = rng.standard_normal((b * 14 * 14, 64), dtype=f32)
    h = rng.standard_normal((b, 3136), dtype=f32)
    wl = rng.standard_normal((3136, 10), dtype=f32)
    gl = rng.standard_normal((b, 10), dtype=f32)

    def run() -> int:
        for _ in range(steps):
            c1 @ w1, g1.T @ c1  # conv1: forward, weight gradient (no input gradient)
            c2 @ w2, g2.T @ c2, g2 @ w2.T  # conv2: forward, weight and input gradients
            h @ wl, gl.T @ h, gl @ wl.T  # head
        return steps

    return run


def w5b_flops() -> int:
    b = 64
    conv1 = 2 * b * 28 * 28 * 9 * 32 * 2
    conv2 = 2 * b * 14 * 14 * 288 * 64 * 3
    head = 2 * b * 3136 * 10 * 3
    return conv1 + conv2 + head


# --------------------------------------------------------------------------- running
def _worker(threads: int, repeats: int, steps: int) -> list[dict]:
    import torch

    import gradfit
    from benchmarks.harness import limit_threads, time_alternating

    rows = []
    with limit_threads(threads):
        for which, (label, _, _) in CASES.items():
            cases = {
                "gradfit": training(gradfit, which, steps),
                "torch": training(torch, which, steps),
            }
            if which == "W5b":
                cases["gemm"] = w5b_gemm(steps)
            t = time_alternating(cases, repeats, warmup=1)
            rows.append(
                {
                    "workload": which,
                    "case": label,
                    "threads": threads,
                    "median_s": {k: v.median for k, v in t.items()},
                    "spread": {k: v.spread for k, v in t.items()},
                }
            )
            print(f"[{threads} thr] {which} done", file=sys.stderr, flush=True)
    return rows


def run(threads_list=(1, 2), repeats: int = 7, steps: int = 10) -> list[dict]:
    """Each thread count in a fresh worker process (thread variables set before import)."""
    from benchmarks.harness import THREAD_ENV_VARS

    root = HERE.parent
    rows = []
    for threads in threads_list:
        env = dict(os.environ)
        for var in THREAD_ENV_VARS:
            env[var] = str(threads)
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "rows.json")
            cmd = [sys.executable, "-m", "benchmarks.workloads_conv", "--worker"]
            cmd += ["--threads", str(threads), "--repeats", str(repeats), "--steps", str(steps)]
            cmd += ["--out", out]
            subprocess.run(cmd, env=env, cwd=root, check=True)
            with open(out) as f:
                rows += json.load(f)
    return rows


def render(rows: list[dict], command: str) -> str:
    lines = [
        "## W5 — convolutional networks (issue 13)",
        "",
        f"Command: `{command}`. One SGD(momentum) training step on a fixed random float32 "
        "batch, median of the repeats (frameworks alternated, same process and threads). "
        "Targets: gradfit ≤ 1.0 × PyTorch's time per step. *GEMM* (W5b): the step's matrix "
        f"products alone in NumPy ({w5b_flops() / 1e9:.2f} GFLOP per step).",
        "",
        "| workload | threads | gradfit ms/step | torch ms/step | gradfit / torch | target met? "
        "| NumPy GEMM-only ms | gradfit % of GEMM ceiling |",
        "|---|---:|---:|---:|---:|---|---:|---:|",
    ]
    for r in rows:
        m, s = r["median_s"], r["spread"]
        g, t = m["gradfit"] * 1e3, m["torch"] * 1e3
        gemm = m.get("gemm")
        lines.append(
            f"| {r['workload']}: {r['case']} | {r['threads']} "
            f"| {g:.2f} (±{s['gradfit'] * 50:.0f}%) "
            f"| {t:.2f} (±{s['torch'] * 50:.0f}%) | {g / t:.2f} | {'yes' if g <= t else '**no**'} "
            f"| {'—' if gemm is None else f'{gemm * 1e3:.2f}'} "
            f"| {'—' if gemm is None else f'{100 * gemm * 1e3 / g:.0f}%'} |"
        )
    return "\n".join(lines) + "\n"


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.workloads_conv", description=__doc__)
    p.add_argument("--threads", default="1,2", help="thread counts, e.g. 1,2")
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--steps", type=int, default=10, help="training steps per timed repeat")
    p.add_argument("--write", action="store_true", help="keep the table and update BENCHMARKS.md")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        rows = _worker(int(args.threads), args.repeats, args.steps)
        with open(args.out, "w") as f:
            json.dump(rows, f)
        return
    threads = tuple(int(t) for t in args.threads.split(","))
    rows = run(threads, args.repeats, args.steps)
    command = "python -m benchmarks.workloads_conv " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    text = render(rows, command.strip())
    print(text)
    if args.write:
        CONV.save(text)


if __name__ == "__main__":
    main()
