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


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A folder with the bad files, an existing run and a run of another model."""
    import contextlib
    import io
    import os

    import numpy as np

    from gradfit.cli import main

    d = tmp_path_factory.mktemp("errors")
    for name, text in FILES.items():
        if text is not None:
            (d / name).write_text(text)
    np.savez(d / "nolabel.npz", x=np.zeros((4, 2)))
    old = os.getcwd()
    os.chdir(d)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            assert main(["train", "--hidden", "4", "--epochs", "1", "--out", "existing"]) == 0
            assert main(["train", "--hidden", "8", "--epochs", "1", "--out", "other"]) == 0
    finally:
        os.chdir(old)
    # A run folder whose checkpoint was written by another model.
    (d / "mixed").mkdir()
    (d / "mixed" / "config.toml").write_bytes((d / "existing" / "config.toml").read_bytes())
    (d / "mixed" / "checkpoint.safetensors").write_bytes(
        (d / "other" / "checkpoint.safetensors").read_bytes()
    )
    return d


def _snapshot(folder):
    return {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_there_are_at_least_15_cases():
    assert len(CASES) >= 15 and len({c[0] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("argv, message", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input(workspace, capsys, monkeypatch, argv, message):
    from gradfit.cli import main

    monkeypatch.chdir(workspace)
    before = _snapshot(workspace)
    code = main(argv)
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
