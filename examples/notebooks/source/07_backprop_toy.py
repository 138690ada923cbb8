# Source of the lesson notebook "07_backprop_toy" (see ../make_notebooks.py).
# %% md
r"""
# Lesson 7 — Backpropagation in the toy model

Every optimizer so far needs $\partial \ell_i/\partial\phi$. For the lecture's toy model

$$f[x, \phi] = \beta_3 + \omega_3 \cos\Big[\beta_2 + \omega_2 \exp\big[\beta_1 + \omega_1
\sin[\beta_0 + \omega_0 x]\big]\Big], \qquad \ell_i = (f[x_i, \phi] - y_i)^2,$$

with eight parameters $\phi = \{\beta_0, \omega_0, \dots, \beta_3, \omega_3\}$, writing each
derivative out in closed form is possible but long and redundant: the expression for
$\partial\ell_i/\partial\omega_0$ alone repeats most of the model. **Backpropagation**
organises the chain rule so that nothing is computed twice:

1. **Forward pass**: compute and store the intermediate values
   $f_0 = \beta_0 + \omega_0 x_i$, $h_1 = \sin f_0$, $f_1 = \beta_1 + \omega_1 h_1$,
   $h_2 = \exp f_1$, $f_2 = \beta_2 + \omega_2 h_2$, $h_3 = \cos f_2$,
   $f_3 = \beta_3 + \omega_3 h_3$, and $\ell_i = (f_3 - y_i)^2$.
2. **Backward pass #1**: the derivatives of $\ell_i$ with respect to these intermediates, in
   reverse order, each one reusing the previous one (eq. 7.12):
   $\frac{\partial\ell_i}{\partial f_3} = 2(f_3 - y_i)$,
   $\frac{\partial\ell_i}{\partial h_3} = \frac{\partial f_3}{\partial h_3}
   \frac{\partial\ell_i}{\partial f_3}$, and so on down to
   $\frac{\partial\ell_i}{\partial f_0}$.
3. **Backward pass #2**: the parameters. Since $f_k = \beta_k + \omega_k h_k$,
   $\frac{\partial\ell_i}{\partial\beta_k} = \frac{\partial\ell_i}{\partial f_k}$ and
   $\frac{\partial\ell_i}{\partial\omega_k} = h_k\frac{\partial\ell_i}{\partial f_k}$ (with
   $h_0 = x_i$ for $\omega_0$).

You will write the three passes (exercises ✏️). The checkers compare every intermediate with
gradfit's automatic differentiation, which runs the same algorithm on the recorded graph.
"""

# %%
import math

import matplotlib.pyplot as plt
import numpy as np

import gradfit
from gradfit.lecture.exercises import (
    check_toy_backward,
    check_toy_forward,
    check_toy_parameter_gradients,
)

beta = [1.0, 2.0, -3.0, 0.4]
omega = [0.1, -0.4, 2.0, 3.0]
x, y = 2.3, 2.0

# %% md
r"""
### ✏️ Exercise 1: the forward pass

Write `forward_pass(x, beta, omega)` returning the seven stored values
`(f0, h1, f1, h2, f2, h3, f3)` for one input `x` (plain floats; `math.sin` etc. will do).
"""


# %%
def forward_pass(x, beta, omega):
    """(f0, h1, f1, h2, f2, h3, f3) of the toy model."""
    # BEGIN SOLUTION
    f0 = beta[0] + omega[0] * x
    h1 = math.sin(f0)
    f1 = beta[1] + omega[1] * h1
    h2 = math.exp(f1)
    f2 = beta[2] + omega[2] * h2
    h3 = math.cos(f2)
    f3 = beta[3] + omega[3] * h3
    return f0, h1, f1, h2, f2, h3, f3
    # END SOLUTION


# %%
check_toy_forward(forward_pass)
forward = forward_pass(x, beta, omega)
for name, value in zip(("f0", "h1", "f1", "h2", "f2", "h3", "f3"), forward):
    print(f"{name} = {value:+.6f}")
print(f"loss = {(forward[-1] - y) ** 2:.6f}")

