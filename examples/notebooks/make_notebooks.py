"""Write the lesson notebooks, student and solved, from one source each.

Each lesson is one Python file in ``source/`` (formatted and linted like the rest of the
code): ``# %%`` starts a code cell, ``# %% md`` a markdown cell whose text is the (raw)
triple-quoted string that follows. In code cells, the lines between ``# BEGIN SOLUTION``
and ``# END SOLUTION`` are the answer to an exercise:

- the **solved** version keeps them (``examples/notebooks/solved/NN_name.ipynb``; the test
  suite executes these);
- the **student** version replaces them by ``raise NotImplementedError`` under a
  ``# YOUR CODE HERE`` line (``src/gradfit/lecture/notebooks/NN_name.ipynb``, shipped in
  the package and copied out by ``python -m gradfit.lecture.lesson NAME``).

Run ``python examples/notebooks/make_notebooks.py`` after editing a source; a test checks
that the committed notebooks are what this script writes. Notebooks are written without
outputs, with stable cell ids, so regenerating gives the same bytes.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent
SOURCE_DIR = HERE / "source"
SOLVED_DIR = HERE / "solved"
STUDENT_DIR = HERE.parents[1] / "src" / "gradfit" / "lecture" / "notebooks"

BEGIN, END = "# BEGIN SOLUTION", "# END SOLUTION"
PLACEHOLDER = 'raise NotImplementedError("exercise: write this part")'


def parse(text: str, name: str) -> list[tuple[str, str]]:
    """The cells of a source file: a list of (kind, text), kind "md" or "code"."""
    cells: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        marker = re.fullmatch(r"# %%(?: (md))?\s*", line)
        if marker:
            cells.append(("md" if marker.group(1) else "code", []))
        elif cells:
            cells[-1][1].append(line)
    out = []
    for kind, lines in cells:
        body = "\n".join(lines).strip("\n")
        if kind == "md":
            m = re.fullmatch(r'r?"""\n?(.*?)\n?"""', body, flags=re.S)
            if m is None:
                raise ValueError(f"{name}: a '# %% md' cell must hold one triple-quoted string")
            body = m.group(1).strip("\n")
        if body.strip():
            out.append((kind, body))
    return out


def solve(code: str, student: bool, name: str) -> str:
    """The code with its solution blocks kept (solved) or replaced (student)."""
    out, inside, indent = [], False, ""
    for line in code.splitlines():
        stripped = line.strip()
        if stripped == BEGIN:
            if inside:
                raise ValueError(f"{name}: nested {BEGIN}")
            inside, indent = True, line[: len(line) - len(line.lstrip())]
            if student:
                out += [f"{indent}# YOUR CODE HERE", f"{indent}{PLACEHOLDER}"]
        elif stripped == END:
            if not inside:
                raise ValueError(f"{name}: {END} without {BEGIN}")
            inside = False
        elif not (inside and student):
            out.append(line)
    if inside:
        raise ValueError(f"{name}: {BEGIN} without {END}")
    return "\n".join(out)


def build(name: str, student: bool) -> nbformat.NotebookNode:
    cells = parse((SOURCE_DIR / f"{name}.py").read_text(encoding="utf-8"), name)
    nb = new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    nb.metadata["gradfit"] = {"lesson": name, "version": "student" if student else "solved"}
    for i, (kind, text) in enumerate(cells):
        if kind == "md":
            cell = new_markdown_cell(text)
        else:
            cell = new_code_cell(solve(text, student, name))
        cell["id"] = f"{name[:2]}-{i:02d}"  # stable ids: regenerating gives the same file
        nb.cells.append(cell)
    nbformat.validate(nb)
    return nb


def lesson_names() -> list[str]:
    return sorted(p.stem for p in SOURCE_DIR.glob("[0-9][0-9]_*.py"))


def render_all() -> dict[Path, str]:
    """Every notebook this script writes: path -> file text."""
    files = {}
    for name in lesson_names():
        files[SOLVED_DIR / f"{name}.ipynb"] = nbformat.writes(build(name, student=False)) + "\n"
        files[STUDENT_DIR / f"{name}.ipynb"] = nbformat.writes(build(name, student=True)) + "\n"
    return files


def main() -> int:
    SOLVED_DIR.mkdir(exist_ok=True)
    STUDENT_DIR.mkdir(exist_ok=True)
    files = render_all()
    for path, text in files.items():
        path.write_text(text, encoding="utf-8")
    stale = [
        p for folder in (SOLVED_DIR, STUDENT_DIR) for p in folder.glob("*.ipynb") if p not in files
    ]
    for p in stale:  # a renamed or removed lesson
        p.unlink()
    print(f"wrote {len(files) // 2} lessons: {SOLVED_DIR} and {STUDENT_DIR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
