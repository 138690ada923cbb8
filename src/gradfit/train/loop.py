"""One training step, one epoch, the fit loop: the lecture's training program with
metrics and callbacks.

One epoch is the lecture's loop over the data loader -- ``zero_grad``, forward, loss,
``backward``, ``step`` -- followed by an evaluation on the validation data and
``scheduler.step()`` (``scheduler.step(val_loss)`` for ReduceLROnPlateau; per-batch
schedules such as OneCycleLR step after every batch). Every optimizer, plain or driven by
a closure, on one process or over MPI, goes through ``train_step``.
"""

from __future__ import annotations

import contextlib
import math
import time
from typing import Any

import numpy as np

import gradfit
from gradfit.train import DivergenceError, builders
from gradfit.train.rundir import test_kill_point
from gradfit.train.session import Session

EVAL_CHUNK = 8192


class Callback:
    """Hooks called by ``fit``; override the ones you need."""

    def on_train_begin(self, session: Session) -> None:
        pass

    def on_batch_end(self, session: Session, step: int, loss: float) -> None:
        pass

    def on_epoch_end(self, session: Session, metrics: dict[str, Any]) -> None:
        pass

    def on_train_end(self, session: Session, status: str) -> None:
        """``status``: ``"completed"``, ``"stopped"`` (a callback set ``stop_requested``),
        ``"diverged"``, ``"interrupted"`` or ``"failed"``."""


def _diverged(session: Session, epoch: int, step: int, value: float, what: str = "loss"):
    raise DivergenceError(
        f"training diverged: the {what} became {value} at epoch {epoch + 1}, step "
        f"{step + 1} (learning rate {session.lr}); lower the learning rate "
        f"(optimizer.lr) or change the optimizer",
        epoch=epoch + 1,
        step=step + 1,
        lr=session.lr,
    )


def _local_part(session: Session, xb, yb):
    """This rank's contiguous slice of a global batch, and the weight n_local * world / n
    that makes the average over ranks of the weighted mean losses the global batch's mean
    loss (the slices differ in size by at most one sample)."""
    if session.shard is None:
        return xb, yb, 1.0
    rank, world = session.shard
    n = len(xb)
    lo, hi = rank * n // world, (rank + 1) * n // world
    return xb[lo:hi], yb[lo:hi], (hi - lo) * world / n


def train_step(session: Session, xb, yb, epoch: int, step: int):
    """One optimisation step on a global batch; returns (mean loss, model output on this
    process's samples, or None for a regression).

    Plain, distributed and closure-driven optimizers (LBFGS, line search) share one closure:
    zero_grad, forward, loss, backward, over MPI one Allreduce of the gradients and the
    loss, then the divergence check, so no update is ever applied from a NaN loss."""
    model, criterion, optimizer = session.model, session.criterion, session.optimizer
    x, y, weight = _local_part(session, xb, yb)
    last = {}

    def closure():
        optimizer.zero_grad()
        if len(x) == 0:  # a global batch smaller than the number of ranks
            value = session.allreduce(0.0)
            last.update(value=value, out=None)
            return gradfit.tensor(value)
        out = model(x)
        loss = criterion(out, y) * weight if weight != 1.0 else criterion(out, y)
        loss.backward()
        value = float(loss.item())
        if session.allreduce is not None:  # every rank sees the global loss and gradient
            value = session.allreduce(value)
            loss = gradfit.tensor(value, dtype=loss.dtype)
        if not math.isfinite(value):
            _diverged(session, epoch, step, value)
        last.update(value=value, out=out)
        return loss

    test_kill_point("step", "")
    if not builders.needs_closure(optimizer):
        closure()
        optimizer.step()
        return last["value"], last["out"] if session.classification and len(x) else None
    result = optimizer.step(closure)
    value = float(result.item() if hasattr(result, "item") else result)
    if not math.isfinite(value):
        _diverged(session, epoch, step, value)
    if not session.classification or len(x) == 0:
        return value, None
    with gradfit.no_grad():  # the accuracy of the weights the step arrived at
        return value, model(x)


