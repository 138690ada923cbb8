# Source of the lesson notebook "02_gradient_descent" (see ../make_notebooks.py).
# %% md
r"""
# Lesson 2 — Gradient descent on linear regression

The simplest model of the lecture is a straight line, $f[x, \phi] = \phi_0 + \phi_1 x$, with an
intercept $\phi_0$ and a slope $\phi_1$ (eq. 6.4). Given $I$ training pairs $\{x_i, y_i\}$, the
least-squares loss adds up one squared error per example:

$$L[\phi] = \sum_{i=1}^{I} \ell_i = \sum_{i=1}^{I} (\phi_0 + \phi_1 x_i - y_i)^2
\qquad \text{(eq. 6.5)}$$

To fit the line we need the gradient. Because the loss is a sum, its derivative is the sum of
the per-example derivatives (eq. 6.6), and each of those follows from the chain rule:

$$\frac{\partial \ell_i}{\partial \phi} =
\begin{bmatrix} 2(\phi_0 + \phi_1 x_i - y_i) \\ 2x_i(\phi_0 + \phi_1 x_i - y_i)\end{bmatrix}
\qquad \text{(eq. 6.7)}$$

Then gradient descent repeats $\phi \leftarrow \phi - \alpha\, \partial L/\partial\phi$
(eq. 6.3). In this lesson you write the loss, the gradient and the loop yourself, check the
gradient against gradfit's automatic differentiation, and see what the learning rate does.
Exercises are marked ✏️; each is followed by a checker that names the value that is wrong.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np

import gradfit
from gradfit.lecture.exercises import (
    check_gradient_descent,
    check_linreg_gradient,
    check_linreg_loss,
)
from gradfit.lecture.interactive import explore

data = gradfit.datasets.linreg()  # the lecture's 12 pairs (figure 6.1)
x, y = data.x[:, 0], data.y[:, 0]
print("x:", x)
print("y:", y)

# %% md
r"""
## The data and a first guess

The 12 points lie roughly on a rising line. Our starting guess, $\phi = [0.6, -0.2]$, is a
line that falls: a bad fit, which is the point. Look at the plot and estimate by eye which
intercept and slope would fit better; gradient descent should end up near your estimate.
"""


# %%
def draw_line(ax, phi, **style):
    xs = np.linspace(0, 2, 10)
    ax.plot(xs, phi[0] + phi[1] * xs, **style)


fig, ax = plt.subplots(figsize=(4.5, 3.5))
ax.plot(x, y, "o", color="tab:orange")
draw_line(ax, [0.6, -0.2], color="tab:blue", label="φ = [0.6, -0.2]")
ax.set_xlabel("x")
ax.set_ylabel("y")
ax.legend()
plt.show()

# %% md
r"""
### ✏️ Exercise 1: the loss

Write `compute_loss(phi, x, y)`, the loss of eq. 6.5 for the parameter vector `phi` (a NumPy
array of two numbers) on the data `x`, `y` (NumPy arrays). It returns one number: the **sum**
of the squared errors, not their mean.
"""


# %%
def compute_loss(phi, x, y):
    """L[phi] = sum_i (phi0 + phi1 x_i - y_i)^2 (eq. 6.5)."""
    # BEGIN SOLUTION
    residual = phi[0] + phi[1] * x - y
    return float(np.sum(residual**2))
    # END SOLUTION


# %%
check_linreg_loss(compute_loss)
print("loss of the first guess:", compute_loss(np.array([0.6, -0.2]), x, y))

# %% md
r"""
### ✏️ Exercise 2: the gradient by hand

Write `compute_gradient(phi, x, y)`: return `np.array([dL/dphi0, dL/dphi1])`, summing eq. 6.7
over the 12 examples. The checker compares each component with what gradfit's autodiff
computes for the same loss, so a sign or a missing factor is named precisely.
"""


# %%
def compute_gradient(phi, x, y):
    """[dL/dphi0, dL/dphi1] for the least-squares loss (eqs. 6.6-6.7)."""
    # BEGIN SOLUTION
    residual = phi[0] + phi[1] * x - y
    return np.array([np.sum(2 * residual), np.sum(2 * x * residual)])
    # END SOLUTION


# %%
check_linreg_gradient(compute_gradient)

# %% md
r"""
## Three opinions on one derivative

There are three ways to get a gradient: by hand (your function), by automatic
differentiation (gradfit records the computation and runs it backwards; lessons 7 and 8 show
how), and by **finite differences**, nudging each parameter by a small $\delta$:

