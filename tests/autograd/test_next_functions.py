"""``grad_fn.next_functions`` and node names as PyTorch shows them: leaves that require
grad appear as ``AccumulateGrad`` nodes (one per leaf), a custom Function has one edge per
tensor argument, and a node's name survives ``backward()`` freeing the graph."""

from __future__ import annotations

import numpy as np
import torch

import gradfit


def _names(fn):
    return [None if f is None else f.name() for f, _ in fn.next_functions]


def _both(build):
    """``build(lib)`` under each library, its graph walked along first edges."""
    out = []
    for lib in (torch, gradfit):
        lib.manual_seed(0)
        walk, fn = [], build(lib).grad_fn
        while fn is not None:
            walk.append((fn.name(), _names(fn)))
            fn = fn.next_functions[0][0] if fn.next_functions else None
        out.append(walk)
    return out


def test_leaves_are_accumulate_grad_nodes():
    def build(lib):
        x = lib.ones(2, requires_grad=True)
        c = lib.ones(2)
        return (x * 2 + x * c).exp().sum()

    t, g = _both(build)
    assert g == t
    x = gradfit.ones(2, requires_grad=True)
    m = (x * x).grad_fn
    a, b = m.next_functions[0][0], m.next_functions[1][0]
    assert a is b and a.variable is x and a.next_functions == ()
    assert repr(a).startswith("<AccumulateGrad object at 0x")


def test_custom_function_has_one_edge_per_tensor_argument():
    def build(lib):
        class Scale(lib.autograd.Function):
            @staticmethod
            def forward(ctx, a, k):
                return a * k

            @staticmethod
            def backward(ctx, g):
                return g * 2.0, None

        x = lib.ones(2, requires_grad=True)
        return Scale.apply(x * 3, 2.0)

    t, g = _both(build)
    assert [n for n, _ in g] == ["ScaleBackward", "MulBackward0", "torch::autograd::AccumulateGrad"]
    assert [e for _, e in g] == [e for _, e in t]


def test_node_name_chosen_from_inputs_survives_backward():
    reprs = []
    for lib in (torch, gradfit):
        lib.manual_seed(0)
        out = lib.nn.Linear(3, 2)(lib.ones(4, 3))
        seq = lib.nn.Linear(3, 2)(lib.ones(5, 4, 3))
        (out.sum() + seq.sum()).backward()
        reprs.append((out.grad_fn.name(), seq.grad_fn.name()))
        assert np.isfinite(out.detach().numpy()).all()
    assert reprs[1] == reprs[0] == ("AddmmBackward0", "ViewBackward0")
