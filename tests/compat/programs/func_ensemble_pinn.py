# torch.func the way its tutorials use it (model ensembling with stack_module_state +
# functional_call + vmap, per-sample gradients, jacrev/jacfwd/hessian of a network), and a
# physics-informed network for Burgers' equation whose residual needs u_t, u_x, u_xx.
import copy
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call, grad, hessian, jacfwd, jacrev, stack_module_state, vmap

torch.manual_seed(0)


class SimpleMLP(nn.Module):
    def __init__(self):
        super(SimpleMLP, self).__init__()
        self.fc1 = nn.Linear(8, 16)
        self.fc2 = nn.Linear(16, 16)
        self.fc3 = nn.Linear(16, 4)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


num_models = 5
data = torch.randn(10, 20, 8)
targets = torch.randint(4, (20,))
models = [SimpleMLP() for _ in range(num_models)]
minibatch = data[0]
predictions_diff_minibatch_loop = [model(minibatch) for model in models]
params, buffers = stack_module_state(models)
print(list(params.keys()), params["fc1.weight"].shape)
base_model = copy.deepcopy(models[0])
# (the tutorial then moves base_model to the "meta" device; its parameters are never read)


def fmodel(params, buffers, x):
    return functional_call(base_model, (params, buffers), (x,))


predictions1_vmap = vmap(fmodel, in_dims=(0, 0, None))(params, buffers, minibatch)
print(predictions1_vmap.shape)
print(
    torch.allclose(
        predictions1_vmap, torch.stack(predictions_diff_minibatch_loop), atol=1e-3, rtol=1e-5
    )
)
predictions2_vmap = vmap(fmodel)(params, buffers, data[:num_models])
print(
    torch.allclose(
        predictions2_vmap, torch.stack([m(d) for m, d in zip(models, data[:num_models])]), atol=1e-6
    )
)

# per-sample gradients
model = models[0]
params = {k: v.detach() for k, v in model.named_parameters()}
buffers = {k: v.detach() for k, v in model.named_buffers()}


def compute_loss(params, buffers, sample, target):
    batch = sample.unsqueeze(0)
    targets = target.unsqueeze(0)
    predictions = functional_call(model, (params, buffers), (batch,))
    loss = F.cross_entropy(predictions, targets)
    return loss


ft_compute_grad = grad(compute_loss)
ft_compute_sample_grad = vmap(ft_compute_grad, in_dims=(None, None, 0, 0))
ft_per_sample_grads = ft_compute_sample_grad(params, buffers, minibatch, targets)
for name, g in ft_per_sample_grads.items():
    print(name, tuple(g.shape))
manual = [
    torch.autograd.grad(
        compute_loss(
            params | {k: v.requires_grad_() for k, v in params.items()},
            buffers,
            minibatch[i],
            targets[i],
        ),
        list(params.values()),
    )
    for i in range(3)
]
for p_ in params.values():
    p_.requires_grad_(False)
print(
    all(
        torch.allclose(ft_per_sample_grads[k][i], manual[i][j], atol=3e-6)
        for i in range(3)
        for j, k in enumerate(params)
    )
)


# jacobians and hessians of a function of the input
def predict(weight, bias, x):
    return F.linear(x, weight, bias).tanh()


D = 4
weight = torch.randn(D, D, dtype=torch.float64)
bias = torch.randn(D, dtype=torch.float64)
x = torch.randn(D, dtype=torch.float64)
jr = jacrev(predict, argnums=2)(weight, bias, x)
jf = jacfwd(predict, argnums=2)(weight, bias, x)
print(jr)
print(torch.allclose(jr, jf))
jw, jb = jacrev(predict, argnums=(0, 1))(weight, bias, x)
print(jw.shape, jb.shape)
h = hessian(lambda z: predict(weight, bias, z).sum())(x)
print(h.shape, torch.allclose(h, h.T))
batched = vmap(jacrev(predict, argnums=2), in_dims=(None, None, 0))(
    weight, bias, torch.randn(3, D, dtype=torch.float64)
)
print(batched.shape)

# ---- PINN for Burgers: u_t + u u_x - (0.01/pi) u_xx = 0, u(0,x) = -sin(pi x), u(t,±1) = 0 --
torch.manual_seed(1)
nu = 0.01 / math.pi
net = nn.Sequential(
    nn.Linear(2, 20), nn.Tanh(), nn.Linear(20, 20), nn.Tanh(), nn.Linear(20, 1)
).double()
for m in net.modules():
    if isinstance(m, nn.Linear):
        nn.init.xavier_normal_(m.weight)
        nn.init.zeros_(m.bias)

t_f = torch.rand(200, 1, dtype=torch.float64)
x_f = torch.rand(200, 1, dtype=torch.float64) * 2 - 1
x_0 = torch.linspace(-1, 1, 50, dtype=torch.float64).unsqueeze(1)
t_0 = torch.zeros_like(x_0)
u_0 = -torch.sin(math.pi * x_0)
t_b = torch.rand(50, 1, dtype=torch.float64)
x_b = torch.where(torch.rand(50, 1) < 0.5, -1.0, 1.0).double()


def residual(t, x):
    t.requires_grad_(True)
    x.requires_grad_(True)
    u = net(torch.cat([t, x], dim=1))
    u_t = torch.autograd.grad(
        u, t, grad_outputs=torch.ones_like(u), retain_graph=True, create_graph=True
    )[0]
    u_x = torch.autograd.grad(
        u, x, grad_outputs=torch.ones_like(u), retain_graph=True, create_graph=True
    )[0]
    u_xx = torch.autograd.grad(
        u_x, x, grad_outputs=torch.ones_like(u_x), retain_graph=True, create_graph=True
    )[0]
    return u_t + u * u_x - nu * u_xx


optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)
mse = nn.MSELoss()
for epoch in range(80):
    optimizer.zero_grad()
    f = residual(t_f, x_f)
    loss_f = mse(f, torch.zeros_like(f))
    loss_0 = mse(net(torch.cat([t_0, x_0], 1)), u_0)
    loss_b = mse(net(torch.cat([t_b, x_b], 1)), torch.zeros_like(t_b))
    loss = loss_f + loss_0 + loss_b
    loss.backward()
    optimizer.step()
    if epoch % 20 == 0:
        print(
            f"epoch {epoch:3d} loss {loss.item():.6f} (pde {loss_f.item():.6f}, ic {loss_0.item():.6f}, bc {loss_b.item():.6f})"
        )

lbfgs = torch.optim.LBFGS(
    net.parameters(), lr=1.0, max_iter=30, history_size=20, line_search_fn="strong_wolfe"
)


def closure():
    lbfgs.zero_grad()
    f = residual(t_f, x_f)
    loss = (
        mse(f, torch.zeros_like(f))
        + mse(net(torch.cat([t_0, x_0], 1)), u_0)
        + mse(net(torch.cat([t_b, x_b], 1)), torch.zeros_like(t_b))
    )
    loss.backward()
    return loss


for k in range(2):
    l = lbfgs.step(closure)
    print(f"lbfgs {k}: {l.item():.6f}", lbfgs.state[next(iter(net.parameters()))]["n_iter"])
with torch.no_grad():
    xs = torch.linspace(-1, 1, 5, dtype=torch.float64).unsqueeze(1)
    print(net(torch.cat([torch.full_like(xs, 0.5), xs], 1)).squeeze(1).numpy().round(4))
