"""Shared pieces of the lecture figures: output files, data sets, the Gabor model.

Every figure module makes its data, computes with gradfit's public API, and hands the
numbers to matplotlib through ``new_figure``/``save_figure``. Plots use
``matplotlib.figure.Figure`` directly (no pyplot), so nothing here switches the process's
matplotlib backend: the figures render with Agg in a script and still display inline in a
notebook.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

import gradfit
from gradfit import Tensor

DTYPE = gradfit.float64  # the lecture's numbers are computed in float64

# Gabor model (lecture "Gabor Model", figure 6.3): data made with phi = [0, 16.6].
GABOR_TRUE_PHI = (0.0, 16.6)
GABOR_N = 28
GABOR_NOISE_STD = 0.15
GABOR_SEED = 1
# The window of figure 6.4: offset phi0 in [-10, 10], frequency phi1 in [2.5, 22.5].
GABOR_WINDOW = ((-10.0, 10.0), (2.5, 22.5))


def new_figure(width: float, height: float):
    """A matplotlib ``Figure`` that renders with Agg whatever the pyplot backend is."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def save_figure(fig, out_dir: Path, name: str) -> str:
    path = Path(out_dir) / f"{name}.png"
    fig.savefig(path, dpi=100)
    return str(path)


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, Tensor):
        return _jsonable(obj.detach().numpy())
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return _jsonable(obj.item())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None if math.isnan(obj) else ("inf" if obj > 0 else "-inf")
    return obj


def save_json(data: dict, out_dir: Path, name: str) -> str:
    path = Path(out_dir) / f"{name}.json"
    path.write_text(json.dumps(_jsonable(data), separators=(",", ":")))
    return str(path)


def generator(seed: int) -> gradfit.Generator:
    """A seeded gradfit generator (PyTorch's stream: the same seed gives torch's data)."""
    return gradfit.Generator().manual_seed(seed)


def as_tensor(a, requires_grad: bool = False) -> Tensor:
    return gradfit.tensor(np.asarray(a, dtype=np.float64), dtype=DTYPE, requires_grad=requires_grad)


# --------------------------------------------------------------------------- data sets
def linear_regression_data(seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """The 12-point training set of figure 6.1.

    x is uniform on [0, 2] (sorted), y = 0.55 + 0.6 x + N(0, 0.1^2) noise, drawn from a
    gradfit generator seeded with ``seed``.
    """
    g = generator(seed)
    x = gradfit.rand(12, generator=g, dtype=DTYPE) * 2.0
    noise = gradfit.randn(12, generator=g, dtype=DTYPE) * 0.1
    y = 0.55 + 0.6 * x + noise
    order = np.argsort(x.numpy())
    return x.numpy()[order], y.numpy()[order]


def gabor(x, phi0, phi1):
    """The lecture's Gabor model.

    f[x, phi] = sin(phi0 + 0.06 phi1 x) exp(-(phi0 + 0.06 phi1 x)^2 / 32).

    Works on gradfit tensors (and broadcasts), so autodiff gives its gradients.
    """
    z = phi0 + 0.06 * phi1 * x
    return gradfit.sin(z) * gradfit.exp(-(z * z) / 32.0)


def gabor_data(
    n: int = GABOR_N, noise_std: float = GABOR_NOISE_STD, seed: int = GABOR_SEED
) -> tuple[np.ndarray, np.ndarray]:
    """The training data of figure 6.3.

    ``n`` inputs x uniform on [-15, 15] pass through the Gabor model with phi = [0, 16.6];
    Gaussian noise of standard deviation ``noise_std`` (0.15 by default, chosen so the
    global minimum's loss is close to the lecture's 0.64) is added. Drawn from a gradfit
    generator seeded with ``seed``.
    """
    g = generator(seed)
    x = gradfit.rand(n, generator=g, dtype=DTYPE) * 30.0 - 15.0
    noise = gradfit.randn(n, generator=g, dtype=DTYPE) * noise_std
    y = gabor(x, GABOR_TRUE_PHI[0], GABOR_TRUE_PHI[1]) + noise
    return x.numpy(), y.numpy()


def gabor_loss(phi: Tensor, x, y) -> Tensor:
    """Least-squares loss L[phi] = sum_i (f[x_i, phi] - y_i)^2 of the Gabor model.

    ``phi`` has shape (..., 2); the result has shape (...): one loss per parameter
    vector, so a batch of independent starting points descends in one graph.
    """
    xt = as_tensor(x)
    yt = as_tensor(y)
    pred = gabor(xt, phi[..., 0:1], phi[..., 1:2])
    return ((pred - yt) ** 2).sum(-1)


def gabor_loss_grid(x, y, phi0: np.ndarray, phi1: np.ndarray) -> np.ndarray:
    """The loss on a grid: rows follow ``phi1``, columns ``phi0`` (``imshow`` order)."""
    p0 = as_tensor(phi0).reshape(1, -1, 1)
    p1 = as_tensor(phi1).reshape(-1, 1, 1)
    pred = gabor(as_tensor(x), p0, p1)
    return ((pred - as_tensor(y)) ** 2).sum(-1).numpy()


def gabor_grad(phi: np.ndarray, x, y) -> np.ndarray:
    """dL/dphi at each row of ``phi`` (shape (..., 2)), by gradfit's autodiff."""
    p = as_tensor(phi, requires_grad=True)
    gabor_loss(p, x, y).sum().backward()
    return p.grad.numpy()


def gabor_hessian(phi: np.ndarray, x, y) -> np.ndarray:
    """The 2x2 Hessian of the Gabor loss at each row of ``phi``, shape (..., 2, 2), from
    the engine's second derivatives (``create_graph=True``).

    The rows' losses are independent, so d(sum of losses)/dphi holds every row's
    gradient, and differentiating its column j once more gives every row's H[:, j]:
    two double-backward passes for any number of rows. For one row this is
    ``gradfit.autograd.functional.hessian`` of ``gabor_loss``.
    """
    p = as_tensor(np.asarray(phi, dtype=np.float64), requires_grad=True)
    (g,) = gradfit.autograd.grad(gabor_loss(p, x, y).sum(), p, create_graph=True)
    cols = [gradfit.autograd.grad(g[..., j].sum(), p, retain_graph=True)[0] for j in range(2)]
    return np.stack([c.numpy() for c in cols], axis=-1)


def heatmap(ax, values: np.ndarray, xs: np.ndarray, ys: np.ndarray, log: bool = False, cmap="gray"):
    """Loss heatmap (bright = high loss, as the lecture draws it) with contour lines."""
    shown = np.log(np.maximum(values, values.max() * 1e-9)) if log else values
    im = ax.imshow(
        shown,
        origin="lower",
        extent=(xs[0], xs[-1], ys[0], ys[-1]),
        aspect="auto",
        cmap=cmap,
    )
    ax.contour(xs, ys, shown, levels=12, colors="#d08a3a", linewidths=0.5, alpha=0.8)
    return im
