"""Smoke test of the W5 convolution benchmarks (issue 13): every workload runs for both
frameworks, the W5b GEMM ceiling runs, and the table lands in a report between its markers.
Each row is the median of its repeats and the table shows those numbers; no speed targets."""

import statistics
import sys
from pathlib import Path

import pytest
import torch  # noqa: F401 - the benchmarks compare against it; fail, not skip, without it

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import harness  # noqa: E402
from benchmarks import workloads_conv as wc  # noqa: E402
from benchmarks.kept import CONV  # noqa: E402


def test_w5_workloads_time_both_frameworks_and_render(monkeypatch):
    samples = []  # the harness's per-step samples, to check each row's median against

    time_alternating = harness.time_alternating

    def recording(cases, repeats, warmup=1):
        timings = time_alternating(cases, repeats, warmup)
        samples.append({name: list(t.samples) for name, t in timings.items()})
        return timings

    monkeypatch.setattr(harness, "time_alternating", recording)
    rows = wc._worker(threads=1, repeats=2, steps=1)
    assert [(r["workload"], r["case"]) for r in rows] == [(w, c[0]) for w, c in wc.CASES.items()]
    for r, timed in zip(rows, samples, strict=True):
        columns = {"gradfit", "torch"} | ({"gemm"} if r["workload"] == "W5b" else set())
        assert set(r["median_s"]) == set(timed) == columns, r["workload"]
        for fw, xs in timed.items():
            assert len(xs) == 2 and min(xs) > 0, (r["workload"], fw, xs)
            assert r["median_s"][fw] == statistics.median(xs), (r["workload"], fw)
            assert r["spread"][fw] == pytest.approx((max(xs) - min(xs)) / r["median_s"][fw])
    text = wc.render(rows, "python -m benchmarks.workloads_conv")
    # each row of the table shows its medians in ms/step and their ratio
    lines = [line for line in text.splitlines() if line.startswith("| W5")]
    assert len(lines) == len(rows)
    for r, line in zip(rows, lines, strict=True):
        cells = [c.strip() for c in line.split("|")[1:-1]]
        assert cells[0] == f"{r['workload']}: {r['case']}"
        ms = {fw: r["median_s"][fw] * 1e3 for fw in r["median_s"]}
        for fw, cell in (("gradfit", cells[2]), ("torch", cells[3])):
            assert float(cell.split()[0]) == pytest.approx(ms[fw], abs=0.006), (fw, cell)
        assert float(cells[4]) == pytest.approx(ms["gradfit"] / ms["torch"], abs=0.006)
        assert cells[5] == ("yes" if ms["gradfit"] <= ms["torch"] else "**no**")
        if "gemm" in ms:
            assert float(cells[6]) == pytest.approx(ms["gemm"], abs=0.006)
    report = CONV.insert("# Report\n\n## Notes\n\nend\n", text)
    assert report.index(CONV.start) < report.index("## Notes")
    # a second write replaces the block instead of adding one
    again = CONV.insert(report, text)
    assert again.count(CONV.start) == 1 and again.count("| W5a") == 1


def test_w5_models_have_the_stated_shapes():
    import gradfit

    for which, (_, build, shape) in wc.CASES.items():
        model = build(gradfit)
        out = model(gradfit.randn(*shape))
        assert tuple(out.shape) == (shape[0], 10), which
