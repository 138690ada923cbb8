# Source of the lesson notebook "01_line_search" (see ../make_notebooks.py).
# %% md
r"""
# Lesson 1 — Line search: how far should one step go?

Gradient descent repeats two steps: measure the gradient $\partial L/\partial\phi$, then move
against it,

$$\phi \leftarrow \phi - \alpha \frac{\partial L}{\partial \phi} \qquad \text{(eq. 6.3)}$$

The gradient says *which way* is downhill but not *how far* to go. The learning rate $\alpha$
decides that, and a bad $\alpha$ either crawls or overshoots. **Line search** avoids choosing
$\alpha$ by hand: along the downhill direction the loss is a function of one number, the
distance $t$ we travel, and we can look for the $t$ where that function is smallest.

In this lesson you will

1. write the rule that shrinks a bracket around the minimum of a 1-D function,
2. turn the rule into a complete search,
3. use the search to choose the step of gradient descent on a 2-D loss.

**How the exercises work.** Cells marked ✏️ **Exercise** contain a function whose body you
write (replace the `raise NotImplementedError` line). The cell after it calls a checker from
`gradfit.lecture.exercises`; it prints ✔ when your function is right and otherwise tells you
*which* value is wrong, what it expected and what it got. Questions marked ❓ have their
answer one click away under **Answer**: think first, then open it.
"""

# %%
import math

import matplotlib.pyplot as plt
import numpy as np

import gradfit
from gradfit.lecture.exercises import check_bracket_update, check_line_search, check_step_length
from gradfit.lecture.interactive import explore
from gradfit.optim.lecture import LineSearchGD
from gradfit.optim.lecture import line_search as gradfit_line_search

# %% md
r"""
## A loss along a line

Here is a 1-D function with a single dip, written with gradfit tensors. Think of it as the
loss $L[\phi - t\,g]$ seen while walking a distance $t$ along the downhill direction $-g$:
at $t = 0$ we are where we started, a little further on the loss drops, and too far on it
rises again because we have walked past the valley.
"""


# %%
def loss_1d(t):
    t = gradfit.tensor(t, dtype=gradfit.float64)
    return 1.0 - 0.8 * gradfit.exp(-((t - 0.62) ** 2) / 0.05) + 0.3 * t


ts = np.linspace(0, 1, 201)
plt.figure(figsize=(5, 3))
plt.plot(ts, loss_1d(ts).numpy())
plt.xlabel("distance t along the direction")
plt.ylabel("loss")
plt.show()
print(f"loss at t = 0: {loss_1d(0.0).item():.4f}, at t = 1: {loss_1d(1.0).item():.4f}")

# %% md
r"""
## The bracketing rule

The search keeps four points $a < b < c < d$, with $b$ and $c$ at the thirds of $[a, d]$, and
assumes the function has a single minimum in $[a, d]$. Comparing the four values tells which
part of the interval cannot hold the minimum:

1. If $f(a)$ is the lowest of the four, the minimum is close to $a$: pull $b$, $c$ and $d$
   halfway towards $a$ (the interval halves, and keeps $a$).
2. Otherwise, if $f(b) < f(c)$, the function is already rising between $b$ and $c$, so the
   minimum is left of $c$: set $d \leftarrow c$.
3. Otherwise ($f(c) \le f(b)$) the minimum is right of $b$: set $a \leftarrow b$.

After rules 2 and 3, put $b$ and $c$ back at the thirds of the new $[a, d]$. Each iteration
throws away a third of the interval (or half of it, for rule 1).

### ✏️ Exercise 1: one step of the rule

Write `bracket_update`. It receives the four points and their values and returns the new
`(a, b, c, d)`.
"""


# %%
def bracket_update(a, b, c, d, fa, fb, fc, fd):
    """One iteration of the bracketing rule; returns the new (a, b, c, d)."""
    # BEGIN SOLUTION
    if fa <= fb and fa <= fc and fa <= fd:
        return a, a + (b - a) / 2, a + (c - a) / 2, a + (d - a) / 2
    if fb < fc:
        d = c
    else:
        a = b
    return a, a + (d - a) / 3, a + 2 * (d - a) / 3, d
    # END SOLUTION


# %%
check_bracket_update(bracket_update)

# %% md
r"""
### ✏️ Exercise 2: the whole search

Start with $b$ and $c$ at the thirds of $[a, d]$, apply `bracket_update` until the two middle
points are closer than `tol`, and return their midpoint $(b + c)/2$. (Keep a limit on the
number of iterations, say 1000, so that a mistake cannot loop forever.)
"""


