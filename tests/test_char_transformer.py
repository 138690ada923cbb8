"""examples/char_transformer.py (gradfit) and examples/char_transformer_torch.py (the same
program on PyTorch, as its users write it) differ only in their imports, and their first 20
training losses agree in float64 (1e-9 relative): same data, same initialisation, same
batches, same AdamW and cosine schedule."""

import contextlib
import io
import math
import re
import sys
from pathlib import Path

import pytest
import torch

import gradfit

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
GRADFIT_PROGRAM = EXAMPLES / "char_transformer.py"
TORCH_PROGRAM = EXAMPLES / "char_transformer_torch.py"
SMALL = ["--n-layer", "2", "--n-head", "4", "--n-embd", "32", "--block-size", "32"]
SMALL += ["--batch-size", "8", "--chars", "50000", "--print-every", "1", "--double"]


@pytest.fixture(autouse=True)
def _restore_default_dtypes():
    t, g = torch.get_default_dtype(), gradfit.get_default_dtype()
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_default_dtype(t)
    gradfit.set_default_dtype(g)
    torch.set_num_threads(n)


def _run(path: Path, argv: list, monkeypatch) -> str:
    source = path.read_text()
    assert source.count("{loss.item():.4f}") == 1
    source = source.replace("{loss.item():.4f}", "{loss.item()!r}")  # full precision
    monkeypatch.setattr(sys, "argv", [str(path), *argv])
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(source, str(path), "exec"), {"__name__": "__main__"})
    return out.getvalue()


def _losses(text: str) -> list[float]:
    return [float(m.group(1)) for m in re.finditer(r"^step +\d+  loss (\S+)$", text, re.M)]


def test_the_two_programs_differ_only_in_their_imports():
    def code(path):
        return [line for line in path.read_text().splitlines() if not line.startswith("#")]

    ours, theirs = code(GRADFIT_PROGRAM), code(TORCH_PROGRAM)
    differ = [(a, b) for a, b in zip(ours, theirs, strict=True) if a != b]
    assert differ == [
        (
            "import gradfit as torch, gradfit.nn as nn, gradfit.nn.functional as F",
            "import torch, torch.nn as nn, torch.nn.functional as F",
        )
    ]


def test_first_20_losses_equal_torchs(monkeypatch):
    argv = [*SMALL, "--steps", "20", "--sample", "0"]
    theirs = _run(TORCH_PROGRAM, argv, monkeypatch)
    sample = 40 if hasattr(gradfit, "multinomial") else 0  # sampling needs multinomial
    ours = _run(GRADFIT_PROGRAM, [*SMALL, "--steps", "20", "--sample", str(sample)], monkeypatch)
    a, b = _losses(ours), _losses(theirs)
    assert len(a) == len(b) == 20
    for step, (x, y) in enumerate(zip(a, b)):
        assert math.isclose(x, y, rel_tol=1e-9), f"step {step}: gradfit {x}, torch {y}"
    assert a[-1] < a[0] - 0.5  # it learns (from ~log(vocab))
    val = [re.search(r"validation loss (\S+)", t).group(1) for t in (ours, theirs)]
    assert abs(float(val[0]) - float(val[1])) < 1e-3
    if sample:
        after = ours.split("validation loss", 1)[1].split("\n", 1)[1]
        assert after.startswith("def ") and len(after.rstrip("\n")) >= 4 + sample
