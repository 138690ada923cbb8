"""Rprop (PyTorch's ``torch.optim.Rprop``)."""

from __future__ import annotations

import numpy as np

from gradfit.optim._functional import rprop
from gradfit.optim.optimizer import Optimizer, _step_array, constructor


class Rprop(Optimizer):
    """Resilient backpropagation (Riedmiller & Braun 1993), as PyTorch does it
    (``torch/optim/rprop.py``).

    Each weight has its own step size s (starting at ``lr``), and only the sign of the
    gradient is used (g = ±grad, g' = the previous step's g)::

        g·g' > 0: s = min(s·η+, s_max)       (same sign: speed up)
        g·g' < 0: s = max(s·η−, s_min), g = 0 (sign flipped: slow down, do not move,
                                                and do not count a flip next step)
        p = p − sign(g)·s;   g' = g

    A full-batch method: the sign flips of minibatch noise shrink the steps. No weight
    decay (as in PyTorch). A parameter whose ``.grad`` is None is skipped entirely.

    State per parameter: ``step`` (0-d float Tensor), ``prev`` (g'), ``step_size`` (s).

    Args:
        lr: the initial step size.
        etas: (η−, η+), with 0 < η− < 1 < η+.
        step_sizes: (s_min, s_max).
    """

    __init__ = constructor(
        {"lr": 1e-2, "etas": (0.5, 1.2), "step_sizes": (1e-6, 50)},
        "* capturable foreach maximize differentiable",
        checked="lr etas",
        order="lr etas step_sizes foreach maximize differentiable capturable",
    )

    def _update(self, group: dict, params: list, arrays: list, grads: list) -> None:
        lr = float(group["lr"])
        # created in PyTorch's order, which the state_dict keeps
        steps = self._state_arrays(params, "step", _step_array)
        prevs = self._state_arrays(params, "prev")
        step_sizes = self._state_arrays(params, "step_size", lambda a: np.full_like(a, lr))
        rprop(arrays, grads, (steps, prevs, step_sizes), group)
