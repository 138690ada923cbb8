"""``gradfit train --tensorboard``: a run's metrics and the lecture's gradient monitor in
TensorBoard's event files (``RUN/tensorboard/``; ``tensorboard --logdir RUN``).

Logged, with TensorBoard's own writer (``gradfit.utils.tensorboard.SummaryWriter``):

- every batch: ``batch/loss`` at the global step (batches since the run began);
- every epoch: ``metrics/train_loss``, ``metrics/val_loss`` (and the accuracies) and ``lr``
  (the learning rate used during the epoch), at the epoch number;
- every epoch, from the epoch's last training batch, per layer: the variance of its output
  (``activations/<layer>``) and of the loss gradient with respect to it
  (``gradients/<layer>``), and their rates of change per layer (``activation_rate``,
  ``grad_rate``) -- what ``GradientMonitor`` measures to flag vanishing or exploding
  gradients.

The ``tensorboard`` package is an optional extra; ``require()`` turns its absence into a
one-line ``UsageError`` before anything is written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gradfit.train.errors import UsageError
from gradfit.train.loop import Callback
from gradfit.train.rundir import TENSORBOARD as FOLDER
from gradfit.train.session import Session

__all__ = ["FOLDER", "TensorBoardLogger", "require"]
INSTALL = "pip install 'gradfit[tensorboard]'"


def require() -> None:
    """Refuse ``--tensorboard`` when the tensorboard package cannot be imported."""
    from gradfit.utils.tensorboard import _tb

    try:
        _tb()
    except ImportError:
        raise UsageError(
            f"--tensorboard needs the tensorboard package, which is not installed: {INSTALL}"
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
