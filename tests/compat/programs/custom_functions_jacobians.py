# "Double Backward with Custom Functions" (Square, Exp saving its output, a function
# saving an intermediate, once_differentiable), then "Jacobians, Hessians, hvp, vhp" with
# torch.autograd.functional and torch.func, and gradcheck/gradgradcheck on each.
import torch
import torch.autograd.functional as AF
from torch.func import hessian, jacfwd, jacrev, vmap


class Square(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**2

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out * 2 * x


x = torch.rand(3, 3, requires_grad=True, dtype=torch.double)
print(torch.autograd.gradcheck(Square.apply, x))
print(torch.autograd.gradgradcheck(Square.apply, x))


class Exp(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        result = torch.exp(x)
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_out):
        (result,) = ctx.saved_tensors
        return result * grad_out


x = torch.tensor(1.0, requires_grad=True, dtype=torch.double).clone()
out = Exp.apply(x)
print(out, out.grad_fn.name())
print(torch.autograd.gradcheck(Exp.apply, x))
print(torch.autograd.gradgradcheck(Exp.apply, x))


class Sinh(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        expx = torch.exp(x)
        expnegx = torch.exp(-x)
        ctx.save_for_backward(expx, expnegx)
        return (expx - expnegx) / 2, expx, expnegx

    @staticmethod
    def backward(ctx, grad_out, _grad_out_exp, _grad_out_negexp):
        expx, expnegx = ctx.saved_tensors
        grad_input = grad_out * (expx + expnegx) / 2
        grad_input += _grad_out_exp * expx
        grad_input -= _grad_out_negexp * expnegx
        return grad_input


def sinh(x):
    return Sinh.apply(x)[0]


x = torch.rand(3, 3, requires_grad=True, dtype=torch.double)
print(torch.autograd.gradcheck(sinh, x))
print(torch.autograd.gradgradcheck(sinh, x))


class MyCube(torch.autograd.Function):
    @staticmethod
    def forward(x):
        result = x**3
        dx = 3 * x**2
        return result, dx

    @staticmethod
    def setup_context(ctx, inputs, output):
        (x,) = inputs
        result, dx = output
        ctx.save_for_backward(x, dx)

    @staticmethod
    def backward(ctx, grad_output, grad_dx):
        x, dx = ctx.saved_tensors
        result = grad_output * dx + grad_dx * 6 * x
        return result


def my_cube(x):
    result, dx = MyCube.apply(x)
    return result


x = torch.tensor([0.5, 1.5, -2.0], dtype=torch.double, requires_grad=True)
y = my_cube(x)
(g,) = torch.autograd.grad(y.sum(), x, create_graph=True)
(gg,) = torch.autograd.grad(g.sum(), x)
print(y, g, gg, sep="\n")

torch.manual_seed(0)


def exp_reducer(x):
    return x.exp().sum(dim=1)


inputs = torch.rand(2, 2)
print(AF.jacobian(exp_reducer, inputs))
print(AF.jacobian(exp_reducer, inputs, create_graph=True).shape)


def exp_adder(x, y):
    return 2 * x.exp() + 3 * y


inputs = (torch.rand(2), torch.rand(2))
print(AF.jacobian(exp_adder, inputs))


def pow_reducer(x):
    return x.pow(3).sum()


inputs = torch.rand(2, 2)
print(AF.hessian(pow_reducer, inputs))
v = torch.ones(2, 2)
print(AF.hvp(pow_reducer, inputs, v))
print(AF.vhp(pow_reducer, inputs, v))
print(AF.vjp(exp_reducer, inputs, torch.ones(2)))
print(AF.jvp(exp_reducer, inputs, v))

D = 4
weight = torch.randn(D, D)
bias = torch.randn(D)
x = torch.randn(D)


def predict(weight, bias, x):
    return torch.nn.functional.linear(x, weight, bias).tanh()


jacobian = jacrev(predict, argnums=2)(weight, bias, x)
print(jacobian.shape)
print(torch.allclose(jacobian, jacfwd(predict, argnums=2)(weight, bias, x)))
ft_jacobian, ft_jacobian_b = jacrev(predict, argnums=(0, 1))(weight, bias, x)
print(ft_jacobian.shape, ft_jacobian_b.shape)
hess = hessian(predict, argnums=2)(weight, bias, x)
print(hess.shape)
batch_size = 3
xs = torch.randn(batch_size, D)
compute_batch_jacobian = vmap(jacrev(predict, argnums=2), in_dims=(None, None, 0))
print(compute_batch_jacobian(weight, bias, xs).shape)
print(
    torch.allclose(
        compute_batch_jacobian(weight, bias, xs)[1], jacrev(predict, argnums=2)(weight, bias, xs[1])
    )
)
