"""The lecture "Fitting & Backprop", reproduced: one module per figure.

Each module makes its data, computes with gradfit's public API, writes ``<name>.png``
(matplotlib, Agg) and ``<name>.json`` (the numbers the figure shows), and returns a
summary dict from ``run(out_dir, fast=False)``. ``fast=True`` uses smaller grids and fewer
repetitions (for the tests); the figures keep their content.

Run them all with ``gradfit figures [--only NAME ...] [--out DIR] [--fast]`` or
``python -m gradfit.lecture``; ``run_all`` is the same from Python.
"""

from __future__ import annotations

import argparse
import importlib
import json
import re
import sys
import time
from pathlib import Path

__all__ = ["FIGURES", "ALIASES", "cli_main", "run_all", "run_figure"]

# name -> (module, what it shows), in lecture order.
FIGURES: dict[str, tuple[str, str]] = {
    "line_search": ("line_search", "Line search: the bracketing search, iteration by iteration"),
    "linear_regression": (
        "linear_regression",
        "Figure 6.1: gradient descent with line search on linear regression",
    ),
    "gabor_data": ("gabor_data", "Figure 6.3: training data for the Gabor model"),
    "gabor_landscape": (
        "gabor_landscape",
        "Figure 6.4: Gabor loss landscape, local/global minima, saddle points",
    ),
    "sgd": ("sgd", "Figure 6.6: SGD with batch size 3: batch losses and the spread of updates"),
    "schedules": ("schedules", "SGD with a step-decay learning rate (StepLR) vs. constant"),
    "momentum": ("momentum", "Figure 6.7: SGD vs. SGD with momentum"),
    "nesterov": ("nesterov", "Figure 6.8: Nesterov accelerated momentum vs. momentum"),
    "adam": ("adam", "Figure 6.9: GD (two rates), normalised gradients and Adam"),
    "hyperparameter_search": (
        "hyperparameter_search",
        "Hyperparameter search: final loss over learning rate x momentum",
    ),
    "backprop_toy": ("backprop_toy", "Figures 7.3-7.5: toy-model backprop, engine vs. chain rule"),
    "backprop_deep": ("backprop_deep", "Overall backprop algorithm: deep ReLU net by hand"),
    "computation_graphs": ("computation_graphs", "Computation graphs: logistic, (a+b)(b+1), GRU"),
    "initialisation": (
        "initialisation",
        "Figure 7.7: activation and gradient variance per layer for 5 init variances",
    ),
}

# Figure numbers and other spellings accepted by --only.
ALIASES: dict[str, str] = {
    "6.1": "linear_regression",
    "6.3": "gabor_data",
    "6.4": "gabor_landscape",
    "6.6": "sgd",
    "6.7": "momentum",
    "6.8": "nesterov",
    "6.9": "adam",
    "7.1": "backprop_toy",
    "7.5": "backprop_toy",
    "7.7": "initialisation",
    "initialization": "initialisation",
    "hyperparameters": "hyperparameter_search",
    "graphs": "computation_graphs",
}


def _resolve(name: str) -> str:
    key = name.strip().lower().replace("-", "_")
    key = key.removeprefix("fig").removeprefix("ure").strip("_ .")
    if re.fullmatch(r"\d+_\d+", key):  # fig6_4 -> 6.4
        key = key.replace("_", ".")
    key = ALIASES.get(key, key)
    if key not in FIGURES:
        raise ValueError(
            f"unknown figure {name!r}; expected one of: {', '.join(FIGURES)} "
            f"(or a figure number: {', '.join(ALIASES)})"
        )
    return key


def run_figure(name: str, out_dir: str | Path, fast: bool = False) -> dict:
    """Run one figure module; returns its summary (with ``seconds`` added)."""
    key = _resolve(name)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    module = importlib.import_module(f"gradfit.lecture.{FIGURES[key][0]}")
    t0 = time.perf_counter()
    summary = module.run(out, fast=fast)
    summary["seconds"] = round(time.perf_counter() - t0, 3)
    return summary


def run_all(out_dir: str | Path, only=None, fast: bool = False, verbose: bool = False) -> dict:
    """Run every figure (or those in ``only``) into ``out_dir``.

    Args:
        out_dir: folder for the PNG and JSON files (created if missing).
        only: names or figure numbers to run (``["6.4", "momentum"]``); None runs all.
        fast: smaller grids and fewer repetitions.
        verbose: print one line per figure as it finishes.

    Returns:
        ``{name: summary}``; also written to ``out_dir/summary.json``.
    """
    names = list(FIGURES) if not only else list(dict.fromkeys(_resolve(n) for n in only))
    results = {}
    for name in names:
        results[name] = run_figure(name, out_dir, fast=fast)
        if verbose:
            print(f"{name:24s} {results[name]['seconds']:7.2f} s  {results[name]['png']}")
    from gradfit.lecture._common import _jsonable

    summary_path = Path(out_dir) / "summary.json"
    previous = {}
    if only and summary_path.exists():  # keep the other figures' entries
        try:
            previous = json.loads(summary_path.read_text())
        except (OSError, ValueError):
            previous = {}
    summary_path.write_text(json.dumps(_jsonable({**previous, **results}), indent=1))
    return results


def cli_main(argv: list[str] | None = None) -> int:
    """``gradfit figures [--only NAME ...] [--out DIR] [--fast] [--list]``."""
    parser = argparse.ArgumentParser(
        prog="gradfit figures",
        description="Reproduce the lecture's figures: a PNG and a JSON of numbers for each.",
    )
    parser.add_argument(
        "--only",
        nargs="+",
        action="extend",
        metavar="NAME",
        help="run only these figures (names or numbers such as 6.4; see --list)",
    )
    parser.add_argument(
        "--out", default="figures", metavar="DIR", help="output folder (default: ./figures)"
    )
    parser.add_argument(
        "--fast",
        action="store_true",
        help="smaller grids and fewer repetitions (seconds, not minutes)",
    )
    parser.add_argument("--list", action="store_true", help="list the figures and exit")
    args = parser.parse_args(argv)
    if args.list:
        for name, (_mod, what) in FIGURES.items():
            print(f"{name:24s} {what}")
        return 0
    try:
        names = [_resolve(n) for n in args.only] if args.only else None
    except ValueError as e:
        print(f"gradfit figures: {e}", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    run_all(args.out, only=names, fast=args.fast, verbose=True)
    print(
        f"wrote {len(names or FIGURES)} figure(s) to {args.out} in {time.perf_counter() - t0:.1f} s"
    )
    return 0
