"""Flatten parameters into one vector and back (PyTorch's ``nn.utils`` helpers)."""

from __future__ import annotations

from gradfit._arrays import set_array, unwrap
from gradfit._functional import cat
from gradfit.tensor import Tensor


def parameters_to_vector(parameters) -> Tensor:
    """Concatenate the parameters, each flattened, into one 1-D tensor (differentiable)."""
    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec: Tensor, parameters) -> None:
    """Make each parameter's data a slice of ``vec`` (viewed as the parameter's shape), in
    order, as PyTorch does: the parameters then share memory with ``vec``."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected gradfit.Tensor, but got: {type(vec).__name__}")
    pointer = 0
    for param in parameters:
        n = param.numel()
        if pointer + n > vec.numel():
            raise RuntimeError(
                f"vector_to_parameters: vec has {vec.numel()} elements, too few for the parameters"
            )
        set_array(param, unwrap(vec)[pointer : pointer + n].reshape(param.shape))
        pointer += n
