"""Run the timed workloads (W0-W3 and the scaling sweep) at one thread count.

``python -m benchmarks.worker --threads N --mode full --out results.json`` is what the
parent (``python -m benchmarks``) starts once per thread count, with the thread-pool
environment variables already set; ``run_workloads`` is the same code in-process (used by
the smoke test).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback

from benchmarks import workloads as wl
from benchmarks.config import MODES, Config
from benchmarks.harness import THREAD_ENV_VARS, limit_threads, load_average, time_alternating

WORKLOADS = ("W0", "W1", "W2", "W3", "scaling")


def _frameworks() -> dict:
    import numpy as np
    import torch

    import gradfit

    return {"gradfit": gradfit, "torch": torch, "numpy": np}


def _row(workload, case, unit, threads, timings, errors, **extra) -> dict:
    return {
        "workload": workload,
        "case": case,
        "unit": unit,
        "threads": threads,
        "median_s": {k: t.median for k, t in timings.items()},
        "spread": {k: t.spread for k, t in timings.items()},
        "errors": errors,
        **extra,
    }


def _time(builders: dict, cfg: Config) -> tuple[dict, dict]:
    """Build each case (a failure is recorded, not fatal: a framework may lack a feature)
    and time the ones that built, alternating."""
    cases, errors = {}, {}
    for name, build in builders.items():
        try:
            cases[name] = build()
        except Exception as e:  # noqa: BLE001 - reported in the table
            errors[name] = f"{type(e).__name__}: {e}"
            traceback.print_exc(file=sys.stderr)
    try:
        timings = time_alternating(cases, cfg.repeats, cfg.warmup) if cases else {}
    except Exception as e:  # noqa: BLE001
        traceback.print_exc(file=sys.stderr)
        # Find the culprit and time the others without it.
        timings = {}
        for name in list(cases):
            try:
                cases[name]()
            except Exception as e2:  # noqa: BLE001
                errors[name] = f"{type(e2).__name__}: {e2}"
                del cases[name]
        if not errors:
            errors["*"] = f"{type(e).__name__}: {e}"
        elif cases:
            timings = time_alternating(cases, cfg.repeats, cfg.warmup)
    return timings, errors


def run_workloads(cfg: Config, threads: int, only=WORKLOADS, log=print) -> list[dict]:
    """Time the selected workloads with ``threads`` threads; returns one dict per row."""
    fws = _frameworks()
    rows = []
    with limit_threads(threads):
        if "W0" in only:
            for kind, label in wl.W0_KINDS.items():
                log(f"[{threads} thr] W0 {kind}")
                builders = {
                    name: (lambda F=F, kind=kind: wl.w0_cases(F, kind, cfg.w0_calls))
                    for name, F in fws.items()
                }
                t, e = _time(builders, cfg)
                rows.append(_row("W0", label, "us/call", threads, t, e))
        if "W1" in only:
            log(f"[{threads} thr] W1 lecture program")
            builders = {
                name: (lambda F=F: wl.lecture_program(F, cfg.w1_epochs, cfg.w1_examples))
                for name, F in fws.items()
            }
            t, e = _time(builders, cfg)
            rows.append(
                _row("W1", "lecture program, 10-40-40-5, batch 10", "us/step", threads, t, e)
            )
        if "W2" in only:
            log(f"[{threads} thr] W2 MNIST-1D recipe")
            builders = {
                name: (lambda F=F: wl.mnist1d_recipe(F, cfg.w2_epochs, cfg.w2_train))
                for name, F in fws.items()
            }
            t, e = _time(builders, cfg)
            rows.append(
                _row("W2", "MNIST-1D recipe, 40-100-100-10, batch 100", "us/step", threads, t, e)
            )
        if "W3" in only:
            for batch in cfg.w3_batches:
                log(f"[{threads} thr] W3 batch {batch}")
                rows.append(_wide_row("W3", cfg.w3_sizes, batch, threads, cfg, with_numpy=True))
            log(f"[{threads} thr] W3 optimizer step only")
            builders = {
                name: (lambda F=fws[name]: wl.adam_step_only(F, cfg.w3_sizes, cfg.w3_steps))
                for name in ("gradfit", "torch")
            }
            t, e = _time(builders, cfg)
            rows.append(_row("W3-adam", "Adam step only", "ms/step", threads, t, e))
        if "scaling" in only:
            for batch in cfg.scale_batches:
                log(f"[{threads} thr] scaling batch {batch}")
                rows.append(_wide_row("scaling-batch", cfg.w3_sizes, batch, threads, cfg))
            for width in cfg.scale_widths:
                sizes = (cfg.w3_sizes[0], width, width, cfg.w3_sizes[-1])
                log(f"[{threads} thr] scaling width {width}")
                rows.append(_wide_row("scaling-width", sizes, cfg.scale_batch, threads, cfg))
    return rows


def _wide_row(workload, sizes, batch, threads, cfg: Config, with_numpy=False) -> dict:
    fws = _frameworks()
    names = ["gradfit", "torch"] + (["numpy"] if with_numpy else [])
    builders = {
        name: (lambda F=fws[name]: wl.wide_mlp(F, sizes, batch, cfg.w3_steps)) for name in names
    }
    builders["gemm"] = lambda: wl.gemm_ceiling(sizes, batch, cfg.w3_steps)
    t, e = _time(builders, cfg)
    case = f"{'-'.join(map(str, sizes))}, batch {batch}"
    return _row(
        workload,
        case,
        "ms/step",
        threads,
        t,
        e,
        batch=batch,
        sizes=list(sizes),
        flops=wl.mlp_flops(sizes, batch),
    )


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--mode", choices=sorted(MODES), default="full")
    p.add_argument("--only", default=",".join(WORKLOADS))
    p.add_argument("--out", required=True, help="JSON file for the rows")
    args = p.parse_args(argv)
    for var in THREAD_ENV_VARS:
        if os.environ.get(var) != str(args.threads):
            print(f"warning: {var}={os.environ.get(var)} in the worker", file=sys.stderr)
    cfg = MODES[args.mode]
    load_before = load_average()
    rows = run_workloads(
        cfg,
        args.threads,
        tuple(args.only.split(",")),
        log=lambda m: print(m, file=sys.stderr, flush=True),
    )
    from benchmarks.harness import machine_info

    with open(args.out, "w") as f:
        json.dump(
            {
                "rows": rows,
                "machine": machine_info(),
                "load_before": load_before,
                "load_after": load_average(),
            },
            f,
        )


if __name__ == "__main__":
    main()
