"""The commands on a run folder: ``train`` (a new run), ``resume``, ``evaluate`` and
``sample`` (text from a character model).

Nothing is written before the whole configuration has been checked, the data loaded and the
run rehearsed (``session.build_session``); an existing run is never overwritten unless
``overwrite`` is set, and then only the files a run writes are removed. The folder is locked
for the whole run (``rundir.RunLock``). Under MPI, rank 0 alone writes.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

import gradfit
from gradfit import distributed as dist
from gradfit.train import DivergenceError, Interrupted, UsageError, builders, rundir
from gradfit.train.config import DEFAULTS, config_from_layers, read_toml, write_toml
from gradfit.train.data import load_dataset, prepare, task_of_loss, to_tensors
from gradfit.train.loop import Callback, evaluate_model, fit
from gradfit.train.report import (
    ProgressBar,
    TensorBoardLogger,
    banner,
    confusion_matrix,
    final_report,
    format_confusion,
    percent,
    perplexity,
    plot_confusion,
    plot_curves,
    require_tensorboard,
    say,
)
from gradfit.train.session import Session, build_session

CONFIG_HEADER = (
    "gradfit train configuration (resolved: every value used by the run).\n"
    "Re-run with: gradfit train --config config.toml"
)
# Variables an MPI launcher sets in every process it starts (OpenMPI, MPICH/PMI, MVAPICH).
MPI_SIZE_VARIABLES = ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "MV2_COMM_WORLD_SIZE")


def check_launcher(distributed: bool) -> None:
    """Refuse to start N independent copies of one run under ``mpiexec -n N`` without
    ``--distributed`` (they would all write the same folder)."""
    if distributed:
        return
    for var in MPI_SIZE_VARIABLES:
        size = os.environ.get(var, "")
        if size.isdigit() and int(size) > 1:
            raise UsageError(
                f"started by an MPI launcher as {size} processes ({var}={size}) without "
                "--distributed; add --distributed to train one run data-parallel, or start "
                "a single process"
            )


def default_run_dir(root: str | Path = "runs", name: str | None = None) -> Path:
    """``runs/<name>`` or ``runs/<YYYYmmdd-HHMMSS>`` (suffixed ``-2``, ... if taken)."""
    if name is not None:
        rundir.check_run_name(name)
    root = Path(root)
    base = name or time.strftime("%Y%m%d-%H%M%S")
    path, i = root / base, 1
    while name is None and path.exists() and any(path.iterdir()):
        i += 1
        path = root / f"{base}-{i}"
    return path


class RunWriter(Callback):
    """Writes the run folder as training goes: a metrics line and the checkpoint at the end
    of every epoch, the plots when the run ends, whatever the reason."""

    def __init__(self, run_dir: Path, saved_epoch: int):
        self.run_dir = run_dir
        self.saved_epoch = saved_epoch  # the epoch the checkpoint on disk holds

    def on_epoch_end(self, session: Session, metrics: dict[str, Any]) -> None:
        rundir.append_metrics(self.run_dir, metrics)
        rundir.save_checkpoint(self.run_dir / rundir.CHECKPOINT, session.state_dict())
        self.saved_epoch = session.epoch

    def on_train_end(self, session: Session, status: str) -> None:
        history = rundir.read_metrics(self.run_dir, self.saved_epoch)
        if history:
            with contextlib.suppress(OSError):  # the plots are not worth a failed run
                plot_curves(history, self.run_dir, self.run_dir.name, session.cfg["loss"]["name"])


def _write_summary(run_dir: Path, session: Session, status: str, seconds: float, epochs: int):
    hist = rundir.read_metrics(run_dir, epochs)
    best = min(
        hist, key=lambda m: m["val_loss"] if m["val_loss"] is not None else np.inf, default={}
    )
    summary = {
        "status": status,
        "epochs_completed": epochs,
        "epochs": session.cfg["train"]["epochs"],
        "final": hist[-1] if hist else {},
        "best_val_loss": best.get("val_loss"),
        "best_epoch": best.get("epoch"),
        "seconds": seconds,
        "data": session.data.name,
        "task": session.data.task,
        "num_parameters": session.num_parameters,
    }
    if session.data.tokens:
        summary["tokens"] = True
        if hist:
            summary["val_perplexity"] = perplexity(hist[-1]["val_loss"])
    rundir.write_json(run_dir / rundir.SUMMARY, summary)
    return summary


def _run(
    session: Session, run_dir: Path, progress, quiet: bool, threads, tensorboard: bool = False
) -> dict:
    """Fit with the run-folder callbacks and say how it ended. On divergence keep the last
    good checkpoint; on Ctrl-C or an OS error, write summary.json if the disk lets us, then
    re-raise."""
    if not dist.is_main_process():  # rank 0 alone writes checkpoints, metrics and progress
        fit(session, [], threads)
        return {}
    writer = RunWriter(run_dir, session.epoch)
    callbacks = [ProgressBar(bar=False if quiet else progress, lines=not quiet), writer]
    if tensorboard:
        callbacks.append(TensorBoardLogger(run_dir / rundir.TENSORBOARD))
    t0 = time.perf_counter()

    def summary(status: str) -> dict:
        return _write_summary(
            run_dir, session, status, time.perf_counter() - t0, writer.saved_epoch
        )

    try:
        status = fit(session, callbacks, threads)
    except DivergenceError as e:
        summary("diverged")
        path = run_dir / rundir.CHECKPOINT
        if path.exists():
            kept = f"the last good checkpoint (epoch {writer.saved_epoch}) is kept in {path}"
        else:
            kept = "no epoch finished, so there is no checkpoint"
        raise DivergenceError(f"{e}; {kept}", epoch=e.epoch, step=e.step, lr=e.lr) from None
    except KeyboardInterrupt:
        with contextlib.suppress(OSError):
            summary("interrupted")
        raise Interrupted(str(run_dir)) from None
    except OSError as e:
        with contextlib.suppress(OSError):
            summary(f"failed: {e.strerror or e}")
        raise
    rundir.save_weights(run_dir / rundir.MODEL, session.model.state_dict())
    result = summary(status)
    say(quiet, final_report(result, run_dir))
    return result


def _main_decides(decide):
    """Run ``decide()`` on MPI rank 0 and give every rank its result (or its UsageError):
    the run folder's name must be the same on all ranks, and an error must stop all."""
    if dist.get_world_size() == 1:
        return decide()
    result = None
    if dist.is_main_process():
        try:
            result = ("ok", decide())
        except UsageError as e:
            result = ("error", str(e))
    result = dist.init().bcast(result, root=0)
    if result[0] == "error":
        raise UsageError(result[1])
    return result[1]


