"""``torch.func``: composable function transforms (``grad``, ``vjp``, ``jvp``,
``jacrev``, ``jacfwd``, ``hessian``, ``vmap``) and ``functional_call``.

gradfit builds them on its reverse-mode engine (``autograd.grad`` with
``create_graph``) and runs ``vmap`` one slice at a time; the values are PyTorch's. See
``_transforms`` and ``_vmap`` for how, and for the one difference at the outermost level.
"""

from __future__ import annotations

from gradfit.func import _transforms
from gradfit.func._transforms import *  # noqa: F403 - listed in _transforms.__all__
from gradfit.func._vmap import vmap

__all__ = [*_transforms.__all__, "vmap"]
