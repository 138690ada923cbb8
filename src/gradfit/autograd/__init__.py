"""Reverse-mode automatic differentiation: the graph engine, grad mode, user Functions,
``grad`` and the public ``gradcheck``.

This package is the layer below ``gradfit.tensor``: it imports nothing of gradfit but
``_grad_mode``, and knows tensors only through ``function.TensorProtocol``.
``gradfit.tensor`` hands it the Tensor class once, with ``bind_tensor_class``, right
after defining it; ops (``gradfit.ops``) subclass ``function.Op`` and work on arrays.
"""

from __future__ import annotations

from gradfit import _grad_mode as grad_mode  # torch.autograd.grad_mode
from gradfit._grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from gradfit.autograd import (
    _meta_mode,  # noqa: F401 - installs itself on the first meta tensor
    anomaly_mode,
    engine,
    function,
    functional,
    graph,
)
from gradfit.autograd import gradcheck as _gradcheck_module
from gradfit.autograd.anomaly_mode import detect_anomaly, set_detect_anomaly
from gradfit.autograd.engine import backward, grad
from gradfit.autograd.function import Function, FunctionCtx, TensorProtocol, once_differentiable
from gradfit.autograd.gradcheck import GradcheckError, gradcheck, gradgradcheck


def bind_tensor_class(cls: type[TensorProtocol]) -> None:
    """Make ``cls`` the tensor type of the graph machinery: ops wrap their outputs in it,
    the engine recognises graph inputs by it. ``gradfit.tensor`` calls this once."""
    for module in (function, engine, _gradcheck_module):
        module.Tensor = cls


__all__ = [
    "Function",
    "FunctionCtx",
    "GradcheckError",
    "Variable",
    "anomaly_mode",
    "backward",
    "detect_anomaly",
    "enable_grad",
    "forward_ad",
    "grad",
    "profiler",
    "functional",
    "gradcheck",
    "gradgradcheck",
    "graph",
    "grad_mode",
    "inference_mode",
    "is_grad_enabled",
    "no_grad",
    "once_differentiable",
    "set_detect_anomaly",
    "set_grad_enabled",
]


def Variable(data, requires_grad: bool = False, volatile: bool = False):  # noqa: N802
    """``torch.autograd.Variable`` with its current meaning: returns the Tensor itself.

    Since PyTorch 0.4 a Variable is a Tensor; ``Variable(t, requires_grad=True)`` marks ``t``
    (a leaf) as requiring a gradient and returns it. Old tutorials still call it.
    """
    if not isinstance(data, function.Tensor):
        raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
    if requires_grad:
        data.requires_grad_(True)
    return data


def __getattr__(name: str):
    # ``forward_ad`` is imported on first use, so that ``import gradfit`` pays nothing for it.
    if name in ("forward_ad", "profiler"):  # profiler: torch.autograd.profiler (apihooks)
        import importlib

        return importlib.import_module(f"gradfit.autograd.{name}")
    raise AttributeError(f"module 'gradfit.autograd' has no attribute {name!r}")
