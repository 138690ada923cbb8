# Source of the lesson notebook "03_sgd" (see ../make_notebooks.py).
# %% md
r"""
# Lesson 3 — Stochastic gradient descent on the Gabor model

Linear regression has one minimum, so gradient descent cannot go wrong for long. Most models
are not so kind. The lecture's **Gabor model** maps $x$ to

$$f[x, \phi] = \sin[\phi_0 + 0.06\,\phi_1 x]\cdot
\exp\!\left(-\frac{(\phi_0 + 0.06\,\phi_1 x)^2}{32}\right) \qquad \text{(eq. 6.8)}$$

a wave under a bell-shaped envelope; $\phi_0$ shifts it and $\phi_1$ sets its frequency. Its
least-squares loss over 28 training points (figure 6.3) has a global minimum, several local
minima and saddle points (figure 6.4). Plain gradient descent slides into whichever valley it
starts in.

**Stochastic gradient descent** (SGD) computes the gradient from a random **batch**
$\mathcal B_t$ of examples at each step:

$$\phi_{t+1} \leftarrow \phi_t - \alpha \sum_{i \in \mathcal B_t}
\frac{\partial \ell_i[\phi_t]}{\partial \phi} \qquad \text{(eq. 6.9)}$$

Batches are drawn **without replacement**: one pass through all the data is an **epoch**.
Each batch has its own loss surface, so a step is downhill for the batch but may be uphill
for the full loss. That noise is what lets SGD leave a poor valley. In this lesson you write
the Gabor gradient, the batching and the SGD step (exercises ✏️, each with a checker).
"""

# %%
import matplotlib.pyplot as plt
import numpy as np

import gradfit
from gradfit.lecture.exercises import check_epoch_batches, check_gabor_gradient, check_sgd_step
from gradfit.lecture.interactive import explore

data = gradfit.datasets.gabor()  # 28 noisy samples of the model with phi = [0, 16.6]
x, y = data.x[:, 0], data.y[:, 0]


def gabor(x, phi):
    z = phi[0] + 0.06 * phi[1] * x
    return np.sin(z) * np.exp(-(z**2) / 32)


def full_loss(phi):
    return float(np.sum((gabor(x, phi) - y) ** 2))


xs = np.linspace(-15, 15, 300)
plt.figure(figsize=(6, 3))
plt.plot(x, y, "o", color="tab:orange", label="training data")
plt.plot(xs, gabor(xs, [0.0, 16.6]), color="tab:green", label="true φ = [0, 16.6]")
plt.legend()
plt.xlabel("x")
plt.show()

# %% md
r"""
## The loss landscape

The heat map is $\log L[\phi]$ over offset $\phi_0$ and frequency $\phi_1$ (dark is low). The
global minimum is near $[0, 16.6]$; the other dark patches are local minima, where the wave
lines up with the data in a worse way. Keep this map in mind: the plots below draw paths on it.
"""

# %%
P0, P1 = np.meshgrid(np.linspace(-10, 10, 101), np.linspace(2.5, 22.5, 101))
landscape = ((gabor(x, [P0[..., None], P1[..., None]]) - y) ** 2).sum(-1)


def draw_landscape(ax, title=""):
    ax.contourf(P0, P1, np.log(landscape), levels=30, cmap="gray")
    ax.set_xlabel("offset φ0")
    ax.set_ylabel("frequency φ1")
    ax.set_title(title)


fig, ax = plt.subplots(figsize=(4.5, 4))
draw_landscape(ax, "log L[φ]")
plt.show()
best = np.unravel_index(np.argmin(landscape), landscape.shape)
print(f"lowest grid point: phi = [{P0[best]:.2f}, {P1[best]:.2f}], loss {landscape[best]:.3f}")

# %% md
r"""
### ✏️ Exercise 1: the Gabor gradient by hand

Write `gabor_gradient(phi, x, y)` returning `np.array([dL/dphi0, dL/dphi1])` for
$L = \sum_i (f[x_i, \phi] - y_i)^2$ over the examples given. Name the inner quantity
$z_i = \phi_0 + 0.06\,\phi_1 x_i$; then $f = \sin z \cdot e^{-z^2/32}$,

$$\frac{\partial f}{\partial z} = \cos z\, e^{-z^2/32} - \sin z\, e^{-z^2/32}\,\frac{z}{16},
\qquad \frac{\partial z}{\partial \phi_0} = 1, \qquad
\frac{\partial z}{\partial \phi_1} = 0.06\,x,$$

and the chain rule does the rest.
"""


