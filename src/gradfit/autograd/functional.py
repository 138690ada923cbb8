"""Higher-level derivatives built on ``grad``: ``torch.autograd.functional``'s
``vjp``, ``jvp``, ``jacobian``, ``hessian``, ``hvp`` and ``vhp``, same signatures.

Each works on a function of Tensors and returns Tensors. ``jacobian`` runs one backward
pass per output element (reverse mode); ``hessian`` is the Jacobian of the gradient,
taken with ``create_graph=True``; ``jvp`` and ``hvp`` use the double-backward trick
(a vector-Jacobian product is linear in its vector, so differentiating it with respect
to that vector gives the Jacobian-vector product). ``vectorize`` is accepted and has no
effect: gradfit has no batched (vmap) backward.
"""

from __future__ import annotations

import numpy as np

from gradfit.autograd import function
from gradfit.autograd.engine import grad as _grad

__all__ = ["hessian", "hvp", "jacobian", "jvp", "vhp", "vjp"]


def _tensor():
    return function.Tensor


def _as_tuple(x, arg: str, fn: str) -> tuple[bool, tuple]:
    is_tuple = isinstance(x, tuple | list)
    items = tuple(x) if is_tuple else (x,)
    for i, t in enumerate(items):
        if not isinstance(t, _tensor()):
            what = f"value at index {i}" if is_tuple else f"given {arg}"
            raise TypeError(
                f"The {arg} given to {fn} must be either a Tensor or a tuple of Tensors but "
                f"the {what} has type {type(t)}."
            )
    return is_tuple, items


def _validate_v(v: tuple, other: tuple, is_other_tuple: bool) -> None:
    """PyTorch's check of ``v`` against the tensors it pairs with (same messages)."""
    if len(other) != len(v):
        if is_other_tuple:
            raise RuntimeError(
                f"v is a tuple of invalid length: should be {len(other)} but got {len(v)}."
            )
        raise RuntimeError("The given v should contain a single Tensor.")
    for i, (a, b) in enumerate(zip(v, other)):
        if tuple(a.shape) != tuple(b.shape):
            prepend = f"Entry {i} in " if is_other_tuple else ""
            raise RuntimeError(
                f"{prepend}v has invalid size: should be {b.shape} but got {a.shape}."
            )


def _prepare(inputs: tuple, create_graph: bool) -> tuple:
    """Fresh differentiable inputs: linked to the caller's graph only with create_graph
    (PyTorch's _grad_preprocess)."""
    out = []
    for x in inputs:
        if create_graph and x.requires_grad:
            out.append(x.clone())
        else:
            out.append(x.detach().requires_grad_(True))
    return tuple(out)


def _finish(items, create_graph: bool):
    """Detach the results unless a graph was asked for (PyTorch's _grad_postprocess)."""
    if isinstance(items, tuple):
        return tuple(_finish(i, create_graph) for i in items)
    if items is None or create_graph:
        return items
    return items.detach()


def _grads(outputs, inputs, grad_outputs, create_graph, strict, what="output"):
    """``grad`` with unused inputs as zeros (an error under ``strict``)."""
    needs = [o for o in outputs if o.requires_grad]
    if not needs:
        gs = [None] * len(inputs)
    else:
        gos = [g for o, g in zip(outputs, grad_outputs) if o.requires_grad]
        gs = _grad(
            needs,
            list(inputs),
            gos,
            retain_graph=True,
            create_graph=create_graph,
            allow_unused=True,
        )
    res = []
    for i, (x, g) in enumerate(zip(inputs, gs)):
        if g is None:
            if strict:
                raise RuntimeError(
                    f"The {what} of the user-provided function is independent of input {i}. "
                    "This is not allowed in strict mode."
                )
            g = _tensor()._make(np.zeros_like(x._array), None)
        res.append(g)
    return tuple(res)


def _check_v(v, outputs, fn: str, what: str) -> tuple:
    if v is None:
        if len(outputs) != 1 or outputs[0].numel() != 1:
            raise RuntimeError(
                f"The vector v can only be None if the {what} of the user-provided function "
                f"is a single Tensor with a single element ({fn})."
            )
        return (_tensor()._make(np.ones_like(outputs[0]._array), None),)
    _, v = _as_tuple(v, "v", fn)
    if len(v) != len(outputs):
        raise RuntimeError(f"{fn}: v has {len(v)} Tensors, the {what} has {len(outputs)}")
    for i, (a, b) in enumerate(zip(v, outputs)):
        if tuple(a.shape) != tuple(b.shape):
            raise RuntimeError(
                f"{fn}: entry {i} of v has shape {tuple(a.shape)}, expected {tuple(b.shape)}"
            )
    return v


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T J): the vector-Jacobian product at ``inputs``."""
    in_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
    inputs = _prepare(inputs, create_graph)
    out_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function", "vjp")
    v = _check_v(v, outputs, "vjp", "output")
    res = _grads(outputs, inputs, v, create_graph, strict)
    outputs = outputs if out_tuple else outputs[0]
    return _finish(outputs, create_graph), _finish(res if in_tuple else res[0], create_graph)


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J v): the Jacobian-vector product, by the double-backward trick."""
    in_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
    inputs = _prepare(inputs, create_graph)
    if v is None:
        if len(inputs) != 1 or inputs[0].numel() != 1:
            raise RuntimeError(
                "The vector v can only be None if the input to the user-provided function "
                "is a single Tensor with a single element."
            )
        v = (_tensor()._make(np.ones_like(inputs[0]._array), None),)
    else:
        _, v = _as_tuple(v, "v", "jvp")
        _validate_v(v, inputs, in_tuple)
    out_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function", "jvp")
    if strict:
        for i, o in enumerate(outputs):
            if not o.requires_grad:
                raise RuntimeError(
                    f"Output {i} of the user-provided function does not require gradients. The "
                    "outputs must be computed in a differentiable manner from the input when "
                    "running in strict mode."
                )
    seeds = tuple(
        _tensor()._make(np.zeros_like(o._array), None).requires_grad_(True) for o in outputs
    )
    back = _grads(outputs, inputs, seeds, True, strict)
    res = _grads(back, seeds, v, create_graph, strict, what="output")
    outputs = outputs if out_tuple else outputs[0]
    return _finish(outputs, create_graph), _finish(res if out_tuple else res[0], create_graph)