$$\frac{\partial L}{\partial \phi_0} \approx \frac{L[\phi_0 + \delta, \phi_1] -
L[\phi_0 - \delta, \phi_1]}{2\delta}.$$

Finite differences need two loss evaluations per parameter, which is hopeless for a network
with millions of parameters, but they make a good independent check.
"""

# %%
phi0 = np.array([0.6, -0.2])
p = gradfit.tensor(phi0, dtype=gradfit.float64, requires_grad=True)
((p[0] + p[1] * gradfit.tensor(x) - gradfit.tensor(y)) ** 2).sum().backward()
delta = 1e-6
finite = [
    (compute_loss(phi0 + delta * e, x, y) - compute_loss(phi0 - delta * e, x, y)) / (2 * delta)
    for e in np.eye(2)
]
print("by hand          :", compute_gradient(phi0, x, y))
print("gradfit autodiff :", p.grad.numpy())
print("finite difference:", np.array(finite))

# %% md
r"""
### ✏️ Exercise 3: the descent loop

Write `gradient_descent(phi_start, x, y, lr, n_steps)`: starting from `phi_start`, apply
eq. 6.3 with the fixed learning rate `lr` for `n_steps` steps, using your `compute_gradient`.
Return the whole path as an array of shape `(n_steps + 1, 2)`: the start, then $\phi$ after
each step. The checker runs `gradfit.optim.SGD` on the same loss and compares step by step.
"""


# %%
def gradient_descent(phi_start, x, y, lr, n_steps):
    """The path of fixed-step gradient descent, shape (n_steps + 1, 2) (eq. 6.3)."""
    # BEGIN SOLUTION
    path = [np.array(phi_start, dtype=float)]
    for _ in range(n_steps):
        path.append(path[-1] - lr * compute_gradient(path[-1], x, y))
    return np.array(path)
    # END SOLUTION


# %%
check_gradient_descent(gradient_descent)

# %% md
r"""
## The learning rate decides everything

The heat map below is the loss over $(\phi_0, \phi_1)$: dark is low. It is a long, tilted
valley, much steeper across than along. The panels run 40 steps from the same start with
three learning rates. Predict before looking: which one crawls, which one converges, which
one zig-zags across the valley? With ipywidgets, the slider tries any rate.
"""

# %%
g0, g1 = np.meshgrid(np.linspace(-0.5, 2.5, 121), np.linspace(-1.2, 1.5, 121))
landscape = ((g0[..., None] + g1[..., None] * x - y) ** 2).sum(-1)


def draw_descent(ax, lr, n_steps=40):
    path = gradient_descent(np.array([1.8, -0.9]), x, y, lr, n_steps)
    ax.contourf(g0, g1, np.log(landscape), levels=30, cmap="gray")
    ax.plot(path[:, 0], path[:, 1], ".-", color="tab:red", ms=4)
    ax.set_xlim(-0.5, 2.5)
    ax.set_ylim(-1.2, 1.5)
    ax.set_xlabel("intercept φ0")
    ax.set_ylabel("slope φ1")
    ax.set_title(f"lr = {lr:.3g}: loss {compute_loss(path[-1], x, y):.3g}")


explore(
    draw_descent,
    panels=[{"lr": 0.005}, {"lr": 0.02}, {"lr": 0.038}],
    sliders={"lr": ("log", 0.001, 0.045, 0.02)},
)

# %% md
r"""
❓ **Question.** Above a certain learning rate the iterates fly off. Can you predict that rate
from the data alone?

<details><summary>Answer</summary>

The loss is a quadratic, $L = \|A\phi - y\|^2$ with $A = [\mathbf 1, x]$, whose Hessian is
$H = 2A^\top A$. Gradient descent multiplies the error along the Hessian's eigenvector with
eigenvalue $\lambda$ by $(1 - \alpha\lambda)$ every step, so it diverges as soon as
$\alpha > 2/\lambda_\max$. The cell below computes it: about 0.04 for these 12 points. The
smallest eigenvalue sets how slowly the path crawls along the valley floor.
</details>
"""

# %%
A = np.stack([np.ones_like(x), x], axis=1)
eigenvalues = np.linalg.eigvalsh(2 * A.T @ A)
print("Hessian eigenvalues:", eigenvalues)
print("largest stable learning rate 2/lambda_max =", 2 / eigenvalues.max())
for lr in (0.9 * 2 / eigenvalues.max(), 1.1 * 2 / eigenvalues.max()):
    end = gradient_descent(np.array([1.8, -0.9]), x, y, lr, 200)[-1]
    print(f"lr = {lr:.4f}: loss after 200 steps {compute_loss(end, x, y):.4g}")

# %% md
r"""
❓ **Question.** Our loss is a *sum* over examples. What changes if you use the mean instead?

