"""Figure 6.8: Nesterov accelerated momentum against momentum.

Panels a-c: the figure 6.7 setting (Gabor model, batches of three, the same start, the
same batches, alpha = 1, beta = 0.9), with ``gradfit.optim.lecture.Momentum`` against
``gradfit.optim.lecture.Nesterov`` (eq. 6.12: the gradient is taken at the look-ahead
point phi - alpha beta m, so ``step`` takes a closure).

Panel d is the lecture's diagram, computed: at point 1 (reached along the dashed line, the
current momentum m), momentum measures the gradient at 1, steps along it to 2, then adds
the momentum term, arriving at 3. Nesterov first applies the momentum term (1 -> 4),
measures the gradient there and steps to 5. Points 3 and 5 are the results of one
``Momentum.step`` and one ``Nesterov.step`` from the same state (full-batch gradients, so
the picture is not blurred by batch noise).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gradfit.lecture import _common
from gradfit.lecture.momentum import BETA, LR, START, plot_paths, train_gabor, zoom_grid
from gradfit.optim.lecture import Momentum, Nesterov

NAME = "nesterov"
TITLE = "Figure 6.8: Nesterov accelerated momentum vs. momentum (Gabor model, batch size 3)"
DIAGRAM_LR = 0.3  # a small full-batch step so the five points are well apart


def _full_closure(phi, opt, x, y):
    def closure():
        opt.zero_grad()
        loss = _common.gabor_loss(phi, x, y)
        loss.backward()
        return loss

    return closure


def diagram(steps_before: int = 4) -> dict:
    """Points 0 (previous), 1, 2, 3 (momentum) and 4, 5 (Nesterov) of the lecture diagram."""
    x, y = _common.gabor_data()
    start = np.array([-0.8, 13.0])
    phi = _common.as_tensor(start, requires_grad=True)
    opt = Momentum([phi], lr=DIAGRAM_LR, beta=BETA)
    prev = start
    for _ in range(steps_before):  # build up some momentum along a path
        prev = phi.detach().numpy().copy()
        opt.step(_full_closure(phi, opt, x, y))
    p1 = phi.detach().numpy().copy()
    m = opt.state[phi]["momentum_buffer"].numpy().copy()

    def one_step(cls) -> np.ndarray:
        q = _common.as_tensor(p1, requires_grad=True)
        o = cls([q], lr=DIAGRAM_LR, beta=BETA)
        o.state[q]["momentum_buffer"] = _common.as_tensor(m)
        o.step(_full_closure(q, o, x, y))
        return q.detach().numpy().copy()

    p3 = one_step(Momentum)
    p5 = one_step(Nesterov)
    g1 = _common.gabor_grad(p1, x, y)
    p4 = p1 - DIAGRAM_LR * BETA * m
    p2 = p1 - DIAGRAM_LR * (1 - BETA) * g1
    g4 = _common.gabor_grad(p4, x, y)
    return {
        "point0": prev,
        "point1": p1,
        "point2": p2,
        "point3": p3,
        "point4": p4,
        "point5": p5,
        "momentum": m,
        "grad_at_1": g1,
        "grad_at_4": g4,
        # the identities behind the diagram: 3 = 2 + momentum term, 5 = 4 + gradient at 4
        "err_point3": float(np.abs(p3 - (p2 - DIAGRAM_LR * BETA * m)).max()),
        "err_point5": float(np.abs(p5 - (p4 - DIAGRAM_LR * (1 - BETA) * g4)).max()),
        "lr": DIAGRAM_LR,
        "beta": BETA,
    }


def compute(fast: bool = False) -> dict:
    epochs = 30
    mom = train_gabor(lambda p: Momentum(p, lr=LR, beta=BETA), START, epochs)
    nes = train_gabor(lambda p: Nesterov(p, lr=LR, beta=BETA), START, epochs, closure=True)
    phi0, phi1, grid = zoom_grid([mom["path"], nes["path"]], fast)
    dg = diagram()
    pts = np.array([dg[f"point{k}"] for k in range(6)])
    d0, d1, dgrid = zoom_grid([pts], fast, pad=0.25)
    return {
        "start": list(START),
        "lr": LR,
        "beta": BETA,
        "epochs": epochs,
        "momentum": mom,
        "nesterov": nes,
        "phi0": phi0,
        "phi1": phi1,
        "loss_grid": grid,
        "diagram": dg,
        "diagram_phi0": d0,
        "diagram_phi1": d1,
        "diagram_loss_grid": dgrid,
    }


def plot(res: dict, out_dir: Path) -> str:
    fig = _common.new_figure(20, 5.4)
    gs = plot_paths(
        fig,
        res,
        [
            ("momentum", f"Momentum, α = {res['lr']}, β = {res['beta']}", "#3aa0ff"),
            ("nesterov", f"Nesterov, α = {res['lr']}, β = {res['beta']}", "#40c040"),
        ],
        TITLE,
        n_extra=1,
    )
    ax = fig.add_subplot(gs[3])
    _common.heatmap(
        ax, res["diagram_loss_grid"], res["diagram_phi0"], res["diagram_phi1"], log=True
    )
    dg = res["diagram"]
    p = {k: np.asarray(dg[f"point{k}"]) for k in range(6)}
    arrow = {"arrowstyle": "->", "lw": 1.8}
    ax.plot(*np.stack([p[0], p[1]]).T, "--", color="white", lw=1.5, label="path so far")
    ax.annotate("", p[2], p[1], arrowprops={**arrow, "color": "#ff5050"})
    ax.annotate("", p[3], p[2], arrowprops={**arrow, "color": "#ffb000"})
    ax.annotate("", p[4], p[1], arrowprops={**arrow, "color": "#ffb000"})
    ax.annotate("", p[5], p[4], arrowprops={**arrow, "color": "#40c040"})
    for k in range(1, 6):
        ax.plot(*p[k], "o", color="white", mec="black", ms=6)
        ax.annotate(
            str(k),
            p[k],
            xytext=(5, 5),
            textcoords="offset points",
            color="white",
            fontweight="bold",
        )
    ax.plot([], [], color="#ff5050", label="gradient step at 1 (momentum)")
    ax.plot([], [], color="#ffb000", label="momentum term")
    ax.plot([], [], color="#40c040", label="gradient step at 4 (Nesterov)")
    ax.set_xlabel("offset φ0")
    ax.set_ylabel("frequency φ1")
    ax.set_title(
        "d) One step from 1: momentum 1→2→3, Nesterov 1→4→5\n"
        f"(full batch, α = {dg['lr']}, β = {dg['beta']})",
        fontsize=10,
    )
    ax.legend(fontsize=7, loc="lower left")
    return _common.save_figure(fig, out_dir, NAME)


def run(out_dir: Path, fast: bool = False) -> dict:
    res = compute(fast)
    dg = res["diagram"]
    return {
        "png": plot(res, out_dir),
        "json": _common.save_json(res, out_dir, NAME),
        "momentum_last_epoch_mean_loss": res["momentum"]["last_epoch_mean_loss"],
        "nesterov_last_epoch_mean_loss": res["nesterov"]["last_epoch_mean_loss"],
        "momentum_path_length": res["momentum"]["path_length"],
        "nesterov_path_length": res["nesterov"]["path_length"],
        "diagram_err_point3": dg["err_point3"],
        "diagram_err_point5": dg["err_point5"],
    }