# %%
def line_search(f, a, d, tol=1e-6):
    """The minimiser of f on [a, d] by the bracketing rule."""
    # BEGIN SOLUTION
    b, c = a + (d - a) / 3, a + 2 * (d - a) / 3
    for _ in range(1000):
        if abs(b - c) < tol:
            break
        a, b, c, d = bracket_update(a, b, c, d, f(a), f(b), f(c), f(d))
    return (b + c) / 2
    # END SOLUTION


# %%
check_line_search(line_search)
t_best = line_search(lambda t: loss_1d(t).item(), 0.0, 1.0)
print(f"your search: minimum at t = {t_best:.5f}, loss {loss_1d(t_best).item():.5f}")

# %% md
r"""
## Watching the bracket shrink

gradfit has the same search as `gradfit.optim.lecture.line_search` (it starts $b$ and $c$
at 0.33 and 0.66 of the interval, as the course's notebooks do, instead of the exact thirds;
after the first iteration the rule is yours); with `return_history=True` it also returns
every bracket. The plots show the bracket after a few
iterations: the shaded interval $[a, d]$ closes in on the dip. With the slider (when
ipywidgets runs) you can step through the iterations one at a time.
"""

# %%
_, history = gradfit_line_search(
    lambda t: loss_1d(t).item(), 0.0, 1.0, tol=1e-4, return_history=True
)
print(f"{len(history) - 1} iterations to reach |b - c| < 1e-4")


def draw_bracket(ax, iteration):
    a, b, c, d = history[min(iteration, len(history) - 1)]
    ax.plot(ts, loss_1d(ts).numpy(), color="k")
    ax.axvspan(a, d, color="tab:blue", alpha=0.2)
    for point, name in zip((a, b, c, d), "abcd"):
        ax.plot(point, loss_1d(point).item(), "o", color="tab:red")
        ax.annotate(name, (point, loss_1d(point).item()), textcoords="offset points", xytext=(0, 6))
    ax.set_title(f"iteration {iteration}: width {d - a:.3g}")
    ax.set_xlabel("t")


explore(
    draw_bracket,
    panels=[{"iteration": 0}, {"iteration": 2}, {"iteration": 6}],
    sliders={"iteration": (0, len(history) - 1, 1, 0)},
)

# %% md
r"""
❓ **Question.** Rules 2 and 3 keep two thirds of the interval. Starting from $[0, 1]$, about
how many iterations does it take until $|b - c| < 10^{-4}$? Work it out, then compare with the
number printed above.

<details><summary>Answer</summary>

After $n$ iterations of rules 2–3 the interval has width $(2/3)^n$ and $|b - c|$ is a third
of that, so we need $(2/3)^n / 3 < 10^{-4}$, i.e. $n > \log(3\cdot 10^{-4}) / \log(2/3)
\approx 20$. The cell below computes it. Each iteration evaluates $f$ at up to four points, so a
tight tolerance costs many loss evaluations; this is why deep-learning practice uses a fixed
or scheduled learning rate instead of a line search on every step.
</details>
"""

# %%
print("predicted iterations:", math.ceil(math.log(3e-4) / math.log(2 / 3)))

# %% md
r"""
❓ **Question.** The rule assumes a single dip in $[a, d]$. What happens with two?

<details><summary>Answer</summary>

The search still returns *a* point, but which dip it finds depends on which third it throws
away first, not on which dip is deeper. The function below has its deeper dip near 0.35; the
first comparison ($f(b)$ against $f(c)$ at $t = 1/3$ and $2/3$) may send the search to the
other one. Line search is a local method, like gradient descent itself.
</details>
"""


# %%
def two_dips(t):
    t = gradfit.tensor(t, dtype=gradfit.float64)
    return (
        1
        - 0.5 * gradfit.exp(-((t - 0.7) ** 2) / 0.02)
        - 0.55 * gradfit.exp(-((t - 0.3) ** 2) / 0.01)
    )


t_two = gradfit_line_search(lambda t: two_dips(t).item(), 0.0, 1.0)
plt.figure(figsize=(5, 3))
plt.plot(ts, two_dips(ts).numpy())
plt.axvline(t_two, color="tab:red", ls="--")
plt.title(f"line search returns t = {t_two:.3f}; the lowest point is at t = 0.300")
plt.show()

