"""Parity checks for what whole PyTorch programs (sequences, NLP, generative models,
higher-order gradients) used that gradfit lacked; one test per fix."""

from __future__ import annotations

import numpy as np
import pytest

import gradfit


def _torch():
    import torch  # the reference must be installed: fail, not skip

    return torch


@pytest.mark.parametrize(
    "call",
    [
        lambda m, x: x.sum(1, keepdims=True),
        lambda m, x: m.sum(x, axis=0),
        lambda m, x: x.mean(axis=1, keepdims=True),
        lambda m, x: x.std(0, keepdims=True),
        lambda m, x: x.max(axis=1).values,
        lambda m, x: x.amax(axis=0, keepdims=True),
        lambda m, x: x.logsumexp(axis=1),
        lambda m, x: x.softmax(axis=0),
        lambda m, x: x.argmax(axis=1),
    ],
)
def test_numpy_argument_names_axis_keepdims(call):
    torch = _torch()
    a = np.random.default_rng(0).standard_normal((3, 4))
    got = call(gradfit, gradfit.tensor(a)).numpy()
    want = call(torch, torch.tensor(a)).numpy()
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_numpy_argument_name_and_its_alias_together_is_an_error():
    with pytest.raises(TypeError, match="'dim' and its alias 'axis'"):
        gradfit.ones(2, 3).sum(dim=0, axis=1)


def test_autograd_grad_takes_pytorchs_positional_order_and_only_inputs():
    torch = _torch()
    import warnings

    for m in (gradfit, torch):
        a = m.tensor([1.0, 2.0], requires_grad=True)
        b = m.tensor([3.0], requires_grad=True)
        y = (a**2).sum()
        # outputs, inputs, grad_outputs, retain_graph, create_graph, only_inputs, allow_unused
        ga, gb = m.autograd.grad(y, [a, b], None, True, True, True, True)
        assert gb is None and ga.tolist() == [2.0, 4.0] and ga.requires_grad
        (g,) = m.autograd.grad(y, a, only_inputs=True, retain_graph=True)
        assert g.tolist() == [2.0, 4.0]
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            m.autograd.grad(y, a, only_inputs=False)
        assert [x.category for x in w] == [FutureWarning]


def test_autograd_grad_is_grads_batched_gives_jacobian_rows():
    torch = _torch()
    a = np.array([0.3, -1.2, 2.0])
    results = []
    for m in (gradfit, torch):
        x = m.tensor(a, requires_grad=True)
        y = m.stack([x[0] * x[1], x.sin().sum(), (x**3)[2]])
        (jac,) = m.autograd.grad(y, x, m.eye(3, dtype=m.float64), is_grads_batched=True,
                                 create_graph=True)  # fmt: skip
        (h,) = m.autograd.grad(jac[1].sum(), x)
        results.append((jac.detach().numpy(), h.numpy()))
    for got, want in zip(*results):
        np.testing.assert_allclose(got, want, rtol=1e-12)
    x = gradfit.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="batched grad_output"):
        gradfit.autograd.grad(x.sum(), x, None, is_grads_batched=True)
