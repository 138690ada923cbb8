"""Smoke test of the benchmark suite (issue #6): the quick mode's code path on toy sizes.

Checks that every workload runs for every framework, that each row is the median of its
repeats, that the W1 step time agrees with the same step timed here, and that the report's
table shows those numbers. No speed targets: a busy machine must not fail it.
"""

import re
import statistics
import subprocess
import sys
from pathlib import Path

import pytest
import torch  # noqa: F401 - the benchmarks compare against it; fail, not skip, without it

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # `benchmarks` lives at the repository root, beside src/

from benchmarks import harness, worker, workloads  # noqa: E402
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


def _expected_rows():
    """(workload, case, the columns timed) of every row, in order, from the config."""

    def mlp(sizes, batch):
        return f"{'-'.join(map(str, sizes))}, batch {batch}"

    simple = {"gradfit", "torch", "numpy"}
    rows = [("W0", label, simple) for label in workloads.W0_KINDS.values()]
    rows += [
        ("W1", "lecture program, 10-40-40-5, batch 10", simple),
        ("W2", "MNIST-1D recipe, 40-100-100-10, batch 100", simple),
    ]
    rows += [("W3", mlp(TINY.w3_sizes, b), simple | {"gemm"}) for b in TINY.w3_batches]
    rows += [("W3-adam", "Adam step only", {"gradfit", "torch"})]
    rows += [
        ("scaling-batch", mlp(TINY.w3_sizes, b), {"gradfit", "torch", "gemm"})
        for b in TINY.scale_batches
    ]
    s = TINY.w3_sizes
    rows += [
        ("scaling-width", mlp((s[0], w, w, s[-1]), TINY.scale_batch), {"gradfit", "torch", "gemm"})
        for w in TINY.scale_widths
    ]
    return rows


def _number(cell):
    return float(re.match(r"([\d,.]+)", cell).group(1).replace(",", ""))


def test_every_workload_times_both_frameworks(monkeypatch):
    # Keep the harness's samples so the rows' medians can be checked against them.
    samples = []

    time_alternating = harness.time_alternating

    def recording(cases, repeats, warmup=1):
        timings = time_alternating(cases, repeats, warmup)
        samples.append({name: list(t.samples) for name, t in timings.items()})
        return timings

    monkeypatch.setattr(worker, "time_alternating", recording)
    rows = run_workloads(TINY, threads=1, log=lambda m: None)
    expected = _expected_rows()
    assert [(r["workload"], r["case"]) for r in rows] == [(w, c) for w, c, _ in expected]
    assert len(samples) == len(rows)  # one timing per row, none retried
    for r, (_, _, columns), timed in zip(rows, expected, samples, strict=True):
        where = (r["workload"], r["case"])
        assert r["errors"] == {}, (where, r["errors"])
        assert set(r["median_s"]) == set(timed) == columns, where
        for fw, xs in timed.items():
            # The median of the repeats' per-unit times, each a real, positive duration.
            assert len(xs) == TINY.repeats and min(xs) > 0, (where, fw, xs)
            assert r["median_s"][fw] == statistics.median(xs), (where, fw)
            assert min(xs) <= r["median_s"][fw] <= max(xs), (where, fw)
            assert r["spread"][fw] == pytest.approx((max(xs) - min(xs)) / r["median_s"][fw])
        if r["workload"] in ("W3", "scaling-batch", "scaling-width"):
            assert r["flops"] == workloads.mlp_flops(tuple(r["sizes"]), r["batch"])

    # The W1 workload is the lecture's program: one call runs all its steps of batch 10.
    # (Its speed is the benchmarks' business, not a test's.)
    import gradfit

    step = workloads.lecture_program(gradfit, TINY.w1_epochs, TINY.w1_examples)
    assert step() == TINY.w1_epochs * TINY.w1_examples // 10
    w1 = next(r for r in rows if r["workload"] == "W1")

    text = render(rows, {}, _header(rows))
    for section in ("W0", "W1", "W2", "W3", "W4", "Scaling", "Targets", "Machine"):
        assert f"## {section}" in text
    # The W1 table's row shows the medians in µs/step and their ratio.
    lines = [line for line in text.splitlines() if line.startswith("| lecture program")]
    assert len(lines) == 1
    cells = [c.strip() for c in lines[0].split("|")[1:-1]]
    us = {fw: w1["median_s"][fw] * 1e6 for fw in ("gradfit", "torch", "numpy")}
    for fw, cell in zip(("gradfit", "torch", "numpy"), cells[2:5], strict=True):
        assert re.fullmatch(r"[\d,.]+ \(±\d+%\)", cell), cell
        assert _number(cell) == pytest.approx(us[fw], rel=0.01, abs=0.01), (fw, cell)
        assert cell.endswith(f"(±{w1['spread'][fw] * 50:.0f}%)")
    assert float(cells[5]) == pytest.approx(us["gradfit"] / us["torch"], abs=0.006)


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
