# Source of the lesson notebook "05_adam" (see ../make_notebooks.py).
# %% md
r"""
# Lesson 5 — Normalised gradients and Adam

Gradient descent with a fixed step makes large changes to parameters with large gradients and
small changes to those with small gradients. When the loss is much steeper in one direction
than in another, no single learning rate suits both: one that is safe in the steep direction
crawls in the flat one, and one that moves the flat direction diverges in the steep one
(figure 6.9 a–b).

A straightforward fix is to **normalise** each component of the gradient by its size, so that
every parameter moves the same distance $\alpha$ per step:

$$\mathbf m_{t+1} \leftarrow \frac{\partial L[\phi_t]}{\partial\phi},\qquad
\mathbf v_{t+1} \leftarrow \left(\frac{\partial L[\phi_t]}{\partial\phi}\right)^2,\qquad
\phi_{t+1} \leftarrow \phi_t - \alpha\,\frac{\mathbf m_{t+1}}{\sqrt{\mathbf v_{t+1}} + \epsilon}
\qquad \text{(eqs. 6.13–6.14)}$$

(all operations per component; $\epsilon$ only prevents a division by zero). It moves downhill
in every direction but never settles: near the minimum it keeps jumping by $\alpha$.
**Adam** (adaptive moment estimation) averages both statistics with momentum,

$$\mathbf m_{t+1} \leftarrow \beta\mathbf m_t + (1-\beta)\, g_t, \qquad
\mathbf v_{t+1} \leftarrow \gamma\mathbf v_t + (1-\gamma)\, g_t^2 \qquad \text{(eq. 6.15)}$$

corrects the bias of starting the averages at zero,
$\tilde{\mathbf m}_{t+1} = \mathbf m_{t+1}/(1-\beta^{t+1})$,
$\tilde{\mathbf v}_{t+1} = \mathbf v_{t+1}/(1-\gamma^{t+1})$ (eq. 6.16), and steps
$\phi_{t+1} \leftarrow \phi_t - \alpha\,\tilde{\mathbf m}_{t+1}/(\sqrt{\tilde{\mathbf v}_{t+1}}
+ \epsilon)$ (eq. 6.17). Exercises are marked ✏️ and checked.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np

import gradfit
from gradfit.lecture.exercises import check_adam_moments, check_adam_step, check_normalized_step
from gradfit.lecture.interactive import explore


def loss(phi):
    """100 times steeper in phi1 than in phi0 (figure 6.9)."""
    return 0.05 * phi[0] ** 2 + 5.0 * phi[1] ** 2


def grad(phi):
    p = gradfit.tensor(phi, dtype=gradfit.float64, requires_grad=True)
    loss(p).backward()
    return p.grad.numpy()


start = np.array([-3.5, 1.0])
P0, P1 = np.meshgrid(np.linspace(-4, 1, 101), np.linspace(-1.5, 1.5, 101))
surface = np.log(loss(np.stack([P0, P1])) + 0.05)


def draw_path(ax, path, title):
    ax.contourf(P0, P1, surface, levels=30, cmap="gray")
    ax.plot(path[:, 0], path[:, 1], "o-", color="tab:red", ms=3)
    ax.set_xlim(-4, 1)
    ax.set_ylim(-1.5, 1.5)
    ax.set_title(title)


def gd(lr, n=40):
    path = [start]
    for _ in range(n):
        path.append(path[-1] - lr * grad(path[-1]))
    return np.array(path)


fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
for ax, lr in zip(axes, (0.09, 0.21)):
    path = gd(lr)
    draw_path(ax, path, f"GD, α = {lr}: final loss {loss(path[-1]):.3g}")
plt.show()

# %% md
r"""
The curvature is $0.1$ along $\phi_0$ and $10$ along $\phi_1$, so gradient descent is stable
only for $\alpha < 2/10 = 0.2$. At $\alpha = 0.09$ it settles $\phi_1$ quickly but needs
hundreds of steps for $\phi_0$; at $\alpha = 0.21$ the $\phi_1$ oscillation grows without
bound.

