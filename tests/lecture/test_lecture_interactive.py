"""gradfit.lecture.interactive.explore: static panels always, sliders where ipywidgets runs."""

import matplotlib

matplotlib.use("Agg")

import pytest

from gradfit.lecture import interactive


def _recorder():
    calls = []

    def draw(ax, **values):
        calls.append(values)
        ax.plot([0, 1], [0, values.get("lr", 1.0)])

    return draw, calls


def test_static_panels_without_widgets(monkeypatch, capsys):
    monkeypatch.setenv("GRADFIT_WIDGETS", "0")
    assert interactive.widgets_available() is False
    draw, calls = _recorder()
    result = interactive.explore(draw, [{"lr": 0.1}, {"lr": 0.3}], {"lr": ("log", 0.01, 1.0, 0.1)})
    assert result is None
    assert calls == [{"lr": 0.1}, {"lr": 0.3}]
    assert "Sliders need ipywidgets" in capsys.readouterr().out


def test_outside_a_kernel_there_are_no_widgets(monkeypatch):
    monkeypatch.delenv("GRADFIT_WIDGETS", raising=False)
    assert interactive.widgets_available() is False  # pytest is no Jupyter kernel


def test_sliders_redraw_with_the_chosen_values():
    ipywidgets = pytest.importorskip("ipywidgets")  # the test extra installs it
    draw, calls = _recorder()
    widget = interactive.sliders(
        draw, {"lr": ("log", 0.01, 1.0, 0.1), "batch": [1, 3, 28], "steps": (1, 50, 1, 10)}
    )
    assert isinstance(widget, ipywidgets.interactive)
    kinds = {c.description: type(c).__name__ for c in widget.children[:-1]}
    assert kinds == {"lr": "FloatLogSlider", "batch": "SelectionSlider", "steps": "IntSlider"}
    assert calls == [{"lr": pytest.approx(0.1), "batch": 3, "steps": 10}]  # the first drawing
    widget.children[0].value = 0.5
    assert calls[-1]["lr"] == pytest.approx(0.5)


def test_explore_shows_the_sliders_where_widgets_run(monkeypatch):
    pytest.importorskip("ipywidgets")
    import IPython.display

    shown = []
    monkeypatch.setattr(interactive, "widgets_available", lambda: True)
    monkeypatch.setattr(IPython.display, "display", shown.append)
    draw, calls = _recorder()
    assert interactive.explore(draw, [{"lr": 0.2}], {"lr": (0.0, 1.0, 0.1, 0.3)}) is None
    assert len(shown) == 1 and calls == [{"lr": 0.2}, {"lr": pytest.approx(0.3)}]


def test_bad_slider_spec_is_named():
    draw, _ = _recorder()
    with pytest.raises(ValueError, match="slider 'lr' has spec \\(1.0, 0.1\\)"):
        interactive.explore(draw, [{"lr": 0.1}], {"lr": (1.0, 0.1)})
    with pytest.raises(ValueError, match="panels is empty"):
        interactive.explore(draw, [], None)
