"""Write the lecture's "Colab time" notebooks (without outputs) with nbformat.

Run ``python examples/notebooks/make_notebooks.py`` after editing a notebook's cells here;
the ``.ipynb`` files are generated, and the test suite executes each one
(``tests/lecture/test_lecture_notebooks.py``). Every notebook is short, uses small sizes,
needs no network, and computes with gradfit.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).parent

GABOR_SETUP = '''\
import numpy as np
import matplotlib.pyplot as plt
import gradfit

def gabor(x, phi0, phi1):
    """f[x, phi] = sin(phi0 + 0.06 phi1 x) exp(-(phi0 + 0.06 phi1 x)^2 / 32)"""
    z = phi0 + 0.06 * phi1 * x
    return gradfit.sin(z) * gradfit.exp(-(z * z) / 32.0)

# 28 training pairs: x uniform on [-15, 15], phi = [0, 16.6], noise sd 0.15 (seeded)
g = gradfit.Generator().manual_seed(1)
x = gradfit.rand(28, generator=g, dtype=gradfit.float64) * 30 - 15
y = gabor(x, 0.0, 16.6) + 0.15 * gradfit.randn(28, generator=g, dtype=gradfit.float64)

def full_loss(phi):
    return ((gabor(x, phi[0], phi[1]) - y) ** 2).sum()

p0, p1 = np.meshgrid(np.linspace(-10, 10, 121), np.linspace(2.5, 22.5, 121))
grid = gradfit.tensor(np.stack([p0, p1], -1))
landscape = ((gabor(x, grid[..., 0:1], grid[..., 1:2]) - y) ** 2).sum(-1).numpy()

def draw_landscape(ax, title):
    ax.contourf(p0, p1, np.log(landscape), levels=30, cmap="gray")
    ax.set_xlabel("offset φ0"); ax.set_ylabel("frequency φ1"); ax.set_title(title)
'''

NOTEBOOKS: dict[str, list[tuple[str, str]]] = {}

NOTEBOOKS["01_line_search"] = [
    (
        "md",
        """# Colab time: line search

Gradient descent needs a step size. *Line search* chooses it by minimising the loss along
the search direction. The lecture's bracketing search keeps four points a < b < c < d and,
at every iteration, throws away the outer third that cannot contain the minimum (or, if
f(a) is the smallest, shrinks the interval towards a).

gradfit has it as `gradfit.optim.lecture.line_search`.""",
    ),
    (
        "code",
        """import numpy as np
import matplotlib.pyplot as plt
import gradfit
from gradfit.optim.lecture import line_search

def loss(t):
    # a 1-D function, computed with gradfit tensors
    t = gradfit.tensor(t, dtype=gradfit.float64)
    return 1.0 - 0.8 * gradfit.exp(-((t - 0.62) ** 2) / 0.05) + 0.3 * t

ts = np.linspace(0, 1, 201)
plt.plot(ts, loss(ts).numpy()); plt.xlabel("t"); plt.ylabel("loss"); plt.show()""",
    ),
    ("md", "Run the search and look at the brackets it keeps, iteration by iteration."),
    (
        "code",
        """t_min, history = line_search(lambda t: loss(t).item(), 0.0, 1.0, tol=1e-4,
                              return_history=True)
print(f"minimum at t = {t_min:.5f} after {len(history) - 1} iterations")
for k, (a, b, c, d) in enumerate(history[:6]):
    print(f"iteration {k}: a={a:.4f} b={b:.4f} c={c:.4f} d={d:.4f}")

fine = np.linspace(0, 1, 100001)
true_t = fine[np.argmin(loss(fine).numpy())]
assert abs(t_min - true_t) < 1e-3""",
    ),
    (
        "md",
        """**Try it:** the search assumes one minimum in [a, d]. Give it a function with two
dips and see which one it finds.""",
    ),
    (
        "code",
        """def two_dips(t):
    t = gradfit.tensor(t, dtype=gradfit.float64)
    return (1 - 0.5 * gradfit.exp(-(t - 0.65) ** 2 / 0.1)
            - 0.45 * gradfit.exp(-(t - 0.35) ** 2 / 0.02))