def train_epoch(session: Session, callbacks: list[Callback]) -> dict[str, Any]:
    """One pass over the training data; returns the epoch's metrics."""
    epoch, t0, lr = session.epoch, time.perf_counter(), session.lr
    mode = None if session.scheduler is None else builders.scheduler_mode(session.scheduler)
    session.model.train()
    total, correct, seen, predicted = 0.0, 0, 0, 0
    for step, (xb, yb) in enumerate(session.loader):
        value, out = train_step(session, xb, yb, epoch, step)
        total += value * len(xb)
        seen += len(xb)
        if out is not None:
            _, y, _ = _local_part(session, xb, yb)
            hits, n = _correct(out, y, session.data.one_hot)
            correct, predicted = correct + hits, predicted + n
        if mode == "batch":
            session.scheduler.step()
        for cb in callbacks:
            cb.on_batch_end(session, step, value)
    if session.allreduce is not None:  # each rank counted the hits on its own slices
        correct, predicted = session.allreduce.sum_values([correct, predicted])
        correct, predicted = int(correct), int(predicted)
    val = evaluate_model(
        session.model,
        session.criterion,
        session.x_val,
        session.y_val,
        session.data.task,
        session.data.one_hot,
    )
    if not math.isfinite(val["loss"]):
        _diverged(session, epoch, step, val["loss"], "validation loss")
    if mode == "epoch":
        session.scheduler.step()
    elif mode == "metric":
        session.scheduler.step(val["loss"])
    session.epoch += 1
    metrics = {
        "epoch": session.epoch,
        "train_loss": total / seen,
        "train_accuracy": correct / max(predicted, 1) if session.classification else None,
        "val_loss": val["loss"],
        "val_accuracy": val.get("accuracy"),
        "lr": lr,
        "seconds": time.perf_counter() - t0,
    }
    session.history.append(metrics)
    return metrics


def fit(session: Session, callbacks: list[Callback] | None = None, threads=None) -> str:
    """Train up to ``train.epochs`` with at most ``threads`` BLAS threads (``"auto"``:
    ``auto_threads``; None: as they are); returns the final status (``"completed"`` or
    ``"stopped"`` when a callback asked to stop). Raises ``DivergenceError``."""
    callbacks = list(callbacks or [])
    for cb in callbacks:
        cb.on_train_begin(session)
    status = "failed"
    try:
        # Overflow and NaN are reported as divergence, by step, not as NumPy warnings.
        with (
            blas_threads(auto_threads(session) if threads == "auto" else threads),
            np.errstate(over="ignore", invalid="ignore", divide="ignore"),
        ):
            while session.epoch < session.cfg["train"]["epochs"] and not session.stop_requested:
                metrics = train_epoch(session, callbacks)
                for cb in callbacks:
                    cb.on_epoch_end(session, metrics)
        status = "stopped" if session.stop_requested else "completed"
    except DivergenceError:
        status = "diverged"
        raise
    except KeyboardInterrupt:
        status = "interrupted"
        raise
    finally:
        for cb in callbacks:
            cb.on_train_end(session, status)
    return status


def _correct(out, y, one_hot: bool) -> tuple[int, int]:
    """(right predictions, predictions): one per sample, or one per position for a model
    that classifies every position ((N, C, T) outputs, PyTorch's layout)."""
    p = out.detach().numpy().argmax(axis=1)
    t = y.numpy().argmax(axis=1) if one_hot else y.numpy()
    return int((p == t).sum()), int(t.size)


# Above this many multiply-adds per batch in the largest layer, BLAS threads pay off.
_THREADED_WORK = 1 << 26


def auto_threads(session: Session) -> int | None:
    """BLAS threads for ``threads="auto"``: 1 for the small networks of the lecture, where
    NumPy's per-call work is tiny and waking a second BLAS thread costs more than it saves
    (the default MNIST-1D recipe runs about 5x faster on two busy cores); None (the BLAS
    default) for large layers."""
    widths = [session.data.num_features, *session.cfg["model"]["hidden"], session.data.num_outputs]
    largest = max(a * b for a, b in zip(widths, widths[1:]))
    work = largest * session.cfg["train"]["batch_size"]
    return 1 if work <= _THREADED_WORK else None


@contextlib.contextmanager
def blas_threads(n: int | None):
    """Limit the BLAS thread pool to ``n`` threads (None: leave it). OpenBLAS computes each
    output element of a matrix product in one thread, so the results do not depend on it
    (the default recipe gives the same bits with 1 and 2 threads)."""
    if n is None:
        yield
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # threadpoolctl comes with scikit-learn; without it, do nothing
        yield
        return
    with threadpool_limits(limits=n, user_api="blas"):
        yield


def evaluate_model(model, criterion, x, y, task: str, one_hot: bool = False) -> dict[str, Any]:
    """Mean loss over ``(x, y)`` (in chunks, without gradients, in eval mode) and, for
    classification, the accuracy and the predicted classes."""
    classification = task == "classification"
    was_training = model.training
    model.eval()
    n = len(x)
    total, correct, predicted, preds = 0.0, 0, 0, []
    try:
        with gradfit.no_grad():
            for i in range(0, n, EVAL_CHUNK):
                xb, yb = x[i : i + EVAL_CHUNK], y[i : i + EVAL_CHUNK]
                out = model(xb)
                total += float(criterion(out, yb).item()) * len(xb)
                if classification:
                    hits, count = _correct(out, yb, one_hot)
                    correct, predicted = correct + hits, predicted + count
                    preds.append(out.numpy().argmax(axis=1))
    finally:
        model.train(was_training)
    res: dict[str, Any] = {"loss": total / n}
    if classification:
        res["accuracy"] = correct / predicted
        res["predictions"] = np.concatenate(preds)
    return res
