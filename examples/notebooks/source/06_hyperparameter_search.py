# Source of the lesson notebook "06_hyperparameter_search" (see ../make_notebooks.py).
# %% md
r"""
# Lesson 6 — Hyperparameter search

Everything in lessons 1–5 had knobs: the learning rate $\alpha$ and the batch size of SGD
(eq. 6.9), the momentum coefficient $\beta$ (eq. 6.11), Adam's $\gamma$ (eq. 6.15), the
schedule. These are **hyperparameters** of the
training algorithm: they are not learned by gradient descent, yet they decide how good the
fitted model is. As the lecture puts it, choosing them "can be more art than science", and the
usual practice is to train many models with different settings and keep the best one:
**hyperparameter search**.

Three ideas make that search honest and efficient:

1. **Judge on held-out data.** The training loss rewards settings that memorise the training
   set; what we want is a model that does well on data it has not seen. So we split off a
   **validation set** and compare settings by their validation loss.
2. **Search on the right scale.** A learning rate of 0.001 and one of 0.01 differ as much as
   0.01 and 0.1: the grid should be even on a *log* scale.
3. **Spend the budget wisely.** A full grid grows as the product of the number of values of
   every hyperparameter; random search covers each axis with more distinct values for the same
   number of training runs.

You will write the log-spaced grid, the train/validation split and the grid search itself
(exercises ✏️, each with a checker), then run a real search on a small network.
"""

# %%
import math

import matplotlib.pyplot as plt
import numpy as np

import gradfit
from gradfit import nn
from gradfit.lecture.exercises import check_grid_search, check_log_grid, check_train_val_split
from gradfit.utils.data import DataLoader, TensorDataset

# %% md
r"""
## The task

A small regression problem with a known answer: 120 inputs $x \in [-1, 1]$, targets
$y = \sin(3x) + $ noise of standard deviation 0.1. The model is a 1–16–16–1 ReLU network,
He-initialised (lesson 9), trained with `SGD(lr, momentum)` on the mean squared error in
batches of 16 for 15 epochs. Every run starts from the same initial weights and sees the
batches in the same order, so only the hyperparameters differ.
"""

# %%
g = gradfit.Generator().manual_seed(0)
x_all = gradfit.rand(120, 1, generator=g, dtype=gradfit.float64) * 2 - 1
y_all = gradfit.sin(3 * x_all) + 0.1 * gradfit.randn(120, 1, generator=g, dtype=gradfit.float64)


def make_model():
    gen = gradfit.Generator().manual_seed(1)
    model = nn.Sequential(
        nn.Linear(1, 16, dtype=gradfit.float64),
        nn.ReLU(),
        nn.Linear(16, 16, dtype=gradfit.float64),
        nn.ReLU(),
        nn.Linear(16, 1, dtype=gradfit.float64),
    )
    for layer in model.modules():
        if isinstance(layer, nn.Linear):
            nn.init.kaiming_normal_(layer.weight, generator=gen)
            nn.init.zeros_(layer.bias)
    return model


plt.figure(figsize=(5, 3))
plt.plot(x_all.numpy(), y_all.numpy(), ".", color="tab:orange")
plt.xlabel("x")
plt.ylabel("y")
plt.show()

# %% md
r"""
### ✏️ Exercise 1: a log-spaced grid

Write `log_grid(low, high, n)`: `n` values from `low` to `high` (both included), each the
previous one times a constant factor. (Hint: space the *logarithms* evenly, then exponentiate.)
"""


# %%
def log_grid(low, high, n):
    """n values from low to high, evenly spaced on a log scale."""
    # BEGIN SOLUTION
    return np.exp(np.linspace(math.log(low), math.log(high), n))
    # END SOLUTION


# %%
check_log_grid(log_grid)
print(log_grid(1e-3, 1.0, 4))

# %% md
r"""
### ✏️ Exercise 2: hold out a validation set

Write `train_val_split(n, n_val, generator)` returning `(train_idx, val_idx)`: shuffle the
indices $0..n-1$ with `gradfit.randperm(n, generator=generator)`, take `n_val` of them for
validation and the rest for training. The two sets must not overlap.
"""


