"""Bad input: one line ``gradfit: error: ...`` naming the value and what was expected, exit
code 2, and nothing of the user's written or overwritten."""

from __future__ import annotations

import re

import pytest
import torch  # noqa: F401 - the project's tests require the reference implementation

FILES = {
    "unknown_key.toml": "[train]\nepoch = 5\n",
    "unknown_section.toml": "[trainer]\nepochs = 5\n",
    "bad_type.toml": '[train]\nepochs = "ten"\n',
    "bad_range.toml": "[train]\nbatch_size = 0\n",
    "broken.toml": "[train\nepochs = 1\n",
    "colors.csv": "a,color,y\n1,red,0\n2,blue,1\n3,red,0\n",
    "plain.csv": "a,b,y\n1,2,0\n2,3,1\n3,4,0\n4,5,1\n5,6,1\n",
    "nolabel.npz": None,  # written by the fixture
    "latin1.csv": None,
    "nanlabel.csv": "a,b,label\n1,2,0\n2,3,1\n3,4,nan\n4,5,1\n",
    "twice.csv": "a,a,c,label\n1,2,3,0\n2,3,4,1\n3,4,5,0\n",
    "ragged.csv": "a,b,y\n1,2,0\n2,3\n",
    "fp.csv": "a,b,y\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(20)),
}

