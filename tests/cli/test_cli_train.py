"""``gradfit train``: the lecture's recipe, parity with PyTorch, the run folder's files."""

from __future__ import annotations

import contextlib
import io
import json
import tomllib

import numpy as np
import pytest
import torch
from safetensors.numpy import load_file

from gradfit.cli import main
from gradfit.serialization import load_checkpoint

# Three epochs: enough to learn (47% validation accuracy against 10% chance), and short
# enough that float32 rounding has not yet amplified into visible differences from PyTorch
# (the training is chaotic: by epoch 5 the two differ in the third digit).
EPOCHS = 3


def _run(*argv) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def recipe_run(tmp_path_factory):
    """The default recipe, shortened to 3 epochs (StepLR would halve the lr at 10)."""
    run = tmp_path_factory.mktemp("recipe") / "run"
    code, out, err = _run("train", "--epochs", EPOCHS, "--out", run)
    assert code == 0, err
    return run, out


def _torch_recipe(epochs: int):
    """The same recipe in PyTorch: the lecture's program with MNIST-1D and SGD(0.05, 0.9)."""
    from gradfit import datasets

    d = datasets.mnist1d()
    x = torch.tensor(d.x, dtype=torch.float32)
    y = torch.tensor(d.y)
    xv = torch.tensor(d.x_test, dtype=torch.float32)
    yv = torch.tensor(d.y_test)
    nn = torch.nn
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(40, 100), nn.ReLU(), nn.Linear(100, 100), nn.ReLU(), nn.Linear(100, 10)
    )

    def weights_init(layer):
        if isinstance(layer, nn.Linear):
            nn.init.kaiming_uniform_(layer.weight)
            layer.bias.data.fill_(0.0)

    model.apply(weights_init)
    crit = nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.5)
    g = torch.Generator()
    g.manual_seed(0)
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(x, y), batch_size=100, shuffle=True, generator=g
    )
    val = []
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # two threads on two busy cores are slower, not faster
    try:
        _torch_epochs(epochs, model, crit, opt, sched, loader, xv, yv, val)
    finally:
        torch.set_num_threads(threads)
    return model.state_dict(), val


def _torch_epochs(epochs, model, crit, opt, sched, loader, xv, yv, val):
    for _ in range(epochs):
        for xb, yb in loader:
            opt.zero_grad()
            crit(model(xb), yb).backward()
            opt.step()
        with torch.no_grad():
            out = model(xv)
            val.append((crit(out, yv).item(), (out.argmax(1) == yv).float().mean().item()))
        sched.step()


def test_recipe_learns_and_matches_pytorch(recipe_run):
    run, out = recipe_run
    metrics = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [m["epoch"] for m in metrics] == list(range(1, EPOCHS + 1))
    assert metrics[-1]["val_accuracy"] > 0.4  # chance is 0.10
    assert metrics[-1]["train_loss"] < metrics[0]["train_loss"]
    state, val = _torch_recipe(EPOCHS)
    for m, (vl, va) in zip(metrics, val):
        assert m["val_loss"] == pytest.approx(vl, rel=1e-5)
        assert m["val_accuracy"] == pytest.approx(va, abs=1.5e-3)
    weights = load_file(str(run / "model.safetensors"))
    assert sorted(weights) == sorted(state)
    for k, v in state.items():
        diff = np.abs(weights[k] - v.numpy())
        # float32 rounding differences, amplified by three epochs of training
        assert diff.max() < 5e-3 and diff.mean() < 1e-4, (k, diff.max(), diff.mean())
    assert "epoch 3/3" in out and "val_acc" in out and f"run       {run}" in out


def test_run_folder_files(recipe_run, assert_png, tmp_path):
    run, _ = recipe_run
    names = {p.name for p in run.iterdir()}
    assert {
        "config.toml",
        "metrics.jsonl",
        "checkpoint.safetensors",
        "model.safetensors",
        "summary.json",
        "loss.png",
        "accuracy.png",
    } <= names
    assert not [n for n in names if n.endswith(".tmp")]
    for png in ("loss.png", "accuracy.png"):
        assert_png(run / png)

    cfg = tomllib.loads((run / "config.toml").read_text())
    assert cfg["optimizer"]["name"] == "sgd" and cfg["optimizer"]["momentum"] == 0.9
    assert cfg["loss"]["name"] == "cross_entropy" and cfg["train"]["epochs"] == EPOCHS
    assert cfg["scheduler"] == {"name": "step_lr", "step_size": 10, "gamma": 0.5}

    for line in (run / "metrics.jsonl").read_text().splitlines():
        m = json.loads(line)
        assert {"epoch", "train_loss", "val_loss", "val_accuracy", "lr", "seconds"} <= set(m)
        assert m["lr"] == 0.05 and m["seconds"] > 0

    state = load_checkpoint(str(run / "checkpoint.safetensors"))
    assert state["epoch"] == EPOCHS and state["format"] == "gradfit-train-checkpoint"
    assert state["scheduler"]["last_epoch"] == EPOCHS
    assert len(state["optimizer"]["state"]) == 6
    assert all("momentum_buffer" in s for s in state["optimizer"]["state"].values())
    assert state["rng"]["global"].dtype == np.uint8 and state["rng"]["loader"].numel() > 0
    final = load_file(str(run / "model.safetensors"))
    for k, v in state["model"].items():
        assert np.array_equal(v.numpy(), final[k])

    # config.toml is a valid --config: the same run again, one epoch, same first epoch.
    code, _, err = _run(
        "train",
        "--config",
        run / "config.toml",
        "--epochs",
        1,
        "--out",
        tmp_path / "again",
        "--quiet",
    )
    assert code == 0, err
    again = tomllib.loads((tmp_path / "again" / "config.toml").read_text())
    cfg["train"]["epochs"] = 1
    assert again == cfg
    first = json.loads((tmp_path / "again" / "metrics.jsonl").read_text().splitlines()[0])
    orig = json.loads((run / "metrics.jsonl").read_text().splitlines()[0])
    assert first["val_loss"] == orig["val_loss"]


