"""``python -m gradfit.lecture.lesson NAME``: copy a lesson notebook into the current folder.

The lessons are the lecture's "Colab time" notebooks as guided exercises (student
version: the exercise bodies are empty; ``gradfit.lecture.exercises`` checks them). They
ship inside the package, so this works from an installed wheel. Nothing is opened and
nothing is overwritten: a student runs

    python -m gradfit.lecture.lesson momentum
    jupyter lab 04_momentum.ipynb        (or upload the file to Colab)

``main(argv)`` is the command line (``gradfit lesson NAME`` can call it as it is).
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
from importlib import resources
from pathlib import Path

__all__ = ["lessons", "resolve", "main"]


def _folder():
    return resources.files("gradfit.lecture") / "notebooks"


def lessons() -> dict[str, str]:
    """Short name -> file name of every shipped lesson, in lecture order."""
    files = sorted(p.name for p in _folder().iterdir() if p.name.endswith(".ipynb"))
    return {re.sub(r"^\d+_", "", f.removesuffix(".ipynb")): f for f in files}


def _title(file: str) -> str:
    import json

    cells = json.loads((_folder() / file).read_text(encoding="utf-8"))["cells"]
    first = "".join(cells[0]["source"]).splitlines()[0] if cells else ""
    return first.lstrip("# ").strip()


def resolve(name: str) -> str:
    """The file name for a lesson name ("momentum"), number ("4", "04") or file stem.

    Raises:
        KeyError: no such lesson; the message lists the names.
    """
    table = lessons()
    key = name.strip().lower().removesuffix(".ipynb").replace("-", "_")
    for short, file in table.items():
        number = file.split("_", 1)[0]
        if key in (short, file.removesuffix(".ipynb"), number) or (
            key.isdigit() and int(key) == int(number)
        ):
            return file
    raise KeyError(f"unknown lesson {name!r}; expected one of: {', '.join(table)}")


def main(argv: list[str] | None = None) -> int:
    """Copy the student version of lesson NAME into ``--dest`` (default: here).

    Returns 0 after copying (or listing), 2 for an unknown name or an existing file.
    """
    parser = argparse.ArgumentParser(
        prog="gradfit lesson",
        description="Copy a lesson notebook (with empty exercises) into the current folder.",
    )
    parser.add_argument("name", nargs="?", help="the lesson, e.g. momentum or 04 (see --list)")
    parser.add_argument("--dest", default=".", metavar="DIR", help="folder to copy into")
    parser.add_argument("--list", action="store_true", help="list the lessons and exit")
    args = parser.parse_args(argv)
    if args.list or args.name is None:
        for short, file in lessons().items():
            print(f"{short:24s} {file:32s} {_title(file)}")
        if args.name is None and not args.list:
            print("copy one with: python -m gradfit.lecture.lesson NAME")
        return 0
    try:
        file = resolve(args.name)
    except KeyError as err:
        print(f"gradfit lesson: {err.args[0]}", file=sys.stderr)
        return 2
    dest_dir = Path(args.dest)
    if not dest_dir.is_dir():
        print(f"gradfit lesson: --dest {dest_dir} is not a folder", file=sys.stderr)
        return 2
    dest = dest_dir / file
    if dest.exists():
        print(
            f"gradfit lesson: {dest} already exists; rename or remove it first (nothing copied)",
            file=sys.stderr,
        )
        return 2
    with resources.as_file(_folder() / file) as src:
        shutil.copyfile(src, dest)
    print(f"wrote {dest}: open it in Jupyter (jupyter lab {dest}) or upload it to Colab")
    return 0


if __name__ == "__main__":
    sys.exit(main())
