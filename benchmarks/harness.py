"""Timing, thread control and machine description shared by all workloads.

Fairness rules (issue #6): every framework runs in the same process, with the same thread
count, after the same warm-up; repeats alternate the frameworks (A B C, C B A, ...) so that
a slow phase of the machine (another process waking up, frequency changes) hits all of
them alike; the reported number is the median of the repeats. The garbage collector stays
on, as in a real training script, but runs (``gc.collect()``) before every timed repeat so
one framework's garbage is not collected on another's clock. After set-up and warm-up the
objects alive so far are moved out of the collector's reach (``gc.freeze()``): both
frameworks share one process, and without this every full collection during gradfit's
timing would also walk the ~10^6 objects ``import torch`` leaves behind (0.2 s each here),
a cost a real gradfit program never pays.
"""

from __future__ import annotations

import contextlib
import gc
import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

# Environment variables that size the BLAS / OpenMP thread pools; they must be set before
# numpy or torch is imported, so the parent sets them for every worker subprocess.
THREAD_ENV_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
# Tuning variables of OpenBLAS present on some machines; recorded, never changed silently.
OPENBLAS_TUNING_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


@dataclass
class Timing:
    """Per-unit times (seconds per step / per call) of one case over the repeats."""

    samples: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def spread(self) -> float:
        """(max - min) / median: how much the repeats disagree (noise indicator)."""
        m = self.median
        return (max(self.samples) - min(self.samples)) / m if m else 0.0


def time_alternating(
    cases: dict[str, Callable[[], int]], repeats: int, warmup: int = 1
) -> dict[str, Timing]:
    """Time each case ``repeats`` times, alternating the order of the cases.

    Args:
        cases: name -> callable; one call is one timed repeat and returns how many units
            (steps, calls) it ran, so the result is seconds per unit.
        repeats: timed calls per case; the report uses their median.
        warmup: untimed calls per case first (caches, lazy imports, BLAS thread start-up).

    Returns:
        name -> Timing of seconds per unit.
    """
    for fn in cases.values():
        for _ in range(warmup):
            fn()
    gc.collect()
    gc.freeze()
    names = list(cases)
    out = {name: Timing() for name in names}
    for r in range(repeats):
        for name in names if r % 2 == 0 else reversed(names):
            gc.collect()
            t0 = time.perf_counter()
            units = cases[name]()
            dt = time.perf_counter() - t0
            out[name].samples.append(dt / units)
    return out


def calls(fn: Callable[[], object], n: int) -> Callable[[], int]:
    """A repeat of ``n`` back-to-back calls of ``fn`` (for per-call timings)."""

    def run() -> int:
        for _ in range(n):
            fn()
        return n

    return run


@contextlib.contextmanager
def limit_threads(n: int):
    """Run the block with ``n`` threads in NumPy's BLAS, OpenMP and torch's intra-op pool.

    The environment variables only take effect in a fresh process (the worker sets them
    before importing numpy); ``threadpoolctl`` and ``torch.set_num_threads`` change the
    pools of an already running process, which is what makes the in-process test honest.
    """
    torch_prev = None
    try:
        import torch

        torch_prev = torch.get_num_threads()
        torch.set_num_threads(n)
    except ImportError:  # pragma: no cover - torch is a test dependency
        torch = None
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        threadpool_limits = None
    ctx = threadpool_limits(limits=n) if threadpool_limits else contextlib.nullcontext()
    try:
        with ctx:
            yield
    finally:
        if torch is not None and torch_prev is not None:
            torch.set_num_threads(torch_prev)


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def blas_info() -> list[str]:
    """One line per thread pool loaded in this process (numpy's BLAS, torch's OpenMP)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:  # pragma: no cover
        import numpy as np

        cfg = np.show_config(mode="dicts")
        blas = cfg.get("Build Dependencies", {}).get("blas", {})
        return [f"numpy BLAS: {blas.get('name')} {blas.get('version')}"]
    lines = []
    for pool in threadpool_info():
        name = " ".join(str(x) for x in (pool.get("internal_api"), pool.get("version")) if x)
        extra = [str(x) for x in (pool.get("architecture"), pool.get("threading_layer")) if x]
        extra.append(f"default threads: {pool.get('num_threads')}")
        lines.append(f"{name} ({', '.join(extra)}) `{os.path.basename(pool.get('filepath', ''))}`")
    return lines


def machine_info() -> dict:
    """The machine and the software under test, for the report header."""
    import numpy as np

    info = {
        "cpu": cpu_model(),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "platform": platform.platform(),
        "openblas_tuning": {k: os.environ.get(k) for k in OPENBLAS_TUNING_VARS},
    }
    try:
        import torch

        info["torch"] = torch.__version__
    except ImportError:  # pragma: no cover
        info["torch"] = None
    info["blas"] = blas_info()
    return info


def load_average() -> tuple[float, float, float] | None:
    try:
        return os.getloadavg()
    except OSError:  # pragma: no cover
        return None
