"""``gradfit figures`` / ``python -m gradfit.lecture``: selection, output, errors."""

import json
import subprocess
import sys

import pytest

from gradfit.lecture import ALIASES, FIGURES, _resolve, cli_main


def test_only_by_number_and_name(tmp_path, capsys):
    assert cli_main(["--only", "6.3", "backprop-toy", "--out", str(tmp_path), "--fast"]) == 0
    assert (tmp_path / "gabor_data.png").exists() and (tmp_path / "backprop_toy.json").exists()
    assert not (tmp_path / "gabor_landscape.png").exists()
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert set(summary) == {"gabor_data", "backprop_toy"}
    assert "wrote 2 figure(s)" in capsys.readouterr().out


def test_unknown_figure_is_an_error(tmp_path, capsys):
    assert cli_main(["--only", "6.5", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "unknown figure '6.5'" in err and "gabor_landscape" in err


def test_aliases_resolve():
    assert _resolve("fig6_4") == "gabor_landscape"
    assert _resolve("Figure 6.9") == "adam"
    assert _resolve("7.7") == "initialisation"
    assert all(v in FIGURES for v in ALIASES.values())
    with pytest.raises(ValueError):
        _resolve("nope")


def test_python_dash_m_lists_the_figures():
    out = subprocess.run(
        [sys.executable, "-m", "gradfit.lecture", "--list"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert [line.split()[0] for line in out.splitlines()] == list(FIGURES)
