"""The lecture's "Overall Backprop Algorithm" for a deep ReLU network: by hand vs. autodiff.

A network with K hidden layers (here K = 5, 6 units each, 4 inputs, 2 outputs) and the
least-squares loss l = sum (f_K - y)^2, for one example x_i, in the slides' notation with
column vectors::

    forward:   f_0 = beta_0 + Omega_0 x,   h_k = a[f_{k-1}],   f_k = beta_k + Omega_k h_k
    backward:  dl/df_K = 2 (f_K - y)
               dl/dbeta_k = dl/df_k,   dl/dOmega_k = dl/df_k h_k^T          (k = K..1)
               dl/df_{k-1} = I[f_{k-1} > 0] * (Omega_k^T dl/df_k)
               dl/dbeta_0 = dl/df_0,   dl/dOmega_0 = dl/df_0 x^T

The "by hand" column is that algorithm in NumPy; the autodiff column is gradfit: the same
network built from gradfit tensors (float64), ``retain_grad()`` on every f_k, one
``backward()``. The weights are N(0, 1) draws from a seeded gradfit generator scaled by He's
sqrt(2 / fan_in).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import gradfit
from gradfit.lecture import _common

NAME = "backprop_deep"
TITLE = "Overall backprop algorithm: deep ReLU network, by hand (NumPy) vs. gradfit autodiff"

K, D_IN, D_HID, D_OUT = 5, 4, 6, 2


def make_network(seed: int = 7):
    """Weights Omega_k, biases beta_k (column vectors), one input x and target y."""
    g = _common.generator(seed)
    sizes = [D_IN] + [D_HID] * K + [D_OUT]
    omegas, betas = [], []
    for k in range(K + 1):
        fan_in = sizes[k]
        omegas.append(
            (
                gradfit.randn(sizes[k + 1], fan_in, generator=g, dtype=_common.DTYPE)
                * np.sqrt(2.0 / fan_in)
            ).numpy()
        )
        betas.append(
            (gradfit.randn(sizes[k + 1], 1, generator=g, dtype=_common.DTYPE) * 0.1).numpy()
        )
    x = gradfit.randn(D_IN, 1, generator=g, dtype=_common.DTYPE).numpy()
    y = gradfit.randn(D_OUT, 1, generator=g, dtype=_common.DTYPE).numpy()
    return omegas, betas, x, y


def by_hand(omegas, betas, x, y) -> dict:
    """The slides' forward and backward passes in NumPy."""
    f = [betas[0] + omegas[0] @ x]
    h = [x]  # h[0] is the input, so that h[k] matches the slides' h_k for k >= 1
    for k in range(1, K + 1):
        h.append(np.maximum(f[k - 1], 0.0))
        f.append(betas[k] + omegas[k] @ h[k])
    loss = float(((f[K] - y) ** 2).sum())
    df = [None] * (K + 1)
    dbeta = [None] * (K + 1)
    domega = [None] * (K + 1)
    df[K] = 2 * (f[K] - y)
    for k in range(K, 0, -1):
        dbeta[k] = df[k]
        domega[k] = df[k] @ h[k].T
        df[k - 1] = (f[k - 1] > 0) * (omegas[k].T @ df[k])
    dbeta[0] = df[0]
    domega[0] = df[0] @ x.T
    return {"loss": loss, "f": f, "h": h, "df": df, "dbeta": dbeta, "domega": domega}


def by_autodiff(omegas, betas, x, y) -> dict:
    """The same network in gradfit; gradients from ``backward()``."""
    om = [_common.as_tensor(w, requires_grad=True) for w in omegas]
    be = [_common.as_tensor(b, requires_grad=True) for b in betas]
    xt, yt = _common.as_tensor(x), _common.as_tensor(y)
    f = [be[0] + om[0] @ xt]
    for k in range(1, K + 1):
        f.append(be[k] + om[k] @ gradfit.relu(f[k - 1]))
    for t in f:
        t.retain_grad()
    loss = ((f[K] - yt) ** 2).sum()
    loss.backward()
    return {
        "loss": loss.item(),
        "f": [t.detach().numpy() for t in f],
        "df": [t.grad.numpy() for t in f],
        "dbeta": [b.grad.numpy() for b in be],
        "domega": [w.grad.numpy() for w in om],
    }


