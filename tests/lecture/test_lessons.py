"""The lessons as files: one source -> two committed forms, the course's bar for each
lesson, and ``python -m gradfit.lecture.lesson NAME`` (copy the student version here)."""

import importlib.util
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import nbformat
import pytest

from gradfit.lecture import lesson

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted((ROOT / "examples" / "notebooks" / "source").glob("[0-9][0-9]_*.py"))
PACKAGED = ROOT / "src" / "gradfit" / "lecture" / "notebooks"


def _make_notebooks():
    spec = importlib.util.spec_from_file_location(
        "make_notebooks", ROOT / "examples" / "notebooks" / "make_notebooks.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_notebooks_are_what_the_sources_generate():
    make = _make_notebooks()
    files = make.render_all()
    assert len(files) == 2 * len(SOURCES) == 18
    for path, text in files.items():
        assert path.exists(), f"{path} is missing: run python examples/notebooks/make_notebooks.py"
        assert path.read_text(encoding="utf-8") == text, (
            f"{path.relative_to(ROOT)} differs from its source: "
            "run python examples/notebooks/make_notebooks.py"
        )
    committed = set(make.SOLVED_DIR.glob("*.ipynb")) | set(make.STUDENT_DIR.glob("*.ipynb"))
    assert committed == set(files), "a notebook without a source: regenerate"


def test_student_form_has_no_solution_and_solved_form_has_no_placeholder():
    make = _make_notebooks()
    for source in SOURCES:
        text = source.read_text(encoding="utf-8")
        blocks = text.count(make.BEGIN)
        student = nbformat.read(PACKAGED / f"{source.stem}.ipynb", as_version=4)
        solved = nbformat.read(make.SOLVED_DIR / f"{source.stem}.ipynb", as_version=4)
        code_student = "\n".join(c.source for c in student.cells if c.cell_type == "code")
        code_solved = "\n".join(c.source for c in solved.cells if c.cell_type == "code")
        assert code_student.count(make.PLACEHOLDER) == blocks >= 3, source.name
        assert make.PLACEHOLDER not in code_solved and make.BEGIN not in code_solved
        assert make.BEGIN not in code_student and make.END not in code_student
        assert student.metadata["gradfit"]["version"] == "student"
        # a solution line (one that appears nowhere else in the source) never leaks
        pattern = rf"{make.BEGIN}\n(.*?)\n\s*{make.END}"
        rest = re.sub(pattern, "", text, flags=re.S)
        for block in re.findall(pattern, text, flags=re.S):
            for line in block.splitlines():
                if len(line.strip()) > 20 and line.strip() not in rest:
                    assert line.strip() not in code_student, (source.name, line)


def test_the_solution_markers_are_checked():
    make = _make_notebooks()
    with pytest.raises(ValueError, match="without"):
        make.solve("x = 1\n    # END SOLUTION", student=True, name="bad")
    with pytest.raises(ValueError, match="without"):
        make.solve("def f():\n    # BEGIN SOLUTION\n    return 1", student=False, name="bad")
    out = make.solve("def f():\n    # BEGIN SOLUTION\n    return 1\n    # END SOLUTION", True, "ok")
    assert out == f"def f():\n    # YOUR CODE HERE\n    {make.PLACEHOLDER}"


def _words(markdown: str) -> int:
    text = re.sub(r"\$\$.*?\$\$|\$[^$]*\$|```.*?```|<[^>]+>", " ", markdown, flags=re.S)
    return len(re.findall(r"[A-Za-z][A-Za-z'’-]*", text))


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_each_lesson_meets_the_bar(source):
    nb = nbformat.read(PACKAGED / f"{source.stem}.ipynb", as_version=4)
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert len(nb.cells) >= 12
    assert _words(markdown) >= 500, _words(markdown)
    assert markdown.count("✏️ Exercise") >= 3 or markdown.count("✏️ **Exercise") >= 3
    assert len(re.findall(r"^check_\w+\(", "\n".join(c.source for c in nb.cells), re.M)) >= 3
    assert markdown.count("<details><summary>Answer</summary>") >= 2  # questions, answers hidden
    assert re.search(r"eqs?\. [67]\.\d+|Overall Backprop|Variance of", markdown)
    assert "With PyTorch's names" in markdown


def test_lessons_listed_and_resolved():
    names = lesson.lessons()
    assert list(names) == [
        "line_search",
        "gradient_descent",
        "sgd",
        "momentum",
        "adam",
        "hyperparameter_search",
        "backprop_toy",
        "backprop_deep",
        "initialisation",
    ]
    assert lesson.resolve("momentum") == lesson.resolve("4") == lesson.resolve("04")
    assert lesson.resolve("04_momentum.ipynb") == "04_momentum.ipynb"
    assert lesson.resolve("Backprop-Toy") == "07_backprop_toy.ipynb"
    with pytest.raises(KeyError, match="expected one of: line_search"):
        lesson.resolve("nope")


def test_lesson_copies_the_student_version_and_never_overwrites(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert lesson.main(["momentum"]) == 0
    copied = tmp_path / "04_momentum.ipynb"
    assert copied.read_bytes() == (PACKAGED / "04_momentum.ipynb").read_bytes()
    assert json.loads(copied.read_text())["metadata"]["gradfit"]["version"] == "student"
    assert "wrote" in capsys.readouterr().out
    copied.write_text("my work")
    assert lesson.main(["4"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "already exists" in err and "04_momentum.ipynb" in err
    assert copied.read_text() == "my work"


def test_lesson_unknown_name_lists_the_lessons(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert lesson.main(["momentom"]) == 2
    err = capsys.readouterr().err
    assert "unknown lesson 'momentom'" in err and "momentum" in err and "initialisation" in err
    assert list(tmp_path.iterdir()) == []
    assert lesson.main(["--dest", str(tmp_path / "missing"), "adam"]) == 2
    assert "not a folder" in capsys.readouterr().err


def test_python_dash_m_lesson(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "gradfit.lecture.lesson", "--list"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert out.returncode == 0
    assert len(out.stdout.splitlines()) == 9 and "Lesson 4" in out.stdout
    out = subprocess.run(
        [sys.executable, "-m", "gradfit.lecture.lesson", "sgd"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert out.returncode == 0 and (tmp_path / "03_sgd.ipynb").exists()


def test_the_student_notebooks_are_package_data():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["gradfit.lecture"]
    package = ROOT / "src" / "gradfit" / "lecture"
    shipped = {p for pattern in patterns for p in package.glob(pattern)}
    assert shipped == set(PACKAGED.glob("*.ipynb")) and len(shipped) == 9
