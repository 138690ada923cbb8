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

import re

import numpy as np

from gradfit import _grad_mode
from gradfit._cascade_sum import cascade_sum
from gradfit.autograd import _torch_names
from gradfit.autograd.anomaly_mode import ANOMALY, check_nan
from gradfit.autograd.function import GRAPH_FREED
from gradfit.autograd.graph import post_accumulate as _post_accumulate

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
    # added in PyTorch's order (its sum_to is a sum over these axes)
    out = cascade_sum(grad, axes, True) if axes else grad
    if lead:
        out = out.reshape(shape)
    return out


def as_consumed(t, node):
    """``t`` as ``node`` read it. An in-place op recorded in the graph makes its tensor
    the output of a new node, which keeps the tensor as it was before the edit as
    ``replaced`` (``Tensor._inplace_op``). A node recorded before that edit (a smaller
    ``seq``) sends its gradient along the earlier history, as PyTorch does; callers ask
    only for tensors edited in place (a nonzero version)."""
    fn = t.grad_fn
    while fn is not None and fn.replaced is not None and fn.seq > node.seq:
        t = fn.replaced
        fn = t.grad_fn
    return t


def _edited_output(t, fn, node) -> tuple:
    """``t`` (made by ``fn``, edited in place since) as ``node`` read it, and its node.

    An output is at version 0 when made (``output_version`` after an in-place op recorded
    in the graph): if it has been edited since and its node saved it, that node would
    differentiate through the new values, so this is PyTorch's version error."""
    if fn.replaced is not None:
        t = as_consumed(t, node)
        fn = t.grad_fn
    if fn is not None and fn.saves_output and t._version != fn.output_version:
        raise _version_error(fn, t, fn.output_version, "the output")
    return t, fn


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
                if fn is not None:
                    if t._version and fn.replaced is not None:
                        fn = as_consumed(t, node).grad_fn
                    if fn is not None and fn not in expanded:
                        stack.append(fn)
    order.reverse()
    return order


