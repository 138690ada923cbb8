"""Helpers for the command-line tests: run ``gradfit`` in-process or as a subprocess, and
check PNG files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests._png import assert_png as _assert_png

SRC = str(Path(__file__).resolve().parents[2] / "src")


@pytest.fixture
def gf(capsys, monkeypatch, tmp_path):
    """``gf(*argv)`` runs ``gradfit`` in-process in ``tmp_path``; returns (code, out, err)."""
    from gradfit.cli import main

    monkeypatch.chdir(tmp_path)

    def run(*argv: str):
        capsys.readouterr()
        code = main([str(a) for a in argv])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def _gradfit_subprocess(args, cwd, env_extra=None, **kw) -> subprocess.Popen:
    """``python -m gradfit.cli ARGS`` in ``cwd`` (a real process that can be killed), with
    ``env_extra`` added to the environment."""
    env = dict(os.environ, **(env_extra or {}))
    env["PYTHONPATH"] = SRC + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.Popen(
        [sys.executable, "-m", "gradfit.cli", *map(str, args)], cwd=cwd, env=env, **kw
    )


@pytest.fixture
def spawn_gradfit():
    """``spawn_gradfit(args, cwd)``: a ``Popen`` of ``python -m gradfit.cli ARGS``."""
    return _gradfit_subprocess


@pytest.fixture
def assert_png():
    """``assert_png(path)``: the file is a valid PNG; returns (width, height)."""
    return _assert_png


@pytest.fixture(autouse=True)
def _torch_float32():
    """The PyTorch references here run in float32, whatever another test module set as
    torch's default dtype at import time."""
    import torch

    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float32)
    try:
        yield
    finally:
        torch.set_default_dtype(old)
