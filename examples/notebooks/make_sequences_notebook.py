"""Write examples/notebooks/12_sequences.ipynb (without outputs) with nbformat.

Run ``python examples/notebooks/make_sequences_notebook.py`` after editing the cells here.
The notebook trains an LSTM and a small transformer on the same character data (the Python
standard library's own source), draws their loss curves and samples text from each; the
test suite executes it (``tests/lecture/test_lecture_notebooks.py``), so it stays small.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).parent

CELLS = [
    (
        "md",
        """# Sequences: an LSTM and a transformer on the same characters

A character-level language model reads a text one character at a time and predicts the
next one. We train two of them on the same data — the Python standard library's own source
code, which every machine with Python has — and compare:

* an **LSTM** (`gradfit.nn.LSTM`): a recurrent state carried from step to step;
* a small **transformer** (`CharGPT`): causal self-attention over the whole context at once.

Both minimise the cross-entropy of the next character. A model that knows nothing scores
log(vocabulary size); everything below that is learned. (Small sizes so the notebook runs in
seconds: the curves are short, the samples rough.)""",
    ),
    (
        "code",
        """import math

import matplotlib.pyplot as plt
import numpy as np

import gradfit
from gradfit.datasets.text import CharText, stdlib_text
from gradfit.models_text import build_text_model, generate

data = CharText(stdlib_text(20_000))
print(f"{len(data.text):,} characters, vocabulary of {data.vocab_size}")
print(data.text[:200])""",
    ),
    (
        "md",
        """## One training loop for both models

Random windows of 32 characters; the target is the window shifted by one. AdamW with a
cosine learning-rate schedule, gradient clipping at norm 1 — the recipe of
`examples/char_transformer.py`, at toy size.""",
    ),
    (
        "code",
        """STEPS, BATCH, BLOCK = 40, 16, 32

def train(model, steps=STEPS, lr=2e-2):
    opt = gradfit.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    sched = gradfit.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps, eta_min=lr / 10)
    losses = []
    for _ in range(steps):
        x, y = data.batch("train", BATCH, BLOCK)
        _, loss = model(x, y)
        opt.zero_grad()
        loss.backward()
        gradfit.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        losses.append(loss.item())
    return losses

def val_loss(model, n=4):
    model.eval()
    with gradfit.no_grad():
        out = np.mean([model(*data.batch("val", BATCH, BLOCK))[1].item() for _ in range(n)])
    model.train()
    return out

gradfit.manual_seed(0)
lstm = build_text_model("lstm", data.vocab_size, n_embd=32, hidden_size=64, num_layers=1,
                        block_size=BLOCK)
gpt = build_text_model("transformer", data.vocab_size, block_size=BLOCK, n_layer=1,
                       n_head=4, n_embd=32)
for name, m in (("LSTM", lstm), ("transformer", gpt)):
    print(f"{name}: {sum(p.numel() for p in m.parameters()):,} parameters")
curves = {"LSTM": train(lstm), "transformer": train(gpt)}""",
    ),
    (
        "code",
        """fig, ax = plt.subplots(figsize=(6, 3.5))
for name, losses in curves.items():
    ax.plot(losses, label=name)
ax.axhline(math.log(data.vocab_size), color="gray", ls="--", label="uniform guess")
ax.set_xlabel("step")
ax.set_ylabel("cross-entropy (nats)")
ax.legend()
plt.show()
summary = {name: (losses[0], losses[-1], val_loss(m))
           for (name, losses), m in zip(curves.items(), (lstm, gpt))}
for name, (first, last, val) in summary.items():
    print(f"{name:12s} first {first:.3f}  last {last:.3f}  validation {val:.3f}")""",
    ),
    (
        "md",
        """## Samples

Each model continues the prompt `def ` one character at a time, sampling from its predicted
distribution (temperature 0.8). After a minute of CPU at full size
(`python examples/char_transformer.py`) the transformer writes plausible Python; after 40
toy steps both have learned spaces, common letters and the odd keyword.""",
    ),
    (
        "code",
        """gradfit.manual_seed(1)
prompt = gradfit.tensor([data.encode("def ")])
for name, m in (("LSTM", lstm), ("transformer", gpt)):
    text = data.decode(generate(m, prompt, 80, temperature=0.8)[0].tolist())
    print(f"--- {name}\\n{text}\\n")
# the numbers this notebook stands for: both models learn (the loss falls well below the
# uniform guess) on held-out text too
for name, (first, last, val) in summary.items():
    assert last < first - 0.8, (name, first, last)
    assert val < math.log(data.vocab_size) - 0.8, (name, val)""",
    ),
]


def build() -> nbformat.NotebookNode:
    nb = new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    for kind, src in CELLS:
        nb.cells.append(new_markdown_cell(src) if kind == "md" else new_code_cell(src))
    return nb


def main() -> None:
    path = HERE / "12_sequences.ipynb"
    nb = build()
    nbformat.validate(nb)
    nbformat.write(nb, path)
    print(f"wrote {path}")
    # The cells above are written compactly; the project's formatter lays them out.
    exe = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    if Path(exe).exists():
        subprocess.run([exe, "format", "--quiet", str(path)], check=True)
        subprocess.run([exe, "check", "--fix", "--quiet", str(path)], check=True)
    else:
        print("ruff not found: the notebook is not formatted")


if __name__ == "__main__":
    main()
