"""The training configuration: defaults, TOML files, command-line overrides, validation.

A configuration is a dict of one-level tables (``data``, ``model``, ``loss``, ``optimizer``,
``scheduler``, ``train``). Layers are merged in order -- built-in defaults (the lecture's
MNIST-1D recipe), then ``--config FILE``, then flags -- and the result is validated: an
unknown key, a value of the wrong type or out of range raises ``UsageError`` naming the key,
the value, what was expected and where it came from.

``optimizer``, ``scheduler`` and ``loss`` are open tables: besides ``name`` they hold the
keyword arguments of that class (checked against its signature when it is built). When a
layer changes ``name``, the keyword arguments of earlier layers are dropped, since they
belonged to another class (``--optimizer adam`` does not inherit SGD's ``momentum``).
"""

from __future__ import annotations

import copy
import json
import math
import os
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gradfit.train import UsageError, builders
from gradfit.train.rundir import atomic_write

DEFAULTS: dict[str, dict[str, Any]] = {
    "data": {
        "name": "mnist1d",
        "path": "",
        "target": "",
        "val_split": "auto",
        "standardize": False,
        "seed": 0,
    },
    "model": {
        "kind": "mlp",
        "hidden": [100, 100],
        "activation": "relu",
        "init": "kaiming_uniform",
        "bias": "zeros",
    },
    "loss": {"name": "auto"},
    "optimizer": {"name": "sgd", "lr": 0.05, "momentum": 0.9},
    "scheduler": {"name": "step_lr", "step_size": 10, "gamma": 0.5},
    "train": {
        "epochs": 50,
        "batch_size": 100,
        "seed": 0,
        "dtype": "float32",
        "shuffle": True,
        "drop_last": False,
    },
}

# Defaults that converge for the other built-in sets and optimizers (the recipe above is
# the lecture's for MNIST-1D with SGD). A recipe fills only what no config file or flag
# set; its optimizer or scheduler values apply while that class is the one in use.
DATA_RECIPES: dict[str, dict[str, dict[str, Any]]] = {
    # x spans [-15, 15]: unscaled, the first SGD step overflows.
    "gabor": {
        "data": {"standardize": True},
        "optimizer": {"name": "sgd", "lr": 0.02},
        "scheduler": {"name": "step_lr", "step_size": 50},
        "train": {"epochs": 200},
    },
    # The lecture's linear regression: a line, fit by full-batch gradient descent.
    "linreg": {
        "model": {"hidden": []},
        "optimizer": {"name": "sgd", "lr": 0.1},
        "train": {"epochs": 100},
    },
    # Pixel values 0..16: unscaled, ReLU units die in the first epoch.
    "digits": {"data": {"standardize": True}},
    # Text: a character model reads it.
    "stdlib-text": {"model": {"kind": "transformer"}},
}
OPTIMIZER_RECIPES: dict[str, dict[str, dict[str, Any]]] = {
    # Full-batch quasi-Newton with a line search, no schedule on top of it.
    "lbfgs": {
        "optimizer": {"name": "lbfgs", "line_search_fn": "strong_wolfe"},
        "scheduler": {"name": "none"},
        "train": {"batch_size": 1_000_000, "epochs": 10},
    },
    # The lecture's averages damp the step by (1 - beta): ten times SGD's rate.
    "lecture.momentum": {"optimizer": {"name": "lecture.momentum", "lr": 0.5}},
    "lecture.nesterov": {"optimizer": {"name": "lecture.nesterov", "lr": 0.5}},
    "lecture.adam": {"optimizer": {"name": "lecture.adam", "lr": 0.003}},
    "lecture.normalizedgd": {"optimizer": {"name": "lecture.normalizedgd", "lr": 0.01}},
}


def _run_epochs(cfg: dict) -> int:
    """A recipe value computed from the rest of the configuration: one half cosine over
    the whole run, however many epochs it has."""
    return cfg["train"]["epochs"]


