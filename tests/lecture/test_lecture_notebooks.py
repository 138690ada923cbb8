"""The notebooks: every one runs top to bottom in a fresh kernel (nbclient).

- ``examples/notebooks/solved/*.ipynb``, the lessons with their exercises filled in, run
  without an error and every checker in them prints its check mark;
- ``src/gradfit/lecture/notebooks/*.ipynb``, the student versions shipped in the package:
  their exercise cells define functions that raise ``NotImplementedError``, and every checker
  cell then reports ``NotDoneError`` (run in this process: the imports cell, the exercise
  cells and the checker cells, which is all a "not done" report depends on);
- any other notebook at the top of ``examples/notebooks`` (other topics) runs.

The kernels run one at a time, each with the lesson's sliders (ipywidgets) as a student gets
them, through tests/lecture/_nbrun.py: a kernel spec whose argv is ``sys.executable``
(tests/lecture/conftest.py, first on ``JUPYTER_PATH``, so no ``ipykernel install`` step is
needed), a wall-clock limit per notebook, and no shell messages from the client while a cell
runs (why: _nbrun.py).
"""

import warnings
from pathlib import Path

import nbformat
import pytest

from gradfit.lecture.exercises import NotDoneError
from tests.lecture._nbrun import run_notebook

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = ROOT / "examples" / "notebooks"
SOLVED = sorted((NOTEBOOK_DIR / "solved").glob("*.ipynb"))
STUDENT = sorted((ROOT / "src" / "gradfit" / "lecture" / "notebooks").glob("*.ipynb"))
# Other topics' notebooks, not lessons; those with a test of their own (which also checks
# the numbers they print) run there only.
OWN_TESTS = {"10_convolution", "11_residual"}  # tests/lecture/test_conv_notebooks.py
OTHERS = [p for p in sorted(NOTEBOOK_DIR.glob("*.ipynb")) if p.stem not in OWN_TESTS]
LIMIT = 120  # seconds per notebook; each takes 3-10 s on two busy cores


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
    """Run every notebook once; path -> (the executed notebook, its widgets' state), or the
    exception raised."""
    results = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GRADFIT_WIDGETS", "1")  # the sliders, whatever this shell says
        for path in SOLVED + OTHERS:
            nb = nbformat.read(path, as_version=4)
            work = tmp_path_factory.mktemp(path.stem)  # files a notebook writes go here
            try:
                client = run_notebook(nb, work, kernel_path, limit=LIMIT)
                results[path] = (nb, client.widget_state)
            except Exception as err:  # reported by the test of this notebook
                results[path] = err
    return results


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
    result = executed[path]
    assert not isinstance(result, Exception), f"{path.name}: {result}"
    nb, widgets = result
    assert _errors(nb) == []
    checks = _checker_cells(nb)
    assert len(checks) >= 3
    for i in checks:
        assert "\u2714" in _text(nb.cells[i]) and "correct" in _text(nb.cells[i]), (path.name, i)
    # each explore(..., sliders=...) shows its slider plot: an Output widget holding a PNG
    n_sliders = sum(
        "explore(" in c.source and "sliders=" in c.source for c in nb.cells if c.cell_type == "code"
    )
    plots = [
        state
        for state in widgets.values()
        if state.get("_model_name") == "OutputModel"
        and any("image/png" in out.get("data", {}) for out in state.get("outputs", []))
    ]
    assert len(plots) == n_sliders, (path.name, n_sliders, len(plots))


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
    result = executed[path]
    assert not isinstance(result, Exception), f"{path.name}: {result}"
    assert _errors(result[0]) == []