t2 = line_search(lambda t: two_dips(t).item(), 0.0, 1.0)
plt.plot(ts, two_dips(ts).numpy()); plt.axvline(t2, color="r", ls="--")
plt.title(f"line search result t = {t2:.3f}"); plt.show()""",
    ),
]

NOTEBOOKS["02_gradient_descent"] = [
    (
        "md",
        """# Colab time: gradient descent

Linear regression f[x, φ] = φ0 + φ1·x with the least-squares loss
L[φ] = Σ_i (φ0 + φ1 x_i − y_i)². The lecture derives
∂ℓ_i/∂φ = [2(φ0 + φ1 x_i − y_i), 2 x_i (φ0 + φ1 x_i − y_i)]; gradfit's autodiff must give
the same. Then gradient descent with line search (figure 6.1).""",
    ),
    (
        "code",
        """import numpy as np
import matplotlib.pyplot as plt
import gradfit
from gradfit.optim.lecture import LineSearchGD

g = gradfit.Generator().manual_seed(1)
x = gradfit.rand(12, generator=g, dtype=gradfit.float64) * 2
y = 0.55 + 0.6 * x + 0.1 * gradfit.randn(12, generator=g, dtype=gradfit.float64)

def loss(phi):
    return ((phi[0] + phi[1] * x - y) ** 2).sum()

phi = gradfit.tensor([1.8, -0.9], dtype=gradfit.float64, requires_grad=True)
loss(phi).backward()
r = (1.8 - 0.9 * x - y).numpy()
by_hand = np.array([(2 * r).sum(), (2 * x.numpy() * r).sum()])
print("autodiff:", phi.grad.numpy(), " by hand:", by_hand)
assert np.allclose(phi.grad.numpy(), by_hand)""",
    ),
    (
        "md",
        """Now descend: each step moves along −∂L/∂φ as far as the loss keeps decreasing
(`LineSearchGD` searches the step length with the line search of the previous notebook).""",
    ),
    (
        "code",
        """opt = LineSearchGD([phi], max_dist=1.0, tol=1e-6)

def closure():
    opt.zero_grad()
    value = loss(phi)
    value.backward()
    return value

path = [phi.detach().numpy().copy()]
for it in range(4):
    opt.step(closure)
    path.append(phi.detach().numpy().copy())
    print(f"iteration {it + 1}: phi = {path[-1]}, loss = {loss(phi).item():.4f}")
path = np.array(path)

p0, p1 = np.meshgrid(np.linspace(0, 2, 101), np.linspace(-1, 1, 101))
grid = ((p0[..., None] + p1[..., None] * x.numpy() - y.numpy()) ** 2).sum(-1)
fig, ax = plt.subplots(1, 2, figsize=(10, 4))
ax[0].contourf(p0, p1, np.log(grid), levels=30, cmap="gray")
ax[0].plot(path[:, 0], path[:, 1], "o-", color="tab:blue")
ax[0].set_xlabel("intercept φ0"); ax[0].set_ylabel("slope φ1")
xs = np.linspace(0, 2, 10)
for k, (a, b) in enumerate(path):
    ax[1].plot(xs, a + b * xs, color=str(0.8 - 0.2 * k))
ax[1].plot(x.numpy(), y.numpy(), "o", color="tab:orange")
ax[1].set_xlabel("x"); ax[1].set_ylabel("y"); plt.show()""",
    ),
    (
        "md",
        """**Try it:** replace `LineSearchGD` by `gradfit.optim.SGD([phi], lr=...)` (plain
gradient descent with a fixed step) and find the largest learning rate that still
converges.""",
    ),
    (
        "code",
        """phi2 = gradfit.tensor([1.8, -0.9], dtype=gradfit.float64, requires_grad=True)
sgd = gradfit.optim.SGD([phi2], lr=0.05)
for _ in range(200):
    sgd.zero_grad(); loss(phi2).backward(); sgd.step()
print("fixed-step GD after 200 steps:", phi2.detach().numpy(), loss(phi2).item())
assert loss(phi2).item() < loss(phi).item() + 1e-3""",
    ),
]

NOTEBOOKS["03_sgd"] = [
    (
        "md",
        """# Stochastic gradient descent on the Gabor model

