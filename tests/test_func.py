"""gradfit.func against torch.func: the same functions, the same values (float64, 1e-10),
for grad/grad_and_value/vjp/jvp/jacrev/jacfwd/hessian/vmap, their compositions
(grad of grad, Hessians, per-sample gradients with vmap(grad) and functional_call) and
PyTorch's errors."""

from __future__ import annotations

import numpy as np
import pytest

import gradfit

RNG = np.random.RandomState(0)
X = RNG.randn(3, 4)
Y = RNG.randn(3, 4)


def _torch():
    import torch  # the reference: a missing torch fails these tests

    return torch


def _leaves(tree):
    if isinstance(tree, dict):
        return [x for k in tree for x in _leaves(tree[k])]
    if isinstance(tree, tuple | list):
        return [x for t in tree for x in _leaves(t)]
    return [tree]


def _same(fn, rtol=1e-10):
    """fn(torch) and fn(gradfit) give the same trees of tensors (values, shapes, whether
    they require grad)."""
    torch = _torch()
    want, got = fn(torch), fn(gradfit)
    lw, lg = _leaves(want), _leaves(got)
    assert len(lw) == len(lg)
    for w, g in zip(lw, lg):
        if not isinstance(w, torch.Tensor):
            assert w == g
            continue
        assert tuple(g.shape) == tuple(w.shape)
        assert g.requires_grad == w.requires_grad
        np.testing.assert_allclose(g.detach().numpy(), w.detach().numpy(), rtol=rtol, atol=1e-12)
    return got


def _t(T, a):
    return T.tensor(a, dtype=T.float64)


def f_scalar(x):
    return (x.sin() * x).sum() * x.prod()


def test_grad_argnums_and_aux():
    _same(lambda T: T.func.grad(f_scalar)(_t(T, X[0])))
    _same(
        lambda T: T.func.grad(lambda x, y: (x * y.exp()).sum(), argnums=(0, 1))(
            _t(T, X[0]), _t(T, Y[0])
        )
    )
    _same(lambda T: T.func.grad(lambda x, y: (x * y).sum(), argnums=-1)(_t(T, X), _t(T, Y)))
    _same(
        lambda T: T.func.grad_and_value(lambda x: ((x**3).sum(), {"c": x.cos()}), has_aux=True)(
            _t(T, X)
        )
    )
    _same(lambda T: T.func.grad(lambda p: (p["w"] * p["b"][0]).sum())(
        {"w": _t(T, X), "b": (_t(T, Y[0]),)}
    ))  # fmt: skip


def test_nested_grad_and_closures():
    _same(lambda T: T.func.grad(lambda x: T.func.grad(f_scalar)(x).sin().sum())(_t(T, X[0])))
    # the inner grad sees y as a constant: d/dx [x * d/dy (x y)] = 2x (no perturbation confusion)
    _same(
        lambda T: T.func.grad(lambda x: x * T.func.grad(lambda y: x * y)(x))(
            T.tensor(1.5, dtype=T.float64)
        )
    )
    # third derivative of x^4 (sum) is 24 x
    _same(
        lambda T: T.func.grad(
            lambda x: T.func.grad(lambda x: T.func.grad(lambda x: (x**4).sum())(x).sum())(x).sum()
        )(_t(T, X[0]))
    )


def test_grad_composes_with_autograd():
    def fn(T):
        x = _t(T, X[0]).requires_grad_()
        g = T.func.grad(lambda x: (x**3).sum())(x)
        return g, T.autograd.grad(g.sum(), x)[0]

    _same(fn)

    def closure(T):
        # the function closes over w: the gradient stays connected to w, as in PyTorch
        w = _t(T, Y[0]).requires_grad_()
        x = _t(T, X[0])
        g = T.func.grad(lambda x: (x.sin() * w).sum())(x)
        j = T.func.jacrev(lambda x: x.exp() * w)(x)
        plain = T.func.grad(lambda x: (x.sin() * w.detach()).sum())(x)
        return g, T.autograd.grad((g * j.sum(0)).sum(), w)[0], plain

    _same(closure)

    def laplacian(T):
        # a physics-informed loss: second derivatives in x of a network, backpropagated
        # to its parameters through vmap(hessian(...)) and functional_call
        T.manual_seed(0)
        net = T.nn.Sequential(T.nn.Linear(2, 5), T.nn.Tanh(), T.nn.Linear(5, 1)).double()
        params = dict(net.named_parameters())

        def u(p, pt):
            return T.func.functional_call(net, p, (pt,)).squeeze()

        pts = _t(T, X[:, :2])
        lap = T.func.vmap(T.func.hessian(u, argnums=1), in_dims=(None, 0))(params, pts)
        loss = lap.diagonal(dim1=1, dim2=2).sum(1).pow(2).mean()
        return lap, T.autograd.grad(loss, list(params.values()), allow_unused=True)

    _same(laplacian)


