# Source of the lesson notebook "09_initialisation" (see ../make_notebooks.py).
# %% md
r"""
# Lesson 9 — Initialisation: vanishing and exploding variance

Before the first step of training, every weight needs a value. The lecture initialises the
biases to zero and each weight $\Omega_{ij}$ from a normal distribution with mean zero and
variance $\sigma^2_\Omega$, and asks: what happens to the pre-activations
$\mathbf f_k = \boldsymbol\beta_k + \boldsymbol\Omega_k\,\mathbf a[\mathbf f_{k-1}]$ as they go
through many layers?

The lecture's derivation ("Variance of $\mathbf f_i$"): with independent zero-mean weights,
$\mathbb E[f'_i] = 0$ and

$$\sigma^2_{f'} = \sigma^2_\Omega \sum_{j=1}^{D_h} \mathbb E[h_j^2]
= \frac{1}{2} D_h\, \sigma^2_\Omega\, \sigma^2_f,$$

because a ReLU applied to a zero-mean symmetric input keeps half of its second moment,
$\mathbb E[h_j^2] = \sigma^2_f/2$. So every layer multiplies the variance by
$\frac12 D_h\sigma^2_\Omega$. Below 1, the signal **vanishes** exponentially with depth; above
1, it **explodes**. The backward pass multiplies by $\boldsymbol\Omega^\top$ at every layer and
suffers the same fate: vanishing or exploding gradients (figure 7.7). The cure is to choose
$\sigma^2_\Omega$ so that the factor is exactly 1: **He initialisation**, $\sigma^2_\Omega =
2/D_h$.

You will write He's variance, the variance formula above, and the forward/backward compromise
(exercises ✏️, each checked), then watch figure 7.7 happen.
"""

# %%
from functools import cache

import matplotlib.pyplot as plt
import numpy as np

import gradfit
from gradfit import nn
from gradfit.lecture.exercises import (
    check_compromise_variance,
    check_he_variance,
    check_next_variance,
)
from gradfit.lecture.interactive import explore

# %% md
r"""
### ✏️ Exercise 1: He's variance

Write `he_variance(fan_in)`: the $\sigma^2_\Omega$ that makes
$\frac12 D_h\sigma^2_\Omega = 1$, where $D_h$ = `fan_in` is the number of inputs of the layer.
"""


# %%
def he_variance(fan_in):
    """sigma_Omega^2 that keeps the pre-activation variance constant through ReLU layers."""
    # BEGIN SOLUTION
    return 2.0 / fan_in
    # END SOLUTION


# %%
check_he_variance(he_variance)

# %% md
r"""
### ✏️ Exercise 2: one layer's variance

Write `next_variance(var_f, var_omega, d_h)`: the variance of $\mathbf f' = \boldsymbol\Omega
\,\mathrm{ReLU}(\mathbf f)$ when $\mathbf f$ has variance `var_f` (zero mean, symmetric), the
weights have variance `var_omega` and there are `d_h` inputs. The checker also compares your
formula with a layer it measures.
"""


# %%
def next_variance(var_f, var_omega, d_h):
    """sigma_f'^2 = (1/2) d_h sigma_Omega^2 sigma_f^2."""
    # BEGIN SOLUTION
    return 0.5 * d_h * var_omega * var_f
    # END SOLUTION


# %%
check_next_variance(next_variance)

# %% md
r"""
## Measuring one layer

Push 2000 random pre-activations of variance 1 through a ReLU and one layer of 100 units for
a few weight variances, and compare the measured variance with your formula. The ratio is the
factor that compounds with depth.
"""

# %%
g = gradfit.Generator().manual_seed(0)
D = 100
f = gradfit.randn(2000, D, generator=g, dtype=gradfit.float64)
for var_omega in (0.001, 0.01, he_variance(D), 0.1):
    omega = gradfit.randn(D, D, generator=g, dtype=gradfit.float64) * var_omega**0.5
    measured = (gradfit.relu(f) @ omega.T).numpy().var()
    print(
        f"sigma_Omega^2 = {var_omega:<6g} measured {measured:.4f}   formula "
        f"{next_variance(1.0, var_omega, D):.4f}"
    )

