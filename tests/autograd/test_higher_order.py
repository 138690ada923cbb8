"""Gradients of gradients: ``create_graph``, ``autograd.functional`` and ``gradgradcheck``
against PyTorch and closed forms (issue 15). The per-op sweep is
tests/engine/test_engine_second_order.py."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.autograd.functional as TF

import gradfit
from gradfit.autograd import Function, GradcheckError, gradgradcheck, once_differentiable
from gradfit.autograd import functional as GF
from gradfit.autograd.function import Op

RNG = np.random.default_rng(0)


def _np(t):
    return t.detach().numpy()


def _close(ours, ref, tol=1e-10):
    if isinstance(ours, tuple | list):
        assert len(ours) == len(ref)
        for a, b in zip(ours, ref):
            _close(a, b, tol)
        return
    assert tuple(ours.shape) == tuple(ref.shape)
    np.testing.assert_allclose(_np(ours), ref.detach().numpy(), rtol=tol, atol=tol)


# ------------------------------------------------------------------ closed forms
def test_third_derivative_of_x_to_the_fifth():
    a = np.array([0.3, -0.7, 1.2, 2.0])
    x = gradfit.tensor(a, requires_grad=True)
    (d1,) = gradfit.autograd.grad((x**5).sum(), x, create_graph=True)
    (d2,) = gradfit.autograd.grad(d1.sum(), x, create_graph=True)
    (d3,) = gradfit.autograd.grad(d2.sum(), x)
    np.testing.assert_allclose(_np(d1), 5 * a**4, rtol=1e-14)
    np.testing.assert_allclose(_np(d2), 20 * a**3, rtol=1e-14)
    np.testing.assert_allclose(_np(d3), 60 * a**2, rtol=1e-14)


def test_third_derivative_of_tanh():
    a = np.linspace(-2, 2, 7)
    x = gradfit.tensor(a, requires_grad=True)
    (d1,) = gradfit.autograd.grad(x.tanh().sum(), x, create_graph=True)
    (d2,) = gradfit.autograd.grad(d1.sum(), x, create_graph=True)
    (d3,) = gradfit.autograd.grad(d2.sum(), x)
    t = np.tanh(a)
    np.testing.assert_allclose(_np(d1), 1 - t**2, rtol=1e-13)
    np.testing.assert_allclose(_np(d2), -2 * t * (1 - t**2), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(_np(d3), (1 - t**2) * (6 * t**2 - 2), rtol=1e-12, atol=1e-15)


# ------------------------------------------------------------------ functional vs torch
def _mlp(lib):
    x = lib.tensor(RNG_MLP["x"])
    y = lib.tensor(RNG_MLP["y"])
    F = lib.nn.functional

    def loss(w1, b1, w2):
        h = F.layer_norm(F.gelu(F.linear(x, w1, b1)).tanh(), (6,))
        return F.cross_entropy(F.linear(h, w2), y) + F.mse_loss(h.sigmoid(), h.softmax(-1))

    return loss


_r = np.random.default_rng(3)
RNG_MLP = {"x": _r.standard_normal((5, 3)), "y": _r.integers(0, 4, 5)}
PARAMS = (_r.standard_normal((6, 3)), _r.standard_normal(6), _r.standard_normal((4, 6)))
VEC = tuple(_r.standard_normal(p.shape) for p in PARAMS)


def _args(lib, arrays):
    return tuple(lib.tensor(a) for a in arrays)


def test_hessian_of_an_mlp_loss_matches_torch():
    ours = GF.hessian(_mlp(gradfit), _args(gradfit, PARAMS))
    ref = TF.hessian(_mlp(torch), _args(torch, PARAMS))
    for i in range(3):
        _close(ours[i], ref[i])


@pytest.mark.parametrize("name", ["hvp", "vhp", "vjp"])
def test_products_of_an_mlp_loss_match_torch(name):
    ours = getattr(GF, name)(_mlp(gradfit), _args(gradfit, PARAMS), _v(gradfit, name))
    ref = getattr(TF, name)(_mlp(torch), _args(torch, PARAMS), _v(torch, name))
    _close(ours[0], ref[0])
    _close(ours[1], ref[1])


def _v(lib, name):
    return None if name == "vjp" else _args(lib, VEC)


def test_jacobian_and_jvp_match_torch():
    a = _r.standard_normal(4)
    b = _r.standard_normal((3, 4))

    def f(lib):
        return lambda x, w: ((w @ x.sin()).exp(), (x * x).cumsum(0))

    ours = GF.jacobian(f(gradfit), _args(gradfit, (a, b)))
    ref = TF.jacobian(f(torch), _args(torch, (a, b)))
    for i in range(2):
        _close(ours[i], ref[i])
    ours = GF.jvp(f(gradfit), _args(gradfit, (a, b)), _args(gradfit, (a, b)))
    ref = TF.jvp(f(torch), _args(torch, (a, b)), _args(torch, (a, b)))
    _close(ours[1], ref[1])
    # a single input and output: an unnested Tensor, out.shape + in.shape
    j = GF.jacobian(lambda x: x.tanh() * 2, gradfit.tensor(a))
    assert tuple(j.shape) == (4, 4)


def test_hessian_create_graph_is_differentiable():
    # d/dx trace(H(x)) for f = sum(x^4): H = diag(12 x^2), its trace's gradient 24 x.
    a = np.array([0.5, -1.5, 2.0])
    x = gradfit.tensor(a, requires_grad=True)
    h = GF.hessian(lambda t: (t**4).sum(), x, create_graph=True)
    (g,) = gradfit.autograd.grad(h.diagonal().sum(), x)
    np.testing.assert_allclose(_np(g), 24 * a, rtol=1e-14)


@pytest.mark.parametrize("mode", ["GRU", "LSTM"])
def test_hessian_through_a_recurrent_layer_matches_torch(mode):
    torch.manual_seed(0)
    ref_net = getattr(torch.nn, mode)(3, 4, batch_first=True).double()
    net = getattr(gradfit.nn, mode)(3, 4, batch_first=True).double()
    net.load_state_dict(
        {k: gradfit.tensor(v.detach().numpy()) for k, v in ref_net.state_dict().items()}
    )
    x = _r.standard_normal((2, 4, 3))

    def loss(m):
        def f(xx):
            out, h = m(xx)
            h = h[0] if isinstance(h, tuple) else h
            return (out**2).sum() + (h * h.sin()).sum()

        return f

    _close(GF.hessian(loss(net), gradfit.tensor(x)), TF.hessian(loss(ref_net), torch.tensor(x)))
    # second derivatives w.r.t. the weights: grad of |grad|^2
    outs = []
    for lib, m in ((gradfit, net), (torch, ref_net)):
        params = list(m.parameters())
        g = lib.autograd.grad(loss(m)(lib.tensor(x)), params, create_graph=True)
        outs.append(lib.autograd.grad(sum((q * q).sum() for q in g), params))
    _close(outs[0], outs[1], 1e-9)


# ------------------------------------------------------------------ create_graph through losses
LOSSES = {
    "mse_loss": lambda F, x, t, c: F.mse_loss(x, t),
    "huber_loss": lambda F, x, t, c: F.huber_loss(x, t, delta=0.5),
    "smooth_l1_loss": lambda F, x, t, c: F.smooth_l1_loss(x, t, beta=0.7),
    "cross_entropy": lambda F, x, t, c: F.cross_entropy(x, c, label_smoothing=0.1),
    "cross_entropy_probs": lambda F, x, t, c: F.cross_entropy(x, t.softmax(-1)),
    "nll_loss": lambda F, x, t, c: F.nll_loss(F.log_softmax(x, -1), c, reduction="sum"),
    "bce": lambda F, x, t, c: F.binary_cross_entropy(x.sigmoid(), t.sigmoid()),
    "bce_with_logits": lambda F, x, t, c: F.binary_cross_entropy_with_logits(x, t.sigmoid()),
}


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_gradient_penalty_through_loss_matches_torch(name):
    # WGAN-GP's shape: the squared norm of d loss / d input, then its gradient w.r.t.
    # the input and the target (which requires grad too).
    rng = np.random.default_rng(4)
    xa, ta, ca = rng.standard_normal((4, 3)), rng.standard_normal((4, 3)), rng.integers(0, 3, 4)
    res = []
    for lib in (gradfit, torch):
        x = lib.tensor(xa, requires_grad=True)
        t = lib.tensor(ta, requires_grad=True)
        loss = LOSSES[name](lib.nn.functional, x, t, lib.tensor(ca))
        (gx,) = lib.autograd.grad(loss, x, create_graph=True)
        penalty = ((gx * gx).sum() - 1) ** 2
        res.append(lib.autograd.grad(penalty, (x, t), allow_unused=True))
    for a, b in zip(*res):
        if b is None:
            assert a is None or not np.any(_np(a))
        else:
            _close(a, b, 1e-10)


# ------------------------------------------------------------------ engine rules
def test_backward_create_graph_accumulates_a_differentiable_grad():
    for lib in (gradfit, torch):
        x = lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64, requires_grad=True)
        (x**3).sum().backward(create_graph=True)
        assert x.grad.requires_grad and x.grad.grad_fn is not None
        first = x.grad
        (x**2).sum().backward(create_graph=True)  # accumulates out of place
        assert x.grad is not first
        (gx,) = lib.autograd.grad(x.grad.sum(), x)
        if lib is gradfit:
            ours = (_np(x.grad), _np(gx))
        else:
            np.testing.assert_allclose(ours[0], x.grad.detach().numpy(), rtol=1e-14)
            np.testing.assert_allclose(ours[1], gx.numpy(), rtol=1e-14)


@pytest.mark.parametrize("lib", [gradfit, torch], ids=["gradfit", "torch"])
def test_retain_graph_defaults_to_create_graph_and_freed_graphs_raise(lib):
    x = lib.tensor([0.5, 2.0], dtype=lib.float64, requires_grad=True)
    y = (x.exp() * x).sum()
    (g,) = lib.autograd.grad(y, x, create_graph=True)  # retains the graph
    lib.autograd.grad(y, x)  # so a second pass works; this one frees it
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        lib.autograd.grad(y, x)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        g.sum().backward()  # the recorded gradient's graph reaches into the freed one
    z = (x.sin() * x).sum()
    (g,) = lib.autograd.grad(z, x, create_graph=True, retain_graph=False)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        z.backward()


def test_grad_outputs_that_require_grad_are_differentiated():
    # d/dv <v, J> = J: the double-backward trick jvp relies on.
    a = np.array([0.2, 0.9])
    x = gradfit.tensor(a, requires_grad=True)
    v = gradfit.tensor(np.array([1.0, -2.0]), requires_grad=True)
    (g,) = gradfit.autograd.grad(x.sin(), x, v, create_graph=True)
    (dv,) = gradfit.autograd.grad(g.sum(), v)
    np.testing.assert_allclose(_np(dv), np.cos(a), rtol=1e-15)


class _Cube(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x**2


class _CubeOnArrays(_Cube):
    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return gradfit.tensor(g.numpy() * 3 * x.detach().numpy() ** 2)


class _CubeOnce(_Cube):
    @staticmethod
    @once_differentiable
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x**2


class _CubeWrongSecond(_Cube):
    @staticmethod
    def backward(ctx, g):  # right first derivative, x treated as a constant
        (x,) = ctx.saved_tensors
        return g * 3 * x.detach() ** 2


def test_user_function_with_gradfit_backward_is_differentiable_twice():
    a = np.array([0.5, -2.0])
    x = gradfit.tensor(a, requires_grad=True)
    (g,) = gradfit.autograd.grad(_Cube.apply(x).sum(), x, create_graph=True)
    (h,) = gradfit.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(_np(h), 6 * a, rtol=1e-15)
    assert gradgradcheck(_Cube.apply, (x,))


@pytest.mark.parametrize("fn", [_CubeOnArrays, _CubeOnce], ids=["arrays", "once_differentiable"])
def test_user_function_outside_gradfit_ops_refuses_a_second_derivative(fn):
    x = gradfit.tensor([0.5, -2.0], requires_grad=True)
    (g,) = gradfit.autograd.grad(fn.apply(x).sum(), x, create_graph=True)
    np.testing.assert_allclose(_np(g), 3 * np.array([0.25, 4.0]))  # first order is fine
    with pytest.raises(RuntimeError, match=f"{fn.__name__}Backward is not differentiable twice"):
        gradfit.autograd.grad(g.sum(), x)


def test_gradgradcheck_catches_a_wrong_second_derivative():
    x = gradfit.tensor([0.5, -2.0], dtype=gradfit.float64, requires_grad=True)
    assert gradfit.autograd.gradcheck(_CubeWrongSecond.apply, (x,))
    with pytest.raises(GradcheckError):
        gradgradcheck(_CubeWrongSecond.apply, (x,))


class _CubeFirstOrderOnly(Op):
    """An op with an array backward and neither ``backward_graph`` nor ``composite``
    (every built-in op has one of them; the engine must still refuse such an op)."""

    @staticmethod
    def forward(ctx, a):
        ctx.a = a
        return a**3

    @staticmethod
    def backward(ctx, grad_output):
        return 3 * ctx.a**2 * grad_output


def test_an_op_without_second_order_names_itself():
    a = gradfit.tensor([0.5, -2.0], dtype=gradfit.float64, requires_grad=True)
    (g,) = gradfit.autograd.grad(_CubeFirstOrderOnly.apply(a).sum(), a)  # first order works
    np.testing.assert_allclose(g.numpy(), 3 * np.array([0.5, -2.0]) ** 2)
    with pytest.raises(
        RuntimeError, match="_CubeFirstOrderOnlyBackward has no second-order derivative"
    ):
        gradfit.autograd.grad(_CubeFirstOrderOnly.apply(a).sum(), a, create_graph=True)


def test_strict_and_unused_inputs_follow_torch():
    x, y = gradfit.tensor([1.0, 2.0]), gradfit.tensor([3.0])
    _, (gx, gy) = GF.vjp(lambda a, b: (a * a).sum(), (x, y))
    assert _np(gy).tolist() == [0.0] and _np(gx).tolist() == [2.0, 4.0]
    with pytest.raises(RuntimeError, match="independent of input 1"):
        GF.vjp(lambda a, b: (a * a).sum(), (x, y), strict=True)
    with pytest.raises(RuntimeError, match="single Tensor with a single element"):
        GF.hessian(lambda a: a * 2, x)
