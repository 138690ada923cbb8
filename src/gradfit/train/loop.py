"""The fit loop: the lecture's training program with metrics, callbacks and checkpoints.

One epoch is the lecture's loop over the data loader -- ``zero_grad``, forward, loss,
``backward``, ``step`` -- followed by an evaluation on the validation data and
``scheduler.step()`` (``scheduler.step(val_loss)`` for ReduceLROnPlateau; per-batch
schedules such as OneCycleLR step after every batch).

Everything that decides the future of a run is built from the configuration in a fixed
order (``Session.build``) and saved at the end of every epoch (``Session.state_dict``):
the global generator is seeded with ``train.seed`` before the model is built, and the data
loader shuffles with its own ``gradfit.Generator`` seeded with ``train.seed``. A run
resumed from a checkpoint therefore continues exactly as if it had never stopped.
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gradfit.train import builders
from gradfit.train.data import Prepared, prepare, to_tensors
from gradfit.train.errors import DivergenceError, UsageError

EVAL_CHUNK = 8192


class Callback:
    """Hooks called by ``Session.fit``; override the ones you need."""

    def on_train_begin(self, session: Session) -> None:
        pass

    def on_batch_end(self, session: Session, step: int, loss: float) -> None:
        pass

    def on_epoch_end(self, session: Session, metrics: dict[str, Any]) -> None:
        pass

    def on_train_end(self, session: Session, status: str) -> None:
        """``status``: ``"completed"``, ``"diverged"``, ``"interrupted"`` or ``"failed"``."""


def _dtype(name: str):
    import gradfit

    return gradfit.float64 if name == "float64" else gradfit.float32


@dataclass
class Session:
    """A configured training run: data, model, loss, optimizer, schedule, loader."""

    cfg: dict
    data: Prepared
    model: Any
    criterion: Any
    optimizer: Any
    scheduler: Any
    loader: Any
    loader_generator: Any
    x_val: Any
    y_val: Any
    epoch: int = 0  # epochs completed
    history: list[dict] = field(default_factory=list)
    stop_requested: bool = False
    sampler: Any = None  # a DistributedSampler when training over MPI
    allreduce: Any = None  # averages gradients (and the loss) across MPI ranks

    @property
    def world_size(self) -> int:
        return 1 if self.allreduce is None else self.allreduce.comm.Get_size()

    @classmethod
    def build(cls, cfg: dict, data: Prepared | None = None, distributed: bool = False) -> Session:
        """Build everything from ``cfg`` (validated), in the order that makes runs
        reproducible. Resolves ``cfg`` in place (loss name, optimizer/schedule defaults).

        With ``distributed``, every MPI rank builds the same model (same seed) and loads
        its shard of each global batch (``gradfit.distributed.DistributedSampler``, local
        batch ``batch_size / world_size``); gradients are averaged after each backward."""
        import gradfit
        from gradfit.utils.data import DataLoader, TensorDataset

        if data is None:
            data = prepare(cfg)
        elif cfg["loss"]["name"] == "auto":  # prepare() resolves it when it loads the data
            cfg["loss"]["name"] = "cross_entropy" if data.task == "classification" else "mse"
        if cfg["data"]["path"]:
            # Saved absolute, so the run resumes (and re-runs) from any working directory.
            cfg["data"]["path"] = str(Path(cfg["data"]["path"]).expanduser().resolve())
        tcfg = cfg["train"]
        dtype = _dtype(tcfg["dtype"])
        x_tr, y_tr = to_tensors(data.x_train, data.y_train, dtype, data.task, data.one_hot)
        x_va, y_va = to_tensors(data.x_val, data.y_val, dtype, data.task, data.one_hot)

        gradfit.manual_seed(tcfg["seed"])
        old_default = gradfit.get_default_dtype()
        gradfit.set_default_dtype(dtype)
        try:
            model = builders.build_model(cfg["model"], data.num_features, data.num_outputs)
        finally:
            gradfit.set_default_dtype(old_default)
        criterion = builders.build_loss(cfg["loss"])

        gen = gradfit.Generator()
        gen.manual_seed(tcfg["seed"])
        batch_size = min(tcfg["batch_size"], len(data.x_train))
        dataset = TensorDataset(x_tr, y_tr)
        sampler = allreduce = None
        if distributed:
            from gradfit import distributed as dist

            dist.init()
            world = dist.get_world_size()
            if batch_size % world:
                raise UsageError(
                    f"train.batch_size = {batch_size} does not split evenly over {world} MPI "
                    f"ranks; expected a multiple of {world}"
                )
            sampler = dist.DistributedSampler(
                dataset, shuffle=tcfg["shuffle"], seed=tcfg["seed"], drop_last=tcfg["drop_last"]
            )
            loader = DataLoader(
                dataset, batch_size=batch_size // world, sampler=sampler, generator=gen
            )
            allreduce = dist.GradientAllreduce(model.parameters(), extra=1)
        else:
            loader = DataLoader(
                dataset,
                batch_size=batch_size,
                shuffle=tcfg["shuffle"],
                drop_last=tcfg["drop_last"],
                generator=gen,
            )
        if len(loader) == 0:
            raise UsageError(
                f"train.batch_size = {tcfg['batch_size']} with drop_last = true leaves no batch "
                f"of the {len(data.x_train)} training samples"
            )
        optimizer = builders.build_optimizer(cfg["optimizer"], model.parameters())
        scheduler = builders.build_scheduler(
            cfg["scheduler"], optimizer, tcfg["epochs"], len(loader)
        )
        _fill_defaults(cfg, criterion, optimizer, scheduler)
        session = cls(cfg, data, model, criterion, optimizer, scheduler, loader, gen, x_va, y_va)
        session.sampler, session.allreduce = sampler, allreduce
        return session

    # --- state ----------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        import gradfit

        norm = {}
        if self.data.mean is not None:
            norm = {"mean": np.asarray(self.data.mean), "std": np.asarray(self.data.std)}
        return {
            "epoch": self.epoch,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": {} if self.scheduler is None else self.scheduler.state_dict(),
            "rng": {
                "global": gradfit.get_rng_state(),
                "loader": self.loader_generator.get_state(),
            },
            "normalizer": norm,
            "classes": list(self.data.classes),
        }

    def load_state_dict(self, state: dict[str, Any], source: str) -> None:
        import gradfit
        from gradfit.train.checkpoint import check_model_state

        check_model_state(self.model, state["model"], source)
        try:
            self.model.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
            if self.scheduler is not None and state.get("scheduler"):
                self.scheduler.load_state_dict(state["scheduler"])
        except (ValueError, KeyError, RuntimeError) as e:
            raise UsageError(f"checkpoint {source} does not fit this run: {e}") from None
        gradfit.set_rng_state(state["rng"]["global"])
        self.loader_generator.set_state(state["rng"]["loader"])
        self.epoch = int(state["epoch"])

    # --- training -------------------------------------------------------------------------

    @property
    def lr(self) -> float | None:
        """The learning rate of the first parameter group (None for a line search)."""
        lr = self.optimizer.param_groups[0].get("lr")
        return None if lr is None else float(lr)

    @property
    def classification(self) -> bool:
        return self.data.task == "classification"

    def evaluate(self, x, y) -> dict[str, Any]:
        """Mean loss and (for classification) accuracy and predictions on ``(x, y)``."""
        return evaluate_model(self.model, self.criterion, x, y, self.data.task, self.data.one_hot)

    def _diverged(self, epoch: int, step: int, value: float, what: str = "loss"):
        raise DivergenceError(
            f"training diverged: the {what} became {value} at epoch {epoch + 1}, step "
            f"{step + 1} (learning rate {self.lr}); lower the learning rate "
            f"(optimizer.lr) or change the optimizer",
            epoch=epoch + 1,
            step=step + 1,
            lr=self.lr,
        )

    def train_epoch(self, callbacks: list[Callback]) -> dict[str, Any]:
        """One pass over the training data; returns the epoch's metrics."""
        import gradfit

        epoch = self.epoch
        t0 = time.perf_counter()
        lr = self.lr
        mode = None if self.scheduler is None else builders.scheduler_mode(self.scheduler)
        closure_opt = builders.needs_closure(self.optimizer)
        model, criterion, optimizer = self.model, self.criterion, self.optimizer
        model.train()
        total, correct, seen = 0.0, 0, 0
        allreduce = self.allreduce
        if self.sampler is not None:
            self.sampler.set_epoch(epoch)
        for step, (xb, yb) in enumerate(self.loader):
            if closure_opt:

                def closure(xb=xb, yb=yb):
                    optimizer.zero_grad()
                    loss = criterion(model(xb), yb)
                    loss.backward()
                    if allreduce is not None:  # every rank sees the global loss and gradient
                        loss = gradfit.tensor(allreduce(loss.item()), dtype=loss.dtype)
                    return loss

                loss_t = optimizer.step(closure)
                value = float(loss_t.item() if hasattr(loss_t, "item") else loss_t)
                if not math.isfinite(value):
                    self._diverged(epoch, step, value)
                if self.classification:
                    with gradfit.no_grad():
                        out = model(xb)
            elif allreduce is not None:
                optimizer.zero_grad()
                out = model(xb)
                loss_t = criterion(out, yb)
                loss_t.backward()
                # One Allreduce averages the gradients and the loss, so every rank takes
                # the same divergence decision and the same step.
                value = allreduce(loss_t.item())
                if not math.isfinite(value):
                    self._diverged(epoch, step, value)
                optimizer.step()
            else:
                optimizer.zero_grad()
                out = model(xb)
                loss_t = criterion(out, yb)
                value = float(loss_t.item())
                # Checked before the update, so the weights never take a NaN step.
                if not math.isfinite(value):
                    self._diverged(epoch, step, value)
                loss_t.backward()
                optimizer.step()
            n = len(xb)
            total += value * n
            seen += n
            if self.classification:
                p = out.detach().numpy().argmax(axis=1)
                t = yb.numpy().argmax(axis=1) if self.data.one_hot else yb.numpy()
                correct += int((p == t).sum())
            if mode == "batch":
                self.scheduler.step()
            for cb in callbacks:
                cb.on_batch_end(self, step, value)

        if allreduce is not None:  # epoch totals over all ranks' shards
            total, correct, seen = allreduce.sum_values([total, correct, seen])
            correct, seen = int(correct), int(seen)
        val = self.evaluate(self.x_val, self.y_val)
        if not math.isfinite(val["loss"]):
            self._diverged(epoch, step, val["loss"], "validation loss")
        if mode == "epoch":
            self.scheduler.step()
        elif mode == "metric":
            self.scheduler.step(val["loss"])
        self.epoch += 1
        metrics = {
            "epoch": self.epoch,
            "train_loss": total / seen,
            "train_accuracy": correct / seen if self.classification else None,
            "val_loss": val["loss"],
            "val_accuracy": val.get("accuracy"),
            "lr": lr,
            "seconds": time.perf_counter() - t0,
        }
        self.history.append(metrics)
        return metrics

    def fit(self, callbacks: list[Callback] | None = None) -> str:
        """Train up to ``train.epochs``; returns the final status (``"completed"`` or
        ``"stopped"`` when a callback asked to stop). Raises ``DivergenceError``."""
        callbacks = list(callbacks or [])
        for cb in callbacks:
            cb.on_train_begin(self)
        status = "failed"
        # Overflow and NaN are reported as divergence, by step, not as NumPy warnings.
        errstate = np.errstate(over="ignore", invalid="ignore", divide="ignore")
        errstate.__enter__()
        try:
            while self.epoch < self.cfg["train"]["epochs"] and not self.stop_requested:
                metrics = self.train_epoch(callbacks)
                for cb in callbacks:
                    cb.on_epoch_end(self, metrics)
            status = "stopped" if self.stop_requested else "completed"
        except DivergenceError:
            status = "diverged"
            raise
        except KeyboardInterrupt:
            status = "interrupted"
            raise
        finally:
            errstate.__exit__(None, None, None)
            for cb in callbacks:
                cb.on_train_end(self, status)
        return status


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
    import gradfit

    classification = task == "classification"
    was_training = model.training
    model.eval()
    n = len(x)
    total, correct, preds = 0.0, 0, []
    try:
        with gradfit.no_grad():
            for i in range(0, n, EVAL_CHUNK):
                xb, yb = x[i : i + EVAL_CHUNK], y[i : i + EVAL_CHUNK]
                out = model(xb)
                total += float(criterion(out, yb).item()) * len(xb)
                if classification:
                    p = out.numpy().argmax(axis=1)
                    t = yb.numpy().argmax(axis=1) if one_hot else yb.numpy()
                    correct += int((p == t).sum())
                    preds.append(p)
    finally:
        model.train(was_training)
    res: dict[str, Any] = {"loss": total / n}
    if classification:
        res["accuracy"] = correct / n
        res["predictions"] = np.concatenate(preds)
    return res


def _fill_defaults(cfg: dict, criterion, optimizer, scheduler) -> None:
    """Write the constructor defaults of the loss, optimizer and schedule into ``cfg``, so the
    saved config.toml states every hyperparameter that was used."""
    skip = ("weight", "size_average", "reduce", "reduction", "pos_weight")
    for k, v in builders.signature_defaults(type(criterion), n_args=0, skip=skip).items():
        cfg["loss"].setdefault(k, v)
    for k, v in builders.signature_defaults(type(optimizer)).items():
        cfg["optimizer"].setdefault(k, v)
    if scheduler is not None:
        skip = ("last_epoch", "verbose")
        for k, v in builders.signature_defaults(type(scheduler), skip=skip).items():
            cfg["scheduler"].setdefault(k, v)
