"""``gradfit train --model cnn1d | resnet1d | transformer | lstm``, ``gradfit sample``,
``gradfit lesson`` and ``--tensorboard``: short real runs through the command."""

from __future__ import annotations

import json
import math
import sys
import tomllib

import numpy as np
import pytest
from safetensors.numpy import load_file

from gradfit.train.config import MODEL_RECIPES

TINY_GPT = [
    "--set",
    "model.block_size=16",
    "--set",
    "model.n_layer=1",
    "--set",
    "model.n_embd=16",
    "--set",
    "model.n_head=2",
    "--batch-size",
    "16",
]


def _config(run):
    return tomllib.loads((run / "config.toml").read_text())


def _metrics(run):
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


# --- convolutional kinds on MNIST-1D ----------------------------------------------------


@pytest.fixture
def mnist_small(tmp_path):
    """The first 600 training and 300 test samples of MNIST-1D as a data file (a short
    run; the full recipe's figure is in docs/cli.md)."""
    from gradfit import datasets

    d = datasets.load("mnist1d")
    path = tmp_path / "mnist1d-small.npz"
    np.savez(path, x=d.x[:600], y=d.y[:600], x_test=d.x_test[:300], y_test=d.y_test[:300])
    return path


def test_cnn1d_trains_with_the_course_recipe_and_its_weights_are_pytorchs_cnn1d(
    gf, tmp_path, mnist_small
):
    import torch

    from gradfit import models

    code, out, err = gf(
        "train", "--model", "cnn1d", "--data", mnist_small, "--epochs", "10", "--out", "run"
    )
    assert code == 0, err
    run = tmp_path / "run"
    cfg = _config(run)
    assert cfg["model"]["kind"] == "cnn1d" and cfg["model"]["channels"] == 15
    assert "n_layer" not in cfg["model"]  # only the kind's own options are written
    for section, table in MODEL_RECIPES["cnn1d"].items():
        for k, v in table.items():
            if section != "train":  # --epochs overrides the recipe's 100
                assert cfg[section][k] == v
    assert "1-D CNN 3 x Conv1d(15 channels" in out
    # The saved weights are the course's CNN: loaded into the same builder on torch.nn,
    # they give the validation accuracy the run reported.
    model = models.cnn1d((40,), 10, nn=torch.nn)
    weights = load_file(run / "model.safetensors")
    model.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()})
    d = np.load(mnist_small)
    with torch.no_grad():
        pred = model(torch.tensor(d["x_test"], dtype=torch.float32)).argmax(1).numpy()
    acc = float((pred == d["y_test"]).mean())
    assert _metrics(run)[-1]["val_accuracy"] == pytest.approx(acc, abs=1e-12)
    assert acc > 0.2  # ten short epochs learn something (10 classes: 0.1 by chance)

    code, out, err = gf("evaluate", "run")
    assert code == 0, err
    assert f"accuracy: {100 * acc:.2f}%" in out


def test_resnet1d_trains_evaluates_and_searches(gf, tmp_path, mnist_small):
    small = ["--model", "resnet1d", "--set", "model.channels=4", "--set", "model.blocks=1"]
    small += ["--data", mnist_small]
    code, out, err = gf("train", *small, "--epochs", "1", "--out", "run", "--quiet")
    assert code == 0, err
    assert _config(tmp_path / "run")["model"]["batch_norm"] is True
    code, out, err = gf("evaluate", "run", "--split", "train")
    assert code == 0 and "confusion matrix" in out, err
    code, out, err = gf(
        "search",
        *small,
        "--epochs",
        "1",
        "--trials",
        "1",
        "--param",
        "lr=0.01..0.1:log",
        "--out",
        "S",
        "--quiet",
    )
    assert code == 0, err
    best = tomllib.loads((tmp_path / "S" / "best.toml").read_text())
    assert best["model"]["kind"] == "resnet1d" and best["model"]["channels"] == 4


