# Source of the lesson notebook "04_momentum" (see ../make_notebooks.py).
# %% md
r"""
# Lesson 4 — Momentum and Nesterov momentum

SGD's path is noisy, and in a long narrow valley even exact gradients zig-zag from wall to
wall (lessons 1 and 2). **Momentum** smooths the path: instead of stepping along the newest
gradient, step along a running average of all of them,

$$\mathbf m_{t+1} \leftarrow \beta\, \mathbf m_t + (1-\beta) \sum_{i\in\mathcal B_t}
\frac{\partial \ell_i[\phi_t]}{\partial \phi}, \qquad
\phi_{t+1} \leftarrow \phi_t - \alpha\, \mathbf m_{t+1} \qquad \text{(eq. 6.11)}$$

with $\mathbf m_0 = 0$ and $\beta \in [0, 1)$. Unrolling the recursion,
$\mathbf m_{t} = (1-\beta)\sum_{s<t} \beta^{t-1-s} \mathbf g_s$: an exponentially weighted
average. Components that keep their sign add up; components that flip sign from step to step
(the zig-zag across a valley) cancel.

**Nesterov momentum** (eq. 6.12) measures the gradient not at $\phi_t$ but where momentum
is about to carry us, so the gradient *corrects* the momentum step instead of being added
blindly:

$$\mathbf m_{t+1} \leftarrow \beta\, \mathbf m_t + (1-\beta)\,
\frac{\partial L}{\partial \phi}\Big[\phi_t - \alpha\beta\,\mathbf m_t\Big], \qquad
\phi_{t+1} \leftarrow \phi_t - \alpha\, \mathbf m_{t+1} \qquad \text{(eq. 6.12)}$$

(The slide abbreviates the look-ahead point as $\phi_t - \alpha\mathbf m_t$; the book and
gradfit use $\phi_t - \alpha\beta\mathbf m_t$, which is exactly where the momentum part of the
next step, $\alpha\beta\mathbf m_t$, takes us.) Exercises are marked ✏️ and checked.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np

import gradfit
from gradfit.lecture.exercises import (
    check_momentum_step,
    check_nesterov_step,
    check_torch_momentum,
)
from gradfit.lecture.interactive import explore
from gradfit.optim.lecture import Momentum, Nesterov


def valley(phi):
    """A long narrow valley along the line phi1 = 0.3 phi0; its minimum is at 0."""
    return 0.5 * phi[0] ** 2 + 4.0 * (phi[1] - 0.3 * phi[0]) ** 2


def valley_grad(phi):
    p = gradfit.tensor(phi, dtype=gradfit.float64, requires_grad=True)
    valley(p).backward()
    return p.grad.numpy()


P0, P1 = np.meshgrid(np.linspace(-3, 3, 121), np.linspace(-2, 2, 121))
surface = valley(np.stack([P0, P1]))
print("gradient at [2, -1]:", valley_grad(np.array([2.0, -1.0])))

# %% md
r"""
### ✏️ Exercise 1: the momentum update

Write `momentum_step(phi, m, grad, lr, beta)` returning the new `(phi, m)` of eq. 6.11. Mind
the order: the new $\mathbf m_{t+1}$ moves $\phi$, not the old $\mathbf m_t$.
"""


# %%
def momentum_step(phi, m, grad, lr, beta):
    """One step of eq. 6.11; returns (phi_new, m_new)."""
    # BEGIN SOLUTION
    m = beta * m + (1 - beta) * grad
    return phi - lr * m, m
    # END SOLUTION


# %%
check_momentum_step(momentum_step)

# %% md
r"""
## How much of the past does $\mathbf m$ remember?

The weight of a gradient $k$ steps old is $(1-\beta)\beta^k$. With $\beta = 0.9$ the last
10 gradients carry about 65% of the weight, and a gradient is "forgotten" (weight below 5%
of the newest) after about 30 steps. Feeding a constant gradient $g = 1$ shows another
consequence of $\mathbf m_0 = 0$: the average starts small and approaches $g$ as
$1 - \beta^t$.
"""

# %%
m, ms = np.zeros(1), []
for _ in range(40):
    _, m = momentum_step(np.zeros(1), m, np.ones(1), 0.1, 0.9)
    ms.append(m[0])
weights = (1 - 0.9) * 0.9 ** np.arange(40)
print("weight of the last 10 gradients:", round(weights[:10].sum(), 3))
print("m after 1, 10, 40 steps of g = 1:", round(ms[0], 3), round(ms[9], 3), round(ms[39], 3))
print("1 - beta^t for t = 1, 10, 40:   ", [round(1 - 0.9**t, 3) for t in (1, 10, 40)])

# %% md
r"""
## Momentum in the valley