# %% md
r"""
### ✏️ Exercise 2: backward pass #1

Write `backward_pass(x, y, beta, omega, forward)`; `forward` is the tuple of Exercise 1.
Return the seven derivatives in the order they are computed:
`(dl_df3, dl_dh3, dl_df2, dl_dh2, dl_df1, dl_dh1, dl_df0)`. Each is one local derivative
times the previous result: $\partial f_k/\partial h_k = \omega_k$, and
$\partial h_{k+1}/\partial f_k$ is the derivative of $\sin$, $\exp$ or $\cos$ at $f_k$.
"""


# %%
def backward_pass(x, y, beta, omega, forward):
    """Derivatives of the loss w.r.t. f3, h3, f2, h2, f1, h1, f0 (eq. 7.12)."""
    f0, h1, f1, h2, f2, h3, f3 = forward
    # BEGIN SOLUTION
    dl_df3 = 2 * (f3 - y)
    dl_dh3 = omega[3] * dl_df3
    dl_df2 = -math.sin(f2) * dl_dh3
    dl_dh2 = omega[2] * dl_df2
    dl_df1 = math.exp(f1) * dl_dh2
    dl_dh1 = omega[1] * dl_df1
    dl_df0 = math.cos(f0) * dl_dh1
    return dl_df3, dl_dh3, dl_df2, dl_dh2, dl_df1, dl_dh1, dl_df0
    # END SOLUTION


# %%
check_toy_backward(backward_pass)
backward = backward_pass(x, y, beta, omega, forward)

# %% md
r"""
Look at the magnitudes as the pass moves towards the input: each step multiplies by a weight
and by a local derivative. Where those factors are large the derivatives grow, where they are
small they shrink. In a deep network this product of many factors is the origin of exploding
and vanishing gradients (lesson 9).
"""

# %%
names = ["∂ℓ/∂f3", "∂ℓ/∂h3", "∂ℓ/∂f2", "∂ℓ/∂h2", "∂ℓ/∂f1", "∂ℓ/∂h1", "∂ℓ/∂f0"]
plt.figure(figsize=(6, 3))
plt.bar(names, np.abs(backward))
plt.yscale("log")
plt.ylabel("magnitude")
plt.title("backward pass #1, from the output towards the input")
plt.show()

# %% md
r"""
### ✏️ Exercise 3: backward pass #2, the parameters

Write `parameter_gradients(x, forward, backward)` returning `(dl_dbeta, dl_domega)`, two
lists of four values. Remember which value each weight multiplies: $\omega_0$ multiplies $x$,
$\omega_1$ multiplies $h_1$, and so on.
"""


# %%
def parameter_gradients(x, forward, backward):
    """([dl/dbeta_k], [dl/domega_k]) for k = 0..3."""
    f0, h1, f1, h2, f2, h3, f3 = forward
    dl_df3, dl_dh3, dl_df2, dl_dh2, dl_df1, dl_dh1, dl_df0 = backward
    # BEGIN SOLUTION
    dl_dbeta = [dl_df0, dl_df1, dl_df2, dl_df3]
    dl_domega = [x * dl_df0, h1 * dl_df1, h2 * dl_df2, h3 * dl_df3]
    return dl_dbeta, dl_domega
    # END SOLUTION


# %%
check_toy_parameter_gradients(parameter_gradients)
dl_dbeta, dl_domega = parameter_gradients(x, forward, backward)
for k in range(4):
    print(f"dl/dbeta{k} = {dl_dbeta[k]:+.6f}   dl/domega{k} = {dl_domega[k]:+.6f}")

# %% md
r"""
## Three more opinions

The lecture writes $\partial\ell_i/\partial\omega_0$ out in full:

$$\frac{\partial \ell_i}{\partial \omega_0} = -2\big(f_3 - y_i\big)\,\omega_1\omega_2\omega_3\,
x_i \cos[f_0]\, \exp[f_1]\, \sin[f_2].$$

Below: that formula, central finite differences, and gradfit's autodiff, whose
`retain_grad()` keeps the derivatives of intermediate values too.
"""

# %%
f0, h1, f1, h2, f2, h3, f3 = forward
closed_form = (
    -2 * (f3 - y) * omega[1] * omega[2] * omega[3] * x * math.cos(f0) * math.exp(f1) * math.sin(f2)
)