@pytest.mark.parametrize(
    "argv, words",
    [
        (["--set", "model.channels=8"], ["model.channels", "cnn1d or resnet1d", "'mlp'"]),
        (["--model", "resnet1d", "--set", "model.head=max"], ["model.head", "flatten, avgpool"]),
        (["--model", "cnn1d", "--set", "model.layers=0"], ["model.layers = 0", ">= 1"]),
        (["--model", "transformer", "--data", "mnist1d"], ["reads text", "stdlib-text"]),
        (["--data", "stdlib-text", "--model", "mlp"], ["is text", "--model transformer"]),
        (["--model", "cnn1d", "--set", "model.layers=5"], ["cnn1d", "do not fit"]),
    ],
)
def test_bad_model_settings_are_one_line_before_anything_is_written(gf, tmp_path, argv, words):
    code, out, err = gf("train", *argv, "--epochs", "1", "--out", "run")
    assert code == 2 and err.count("\n") == 1, err
    for w in words:
        assert w in err
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    "kind, options",
    [
        ("cnn1d", {}),
        ("cnn1d", {"channels": 7, "kernel_size": 5, "stride": 1, "layers": 2}),
        ("resnet1d", {}),
        ("resnet1d", {"batch_norm": False, "head": "avgpool", "blocks": 2, "kernel_size": 5}),
        ("transformer", {}),
        ("transformer", {"n_layer": 3, "n_embd": 24, "n_head": 3, "block_size": 10}),
        ("lstm", {"num_layers": 3, "hidden_size": 20, "n_embd": 7}),
    ],
)
def test_parameter_counts_before_building_are_the_built_models(kind, options):
    """The memory check counts parameters without allocating them; the count is the built
    model's (tied weights once)."""
    from gradfit.train import builders

    spec = builders.MODELS[kind]
    cfg = {"kind": kind, **{k: d for k, (d, _) in spec.options.items()}, **options}
    n_in, n_out = (cfg["block_size"], 55) if spec.text else (40, 10)
    model = spec.build(cfg, n_in, n_out, None)
    unique = {id(p): p.numel() for p in model.parameters()}
    assert spec.num_parameters(cfg, n_in, n_out) == sum(unique.values())


def test_a_model_too_large_for_the_memory_is_refused_before_it_is_allocated(gf, tmp_path):
    code, out, err = gf(
        "train",
        "--model",
        "transformer",
        "--set",
        "model.n_embd=40000",
        "--set",
        "model.n_head=1",
        "--out",
        "run",
    )
    assert code == 2 and "model 'transformer' (" in err and "GiB" in err, err
    assert not (tmp_path / "run").exists()


# --- character models -------------------------------------------------------------------


def _main(*argv, cwd) -> tuple[int, str, str]:
    """``gradfit ARGV`` in-process in ``cwd``; (exit code, stdout, stderr)."""
    import contextlib
    import io
    import os

    from gradfit.cli import main

    out, err, old = io.StringIO(), io.StringIO(), os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main([str(a) for a in argv])
    finally:
        os.chdir(old)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def text_run(tmp_path_factory):
    """A tiny transformer trained 2 epochs on 6000 characters of the standard library:
    (folder it ran in, the text file, the train command's arguments, its stdout)."""
    from gradfit.datasets.text import stdlib_text

    root = tmp_path_factory.mktemp("text")
    path = root / "corpus.txt"
    path.write_text(stdlib_text(6000), encoding="utf-8")
    argv = ["train", "--data", f"text:{path}", *TINY_GPT, "--epochs", "2", "--no-progress"]
    code, out, err = _main(*argv, "--out", "run", cwd=root)
    assert code == 0, err
    return root, path, argv, out


@pytest.fixture
def text_file(text_run):
    return text_run[1]


def test_transformer_on_a_text_file_reports_the_cross_entropy_of_its_weights(gf, text_run):
    import gradfit
    from gradfit.datasets.text import CharText
    from gradfit.models_text import build_text_model

    root, text_file, _, out = text_run
    run = root / "run"
    cfg = _config(run)
    assert cfg["model"]["kind"] == "transformer" and cfg["loss"]["name"] == "cross_entropy"
    assert cfg["optimizer"]["name"] == "adamw" and cfg["scheduler"]["T_max"] == 2
    m = _metrics(run)
    assert m[1]["train_loss"] < m[0]["train_loss"]
    # Recompute the validation loss and accuracy from the saved weights with the model
    # class itself: a random 10 % (seed 0) of the text's windows of 16 characters, each
    # with the next characters as targets.
    text = text_file.read_text(encoding="utf-8")
    chars = CharText(text, train_fraction=1.0)
    n = (len(text) - 1) // 16
    val = np.sort(np.random.default_rng(0).permutation(n)[: round(0.1 * n)])
    starts = 16 * val[:, None] + np.arange(16)
    x = gradfit.tensor(chars.train[starts])
    y = gradfit.tensor(chars.train[starts + 1])
    lm = build_text_model(
        "transformer", chars.vocab_size, block_size=16, n_layer=1, n_embd=16, n_head=2
    )
    weights = gradfit.load(str(run / "model.safetensors"))
    lm.load_state_dict({k.removeprefix("lm."): v for k, v in weights.items()})
    lm.eval()
    with gradfit.no_grad():
        logits, loss = lm(x, y)
    assert m[-1]["val_loss"] == pytest.approx(loss.item(), rel=1e-5)
    acc = float((logits.argmax(-1).numpy() == y.numpy()).mean())
    assert m[-1]["val_accuracy"] == pytest.approx(acc, abs=1e-12)
    assert f"perplexity {math.exp(m[-1]['val_loss']):.2f}" in out
    assert f"vocabulary of {chars.vocab_size}" in out

    code, out, err = gf("evaluate", run)
    assert code == 0, err
    assert f"perplexity: {math.exp(m[-1]['val_loss']):.2f}" in out


