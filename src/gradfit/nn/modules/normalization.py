"""Layer normalisation."""

from __future__ import annotations

import numpy as np

from gradfit import _dtypes
from gradfit._arrays import modified
from gradfit.nn import functional as F
from gradfit.nn.modules.module import Module
from gradfit.nn.parameter import Parameter
from gradfit.ops import activation as _act
from gradfit.tensor import _check_device


class LayerNorm(Module):
    """y = (x - E[x]) / sqrt(Var[x] + eps) * gamma + beta over the trailing
    ``normalized_shape`` axes (biased variance), as ``torch.nn.LayerNorm``.

    Args:
        normalized_shape: int or tuple, the trailing shape to normalise over.
        eps: added to the variance for stability.
        elementwise_affine: learn gamma (ones) and, if ``bias``, beta (zeros).
        bias: learn beta (only with ``elementwise_affine``).
    """

    def __init__(
        self,
        normalized_shape,
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        _check_device(device)
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        dt = _dtypes.to_dtype(dtype)
        if elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype=dt))
            if bias:
                self.bias = Parameter(np.zeros(self.normalized_shape, dtype=dt))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def reset_parameters(self) -> None:
        if self.weight is not None:
            with modified(self.weight) as (weight,):
                weight[...] = 1
        if self.bias is not None:
            with modified(self.bias) as (bias,):
                bias[...] = 0

    def forward(self, input):  # noqa: A002
        k = len(self.normalized_shape)
        if input.shape[input.ndim - k :] != self.normalized_shape or input.ndim < k:
            return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)
        return _act.LayerNorm.apply(input, self.weight, self.bias, k=k, eps=self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, "
            f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}"
        )
