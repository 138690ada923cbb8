"""Markdown tables from the worker rows and the W4 numbers, and the target check."""

from __future__ import annotations

FRAMEWORKS = ("gradfit", "torch", "numpy")
_UNIT_SCALE = {"us/call": 1e6, "us/step": 1e6, "ms/step": 1e3}

# Issue #6's targets (stated for one thread): (description, check(results) -> (value, ok)).
JAX_W1_US = 88.0  # JAX jit on the lecture's program, measured on this machine (issue #6)


def _fmt(v: float | None, digits: int = 1) -> str:
    if v is None:
        return "—"
    if v >= 1000:
        return f"{v:,.0f}"
    if v >= 100:
        return f"{v:.0f}"
    return f"{v:.{digits}f}"


def _val(row: dict, fw: str) -> float | None:
    s = row["median_s"].get(fw)
    return None if s is None else s * _UNIT_SCALE[row["unit"]]


def _cell(row: dict, fw: str) -> str:
    v = _val(row, fw)
    if v is None:
        return "error" if fw in row["errors"] else "—"
    spread = row["spread"].get(fw, 0.0)
    return f"{_fmt(v, 2 if v < 10 else 1)} (±{spread * 50:.0f}%)"


def _ratio(a: float | None, b: float | None) -> str:
    return "—" if a is None or b is None or b == 0 else f"{a / b:.2f}"


def _gflops(row: dict, fw: str) -> float | None:
    s = row["median_s"].get(fw)
    return None if s is None else row["flops"] / s / 1e9


def table_simple(rows: list[dict], workload: str) -> list[str]:
    rows = [r for r in rows if r["workload"] == workload]
    if not rows:
        return []
    unit = rows[0]["unit"].replace("us", "µs")
    out = [
        f"| case | threads | gradfit {unit} | torch {unit} | numpy by hand {unit} "
        "| gradfit / torch |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        out.append(
            f"| {r['case']} | {r['threads']} | {_cell(r, 'gradfit')} | {_cell(r, 'torch')} "
            f"| {_cell(r, 'numpy')} | {_ratio(_val(r, 'gradfit'), _val(r, 'torch'))} |"
        )
    return out + _errors(rows)


def table_wide(rows: list[dict], workload: str) -> list[str]:
    rows = [r for r in rows if r["workload"] == workload]
    if not rows:
        return []
    with_numpy = any("numpy" in r["median_s"] for r in rows)
    head = "| case | threads | gradfit ms/step | torch ms/step |"
    sep = "|---|---:|---:|---:|"
    if with_numpy:
        head += " numpy by hand ms/step |"
        sep += "---:|"
    head += (
        " gradfit samples/s | torch samples/s | gradfit speed-up vs torch "
        "| gradfit GFLOP/s | torch GFLOP/s | NumPy GEMM-only GFLOP/s | gradfit % of GEMM |"
    )
    sep += "---:|---:|---:|---:|---:|---:|---:|"
    out = [head, sep]
    for r in rows:
        b = r["batch"]
        sg, st = r["median_s"].get("gradfit"), r["median_s"].get("torch")
        gg, gt, gc = _gflops(r, "gradfit"), _gflops(r, "torch"), _gflops(r, "gemm")
        line = f"| {r['case']} | {r['threads']} | {_cell(r, 'gradfit')} | {_cell(r, 'torch')} |"
        if with_numpy:
            line += f" {_cell(r, 'numpy')} |"
        line += (
            f" {_fmt(b / sg if sg else None)} | {_fmt(b / st if st else None)} "
            f"| {_ratio(st, sg)} | {_fmt(gg)} | {_fmt(gt)} | {_fmt(gc)} "
            f"| {'—' if gg is None or not gc else f'{100 * gg / gc:.0f}%'} |"
        )
        out.append(line)
    return out + _errors(rows)


