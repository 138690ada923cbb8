"""W6: sequence models, gradfit against PyTorch (issue 14).

- W6a: the character GPT of ``examples/char_transformer.py`` (4 layers, 4 heads, width 128,
  context 128, batch 32, vocabulary 96): time per training step (forward, cross-entropy,
  backward, AdamW).
- W6b: a 2-layer LSTM language model (embedding 64, hidden 256, sequence 100, batch 32):
  time per training step (Adam).
- W6a-mem: peak resident memory of a few W6a steps, each framework in a fresh interpreter.

Each workload is written once against a framework namespace ``F`` (``torch`` or
``gradfit``), as ``benchmarks/workloads.py`` does.

    python -m benchmarks.workloads_seq                # full sizes, 1 and all threads
    python -m benchmarks.workloads_seq --mode quick   # a smoke run
    python -m benchmarks.workloads_seq --write        # keep the table, put it into BENCHMARKS.md
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Callable

SIZES = {
    # mode: (W6a (layers, heads, width, context, batch), W6b (hidden, seq, batch), steps, repeats)
    "full": ((4, 4, 128, 128, 32), (256, 100, 32), 3, 5),
    "quick": ((4, 4, 128, 128, 32), (256, 100, 32), 1, 2),
    "tiny": ((1, 2, 16, 8, 2), (8, 5, 2), 1, 1),
}
VOCAB = 96


def gpt(F, vocab: int, block: int, n_layer: int, n_head: int, n_embd: int):
    """The example's model (pre-norm blocks, causal SDPA, GELU MLP, tied output layer)."""
    nn = F.nn

    class Attention(nn.Module):
        def __init__(self):
            super().__init__()
            self.qkv = nn.Linear(n_embd, 3 * n_embd)
            self.proj = nn.Linear(n_embd, n_embd)

        def forward(self, x):
            b, t, c = x.shape
            q, k, v = self.qkv(x).split(c, dim=2)
            q = q.view(b, t, n_head, c // n_head).transpose(1, 2)
            k = k.view(b, t, n_head, c // n_head).transpose(1, 2)
            v = v.view(b, t, n_head, c // n_head).transpose(1, 2)
            y = nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
            return self.proj(y.transpose(1, 2).contiguous().view(b, t, c))

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1, self.attn = nn.LayerNorm(n_embd), Attention()
            self.ln2 = nn.LayerNorm(n_embd)
            self.mlp = nn.Sequential(
                nn.Linear(n_embd, 4 * n_embd), nn.GELU(), nn.Linear(4 * n_embd, n_embd)
            )

        def forward(self, x):
            x = x + self.attn(self.ln1(x))
            return x + self.mlp(self.ln2(x))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.tok_emb = nn.Embedding(vocab, n_embd)
            self.pos_emb = nn.Embedding(block, n_embd)
            self.blocks = nn.Sequential(*[Block() for _ in range(n_layer)])
            self.ln_f = nn.LayerNorm(n_embd)
            self.head = nn.Linear(n_embd, vocab, bias=False)
            self.head.weight = self.tok_emb.weight

        def forward(self, idx):
            pos = F.arange(0, idx.shape[1], dtype=F.long)
            x = self.tok_emb(idx) + self.pos_emb(pos)
            return self.head(self.ln_f(self.blocks(x)))

    return GPT()


def w6a(F, sizes: tuple, steps: int) -> Callable[[], int]:
    n_layer, n_head, n_embd, block, batch = sizes
    F.manual_seed(0)
    model = gpt(F, VOCAB, block, n_layer, n_head, n_embd)
    opt = F.optim.AdamW(model.parameters(), lr=1e-3)
    x = F.randint(0, VOCAB, (batch, block))
    y = F.randint(0, VOCAB, (batch, block))

    def run() -> int:
        for _ in range(steps):
            logits = model(x)
            loss = F.nn.functional.cross_entropy(logits.view(-1, VOCAB), y.view(-1))
            opt.zero_grad()
            loss.backward()
            opt.step()
        loss.item()
        return steps

    return run


def w6b(F, sizes: tuple, steps: int) -> Callable[[], int]:
    hidden, seq, batch = sizes
    nn = F.nn
    F.manual_seed(0)
    emb, lstm = nn.Embedding(VOCAB, 64), nn.LSTM(64, hidden, 2, batch_first=True)
    head = nn.Linear(hidden, VOCAB)
    params = [*emb.parameters(), *lstm.parameters(), *head.parameters()]
    opt = F.optim.Adam(params, lr=1e-3)
    x = F.randint(0, VOCAB, (batch, seq))
    y = F.randint(0, VOCAB, (batch, seq))

    def run() -> int:
        for _ in range(steps):
            out, _ = lstm(emb(x))
            loss = nn.functional.cross_entropy(head(out).reshape(-1, VOCAB), y.reshape(-1))
            opt.zero_grad()
            loss.backward()
            opt.step()
        loss.item()
        return steps

    return run


def run_rows(mode: str, threads: int) -> list[dict]:
    """Time W6a and W6b for both frameworks (alternating, median of repeats)."""
    import torch

    import gradfit
    from benchmarks.harness import limit_threads, time_alternating

    a_sizes, b_sizes, steps, repeats = SIZES[mode]
    rows = []
    with limit_threads(threads):
        for name, build, sizes, label in (
            (
                "W6a",
                w6a,
                a_sizes,
                "char GPT {0} layers, {1} heads, width {2}, context {3}, batch {4}",
            ),
            ("W6b", w6b, b_sizes, "2-layer LSTM, hidden {0}, sequence {1}, batch {2}"),
        ):
            cases = {
                fw: build(F, sizes, steps) for fw, F in (("gradfit", gradfit), ("torch", torch))
            }
            t = time_alternating(cases, repeats, warmup=1)
            rows.append(
                {
                    "workload": name,
                    "case": label.format(*sizes),
                    "threads": threads,
                    "ms_per_step": {k: v.median * 1e3 for k, v in t.items()},
                    "spread": {k: v.spread for k, v in t.items()},
                }
            )
    return rows


def peak_rss(framework: str, mode: str, threads: int) -> float:
    """Peak RSS (MB) of a few W6a steps in a fresh interpreter."""
    from benchmarks.harness import THREAD_ENV_VARS
    from benchmarks.memory import _repo_root

    env = dict(os.environ)
    for var in THREAD_ENV_VARS:
        env[var] = str(threads)
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.workloads_seq", "--rss", framework, "--mode", mode],
        capture_output=True,
        text=True,
        env=env,
        cwd=_repo_root(),
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])["peak_mb"]


def _rss_child(framework: str, mode: str) -> None:
    from benchmarks.memory import peak_rss_mb

    if framework == "torch":
        import torch as F
    else:
        import gradfit as F
    a_sizes, _, steps, _ = SIZES[mode]
    w6a(F, a_sizes, max(steps, 2))()
    print(json.dumps({"framework": framework, "peak_mb": peak_rss_mb()}))


def render(rows: list[dict], mem: dict, command: str) -> str:
    lines = [
        "## W6: sequence models (issue 14)",
        "",
        f"Command: `{command}`. Median ms per training step; ratio = gradfit / torch "
        "(target ≤ 1.0).",
        "",
        "| workload | case | threads | gradfit ms | torch ms | ratio |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        g, t = r["ms_per_step"]["gradfit"], r["ms_per_step"]["torch"]
        sg, st = r["spread"]["gradfit"], r["spread"]["torch"]
        lines.append(
            f"| {r['workload']} | {r['case']} | {r['threads']} | {g:.1f} (±{sg:.0%}) "
            f"| {t:.1f} (±{st:.0%}) | {g / t:.2f} |"
        )
    if mem:
        g, t = mem["gradfit"], mem["torch"]
        lines += [
            "",
            f"W6a peak RSS (fresh interpreter, import included): gradfit {g:.0f} MB, "
            f"torch {t:.0f} MB, ratio {g / t:.2f}.",
        ]
    return "\n".join(lines) + "\n"


def main(argv=None) -> str:
    p = argparse.ArgumentParser(prog="python -m benchmarks.workloads_seq", description=__doc__)
    p.add_argument("--mode", choices=sorted(SIZES), default="full")
    p.add_argument("--threads", default=None, help="comma-separated (default: 1 and all cores)")
    p.add_argument("--write", action="store_true", help="keep the table and update BENCHMARKS.md")
    p.add_argument("--no-memory", action="store_true")
    p.add_argument("--rss", choices=("gradfit", "torch"), help=argparse.SUPPRESS)
    p.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.rss:
        _rss_child(args.rss, args.mode)
        return ""
    if args.worker:
        print(json.dumps(run_rows(args.mode, args.worker)))
        return ""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    threads_list = [int(t) for t in args.threads.split(",")] if args.threads else sorted({1, cores})
    from benchmarks.harness import THREAD_ENV_VARS
    from benchmarks.memory import _repo_root

    rows = []
    for threads in threads_list:
        env = dict(os.environ)
        for var in THREAD_ENV_VARS:
            env[var] = str(threads)
        cmd = [sys.executable, "-m", "benchmarks.workloads_seq", "--worker", str(threads)]
        out = subprocess.run(
            cmd + ["--mode", args.mode],
            capture_output=True,
            text=True,
            env=env,
            cwd=_repo_root(),
            check=True,
        )
        rows += json.loads(out.stdout.strip().splitlines()[-1])
    mem = {}
    if not args.no_memory:
        mem = {fw: peak_rss(fw, args.mode, threads_list[0]) for fw in ("gradfit", "torch")}
    command = "python -m benchmarks.workloads_seq" + "".join(
        f" {a}" for a in (argv if argv is not None else sys.argv[1:])
    )
    text = render(rows, mem, command)
    print(text)
    if args.write:
        from benchmarks.kept import SEQ

        SEQ.save(text)
    return text


if __name__ == "__main__":
    main()
