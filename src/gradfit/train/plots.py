"""PNG plots of a run and of a search (matplotlib, Agg, no pyplot).

``matplotlib.figure.Figure`` is used directly with the Agg canvas, so plotting never
switches the backend of a program (or notebook) that imports gradfit.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gradfit.train.rundir import atomic_write


def _axes(xlabel: str, ylabel: str, title: str, size: tuple = (6.4, 4.2)):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return fig, ax


def _save(fig, path: str | Path, ax=None) -> str:
    """Write the figure (``ax`` given: gridded, with its legend) as a PNG, atomically."""
    if ax is not None:
        ax.grid(alpha=0.3)
        ax.legend()
    atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=100))
    return str(path)


def plot_curves(history: list[dict], out_dir: str | Path, title: str, loss_name: str) -> list[str]:
    """``loss.png`` (training and validation loss per epoch) and, for classification,
    ``accuracy.png``."""
    epochs = [h["epoch"] for h in history]
    written = []
    for name, scale, ylabel in (
        ("loss", 1, f"loss ({loss_name})"),
        ("accuracy", 100, "accuracy (%)"),
    ):
        if not history or history[0].get(f"val_{name}") is None:
            continue
        fig, ax = _axes("epoch", ylabel, f"{name.capitalize()}: {title}")
        for part, style, label in (("train", "o-", "training"), ("val", "s-", "validation")):
            if history[0].get(f"{part}_{name}") is not None:
                values = [scale * h[f"{part}_{name}"] for h in history]
                ax.plot(epochs, values, style, ms=3, label=label)
        written.append(_save(fig, Path(out_dir) / f"{name}.png", ax))
    return written


def plot_confusion(cm: np.ndarray, classes: list[str], path: str | Path, title: str) -> str:
    """The confusion matrix as an image: rows are true classes, columns predictions."""
    n = len(classes)
    size = (1.2 + 0.55 * max(n, 4), 0.9 + 0.5 * max(n, 4))
    fig, ax = _axes("predicted class", "true class", title, size)
    im = ax.imshow(cm, cmap="Blues")
    fig.colorbar(im, ax=ax, label="samples")
    ax.set_xticks(range(n), classes)
    ax.set_yticks(range(n), classes)
    if n <= 20:
        hi = cm.max() if cm.size else 0
        for i in range(n):
            for j in range(n):
                ax.text(
                    j,
                    i,
                    str(int(cm[i, j])),
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if cm[i, j] > hi / 2 else "black",
                )
    return _save(fig, path)


def plot_search_history(
    numbers, values, path: str | Path, metric: str, title: str, maximize: bool = False
) -> str:
    """Objective of each finished trial and the best value so far."""
    fig, ax = _axes("trial", metric, f"Optimisation history: {title}")
    ax.plot(numbers, values, "o", ms=4, label="trial")
    acc = np.maximum if maximize else np.minimum
    best = acc.accumulate(np.asarray(values, dtype=float)) if values else []
    ax.step(numbers, best, where="post", color="C3", label="best so far")
    return _save(fig, path, ax)


def plot_param(
    xs, values, name: str, log: bool, path: str | Path, metric: str, pruned=((), ())
) -> str:
    """One hyperparameter against the objective; pruned trials at their last report."""
    fig, ax = _axes(name, metric, f"{name} against {metric}")
    ax.plot(xs, values, "o", ms=5, label="finished trial")
    if len(pruned[0]):
        ax.plot(pruned[0], pruned[1], "x", ms=5, color="0.5", label="pruned (last report)")
    if log:
        ax.set_xscale("log")
    return _save(fig, path, ax)