def _version_error(node, t, expected: int, which: str) -> RuntimeError:
    """PyTorch's error for a saved tensor edited in place after the forward pass. It names
    the node that made the tensor: the saving node for a saved output, the tensor's
    latest node (the in-place op) for a saved input, none for a tensor made outside the
    graph."""
    maker = node if which == "the output" else t.grad_fn
    made_by = ""
    if maker is not None:
        made_by = f", which is output 0 of {re.sub(r'Backward[0-9]*$', '', maker.name())},"
    shape = ", ".join(str(n) for n in t.shape)
    return RuntimeError(
        "one of the variables needed for gradient computation has been modified by an "
        f"inplace operation: [{t.type()} [{shape}]]{made_by} is at version {t._version}; "
        f"expected version {expected} instead. Hint: enable anomaly detection to find the "
        "operation that failed to compute its gradient, with "
        "torch.autograd.set_detect_anomaly(True, check_nan=False)."
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
    anomaly = ANOMALY[0] and ANOMALY[1]
    for node in _toposort(nodes) if len(nodes) != 1 or nodes[0].inputs else nodes:
        g = pop(node, None)
        if g is None:
            continue
        if node._freed:
            raise RuntimeError(GRAPH_FREED)
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
        if g.dtype.kind == "c" and not node.complex_grad:
            in_grads = _wirtinger(node, g)
        else:
            in_grads = node.backward(node, g)
        if type(in_grads) is not tuple:
            in_grads = (in_grads,)
        if anomaly:
            check_nan(node, in_grads)
        for t, ig in zip(inputs, in_grads):
            if ig is None or not isinstance(t, Tensor):
                continue
            fn = t.grad_fn
            if fn is not None and t._version:
                t, fn = _edited_output(t, fn, node)
            if not t._requires_grad:
                continue
            shape = t._array.shape
            if ig.shape != shape:
                ig = sum_to_shape(ig, shape)
                if ig.shape != shape:
                    raise RuntimeError(
                        f"{node.name()} returned a gradient of shape {ig.shape} for an input "
                        f"of shape {shape}"
                    )
            if fn is None:
                _deliver_leaf(t, ig, leaf_grads, capture, ig is g)
            else:
                prev = get(fn)
                grads[fn] = ig if prev is None else prev + ig
        if not retain_graph:  # Op.free, inline: this loop runs once per node
            if node._picks_name is not False:
                _torch_names.pin_name(node)
            node.inputs = ()
            node.versions = None
            node._freed = True
    if capture is not None:
        out = {}
        for t in capture:
            out[id(t)] = captured.get(t.grad_fn) if t.grad_fn is not None else leaf_grads.get(id(t))
        return out
    return None


def _wirtinger(node, g: np.ndarray) -> tuple:
    """A complex gradient through an op whose backward is written for real numbers.

    PyTorch's gradient of a real loss w.r.t. a complex z is dL/dRe(z) + i dL/dIm(z). For
    a holomorphic op (every op without ``complex_grad``: arithmetic, exp, matmul, sums,
    reshapes) that is g * conj(f'(z)) = conj(conj(g) * f'(z)): the real-number backward
    called with conj(g), conjugated. A real input takes the real part."""
    res = node.backward(node, np.conj(g))
    if type(res) is not tuple:
        res = (res,)
    out = []
    for t, r in zip(node.inputs, res):
        if r is not None and r.dtype.kind == "c":
            if isinstance(t, Tensor) and t._array.dtype.kind != "c":
                r = np.ascontiguousarray(r.real)
            else:
                r = np.conj(r)
        out.append(r)
    return tuple(out)


def _deliver_leaf(t: Tensor, g: np.ndarray, leaf_grads: dict, capture, shared=False) -> None:
    """Accumulate ``g`` into leaf ``t`` (or collect it for ``autograd.grad``)."""
    if capture is not None:
        key = id(t)
        leaf_grads[key] = leaf_grads[key] + g if key in leaf_grads else g
        return
    hooks = t._hooks
    if hooks:
        for hook in hooks:
            res = hook(Tensor._make(g, None))
            if res is not None:
                g = res._array
    dtype = t._array.dtype
    if g.dtype is not dtype and g.dtype != dtype:
        g = g.astype(dtype)
    if t._grad is None:
        # The leaf must own its gradient: the same array may also flow to another input
        # (ADD passes delta_c to both operands) or be a view of a caller's array.
        orig = g
        flags = g.flags
        if shared or not (flags.owndata and flags.writeable) or id(g) in leaf_grads:
            g = g.copy()
        leaf_grads[id(orig)] = orig  # kept alive so the id stays unique during this pass
        t._grad = Tensor._make(g, None)
    else:
        t._grad._array += g
    if hooks:
        _post_accumulate(t)


# ------------------------------------------------------- create_graph: gradients of gradients


def _toposort_graph(roots: list, stop: dict | None) -> list:
    """``_toposort`` that does not go past the tensors in ``stop`` (ids): a composite's
    derivative (``_composite_grads``) wants the partial derivatives w.r.t. its inputs, so
    the graph above them is neither walked nor differentiated."""
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
            if isinstance(t, Tensor) and (stop is None or id(t) not in stop):
                if t._version and t.grad_fn is not None and t.grad_fn.replaced is not None:
                    t = as_consumed(t, node)
                fn = t.grad_fn
                if fn is not None and fn not in expanded:
                    stack.append(fn)
    order.reverse()
    return order


def _prune(order: list, capture: dict) -> list:
    """The nodes of ``order`` from which a captured tensor is reachable (PyTorch's
    exec_info): ``grad`` differentiates only those, not the rest of the graph."""
    needed = set()
    for node in reversed(order):  # producers before consumers
        for t in node.inputs:
            if isinstance(t, Tensor) and t._version and t.grad_fn is not None:
                t = as_consumed(t, node)
            if isinstance(t, Tensor) and (id(t) in capture or t.grad_fn in needed):
                needed.add(node)
                break
    return [node for node in order if node in needed]


def _sum_to_shape_graph(g, shape: tuple):
    """``sum_to_shape`` with gradfit operations, so that it is recorded in the graph."""
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1
    )
    out = g.sum(dim=axes, keepdim=True) if axes else g
    return out.reshape(shape) if lead else out


def _derivative(node, g):
    """A node's input gradients as Tensors built from gradfit operations (recorded)."""
    backward_graph = getattr(node, "backward_graph", None)
    if backward_graph is not None:
        if g._array.dtype.kind == "c" and not node.complex_grad:
            return _wirtinger_graph(node, g, backward_graph)
        return backward_graph(node, g)
    if getattr(node, "composite", None) is not None:
        return _composite_grads(node, g)
    raise RuntimeError(
        f"{node.name()} has no second-order derivative in gradfit: create_graph=True "
        "(a gradient of a gradient, hessian, gradgradcheck) cannot go through it"
    )