def _check_start(distributed: bool, tensorboard: bool) -> None:
    check_launcher(distributed)
    if tensorboard:
        require_tensorboard()


def _main_lock(run_dir: Path):
    """The run folder's lock on rank 0 (the only writer), nothing elsewhere."""
    return rundir.lock_folder(run_dir) if dist.is_main_process() else contextlib.nullcontext()


def train(
    cfg: dict,
    out: str | Path | None = None,
    name: str | None = None,
    overwrite: bool = False,
    progress: bool | None = None,
    quiet: bool = False,
    threads: int | str | None = "auto",
    distributed: bool = False,
    tensorboard: bool = False,
) -> dict:
    """Start a new run of ``cfg`` (validated) in ``out`` (default ``runs/<name|time>``).

    With ``distributed``, every MPI rank trains its slice of each batch and rank 0 writes.
    With ``tensorboard``, rank 0 also logs to ``RUN/tensorboard`` (``report.TensorBoardLogger``)."""
    _check_start(distributed, tensorboard)
    if distributed:
        dist.init()

    def choose_dir() -> str:
        path = Path(out) if out else default_run_dir("runs", name)
        rundir.check_out_dir(path, overwrite)
        return str(path)

    run_dir = Path(_main_decides(choose_dir))
    session = build_session(cfg, distributed=distributed)  # checks config, loads the data
    main = dist.is_main_process()
    quiet = quiet or not main
    with _main_lock(run_dir):
        if main:
            rundir.check_out_dir(run_dir, overwrite)  # another run may have finished there
            if overwrite:
                rundir.clear_run_files(run_dir)
            write_toml(run_dir / rundir.CONFIG, session.cfg, header=CONFIG_HEADER)
            rundir.atomic_write(run_dir / rundir.METRICS, b"")
        say(quiet, banner(session, run_dir))
        return _run(session, run_dir, progress, quiet, threads, tensorboard)


