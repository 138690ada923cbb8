"""torch.autograd.graph.saved_tensors_hooks / save_on_cpu / disable_saved_tensors_hooks and
a node's _saved_<name>: which tensors pack receives, how often unpack runs, and that the
gradient is computed from unpack's result, each compared with PyTorch."""

import numpy as np
import pytest

import gradfit


def _torch():
    import torch  # parity tests fail, not skip, without torch

    return torch


def _cases(lib):
    """(name, function, argument specs): a spec is (shape, requires_grad)."""
    F = lib.nn.functional
    T, N = True, False
    return [
        ("mul", lambda a, b: a * b, [((3,), T), ((3,), T)]),
        ("mul_const", lambda a, b: a * b, [((3,), T), ((3,), N)]),
        ("mul_number", lambda a: a * 2, [((3,), T)]),
        ("mul_self", lambda a: a * a, [((3,), T)]),
        ("div", lambda a, b: a / b, [((3,), T), ((3,), T)]),
        ("div_const", lambda a, b: a / b, [((3,), T), ((3,), N)]),
        ("const_div", lambda a, b: a / b, [((3,), N), ((3,), T)]),
        ("pow_number", lambda a: a.pow(2), [((3,), T)]),
        ("pow_tensor", lambda a, b: a.pow(b), [((3,), T), ((3,), T)]),
        ("exp", lambda a: a.exp(), [((3,), T)]),
        ("sin", lambda a: lib.sin(a), [((3,), T)]),
        ("tanh", lambda a: lib.tanh(a), [((3,), T)]),
        ("sigmoid", lambda a: lib.sigmoid(a), [((3,), T)]),
        ("relu", lambda a: F.relu(a), [((3,), T)]),
        ("log_softmax", lambda a: a.log_softmax(0), [((3,), T)]),
        ("mm", lambda a, b: a @ b, [((2, 3), T), ((3, 4), T)]),
        ("mm_const", lambda a, b: a @ b, [((2, 3), T), ((3, 4), N)]),
        ("mv", lambda a, b: a @ b, [((2, 3), T), ((3,), T)]),
        (
            "linear",
            lambda x, w, b: F.linear(x, w, b),
            [((2, 3), T), ((4, 3), T), ((4,), T)],
        ),
        ("linear_no_bias", lambda x, w: F.linear(x, w), [((2, 3), T), ((4, 3), T)]),
        (
            "linear_3d",
            lambda x, w, b: F.linear(x, w, b),
            [((2, 5, 3), T), ((4, 3), T), ((4,), T)],
        ),
        (
            "linear_frozen",
            lambda x, w, b: F.linear(x, w, b),
            [((2, 3), T), ((4, 3), N), ((4,), N)],
        ),
        ("mse", lambda a, b: F.mse_loss(a, b), [((3,), T), ((3,), N)]),
        (
            "conv2d",
            lambda x, w, b: F.conv2d(x, w, b, padding=1),
            [((2, 2, 5, 4), T), ((3, 2, 3, 3), T), ((3,), T)],
        ),
        ("conv1d_frozen", lambda x, w: F.conv1d(x, w, stride=2), [((2, 2, 7), T), ((3, 2, 3), N)]),
        ("max_pool2d", lambda x: F.max_pool2d(x, 2), [((2, 2, 4, 4), T)]),
        ("avg_pool2d", lambda x: F.avg_pool2d(x, 2), [((2, 2, 4, 4), T)]),
        (
            "layer_norm",
            lambda x, w, b: F.layer_norm(x, (4,), w, b),
            [((3, 4), T), ((4,), T), ((4,), T)],
        ),
        ("layer_norm_plain", lambda x: F.layer_norm(x, (2, 4)), [((3, 2, 4), T)]),
        ("embedding", lambda w: F.embedding(lib.tensor([[1, 0], [2, 2]]), w), [((4, 3), T)]),
        ("add_sum_reshape", lambda a, b: (a + b).reshape(3, 1).sum(), [((3,), T), ((3,), T)]),
    ]


def _run(lib, name, fn, specs, scale):
    """Run one case under hooks whose unpack returns scale * the packed tensor; returns the
    log of calls (what pack received, described without identities) and the gradients."""
    rng = np.random.default_rng(0)
    args = [
        lib.tensor(rng.uniform(0.5, 1.5, shape), requires_grad=rg, dtype=lib.float64)
        for shape, rg in specs
    ]
    log = []

    def pack(t):
        which = [i for i, a in enumerate(args) if t is a]
        grad_fn = t.grad_fn.name() if t.grad_fn is not None else None
        log.append(("pack", tuple(t.shape), which, t.requires_grad, grad_fn, lib.is_grad_enabled()))
        return [len(log), t]

    def unpack(packed):
        log.append(("unpack", packed[0], lib.is_grad_enabled()))
        t = packed[1]
        return t * scale if t.is_floating_point() else t  # indices stay indices

    with lib.autograd.graph.saved_tensors_hooks(pack, unpack):
        y = fn(*args)
    y.sum().backward()
    grads = [a.grad.numpy() if a.grad is not None else None for a in args]
    return log, grads


