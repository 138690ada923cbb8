"""``gradfit search``: hyperparameter search over the training configuration with Optuna.

Each trial is a full training run of the configuration with some values replaced by the
sampler's suggestions. After every epoch the trial reports its validation loss (or accuracy)
and the median pruner stops trials that are worse than the median of earlier trials at the
same epoch. A trial whose loss diverges is pruned.

The study lives in an Optuna storage -- by default a SQLite file ``OUT/study.db`` -- so
running the same command again adds trials to the same study. ``--jobs N`` starts N worker
processes, each running ``study.optimize`` against that storage (Optuna's distributed
pattern); with a PostgreSQL or MySQL ``--storage`` URL the same command, started on many
machines, searches together.

Search space syntax (flags ``--param NAME=SPACE`` or a ``[search_space]`` table):

- ``lr=1e-4..1e-1:log`` -- a float, log-uniform; ``momentum=0.5..0.99`` -- uniform;
  ``0..1:step=0.1`` -- on a grid of 0.1.
- ``epochs=5..20`` -- an integer (both bounds integers).
- ``batch_size=32,64,128`` -- one of the listed values; ``hidden=64|128,128`` -- ``|``
  separates choices that contain commas.

Names are configuration keys (``optimizer.weight_decay``) or short forms: ``lr``,
``momentum``, ``weight_decay``, ``batch_size``, ``epochs``, ``hidden``, ``activation``,
``init``, ``optimizer``, ``scheduler``, ``gamma``, ``step_size``, and ``hidden_width`` /
``hidden_layers`` (the width of every hidden layer / the number of hidden layers).
"""

from __future__ import annotations

import contextlib
import copy
import csv
import io
import json
import os
import socket
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gradfit.train import DivergenceError, UsageError
from gradfit.train.config import (
    Layers,
    config_from_layers,
    is_number,
    parse_value,
    parse_widths,
    write_toml,
)
from gradfit.train.data import prepare
from gradfit.train.loop import Callback, fit
from gradfit.train.report import percent, plot_param, plot_search_history, say
from gradfit.train.rundir import atomic_write, write_json
from gradfit.train.session import build_session

SHORT_NAMES = {
    "lr": ("optimizer", "lr"),
    "momentum": ("optimizer", "momentum"),
    "weight_decay": ("optimizer", "weight_decay"),
    "optimizer": ("optimizer", "name"),
    "batch_size": ("train", "batch_size"),
    "epochs": ("train", "epochs"),
    "seed": ("train", "seed"),
    "hidden": ("model", "hidden"),
    "activation": ("model", "activation"),
    "init": ("model", "init"),
    "loss": ("loss", "name"),
    "scheduler": ("scheduler", "name"),
    "gamma": ("scheduler", "gamma"),
    "step_size": ("scheduler", "step_size"),
    "hidden_width": ("model", "hidden"),
    "hidden_layers": ("model", "hidden"),
}
SEARCH_DEFAULTS = {
    "trials": 20,
    "jobs": 1,
    "sampler": "tpe",
    "pruner": "median",
    "metric": "val_loss",
    "storage": "",
    "study_name": "gradfit",
    "sampler_seed": -1,
    "out": "runs/search",
}
SEARCH_CHOICES = {
    "sampler": ("tpe", "random", "grid"),
    "pruner": ("median", "none"),
    "metric": ("val_loss", "val_accuracy"),
}


@dataclass
class Param:
    """One dimension of the search space."""

    name: str
    kind: str  # float | int | categorical
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: float | None = None
    choices: tuple = ()

    def suggest(self, trial):
        if self.kind == "float":
            return trial.suggest_float(self.name, self.low, self.high, log=self.log, step=self.step)
        if self.kind == "int":
            return trial.suggest_int(
                self.name, int(self.low), int(self.high), log=self.log, step=int(self.step or 1)
            )
        return trial.suggest_categorical(self.name, list(self.choices))

    def bounds(self) -> list:
        if self.kind == "categorical":
            return list(self.choices)
        return [self.low, self.high]

    def describe(self) -> str:
        if self.kind == "categorical":
            return ",".join(str(c) for c in self.choices)
        s = f"{self.low:g}..{self.high:g}"
        if self.log:
            s += ":log"
        if self.step:
            s += f":step={self.step:g}"
        return s