<details><summary>Answer</summary>

Every gradient becomes 12 times smaller, so the same path needs a 12 times larger learning
rate. Nothing else changes: the minimum is the same point. This matters when you move to
PyTorch, whose `MSELoss` averages by default (`reduction="mean"`); the lecture's sums match
`reduction="sum"`.
</details>

## With PyTorch's names

The lecture's loop is exactly `SGD` over the full data set with a summed loss. In gradfit
(and, changing the imports, in PyTorch):
"""

# %%
phi_t = gradfit.tensor([1.8, -0.9], dtype=gradfit.float64, requires_grad=True)
optimizer = gradfit.optim.SGD([phi_t], lr=0.02)
criterion = gradfit.nn.MSELoss(reduction="sum")
xt, yt = gradfit.tensor(x), gradfit.tensor(y)
for _step in range(40):
    optimizer.zero_grad()
    loss = criterion(phi_t[0] + phi_t[1] * xt, yt)
    loss.backward()
    optimizer.step()
mine = gradient_descent(np.array([1.8, -0.9]), x, y, 0.02, 40)[-1]
print("SGD:", phi_t.detach().numpy(), " your loop:", mine, " loss", loss.item())
assert np.allclose(phi_t.detach().numpy(), mine)

# %% md
r"""
## A converged least-squares fit in one Newton step

Gradient descent uses only the slope of the loss. Newton's method also uses its curvature,
the Hessian $H$: near $\phi$ the loss is close to the quadratic
$L[\phi] + \nabla L^\top \delta + \tfrac12 \delta^\top H \delta$, which is lowest at
$\delta = -H^{-1} \nabla L$. The damped update is

$$\phi \leftarrow \phi - (H + \lambda I)^{-1} \frac{\partial L}{\partial \phi},$$

where $\lambda \ge 0$ on the diagonal keeps the step downhill where $H$ is not positive
definite. For least squares the loss *is* that quadratic, with $H = 2A^\top A$ (the question
above), so one step with $\lambda = 0$ lands exactly on the minimum, from any start.
`gradfit.autograd.functional.hessian` computes $H$ by differentiating twice, and
`gradfit.optim.lecture.Newton` takes the step; its closure returns the loss *without*
calling `backward`, because the optimizer differentiates it twice itself. The price: $H$ has
one row per parameter and solving with it costs $O(n^3)$, fine for 2 parameters, hopeless
for a network's millions.
"""

# %%
from gradfit.autograd.functional import hessian
from gradfit.optim.lecture import Newton


def summed_loss(phi):
    return ((phi[0] + phi[1] * xt - yt) ** 2).sum()


phi_n = gradfit.tensor([1.8, -0.9], dtype=gradfit.float64, requires_grad=True)
print("Hessian by autodiff:\n", hessian(summed_loss, phi_n.detach()).numpy())
print("2 A^T A:\n", 2 * A.T @ A)
newton = Newton([phi_n], lr=1.0, damping=0.0)  # the full, undamped step
newton.step(lambda: summed_loss(phi_n))
least_squares = np.linalg.lstsq(A, y, rcond=None)[0]
print("1 Newton step     :", phi_n.detach().numpy(), " loss", summed_loss(phi_n).item())
print("40 gradient steps :", phi_t.detach().numpy(), " loss", summed_loss(phi_t).item())
print("least squares     :", least_squares, " loss", np.sum((A @ least_squares - y) ** 2))
assert np.allclose(phi_n.detach().numpy(), least_squares, rtol=1e-10, atol=1e-12)

# %% md
r"""
## What to remember

- The gradient of a sum of per-example losses is the sum of per-example gradients (eq. 6.6).
- Check hand-derived gradients against autodiff or finite differences: a sign error still
  "descends" somewhere, just not to the minimum.
- The learning rate must stay below $2/\lambda_\max$ of the Hessian, and the smallest
  eigenvalue makes progress slow along flat directions. Lesson 4 (momentum) and lesson 5
  (Adam) are two answers to that.
- Newton's method divides the gradient by the curvature, φ ← φ − (H + λI)⁻¹∇L: on a
  quadratic loss one step converges, but H costs one backward pass per parameter.
"""
