"""Helpers shared by the distributions, with PyTorch's semantics (torch.distributions.utils)."""

from __future__ import annotations

import numbers

import numpy as np

import gradfit as torch
from gradfit.tensor import Tensor

__all__ = [
    "broadcast_all",
    "clamp_probs",
    "lazy_property",
    "logits_to_probs",
    "probs_to_logits",
]

# what PyTorch's distributions take as a scalar parameter (a 0-d batch)
_Number = (int, float, bool)


def broadcast_all(*values):
    """Broadcast tensors and numbers together; numbers take the first tensor's dtype (or the
    default dtype when all are numbers)."""
    if not all(isinstance(v, (Tensor, numbers.Number)) for v in values):
        raise ValueError(
            "Input arguments must all be instances of Number, "
            "torch.Tensor or objects implementing __torch_function__."
        )
    if not all(isinstance(v, Tensor) for v in values):
        dtype = torch.get_default_dtype()
        for v in values:
            if isinstance(v, Tensor):
                dtype = v.dtype
                break
        values = [v if isinstance(v, Tensor) else torch.tensor(v, dtype=dtype) for v in values]
    return torch.broadcast_tensors(*values)


def broadcast_shapes(*shapes) -> torch.Size:
    try:
        return torch.Size(np.broadcast_shapes(*(tuple(s) for s in shapes)))
    except ValueError:
        raise RuntimeError(
            f"Shape mismatch: objects cannot be broadcast to a single shape: {shapes}"
        ) from None


def _standard_normal(shape, dtype, device=None) -> Tensor:
    # PyTorch draws the noise with normal_() on a fresh tensor: the same stream
    return torch.empty(tuple(shape), dtype=dtype).normal_()


def _sum_rightmost(value: Tensor, dim: int) -> Tensor:
    if dim == 0:
        return value
    return value.reshape(tuple(value.shape[:-dim]) + (-1,)).sum(-1)


def logits_to_probs(logits: Tensor, is_binary: bool = False) -> Tensor:
    if is_binary:
        return torch.sigmoid(logits)
    return torch.softmax(logits, dim=-1)


def clamp_probs(probs: Tensor) -> Tensor:
    eps = torch.finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs: Tensor, is_binary: bool = False) -> Tensor:
    ps_clamped = clamp_probs(probs)
    if is_binary:
        return torch.log(ps_clamped) - torch.log1p(-ps_clamped)
    return torch.log(ps_clamped)


def _probs_or_logits(probs, logits):
    if (probs is None) == (logits is None):
        raise ValueError("Either `probs` or `logits` must be specified, but not both.")


def _bce_with_logits(logits, target):
    from gradfit.nn.functional import binary_cross_entropy_with_logits

    return binary_cross_entropy_with_logits(logits, target, reduction="none")


class lazy_property:  # noqa: N801 - PyTorch's name
    """Computes an attribute on first read (with grad enabled, so parameters derived from a
    leaf keep their graph) and stores it on the instance."""

    def __init__(self, wrapped):
        self.wrapped = wrapped
        self.__doc__ = wrapped.__doc__

    def __get__(self, instance, obj_type=None):
        if instance is None:
            return self
        with torch.enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value


class _BinaryProbability:
    """``probs`` or ``logits`` of a binary event, the other derived on first read (the
    distributions that take either: Bernoulli, Binomial, NegativeBinomial, the relaxed
    Bernoulli); ``_param`` is the one given."""

    def _set_probs_or_logits(self, probs, logits) -> bool:
        """Store the given parameter, broadcast; return whether it was a Python number."""
        _probs_or_logits(probs, logits)
        name, given = ("probs", probs) if probs is not None else ("logits", logits)
        (self._param,) = broadcast_all(given)
        setattr(self, name, self._param)
        return isinstance(given, _Number)

    def _expand_probs_or_logits(self, new, batch_shape) -> None:
        """``expand``'s share: the parameters already made, expanded onto ``new``."""
        for name in ("probs", "logits"):
            if name in self.__dict__:
                new._param = getattr(self, name).expand(batch_shape)
                setattr(new, name, new._param)

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits, is_binary=True)

    @property
    def param_shape(self):
        return self._param.size()


# the Euler-Mascheroni constant (Gumbel's mean), to the digits PyTorch uses
euler_constant = 0.57721566490153286060
