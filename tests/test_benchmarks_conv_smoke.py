"""Smoke test of the W5 convolution benchmarks (issue 13): every workload runs for both
frameworks, the W5b GEMM ceiling runs, and the table lands in a report between its markers.
No timing assertions."""

import sys
from pathlib import Path

import torch  # noqa: F401 - the benchmarks compare against it; fail, not skip, without it

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import workloads_conv as wc  # noqa: E402
from benchmarks.kept import CONV  # noqa: E402


def test_w5_workloads_time_both_frameworks_and_render():
    rows = wc._worker(threads=1, repeats=1, steps=1)
    assert [r["workload"] for r in rows] == ["W5a", "W5b", "W5c"]
    for r in rows:
        assert r["median_s"]["gradfit"] > 0 and r["median_s"]["torch"] > 0
    assert rows[1]["median_s"]["gemm"] > 0
    text = wc.render(rows, "python -m benchmarks.workloads_conv")
    assert text.count("\n| W5") == 3
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