def load_run_config(run_dir: Path) -> dict:
    path = run_dir / rundir.CONFIG
    if not run_dir.is_dir():
        raise UsageError(f"run folder {str(run_dir)!r} does not exist")
    if not path.exists():
        raise UsageError(f"{str(run_dir)!r} is not a run folder (no {rundir.CONFIG})")
    return config_from_layers([(read_toml(path), str(path))])


def resume(
    run_dir: str | Path,
    epochs: int | None = None,
    progress: bool | None = None,
    quiet: bool = False,
    threads: int | str | None = "auto",
    distributed: bool = False,
    allow_data_change: bool = False,
    tensorboard: bool = False,
) -> dict:
    """Continue the run in ``run_dir`` from its last checkpoint (to ``epochs`` if given).

    With ``distributed``, every rank reads the checkpoint (the run folder must be on a
    file system all ranks see) and rank 0 writes."""
    _check_start(distributed, tensorboard)
    run_dir = Path(run_dir)
    cfg = load_run_config(run_dir)
    if epochs is not None:
        cfg["train"]["epochs"] = epochs
    main = dist.is_main_process()
    quiet = quiet or not main
    with _main_lock(run_dir):
        session = build_session(cfg, distributed=distributed)
        path = run_dir / rundir.CHECKPOINT
        history = rundir.read_metrics(run_dir)  # refuses a damaged file before any write
        if path.exists():
            session.load_state_dict(rundir.load_checkpoint(path), str(path), allow_data_change)
        if session.epoch > cfg["train"]["epochs"]:
            raise UsageError(
                f"--epochs {cfg['train']['epochs']}: the run already finished "
                f"{session.epoch} epochs; expected at least {session.epoch}"
            )
        finished = (run_dir / rundir.MODEL).exists() and (run_dir / rundir.SUMMARY).exists()
        if session.epoch == cfg["train"]["epochs"] and history and finished:
            say(
                quiet,
                f"{run_dir} already finished its {session.epoch} epochs; extend it with --epochs N",
            )
            return {}
        if main:
            rundir.remove_temporaries(run_dir)
            session.history = rundir.truncate_metrics(run_dir, session.epoch)
            if epochs is not None:
                write_toml(run_dir / rundir.CONFIG, session.cfg, header=CONFIG_HEADER)
        if path.exists():
            say(quiet, f"resuming {run_dir} after epoch {session.epoch}")
        else:
            say(quiet, f"{run_dir} has no checkpoint yet; starting it from epoch 1")
        return _run(session, run_dir, progress, quiet, threads, tensorboard)


# --- evaluate -----------------------------------------------------------------------------


def run_weights(run_dir: Path, checkpoint: str | None) -> tuple[Path, dict, dict]:
    """(path, model state, training checkpoint or {}) from ``checkpoint``, else the run's
    last checkpoint, else its final weights; a plain ``gradfit.save``'d state dict too."""
    path = Path(checkpoint) if checkpoint else run_dir / rundir.CHECKPOINT
    if not checkpoint and not path.exists() and (run_dir / rundir.MODEL).exists():
        path = run_dir / rundir.MODEL
    try:
        state = rundir.load_checkpoint(path)
        return path, state["model"], state
    except UsageError as e:
        if "not a gradfit training checkpoint" not in str(e):
            raise
    try:
        weights = gradfit.load(str(path))
    except Exception as e:
        raise UsageError(f"checkpoint {str(path)!r} cannot be read: {e}") from None
    if not isinstance(weights, dict):
        raise UsageError(f"checkpoint {str(path)!r} holds no model weights")
    return path, weights, {}


def trained_model(cfg: dict, n_in: int, n_out: int, weights: dict, path: Path):
    """The run's model, built as training built it, with ``weights`` loaded."""
    model = builders.build_model(cfg, n_in, n_out)
    rundir.check_model_state(model, weights, str(path))
    model.load_state_dict(weights)
    return model


