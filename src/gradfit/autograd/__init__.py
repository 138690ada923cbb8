"""Reverse-mode automatic differentiation: the graph engine, grad mode, user Functions,
``grad`` and the public ``gradcheck``.

This package is the layer below ``gradfit.tensor``: it imports nothing of gradfit but
``_grad_mode``, and knows tensors only through ``function.TensorProtocol``.
``gradfit.tensor`` hands it the Tensor class once, with ``bind_tensor_class``, right
after defining it; ops (``gradfit.ops``) subclass ``function.Op`` and work on arrays.
"""

from __future__ import annotations

from gradfit._grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from gradfit.autograd import engine, function
from gradfit.autograd import gradcheck as _gradcheck_module
from gradfit.autograd.engine import backward, grad
from gradfit.autograd.function import Function, FunctionCtx, TensorProtocol
from gradfit.autograd.gradcheck import GradcheckError, gradcheck


def bind_tensor_class(cls: type[TensorProtocol]) -> None:
    """Make ``cls`` the tensor type of the graph machinery: ops wrap their outputs in it,
    the engine recognises graph inputs by it. ``gradfit.tensor`` calls this once."""
    for module in (function, engine, _gradcheck_module):
        module.Tensor = cls


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
