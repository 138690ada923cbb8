"""Figure 6.7: stochastic gradient descent with and without momentum on the Gabor model.

Both runs start at the same point, see the same batches of three (a ``DataLoader`` over
the 28 pairs, shuffled by a seeded gradfit generator, last short batch dropped) and use
the lecture's summed batch loss L_B = sum_{i in B} (f[x_i, phi] - y_i)^2 with the same
learning rate alpha:

* SGD (``gradfit.optim.SGD``): phi <- phi - alpha g;
* SGD with momentum in the lecture's form (``gradfit.optim.lecture.Momentum``, eq. 6.11):
  m <- beta m + (1 - beta) g,  phi <- phi - alpha m.

With a learning rate this large, plain SGD's path zig-zags with every batch and keeps
bouncing around the minimum; momentum averages the batch gradients, so its path is smooth
and it settles lower. "Ends" is measured as the mean full-data loss over the last epoch's
iterates (one iterate alone is a noisy sample of where SGD is).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

import gradfit
from gradfit.lecture import _common
from gradfit.optim.lecture import Momentum

NAME = "momentum"
TITLE = "Figure 6.7: SGD vs. SGD with momentum (Gabor model, batch size 3)"
START = (1.0, 12.5)
LR = 1.0
BETA = 0.9
BATCH = 3
SEED = 2


def train_gabor(
    make_optimizer: Callable,
    start,
    epochs: int,
    seed: int = SEED,
    closure: bool = False,
    make_scheduler: Callable | None = None,
) -> dict:
    """Minibatch training of the Gabor model's phi; returns the path and full losses.

    Args:
        make_optimizer: ``params -> optimizer``.
        start: the initial phi.
        epochs: passes over the data.
        seed: the data loader's shuffling seed (the same seed gives the same batches).
        closure: call ``opt.step(closure)`` (Nesterov evaluates the gradient itself).
        make_scheduler: ``optimizer -> scheduler``, stepped once per epoch (after the
            epoch's optimizer steps, PyTorch's order).
    """
    from gradfit.utils.data import DataLoader, TensorDataset

    x, y = _common.gabor_data()
    phi = _common.as_tensor(start, requires_grad=True)
    opt = make_optimizer([phi])
    scheduler = make_scheduler(opt) if make_scheduler is not None else None
    loader = DataLoader(
        TensorDataset(_common.as_tensor(x), _common.as_tensor(y)),
        batch_size=BATCH,
        shuffle=True,
        drop_last=True,
        generator=_common.generator(seed),
    )
    path = [phi.detach().numpy().copy()]
    lrs = []
    for _ in range(epochs):
        lrs.append(opt.param_groups[0]["lr"])
        for xb, yb in loader:

            def batch_loss(xb=xb, yb=yb):
                opt.zero_grad()
                loss = ((_common.gabor(xb, phi[0], phi[1]) - yb) ** 2).sum()
                loss.backward()
                return loss

            if closure:
                opt.step(batch_loss)
            else:
                batch_loss()
                opt.step()
            path.append(phi.detach().numpy().copy())
        if scheduler is not None:
            scheduler.step()
    path = np.array(path)
    full = _common.gabor_loss(_common.as_tensor(path), x, y).numpy()
    steps_per_epoch = len(loader)
    return {
        "path": path,
        "full_loss": full,
        "final_loss": float(full[-1]),
        "last_epoch_mean_loss": float(full[-steps_per_epoch:].mean()),
        "steps_per_epoch": steps_per_epoch,
        "lr_per_epoch": lrs,
        "path_length": float(np.linalg.norm(np.diff(path, axis=0), axis=1).sum()),
    }


def compute(fast: bool = False) -> dict:
    epochs = 30
    sgd = train_gabor(lambda p: gradfit.optim.SGD(p, lr=LR), START, epochs)
    mom = train_gabor(lambda p: Momentum(p, lr=LR, beta=BETA), START, epochs)
    phi0, phi1, grid = zoom_grid([sgd["path"], mom["path"]], fast)
    return {
        "start": list(START),
        "lr": LR,
        "beta": BETA,
        "batch_size": BATCH,
        "epochs": epochs,
        "sgd": sgd,
        "momentum": mom,
        "phi0": phi0,
        "phi1": phi1,
        "loss_grid": grid,
    }


def zoom_grid(paths: list, fast: bool, pad: float = 1.0):
    """The Gabor loss on the box around ``paths`` (inside the lecture's window)."""
    x, y = _common.gabor_data()
    pts = np.concatenate(paths)
    (a0, b0), (a1, b1) = _common.GABOR_WINDOW
    lo = np.maximum(pts.min(0) - pad, [a0, a1])
    hi = np.minimum(pts.max(0) + pad, [b0, b1])
    n = 61 if fast else 161
    phi0 = np.linspace(lo[0], hi[0], n)
    phi1 = np.linspace(lo[1], hi[1], n)
    return phi0, phi1, _common.gabor_loss_grid(x, y, phi0, phi1)


def plot_paths(fig, res: dict, runs: list[tuple[str, str, str]], title: str, n_extra: int = 0):
    """Shared layout for 6.7 and 6.8: two path panels and the loss curves (then
    ``n_extra`` free columns, returned with the grid spec)."""
    gs = fig.add_gridspec(1, 3 + n_extra)
    for k, (key, label, color) in enumerate(runs):
        ax = fig.add_subplot(gs[k])
        _common.heatmap(ax, res["loss_grid"], res["phi0"], res["phi1"], log=True)
        path = np.asarray(res[key]["path"])
        ax.plot(path[:, 0], path[:, 1], "-", color=color, lw=0.9, alpha=0.9)
        ax.plot(path[:, 0], path[:, 1], ".", color=color, ms=2.5)
        ax.plot(*path[0], "o", color="white", mec="black", ms=7, label="start")
        ax.plot(*path[-1], "*", color="yellow", mec="black", ms=12, label="end")
        ax.set_xlabel("offset φ0")
        ax.set_ylabel("frequency φ1")
        ax.set_title(
            f"{'ab'[k]}) {label}\npath length {res[key]['path_length']:.1f}, "
            f"last-epoch mean loss {res[key]['last_epoch_mean_loss']:.3f}",
            fontsize=10,
        )
        ax.legend(fontsize=8, loc="lower left")
    ax = fig.add_subplot(gs[2])
    for key, label, color in runs:
        ax.semilogy(res[key]["full_loss"], color=color, lw=1, label=label)
    ax.axhline(
        min(min(res[k]["full_loss"]) for k, _, _ in runs),
        color="#888888",
        ls=":",
        lw=1,
        label="lowest loss reached",
    )
    ax.set_xlabel("iteration (one batch of 3 each)")
    ax.set_ylabel("full-data loss L[φ] (log scale)")
    ax.set_title("c) Full-data loss along each path", fontsize=10)
    ax.legend(fontsize=8)
    fig.suptitle(title)
    return gs


def plot(res: dict, out_dir: Path) -> str:
    fig = _common.new_figure(16, 5.4)
    plot_paths(
        fig,
        res,
        [
            ("sgd", f"SGD, α = {res['lr']}", "#ff5050"),
            ("momentum", f"SGD + momentum, α = {res['lr']}, β = {res['beta']}", "#3aa0ff"),
        ],
        TITLE,
    )
    return _common.save_figure(fig, out_dir, NAME)


def run(out_dir: Path, fast: bool = False) -> dict:
    res = compute(fast)
    return {
        "png": plot(res, out_dir),
        "json": _common.save_json(res, out_dir, NAME),
        "sgd_last_epoch_mean_loss": res["sgd"]["last_epoch_mean_loss"],
        "momentum_last_epoch_mean_loss": res["momentum"]["last_epoch_mean_loss"],
        "sgd_final_loss": res["sgd"]["final_loss"],
        "momentum_final_loss": res["momentum"]["final_loss"],
        "sgd_path_length": res["sgd"]["path_length"],
        "momentum_path_length": res["momentum"]["path_length"],
    }