def _other_data(run_dir: Path, cfg: dict, data: str, target: str | None, state: dict):
    """(x, y, description, task, one_hot, classes) of a data set the run was not trained on,
    its labels mapped to the run's classes and standardised as the run's training data."""
    from gradfit import datasets

    dcfg = dict(DEFAULTS["data"])
    if data.lower().replace("_", "-") in datasets.BUILTIN:
        dcfg.update(name=data, path="")
    else:
        dcfg.update(name="", path=data, target=target or "")
    want = task_of_loss(cfg["loss"]["name"])
    ds = load_dataset(dcfg, want if dcfg["path"] else None)
    classes = [str(c) for c in state.get("classes", [])] or ds.classes
    task = "classification" if want == "classification" else ds.task
    one_hot = ds.task == "classification" and want == "regression"
    if ds.task == "classification" and want == "classification":
        index = {c: i for i, c in enumerate(classes)}
        unknown = sorted({ds.classes[i] for i in np.unique(ds.y)} - set(index))
        if unknown:
            raise UsageError(
                f"data {data!r} has labels {', '.join(unknown[:5])} the model "
                f"was not trained on (its classes: {', '.join(classes)})"
            )
        y = np.array([index[ds.classes[i]] for i in ds.y], dtype=np.int64)
    elif want == "classification":
        raise UsageError(f"data {data!r} is a regression set, but run {run_dir} is a classifier")
    else:
        y = np.eye(len(classes))[ds.y] if one_hot else ds.y
    x = ds.x
    norm = state.get("normalizer") or {}
    if norm and len(norm["mean"]) == x.shape[1]:
        x = (x - np.asarray(norm["mean"])) / np.asarray(norm["std"])
    return x, y, f"{data} (all {len(ds.x)} samples)", task, one_hot, classes


def evaluate(
    run_dir: str | Path,
    data: str | None = None,
    target: str | None = None,
    split: str = "val",
    checkpoint: str | None = None,
    out: str | None = None,
    quiet: bool = False,
) -> dict[str, Any]:
    """Loss, accuracy and confusion matrix of a run's model on a data set. The numbers are
    printed before any file is written, so a failed write does not lose them."""
    run_dir = Path(run_dir)
    cfg = load_run_config(run_dir)
    path, weights, state = run_weights(run_dir, checkpoint)
    out_dir = Path(out) if out else run_dir
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"--out {str(out_dir)!r} is a file, expected a folder for the outputs")

    tokens = builders.MODELS[cfg["model"]["kind"]].text
    if data is None:
        prep = prepare(cfg)
        part = "training" if split == "train" else "validation"
        x, y = (prep.x_train, prep.y_train) if split == "train" else (prep.x_val, prep.y_val)
        task, one_hot, classes = prep.task, prep.one_hot, prep.classes
        desc = f"{prep.name}, {part} part"
    elif tokens:
        raise UsageError(
            f"--data {data!r}: run {run_dir} is a text model; it is evaluated on its own "
            "text (--split val or train)"
        )
    else:
        x, y, desc, task, one_hot, classes = _other_data(run_dir, cfg, data, target, state)
    n_in = x.shape[1]
    n_out = len(classes) if task == "classification" else y.shape[1]
    trained = state.get("io")
    if data is not None and trained is not None:
        if n_in != trained[0]:
            raise UsageError(
                f"data {data!r} has {n_in} features, the model of run {run_dir} "
                f"expects {trained[0]}"
            )
        if n_out != trained[1]:
            what = "classes" if task == "classification" else "target columns"
            raise UsageError(
                f"data {data!r} has {n_out} {what}, the model of run {run_dir} has "
                f"{trained[1]} outputs"
            )
    model = trained_model(cfg, n_in, n_out, weights, path)
    criterion = builders.build_loss(cfg["loss"])
    dtype = builders.torch_dtype(cfg["train"]["dtype"])
    xt, yt = to_tensors(x, y, dtype, task, one_hot, tokens)
    res = evaluate_model(model, criterion, xt, yt, task, one_hot)
    result: dict[str, Any] = {
        "run": str(run_dir),
        "checkpoint": str(path),
        "epoch": state.get("epoch"),
        "data": desc,
        "samples": int(len(x)),
        "loss_name": cfg["loss"]["name"],
        "loss": res["loss"],
    }
    lines = [
        f"run {run_dir}, checkpoint {path}"
        + (f" (epoch {state['epoch']})" if "epoch" in state else ""),
        f"data: {desc}, {len(x)} " + (f"windows of {n_in} characters" if tokens else "samples"),
        f"loss ({cfg['loss']['name']}): {res['loss']:.4f}",
    ]
    cm = None
    if tokens:  # a confusion matrix over the whole vocabulary says little
        result.update(
            accuracy=res["accuracy"], perplexity=perplexity(res["loss"]), vocabulary=classes
        )
        lines.append(f"perplexity: {result['perplexity']:.2f}")
        lines.append(f"next-character accuracy: {percent(res['accuracy'])}")
    elif task == "classification":
        truth = y.argmax(axis=1) if one_hot else y
        cm = confusion_matrix(np.asarray(truth, dtype=np.int64), res["predictions"], len(classes))
        acc = res["accuracy"]
        result.update(accuracy=acc, error=1 - acc, classes=classes, confusion_matrix=cm.tolist())
        lines.append(f"accuracy: {percent(acc)} (error {percent(1 - acc)})")
        lines.append("confusion matrix (rows: true class, columns: predicted class):")
        lines.append(format_confusion(cm, classes))
    else:
        with gradfit.no_grad():
            pred = model(xt).numpy().astype(np.float64)
        err = pred - np.asarray(y, dtype=np.float64)
        result.update(rmse=float(np.sqrt(np.mean(err**2))), mae=float(np.mean(np.abs(err))))
        lines.append(f"rmse: {result['rmse']:.4f}  mae: {result['mae']:.4f}")
    say(quiet, "\n".join(lines))
    out_dir.mkdir(parents=True, exist_ok=True)
    if cm is not None:
        title = f"Confusion matrix: {run_dir.name} on {desc}"
        png = plot_confusion(cm, classes, out_dir / "confusion_matrix.png", title)
        result["confusion_matrix_png"] = png
        say(quiet, f"wrote {result['confusion_matrix_png']}")
    rundir.write_json(out_dir / "evaluation.json", result)
    return result