def compute(fast: bool = False) -> dict:
    omegas, betas, x, y = make_network()
    hand = by_hand(omegas, betas, x, y)
    auto = by_autodiff(omegas, betas, x, y)
    per_layer = []
    for k in range(K + 1):
        per_layer.append(
            {
                "layer": k,
                "max_abs_diff_df": float(np.abs(hand["df"][k] - auto["df"][k]).max()),
                "max_abs_diff_dbeta": float(np.abs(hand["dbeta"][k] - auto["dbeta"][k]).max()),
                "max_abs_diff_domega": float(np.abs(hand["domega"][k] - auto["domega"][k]).max()),
                "norm_domega_hand": float(np.linalg.norm(hand["domega"][k])),
                "norm_domega_autodiff": float(np.linalg.norm(auto["domega"][k])),
                "active_units": int((hand["f"][k] > 0).sum()) if k < K else None,
            }
        )
    max_diff = max(
        max(r["max_abs_diff_df"], r["max_abs_diff_dbeta"], r["max_abs_diff_domega"])
        for r in per_layer
    )
    return {
        "K": K,
        "sizes": [D_IN] + [D_HID] * K + [D_OUT],
        "loss_hand": hand["loss"],
        "loss_autodiff": auto["loss"],
        "per_layer": per_layer,
        "max_abs_diff": max_diff,
        "hand_dl_df": [a.ravel() for a in hand["df"]],
        "relu_masks": [(a > 0).astype(int).ravel() for a in hand["f"][:K]],
        "hand_grads": np.concatenate(
            [a.ravel() for a in hand["domega"]] + [a.ravel() for a in hand["dbeta"]]
        ),
        "autodiff_grads": np.concatenate(
            [a.ravel() for a in auto["domega"]] + [a.ravel() for a in auto["dbeta"]]
        ),
    }


def plot(res: dict, out_dir: Path) -> str:
    fig = _common.new_figure(15, 4.8)
    ax1, ax2, ax3 = (fig.add_subplot(1, 3, i) for i in (1, 2, 3))
    hand, auto = np.asarray(res["hand_grads"]), np.asarray(res["autodiff_grads"])
    lim = np.abs(np.concatenate([hand, auto])).max() * 1.1
    ax1.plot([-lim, lim], [-lim, lim], color="#bbbbbb", lw=1, label="y = x")
    ax1.plot(
        hand,
        auto,
        "o",
        ms=4,
        color="#3060c0",
        alpha=0.8,
        label=f"{hand.size} entries of ∂ℓ/∂Ω_k, ∂ℓ/∂β_k",
    )
    ax1.set_xlabel("by hand (slides' algorithm, NumPy)")
    ax1.set_ylabel("gradfit autodiff")
    ax1.set_title(f"a) Every parameter gradient (max |diff| = {res['max_abs_diff']:.1e})")
    ax1.legend(fontsize=8, loc="upper left")

    layers = np.arange(res["K"] + 1)
    nh = [r["norm_domega_hand"] for r in res["per_layer"]]
    na = [r["norm_domega_autodiff"] for r in res["per_layer"]]
    ax2.bar(layers - 0.2, nh, width=0.4, color="#d08a3a", label="by hand")
    ax2.bar(layers + 0.2, na, width=0.4, color="#3060c0", label="autodiff")
    for k, r in enumerate(res["per_layer"]):
        worst = max(r["max_abs_diff_df"], r["max_abs_diff_dbeta"], r["max_abs_diff_domega"])
        ax2.annotate(
            f"{worst:.0e}",
            (k, max(nh[k], na[k])),
            xytext=(0, 3),
            textcoords="offset points",
            ha="center",
            fontsize=7,
        )
    ax2.set_xticks(layers)
    ax2.set_xlabel("layer k")
    ax2.set_ylabel("‖∂ℓ/∂Ω_k‖ (Frobenius)")
    ax2.set_title("b) Weight-gradient norm per layer (label: max |diff|)")
    ax2.legend(fontsize=8)

    df = np.array(res["hand_dl_df"][: res["K"]]).T  # units x layers (hidden pre-activations)
    vmax = np.abs(df).max()
    im = ax3.imshow(df, cmap="coolwarm", vmin=-vmax, vmax=vmax, aspect="auto")
    masks = np.array(res["relu_masks"]).T
    for (u, k), m in np.ndenumerate(masks):
        if not m:
            ax3.text(k, u, "0", ha="center", va="center", fontsize=8, color="#555555")
    ax3.set_xticks(range(res["K"]))
    ax3.set_xlabel("layer k (pre-activation f_k)")
    ax3.set_ylabel("hidden unit")
    ax3.set_title("c) ∂ℓ/∂f_k; '0' where 𝕀[f_k > 0] = 0 blocks it")
    fig.colorbar(im, ax=ax3, label="∂ℓ/∂f_k")
    fig.suptitle(TITLE)
    return _common.save_figure(fig, out_dir, NAME)


def run(out_dir: Path, fast: bool = False) -> dict:
    res = compute(fast)
    return {
        "png": plot(res, out_dir),
        "json": _common.save_json(res, out_dir, NAME),
        "max_abs_diff": res["max_abs_diff"],
        "loss": res["loss_autodiff"],
    }
