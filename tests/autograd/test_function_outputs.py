"""User ``autograd.Function``s as PyTorch's tutorials write them: several outputs, a
saved output differentiated twice, the ``setup_context`` form, non-differentiable
outputs; values, first and second derivatives against PyTorch."""

from __future__ import annotations

import numpy as np
import torch

import gradfit


def _functions(lib):
    class Exp(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            result = lib.exp(x)
            ctx.save_for_backward(result)
            return result

        @staticmethod
        def backward(ctx, grad_out):
            (result,) = ctx.saved_tensors
            return result * grad_out

    class Sinh(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            expx, expnegx = lib.exp(x), lib.exp(-x)
            ctx.save_for_backward(expx, expnegx)
            return (expx - expnegx) / 2, expx, expnegx

        @staticmethod
        def backward(ctx, grad_out, grad_exp, grad_negexp):
            expx, expnegx = ctx.saved_tensors
            grad_input = grad_out * (expx + expnegx) / 2
            grad_input += grad_exp * expx
            grad_input -= grad_negexp * expnegx
            return grad_input

    class Cube(lib.autograd.Function):
        @staticmethod
        def forward(x):
            return x**3, 3 * x**2

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(inputs[0], output[1])

        @staticmethod
        def backward(ctx, grad_output, grad_dx):
            x, dx = ctx.saved_tensors
            return grad_output * dx + grad_dx * 6 * x

    class SortWithIndex(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            values, index = lib.sort(x)
            ctx.mark_non_differentiable(index)
            ctx.save_for_backward(index)
            return values, index

        @staticmethod
        def backward(ctx, grad_values, grad_index):
            (index,) = ctx.saved_tensors
            grad = lib.zeros_like(grad_values)
            grad[index] = grad_values
            return grad

    return Exp, Sinh, Cube, SortWithIndex


def _run(lib):
    exp, sinh, cube, sort = _functions(lib)
    x = lib.tensor([0.5, 1.5, -2.0], dtype=lib.float64, requires_grad=True)
    out = {}
    for name, f in (
        ("exp", exp.apply),
        ("sinh", lambda v: sinh.apply(v)[0]),
        ("sinh_all", lambda v: sum(o.sum() for o in sinh.apply(v))),
        ("cube", lambda v: cube.apply(v)[0]),
        ("cube_dx", lambda v: cube.apply(v)[1]),
    ):
        y = f(x)
        (g,) = lib.autograd.grad(y.sum(), x, create_graph=True)
        (gg,) = lib.autograd.grad(g.sum(), x)
        out[name] = (y.detach().numpy(), g.detach().numpy(), gg.numpy())
    outs = sinh.apply(x)
    out["names"] = [o.grad_fn.name() for o in outs]
    values, index = sort.apply(x)
    (values * lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64)).sum().backward()
    out["sort"] = (values.detach().numpy(), index.numpy(), index.requires_grad, x.grad.numpy())
    out["checks"] = (
        lib.autograd.gradcheck(exp.apply, x),
        lib.autograd.gradgradcheck(exp.apply, x),
        lib.autograd.gradgradcheck(lambda v: sinh.apply(v)[0], x),
    )
    return out


def test_function_outputs_match_pytorch():
    want, got = _run(torch), _run(gradfit)
    assert got["names"] == want["names"] == ["SinhBackward"] * 3
    assert got["checks"] == want["checks"] == (True, True, True)
    for key in ("exp", "sinh", "sinh_all", "cube", "cube_dx"):
        for w, g in zip(want[key], got[key]):
            np.testing.assert_allclose(g, w, rtol=1e-12, err_msg=key)
    wv, wi, wreq, wg = want["sort"]
    gv, gi, greq, gg = got["sort"]
    np.testing.assert_array_equal(gv, wv)
    np.testing.assert_array_equal(gi, wi)
    assert greq == wreq is False
    np.testing.assert_array_equal(gg, wg)
