"""SGD with a scheduled learning rate ("SGD: Scheduled Learning Rate").

The lecture: the learning rate starts high, to explore, and is decreased by a constant
factor every N epochs, to fine-tune. Here SGD on the Gabor model (the figure 6.7 setting:
same start, same batches of three, summed batch loss) runs for 30 epochs

* with a constant learning rate alpha = 1, and
* with ``gradfit.optim.lr_scheduler.StepLR(step_size=5, gamma=0.5)`` from alpha = 1,
  stepped once per epoch (PyTorch's order: ``optimizer.step()`` in the batch loop, then
  ``scheduler.step()``), so alpha halves every 5 epochs.

Both reach the global minimum's valley; at a constant rate SGD keeps bouncing around in
it, while the decayed rate settles (lower last-epoch mean loss).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import gradfit
from gradfit.lecture import _common
from gradfit.lecture.momentum import START, plot_paths, train_gabor, zoom_grid
from gradfit.optim.lr_scheduler import StepLR

NAME = "schedules"
TITLE = "SGD with a step-decay learning rate vs. a constant one (Gabor model, batch size 3)"
LR = 1.0
STEP_SIZE = 5
GAMMA = 0.5
EPOCHS = 30


def compute(fast: bool = False) -> dict:
    const = train_gabor(lambda p: gradfit.optim.SGD(p, lr=LR), START, EPOCHS)
    step = train_gabor(
        lambda p: gradfit.optim.SGD(p, lr=LR),
        START,
        EPOCHS,
        make_scheduler=lambda o: StepLR(o, step_size=STEP_SIZE, gamma=GAMMA),
    )
    phi0, phi1, grid = zoom_grid([const["path"], step["path"]], fast)
    return {
        "start": list(START),
        "lr": LR,
        "step_size": STEP_SIZE,
        "gamma": GAMMA,
        "epochs": EPOCHS,
        "constant": const,
        "step_lr": step,
        "phi0": phi0,
        "phi1": phi1,
        "loss_grid": grid,
    }


def plot(res: dict, out_dir: Path) -> str:
    fig = _common.new_figure(20, 5.4)
    gs = plot_paths(
        fig,
        res,
        [
            ("constant", f"SGD, constant α = {res['lr']}", "#ff5050"),
            (
                "step_lr",
                f"SGD, StepLR: α = {res['lr']}, ×{res['gamma']} every {res['step_size']} epochs",
                "#40c040",
            ),
        ],
        TITLE,
        n_extra=1,
    )
    ax = fig.add_subplot(gs[3])
    epochs = np.arange(res["epochs"])
    ax.step(
        epochs, res["constant"]["lr_per_epoch"], where="post", color="#ff5050", label="constant"
    )
    ax.step(epochs, res["step_lr"]["lr_per_epoch"], where="post", color="#40c040", label="StepLR")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("learning rate α (log scale)")
    ax.set_title("d) Learning rate per epoch", fontsize=10)
    ax.legend(fontsize=8)
    return _common.save_figure(fig, out_dir, NAME)


def run(out_dir: Path, fast: bool = False) -> dict:
    res = compute(fast)
    return {
        "png": plot(res, out_dir),
        "json": _common.save_json(res, out_dir, NAME),
        "constant_last_epoch_mean_loss": res["constant"]["last_epoch_mean_loss"],
        "step_lr_last_epoch_mean_loss": res["step_lr"]["last_epoch_mean_loss"],
        "step_lr_final_lr": res["step_lr"]["lr_per_epoch"][-1],
    }
