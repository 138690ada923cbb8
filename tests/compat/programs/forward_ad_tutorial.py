# PyTorch's "Forward-mode Automatic Differentiation" tutorial (intermediate/forward_ad_usage),
# at small sizes: dual tensors and their tangents, a Linear model made dual by replacing its
# parameters and through functional_call, a custom Function with a jvp checked by gradcheck,
# torch.func.jvp on the same model, and forward AD mixed with backward.
import torch
import torch.autograd.forward_ad as fwAD
import torch.nn as nn
from torch.func import functional_call

torch.manual_seed(0)

primal = torch.randn(3, 3)
tangent = torch.randn(3, 3)


def fn(x, y):
    return x**2 + y**2


# All forward AD computation happens in a dual_level context; the tangents made inside are
# deleted when it exits.
with fwAD.dual_level():
    dual_input = fwAD.make_dual(primal, tangent)
    print(dual_input)
    # A tensor without a tangent counts as one with a zero tangent.
    plain_tensor = torch.randn(3, 3)
    dual_output = fn(dual_input, plain_tensor)
    print(dual_output)
    jvp = fwAD.unpack_dual(dual_output).tangent
    print(fwAD.unpack_dual(dual_output))
    print("jvp == 2 * primal * tangent:", torch.allclose(jvp, 2 * primal * tangent))
    print("requires_grad:", dual_input.requires_grad, "is_leaf:", dual_input.is_leaf)
    with torch.no_grad():
        print("under no_grad:", fwAD.unpack_dual(dual_input.exp()).tangent)

print("after the level:", fwAD.unpack_dual(dual_output).tangent)

# --- with Modules: replace the parameters by dual tensors ----------------------------------
model = nn.Linear(5, 5)
input = torch.randn(4, 5)

params = {name: p for name, p in model.named_parameters()}
tangents = {name: torch.rand_like(p) for name, p in params.items()}

with fwAD.dual_level():
    for name, p in params.items():
        delattr(model, name)
        setattr(model, name, fwAD.make_dual(p, tangents[name]))
    out = model(input)
    jvp = fwAD.unpack_dual(out).tangent
    print("module jvp:", jvp.detach())

# --- with the functional Module API --------------------------------------------------------
model = nn.Linear(5, 5)
dual_params = {}
with fwAD.dual_level():
    for name, p in params.items():
        dual_params[name] = fwAD.make_dual(p, tangents[name])
    out = functional_call(model, dual_params, input)
    jvp2 = fwAD.unpack_dual(out).tangent
print("functional_call agrees:", torch.allclose(jvp, jvp2))

# --- custom autograd Function ----------------------------------------------------------------


class Fn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, foo):
        result = torch.exp(foo)
        # Tensors stored in ctx can be used in the forward grad computation.
        ctx.result = result
        return result

    @staticmethod
    def jvp(ctx, gI):
        gO = gI * ctx.result
        del ctx.result
        return gO


fn = Fn.apply
primal = torch.randn(3, 3, dtype=torch.double, requires_grad=True)
tangent = torch.randn(3, 3, dtype=torch.double)

with fwAD.dual_level():
    dual_input = fwAD.make_dual(primal, tangent)
    dual_output = fn(dual_input)
    jvp = fwAD.unpack_dual(dual_output).tangent
    print("Fn jvp:", jvp.detach())

print(
    "gradcheck:",
    torch.autograd.gradcheck(
        Fn.apply,
        (primal,),
        check_forward_ad=True,
        check_backward_ad=False,
        check_undefined_grad=False,
        check_batched_grad=False,
    ),
)


class NoJvp(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, g):
        return g * 2


with fwAD.dual_level():
    try:
        NoJvp.apply(fwAD.make_dual(primal.detach(), tangent))
    except NotImplementedError as e:
        print("NotImplementedError:", e)
    try:
        fwAD.make_dual(primal.detach(), torch.randn(2, 3, dtype=torch.double))
    except RuntimeError as e:
        print("RuntimeError:", e)
    try:
        fwAD.enter_dual_level()
    except RuntimeError as e:
        print("RuntimeError:", e)

# --- torch.func.jvp on the model ----------------------------------------------------------
model = nn.Linear(5, 5)
params = dict(model.named_parameters())
func_tangents = {name: torch.rand_like(p) for name, p in params.items()}


def func(params):
    return functional_call(model, params, (input,))


out, jvp_out = torch.func.jvp(func, (params,), (func_tangents,))
with fwAD.dual_level():
    duals = {name: fwAD.make_dual(p, func_tangents[name]) for name, p in params.items()}
    fwd = fwAD.unpack_dual(func(duals)).tangent
print("func.jvp:", jvp_out.detach())
print("func.jvp agrees with forward AD:", torch.allclose(jvp_out, fwd))

# --- forward AD and backward together: a Jacobian-vector-product penalty -----------------
x = torch.randn(4, 5)
v = torch.randn(4, 5)
opt = torch.optim.SGD(model.parameters(), lr=0.1)
for step in range(3):
    with fwAD.dual_level():
        y = model(fwAD.make_dual(x, v))
        out, jv = fwAD.unpack_dual(torch.tanh(y))
        loss = out.pow(2).mean() + 0.1 * jv.pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    print(f"step {step}: loss {loss.item():.6f} weight grad norm {model.weight.grad.norm():.6f}")
