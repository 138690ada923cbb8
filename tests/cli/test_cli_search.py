"""``gradfit search``: Optuna over the training configuration, in worker processes."""

from __future__ import annotations

import csv
import tomllib

import optuna
import pytest
import torch  # noqa: F401 - the project's tests require the reference implementation

from gradfit.train import UsageError
from gradfit.train.search import Param, apply_values, parse_param

SEARCH = [
    "search",
    "--hidden",
    "8",
    "--epochs",
    "2",
    "--batch-size",
    "200",
    "--param",
    "lr=1e-3..0.3:log",
    "--param",
    "momentum=0.5..0.95",
    "--param",
    "batch_size=100,200",
    "--out",
    "S",
    "--quiet",
]


def _study(tmp_path):
    return optuna.load_study(
        study_name="gradfit", storage=f"sqlite:///{tmp_path / 'S' / 'study.db'}"
    )


def test_search_with_two_worker_processes_continues_the_study(gf, tmp_path, assert_png):
    code, _, err = gf(*SEARCH, "--trials", "3", "--jobs", "2")
    assert code == 0, err
    study = _study(tmp_path)
    assert len(study.trials) == 3
    # Two processes ran trials: each trial records the process id of its worker.
    assert len({t.user_attrs.get("pid") for t in study.trials}) == 2
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert done

    code, out, err = gf(*SEARCH[:-1], "--trials", "2", "--jobs", "2")  # not quiet
    assert code == 0, err
    study = _study(tmp_path)
    assert len(study.trials) == 5 and [t.number for t in study.trials] == list(range(5))
    assert "3 trials so far; adding 2" in out
    table = out[out.index("trial     state") :].splitlines()
    assert table[0].split() == [
        "trial",
        "state",
        "val_loss",
        "epochs",
        "lr",
        "momentum",
        "batch_size",
    ]
    assert [int(r.split()[0]) for r in table[1:6]] == list(range(5))

    rows = list(csv.DictReader((tmp_path / "S" / "trials.csv").open()))
    assert len(rows) == 5
    best = study.best_trial
    cfg = tomllib.loads((tmp_path / "S" / "best.toml").read_text())
    assert cfg["optimizer"]["lr"] == best.params["lr"]
    assert cfg["optimizer"]["momentum"] == best.params["momentum"]
    assert cfg["train"]["batch_size"] == best.params["batch_size"]
    assert cfg["model"]["hidden"] == [8] and cfg["train"]["epochs"] == 2
    for png in ("history.png", "param_lr.png", "param_momentum.png"):
        assert_png(tmp_path / "S" / png)

    # best.toml is a config that `gradfit train` accepts, and it reproduces the trial.
    code, _, err = gf("train", "--config", "S/best.toml", "--out", "best", "--quiet")
    assert code == 0, err
    import json

    last = json.loads((tmp_path / "best" / "metrics.jsonl").read_text().splitlines()[-1])
    assert last["val_loss"] == pytest.approx(best.value, rel=1e-12)


def test_grid_sampler_and_pruning(gf, tmp_path):
    # Six grid points in one process; the median pruner needs 5 finished trials first.
    code, out, err = gf(
        "search",
        "--hidden",
        "4",
        "--epochs",
        "3",
        "--sampler",
        "grid",
        "--param",
        "lr=0.0001,0.001,0.1",
        "--param",
        "momentum=0,0.9",
        "--trials",
        "6",
        "--out",
        "G",
    )
    assert code == 0, err
    study = optuna.load_study(
        study_name="gradfit", storage=f"sqlite:///{tmp_path / 'G' / 'study.db'}"
    )
    seen = {(t.params["lr"], t.params["momentum"]) for t in study.trials}
    assert seen == {(a, b) for a in (0.0001, 0.001, 0.1) for b in (0, 0.9)}
    for t in study.trials:
        assert t.intermediate_values and set(t.intermediate_values) <= {1, 2, 3}
    assert "best: trial" in out


def test_search_space_syntax():
    assert parse_param("lr", "1e-4..1e-1:log") == Param("lr", "float", 1e-4, 0.1, True)
    assert parse_param("epochs", "2..5") == Param("epochs", "int", 2, 5)
    assert parse_param("momentum", "0..1:step=0.25") == Param("momentum", "float", 0, 1, step=0.25)
    assert parse_param("batch_size", "32,64").choices == (32, 64)
    assert parse_param("hidden", "64|128,128").choices == ("64", "128,128")
    assert parse_param("hidden", [[64], [32, 32]]).choices == ("64", "32,32")
    assert parse_param("optimizer.weight_decay", {"low": 1e-6, "high": 1e-2, "log": True}).log
    with pytest.raises(UsageError, match="a log scale needs LOW > 0"):
        parse_param("lr", "0..1:log")
    with pytest.raises(UsageError, match="unknown option 'lg'"):
        parse_param("lr", "0.1..1:lg")


def test_apply_values_maps_short_names_to_the_config():
    from gradfit.train.config import config_from_layers

    base = config_from_layers([])
    cfg = apply_values(
        base, {"lr": 0.3, "hidden_width": 7, "batch_size": 32, "optimizer": "adam"}, "t"
    )
    assert cfg["model"]["hidden"] == [7, 7] and cfg["train"]["batch_size"] == 32
    assert cfg["optimizer"] == {"name": "adam", "lr": 0.3}  # SGD's momentum is dropped
    assert apply_values(base, {"hidden": "16,8"}, "t")["model"]["hidden"] == [16, 8]
    assert apply_values(base, {"hidden_layers": 3}, "t")["model"]["hidden"] == [100] * 3
