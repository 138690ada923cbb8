"""The chapter 10 and 11 notebooks (examples/notebooks/make_conv_notebooks.py) run top to
bottom in a fresh kernel, and the numbers they print say what the chapters say."""

import json

import nbformat

from tests.lecture._nbrun import NOTEBOOK_DIR, run_notebook


def _run(name, kernel_path, tmp_path) -> dict:
    nb = nbformat.read(NOTEBOOK_DIR / f"{name}.ipynb", as_version=4)
    for cell in nb.cells:  # committed without outputs
        assert cell.cell_type != "code" or (cell.outputs == [] and cell.execution_count is None)
    run_notebook(nb, tmp_path, kernel_path, limit=180)  # 5-15 s on two busy cores
    text = "".join(
        out.get("text", "")
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
        if out.output_type == "stream"
    )
    lines = [ln for ln in text.splitlines() if ln.startswith("SUMMARY ")]
    assert len(lines) == 1, text[-2000:]
    return json.loads(lines[0][len("SUMMARY ") :])


def test_convolution_notebook(kernel_path, tmp_path):
    s = _run("10_convolution", kernel_path, tmp_path)
    assert s["hand_error"] < 1e-12  # nn.Conv1d is the sum written as loops
    # three 15-channel kernel-3 convolutions and a 60 -> 10 head; the MLP 40-100-100-10
    assert s["cnn_params"] == (1 * 3 + 1) * 15 + 2 * (15 * 3 + 1) * 15 + 61 * 10
    assert s["mlp_params"] == 41 * 100 + 101 * 100 + 101 * 10
    # both learn in a few epochs (chance is 10 %)
    assert s["cnn_acc"] > 25 and s["mlp_acc"] > 25


def test_residual_notebook(kernel_path, tmp_path):
    s = _run("11_residual", kernel_path, tmp_path)
    spread = s["spread"]
    assert s["layers"] == {"plain": 13, "residual": 13, "residual + batch norm": 13}
    # the plain net's gradient variance collapses over depth; residual paths keep it
    # within a few decades
    assert spread["plain"] > 6
    assert spread["residual"] < 3 and spread["residual + batch norm"] < 4
    # two short epochs: the plain net has not started to learn, batch norm learns fastest
    acc = s["accuracy"]
    assert acc["residual + batch norm"] > 30
    assert acc["residual + batch norm"] > acc["plain"] + 15