The Gabor model's loss has many local minima (figure 6.4). SGD computes the gradient from
a random batch of the data at every step; the noise lets it move uphill on the full loss
now and then (figure 6.6).""",
    ),
    ("code", GABOR_SETUP),
    (
        "code",
        """from gradfit.utils.data import DataLoader, TensorDataset

def train(start, lr, batch_size, epochs, seed=0):
    phi = gradfit.tensor(start, dtype=gradfit.float64, requires_grad=True)
    opt = gradfit.optim.SGD([phi], lr=lr)
    loader = DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=True,
                        drop_last=True, generator=gradfit.Generator().manual_seed(seed))
    path = [phi.detach().numpy().copy()]
    for _ in range(epochs):
        for xb, yb in loader:
            opt.zero_grad()
            ((gabor(xb, phi[0], phi[1]) - yb) ** 2).sum().backward()  # L_B = sum over batch
            opt.step()
            path.append(phi.detach().numpy().copy())
    return np.array(path)

# The loss is a sum over the examples, so a batch of 3 has a gradient ~9x smaller than the
# full batch's: SGD can use a larger learning rate.
full = train([1.0, 12.5], lr=0.05, batch_size=28, epochs=100)  # gradient descent
sgd = train([1.0, 12.5], lr=0.5, batch_size=3, epochs=12)      # batches of 3
fig, ax = plt.subplots(1, 2, figsize=(11, 4.5))
for a, path, title in [(ax[0], full, "gradient descent"), (ax[1], sgd, "SGD, batch size 3")]:
    draw_landscape(a, title)
    a.plot(path[:, 0], path[:, 1], ".-", color="tab:red", ms=3)
    a.set_xlim(-4, 4); a.set_ylim(8, 20)
plt.show()
print(f"{len(full) - 1} GD steps: loss {full_loss(full[-1]).item():.3f};  "
      f"{len(sgd) - 1} SGD steps: loss {full_loss(sgd[-1]).item():.3f}")""",
    ),
    (
        "md",
        """SGD's path is noisy: each step fits its own three examples. It still gets to the
valley of the global minimum, and each step costs 3 gradient terms instead of 28.""",
    ),
    (
        "md",
        """How often does a batch step go uphill on the full loss? Count it over many random
batches at one point.""",
    ),
    (
        "code",
        """phi_c = gradfit.tensor([-2.0, 12.0], dtype=gradfit.float64)
L0 = full_loss(phi_c).item()
uphill = 0
gen = gradfit.Generator().manual_seed(3)
for _ in range(200):
    idx = gradfit.randperm(28, generator=gen)[:3]
    p = phi_c.clone().requires_grad_(True)
    ((gabor(x[idx], p[0], p[1]) - y[idx]) ** 2).sum().backward()
    uphill += full_loss(p.detach() - 0.6 * p.grad).item() > L0
print(f"{uphill} of 200 batch steps go uphill on the full loss")""",
    ),
]

NOTEBOOKS["04_momentum"] = [
    (
        "md",
        """# Colab time: momentum

The lecture's momentum (eq. 6.11): m ← β·m + (1 − β)·g, φ ← φ − α·m; Nesterov (eq. 6.12)
takes the gradient at the look-ahead point φ − α·β·m. Both are in
`gradfit.optim.lecture`. PyTorch's `SGD(momentum=β)` uses another convention (its
buffer is not damped by 1 − β); we check how the two relate.""",
    ),
    ("code", GABOR_SETUP),
    (
        "code",
        """from gradfit.optim.lecture import Momentum, Nesterov
from gradfit.utils.data import DataLoader, TensorDataset