# %%
def gabor_gradient(phi, x, y):
    """[dL/dphi0, dL/dphi1] of the summed least-squares loss of the Gabor model."""
    # BEGIN SOLUTION
    z = phi[0] + 0.06 * phi[1] * x
    envelope = np.exp(-(z**2) / 32)
    f = np.sin(z) * envelope
    df_dz = np.cos(z) * envelope - np.sin(z) * envelope * z / 16
    dl_dz = 2 * (f - y) * df_dz
    return np.array([np.sum(dl_dz), np.sum(dl_dz * 0.06 * x)])
    # END SOLUTION


# %%
check_gabor_gradient(gabor_gradient)

# %% md
r"""
### ✏️ Exercise 2: one epoch of batches

Write `epoch_batches(n, batch_size, generator)`: shuffle the indices $0, \dots, n-1$ with
`gradfit.randperm(n, generator=generator)` and cut them into consecutive batches of
`batch_size` (the last batch keeps what is left). Return a list of index arrays. Every example
then appears exactly once per epoch: drawing without replacement.
"""


# %%
def epoch_batches(n, batch_size, generator):
    """A list of index arrays: one shuffled epoch in batches of batch_size."""
    # BEGIN SOLUTION
    order = gradfit.randperm(n, generator=generator).numpy()
    return [order[i : i + batch_size] for i in range(0, n, batch_size)]
    # END SOLUTION


# %%
check_epoch_batches(epoch_batches)
print(epoch_batches(10, 4, gradfit.Generator().manual_seed(0)))

# %% md
r"""
### ✏️ Exercise 3: the SGD step

Write `sgd_step(phi, x_batch, y_batch, lr)`: eq. 6.9, one step with the gradient of the
batch's summed loss. (Use your `gabor_gradient`.)
"""


# %%
def sgd_step(phi, x_batch, y_batch, lr):
    """phi - lr * (gradient of the batch loss) (eq. 6.9)."""
    # BEGIN SOLUTION
    return phi - lr * gabor_gradient(phi, x_batch, y_batch)
    # END SOLUTION


# %%
check_sgd_step(sgd_step)

# %% md
r"""
## Gradient descent against SGD

The function `train` puts your pieces together: for each epoch, for each batch, one
`sgd_step`. With `batch_size=28` every batch is the whole data set and this *is* gradient
descent. Note the learning rates: a batch of 3 has a gradient roughly 28/3 times smaller than
the full one (fewer terms in the sum), so it can take a larger $\alpha$ for similar steps.
Besides the final loss, the cell prints the work done: the number of per-example gradient
terms $\partial \ell_i/\partial\phi$ computed along the way.
"""


# %%
def train(phi_start, lr, batch_size, epochs, seed=0):
    generator = gradfit.Generator().manual_seed(seed)
    phi, path = np.array(phi_start, dtype=float), [np.array(phi_start, dtype=float)]
    for _epoch in range(epochs):
        for idx in epoch_batches(len(x), batch_size, generator):
            phi = sgd_step(phi, x[idx], y[idx], lr)
            path.append(phi)
    return np.array(path)


start = [1.0, 12.5]
runs = {
    "gradient descent (batch 28)": train(start, lr=0.05, batch_size=28, epochs=150),
    "SGD, batch 3": train(start, lr=0.4, batch_size=3, epochs=15),
}
fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), layout="constrained")
for ax, (name, path) in zip(axes, runs.items()):
    draw_landscape(ax, name)
    ax.plot(path[:, 0], path[:, 1], ".-", color="tab:red", ms=2, lw=0.8)
plt.show()
for name, path in runs.items():
    terms = 150 * 28 if "descent" in name else 15 * 28
    print(
        f"{name:28s} {len(path) - 1:4d} steps, {terms:5d} gradient terms, "
        f"final full loss {full_loss(path[-1]):.3f}"
    )

# %% md
r"""
Both end in the valley of the global minimum. SGD's path is ragged, because every step fits
its own three examples, but it got there with a tenth of the gradient computations, and it
does not settle: it keeps jittering around the minimum as long as $\alpha$ stays large.
"""

# %% md
r"""
## Batch size and learning rate

Now start at $\phi = [3, 20]$, on the slope of a local minimum, and vary the batch size
with the learning rate fixed. Small batches make noisy paths that can wander from one valley
to the next; large batches follow the full gradient closely, into the nearest valley. The
learning rate scales the noise too: a large
$\alpha$ with a small batch jumps around a lot, which helps early (exploring) and hurts late
(settling). This is why the lecture schedules the learning rate (see the end of the lesson).
"""


