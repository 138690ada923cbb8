"""Run folders: ``gradfit train`` (new or resumed runs) and ``gradfit evaluate``.

A run folder holds ``config.toml`` (the full resolved configuration, re-loadable with
``--config``), ``metrics.jsonl`` (one object per epoch), ``checkpoint.safetensors`` (the
state after the last finished epoch), ``model.safetensors`` (the final weights, a plain
state dict for ``gradfit.load``), ``summary.json``, and ``loss.png`` / ``accuracy.png``.

Nothing is written before the whole configuration has been checked and the data loaded, and
an existing run is never overwritten unless ``overwrite`` is set; even then only the files a
run writes are removed.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from gradfit.train import checkpoint as ckpt
from gradfit.train.callbacks import (
    Checkpointer,
    MetricsWriter,
    Plotter,
    ProgressBar,
    read_metrics,
    truncate_metrics,
)
from gradfit.train.config import DEFAULTS, config_from_layers, read_toml, write_toml
from gradfit.train.errors import DivergenceError, UsageError
from gradfit.train.loop import Session

CONFIG = "config.toml"
MODEL = "model.safetensors"
SUMMARY = "summary.json"
RUN_FILES = (
    CONFIG,
    "metrics.jsonl",
    ckpt.CHECKPOINT,
    MODEL,
    SUMMARY,
    "loss.png",
    "accuracy.png",
    "confusion_matrix.png",
    "evaluation.json",
)


def _say(quiet: bool, *args) -> None:
    if not quiet:
        print(*args, flush=True)


def default_run_dir(root: str | Path = "runs", name: str | None = None) -> Path:
    """``runs/<name>`` or ``runs/<YYYYmmdd-HHMMSS>`` (suffixed ``-2``, ... if taken)."""
    root = Path(root)
    base = name or time.strftime("%Y%m%d-%H%M%S")
    path, i = root / base, 1
    while name is None and path.exists() and any(path.iterdir()):
        i += 1
        path = root / f"{base}-{i}"
    return path


def check_out_dir(path: Path, overwrite: bool) -> None:
    """Refuse to write into an existing non-empty folder unless ``overwrite``."""
    if path.exists() and not path.is_dir():
        raise UsageError(f"--out {str(path)!r} is a file, expected a folder for the run")
    if path.is_dir() and any(path.iterdir()) and not overwrite:
        what = "a run" if (path / CONFIG).exists() else "files"
        raise UsageError(
            f"--out {str(path)!r} already holds {what}; use --resume {path} to continue it, "
            "--overwrite to replace it, or another --out"
        )


def _clear_run_files(path: Path) -> None:
    for name in RUN_FILES:
        (path / name).unlink(missing_ok=True)
    ckpt.remove_stale_temporaries(path)


def _write_summary(run_dir: Path, session: Session, status: str, seconds: float) -> dict:
    hist = session.history or read_metrics(run_dir)
    last = hist[-1] if hist else {}
    best = min(
        hist, key=lambda m: m["val_loss"] if m["val_loss"] is not None else np.inf, default={}
    )
    summary = {
        "status": status,
        "epochs_completed": session.epoch,
        "epochs": session.cfg["train"]["epochs"],
        "final": last,
        "best_val_loss": best.get("val_loss"),
        "best_epoch": best.get("epoch"),
        "seconds": seconds,
        "data": session.data.name,
        "task": session.data.task,
        "num_parameters": int(sum(p.numel() for p in session.model.parameters())),
    }
    ckpt.atomic_write_bytes(run_dir / SUMMARY, (json.dumps(summary, indent=2) + "\n").encode())
    return summary


def _is_main() -> bool:
    """False on MPI ranks other than 0, which train but write nothing."""
    from gradfit import distributed as dist

    return dist.is_main_process()


def _run(
    session: Session,
    run_dir: Path,
    progress: bool | None,
    quiet: bool,
    threads: int | str | None = "auto",
) -> dict:
    """Fit with the run-folder callbacks; on divergence keep the last good checkpoint."""
    import gradfit
    from gradfit.train.loop import auto_threads, blas_threads

    n_threads = auto_threads(session) if threads == "auto" else threads
    if not _is_main():  # rank 0 alone writes checkpoints, metrics and progress
        with blas_threads(n_threads):
            session.fit([])
        return {}

    checkpointer = Checkpointer(run_dir)
    callbacks = [
        ProgressBar(bar=False if quiet else progress, lines=not quiet),
        MetricsWriter(run_dir),
        checkpointer,
        Plotter(run_dir, run_dir.name),
    ]
    t0 = time.perf_counter()
    try:
        with blas_threads(n_threads):
            status = session.fit(callbacks)
    except DivergenceError as e:
        _write_summary(run_dir, session, "diverged", time.perf_counter() - t0)
        path = run_dir / ckpt.CHECKPOINT
        if path.exists():
            kept = f"the last good checkpoint (epoch {session.epoch}) is kept in {path}"
        else:
            kept = "no epoch finished, so there is no checkpoint"
        raise DivergenceError(f"{e}; {kept}", epoch=e.epoch, step=e.step, lr=e.lr) from None
    except KeyboardInterrupt:
        _write_summary(run_dir, session, "interrupted", time.perf_counter() - t0)
        raise
    gradfit.save(session.model.state_dict(), str(run_dir / MODEL))
    return _write_summary(run_dir, session, status, time.perf_counter() - t0)


def _report(summary: dict, run_dir: Path, quiet: bool) -> None:
    f = summary.get("final") or {}
    if not f:
        _say(quiet, f"run {run_dir}: nothing to train")
        return
    msg = f"finished {summary['epochs_completed']} epochs in {summary['seconds']:.1f}s: "
    msg += f"val_loss {f['val_loss']:.4f}"
    if f.get("val_accuracy") is not None:
        msg += f", val_accuracy {100 * f['val_accuracy']:.2f}% "
        msg += f"(error {100 * (1 - f['val_accuracy']):.2f}%)"
    _say(quiet, msg)
    _say(
        quiet,
        f"run folder: {run_dir}  (resume/extend: gradfit train --resume {run_dir} "
        f"--epochs N; evaluate: gradfit evaluate {run_dir})",
    )


def _main_decides(decide):
    """Run ``decide()`` on MPI rank 0 and give every rank its result (or its UsageError):
    the run folder's name must be the same on all ranks, and an error must stop all."""
    from gradfit import distributed as dist

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


