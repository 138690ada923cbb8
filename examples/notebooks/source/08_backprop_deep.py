# Source of the lesson notebook "08_backprop_deep" (see ../make_notebooks.py).
# %% md
r"""
# Lesson 8 — Backpropagation in a deep network

The toy model of lesson 7 had one number per layer. A real network has vectors and matrices,
but the algorithm is the same. Take $K$ hidden layers with ReLU activations $\mathbf a[\cdot]$
and the lecture's notation ("Overall Backprop Algorithm"):

**Forward pass** — compute and store

$$\mathbf f_0 = \boldsymbol\beta_0 + \boldsymbol\Omega_0\mathbf x_i, \qquad
\mathbf h_k = \mathbf a[\mathbf f_{k-1}], \qquad
\mathbf f_k = \boldsymbol\beta_k + \boldsymbol\Omega_k \mathbf h_k \qquad (k = 1, \dots, K).$$

**Backward pass** — start from $\partial\ell_i/\partial\mathbf f_K$ (for the least-squares loss
$\ell_i = \|\mathbf f_K - \mathbf y_i\|^2$ it is $2(\mathbf f_K - \mathbf y_i)$) and, for
$k = K, K-1, \dots, 1$,

$$\frac{\partial\ell_i}{\partial\boldsymbol\beta_k} = \frac{\partial\ell_i}{\partial\mathbf f_k},
\qquad
\frac{\partial\ell_i}{\partial\boldsymbol\Omega_k} = \frac{\partial\ell_i}{\partial\mathbf f_k}
\mathbf h_k^\top, \qquad
\frac{\partial\ell_i}{\partial\mathbf f_{k-1}} = \mathbb I[\mathbf f_{k-1} > 0] \odot
\left(\boldsymbol\Omega_k^\top \frac{\partial\ell_i}{\partial\mathbf f_k}\right),$$

and finally $\partial\ell_i/\partial\boldsymbol\beta_0 = \partial\ell_i/\partial\mathbf f_0$,
$\partial\ell_i/\partial\boldsymbol\Omega_0 = (\partial\ell_i/\partial\mathbf f_0)\,
\mathbf x_i^\top$. Three facts carry over from the toy model: a weight's gradient is the
gradient at its destination times the value at its source (the outer product); the gradient
flows back through the *transposed* weights; and the ReLU lets it through only where the unit
was active. You write the ReLU derivative, the forward pass and the backward pass (✏️).
"""

# %%
import matplotlib.pyplot as plt
import numpy as np

import gradfit
from gradfit import nn
from gradfit.lecture.exercises import (
    check_deep_backward,
    check_deep_forward,
    check_relu_derivative,
)

sizes = [4, 6, 6, 6, 1]  # input, three hidden layers of 6 units, one output: K = 3
K = len(sizes) - 2
g = gradfit.Generator().manual_seed(0)
weights = [
    gradfit.randn(sizes[k + 1], sizes[k], generator=g, dtype=gradfit.float64).numpy()
    * np.sqrt(2 / sizes[k])
    for k in range(K + 1)
]
biases = [
    gradfit.randn(sizes[k + 1], 1, generator=g, dtype=gradfit.float64).numpy() * 0.1
    for k in range(K + 1)
]
x = gradfit.randn(sizes[0], 1, generator=g, dtype=gradfit.float64).numpy()
y = gradfit.randn(sizes[-1], 1, generator=g, dtype=gradfit.float64).numpy()
for k, (w, b) in enumerate(zip(weights, biases)):
    print(f"Omega_{k}: {w.shape}   beta_{k}: {b.shape}")

# %% md
r"""
Vectors are columns here (shape `(D, 1)`), as in the lecture's equations, so
$\boldsymbol\Omega_k$ has one row per output unit and one column per input unit.

### ✏️ Exercise 1: the ReLU's derivative

Write `relu_derivative(f)`: the indicator $\mathbb I[\mathbf f > 0]$, an array of the same
shape as `f` holding 1.0 where `f > 0` and 0.0 elsewhere.
"""


# %%
def relu(f):
    return np.maximum(f, 0.0)


def relu_derivative(f):
    """I[f > 0] as floats, the same shape as f."""
    # BEGIN SOLUTION
    return (f > 0).astype(float)
    # END SOLUTION


# %%
check_relu_derivative(relu_derivative)

