"""`mpiexec -n 2 gradfit train --distributed` against plain `gradfit train`, through the CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import gradfit

GRADFIT = [sys.executable, "-m", "gradfit.cli"]
# 80 training samples in batches of 9: the last global batch (8) and every batch of 9 split
# unevenly over two ranks, which the loss weighting must make exact.
ARGS = ["train", "--data", "lecture-random", "--epochs", "4", "--batch-size", "9"]
ARGS += ["--dtype", "float64", "--hidden", "16"]


def _run(cmd, tmp_path, timeout=180):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=tmp_path)


def test_two_rank_run_equals_plain_gradfit_train(tmp_path, mpiexec):
    one = _run(GRADFIT + ARGS + ["--out", "one"], tmp_path)
    assert one.returncode == 0, one.stderr
    two = _run(mpiexec + GRADFIT + ARGS + ["--distributed", "--out", "two"], tmp_path)
    assert two.returncode == 0, two.stderr[-3000:]
    assert "ranks     2 MPI processes" in two.stdout and "ranks" not in one.stdout
    a = gradfit.load(str(tmp_path / "one" / "model.safetensors"))
    b = gradfit.load(str(tmp_path / "two" / "model.safetensors"))
    assert set(a) == set(b)
    for k in a:
        x, y = a[k].numpy(), b[k].numpy()
        assert np.max(np.abs(x - y)) <= 1e-12 * np.max(np.abs(x)), k
    # rank 0 alone wrote the run: one metrics line per epoch, the same losses
    m1 = [json.loads(s) for s in (tmp_path / "one" / "metrics.jsonl").read_text().splitlines()]
    m2 = [json.loads(s) for s in (tmp_path / "two" / "metrics.jsonl").read_text().splitlines()]
    assert [m["epoch"] for m in m2] == [1, 2, 3, 4]
    for p, q in zip(m1, m2):
        assert abs(p["train_loss"] - q["train_loss"]) <= 1e-12 * p["train_loss"]
        assert abs(p["val_loss"] - q["val_loss"]) <= 1e-12 * p["val_loss"]


def test_mpi_launcher_without_distributed_is_refused(tmp_path, mpiexec):
    res = _run(mpiexec + GRADFIT + ARGS + ["--out", "x", "--quiet"], tmp_path, timeout=120)
    assert res.returncode == 2, res.stderr
    lines = [s for s in res.stderr.splitlines() if s.startswith("gradfit: error:")]
    assert lines and "without --distributed; add --distributed" in lines[0]
    assert "Traceback" not in res.stderr
    assert not (tmp_path / "x").exists()


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
            + ["--distributed", "--quiet", "--out", str(tmp_path / "x"), "--epochs", "50"],
            capture_output=True,
            text=True,
            timeout=90,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("one failing rank left the job hanging")
    assert res.returncode != 0
    assert "missing.csv" in res.stderr