def train(
    cfg: dict,
    out: str | Path | None = None,
    name: str | None = None,
    overwrite: bool = False,
    progress: bool | None = None,
    quiet: bool = False,
    threads: int | str | None = "auto",
    distributed: bool = False,
) -> dict:
    """Start a new run of ``cfg`` (validated) in ``out`` (default ``runs/<name|time>``).

    With ``distributed``, every MPI rank trains its shard and rank 0 writes the run."""
    if distributed:
        from gradfit import distributed as dist

        dist.init()

    def choose_dir() -> str:
        path = Path(out) if out else default_run_dir("runs", name)
        check_out_dir(path, overwrite)
        return str(path)

    run_dir = Path(_main_decides(choose_dir))
    session = Session.build(cfg, distributed=distributed)  # checks config, loads the data
    main = _is_main()
    quiet = quiet or not main
    if main:
        run_dir.mkdir(parents=True, exist_ok=True)
        if overwrite:
            _clear_run_files(run_dir)
        write_toml(run_dir / CONFIG, session.cfg, header=_config_header(session))
        (run_dir / "metrics.jsonl").write_bytes(b"")
    _say(quiet, _banner(session, run_dir))
    summary = _run(session, run_dir, progress, quiet, threads)
    if main:
        _report(summary, run_dir, quiet)
    return summary


