"""Issue 12: nothing lost, nothing silent. OS errors are one line with exit code 4 and leave
what was on disk whole; kills and Ctrl-C land at exact points (the test-only switches
GRADFIT_TEST_KILL / GRADFIT_TEST_SIGNAL / GRADFIT_TEST_WRITE_ERROR) and the run resumes bit
for bit; files follow the umask; concurrent searches on a new study both work."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys

from safetensors.numpy import load_file

from gradfit.serialization import load_checkpoint
from gradfit.train.config import config_from_layers, read_toml

# 4000 MNIST-1D samples in batches of 500: 8 steps per epoch.
TINY = ["--hidden", "8", "--epochs", "4", "--batch-size", "500", "--quiet"]


def _one_error_line(err: str) -> str:
    assert "Traceback" not in err, err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("gradfit: error: "), err
    return lines[0]


def _no_temporaries(run) -> None:
    assert not [p.name for p in run.iterdir() if p.name.startswith(".tmp-")]


def test_disk_full_while_checkpointing_is_one_line_and_keeps_the_run_readable(
    gf, tmp_path, monkeypatch
):
    monkeypatch.setenv("GRADFIT_TEST_WRITE_ERROR", "checkpoint.safetensors:ENOSPC")
    code, out, err = gf("train", *TINY, "--out", "r")
    assert code == 4
    line = _one_error_line(err)
    assert "'r/checkpoint.safetensors': No space left on device" in line
    config_from_layers([(read_toml(tmp_path / "r" / "config.toml"), "config.toml")])
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert summary["status"] == "failed: No space left on device"
    assert summary["epochs_completed"] == 0
    _no_temporaries(tmp_path / "r")


def test_file_size_limit_leaves_the_old_checkpoint_whole(gf, tmp_path, spawn_gradfit):
    assert gf("train", "--hidden", "100", "--epochs", "1", "--quiet", "--out", "r")[0] == 0
    ckpt = tmp_path / "r" / "checkpoint.safetensors"
    before = ckpt.read_bytes()
    size = len(before) - 1000  # the next checkpoint cannot be written, the other files can

    def limit():  # Python ignores SIGXFSZ, so a write past the limit raises EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))

    proc = spawn_gradfit(
        ["train", "--resume", "r", "--epochs", "2", "--quiet"],
        tmp_path,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=limit,
    )
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 4
    assert "checkpoint.safetensors" in _one_error_line(err) and "File too large" in err
    assert ckpt.read_bytes() == before
    _no_temporaries(tmp_path / "r")


def test_out_below_a_file_is_one_line(gf, tmp_path):
    (tmp_path / "afile").write_text("keep")
    code, _, err = gf("train", *TINY, "--out", "afile/sub")
    assert code == 4 and "'afile/sub': Not a directory" in _one_error_line(err)
    assert (tmp_path / "afile").read_text() == "keep"


def test_evaluate_prints_its_numbers_before_a_failed_write(gf, tmp_path, monkeypatch):
    assert gf("train", *TINY, "--out", "r")[0] == 0
    monkeypatch.setenv("GRADFIT_TEST_WRITE_ERROR", "evaluation.json:ENOSPC")
    code, out, err = gf("evaluate", "r")
    assert code == 4 and "evaluation.json': No space left on device" in _one_error_line(err)
    assert "accuracy: " in out and "confusion matrix" in out
    assert not (tmp_path / "r" / "evaluation.json").exists()


def _spawn(spawn_gradfit, tmp_path, args, **env):
    proc = spawn_gradfit(
        args,
        tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env_extra=env,
    )
    _, err = proc.communicate(timeout=120)
    return proc.returncode, err


def test_kills_at_a_step_and_inside_a_checkpoint_write_then_resume_is_bit_identical(
    gf, tmp_path, spawn_gradfit
):
    args = [*TINY, "--epochs", "5", "--seed", "3", "--scheduler-arg", "step_size=2"]
    assert gf("train", *args, "--out", "straight")[0] == 0
    run = tmp_path / "run"
    # SIGKILL before the 13th step: in epoch 2, after the epoch-1 checkpoint.
    code, _ = _spawn(
        spawn_gradfit, tmp_path, ["train", *args, "--out", "run"], GRADFIT_TEST_KILL="step:13"
    )
    assert code == -signal.SIGKILL
    assert load_checkpoint(str(run / "checkpoint.safetensors"))["epoch"] == 1
    # The lock died with the process; SIGKILL halfway through the second checkpoint the
    # resumed run writes (epoch 3), leaving a torn temporary file beside the epoch-2 one.
    kill = {"GRADFIT_TEST_KILL": "write:checkpoint.safetensors:2"}
    code, _ = _spawn(spawn_gradfit, tmp_path, ["train", "--resume", "run", "--quiet"], **kill)
    assert code == -signal.SIGKILL
    assert load_checkpoint(str(run / "checkpoint.safetensors"))["epoch"] == 2
    assert [p.name for p in run.iterdir() if p.name.startswith(".tmp-checkpoint.safetensors")]
    code, out, err = gf("train", "--resume", "run")
    assert code == 0, err
    assert "resuming run after epoch 2" in out
    a = load_file(str(run / "model.safetensors"))
    b = load_file(str(tmp_path / "straight" / "model.safetensors"))
    assert sorted(a) == sorted(b) and all(a[k].tobytes() == b[k].tobytes() for k in a)

    def metrics(r):
        return [
            {k: v for k, v in json.loads(s).items() if k != "seconds"}
            for s in (r / "metrics.jsonl").read_text().splitlines()
        ]

    assert metrics(run) == metrics(tmp_path / "straight")
    _no_temporaries(run)


def test_ctrl_c_inside_a_checkpoint_write_reports_the_saved_epochs(gf, tmp_path, spawn_gradfit):
    code, err = _spawn(
        spawn_gradfit,
        tmp_path,
        ["train", *TINY, "--out", "run"],
        GRADFIT_TEST_KILL="write:checkpoint.safetensors:2",
        GRADFIT_TEST_SIGNAL="INT",
    )
    assert code == 130
    assert _one_error_line(err) == (
        "gradfit: error: interrupted; the run continues from its last checkpoint with "
        "gradfit train --resume run"
    )
    run = tmp_path / "run"
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "interrupted"
    assert (
        summary["epochs_completed"]
        == 1
        == load_checkpoint(str(run / "checkpoint.safetensors"))["epoch"]
    )
    assert summary["final"]["epoch"] == 1
    _no_temporaries(run)
    code, _, err = gf("train", "--resume", "run", "--quiet")
    assert code == 0, err
    assert [json.loads(s)["epoch"] for s in (run / "metrics.jsonl").read_text().splitlines()] == [
        1,
        2,
        3,
        4,
    ]


def test_run_files_follow_the_umask(gf, tmp_path):
    old = os.umask(0o027)
    try:
        assert gf("train", *TINY, "--epochs", "1", "--out", "r")[0] == 0
        assert gf("evaluate", "r", "--quiet")[0] == 0
    finally:
        os.umask(old)
    modes = {p.name: p.stat().st_mode & 0o777 for p in (tmp_path / "r").iterdir()}
    assert {"checkpoint.safetensors", "model.safetensors", "config.toml"} <= modes.keys()
    assert set(modes.values()) == {0o640}, modes


def test_resuming_a_finished_run_says_so_once(gf, tmp_path):
    assert gf("train", *TINY, "--epochs", "1", "--out", "r")[0] == 0
    code, out, _ = gf("train", "--resume", "r")
    assert code == 0
    assert out == "r already finished its 1 epochs; extend it with --epochs N\n"


def test_a_run_can_follow_a_finished_one_in_a_folder_it_was_refused(gf, tmp_path):
    # The lock is released when a run ends: the same folder resumes at once.
    assert gf("train", *TINY, "--epochs", "1", "--out", "r")[0] == 0
    assert gf("train", "--resume", "r", "--epochs", "2", "--quiet")[0] == 0
    assert len((tmp_path / "r" / "metrics.jsonl").read_text().splitlines()) == 2


def test_two_searches_started_together_on_a_new_study_both_work(tmp_path, spawn_gradfit):
    import optuna

    args = ["search", "--data", "lecture-random", "--hidden", "4", "--epochs", "1"]
    args += ["--param", "lr=0.01,0.1", "--trials", "1"]
    args += ["--out", "S", "--quiet", "--sampler-seed", "0"]
    procs = [
        spawn_gradfit(args, tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    for p in procs:
        out, err = p.communicate(timeout=200)
        assert p.returncode == 0, err
    study = optuna.load_study(
        study_name="gradfit", storage=f"sqlite:///{tmp_path / 'S' / 'study.db'}"
    )
    assert len(study.trials) == 2
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)


def test_a_killed_searchs_running_trials_are_marked_failed(gf, tmp_path):
    import socket

    import optuna

    from gradfit.train.search import _storage

    (tmp_path / "S").mkdir()
    url = f"sqlite:///{tmp_path / 'S' / 'study.db'}"
    study = optuna.create_study(storage=_storage(url), study_name="gradfit")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    trial = study.ask()
    trial.set_user_attr("pid", dead.pid)
    trial.set_user_attr("host", socket.gethostname())
    alive = study.ask()  # a search running next to this one: left alone
    alive.set_user_attr("pid", os.getpid())
    alive.set_user_attr("host", socket.gethostname())
    code, out, err = gf(
        "search",
        *TINY[:-1],
        "--epochs",
        "1",
        "--param",
        "lr=0.01,0.1",
        "--trials",
        "1",
        "--out",
        "S",
    )
    assert code == 0, err
    assert "marked failed: trials [0] of a search that was killed" in out
    states = [t.state for t in optuna.load_study(study_name="gradfit", storage=url).trials]
    assert states[:2] == [optuna.trial.TrialState.FAIL, optuna.trial.TrialState.RUNNING]


def test_figures_into_an_impossible_folder_is_one_line(gf, tmp_path):
    (tmp_path / "afile").write_text("keep")
    code, _, err = gf("figures", "--only", "gabor_data", "--fast", "--out", "afile/sub")
    assert code == 4 and _one_error_line(err) == "gradfit: error: 'afile/sub': Not a directory"