def jacobian(
    func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"
):
    """The Jacobian of ``func`` at ``inputs``: entry [i][j] has shape
    outputs[i].shape + inputs[j].shape (unnested for a single Tensor)."""
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError(
            f'Expected strategy to be either "forward-mode" or "reverse-mode", got {strategy!r}'
        )
    in_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
    inputs = _prepare(inputs, create_graph)
    out_tuple, outputs = _as_tuple(
        func(*inputs), "outputs of the user-provided function", "jacobian"
    )
    stack = _stack_fn()
    result = []
    for o in outputs:
        rows = [[] for _ in inputs]
        for k in range(o.numel()):
            seed = np.zeros(o.shape, dtype=o._array.dtype)
            seed.reshape(-1)[k] = 1
            gs = _grads((o,), inputs, (_tensor()._make(seed, None),), create_graph, strict)
            for j, g in enumerate(gs):
                rows[j].append(g)
        per_input = []
        for j, x in enumerate(inputs):
            shape = tuple(o.shape) + tuple(x.shape)
            if not rows[j]:
                per_input.append(_tensor()._make(np.zeros(shape, x._array.dtype), None))
            elif create_graph:
                per_input.append(stack(rows[j]).reshape(shape))
            else:
                arr = np.stack([g._array for g in rows[j]]).reshape(shape)
                per_input.append(_tensor()._make(arr, None))
        result.append(tuple(per_input))
    result = [r if in_tuple else r[0] for r in result]
    return _finish(tuple(result) if out_tuple else result[0], create_graph)


def _stack_fn():
    from gradfit import stack

    return stack


def hessian(
    func,
    inputs,
    create_graph=False,
    strict=False,
    vectorize=False,
    outer_jacobian_strategy="reverse-mode",
):
    """The Hessian of a scalar ``func`` at ``inputs``: the Jacobian of its gradient.
    Entry [i][j] has shape inputs[i].shape + inputs[j].shape (unnested for one Tensor)."""
    in_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")

    def gradient(*inp):
        out = func(*inp)
        _check_scalar(out, "hessian")
        return _grads((out,), inp, (None,), True, strict)

    res = jacobian(gradient, inputs, create_graph, strict, vectorize, outer_jacobian_strategy)
    return res if in_tuple else res[0][0]


def _check_scalar(out, fn: str) -> None:
    if not isinstance(out, _tensor()) or out.numel() != 1:
        raise RuntimeError(
            f"The function given to {fn} should return a single Tensor with a single element, "
            f"got {type(out).__name__}"
            + (f" of shape {tuple(out.shape)}" if isinstance(out, _tensor()) else "")
        )


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T H) for a scalar ``func``."""
    in_tuple, inputs = _as_tuple(inputs, "inputs", "vhp")
    inputs = _prepare(inputs, create_graph)
    out = func(*inputs)
    _check_scalar(out, "vhp")
    v = _check_v(v, inputs, "vhp", "input")
    jac = _grads((out,), inputs, (None,), True, strict)
    res = _grads(jac, inputs, v, create_graph, strict)
    return _finish(out, create_graph), _finish(res if in_tuple else res[0], create_graph)


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), H v) for a scalar ``func``, by the double-backward trick."""
    in_tuple, inputs = _as_tuple(inputs, "inputs", "hvp")
    inputs = _prepare(inputs, create_graph)
    out = func(*inputs)
    _check_scalar(out, "hvp")
    v = _check_v(v, inputs, "hvp", "input")
    jac = _grads((out,), inputs, (None,), True, strict)
    seeds = tuple(
        _tensor()._make(np.zeros_like(x._array), None).requires_grad_(True) for x in inputs
    )
    back = _grads(jac, inputs, seeds, True, strict)
    res = _grads(back, seeds, v, create_graph, strict)
    return _finish(out, create_graph), _finish(res if in_tuple else res[0], create_graph)