def _config_header(session: Session) -> str:
    return (
        "gradfit train configuration (resolved: every value used by the run).\n"
        "Re-run with: gradfit train --config config.toml"
    )


def _kwargs(table: dict, keys: tuple = ()) -> str:
    items = [(k, v) for k, v in table.items() if k != "name" and (not keys or k in keys)]
    return ", ".join(f"{k} {v}" for k, v in items)


def _banner(session: Session, run_dir: Path) -> str:
    c = session.cfg
    d = session.data
    widths = [d.num_features, *c["model"]["hidden"], d.num_outputs]
    n_params = sum(p.numel() for p in session.model.parameters())
    kind = d.task + (f", {len(d.classes)} classes" if d.task == "classification" else "")
    opt = f"{c['optimizer']['name']} ({_kwargs(c['optimizer'], ('lr', 'momentum', 'betas'))})"
    sched = c["scheduler"]["name"]
    if session.scheduler is not None:
        sched += f" ({_kwargs(c['scheduler'])})"
    return "\n".join(
        [
            f"data      {d.name}: {len(d.x_train)} training / {len(d.x_val)} validation samples "
            f"({kind})",
            f"model     MLP {'-'.join(map(str, widths))}, {c['model']['activation']}, "
            f"{c['model']['init']} init, {n_params} parameters, {c['train']['dtype']}",
            f"training  {c['loss']['name']} loss, {opt}, scheduler {sched}, "
            f"{c['train']['epochs']} epochs of batch {c['train']['batch_size']}, seed "
            f"{c['train']['seed']}",
            f"run       {run_dir}",
        ]
    )


def load_run_config(run_dir: Path) -> dict:
    path = run_dir / CONFIG
    if not run_dir.is_dir():
        raise UsageError(f"run folder {str(run_dir)!r} does not exist")
    if not path.exists():
        raise UsageError(f"{str(run_dir)!r} is not a run folder (no {CONFIG})")
    return config_from_layers([(read_toml(path), str(path))])


def resume(
    run_dir: str | Path,
    epochs: int | None = None,
    progress: bool | None = None,
    quiet: bool = False,
    threads: int | str | None = "auto",
    distributed: bool = False,
) -> dict:
    """Continue the run in ``run_dir`` from its last checkpoint (to ``epochs`` if given).

    With ``distributed``, every rank reads the checkpoint (the run folder must be on a
    file system all ranks see) and rank 0 writes."""
    run_dir = Path(run_dir)
    cfg = load_run_config(run_dir)
    if epochs is not None:
        cfg["train"]["epochs"] = epochs
    session = Session.build(cfg, distributed=distributed)
    quiet = quiet or not _is_main()
    path = run_dir / ckpt.CHECKPOINT
    ckpt.remove_stale_temporaries(run_dir)
    if path.exists():
        state = ckpt.load(path)
        session.load_state_dict(state, str(path))
        _say(quiet, f"resuming {run_dir} after epoch {session.epoch}")
    else:
        _say(quiet, f"{run_dir} has no checkpoint yet; starting it from epoch 1")
    if session.epoch > cfg["train"]["epochs"]:
        raise UsageError(
            f"--epochs {cfg['train']['epochs']}: the run already finished "
            f"{session.epoch} epochs; expected at least {session.epoch}"
        )
    if session.epoch == cfg["train"]["epochs"]:
        _say(
            quiet,
            f"{run_dir} already finished its {session.epoch} epochs; extend it with --epochs N",
        )
    if _is_main():
        session.history = truncate_metrics(run_dir, session.epoch)
        if epochs is not None:
            write_toml(run_dir / CONFIG, session.cfg, header=_config_header(session))
    summary = _run(session, run_dir, progress, quiet, threads)
    if _is_main():
        _report(summary, run_dir, quiet)
    return summary


# --- evaluate -----------------------------------------------------------------------------


