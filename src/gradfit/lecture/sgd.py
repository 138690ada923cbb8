"""Figure 6.6: stochastic gradient descent on the Gabor model with a batch size of three.

At the current parameters phi_c, every batch B of three of the 28 training pairs gives a
different update  phi_c - alpha sum_{i in B} dl_i/dphi  (the lecture's SGD rule). There
are C(28, 3) = 3276 batches, so there is a whole distribution of possible updates
(panel a, inset). Each batch has its own loss L_B[phi] = sum_{i in B} l_i[phi] (panels
b-d), and SGD moves downhill on it. For some batches that step goes *uphill* on the
full-data loss while going downhill on its batch loss (panel d): this is how SGD can
escape local minima.

The per-example gradients dl_i/dphi come from gradfit's autodiff in one backward pass:
phi is replicated to a (28, 2) tensor, one row per example, so row i of the gradient of
sum_i l_i[phi_i] is dl_i/dphi. The steps shown in panels b-d are taken with
``gradfit.optim.SGD`` on the batch loss.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np

import gradfit
from gradfit.lecture import _common

NAME = "sgd"
TITLE = "Figure 6.6: SGD with batch size 3 on the Gabor model"
PHI_C = (-2.0, 12.0)  # the current parameters
LR = 0.6
BATCH = 3


def per_example_grads(phi, x, y) -> np.ndarray:
    """dl_i/dphi for every example i, shape (n, 2), from one backward pass."""
    n = len(x)
    p = _common.as_tensor(np.tile(np.asarray(phi, dtype=np.float64), (n, 1)), requires_grad=True)
    pred = _common.gabor(_common.as_tensor(x), p[:, 0], p[:, 1])
    ((pred - _common.as_tensor(y)) ** 2).sum().backward()
    return p.grad.numpy()


def batch_losses(phi: np.ndarray, idx: np.ndarray, x, y) -> np.ndarray:
    """L_B at phi[k] for batch idx[k] (phi (K, 2), idx (K, 3)) -> (K,)."""
    xb, yb = _common.as_tensor(x[idx]), _common.as_tensor(y[idx])
    p = _common.as_tensor(phi)
    pred = _common.gabor(xb, p[:, 0:1], p[:, 1:2])
    return ((pred - yb) ** 2).sum(-1).numpy()


def sgd_step(phi, xb, yb, lr: float) -> np.ndarray:
    """One ``gradfit.optim.SGD`` step on the batch loss (sum of the batch's l_i)."""
    p = _common.as_tensor(phi, requires_grad=True)
    opt = gradfit.optim.SGD([p], lr=lr)
    opt.zero_grad()
    _common.gabor_loss(p, xb, yb).backward()
    opt.step()
    return p.detach().numpy().copy()


def compute(fast: bool = False) -> dict:
    x, y = _common.gabor_data()
    phi_c = np.array(PHI_C)
    idx = np.array(list(itertools.combinations(range(len(x)), BATCH)))
    grads = per_example_grads(phi_c, x, y)
    g_batch = grads[idx].sum(1)
    updates = phi_c - LR * g_batch
    full_before = _common.gabor_loss(_common.as_tensor(phi_c), x, y).item()
    full_after = _common.gabor_loss(_common.as_tensor(updates), x, y).numpy()
    batch_before = batch_losses(np.tile(phi_c, (len(idx), 1)), idx, x, y)
    batch_after = batch_losses(updates, idx, x, y)
    full_step = phi_c - LR * grads.sum(0)

    uphill = (full_after > full_before) & (batch_after < batch_before)
    # Two ordinary batches (downhill on both losses, differently directed) and the batch
    # that climbs the full loss most while descending its own.
    g = _common.generator(66)
    step_len = np.linalg.norm(updates - phi_c, axis=1)
    down = np.flatnonzero(
        ~uphill & (full_after < full_before) & (step_len > np.quantile(step_len, 0.7))
    )  # long enough steps to see
    pick = down[gradfit.randperm(len(down), generator=g).numpy()[:40]]
    angles = np.arctan2(-g_batch[pick, 1], -g_batch[pick, 0])
    b1 = int(pick[0])
    b2 = int(pick[np.argmax(np.abs(np.angle(np.exp(1j * (angles - angles[0])))))])
    b3 = int(np.flatnonzero(uphill)[np.argmax((full_after - full_before)[uphill])])
    shown = []
    n = 41 if fast else 101
    half = 3.0
    p0 = np.linspace(phi_c[0] - half, phi_c[0] + half, n)
    p1 = np.linspace(phi_c[1] - half, phi_c[1] + half, n)
    for b in (b1, b2, b3):
        xb, yb = x[idx[b]], y[idx[b]]
        after = sgd_step(phi_c, xb, yb, LR)
        shown.append(
            {
                "batch": idx[b].tolist(),
                "phi_after": after,
                "step_matches_rule": bool(np.allclose(after, updates[b], atol=1e-12)),
                "batch_loss_before": float(batch_before[b]),
                "batch_loss_after": float(batch_after[b]),
                "full_loss_before": full_before,
                "full_loss_after": float(full_after[b]),
                "batch_loss_grid": _common.gabor_loss_grid(xb, yb, p0, p1),
            }
        )
    (a0, b0), (a1, b1w) = _common.GABOR_WINDOW
    m = 61 if fast else 161
    w0 = np.linspace(a0, b0, m)
    w1 = np.linspace(a1, b1w, m)
    return {
        "x": x,
        "y": y,
        "phi_c": phi_c,
        "lr": LR,
        "batch_size": BATCH,
        "n_batches": len(idx),
        "updates": updates,
        "full_step": full_step,
        "full_loss_before": full_before,
        "delta_full_loss": full_after - full_before,
        "delta_batch_loss": batch_after - batch_before,
        "fraction_uphill_on_full_downhill_on_batch": float(uphill.mean()),
        "fraction_downhill_on_batch": float((batch_after < batch_before).mean()),
        "shown_batches": shown,
        "zoom_phi0": p0,
        "zoom_phi1": p1,
        "zoom_full_loss": _common.gabor_loss_grid(x, y, p0, p1),
        "phi0": w0,
        "phi1": w1,
        "loss_grid": _common.gabor_loss_grid(x, y, w0, w1),
    }


def plot(res: dict, out_dir: Path) -> str:
    from matplotlib.patches import Rectangle

    fig = _common.new_figure(17, 8.5)
    gs = fig.add_gridspec(2, 4, height_ratios=[1.35, 1])
    phi_c = np.asarray(res["phi_c"])
    upd = np.asarray(res["updates"])
    dfull = np.asarray(res["delta_full_loss"])
    up = dfull > 0

    ax = fig.add_subplot(gs[0, 0])
    _common.heatmap(ax, res["loss_grid"], res["phi0"], res["phi1"], log=True)
    ax.plot(*phi_c, "o", color="#3060ff", mec="white", ms=8, label="current φ")
    z0, z1 = res["zoom_phi0"], res["zoom_phi1"]
    ax.add_patch(
        Rectangle((z0[0], z1[0]), z0[-1] - z0[0], z1[-1] - z1[0], fill=False, ec="cyan", lw=1.2)
    )
    ax.set_xlabel("offset φ0")
    ax.set_ylabel("frequency φ1")
    ax.set_title("a) Full-data loss L[φ]; box = zoom below")
    ax.legend(fontsize=8, loc="lower left")

    ax = fig.add_subplot(gs[1, 0])
    _common.heatmap(ax, res["zoom_full_loss"], z0, z1, log=True)
    ax.plot(upd[~up, 0], upd[~up, 1], ".", ms=2, color="cyan", alpha=0.5, label="update lowers L")
    ax.plot(upd[up, 0], upd[up, 1], ".", ms=2, color="#ff5050", alpha=0.5, label="update raises L")
    fs = res["full_step"]
    ax.annotate("", fs, phi_c, arrowprops={"arrowstyle": "->", "color": "yellow", "lw": 1.5})
    ax.plot(*phi_c, "o", color="#3060ff", mec="white", ms=7)
    ax.set_xlim(z0[0], z0[-1])
    ax.set_ylim(z1[0], z1[-1])
    ax.set_xlabel("offset φ0")
    ax.set_ylabel("frequency φ1")
    ax.set_title(
        f"a, inset) All {res['n_batches']} possible updates\n(yellow: full-batch gradient step)",
        fontsize=10,
    )
    ax.legend(fontsize=7, loc="lower left", markerscale=4)

    letters = "bcd"
    xs = np.linspace(-15, 15, 300)
    xt = _common.as_tensor(xs)
    for k, sb in enumerate(res["shown_batches"]):
        ax = fig.add_subplot(gs[0, k + 1])
        _common.heatmap(ax, sb["batch_loss_grid"], z0, z1, log=True)
        after = np.asarray(sb["phi_after"])
        ax.annotate("", after, phi_c, arrowprops={"arrowstyle": "->", "color": "cyan", "lw": 2})
        ax.plot(*phi_c, "o", color="#3060ff", mec="white", ms=7)
        ax.set_xlabel("offset φ0")
        ax.set_ylabel("frequency φ1")
        d_b = sb["batch_loss_after"] - sb["batch_loss_before"]
        d_f = sb["full_loss_after"] - sb["full_loss_before"]
        extra = " (uphill!)" if d_f > 0 else ""
        ax.set_title(
            f"{letters[k]}) Loss of batch {sb['batch']}\nΔL_batch = {d_b:+.3f}, "
            f"ΔL_full = {d_f:+.3f}{extra}",
            fontsize=10,
        )
        ax2 = fig.add_subplot(gs[1, k + 1])
        ax2.plot(res["x"], res["y"], "o", ms=3, color="#cccccc", label="other data")
        b = sb["batch"]
        ax2.plot(
            np.asarray(res["x"])[b],
            np.asarray(res["y"])[b],
            "o",
            ms=7,
            color="#d08a3a",
            mec="black",
            label="batch",
        )
        ax2.plot(
            xs, _common.gabor(xt, *phi_c).numpy(), "--", color="#222222", lw=1, label="model before"
        )
        ax2.plot(
            xs,
            _common.gabor(xt, after[0], after[1]).numpy(),
            color="#3060ff",
            lw=1.3,
            label="model after",
        )
        ax2.set_ylim(-1.2, 1.2)
        ax2.set_xlabel("input x")
        ax2.set_ylabel("output y")
        ax2.set_title(f"{letters[k]}, inset) The step refits the batch", fontsize=10)
        if k == 0:
            ax2.legend(fontsize=7, loc="lower left", ncol=2)
    fig.suptitle(
        TITLE + f" (α = {res['lr']}; {100 * res['fraction_uphill_on_full_downhill_on_batch']:.0f}%"
        " of the batches go downhill on their loss but uphill on the full loss)"
    )
    return _common.save_figure(fig, out_dir, NAME)


def run(out_dir: Path, fast: bool = False) -> dict:
    res = compute(fast)
    return {
        "png": plot(res, out_dir),
        "json": _common.save_json(res, out_dir, NAME),
        "n_batches": res["n_batches"],
        "fraction_uphill_on_full_downhill_on_batch": res[
            "fraction_uphill_on_full_downhill_on_batch"
        ],
        "uphill_batch": res["shown_batches"][2]["batch"],
        "uphill_batch_delta_full": res["shown_batches"][2]["full_loss_after"]
        - res["shown_batches"][2]["full_loss_before"],
        "uphill_batch_delta_batch": res["shown_batches"][2]["batch_loss_after"]
        - res["shown_batches"][2]["batch_loss_before"],
        "steps_match_rule": all(s["step_matches_rule"] for s in res["shown_batches"]),
    }
