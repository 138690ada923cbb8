"""The lecture's computation graphs, drawn from gradfit's own autodiff graphs.

Three graphs, each built by running the computation on gradfit tensors and walking the
recorded graph with ``gradfit.viz`` (ops named by ``grad_fn.name()``):

* logistic regression with its loss ("Computation Graph: Include the Loss"):
  z = w x + b, y = sigma(z), L = 1/2 (y - t)^2;
* (a + b)(b + 1), the reverse-mode example: b is used twice, so its gradient is the sum
  over both paths (the SPLIT rule), de/da = b + 1 and de/db = (b + 1) + (a + b);
* one step of a gated recurrent unit ("Things can get complicated"), made with
  ``gradfit.nn.GRUCell`` when it exists, else with the GRU equations written in gradfit ops.

The graphs are drawn before ``backward()`` (which frees them); the gradients are then
computed and reported next to the drawing. The figure uses the matplotlib drawing (so it
looks the same everywhere); a Graphviz ``.dot`` file of each graph is written alongside.
"""

from __future__ import annotations

from pathlib import Path

import gradfit
from gradfit import viz
from gradfit.lecture import _common

NAME = "computation_graphs"
TITLE = "Computation graphs recorded by gradfit's autodiff"


def logistic_regression():
    w = gradfit.tensor(0.8, dtype=_common.DTYPE, requires_grad=True)
    b = gradfit.tensor(-0.3, dtype=_common.DTYPE, requires_grad=True)
    x = gradfit.tensor(1.5, dtype=_common.DTYPE)
    t = gradfit.tensor(1.0, dtype=_common.DTYPE)
    z = w * x + b
    y = gradfit.sigmoid(z)
    loss = 0.5 * (y - t) ** 2
    names = {"w": w, "b": b, "x": x, "t": t, "z": z, "y": y, "L": loss}
    return loss, names, {"w": w, "b": b}


def a_plus_b_times_b_plus_1():
    a = gradfit.tensor(2.0, dtype=_common.DTYPE, requires_grad=True)
    b = gradfit.tensor(1.0, dtype=_common.DTYPE, requires_grad=True)
    c = a + b
    d = b + 1
    e = c * d
    return e, {"a": a, "b": b, "c": c, "d": d, "e": e}, {"a": a, "b": b}


def gru_step():
    """One GRU step h' = GRU(x, h): nn.GRUCell if gradfit has it, else the equations."""
    g = _common.generator(3)
    n_in, n_hid = 3, 4
    x = gradfit.randn(1, n_in, generator=g, dtype=_common.DTYPE)
    h = gradfit.randn(1, n_hid, generator=g, dtype=_common.DTYPE)
    cell_cls = getattr(gradfit.nn, "GRUCell", None) if _has_nn() else None
    if cell_cls is not None:
        cell = cell_cls(n_in, n_hid, dtype=_common.DTYPE)
        for p in cell.parameters():  # seeded, so the reported gradients are reproducible
            gradfit.nn.init.uniform_(p, -0.5, 0.5, generator=g)
        h_new = cell(x, h)
        params = dict(cell.named_parameters())
        names = {**params, "x": x, "h": h, "h'": h_new}
        return h_new, names, params, "gradfit.nn.GRUCell"
    # r = sigma(W_r x + U_r h + b_r), z = sigma(W_z x + U_z h + b_z),
    # n = tanh(W_n x + b_n + r * (U_n h + c_n)), h' = (1 - z) * n + z * h  (PyTorch's form)
    params = {}
    for gate in ("r", "z", "n"):
        params[f"W_{gate}"] = gradfit.randn(n_in, n_hid, generator=g, dtype=_common.DTYPE) * 0.5
        params[f"U_{gate}"] = gradfit.randn(n_hid, n_hid, generator=g, dtype=_common.DTYPE) * 0.5
        params[f"b_{gate}"] = gradfit.zeros(n_hid, dtype=_common.DTYPE)
    for p in params.values():
        p.requires_grad_(True)
    r = gradfit.sigmoid(x @ params["W_r"] + h @ params["U_r"] + params["b_r"])
    z = gradfit.sigmoid(x @ params["W_z"] + h @ params["U_z"] + params["b_z"])
    n = gradfit.tanh(x @ params["W_n"] + params["b_n"] + r * (h @ params["U_n"]))
    h_new = (1 - z) * n + z * h
    names = {**params, "x": x, "h": h, "r": r, "z": z, "n": n, "h'": h_new}
    return h_new, names, params, "GRU equations in gradfit ops (gradfit.nn.GRUCell not found)"


