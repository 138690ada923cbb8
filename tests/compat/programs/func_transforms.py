# torch.func the way its tutorials use it: per-sample gradients of a small classifier with
# vmap(grad(...)) and functional_call, a model ensemble with stack_module_state, Jacobians
# and Hessians; then a physics-informed network whose loss needs the Laplacian of its
# output (hessian inside vmap) trained a few steps; torch.special and torch.testing on the way.
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import (
    functional_call,
    grad,
    hessian,
    jacfwd,
    jacrev,
    jvp,
    stack_module_state,
    vjp,
    vmap,
)
from torch.testing import assert_close


def show(name, t):
    values = [round(v, 5) + 0.0 for v in t.detach().reshape(-1).tolist()]
    print(f"{name}: shape={list(t.shape)} {values}")


torch.manual_seed(0)

# --- per-sample gradients ------------------------------------------------------------------
model = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 3))
x = torch.randn(6, 5)
y = torch.tensor([0, 2, 1, 1, 0, 2])
params = {k: v.detach() for k, v in model.named_parameters()}
buffers = {k: v.detach() for k, v in model.named_buffers()}


def loss_one(params, buffers, xi, yi):
    out = functional_call(model, (params, buffers), (xi.unsqueeze(0),))
    return F.cross_entropy(out, yi.unsqueeze(0))


per_sample = vmap(grad(loss_one), in_dims=(None, None, 0, 0))(params, buffers, x, y)
for k, g in per_sample.items():
    show(f"per-sample grad {k} norms", g.flatten(1).norm(dim=1))

# the mean of the per-sample gradients is the ordinary batch gradient
F.cross_entropy(model(x), y).backward()
for k, p in model.named_parameters():
    assert_close(per_sample[k].mean(0), p.grad, rtol=1e-5, atol=1e-6)
print("mean of per-sample gradients == batch gradient")

# --- an ensemble, vmapped over stacked parameters -------------------------------------------
models = [nn.Linear(5, 2) for _ in range(4)]
stacked, stacked_buffers = stack_module_state(models)


def call(p, b, inp):
    return functional_call(models[0], (p, b), (inp,))


ensemble = vmap(call, in_dims=(0, 0, None))(stacked, stacked_buffers, x)
show("ensemble outputs", ensemble[:, :2])
assert_close(ensemble[2], models[2](x))

# --- Jacobians, Hessians, vjp, jvp -----------------------------------------------------------
v = torch.randn(4, dtype=torch.float64)


def f(v):
    return torch.special.expit(v) * v.sin() + torch.special.log_ndtr(v)


show("jacrev", jacrev(f)(v))
assert_close(jacfwd(f)(v), jacrev(f)(v))
show("hessian of sum", hessian(lambda v: f(v).sum())(v))
out, vjp_fn = vjp(f, v)
(ct,) = vjp_fn(torch.ones_like(out))
_, tangent = jvp(f, (v,), (torch.ones_like(v),))
show("vjp", ct)
show("jvp", tangent)
show("grad of grad", grad(lambda v: grad(lambda w: (w**3 * torch.special.i0(w)).sum())(v).sum())(v))

# --- a physics-informed network: u'' = -pi^2 sin(pi x) on [0, 1], u(0) = u(1) = 0 ------------
torch.manual_seed(1)
net = nn.Sequential(nn.Linear(1, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 1))
opt = torch.optim.Adam(net.parameters(), lr=1e-2)
xs = torch.linspace(0.05, 0.95, 12).unsqueeze(1)
edge = torch.tensor([[0.0], [1.0]])


def u(params, point):
    return functional_call(net, params, (point,)).squeeze()


for step in range(30):
    params = dict(net.named_parameters())
    laplacian = vmap(hessian(u, argnums=1), in_dims=(None, 0))(params, xs).reshape(-1)
    residual = laplacian + torch.pi**2 * torch.sin(torch.pi * xs.squeeze(1))
    loss = residual.pow(2).mean() + net(edge).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step % 10 == 0 or step == 29:
        print(f"step {step}: pinn loss {loss.item():.4f}")

# --- torch.special on a batch -------------------------------------------------------------------
z = torch.linspace(0.1, 2.0, 5, dtype=torch.float64)
for name in ["erf", "erfcx", "ndtr", "ndtri", "gammaln", "digamma", "i1e", "entr", "sinc"]:
    arg = z / 2.5 if name == "ndtri" else z
    show(f"special.{name}", getattr(torch.special, name)(arg))
show("special.xlog1py", torch.special.xlog1py(z, z))
show("special.multigammaln", torch.special.multigammaln(z + 2, 2))
show("special.zeta", torch.special.zeta(z + 1.5, torch.tensor(1.0, dtype=torch.float64)))
try:
    assert_close(torch.tensor([1.0, 2.0, 3.0]), torch.tensor([1.0, 2.5, 3.0]))
except AssertionError as e:
    print(str(e).splitlines()[0], "|", str(e).splitlines()[2])
