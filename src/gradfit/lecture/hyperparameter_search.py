"""Hyperparameter search: the final loss over a grid of learning rate x momentum.

"The choices of learning algorithm, batch size, learning rate schedule, and momentum
coefficients are all considered hyperparameters ... it's common to train many models with
different hyperparameters and choose the best one."

The model and training loop are the lecture's own program: a 10-40-40-5 ReLU network
(``gradfit.nn``), He initialisation (``kaiming_uniform_``, zero biases), ``MSELoss``,
``gradfit.optim.SGD(lr, momentum)`` with ``StepLR(step_size=10, gamma=0.5)``, and a
``DataLoader`` over 100 random points in batches of 10. Every grid cell trains the same
initial network on the same data and the same batch order; only (lr, momentum) change.
The heatmap shows the full-data loss after training (log colour scale; runs whose loss
overflowed are marked as diverged).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

import gradfit
from gradfit.lecture import _common

NAME = "hyperparameter_search"
TITLE = "Hyperparameter search: loss after training over learning rate × momentum"
D_I, D_K, D_O = 10, 40, 5


def make_data(seed: int = 0):
    g = _common.generator(seed)
    x = gradfit.randn(100, D_I, generator=g)
    y = gradfit.randn(100, D_O, generator=g)
    return x, y


def make_model(seed: int = 1):
    nn = gradfit.nn
    g = _common.generator(seed)
    model = nn.Sequential(
        nn.Linear(D_I, D_K), nn.ReLU(), nn.Linear(D_K, D_K), nn.ReLU(), nn.Linear(D_K, D_O)
    )
    for layer in model.modules():
        if isinstance(layer, nn.Linear):
            nn.init.kaiming_uniform_(layer.weight, generator=g)
            layer.bias.data.fill_(0.0)
    return model


def train(lr: float, momentum: float, epochs: int, x, y, state: dict) -> float:
    """The lecture's training loop from the saved initial ``state``; returns the final
    full-data MSE (inf when it overflowed)."""
    from gradfit.optim.lr_scheduler import StepLR
    from gradfit.utils.data import DataLoader, TensorDataset

    model = make_model()
    model.load_state_dict(state)
    criterion = gradfit.nn.MSELoss()
    optimizer = gradfit.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    scheduler = StepLR(optimizer, step_size=10, gamma=0.5)
    loader = DataLoader(
        TensorDataset(x, y), batch_size=10, shuffle=True, generator=_common.generator(2)
    )
    with np.errstate(all="ignore"):  # a diverging run overflows; that is its result
        for _ in range(epochs):
            for x_batch, y_batch in loader:
                optimizer.zero_grad()
                loss = criterion(model(x_batch), y_batch)
                loss.backward()
                optimizer.step()
            scheduler.step()
        with gradfit.no_grad():
            final = criterion(model(x), y).item()
    return final if math.isfinite(final) else math.inf


def compute(fast: bool = False) -> dict:
    if fast:
        lrs = [0.003, 0.03, 0.3]
        momenta = [0.0, 0.9, 0.99]
        epochs = 10
    else:
        lrs = [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0]
        momenta = [0.0, 0.5, 0.9, 0.95, 0.99]
        epochs = 100  # as the lecture's program
    x, y = make_data()
    state = make_model().state_dict()
    initial = gradfit.nn.MSELoss()(make_model()(x), y).item()
    grid = np.array([[train(lr, m, epochs, x, y, state) for lr in lrs] for m in momenta])
    finite = np.where(np.isfinite(grid), grid, np.inf)
    i, j = np.unravel_index(np.argmin(finite), grid.shape)
    return {
        "learning_rates": lrs,
        "momenta": momenta,
        "epochs": epochs,
        "initial_loss": initial,
        "final_loss": grid,  # rows: momentum, columns: learning rate
        "best": {"lr": lrs[j], "momentum": momenta[i], "loss": float(grid[i, j])},
        "n_diverged": int((~np.isfinite(grid)).sum()),
    }


def plot(res: dict, out_dir: Path) -> str:
    from matplotlib.colors import LogNorm
    from matplotlib.patches import Rectangle

    grid = np.asarray(res["final_loss"], dtype=float)
    lrs, momenta = res["learning_rates"], res["momenta"]
    fig = _common.new_figure(8.5, 5.5)
    ax = fig.add_subplot(1, 1, 1)
    shown = np.ma.masked_invalid(np.where(np.isfinite(grid), grid, np.nan))
    finite = grid[np.isfinite(grid)]
    im = ax.imshow(
        shown,
        cmap="viridis_r",
        origin="lower",
        aspect="auto",
        norm=LogNorm(vmin=finite.min(), vmax=max(finite.max(), finite.min() * 1.01)),
    )
    ax.set_facecolor("#d62728")
    for (i, j), v in np.ndenumerate(grid):
        text = f"{v:.3f}" if np.isfinite(v) else "diverged"
        dark = np.isfinite(v) and v > np.sqrt(finite.min() * finite.max())  # purple end
        ax.text(
            j, i, text, ha="center", va="center", fontsize=8, color="white" if dark else "black"
        )
    b = res["best"]
    bi, bj = momenta.index(b["momentum"]), lrs.index(b["lr"])
    ax.add_patch(Rectangle((bj - 0.5, bi - 0.5), 1, 1, fill=False, ec="#ff5050", lw=2.5))
    ax.set_xticks(range(len(lrs)), [f"{v:g}" for v in lrs])
    ax.set_yticks(range(len(momenta)), [f"{v:g}" for v in momenta])
    ax.set_xlabel("learning rate α")
    ax.set_ylabel("momentum")
    fig.colorbar(im, ax=ax, label="full-data MSE after training (log scale)")
    ax.set_title(
        f"{TITLE}\nlecture's program: 10-40-40-5 ReLU net, SGD + StepLR, {res['epochs']} epochs;"
        f"\nstarting loss {res['initial_loss']:.3f}, best (red box) α = {b['lr']:g}, "
        f"momentum = {b['momentum']:g}: {b['loss']:.3f}",
        fontsize=10,
    )
    return _common.save_figure(fig, out_dir, NAME)


def run(out_dir: Path, fast: bool = False) -> dict:
    res = compute(fast)
    return {
        "png": plot(res, out_dir),
        "json": _common.save_json(res, out_dir, NAME),
        "best": res["best"],
        "initial_loss": res["initial_loss"],
        "n_diverged": res["n_diverged"],
        "grid_shape": list(np.shape(res["final_loss"])),
    }
