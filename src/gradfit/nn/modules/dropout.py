"""Dropout."""

from __future__ import annotations

from gradfit.nn import functional as F
from gradfit.nn.modules.module import Module


class Dropout(Module):
    """In training mode, zero each element with probability p and scale the others by
    1 / (1 - p), so the expected value is unchanged; in eval mode, the identity.

    The mask is drawn from gradfit's generator as PyTorch draws it (``bernoulli_(1 - p)``).
    p = 0 and p = 1 draw nothing. ``inplace`` is accepted and ignored.
    """

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def forward(self, input):  # noqa: A002
        return F.dropout(input, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
