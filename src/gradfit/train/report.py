"""Reporting: on the console (the run header, the progress bar and epoch lines, the final
line, the confusion matrix), in PNG plots of a run and of a search, and in TensorBoard.

Plots use ``matplotlib.figure.Figure`` directly with the Agg canvas (no pyplot), so plotting
never switches the backend of a program (or notebook) that imports gradfit.

``--tensorboard`` writes a run's metrics and the lecture's gradient monitor to TensorBoard's
event files (``RUN/tensorboard/``; ``tensorboard --logdir RUN``) with
``gradfit.utils.tensorboard.SummaryWriter``:

- every batch: ``batch/loss`` at the global step (batches since the run began);
- every epoch: ``metrics/train_loss``, ``metrics/val_loss`` (and the accuracies) and ``lr``
  (the learning rate used during the epoch), at the epoch number;
- every epoch, from the epoch's last training batch, per layer: the variance of its output
  (``activations/<layer>``) and of the loss gradient with respect to it
  (``gradients/<layer>``), and their rates of change per layer (``activation_rate``,
  ``grad_rate``) -- what ``GradientMonitor`` measures to flag vanishing or exploding
  gradients. The ``tensorboard`` package is an optional extra.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

import numpy as np

from gradfit.train import UsageError, builders
from gradfit.train.loop import Callback
from gradfit.train.rundir import atomic_write
from gradfit.train.session import Session

# Width of the progress bar when the terminal reports none (`script`, some CI logs).
FALLBACK_COLUMNS = 100


def say(quiet: bool, *args) -> None:
    if not quiet:
        print(*args, flush=True)


def perplexity(loss: float) -> float:
    """exp(mean cross-entropy): the number of equally likely characters the model's
    uncertainty amounts to."""
    import math

    return math.exp(min(loss, 700.0))


def percent(fraction: float) -> str:
    return f"{100 * fraction:.2f}%"


def format_metrics(m: dict[str, Any], epochs: int) -> str:
    """One line per epoch, e.g. ``epoch  3/50  train_loss 1.2345  val_loss ...``."""
    w = len(str(epochs))
    parts = [f"epoch {m['epoch']:>{w}}/{epochs}", f"train_loss {m['train_loss']:.4f}"]
    if m.get("train_accuracy") is not None:
        parts.append(f"train_acc {100 * m['train_accuracy']:5.2f}%")
    parts.append(f"val_loss {m['val_loss']:.4f}")
    if m.get("val_accuracy") is not None:
        parts.append(f"val_acc {100 * m['val_accuracy']:5.2f}%")
    if m.get("lr") is not None:
        parts.append(f"lr {m['lr']:.3g}")
    parts.append(f"{m['seconds']:.2f}s")
    return "  ".join(parts)


def _columns() -> int:
    cols = shutil.get_terminal_size((0, 0)).columns
    return cols if cols > 0 else FALLBACK_COLUMNS


class ProgressBar(Callback):
    """A tqdm bar over all batches of the run, with the running loss and the last epoch's
    validation result, and one printed line per epoch. ``bar=None`` shows the bar only on a
    terminal."""

    def __init__(self, bar: bool | None = None, lines: bool = True, stream=None):
        self.bar_enabled = bar
        self.lines = lines
        self.stream = stream
        self.bar = None
        self._sum, self._n = 0.0, 0
        self._postfix: dict[str, str] = {}

    def on_train_begin(self, session: Session) -> None:
        from tqdm.auto import tqdm

        steps = len(session.loader)
        epochs = session.cfg["train"]["epochs"]
        self.bar = tqdm(
            total=epochs * steps,
            initial=min(session.epoch, epochs) * steps,
            desc=f"epoch {session.epoch + 1}/{epochs}",
            unit="batch",
            file=sys.stderr,
            disable=None if self.bar_enabled is None else not self.bar_enabled,
            ncols=_columns(),
            leave=False,
        )

    def _shown(self) -> bool:
        return self.bar is not None and not self.bar.disable

    def on_batch_end(self, session: Session, step: int, loss: float) -> None:
        self._sum += loss
        self._n += 1
        if self._shown():
            self._postfix["loss"] = f"{self._sum / self._n:.4f}"
            self.bar.set_postfix(self._postfix, refresh=False)
            self.bar.update(1)

    def on_epoch_end(self, session: Session, metrics: dict[str, Any]) -> None:
        self._sum, self._n = 0.0, 0
        epochs = session.cfg["train"]["epochs"]
        if metrics.get("val_accuracy") is not None:
            self._postfix = {"val_acc": percent(metrics["val_accuracy"])}
        else:
            self._postfix = {"val_loss": f"{metrics['val_loss']:.4f}"}
        if self._shown():  # shown now, not only from the next batch on
            self.bar.set_description(
                f"epoch {min(session.epoch + 1, epochs)}/{epochs}", refresh=False
            )
            self.bar.set_postfix(self._postfix, refresh=True)
        if self.lines:
            line = format_metrics(metrics, epochs)
            if self._shown():
                self.bar.write(line, file=self.stream or sys.stdout)
            else:
                print(line, file=self.stream or sys.stdout, flush=True)

    def on_train_end(self, session: Session, status: str) -> None:
        if self.bar is not None:
            self.bar.close()


def _kwargs(table: dict, keys: tuple = ()) -> str:
    items = [(k, v) for k, v in table.items() if k != "name" and (not keys or k in keys)]
    return ", ".join(f"{k} {v}" for k, v in items)


def banner(session: Session, run_dir: Path) -> str:
    """The run header: data, model, training recipe, run folder (and MPI ranks)."""
    c, d = session.cfg, session.data
    kind = d.task + (f", {len(d.classes)} classes" if d.task == "classification" else "")
    model = builders.MODELS[c["model"]["kind"]].describe(c["model"], d.num_features, d.num_outputs)
    opt = f"{c['optimizer']['name']} ({_kwargs(c['optimizer'], ('lr', 'momentum', 'betas'))})"
    sched = c["scheduler"]["name"]
    if session.scheduler is not None:
        sched += f" ({_kwargs(c['scheduler'])})"
    samples = "samples"
    init = f"{c['model']['init']} init, " if builders.MODELS[c["model"]["kind"]].linear_init else ""
    if d.tokens:  # windows of characters, each position predicting the next character
        kind = f"next character, vocabulary of {len(d.classes)}"
        samples = f"windows of {d.num_features} characters"
    lines = [
        f"data      {d.name}: {len(d.x_train)} training / {len(d.x_val)} validation {samples} "
        f"({kind})",
        f"model     {model}, {init}{session.num_parameters} parameters, {c['train']['dtype']}",
        f"training  {c['loss']['name']} loss, {opt}, scheduler {sched}, "
        f"{c['train']['epochs']} epochs of batch {c['train']['batch_size']}, seed "
        f"{c['train']['seed']}",
        f"run       {run_dir}",
    ]
    if session.shard is not None:
        world = session.shard[1]
        lines.append(f"ranks     {world} MPI processes, each on 1/{world} of every batch")
    return "\n".join(lines)


def final_report(summary: dict, run_dir: Path) -> str:
    f = summary.get("final") or {}
    if not f:
        return f"run {run_dir}: nothing to train"
    msg = f"finished {summary['epochs_completed']} epochs in {summary['seconds']:.1f}s: "
    msg += f"val_loss {f['val_loss']:.4f}"
    if summary.get("tokens"):
        msg += f" (perplexity {perplexity(f['val_loss']):.2f})"
    if f.get("val_accuracy") is not None:
        msg += f", val_accuracy {percent(f['val_accuracy'])} "
        msg += f"(error {percent(1 - f['val_accuracy'])})"
    return (
        f"{msg}\nrun folder: {run_dir}  (resume/extend: gradfit train --resume {run_dir} "
        f"--epochs N; evaluate: gradfit evaluate {run_dir})"
    )


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n: int) -> np.ndarray:
    """``cm[i, j]`` = number of samples of true class i predicted as class j."""
    cm = np.zeros((n, n), dtype=np.int64)
    np.add.at(cm, (y_true, y_pred), 1)
    return cm


def format_confusion(cm: np.ndarray, classes: list[str]) -> str:
    w = max(5, max(len(c) for c in classes) + 1, len(str(int(cm.max(initial=0)))) + 1)
    rows = ["true\\pred".ljust(10) + "".join(c.rjust(w) for c in classes)]
    for i, c in enumerate(classes):
        rows.append(c.ljust(10) + "".join(str(int(v)).rjust(w) for v in cm[i]))
    return "\n".join(rows)


# --- PNG plots ----------------------------------------------------------------------------


def _axes(xlabel: str, ylabel: str, title: str, size: tuple = (6.4, 4.2)):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return fig, ax


def _save(fig, path: str | Path, ax=None) -> str:
    """Write the figure (``ax`` given: gridded, with its legend) as a PNG, atomically."""
    if ax is not None:
        ax.grid(alpha=0.3)
        ax.legend()
    atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=100))
    return str(path)


def plot_curves(history: list[dict], out_dir: str | Path, title: str, loss_name: str) -> list[str]:
    """``loss.png`` (training and validation loss per epoch) and, for classification,
    ``accuracy.png``."""
    epochs = [h["epoch"] for h in history]
    written = []
    for name, scale, ylabel in (
        ("loss", 1, f"loss ({loss_name})"),
        ("accuracy", 100, "accuracy (%)"),
    ):
        if not history or history[0].get(f"val_{name}") is None:
            continue
        fig, ax = _axes("epoch", ylabel, f"{name.capitalize()}: {title}")
        for part, style, label in (("train", "o-", "training"), ("val", "s-", "validation")):
            if history[0].get(f"{part}_{name}") is not None:
                values = [scale * h[f"{part}_{name}"] for h in history]
                ax.plot(epochs, values, style, ms=3, label=label)
        written.append(_save(fig, Path(out_dir) / f"{name}.png", ax))
    return written


def plot_confusion(cm: np.ndarray, classes: list[str], path: str | Path, title: str) -> str:
    """The confusion matrix as an image: rows are true classes, columns predictions."""
    n = len(classes)
    size = (1.2 + 0.55 * max(n, 4), 0.9 + 0.5 * max(n, 4))
    fig, ax = _axes("predicted class", "true class", title, size)
    im = ax.imshow(cm, cmap="Blues")
    fig.colorbar(im, ax=ax, label="samples")
    ax.set_xticks(range(n), classes)
    ax.set_yticks(range(n), classes)
    if n <= 20:
        hi = cm.max() if cm.size else 0
        for i in range(n):
            for j in range(n):
                ax.text(
                    j,
                    i,
                    str(int(cm[i, j])),
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if cm[i, j] > hi / 2 else "black",
                )
    return _save(fig, path)


def plot_search_history(
    numbers, values, path: str | Path, metric: str, title: str, maximize: bool = False
) -> str:
    """Objective of each finished trial and the best value so far."""
    fig, ax = _axes("trial", metric, f"Optimisation history: {title}")
    ax.plot(numbers, values, "o", ms=4, label="trial")
    acc = np.maximum if maximize else np.minimum
    best = acc.accumulate(np.asarray(values, dtype=float)) if values else []
    ax.step(numbers, best, where="post", color="C3", label="best so far")
    return _save(fig, path, ax)


def plot_param(
    xs, values, name: str, log: bool, path: str | Path, metric: str, pruned=((), ())
) -> str:
    """One hyperparameter against the objective; pruned trials at their last report."""
    fig, ax = _axes(name, metric, f"{name} against {metric}")
    ax.plot(xs, values, "o", ms=5, label="finished trial")
    if len(pruned[0]):
        ax.plot(pruned[0], pruned[1], "x", ms=5, color="0.5", label="pruned (last report)")
    if log:
        ax.set_xscale("log")
    return _save(fig, path, ax)


# --- TensorBoard --------------------------------------------------------------------------


def require_tensorboard() -> None:
    """Refuse ``--tensorboard`` when the tensorboard package cannot be imported."""
    from gradfit.utils.tensorboard import _tb

    try:
        _tb()
    except ImportError:
        raise UsageError(
            "--tensorboard needs the tensorboard package, which is not installed: "
            "pip install 'gradfit[tensorboard]'"
        ) from None


class TensorBoardLogger(Callback):
    """Writes ``log_dir``'s event files as training goes (see the module docstring)."""

    def __init__(self, log_dir: str | Path):
        self.log_dir = Path(log_dir)
        self.writer = None
        self.monitor = None
        self.steps = 1

    def on_train_begin(self, session: Session) -> None:
        from gradfit.nn.utils.monitor import GradientMonitor
        from gradfit.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(str(self.log_dir))
        self.monitor = GradientMonitor(session.model, warn=False)
        self.steps = len(session.loader)

    def on_batch_end(self, session: Session, step: int, loss: float) -> None:
        from gradfit.utils.tensorboard import log_training_step

        self.writer.add_scalar("batch/loss", loss, session.epoch * self.steps + step + 1)
        if step == self.steps - 1:  # before validation passes replace the statistics
            log_training_step(self.writer, session.epoch + 1, monitor=self.monitor)

    def on_epoch_end(self, session: Session, metrics: dict[str, Any]) -> None:
        epoch = metrics["epoch"]
        for key, value in metrics.items():
            if key in ("epoch", "seconds", "lr") or value is None:
                continue
            self.writer.add_scalar(f"metrics/{key}", value, epoch)
        if metrics.get("lr") is not None:
            self.writer.add_scalar("lr", metrics["lr"], epoch)
        self.writer.flush()

    def on_train_end(self, session: Session, status: str) -> None:
        if self.monitor is not None:
            self.monitor.remove()
        if self.writer is not None:
            self.writer.close()
