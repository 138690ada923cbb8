"""The backward engine: reverse-mode autodiff over the recorded graph.

``backward`` visits the nodes in reverse topological order (found iteratively, so graphs
100,000 nodes deep work), calls each node's ``backward`` on the gradient of its output,
and routes each input gradient to its parent. This is the lecture's "Backprop on the
Computation Graph: Reverse Mode": the SPLIT rule (a tensor used twice gets the sum of its
gradients) is the accumulation in ``grads``; ADD, FUNCTION, MATMUL and HADAMARD are the
ops' own ``backward`` methods.

Broadcasting is undone here and only here (``sum_to_shape``), and every edge's shape is
checked. After the pass the graph is freed unless ``retain_graph=True``.
"""

from __future__ import annotations

import numpy as np

from gradfit.tensor import Tensor


def sum_to_shape(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Adjoint of broadcasting: sum over axes that were prepended or stretched from 1."""
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1
    )
    out = grad.sum(axis=axes, keepdims=True) if axes else grad
    if lead:
        out = out.reshape(shape)
    return out


def _toposort(roots: list) -> list:
    """Nodes reachable from ``roots``, each before all nodes that produce its inputs."""
    order, seen = [], set()
    stack = [(r, False) for r in roots]
    pop, push, add = stack.pop, stack.append, seen.add
    while stack:
        node, expanded = pop()
        if expanded:
            order.append(node)
            continue
        if node in seen:
            continue
        add(node)
        push((node, True))
        for t in node.inputs:
            fn = getattr(t, "grad_fn", None)
            if fn is not None and fn not in seen:
                push((fn, False))
    order.reverse()
    return order


def _check_versions(node) -> None:
    for t, v in zip(node.inputs, node.versions):
        if isinstance(t, Tensor) and t._version != v:
            raise RuntimeError(
                f"one of the tensors needed for gradient computation has been modified by an "
                f"in-place operation: a tensor of shape {t.shape} used by {node.name()} is at "
                f"version {t._version}; expected version {v}"
            )


def run_backward(roots, root_grads, retain_graph: bool, capture=None) -> dict | None:
    """Backpropagate ``root_grads`` from the tensors ``roots``.

    Args:
        roots: output tensors.
        root_grads: one ndarray per root, the gradient of the objective w.r.t. it.
        retain_graph: keep the graph for another backward.
        capture: tensors whose gradients are returned (``autograd.grad``) instead of
            being accumulated into leaves' ``.grad``.
    """
    grads: dict = {}
    leaf_grads: dict = {}
    nodes = []
    for t, g in zip(roots, root_grads):
        fn = t.grad_fn
        if fn is None:
            if t._requires_grad:
                _deliver_leaf(t, g, leaf_grads, capture, shared=True)
            continue
        grads[fn] = grads[fn] + g if fn in grads else g
        nodes.append(fn)
    capture_nodes = {}
    if capture is not None:
        capture_nodes = {t.grad_fn: t for t in capture if t.grad_fn is not None}
    captured: dict = {}
    for node in _toposort(nodes) if len(nodes) != 1 or nodes[0].inputs else nodes:
        g = grads.pop(node, None)
        if g is None:
            continue
        if node._freed:
            raise RuntimeError(
                f"Trying to backward through the graph a second time ({node.name()} was "
                "freed by an earlier backward). Specify retain_graph=True on the first "
                "backward() if you need to backpropagate twice."
            )
        if node.hooks:
            for hook in node.hooks:
                res = hook(Tensor._make(g, None))
                if res is not None:
                    g = res._array
        if capture_nodes and node in capture_nodes:
            captured[node] = g
        if node.versions is not None:
            _check_versions(node)
        in_grads = node.backward(node, g)
        if type(in_grads) is not tuple:
            in_grads = (in_grads,)
        for t, ig in zip(node.inputs, in_grads):
            if ig is None or not getattr(t, "_requires_grad", False):
                continue
            if ig.shape != t._array.shape:
                ig = sum_to_shape(ig, t._array.shape)
                if ig.shape != t._array.shape:
                    raise RuntimeError(
                        f"{node.name()} returned a gradient of shape {ig.shape} for an input "
                        f"of shape {t.shape}"
                    )
            fn = t.grad_fn
            if fn is None:
                _deliver_leaf(t, ig, leaf_grads, capture, ig is g)
            elif fn in grads:
                grads[fn] = grads[fn] + ig
            else:
                grads[fn] = ig
        if not retain_graph:
            node.inputs = ()
            node.versions = None
            node._freed = True
    if capture is not None:
        out = {}
        for t in capture:
            out[id(t)] = captured.get(t.grad_fn) if t.grad_fn is not None else leaf_grads.get(id(t))
        return out
    return None


def _deliver_leaf(t: Tensor, g: np.ndarray, leaf_grads: dict, capture, shared=False) -> None:
    """Accumulate ``g`` into leaf ``t`` (or collect it for ``autograd.grad``)."""
    if capture is not None:
        key = id(t)
        leaf_grads[key] = leaf_grads[key] + g if key in leaf_grads else g
        return
    if t._hooks:
        for hook in t._hooks:
            res = hook(Tensor._make(g, None))
            if res is not None:
                g = res._array
    if g.dtype != t._array.dtype:
        g = g.astype(t._array.dtype)
    if t.grad is None:
        # The leaf must own its gradient: the same array may also flow to another input
        # (ADD passes delta_c to both operands) or be a view of a caller's array.
        orig = g
        if shared or not g.flags.owndata or not g.flags.writeable or id(g) in leaf_grads:
            g = g.copy()
        leaf_grads[id(orig)] = orig  # kept alive so the id stays unique during this pass
        t.grad = Tensor._make(g, None)
    else:
        t.grad._array += g