def _wirtinger_graph(node, g, backward_graph) -> tuple:
    """``_wirtinger`` with gradfit operations (recorded, for create_graph)."""
    res = backward_graph(node, g.conj())
    if type(res) is not tuple:
        res = (res,)
    out = []
    for t, r in zip(node.inputs, res):
        if r is not None and r._array.dtype.kind == "c":
            real_input = isinstance(t, Tensor) and t._array.dtype.kind != "c"
            r = r.real if real_input else r.conj()
        out.append(r)
    return tuple(out)


def _composite_grads(node, g):
    """Derivative of a fused op from its ``composite``: the same function written in
    differentiable gradfit operations, re-run on the node's inputs and differentiated
    with create_graph (partial derivatives: the walk stops at the inputs)."""
    inputs = node.inputs
    out = node.composite(*inputs, **node.kwargs)
    want = {}
    for t in inputs:
        if isinstance(t, Tensor) and t._requires_grad:
            want[id(t)] = t
    if not out._requires_grad:
        return tuple(None for _ in inputs)
    captured = run_backward_graph([out], [g], True, capture=want, stop_at_capture=True)
    seen = set()
    result = []
    for t in inputs:
        # An input passed twice gets its whole gradient once (the engine adds per edge).
        if isinstance(t, Tensor) and id(t) not in seen:
            seen.add(id(t))
            result.append(captured.get(id(t)))
        else:
            result.append(None)
    return tuple(result)


def _accumulate(store: dict, key, g) -> None:
    prev = store.get(key)
    store[key] = g if prev is None else prev + g


def run_backward_graph(
    roots, root_grads, retain_graph: bool, capture=None, stop_at_capture=False
) -> dict | None:
    """``run_backward`` for ``create_graph=True``: gradients are Tensors and each node's
    derivative is computed with gradfit operations (``Op.backward_graph``, or the op's
    ``composite`` differentiated), under grad mode, so the pass itself is recorded and
    can be differentiated again. The first-order ``run_backward`` is untouched.

    Args:
        roots, retain_graph: as ``run_backward``; ``root_grads`` are Tensors.
        capture: {id: tensor} whose gradients are returned (summed over the edges into
            them) instead of accumulated into leaves' ``.grad``.
        stop_at_capture: do not walk past the captured tensors (partial derivatives).
    """
    grads: dict = {}
    captured: dict = {}
    nodes = []
    for t, g in zip(roots, root_grads):
        if capture is not None and id(t) in capture:
            _accumulate(captured, id(t), g)
            if stop_at_capture:
                continue
        fn = t.grad_fn
        if fn is None:
            if t._requires_grad and capture is None:
                _deliver_leaf_graph(t, g)
            continue
        if t._version and fn.saves_output and t._version != fn.output_version:
            raise _version_error(fn, t, fn.output_version, "the output")
        _accumulate(grads, fn, g)
        nodes.append(fn)
    order = _toposort_graph(nodes, capture if stop_at_capture else None)
    if capture is not None and not stop_at_capture:
        order = _prune(order, capture)
    previous = _grad_mode._enabled[0]
    _grad_mode._enabled[0] = True
    try:
        for node in order:
            g = grads.pop(node, None)
            if g is None:
                continue
            if node._freed:
                raise RuntimeError(GRAPH_FREED)
            if node.hooks:
                for hook in node.hooks:
                    res = hook(g)
                    if res is not None:
                        g = res
            inputs = node.inputs
            if node.versions is not None:
                for t, v in zip(inputs, node.versions):
                    if v is not None and t._version != v:
                        _check_edited_input(node, t, v)
            in_grads = _derivative(node, g)
            if type(in_grads) is not tuple:
                in_grads = (in_grads,)
            if ANOMALY[0] and ANOMALY[1]:
                check_nan(node, in_grads)
            for t, ig in zip(inputs, in_grads):
                if ig is None or not isinstance(t, Tensor):
                    continue
                if t._version and t.grad_fn is not None and t.grad_fn.replaced is not None:
                    t = as_consumed(t, node)
                if not t._requires_grad:
                    continue
                if not isinstance(ig, Tensor):
                    ig = Tensor._make(np.asarray(ig), None)
                shape = t._array.shape
                if ig.shape != shape:
                    ig = _sum_to_shape_graph(ig, shape)
                    if ig.shape != shape:
                        raise RuntimeError(
                            f"{node.name()} returned a gradient of shape {tuple(ig.shape)} "
                            f"for an input of shape {shape}"
                        )
                if capture is not None and id(t) in capture:
                    _accumulate(captured, id(t), ig)
                    if stop_at_capture:
                        continue
                fn = t.grad_fn
                if fn is None:
                    if capture is None:
                        _deliver_leaf_graph(t, ig)
                    continue
                if t._version and fn.saves_output and t._version != fn.output_version:
                    raise _version_error(fn, t, fn.output_version, "the output")
                _accumulate(grads, fn, ig)
            if not retain_graph:
                node.free()
    finally:
        _grad_mode._enabled[0] = previous
    return captured if capture is not None else None


