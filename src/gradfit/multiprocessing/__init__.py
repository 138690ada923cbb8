"""``torch.multiprocessing``: Python's ``multiprocessing`` with tensors that cross process
boundaries as shared memory (``gradfit._shared_memory``), and ``spawn`` /
``start_processes`` to run a function in several processes.

Everything of ``multiprocessing`` is here under its own name (``Process``, ``Queue``,
``get_context``, ``set_start_method``, ...). Importing this module has multiprocessing's
pickler send gradfit tensors (and Parameters) as shared memory: a tensor put on a queue
or passed to a ``spawn``-ed process is the same memory on both sides, and
``model.share_memory()`` before starting Hogwild workers makes their updates land in the
one model. Only the ``file_system``-like strategy exists (named files in ``/dev/shm``).
"""

from __future__ import annotations

import multiprocessing
from multiprocessing import *  # noqa: F403 - the standard library's API, as torch's

from gradfit import _shared_memory
from gradfit.multiprocessing.spawn import (
    ProcessContext,
    ProcessException,
    ProcessExitedException,
    ProcessRaisedException,
    spawn,
    start_processes,
)

__all__ = [
    "ProcessContext",
    "ProcessException",
    "ProcessExitedException",
    "ProcessRaisedException",
    "get_all_sharing_strategies",
    "get_sharing_strategy",
    "init_reductions",
    "set_sharing_strategy",
    "spawn",
    "start_processes",
    *multiprocessing.__all__,
]

_STRATEGIES = {"file_system"}
_strategy = ["file_system"]


def set_sharing_strategy(new_strategy: str) -> None:
    """Choose how tensors are shared; gradfit has one way, ``"file_system"`` (PyTorch's
    default on Linux, ``"file_descriptor"``, passes open files instead)."""
    if new_strategy not in _STRATEGIES | {"file_descriptor"}:
        raise ValueError(
            f"set_sharing_strategy: unknown strategy {new_strategy!r}, expected one of "
            f"{sorted(_STRATEGIES)}"
        )
    if new_strategy == "file_descriptor":
        raise ValueError(
            "set_sharing_strategy: gradfit shares tensors through named files only "
            "('file_system'), not 'file_descriptor'"
        )
    _strategy[0] = new_strategy


def get_sharing_strategy() -> str:
    return _strategy[0]


def get_all_sharing_strategies() -> set:
    return set(_STRATEGIES)


def init_reductions() -> None:
    """Have multiprocessing's pickler send gradfit tensors and Parameters as shared memory."""
    from gradfit.nn.parameter import Parameter
    from gradfit.tensor import Tensor

    for cls in (Tensor, Parameter):
        _shared_memory._register_reducer(cls)


init_reductions()
