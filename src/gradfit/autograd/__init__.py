"""Reverse-mode automatic differentiation: the graph engine, grad mode, user Functions,
``grad`` and the public ``gradcheck``."""

from __future__ import annotations

import numpy as np

from gradfit._grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from gradfit.autograd.function import Function, FunctionCtx
from gradfit.tensor import Tensor


def backward(tensors, grad_tensors=None, retain_graph=None) -> None:
    """Accumulate gradients of ``tensors`` into the leaves (``torch.autograd.backward``)."""
    from gradfit.autograd.engine import run_backward

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
    from gradfit.autograd.engine import run_backward

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


from gradfit.autograd.gradcheck import GradcheckError, gradcheck  # noqa: E402

__all__ = [
    "Function",
    "FunctionCtx",
    "GradcheckError",
    "backward",
    "enable_grad",
    "grad",
    "gradcheck",
    "is_grad_enabled",
    "no_grad",
    "set_grad_enabled",
]

# PyTorch's legacy ``Variable`` (now just the Tensor), for old tutorials.
from gradfit._legacy import Variable  # noqa: E402, F401