def _load_weights(path: Path) -> tuple[dict, dict]:
    """(model state, training checkpoint or {}) from a training checkpoint or a plain
    ``gradfit.save``'d state dict."""
    import gradfit

    if not path.is_file():
        raise UsageError(f"checkpoint {str(path)!r} does not exist")
    try:
        state = ckpt.load(path)
        return state["model"], state
    except UsageError as e:
        if "not a gradfit training checkpoint" not in str(e):
            raise
    try:
        weights = gradfit.load(str(path))
    except Exception as e:
        raise UsageError(f"checkpoint {str(path)!r} cannot be read: {e}") from None
    if not isinstance(weights, dict):
        raise UsageError(f"checkpoint {str(path)!r} holds no model weights")
    return weights, {}


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n: int) -> np.ndarray:
    """``cm[i, j]`` = number of samples of true class i predicted as class j."""
    cm = np.zeros((n, n), dtype=np.int64)
    np.add.at(cm, (y_true, y_pred), 1)
    return cm


def format_confusion(cm: np.ndarray, classes: list[str]) -> str:
    w = max(5, max(len(c) for c in classes) + 1, len(str(int(cm.max(initial=0)))) + 1)
    head = "true\\pred".ljust(10) + "".join(c.rjust(w) for c in classes)
    rows = [head]
    for i, c in enumerate(classes):
        rows.append(c.ljust(10) + "".join(str(int(v)).rjust(w) for v in cm[i]))
    return "\n".join(rows)