def test_text_run_interrupted_and_resumed_ends_as_the_uninterrupted_run(text_run, monkeypatch):
    from gradfit.train import rundir

    root, _, argv, _ = text_run
    # Ctrl-C before the 30th optimizer step (in epoch 2 of 21 steps each).
    monkeypatch.setattr(rundir, "_events", {})
    monkeypatch.setenv(rundir.KILL_ENV, "step:30")
    monkeypatch.setenv(rundir.SIGNAL_ENV, "INT")
    code, _, err = _main(*argv, "--out", "cut", cwd=root)
    assert code == 130 and "--resume" in err
    monkeypatch.delenv(rundir.KILL_ENV)
    assert not (root / "cut" / "model.safetensors").exists()
    code, out, err = _main("train", "--resume", "cut", "--no-progress", cwd=root)
    assert code == 0 and "resuming cut after epoch 1" in out, err
    a = load_file(root / "run" / "model.safetensors")
    b = load_file(root / "cut" / "model.safetensors")
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


def test_sample_is_deterministic_for_a_seed_and_is_the_models_own_draw(gf, text_run):
    import gradfit
    from gradfit.models_text import generate
    from gradfit.train import builders
    from gradfit.train.run import load_run_config

    root, text_file, _, _ = text_run
    run = root / "run"
    sample = ["sample", run, "--prompt", "def ", "--tokens", "30", "--top-k", "5"]
    code, first, err = gf(*sample, "--seed", "3", "--temperature", "0.8")
    assert code == 0, err
    assert gf(*sample, "--seed", "3", "--temperature", "0.8")[1] == first
    assert gf(*sample, "--seed", "4", "--temperature", "0.8")[1] != first
    text = first.removesuffix("\n")
    assert text.startswith("def ") and len(text) == 4 + 30
    # The same draw made directly with generate() on the run's weights.
    cfg = load_run_config(run)
    vocab = sorted(set(text_file.read_text(encoding="utf-8")))
    model = builders.build_model(cfg, 16, len(vocab))
    model.load_state_dict(gradfit.load(str(run / "checkpoint.safetensors"))["model"])
    gen = gradfit.Generator()
    gen.manual_seed(3)
    idx = gradfit.tensor([[vocab.index(c) for c in "def "]])
    ids = generate(model.lm, idx, 30, temperature=0.8, top_k=5, generator=gen)
    assert text == "".join(vocab[i] for i in ids[0].tolist())


def test_sample_refuses_bad_input_in_one_line(gf, tmp_path, text_run):
    run = text_run[0] / "run"
    assert gf("train", "--hidden", "4", "--epochs", "1", "--out", "mlp", "--quiet")[0] == 0
    for argv, words in [
        (["nowhere"], ["run folder 'nowhere' does not exist"]),
        ([run, "--prompt", "def \u20ac"], ["vocabulary lacks", "'\u20ac'"]),
        ([run, "--temperature", "0"], ["--temperature 0.0", "positive"]),
        ([run, "--top-k", "0"], ["--top-k 0"]),
        ([run, "--tokens", "0"], ["--tokens 0"]),
        ([run, "--prompt", ""], ["--prompt ''"]),
        (["mlp"], ["'mlp' model", "--model transformer"]),
    ]:
        code, out, err = gf("sample", *argv)
        assert code == 2 and err.count("\n") == 1 and out == "", (argv, err)
        assert err.startswith("gradfit: error: ")
        for w in words:
            assert w in err, (argv, err)


