"""Smoke test of the W6 sequence benchmarks (benchmarks/workloads_seq.py) on toy sizes:
both frameworks run both workloads, each row is the median of its repeats, and the table
shows those numbers. No speed targets."""

import statistics
import sys
from pathlib import Path

import pytest
import torch  # noqa: F401 - the benchmark compares against it; fail, not skip, without it

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # `benchmarks` lives at the repository root, beside src/

from benchmarks import harness, workloads_seq  # noqa: E402


def test_w6_workloads_run_for_both_frameworks_and_render(monkeypatch):
    samples = []  # the harness's per-step samples, to check each row's median against
    time_alternating = harness.time_alternating

    def recording(cases, repeats, warmup=1):
        timings = time_alternating(cases, repeats, warmup)
        samples.append({name: list(t.samples) for name, t in timings.items()})
        return timings

    monkeypatch.setattr(harness, "time_alternating", recording)
    rows = workloads_seq.run_rows("tiny", threads=1)
    (layers, heads, width, context, batch), (hidden, seq, b), _, repeats = workloads_seq.SIZES[
        "tiny"
    ]
    assert [(r["workload"], r["case"]) for r in rows] == [
        (
            "W6a",
            f"char GPT {layers} layers, {heads} heads, width {width}, context {context}, "
            f"batch {batch}",
        ),
        ("W6b", f"2-layer LSTM, hidden {hidden}, sequence {seq}, batch {b}"),
    ]
    for r, timed in zip(rows, samples, strict=True):
        assert set(r["ms_per_step"]) == set(timed) == {"gradfit", "torch"}
        for fw, xs in timed.items():
            assert len(xs) == repeats and min(xs) > 0, (r["workload"], fw, xs)
            assert r["ms_per_step"][fw] == pytest.approx(statistics.median(xs) * 1e3)
    text = workloads_seq.render(rows, {"gradfit": 100.0, "torch": 200.0}, "test")
    # each row of the table shows its medians in ms/step and their ratio
    for r in rows:
        (line,) = [ln for ln in text.splitlines() if ln.startswith(f"| {r['workload']} |")]
        cells = [c.strip() for c in line.split("|")[1:-1]]
        ms = r["ms_per_step"]
        assert cells[1] == r["case"]
        assert float(cells[3].split()[0]) == pytest.approx(ms["gradfit"], abs=0.051)
        assert float(cells[4].split()[0]) == pytest.approx(ms["torch"], abs=0.051)
        assert float(cells[5]) == pytest.approx(ms["gradfit"] / ms["torch"], abs=0.006)
    assert "gradfit 100 MB, torch 200 MB, ratio 0.50" in text
