"""``torch.func``: composable function transforms (``grad``, ``vjp``, ``jvp``,
``jacrev``, ``jacfwd``, ``hessian``, ``vmap``) and ``functional_call``.

gradfit builds them on its reverse-mode engine (``autograd.grad`` with
``create_graph``) and runs ``vmap`` one slice at a time; the values are PyTorch's. See
``_transforms`` and ``_vmap`` for how, and for the one difference at the outermost level.
"""

from __future__ import annotations

from gradfit.func._transforms import (
    debug_unwrap,
    functional_call,
    functionalize,
    grad,
    grad_and_value,
    hessian,
    jacfwd,
    jacrev,
    jvp,
    linearize,
    replace_all_batch_norm_modules_,
    stack_module_state,
    vjp,
)
from gradfit.func._vmap import vmap

__all__ = [
    "debug_unwrap",
    "functional_call",
    "functionalize",
    "grad",
    "grad_and_value",
    "hessian",
    "jacfwd",
    "jacrev",
    "jvp",
    "linearize",
    "replace_all_batch_norm_modules_",
    "stack_module_state",
    "vjp",
    "vmap",
]
