"""Sliders for the lesson notebooks, with a static fallback that always reads well.

``explore(draw, panels, sliders)`` first draws a small row of static plots, one per entry
of ``panels`` (so the notebook shows the effect of a setting even where widgets do not
render: a PDF, GitHub's viewer, a kernel without ipywidgets), then, where ipywidgets
works, one more plot with a slider per setting that redraws it. ipywidgets is optional:
gradfit does not depend on it.
"""

from __future__ import annotations

import math
import os

__all__ = ["explore", "sliders", "widgets_available"]


def widgets_available() -> bool:
    """True when ipywidgets imports and we run inside a Jupyter kernel.

    ``GRADFIT_WIDGETS=0`` in the environment turns the sliders off.
    """
    if os.environ.get("GRADFIT_WIDGETS", "1").strip().lower() in ("0", "no", "false", "off"):
        return False
    try:
        import ipywidgets  # noqa: F401
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def _slider(name: str, spec):
    """A widget from a spec: (min, max, step, value), ("log", min, max, value) or a list."""
    import ipywidgets as w

    style = {"description_width": "initial"}
    layout = w.Layout(width="420px")
    if isinstance(spec, list):
        return w.SelectionSlider(
            options=spec,
            value=spec[len(spec) // 2],
            description=name,
            continuous_update=False,
            style=style,
            layout=layout,
        )
    if spec[0] == "log":
        _, lo, hi, value = spec
        return w.FloatLogSlider(
            value=value,
            base=10,
            min=math.log10(lo),
            max=math.log10(hi),
            step=0.05,
            description=name,
            continuous_update=False,
            style=style,
            layout=layout,
        )
    lo, hi, step, value = spec
    if all(isinstance(v, int) for v in spec):
        return w.IntSlider(
            value=value,
            min=lo,
            max=hi,
            step=step,
            description=name,
            continuous_update=False,
            style=style,
            layout=layout,
        )
    return w.FloatSlider(
        value=value,
        min=lo,
        max=hi,
        step=step,
        description=name,
        continuous_update=False,
        style=style,
        layout=layout,
        readout_format=".3g",
    )


def _check_spec(name: str, spec) -> None:
    ok = isinstance(spec, list) and len(spec) > 0
    if isinstance(spec, tuple):
        ok = (len(spec) == 4 and spec[0] == "log" and 0 < spec[1] < spec[2]) or (
            len(spec) == 4 and not isinstance(spec[0], str) and spec[0] < spec[1]
        )
    if not ok:
        raise ValueError(
            f"explore: slider {name!r} has spec {spec!r}; expected (min, max, step, value), "
            "('log', min, max, value) or a list of values"
        )


def sliders(draw, specs: dict, *, size=(4.0, 3.2)):
    """An ``ipywidgets.interactive`` that redraws ``draw(ax, **values)`` as sliders move.

    Args:
        draw: ``draw(ax, **values)`` plots into a matplotlib ``Axes``.
        specs: name -> spec: ``(min, max, step, value)`` (an int slider when all four are
            ints), ``("log", min, max, value)`` or a list of allowed values (the middle one
            first).
        size: the size of one panel in inches (the interactive plot is 1.4 times larger).
    """
    import ipywidgets as w
    import matplotlib.pyplot as plt

    for name, spec in specs.items():
        _check_spec(name, spec)

    def redraw(**values):
        fig, ax = plt.subplots(figsize=(size[0] * 1.4, size[1] * 1.4), layout="constrained")
        draw(ax, **values)
        plt.show()

    return w.interactive(redraw, **{n: _slider(n, s) for n, s in specs.items()})


def explore(draw, panels: list[dict], sliders: dict | None = None, *, size=(4.0, 3.2)) -> None:
    """Draw ``draw(ax, **values)`` for each of ``panels``, then with sliders if possible.

    Args:
        draw: ``draw(ax, **values)`` plots into a matplotlib ``Axes``.
        panels: the static plots, one dict of keyword values each (a row of subplots).
        sliders: name -> spec for the interactive plot (see ``sliders``); None: static
            plots only.
        size: the size of one panel in inches.

    The interactive plot is displayed, not returned, so that a notebook cell ending in
    ``explore(...)`` shows it once.
    """
    import matplotlib.pyplot as plt

    if not panels:
        raise ValueError("explore: panels is empty; give at least one dict of values")
    for name, spec in (sliders or {}).items():
        _check_spec(name, spec)
    fig, axes = plt.subplots(
        1,
        len(panels),
        figsize=(size[0] * len(panels), size[1]),
        squeeze=False,
        layout="constrained",
    )
    for ax, values in zip(axes[0], panels):
        draw(ax, **values)
    plt.show()
    if not sliders:
        return
    if not widgets_available():
        print(
            "(Sliders need ipywidgets in a Jupyter kernel: pip install ipywidgets. "
            "The plots above show the same settings.)"
        )
        return
    from IPython.display import display

    display(_sliders(draw, sliders, size=size))


_sliders = sliders  # explore's parameter of the same name hides the function
