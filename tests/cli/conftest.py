"""Helpers for the command-line tests: run ``gradfit`` in-process or as a subprocess, and
check PNG files."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

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


def _assert_png(path: Path, min_size: int = 100) -> tuple[int, int]:
    """The file is a valid PNG (signature, IHDR with its CRC, IEND); returns (w, h)."""
    data = Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    ihdr = data[16 : 16 + 13]
    (crc,) = struct.unpack(">I", data[29:33])
    assert crc == zlib.crc32(b"IHDR" + ihdr)
    w, h = struct.unpack(">II", ihdr[:8])
    assert w >= min_size and h >= min_size
    assert data[-12:-8] == b"\x00\x00\x00\x00" and data[-8:-4] == b"IEND"
    from PIL import Image

    with Image.open(path) as im:
        im.verify()
    with Image.open(path) as im:  # something is drawn: axes, lines, text in several colours
        colours = im.convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 16, f"{path} looks blank"
    white = max(colours)[0]
    assert white < 0.98 * w * h, f"{path} is almost all one colour"
    return w, h


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
