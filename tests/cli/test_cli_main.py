"""The entry point: cheap import, help, the figures subcommand, the installed script."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import torch  # noqa: F401 - the project's tests require the reference implementation

HEAVY = [
    "matplotlib",
    "optuna",
    "tqdm",
    "sklearn",
    "mnist1d",
    "sqlalchemy",
    "gradfit.nn",
    "gradfit.optim",
    "gradfit.train.loop",
    "gradfit.train.search",
]


def test_import_is_cheap():
    code = (
        "import sys, json, gradfit.cli as c; p = c.build_parser(); "
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(res.stdout) == []


def test_figures_forwards_its_arguments(monkeypatch, capsys):
    import gradfit.lecture
    from gradfit.cli import main

    calls = []

    def fake(argv):
        calls.append(argv)
        return 7

    monkeypatch.setattr(gradfit.lecture, "cli_main", fake)
    assert main(["figures", "--only", "6.4", "--out", "x", "--fast"]) == 7
    assert calls == [["--only", "6.4", "--out", "x", "--fast"]]


def test_figures_list_runs_the_real_command(capsys):
    from gradfit.cli import main

    assert main(["figures", "--list"]) == 0
    assert "gabor" in capsys.readouterr().out.lower()


def test_the_installed_script(tmp_path):
    exe = os.path.join(os.path.dirname(sys.executable), "gradfit")
    res = subprocess.run([exe, "--help"], capture_output=True, text=True, cwd=tmp_path)
    assert res.returncode == 0 and "train" in res.stdout and "search" in res.stdout
    res = subprocess.run([exe, "train", "--lr", "-1"], capture_output=True, text=True, cwd=tmp_path)
    assert res.returncode == 2 and res.stderr.startswith("gradfit: error: optimizer SGD")
    assert not list(tmp_path.iterdir())


def test_threads_flag_reaches_new_and_resumed_runs(monkeypatch, tmp_path):
    """--threads was once dropped for new runs (only --resume passed it on)."""
    from gradfit import cli
    from gradfit.train import run

    seen = []
    monkeypatch.setattr(run, "train", lambda cfg, **kw: seen.append(kw["threads"]))
    monkeypatch.setattr(run, "resume", lambda path, **kw: seen.append(kw["threads"]))
    assert cli.main(["train", "--threads", "1", "--out", str(tmp_path / "a")]) == 0
    assert cli.main(["train", "--resume", str(tmp_path / "a"), "--threads", "2"]) == 0
    assert seen == [1, 2]


def test_every_lazily_listed_module_exists():
    """`gradfit.testing` was listed once and did not exist."""
    import importlib

    import gradfit

    for name in sorted(gradfit._LAZY_MODULES):
        assert importlib.import_module(f"gradfit.{name}") is getattr(gradfit, name)


def test_progress_bar_falls_back_to_a_fixed_width_on_a_zero_width_terminal(monkeypatch):
    import os
    import shutil

    from gradfit.train import report

    monkeypatch.setattr(shutil, "get_terminal_size", lambda fallback=None: os.terminal_size((0, 0)))
    assert report._columns() == report.FALLBACK_COLUMNS
    monkeypatch.setattr(
        shutil, "get_terminal_size", lambda fallback=None: os.terminal_size((57, 9))
    )
    assert report._columns() == 57


def test_progress_bar_shows_the_new_validation_result_when_the_epoch_ends(
    gf, tmp_path, monkeypatch
):
    """The bar's val_acc once lagged an epoch: it changed only at the next batch."""
    import io

    from gradfit.train import report

    seen = []
    real = report.ProgressBar.on_epoch_end

    def spy(self, session, metrics):
        real(self, session, metrics)
        seen.append((metrics["val_accuracy"], self.bar.postfix))

    monkeypatch.setattr(report.ProgressBar, "on_epoch_end", spy)
    monkeypatch.setattr("sys.stderr", io.StringIO())
    args = ["--hidden", "8", "--epochs", "2", "--batch-size", "1000", "--progress"]
    code, _, err = gf("train", *args, "--out", "r")
    assert code == 0, err
    assert len(seen) == 2
    for acc, postfix in seen:
        assert f"val_acc={100 * acc:.2f}%" in postfix


def test_search_shows_accuracy_in_percent_like_train():
    from gradfit.train.search import format_table, format_value

    assert format_value("val_accuracy", 0.629) == "62.90%"
    assert format_value("val_loss", 1.23456) == "1.2346"
    rows = [{"trial": 0, "state": "complete", "value": 0.5, "epochs": 2}]
    assert "50.00%" in format_table(rows, "val_accuracy", [])


def test_ctrl_c_hint_fits_the_command(monkeypatch, capsys):
    from gradfit import cli
    from gradfit.train import search

    def interrupted(*args, **kw):
        raise KeyboardInterrupt

    monkeypatch.setattr(search, "search_command", interrupted)
    assert cli.main(["search", "--param", "lr=0.1,0.2"]) == 130
    err = capsys.readouterr().err
    hint = "interrupted; running the same gradfit search again continues the study"
    assert err == f"gradfit: error: {hint}\n"