def scaling_summary(rows: list[dict]) -> list[str]:
    """Does cost grow in proportion to work? Compare GFLOP/s across each sweep."""
    out = []
    for sweep in ("scaling-batch", "scaling-width"):
        for threads in sorted({r["threads"] for r in rows if r["workload"] == sweep}):
            rs = [r for r in rows if r["workload"] == sweep and r["threads"] == threads]
            if len(rs) < 2:
                continue
            parts = []
            for fw in ("gradfit", "torch", "gemm"):
                g = [_gflops(r, fw) for r in rs]
                if None in g:
                    continue
                parts.append(
                    f"{fw} {_fmt(g[0])} → {_fmt(g[-1])} GFLOP/s "
                    f"(smallest run at {100 * g[0] / max(g):.0f}% of its best)"
                )
            what = "batch" if sweep == "scaling-batch" else "width"
            out.append(f"- {what} sweep, {threads} thread(s): " + "; ".join(parts))
    return out


def _errors(rows: list[dict]) -> list[str]:
    out = []
    for r in rows:
        for fw, msg in r["errors"].items():
            out.append(f"\n> {r['workload']} {r['case']} ({r['threads']} thr): {fw} failed: {msg}")
    return out


def table_memory(mem: dict) -> list[str]:
    if not mem:
        return []
    out = [
        "| framework | peak RSS MB | RSS after import MB | RSS before training MB "
        "| training peak − before MB |",
        "|---|---:|---:|---:|---:|",
    ]
    for fw, m in mem.get("rss", {}).items():
        if "error" in m:
            out.append(f"| {fw} | error: {m['error']} | | | |")
            continue
        out.append(
            f"| {fw} | {m['peak_mb']:.0f} | {m['rss_after_import_mb']:.0f} "
            f"| {m['rss_before_train_mb']:.0f} | {m['train_delta_mb']:.0f} |"
        )
    imp = mem.get("import", {})
    if imp:
        out += ["", "| import | median s (fresh interpreter) | repeats |", "|---|---:|---:|"]
        for name, m in imp.items():
            out.append(f"| `import {name}` | {m['median_s']:.3f} | {len(m['samples'])} |")
    return out


def _find(rows, workload, threads, batch=None):
    for r in rows:
        if r["workload"] == workload and r["threads"] == threads:
            if batch is None or r.get("batch") == batch:
                return r
    return None


def targets(rows: list[dict], mem: dict, threads: int = 1) -> list[tuple[str, str, bool | None]]:
    """(target, measured, met) for each of issue #6's targets at ``threads`` threads."""
    out: list[tuple[str, str, bool | None]] = []

    def ratio_target(workload, limit, extra_abs=None):
        r = _find(rows, workload, threads)
        if r is None or "gradfit" not in r["median_s"] or "torch" not in r["median_s"]:
            return ("not measured", None)
        g, t = _val(r, "gradfit"), _val(r, "torch")
        ok = g / t <= limit and (extra_abs is None or g < extra_abs)
        return (f"{g:.1f} vs {t:.1f} µs/step = {g / t:.2f}×", ok)

    m, ok = ratio_target("W1", 0.30, JAX_W1_US)
    out.append((f"W1 ≤ 0.30 × torch and < {JAX_W1_US:.0f} µs/step (JAX jit)", m, ok))
    m, ok = ratio_target("W2", 0.5)
    out.append(("W2 ≤ 0.5 × torch", m, ok))
    for r in rows:
        if r["workload"] != "W3" or r["threads"] != threads:
            continue
        sg, st, sc = (r["median_s"].get(k) for k in ("gradfit", "torch", "gemm"))
        if sg is None or st is None:
            out.append((f"W3 batch {r['batch']}", "not measured", None))
            continue
        out.append(
            (
                f"W3 batch {r['batch']}: samples/s ≥ 1.3 × torch",
                f"{st / sg:.2f}× ({r['batch'] / sg:,.0f} vs {r['batch'] / st:,.0f} samples/s)",
                st / sg >= 1.3,
            )
        )
        if sc:
            out.append(
                (
                    f"W3 batch {r['batch']}: ≥ 55% of the NumPy GEMM ceiling",
                    f"{100 * sc / sg:.0f}% ({_gflops(r, 'gradfit'):.0f} of "
                    f"{_gflops(r, 'gemm'):.0f} GFLOP/s)",
                    sc / sg >= 0.55,
                )
            )
    rss = mem.get("rss", {})
    if "peak_mb" in rss.get("gradfit", {}) and "peak_mb" in rss.get("torch", {}):
        g, t = rss["gradfit"]["peak_mb"], rss["torch"]["peak_mb"]
        measured = f"{g:.0f} vs {t:.0f} MB = {g / t:.2f}×"
        out.append(("W4 peak RSS of W3 ≤ 0.5 × torch", measured, g / t <= 0.5))
    imp = mem.get("import", {}).get("gradfit")
    if imp:
        out.append(("`import gradfit` ≤ 0.2 s", f"{imp['median_s']:.3f} s", imp["median_s"] <= 0.2))
    return out


