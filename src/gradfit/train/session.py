"""Building a training session from a configuration: the one builder that ``train``,
``resume``, ``evaluate`` and ``search`` all use.

Everything that decides the future of a run is built from the configuration in a fixed
order (``build_session``) and saved at the end of every epoch (``Session.state_dict``): the
global generator is seeded with ``train.seed`` before the model is built
(``builders.build_model``), and the data loader shuffles with its own ``gradfit.Generator``
seeded with ``train.seed``. A run resumed from a checkpoint therefore continues exactly as if
it had never stopped.

Before anything is written, ``rehearse`` refuses what would fail only later: a model too
large for the memory, a loss that cannot take the targets, a schedule that cannot run.
"""

from __future__ import annotations

import copy
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gradfit.train import UsageError, builders
from gradfit.train.data import Prepared, prepare, resolve_auto_loss, to_tensors


@dataclass
class Session:
    """A configured training run: data, model, loss, optimizer, schedule, loader.

    Over MPI (``shard = (rank, world_size)``) every rank iterates the single-process loader
    (same generator, same global batches) and trains on its slice of each global batch;
    ``allreduce`` averages the gradients and the loss."""

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
    shard: tuple[int, int] | None = None
    allreduce: Any = None

    @property
    def lr(self) -> float | None:
        """The learning rate of the first parameter group (None for a line search)."""
        lr = self.optimizer.param_groups[0].get("lr")
        return None if lr is None else float(lr)

    @property
    def classification(self) -> bool:
        return self.data.task == "classification"

    @property
    def num_parameters(self) -> int:
        return int(sum(p.numel() for p in self.model.parameters()))

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
            "optimizer_class": type(self.optimizer).__name__,
            "scheduler": {} if self.scheduler is None else self.scheduler.state_dict(),
            "scheduler_class": type(self.scheduler).__name__ if self.scheduler else "none",
            "rng": {"global": gradfit.get_rng_state(), "loader": self.loader_generator.get_state()},
            "normalizer": norm,
            "classes": list(self.data.classes),
            "io": [self.data.num_features, self.data.num_outputs],
            "data_fingerprint": self.data.fingerprint,
        }

    def load_state_dict(self, state: dict[str, Any], source: str, allow_data_change=False) -> None:
        """Continue from a checkpoint; refuse one written by another model, optimizer or
        schedule, or (unless ``allow_data_change``) for other data."""
        import gradfit
        from gradfit.train.rundir import check_model_state

        check_model_state(self.model, state["model"], source)
        for key, obj in (("optimizer_class", self.optimizer), ("scheduler_class", self.scheduler)):
            ours = type(obj).__name__ if obj is not None else "none"
            if state.get(key, ours) != ours:
                raise UsageError(
                    f"checkpoint {source} was written by {key.split('_')[0]} {state[key]}, "
                    f"this run uses {ours}; resume with the run's own config.toml"
                )
        theirs = state.get("data_fingerprint")
        if theirs and theirs != self.data.fingerprint and not allow_data_change:
            raise UsageError(
                f"the data of this run changed since checkpoint {source} was written "
                f"({self.data.name}: was {theirs}, now {self.data.fingerprint}); resuming "
                "would continue on other data. Add --allow-data-change to do it anyway"
            )
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


