"""The backward engine: reverse-mode autodiff over the recorded graph.

``backward`` visits the nodes in reverse topological order (found iteratively, so graphs
100,000 nodes deep work), calls each node's ``backward`` on the gradient of its output,
and routes each input gradient to its parent. This is the lecture's "Backprop on the
Computation Graph: Reverse Mode": the SPLIT rule (a tensor used twice gets the sum of its
gradients) is the accumulation in ``grads``; ADD, FUNCTION, MATMUL and HADAMARD are the
ops' own ``backward`` methods.

Broadcasting is undone here and only here (``sum_to_shape``), and every edge's shape is
checked. After the pass the graph is freed unless ``retain_graph=True``.

``backward`` and ``grad`` (``gradfit.autograd.backward`` / ``grad``) are the public entry
points. Like the rest of the graph machinery, this module knows tensors only through
``function.TensorProtocol``; the class is bound by ``gradfit.autograd.bind_tensor_class``.
"""

from __future__ import annotations

import numpy as np

# Bound by gradfit.autograd.bind_tensor_class (see function.TensorProtocol).
Tensor = None


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
    """Nodes reachable from ``roots``, each before all nodes that produce its inputs.

    Iterative depth-first search, so graphs 100,000 nodes deep work. A node is expanded
    (its parents pushed) the first time it reaches the top of the stack and emitted the
    second time, when all its parents have been emitted; the reversed emission order is
    the order backward visits the nodes. Parents already expanded are not pushed again:
    in a DAG they have been emitted already (an expanded, unemitted parent would be a cycle).
    """
    order = []
    expanded = set()
    emitted = set()
    stack = list(roots)
    while stack:
        node = stack[-1]
        if node in expanded:
            stack.pop()
            if node not in emitted:
                emitted.add(node)
                order.append(node)
            continue
        expanded.add(node)
        for t in node.inputs:
            if isinstance(t, Tensor):
                fn = t.grad_fn
                if fn is not None and fn not in expanded:
                    stack.append(fn)
    order.reverse()
    return order


def _version_error(node, t, expected: int, which: str) -> RuntimeError:
    """PyTorch's error for a saved tensor edited in place after the forward pass."""
    return RuntimeError(
        f"one of the tensors needed for gradient computation has been modified by an "
        f"in-place operation: a tensor of shape {tuple(t.shape)}, {which} of "
        f"{node.name()}, is at version {t._version}; expected version {expected} instead"
    )


def _check_edited_input(node, t, expected: int) -> None:
    """``t``, an input of ``node``, was edited after the forward pass: an error if the
    node's backward reads it (at any of the positions where it was passed)."""
    for i, u in enumerate(node.inputs):
        if u is t and node.reads_input(i):
            raise _version_error(node, t, expected, f"input {i}")


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
        if t._version and fn.saves_output and t._version != fn.output_version:
            raise _version_error(fn, t, fn.output_version, "the output")
        grads[fn] = grads[fn] + g if fn in grads else g
        nodes.append(fn)
    capture_nodes = {}
    if capture is not None:
        capture_nodes = {t.grad_fn: t for t in capture if t.grad_fn is not None}
    captured: dict = {}
    # This loop runs once per node of every backward pass: attribute reads are hoisted
    # and the version check and gradient routing are written inline for that reason.
    pop, get = grads.pop, grads.get
    for node in _toposort(nodes) if len(nodes) != 1 or nodes[0].inputs else nodes:
        g = pop(node, None)
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
        inputs = node.inputs
        versions = node.versions
        if versions is not None:
            for t, v in zip(inputs, versions):
                if v is not None and t._version != v:
                    _check_edited_input(node, t, v)
        in_grads = node.backward(node, g)
        if type(in_grads) is not tuple:
            in_grads = (in_grads,)
        for t, ig in zip(inputs, in_grads):
            if ig is None or not isinstance(t, Tensor) or not t._requires_grad:
                continue
            shape = t._array.shape
            if ig.shape != shape:
                ig = sum_to_shape(ig, shape)
                if ig.shape != shape:
                    raise RuntimeError(
                        f"{node.name()} returned a gradient of shape {ig.shape} for an input "
                        f"of shape {shape}"
                    )
            fn = t.grad_fn
            if fn is None:
                _deliver_leaf(t, ig, leaf_grads, capture, ig is g)
            else:
                # An output is at version 0 when made (output_version after an in-place
                # op recorded in the graph): if it has been edited since, the node that
                # saved it would differentiate through the new values.
                if t._version and fn.saves_output and t._version != fn.output_version:
                    raise _version_error(fn, t, fn.output_version, "the output")
                prev = get(fn)
                grads[fn] = ig if prev is None else prev + ig
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
    dtype = t._array.dtype
    if g.dtype is not dtype and g.dtype != dtype:
        g = g.astype(dtype)
    if t.grad is None:
        # The leaf must own its gradient: the same array may also flow to another input
        # (ADD passes delta_c to both operands) or be a view of a caller's array.
        orig = g
        flags = g.flags
        if shared or not (flags.owndata and flags.writeable) or id(g) in leaf_grads:
            g = g.copy()
        leaf_grads[id(orig)] = orig  # kept alive so the id stays unique during this pass
        t.grad = Tensor._make(g, None)
    else:
        t.grad._array += g