def train(make_opt, epochs=20, closure=False):
    phi = gradfit.tensor([1.0, 12.5], dtype=gradfit.float64, requires_grad=True)
    opt = make_opt([phi])
    loader = DataLoader(TensorDataset(x, y), batch_size=3, shuffle=True, drop_last=True,
                        generator=gradfit.Generator().manual_seed(2))
    path = [phi.detach().numpy().copy()]
    for _ in range(epochs):
        for xb, yb in loader:
            def batch_loss(xb=xb, yb=yb):
                opt.zero_grad()
                loss = ((gabor(xb, phi[0], phi[1]) - yb) ** 2).sum()
                loss.backward()
                return loss
            if closure:
                opt.step(batch_loss)
            else:
                batch_loss(); opt.step()
            path.append(phi.detach().numpy().copy())
    return np.array(path)

runs = {
    "SGD": train(lambda p: gradfit.optim.SGD(p, lr=1.0)),
    "momentum": train(lambda p: Momentum(p, lr=1.0, beta=0.9)),
    "Nesterov": train(lambda p: Nesterov(p, lr=1.0, beta=0.9), closure=True),
}
fig, ax = plt.subplots(1, 3, figsize=(15, 4.5))
for a, (name, path) in zip(ax, runs.items()):
    draw_landscape(a, name)
    a.plot(path[:, 0], path[:, 1], ".-", ms=2, color="tab:red")
    a.set_xlim(-4, 3); a.set_ylim(10, 18)
plt.show()
for name, path in runs.items():
    last = np.mean([full_loss(p).item() for p in path[-9:]])
    print(f"{name:9s} mean loss over the last epoch: {last:.4f}")""",
    ),
    (
        "md",
        """The lecture's form and PyTorch's: PyTorch's buffer b ← μ·b + g starts at the first
gradient and is not damped, so b = m / (1 − β) at every step (the lecture's m starts at 0:
m₁ = (1 − β)·g₁). Hence the lecture's momentum with learning rate α takes exactly the steps
of PyTorch's `SGD(lr=α(1 − β), momentum=β)`.""",
    ),
    (
        "code",
        """def steps(opt_factory, n=5):
    phi = gradfit.tensor([1.0, 12.5], dtype=gradfit.float64, requires_grad=True)
    opt = opt_factory([phi])
    out = []
    for _ in range(n):
        opt.zero_grad(); full_loss(phi).backward(); opt.step()
        out.append(phi.detach().numpy().copy())
    return np.array(out)

lecture = steps(lambda p: Momentum(p, lr=0.1, beta=0.9))
torch_style = steps(lambda p: gradfit.optim.SGD(p, lr=0.1 * (1 - 0.9), momentum=0.9))
print(lecture[:3]); print(torch_style[:3])
assert np.allclose(lecture, torch_style, rtol=1e-12, atol=1e-12)""",
    ),
]

NOTEBOOKS["05_adam"] = [
    (
        "md",
        """# Colab time: Adam

On a loss that is much steeper in one direction, a single learning rate is either too
slow (horizontally) or unstable (vertically). Normalising the gradient moves a fixed
distance per axis but oscillates; Adam adds momentum to both statistics (figure 6.9).""",
    ),
    (
        "code",
        """import numpy as np
import matplotlib.pyplot as plt
import gradfit
from gradfit.optim.lecture import Adam, NormalizedGD

def loss(phi):
    return 0.05 * phi[0] ** 2 + 5.0 * phi[1] ** 2

def run(make_opt, steps=60):
    phi = gradfit.tensor([-3.5, 1.0], dtype=gradfit.float64, requires_grad=True)
    opt = make_opt([phi])
    path = [phi.detach().numpy().copy()]
    for _ in range(steps):
        opt.zero_grad(); loss(phi).backward(); opt.step()
        path.append(phi.detach().numpy().copy())
    return np.array(path)

runs = {
    "GD, α = 0.08": run(lambda p: gradfit.optim.SGD(p, lr=0.08)),
    "GD, α = 0.205": run(lambda p: gradfit.optim.SGD(p, lr=0.205)),
    "normalised, α = 0.15": run(lambda p: NormalizedGD(p, lr=0.15)),
    "Adam, α = 0.15": run(lambda p: Adam(p, lr=0.15, beta=0.9, gamma=0.99)),
}
p0, p1 = np.meshgrid(np.linspace(-4, 1, 101), np.linspace(-1.5, 1.5, 101))
fig, axes = plt.subplots(2, 2, figsize=(11, 7))
for ax, (name, path) in zip(axes.ravel(), runs.items()):
    ax.contourf(p0, p1, np.log(0.05 * p0**2 + 5 * p1**2 + 0.05), levels=30, cmap="gray")
    ax.plot(path[:, 0], path[:, 1], "o-", ms=3)
    ax.set_xlim(-4, 1); ax.set_ylim(-1.5, 1.5)
    ax.set_title(f"{name}: final loss {loss(path[-1]).item():.3g}")
plt.tight_layout(); plt.show()""",
    ),
    (
        "md",
        """The lecture's Adam and PyTorch's `Adam(betas=(β, γ))` are the same update: check
that `gradfit.optim.lecture.Adam` and `gradfit.optim.Adam` agree.""",
    ),
    (
        "code",
        """a = run(lambda p: Adam(p, lr=0.15, beta=0.9, gamma=0.99), steps=20)
b = run(lambda p: gradfit.optim.Adam(p, lr=0.15, betas=(0.9, 0.99)), steps=20)
print("largest difference:", np.abs(a - b).max())
assert np.allclose(a, b, atol=1e-10)""",
    ),
]