def _target(name: str) -> tuple[str, str]:
    if name in SHORT_NAMES:
        return SHORT_NAMES[name]
    if name.count(".") == 1:
        return tuple(name.split("."))
    raise UsageError(
        f"--param {name}: unknown name (expected a config key such as optimizer.lr, or one "
        f"of: {', '.join(SHORT_NAMES)})"
    )


def parse_param(name: str, spec: Any, where: str = "--param") -> Param:
    """A ``Param`` from ``NAME`` and its space (a string such as ``1e-4..1e-1:log``, a list
    of choices, or a table ``{low, high, log, step}``)."""
    name = name.strip()
    _target(name)
    bad = f"{where} {name}={spec!r}: "
    if isinstance(spec, list):
        if not spec:
            raise UsageError(bad + "expected at least one choice")
        return Param(name, "categorical", choices=tuple(_choice(v, bad) for v in spec))
    if isinstance(spec, dict):
        try:
            low, high = spec["low"], spec["high"]
        except KeyError:
            raise UsageError(bad + "a table needs low and high") from None
        return _range_param(name, low, high, bool(spec.get("log", False)), spec.get("step"), bad)
    if not isinstance(spec, str):
        raise UsageError(bad + "expected LOW..HIGH[:log], a list of choices, or a table")
    text = spec.strip()
    if ".." in text:
        rng, *opts = text.split(":")
        lo_s, _, hi_s = rng.partition("..")
        log, step = False, None
        for o in opts:
            o = o.strip().lower()
            if o == "log":
                log = True
            elif o.startswith("step="):
                step = parse_value(o[5:])
            else:
                raise UsageError(bad + f"unknown option {o!r} (expected :log or :step=S)")
        low, high = parse_value(lo_s), parse_value(hi_s)
        return _range_param(name, low, high, log, step, bad)
    sep = "|" if "|" in text else ","
    choices = [c.strip() for c in text.split(sep) if c.strip()]
    if len(choices) < 1:
        raise UsageError(bad + "expected LOW..HIGH[:log] or a list of choices a,b,c")
    if sep == "," and len(choices) == 1:
        raise UsageError(bad + "expected a range LOW..HIGH or at least two choices a,b")
    values = [c if sep == "|" else parse_value(c) for c in choices]
    return Param(name, "categorical", choices=tuple(_choice(v, bad) for v in values))


def _choice(v: Any, bad: str):
    if isinstance(v, list):
        return ",".join(str(x) for x in v)  # a list of widths, as Optuna wants scalars
    if v is None or isinstance(v, bool | int | float | str):
        return v
    raise UsageError(bad + f"choice {v!r} is not a number or string")


def _range_param(name, low, high, log, step, bad) -> Param:
    for v in (low, high):
        if not is_number(v):
            raise UsageError(bad + f"bound {v!r} is not a number")
    if not low < high:
        raise UsageError(bad + f"expected LOW < HIGH, got {low} and {high}")
    if log and low <= 0:
        raise UsageError(bad + f"a log scale needs LOW > 0, got {low}")
    if step is not None and not (is_number(step) and step > 0):
        raise UsageError(bad + f"step must be a positive number, got {step!r}")
    if log and step is not None:
        raise UsageError(bad + "a range cannot have both :log and :step")
    is_int = all(isinstance(v, int) for v in (low, high, 1 if step is None else step))
    return Param(name, "int" if is_int else "float", float(low), float(high), log, step)


def apply_values(base: dict, values: dict[str, Any], source: str) -> dict:
    """The configuration ``base`` with the trial's ``values`` set, validated."""
    layer: dict[str, dict] = {}
    for name, v in values.items():
        section, key = _target(name)
        if name == "hidden_width":
            depth = len(base["model"]["hidden"]) or 1
            v = [int(v)] * depth
        elif name == "hidden_layers":
            width = (base["model"]["hidden"] or [100])[0]
            v = [width] * int(v)
        elif (section, key) == ("model", "hidden") and isinstance(v, str):
            v = parse_widths(v)  # a choice of widths "128,128"; validation takes an int too
        layer.setdefault(section, {})[key] = v
    lay = Layers()
    lay.apply(copy.deepcopy(base), "the base configuration")
    lay.apply(layer, source)
    return lay.validated()