@pytest.mark.parametrize(
    "args",
    [
        [
            "--optimizer",
            "adam",
            "--lr",
            "1e-2",
            "--scheduler",
            "cosine",
            "--scheduler-arg",
            "T_max=2",
        ],
        ["--optimizer", "lecture.nesterov", "--lr", "0.05", "--scheduler", "none"],
        ["--optimizer", "lbfgs", "--lr", "1", "--batch-size", "4000", "--scheduler", "none"],
        ["--optimizer", "rmsprop", "--lr", "1e-3", "--scheduler", "plateau"],
        [
            "--optimizer",
            "adamw",
            "--lr",
            "1e-2",
            "--scheduler",
            "onecycle",
            "--scheduler-arg",
            "max_lr=0.02",
        ],
        [
            "--data",
            "digits",
            "--standardize",
            "--activation",
            "tanh",
            "--init",
            "xavier_normal",
            "--dtype",
            "float64",
        ],
    ],
    ids=[
        "adam-cosine",
        "lecture-nesterov",
        "lbfgs",
        "rmsprop-plateau",
        "adamw-onecycle",
        "digits-tanh-f64",
    ],
)
def test_other_optimizers_schedules_and_data(gf, tmp_path, args):
    code, _, err = gf("train", "--epochs", 2, "--hidden", 32, "--out", "r", "--quiet", *args)
    assert code == 0, err
    metrics = [
        json.loads(s) for s in (tmp_path / "r" / "metrics.jsonl").read_text().split("\n") if s
    ]
    assert len(metrics) == 2 and metrics[-1]["train_loss"] < metrics[0]["train_loss"]
    assert metrics[-1]["val_accuracy"] > 0.2  # chance is 0.1
    cfg = tomllib.loads((tmp_path / "r" / "config.toml").read_text())
    if "--dtype" in args:
        assert load_file(str(tmp_path / "r" / "model.safetensors"))["0.weight"].dtype == np.float64
    assert cfg["train"]["epochs"] == 2


def test_regression_sets_and_mse(gf, tmp_path):
    # The lecture's linear regression: a model with no hidden layer is phi0 + phi1 x, and
    # full-batch gradient descent reaches the least-squares line of the training points.
    args = "--data linreg --hidden none --batch-size 12 --lr 0.5 --momentum 0.35 "
    args += "--scheduler none --epochs 80 --dtype float64 --out lin"
    code, out, err = gf("train", *args.split())
    assert code == 0, err
    m = [json.loads(s) for s in (tmp_path / "lin" / "metrics.jsonl").read_text().split("\n") if s]
    assert m[-1]["val_accuracy"] is None
    assert (
        not (tmp_path / "lin" / "accuracy.png").exists() and "model     linear 1-1, kaiming" in out
    )
    from gradfit.train.config import config_from_layers
    from gradfit.train.data import prepare

    data = prepare(config_from_layers([({"data": {"name": "linreg"}}, "test")]))
    a = np.c_[np.ones(len(data.x_train)), data.x_train[:, 0]]
    phi = np.linalg.lstsq(a, data.y_train[:, 0], rcond=None)[0]
    w = load_file(str(tmp_path / "lin" / "model.safetensors"))
    np.testing.assert_allclose([w["0.bias"][0], w["0.weight"][0, 0]], phi, atol=1e-6)
    assert m[-1]["train_loss"] == pytest.approx(
        np.mean((a @ phi - data.y_train[:, 0]) ** 2), rel=1e-6
    )
    code, _, err = gf(
        "train",
        "--data",
        "lecture-random",
        "--hidden",
        "40,40",
        "--batch-size",
        10,
        "--lr",
        0.1,
        "--epochs",
        3,
        "--out",
        "rnd",
        "--quiet",
    )
    assert code == 0, err
    cfg = tomllib.loads((tmp_path / "rnd" / "config.toml").read_text())
    assert cfg["loss"]["name"] == "mse"