NOTEBOOKS["06_backprop_toy"] = [
    (
        "md",
        """# Colab time: backpropagation in the toy model

f[x, φ] = β3 + ω3·cos(β2 + ω2·exp(β1 + ω1·sin(β0 + ω0·x))), ℓ = (f − y)².
Forward pass: store f_k and h_k. Backward pass #1: ∂ℓ/∂f3, ∂ℓ/∂h3, …, ∂ℓ/∂f0 by the
chain rule. Backward pass #2: ∂ℓ/∂β_k = ∂ℓ/∂f_k and ∂ℓ/∂ω_k = h_k·∂ℓ/∂f_k.""",
    ),
    (
        "code",
        """import math
import gradfit

beta = [1.0, 2.0, -3.0, 0.4]
omega = [0.1, -0.4, 2.0, 3.0]
x, y = 2.3, 2.0

# forward pass, by hand
f0 = beta[0] + omega[0] * x; h1 = math.sin(f0)
f1 = beta[1] + omega[1] * h1; h2 = math.exp(f1)
f2 = beta[2] + omega[2] * h2; h3 = math.cos(f2)
f3 = beta[3] + omega[3] * h3; l = (f3 - y) ** 2

# backward pass #1
dl_df3 = 2 * (f3 - y)
dl_dh3 = omega[3] * dl_df3
dl_df2 = -math.sin(f2) * dl_dh3
dl_dh2 = omega[2] * dl_df2
dl_df1 = math.exp(f1) * dl_dh2
dl_dh1 = omega[1] * dl_df1
dl_df0 = math.cos(f0) * dl_dh1

# backward pass #2
dl_dbeta = [dl_df0, dl_df1, dl_df2, dl_df3]
dl_domega = [x * dl_df0, h1 * dl_df1, h2 * dl_df2, h3 * dl_df3]
print("loss", l); print("dl/dbeta ", dl_dbeta); print("dl/domega", dl_domega)""",
    ),
    ("md", "The same with gradfit's autodiff; `retain_grad()` keeps the intermediate gradients."),
    (
        "code",
        """b = [gradfit.tensor(v, dtype=gradfit.float64, requires_grad=True) for v in beta]
w = [gradfit.tensor(v, dtype=gradfit.float64, requires_grad=True) for v in omega]
F0 = b[0] + w[0] * x; H1 = gradfit.sin(F0)
F1 = b[1] + w[1] * H1; H2 = gradfit.exp(F1)
F2 = b[2] + w[2] * H2; H3 = gradfit.cos(F2)
F3 = b[3] + w[3] * H3
L = (F3 - y) ** 2
for t in (F0, F1, F2, F3):
    t.retain_grad()
L.backward()
for k in range(4):
    assert abs(b[k].grad.item() - dl_dbeta[k]) < 1e-12
    assert abs(w[k].grad.item() - dl_domega[k]) < 1e-12
print("dl/df0: autodiff", F0.grad.item(), " by hand", dl_df0)""",
    ),
    ("md", "And a third opinion: central finite differences."),
    (
        "code",
        """def loss_at(bv, wv):
    f1 = bv[1] + wv[1] * math.sin(bv[0] + wv[0] * x)
    f = bv[3] + wv[3] * math.cos(bv[2] + wv[2] * math.exp(f1))
    return (f - y) ** 2

eps = 1e-6
for k in range(4):
    wp = list(omega); wp[k] += eps
    wm = list(omega); wm[k] -= eps
    fd = (loss_at(beta, wp) - loss_at(beta, wm)) / (2 * eps)
    print(f"dl/domega{k}: autodiff {w[k].grad.item():+.8f}  finite difference {fd:+.8f}")
    assert abs(fd - w[k].grad.item()) < 1e-5""",
    ),
]

