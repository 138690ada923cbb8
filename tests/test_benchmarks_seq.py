"""Smoke test of the W6 sequence benchmarks (benchmarks/workloads_seq.py) on toy sizes:
both frameworks run both workloads and the report renders. No timing assertions."""

import sys
from pathlib import Path

import torch  # noqa: F401 - the benchmark compares against it; fail, not skip, without it

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # `benchmarks` lives at the repository root, beside src/

from benchmarks import workloads_seq  # noqa: E402


def test_w6_workloads_run_for_both_frameworks_and_render():
    rows = workloads_seq.run_rows("tiny", threads=1)
    assert [r["workload"] for r in rows] == ["W6a", "W6b"]
    for r in rows:
        assert r["ms_per_step"]["gradfit"] > 0 and r["ms_per_step"]["torch"] > 0
    text = workloads_seq.render(rows, {"gradfit": 100.0, "torch": 200.0}, "test")
    assert "| W6a |" in text and "| W6b |" in text and "ratio 0.50" in text
