"""Figure 6.4: the loss landscape of the Gabor model, its minima and saddle points.

The least-squares loss L[phi] = sum_i (f[x_i, phi] - y_i)^2 of the Gabor model on the
figure 6.3 data is non-convex. This module

* evaluates L on a grid over the lecture's window (offset phi0 in [-10, 10], frequency
  phi1 in [2.5, 22.5]), drawn as a heatmap (bright = high loss);
* finds every local minimum in the window by multi-start descent: a grid of starting
  points descends together (one (S, 2) parameter tensor, the loss summed over starts, so
  each row gets its own gradient) with ``gradfit.optim.Adam``, then each end point is
  polished by Newton steps and kept if the gradient vanishes and the Hessian is positive
  definite; the lowest is the global minimum (the lecture's gray circle, loss 0.64);
* finds saddle points (the lecture's blue cross) by Newton's method on the gradient
  from a denser grid of starts, which converges to stationary points of any kind; a point
  is a saddle when the gradient is ~0 and the Hessian has eigenvalues of both signs;
* draws the model at each minimum over the data (the lecture's panels b-f).

The Hessian comes from the engine's second derivatives (``_common.gabor_hessian``: a
gradient with ``create_graph=True``, differentiated once more per column), checked against
``torch.autograd.functional.hessian`` in tests/autograd/test_higher_order.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import gradfit
from gradfit.lecture import _common

NAME = "gabor_landscape"
TITLE = "Figure 6.4: Gabor model loss landscape"


def _in_window(phi: np.ndarray) -> np.ndarray:
    (a0, b0), (a1, b1) = _common.GABOR_WINDOW
    return (phi[:, 0] >= a0) & (phi[:, 0] <= b0) & (phi[:, 1] >= a1) & (phi[:, 1] <= b1)


def _dedupe(points: np.ndarray, tol: float = 1e-3) -> list[int]:
    keep: list[int] = []
    for i, p in enumerate(points):
        if all(np.linalg.norm(p - points[j]) > tol for j in keep):
            keep.append(i)
    return keep


def newton(phi: np.ndarray, x, y, iters: int, max_step: float = 0.5) -> np.ndarray:
    """Newton's method on the gradient, phi <- phi - H^-1 g, each step at most ``max_step``
    long. It converges to the nearest stationary point, minimum or saddle alike."""
    phi = np.array(phi, dtype=np.float64)
    for _ in range(iters):
        g = _common.gabor_grad(phi, x, y)
        hess = _common.gabor_hessian(phi, x, y)
        det = hess[:, 0, 0] * hess[:, 1, 1] - hess[:, 0, 1] ** 2
        ok = np.abs(det) > 1e-12
        inv = np.zeros_like(hess)
        inv[ok, 0, 0] = hess[ok, 1, 1] / det[ok]
        inv[ok, 1, 1] = hess[ok, 0, 0] / det[ok]
        inv[ok, 0, 1] = inv[ok, 1, 0] = -hess[ok, 0, 1] / det[ok]
        step = np.einsum("nij,nj->ni", inv, g)
        norm = np.linalg.norm(step, axis=1, keepdims=True)
        step = step * np.minimum(1.0, max_step / np.maximum(norm, 1e-300))
        phi = phi - step
    return phi


def descend(starts: np.ndarray, x, y, steps: int, lr: float = 0.05) -> np.ndarray:
    """Multi-start descent with ``gradfit.optim.Adam``: all starts in one (S, 2) tensor."""
    phi = _common.as_tensor(starts, requires_grad=True)
    opt = gradfit.optim.Adam([phi], lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        _common.gabor_loss(phi, x, y).sum().backward()
        opt.step()
    return phi.detach().numpy().copy()


def _stationary(phi: np.ndarray, x, y, grad_tol: float):
    g = _common.gabor_grad(phi, x, y)
    hess = _common.gabor_hessian(phi, x, y)
    eig = np.linalg.eigvalsh(hess)
    gnorm = np.linalg.norm(g, axis=1)
    ok = (gnorm < grad_tol) & _in_window(phi) & np.all(np.isfinite(phi), axis=1)
    return g, eig, gnorm, ok


def compute(fast: bool = False) -> dict:
    """Grid, minima, global minimum and saddle points of the Gabor loss (float64)."""
    x, y = _common.gabor_data()
    n = 81 if fast else 201
    (a0, b0), (a1, b1) = _common.GABOR_WINDOW
    phi0 = np.linspace(a0, b0, n)
    phi1 = np.linspace(a1, b1, n)
    grid = _common.gabor_loss_grid(x, y, phi0, phi1)

    # Local minima: multi-start descent, then Newton polish (Hessian checked below).
    # (the same in fast mode: a coarser start grid misses the smaller basins)
    k = 16
    s0, s1 = np.meshgrid(np.linspace(a0, b0, k), np.linspace(a1, b1, k))
    starts = np.stack([s0.ravel(), s1.ravel()], axis=1)
    ends = descend(starts, x, y, steps=500)
    ends = newton(ends, x, y, iters=8, max_step=0.05)
    loss_ends = _common.gabor_loss(_common.as_tensor(ends), x, y).numpy()
    g, eig, gnorm, ok = _stationary(ends, x, y, grad_tol=1e-6)
    is_min = ok & (eig[:, 0] > 0)
    cand = np.flatnonzero(is_min)
    cand = cand[np.argsort(loss_ends[cand])]
    keep = cand[_dedupe(ends[cand])]
    minima = [
        {
            "phi": ends[i].tolist(),
            "loss": float(loss_ends[i]),
            "grad_norm": float(gnorm[i]),
            "hessian_eigenvalues": eig[i].tolist(),
        }
        for i in keep
    ]

    # Saddles: Newton's method from a denser grid of starts finds stationary points of any
    # kind; keep those whose Hessian has eigenvalues of both signs.
    k = 14 if fast else 28
    s0, s1 = np.meshgrid(np.linspace(a0, b0, k), np.linspace(a1, b1, k))
    starts = np.stack([s0.ravel(), s1.ravel()], axis=1)
    stat = newton(starts, x, y, iters=25 if fast else 40)
    loss_stat = _common.gabor_loss(_common.as_tensor(stat), x, y).numpy()
    g, eig, gnorm, ok = _stationary(stat, x, y, grad_tol=1e-7)
    scale = np.abs(eig).max(axis=1)
    is_saddle = ok & (eig[:, 0] < -1e-6 * scale) & (eig[:, 1] > 1e-6 * scale)
    cand = np.flatnonzero(is_saddle)
    cand = cand[np.argsort(loss_stat[cand])]
    keep = cand[_dedupe(stat[cand])]
    saddles = [
        {
            "phi": stat[i].tolist(),
            "loss": float(loss_stat[i]),
            "grad_norm": float(gnorm[i]),
            "hessian_eigenvalues": eig[i].tolist(),
        }
        for i in keep
    ]
    is_max = ok & (eig[:, 1] < 0)
    n_maxima = len(_dedupe(stat[is_max])) if is_max.any() else 0
    # Minima that Newton found but descent missed would mean the start grid is too coarse.
    newton_min = stat[ok & (eig[:, 0] > 0)]
    missed = []
    if newton_min.size:
        for p in newton_min[_dedupe(newton_min)]:
            if all(np.linalg.norm(p - np.array(m["phi"])) > 1e-3 for m in minima):
                missed.append(p.tolist())

    return {
        "x": x,
        "y": y,
        "phi0": phi0,
        "phi1": phi1,
        "loss_grid": grid,
        "minima": minima,
        "global_minimum": minima[0],
        "saddles": saddles,
        "n_maxima": n_maxima,
        "minima_missed_by_descent": missed,
        "true_phi": list(_common.GABOR_TRUE_PHI),
        "hessian_method": "central differences (h=1e-5) of gradfit autodiff gradients",
    }


def plot(res: dict, out_dir: Path) -> str:
    minima = res["minima"]
    n_fit = len(minima)
    cols = 3
    rows = max(2, -(-n_fit // cols))
    fig = _common.new_figure(15, max(7.0, 2.3 * rows))
    gs = fig.add_gridspec(rows, 2 + cols, width_ratios=[1.6, 1.6, 1, 1, 1])
    ax = fig.add_subplot(gs[:, :2])
    phi0, phi1 = res["phi0"], res["phi1"]
    im = _common.heatmap(ax, res["loss_grid"], phi0, phi1, log=True)
    fig.colorbar(im, ax=ax, label="log L[φ]", shrink=0.8)
    letters = "bcdefghijklmnopqrstuvwxyz"
    for k, m in enumerate(minima):
        p = m["phi"]
        glob = k == 0
        ax.plot(
            p[0],
            p[1],
            "o",
            ms=11 if glob else 8,
            mfc="#9a9a9a" if glob else "cyan",
            mec="black",
            label=("global minimum" if glob else ("local minimum" if k == 1 else None)),
        )
        ax.annotate(
            letters[k],
            p,
            xytext=(6, 6),
            textcoords="offset points",
            color="white",
            fontsize=10,
            fontweight="bold",
        )
    for k, s in enumerate(res["saddles"]):
        ax.plot(
            s["phi"][0],
            s["phi"][1],
            "X",
            ms=9,
            mfc="#3060ff",
            mec="white",
            label="saddle point" if k == 0 else None,
        )
    ax.plot(*res["true_phi"], "+", color="red", ms=12, mew=2, label="generating φ = [0, 16.6]")
    ax.set_xlabel("offset φ0")
    ax.set_ylabel("frequency φ1")
    ax.set_title("a) Loss L[φ] (bright = high): minima and saddle points")
    ax.legend(loc="lower left", fontsize=8, framealpha=0.9)

    xs = np.linspace(-15, 15, 300)
    xt = _common.as_tensor(xs)
    for k, m in enumerate(minima):
        axk = fig.add_subplot(gs[k // cols, 2 + k % cols])
        p = m["phi"]
        axk.plot(res["x"], res["y"], "o", ms=3, color="#d08a3a", label="data")
        axk.plot(xs, _common.gabor(xt, p[0], p[1]).numpy(), color="#222222", lw=1.2, label="model")
        kind = "global min" if k == 0 else "local min"
        axk.set_title(f"{letters[k]}) {kind}, L = {m['loss']:.2f}", fontsize=9)
        axk.set_ylim(-1.2, 1.2)
        axk.tick_params(labelsize=7)
        if k // cols == rows - 1 or k + cols >= n_fit:
            axk.set_xlabel("input x", fontsize=8)
        if k % cols == 0:
            axk.set_ylabel("output y", fontsize=8)
        if k == 0:
            axk.legend(fontsize=7, loc="lower left")
    fig.suptitle(TITLE + f": {len(minima)} minima, {len(res['saddles'])} saddle points")
    return _common.save_figure(fig, out_dir, NAME)


def run(out_dir: Path, fast: bool = False) -> dict:
    res = compute(fast)
    png = plot(res, out_dir)
    js = _common.save_json(res, out_dir, NAME)
    glob = res["global_minimum"]
    return {
        "png": png,
        "json": js,
        "global_minimum_phi": glob["phi"],
        "global_minimum_loss": glob["loss"],
        "n_minima": len(res["minima"]),
        "n_saddles": len(res["saddles"]),
        "minima_missed_by_descent": len(res["minima_missed_by_descent"]),
    }
