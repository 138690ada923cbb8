"""Figures 7.3-7.5: backpropagation in the lecture's toy model, engine against chain rule.

The model f[x, phi] = beta3 + omega3 cos(beta2 + omega2 exp(beta1 + omega1 sin(beta0 +
omega0 x))) with loss l = (f - y)^2 is computed as the lecture's series of steps

    f0 = beta0 + omega0 x,  h1 = sin f0,  f1 = beta1 + omega1 h1,  h2 = exp f1,
    f2 = beta2 + omega2 h2,  h3 = cos f2,  f3 = beta3 + omega3 h3,  l = (f3 - y)^2.

Engine column: gradfit tensors (float64) with ``retain_grad()`` on every f_k and h_k, one
``l.backward()``; the parameters' ``.grad`` give dl/dbeta_k and dl/domega_k.

Chain-rule column: the slides' backward pass #1 (eq. 7.12) in plain Python floats,
dl/df3 = 2 (f3 - y), dl/dh3 = omega3 dl/df3, dl/df2 = -sin(f2) dl/dh3, dl/dh2 = omega2
dl/df2, dl/df1 = exp(f1) dl/dh2, dl/dh1 = omega1 dl/df1, dl/df0 = cos(f0) dl/dh1; then
pass #2: dl/dbeta_k = dl/df_k, dl/domega_k = h_k dl/df_k (and x dl/df0 for omega0).

The values are those of the book's toy-model notebook: beta = (1, 2, -3, 0.4),
omega = (0.1, -0.4, 2, 3), x = 2.3, y = 2.
"""

from __future__ import annotations

import math
from pathlib import Path

import gradfit
from gradfit.lecture import _common

NAME = "backprop_toy"
TITLE = "Figures 7.3-7.5: backprop in the toy model, engine vs. chain rule"

BETA = (1.0, 2.0, -3.0, 0.4)
OMEGA = (0.1, -0.4, 2.0, 3.0)
X, Y = 2.3, 2.0


def engine_values(beta=BETA, omega=OMEGA, x=X, y=Y) -> dict[str, float]:
    """Forward and backward quantities of the toy model from gradfit's autodiff."""
    b = [gradfit.tensor(v, dtype=_common.DTYPE, requires_grad=True) for v in beta]
    w = [gradfit.tensor(v, dtype=_common.DTYPE, requires_grad=True) for v in omega]
    f0 = b[0] + w[0] * x
    h1 = gradfit.sin(f0)
    f1 = b[1] + w[1] * h1
    h2 = gradfit.exp(f1)
    f2 = b[2] + w[2] * h2
    h3 = gradfit.cos(f2)
    f3 = b[3] + w[3] * h3
    loss = (f3 - y) ** 2
    inter = {"f0": f0, "h1": h1, "f1": f1, "h2": h2, "f2": f2, "h3": h3, "f3": f3}
    for t in inter.values():
        t.retain_grad()
    loss.backward()
    out = {k: t.item() for k, t in inter.items()}
    out["l"] = loss.item()
    for k, t in reversed(inter.items()):  # backward pass #1 runs from f3 down to f0
        out[f"dl/d{k}"] = t.grad.item()
    for k in range(4):
        out[f"dl/dbeta{k}"] = b[k].grad.item()
        out[f"dl/domega{k}"] = w[k].grad.item()
    return out


def chain_rule_values(beta=BETA, omega=OMEGA, x=X, y=Y) -> dict[str, float]:
    """The same quantities by the slides' forward pass and backward passes #1 and #2."""
    b, w = beta, omega
    f0 = b[0] + w[0] * x
    h1 = math.sin(f0)
    f1 = b[1] + w[1] * h1
    h2 = math.exp(f1)
    f2 = b[2] + w[2] * h2
    h3 = math.cos(f2)
    f3 = b[3] + w[3] * h3
    loss = (f3 - y) ** 2
    d = {}
    d["f3"] = 2 * (f3 - y)  # dl/df3
    d["h3"] = w[3] * d["f3"]  # df3/dh3 = omega3
    d["f2"] = -math.sin(f2) * d["h3"]  # dh3/df2 = -sin f2
    d["h2"] = w[2] * d["f2"]  # df2/dh2 = omega2
    d["f1"] = math.exp(f1) * d["h2"]  # dh2/df1 = exp f1
    d["h1"] = w[1] * d["f1"]  # df1/dh1 = omega1
    d["f0"] = math.cos(f0) * d["h1"]  # dh1/df0 = cos f0
    out = {"f0": f0, "h1": h1, "f1": f1, "h2": h2, "f2": f2, "h3": h3, "f3": f3, "l": loss}
    for k in ("f0", "h1", "f1", "h2", "f2", "h3", "f3"):
        out[f"dl/d{k}"] = d[k]
    source = {0: x, 1: h1, 2: h2, 3: h3}  # df_k/domega_k
    for k in range(4):
        out[f"dl/dbeta{k}"] = d[f"f{k}"]  # df_k/dbeta_k = 1
        out[f"dl/domega{k}"] = source[k] * d[f"f{k}"]
    return out