# (id, argv, regex the one-line message must match)
CASES = [
    (
        "config-unknown-key",
        ["train", "--config", "unknown_key.toml"],
        r"unknown_key\.toml: unknown key train\.epoch \(expected one of: epochs, batch_size",
    ),
    (
        "config-unknown-section",
        ["train", "--config", "unknown_section.toml"],
        r"unknown section \[trainer\] \(expected one of: data, model",
    ),
    (
        "config-bad-type",
        ["train", "--config", "bad_type.toml"],
        r'train\.epochs = "ten" \(from bad_type\.toml\): expected an integer >= 1',
    ),
    (
        "config-out-of-range",
        ["train", "--config", "bad_range.toml"],
        r"train\.batch_size = 0 \(from bad_range\.toml\): expected an integer >= 1",
    ),
    (
        "config-not-toml",
        ["train", "--config", "broken.toml"],
        r"config file 'broken\.toml' is not valid TOML",
    ),
    (
        "config-missing",
        ["train", "--config", "nope.toml"],
        r"config file 'nope\.toml' does not exist",
    ),
    (
        "unknown-optimizer",
        ["train", "--optimizer", "adamm"],
        r"unknown optimizer 'adamm' \(expected one of: .*sgd.*lecture\.nesterov",
    ),
    (
        "negative-lr",
        ["train", "--lr", "-0.1"],
        r"optimizer SGD\(lr=-0\.1, momentum=0\.9\): Invalid learning rate: -0\.1",
    ),
    ("bad-momentum", ["train", "--momentum", "-0.5"], r"Invalid momentum value: -0\.5"),
    (
        "unknown-optimizer-arg",
        ["train", "--optimizer-arg", "betas=0.9,0.99"],
        r"optimizer\.betas: SGD has no argument 'betas' \(expected one of: lr, momentum",
    ),
    (
        "unknown-activation",
        ["train", "--activation", "relux"],
        r'model\.activation = "relux" \(from the command line\): expected one of .*relu, .*tanh',
    ),
    (
        "unknown-init",
        ["train", "--init", "he"],
        r'model\.init = "he" .*expected one of kaiming_uniform',
    ),
    (
        "unknown-scheduler",
        ["train", "--scheduler", "steplrr"],
        r"unknown scheduler 'steplrr' \(expected none or one of: .*StepLR",
    ),
    (
        "scheduler-missing-arg",
        ["train", "--scheduler", "cosine"],
        r"scheduler 'cosine': CosineAnnealingLR needs T_max",
    ),
    (
        "unknown-loss",
        ["train", "--loss", "hinge"],
        r"unknown loss 'hinge' \(expected one of: auto, cross_entropy, mse",
    ),
    (
        "loss-task-mismatch",
        ["train", "--data", "gabor", "--loss", "cross_entropy"],
        r"loss 'cross_entropy' needs class labels, but data set 'gabor' is a regression set",
    ),
    (
        "unknown-dataset",
        ["train", "--data", "mnist2d"],
        r"no built-in data set or file named 'mnist2d' \(built-in sets: mnist1d, digits",
    ),
    (
        "missing-data-file",
        ["train", "--data", "nope.csv", "--target", "y"],
        r"data file 'nope\.csv' does not exist",
    ),
    (
        "csv-non-numeric",
        ["train", "--data", "colors.csv", "--target", "y"],
        r"colors\.csv: column 'color' is not numeric \(line 2 is 'red'\)",
    ),
    (
        "csv-missing-target",
        ["train", "--data", "plain.csv", "--target", "label"],
        r"plain\.csv: no target column 'label' \(columns: a, b, y\)",
    ),
    (
        "csv-no-target-flag",
        ["train", "--data", "plain.csv"],
        r"name the target column with --target \(columns: a, b, y\)",
    ),
    (
        "npz-missing-target",
        ["train", "--data", "nolabel.npz"],
        r"nolabel\.npz: no target array 'y' \(arrays: x\)",
    ),
    (
        "bad-hidden",
        ["train", "--hidden", "100,abc"],
        r"--hidden '100,abc': expected comma-separated positive integers",
    ),
    (
        "bad-val-split",
        ["train", "--val-split", "1.5"],
        r'data\.val_split = 1\.5 .*expected "auto" or a fraction between 0 and 1',
    ),
    (
        "bad-dtype",
        ["train", "--dtype", "float16"],
        r'train\.dtype = "float16" .*expected one of float32, float64',
    ),
    ("bad-int-flag", ["train", "--epochs", "ten"], r"argument --epochs: invalid int value: 'ten'"),
    (
        "zero-batch",
        ["train", "--batch-size", "0"],
        r"train\.batch_size = 0 \(from the command line\): expected an integer >= 1",
    ),
    (
        "set-unknown-key",
        ["train", "--set", "train.epoch=3"],
        r"the command line: unknown key train\.epoch",
    ),
    (
        "out-holds-a-run",
        ["train", "--out", "existing"],
        r"--out 'existing' already holds a run; use --resume existing to continue it, "
        r"--overwrite",
    ),
    ("resume-missing", ["train", "--resume", "nowhere"], r"run folder 'nowhere' does not exist"),
    (
        "resume-with-changes",
        ["train", "--resume", "existing", "--lr", "0.1"],
        r"--resume continues existing with its saved config\.toml; --lr cannot change it",
    ),
    (
        "resume-shorter",
        ["train", "--resume", "existing", "--epochs", "0"],
        r"--epochs 0: the run already finished 1 epochs; expected at least 1",
    ),
    (
        "resume-foreign-checkpoint",
        ["train", "--resume", "mixed"],
        r"checkpoint mixed/checkpoint\.safetensors does not fit this model: 0\.weight has shape "
        r"\(8, 40\), the model expects \(4, 40\)",
    ),
    ("unknown-command", ["trian"], r"argument COMMAND: invalid choice: 'trian'"),
    (
        "evaluate-other-model",
        ["evaluate", "existing", "--checkpoint", "other/checkpoint.safetensors"],
        r"checkpoint other/checkpoint\.safetensors does not fit this model: 0\.weight has shape "
        r"\(8, 40\), the model expects \(4, 40\)",
    ),
    ("evaluate-not-a-run", ["evaluate", "."], r"'\.' is not a run folder \(no config\.toml\)"),
    (
        "evaluate-bad-checkpoint",
        ["evaluate", "existing", "--checkpoint", "plain.csv"],
        r"checkpoint 'plain\.csv' cannot be read",
    ),
    (
        "evaluate-feature-mismatch",
        ["evaluate", "existing", "--data", "digits"],
        r"data 'digits' has 64 features, the model of run existing expects 40",
    ),
    (
        "search-bad-range",
        ["search", "--param", "lr=1..0.1"],
        r"--param lr='1\.\.0\.1': expected LOW < HIGH, got 1 and 0\.1",
    ),
    (
        "search-out-of-range",
        ["search", "--param", "momentum=-0.5..0.9"],
        r"--param momentum=-0\.5\.\.0\.9: the value -0\.5 is not usable: .*Invalid momentum "
        r"value: -0\.5",
    ),
    (
        "search-grid-range",
        ["search", "--sampler", "grid", "--param", "lr=0.01..0.1"],
        r"--sampler grid needs a list of values for lr",
    ),
    (
        "search-unknown-param",
        ["search", "--param", "learning_rate=0.1,0.2"],
        r"--param learning_rate: unknown name \(expected a config key such as optimizer\.lr",
    ),
    ("search-no-space", ["search"], r"search: no search space; give --param NAME=SPACE"),
    (
        "search-bad-sampler",
        ["search", "--sampler", "cmaes", "--param", "lr=0.1,0.2"],
        r"unknown sampler 'cmaes' \(expected tpe, random or grid\)",
    ),
]


