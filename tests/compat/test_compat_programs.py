"""Whole PyTorch-style programs (tests/compat/programs) run under PyTorch and under gradfit
(only the imports changed: ``run_programs.py --as-gradfit`` makes ``torch`` name gradfit)
print the same text, character for character, but for gradfit's own module name in dtype
and Size reprs (``tests/compat/_normalise.py``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.compat._normalise import as_gradfit

HERE = Path(__file__).parent
PROGRAMS = sorted(p.name for p in (HERE / "programs").glob("*.py"))


def _run(flags: list, folder: Path) -> None:
    env = dict(os.environ, PYTHONHASHSEED="0")
    src = str(HERE.parent.parent / "src")
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    programs = [str(HERE / "programs" / p) for p in PROGRAMS]
    proc = subprocess.run(
        [sys.executable, str(HERE / "run_programs.py"), *flags, str(folder), *programs],
        capture_output=True, text=True, env=env, timeout=1800,
    )  # fmt: skip
    assert proc.returncode == 0, f"{flags} failed:\n{proc.stdout}\n{proc.stderr}"


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    import torch  # noqa: F401 - the reference must be installed (fail, not skip)

    base = tmp_path_factory.mktemp("programs")
    _run([], base / "torch")
    _run(["--as-gradfit"], base / "gradfit")
    return base


@pytest.mark.parametrize("program", PROGRAMS)
def test_program_prints_what_pytorch_prints(program, outputs):
    name = Path(program).stem
    expected = as_gradfit((outputs / "torch" / f"{name}.out").read_text())
    got = (outputs / "gradfit" / f"{name}.out").read_text()
    assert expected.strip(), "the program printed nothing"
    assert got == expected
