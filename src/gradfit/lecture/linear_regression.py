"""Figure 6.1: gradient descent with line search for linear regression.

The model f[x, phi] = phi0 + phi1 x (intercept phi0, slope phi1) is fitted to a 12-point
data set (``_common.linear_regression_data``) with the least-squares loss
L[phi] = sum_i (phi0 + phi1 x_i - y_i)^2.

As the slide describes, each iteration "moves in the steepest downhill direction until we
can improve no further": ``gradfit.optim.lecture.LineSearchGD`` takes the gradient by
gradfit's autodiff and searches the step length along -dL/dphi with the lecture's line
search. Starting from a poor fit, four iterations bring the parameters close to the
least-squares solution (which the figure also marks, from the normal equations).

For comparison, ``gradfit.optim.lecture.Newton`` takes one full Newton step
phi <- phi - H^-1 dL/dphi from the same start: the loss is quadratic, so that one step
lands on the least-squares solution (the figure draws it as a dashed path).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gradfit.lecture import _common
from gradfit.optim.lecture import LineSearchGD, Newton

NAME = "linear_regression"
TITLE = "Figure 6.1: gradient descent with line search, linear regression"

START = (1.8, -0.9)  # a poor start: a line falling where the data rise
WINDOW = ((0.0, 2.0), (-1.0, 1.0))  # intercept phi0, slope phi1
N_ITER = 4


def loss(phi, x, y):
    """L[phi] = sum_i (phi0 + phi1 x_i - y_i)^2 for phi of shape (..., 2)."""
    pred = phi[..., 0:1] + phi[..., 1:2] * _common.as_tensor(x)
    return ((pred - _common.as_tensor(y)) ** 2).sum(-1)


def compute(fast: bool = False) -> dict:
    x, y = _common.linear_regression_data()
    phi = _common.as_tensor(START, requires_grad=True)
    opt = LineSearchGD([phi], max_dist=1.0, tol=1e-6)

    def closure():
        opt.zero_grad()
        value = loss(phi, x, y)
        value.backward()
        return value

    iterates = [phi.detach().numpy().copy()]
    losses = [loss(phi.detach(), x, y).item()]
    steps = []
    for _ in range(N_ITER):
        opt.step(closure)
        iterates.append(phi.detach().numpy().copy())
        losses.append(loss(phi.detach(), x, y).item())
        steps.append(opt.state[phi]["last_t"])
    iterates = np.array(iterates)
    # One Newton step from the same start (the closure returns the loss un-differentiated:
    # Newton takes the gradient and the Hessian itself).
    phi_newton = _common.as_tensor(START, requires_grad=True)
    newton = Newton([phi_newton])
    newton.step(lambda: loss(phi_newton, x, y))
    newton_iterates = np.array([START, phi_newton.detach().numpy().copy()])
    newton_losses = [losses[0], loss(phi_newton.detach(), x, y).item()]
    # The exact least-squares fit, for reference (normal equations).
    design = np.stack([np.ones_like(x), x], axis=1)
    best = np.linalg.lstsq(design, y, rcond=None)[0]
    best_loss = float(((design @ best - y) ** 2).sum())
    n = 61 if fast else 161
    p0 = np.linspace(*WINDOW[0], n)
    p1 = np.linspace(*WINDOW[1], n)
    grid_phi = np.stack(np.meshgrid(p0, p1), axis=-1)  # rows follow phi1
    grid = loss(_common.as_tensor(grid_phi), x, y).numpy()
    d = np.diff(iterates, axis=0)
    cosines = [
        float(d[k] @ d[k + 1] / (np.linalg.norm(d[k]) * np.linalg.norm(d[k + 1])))
        for k in range(len(d) - 1)
    ]
    return {
        "x": x,
        "y": y,
        "start": list(START),
        "iterates": iterates,
        "losses": losses,
        "step_lengths": steps,
        "consecutive_step_cosines": cosines,
        "newton_iterates": newton_iterates,
        "newton_losses": newton_losses,
        "least_squares_phi": best,
        "least_squares_loss": best_loss,
        "phi0": p0,
        "phi1": p1,
        "loss_grid": grid,
    }


def plot(res: dict, out_dir: Path) -> str:
    it = np.asarray(res["iterates"])
    x, y = np.asarray(res["x"]), np.asarray(res["y"])
    p0, p1, grid = res["phi0"], res["phi1"], np.asarray(res["loss_grid"])
    fig = _common.new_figure(12, 10)
    shades = np.linspace(0.75, 0.0, len(it))  # lightest line = iteration 0

    ax = fig.add_subplot(2, 2, 1)
    ax.plot(x, y, "o", color="#d08a3a", mec="black", mew=0.5)
    ax.set_xlim(0, 2)
    ax.set_ylim(0, 2)
    ax.set_xlabel("input x")
    ax.set_ylabel("output y")
    ax.set_title(f"a) Training set, I = {x.size}")

    ax3d = fig.add_subplot(2, 2, 2, projection="3d", computed_zorder=False)
    g0, g1 = np.meshgrid(p0, p1)
    ax3d.plot_surface(g0, g1, grid, cmap="gray", alpha=0.8, linewidth=0, zorder=1)
    ax3d.plot(it[:, 0], it[:, 1], res["losses"], "o-", color="#3060ff", ms=4, zorder=5)
    for k, (a, b) in enumerate(it):
        ax3d.text(a, b, res["losses"][k] + 1.5, str(k), color="#3060ff", fontsize=9)
    ax3d.set_xlabel("intercept φ0")
    ax3d.set_ylabel("slope φ1")
    ax3d.set_zlabel("loss L[φ]")
    ax3d.set_title("b) Loss surface L[φ] and iterates 0-4")

    ax = fig.add_subplot(2, 2, 3)
    im = _common.heatmap(ax, grid, p0, p1, log=True)
    ax.set_aspect("equal")  # so that the line search's right-angle turns look square
    fig.colorbar(im, ax=ax, label="log L[φ]")
    ax.plot(it[:, 0], it[:, 1], "o-", color="#3060ff", ms=5, label="line search")
    for k, (a, b) in enumerate(it):
        ax.annotate(
            str(k),
            (a, b),
            xytext=(5, 4),
            textcoords="offset points",
            color="#3060ff",
            fontweight="bold",
        )
    nt = np.asarray(res["newton_iterates"])
    ax.plot(nt[:, 0], nt[:, 1], "s--", color="#e0307a", ms=4, label="one Newton step")
    best = res["least_squares_phi"]
    ax.plot(best[0], best[1], "*", color="#ffd400", mec="black", ms=12, label="least squares")
    ax.set_xlabel("intercept φ0")
    ax.set_ylabel("slope φ1")
    ax.set_title(
        "c) Heatmap (bright = high): each step ends where\n"
        "the loss stops improving, at right angles"
    )
    ax.legend(fontsize=8, loc="lower right")

    ax = fig.add_subplot(2, 2, 4)
    xs = np.linspace(0, 2, 50)
    for k, (a, b) in enumerate(it):
        s = shades[k]
        ax.plot(
            xs,
            a + b * xs,
            color=(s, s, s),
            lw=1.5,
            label=f"iteration {k}: L = {res['losses'][k]:.2f}",
        )
    ax.plot(x, y, "o", color="#d08a3a", mec="black", mew=0.5)
    ax.set_xlim(0, 2)
    ax.set_ylim(0, 2)
    ax.set_xlabel("input x")
    ax.set_ylabel("output y")
    ax.set_title("d) Model at each iterate (darker = later)")
    ax.legend(fontsize=7, loc="upper left")
    fig.suptitle(TITLE + " (gradfit.optim.lecture.LineSearchGD, and Newton)")
    return _common.save_figure(fig, out_dir, NAME)


def run(out_dir: Path, fast: bool = False) -> dict:
    res = compute(fast)
    return {
        "png": plot(res, out_dir),
        "json": _common.save_json(res, out_dir, NAME),
        "losses": res["losses"],
        "final_phi": res["iterates"][-1].tolist(),
        "least_squares_phi": res["least_squares_phi"].tolist(),
        "least_squares_loss": res["least_squares_loss"],
        "consecutive_step_cosines": res["consecutive_step_cosines"],
        "newton_phi": res["newton_iterates"][-1].tolist(),
        "newton_losses": res["newton_losses"],
    }
