"""The lecture's program (its last code slide) gives PyTorch's per-epoch losses on gradfit.

examples/lecture_program_torch.py is the slide verbatim plus a seed; examples/lecture_program.py
is the same program with only the imports changed. Both run here, in this process, and their
100 per-epoch losses must agree (float32 arithmetic: 1e-4 relative).
"""

import contextlib
import io
import math
import re
import runpy
import sys
from pathlib import Path

import pytest
import torch

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
GRADFIT_PROGRAM = EXAMPLES / "lecture_program.py"
TORCH_PROGRAM = EXAMPLES / "lecture_program_torch.py"
LINE = re.compile(r"Epoch +(\d+), loss (\d+\.\d{3})")


@pytest.fixture(autouse=True)
def _one_torch_thread():
    # The program's tensors are tiny: extra threads only add contention on a busy machine
    # (and leave the numbers unchanged).
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _run(path: Path, monkeypatch, *, seed, full_precision: bool, env_seed=None) -> list[float]:
    """Run the program with `seed` on its command line (None: no argument) and `env_seed` in
    the SEED environment variable (None: unset); return the printed per-epoch losses.

    With ``full_precision`` the print's ``:.3f`` is replaced by ``!r`` (nothing else changes),
    so the losses compare to 1e-4 and not to the printed three decimals.
    """
    monkeypatch.setattr(sys, "argv", [str(path)] + ([] if seed is None else [str(seed)]))
    if env_seed is None:
        monkeypatch.delenv("SEED", raising=False)
    else:
        monkeypatch.setenv("SEED", str(env_seed))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        if full_precision:
            source = path.read_text()
            assert source.count("{epoch_loss:.3f}") == 1
            source = source.replace("{epoch_loss:.3f}", "{epoch_loss!r}")
            exec(compile(source, str(path), "exec"), {"__name__": "__main__"})
        else:
            runpy.run_path(str(path), run_name="__main__")
    lines = out.getvalue().splitlines()
    assert len(lines) == 100
    losses = []
    for epoch, line in enumerate(lines):
        if full_precision:
            m = re.fullmatch(r"Epoch +(\d+), loss (\S+)", line)
        else:
            m = LINE.fullmatch(line)
            assert line == f"Epoch {epoch:5d}, loss {float(m.group(2)):.3f}"
        assert m is not None and int(m.group(1)) == epoch, line
        losses.append(float(m.group(2)))
    return losses


def test_the_two_programs_differ_only_in_their_imports():
    ours = GRADFIT_PROGRAM.read_text().splitlines()
    theirs = TORCH_PROGRAM.read_text().splitlines()
    code = [(a, b) for a, b in zip(ours, theirs, strict=True) if not a.startswith("#")]
    differ = [(a, b) for a, b in code if a != b]
    assert differ == [
        ("import gradfit as torch, gradfit.nn as nn", "import torch, torch.nn as nn"),
        (
            "from gradfit.utils.data import TensorDataset, DataLoader",
            "from torch.utils.data import TensorDataset, DataLoader",
        ),
        (
            "from gradfit.optim.lr_scheduler import StepLR",
            "from torch.optim.lr_scheduler import StepLR",
        ),
    ]


@pytest.mark.parametrize("seed", [0, 1])
def test_lecture_program_losses_equal_torch(seed, monkeypatch):
    ours = _run(GRADFIT_PROGRAM, monkeypatch, seed=seed, full_precision=True)
    theirs = _run(TORCH_PROGRAM, monkeypatch, seed=seed, full_precision=True)
    for epoch, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        assert math.isclose(a, b, rel_tol=1e-4), f"epoch {epoch}: gradfit {a}, torch {b}"
    # The program trains: the loss falls (a run that learned nothing would also "agree").
    assert ours[-1] < 0.5 * ours[0]


def test_lecture_program_prints_like_torch(monkeypatch):
    """The unmodified files, seed from the command line: the printed lines agree (up to one
    unit in the third decimal, where equal losses can round apart)."""
    ours = _run(GRADFIT_PROGRAM, monkeypatch, seed=7, full_precision=False)
    theirs = _run(TORCH_PROGRAM, monkeypatch, seed=7, full_precision=False)
    for epoch, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        assert abs(a - b) <= 1e-3 + 1e-4 * abs(b) + 1e-9, f"epoch {epoch}: {a} vs {b}"
    # The seed reaches the program from the environment too, and the default seed is another.
    assert _run(GRADFIT_PROGRAM, monkeypatch, seed=None, env_seed=7, full_precision=False) == ours
    default = _run(GRADFIT_PROGRAM, monkeypatch, seed=None, full_precision=False)
    assert abs(default[0] - theirs[0]) > 1e-2