# %%
def train_val_split(n, n_val, generator):
    """Random disjoint (train_idx, val_idx), n_val indices for validation."""
    # BEGIN SOLUTION
    order = gradfit.randperm(n, generator=generator).numpy()
    return order[n_val:], order[:n_val]
    # END SOLUTION


# %%
check_train_val_split(train_val_split)
train_idx, val_idx = train_val_split(120, 40, gradfit.Generator().manual_seed(2))
x_train, y_train = x_all[train_idx], y_all[train_idx]
x_val, y_val = x_all[val_idx], y_all[val_idx]
print(f"{len(train_idx)} training and {len(val_idx)} validation examples")

# %% md
r"""
## One training run = one score

`validation_loss(lr, momentum)` trains a fresh copy of the network with those settings and
returns its mean squared error on the validation set (infinity if training blew up). This is
the expensive function a search calls over and over.
"""


# %%
def validation_loss(lr, momentum, epochs=15):
    model = make_model()
    optimizer = gradfit.optim.SGD(model.parameters(), lr=float(lr), momentum=float(momentum))
    loader = DataLoader(
        TensorDataset(x_train, y_train),
        batch_size=16,
        shuffle=True,
        generator=gradfit.Generator().manual_seed(3),
    )
    criterion = nn.MSELoss()
    for _epoch in range(epochs):
        for xb, yb in loader:
            optimizer.zero_grad()
            criterion(model(xb), yb).backward()
            optimizer.step()
    with gradfit.no_grad():
        value = criterion(model(x_val), y_val).item()
    return value if math.isfinite(value) else math.inf


print("lr = 0.1, momentum = 0.9:", validation_loss(0.1, 0.9))
print("lr = 0.001, momentum = 0:", validation_loss(0.001, 0.0))

# %% md
r"""
### ✏️ Exercise 3: grid search

Write `grid_search(score, lrs, momenta)`. Call `score(lr, momentum)` once for every pair and
return `(table, best)`: `table[i, j] = score(lrs[i], momenta[j])` (a NumPy array, rows follow
`lrs`), and `best = (lr, momentum)`, the pair with the lowest score.
"""


# %%
def grid_search(score, lrs, momenta):
    """Scores of every (lr, momentum) pair and the best pair."""
    # BEGIN SOLUTION
    table = np.array([[score(lr, mom) for mom in momenta] for lr in lrs])
    i, j = np.unravel_index(np.argmin(table), table.shape)
    return table, (lrs[i], momenta[j])
    # END SOLUTION


# %%
check_grid_search(grid_search)

# %% md
r"""
## The search

Five learning rates from $10^{-3}$ to $1$ (log-spaced) times three momentum values: fifteen
training runs. In the heat map (log colour scale), look for the diagonal structure: with more
momentum, the best learning rate is *smaller*, because momentum enlarges PyTorch-style steps
by about $1/(1-\beta)$ (lesson 4). The top row shows what too large a rate does;
runs whose loss overflowed to infinity would be drawn white.
"""

# %%
lrs, momenta = log_grid(1e-3, 1.0, 5), np.array([0.0, 0.5, 0.9])
table, (best_lr, best_momentum) = grid_search(validation_loss, lrs, momenta)
shown = np.where(np.isfinite(table), np.log10(np.where(np.isfinite(table), table, 1.0)), np.nan)
fig, ax = plt.subplots(figsize=(5, 4))
im = ax.imshow(shown, cmap="viridis_r", origin="lower", aspect="auto")
ax.set_xticks(range(len(momenta)), [f"{m:g}" for m in momenta])
ax.set_yticks(range(len(lrs)), [f"{lr:.3g}" for lr in lrs])
ax.set_xlabel("momentum")
ax.set_ylabel("learning rate")
fig.colorbar(im, label="log10 validation MSE")
plt.show()
print(
    f"best: lr = {best_lr:.3g}, momentum = {best_momentum:g}, "
    f"validation MSE {table.min():.4f} (noise variance is 0.01)"
)

