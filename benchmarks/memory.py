"""W4: peak memory of W3 and the time of ``import``, each in a fresh interpreter.

``python -m benchmarks.memory rss --framework torch --batch 256 ...`` imports one framework,
builds W3, and reports (JSON on stdout) the resident set size before training and its peak
(``VmHWM`` from /proc/self/status, falling back to ``ru_maxrss``) after a few steps. The
import time is measured in a separate fresh interpreter per repeat, around the import only.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

_MB = 1024 * 1024


def _status_kb(field: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def rss_mb() -> float:
    kb = _status_kb("VmRSS")
    if kb is None:  # no /proc: the peak is the best we have
        return peak_rss_mb()
    return kb / 1024


def peak_rss_mb() -> float:
    kb = _status_kb("VmHWM")
    if kb is None:
        kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return kb / 1024


def _measure_rss(framework: str, sizes, batch: int, steps: int) -> dict:
    before_import = rss_mb()
    if framework == "numpy":
        import numpy as F
    elif framework == "torch":
        import torch as F
    else:
        import gradfit as F
    from benchmarks import workloads as wl

    after_import = rss_mb()
    run = wl.wide_mlp(F, tuple(sizes), batch, steps)
    before_train = rss_mb()
    run()
    return {
        "framework": framework,
        "rss_start_mb": before_import,
        "rss_after_import_mb": after_import,
        "rss_before_train_mb": before_train,
        "peak_mb": peak_rss_mb(),
        "train_delta_mb": peak_rss_mb() - before_train,
    }


def _child_env(threads: int) -> dict:
    from benchmarks.harness import THREAD_ENV_VARS

    env = dict(os.environ)
    for var in THREAD_ENV_VARS:
        env[var] = str(threads)
    return env


def peak_memory(framework: str, sizes, batch: int, steps: int, threads: int) -> dict:
    """Run W3 for ``framework`` in a fresh interpreter and return its memory numbers."""
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.memory",
        "rss",
        "--framework",
        framework,
        "--sizes",
        ",".join(map(str, sizes)),
        "--batch",
        str(batch),
        "--steps",
        str(steps),
    ]
    out = subprocess.run(
        cmd, capture_output=True, text=True, env=_child_env(threads), cwd=_repo_root(), check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def import_time(module: str, repeats: int, threads: int) -> dict:
    """Median seconds of ``import module`` in ``repeats`` fresh interpreters."""
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    times = []
    for _ in range(repeats):
        out = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            env=_child_env(threads),
            cwd=_repo_root(),
            check=True,
        )
        times.append(float(out.stdout.strip().splitlines()[-1]))
    return {"module": module, "median_s": statistics.median(times), "samples": times}


def _repo_root() -> str:
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("rss")
    r.add_argument("--framework", choices=("gradfit", "torch", "numpy"), required=True)
    r.add_argument("--sizes", required=True)
    r.add_argument("--batch", type=int, required=True)
    r.add_argument("--steps", type=int, required=True)
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    res = _measure_rss(
        args.framework, [int(s) for s in args.sizes.split(",")], args.batch, args.steps
    )
    res["seconds"] = time.perf_counter() - t0
    print(json.dumps(res))


if __name__ == "__main__":
    main()
