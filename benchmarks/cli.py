"""``python -m benchmarks``: time gradfit and PyTorch side by side, write BENCHMARKS.md.

For each thread count (1 and all cores by default) a worker process is started with the
thread-pool variables set before numpy/torch load; it times W0-W3 and the scaling sweep for
both frameworks, alternating. W4 (peak memory, import time) runs each framework in its own
fresh interpreter. The parent renders the tables, prints them and writes the report.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile

from benchmarks.config import MODES
from benchmarks.harness import OPENBLAS_TUNING_VARS, THREAD_ENV_VARS
from benchmarks.worker import WORKLOADS

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_worker(threads: int, mode: str, only: list[str], unset=()) -> dict:
    env = dict(os.environ)
    for var in THREAD_ENV_VARS:
        env[var] = str(threads)
    for var in unset:
        env.pop(var, None)
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "rows.json")
        cmd = [sys.executable, "-m", "benchmarks.worker", "--threads", str(threads)]
        cmd += ["--mode", mode, "--only", ",".join(only), "--out", out]
        subprocess.run(cmd, env=env, cwd=ROOT, check=True)
        with open(out) as f:
            return json.load(f)


def run_memory(cfg, threads: int, log=print) -> dict:
    from benchmarks import memory

    batch = cfg.w3_batches[0]
    res: dict = {"rss": {}, "import": {}}
    for fw in ("gradfit", "torch", "numpy"):
        log(f"W4 peak RSS: {fw}")
        try:
            res["rss"][fw] = memory.peak_memory(fw, cfg.w3_sizes, batch, cfg.mem_steps, threads)
        except subprocess.CalledProcessError as e:
            res["rss"][fw] = {"error": (e.stderr or "").strip().splitlines()[-1:]}
    for mod in ("gradfit", "torch"):
        log(f"W4 import time: {mod}")
        res["import"][mod] = memory.import_time(mod, cfg.import_repeats, threads)
    return res


def main(argv=None) -> str:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    p.add_argument("--quick", action="store_true", help="small sizes, few repeats (~1 min)")
    p.add_argument("--mode", choices=sorted(MODES), help="full | quick | tiny (tests)")
    p.add_argument(
        "--threads",
        default=None,
        help="comma-separated thread counts (default: 1 and all usable cores)",
    )
    p.add_argument("--only", default=",".join((*WORKLOADS, "W4")), help="e.g. W0,W1,W4")
    p.add_argument(
        "--output",
        default=None,
        help="report file (default: BENCHMARKS.md for the full run; --quick only prints, so "
        "a smoke run never overwrites the committed report)",
    )
    p.add_argument("--no-write", action="store_true", help="print only")
    p.add_argument(
        "--notes",
        default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "notes.md"),
        help="markdown file appended as ## Notes (default: benchmarks/notes.md)",
    )
    args = p.parse_args(argv)

    mode = args.mode or ("quick" if args.quick else "full")
    cfg = MODES[mode]
    if args.threads:
        threads_list = [int(t) for t in args.threads.split(",")]
    else:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
        threads_list = sorted({1, cores or 1})
    only = args.only.split(",")
    unknown = set(only) - {*WORKLOADS, "W4"}
    if unknown:
        p.error(f"--only: unknown workloads {sorted(unknown)}; expected {[*WORKLOADS, 'W4']}")

    rows, load, machine = [], {}, None
    timed = [w for w in only if w in WORKLOADS]
    for threads in threads_list:
        if not timed:
            break
        res = run_worker(threads, mode, timed)
        rows += res["rows"]
        machine = res["machine"]
        load[threads] = ", ".join(
            f"{a:.2f}→{b:.2f}" for a, b in zip(res["load_before"], res["load_after"])
        )
    tuning = [v for v in OPENBLAS_TUNING_VARS if os.environ.get(v) is not None]
    if tuning and "W3" in timed:
        # These machines set OpenBLAS tuning variables; W3 is also reported without them
        # (both unset together, for that worker process only).
        res = run_worker(threads_list[0], mode, ["W3"], unset=OPENBLAS_TUNING_VARS)
        for r in res["rows"]:
            r["workload"] += "-untuned"
        rows += res["rows"]
    if machine is None:
        from benchmarks.harness import machine_info

        machine = machine_info()
    mem = (
        run_memory(cfg, threads_list[0], log=lambda m: print(m, file=sys.stderr))
        if ("W4" in only)
        else {}
    )

    from benchmarks.report import render

    notes = None
    if args.notes and os.path.exists(args.notes):
        with open(args.notes) as f:
            notes = f.read()
    command = "python -m benchmarks" + (" " + " ".join(argv if argv is not None else sys.argv[1:]))
    header = {
        "command": command.strip(),
        "date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "mode": mode,
        "repeats": cfg.repeats,
        "warmup": cfg.warmup,
        "machine": machine,
        "load": load,
        "mem_batch": cfg.w3_batches[0],
        "mem_steps": cfg.mem_steps,
        "notes": notes,
    }
    from benchmarks.kept import with_kept_sections

    text = with_kept_sections(render(rows, mem, header))  # the MPI, W5 and W6 tables
    print(text)
    output = args.output
    if output is None and mode == "full":
        output = os.path.join(ROOT, "BENCHMARKS.md")
    if output and not args.no_write:
        with open(output, "w") as f:
            f.write(text)
        print(f"\nwritten to {output}", file=sys.stderr)
    return text