def test_divergence_stops_with_exit_3_and_keeps_the_last_good_checkpoint(gf, tmp_path):
    # lr 0.05 for epoch 1, then 50: the loss overflows in epoch 2.
    code, out, err = gf(
        "train",
        "--hidden",
        16,
        "--epochs",
        4,
        "--scheduler",
        "exponential",
        "--scheduler-arg",
        "gamma=1000",
        "--out",
        "dv",
    )
    assert code == 3
    assert err.count("\n") == 1 and err.startswith("gradfit: error: training diverged")
    assert "at epoch 2, step " in err and "learning rate 50.0" in err
    assert "last good checkpoint (epoch 1)" in err
    state = load_checkpoint(str(tmp_path / "dv" / "checkpoint.safetensors"))
    assert state["epoch"] == 1
    assert all(np.isfinite(v.numpy()).all() for v in state["model"].values())
    assert json.loads((tmp_path / "dv" / "summary.json").read_text())["status"] == "diverged"
    assert "epoch 1/4" in out


def test_overwrite_replaces_only_run_files(gf, tmp_path):
    assert gf("train", "--hidden", 8, "--epochs", 1, "--out", "o", "--quiet")[0] == 0
    (tmp_path / "o" / "notes.txt").write_text("mine")
    code, _, err = gf("train", "--hidden", 8, "--epochs", 2, "--out", "o", "--overwrite", "--quiet")
    assert code == 0, err
    assert (tmp_path / "o" / "notes.txt").read_text() == "mine"
    assert len((tmp_path / "o" / "metrics.jsonl").read_text().splitlines()) == 2


def test_default_run_folder_is_under_runs(gf, tmp_path):
    assert gf("train", "--hidden", 8, "--epochs", 1, "--name", "first", "--quiet")[0] == 0
    assert (tmp_path / "runs" / "first" / "config.toml").exists()
    assert gf("train", "--hidden", 8, "--epochs", 1, "--quiet")[0] == 0
    assert gf("train", "--hidden", 8, "--epochs", 1, "--quiet")[0] == 0
    assert len(list((tmp_path / "runs").iterdir())) == 3


def test_a_csv_run_resumes_from_another_directory(gf, tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 3))
    y = (x[:, 0] + x[:, 1] > 0).astype(int)
    rows = ["a,b,c,label"] + [f"{a},{b},{c},{t}" for (a, b, c), t in zip(x, y)]
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n")
    code, _, err = gf(
        "train",
        "--data",
        "t.csv",
        "--target",
        "label",
        "--hidden",
        8,
        "--batch-size",
        16,
        "--epochs",
        2,
        "--out",
        "r",
        "--quiet",
    )
    assert code == 0, err
    cfg = tomllib.loads((tmp_path / "r" / "config.toml").read_text())
    assert cfg["data"]["path"] == str(tmp_path / "t.csv") and cfg["loss"]["name"] == "cross_entropy"
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    code, _, err = gf("train", "--resume", tmp_path / "r", "--epochs", 3, "--quiet")
    assert code == 0, err
    assert len((tmp_path / "r" / "metrics.jsonl").read_text().splitlines()) == 3


@pytest.mark.parametrize(
    "optimizer", ["lecture.momentum", "lecture.nesterov", "lecture.adam", "lecture.normalizedgd"]
)
def test_lecture_optimizers_train_without_lr(gf, tmp_path, optimizer):
    """Each has a default learning rate (config.OPTIMIZER_RECIPES) at which the loss falls."""
    from gradfit.train.config import OPTIMIZER_RECIPES

    args = ["--optimizer", optimizer, "--hidden", "16", "--epochs", "3", "--batch-size", "200"]
    code, out, err = gf("train", *args, "--out", "r")
    assert code == 0, err
    lr = OPTIMIZER_RECIPES[optimizer]["optimizer"]["lr"]
    assert f"{optimizer} (lr {lr}" in out
    m = [json.loads(s) for s in (tmp_path / "r" / "metrics.jsonl").read_text().splitlines()]
    assert m[2]["train_loss"] < m[1]["train_loss"] < m[0]["train_loss"]
    assert m[2]["val_accuracy"] > 0.2  # chance: 0.1


@pytest.mark.parametrize("data", ["gabor", "linreg", "digits"])
def test_built_in_sets_converge_with_their_default_recipe(gf, tmp_path, data):
    """Once: `--data gabor` overflowed at epoch 2, `--data digits` stayed at chance."""
    # The recipe's rate and scaling, over fewer epochs than it runs.
    code, out, err = gf("train", "--data", data, "--epochs", "25", "--quiet", "--out", "r")
    assert code == 0, err
    s = json.loads((tmp_path / "r" / "summary.json").read_text())
    first = json.loads((tmp_path / "r" / "metrics.jsonl").read_text().splitlines()[0])
    assert s["status"] == "completed" and s["final"]["train_loss"] < first["train_loss"] / 3
    if data == "digits":
        assert s["final"]["val_accuracy"] > 0.9