def test_vjp_jvp():
    def fn(T):
        a, b = _t(T, X), _t(T, Y)
        with T.no_grad():  # the transforms ignore an enclosing no_grad, as in PyTorch
            g = T.func.grad(lambda a: (a**2).sum())(a)
        unused = T.func.jvp(lambda a, b: b * 2, (a, b), (a, b))
        o5, vjp5 = T.func.vjp(lambda a, b: b * 2, a, b)
        out, vjp_fn = T.func.vjp(lambda a, b: ((a * b).sin(), a.exp()), a, b)
        cts = (T.ones_like(out[0]), _t(T, Y))
        o2, t2 = T.func.jvp(lambda a, b: (a * b).sin(), (a, b), (T.ones_like(a), a))
        o3, t3, aux = T.func.jvp(lambda a: (a.tanh(), a * 2), (a,), (b,), has_aux=True)
        out4, vjp4, aux4 = T.func.vjp(lambda a: ((a**2).sum(), a + 1), a, has_aux=True)
        return (
            out, vjp_fn(cts), o2, t2, o3, t3, aux, out4, vjp4(T.tensor(2.0, dtype=T.float64)),
            g, unused, vjp5(T.ones_like(o5)),
        )  # fmt: skip

    _same(fn)


def test_jacrev_jacfwd_hessian():
    def fn(T):
        x, y = _t(T, X), _t(T, Y)
        return (
            T.func.jacrev(lambda x: (x.sin() * x).sum(1))(x),
            T.func.jacfwd(lambda x, y: (x * y, x.exp()), argnums=(0, 1))(x[0], y[0]),
            T.func.jacrev(lambda x: (x.exp(), x.sum()), has_aux=True)(x[0]),
            T.func.jacrev(T.func.jacrev(lambda x: (x**3).sin()))(x[0]),
            T.func.hessian(f_scalar)(x[0]),
            T.func.hessian(lambda x, y: (x * y.sin()).sum() ** 2, argnums=(0, 1))(x[0], y[0]),
            T.func.hessian(lambda a: a.sin() * a.sum())(x[0]),
            T.func.jacrev(lambda p: p["a"] * p["b"].sum())({"a": x[0], "b": y[0]}),
            T.func.jacrev(lambda a, b: a @ b, argnums=(0, 1))(x, y.T),
        )

    _same(fn)


def test_vmap_dims_nested_and_random():
    def fn(T):
        x, y = _t(T, X), _t(T, Y)
        vm = T.func.vmap
        return (
            vm(lambda a: a.sum() * a)(x),
            vm(lambda a, b: a @ b, in_dims=(1, None))(x, y[0, :3]),
            vm(vm(lambda a: a * 2), in_dims=1, out_dims=1)(x),
            vm(lambda a: (a, a.sum()), out_dims=(1, 0))(x),
            vm(lambda p, s: p["w"] * s, in_dims=({"w": 0}, None))({"w": x}, 3.0),
            vm(T.func.jacrev(T.sin))(x),
            T.func.grad(lambda x: vm(lambda r: (r**2).sum().sqrt())(x).sum())(x),
            vm(lambda a, k=1.0: a * k, in_dims=-1)(x, k=2.0),
            vm(lambda a: (a.sum(), T.ones(2)), out_dims=(0, None))(x),
            vm(lambda a: vm(lambda b: (a * b).sum())(y))(x),
            # grad over a function that runs grad inside vmap on other data: detached result
            T.func.grad(lambda a: vm(T.func.grad(lambda r: (r.sin() * a[0]).sum()))(y).sum())(x),
            vm(T.func.jacfwd(lambda r: r.exp() * r.sum()), in_dims=1, out_dims=2)(x),
        )

    _same(fn)
    with pytest.raises(RuntimeError, match="randomness error mode"):
        gradfit.func.vmap(lambda a: a + gradfit.rand(()))(gradfit.ones(3))
    same = gradfit.func.vmap(lambda a: a + gradfit.rand(()), randomness="same")(gradfit.zeros(3))
    assert len(set(same.tolist())) == 1
    diff = gradfit.func.vmap(lambda a: a + gradfit.rand(()), randomness="different")(
        gradfit.zeros(3)
    )
    assert len(set(diff.tolist())) == 3


def test_per_sample_gradients_of_a_linear_model():
    def fn(T):
        T.manual_seed(0)
        model = T.nn.Linear(4, 2).double()
        params = {k: v.detach() for k, v in model.named_parameters()}
        x, y = _t(T, X), T.tensor([0, 1, 1])

        def loss(p, xi, yi):
            out = T.func.functional_call(model, p, (xi.unsqueeze(0),))
            return T.nn.functional.cross_entropy(out, yi.unsqueeze(0))

        per_sample = T.func.vmap(T.func.grad(loss), in_dims=(None, 0, 0))(params, x, y)
        # the mean of the per-sample gradients is the batch gradient
        batch = T.func.grad(lambda p: T.nn.functional.cross_entropy(
            T.func.functional_call(model, p, (x,)), y))(params)  # fmt: skip
        return per_sample, batch

    per_sample, batch = _same(fn)
    for k in batch:
        np.testing.assert_allclose(per_sample[k].mean(0).numpy(), batch[k].numpy(), rtol=1e-10)