### ✏️ Exercise 1: the normalised step

Write `normalized_step(phi, grad, lr, eps)`, eqs. 6.13–6.14. Every component should move by
almost exactly `lr`, whatever the size of its gradient.
"""


# %%
def normalized_step(phi, grad, lr, eps):
    """phi - lr * g / (sqrt(g^2) + eps), componentwise (eqs. 6.13-6.14)."""
    # BEGIN SOLUTION
    return phi - lr * grad / (np.sqrt(grad**2) + eps)
    # END SOLUTION


# %%
check_normalized_step(normalized_step)
path = [start]
for _ in range(40):
    path.append(normalized_step(path[-1], grad(path[-1]), 0.15, 1e-8))
normalized_path = np.array(path)
print("last four points:\n", normalized_path[-4:].round(3))

# %% md
r"""
The last points bounce between two positions: once a coordinate is within $\alpha$ of its
minimum, a fixed-size step can only jump across it (figure 6.9 c). The direction is right;
the step size no longer shrinks as we approach the minimum.

### ✏️ Exercise 2: Adam's two averages

Write `adam_moments(m, v, grad, beta, gamma)` returning the new `(m, v)` of eq. 6.15.
"""


# %%
def adam_moments(m, v, grad, beta, gamma):
    """The momentum averages of the gradient and of its square (eq. 6.15)."""
    # BEGIN SOLUTION
    return beta * m + (1 - beta) * grad, gamma * v + (1 - gamma) * grad**2
    # END SOLUTION


# %%
check_adam_moments(adam_moments)
m, v = adam_moments(np.zeros(2), np.zeros(2), np.array([4.0, -0.01]), 0.9, 0.999)
print("after one step with g = [4, -0.01]: m =", m, " v =", v)

# %% md
r"""
❓ **Question.** After the first step, $\mathbf m = 0.1\,g$ and $\mathbf v = 0.001\,g^2$. What
would the step $\alpha\,\mathbf m/\sqrt{\mathbf v}$ be without the bias correction, and what is
it with it?

<details><summary>Answer</summary>

Without the correction, $\mathbf m/\sqrt{\mathbf v} = 0.1 g / (0.0316|g|) \approx 3.16\,
\mathrm{sign}(g)$: the first steps would be three times too large, purely because the averages
started at zero. With it, $\tilde{\mathbf m} = g$ and $\tilde{\mathbf v} = g^2$, so the first step
is exactly $\alpha\,\mathrm{sign}(g)$, like the normalised step. As $t$ grows, $\beta^t$ and
$\gamma^t$ vanish and the correction fades out.
</details>

### ✏️ Exercise 3: the full Adam step

