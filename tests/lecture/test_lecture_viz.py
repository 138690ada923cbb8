"""gradfit.viz: the autodiff graph is walked correctly and drawn."""

import shutil

import pytest

import gradfit
from gradfit import viz


def _ab():
    a = gradfit.tensor(2.0, requires_grad=True)
    b = gradfit.tensor(1.0, requires_grad=True)
    e = (a + b) * (b + 1)
    return a, b, e


def test_graph_of_a_plus_b_times_b_plus_1():
    a, b, e = _ab()
    g = viz.build_graph(e, names={"a": a, "b": b, "e": e})
    kinds = sorted(n.kind for n in g.nodes)
    assert kinds == ["const", "leaf", "leaf", "op", "op", "op", "output"]
    assert sorted(g.op_names()) == ["AddBackward0", "AddBackward0", "MulBackward0"]
    b_node = next(n for n in g.nodes if n.label.startswith("b\n"))
    # b feeds both additions: two edges leave it (the SPLIT rule's two paths)
    assert sum(1 for src, _ in g.edges if src == b_node.id) == 2
    mul = next(n for n in g.nodes if n.label.endswith("MulBackward0"))
    assert sum(1 for _, dst in g.edges if dst == mul.id) == 2
    out = next(n for n in g.nodes if n.kind == "output")
    assert out.label == "e\nscalar"
    assert len(g.edges) == 7  # a,b -> add; b,1 -> add; add,add -> mul; mul -> e


def test_named_intermediates_and_shapes():
    w = gradfit.randn(3, 2, requires_grad=True)
    x = gradfit.randn(4, 3)
    z = x @ w
    loss = z.relu().sum()
    g = viz.build_graph(loss, names={"w": w, "x": x, "z": z})
    labels = {n.label for n in g.nodes}
    assert "w\n(3, 2)" in labels and "x\n(4, 3)" in labels
    assert "z\nMmBackward0" in labels
    assert [n.kind for n in g.nodes if n.label.startswith("x")] == ["const"]
    assert len(viz.build_graph(loss, show_constants=False).nodes) == len(g.nodes) - 1


def test_graph_is_freed_by_backward_unless_retained():
    _, _, e = _ab()
    e.backward(retain_graph=True)
    assert len(viz.build_graph(e).nodes) == 7
    e.backward()
    with pytest.raises(ValueError, match="freed by backward"):
        viz.build_graph(e)


def test_no_graph_raises():
    with pytest.raises(ValueError, match="requires_grad=False"):
        viz.build_graph(gradfit.ones(3) * 2)


def test_deep_chain_does_not_recurse():
    x = gradfit.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(3000):
        y = y * 1.0001
    g = viz.build_graph(y, show_constants=False)
    assert len(g.op_names()) == 3000
    pos, routes = viz.layout(g)
    assert len(pos) == len(g.nodes) and len(routes) == len(g.edges)


def test_layout_puts_inputs_above_their_users():
    a, b, e = _ab()
    g = viz.build_graph(e)
    pos, routes = viz.layout(g)
    for src, dst in g.edges:
        assert pos[src][1] > pos[dst][1]
        assert routes[(src, dst)][0] == pos[src] and routes[(src, dst)][-1] == pos[dst]


def test_to_dot_and_files(tmp_path):
    a, b, e = _ab()
    dot = viz.to_dot(e, names={"a": a, "b": b})
    assert dot.startswith("digraph autodiff {") and dot.rstrip().endswith("}")
    assert dot.count("->") == 7 and 'label="a\\nscalar"' in dot
    viz.draw_graph(e, tmp_path / "g.dot", names={"a": a})
    assert (tmp_path / "g.dot").read_text().startswith("digraph")
    viz.draw_graph(e, tmp_path / "g.png", names={"a": a}, backend="matplotlib")
    assert (tmp_path / "g.png").read_bytes()[:4] == b"\x89PNG"


def test_graphviz_backend_choice(tmp_path):
    _, _, e = _ab()
    if shutil.which("dot") is None:
        with pytest.raises(RuntimeError, match="'dot' program"):
            viz.draw_graph(e, tmp_path / "g.png", backend="graphviz")
    else:
        viz.draw_graph(e, tmp_path / "g.png", backend="graphviz")
        assert (tmp_path / "g.png").read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match="backend"):
        viz.draw_graph(e, tmp_path / "g.png", backend="tikz")
