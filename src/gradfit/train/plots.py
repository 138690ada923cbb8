"""PNG plots of a run and of a search (matplotlib, Agg, no pyplot).

``matplotlib.figure.Figure`` is used directly with the Agg canvas, so plotting never
switches the backend of a program (or notebook) that imports gradfit.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gradfit.train.rundir import atomic_write


def _figure(width: float = 6.4, height: float = 4.2):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path: Path) -> str:
    atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=100))
    return str(path)


def plot_curves(history: list[dict], out_dir: str | Path, title: str, loss_name: str) -> list[str]:
    """``loss.png`` (training and validation loss per epoch) and, for classification,
    ``accuracy.png``."""
    out_dir = Path(out_dir)
    if not history:
        return []
    epochs = [h["epoch"] for h in history]
    written = []
    fig = _figure()
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(epochs, [h["train_loss"] for h in history], "o-", ms=3, label="training")
    ax.plot(epochs, [h["val_loss"] for h in history], "s-", ms=3, label="validation")
    ax.set_xlabel("epoch")
    ax.set_ylabel(f"loss ({loss_name})")
    ax.set_title(f"Loss: {title}")
    ax.grid(alpha=0.3)
    ax.legend()
    written.append(_save(fig, out_dir / "loss.png"))
    if history[0].get("val_accuracy") is not None:
        fig = _figure()
        ax = fig.add_subplot(1, 1, 1)
        if history[0].get("train_accuracy") is not None:
            ax.plot(
                epochs, [100 * h["train_accuracy"] for h in history], "o-", ms=3, label="training"
            )
        ax.plot(epochs, [100 * h["val_accuracy"] for h in history], "s-", ms=3, label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel("accuracy (%)")
        ax.set_title(f"Accuracy: {title}")
        ax.grid(alpha=0.3)
        ax.legend()
        written.append(_save(fig, out_dir / "accuracy.png"))
    return written


def plot_confusion(cm: np.ndarray, classes: list[str], path: str | Path, title: str) -> str:
    """The confusion matrix as an image: rows are true classes, columns predictions."""
    n = len(classes)
    fig = _figure(1.2 + 0.55 * max(n, 4), 0.9 + 0.5 * max(n, 4))
    ax = fig.add_subplot(1, 1, 1)
    im = ax.imshow(cm, cmap="Blues")
    fig.colorbar(im, ax=ax, label="samples")
    ax.set_xticks(range(n), classes)
    ax.set_yticks(range(n), classes)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title)
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
    return _save(fig, Path(path))


def plot_search_history(
    numbers, values, path: str | Path, metric: str, title: str, maximize: bool = False
) -> str:
    """Objective of each finished trial and the best value so far."""
    fig = _figure()
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(numbers, values, "o", ms=4, label="trial")
    acc = np.maximum if maximize else np.minimum
    best = acc.accumulate(np.asarray(values, dtype=float)) if values else []
    ax.step(numbers, best, where="post", color="C3", label="best so far")
    ax.set_xlabel("trial")
    ax.set_ylabel(metric)
    ax.set_title(f"Optimisation history: {title}")
    ax.grid(alpha=0.3)
    ax.legend()
    return _save(fig, Path(path))


def plot_param(
    xs, values, name: str, log: bool, path: str | Path, metric: str, pruned=((), ())
) -> str:
    """One hyperparameter against the objective; pruned trials at their last report."""
    fig = _figure()
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(xs, values, "o", ms=5, label="finished trial")
    if len(pruned[0]):
        ax.plot(pruned[0], pruned[1], "x", ms=5, color="0.5", label="pruned (last report)")
    if log:
        ax.set_xscale("log")
    ax.set_xlabel(name)
    ax.set_ylabel(metric)
    ax.set_title(f"{name} against {metric}")
    ax.grid(alpha=0.3)
    ax.legend()
    return _save(fig, Path(path))