Write `adam_step(phi, m, v, grad, t, lr, beta, gamma, eps)` returning `(phi, m, v)`: update the
averages (you may call `adam_moments`), correct them with $1-\beta^t$ and $1-\gamma^t$, where
`t` is the number of this step counting from 1 (the lecture's $t+1$), and step (eq. 6.17).
"""


# %%
def adam_step(phi, m, v, grad, t, lr, beta, gamma, eps):
    """One Adam step with bias correction (eqs. 6.15-6.17); t counts from 1."""
    # BEGIN SOLUTION
    m, v = adam_moments(m, v, grad, beta, gamma)
    m_hat = m / (1 - beta**t)
    v_hat = v / (1 - gamma**t)
    return phi - lr * m_hat / (np.sqrt(v_hat) + eps), m, v
    # END SOLUTION


# %%
check_adam_step(adam_step)

# %% md
r"""
## Four optimizers on one loss

The panels compare gradient descent at both rates, the normalised step and Adam from the
same start (figure 6.9). With the slider you can change Adam's learning rate: a small $\alpha$
approaches slowly but precisely, a large one arrives fast and then wanders around the minimum
before its averages calm it down.
"""


# %%
def adam_path(lr, beta=0.9, gamma=0.99, n=40):
    phi, m, v, path = start, np.zeros(2), np.zeros(2), [start]
    for t in range(1, n + 1):
        phi, m, v = adam_step(phi, m, v, grad(phi), t, lr, beta, gamma, 1e-8)
        path.append(phi)
    return np.array(path)


runs = {
    "GD, α = 0.09": gd(0.09),
    "GD, α = 0.21": gd(0.21),
    "normalised, α = 0.15": normalized_path,
    "Adam, α = 0.15": adam_path(0.15),
}
fig, axes = plt.subplots(2, 2, figsize=(10, 6.5), layout="constrained")
for ax, (name, path) in zip(axes.ravel(), runs.items()):
    draw_path(ax, path, f"{name}: final loss {loss(path[-1]):.3g}")
plt.show()


def draw_adam(ax, lr):
    path = adam_path(lr)
    draw_path(ax, path, f"Adam, α = {lr:.3g}: loss {loss(path[-1]):.2g}")


explore(
    draw_adam,
    panels=[{"lr": 0.03}, {"lr": 0.15}, {"lr": 0.6}],
    sliders={"lr": ("log", 0.01, 1.0, 0.15)},
)

# %% md
r"""
❓ **Question.** Adam divides by $\sqrt{\tilde{\mathbf v}}$, the typical size of each
component's gradient. Why does that make the learning rate easier to choose than for SGD?

<details><summary>Answer</summary>

The step of each component is about $\alpha\,\tilde m/\sqrt{\tilde v}$, a number between roughly
$-\alpha$ and $\alpha$ whatever the scale of the loss or of that parameter's gradient.
Multiply the loss by 1000 and SGD's steps grow 1000-fold, while Adam's stay the same. So
$\alpha$ directly sets how far parameters move per step, and defaults such as $10^{-3}$ work
across many models. The cell below checks the scale invariance.
</details>
"""


# %%
def adam_scaled(scale, n=10):
    phi, m, v = start, np.zeros(2), np.zeros(2)
    for t in range(1, n + 1):
        phi, m, v = adam_step(phi, m, v, scale * grad(phi), t, 0.15, 0.9, 0.99, 1e-8)
    return phi


print("Adam after 10 steps, loss x1   :", adam_scaled(1.0))
print("Adam after 10 steps, loss x1000:", adam_scaled(1000.0))

# %% md
r"""
## With PyTorch's names

The lecture's Adam is PyTorch's `Adam(params, lr=α, betas=(β, γ), eps=ε)` (PyTorch folds the
bias corrections into the step size, which agrees to rounding). The normalised step has no
PyTorch class of its own; `gradfit.optim.lecture.NormalizedGD` has it. `RMSprop` is the
middle ground: it averages $g^2$ like Adam's $\mathbf v$ but uses no momentum in $\mathbf m$
and no bias correction. The cell runs `gradfit.optim.Adam` next to your `adam_step`.
"""

# %%
phi_t = gradfit.tensor(start, dtype=gradfit.float64, requires_grad=True)
optimizer = gradfit.optim.Adam([phi_t], lr=0.15, betas=(0.9, 0.99), eps=1e-8)
for _ in range(40):
    optimizer.zero_grad()
    loss(phi_t).backward()
    optimizer.step()
mine = adam_path(0.15)[-1]
print("gradfit.optim.Adam:", phi_t.detach().numpy(), " your adam_step:", mine)
assert np.allclose(phi_t.detach().numpy(), mine, atol=1e-10)

# %% md
r"""
## What to remember

- A fixed step size cannot suit a loss that is steep in one direction and flat in another.
- Normalising each gradient component moves every parameter by $\alpha$ (eqs. 6.13–6.14) but
  oscillates near the minimum.
- Adam averages the gradient and its square with momentum (eq. 6.15), corrects the zero
  start (eq. 6.16) and steps by roughly $\alpha$ per component (eq. 6.17): smooth paths and a
  learning rate that does not depend on the loss's scale.
"""
