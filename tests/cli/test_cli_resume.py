"""Resume: extending a finished run, metrics logged after the checkpoint. (Kills at exact
points and Ctrl-C, then resume: test_cli_safety.py.)"""

from __future__ import annotations

import json

import torch  # noqa: F401 - the project's tests require the reference implementation
from safetensors.numpy import load_file


def test_resume_extends_a_finished_run_like_a_longer_run(gf, tmp_path):
    args = ["--hidden", "16", "--batch-size", "100", "--scheduler-arg", "step_size=2", "--quiet"]
    assert gf("train", *args, "--epochs", "4", "--out", "long")[0] == 0
    assert gf("train", *args, "--epochs", "2", "--out", "short")[0] == 0
    code, out, err = gf("train", "--resume", "short", "--epochs", "4")
    assert code == 0, err
    a = load_file(str(tmp_path / "long" / "model.safetensors"))
    b = load_file(str(tmp_path / "short" / "model.safetensors"))
    assert all(a[k].tobytes() == b[k].tobytes() for k in a)
    assert "epochs = 4" in (tmp_path / "short" / "config.toml").read_text()
    # Resuming a finished run trains nothing and says so.
    code, out, _ = gf("train", "--resume", "short")
    assert code == 0 and "already finished its 4 epochs" in out
    assert len((tmp_path / "short" / "metrics.jsonl").read_text().splitlines()) == 4


def test_resume_drops_metrics_logged_after_the_checkpoint(gf, tmp_path):
    assert gf("train", "--hidden", "8", "--epochs", "3", "--out", "r", "--quiet")[0] == 0
    full = (tmp_path / "r" / "metrics.jsonl").read_text()
    # As if killed after logging epoch 3 (half a line) but before its checkpoint was written:
    # put back the epoch-2 checkpoint of an identical run.
    assert gf("train", "--hidden", "8", "--epochs", "2", "--out", "r2", "--quiet")[0] == 0
    (tmp_path / "r" / "checkpoint.safetensors").write_bytes(
        (tmp_path / "r2" / "checkpoint.safetensors").read_bytes()
    )
    (tmp_path / "r" / "metrics.jsonl").write_text(full + '{"epoch": 4, "train_lo')
    code, _, err = gf("train", "--resume", "r", "--quiet")
    assert code == 0, err
    assert [
        json.loads(s)["epoch"] for s in (tmp_path / "r" / "metrics.jsonl").read_text().splitlines()
    ] == [1, 2, 3]
