"""Figure 6.9: gradient descent with two learning rates, normalised gradients, and Adam.

The loss L[phi] = 0.05 phi0^2 + 5 phi1^2 changes 100 times faster (in curvature) in the
vertical direction phi1 than in the horizontal phi0, so no single learning rate suits both:

a) full-batch gradient descent (``gradfit.optim.SGD``) with alpha = 0.08, a rate that
   makes good progress vertically: it creeps horizontally;
b) alpha = 0.205, a rate for the horizontal direction: beyond 2/10 = 0.2 it overshoots
   vertically and becomes unstable;
c) normalised gradients (``gradfit.optim.lecture.NormalizedGD``, eqs. 6.13-6.14): a fixed
   distance alpha along each axis per step; it reaches the minimum's neighbourhood but then
   oscillates around it instead of converging;
d) Adam (``gradfit.optim.lecture.Adam``, eqs. 6.15-6.17): momentum in both the gradient
   and the normalisation gives a smooth path to the minimum.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import gradfit
from gradfit.lecture import _common
from gradfit.optim.lecture import Adam, NormalizedGD

NAME = "adam"
TITLE = "Figure 6.9: a loss much steeper vertically — GD, normalised gradients and Adam"
START = (-3.5, 1.0)
STEPS = 60
CURV = (0.1, 10.0)  # the Hessian's diagonal: shallow phi0, steep phi1

RUNS = {
    "gd_steep_rate": ("a) GD, α = 0.08 (suits the steep direction)", 0.08),
    "gd_shallow_rate": ("b) GD, α = 0.205 (suits the shallow direction)", 0.205),
    "normalized": ("c) Normalised gradients, α = 0.15", 0.15),
    "adam": ("d) Adam, α = 0.15, β = 0.9, γ = 0.99", 0.15),
}


def loss(phi):
    """L[phi] = 0.05 phi0^2 + 5 phi1^2 on a gradfit tensor of shape (..., 2)."""
    return 0.5 * CURV[0] * phi[..., 0] ** 2 + 0.5 * CURV[1] * phi[..., 1] ** 2


def make_optimizer(key: str, params):
    lr = RUNS[key][1]
    if key.startswith("gd"):
        return gradfit.optim.SGD(params, lr=lr)
    if key == "normalized":
        return NormalizedGD(params, lr=lr)
    return Adam(params, lr=lr, beta=0.9, gamma=0.99)


def descend(key: str, steps: int = STEPS) -> np.ndarray:
    phi = _common.as_tensor(START, requires_grad=True)
    opt = make_optimizer(key, [phi])
    path = [phi.detach().numpy().copy()]
    for _ in range(steps):
        opt.zero_grad()
        loss(phi).backward()
        opt.step()
        path.append(phi.detach().numpy().copy())
    return np.array(path)


def compute(fast: bool = False) -> dict:
    runs = {}
    for key, (label, lr) in RUNS.items():
        path = descend(key)
        losses = loss(_common.as_tensor(path)).numpy()
        runs[key] = {
            "label": label,
            "lr": lr,
            "path": path,
            "loss": losses,
            "final_loss": float(losses[-1]),
            "final_phi": path[-1],
            # the size of the last steps along each axis: oscillation shows as a constant
            "last_step_abs": np.abs(path[-1] - path[-2]),
        }
    n = 81 if fast else 201
    p0 = np.linspace(-4.0, 1.0, n)
    p1 = np.linspace(-1.5, 1.5, n)
    grid_phi = np.stack(np.meshgrid(p0, p1), axis=-1)
    return {
        "start": list(START),
        "steps": STEPS,
        "hessian_diagonal": list(CURV),
        "runs": runs,
        "phi0": p0,
        "phi1": p1,
        "loss_grid": loss(_common.as_tensor(grid_phi)).numpy(),
    }


def plot(res: dict, out_dir: Path) -> str:
    fig = _common.new_figure(13, 8.5)
    for k, run in enumerate(res["runs"].values()):
        ax = fig.add_subplot(2, 2, k + 1)
        # log(L + 0.05): the valley shows as a band without the exact zero dominating
        _common.heatmap(ax, np.asarray(res["loss_grid"]) + 0.05, res["phi0"], res["phi1"], log=True)
        path = np.asarray(run["path"])
        inside = np.all(np.abs(path) < 50, axis=1)
        ax.plot(path[inside, 0], path[inside, 1], "o-", color="#3aa0ff", ms=3, lw=1)
        ax.plot(*path[0], "o", color="white", mec="black", ms=7, label="start")
        ax.plot(0, 0, "*", color="yellow", mec="black", ms=12, label="minimum")
        ax.set_xlim(res["phi0"][0], res["phi0"][-1])
        ax.set_ylim(res["phi1"][0], res["phi1"][-1])
        ax.set_xlabel("φ0 (shallow direction)")
        ax.set_ylabel("φ1 (steep direction)")
        final = run["final_loss"]
        ax.set_title(f"{run['label']}\nloss after {res['steps']} steps: {final:.3g}", fontsize=10)
        ax.legend(fontsize=8, loc="lower right")
    fig.suptitle(TITLE + "\nL[φ] = 0.05 φ0² + 5 φ1²")
    return _common.save_figure(fig, out_dir, NAME)


def run(out_dir: Path, fast: bool = False) -> dict:
    res = compute(fast)
    out = {"png": plot(res, out_dir), "json": _common.save_json(res, out_dir, NAME)}
    for key, r in res["runs"].items():
        out[f"{key}_final_loss"] = r["final_loss"]
        out[f"{key}_final_phi"] = r["final_phi"].tolist()
    out["normalized_last_step_abs"] = res["runs"]["normalized"]["last_step_abs"].tolist()
    return out
