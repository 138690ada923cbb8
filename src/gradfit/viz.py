"""Drawing gradfit's autodiff graphs: the lecture's "Computation Graph" slides, made from a
real tensor.

The graph a tensor carries is the one reverse-mode autodiff walks ("Backprop on the
Computation Graph: Reverse Mode"): ``t.grad_fn`` is the op that made ``t``, and each op
node keeps the arguments it was called with in ``node.inputs``. ``build_graph`` walks
those links back from the output; ``to_dot`` writes the result as Graphviz DOT source, and
``draw_graph`` renders it with Graphviz's ``dot`` program when it is installed and with a
layered matplotlib drawing otherwise.

Edges point the way data flows in the forward pass (inputs above, the output at the
bottom), as on the lecture's slides; backprop visits them in reverse. Op nodes are named
by ``grad_fn.name()`` (``MulBackward``, ``SigmoidBackward``, ...), as PyTorch names them.

The engine frees the graph after ``backward()`` (it clears ``node.inputs``), so draw a
graph before calling ``backward()``, or call ``backward(retain_graph=True)``.

Example::

    w = gradfit.tensor(0.5, requires_grad=True)
    b = gradfit.tensor(0.1, requires_grad=True)
    z = w * 1.5 + b
    loss = 0.5 * (z.sigmoid() - 1.0) ** 2
    gradfit.viz.draw_graph(loss, "logistic.png", names={"w": w, "b": b, "z": z})
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gradfit.tensor import Tensor

__all__ = ["Graph", "GraphNode", "build_graph", "draw_graph", "to_dot"]


@dataclass
class GraphNode:
    """One node of a drawn graph.

    Attributes:
        id: a key unique within the graph.
        kind: ``"op"`` (a ``grad_fn``), ``"leaf"`` (a tensor that requires grad and has no
            ``grad_fn``: a parameter), ``"const"`` (a tensor or number that needs no
            gradient) or ``"output"`` (a root tensor).
        label: the text drawn in the node.
        shape: the tensor's shape (None for ops and plain numbers).
    """

    id: str
    kind: str
    label: str
    shape: tuple | None = None


@dataclass
class Graph:
    """The nodes and edges of an autodiff graph; an edge ``(a, b)`` means a feeds b."""

    nodes: list[GraphNode] = field(default_factory=list)
    edges: list[tuple[str, str]] = field(default_factory=list)

    def node(self, node_id: str) -> GraphNode:
        for n in self.nodes:
            if n.id == node_id:
                return n
        raise KeyError(f"graph has no node {node_id!r}")

    def op_names(self) -> list[str]:
        """The ``grad_fn.name()`` of every op node, in discovery order."""
        return [n.label.split("\n")[-1] for n in self.nodes if n.kind == "op"]

    def to_dict(self) -> dict:
        return {
            "nodes": [
                {"id": n.id, "kind": n.kind, "label": n.label, "shape": n.shape} for n in self.nodes
            ],
            "edges": [list(e) for e in self.edges],
        }


def _shape_text(shape: tuple) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ")" if shape else "scalar"


def build_graph(
    *roots: Tensor, names: dict[str, Tensor] | None = None, show_constants: bool = True
) -> Graph:
    """The autodiff graph behind ``roots``, found by walking ``grad_fn`` and ``inputs``.

    Args:
        *roots: the output tensors (each must have been computed with autograd on).
        names: optional ``{name: tensor}`` labels. A named leaf is drawn with its name; a
            named intermediate tensor labels the op that made it (``z\\nAddBackward``).
        show_constants: draw inputs that need no gradient (data tensors and numbers).

    Returns:
        The ``Graph``, with one node per op, per leaf/constant input and per root.

    Raises:
        ValueError: a root has no graph (``requires_grad`` is False), or the graph was
            freed by ``backward()``.
    """
    by_id = {id(t): name for name, t in (names or {}).items()}
    root_ids = {id(r) for r in roots}
    by_fn = {  # a named root labels its output node, not the op that made it
        id(t.grad_fn): name
        for name, t in (names or {}).items()
        if t.grad_fn is not None and id(t) not in root_ids
    }
    graph = Graph()
    seen: set[str] = set()

    def add(node: GraphNode) -> None:
        if node.id not in seen:
            seen.add(node.id)
            graph.nodes.append(node)

    def tensor_node(t: Tensor, kind: str) -> GraphNode:
        name = by_id.get(id(t))
        shape = tuple(t.shape)
        if name is None:
            if kind == "const" and t.numel() == 1:
                name = f"{t.item():.4g}"
            else:
                name = {"leaf": "param", "const": "const", "output": "output"}[kind]
        return GraphNode(f"t{id(t)}", kind, f"{name}\n{_shape_text(shape)}", shape)

    def op_node(fn) -> GraphNode:
        label = fn.name()
        if id(fn) in by_fn:
            label = f"{by_fn[id(fn)]}\n{label}"
        return GraphNode(f"op{id(fn)}", "op", label)

    stack = []
    for r in roots:
        if not isinstance(r, Tensor):
            raise TypeError(f"build_graph: expected Tensors, got {type(r).__name__}")
        if r.grad_fn is None:
            if r.requires_grad:  # a bare leaf: a one-node graph
                add(tensor_node(r, "leaf"))
                continue
            raise ValueError(
                "build_graph: this tensor has no autodiff graph (requires_grad=False); "
                "compute it from tensors created with requires_grad=True"
            )
        out = tensor_node(r, "output")
        add(out)
        fn_node = op_node(r.grad_fn)
        graph.edges.append((fn_node.id, out.id))
        stack.append(r.grad_fn)

    visited: set[int] = set()
    while stack:  # iterative, so deep graphs (long chains) do not hit the recursion limit
        fn = stack.pop()
        if id(fn) in visited:
            continue
        visited.add(id(fn))
        if getattr(fn, "_freed", False):
            raise ValueError(
                f"build_graph: the graph was freed by backward() ({fn.name()} has no inputs "
                "left); draw it before backward() or call backward(retain_graph=True)"
            )
        me = op_node(fn)
        add(me)
        for k, a in enumerate(getattr(fn, "inputs", ())):
            if isinstance(a, Tensor):
                if a.grad_fn is not None:
                    src = op_node(a.grad_fn)
                    add(src)
                    stack.append(a.grad_fn)
                elif a.requires_grad:
                    src = tensor_node(a, "leaf")
                    add(src)
                elif show_constants:
                    src = tensor_node(a, "const")
                    add(src)
                else:
                    continue
            elif a is None or not show_constants:
                continue
            else:  # a plain number or array argument (a constant of the op)
                value = np.asarray(a)
                text = f"{value.item():.4g}" if value.size == 1 else _shape_text(value.shape)
                src = GraphNode(f"c{id(fn)}_{k}", "const", text, None)
                add(src)
            edge = (src.id, me.id)
            if edge not in graph.edges:
                graph.edges.append(edge)
    return graph


_DOT_STYLE = {
    "op": 'shape=box, style="rounded,filled", fillcolor="#dbe8f6"',
    "leaf": 'shape=ellipse, style=filled, fillcolor="#c9ecc4"',
    "const": 'shape=ellipse, style=filled, fillcolor="#eeeeee", fontcolor="#555555"',
    "output": 'shape=ellipse, style=filled, fillcolor="#f9d9a6"',
}


def to_dot(
    tensor: Tensor | Graph,
    names: dict[str, Tensor] | None = None,
    show_constants: bool = True,
    title: str | None = None,
) -> str:
    """Graphviz DOT source for the autodiff graph of ``tensor`` (or a built ``Graph``).

    Op nodes are rounded boxes, parameters green ellipses, constants grey, outputs orange.
    """
    graph = (
        tensor
        if isinstance(tensor, Graph)
        else build_graph(tensor, names=names, show_constants=show_constants)
    )
    lines = ["digraph autodiff {", "  rankdir=TB;", '  node [fontname="Helvetica"];']
    if title:
        lines.append(f'  labelloc="t"; label="{title}";')
    for n in graph.nodes:
        label = n.label.replace('"', r"\"").replace("\n", r"\n")
        lines.append(f'  "{n.id}" [label="{label}", {_DOT_STYLE[n.kind]}];')
    for a, b in graph.edges:
        lines.append(f'  "{a}" -> "{b}";')
    lines.append("}")
    return "\n".join(lines) + "\n"


def _layers(graph: Graph) -> dict[str, int]:
    """Depth of each node: the longest path from it to an output (outputs are depth 0).

    Longest-path layering puts every edge downward, so a node sits above all its users.
    """
    users: dict[str, list[str]] = {n.id: [] for n in graph.nodes}
    preds: dict[str, list[str]] = {n.id: [] for n in graph.nodes}
    for a, b in graph.edges:
        users[a].append(b)
        preds[b].append(a)
    depth = {}
    # Kahn's algorithm from the outputs backwards: a node's depth is final once all of
    # its users have theirs.
    remaining = {k: len(v) for k, v in users.items()}
    ready = [k for k, v in remaining.items() if v == 0]
    for k in ready:
        depth[k] = 0
    while ready:
        nid = ready.pop()
        for p in preds[nid]:
            depth[p] = max(depth.get(p, 0), depth[nid] + 1)
            remaining[p] -= 1
            if remaining[p] == 0:
                ready.append(p)
    return depth


def layout(graph: Graph) -> tuple[dict[str, tuple[float, float]], dict[tuple, list]]:
    """A layered (Sugiyama-style) drawing: inputs on top, outputs at y = 0.

    Each node sits at its depth; an edge that spans several layers is routed through one
    virtual point per layer in between, so that it runs between the nodes instead of
    through them. Rows are ordered by a few sweeps of the barycentre heuristic (each node
    moves towards the mean position of its neighbours in the row above or below).

    Returns:
        ``(pos, routes)``: ``pos[node_id] = (x, y)``, and ``routes[(a, b)]`` the list of
        points an edge passes through (its ends included).
    """
    depth = _layers(graph)
    rows: dict[int, list] = {}
    for n in graph.nodes:  # discovery order keeps siblings in argument order
        rows.setdefault(depth[n.id], []).append(n.id)
    up: dict = {}  # node -> neighbours one layer up (its inputs, real or virtual)
    down: dict = {}  # node -> neighbours one layer down (its users)
    chains: dict[tuple, list] = {}
    for a, b in graph.edges:
        chain = [a]
        for d in range(depth[a] - 1, depth[b], -1):
            v = ("virtual", a, b, d)
            rows.setdefault(d, []).append(v)
            chain.append(v)
        chain.append(b)
        chains[(a, b)] = chain
        for u, w in zip(chain, chain[1:]):
            down.setdefault(u, []).append(w)
            up.setdefault(w, []).append(u)
    max_d = max(rows, default=0)
    order = {d: list(rows.get(d, [])) for d in range(max_d + 1)}

    x: dict = {}

    def place(d: int) -> None:
        row = order[d]
        for i, n in enumerate(row):
            x[n] = i - (len(row) - 1) / 2

    for d in order:
        place(d)

    def bary(n, nbrs) -> float:
        return float(np.mean([x[u] for u in nbrs.get(n, ())])) if n in nbrs else x[n]

    for _ in range(4):
        for d in range(1, max_d + 1):  # from the output upwards: follow the users
            order[d].sort(key=lambda n: bary(n, down))
            place(d)
        for d in range(max_d - 1, -1, -1):  # from the inputs downwards: follow the inputs
            order[d].sort(key=lambda n: bary(n, up))
            place(d)
    pos_all = {n: (x[n], float(d)) for d, r in order.items() for n in r}
    pos = {n.id: pos_all[n.id] for n in graph.nodes}
    routes = {e: [pos_all[n] for n in chain] for e, chain in chains.items()}
    return pos, routes


def _clip_ends(pts: list, half_a: tuple, half_b: tuple) -> list:
    """Pull an edge's ends back from the node centres to the edges of their boxes
    (``half_a``/``half_b``: the boxes' half width and half height in data units), so the
    arrow starts and ends at the boxes, not under them."""
    pts = [np.asarray(p, dtype=float) for p in pts]

    def toward(p, q, half):
        d = q - p
        ts = [h / abs(c) for h, c in zip(half, d) if abs(c) > 1e-12]
        return p + d * min(min(ts, default=0.0), 0.45)

    pts[0] = toward(pts[0], pts[1], half_a)
    pts[-1] = toward(pts[-1], pts[-2], half_b)
    return pts


def _smooth_path(pts: list):
    """A matplotlib Path through ``pts``: straight for two points, else quadratic Bézier
    pieces that use the inner points as control points (a smooth curve)."""
    from matplotlib.path import Path as MplPath

    if len(pts) == 2:
        return MplPath(pts, [MplPath.MOVETO, MplPath.LINETO])
    verts = [pts[0], (pts[0] + pts[1]) / 2]
    codes = [MplPath.MOVETO, MplPath.LINETO]
    for k in range(1, len(pts) - 1):
        end = (pts[k] + pts[k + 1]) / 2 if k < len(pts) - 2 else pts[-1]
        verts += [pts[k], end]
        codes += [MplPath.CURVE3, MplPath.CURVE3]
    return MplPath(verts, codes)


_MPL_COLORS = {"op": "#dbe8f6", "leaf": "#c9ecc4", "const": "#eeeeee", "output": "#f9d9a6"}


def draw_graph_matplotlib(graph: Graph, ax, title: str | None = None) -> None:
    """Draw ``graph`` into a matplotlib ``Axes`` with a layered layout (no Graphviz needed)."""
    from matplotlib.patches import FancyArrowPatch

    pos, routes = layout(graph)
    xs = [p[0] for p in pos.values()] or [0.0]
    ys = [p[1] for p in pos.values()] or [0.0]
    ax.set_xlim(min(xs) - 0.8, max(xs) + 0.8)
    ax.set_ylim(min(ys) - 0.6, max(ys) + 0.6)
    # Arrows stop at the node boxes: estimate each box's half size (8-point text plus its
    # padding) and convert it to data units with the axes' current size.
    box = ax.get_window_extent()
    px = ax.figure.dpi / 72  # pixels per point
    x_per_px = (max(xs) - min(xs) + 1.6) / max(box.width, 1.0)
    y_per_px = (max(ys) - min(ys) + 1.2) / max(box.height, 1.0)
    half = {}
    for n in graph.nodes:
        lines = n.label.split("\n")
        w_pt = 8 * 0.62 * max(len(t) for t in lines) / 2 + 5
        h_pt = 8 * 1.25 * len(lines) / 2 + 5
        half[n.id] = (w_pt * px * x_per_px, h_pt * px * y_per_px)
    for a, b in graph.edges:
        pts = _clip_ends(routes[(a, b)], half[a], half[b])
        ax.add_patch(
            FancyArrowPatch(
                path=_smooth_path(pts),
                arrowstyle="-|>",
                mutation_scale=12,
                color="#555555",
                linewidth=1.0,
                zorder=1,
            )
        )
    for n in graph.nodes:
        x, y = pos[n.id]
        style = "round,pad=0.3" if n.kind == "op" else "circle,pad=0.25"
        if n.kind != "op":
            style = "round4,pad=0.3"
        ax.text(
            x,
            y,
            n.label,
            ha="center",
            va="center",
            fontsize=8,
            bbox={"boxstyle": style, "fc": _MPL_COLORS[n.kind], "ec": "#333333", "lw": 0.8},
            zorder=2,
        )
    ax.set_axis_off()
    if title:
        ax.set_title(title)


def draw_graph(
    tensor: Tensor,
    path: str | Path | None = None,
    *,
    names: dict[str, Tensor] | None = None,
    show_constants: bool = True,
    title: str | None = None,
    ax=None,
    backend: str = "auto",
) -> Graph:
    """Draw the autodiff graph of ``tensor``.

    Args:
        tensor: the output whose graph is drawn (before ``backward()``, or after
            ``backward(retain_graph=True)``).
        path: where to write the picture (``.png``, ``.svg``, ``.pdf``); a ``.dot`` path
            writes the DOT source. None draws nothing to disk (useful with ``ax``).
        names: ``{name: tensor}`` labels for parameters, data and intermediates.
        show_constants: also draw inputs that need no gradient.
        title: a caption.
        ax: a matplotlib ``Axes`` to draw into (forces the matplotlib drawing).
        backend: ``"graphviz"`` (needs the ``dot`` program), ``"matplotlib"``, or
            ``"auto"``: Graphviz when ``dot`` is on the PATH, matplotlib otherwise.

    Returns:
        The ``Graph`` that was drawn.
    """
    graph = build_graph(tensor, names=names, show_constants=show_constants)
    if backend not in ("auto", "graphviz", "matplotlib"):
        raise ValueError(
            f"draw_graph: backend={backend!r}; expected 'auto', 'graphviz' or 'matplotlib'"
        )
    if ax is not None:
        draw_graph_matplotlib(graph, ax, title)
        if path is not None:
            ax.figure.savefig(path, dpi=120, bbox_inches="tight")
        return graph
    if path is None:
        return graph
    path = Path(path)
    if path.suffix == ".dot":
        path.write_text(to_dot(graph, title=title))
        return graph
    dot = shutil.which("dot")
    if backend == "graphviz" and dot is None:
        raise RuntimeError("draw_graph: backend='graphviz' but the 'dot' program is not on PATH")
    if dot is not None and backend != "matplotlib":
        fmt = path.suffix.lstrip(".") or "png"
        subprocess.run(
            [dot, f"-T{fmt}", "-o", str(path)],
            input=to_dot(graph, title=title).encode(),
            check=True,
        )
        return graph
    from matplotlib.figure import Figure

    depth = max(_layers(graph).values(), default=0) + 1
    width = max(
        (sum(1 for d in _layers(graph).values() if d == k) for k in range(depth)), default=1
    )
    fig = Figure(figsize=(max(3.0, 1.6 * width), max(2.5, 0.9 * depth)))
    draw_graph_matplotlib(graph, fig.add_subplot(1, 1, 1), title)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    return graph