# The course's recipes for the other model kinds. The 1-D CNNs of chapters 10-11 train with
# SGD(momentum 0.9) on MNIST-1D; the character models train with AdamW and a cosine
# schedule on the standard library's source (or the user's text file).
MODEL_RECIPES: dict[str, dict[str, dict[str, Any]]] = {
    # init "default": the builders initialise as the course does (cnn1d: He-uniform head,
    # zero bias), which a second He draw would only replace by another sample of itself.
    "cnn1d": {
        "model": {"init": "default"},
        "optimizer": {"name": "sgd", "lr": 0.05, "momentum": 0.9},
        "scheduler": {"name": "step_lr", "step_size": 20, "gamma": 0.5},
        "train": {"epochs": 100},
    },
    "resnet1d": {
        "model": {"init": "default"},
        "optimizer": {"name": "sgd", "lr": 0.05, "momentum": 0.9},
        "scheduler": {"name": "step_lr", "step_size": 10, "gamma": 0.5},
        "train": {"epochs": 30},
    },
    "transformer": {
        "data": {"name": "stdlib-text"},
        "optimizer": {"name": "adamw", "lr": 1e-3, "weight_decay": 0.1},
        "scheduler": {"name": "cosine", "T_max": _run_epochs},
        "train": {"epochs": 10, "batch_size": 32},
    },
    "lstm": {
        "data": {"name": "stdlib-text"},
        "optimizer": {"name": "adamw", "lr": 2e-3, "weight_decay": 0.0},
        "scheduler": {"name": "cosine", "T_max": _run_epochs},
        "train": {"epochs": 10, "batch_size": 32},
    },
}

OPEN_SECTIONS = ("loss", "optimizer", "scheduler")
# Tables a config file may hold for `gradfit search`; `gradfit train` ignores them.
SEARCH_SECTIONS = ("search", "search_space")

BIASES = ("zeros", "default")
DTYPES = ("float32", "float64")
# The largest seed the generators take (PyTorch's manual_seed accepts 64-bit seeds).
MAX_SEED = 2**64 - 1


def _fmt(v: Any) -> str:
    return json.dumps(v) if isinstance(v, str) else repr(v)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


# kind -> (accepts the value, what was expected, the value kept); "int" and "choice" below.
_KINDS: dict[str, tuple[Callable[[Any], bool], str, Callable]] = {
    "bool": (lambda v: isinstance(v, bool), "true or false", bool),
    "str": (lambda v: isinstance(v, str), "a string", str),
    "widths": (
        lambda v: isinstance(v, list) and all(_is_int(w) and w >= 1 for w in v),
        "a list of positive layer widths, e.g. [100, 100]",
        list,
    ),
    "split": (
        lambda v: v == "auto" or (is_number(v) and 0.0 < v < 1.0),
        '"auto" or a fraction between 0 and 1 (exclusive)',
        lambda v: v if v == "auto" else float(v),
    ),
    "fraction": (
        lambda v: is_number(v) and 0 <= v < 1,
        "a fraction from 0 to 1 (exclusive)",
        float,
    ),
}


@dataclass
class _Check:
    """How one closed key is validated: ``kind`` is one of ``_KINDS``, ``int`` (from
    ``low`` to ``high``) or ``choice`` (loosely matched against ``choices``)."""

    kind: str
    low: int | None = None
    choices: tuple | Callable[[], tuple] = ()
    high: int | None = None

    def __call__(self, key: str, v: Any, where: str) -> Any:
        if self.kind == "choice":
            choices = self.choices() if callable(self.choices) else self.choices
            by_norm = {builders.norm_name(c): c for c in choices}
            if isinstance(v, str) and builders.norm_name(v) in by_norm:
                return by_norm[builders.norm_name(v)]
            expected = "one of " + ", ".join(choices)
        elif self.kind == "int":
            low, high = self.low, self.high
            if _is_int(v) and (low is None or v >= low) and (high is None or v <= high):
                return v
            limits = "" if low is None else f" >= {low}"
            expected = "an integer" + (limits if high is None else f" from {low} to {high}")
        else:
            accepts, expected, kept = _KINDS[self.kind]
            value = [v] if self.kind == "widths" and _is_int(v) else v  # hidden = 100
            if accepts(value):
                return kept(value)
        raise UsageError(f"{key} = {_fmt(v)}{where}: expected {expected}")


CHECKS: dict[str, dict[str, _Check]] = {
    "data": {
        "name": _Check("str"),
        "path": _Check("str"),
        "target": _Check("str"),
        "val_split": _Check("split"),
        "standardize": _Check("bool"),
        "seed": _Check("int", 0, high=MAX_SEED),
    },
    "model": {
        "kind": _Check("choice", choices=lambda: tuple(builders.MODELS)),
        "hidden": _Check("widths"),
        "activation": _Check("choice", choices=lambda: tuple(builders.activation_classes())),
        "init": _Check("choice", choices=tuple(builders.INITS)),
        "bias": _Check("choice", choices=BIASES),
    },
    "train": {
        "epochs": _Check("int", 1),
        "batch_size": _Check("int", 1),
        "seed": _Check("int", 0, high=MAX_SEED),
        "dtype": _Check("choice", choices=DTYPES),
        "shuffle": _Check("bool"),
        "drop_last": _Check("bool"),
    },
}