# %%
def draw_sgd(ax, batch_size, lr):
    path = train([3.0, 20.0], lr=lr, batch_size=batch_size, epochs=12, seed=1)
    draw_landscape(ax, f"batch {batch_size}, lr {lr:.2g}: loss {full_loss(path[-1]):.2f}")
    ax.plot(path[:, 0], path[:, 1], ".-", color="tab:red", ms=2, lw=0.8)


explore(
    draw_sgd,
    panels=[
        {"batch_size": 1, "lr": 0.3},
        {"batch_size": 4, "lr": 0.3},
        {"batch_size": 28, "lr": 0.3},
    ],
    sliders={"batch_size": [1, 2, 3, 4, 7, 14, 28], "lr": ("log", 0.01, 1.0, 0.3)},
)

# %% md
r"""
❓ **Question.** How often does a single batch step go *uphill* on the full loss? Guess a
percentage for batches of 3 at $\phi = [-2, 12]$, then run the next cell.

<details><summary>Answer</summary>

Quite often: the batch of 3 "sees" only three points, and the step that fits those better
can fit the other 25 worse (figure 6.6 d). Those uphill steps are what lets SGD cross a ridge
that gradient descent, always going downhill on the full loss, could never cross. They also
mean SGD never settles exactly: near a minimum it keeps jittering unless $\alpha$ shrinks.
</details>
"""

# %%
phi_c = np.array([-2.0, 12.0])
generator = gradfit.Generator().manual_seed(3)
uphill, trials = 0, 300
for _ in range(trials):
    idx = epoch_batches(len(x), 3, generator)[0]
    uphill += full_loss(sgd_step(phi_c, x[idx], y[idx], 0.4)) > full_loss(phi_c)
print(f"{uphill} of {trials} batch steps ({100 * uphill / trials:.0f}%) go uphill on the full loss")

# %% md
r"""
❓ **Question.** Each SGD step costs 3 gradient terms instead of 28. Is SGD then simply 9
times cheaper than gradient descent for the same result?

<details><summary>Answer</summary>

Per step, yes; per unit of progress, not necessarily. Its steps are noisy estimates of the
full gradient, and the noise does not average away unless $\alpha$ decreases. What SGD buys is
many cheap, roughly-right steps early on, plus the ability to leave poor minima; in deep
learning, where the data set has millions of examples, a full gradient per step is simply not
affordable.
</details>

## With PyTorch's names

A `DataLoader` with `shuffle=True` does what your `epoch_batches` does (a fresh permutation per
epoch, batches in order), `SGD` does the step, and a summed loss matches eq. 6.9. The lecture's
schedule, "decrease $\alpha$ by a constant factor every $N$ epochs", is `StepLR`. In gradfit,
with the same names as PyTorch:
"""

# %%
from gradfit.optim.lr_scheduler import StepLR
from gradfit.utils.data import DataLoader, TensorDataset

phi_t = gradfit.tensor(start, dtype=gradfit.float64, requires_grad=True)
optimizer = gradfit.optim.SGD([phi_t], lr=0.4)
scheduler = StepLR(optimizer, step_size=5, gamma=0.5)  # halve the learning rate every 5 epochs
loader = DataLoader(
    TensorDataset(gradfit.tensor(x), gradfit.tensor(y)),
    batch_size=3,
    shuffle=True,
    generator=gradfit.Generator().manual_seed(0),
)
for _epoch in range(15):
    for xb, yb in loader:
        optimizer.zero_grad()
        z = phi_t[0] + 0.06 * phi_t[1] * xb
        loss = ((gradfit.sin(z) * gradfit.exp(-(z * z) / 32) - yb) ** 2).sum()
        loss.backward()
        optimizer.step()
    scheduler.step()
final = phi_t.detach().numpy()
print(f"phi = {final}, full loss {full_loss(final):.3f}, last lr {scheduler.get_last_lr()[0]:.3g}")

# %% md
r"""
## What to remember

- SGD uses the gradient of a random batch (eq. 6.9), drawn without replacement, one epoch at a
  time; with the whole data set as the batch it is gradient descent.
- The batch gradient is a noisy estimate of the full one: steps can go uphill on the full
  loss, which helps to escape local minima and saddle points.
- Batch size and learning rate together set the amount of noise; schedules such as `StepLR`
  reduce it as training settles.
"""