# %% md
r"""
## Figure 7.7: fifty layers

A network of 50 ReLU layers with 100 units, input $\mathbf x \sim \mathcal N(0, \mathbf I)$
(a batch of 32), zero biases, target $y = 0$ and a least-squares loss. We record the variance
of each layer's pre-activations in the forward pass and of the loss's gradient with respect
to them in the backward pass (gradfit's `retain_grad`), for several $\sigma^2_\Omega$. The
dashed lines are your formula, compounded: $(\frac12 D_h\sigma^2_\Omega)^k$. Note the log
scale.
"""

# %%
depth = 50


@cache  # the same settings are drawn more than once below
def variances(var_omega, seed=1):
    gen = gradfit.Generator().manual_seed(seed)
    # the input requires grad so that every f_k is in the graph; the weights need no grad
    h = gradfit.randn(32, D, generator=gen, dtype=gradfit.float64).requires_grad_(True)
    fs = []
    for _ in range(depth):
        omega = gradfit.randn(D, D, generator=gen, dtype=gradfit.float64) * var_omega**0.5
        f = h @ omega.T
        f.retain_grad()
        fs.append(f)
        h = gradfit.relu(f)
    w_out = gradfit.randn(1, D, generator=gen, dtype=gradfit.float64) * var_omega**0.5
    (h @ w_out.T).pow(2).sum().backward()
    forward = np.array([t.detach().numpy().var() for t in fs])
    backward = np.array([t.grad.numpy().var() for t in fs])
    return forward, backward


fig, axes = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
for var_omega in (0.001, 0.01, 0.02, 0.1, 1.0):
    forward, backward = variances(var_omega)
    (line,) = axes[0].semilogy(forward, label=f"σ² = {var_omega:g}")
    layers = np.arange(depth)
    axes[0].semilogy(
        forward[0] * next_variance(1.0, var_omega, D) ** layers, "--", color=line.get_color()
    )
    axes[1].semilogy(backward, label=f"σ² = {var_omega:g}")
axes[0].set_title("forward: variance of f_k")
axes[1].set_title("backward: variance of ∂ℓ/∂f_k")
for ax in axes:
    ax.set_xlabel("layer k")
    ax.legend()
plt.show()
forward, backward = variances(he_variance(D))
print(
    f"He: forward variance, last/first layer = {forward[-1] / forward[0]:.3g}; "
    f"backward, first/last = {backward[0] / backward[-1]:.3g}"
)

# %% md
r"""
With $\sigma^2_\Omega = 0.02 = 2/D_h$ both curves stay level; everything else changes by tens
of orders of magnitude over 50 layers. In float32 (the usual training precision, range about
$10^{\pm 38}$) the extreme curves would underflow to 0 or overflow to infinity. Use the slider
to find how far from 0.02 you can go before the first layer's gradient is a thousand times
too small or too large.
"""


# %%
def draw_variances(ax, var_omega):
    forward, backward = variances(var_omega)
    ax.semilogy(forward, label="forward Var[f_k]")
    ax.semilogy(backward, label="backward Var[∂ℓ/∂f_k]")
    ax.set_title(f"σ² = {var_omega:.3g} (He: {he_variance(D):g})")
    ax.set_xlabel("layer k")
    ax.legend()


explore(
    draw_variances,
    panels=[{"var_omega": 0.015}, {"var_omega": 0.02}, {"var_omega": 0.03}],
    sliders={"var_omega": ("log", 0.005, 0.08, 0.02)},
)

# %% md
r"""
❓ **Question.** He initialisation keeps the *forward* variance constant using the fan-in $D_h$.
The lecture says the backward pass needs $\sigma^2_\Omega = 2/D_{h'}$, with the fan-out. Why
the fan-out?

<details><summary>Answer</summary>

Going backwards, $\partial\ell/\partial\mathbf h = \boldsymbol\Omega^\top\,\partial\ell/
\partial\mathbf f'$: each component is a sum over the $D_{h'}$ units the weights feed *into*,
so the same argument gives the factor $\frac12 D_{h'}\sigma^2_\Omega$ (the ReLU's indicator
halves the second moment again). In our square network $D_h = D_{h'}$ and one choice serves
both directions, which is why both curves are flat for 0.02.
</details>

### ✏️ Exercise 3: the compromise for non-square layers

When $D_h \ne D_{h'}$, no single variance satisfies both conditions. The lecture's compromise
replaces the count of terms by the mean $(D_h + D_{h'})/2$ in $\sigma^2_\Omega = 2/D$. Write
`compromise_variance(fan_in, fan_out)`.
"""


