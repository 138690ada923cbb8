"""examples/pinn.py and examples/gradient_penalty.py (gradfit) print the same numbers as
their PyTorch twins (*_torch.py, the same programs with other imports): both need
gradients of gradients (issue 15). Run in-process, small step counts, float64."""

import contextlib
import io
import re
import sys
from pathlib import Path

import pytest
import torch

import gradfit

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture(autouse=True)
def _restore_defaults():
    t, g, n = torch.get_default_dtype(), gradfit.get_default_dtype(), torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_default_dtype(t)
    gradfit.set_default_dtype(g)
    torch.set_num_threads(n)


def _run(path: Path, argv: list, monkeypatch) -> str:
    source = path.read_text()
    source = re.sub(r"\.item\(\):\.6f\}", ".item()!r}", source)  # full precision
    monkeypatch.setattr(sys, "argv", [str(path), *argv])
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(source, str(path), "exec"), {"__name__": "__main__"})
    return out.getvalue()


def _numbers(text: str) -> list[float]:
    return [float(v) for v in re.findall(r"-?\d+\.\d+(?:e-?\d+)?", text)]


@pytest.mark.parametrize(
    "name, argv",
    [
        ("pinn", ["--steps", "20", "--print-every", "5"]),
        ("gradient_penalty", ["--steps", "20", "--print-every", "5"]),
    ],
)
def test_example_prints_what_its_torch_twin_prints(name, argv, monkeypatch):
    ours = _run(EXAMPLES / f"{name}.py", argv, monkeypatch)
    ref = _run(EXAMPLES / f"{name}_torch.py", argv, monkeypatch)
    assert re.sub(r"-?\d+\.\d+(e-?\d+)?", "N", ours) == re.sub(r"-?\d+\.\d+(e-?\d+)?", "N", ref)
    a, b = _numbers(ours), _numbers(ref)
    assert len(a) == len(b) >= 5
    assert a == pytest.approx(b, rel=1e-9, abs=1e-12)
    # the twins differ only in their imports
    strip = re.compile(r"^(#.*|import .*)$", re.M)
    assert strip.sub("", (EXAMPLES / f"{name}.py").read_text()) == strip.sub(
        "", (EXAMPLES / f"{name}_torch.py").read_text()
    )
