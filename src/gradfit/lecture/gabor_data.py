"""Figure 6.3: the training data for fitting the Gabor model.

28 inputs x_i uniform on [-15, 15] pass through the Gabor model
f[x, phi] = sin(phi0 + 0.06 phi1 x) exp(-(phi0 + 0.06 phi1 x)^2 / 32) with
phi = [0, 16.6], plus Gaussian noise of standard deviation 0.15 (our choice: the lecture
does not give it; with it the best fit's loss is 0.63, close to the lecture's 0.64),
drawn from a gradfit generator seeded with 1 (``_common.GABOR_SEED``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gradfit.lecture import _common

NAME = "gabor_data"
TITLE = "Figure 6.3: training data for the Gabor model"


def compute(fast: bool = False) -> dict:
    x, y = _common.gabor_data()
    xs = np.linspace(-15, 15, 400)
    true_curve = _common.gabor(_common.as_tensor(xs), *_common.GABOR_TRUE_PHI).numpy()
    clean = _common.gabor(_common.as_tensor(x), *_common.GABOR_TRUE_PHI).numpy()
    loss_true = float(((clean - y) ** 2).sum())
    return {
        "x": x,
        "y": y,
        "n": int(x.size),
        "true_phi": list(_common.GABOR_TRUE_PHI),
        "noise_std": _common.GABOR_NOISE_STD,
        "seed": _common.GABOR_SEED,
        "curve_x": xs,
        "curve_y": true_curve,
        "loss_at_true_phi": loss_true,
        "residual_std": float(np.std(y - clean)),
    }


def plot(res: dict, out_dir: Path) -> str:
    fig = _common.new_figure(7, 4)
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(
        res["curve_x"],
        res["curve_y"],
        "--",
        color="#555555",
        lw=1,
        label="Gabor model, φ = [0, 16.6]",
    )
    ax.plot(
        res["x"],
        res["y"],
        "o",
        color="#d08a3a",
        mec="black",
        mew=0.5,
        label=f"{res['n']} training pairs (noise σ = {res['noise_std']})",
    )
    ax.set_xlabel("input x")
    ax.set_ylabel("output y")
    ax.set_xlim(-15, 15)
    ax.set_ylim(-1.2, 1.2)
    ax.set_title(TITLE)
    ax.legend(loc="lower left", fontsize=9)
    return _common.save_figure(fig, out_dir, NAME)


def run(out_dir: Path, fast: bool = False) -> dict:
    res = compute(fast)
    return {
        "png": plot(res, out_dir),
        "json": _common.save_json(res, out_dir, NAME),
        "n": res["n"],
        "noise_std": res["noise_std"],
        "loss_at_true_phi": res["loss_at_true_phi"],
        "x_range": [float(res["x"].min()), float(res["x"].max())],
    }