def _deliver_leaf_graph(t, g) -> None:
    """Accumulate the Tensor ``g`` into leaf ``t`` out of place, as PyTorch does under
    create_graph: ``.grad`` is then a differentiable tensor with a ``grad_fn``."""
    if t._hooks:
        for hook in t._hooks:
            res = hook(g)
            if res is not None:
                g = res
    if g.dtype != t.dtype:
        g = g.to(t.dtype)
    if t._grad is None:
        # Its own tensor: the same gradient may also reach another leaf (ADD).
        t._grad = g.clone() if g.grad_fn is not None else Tensor._make(g._array.copy(), None)
    else:
        t._grad = t._grad + g
    if t._hooks:
        _post_accumulate(t)


# ---------------------------------------------------------------- public entry points


def backward(
    tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None
) -> None:
    """Accumulate gradients of ``tensors`` into the leaves (``torch.autograd.backward``).

    ``create_graph=True`` records the backward pass, so the leaves' ``.grad`` can be
    differentiated again; ``retain_graph`` then defaults to True, as in PyTorch.
    ``inputs``: accumulate only into these tensors' ``.grad``.
    """
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    if grad_tensors is None:
        grad_tensors = [None] * len(tensors)
    elif isinstance(grad_tensors, Tensor):
        grad_tensors = [grad_tensors]
    if retain_graph is None:
        retain_graph = create_graph
    if inputs is not None:
        inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
        grads = grad(tensors, inputs, grad_tensors, retain_graph, create_graph, allow_unused=True)
        for x, g in zip(inputs, grads):
            if g is not None:
                if create_graph:
                    _deliver_leaf_graph(x, g)
                else:
                    _deliver_leaf(x, g._array, {}, None, shared=True)
        return
    if create_graph:
        grads = [_root_grad_graph(t, g, i) for i, (t, g) in enumerate(zip(tensors, grad_tensors))]
        run_backward_graph(tensors, grads, bool(retain_graph))
        return
    grads = [_root_grad(t, g, i) for i, (t, g) in enumerate(zip(tensors, grad_tensors))]
    run_backward(tensors, grads, bool(retain_graph))


def shape_mismatch(i: int, grad_shape, out_shape) -> RuntimeError:
    """PyTorch's error for a seed gradient whose shape is not its output's."""
    return RuntimeError(
        f"Mismatch in shape: grad_output[{i}] has a shape of gradfit.Size({list(grad_shape)}) "
        f"and output[{i}] has a shape of gradfit.Size({list(out_shape)})."
    )


def _root_grad_graph(t: Tensor, g, i: int = 0) -> Tensor:
    """The seed of a create_graph pass, as a Tensor (it may itself require grad: hvp)."""
    if isinstance(g, Tensor):
        if not t.requires_grad:
            _root_grad(t, None if t.numel() == 1 else g, i)
        if tuple(g.shape) != tuple(t.shape):
            raise shape_mismatch(i, g.shape, t.shape)
        return g if g.dtype == t.dtype else g.to(t.dtype)
    return Tensor._make(_root_grad(t, g, i), None)


def _root_grad(t: Tensor, g, i: int = 0) -> np.ndarray:
    if not t.requires_grad:
        raise RuntimeError(
            f"element {i} of tensors does not require grad and does not have a grad_fn"
        )
    if g is None:
        if t.numel() != 1:
            raise RuntimeError("grad can be implicitly created only for scalar outputs")
        if t._array.dtype.kind == "c":
            raise RuntimeError(
                "grad can be implicitly created only for real scalar outputs but got "
                f"gradfit.{t._array.dtype.name}"
            )
        return np.ones_like(t._array)
    arr = g._array if isinstance(g, Tensor) else np.asarray(g)
    if arr.shape != t.shape:
        raise shape_mismatch(i, arr.shape, t.shape)
    return arr.astype(t.dtype, copy=False)