def build_session(cfg: dict, data: Prepared | None = None, distributed: bool = False) -> Session:
    """Build everything from ``cfg`` (validated), in the order that makes runs reproducible,
    and rehearse it. Resolves ``cfg`` in place (loss name, optimizer/schedule defaults, the
    data path made absolute)."""
    import gradfit
    from gradfit.utils.data import DataLoader, TensorDataset

    data = prepare(cfg) if data is None else data
    resolve_auto_loss(cfg, data.task)  # prepare() does it when it loads the data
    if cfg["data"]["path"]:
        # Saved absolute, so the run resumes (and re-runs) from any working directory.
        cfg["data"]["path"] = str(Path(cfg["data"]["path"]).expanduser().resolve())
    tcfg = cfg["train"]
    check_memory(cfg, data)
    dtype = builders.torch_dtype(tcfg["dtype"])
    x_tr, y_tr = to_tensors(data.x_train, data.y_train, dtype, data.task, data.one_hot, data.tokens)
    x_va, y_va = to_tensors(data.x_val, data.y_val, dtype, data.task, data.one_hot, data.tokens)
    model = builders.build_model(cfg, data.num_features, data.num_outputs)
    criterion = builders.build_loss(cfg["loss"])

    gen = gradfit.Generator()
    gen.manual_seed(tcfg["seed"])
    batch_size = min(tcfg["batch_size"], len(data.x_train))
    loader = DataLoader(
        TensorDataset(x_tr, y_tr),
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
    scheduler = builders.build_scheduler(cfg["scheduler"], optimizer, tcfg["epochs"], len(loader))
    builders.fill_defaults(cfg, criterion, optimizer, scheduler)
    session = Session(cfg, data, model, criterion, optimizer, scheduler, loader, gen, x_va, y_va)
    rehearse(session)
    if distributed:
        from gradfit import distributed as dist

        dist.init()
        session.shard = (dist.get_rank(), dist.get_world_size())
        session.allreduce = dist.GradientAllreduce(model.parameters(), extra=1)
    return session


# --- checks before anything is written ----------------------------------------------------

# Schedule steps tried before a run; a bad argument fails at the first few.
_REHEARSED_STEPS = 10_000

# Optimizer state slots per parameter (momentum, Adam's two averages), as an upper bound.
_STATE_SLOTS = 2


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (Linux: MemAvailable), or None."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(cfg: dict, data: Prepared) -> None:
    """Refuse a model whose parameters, gradients, optimizer state and activations of one
    batch would not fit in the available memory."""
    kind = builders.MODELS[cfg["model"]["kind"]]
    n_in, n_out = data.num_features, data.num_outputs
    n_params = kind.num_parameters(cfg["model"], n_in, n_out)
    batch = min(cfg["train"]["batch_size"], len(data.x_train))
    acts = kind.activations_per_sample(cfg["model"], n_in, n_out) * batch * 2
    itemsize = 8 if cfg["train"]["dtype"] == "float64" else 4
    need = itemsize * (n_params * (2 + _STATE_SLOTS) + acts)
    have = available_memory()
    if have is not None and need > have:
        mcfg = cfg["model"]
        mlp = mcfg["kind"] == "mlp"
        what = f"model.hidden = {mcfg['hidden']}" if mlp else builders.model_settings(mcfg)
        raise UsageError(
            f"{what}: {n_params:,} parameters need about "
            f"{need / 2**30:,.1f} GiB (weights, gradients, optimizer state and one batch), "
            f"{have / 2**30:,.1f} GiB is available; expected a smaller model"
        )


def rehearse(session: Session) -> None:
    """Run what training will run, on copies, before any file is written: a forward pass
    and the loss on two samples, and the schedule over the whole run. Errors become
    ``UsageError`` naming the setting."""
    import gradfit

    x, y = session.loader.dataset[0:2]
    model = session.model
    try:
        # Eval mode: no dropout draw from the global generator, no batch-norm statistics.
        model.eval()
        with gradfit.no_grad():
            session.criterion(model(x), y)
    except (ValueError, RuntimeError, IndexError) as e:
        c = session.cfg["loss"]
        shown = ", ".join(f"{k}={v!r}" for k, v in c.items() if k != "name")
        raise UsageError(
            f"loss {c['name']}({shown}) cannot be computed on this data "
            f"(targets of shape {tuple(y.shape)}, model output {session.data.num_outputs}): {e}"
        ) from None
    finally:
        model.train()
    sched = session.scheduler
    if sched is None:
        return
    cfg = copy.deepcopy(session.cfg)
    probe = builders.build_optimizer(cfg["optimizer"], [gradfit.zeros(1, requires_grad=True)])
    copy_sched = builders.build_scheduler(
        cfg["scheduler"], probe, cfg["train"]["epochs"], len(session.loader)
    )
    mode = builders.scheduler_mode(copy_sched)
    steps = cfg["train"]["epochs"] * (len(session.loader) if mode == "batch" else 1)
    steps = min(steps, _REHEARSED_STEPS)
    s = cfg["scheduler"]
    shown = ", ".join(f"{k}={v!r}" for k, v in s.items() if k != "name")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "scheduler.step() before optimizer.step()"
            for _ in range(steps):
                copy_sched.step(0.0) if mode == "metric" else copy_sched.step()
                lr = probe.param_groups[0]["lr"]
                if not np.isfinite(lr) or lr < 0:
                    raise ValueError(f"the learning rate becomes {lr}")
    except (ValueError, ZeroDivisionError, TypeError, OverflowError) as e:
        raise UsageError(
            f"scheduler {copy_sched.__class__.__name__}({shown}) cannot run for "
            f"{cfg['train']['epochs']} epochs: {e or type(e).__name__}"
        ) from None