def test_lstm_trains_and_samples(gf, tmp_path, text_file):
    small = [
        "--set",
        "model.hidden_size=16",
        "--set",
        "model.n_embd=8",
        "--set",
        "model.num_layers=1",
        "--set",
        "model.block_size=16",
    ]
    code, out, err = gf(
        "train",
        "--model",
        "lstm",
        "--data",
        f"text:{text_file}",
        *small,
        "--epochs",
        "1",
        "--out",
        "run",
        "--no-progress",
    )
    assert code == 0, err
    assert "character LSTM, 1 layers of 16" in out
    code, out, err = gf("sample", "run", "--prompt", "import", "--tokens", "10")
    assert code == 0 and len(out.removesuffix("\n")) == 16, err


def test_stdlib_text_is_the_default_data_of_a_text_model():
    from gradfit.cli import build_parser, resolve_config
    from gradfit.datasets.text import CharText, stdlib_text
    from gradfit.train.data import STDLIB_TEXT_CHARS, prepare

    cfg, _ = resolve_config(build_parser().parse_args(["train", "--model", "transformer"]))
    assert cfg["data"]["name"] == "stdlib-text" and cfg["data"]["path"] == ""
    prep = prepare(cfg)
    chars = CharText(stdlib_text(STDLIB_TEXT_CHARS), train_fraction=1.0)
    block = cfg["model"]["block_size"]
    assert prep.classes == chars.vocab and prep.num_features == block
    np.testing.assert_array_equal(prep.x_train[:, 1:], prep.y_train[:, :-1])
    # Every window, training or validation, is a window of the text: together, all of them.
    n = (STDLIB_TEXT_CHARS - 1) // block
    assert len(prep.x_train) + len(prep.x_val) == n and len(prep.x_val) == round(0.1 * n)
    windows = chars.train[: n * block].reshape(n, block)
    both = np.concatenate([prep.x_train, prep.x_val])
    assert np.array_equal(np.unique(both, axis=0), np.unique(windows, axis=0))


# --- lessons ----------------------------------------------------------------------------


def test_lesson_copies_the_student_notebook_here(gf, tmp_path):
    from importlib import resources

    from gradfit.lecture.lesson import resolve

    code, out, err = gf("lesson", "momentum")
    assert code == 0, err
    file = resolve("momentum")
    shipped = (resources.files("gradfit.lecture") / "notebooks" / file).read_bytes()
    assert (tmp_path / file).read_bytes() == shipped
    code, out, err = gf("lesson", "momentum")  # never overwrites
    assert code == 2 and "already exists" in err
    code, out, err = gf("lesson", "no-such-lesson")
    assert code == 2 and "momentum" in err
    code, out, err = gf("lesson", "--list")
    assert code == 0 and file in out


# --- TensorBoard ------------------------------------------------------------------------


def test_tensorboard_logs_metrics_lr_and_the_gradient_monitor(gf, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    code, out, err = gf(
        "train", "--hidden", "16,16", "--epochs", "2", "--tensorboard", "--out", "run", "--quiet"
    )
    assert code == 0, err
    acc = EventAccumulator(str(tmp_path / "run" / "tensorboard"))
    acc.Reload()
    tags = set(acc.Tags()["scalars"])
    metrics = _metrics(tmp_path / "run")
    for key in ("train_loss", "val_loss", "train_accuracy", "val_accuracy"):
        got = [(e.step, e.value) for e in acc.Scalars(f"metrics/{key}")]
        assert got == [(m["epoch"], pytest.approx(m[key], rel=1e-6)) for m in metrics]
    assert [e.value for e in acc.Scalars("lr")] == [pytest.approx(m["lr"]) for m in metrics]
    assert len(acc.Scalars("batch/loss")) == 2 * 40  # 4000 samples in batches of 100
    for layer in ("0", "2", "4"):  # the three Linear layers of the MLP
        for prefix in ("activations", "gradients"):
            values = [e.value for e in acc.Scalars(f"{prefix}/{layer}")]
            assert len(values) == 2 and all(v > 0 and math.isfinite(v) for v in values)
    assert {"grad_rate/4", "activation_rate/4"} <= tags or {"grad_rate/0"} <= tags


def test_tensorboard_missing_is_one_line_saying_how_to_install(gf, tmp_path, monkeypatch):
    for name in [n for n in sys.modules if n == "tensorboard" or n.startswith("tensorboard.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "tensorboard", None)
    code, out, err = gf("train", "--epochs", "1", "--tensorboard", "--out", "run")
    assert code == 2 and err.count("\n") == 1
    assert "pip install 'gradfit[tensorboard]'" in err
    assert not (tmp_path / "run").exists()
