"""``autograd.graph.Node``: every ``grad_fn`` (ops, ``Function`` nodes) and a leaf's
``AccumulateGrad`` are Nodes, as in PyTorch; a node keeps the user's ``metadata``."""

from __future__ import annotations

import gradfit
from gradfit.autograd.graph import Node


class Double(gradfit.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        return grad * 2


def test_grad_fns_and_accumulate_grad_are_nodes():
    x = gradfit.ones(2, requires_grad=True)
    y = Double.apply(x).sum()
    nodes = [y.grad_fn, y.grad_fn.next_functions[0][0]]
    nodes.append(nodes[1].next_functions[0][0])
    assert [n.name() for n in nodes] == [
        "SumBackward0",
        "DoubleBackward",
        "torch::autograd::AccumulateGrad",
    ]
    assert all(isinstance(n, Node) for n in nodes)
    assert not isinstance(x, Node) and not isinstance(None, Node)


def test_metadata_is_kept_per_node():
    x = gradfit.ones(2, requires_grad=True)
    y = x * 3
    assert y.grad_fn.metadata == {}
    y.grad_fn.metadata["tag"] = "scale"
    assert y.grad_fn.metadata == {"tag": "scale"}
    assert (x + 1).grad_fn.metadata == {}
