# A physics-informed network on gradfit: a small MLP u(x) trained so that u'' = f on
# [0, 1] with u(0) = u(1) = 0, for f = -pi^2 sin(pi x) (the solution is sin(pi x)). The
# residual needs d^2u/dx^2 through the network: a gradient of a gradient
# (create_graph=True). examples/pinn_torch.py is the same program on PyTorch (only the
# imports differ); tests/test_examples_second_order.py runs both and compares their output.
#   python examples/pinn.py --steps 2000
# ruff: noqa: E401, I001
import gradfit as torch, gradfit.nn as nn
import argparse, math

parser = argparse.ArgumentParser(description="physics-informed fit of u'' = f")
parser.add_argument("--steps", type=int, default=2000)
parser.add_argument("--print-every", type=int, default=200)
args = parser.parse_args()

torch.set_default_dtype(torch.float64)
torch.manual_seed(0)
model = nn.Sequential(nn.Linear(1, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 1))
x = torch.linspace(0, 1, 33).reshape(-1, 1).requires_grad_(True)
f = -(math.pi**2) * torch.sin(math.pi * x.detach())
boundary = torch.tensor([[0.0], [1.0]])
opt = torch.optim.Adam(model.parameters(), lr=1e-2)

for step in range(args.steps + 1):
    opt.zero_grad()
    u = model(x)
    (du,) = torch.autograd.grad(u.sum(), x, create_graph=True)
    (d2u,) = torch.autograd.grad(du.sum(), x, create_graph=True)
    loss = ((d2u - f) ** 2).mean() + 100 * (model(boundary) ** 2).mean()
    if step % args.print_every == 0:
        print(f"step {step:5d}  loss {loss.item():.6f}")
    loss.backward()
    opt.step()

with torch.no_grad():
    err = (model(x) - torch.sin(math.pi * x)).abs().max()
print(f"max |u - sin(pi x)| on the grid: {err.item():.6f}")
