"""NumPy's argument names on the ``gradfit.*`` functions, where PyTorch accepts them.

PyTorch's argument parser takes ``axis`` for any parameter named ``dim`` and ``keepdims``
for ``keepdim`` (``python_arg_parser.cpp``'s numpy compatibility names), on Tensor methods
and ``torch.*`` functions alike: ``torch.cat(xs, axis=1)``, ``y_hat.argmax(axis=1)`` (the
d2l book). ``tensor.py`` wraps the Tensor methods whose code names ``dim``/``keepdim``;
this wraps, with the same wrapper, the public functions of the ``gradfit`` namespace and
the Tensor methods it missed (wrappers such as the named-node ones, whose signature
comes from ``__wrapped__``). Functions written in Python in PyTorch (``torch.norm``,
``torch.split``, ``torch.unique``, ...) take no NumPy names there, and are left alone.
"""

from __future__ import annotations

import inspect

from gradfit.tensor import NUMPY_NAMES_SKIPPED
from gradfit.tensor import _numpy_names as accept_numpy_names
from gradfit.tensor import _takes_dim as takes_dim

# written in Python in PyTorch (torch/functional.py): no numpy names there
_PYTHON_IN_TORCH = {"norm", "split", "unique", "unique_consecutive", "stft", "istft"}
_WRAPPED_CODE = accept_numpy_names(len).__code__


def _needs_wrapper(fn) -> bool:
    return inspect.isfunction(fn) and fn.__code__ is not _WRAPPED_CODE and takes_dim(fn)


def install(namespace: dict, cls: type) -> None:
    """Wrap the public functions of ``namespace`` and the methods of ``cls`` that take
    ``dim`` or ``keepdim`` and are not wrapped yet."""
    for name, fn in list(namespace.items()):
        if not name.startswith("_") and name not in _PYTHON_IN_TORCH and _needs_wrapper(fn):
            namespace[name] = accept_numpy_names(fn)
    for name, fn in list(vars(cls).items()):
        if not name.startswith("_") and name not in NUMPY_NAMES_SKIPPED and _needs_wrapper(fn):
            setattr(cls, name, accept_numpy_names(fn))