def evaluate(
    run_dir: str | Path,
    data: str | None = None,
    target: str | None = None,
    split: str = "val",
    checkpoint: str | None = None,
    out: str | None = None,
    quiet: bool = False,
) -> dict[str, Any]:
    """Loss, accuracy and confusion matrix of a run's model on a data set."""
    from gradfit import datasets
    from gradfit.train import builders
    from gradfit.train.data import load_dataset, prepare, to_tensors
    from gradfit.train.loop import _dtype, evaluate_model

    run_dir = Path(run_dir)
    cfg = load_run_config(run_dir)
    path = Path(checkpoint) if checkpoint else run_dir / ckpt.CHECKPOINT
    if not checkpoint and not path.exists() and (run_dir / MODEL).exists():
        path = run_dir / MODEL
    weights, state = _load_weights(path)
    out_dir = Path(out) if out else run_dir

    if data is None:
        prep = prepare(cfg)
        if split == "train":
            x, y, desc = prep.x_train, prep.y_train, f"{prep.name}, training part"
        else:
            x, y, desc = prep.x_val, prep.y_val, f"{prep.name}, validation part"
        task, one_hot, classes = prep.task, prep.one_hot, prep.classes
        n_features, n_outputs = prep.num_features, prep.num_outputs
    else:
        prep = None
        dcfg = dict(DEFAULTS["data"])
        if data.lower().replace("_", "-") in datasets.BUILTIN:
            dcfg.update(name=data, path="")
        else:
            dcfg.update(name="", path=data, target=target or "")
        from gradfit.train.data import task_of_loss

        want = task_of_loss(cfg["loss"]["name"])
        ds = load_dataset(dcfg, want if dcfg["path"] else None)
        x, desc = ds.x, f"{data} (all {len(ds.x)} samples)"
        classes = [str(c) for c in state.get("classes", [])] or ds.classes
        trained_task = "classification" if want == "classification" else None
        task = ds.task if trained_task is None else trained_task
        one_hot = ds.task == "classification" and want == "regression"
        if ds.task == "classification" and want == "classification":
            # Map this file's labels to the classes the model was trained on.
            index = {c: i for i, c in enumerate(classes)}
            unknown = sorted({ds.classes[i] for i in np.unique(ds.y)} - set(index))
            if unknown:
                raise UsageError(
                    f"data {data!r} has labels {', '.join(unknown[:5])} the model "
                    f"was not trained on (its classes: {', '.join(classes)})"
                )
            y = np.array([index[ds.classes[i]] for i in ds.y], dtype=np.int64)
        elif want == "classification":
            raise UsageError(
                f"data {data!r} is a regression set, but run {run_dir} is a classifier"
            )
        else:
            y = np.eye(len(classes))[ds.y] if one_hot else ds.y
        norm = state.get("normalizer") or {}
        if norm:
            mean, std = np.asarray(norm["mean"]), np.asarray(norm["std"])
            if len(mean) == x.shape[1]:
                x = (x - mean) / std
        n_features = x.shape[1]
        n_outputs = len(classes) if task == "classification" else y.shape[1]

    # The trained model's input and output sizes, from the weights of its first and last
    # Linear layer (Sequential indices 0, 2, 4, ...), so a data set that does not fit is
    # named as the problem rather than the checkpoint.
    first = weights.get("0.weight")
    last = weights.get(f"{2 * len(cfg['model']['hidden'])}.weight")
    if data is not None and first is not None and last is not None:
        trained_in, trained_out = int(first.shape[1]), int(last.shape[0])
        if n_features != trained_in:
            raise UsageError(
                f"data {data!r} has {n_features} features, the model of run "
                f"{run_dir} expects {trained_in}"
            )
        if n_outputs != trained_out:
            what = "classes" if task == "classification" else "target columns"
            raise UsageError(
                f"data {data!r} has {n_outputs} {what}, the model of run {run_dir} has "
                f"{trained_out} outputs"
            )
    import gradfit

    dtype = _dtype(cfg["train"]["dtype"])
    gradfit.manual_seed(cfg["train"]["seed"])
    old = gradfit.get_default_dtype()
    gradfit.set_default_dtype(dtype)
    try:
        model = builders.build_model(cfg["model"], n_features, n_outputs)
    finally:
        gradfit.set_default_dtype(old)
    ckpt.check_model_state(model, weights, str(path))
    model.load_state_dict(weights)
    criterion = builders.build_loss(cfg["loss"])
    xt, yt = to_tensors(x, y, dtype, task, one_hot)
    res = evaluate_model(model, criterion, xt, yt, task, one_hot)
    out_dir.mkdir(parents=True, exist_ok=True)
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
        f"data: {desc}, {len(x)} samples",
        f"loss ({cfg['loss']['name']}): {res['loss']:.4f}",
    ]
    if task == "classification":
        truth = y.argmax(axis=1) if one_hot else y
        cm = confusion_matrix(np.asarray(truth, dtype=np.int64), res["predictions"], len(classes))
        result.update(
            accuracy=res["accuracy"],
            error=1 - res["accuracy"],
            classes=classes,
            confusion_matrix=cm.tolist(),
        )
        lines.append(
            f"accuracy: {100 * res['accuracy']:.2f}% (error {100 * (1 - res['accuracy']):.2f}%)"
        )
        lines.append("confusion matrix (rows: true class, columns: predicted class):")
        lines.append(format_confusion(cm, classes))
        from gradfit.train.plots import plot_confusion

        png = plot_confusion(
            cm,
            classes,
            out_dir / "confusion_matrix.png",
            f"Confusion matrix: {run_dir.name} on {desc}",
        )
        result["confusion_matrix_png"] = png
        lines.append(f"wrote {png}")
    else:
        with gradfit.no_grad():
            pred = model(xt).numpy().astype(np.float64)
        err = pred - np.asarray(y, dtype=np.float64)
        result.update(rmse=float(np.sqrt(np.mean(err**2))), mae=float(np.mean(np.abs(err))))
        lines.append(f"rmse: {result['rmse']:.4f}  mae: {result['mae']:.4f}")
    ckpt.atomic_write_bytes(
        out_dir / "evaluation.json", (json.dumps(result, indent=2) + "\n").encode()
    )
    _say(quiet, "\n".join(lines))
    return result