# %% md
r"""
## Line search inside gradient descent

Now the search chooses the step of gradient descent. At $\phi$ with gradient $g$, define the
1-D function $t \mapsto L[\phi - t\,g]$ and search $t \in [0, t_\max]$. The step is then
$\phi \leftarrow \phi - t^\ast g$: eq. 6.3 with $\alpha = t^\ast$ chosen afresh each time.

### ✏️ Exercise 3: the best step length

Write `step_length(loss, phi, g, max_dist)`: `loss` takes a parameter vector (a NumPy array)
and returns a number; return the $t \in [0, \text{max\_dist}]$ that minimises
`loss(phi - t * g)`, using your `line_search` with `tol=1e-6`.
"""


# %%
def step_length(loss, phi, g, max_dist):
    """The t in [0, max_dist] that minimises loss(phi - t * g)."""
    # BEGIN SOLUTION
    return line_search(lambda t: loss(phi - t * g), 0.0, max_dist, tol=1e-6)
    # END SOLUTION


# %%
check_step_length(step_length)

# %% md
r"""
Let us run it on a tilted bowl, $L[\phi] = 1.5(\phi_0 - 1)^2 + 0.4(\phi_1 + 0.5)^2 +
0.3\,\phi_0\phi_1$, with the gradient from gradfit's autodiff. The printed dot product of
two successive gradients tells something about the path's shape: look at it before reading
the next question.
"""


# %%
def bowl(phi):
    return 1.5 * (phi[0] - 1.0) ** 2 + 0.4 * (phi[1] + 0.5) ** 2 + 0.3 * phi[0] * phi[1]


def bowl_grad(phi):
    p = gradfit.tensor(phi, dtype=gradfit.float64, requires_grad=True)
    bowl(p).backward()
    return p.grad.numpy()


phi = np.array([-1.0, 2.0])
path, grads = [phi], []
for _ in range(6):
    g = bowl_grad(phi)
    t = step_length(lambda p: float(bowl(p)), phi, g, 2.0)
    phi = phi - t * g
    path.append(phi)
    grads.append(g)
    print(f"t = {t:.4f}  phi = {np.round(phi, 4)}  loss = {float(bowl(phi)):.6f}")
print("g_1 . g_2 =", round(float(grads[0] @ grads[1]), 8))

path = np.array(path)
p0, p1 = np.meshgrid(np.linspace(-1.5, 2, 101), np.linspace(-2, 2.5, 101))
plt.figure(figsize=(4.5, 4))
plt.contour(p0, p1, bowl(np.stack([p0, p1])), levels=25, cmap="gray")
plt.plot(path[:, 0], path[:, 1], "o-", color="tab:red")
plt.xlabel("φ0")
plt.ylabel("φ1")
plt.gca().set_aspect("equal")
plt.show()

# %% md
r"""
❓ **Question.** Why does each step turn by a right angle to the previous one?

<details><summary>Answer</summary>

The search stops at the $t$ where $\frac{d}{dt} L[\phi - t g] = -\nabla L[\phi - t g]\cdot g = 0$:
the new gradient is perpendicular to the old direction. So exact line search always zig-zags
at right angles; in a long narrow valley that means many short steps. Momentum (lesson 4)
attacks exactly this.
</details>

## With PyTorch's names

PyTorch has no bracketing search of its own: its `torch.optim.LBFGS(params,
line_search_fn="strong_wolfe")` uses a different line search inside a quasi-Newton method, and
like it, a line-search optimizer needs a *closure* that re-evaluates the loss. gradfit's
`gradfit.optim.lecture.LineSearchGD` is this lesson's method as an optimizer with that
interface:

```python
opt = LineSearchGD([phi], max_dist=2.0, tol=1e-6)
def closure():
    opt.zero_grad(); loss = bowl(phi); loss.backward(); return loss
opt.step(closure)
```

The cell below checks that it takes the same steps as your loop.
"""

# %%
phi_t = gradfit.tensor([-1.0, 2.0], dtype=gradfit.float64, requires_grad=True)
opt = LineSearchGD([phi_t], max_dist=2.0, tol=1e-6)


def closure():
    opt.zero_grad()
    value = bowl(phi_t)
    value.backward()
    return value


for _ in range(6):
    opt.step(closure)
print("LineSearchGD after 6 steps:", phi_t.detach().numpy(), " your loop:", path[-1])
assert np.allclose(phi_t.detach().numpy(), path[-1], atol=1e-4)

# %% md
r"""
## What to remember

- Line search turns "how far?" into a 1-D minimisation along the downhill direction.
- The bracketing rule needs only loss values, no derivatives, and keeps two thirds (or half)
  of the interval per iteration, so it needs a dozen or more loss evaluations per step.
- Exact line search zig-zags at right angles. Next lesson: gradient descent with a fixed
  learning rate on linear regression, where we compute the gradient by hand.
"""