def search_space(raw: dict, params: list[str]) -> list[Param]:
    """The space from the config file's ``[search_space]`` table and ``--param`` flags
    (flags win)."""
    space: dict[str, Param] = {}
    table = raw.get("search_space", {})
    if not isinstance(table, dict):
        raise UsageError("[search_space] must be a table of NAME = SPACE")
    for name, spec in table.items():
        space[name] = parse_param(name, spec, "[search_space]")
    for text in params:
        if "=" not in text:
            raise UsageError(f"--param {text!r}: expected NAME=SPACE, e.g. lr=1e-4..1e-1:log")
        name, _, spec = text.partition("=")
        space[name.strip()] = parse_param(name, spec)
    if not space:
        raise UsageError(
            "search: no search space; give --param NAME=SPACE (e.g. "
            "--param lr=1e-4..1e-1:log) or a [search_space] table in --config"
        )
    return list(space.values())


def search_options(raw: dict, args) -> dict[str, Any]:
    opts = dict(SEARCH_DEFAULTS)
    table = raw.get("search", {})
    if not isinstance(table, dict):
        raise UsageError("[search] must be a table")
    for k, v in table.items():
        if k not in opts:
            raise UsageError(
                f"[search]: unknown key {k} (expected one of: {', '.join(SEARCH_DEFAULTS)})"
            )
        opts[k] = v
    for k in SEARCH_DEFAULTS:
        v = getattr(args, k, None)
        if v is not None:
            opts[k] = v
    for k in ("trials", "jobs"):
        v = opts[k]
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise UsageError(f"search {k} = {v!r}: expected an integer >= 1")
    for k, allowed in SEARCH_CHOICES.items():
        if k != "metric":  # the metric is a key of the epoch's metrics, spelt as they are
            opts[k] = str(opts[k]).lower()
        if opts[k] not in allowed:
            expected = f"{', '.join(allowed[:-1])} or {allowed[-1]}"
            raise UsageError(f"unknown {k} {opts[k]!r} (expected {expected})")
    return opts


def _direction(metric: str) -> str:
    return "maximize" if metric == "val_accuracy" else "minimize"


def _storage(url: str):
    """An Optuna RDB storage. Workers send a heartbeat, so the trials of a worker that was
    killed are marked failed (after 3 minutes) instead of staying "running" forever."""
    import optuna

    kwargs = {}
    if url.startswith("sqlite:///"):
        # Several processes write to one SQLite file: wait for its lock, do not fail.
        kwargs["engine_kwargs"] = {"connect_args": {"timeout": 120}}
    with (
        _creation_lock(url),
        warnings.catch_warnings(),
    ):  # the heartbeat arguments are marked experimental
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.storages.RDBStorage(url, heartbeat_interval=60, grace_period=180, **kwargs)


@contextlib.contextmanager
def _creation_lock(url: str):
    """For a SQLite file, an exclusive ``flock`` (waiting for other holders) on a lock file
    beside it: the first process to open a new file creates the schema and the study, and
    two doing it at once collide (``UNIQUE constraint failed: alembic_version``)."""
    import fcntl

    if not url.startswith("sqlite:///"):
        yield
        return
    path = Path(url.removeprefix("sqlite:///")).with_suffix(".lock")
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def fail_stale_trials(study) -> list[int]:
    """Mark failed the RUNNING trials of worker processes on this machine that no longer
    exist (a search killed with SIGKILL); returns their numbers. Trials of live workers
    (a search running next to this one) and of other machines are left to the heartbeat."""
    import optuna

    host, stale = socket.gethostname(), []
    for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        pid = t.user_attrs.get("pid")
        if t.user_attrs.get("host") == host and isinstance(pid, int) and not _alive(pid):
            study._storage.set_trial_state_values(t._trial_id, optuna.trial.TrialState.FAIL)
            stale.append(t.number)
    return stale


