"""The notebooks: every one runs top to bottom in a fresh kernel (nbclient).

- ``examples/notebooks/solved/*.ipynb``, the lessons with their exercises filled in, run
  without an error and every checker in them prints its check mark;
- ``src/gradfit/lecture/notebooks/*.ipynb``, the student versions shipped in the package:
  their exercise cells define functions that raise ``NotImplementedError``, and every checker
  cell then reports ``NotDoneError`` (run in this process: the imports cell, the exercise
  cells and the checker cells, which is all a "not done" report depends on);
- any other notebook at the top of ``examples/notebooks`` (other topics) runs.

The kernels run one at a time. The kernel is named
``python3`` and must be this interpreter: the test writes a kernel spec whose argv is
``sys.executable`` into a temporary folder (tests/lecture/conftest.py) and puts it first on
``JUPYTER_PATH``, so no
``ipykernel install`` step is needed.
"""

import os
import warnings
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from gradfit.lecture.exercises import NotDoneError

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = ROOT / "examples" / "notebooks"
SOLVED = sorted((NOTEBOOK_DIR / "solved").glob("*.ipynb"))
STUDENT = sorted((ROOT / "src" / "gradfit" / "lecture" / "notebooks").glob("*.ipynb"))
# Other topics' notebooks, not lessons; those with a test of their own (which also checks
# the numbers they print) run there only.
OWN_TESTS = {"10_convolution", "11_residual"}  # tests/lecture/test_conv_notebooks.py
OTHERS = [p for p in sorted(NOTEBOOK_DIR.glob("*.ipynb")) if p.stem not in OWN_TESTS]


def _checker_cells(nb):
    """Indices of the code cells that call a checker of gradfit.lecture.exercises."""
    return [
        i
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
        and any(line.startswith("check_") for line in cell.source.splitlines())
    ]


def _errors(nb):
    return [
        (i, out)
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
        for out in cell.outputs
        if out.output_type == "error"
    ]


def _text(cell) -> str:
    return "".join(out.get("text", "") for out in cell.outputs if out.output_type == "stream")


@pytest.fixture(scope="module")
def executed(tmp_path_factory, kernel_path):
    """Run every notebook once; path -> the executed notebook (or the exception raised)."""
    saved = dict(os.environ)  # restored below: the kernels' settings stay theirs
    os.environ["JUPYTER_PATH"] = str(kernel_path)
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    # The static panels only: the sliders' code is tested in test_lecture_interactive.py,
    # and a lesson's widget comm messages left its kernel run hanging in a full-suite run.
    os.environ["GRADFIT_WIDGETS"] = "0"
    # One kernel at a time: two concurrent kernels in one test process hung the run
    # (intermittently, in the full suite), and one at a time costs only seconds.
    results = {}
    try:
        for path in SOLVED + OTHERS:
            nb = nbformat.read(path, as_version=4)
            work = tmp_path_factory.mktemp(path.stem)  # files a notebook writes go here
            client = NotebookClient(
                nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(work)}}
            )
            try:
                client.execute()
                results[path] = nb
            except Exception as err:  # reported by the test of this notebook
                results[path] = err
        return results
    finally:
        os.environ.clear()
        os.environ.update(saved)


def test_there_is_a_lesson_for_each_colab_time_and_idea():
    names = {p.stem.split("_", 1)[1] for p in SOLVED}
    assert names == {
        "line_search",
        "gradient_descent",
        "sgd",
        "momentum",
        "adam",
        "hyperparameter_search",
        "backprop_toy",
        "backprop_deep",
        "initialisation",
    }
    assert [p.name for p in STUDENT] == [p.name for p in SOLVED]


@pytest.mark.parametrize(
    "path", SOLVED + OTHERS + STUDENT, ids=lambda p: p.parent.name + "/" + p.stem
)
def test_notebook_is_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, path.name


@pytest.mark.parametrize("path", SOLVED, ids=lambda p: p.stem)
def test_solved_lesson_runs_and_passes_its_checks(path, executed):
    nb = executed[path]
    assert not isinstance(nb, Exception), f"{path.name}: {nb}"
    assert _errors(nb) == []
    checks = _checker_cells(nb)
    assert len(checks) >= 3
    for i in checks:
        assert "\u2714" in _text(nb.cells[i]) and "correct" in _text(nb.cells[i]), (path.name, i)


@pytest.mark.parametrize("path", STUDENT, ids=lambda p: p.stem)
def test_student_lesson_reports_every_exercise_not_done(path, tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    monkeypatch.chdir(tmp_path)
    nb = nbformat.read(path, as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    exercises = [c for c in code if "raise NotImplementedError" in c]
    checks = [nb.cells[i].source for i in _checker_cells(nb)]
    assert len(exercises) >= 3 and len(checks) >= 3
    namespace = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Agg's "cannot show the figure"
        exec(code[0], namespace)  # the imports (and the data they load)
        for cell in exercises:
            exec(cell, namespace)
        for cell in checks:
            with pytest.raises(NotDoneError, match="not done yet"):
                exec(cell, namespace)
    plt.close("all")


@pytest.mark.parametrize("path", OTHERS, ids=lambda p: p.stem)
def test_other_notebook_runs(path, executed):
    nb = executed[path]
    assert not isinstance(nb, Exception), f"{path.name}: {nb}"
    assert _errors(nb) == []