# --- sample -------------------------------------------------------------------------------


def sample(
    run_dir: str | Path,
    prompt: str = "\n",
    tokens: int = 200,
    temperature: float = 1.0,
    top_k: int | None = None,
    seed: int = 0,
    checkpoint: str | None = None,
) -> str:
    """The prompt followed by ``tokens`` sampled characters. The vocabulary is the one the
    run was trained with (saved in its checkpoint); ``gradfit.models_text.generate`` appends
    ``tokens`` characters, each drawn from softmax(logits / temperature) over the ``top_k``
    most likely, with a generator seeded by ``seed``: the same run, prompt and seed give the
    same text."""
    from gradfit.models_text import generate

    run_dir = Path(run_dir)
    cfg = load_run_config(run_dir)
    kind = cfg["model"]["kind"]
    if not builders.MODELS[kind].text:
        raise UsageError(
            f"run {run_dir} trained a {kind!r} model; gradfit sample needs a text model "
            "(gradfit train --model transformer or lstm)"
        )
    if tokens < 1:
        raise UsageError(f"--tokens {tokens}: expected a positive number of characters")
    if not temperature > 0:
        raise UsageError(f"--temperature {temperature}: expected a positive number")
    if top_k is not None and top_k < 1:
        raise UsageError(f"--top-k {top_k}: expected a positive integer")
    if not prompt:
        raise UsageError("--prompt '': expected at least one character to start from")
    path, weights, state = run_weights(run_dir, checkpoint)
    vocab = [str(c) for c in state.get("classes", [])]
    if not vocab:  # plain weights: the vocabulary comes from the run's text
        vocab = prepare(cfg).classes
    index = {c: i for i, c in enumerate(vocab)}
    unknown = sorted({c for c in prompt if c not in index})
    if unknown:
        raise UsageError(
            f"--prompt has characters the run's vocabulary lacks: "
            f"{', '.join(repr(c) for c in unknown[:10])} (the text of run {run_dir} has "
            f"{len(vocab)} distinct characters)"
        )
    model = trained_model(cfg, cfg["model"]["block_size"], len(vocab), weights, path)
    gen = gradfit.Generator()
    gen.manual_seed(seed)
    idx = gradfit.tensor([[index[c] for c in prompt]], dtype=gradfit.int64)
    out = generate(model.lm, idx, tokens, temperature=temperature, top_k=top_k, generator=gen)
    return "".join(vocab[i] for i in out[0].tolist())