@pytest.mark.parametrize("case", range(len(_cases(gradfit))))
def test_pack_unpack_calls_and_gradients_match_torch(case):
    torch = _torch()
    name, fn, specs = _cases(gradfit)[case]
    _, tfn, _ = _cases(torch)[case]
    for scale in (1.0, 2.0):  # 2: the gradient must come from what unpack returns
        got_log, got = _run(gradfit, name, fn, specs, scale)
        want_log, want = _run(torch, name, tfn, specs, scale)
        assert got_log == want_log, name
        for g, w in zip(got, want):
            assert (g is None) == (w is None), name
            if w is not None:
                np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)


def test_saved_attributes_match_torch():
    torch = _torch()
    for lib in (gradfit, torch):
        x = lib.tensor([0.5, 1.0, 2.0], requires_grad=True)
        y = x.pow(2)
        assert y.grad_fn._saved_self is x
        assert y.grad_fn._saved_exponent == 2
        z = x.exp()
        assert z.grad_fn._saved_result is not z
        assert z.grad_fn._saved_result.equal(z)
        assert z.grad_fn._saved_result.grad_fn is z.grad_fn
        z.sum().backward()
        with pytest.raises(RuntimeError, match="Trying to backward through the graph a second"):
            z.grad_fn._saved_result  # noqa: B018
        with pytest.raises(AttributeError):
            y.grad_fn._saved_nothing  # noqa: B018


def test_raw_saved_register_hooks_matches_torch():
    results = [_raw_saved(lib) for lib in (gradfit, _torch())]
    assert results[0] == results[1]


def _raw_saved(lib):
    log = []
    x = lib.tensor([0.5, 1.0, 2.0], requires_grad=True)
    y = x.pow(2)
    y.grad_fn._raw_saved_self.register_hooks(
        lambda t: log.append("pack") or t, lambda t: log.append("unpack") or t * 3
    )
    with pytest.raises(RuntimeError, match="already been set"):
        y.grad_fn._raw_saved_self.register_hooks(lambda t: t, lambda t: t)
    y.sum().backward()
    return log, x.grad.tolist()


def test_retain_graph_unpacks_each_backward_and_custom_function():
    results = [_retained(lib) for lib in (gradfit, _torch())]
    assert results[0][0] == results[1][0]
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-6)


def _retained(lib):

    class Cube(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * g * x * x

    log = []
    x = lib.tensor([0.5, 1.0, 2.0], requires_grad=True)
    with lib.autograd.graph.saved_tensors_hooks(
        lambda t: log.append(("pack", t is x)) or t, lambda t: log.append("unpack") or t * 2
    ):
        y = Cube.apply(x).sin()
    y.sum().backward(retain_graph=True)
    y.sum().backward()
    return log, x.grad.tolist()


def test_nested_hooks_innermost_applies_and_save_on_cpu():
    results = [_nested(lib) for lib in (gradfit, _torch())]
    assert results[0][0] == results[1][0]
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-6)
    np.testing.assert_allclose(results[0][2], results[1][2], rtol=1e-6)


def _nested(lib):
    log = []
    a = lib.tensor([1.0, 2.0], requires_grad=True)
    b = lib.tensor([3.0, 4.0], requires_grad=True)
    with lib.autograd.graph.saved_tensors_hooks(lambda t: log.append("outer") or t, lambda t: t):
        with lib.autograd.graph.saved_tensors_hooks(
            lambda t: log.append("inner") or t, lambda t: t
        ):
            c = a * b
        d = c.exp()
    with lib.autograd.graph.save_on_cpu(pin_memory=False):
        e = (d * a).tanh()
    e.sum().backward()
    return log, a.grad.tolist(), b.grad.tolist()


def test_bad_hooks_and_disabled_hooks_raise_like_torch():
    torch = _torch()
    for lib in (gradfit, torch):
        graph = lib.autograd.graph
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        with graph.saved_tensors_hooks(lambda t: t, lambda t: 5):
            y = x.exp()
        with pytest.raises(TypeError, match="expected to be a Tensor but got result of type int"):
            y.sum().backward()
        with pytest.raises(TypeError):
            with graph.saved_tensors_hooks(1, 2):
                pass
        with graph.disable_saved_tensors_hooks("hooks are off here"):
            with pytest.raises(RuntimeError, match="hooks are off here"):
                with graph.save_on_cpu():
                    pass
        with graph.saved_tensors_hooks(lambda t: t, lambda t: t):
            with pytest.raises(RuntimeError, match="off"):
                with graph.disable_saved_tensors_hooks("off"):
                    pass
        # the hooks are gone after the contexts
        z = x.sin()
        assert z.grad_fn._saved_self is x


def test_unpack_of_wrong_shape_is_one_clear_error():
    x = gradfit.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with gradfit.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: gradfit.ones(2)):
        y = x.exp()
    with pytest.raises(RuntimeError, match=r"shape \(2,\) for the saved tensor 'result'"):
        y.sum().backward()


def test_no_hooks_no_packing():
    x = gradfit.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    assert y.grad_fn.packed is None
