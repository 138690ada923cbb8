"""More layers with PyTorch's constructors, initialisation, reprs and errors:
``LocalResponseNorm``, ``RMSNorm``, ``Bilinear``, ``Softmax2d``, ``RReLU``,
``AlphaDropout``, ``FeatureAlphaDropout``, ``UpsamplingNearest2d``,
``UpsamplingBilinear2d``, ``MaxUnpool1d``, ``MaxUnpool2d``."""

from __future__ import annotations

import math
import numbers

import numpy as np

from gradfit import _dtypes
from gradfit.nn import _functional_gaps as _fg
from gradfit.nn import _functional_layers as Fl
from gradfit.nn import functional as F
from gradfit.nn import init
from gradfit.nn.modules.module import Module
from gradfit.nn.modules.pooling import Upsample
from gradfit.nn.parameter import Parameter
from gradfit.tensor import _check_device

__all__ = [
    "MaxUnpool3d",
    "AlphaDropout",
    "Bilinear",
    "FeatureAlphaDropout",
    "LocalResponseNorm",
    "MaxUnpool1d",
    "MaxUnpool2d",
    "RMSNorm",
    "RReLU",
    "Softmax2d",
    "UpsamplingBilinear2d",
    "UpsamplingNearest2d",
]


# ------------------------------------------------------------------------ normalisation
class LocalResponseNorm(Module):
    """AlexNet's local response normalisation across ``size`` neighbouring channels:
    b_c = a_c / (k + alpha / size * sum a_{c'}^2)^beta."""

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0):
        super().__init__()
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input):  # noqa: A002
        return Fl.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


class RMSNorm(Module):
    """y = x / sqrt(mean(x^2) + eps) * weight over the trailing ``normalized_shape`` axes
    (no centring, no bias); ``eps=None`` uses the input dtype's machine epsilon. ``weight``
    starts at ones."""

    def __init__(
        self,
        normalized_shape,
        eps: float | None = None,
        elementwise_affine: bool = True,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        _check_device(device)
        if isinstance(normalized_shape, numbers.Integral):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(np.empty(self.normalized_shape, dtype=_dtypes.to_dtype(dtype)))
        else:
            self.register_parameter("weight", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.elementwise_affine:
            init.ones_(self.weight)

    def forward(self, x):
        return Fl.rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
        )


# ------------------------------------------------------------------------ bilinear
class Bilinear(Module):
    """y = x1^T A x2 + b: weight A (out, in1, in2), bias b (out,), both ~ U(-1/sqrt(in1),
    1/sqrt(in1)), weight drawn first (PyTorch's order)."""

    def __init__(
        self,
        in1_features: int,
        in2_features: int,
        out_features: int,
        bias: bool = True,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        _check_device(device)
        dt = _dtypes.to_dtype(dtype)
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        self.weight = Parameter(np.empty((out_features, in1_features, in2_features), dtype=dt))
        if bias:
            self.bias = Parameter(np.empty((out_features,), dtype=dt))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.in1_features <= 0:
            raise ValueError(
                f"in1_features must be > 0, but got (in1_features={self.in1_features})"
            )
        bound = 1 / math.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        return Fl.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
            f"out_features={self.out_features}, bias={self.bias is not None}"
        )


# ------------------------------------------------------------------------ activations
class Softmax2d(Module):
    """Softmax over the channels (dim -3) of (N, C, H, W) or (C, H, W)."""

    def forward(self, input):  # noqa: A002
        if input.ndim not in (3, 4):
            raise ValueError(f"Softmax2d: expected input to be 3D or 4D, got {input.ndim}D instead")
        return F.softmax(input, -3)


class RReLU(Module):
    """Randomised leaky ReLU: slope ~ U(lower, upper) per non-positive element in training,
    (lower + upper) / 2 in eval mode."""

    def __init__(self, lower: float = 1.0 / 8, upper: float = 1.0 / 3, inplace: bool = False):
        super().__init__()
        self.lower = lower
        self.upper = upper
        self.inplace = inplace

    def forward(self, input):  # noqa: A002
        return Fl.rrelu(input, self.lower, self.upper, self.training, self.inplace)

    def extra_repr(self) -> str:
        inplace_str = ", inplace=True" if self.inplace else ""
        return f"lower={self.lower}, upper={self.upper}{inplace_str}"


# ------------------------------------------------------------------------ dropout
class _DropoutNd(Module):
    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class AlphaDropout(_DropoutNd):
    """Dropout for SELU networks (keeps zero mean and unit variance); identity in eval."""

    def forward(self, input):  # noqa: A002
        return Fl.alpha_dropout(input, self.p, self.training)


class FeatureAlphaDropout(_DropoutNd):
    """Alpha dropout of whole channels of (N, C, *); identity in eval."""

    def forward(self, input):  # noqa: A002
        return Fl.feature_alpha_dropout(input, self.p, self.training)


# ------------------------------------------------------------------------ upsampling
class UpsamplingNearest2d(Upsample):
    """``Upsample(size, scale_factor, mode='nearest')`` of (N, C, H, W)."""

    def __init__(self, size=None, scale_factor=None) -> None:
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """``Upsample(size, scale_factor, mode='bilinear', align_corners=True)``."""

    def __init__(self, size=None, scale_factor=None) -> None:
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)


# ------------------------------------------------------------------------ unpooling
def _single(x):
    return tuple(x) if isinstance(x, tuple | list) else (x,)


def _pair(x):
    return tuple(x) if isinstance(x, tuple | list) else (x, x)


class _MaxUnpoolNd(Module):
    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpoolNd):
    """Partial inverse of ``MaxPool1d``: ``forward(input, indices, output_size=None)``."""

    def __init__(self, kernel_size, stride=None, padding=0) -> None:
        super().__init__()
        self.kernel_size = _single(kernel_size)
        self.stride = _single(stride if stride is not None else kernel_size)
        self.padding = _single(padding)

    def forward(self, input, indices, output_size=None):  # noqa: A002
        return Fl.max_unpool1d(
            input, indices, self.kernel_size, self.stride, self.padding, output_size
        )


class MaxUnpool2d(_MaxUnpoolNd):
    """Partial inverse of ``MaxPool2d``: ``forward(input, indices, output_size=None)``."""

    def __init__(self, kernel_size, stride=None, padding=0) -> None:
        super().__init__()
        self.kernel_size = _pair(kernel_size)
        self.stride = _pair(stride if stride is not None else kernel_size)
        self.padding = _pair(padding)

    def forward(self, input, indices, output_size=None):  # noqa: A002
        return Fl.max_unpool2d(
            input, indices, self.kernel_size, self.stride, self.padding, output_size
        )


class MaxUnpool3d(_MaxUnpoolNd):
    """Partial inverse of ``MaxPool3d``: ``forward(input, indices, output_size=None)``."""

    def __init__(self, kernel_size, stride=None, padding=0) -> None:
        super().__init__()
        self.kernel_size = _triple(kernel_size)
        self.stride = _triple(stride if stride is not None else kernel_size)
        self.padding = _triple(padding)

    def forward(self, input, indices, output_size=None):  # noqa: A002
        return _fg.max_unpool3d(
            input, indices, self.kernel_size, self.stride, self.padding, output_size
        )


def _triple(v):
    return tuple(v) if isinstance(v, tuple | list) else (v, v, v)