class Layers:
    """Configuration layers merged in order, remembering where each value came from."""

    def __init__(self):
        self.config: dict[str, dict[str, Any]] = copy.deepcopy(DEFAULTS)
        self.source: dict[tuple[str, str], str] = {}

    def apply(self, layer: dict[str, dict[str, Any]], source: str) -> None:
        """Merge one layer (``{section: {key: value}}``) given by ``source``."""
        for section, table in layer.items():
            if section in SEARCH_SECTIONS:
                continue
            if section not in DEFAULTS:
                raise UsageError(
                    f"{source}: unknown section [{section}] (expected one of: "
                    f"{', '.join(DEFAULTS)})"
                )
            if not isinstance(table, dict):
                raise UsageError(
                    f"{source}: {section} must be a table [{section}], got {_fmt(table)}"
                )
            current = self.config[section]
            if section in OPEN_SECTIONS:
                if "name" in table and not isinstance(table["name"], str):
                    raise UsageError(
                        f"{section}.name = {_fmt(table['name'])} ({source}): expected a string"
                    )
                if "name" in table and builders.norm_name(table["name"]) != builders.norm_name(
                    current.get("name", "")
                ):
                    # Keyword arguments of the previous class do not carry over.
                    for k in list(current):
                        if k != "name" and k not in table:
                            del current[k]
                            self.source.pop((section, k), None)
            else:
                extra = builders.model_option_keys() if section == "model" else {}
                for k in table:
                    if k not in CHECKS[section] and k not in extra:
                        raise UsageError(
                            f"{source}: unknown key {section}.{k} (expected one of: "
                            f"{', '.join([*CHECKS[section], *extra])})"
                        )
            for k, v in table.items():
                if isinstance(v, dict):
                    raise UsageError(
                        f"{source}: {section}.{k} is a table; gradfit configs "
                        "have one level of tables"
                    )
                current[k] = v
                self.source[(section, k)] = source

    def apply_recipes(self) -> None:
        """Fill in the recipe of the chosen data set and optimizer (``DATA_RECIPES``,
        ``OPTIMIZER_RECIPES``) where nothing was set."""
        key = builders.optimizer_key  # the loose name match, lecture forms included
        data = self.config["data"]["name"] if not self.config["data"]["path"] else ""
        # In order: a recipe fills what the ones before it left (the model's recipe may
        # name the optimizer whose recipe then applies).
        for recipe in (
            lambda: DATA_RECIPES.get(data, {}),
            lambda: MODEL_RECIPES.get(builders.norm_name(self.config["model"]["kind"]), {}),
            lambda: OPTIMIZER_RECIPES.get(key(self.config["optimizer"]["name"]), {}),
        ):
            for section, table in recipe().items():
                if section == "data" and "name" in table and self.config["data"]["path"]:
                    continue  # a data file is the user's choice of data
                current = self.config[section]
                if section in OPEN_SECTIONS and key(table["name"]) != key(current["name"]):
                    if any(sec == section for sec, _ in self.source):
                        continue  # the user chose this class or its arguments
                    self.config[section] = current = {}
                for k, v in table.items():
                    if (section, k) not in self.source:
                        current[k] = v if callable(v) else copy.deepcopy(v)
        for table in self.config.values():  # values computed from the final configuration
            for k, v in table.items():
                if callable(v):
                    table[k] = v(self.config)

    def where(self, section: str, key: str) -> str:
        src = self.source.get((section, key))
        return f" (from {src})" if src else ""

    def validated(self) -> dict[str, dict[str, Any]]:
        """The merged configuration, recipes filled in, with every closed key checked."""
        self.apply_recipes()
        cfg = copy.deepcopy(self.config)
        for section, checks in CHECKS.items():
            for key, check in checks.items():
                cfg[section][key] = check(
                    f"{section}.{key}", cfg[section][key], self.where(section, key)
                )
        for section in OPEN_SECTIONS:
            name = cfg[section].get("name")
            if not isinstance(name, str) or not name:
                raise UsageError(
                    f"{section}.name{self.where(section, 'name')}: expected a "
                    f"{section} name, got {_fmt(name)}"
                )
            for k, v in cfg[section].items():
                _check_toml_value(f"{section}.{k}", v, self.where(section, k))
        _check_model_options(cfg["model"], self.where)
        if cfg["data"]["path"]:
            cfg["data"]["name"] = ""  # a file replaces the built-in set
        elif not cfg["data"]["name"]:
            raise UsageError("data: set data.name (a built-in set) or data.path (a file)")
        return cfg


def _check_model_options(mcfg: dict, where) -> None:
    """Fill in and check the ``[model]`` keys of the chosen kind; refuse those of other
    kinds (they would be silently ignored)."""
    spec = builders.MODELS[mcfg["kind"]]
    owners = builders.model_option_keys()
    for k in list(mcfg):
        if k in owners and k not in spec.options:
            raise UsageError(
                f"model.{k}{where('model', k)}: applies to model kind "
                f"{' or '.join(owners[k])}, not {mcfg['kind']!r}"
            )
    for k, (default, check) in spec.options.items():
        if check == "int":
            check = _Check("int", 1)
        elif isinstance(check, tuple):
            check = _Check("choice", choices=check)
        else:  # "bool" or "fraction"
            check = _Check(check)
        mcfg[k] = check(f"model.{k}", mcfg.setdefault(k, default), where("model", k))


def _check_toml_value(key: str, v: Any, where: str) -> None:
    if isinstance(v, float) and not math.isfinite(v):
        raise UsageError(f"{key} = {v!r}{where}: expected a finite number")
    if isinstance(v, list):
        for item in v:
            _check_toml_value(key, item, where)


def read_toml(path: str | os.PathLike) -> dict[str, Any]:
    """Read a TOML file, turning a missing file or a syntax error into a ``UsageError``."""
    p = Path(path)
    if not p.exists():
        raise UsageError(f"config file {str(p)!r} does not exist")
    if p.is_dir():
        raise UsageError(f"config file {str(p)!r} is a directory, expected a .toml file")
    try:
        with open(p, "rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise UsageError(f"config file {str(p)!r} is not valid TOML: {e}") from None
    except UnicodeDecodeError:
        raise UsageError(f"config file {str(p)!r} is not a UTF-8 text file") from None


def parse_value(text: str) -> Any:
    """A command-line value as TOML would read it: ``0.9`` -> float, ``true`` -> bool,
    ``[0.9, 0.99]`` or ``0.9,0.99`` -> list, anything else -> the string itself."""
    text = text.strip()
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        pass
    if "," in text:
        return [parse_value(p) for p in text.split(",") if p.strip()]
    return "none" if text.lower() in ("none", "null") else text


def parse_assignment(text: str, flag: str) -> tuple[str, Any]:
    """``KEY=VALUE`` from a flag such as ``--optimizer-kw betas=0.9,0.99``."""
    if "=" not in text:
        raise UsageError(f"{flag} {text!r}: expected KEY=VALUE")
    key, _, value = text.partition("=")
    key = key.strip()
    if not key:
        raise UsageError(f"{flag} {text!r}: expected KEY=VALUE with a non-empty key")
    return key, parse_value(value)


def parse_widths(text: str) -> list[int]:
    """``--hidden 100,100`` -> [100, 100]; ``--hidden none`` (or "") -> [] (a linear model)."""
    t = text.strip().lower()
    if t in ("", "none", "[]"):
        return []
    out = []
    for part in t.strip("[]").split(","):
        try:
            w = int(part)
        except ValueError:
            raise UsageError(
                f"--hidden {text!r}: expected comma-separated positive integers, e.g. 100,100"
            ) from None
        if w < 1:
            raise UsageError(f"--hidden {text!r}: layer widths must be >= 1, got {w}")
        out.append(w)
    return out


# --- writing TOML -----------------------------------------------------------------------


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):  # repr: "0.1", "1e-05", "inf", "nan" as TOML writes them
        r = repr(v)
        return r if any(c in r for c in ".en") else r + ".0"
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {type(v).__name__} value {v!r} to TOML")


def dumps_toml(cfg: dict[str, Any], header: str = "") -> str:
    """TOML text for a dict of one-level tables (plus top-level scalars, written first)."""
    lines = [f"# {h}" if h else "#" for h in header.splitlines()] if header else []
    for k, v in cfg.items():
        if not isinstance(v, dict):
            lines.append(f"{_toml_key(k)} = {_toml_value(v)}")
    for section, table in cfg.items():
        if not isinstance(table, dict):
            continue
        if lines:
            lines.append("")
        lines.append(f"[{_toml_key(section)}]")
        for k, v in table.items():
            if v is None:
                continue
            lines.append(f"{_toml_key(k)} = {_toml_value(v)}")
    return "\n".join(lines) + "\n"


def _toml_key(k: str) -> str:
    ok = k and all(c.isalnum() or c in "_-" for c in k)
    return k if ok else json.dumps(k)


def write_toml(path: str | os.PathLike, cfg: dict[str, Any], header: str = "") -> None:
    """Write ``cfg`` as TOML atomically (temp file, fsync, rename)."""
    atomic_write(path, dumps_toml(cfg, header).encode("utf-8"))


def config_from_layers(layers: list[tuple[dict, str]]) -> dict[str, dict[str, Any]]:
    """Defaults, then each ``(layer, source)`` in order, validated."""
    lay = Layers()
    for layer, source in layers:
        lay.apply(layer, source)
    return lay.validated()