# %% md
r"""
### ✏️ Exercise 2: the forward pass

Write `forward_pass(x, weights, biases)` returning `(all_f, all_h)`: the lists
$[\mathbf f_0, \dots, \mathbf f_K]$ and $[\mathbf h_0, \mathbf h_1, \dots, \mathbf h_K]$ where,
for convenience, $\mathbf h_0 = \mathbf x$ (so that $\mathbf f_k = \boldsymbol\beta_k +
\boldsymbol\Omega_k\mathbf h_k$ holds for every $k$, including 0). Use `@` for matrix products.
"""


# %%
def forward_pass(x, weights, biases):
    """(all_f, all_h) with all_h[0] = x."""
    # BEGIN SOLUTION
    all_h = [x]
    all_f = [biases[0] + weights[0] @ x]
    for k in range(1, len(weights)):
        all_h.append(relu(all_f[k - 1]))
        all_f.append(biases[k] + weights[k] @ all_h[k])
    return all_f, all_h
    # END SOLUTION


# %%
check_deep_forward(forward_pass)
all_f, all_h = forward_pass(x, weights, biases)
print("output f_K =", all_f[-1].ravel(), " loss =", float(np.sum((all_f[-1] - y) ** 2)))

# %% md
r"""
### ✏️ Exercise 3: the backward pass

Write `backward_pass(weights, biases, all_f, all_h, y)` returning `(dl_dweights, dl_dbiases)`,
lists with one array per layer, each of the same shape as the parameter. Start from
$\partial\ell/\partial\mathbf f_K = 2(\mathbf f_K - \mathbf y)$ and go down the layers with the
three equations above. (Handy: `dl_dweights = [None] * len(weights)`, then fill from the
end.)
"""


# %%
def backward_pass(weights, biases, all_f, all_h, y):
    """Gradients of ||f_K - y||^2 w.r.t. every Omega_k and beta_k."""
    K = len(weights) - 1
    dl_dweights, dl_dbiases = [None] * (K + 1), [None] * (K + 1)
    # BEGIN SOLUTION
    dl_df = 2 * (all_f[K] - y)
    for k in range(K, -1, -1):
        dl_dbiases[k] = dl_df
        dl_dweights[k] = dl_df @ all_h[k].T
        if k > 0:
            dl_df = relu_derivative(all_f[k - 1]) * (weights[k].T @ dl_df)
    # END SOLUTION
    return dl_dweights, dl_dbiases


# %%
check_deep_backward(backward_pass)
dl_dweights, dl_dbiases = backward_pass(weights, biases, all_f, all_h, y)

# %% md
r"""
## Against gradfit's autodiff, and what it walked

gradfit records every operation of the forward pass in a graph and walks it backwards, which
is your backward pass, one node at a time. The drawing shows the graph for this network
(drawn before `backward()`, which frees it); the bar chart compares the gradient norms per
layer.
"""

# %%
W = [gradfit.tensor(w, requires_grad=True) for w in weights]
B = [gradfit.tensor(b, requires_grad=True) for b in biases]
F = B[0] + W[0] @ gradfit.tensor(x)
for k in range(1, K + 1):
    F = B[k] + W[k] @ gradfit.relu(F)
loss = ((F - gradfit.tensor(y)) ** 2).sum()
fig, ax = plt.subplots(figsize=(5, 9))
gradfit.viz.draw_graph(loss, ax=ax, title="autodiff graph of the loss")
plt.show()
loss.backward()
for k in range(K + 1):
    diff = np.abs(W[k].grad.numpy() - dl_dweights[k]).max()
    print(f"layer {k}: max |autodiff - yours| for Omega_{k} = {diff:.1e}")
plt.figure(figsize=(5, 3))
plt.bar(range(K + 1), [np.linalg.norm(d) for d in dl_dweights])
plt.xlabel("layer k")
plt.ylabel("‖∂ℓ/∂Ω_k‖")
plt.show()

# %% md
r"""
❓ **Question.** Some rows of $\partial\ell/\partial\boldsymbol\Omega_k$ may be exactly zero.
Which ones, and why?

<details><summary>Answer</summary>

Row $j$ of $\partial\ell/\partial\boldsymbol\Omega_k$ is $(\partial\ell/\partial f_{k,j})\,
\mathbf h_k^\top$. If unit $j$ of the next ReLU was inactive ($f_{k,j} < 0$), the indicator
zeroes $\partial\ell/\partial f_{k,j}$ and with it the whole row: the weights into a dead unit
get no gradient from this example. Likewise *columns* are zero where the source $h_{k,i}$ is
zero. The cell below counts them.
</details>
"""

# %%
for k in range(K + 1):
    zero_rows = int(np.sum(np.all(dl_dweights[k] == 0, axis=1)))
    zero_cols = int(np.sum(np.all(dl_dweights[k] == 0, axis=0)))
    print(f"dl/dOmega_{k}: {zero_rows} zero rows, {zero_cols} zero columns")