def test_functional_call_dicts_and_stack_module_state():
    def fn(T):
        T.manual_seed(0)
        models = [T.nn.Linear(3, 2).double() for _ in range(2)]
        params, buffers = T.func.stack_module_state(models)
        x = _t(T, X[:, :3])

        def call(p, b, x):
            return T.func.functional_call(models[0], (p, b), (x,))

        return T.func.vmap(call, in_dims=(0, 0, None))(params, buffers, x), params

    _same(fn)
    lin = gradfit.nn.Linear(2, 2)
    with pytest.raises(ValueError, match="appeared in multiple dictionaries"):
        gradfit.func.functional_call(lin, ({"weight": lin.weight}, {"weight": lin.weight}), ())


def _error(T, call):
    try:
        call(T)
    except Exception as e:  # noqa: BLE001 - comparing with torch's
        return type(e).__name__, str(e)
    return None


@pytest.mark.parametrize(
    "call",
    [
        lambda T: T.func.grad(lambda x: x * 2)(T.ones(3)),
        lambda T: T.func.grad(lambda x: (x.sum(), 1), argnums=(0, 0))(T.ones(3)),
        lambda T: T.func.grad(lambda x: x.sum(), argnums=2)(T.ones(3)),
        lambda T: T.func.grad(lambda x: x.sum(), has_aux=True)(T.ones(3)),
        lambda T: T.func.grad(lambda x: x, argnums=())(T.ones(3)),
        lambda T: T.func.grad(lambda x: x.sum(), argnums=0.5)(T.ones(3)),
        lambda T: T.func.vmap(lambda x, y: x + y)(T.ones(2), T.ones(3)),
        lambda T: T.func.vmap(lambda x: x, in_dims=1)(T.ones(2)),
        lambda T: T.func.vmap(lambda x: x, in_dims=(0, 0))(T.ones(2)),
        lambda T: T.func.vmap(lambda x: x, in_dims=0)(3.0),
        lambda T: T.func.vmap(lambda x: 1.0)(T.ones(2)),
        lambda T: T.func.vmap(lambda x: x, randomness="sometimes"),
        lambda T: T.func.jvp(lambda x: x, T.ones(2), T.ones(2)),
        lambda T: T.func.jvp(lambda x: x, (T.ones(2),), [T.ones(2)]),
        lambda T: T.func.jacrev(lambda x: x, chunk_size=0),
        lambda T: T.func.vjp(lambda x: x, T.ones(2), has_aux=True),
        lambda T: T.func.jacrev(lambda a: (a > 0).long())(T.ones(2)),
        lambda T: T.func.vmap(lambda a: a, out_dims=(0, 1))(T.ones(2)),
        lambda T: T.func.vmap(lambda a: a, out_dims=3)(T.ones(2)),
        lambda T: T.func.vjp(lambda a: a * 2, T.ones(2))[1]((T.ones(2),)),
        lambda T: T.func.vmap(lambda a: (a, a.sum()), out_dims=(0, None))(T.arange(2.0)),
        lambda T: T.func.vmap(lambda a: a)(),
        lambda T: T.func.functionalize(lambda a: a, remove="views"),
        lambda T: T.func.linearize(lambda a: a * 2, T.ones(2))[1](T.ones(3)),
    ],
)
def test_errors_match_torch(call):
    want = _error(_torch(), call)
    assert want is not None
    got = _error(gradfit, call)
    assert got == (
        want[0],
        want[1].replace("torch.", "gradfit.").replace("<class 'torch", "<class 'gradfit"),
    )


def test_linearize_functionalize_batch_norm():
    def fn(T):
        x = _t(T, X)
        out, jvp_fn = T.func.linearize(lambda a: a.sin() * a.sum(), x)
        T.manual_seed(0)
        model = T.nn.Sequential(T.nn.Linear(4, 3), T.nn.BatchNorm1d(3)).double()
        T.func.replace_all_batch_norm_modules_(model)
        bn = model[1]
        per_chunk = T.func.vmap(model, in_dims=0)(x.reshape(1, 3, 4))
        return (out, jvp_fn(_t(T, Y)), T.func.functionalize(lambda a: a.exp())(x), per_chunk,
                bn.running_mean, bn.track_running_stats)  # fmt: skip

    _same(fn)


def test_namespace():
    # torch.vmap is torch.func.vmap; the transforms load on first use of gradfit.func
    assert gradfit.vmap is gradfit.func.vmap
    assert {"grad", "vmap", "jacrev", "functional_call"} <= set(gradfit.func.__all__)
