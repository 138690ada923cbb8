"""Run PyTorch programs, each in a fresh namespace, and keep what each prints.

``python run_programs.py [--as-gradfit] FOLDER PROGRAM...`` runs every program as
``__main__`` with ``sys.argv = [program, FOLDER/<name>]`` (a scratch folder it may write to)
and writes its standard output to ``FOLDER/<name>.out``. With ``--as-gradfit`` only the
imports change: ``torch`` and the submodules programs import name gradfit's. One process
runs them all, so PyTorch's slow import is paid once.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import io
import os
import runpy
import sys


class _AsGradfit(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports of ``torch`` and ``torch.<anything>`` give gradfit's module of that name."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname == "torch" or fullname.startswith("torch."):
            if importlib.util.find_spec("gradfit" + fullname[len("torch") :]) is None:
                return None  # ModuleNotFoundError, naming torch's module
            return importlib.machinery.ModuleSpec(fullname, self)
        return None

    def create_module(self, spec):
        return importlib.import_module("gradfit" + spec.name[len("torch") :])

    def exec_module(self, module):
        pass


def main(argv: list) -> None:
    as_gradfit = argv[0] == "--as-gradfit"
    if as_gradfit:
        argv = argv[1:]
        sys.meta_path.insert(0, _AsGradfit())
    import torch

    folder, programs = argv[0], argv[1:]
    for program in programs:
        name = os.path.splitext(os.path.basename(program))[0]
        scratch = os.path.join(folder, name)
        os.makedirs(scratch, exist_ok=True)
        out = io.StringIO()
        sys.argv = [program, scratch]
        with contextlib.redirect_stdout(out):
            runpy.run_path(program, run_name="__main__")
        with open(os.path.join(folder, name + ".out"), "w") as f:
            f.write(out.getvalue())
        # What a fresh process would start from, for the next program.
        torch.set_printoptions(profile="default")
        torch.set_default_dtype(torch.float32)


if __name__ == "__main__":
    main(sys.argv[1:])