Gradient descent ($\beta = 0$) with a learning rate close to the stability limit bounces
between the steep walls and creeps along the floor. Raise $\beta$ and watch the bouncing
cancel out while the motion along the floor builds up. Too much momentum overshoots along
the valley and spirals in. (Use the slider for other values when ipywidgets runs.)
"""


# %%
def run(step_fn, beta, lr=0.2, n=40, start=(2.5, -1.5)):
    phi, m, path = np.array(start), np.zeros(2), [np.array(start)]
    for _ in range(n):
        phi, m = step_fn(phi, m, beta, lr)
        path.append(phi)
    return np.array(path)


def plain(phi, m, beta, lr):
    return momentum_step(phi, m, valley_grad(phi), lr, beta)


def draw_momentum(ax, beta):
    path = run(plain, beta)
    ax.contour(P0, P1, surface, levels=20, cmap="gray")
    ax.plot(path[:, 0], path[:, 1], ".-", color="tab:red", ms=3)
    ax.set_title(f"β = {beta:.2f}: loss after 40 steps {valley(path[-1]):.2e}")
    ax.set_xlabel("φ0")
    ax.set_ylabel("φ1")


explore(
    draw_momentum,
    panels=[{"beta": 0.0}, {"beta": 0.6}, {"beta": 0.9}],
    sliders={"beta": (0.0, 0.98, 0.02, 0.6)},
)

# %% md
r"""
❓ **Question.** With $\beta = 0.9$ and all gradients equal to $g$, how far does the lecture's
momentum move per step once $\mathbf m$ has caught up? How far does PyTorch's
`SGD(lr=α, momentum=0.9)` move?

<details><summary>Answer</summary>

The lecture's $\mathbf m$ is an average, so it tends to $g$ and the step to $\alpha g$: the
same as gradient descent, only smoothed. PyTorch's buffer is a *sum*
$b \leftarrow \beta b + g$, which tends to $g/(1-\beta) = 10g$: its steps become ten times
larger. Same idea, different scale: this is why the two need different learning rates
(Exercise 3).
</details>

### ✏️ Exercise 2: the Nesterov step

Write `nesterov_step(phi, m, grad_fn, lr, beta)`: evaluate the gradient with `grad_fn` at the
look-ahead point $\phi - \alpha\beta\,\mathbf m$, then update $\mathbf m$ and $\phi$ as in
eq. 6.12. `grad_fn` takes a parameter vector and returns the gradient there.
"""


# %%
def nesterov_step(phi, m, grad_fn, lr, beta):
    """One step of eq. 6.12; returns (phi_new, m_new)."""
    # BEGIN SOLUTION
    g = grad_fn(phi - lr * beta * m)
    m = beta * m + (1 - beta) * g
    return phi - lr * m, m
    # END SOLUTION


# %%
check_nesterov_step(nesterov_step)

# %% md
r"""
## Momentum against Nesterov

Same valley, same $\alpha$ and $\beta = 0.9$: the look-ahead gradient sees the wall coming
and brakes earlier, so Nesterov overshoots less. The right panel shows the loss per step on a
log scale.
"""


# %%
def look_ahead(phi, m, beta, lr):
    return nesterov_step(phi, m, valley_grad, lr, beta)


paths = {"momentum": run(plain, 0.9, n=60), "Nesterov": run(look_ahead, 0.9, n=60)}
fig, axes = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
axes[0].contour(P0, P1, surface, levels=20, cmap="gray")
for name, path in paths.items():
    axes[0].plot(path[:, 0], path[:, 1], ".-", ms=3, label=name)
    axes[1].semilogy([valley(p) for p in path], label=name)
axes[0].legend()
axes[1].set_xlabel("step")
axes[1].set_ylabel("loss")
axes[1].legend()
plt.show()
for name, path in paths.items():
    print(f"{name:9s} loss after 60 steps: {valley(path[-1]):.3e}")

# %% md
r"""
❓ **Question.** Nesterov needs the gradient at a point other than the current parameters.
Why is that awkward inside a training loop, and how do optimizers get around it?

<details><summary>Answer</summary>