# Issue 12: each case ends with exit 2, one line on stderr, no traceback, nothing written.
# (id, argv, regex, setup: {"env": {...}} or {"lock": folder held by another process})
SAFETY_CASES = [
    (
        "resume-metrics-not-utf8",
        ["train", "--resume", "metrics_binary"],
        r"metrics_binary/metrics\.jsonl is not UTF-8 text \(byte 0\); expected the JSON lines",
    ),
    (
        "resume-metrics-garbage",
        ["train", "--resume", "metrics_garbage"],
        r"metrics_garbage/metrics\.jsonl line 1 is not an epoch's metrics \('hello world'\)",
    ),
    (
        "csv-latin1",
        ["train", "--data", "latin1.csv", "--target", "y"],
        r"latin1\.csv: not UTF-8 text \(byte 0xe9 at offset \d+\); save the CSV as UTF-8",
    ),
    (
        "npz-object-array",
        ["train", "--data", "pickled.npz"],
        r"pickled\.npz: holds an object array \(pickled Python objects\), which gradfit never",
    ),
    (
        "npz-targets-3d",
        ["train", "--data", "y3d.npz"],
        r"y3d\.npz: targets of shape \(60, 2, 2\); expected \(N,\) class labels or \(N, K\)",
    ),
    (
        "npz-x-test-width",
        ["train", "--data", "xtest.npz"],
        r"xtest\.npz: x_test has 4 features, x has 3; expected the same width",
    ),
    (
        "npz-empty-x",
        ["train", "--data", "empty.npz"],
        r"empty\.npz: feature array 'x' is empty \(shape \(0, 3\)\); expected \(N, D\)",
    ),
    (
        "npz-target-rows",
        ["train", "--data", "ylen.npz"],
        r"ylen\.npz: 10 feature rows but 9 targets",
    ),
    (
        "step-size-zero",
        ["train", "--scheduler-arg", "step_size=0"],
        r"scheduler StepLR\(step_size=0, gamma=0\.5\) cannot run for 50 epochs: "
        r"(integer modulo by zero|ZeroDivisionError)",
    ),
    (
        "cosine-t-max-zero",
        ["train", "--scheduler", "cosine", "--scheduler-arg", "T_max=0"],
        r"scheduler CosineAnnealingLR\(T_max=0, eta_min=0\.0\) cannot run for 50 epochs",
    ),
    (
        "seed-too-large",
        ["train", "--seed", "99999999999999999999"],
        r"train\.seed = 99999999999999999999 \(from the command line\): expected an integer "
        r"from 0 to 18446744073709551615",
    ),
    (
        "data-seed-too-large",
        ["train", "--data-seed", "-1"],
        r"data\.seed = -1 \(from the command line\): expected an integer from 0 to",
    ),
    (
        "model-too-large",
        ["train", "--hidden", "1000000,1000000"],
        r"model\.hidden = \[1000000, 1000000\]: 1,000,\d{3},\d{3},\d{3} parameters need about "
        r"[\d,.]+ GiB .* GiB is available; expected a smaller model",
    ),
    (
        "label-smoothing-5",
        ["train", "--set", "loss.label_smoothing=5"],
        r"loss cross_entropy\(label_smoothing=5.*\) cannot be computed on this data .*"
        r"label_smoothing must be between 0\.0 and 1\.0",
    ),
    (
        "loss-reduction-sum",
        ["train", "--set", "loss.reduction=sum"],
        r"loss\.reduction = 'sum': training uses the mean loss; expected \"mean\"",
    ),
    (
        "search-accuracy-on-regression",
        ["search", "--data", "gabor", "--metric", "val_accuracy", "--param", "lr=0.01,0.1"],
        r"--metric val_accuracy: data set 'gabor' is a regression set, which has no accuracy",
    ),
    (
        "milestones-text",
        ["train", "--scheduler", "multistep", "--scheduler-arg", "milestones=abc"],
        r"scheduler\.milestones = 'abc': MultiStepLR expects a number or a list of numbers, "
        r"not text",
    ),
    (
        "step-size-fraction",
        ["train", "--scheduler-arg", "step_size=1.5"],
        r"scheduler\.step_size = 1\.5: StepLR expects an integer",
    ),
    (
        "nan-class-label",
        ["train", "--data", "nanlabel.csv", "--target", "label"],
        r"nanlabel\.csv: target column 'label' is 'nan' on line 4; expected a number or a class",
    ),
    (
        "duplicate-csv-column",
        ["train", "--data", "twice.csv", "--target", "a"],
        r"twice\.csv: the header names column 'a' more than once; expected distinct column names",
    ),
    (
        "csv-ragged-line",
        ["train", "--data", "ragged.csv", "--target", "y"],
        r"ragged\.csv: line 3 has 2 fields, the header has 3",
    ),
    (
        "name-escapes-runs",
        ["train", "--name", "../../escape"],
        r"--name '\.\./\.\./escape': expected a plain folder name for runs/NAME",
    ),
    (
        "resume-sgd-checkpoint-in-adam-run",
        ["train", "--resume", "adam_sgd"],
        r"checkpoint adam_sgd/checkpoint\.safetensors was written by optimizer SGD, this run "
        r"uses Adam",
    ),
    (
        "resume-step-checkpoint-in-cosine-run",
        ["train", "--resume", "cosine_step"],
        r"was written by scheduler StepLR, this run uses CosineAnnealingLR",
    ),
    (
        "resume-on-changed-data",
        ["train", "--resume", "fprun"],
        r"the data of this run changed since checkpoint fprun/checkpoint\.safetensors was "
        r"written .*Add --allow-data-change",
    ),
    (
        "allow-data-change-needs-resume",
        ["train", "--allow-data-change"],
        r"--allow-data-change applies to --resume only",
    ),
    (
        "gamma-text",
        ["train", "--scheduler-arg", "gamma=half"],
        r"scheduler\.gamma = 'half': StepLR expects a number, not text",
    ),
    (
        "onecycle-without-max-lr",
        ["train", "--scheduler", "onecycle"],
        r"scheduler 'onecycle': OneCycleLR needs max_lr \(set scheduler\.max_lr",
    ),
    (
        "unknown-model-kind",
        ["train", "--model", "cnn9"],
        r'model\.kind = "cnn9" .*expected one of mlp',
    ),
    (
        "negative-width",
        ["train", "--hidden", "10,-3"],
        r"--hidden '10,-3': layer widths must be >= 1, got -3",
    ),
    (
        "val-split-leaves-nothing",
        ["train", "--data", "linreg", "--val-split", "0.01"],
        r"data\.val_split = 0\.01: with 12 samples this leaves 0 for validation",
    ),
    (
        "evaluate-out-is-a-file",
        ["evaluate", "existing", "--out", "existing/config.toml"],
        r"--out 'existing/config\.toml' is a file, expected a folder for the outputs",
    ),
    (
        "out-in-use",
        ["train", "--hidden", "4", "--epochs", "1", "--out", "busy"],
        r"run folder 'busy' is in use by process \d+ \(another gradfit run\)",
        {"lock": "busy"},
    ),
    (
        "resume-in-use",
        ["train", "--resume", "existing"],
        r"run folder 'existing' is in use by process \d+ \(another gradfit run\)",
        {"lock": "existing"},
    ),
    (
        "mpi-launcher-without-distributed",
        ["train", "--hidden", "4", "--out", "mpi"],
        r"started by an MPI launcher as 2 processes \(OMPI_COMM_WORLD_SIZE=2\) without "
        r"--distributed; add --distributed",
        {"env": {"OMPI_COMM_WORLD_SIZE": "2"}},
    ),
    (
        "pmi-launcher-without-distributed",
        ["train", "--resume", "existing"],
        r"started by an MPI launcher as 4 processes \(PMI_SIZE=4\)",
        {"env": {"PMI_SIZE": "4"}},
    ),
]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A folder with the bad files, an existing run and a run of another model."""
    import contextlib
    import io
    import os
    import shutil

    import numpy as np

    from gradfit.cli import main

    d = tmp_path_factory.mktemp("errors")
    for name, text in FILES.items():
        if text is not None:
            (d / name).write_text(text)
    np.savez(d / "nolabel.npz", x=np.zeros((4, 2)))
    (d / "latin1.csv").write_bytes("a,b,y\n1,2,caf\u00e9\n2,3,th\u00e9\n".encode("latin-1"))
    np.savez(d / "pickled.npz", x=np.array([{"a": 1}, None], dtype=object), y=np.zeros(2))
    rng = np.random.default_rng(0)
    np.savez(d / "y3d.npz", x=rng.normal(size=(60, 3)), y=rng.normal(size=(60, 2, 2)))
    np.savez(d / "ylen.npz", x=rng.normal(size=(10, 3)), y=rng.normal(size=(9,)))
    np.savez(d / "empty.npz", x=np.zeros((0, 3)), y=np.zeros(0))
    np.savez(
        d / "xtest.npz",
        x=rng.normal(size=(20, 3)),
        y=rng.integers(0, 2, 20),
        x_test=rng.normal(size=(5, 4)),
        y_test=rng.integers(0, 2, 5),
    )
    old = os.getcwd()
    os.chdir(d)
    tiny = ["--hidden", "4", "--epochs", "1"]
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            assert main(["train", *tiny, "--out", "existing"]) == 0
            assert main(["train", "--hidden", "8", "--epochs", "1", "--out", "other"]) == 0
            assert (
                main(["train", *tiny, "--optimizer", "adam", "--lr", "0.01", "--out", "adam"]) == 0
            )
            cos = ["--scheduler", "cosine", "--scheduler-arg", "T_max=5"]
            assert main(["train", *tiny, *cos, "--out", "cosine"]) == 0
            assert (
                main(["train", *tiny, "--data", "fp.csv", "--target", "y", "--out", "fprun"]) == 0
            )
    finally:
        os.chdir(old)
    # The data file of fprun changes after it was trained (one value).
    (d / "fp.csv").write_text((d / "fp.csv").read_text().replace("\n7,1,1\n", "\n7,2,1\n"))
    # Run folders whose checkpoint was written by another model, optimizer or schedule.
    for name, config, weights in [
        ("mixed", "existing", "other"),
        ("adam_sgd", "adam", "existing"),
        ("cosine_step", "cosine", "existing"),
    ]:
        (d / name).mkdir()
        (d / name / "config.toml").write_bytes((d / config / "config.toml").read_bytes())
        (d / name / "checkpoint.safetensors").write_bytes(
            (d / weights / "checkpoint.safetensors").read_bytes()
        )
    # Runs with a damaged metrics file.
    for name, text in [
        ("metrics_binary", b"\xff\xfe\x00garbage\n"),
        ("metrics_garbage", b"hello world\n" + (d / "existing" / "metrics.jsonl").read_bytes()),
    ]:
        shutil.copytree(d / "existing", d / name)
        (d / name / "metrics.jsonl").write_bytes(text)
    (d / "busy").mkdir()
    return d


def _snapshot(folder):
    return {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_there_are_at_least_15_cases():
    assert len(CASES) >= 15 and len({c[0] for c in CASES}) == len(CASES)
    assert len(SAFETY_CASES) >= 30 and not {c[0] for c in SAFETY_CASES} & {c[0] for c in CASES}


ALL = CASES + SAFETY_CASES


@pytest.mark.parametrize(
    "argv, message, setup",
    [(*c[1:3], c[3] if len(c) > 3 else {}) for c in ALL],
    ids=[c[0] for c in ALL],
)
def test_bad_input(workspace, capsys, monkeypatch, argv, message, setup):
    from gradfit.cli import main
    from gradfit.train.rundir import RunLock

    monkeypatch.chdir(workspace)
    for k, v in setup.get("env", {}).items():
        monkeypatch.setenv(k, v)
    lock = RunLock(workspace / setup["lock"]) if "lock" in setup else None
    before = _snapshot(workspace)
    try:
        code = main(argv)
    finally:
        if lock is not None:
            lock.release()
    out, err = capsys.readouterr()
    assert code == 2, (code, err)
    assert err.count("\n") == 1 and err.startswith("gradfit: error: "), err
    assert re.search(message, err), err
    after = _snapshot(workspace)
    # Nothing created, nothing changed (evaluate is refused before it writes anything).
    assert after.keys() == before.keys(), sorted(map(str, after.keys() - before.keys()))
    assert all(after[p] == before[p] for p in before)
    assert not (workspace / "runs").exists()


def test_help_lists_the_subcommands(capsys):
    from gradfit.cli import main

    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for cmd in ("train", "evaluate", "search", "figures"):
        assert re.search(rf"^\s+{cmd}\s+\S", out, re.M), out
    assert main(["train", "--help"]) == 0
    assert "--resume RUN_DIR" in capsys.readouterr().out


def test_unknown_optimizer_lists_each_optimizer_once():
    from gradfit.train.builders import optimizer_class

    with pytest.raises(Exception, match="unknown optimizer") as info:
        optimizer_class("adamm")
    names = str(info.value).split("expected one of: ")[1].rstrip(")").split(", ")
    assert len(names) == len(set(names))
    assert {"nadam", "radam", "lecture.adam", "lecture.momentum"} <= set(names)
