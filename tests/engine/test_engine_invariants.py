"""Engine invariants: shapes, reuse, depth, accumulation, freeing, and the errors."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest
import torch

import gradfit
from gradfit.autograd import Function


def leaf(values, dtype=np.float64):
    return gradfit.tensor(np.asarray(values, dtype=dtype), requires_grad=True)


def test_broadcast_gradient_shapes_match_inputs():
    a = leaf(np.ones((3, 1, 4)))
    b = leaf(np.ones((2, 1)))
    c = leaf(np.ones(()))
    ((a * b + c) ** 2).sum().backward()
    assert a.grad.shape == (3, 1, 4) and b.grad.shape == (2, 1) and c.grad.shape == ()
    # each b entry meets 3*4 entries of a, each with derivative 2*(a*b+c)*a = 2*2*1
    np.testing.assert_allclose(b.grad.numpy(), np.full((2, 1), 48.0))
    np.testing.assert_allclose(c.grad.numpy(), 2 * 2 * 24)


def test_reused_node_sums_paths():
    """SPLIT rule: x used by three consumers gets the sum of their gradients."""
    x = leaf([1.5, -2.0])
    y = x * 2
    z = y * y + y + y.exp()
    z.sum().backward()
    yv = 2 * np.array([1.5, -2.0])
    np.testing.assert_allclose(x.grad.numpy(), 2 * (2 * yv + 1 + np.exp(yv)), rtol=1e-14)


def test_same_tensor_twice_in_one_op():
    x = leaf([3.0])
    (x * x).backward(gradfit.ones(1, dtype=gradfit.float64))
    assert x.grad.item() == 6.0
    w = leaf([2.0])
    (w + w).sum().backward()  # ADD passes one array to both inputs: must not alias
    assert w.grad.item() == 2.0


def test_chain_of_100000_ops_backpropagates():
    x = leaf(1.0)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y = y * 3.0
    y.backward()
    assert x.grad.item() == 3.0


def test_gradients_accumulate_over_two_backward_calls():
    x = leaf([1.0, 2.0])
    (x * x).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2 + 3, 4 + 3])
    xt = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    (xt * xt).sum().backward()
    (xt * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy())


def test_graph_freed_after_backward_and_second_backward_errors():
    x = leaf([1.0, 2.0])
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_retain_graph_allows_second_backward():
    x = leaf([1.0, 2.0])
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * first)


def test_dropped_graph_keeps_no_tensor_alive():
    x = leaf(np.ones((4, 4)))
    h = (x @ x).relu()
    ref = weakref.ref(h)
    loss = (h * 2).sum()
    loss.backward()
    del h, loss
    gc.collect()
    assert ref() is None
    # and without backward: dropping the output drops the whole graph
    h2 = (x @ x).tanh()
    ref2 = weakref.ref(h2)
    out = h2.sum()
    del h2, out
    gc.collect()
    assert ref2() is None


def test_backward_nonscalar_without_gradient_errors():
    x = leaf([1.0, 2.0])
    with pytest.raises(
        RuntimeError, match=r"^grad can be implicitly created only for scalar outputs$"
    ):
        (x * 2).backward()


def test_backward_gradient_wrong_shape_errors():
    x = leaf([1.0, 2.0])
    with pytest.raises(
        RuntimeError,
        match=r"grad_output\[0\] has a shape of gradfit.Size\(\[3\]\) and output\[0\] has a "
        r"shape of gradfit.Size\(\[2\]\)",
    ):
        (x * 2).backward(gradfit.ones(3, dtype=gradfit.float64))


def test_requires_grad_on_integer_tensor_errors():
    with pytest.raises(RuntimeError, match="floating point.*int64"):
        gradfit.tensor([1, 2, 3], requires_grad=True)
    t = gradfit.arange(3)
    with pytest.raises(RuntimeError, match="int64"):
        t.requires_grad = True


def test_inplace_change_of_saved_tensor_errors():
    w = leaf([1.0, 2.0])
    x = leaf([3.0, 4.0])
    y = (w * x).sum()
    with gradfit.no_grad():
        x.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_inplace_on_leaf_requiring_grad_outside_no_grad_errors():
    w = leaf([1.0])
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w.add_(1.0)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w -= 1.0
    with gradfit.no_grad():
        w -= 1.0  # the lecture's manual update rule
    assert w.item() == 0.0


def test_matmul_shape_mismatch_names_shapes():
    with pytest.raises(RuntimeError, match=r"shapes cannot be multiplied \(3x4 and 5x2\)"):
        gradfit.ones(3, 4) @ gradfit.ones(5, 2)


def test_broadcast_mismatch_errors():
    message = r"tensor a \(4\) must match .* b \(5\) at non-singleton dimension 1"
    with pytest.raises(RuntimeError, match=message):
        gradfit.ones(3, 4) + gradfit.ones(5)


def test_autograd_grad_returns_without_accumulating():
    x = leaf([1.0, 2.0])
    y = leaf([0.5, 0.5])
    h = x * y
    out = (h * h).sum()
    gx, gh = gradfit.autograd.grad(out, [x, h])
    np.testing.assert_allclose(gx.numpy(), 2 * np.array([0.5, 1.0]) * 0.5)
    np.testing.assert_allclose(gh.numpy(), 2 * np.array([0.5, 1.0]))
    assert x.grad is None and y.grad is None
    z = leaf([1.0])
    with pytest.raises(RuntimeError, match="not have been used"):
        gradfit.autograd.grad((x * 2).sum(), [z])
    (gz,) = gradfit.autograd.grad((x * 2).sum(), [z], allow_unused=True)
    assert gz is None


def test_hooks_see_and_replace_gradients():
    x = leaf([1.0, 2.0])
    seen = []
    h = x * 3
    h.register_hook(lambda g: seen.append(g.numpy().copy()))
    handle = x.register_hook(lambda g: g * 10)
    h.sum().backward()
    np.testing.assert_allclose(seen[0], [1.0, 1.0])
    np.testing.assert_allclose(x.grad.numpy(), [30.0, 30.0])
    handle.remove()
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])


def test_retain_grad_on_intermediate():
    x = leaf([1.0, 2.0])
    h = x * x
    h.retain_grad()
    (h * 5).sum().backward()
    np.testing.assert_allclose(h.grad.numpy(), [5.0, 5.0])


def test_no_grad_and_enable_grad():
    x = leaf([1.0])
    with gradfit.no_grad():
        y = x * 2
        assert not gradfit.is_grad_enabled()
        with gradfit.enable_grad():
            z = x * 2
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad and z.grad_fn is not None

    @gradfit.no_grad()
    def f(t):
        return t * 2

    assert not f(x).requires_grad


def test_set_grad_enabled_as_a_call_a_context_manager_and_a_decorator():
    x = leaf([1.0])
    with gradfit.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert gradfit.is_grad_enabled()  # restored on exit
    gradfit.set_grad_enabled(False)  # a plain call switches at once and stays
    try:
        assert not (x * 2).requires_grad
    finally:
        gradfit.set_grad_enabled(True)

    @gradfit.set_grad_enabled(False)
    def f(t):
        return t * 2

    assert gradfit.is_grad_enabled() and not f(x).requires_grad and gradfit.is_grad_enabled()


def test_user_function_with_lecture_rule():
    class Cube(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, grad_output):  # FUNCTION rule: delta_a = delta_b * f'(a)
            (x,) = ctx.saved_tensors
            return grad_output * 3 * x**2

    x = leaf([1.0, -2.0, 0.5])
    assert gradfit.autograd.gradcheck(Cube.apply, (x,))
    y = Cube.apply(x)
    assert y.grad_fn.name() == "CubeBackward"
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 3 * np.array([1.0, 4.0, 0.25]))


def test_user_function_wrong_number_of_grads_errors():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x, y):
            return x * y

        @staticmethod
        def backward(ctx, g):
            return g

    x = leaf([1.0])
    with pytest.raises(RuntimeError, match=r"incorrect number of gradients \(expected 2, got 1\)"):
        Bad.apply(x, x).sum().backward()


def test_gradcheck_catches_a_wrong_gradient():
    class WrongSin(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.sin()

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x.sin()  # wrong: should be cos

    x = leaf([0.3, 1.1])
    with pytest.raises(gradfit.autograd.GradcheckError, match="Jacobian mismatch"):
        gradfit.autograd.gradcheck(WrongSin.apply, (x,))
    assert gradfit.autograd.gradcheck(WrongSin.apply, (x,), raise_exception=False) is False


def test_data_is_outside_graph_and_shares_memory():
    lin_w = leaf([1.0, 2.0])
    lin_w.data.fill_(0.0)  # the lecture's `layer.bias.data.fill_(0.0)`
    np.testing.assert_array_equal(lin_w.numpy() if False else lin_w.detach().numpy(), [0, 0])
    assert not lin_w.data.requires_grad


def test_grad_none_assignment_and_leaf_update_under_no_grad():
    w = leaf([1.0, 2.0])
    (w * w).sum().backward()
    with gradfit.no_grad():
        w -= 0.1 * w.grad
    w.grad = None
    np.testing.assert_allclose(w.detach().numpy(), [0.8, 1.6])
    assert w.is_leaf and w.requires_grad


def test_user_function_node_class_and_freed_graph_message_as_torch():
    import torch

    seen = []
    for lib in (gradfit, torch):

        class Square(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return 2 * x * g

        y = Square.apply(lib.tensor([1.0, 3.0], requires_grad=True)).sum()
        node = y.grad_fn.next_functions[0][0]
        y.backward()
        with pytest.raises(RuntimeError) as freed:
            y.backward()
        shown = repr(node).split(" object")[0]
        seen.append((type(node).__name__, node.name(), shown, str(freed.value)))
    ours, ref = seen
    assert ours[:2] == ref[:2] == ("SquareBackward", "SquareBackward")
    assert ours[2].replace("gradfit.", "torch.") == ref[2]
    assert ours[3] == ref[3]