def _sampler(opts: dict, space: list[Param], worker: int):
    from optuna import samplers

    seed = opts["sampler_seed"]
    seed = None if seed is None or seed < 0 else seed + worker
    if opts["sampler"] == "grid":
        return samplers.GridSampler({p.name: list(p.choices) for p in space}, seed=seed)
    if opts["sampler"] == "random":
        return samplers.RandomSampler(seed=seed)
    return samplers.TPESampler(seed=seed)


def _pruner(opts: dict):
    from optuna import pruners

    if opts["pruner"] == "none":
        return pruners.NopPruner()
    return pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=0)


@dataclass
class _Objective:
    """Trains one configuration per trial, reporting the metric after every epoch."""

    base: dict
    space: list[Param]
    metric: str
    quiet: bool
    threads: int | str | None = "auto"
    _data: dict[str, Any] = field(default_factory=dict)  # prepared data, by data config

    def session(self, values: dict, source: str):
        """The trial's session; the data is prepared once per data configuration."""
        cfg = apply_values(self.base, values, source)
        key = json.dumps([cfg["data"], cfg["loss"]["name"]], sort_keys=True)
        if key not in self._data:
            self._data[key] = prepare(copy.deepcopy(cfg))
        return build_session(cfg, data=self._data[key])

    def __call__(self, trial) -> float:
        import optuna

        trial.set_user_attr("pid", os.getpid())  # which worker process ran it
        trial.set_user_attr("host", socket.gethostname())
        values = {p.name: p.suggest(trial) for p in self.space}
        session = self.session(values, f"trial {trial.number}")
        metric = self.metric

        class Report(Callback):
            def on_epoch_end(self, s, m):
                v = m[metric]
                trial.report(v, m["epoch"])
                if trial.should_prune():
                    raise optuna.TrialPruned(f"pruned at epoch {m['epoch']} ({metric} {v:.4g})")

        trial.set_user_attr("config", session.cfg)
        shown = _params_text(values)
        try:
            fit(session, [Report()], self.threads)
        except DivergenceError as e:
            trial.set_user_attr("diverged", str(e))
            say(self.quiet, f"trial {trial.number:>3}: diverged at epoch {e.epoch} ({shown})")
            raise optuna.TrialPruned(str(e)) from None
        except optuna.TrialPruned:
            last = session.history[-1][metric]
            say(
                self.quiet,
                f"trial {trial.number:>3}: pruned after epoch {session.epoch}, "
                f"{metric} {format_value(metric, last)} ({shown})",
            )
            raise
        finally:
            trial.set_user_attr("epochs_run", session.epoch)
        last = session.history[-1]
        for k in ("val_loss", "val_accuracy", "train_loss"):
            if last.get(k) is not None:
                trial.set_user_attr(k, last[k])
        shown = f"{metric} {format_value(metric, last[metric])} ({shown})"
        say(self.quiet, f"trial {trial.number:>3}: {shown}")
        return float(last[metric])


def format_value(metric: str, v: float) -> str:
    """An objective as the training lines show it: accuracy in percent, a loss as is."""
    return percent(v) if metric == "val_accuracy" else f"{v:.4f}"


def _short(v) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _params_text(params: dict) -> str:
    return ", ".join(f"{k}={_short(v)}" for k, v in params.items())


def _worker(base, space, opts, storage_url, n_trials, worker, quiet) -> None:
    """One worker process: load the shared study and run ``n_trials`` trials."""
    import multiprocessing as mp

    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(
        study_name=opts["study_name"],
        storage=_storage(storage_url),
        sampler=_sampler(opts, space, worker),
        pruner=_pruner(opts),
    )
    objective = _Objective(base, space, opts["metric"], quiet, opts.get("threads", "auto"))
    try:
        study.optimize(objective, n_trials=n_trials, catch=(UsageError,))
    except KeyboardInterrupt:  # Ctrl-C reaches every worker; the parent reports it once
        if mp.parent_process() is not None:
            sys.exit(130)
        raise