def _has_nn() -> bool:
    try:
        import gradfit.nn  # noqa: F401
    except ImportError:
        return False
    return True


def compute(fast: bool = False) -> dict:
    graphs = {}
    out = {}
    loss, names, params = logistic_regression()
    graphs["logistic_regression"] = viz.build_graph(loss, names=names)
    loss.backward()
    out["logistic_regression"] = {
        "value": loss.item(),
        "grads": {k: p.grad.item() for k, p in params.items()},
    }
    e, names, params = a_plus_b_times_b_plus_1()
    graphs["a_plus_b_times_b_plus_1"] = viz.build_graph(e, names=names)
    e.backward()
    out["a_plus_b_times_b_plus_1"] = {
        "value": e.item(),
        "grads": {k: p.grad.item() for k, p in params.items()},
    }
    h_new, names, params, source = gru_step()
    graphs["gru_step"] = viz.build_graph(h_new, names=names)
    h_new.sum().backward()
    out["gru_step"] = {
        "source": source,
        "grad_norms": {k: float((p.grad * p.grad).sum().sqrt().item()) for k, p in params.items()},
    }
    for k, gph in graphs.items():
        out[k]["graph"] = gph.to_dict()
        out[k]["op_names"] = gph.op_names()
        out[k]["n_nodes"] = len(gph.nodes)
        out[k]["n_edges"] = len(gph.edges)
    return {"graphs": out, "_graph_objects": graphs}


def plot(res: dict, out_dir: Path) -> str:
    graphs = res["_graph_objects"]
    info = res["graphs"]
    fig = _common.new_figure(20, 10)
    gs = fig.add_gridspec(1, 3, width_ratios=[1, 1, 2.6])
    lr = info["logistic_regression"]
    ab = info["a_plus_b_times_b_plus_1"]
    titles = {
        "logistic_regression": "a) Logistic regression with its loss\n"
        "z = wx + b, y = σ(z), L = ½(y − t)²\n"
        f"∂L/∂w = {lr['grads']['w']:.4f}, ∂L/∂b = {lr['grads']['b']:.4f}",
        "a_plus_b_times_b_plus_1": "b) e = (a + b)(b + 1), a = 2, b = 1\n"
        f"∂e/∂a = b + 1 = {ab['grads']['a']:g}, "
        f"∂e/∂b = (b + 1) + (a + b) = {ab['grads']['b']:g}",
        "gru_step": "c) One GRU step h' = GRU(x, h)\n(" + info["gru_step"]["source"] + ")",
    }
    for i, key in enumerate(("logistic_regression", "a_plus_b_times_b_plus_1", "gru_step")):
        ax = fig.add_subplot(gs[i])
        viz.draw_graph_matplotlib(graphs[key], ax, titles[key])
    fig.suptitle(
        TITLE + " (data flows down; green = parameters, grey = constants/data, "
        "blue = ops named by grad_fn.name(), orange = output)"
    )
    for key, gph in graphs.items():
        (Path(out_dir) / f"{NAME}_{key}.dot").write_text(viz.to_dot(gph))
    return _common.save_figure(fig, out_dir, NAME)


def run(out_dir: Path, fast: bool = False) -> dict:
    res = compute(fast)
    png = plot(res, out_dir)
    data = {"graphs": res["graphs"]}
    return {
        "png": png,
        "json": _common.save_json(data, out_dir, NAME),
        "logistic_regression_grads": res["graphs"]["logistic_regression"]["grads"],
        "a_plus_b_grads": res["graphs"]["a_plus_b_times_b_plus_1"]["grads"],
        "gru_source": res["graphs"]["gru_step"]["source"],
        "gru_n_nodes": res["graphs"]["gru_step"]["n_nodes"],
    }
