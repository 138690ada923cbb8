"""Random sampling ops whose result is recorded in the graph with PyTorch's derivative."""

from __future__ import annotations

import numpy as np

from gradfit.autograd.function import Op


class Poisson(Op):
    """``torch.poisson(rates)``: the counts are drawn before the op (by ``gradfit.random``,
    from the generator's stream) and passed in; PyTorch's derivative of a sample with
    respect to its rates is zero (derivatives.yaml: ``poisson: zeros_like(self)``)."""

    saves_inputs = False

    @staticmethod
    def forward(ctx, rates, sample=None):
        return sample

    @staticmethod
    def backward(ctx, grad_output):
        return np.zeros_like(grad_output)

    def name(self) -> str:
        return "PoissonBackward0"