def validate_space(base: dict, space: list[Param], opts: dict) -> None:
    """Build a run at every bound of every dimension, so an impossible value (a negative
    learning rate, an unknown optimizer) is reported before any trial starts."""
    obj = _Objective(base, space, opts["metric"], quiet=True)
    if (
        opts["metric"] == "val_accuracy"
        and obj.session({}, "--metric").data.task != "classification"
    ):
        raise UsageError(
            f"--metric val_accuracy: data set {base['data']['path'] or base['data']['name']!r} "
            "is a regression set, which has no accuracy; expected --metric val_loss"
        )
    if opts["sampler"] == "grid":
        ranges = [p.name for p in space if p.kind != "categorical"]
        if ranges:
            raise UsageError(
                f"--sampler grid needs a list of values for {ranges[0]} (e.g. "
                f"{ranges[0]}=0.01,0.1), not a range"
            )
    for p in space:
        for v in p.bounds():
            try:
                obj.session({p.name: v}, f"--param {p.name}")
            except UsageError as e:
                raise UsageError(
                    f"--param {p.name}={p.describe()}: the value {v!r} is not usable: {e}"
                ) from None


def search_command(cfg: dict, raw: dict, args) -> dict:
    """Run (or continue) a search; prints the trial table and writes the outputs."""
    import multiprocessing as mp

    import optuna

    opts = search_options(raw, args)
    opts["threads"] = getattr(args, "threads", "auto")
    space = search_space(raw, list(getattr(args, "param", []) or []))
    quiet = bool(getattr(args, "quiet", False))
    out = Path(opts["out"])
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {str(out)!r} is a file, expected a folder for the search")
    if (out / "config.toml").exists():
        raise UsageError(f"--out {str(out)!r} holds a training run, not a search")
    validate_space(cfg, space, opts)
    out.mkdir(parents=True, exist_ok=True)
    storage_url = opts["storage"] or f"sqlite:///{(out / 'study.db').resolve()}"
    name, direction = opts["study_name"], _direction(opts["metric"])
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        storage = _storage(storage_url)
        with _creation_lock(storage_url):
            study = optuna.create_study(
                storage=storage, study_name=name, direction=direction, load_if_exists=True
            )
    except Exception as e:  # a bad URL, a missing driver, an unreachable server
        raise UsageError(f"--storage {storage_url!r}: cannot open the study: {e}") from None
    if study.direction.name.lower() != direction:
        raise UsageError(
            f"study {name!r} in {storage_url} {study.direction.name.lower()}s; "
            f"--metric {opts['metric']} would {direction}"
        )
    stale = fail_stale_trials(study)
    if stale:
        say(quiet, f"marked failed: trials {stale} of a search that was killed")
    before = len(study.trials)
    shown = {k: v for k, v in opts.items() if k in SEARCH_DEFAULTS and (k != "storage" or v)}
    write_toml(
        out / "search.toml",
        {**cfg, "search": shown, "search_space": {p.name: p.describe() for p in space}},
        header="gradfit search: base configuration, options and space (latest run)",
    )
    say(
        quiet,
        f"study {name!r} in {storage_url}: {before} trials so far; adding "
        f"{opts['trials']} with {opts['jobs']} worker process(es), sampler "
        f"{opts['sampler']}, pruner {opts['pruner']}, objective {opts['metric']}",
    )
    jobs = min(opts["jobs"], opts["trials"])
    shares = [opts["trials"] // jobs + (i < opts["trials"] % jobs) for i in range(jobs)]
    if jobs == 1:
        _worker(cfg, space, opts, storage_url, shares[0], 0, quiet)
    else:
        ctx = mp.get_context("spawn")
        procs = [
            ctx.Process(target=_worker, args=(cfg, space, opts, storage_url, n, i, quiet))
            for i, n in enumerate(shares)
        ]
        for p in procs:
            p.start()
        try:
            for p in procs:
                p.join()
        except KeyboardInterrupt:
            for p in procs:
                p.join(timeout=10)
            raise
        failed = [p.exitcode for p in procs if p.exitcode != 0]
        if failed:
            raise RuntimeError(
                f"search: {len(failed)} worker process(es) failed (exit codes {failed})"
            )
    study = optuna.load_study(study_name=name, storage=_storage(storage_url))
    return report(study, space, opts, out, quiet, before)


def _trial_rows(study, space: list[Param]) -> list[dict]:
    return [
        {
            "trial": t.number,
            "state": t.state.name.lower(),
            "value": t.value,
            "epochs": t.user_attrs.get("epochs_run"),
            "seconds": (t.duration.total_seconds() if t.duration else None),
            **{p.name: t.params.get(p.name) for p in space},
        }
        for t in study.trials
    ]


def format_table(rows: list[dict], metric: str, names: list[str]) -> str:
    def cell(v, form=str) -> str:
        return "" if v is None else form(v)

    cols = ["trial", "state", metric, "epochs", *names]
    data = [
        [
            str(r["trial"]),
            r["state"],
            cell(r["value"], lambda v: format_value(metric, v)),
            cell(r["epochs"]),
            *[cell(r[n], _short) for n in names],
        ]
        for r in rows
    ]
    widths = [max(len(x) for x in column) for column in zip(cols, *data)]
    return "\n".join("  ".join(x.rjust(w) for x, w in zip(line, widths)) for line in [cols, *data])


def report(study, space: list[Param], opts: dict, out: Path, quiet: bool, before: int = 0) -> dict:
    """Print the table of trials; write trials.csv, best.toml and the plots."""
    import optuna

    metric = opts["metric"]
    names = [p.name for p in space]
    rows = _trial_rows(study, space)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]) if rows else ["trial"])
    w.writeheader()
    w.writerows(rows)
    atomic_write(out / "trials.csv", buf.getvalue().encode())
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    result: dict[str, Any] = {
        "trials": len(rows),
        "new_trials": len(rows) - before,
        "complete": len(complete),
        "out": str(out),
    }
    lines = [format_table(rows, metric, names)]
    if complete:
        best = study.best_trial
        best_cfg = best.user_attrs["config"]
        header = (
            f"best configuration of study {opts['study_name']!r}: trial {best.number}, "
            f"{metric} {best.value:.6g}\nparams: {_params_text(best.params)}\n"
            "Train it with: gradfit train --config best.toml"
        )
        config_from_layers([(best_cfg, "best.toml")])  # what we write must load back
        write_toml(out / "best.toml", best_cfg, header=header)
        result.update(best_trial=best.number, best_value=best.value, best_params=best.params)
        lines.append(
            f"best: trial {best.number}, {metric} {format_value(metric, best.value)} "
            f"({_params_text(best.params)})"
        )
        lines.append(f"wrote {out / 'best.toml'} (gradfit train --config {out / 'best.toml'})")
        plot_search_history(
            [t.number for t in complete],
            [float(t.value) for t in complete],
            out / "history.png",
            metric,
            opts["study_name"],
            maximize=_direction(metric) == "maximize",
        )

        def param_png(p: Param) -> Path:
            return out / f"param_{p.name.replace('.', '_')}.png"

        pruned = [t for t in study.trials if t.state.name == "PRUNED" and t.intermediate_values]
        for p in space:
            if p.kind == "categorical" and not all(is_number(c) for c in p.choices):
                continue  # a choice of words has no axis
            done = [t for t in complete if p.name in t.params]
            cut = [t for t in pruned if p.name in t.params]
            last_reports = [float(t.intermediate_values[max(t.intermediate_values)]) for t in cut]
            plot_param(
                [t.params[p.name] for t in done],
                [float(t.value) for t in done],
                p.name,
                p.log,
                param_png(p),
                metric,
                ([t.params[p.name] for t in cut], last_reports),
            )
        shown = [str(param_png(p)) for p in space if param_png(p).exists()]
        lines.append(f"plots: {out / 'history.png'}, " + ", ".join(shown))
    else:
        lines.append("no trial has completed yet (all pruned or failed); nothing to report as best")
    say(quiet, "\n".join(lines))
    write_json(out / "summary.json", result)
    return result