# %%
def compromise_variance(fan_in, fan_out):
    """sigma_Omega^2 = 2 / ((fan_in + fan_out) / 2) = 4 / (fan_in + fan_out)."""
    # BEGIN SOLUTION
    return 4.0 / (fan_in + fan_out)
    # END SOLUTION


# %%
check_compromise_variance(compromise_variance)
for fan_in, fan_out in ((40, 100), (100, 40)):
    print(
        f"{fan_in}->{fan_out}: forward needs {he_variance(fan_in):.4f}, backward "
        f"{he_variance(fan_out):.4f}, compromise {compromise_variance(fan_in, fan_out):.4f}"
    )

# %% md
r"""
❓ **Question.** Biases start at zero here. Would a large constant bias, say 1, fix vanishing
activations?

<details><summary>Answer</summary>

It keeps the activations from shrinking to zero, but it does so by adding the same value to
every unit and every example: the pre-activations become nearly constant, so the layer passes
on little information about its input, and with $\sigma^2_\Omega$ above He's value the bias is
amplified layer after layer as well. The variance argument is about making the *input-dependent*
part survive; zero biases keep the analysis exact.
</details>

## With PyTorch's names

- He initialisation: `nn.init.kaiming_normal_(weight, nonlinearity="relu")` draws
  $\mathcal N(0, 2/\text{fan\_in})$; `mode="fan_out"` uses the backward condition;
  `kaiming_uniform_` draws from a uniform distribution with the same variance (the lecture's
  program uses it).
- The compromise: `nn.init.xavier_normal_(weight, gain=nn.init.calculate_gain("relu"))` has
  variance $\text{gain}^2 \cdot 2/(\text{fan\_in} + \text{fan\_out}) = 4/(D_h + D_{h'})$.
- Careful: `nn.Linear`'s *default* initialisation is `kaiming_uniform_(a=√5)`, variance
  $1/(3\,\text{fan\_in})$, which is six times smaller than He's. That is why the lecture's
  program re-initialises its layers with `model.apply(weights_init)`.

The cell below measures each of them in gradfit on a 100 × 400 weight matrix.
"""

# %%
gen = gradfit.Generator().manual_seed(5)
fan_out, fan_in = 100, 400
w = gradfit.empty(fan_out, fan_in, dtype=gradfit.float64)
measured = {
    "kaiming_normal_": nn.init.kaiming_normal_(w, nonlinearity="relu", generator=gen).numpy().var(),
    "kaiming_uniform_": nn.init.kaiming_uniform_(w, nonlinearity="relu", generator=gen)
    .numpy()
    .var(),
    "xavier_normal_(relu gain)": nn.init.xavier_normal_(
        w, gain=nn.init.calculate_gain("relu"), generator=gen
    )
    .numpy()
    .var(),
    "nn.Linear default": nn.Linear(fan_in, fan_out).weight.detach().numpy().var(),
}
expected = {
    "kaiming_normal_": he_variance(fan_in),
    "kaiming_uniform_": he_variance(fan_in),
    "xavier_normal_(relu gain)": compromise_variance(fan_in, fan_out),
    "nn.Linear default": 1 / (3 * fan_in),
}
for name, value in measured.items():
    print(f"{name:26s} measured {value:.5f}   expected {expected[name]:.5f}")
    assert abs(value / expected[name] - 1) < 0.05

# %% md
r"""
## What to remember

- Each ReLU layer multiplies the pre-activation variance by $\frac12 D_h\sigma^2_\Omega$; over
  many layers the signal, and the gradient in the backward pass, vanishes or explodes unless
  that factor is 1.
- He initialisation $\sigma^2_\Omega = 2/D_h$ (fan-in) keeps the forward pass level;
  $2/D_{h'}$ (fan-out) the backward pass; $4/(D_h + D_{h'})$ is the compromise.
- Check what your framework's layers do by default before trusting them in a deep network.
"""
