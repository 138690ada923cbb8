"""A short demo of the engine: the lecture's toy model, backprop against the chain rule.

Run with ``python -m gradfit.demo``.
"""

from __future__ import annotations

import math

import gradfit


def main() -> None:
    names = ["beta0", "omega0", "beta1", "omega1", "beta2", "omega2", "beta3", "omega3"]
    values = [0.1, 0.5, -0.2, 1.3, 0.4, 0.7, -0.3, 1.1]
    p = {
        n: gradfit.tensor(v, dtype=gradfit.float64, requires_grad=True)
        for n, v in zip(names, values)
    }
    x, y = 2.3, 1.4
    f3 = p["beta3"] + p["omega3"] * gradfit.cos(
        p["beta2"]
        + p["omega2"]
        * gradfit.exp(p["beta1"] + p["omega1"] * gradfit.sin(p["beta0"] + p["omega0"] * x))
    )
    loss = (f3 - y) ** 2
    loss.backward()
    b0, w0, b1, w1, b2, w2, b3, w3 = values
    f0 = b0 + w0 * x
    f1 = b1 + w1 * math.sin(f0)
    f2 = b2 + w2 * math.exp(f1)
    closed = (
        2
        * (b3 + w3 * math.cos(f2) - y)
        * w1
        * w2
        * w3
        * x
        * math.cos(f0)
        * math.exp(f1)
        * -math.sin(f2)
    )
    print(f"loss = {loss.item():.6f}")
    print(f"dl/domega0 by backprop   = {p['omega0'].grad.item():+.12f}")
    print(f"dl/domega0 by chain rule = {closed:+.12f}")
    for n in names:
        print(f"  dl/d{n:7s} = {p[n].grad.item():+.6f}")


if __name__ == "__main__":
    main()
