"""Resume: a run killed with SIGKILL at a random moment and resumed ends with the same
weights, bit for bit, as a run that was never interrupted."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time

import numpy as np
import torch  # noqa: F401 - the project's tests require the reference implementation
from safetensors.numpy import load_file

from gradfit.serialization import load_checkpoint

# Small but with every kind of state: momentum buffers, a schedule that changes the lr
# during the run, shuffling with the loader's generator.
ARGS = "--hidden 24,12 --epochs 150 --batch-size 50 --seed 3 --scheduler-arg step_size=3 "
ARGS = (ARGS + "--scheduler-arg gamma=0.8 --quiet").split()
EPOCHS = 150  # long enough (a few seconds) that every kill lands mid-run


def _metrics(run):
    out = []
    for line in (run / "metrics.jsonl").read_text().splitlines():
        m = json.loads(line)
        m.pop("seconds")
        out.append(m)
    return out


def _kill_after_first_checkpoint(spawn_gradfit, cwd, args, rng) -> float:
    """Start a training process, SIGKILL it at a random moment after its first
    checkpoint; returns the delay used. Fails if it finished before the kill."""
    proc = spawn_gradfit(["train", *args], cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    ckpt = cwd / "run" / "checkpoint.safetensors"
    deadline = time.monotonic() + 60
    while not ckpt.exists():
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline, "no checkpoint within 60 s"
        time.sleep(0.005)
    delay = rng.uniform(0.0, 0.6)
    time.sleep(delay)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    return delay


def test_sigkill_and_resume_gives_bit_identical_weights(gf, tmp_path, spawn_gradfit):
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    code, _, err = gf("train", *ARGS, "--out", "straight")
    assert code == 0, err
    ref = load_file(str(tmp_path / "straight" / "model.safetensors"))

    # Kill, resume in a subprocess and kill again, then resume to the end in-process.
    delays = [_kill_after_first_checkpoint(spawn_gradfit, tmp_path, [*ARGS, "--out", "run"], rng)]
    state = load_checkpoint(str(tmp_path / "run" / "checkpoint.safetensors"))
    killed_at = [int(state["epoch"])]
    assert 1 <= killed_at[0] < EPOCHS
    ckpt = tmp_path / "run" / "checkpoint.safetensors"
    before = os.stat(ckpt).st_ino  # os.replace gives each new checkpoint a new inode
    proc = spawn_gradfit(
        ["train", "--resume", "run", "--quiet"],
        tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while os.stat(ckpt).st_ino == before and proc.poll() is None:
        assert time.monotonic() < deadline, "the resumed run wrote no checkpoint in 60 s"
        time.sleep(0.002)
    time.sleep(rng.uniform(0.0, 0.3))
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL, "the resumed run finished before the kill"
    killed_at.append(int(load_checkpoint(str(ckpt))["epoch"]))
    # The second kill lands after at least one more epoch; on a fast machine it may come
    # after the last checkpoint but before the process exits, which resume must handle too.
    assert killed_at[0] < killed_at[1] <= EPOCHS
    code, out, err = gf("train", "--resume", "run")
    assert code == 0, err
    assert "resuming run after epoch" in out or "no checkpoint yet" in out

    got = load_file(str(tmp_path / "run" / "model.safetensors"))
    assert sorted(got) == sorted(ref)
    for k in ref:
        assert got[k].dtype == ref[k].dtype
        assert got[k].tobytes() == ref[k].tobytes(), (
            f"{k} differs after kills at epochs {killed_at} (delays {delays}, seed {seed})"
        )
    # The optimizer state and the metrics agree too (apart from timings).
    a = load_checkpoint(str(tmp_path / "run" / "checkpoint.safetensors"))
    b = load_checkpoint(str(tmp_path / "straight" / "checkpoint.safetensors"))
    for i, s in b["optimizer"]["state"].items():
        assert np.array_equal(
            a["optimizer"]["state"][i]["momentum_buffer"].numpy(), s["momentum_buffer"].numpy()
        )
    assert a["scheduler"] == b["scheduler"]
    assert _metrics(tmp_path / "run") == _metrics(tmp_path / "straight")
    assert not list((tmp_path / "run").glob(".*.tmp"))


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


def test_ctrl_c_exits_130_and_the_run_resumes(tmp_path, spawn_gradfit, gf):
    proc = spawn_gradfit(
        ["train", *ARGS, "--out", "run"],
        tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    ckpt = tmp_path / "run" / "checkpoint.safetensors"
    deadline = time.monotonic() + 60
    while not ckpt.exists():
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.005)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err.startswith("gradfit: error: interrupted") and err.count("\n") == 1
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["status"] == "interrupted"
    epoch = load_checkpoint(str(ckpt))["epoch"]
    assert 1 <= epoch < EPOCHS
    code, _, err = gf("train", "--resume", "run", "--quiet")
    assert code == 0, err
    assert len((tmp_path / "run" / "metrics.jsonl").read_text().splitlines()) == EPOCHS