NOTEBOOKS["07_backprop_deep"] = [
    (
        "md",
        """# Colab time: backpropagation in a deep network

The lecture's "Overall Backprop Algorithm" for K ReLU layers, by hand in NumPy, against
gradfit's autodiff. Forward: f_0 = β_0 + Ω_0 x, h_k = a[f_{k−1}], f_k = β_k + Ω_k h_k.
Backward: ∂ℓ/∂β_k = ∂ℓ/∂f_k, ∂ℓ/∂Ω_k = ∂ℓ/∂f_k h_kᵀ,
∂ℓ/∂f_{k−1} = 𝕀[f_{k−1} > 0] ⊙ (Ω_kᵀ ∂ℓ/∂f_k).""",
    ),
    (
        "code",
        """import numpy as np
import matplotlib.pyplot as plt
import gradfit

K, D_i, D, D_o = 5, 4, 6, 1
sizes = [D_i] + [D] * K + [D_o]
g = gradfit.Generator().manual_seed(0)
Omega = [gradfit.randn(sizes[k + 1], sizes[k], generator=g, dtype=gradfit.float64)
         * np.sqrt(2 / sizes[k]) for k in range(K + 1)]
beta = [gradfit.randn(sizes[k + 1], 1, generator=g, dtype=gradfit.float64) * 0.1
        for k in range(K + 1)]
x = gradfit.randn(D_i, 1, generator=g, dtype=gradfit.float64)
y = gradfit.randn(D_o, 1, generator=g, dtype=gradfit.float64)

# by hand
Om, be, xn, yn = [o.numpy() for o in Omega], [b.numpy() for b in beta], x.numpy(), y.numpy()
f = [be[0] + Om[0] @ xn]; h = [xn]
for k in range(1, K + 1):
    h.append(np.maximum(f[k - 1], 0)); f.append(be[k] + Om[k] @ h[k])
df = [None] * (K + 1); dOm = [None] * (K + 1)
df[K] = 2 * (f[K] - yn)
for k in range(K, 0, -1):
    dOm[k] = df[k] @ h[k].T
    df[k - 1] = (f[k - 1] > 0) * (Om[k].T @ df[k])
dOm[0] = df[0] @ xn.T""",
    ),
    (
        "code",
        """# by autodiff
for t in Omega + beta:
    t.requires_grad_(True)
F = beta[0] + Omega[0] @ x
for k in range(1, K + 1):
    F = beta[k] + Omega[k] @ gradfit.relu(F)
loss = ((F - y) ** 2).sum()
gradfit.viz.draw_graph(loss, "deep_graph.png", names={"x": x, "y": y})  # before backward
loss.backward()
diffs = [np.abs(Omega[k].grad.numpy() - dOm[k]).max() for k in range(K + 1)]
print("max |autodiff - by hand| per layer:", diffs)
assert max(diffs) < 1e-12
plt.bar(range(K + 1), [np.linalg.norm(d) for d in dOm])
plt.xlabel("layer k"); plt.ylabel("‖∂ℓ/∂Ω_k‖"); plt.show()""",
    ),
    ("md", "The graph autodiff walked (drawn before `backward()`, which frees it):"),
    (
        "code",
        """img = plt.imread("deep_graph.png")
plt.figure(figsize=(5, 14)); plt.imshow(img); plt.axis("off"); plt.show()""",
    ),
]

