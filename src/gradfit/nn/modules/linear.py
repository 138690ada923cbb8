"""Linear and Identity layers."""

from __future__ import annotations

import math

import numpy as np

from gradfit import _dtypes
from gradfit.nn import init
from gradfit.nn.modules.module import Module
from gradfit.nn.parameter import Parameter
from gradfit.ops.matmul import Linear as _LinearOp
from gradfit.tensor import _check_device, _checked_size


class Identity(Module):
    """Returns its input unchanged (arguments are accepted and ignored, as PyTorch)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__()

    def forward(self, input):  # noqa: A002
        return input


class Linear(Module):
    """Affine layer y = x W^T + b, the lecture's f = beta + Omega h.

    Args:
        in_features: size of each input sample (D_h).
        out_features: size of each output sample (D_h').
        bias: whether to learn the additive bias b.
        dtype: parameter dtype (gradfit's default dtype if None).

    Shapes: input (*, in_features), output (*, out_features); weight (out, in), bias
    (out,).

    Initialisation is PyTorch's: W ~ U(-1/sqrt(in), 1/sqrt(in)) (``kaiming_uniform_`` with
    a = sqrt(5)), then b ~ U(-1/sqrt(in), 1/sqrt(in)), W drawn before b from gradfit's
    generator, so ``manual_seed(s); Linear(a, b)`` gives PyTorch's numbers.
    """

    def __init__(
        self, in_features: int, out_features: int, bias: bool = True, device=None, dtype=None
    ) -> None:
        super().__init__()
        _check_device(device)
        dt = _dtypes.to_dtype(dtype)
        self.in_features = in_features
        self.out_features = out_features
        # PyTorch's message for negative features comes from creating the weight
        shape = _checked_size((out_features, in_features), "empty")
        self.weight = Parameter(np.empty(shape, dtype=dt))
        if bias:
            self.bias = Parameter(np.empty((out_features,), dtype=dt))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):  # noqa: A002
        p = self._parameters  # one dict read for both parameters; the op checks shapes
        try:
            w, b = p["weight"], p["bias"]
        except KeyError:  # weight_norm, spectral_norm, parametrize move the weight out
            w, b = self.weight, self.bias
        return _LinearOp.apply(input, w, b)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )
