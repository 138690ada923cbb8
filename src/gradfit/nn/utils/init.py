"""``torch.nn.utils.skip_init``: build a module without running its initialisation."""

from __future__ import annotations

import inspect

import numpy as np

from gradfit import random
from gradfit._arrays import set_array, unwrap


def skip_init(module_cls, *args, **kwargs):
    """``module_cls(*args, **kwargs)`` with its parameters and buffers left
    uninitialised (their values are arbitrary) and the default generator untouched,
    as PyTorch's (which builds on the meta device, drawing no random numbers)."""
    from gradfit.nn.modules.module import Module

    if not (isinstance(module_cls, type) and issubclass(module_cls, Module)):
        raise RuntimeError(f"Expected a Module; got {module_cls}")
    if "device" not in inspect.signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    kwargs["device"] = kwargs.pop("device", "cpu")
    state = random.get_rng_state()
    try:
        module = module_cls(*args, **kwargs)
    finally:
        random.set_rng_state(state)
    for t in list(module.parameters()) + list(module.buffers()):
        set_array(t, np.empty_like(unwrap(t)))
    return module
