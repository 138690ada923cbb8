"""RMSprop (PyTorch's ``torch.optim.RMSprop``)."""

from __future__ import annotations

import numpy as np

from gradfit.optim._functional import rmsprop
from gradfit.optim.optimizer import Optimizer, _step_array, constructor


class RMSprop(Optimizer):
    """RMSprop (Hinton's lecture 6e), as PyTorch does it (``torch/optim/rmsprop.py``).

    Update rule (g = grad, α = smoothing constant ``alpha``, ε = eps, μ = momentum,
    λ = weight_decay)::

        g = ±grad + λ·p
        s = α·s + (1 − α)·g²
        centered: ḡ = α·ḡ + (1 − α)·g;  a = √(s − ḡ²) + ε      else: a = √s + ε
        μ > 0: b = μ·b + g/a;  p = p − lr·b                    else: p = p − lr·g/a

    Buffers start at 0 and there is no bias correction (unlike the lecture's Adam,
    eqs. 6.15–6.17, whose second moment this is, with α in the role of γ).
    A parameter whose ``.grad`` is None is skipped entirely.

    State per parameter: ``step``, ``square_avg``, ``momentum_buffer`` (μ > 0) and
    ``grad_avg`` (centered).

    Args:
        centered: normalise by the estimated variance instead of the second moment.
    """

    # the state in PyTorch's creation order, which the state_dict keeps
    _state_spec = (
        ("step", _step_array),
        ("square_avg", np.zeros_like),
        ("momentum_buffer", np.zeros_like, "momentum"),
        ("grad_avg", np.zeros_like, "centered"),
    )
    _rule = staticmethod(rmsprop)

    __init__ = constructor(
        {
            "lr": 1e-2,
            "alpha": 0.99,
            "eps": 1e-8,
            "weight_decay": 0,
            "momentum": 0,
            "centered": False,
        },
        "capturable foreach maximize differentiable",
        checked="lr eps momentum weight_decay alpha",
        order=(
            "lr momentum alpha eps centered weight_decay capturable foreach maximize differentiable"
        ),
    )
