"""Callbacks of the fit loop: progress bar, epoch lines, metrics file, checkpoints, plots."""

from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path
from typing import Any

from gradfit.train import checkpoint as ckpt
from gradfit.train.loop import Callback, Session

METRICS = "metrics.jsonl"


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


class ProgressBar(Callback):
    """A tqdm bar over all batches of the run, with the running loss and accuracy, and one
    printed line per epoch. ``bar=None`` shows the bar only on a terminal."""

    def __init__(self, bar: bool | None = None, lines: bool = True, stream=None):
        self.bar_enabled = bar
        self.lines = lines
        self.stream = stream
        self.bar = None
        self._sum = 0.0
        self._n = 0

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
            dynamic_ncols=True,
            leave=False,
        )
        self._last_val = None

    def on_batch_end(self, session: Session, step: int, loss: float) -> None:
        self._sum += loss
        self._n += 1
        if self.bar is not None and not self.bar.disable:
            post = {"loss": f"{self._sum / self._n:.4f}"}
            if self._last_val is not None:
                post["val_acc" if session.classification else "val_loss"] = self._last_val
            self.bar.set_postfix(post, refresh=False)
            self.bar.update(1)

    def on_epoch_end(self, session: Session, metrics: dict[str, Any]) -> None:
        self._sum, self._n = 0.0, 0
        epochs = session.cfg["train"]["epochs"]
        if metrics.get("val_accuracy") is not None:
            self._last_val = f"{100 * metrics['val_accuracy']:.2f}%"
        else:
            self._last_val = f"{metrics['val_loss']:.4f}"
        if self.bar is not None:
            self.bar.set_description(
                f"epoch {min(session.epoch + 1, epochs)}/{epochs}", refresh=False
            )
        if self.lines:
            line = format_metrics(metrics, epochs)
            if self.bar is not None and not self.bar.disable:
                self.bar.write(line, file=self.stream or sys.stdout)
            else:
                print(line, file=self.stream or sys.stdout, flush=True)

    def on_train_end(self, session: Session, status: str) -> None:
        if self.bar is not None:
            self.bar.close()


class MetricsWriter(Callback):
    """Appends one JSON object per epoch to ``metrics.jsonl`` (fsync'ed)."""

    def __init__(self, run_dir: str | Path):
        self.path = Path(run_dir) / METRICS

    def on_epoch_end(self, session: Session, metrics: dict[str, Any]) -> None:
        line = json.dumps({k: _json_number(v) for k, v in metrics.items()})
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(line + "\n")
            f.flush()
            os.fsync(f.fileno())


def _json_number(v):
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def read_metrics(run_dir: str | Path, up_to_epoch: int | None = None) -> list[dict]:
    """The epochs recorded in ``metrics.jsonl`` (a torn last line is skipped)."""
    path = Path(run_dir) / METRICS
    out = []
    if not path.exists():
        return out
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            m = json.loads(line)
        except json.JSONDecodeError:
            continue  # the last line of a killed run may be incomplete
        if isinstance(m, dict) and "epoch" in m:
            if up_to_epoch is None or m["epoch"] <= up_to_epoch:
                out.append(m)
    return out


def truncate_metrics(run_dir: str | Path, epoch: int) -> list[dict]:
    """Keep the metrics of epochs 1..``epoch`` only (those the checkpoint includes)."""
    kept = read_metrics(run_dir, epoch)
    seen, unique = set(), []
    for m in kept:  # an epoch logged twice (killed after logging, before checkpoint)
        if m["epoch"] not in seen:
            seen.add(m["epoch"])
            unique.append(m)
    text = "".join(json.dumps(m) + "\n" for m in unique)
    ckpt.atomic_write_bytes(Path(run_dir) / METRICS, text.encode("utf-8"))
    return unique


class Checkpointer(Callback):
    """Writes ``checkpoint.safetensors`` at the end of every epoch (atomically)."""

    def __init__(self, run_dir: str | Path):
        self.path = Path(run_dir) / ckpt.CHECKPOINT
        self.saved_epoch: int | None = None

    def on_epoch_end(self, session: Session, metrics: dict[str, Any]) -> None:
        ckpt.save(self.path, session.state_dict())
        self.saved_epoch = session.epoch


class Plotter(Callback):
    """Loss and accuracy curves (PNG) when the run ends, whatever the reason."""

    def __init__(self, run_dir: str | Path, title: str):
        self.run_dir = Path(run_dir)
        self.title = title

    def on_train_end(self, session: Session, status: str) -> None:
        from gradfit.train.plots import plot_curves

        history = read_metrics(self.run_dir)
        if history:
            plot_curves(history, self.run_dir, self.title, session.cfg["loss"]["name"])
