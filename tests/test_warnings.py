"""gradfit computes inf and nan as PyTorch does, silently: NumPy's "divide by zero
encountered" warnings from gradfit's own modules are ignored, the caller's are kept.

Run in a fresh interpreter: pytest restores the warning filters it found before
collection, which drops the one ``import gradfit`` adds."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PROGRAM = """
import numpy as np
import gradfit
x = gradfit.tensor([1.0, 0.0, -1.0], requires_grad=True)
(x / 0).sum()
gradfit.sqrt(x).sum().backward()
gradfit.log(x)
big = gradfit.tensor([60000.0], dtype=gradfit.float16) * 10
print(big.isinf().all().item(), x.grad.isnan()[2].item())
np.divide(np.ones(1), 0.0)  # the caller's own NumPy code
"""


def test_inf_and_nan_arithmetic_warns_only_in_the_callers_numpy_code():
    src = str(Path(__file__).resolve().parents[1] / "src")
    env = dict(os.environ, PYTHONPATH=src + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run(
        [sys.executable, "-W", "default", "-c", PROGRAM],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "True True\n"
    lines = [line for line in proc.stderr.splitlines() if "Warning" in line]
    assert len(lines) == 1 and "divide by zero encountered in divide" in lines[0], proc.stderr
    assert lines[0].startswith("<string>:10:"), lines
