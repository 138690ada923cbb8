# Higher-order derivatives the ways people write them: Hessians and Hessian-vector products
# with autograd.grad(create_graph=True) and torch.autograd.functional, Newton's method,
# a Laplacian, the gradient of a gradient norm, and a MAML inner loop.
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.autograd.functional import hessian, hvp, jacobian, jvp, vhp, vjp
from torch.func import functional_call

torch.manual_seed(0)
torch.set_printoptions(precision=6)


def rosenbrock(x):
    return torch.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


x = torch.tensor([-1.2, 1.0, 0.5], dtype=torch.float64, requires_grad=True)
y = rosenbrock(x)
(g,) = torch.autograd.grad(y, x, create_graph=True)
print("f:", y)
print("grad:", g)
H = torch.stack([torch.autograd.grad(g[i], x, retain_graph=True)[0] for i in range(x.numel())])
print("hessian by rows:\n", H)
print("functional hessian:\n", hessian(rosenbrock, x.detach()))
print(torch.allclose(H, hessian(rosenbrock, x.detach())))
v = torch.tensor([1.0, -1.0, 2.0], dtype=torch.float64)
out, hv = hvp(rosenbrock, x.detach(), v)
print("hvp:", out, hv)
out, vh = vhp(rosenbrock, x.detach(), v)
print("vhp:", vh, torch.allclose(hv, vh))
(gv,) = torch.autograd.grad(g, x, grad_outputs=v, retain_graph=True)
print("double-backward hvp:", gv)
(gdotv,) = torch.autograd.grad(g @ v, x)
print("grad of g.v:", gdotv)


def f(a, b):
    return torch.stack([a[0] * b[1], a.sin().sum() * b.exp().sum(), (a * b).prod()])


a = torch.tensor([0.3, -0.7], dtype=torch.float64)
b = torch.tensor([1.1, 0.4], dtype=torch.float64)
Ja, Jb = jacobian(f, (a, b))
print("jacobian:", Ja.shape, Jb.shape)
print(Ja)
print(Jb)
print(jacobian(f, (a, b), vectorize=True)[0].sub(Ja).abs().max())
o, jv = jvp(f, (a, b), (torch.ones(2, dtype=torch.float64), torch.zeros(2, dtype=torch.float64)))
print("jvp:", jv, torch.allclose(jv, Ja.sum(1)))
o, (va, vb) = vjp(f, (a, b), torch.tensor([1.0, 0.0, -1.0], dtype=torch.float64))
print("vjp:", va, vb)
print(
    "create_graph hessian:",
    hessian(lambda z: (z**3).sum(), torch.tensor([1.0, 2.0]), create_graph=True),
)


# Newton's method on a smooth convex function
def loss_fn(w):
    return (
        torch.log(torch.exp(w[0] - 1) + torch.exp(1 - w[0]))
        + 0.5 * (w[1] - 2) ** 2
        + 0.1 * (w**4).sum()
    )


w = torch.zeros(2, dtype=torch.float64)
for it in range(6):
    w.requires_grad_(True)
    l = loss_fn(w)
    (g,) = torch.autograd.grad(l, w, create_graph=True)
    Hm = torch.stack([torch.autograd.grad(gi, w, retain_graph=True)[0] for gi in g])
    step = torch.linalg.solve(Hm, g)
    with torch.no_grad():
        w = w - step
    print(
        f"newton {it}: loss {l.item():.10f} |g| {g.norm().item():.3e} w {[round(v, 12) for v in w.tolist()]}"
    )

# Laplacian of a small network u(x, y) by summing second derivatives
net = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 1)).double()
pts = torch.rand(5, 2, dtype=torch.float64, requires_grad=True)
u = net(pts)
du = torch.autograd.grad(u, pts, torch.ones_like(u), create_graph=True)[0]
lap = 0
for i in range(2):
    lap = (
        lap
        + torch.autograd.grad(du[:, i], pts, torch.ones_like(du[:, i]), create_graph=True)[0][:, i]
    )
print("u:", u.squeeze(-1))
print("laplacian:", lap)
lap.pow(2).mean().backward()
print("dL/dW1 norm:", net[0].weight.grad.norm().item().__round__(8))

# gradient penalty on the input-gradient norm (double backprop)
torch.manual_seed(1)
clf = nn.Sequential(nn.Linear(4, 8), nn.Softplus(), nn.Linear(8, 3))
xb = torch.randn(6, 4, requires_grad=True)
yb = torch.randint(0, 3, (6,))
ce = F.cross_entropy(clf(xb), yb)
(gx,) = torch.autograd.grad(ce, xb, create_graph=True)
total = ce + 0.5 * gx.pow(2).sum(dim=1).mean()
total.backward()
print(f"ce {ce.item():.5f} total {total.item():.5f}")
print(clf[0].weight.grad[:2])
print(xb.grad.shape, xb.grad.norm().item() > 0)

# MAML on sine regression, inner loop with create_graph and torch.func.functional_call
torch.manual_seed(2)
model = nn.Sequential(nn.Linear(1, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 1))
meta_opt = torch.optim.Adam(model.parameters(), lr=1e-3)
inner_lr = 0.01


def sample_task(n=10):
    amp = torch.empty(1).uniform_(0.1, 5.0)
    phase = torch.empty(1).uniform_(0, 3.1416)
    xs = torch.empty(2 * n, 1).uniform_(-5, 5)
    return xs[:n], amp * torch.sin(xs[:n] + phase), xs[n:], amp * torch.sin(xs[n:] + phase)


for it in range(30):
    meta_opt.zero_grad()
    meta_loss = 0.0
    for _ in range(4):
        xs, ys, xq, yq = sample_task()
        params = dict(model.named_parameters())
        for _ in range(1):
            loss = F.mse_loss(functional_call(model, params, (xs,)), ys)
            grads = torch.autograd.grad(loss, params.values(), create_graph=True)
            params = {n: p - inner_lr * g for (n, p), g in zip(params.items(), grads)}
        meta_loss = meta_loss + F.mse_loss(functional_call(model, params, (xq,)), yq)
    meta_loss = meta_loss / 4
    meta_loss.backward()
    meta_opt.step()
    if it % 10 == 0:
        print(
            f"meta iter {it}: {meta_loss.item():.4f}", model[0].weight.grad.abs().sum().item() > 0
        )
print(list(params.keys()), params["0.weight"].grad_fn.name())