def compute(fast: bool = False) -> dict:
    eng = engine_values()
    hand = chain_rule_values()
    rows = [
        {"quantity": k, "engine": eng[k], "chain_rule": hand[k], "abs_diff": abs(eng[k] - hand[k])}
        for k in eng
    ]
    return {
        "beta": list(BETA),
        "omega": list(OMEGA),
        "x": X,
        "y": Y,
        "rows": rows,
        "max_abs_diff": max(r["abs_diff"] for r in rows),
    }


_PRETTY = {
    "l": "ℓ",
    **{f"f{k}": f"f{k}" for k in range(4)},
    **{f"h{k}": f"h{k}" for k in range(1, 4)},
}


def _pretty(q: str) -> str:
    if q.startswith("dl/d"):
        v = q[4:].replace("beta", "β").replace("omega", "ω")
        return f"∂ℓ/∂{v}"
    return _PRETTY.get(q, q)


def plot(res: dict, out_dir: Path) -> str:
    rows = res["rows"]
    groups = [
        ("Forward pass: f_k, h_k and ℓ", [r for r in rows if not r["quantity"].startswith("d")]),
        (
            "Backward pass #1: ∂ℓ/∂f_k, ∂ℓ/∂h_k",
            [r for r in rows if r["quantity"][4:5] in ("f", "h")],
        ),
        (
            "Backward pass #2: ∂ℓ/∂β_k, ∂ℓ/∂ω_k",
            [r for r in rows if r["quantity"][4:5] in ("b", "o")],
        ),
    ]
    fig = _common.new_figure(9.5, 9.5)
    gs = fig.add_gridspec(3, 1, height_ratios=[len(g[1]) + 1.5 for g in groups])
    for i, (label, grp) in enumerate(groups):
        ax = fig.add_subplot(gs[i])
        ax.set_axis_off()
        cells = [
            [
                _pretty(r["quantity"]),
                f"{r['engine']:+.15e}",
                f"{r['chain_rule']:+.15e}",
                f"{r['abs_diff']:.1e}",
            ]
            for r in grp
        ]
        table = ax.table(
            cellText=cells,
            colLabels=[
                "quantity",
                "gradfit autodiff (retain_grad)",
                "slides' chain rule",
                "|difference|",
            ],
            colWidths=[0.14, 0.34, 0.34, 0.16],
            loc="center",
            cellLoc="center",
        )
        table.auto_set_font_size(False)
        table.set_fontsize(9)
        table.scale(1, 1.25)
        for (r, _c), cell in table.get_celld().items():
            if r == 0:
                cell.set_facecolor("#dbe8f6")
                cell.set_text_props(fontweight="bold")
        ax.set_title(label, fontsize=11, loc="left")
    b, w = res["beta"], res["omega"]
    fig.suptitle(
        TITLE + "\nf = β3 + ω3·cos(β2 + ω2·exp(β1 + ω1·sin(β0 + ω0·x))),  ℓ = (f − y)²\n"
        f"β = {tuple(b)}, ω = {tuple(w)}, x = {res['x']}, y = {res['y']};  "
        f"largest |difference| = {res['max_abs_diff']:.1e}",
        fontsize=11,
    )
    return _common.save_figure(fig, out_dir, NAME)


def run(out_dir: Path, fast: bool = False) -> dict:
    res = compute(fast)
    return {
        "png": plot(res, out_dir),
        "json": _common.save_json(res, out_dir, NAME),
        "max_abs_diff": res["max_abs_diff"],
        "loss": next(r["engine"] for r in res["rows"] if r["quantity"] == "l"),
        "dl/domega0": next(r["engine"] for r in res["rows"] if r["quantity"] == "dl/domega0"),
    }