def loss_at(b, w):
    return (forward_pass(x, b, w)[-1] - y) ** 2


eps = 1e-6
w_plus, w_minus = list(omega), list(omega)
w_plus[0] += eps
w_minus[0] -= eps
finite = (loss_at(beta, w_plus) - loss_at(beta, w_minus)) / (2 * eps)

b = [gradfit.tensor(v, dtype=gradfit.float64, requires_grad=True) for v in beta]
w = [gradfit.tensor(v, dtype=gradfit.float64, requires_grad=True) for v in omega]
F0 = b[0] + w[0] * x
F1 = b[1] + w[1] * gradfit.sin(F0)
F2 = b[2] + w[2] * gradfit.exp(F1)
F3 = b[3] + w[3] * gradfit.cos(F2)
F0.retain_grad()
((F3 - y) ** 2).backward()
print(f"backprop (yours)   : {dl_domega[0]:+.10f}")
print(f"closed form        : {closed_form:+.10f}")
print(f"finite differences : {finite:+.10f}")
print(f"gradfit autodiff   : {w[0].grad.item():+.10f}   (and dl/df0 = {F0.grad.item():+.6f})")

# %% md
r"""
❓ **Question.** Count the work. How many multiplications does backprop need for all eight
derivatives, compared with evaluating eight closed-form expressions like the one above?

<details><summary>Answer</summary>

Backprop: one multiplication per step of backward pass #1 (seven, each reusing the previous
result) plus one per $\omega_k$ in pass #2: about the cost of the forward pass. The closed
forms recompute the same chain of products for each parameter, so their cost grows with the
number of parameters times the depth. For a network with millions of parameters, backprop's
"about one extra forward pass" is what makes training possible at all.
</details>

❓ **Question.** Why must the forward pass *store* $h_1, h_2, h_3$ (and the $f_k$)?

<details><summary>Answer</summary>

Backward pass #2 needs $h_k$ for $\partial\ell/\partial\omega_k$, and pass #1 needs $f_k$ for
the local derivatives ($\cos f_0$, $\exp f_1$, $-\sin f_2$). Recomputing them would cost a
forward pass per use. Keeping them is the memory cost of backpropagation: it grows with the
depth and the batch size, which is why large models run out of memory in training but not in
inference.
</details>

## With PyTorch's names

In PyTorch (and gradfit) the forward pass is the ordinary computation on tensors with
`requires_grad=True`; `loss.backward()` runs both backward passes and leaves
$\partial\ell/\partial\beta_k$ in `beta_k.grad`. Intermediate tensors keep their gradient only
after `retain_grad()`. `torch.autograd.grad(loss, [w0, b0])` returns gradients without
storing them; gradfit has it as `gradfit.autograd.grad`:
"""

# %%
b = [gradfit.tensor(v, dtype=gradfit.float64, requires_grad=True) for v in beta]
w = [gradfit.tensor(v, dtype=gradfit.float64, requires_grad=True) for v in omega]
f = b[3] + w[3] * gradfit.cos(b[2] + w[2] * gradfit.exp(b[1] + w[1] * gradfit.sin(b[0] + w[0] * x)))
grads = gradfit.autograd.grad((f - y) ** 2, b + w)
print("autograd.grad:", np.round([g.item() for g in grads], 6))
print("yours        :", np.round(dl_dbeta + dl_domega, 6))
assert np.allclose([g.item() for g in grads], dl_dbeta + dl_domega)

# %% md
r"""
## What to remember

- Backprop = forward pass (store $f_k$, $h_k$) + backward pass #1 (derivatives w.r.t. the
  intermediates, in reverse, each reusing the last, eq. 7.12) + backward pass #2
  ($\partial\ell/\partial\beta_k = \partial\ell/\partial f_k$,
  $\partial\ell/\partial\omega_k = h_k\,\partial\ell/\partial f_k$).
- It costs about one more forward pass, whatever the number of parameters, and memory for the
  stored values.
- Next: the same algorithm for a deep network with vectors and matrices.
"""