NOTEBOOKS["08_initialisation"] = [
    (
        "md",
        """# Initialisation: vanishing and exploding variance

With weights N(0, σ²) and zero biases, each ReLU layer multiplies the variance of the
pre-activations by ½·D_h·σ². He initialisation, σ² = 2/D_h, keeps it constant (figure
7.7). `gradfit.nn.utils.GradientMonitor` records the variance per layer, forward and
backward.""",
    ),
    (
        "code",
        """import numpy as np
import matplotlib.pyplot as plt
import gradfit
from gradfit import nn
from gradfit.nn.utils import GradientMonitor

depth, width = 20, 64
layers = []
for _ in range(depth):
    layers += [nn.Linear(width, width, dtype=gradfit.float64), nn.ReLU()]
model = nn.Sequential(*layers, nn.Linear(width, 1, dtype=gradfit.float64))
hidden = [m for m in model.modules() if isinstance(m, nn.Linear)][:depth]
g = gradfit.Generator().manual_seed(0)
x = gradfit.randn(32, width, generator=g, dtype=gradfit.float64)

def measure(sigma2):
    for m in model.modules():
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0.0, np.sqrt(sigma2), generator=g)
            nn.init.zeros_(m.bias)
    with GradientMonitor(model, modules=hidden, warn=False) as mon:
        model.zero_grad()
        nn.MSELoss()(model(x), gradfit.zeros(32, 1, dtype=gradfit.float64)).backward()
        return ([s.activation_var for s in mon.layers], [s.grad_var for s in mon.layers])

fig, ax = plt.subplots(1, 2, figsize=(11, 4))
for s2 in [0.005, 2 / width, 0.1]:
    act, grad = measure(s2)
    ax[0].semilogy(act, label=f"σ² = {s2:.3g}"); ax[1].semilogy(grad, label=f"σ² = {s2:.3g}")
ax[0].set_title("forward: Var[f_k]"); ax[1].set_title("backward: Var[∂ℓ/∂f_k]")
for a in ax:
    a.set_xlabel("layer k"); a.legend()
plt.show()""",
    ),
    ("md", "`nn.init.he_normal_` sets σ² = 2/fan_in; the monitor's report shows a flat profile."),
    (
        "code",
        """for m in model.modules():
    if isinstance(m, nn.Linear):
        nn.init.he_normal_(m.weight, generator=g)
        nn.init.zeros_(m.bias)
with GradientMonitor(model, modules=hidden, factor=4.0) as mon:
    model.zero_grad()
    nn.MSELoss()(model(x), gradfit.zeros(32, 1, dtype=gradfit.float64)).backward()
    print(mon.report())
    act = [s.activation_var for s in mon.layers]
print("last / first layer variance:", act[-1] / act[0])
assert 0.1 < act[-1] / act[0] < 10""",
    ),
]


def build(name: str, cells: list[tuple[str, str]]) -> nbformat.NotebookNode:
    nb = new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells = [
        new_markdown_cell(src) if kind == "md" else new_code_cell(src) for kind, src in cells
    ]
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"{name[:2]}-{i:02d}"  # stable ids: regenerating gives the same file
    return nb


def _ruff() -> list[str] | None:
    exe = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    return [exe] if Path(exe).exists() else None


def main() -> None:
    paths = []
    for name, cells in NOTEBOOKS.items():
        nb = build(name, cells)
        nbformat.validate(nb)
        paths.append(HERE / f"{name}.ipynb")
        nbformat.write(nb, paths[-1])
        print(f"wrote {name}.ipynb ({len(cells)} cells)")
    ruff = _ruff()
    if ruff is None:
        print("ruff not found: the notebooks are not formatted")
        return
    # The cells above are written compactly; the project's formatter lays them out.
    files = [str(p) for p in paths]
    subprocess.run([*ruff, "format", "--quiet", *files], check=True)
    subprocess.run([*ruff, "check", "--fix", "--quiet", *files], check=True)
    subprocess.run([*ruff, "format", "--quiet", *files], check=True)


if __name__ == "__main__":
    main()
