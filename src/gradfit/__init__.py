"""gradfit: fitting models by gradient descent and backpropagation, on NumPy.

The public API is a PyTorch-compatible subset: ``import gradfit as torch`` style scripts
(Tensor, autograd, nn, optim, utils.data) run and give PyTorch's numbers.
"""

from __future__ import annotations

from gradfit import _dtypes, autograd
from gradfit._dtypes import (
    bool_,
    float16,
    float32,
    float64,
    get_default_dtype,
    int32,
    int64,
    set_default_dtype,
    uint8,
)
from gradfit._factories import (
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    tensor,
    zeros,
    zeros_like,
)
from gradfit._functional import *  # noqa: F403 - the op functions, listed in _functional
from gradfit._functional import max, min, pow, round, sum  # noqa: A004
from gradfit.autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from gradfit.random import (
    Generator,
    default_generator,
    get_rng_state,
    initial_seed,
    manual_seed,
    normal,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    seed,
    set_rng_state,
)
from gradfit.tensor import Size, Tensor, device  # noqa: I001  (Tensor before the ops)

float = float32  # noqa: A001 - PyTorch's alias
double = float64
half = float16
long = int64
int = int32  # noqa: A001
bool = bool_  # noqa: A001
dtype = type(float32)

__version__ = "0.1.0"


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def get_num_threads() -> int:
    import os

    return os.cpu_count() or 1


# Subpackages load on first use, so `import gradfit` stays fast; `gradfit.nn`,
# `gradfit.optim` and `gradfit.utils.data` then work as `torch.nn` and friends do.
_LAZY_MODULES = {
    "nn",
    "optim",
    "utils",
    "datasets",
    "train",
    "lecture",
    "viz",
    "distributed",
    "cli",
    "serialization",
}
_LAZY_NAMES = {"save": "gradfit.serialization", "load": "gradfit.serialization"}


def __getattr__(name: str):
    import importlib

    if name in _LAZY_MODULES:
        return importlib.import_module(f"gradfit.{name}")
    if name in _LAZY_NAMES:
        return getattr(importlib.import_module(_LAZY_NAMES[name]), name)
    raise AttributeError(f"module 'gradfit' has no attribute {name!r}")