A training loop computes `loss.backward()` at the current parameters. Evaluating elsewhere
means moving the parameters, computing the loss, and moving them back: gradfit's
`gradfit.optim.lecture.Nesterov` does exactly that and so needs a closure. PyTorch's
`SGD(nesterov=True)` instead stores the *look-ahead point* as the parameters, which turns the
update into one that uses the gradient at the stored parameters; the last cell of this lesson
checks that its parameters are exactly the lecture's $\phi_t - \alpha\beta\mathbf m_t$.
</details>

### ✏️ Exercise 3: the lecture's momentum in PyTorch's units

PyTorch's `SGD(lr, momentum)` keeps $b \leftarrow \mu b + g$ (starting from the first
gradient) and steps $\phi \leftarrow \phi - \text{lr}\cdot b$. Write `torch_momentum(lr, beta)`
returning the dict of `SGD` settings, `{"lr": ..., "momentum": ...}`, that takes exactly the
steps of the lecture's momentum with learning rate `lr` and coefficient `beta`. The checker
runs both optimizers side by side.
"""


# %%
def torch_momentum(lr, beta):
    """SGD settings equal to the lecture's momentum (eq. 6.11)."""
    # BEGIN SOLUTION
    return {"lr": lr * (1 - beta), "momentum": beta}
    # END SOLUTION


# %%
check_torch_momentum(torch_momentum)

# %% md
r"""
## With PyTorch's names

- momentum, eq. 6.11: gradfit's lecture form `Momentum(params, lr=α, beta=β)`;
  PyTorch's form `SGD(params, lr=α(1−β), momentum=β)`.
- Nesterov, eq. 6.12: `Nesterov(params, lr=α, beta=β)` (needs a closure);
  PyTorch's form `SGD(params, lr=α(1−β), momentum=β, nesterov=True)`.

With the first pair the parameters are equal at every step. With the second pair, PyTorch's
parameters are the lecture's look-ahead points $\phi_t - \alpha\beta\mathbf m_t$: the same
trajectory, seen half a step ahead. Both claims are checked below.
"""

# %%
alpha, beta, start = 0.2, 0.9, [2.5, -1.5]
lecture_p = gradfit.tensor(start, dtype=gradfit.float64, requires_grad=True)
torch_p = gradfit.tensor(start, dtype=gradfit.float64, requires_grad=True)
lecture_opt = Momentum([lecture_p], lr=alpha, beta=beta)
torch_opt = gradfit.optim.SGD([torch_p], **torch_momentum(alpha, beta))
for _ in range(20):
    for p, opt in ((lecture_p, lecture_opt), (torch_p, torch_opt)):
        opt.zero_grad()
        valley(p).backward()
        opt.step()
print("Momentum:", lecture_p.detach().numpy(), " SGD:", torch_p.detach().numpy())
assert np.allclose(lecture_p.detach().numpy(), torch_p.detach().numpy(), rtol=1e-10)

nest_p = gradfit.tensor(start, dtype=gradfit.float64, requires_grad=True)
torch_n = gradfit.tensor(start, dtype=gradfit.float64, requires_grad=True)
nest_opt = Nesterov([nest_p], lr=alpha, beta=beta)
torch_nopt = gradfit.optim.SGD([torch_n], lr=alpha * (1 - beta), momentum=beta, nesterov=True)


def closure():
    nest_opt.zero_grad()
    value = valley(nest_p)
    value.backward()
    return value


for _ in range(20):
    nest_opt.step(closure)
    torch_nopt.zero_grad()
    valley(torch_n).backward()
    torch_nopt.step()
m = nest_opt.state[nest_p]["momentum_buffer"].numpy()
ahead = nest_p.detach().numpy() - alpha * beta * m
print("lecture look-ahead point:", ahead, " SGD(nesterov=True):", torch_n.detach().numpy())
assert np.allclose(ahead, torch_n.detach().numpy(), rtol=1e-10)

# %% md
r"""
## What to remember

- Momentum averages gradients over time (eq. 6.11): consistent directions build up,
  oscillating ones cancel. $\beta = 0.9$ is the usual default.
- Nesterov (eq. 6.12) takes the gradient at the look-ahead point and overshoots less.
- The lecture's $\mathbf m$ is an average; PyTorch's buffer is a sum, $1/(1-\beta)$ times
  larger. Lecture momentum with rate $\alpha$ = `SGD(lr=α(1−β), momentum=β)`.
"""
