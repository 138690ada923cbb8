"""Texts programs print from autograd, against PyTorch: the in-place version error (which
names the tensor's type, shape and maker), the scalar-output and gradient-shape errors,
and the nodes of in-place fills recorded in a graph."""

from __future__ import annotations

import pytest
import torch

import gradfit
from tests.compat._normalise import as_gradfit


def _saved_input_edited(lib):
    a = lib.ones(2, 3, requires_grad=True) * 1
    y = a * a
    a.add_(1)
    y.sum().backward()


def _saved_output_edited(lib):
    a = lib.ones(2, 3, dtype=lib.float64, requires_grad=True) * 1
    y = a.tanh()
    y.mul_(2)
    y.sum().backward()


def _view_zeroed(lib):
    a = lib.ones(4, requires_grad=True)
    b = a[:2] * 1
    y = b.pow(2)
    b.zero_()
    y.sum().backward()


def _outside_tensor_edited(lib):
    w = lib.ones(2, 2, requires_grad=True)
    x = lib.ones(2, 2)
    y = w @ x
    x.add_(1)
    y.sum().backward()


def _scalar_saved_output(lib):
    a = lib.tensor(2.0, requires_grad=True) * 1
    y = a.exp()
    y.mul_(3)
    y.backward()


def _non_scalar_backward(lib):
    (lib.ones(3, requires_grad=True) * 2).backward()


def _non_scalar_grad(lib):
    x = lib.ones(3, requires_grad=True)
    lib.autograd.grad(x * 2, x)


def _gradient_shape(lib):
    (lib.ones(3, requires_grad=True) * 2).backward(lib.ones(2))


def _grad_outputs_shape(lib):
    x = lib.ones(3, requires_grad=True)
    lib.autograd.grad(x * 2, x, lib.ones(2))


CASES = [
    _saved_input_edited,
    _saved_output_edited,
    _view_zeroed,
    _outside_tensor_edited,
    _scalar_saved_output,
    _non_scalar_backward,
    _non_scalar_grad,
    _gradient_shape,
    _grad_outputs_shape,
]


@pytest.mark.parametrize("case", CASES, ids=lambda f: f.__name__)
def test_autograd_error_text_is_pytorchs(case):
    with pytest.raises(RuntimeError) as want:
        case(torch)
    with pytest.raises(RuntimeError) as got:
        case(gradfit)
    assert str(got.value) == as_gradfit(str(want.value))


FILLS = [
    ("zero_", lambda lib: ()),
    ("fill_", lambda lib: (2.0,)),
    ("fill_", lambda lib: (lib.tensor(2.0),)),
    ("copy_", lambda lib: (lib.ones(4),)),
    ("normal_", lambda lib: ()),
    ("uniform_", lambda lib: ()),
    ("random_", lambda lib: (0, 5)),
    ("bernoulli_", lambda lib: ()),
    ("exponential_", lambda lib: ()),
    ("geometric_", lambda lib: (0.5,)),
    ("cauchy_", lambda lib: ()),
    ("log_normal_", lambda lib: ()),
    ("gt_", lambda lib: (0.0,)),
    ("lt_", lambda lib: (lib.ones(4),)),
    ("ne_", lambda lib: (0.0,)),
]


@pytest.mark.parametrize(
    ("method", "args"), FILLS, ids=[f"{m}{i}" for i, (m, _) in enumerate(FILLS)]
)
def test_inplace_fill_nodes_are_named_as_pytorch(method, args):
    names = []
    for lib in (torch, gradfit):
        b = lib.ones(4, requires_grad=True) * 1
        getattr(b, method)(*args(lib))
        names.append(b.grad_fn.name())
    assert names[1] == names[0]


@pytest.mark.parametrize("p", [2, 1, float("inf")])
def test_dist_is_one_node_as_pytorch(p):
    names = []
    for lib in (torch, gradfit):
        a = lib.ones(3, requires_grad=True)
        names.append(lib.dist(a, lib.zeros(3), p).grad_fn.name())
        names.append(a.dist(lib.zeros(3), p).grad_fn.name())
    assert names[2:] == names[:2] == ["DistBackward0"] * 2
