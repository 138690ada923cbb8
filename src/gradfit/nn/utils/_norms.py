"""The small numerical pieces weight and spectral normalisation share (both APIs, the
hook-based one and the parametrization one), written once."""

from __future__ import annotations

import numpy as np

from gradfit import linalg
from gradfit._arrays import unwrap, wrap


def norm_except_dim(v, dim: int):
    """||v||_2 over every dimension but ``dim``, kept as size-1 dimensions
    (``torch.norm_except_dim(v, 2, dim)``); ``dim == -1`` is the norm of all of v."""
    if dim == -1:
        return linalg.vector_norm(v)
    dim = dim % v.ndim
    others = tuple(d for d in range(v.ndim) if d != dim)
    if not others:
        return v.abs()
    return linalg.vector_norm(v, 2, others, keepdim=True)


def weight_norm(v, g, dim: int):
    """w = g v / ||v|| (``torch._weight_norm``), the norm over every dim but ``dim``."""
    return v * (g / norm_except_dim(v, dim))


def normalize(x, eps: float):
    """x / max(||x||_2, eps) for a vector (``F.normalize(x, dim=0, eps=eps)``)."""
    return x / linalg.vector_norm(x, 2, 0, keepdim=True).clamp_min(eps)


def reshape_weight_to_matrix(weight, dim: int):
    """The weight as a matrix whose rows are indexed by ``dim`` (the output dimension)."""
    if dim != 0:
        weight = weight.permute(dim, *[d for d in range(weight.ndim) if d != dim])
    return weight.reshape(weight.shape[0], -1)


def assign(buffer, value) -> None:
    """Write ``value`` into ``buffer``'s array in place (PyTorch's ``out=`` into the
    u and v buffers, so the Tensor objects stay the ones registered)."""
    from gradfit._arrays import modified

    with modified(buffer) as (arr,):
        arr[...] = unwrap(value)


def detached_copy(t):
    return wrap(np.array(unwrap(t), copy=True))
