"""Line search ("Colab time: Line Search"): the bracketing search, iteration by iteration.

``gradfit.optim.lecture.line_search`` keeps four points a < b < c < d, with b and c
starting at 0.33 and 0.66 of [a, d] as in the course's notebooks. Each iteration either
pulls b, c, d halfway towards a (when f(a) is the lowest of the four) or drops the outer
part that cannot hold the minimum (d <- c when f(b) < f(c), else a <- b), then puts b and
c at the thirds of the new [a, d]. The search stops when |b - c| <= tol.

The 1-D function is a tilted Gaussian dip evaluated with gradfit tensors,
f(t) = 1 - 0.8 exp(-(t - 0.62)^2 / 0.05) + 0.3 t, searched on [0, 1]; its true minimiser
is found on a fine grid to measure the search's error.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import gradfit
from gradfit.lecture import _common
from gradfit.optim.lecture import line_search

NAME = "line_search"
TITLE = "Line search: the bracketing search on a 1-D function"
TOL = 1e-4


def loss_1d(t):
    """f(t) = 1 - 0.8 exp(-(t - 0.62)^2 / 0.05) + 0.3 t on gradfit tensors (or floats)."""
    tt = _common.as_tensor(t)
    return 1.0 - 0.8 * gradfit.exp(-((tt - 0.62) ** 2) / 0.05) + 0.3 * tt


def compute(fast: bool = False) -> dict:
    evaluations: list[float] = []

    def f(t: float) -> float:
        evaluations.append(t)
        return loss_1d(t).item()

    t_min, history = line_search(f, 0.0, 1.0, tol=TOL, max_iter=100, return_history=True)
    fine = np.linspace(0.0, 1.0, 200_001)  # the true minimiser, to 5e-6
    true_t = float(fine[np.argmin(loss_1d(fine).numpy())])
    grid = np.linspace(0.0, 1.0, 201)
    curve = loss_1d(grid).numpy()
    hist = np.array(history)
    return {
        "interval": [0.0, 1.0],
        "tol": TOL,
        "history": hist,
        "n_iterations": len(history) - 1,
        "n_function_evaluations": len(set(evaluations)),
        "t_min": t_min,
        "f_min": loss_1d(t_min).item(),
        "true_t_min": true_t,
        "error": abs(t_min - true_t),
        "curve_t": grid,
        "curve_f": curve,
        "width": hist[:, 3] - hist[:, 0],
    }


def plot(res: dict, out_dir: Path) -> str:
    hist = np.asarray(res["history"])
    n_show = min(len(hist), 9)
    fig = _common.new_figure(13, 5.2)
    gs = fig.add_gridspec(2, 2, width_ratios=[2.0, 1.0], height_ratios=[1.2, 1.0])
    ax = fig.add_subplot(gs[0, 0])
    ax.plot(res["curve_t"], res["curve_f"], color="#222222", lw=1.5, label="f(t)")
    colors = {"a": "#1f77b4", "b": "#2ca02c", "c": "#d62728", "d": "#9467bd"}
    for j, key in enumerate("abcd"):
        pts = hist[0, j]
        ax.plot(pts, loss_1d(pts).item(), "o", color=colors[key], ms=8, label=f"{key} (start)")
    ax.axvline(res["t_min"], color="#d08a3a", ls="--", lw=1, label=f"result t = {res['t_min']:.4f}")
    ax.set_xlabel("position t along the search line")
    ax.set_ylabel("loss f(t)")
    ax.set_title("a) The function and the first bracket a < b < c < d")
    ax.legend(fontsize=8, ncol=3, loc="upper left")

    ax2 = fig.add_subplot(gs[1, 0], sharex=ax)
    for k in range(n_show):
        a, b, c, d = hist[k]
        ax2.plot([a, d], [k, k], color="#bbbbbb", lw=4, solid_capstyle="butt")
        for j, key in enumerate("abcd"):
            ax2.plot(
                hist[k, j],
                k,
                "|" if key in "ad" else "o",
                color=colors[key],
                ms=10 if key in "ad" else 5,
                mew=2,
            )
    ax2.set_ylim(n_show - 0.5, -0.5)
    ax2.set_xlabel("position t along the search line")
    ax2.set_ylabel("iteration")
    ax2.set_title(f"b) The bracket [a, d] and the points b, c, iterations 0-{n_show - 1}")

    ax3 = fig.add_subplot(gs[:, 1])
    it = np.arange(len(hist))
    ax3.semilogy(it, res["width"], "o-", ms=3, label="bracket width d − a")
    ax3.semilogy(it, np.abs(hist[:, 2] - hist[:, 1]), "s-", ms=3, label="|c − b|")
    ax3.axhline(res["tol"], color="#d08a3a", ls="--", label=f"tol = {res['tol']:g}")
    ax3.set_xlabel("iteration")
    ax3.set_ylabel("width (log scale)")
    ax3.set_title(
        f"c) {res['n_iterations']} iterations, {res['n_function_evaluations']} evaluations;\n"
        f"error vs. true minimiser {res['error']:.1e}"
    )
    ax3.legend(fontsize=8)
    fig.suptitle(TITLE + " (gradfit.optim.lecture.line_search)")
    return _common.save_figure(fig, out_dir, NAME)


def run(out_dir: Path, fast: bool = False) -> dict:
    res = compute(fast)
    return {
        "png": plot(res, out_dir),
        "json": _common.save_json(res, out_dir, NAME),
        "t_min": res["t_min"],
        "true_t_min": res["true_t_min"],
        "error": res["error"],
        "n_iterations": res["n_iterations"],
    }
