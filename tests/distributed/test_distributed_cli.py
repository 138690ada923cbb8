"""`mpiexec -n 2 gradfit train --distributed` against one process, through the CLI."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import gradfit

GRADFIT = [sys.executable, "-m", "gradfit.cli"]
ARGS = [
    "train",
    "--distributed",
    "--data",
    "lecture-random",
    "--epochs",
    "4",
    "--batch-size",
    "10",
    "--dtype",
    "float64",
    "--quiet",
]


def test_two_rank_cli_run_equals_one_process(tmp_path, mpiexec):
    one = subprocess.run(
        GRADFIT + ARGS + ["--out", str(tmp_path / "one")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert one.returncode == 0, one.stderr
    two = subprocess.run(
        mpiexec + GRADFIT + ARGS + ["--out", str(tmp_path / "two")],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert two.returncode == 0, two.stderr[-3000:]
    a = gradfit.load(str(tmp_path / "one" / "model.safetensors"))
    b = gradfit.load(str(tmp_path / "two" / "model.safetensors"))
    assert set(a) == set(b)
    for k in a:
        x, y = a[k].numpy(), b[k].numpy()
        assert np.max(np.abs(x - y)) <= 1e-12 * np.max(np.abs(x)), k
    # rank 0 alone wrote the run: one metrics line per epoch, the same losses
    lines_one = (tmp_path / "one" / "metrics.jsonl").read_text().splitlines()
    lines_two = (tmp_path / "two" / "metrics.jsonl").read_text().splitlines()
    assert len(lines_one) == len(lines_two) == 4


def test_batch_not_divisible_by_ranks_is_a_usage_error(tmp_path, mpiexec):
    args = [a if a != "10" else "9" for a in ARGS]
    res = subprocess.run(
        mpiexec + GRADFIT + args + ["--out", str(tmp_path / "odd")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 2
    assert "batch_size = 9 does not split evenly over 2 MPI ranks" in res.stderr


@pytest.mark.parametrize("ranks", [2])
def test_a_rank_failing_alone_aborts_the_job(tmp_path, ranks, mpiexec):
    """Rank 1 cannot read its data file: it must end the job, not leave rank 0 waiting."""
    script = tmp_path / "one_rank_fails.py"
    script.write_text(
        "import sys\n"
        "from gradfit import distributed as dist\n"
        "from gradfit.cli import main\n"
        "dist.init()\n"
        "if dist.get_rank() == 1:\n"
        "    sys.argv[sys.argv.index('lecture-random')] = 'missing.csv'\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    try:
        res = subprocess.run(
            mpiexec
            + [sys.executable, str(script)]
            + ARGS
            + ["--out", str(tmp_path / "x"), "--epochs", "50"],
            capture_output=True,
            text=True,
            timeout=90,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("one failing rank left the job hanging")
    assert res.returncode != 0
    assert "missing.csv" in res.stderr