BRIEF_NUMPY_W1_US = 36.0  # the hand-written NumPy W1 step when issue #6 set the targets


def analysis(rows: list[dict], threads: int = 1) -> list[str]:
    """Plain-language reading of the targets: machine speed and the W3 ceiling."""
    out = []
    w1 = _find(rows, "W1", threads)
    if w1 and "numpy" in w1["median_s"]:
        np_us = _val(w1, "numpy")
        f = np_us / BRIEF_NUMPY_W1_US
        g = _val(w1, "gradfit")
        line = (
            f"- Machine speed: the hand-written NumPy W1 step took {np_us:.1f} µs in this run "
            f"against {BRIEF_NUMPY_W1_US:.0f} µs when the targets were set, so the machine "
            f"ran {f:.2f}× as slow; JAX's {JAX_W1_US:.0f} µs scales to ≈ {JAX_W1_US * f:.0f} µs."
        )
        if g is not None:
            line += f" gradfit's W1 step is {g / np_us:.2f}× the hand-written NumPy step."
        out.append(line)
    adam = _find(rows, "W3-adam", threads)
    for r in rows:
        if r["workload"] != "W3" or r["threads"] != threads:
            continue
        ms = {k: v * 1e3 for k, v in r["median_s"].items()}
        if not {"gradfit", "torch", "gemm"} <= set(ms):
            continue
        line = (
            f"- W3 batch {r['batch']}: the matrix products alone take {ms['gemm']:.1f} ms in "
            f"NumPy, PyTorch's whole step {ms['torch']:.1f} ms, so an engine on NumPy that did "
            f"nothing but the products could be at most {ms['torch'] / ms['gemm']:.2f}× "
            f"PyTorch's samples/s. gradfit spends {ms['gradfit'] - ms['gemm']:.1f} ms per step "
            "outside them"
        )
        if adam and "gradfit" in adam["median_s"] and "torch" in adam["median_s"]:
            line += (
                f", {adam['median_s']['gradfit'] * 1e3:.1f} ms of it in the Adam update "
                f"(PyTorch's Adam step: {adam['median_s']['torch'] * 1e3:.1f} ms)"
            )
        out.append(line + ".")
    return out


def table_targets(rows, mem, threads_list) -> list[str]:
    out = ["| target | threads | measured | met? |", "|---|---:|---|---|"]
    for threads in threads_list:
        for name, measured, ok in targets(rows, mem, threads):
            if threads != threads_list[0] and name.startswith(("W4", "`import")):
                continue  # measured once
            mark = "—" if ok is None else ("yes" if ok else "**no**")
            out.append(f"| {name} | {threads} | {measured} | {mark} |")
    return out


