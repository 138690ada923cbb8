"""Batch normalisation's forward pass and running statistics bit for bit as PyTorch's CPU
kernels compute them (float32): the statistics summed in float64, x·alpha + beta fused,
and (N, C) inputs through the channels-last kernel's per-thread float32 sums."""

from __future__ import annotations

import numpy as np
import pytest

import gradfit
from gradfit._cascade_sum import intra_op_threads

SHAPES = [(8, 4), (64, 16), (3, 5), (2, 300), (4, 3, 5, 5), (16, 8, 12, 12), (3, 5, 7)]


def _run(lib, shape, x, train, momentum):
    lib.manual_seed(0)
    bn = (lib.nn.BatchNorm1d if len(shape) < 4 else lib.nn.BatchNorm2d)(shape[1], momentum=momentum)
    c = shape[1]
    with lib.no_grad():
        bn.weight.copy_(lib.tensor(np.linspace(0.5, 1.5, c, dtype=np.float32)))
        bn.bias.copy_(lib.tensor(np.linspace(-0.3, 0.4, c, dtype=np.float32)))
        bn.running_mean.copy_(lib.tensor(np.linspace(-0.2, 0.9, c, dtype=np.float32)))
        bn.running_var.copy_(lib.tensor(np.linspace(0.7, 2.1, c, dtype=np.float32)))
    bn.train(train)
    outs = [bn(lib.tensor(x)).detach().numpy().copy() for _ in range(2)]
    return outs + [bn.running_mean.numpy().copy(), bn.running_var.numpy().copy()]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("train", [True, False])
@pytest.mark.parametrize("momentum", [0.1, None])
def test_forward_and_running_stats_are_bit_identical(shape, train, momentum):
    import torch

    # PyTorch's (N, C) kernel sums in one block per thread: the same count on both sides
    assert intra_op_threads() == torch.get_num_threads()
    x = (np.random.default_rng(sum(shape)).standard_normal(shape) * 3 + 1.7).astype(np.float32)
    ours = _run(gradfit, shape, x, train, momentum)
    theirs = _run(torch, shape, x, train, momentum)
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a, b)
