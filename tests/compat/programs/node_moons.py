"""A neural ODE classifier on scikit-learn's two moons: a hand-written RK4 solver through
which autograd backpropagates, adjoint-free; then a decision grid and a trajectory."""

import numpy as np
import torch
import torch.nn as nn
from sklearn.datasets import make_moons

torch.manual_seed(0)
X, y = make_moons(n_samples=200, noise=0.15, random_state=0)
X = torch.tensor(X, dtype=torch.float32)
y = torch.tensor(y, dtype=torch.long)
mean, std = X.mean(0), X.std(0)
X = (X - mean) / std
print("data", X.shape, y.bincount().tolist(), mean, std)


class ODEFunc(nn.Module):
    def __init__(self, dim=2, hidden=16):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim + 1, hidden), nn.Tanh(), nn.Linear(hidden, dim))
        self.nfe = 0

    def forward(self, t, h):
        self.nfe += 1
        tt = torch.full_like(h[:, :1], t)
        return self.net(torch.cat([h, tt], dim=1))


def rk4(f, h0, t0=0.0, t1=1.0, steps=4, return_path=False):
    dt = (t1 - t0) / steps
    h, t, path = h0, t0, [h0]
    for _ in range(steps):
        k1 = f(t, h)
        k2 = f(t + dt / 2, h + dt / 2 * k1)
        k3 = f(t + dt / 2, h + dt / 2 * k2)
        k4 = f(t + dt, h + dt * k3)
        h = h + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        t += dt
        path.append(h)
    return torch.stack(path) if return_path else h


class ODEClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.func = ODEFunc()
        self.head = nn.Linear(2, 2)

    def forward(self, x):
        return self.head(rk4(self.func, x))


model = ODEClassifier()
print(sum(p.numel() for p in model.parameters()), "parameters")
opt = torch.optim.Adam(model.parameters(), lr=0.02)
sched = torch.optim.lr_scheduler.StepLR(opt, step_size=20, gamma=0.5)
loss_fn = nn.CrossEntropyLoss()
for step in range(60):
    opt.zero_grad()
    logits = model(X)
    loss = loss_fn(logits, y)
    loss.backward()
    gnorm = nn.utils.clip_grad_norm_(model.parameters(), 5.0)
    opt.step()
    sched.step()
    if step % 15 == 0 or step == 59:
        acc = (logits.argmax(1) == y).float().mean()
        print(
            f"step {step:3d} loss {loss.item():.4f} acc {acc:.3f} grad {gnorm:.3f} lr {sched.get_last_lr()[0]:.4f} nfe {model.func.nfe}"
        )

model.eval()
with torch.no_grad():
    xs = torch.linspace(-2.5, 2.5, 7)
    gx, gy = torch.meshgrid(xs, xs, indexing="xy")
    grid = torch.stack([gx.reshape(-1), gy.reshape(-1)], 1)
    probs = model(grid).softmax(1)[:, 1].reshape(7, 7)
    print((probs > 0.5).int())
    path = rk4(model.func, X[:3], return_path=True)
    print("trajectory", path.shape)
    print(path[::2].round(decimals=2))
    test_X, test_y = make_moons(n_samples=100, noise=0.15, random_state=1)
    test_X = (torch.from_numpy(test_X).float() - mean) / std
    pred = model(test_X).argmax(1)
    print("test accuracy", (pred == torch.from_numpy(test_y)).float().mean().item())
    print(np.round(model.head.weight.detach().numpy(), 3))