# ---------------------------------------------------------------- public entry points


def backward(tensors, grad_tensors=None, retain_graph=None) -> None:
    """Accumulate gradients of ``tensors`` into the leaves (``torch.autograd.backward``)."""
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    if grad_tensors is None:
        grad_tensors = [None] * len(tensors)
    elif isinstance(grad_tensors, Tensor):
        grad_tensors = [grad_tensors]
    grads = [_root_grad(t, g) for t, g in zip(tensors, grad_tensors)]
    run_backward(tensors, grads, bool(retain_graph))


def _root_grad(t: Tensor, g) -> np.ndarray:
    if not t.requires_grad:
        raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
    if g is None:
        if t.numel() != 1:
            raise RuntimeError(
                f"grad can be implicitly created only for scalar outputs; got shape {t.shape}"
            )
        return np.ones_like(t._array)
    arr = g._array if isinstance(g, Tensor) else np.asarray(g)
    if arr.shape != t.shape:
        raise RuntimeError(f"grad_outputs has shape {arr.shape}, expected {t.shape}")
    return arr.astype(t.dtype, copy=False)


def grad(
    outputs,
    inputs,
    grad_outputs=None,
    retain_graph=None,
    create_graph=False,
    allow_unused=None,
    materialize_grads=False,
):
    """Gradients of ``outputs`` w.r.t. ``inputs``, returned (not accumulated into .grad).

    As ``torch.autograd.grad``: an input the outputs do not depend on raises unless
    ``allow_unused=True`` (then its gradient is None, or zeros with ``materialize_grads``).
    """
    if create_graph:
        raise NotImplementedError("create_graph=True: gradfit's engine is first-order")
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    single = isinstance(inputs, Tensor)
    inputs = [inputs] if single else list(inputs)
    for x in inputs:
        if not x.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs] * len(outputs) if grad_outputs is None else [grad_outputs]
    grads = [_root_grad(t, g) for t, g in zip(outputs, grad_outputs)]
    captured = run_backward(outputs, grads, bool(retain_graph), capture=inputs)
    result = []
    for x in inputs:
        g = captured.get(id(x))
        if g is None:
            if materialize_grads:
                g = np.zeros_like(x._array)
            elif not (allow_unused or materialize_grads):
                raise RuntimeError(
                    "One of the differentiated Tensors appears to not have been used in the "
                    "graph. Set allow_unused=True if this is the desired behavior."
                )
        result.append(None if g is None else Tensor._make(np.array(g, copy=True), None))
    return tuple(result)