# %% md
r"""
❓ **Question.** SGD needs the gradient of a *batch* loss $\sum_{i\in\mathcal B}\ell_i$. How do
the equations change if the input is a matrix $\mathbf X$ whose columns are the batch's
examples?

<details><summary>Answer</summary>

Nothing but the shapes. The forward pass is the same with $\mathbf X$ in place of
$\mathbf x$ (the bias broadcasts over columns). The backward pass carries a matrix
$\boldsymbol\Delta_k$ whose column $i$ is $\partial\ell_i/\partial\mathbf f_k$; then
$\partial L/\partial\boldsymbol\Omega_k = \boldsymbol\Delta_k \mathbf H_k^\top = \sum_i
(\partial\ell_i/\partial\mathbf f_k)\,\mathbf h_{k,i}^\top$, the sum over the batch, computed
by one matrix product; and $\partial L/\partial\boldsymbol\beta_k$ sums $\boldsymbol\Delta_k$
over its columns. Your functions already work for a batch, apart from the bias sum: the cell
below checks this with a batch of 5.
</details>
"""

# %%
X = gradfit.randn(sizes[0], 5, generator=g, dtype=gradfit.float64).numpy()
Y = gradfit.randn(sizes[-1], 5, generator=g, dtype=gradfit.float64).numpy()
batch_f, batch_h = forward_pass(X, weights, biases)
batch_dw, batch_db = backward_pass(weights, biases, batch_f, batch_h, Y)
one_by_one = [
    backward_pass(weights, biases, *forward_pass(X[:, i : i + 1], weights, biases), Y[:, i : i + 1])
    for i in range(5)
]
summed = sum(r[0][0] for r in one_by_one)
print(
    "batch dl/dOmega_0 equals the sum of the 5 per-example ones:", np.allclose(batch_dw[0], summed)
)
print(
    "bias gradient: sum the columns ->",
    np.allclose(batch_db[0].sum(1, keepdims=True), sum(r[1][0] for r in one_by_one)),
)

# %% md
r"""
## With PyTorch's names

The network is `nn.Sequential(nn.Linear(4, 6), nn.ReLU(), ..., nn.Linear(6, 1))`. A
`Linear` layer stores $\boldsymbol\Omega_k$ as `weight` with the same `(out, in)` shape and
$\boldsymbol\beta_k$ as `bias` of shape `(out,)`; it takes examples as *rows*, so it computes
$\mathbf X\boldsymbol\Omega^\top + \boldsymbol\beta$. After `loss.backward()`, `weight.grad` is
your `dl_dweights[k]`. The loss $\|\mathbf f_K - \mathbf y\|^2$ is
`MSELoss(reduction="sum")`.
"""

# %%
layers = []
for k in range(K + 1):
    layers.append(nn.Linear(sizes[k], sizes[k + 1], dtype=gradfit.float64))
    if k < K:
        layers.append(nn.ReLU())
model = nn.Sequential(*layers)
linears = [m for m in model if isinstance(m, nn.Linear)]
with gradfit.no_grad():
    for layer, w, b in zip(linears, weights, biases):
        layer.weight.copy_(gradfit.tensor(w))
        layer.bias.copy_(gradfit.tensor(b[:, 0]))
out = model(gradfit.tensor(x.T))  # one example as a row
nn.MSELoss(reduction="sum")(out, gradfit.tensor(y.T)).backward()
for k, layer in enumerate(linears):
    same = np.allclose(layer.weight.grad.numpy(), dl_dweights[k]) and np.allclose(
        layer.bias.grad.numpy(), dl_dbiases[k][:, 0]
    )
    print(f"Linear {k}: weight.grad and bias.grad equal yours: {same}")
    assert same

# %% md
r"""
## What to remember

- Forward: store every $\mathbf f_k$ and $\mathbf h_k$. Backward: $\partial\ell/\partial
  \boldsymbol\beta_k = \partial\ell/\partial\mathbf f_k$, $\partial\ell/\partial
  \boldsymbol\Omega_k = (\partial\ell/\partial\mathbf f_k)\,\mathbf h_k^\top$, and through the
  transposed weights and the ReLU's indicator to the layer below.
- For a batch, the same equations with matrices; the outer products become one matrix
  product that sums over the examples.
- Each backward step multiplies by $\boldsymbol\Omega_k^\top$: if the weights are too small
  or too large, the gradients shrink or grow layer after layer. That is lesson 9.
"""
