"""Figure 7.7: weight initialisation, variance per layer forward and backward.

A deep ReLU network with 50 hidden layers of D_h = 100 units (``gradfit.nn.Linear`` and
``gradfit.nn.ReLU`` in a ``Sequential``, float64), a 100-dimensional standard-normal input,
a single fixed target y = 0 and the least-squares loss (``gradfit.nn.MSELoss``). Biases
are zero; weights are N(0, sigma^2) with sigma^2 in {0.001, 0.01, 0.02, 0.1, 1.0}
(``nn.init.normal_`` draws, scaled by sigma, the same draws for every sigma^2; for
sigma^2 = 2 / D_h = 0.02 this is He initialisation, ``nn.init.he_normal_``).

Per hidden layer k the variance (over its 100 units) of

a) the pre-activations f_k in the forward pass, and
b) the gradients dl/df_k in the backward pass,

is recorded by ``gradfit.nn.utils.GradientMonitor`` (forward hooks on the Linear layers and
tensor hooks on their outputs). One network's variance wanders from layer to layer, so the
figure shows the geometric mean over many random networks (and inputs). The lecture's
analysis predicts a factor (1/2) D_h sigma^2 per layer (dashed lines): stable for He
(factor 1), growing for larger and shrinking for smaller sigma^2 ("exploding" and
"vanishing" gradients).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

import gradfit
from gradfit.lecture import _common

NAME = "initialisation"
TITLE = "Figure 7.7: variance per layer for 5 initial weight variances (50 layers x 100 units)"
SIGMA2 = (0.001, 0.01, 0.02, 0.1, 1.0)
DEPTH, WIDTH = 50, 100


def make_network():
    """50 hidden Linear(100, 100) + ReLU layers and a Linear(100, 1) output, float64."""
    nn = gradfit.nn
    layers = []
    for _ in range(DEPTH):
        layers += [nn.Linear(WIDTH, WIDTH, dtype=_common.DTYPE), nn.ReLU()]
    layers.append(nn.Linear(WIDTH, 1, dtype=_common.DTYPE))
    return nn.Sequential(*layers)


def draw_network(model, generator) -> list:
    """Standard-normal draws for every weight (``nn.init.normal_``), zero biases.

    Returns the draws; ``scale_network`` turns them into N(0, sigma^2) weights, so the five
    sigma^2 share the same random numbers (their curves differ only by sigma^2). For
    sigma^2 = 2 / D_h the weights equal ``nn.init.he_normal_`` with the same generator.
    """
    init = gradfit.nn.init
    draws = []
    for m in model.modules():
        if isinstance(m, gradfit.nn.Linear):
            init.normal_(m.weight, 0.0, 1.0, generator=generator)
            init.zeros_(m.bias)
            draws.append(m.weight.detach().clone())
    return draws


def scale_network(model, draws: list, sigma2: float) -> None:
    linears = [m for m in model.modules() if isinstance(m, gradfit.nn.Linear)]
    with gradfit.no_grad():
        for m, z in zip(linears, draws):
            m.weight.copy_(z * math.sqrt(sigma2))


def variances(model, n_networks: int, seed: int = 0) -> dict:
    """Per-layer activation and gradient variances of ``n_networks`` random networks for
    each sigma^2: ``{sigma2: {...}}``."""
    from gradfit.nn.utils import GradientMonitor

    g = _common.generator(seed)
    hidden = [m for m in model.modules() if isinstance(m, gradfit.nn.Linear)][:DEPTH]
    criterion = gradfit.nn.MSELoss()
    target = gradfit.zeros(1, 1, dtype=_common.DTYPE)
    acts = {s2: [] for s2 in SIGMA2}
    grads = {s2: [] for s2 in SIGMA2}
    for _ in range(n_networks):
        draws = draw_network(model, g)
        x = gradfit.randn(1, WIDTH, generator=g, dtype=_common.DTYPE)
        for s2 in SIGMA2:
            scale_network(model, draws, s2)
            with GradientMonitor(model, modules=hidden, warn=False) as monitor:
                model.zero_grad()
                criterion(model(x), target).backward()
                acts[s2].append([s.activation_var for s in monitor.layers])
                grads[s2].append([s.grad_var for s in monitor.layers])
    out = {}
    for s2 in SIGMA2:
        a, gr = np.array(acts[s2]), np.array(grads[s2])
        out[s2] = {
            "activation_var_per_network": a,
            "grad_var_per_network": gr,
            # geometric mean over networks: the variances span hundreds of decades
            "activation_var": np.exp(np.log(a).mean(0)),
            "grad_var": np.exp(np.log(gr).mean(0)),
        }
    return out


def compute(fast: bool = False) -> dict:
    n_networks = 10 if fast else 50
    model = make_network()
    results = variances(model, n_networks, seed=100)
    out = {}
    for s2, r in results.items():
        act, grd = r["activation_var"], r["grad_var"]
        out[str(s2)] = {
            "sigma2": s2,
            "activation_var": act,
            "grad_var": grd,
            "activation_var_per_network": r["activation_var_per_network"],
            "grad_var_per_network": r["grad_var_per_network"],
            "activation_ratio_last_first": float(act[-1] / act[0]),
            "grad_ratio_first_last": float(grd[0] / grd[-1]),
            "predicted_factor_per_layer": 0.5 * WIDTH * s2,
            "fitted_factor_per_layer": float(
                np.exp(np.polyfit(np.arange(DEPTH), np.log(act), 1)[0])
            ),
        }
    return {
        "depth": DEPTH,
        "width": WIDTH,
        "n_networks": n_networks,
        "he_sigma2": 2.0 / WIDTH,
        "runs": out,
    }


def plot(res: dict, out_dir: Path) -> str:
    fig = _common.new_figure(13, 5.2)
    axes = [fig.add_subplot(1, 2, i) for i in (1, 2)]
    colors = ["#1f77b4", "#2ca02c", "#000000", "#ff7f0e", "#d62728"]
    layers = np.arange(res["depth"])
    for color, r in zip(colors, res["runs"].values()):
        s2 = r["sigma2"]
        label = f"σ² = {s2:g}" + (" (He, 2/D_h)" if math.isclose(s2, res["he_sigma2"]) else "")
        lw = 2.5 if math.isclose(s2, res["he_sigma2"]) else 1.5
        act, grd = np.asarray(r["activation_var"]), np.asarray(r["grad_var"])
        factor = r["predicted_factor_per_layer"]
        axes[0].semilogy(layers, act, color=color, lw=lw, label=label)
        axes[0].semilogy(layers, act[0] * factor**layers, "--", color=color, lw=0.8)
        axes[1].semilogy(layers, grd, color=color, lw=lw, label=label)
        last = layers[-1]
        axes[1].semilogy(layers, grd[-1] * factor ** (last - layers), "--", color=color, lw=0.8)
    axes[0].set_title("a) Forward pass: variance of the pre-activations f_k")
    axes[0].set_ylabel("variance (log scale)")
    axes[1].set_title("b) Backward pass: variance of the gradients ∂ℓ/∂f_k")
    axes[1].set_ylabel("variance (log scale)")
    for ax in axes:
        ax.set_xlabel("layer k")
        ax.grid(alpha=0.3, which="major")
    axes[0].legend(fontsize=8, loc="upper left", title="weight variance", title_fontsize=8)
    axes[1].plot([], [], "--", color="#777777", lw=0.8, label="theory: ×(½·D_h·σ²) per layer")
    axes[1].legend(fontsize=8, loc="upper right")
    fig.suptitle(
        TITLE + f"\ngeometric mean over {res['n_networks']} random networks and inputs; float64"
    )
    return _common.save_figure(fig, out_dir, NAME)


def run(out_dir: Path, fast: bool = False) -> dict:
    res = compute(fast)
    out = {"png": plot(res, out_dir), "json": _common.save_json(res, out_dir, NAME)}
    out["n_networks"] = res["n_networks"]
    for key, r in res["runs"].items():
        out[f"activation_ratio_last_first[{key}]"] = r["activation_ratio_last_first"]
        out[f"grad_ratio_first_last[{key}]"] = r["grad_ratio_first_last"]
    return out