def render(rows: list[dict], mem: dict, header: dict) -> str:
    """The whole BENCHMARKS.md text."""
    threads_list = sorted({r["threads"] for r in rows}) or [1]
    m = header["machine"]
    lines = [
        "# Benchmarks: gradfit against PyTorch on the CPU",
        "",
        f"Command: `{header['command']}`  ",
        f"Date: {header['date']}  ",
        f"Mode: {header['mode']} (median of {header['repeats']} repeats after "
        f"{header['warmup']} warm-up, frameworks alternated within each repeat, "
        "same process and thread count for all)",
        "",
        "## Machine",
        "",
        f"- CPU: {m['cpu']}, {m['logical_cpus']} logical CPUs ({m['usable_cpus']} usable)",
        f"- Python {m['python']}, NumPy {m['numpy']}, PyTorch {m['torch']}, {m['platform']}",
    ]
    lines += [f"- thread pool: {b}" for b in m["blas"]]
    tuning = {k: v for k, v in m["openblas_tuning"].items() if v is not None}
    lines.append(f"- OpenBLAS tuning variables: {tuning if tuning else 'not set'} (left as found)")
    for t, load in header.get("load", {}).items():
        lines.append(f"- load average (1, 5, 15 min) around the {t}-thread run: {load}")
    lines += [
        "",
        "Columns: `gradfit` and `torch` run the same script (the framework module is a "
        "parameter); `numpy by hand` is the same step written out in NumPy — the floor for "
        "a NumPy engine. (±x%) is half the range of the repeats relative to the median. "
        "Threads are set for both frameworks: `torch.set_num_threads`, `threadpoolctl` "
        "and OMP/OPENBLAS/MKL_NUM_THREADS in each worker process.",
        "",
        "## Targets (issue #6)",
        "",
        *table_targets(rows, mem, threads_list),
        "",
        "Reading the targets (one thread):",
        "",
        *analysis(rows, threads_list[0]),
        "",
        "## W0 — per-op overhead (issue #2)",
        "",
        *table_simple(rows, "W0"),
        "",
        "## W1 — the lecture's program (1000 steps of 10-40-40-5, SGD+momentum, StepLR)",
        "",
        *table_simple(rows, "W1"),
        "",
        "## W2 — `gradfit train` default recipe on MNIST-1D shapes",
        "",
        *table_simple(rows, "W2"),
        "",
        "## W3 — wide MLP, cross-entropy, Adam, float32",
        "",
        "GFLOP/s counts the matrix products of a step: 2·B·Σ in·out for the forward pass, "
        "the same for the weight gradients, and again for the input gradients except the "
        "first layer's (≈ 6·params·batch less the unneeded first-layer input gradient). "
        "*NumPy GEMM-only* runs exactly these matrix products in NumPy and nothing else: the "
        "ceiling for an engine on NumPy.",
        "",
        *table_wide(rows, "W3"),
        "",
        *(
            [
                "### W3 with the OpenBLAS tuning variables unset",
                "",
                *table_wide(rows, "W3-untuned"),
                "",
            ]
            if any(r["workload"] == "W3-untuned" for r in rows)
            else []
        ),
        "## W4 — memory and import time",
        "",
        "Each framework runs W3 "
        f"(batch {header.get('mem_batch')}, {header.get('mem_steps')} steps) in its own fresh "
        "interpreter; peak RSS is the kernel's high-water mark (VmHWM).",
        "",
        *table_memory(mem),
        "",
        "## Scaling — step time against batch size and width",
        "",
        "Proportional cost means constant GFLOP/s along a sweep.",
        "",
        *scaling_summary(rows),
        "",
        "### Batch sweep",
        "",
        *table_wide(rows, "scaling-batch"),
        "",
        "### Width sweep",
        "",
        *table_wide(rows, "scaling-width"),
        "",
    ]
    notes = header.get("notes")
    if notes:
        lines += ["## Notes", "", notes, ""]
    return "\n".join(lines)
