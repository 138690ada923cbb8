"""Smoke test of the benchmark suite (issue #6): the quick mode's code path on toy sizes.

Checks that every workload runs for both frameworks and that the report holds a table
with both columns filled in. No timing assertions: only that numbers exist.
"""

import re
import subprocess
import sys
from pathlib import Path

import torch  # noqa: F401 - the benchmarks compare against it; fail, not skip, without it

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # `benchmarks` lives at the repository root, beside src/

from benchmarks import workloads  # noqa: E402
from benchmarks.config import TINY  # noqa: E402
from benchmarks.report import render  # noqa: E402
from benchmarks.worker import WORKLOADS, run_workloads  # noqa: E402


def _header(rows):
    from benchmarks.harness import machine_info

    return {
        "command": "test",
        "date": "today",
        "mode": "tiny",
        "repeats": TINY.repeats,
        "warmup": TINY.warmup,
        "machine": machine_info(),
        "mem_batch": TINY.w3_batches[0],
        "mem_steps": TINY.mem_steps,
    }


def test_every_workload_times_both_frameworks():
    rows = run_workloads(TINY, threads=1, log=lambda m: None)
    assert {r["workload"] for r in rows} == {
        "W0",
        "W1",
        "W2",
        "W3",
        "W3-adam",
        "scaling-batch",
        "scaling-width",
    }
    assert len(rows) == 4 + 1 + 1 + len(TINY.w3_batches) + 1 + 4
    for r in rows:
        assert r["errors"] == {}, (r["workload"], r["case"], r["errors"])
        for fw in ("gradfit", "torch"):
            assert r["median_s"][fw] > 0, (r["workload"], r["case"], fw)
        if r["workload"] in ("W3", "scaling-batch", "scaling-width"):
            assert r["median_s"]["gemm"] > 0
            assert r["flops"] == workloads.mlp_flops(tuple(r["sizes"]), r["batch"])
    text = render(rows, {}, _header(rows))
    for section in ("W0", "W1", "W2", "W3", "W4", "Scaling", "Targets", "Machine"):
        assert f"## {section}" in text
    # Every data row of the W1 table has a number in both framework columns.
    w1 = [line for line in text.splitlines() if line.startswith("| lecture program")]
    assert len(w1) == 1
    cells = [c.strip() for c in w1[0].split("|")[1:-1]]
    assert re.match(r"[\d,.]+ \(±\d+%\)", cells[2]) and re.match(r"[\d,.]+ \(±\d+%\)", cells[3])


def test_mlp_flops_counts_the_products_of_a_step():
    # 2-layer 3->4->2, batch 5: forward 2*5*(12+8); weight grads the same; input grad of
    # the second layer only 2*5*8.
    assert workloads.mlp_flops((3, 4, 2), 5) == 2 * 5 * (12 + 8) * 2 + 2 * 5 * 8


def test_command_line_writes_report(tmp_path):
    out = tmp_path / "BENCH.md"
    res = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--mode", "tiny", "--threads", "1"]
        + ["--only", "W0,W4", "--output", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    text = out.read_text()
    assert "python -m benchmarks --mode tiny" in text
    assert "| `import gradfit` |" in text and "| `import torch` |" in text
    rss = [line for line in text.splitlines() if line.startswith(("| gradfit |", "| torch |"))]
    assert len(rss) == 2 and all("error" not in line for line in rss)
    w0 = [line for line in text.splitlines() if line.startswith("| `(x*w).sum().backward()`")]
    assert len(w0) == 1 and "error" not in w0[0]
    assert set(WORKLOADS) >= {"W0", "W1", "W2", "W3"}