def grad(
    outputs,
    inputs,
    grad_outputs=None,
    retain_graph=None,
    create_graph=False,
    only_inputs=True,
    allow_unused=None,
    is_grads_batched=False,
    materialize_grads=False,
):
    """Gradients of ``outputs`` w.r.t. ``inputs``, returned (not accumulated into .grad).

    As ``torch.autograd.grad`` (same positional order): an input the outputs do not depend
    on raises unless ``allow_unused=True`` (then its gradient is None, or zeros with
    ``materialize_grads``). ``only_inputs`` is PyTorch's deprecated, ignored flag (WGAN-GP
    code still passes it); ``is_grads_batched`` treats the first dim of ``grad_outputs`` as a
    batch of vectors (a Jacobian from ``torch.eye``).
    """
    if not only_inputs:
        import warnings

        warnings.warn(
            "only_inputs argument is deprecated and is ignored now (defaults to True). To "
            "accumulate gradient for other parts of the graph, please use "
            "torch.autograd.backward.",
            FutureWarning,
            stacklevel=2,
        )
    if is_grads_batched:
        return _grad_batched(
            outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused,
            materialize_grads,
        )  # fmt: skip
    if retain_graph is None:
        retain_graph = create_graph
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    single = isinstance(inputs, Tensor)
    inputs = [inputs] if single else list(inputs)
    for x in inputs:
        if not x.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs] * len(outputs) if grad_outputs is None else [grad_outputs]
    if create_graph:
        return _grad_graph(
            outputs, inputs, grad_outputs, retain_graph, allow_unused, materialize_grads
        )
    grads = [_root_grad(t, g, i) for i, (t, g) in enumerate(zip(outputs, grad_outputs))]
    captured = run_backward(outputs, grads, bool(retain_graph), capture=inputs)
    result = []
    for i, x in enumerate(inputs):
        g = captured.get(id(x))
        if g is None:
            if materialize_grads:
                g = np.zeros_like(x._array)
            elif not (allow_unused or materialize_grads):
                raise _unused(i)
        result.append(None if g is None else Tensor._make(np.array(g, copy=True), None))
    return tuple(result)


def _grad_batched(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused,
                  materialize_grads):  # fmt: skip
    """``is_grads_batched=True``: the first dim of every ``grad_outputs`` entry is a batch of
    vectors, and each gradient gets that dim (row b is the vector-Jacobian product with the
    b-th vectors: a Jacobian from ``torch.eye``). PyTorch vmaps the backward pass; one pass
    per row gives the same values."""
    if retain_graph is None:
        retain_graph = create_graph
    gos = [grad_outputs] if isinstance(grad_outputs, Tensor) else list(grad_outputs or ())
    n_out = 1 if isinstance(outputs, Tensor) else len(outputs)
    if len(gos) != n_out or any(g is None for g in gos):
        raise RuntimeError("grad: is_grads_batched=True needs a batched grad_output per output")
    sizes = {g.shape[0] if g.ndim else None for g in gos}
    if len(sizes) != 1 or None in sizes:
        raise RuntimeError(
            f"grad: with is_grads_batched=True every grad_output needs the same batch size in "
            f"its first dimension, got shapes {[tuple(g.shape) for g in gos]}"
        )
    n = sizes.pop()
    rows = [
        grad(outputs, inputs, [g[b] for g in gos],
             retain_graph=True if b < n - 1 else retain_graph, create_graph=create_graph,
             allow_unused=allow_unused, materialize_grads=materialize_grads)
        for b in range(n)
    ]  # fmt: skip
    stack = _stack_fn()
    return (
        tuple(None if col[0] is None else stack(list(col)) for col in zip(*rows))
        if rows
        else tuple(None for _ in ([inputs] if isinstance(inputs, Tensor) else inputs))
    )


def _stack_fn():
    from gradfit import stack

    return stack


def _unused(i: int) -> RuntimeError:
    return RuntimeError(
        f"The differentiated Tensor at index {i} appears to not have been used in the graph. "
        "Set allow_unused=True if this is the desired behavior."
    )


def _grad_graph(outputs, inputs, grad_outputs, retain_graph, allow_unused, materialize_grads):
    """``grad(..., create_graph=True)``: the gradients are Tensors with a ``grad_fn``."""
    grads = [_root_grad_graph(t, g, i) for i, (t, g) in enumerate(zip(outputs, grad_outputs))]
    capture = {id(x): x for x in inputs}
    captured = run_backward_graph(outputs, grads, bool(retain_graph), capture=capture)
    result = []
    for i, x in enumerate(inputs):
        g = captured.get(id(x))
        if g is None:
            if materialize_grads:
                g = Tensor._make(np.zeros_like(x._array), None)
            elif not allow_unused:
                raise _unused(i)
        result.append(g)
    return tuple(result)
