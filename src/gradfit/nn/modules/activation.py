"""Activation layers: thin Modules over ``gradfit.nn.functional``."""

from __future__ import annotations

from gradfit.nn import functional as F
from gradfit.nn.modules.module import Module
from gradfit.ops import activation as _act
from gradfit.ops import elementwise


class ReLU(Module):
    """ReLU a[z] = max(0, z), the lecture's activation. ``inplace`` is accepted for
    compatibility (shown in the repr) but the result is always a new tensor."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input):  # noqa: A002
        return elementwise.Relu.apply(input)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """z for z > 0, negative_slope * z otherwise."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input):  # noqa: A002
        return elementwise.LeakyRelu.apply(input, negative_slope=self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class Sigmoid(Module):
    """Logistic sigma(z) = 1 / (1 + exp(-z)), stable for large |z|."""

    def forward(self, input):  # noqa: A002
        return elementwise.Sigmoid.apply(input)


class Tanh(Module):
    def forward(self, input):  # noqa: A002
        return elementwise.Tanh.apply(input)


class GELU(Module):
    """GELU z Phi(z) (``approximate='none'``) or its tanh form (``approximate='tanh'``)."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(
                f"approximate argument must be either none or tanh, got {approximate!r}"
            )
        self.approximate = approximate

    def forward(self, input):  # noqa: A002
        return _act.Gelu.apply(input, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """SiLU (swish) z sigma(z)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input):  # noqa: A002
        return _act.Silu.apply(input)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Softplus(Module):
    """log(1 + exp(beta z)) / beta, linear where beta z > threshold."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, input):  # noqa: A002
        return elementwise.Softplus.apply(input, beta=self.beta, threshold=self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Softmax(Module):
    """Softmax along ``dim`` (PyTorch's legacy implicit dim, with a warning, if None)."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input):  # noqa: A002
        return F.softmax(input, self.dim, _stacklevel=5)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """Log-softmax along ``dim``, stable (no overflow for large logits)."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input):  # noqa: A002
        return F.log_softmax(input, self.dim, _stacklevel=5)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"
