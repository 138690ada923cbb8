"""Saved tensors are version-checked, inputs and outputs alike, as in PyTorch.

An op whose backward reads a tensor it saved (its input, or its output as exp, sigmoid,
tanh, softmax ... do) must raise when that tensor was edited in place after the forward
pass, instead of differentiating through the new values. Ops that saved nothing of the
edited tensor must not raise. Each case runs in PyTorch and in gradfit: both raise, or
neither does and the gradients agree.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import gradfit
from gradfit import _arrays
from gradfit.autograd import Function

X = [0.3, -1.2, 2.0]
INPLACE = "modified by an in-?place operation"  # PyTorch writes "inplace"
EXPONENT = [2.0, 3.0, 0.5]

# name -> f(module, x): the op under test, spelled identically for torch and gradfit.
CASES = {
    # ops that save their output
    "exp": lambda m, x: x.exp(),
    "sigmoid": lambda m, x: x.sigmoid(),
    "tanh": lambda m, x: x.tanh(),
    "softmax": lambda m, x: x.softmax(0),
    "log_softmax": lambda m, x: x.log_softmax(0),
    "sqrt": lambda m, x: (x * x).sqrt(),
    "relu": lambda m, x: x.relu(),
    "amax": lambda m, x: x.amax(),
    "logsumexp": lambda m, x: x.logsumexp(0),
    "pow_tensor_exponent": lambda m, x: x.abs().pow(m.tensor(EXPONENT, dtype=m.float64)),
    "norm": lambda m, x: x.norm(),
    # ops that do not
    "abs": lambda m, x: x.abs(),
    "sin": lambda m, x: x.sin(),
    "pow_scalar": lambda m, x: x.pow(2.0),
    "mul": lambda m, x: x * 3.0,
    "gelu": lambda m, x: m.nn.functional.gelu(x),
    "silu": lambda m, x: m.nn.functional.silu(x),
    "softplus": lambda m, x: m.nn.functional.softplus(x),
    "leaky_relu": lambda m, x: m.nn.functional.leaky_relu(x, 0.1),
}


def _run(m, op, consumer: bool):
    """Forward ``op``, edit its output in place under no_grad, backward (from the output
    or from a later op that uses it). Returns ("raised", message) or ("ok", x.grad)."""
    x = m.tensor(X, dtype=m.float64, requires_grad=True)
    y = op(m, x)
    # The consumer saves nothing (PyTorch saves a product's operand only when the other
    # operand needs a gradient; gradfit's Mul always does, so it would raise here).
    out = y + m.tensor(2.0, dtype=m.float64) if consumer else y
    with m.no_grad():
        y.mul_(0.5)
    try:
        out.sum().backward()
    except RuntimeError as e:
        return "raised", str(e)
    return "ok", np.array(x.grad.tolist())


@pytest.mark.parametrize("consumer", [False, True], ids=["direct", "through_a_consumer"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_in_place_edit_of_an_output_matches_torch(name, consumer):
    import torch

    expected = _run(torch, CASES[name], consumer)
    got = _run(gradfit, CASES[name], consumer)
    assert got[0] == expected[0], f"{name}: torch {expected}, gradfit {got}"
    if got[0] == "ok":
        np.testing.assert_allclose(got[1], expected[1], rtol=1e-12, atol=1e-12)
    else:
        assert "modified by an inplace operation" in got[1]  # PyTorch's spelling
        assert "is at version 1; expected version 0" in got[1]


def test_output_edit_message_names_shape_node_and_versions():
    x = gradfit.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    with gradfit.no_grad():
        y.mul_(0)
        y.add_(1)
    with pytest.raises(RuntimeError) as info:
        y.sum().backward()
    msg = str(info.value)
    assert "[torch.FloatTensor [2]], which is output 0 of Exp," in msg  # PyTorch's text
    assert "is at version 2; expected version 0" in msg
    assert x.grad is None


def test_input_edit_is_caught_for_an_op_that_also_saves_its_output():
    # logsumexp's backward reads its input and its output: both are checked.
    import torch

    results = []
    for m in (torch, gradfit):
        x = m.tensor(X, dtype=m.float64, requires_grad=True)
        h = x * 1.0
        y = h.logsumexp(0)
        with m.no_grad():
            h.add_(1.0)
        with pytest.raises(RuntimeError, match=INPLACE):
            y.backward()
        results.append(True)
    assert results == [True, True]


def test_edits_through_the_internal_array_api_are_caught():
    x = gradfit.tensor([1.0, 2.0], requires_grad=True)
    y = x.tanh()
    with _arrays.modified(y) as (arr,):
        arr *= 0.0
    with pytest.raises(RuntimeError, match="which is output 0 of Tanh,"):
        y.sum().backward()


def test_unchanged_output_passes_and_retained_graph_is_checked_again():
    x = gradfit.tensor([1.0, 2.0], dtype=gradfit.float64, requires_grad=True)
    y = x.sigmoid()
    y.sum().backward(retain_graph=True)
    s = 1 / (1 + np.exp(-np.array([1.0, 2.0])))
    np.testing.assert_allclose(x.grad.numpy(), s * (1 - s), rtol=1e-14)
    with gradfit.no_grad():
        y.zero_()
    with pytest.raises(RuntimeError, match="which is output 0 of Sigmoid,"):
        y.sum().backward()


class _SavesOutput(Function):
    @staticmethod
    def forward(ctx, x):
        out = x.exp()
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        (out,) = ctx.saved_tensors
        return grad_output * out


class _SavesNothing(Function):
    @staticmethod
    def forward(ctx, x):
        return x * 3.0

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * 3.0


@pytest.mark.parametrize("fn", [_SavesOutput, _SavesNothing], ids=lambda f: f.__name__)
def test_user_function_checks_what_it_saved_as_torch_does(fn):
    import torch

    class TorchFn(torch.autograd.Function):
        forward = staticmethod(fn.forward)
        backward = staticmethod(fn.backward)

    outcomes = []
    for m, cls in ((torch, TorchFn), (gradfit, fn)):
        x = m.tensor([0.5, 1.5], dtype=m.float64, requires_grad=True)
        h = x * 1.0  # an input that is not a leaf, so it can be edited
        y = cls.apply(h)
        with m.no_grad():
            h.add_(1.0)  # an unsaved input: never an error
            y.mul_(2.0)  # the output: an error when it was saved
        try:
            y.sum().backward()
            outcomes.append(("ok", x.grad.tolist()))
        except RuntimeError as e:
            assert re.search(INPLACE, str(e))
            outcomes.append(("raised", None))
    assert outcomes[0] == outcomes[1]


# Edits of an op's inputs: an error exactly when the op saved that input for a gradient
# that is needed (PyTorch saves a product's operand only for the other's gradient, the
# condition of where but not its values, the target of a cross-entropy but not the
# logits). name -> (f(m, h, other), other's values, other's dtype).
INPUT_CASES = {
    "mul": (lambda m, h, o: h * o, [2.0, -1.0, 0.5], "float64"),
    "mul_scalar": (lambda m, h, o: h * 2.0, [2.0, -1.0, 0.5], "float64"),
    "div": (lambda m, h, o: h / o, [2.0, -1.0, 0.5], "float64"),
    "matmul": (lambda m, h, o: h @ o, [[1.0, 2.0], [0.5, -1.0], [3.0, 0.25]], "float64"),
    "linear": (
        lambda m, h, o: m.nn.functional.linear(h, o, m.tensor([0.1, 0.2], dtype=m.float64)),
        [[1.0, 2.0, 0.5], [-1.0, 3.0, 0.25]],
        "float64",
    ),
    "where": (lambda m, h, o: m.where(o, h, h * 0.0), [True, False, True], "bool"),
    # (C,) logits and a 0-d target: a reshape would make a view, and gradfit's views do
    # not share their base's version counter as PyTorch's do.
    "cross_entropy": (lambda m, h, o: m.nn.functional.cross_entropy(h, o), 2, "int64"),
    "nll_loss": (lambda m, h, o: m.nn.functional.nll_loss(h, o), 1, "int64"),
    "logsumexp": (lambda m, h, o: h.logsumexp(0), [0.0], "float64"),
}


def _run_input_edit(m, name, edit, other_grad):
    fn, values, dtype = INPUT_CASES[name]
    x = m.tensor(X, dtype=m.float64, requires_grad=True)
    h = x * 1.0
    other = m.tensor(values, dtype=getattr(m, dtype))
    if other_grad:
        other.requires_grad_(True)
    y = fn(m, h, other)
    target = h if edit == "h" else other
    fill = {"float64": 0.5, "int64": 0, "bool": False}[str(target.dtype).split(".")[-1]]
    with m.no_grad():
        target.fill_(fill)
    try:
        y.sum().backward()
    except RuntimeError as e:
        assert re.search(INPLACE, str(e)), e
        return ("raised",)
    unused = other_grad and other.grad is None  # an operand the op ignores
    grads = [x.grad.tolist()] + ([other.grad.tolist()] if other_grad and not unused else [])
    return ("ok", grads)


@pytest.mark.parametrize(
    "name, edit, other_grad",
    [
        (name, edit, other_grad)
        for name, (_, _, dtype) in sorted(INPUT_CASES.items())
        for edit in ("h", "other")
        for other_grad in ((False, True) if dtype == "float64" else (False,))
    ],
)
def test_in_place_edit_of_an_input_matches_torch(name, edit, other_grad):
    import torch

    expected = _run_input_edit(torch, name, edit, other_grad)
    got = _run_input_edit(gradfit, name, edit, other_grad)
    assert got[0] == expected[0], f"{name}: torch {expected}, gradfit {got}"
    if got[0] == "ok":
        for g, t in zip(got[1], expected[1]):
            np.testing.assert_allclose(g, t, rtol=1e-12, atol=1e-12)


def test_in_place_op_recorded_in_the_graph_keeps_its_output_checkable():
    # An in-place op inside a graph makes the tensor the output of a new node at a
    # version above 0 (as PyTorch's in-place ops do); an op that saves its output must
    # accept that version and still refuse a later edit. Exp stands for any such op.
    x = gradfit.tensor([0.5, -1.0], dtype=gradfit.float64, requires_grad=True)
    h = x * 1.0
    h._inplace_op(lambda t: t.exp())
    assert h.grad_fn.name() == "ExpBackward0" and h._version == 1
    h.sum().backward(retain_graph=True)
    np.testing.assert_allclose(x.grad.numpy(), np.exp([0.5, -1.0]), rtol=1e-15)
    with gradfit.no_grad():
        h.mul_(2.0)
    with pytest.raises(RuntimeError, match="is at version 2; expected version 1"):
        h.sum().backward()


@pytest.mark.parametrize("edit_after", [False, True], ids=["unchanged", "edited_later"])
@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
def test_inplace_activation_matches_torch(activation, edit_after):
    # F.relu(h, inplace=True) (and sigmoid_, through Tensor's in-place mechanism) inside
    # a graph: the backward works, and a later edit of h is refused, as the node reads
    # its result. (PyTorch's elu_ saves its result too; gradfit's ELU reads its input's
    # earlier values, which the edit does not reach: no error, and a correct gradient.)
    import torch

    outcomes = []
    for m in (torch, gradfit):
        x = m.tensor(X, dtype=m.float64, requires_grad=True)
        h = x * 1.0
        if activation == "sigmoid":
            h.sigmoid_() if m is torch else h._inplace_op(lambda t: t.sigmoid())
        else:
            getattr(m.nn.functional, activation)(h, inplace=True)
        if edit_after:
            with m.no_grad():
                h.mul_(2.0)
        try:
            h.sum().backward()
            outcomes.append(("ok", x.grad.tolist()))
        except RuntimeError as e:
            assert re.search(INPLACE, str(e)), e
            outcomes.append(("raised",))
    assert outcomes[0][0] == outcomes[1][0], outcomes
    if outcomes[0][0] == "ok":
        np.testing.assert_allclose(outcomes[1][1], outcomes[0][1], rtol=1e-12)


# A node that consumed a tensor before an in-place op recorded in the graph (an addition,
# a product, a sum: ops that need not save it) sends its gradient along the tensor's
# earlier history, as PyTorch does; the engine finds it from the recording order.
EARLIER_CONSUMER_PROGRAMS = {
    "add_then_index_put": "a = x * 2; b = a + 1; a[0] = 5.0; out = b.sum() + (a * a).sum()",
    "sum_then_masked_fill": (
        "a = x * 3; s = a.sum(); a.masked_fill_(x > 0, 0.0); out = s * 2 + (a * x).sum()"
    ),
    "constant_then_filled_from_x": (
        "z = T.zeros(3, dtype=T.float64); y = z + 1; z[1:] = x[1:] * 3; "
        "out = y.sum() * 2 + (z * z).sum()"
    ),
    "two_edits_between_consumers": (
        "a = x * 1.5; b = a * 2; a[0] = 1.0; c = a * 3; a[2] = 0.5; "
        "out = b.sum() + c.sum() + (a * a).sum()"
    ),
    "inplace_activation_after_use": (
        "a = x - 0.5; b = a + x; a = T.nn.functional.relu(a, inplace=True); out = (b * b + a).sum()"
    ),
}


def _run_earlier_consumer(lib, program: str, create_graph: bool):
    x = lib.tensor([1.0, -2.0, 3.0], dtype=lib.float64, requires_grad=True)
    scope = {"T": lib, "x": x}
    exec(program, scope)
    if not create_graph:
        scope["out"].backward()
        return [x.grad.tolist()]
    (g,) = lib.autograd.grad(scope["out"], x, create_graph=True)
    (g * g).sum().backward()
    return [g.tolist(), x.grad.tolist()]


@pytest.mark.parametrize("create_graph", [False, True], ids=["first", "second"])
@pytest.mark.parametrize("name", sorted(EARLIER_CONSUMER_PROGRAMS))
def test_consumer_recorded_before_an_in_place_edit_keeps_the_earlier_path(name, create_graph):
    import torch

    program = EARLIER_CONSUMER_PROGRAMS[name]
    expected = _run_earlier_consumer(torch, program, create_graph)
    got = _run_earlier_consumer(gradfit, program, create_graph)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