# %% md
r"""
❓ **Question.** Why not pick the setting with the lowest *training* loss?

<details><summary>Answer</summary>

Because the training loss can be driven down by fitting the noise of the training examples,
which does not carry over to new data; a setting that trains "too well" may predict worse. The
validation set plays the role of new data. And once we have chosen using it, the validation
loss of the winner is optimistic too (we picked the luckiest of fifteen): a final, untouched
**test** set gives the honest number.
</details>

## Random search

Instead of a grid, draw each run's settings at random: the learning rate log-uniformly in
$[10^{-3}, 1]$, the momentum uniformly in $[0, 0.95]$. With the same fifteen runs, each axis is
sampled at fifteen different values instead of five or three.
"""

# %%
gen = gradfit.Generator().manual_seed(4)
u = gradfit.rand(15, 2, generator=gen, dtype=gradfit.float64).numpy()
samples = [(10 ** (-3 + 3 * a), 0.95 * b) for a, b in u]
scores = [validation_loss(lr, mom) for lr, mom in samples]
k = int(np.argmin(scores))
fig, ax = plt.subplots(figsize=(5, 3.5))
points = ax.scatter(
    [s[0] for s in samples],
    [s[1] for s in samples],
    c=np.log10(np.minimum(scores, 10.0)),
    cmap="viridis_r",
)
ax.set_xscale("log")
ax.set_xlabel("learning rate")
ax.set_ylabel("momentum")
fig.colorbar(points, label="log10 validation MSE")
plt.show()
print(
    f"random search best: lr = {samples[k][0]:.3g}, momentum = {samples[k][1]:.2f}, "
    f"MSE {scores[k]:.4f}; grid best {table.min():.4f}"
)

# %% md
r"""
❓ **Question.** If the validation loss depends strongly on the learning rate but hardly on the
momentum, which search wastes more of its fifteen runs?

<details><summary>Answer</summary>

The grid: it tries only five distinct learning rates, each three times with momentum values
that barely matter. Random search tries fifteen distinct learning rates. This is the argument
of Bergstra and Bengio (2012) for random search when only a few hyperparameters matter, which
is usually the case and usually not known in advance.
</details>

## The winner

Retrain with the best grid setting and look at the fitted curve against the held-out points.
"""

# %%
model = make_model()
optimizer = gradfit.optim.SGD(model.parameters(), lr=float(best_lr), momentum=float(best_momentum))
loader = DataLoader(
    TensorDataset(x_train, y_train),
    batch_size=16,
    shuffle=True,
    generator=gradfit.Generator().manual_seed(3),
)
for _epoch in range(15):
    for xb, yb in loader:
        optimizer.zero_grad()
        nn.MSELoss()(model(xb), yb).backward()
        optimizer.step()
xs = gradfit.tensor(np.linspace(-1, 1, 200)[:, None])
with gradfit.no_grad():
    curve = model(xs).numpy()
plt.figure(figsize=(5, 3))
plt.plot(x_train.numpy(), y_train.numpy(), ".", color="tab:orange", label="training")
plt.plot(x_val.numpy(), y_val.numpy(), "x", color="tab:green", label="validation")
plt.plot(xs.numpy(), curve, color="k", label="model")
plt.legend()
plt.show()

# %% md
r"""
## With PyTorch's names

PyTorch has no search of its own: a search is a loop like ours around an ordinary training
function (`torch.utils.data.random_split` makes the split). Libraries such as Optuna choose
the next trial from the previous ones (Bayesian optimisation, early stopping of poor runs).
gradfit's command line wraps Optuna for its training recipe:

```
gradfit search --epochs 10 --trials 30
```

## What to remember

- Hyperparameters are chosen by training many models and comparing them on held-out data.
- Learning rates live on a log scale; momentum and learning rate interact.
- For the same budget, random search samples each hyperparameter at more distinct values than
  a grid; keep a test set aside for the final number.
"""
