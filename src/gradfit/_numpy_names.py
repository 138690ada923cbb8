"""NumPy's argument names, accepted where PyTorch accepts them.

PyTorch's argument parser takes ``axis`` for any parameter named ``dim`` and ``keepdims``
for ``keepdim`` (``python_arg_parser.cpp``'s numpy compatibility names), on Tensor methods
and ``torch.*`` functions alike: ``x.sum(axis=0)``, ``y_hat.argmax(axis=1)``,
``torch.cat(xs, axis=1)``, ``x.mean(axis=1, keepdims=True)``, as the d2l book writes them.
Functions written in Python in PyTorch (``torch.nn.functional``) do not, and are left alone.
"""

from __future__ import annotations

import functools
import inspect

_ALIASES = {"axis": "dim", "keepdims": "keepdim"}
# written in Python in PyTorch (torch/functional.py, torch/_tensor.py): no numpy names there
_PYTHON_IN_TORCH = {"norm", "split", "unique", "unique_consecutive", "unflatten", "stft"}


def accept_numpy_names(fn):
    """``fn`` taking ``axis``/``keepdims`` as ``dim``/``keepdim``."""

    @functools.wraps(fn)
    def call(*args, **kwargs):
        if kwargs and ("axis" in kwargs or "keepdims" in kwargs):
            for alias, name in _ALIASES.items():
                if alias in kwargs:
                    if name in kwargs:
                        raise TypeError(
                            f"{fn.__name__}() got multiple values for argument '{name}' "
                            f"(given as '{name}' and as '{alias}')"
                        )
                    kwargs[name] = kwargs.pop(alias)
        return fn(*args, **kwargs)

    call._numpy_names = True
    return call


def _takes_dim(fn) -> bool:
    if not inspect.isfunction(fn) or getattr(fn, "_numpy_names", False):
        return False
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return ("dim" in params or "keepdim" in params) and not any(
        alias in params for alias in _ALIASES
    )


def install(namespace: dict, cls: type) -> None:
    """Wrap the functions of ``namespace`` and the methods of ``cls`` that take ``dim``
    or ``keepdim``."""
    for name, fn in list(namespace.items()):
        if not name.startswith("_") and name not in _PYTHON_IN_TORCH and _takes_dim(fn):
            namespace[name] = accept_numpy_names(fn)
    for name, fn in list(vars(cls).items()):
        if name not in _PYTHON_IN_TORCH and _takes_dim(fn):
            setattr(cls, name, accept_numpy_names(fn))
