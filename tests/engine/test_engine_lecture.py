"""The lecture's worked examples, through the public API."""

from __future__ import annotations

import math

import numpy as np

import gradfit


def scalar(v):
    return gradfit.tensor(v, dtype=gradfit.float64, requires_grad=True)


def test_toy_model_matches_chain_rule_and_closed_form():
    """f = b3 + w3 cos(b2 + w2 exp(b1 + w1 sin(b0 + w0 x))), l = (f - y)^2 (slides 7.1-7.5)."""
    vals = dict(b0=0.1, w0=0.5, b1=-0.2, w1=1.3, b2=0.4, w2=0.7, b3=-0.3, w3=1.1)
    p = {k: scalar(v) for k, v in vals.items()}
    x, y = 2.3, 1.4
    f0 = p["b0"] + p["w0"] * x
    h1 = gradfit.sin(f0)
    f1 = p["b1"] + p["w1"] * h1
    h2 = gradfit.exp(f1)
    f2 = p["b2"] + p["w2"] * h2
    h3 = gradfit.cos(f2)
    f3 = p["b3"] + p["w3"] * h3
    loss = (f3 - y) ** 2
    inter = dict(f0=f0, h1=h1, f1=f1, h2=h2, f2=f2, h3=h3, f3=f3)
    for t in inter.values():
        t.retain_grad()
    loss.backward()

    # the slides' forward pass
    v = vals
    F0 = v["b0"] + v["w0"] * x
    H1 = math.sin(F0)
    F1 = v["b1"] + v["w1"] * H1
    H2 = math.exp(F1)
    F2 = v["b2"] + v["w2"] * H2
    H3 = math.cos(F2)
    F3 = v["b3"] + v["w3"] * H3
    # backward pass #1 (eq. 7.12)
    dF3 = 2 * (F3 - y)
    dH3 = v["w3"] * dF3
    dF2 = -math.sin(F2) * dH3
    dH2 = v["w2"] * dF2
    dF1 = math.exp(F1) * dH2
    dH1 = v["w1"] * dF1
    dF0 = math.cos(F0) * dH1
    hand = dict(f0=dF0, h1=dH1, f1=dF1, h2=dH2, f2=dF2, h3=dH3, f3=dF3)
    for k, t in inter.items():
        assert abs(t.grad.item() - hand[k]) <= 1e-12 * max(1, abs(hand[k])), k
    # backward pass #2: dl/dbeta_k = dl/df_k, dl/domega_k = h_k dl/df_k (h_0 = x)
    hs = [x, H1, H2, H3]
    dfs = [dF0, dF1, dF2, dF3]
    for k in range(4):
        assert abs(p[f"b{k}"].grad.item() - dfs[k]) <= 1e-12 * max(1, abs(dfs[k]))
        assert abs(p[f"w{k}"].grad.item() - hs[k] * dfs[k]) <= 1e-12 * max(1, abs(dfs[k]))
    # the closed form of dl/domega0 from the slide "Look at this guy"
    closed = (
        2 * (F3 - y) * v["w1"] * v["w2"] * v["w3"] * x * math.cos(F0) * math.exp(F1) * -math.sin(F2)
    )
    assert abs(p["w0"].grad.item() - closed) <= 1e-12 * abs(closed)


def test_logistic_regression_with_loss():
    """z = w x + b, y = sigma(z), L = 1/2 (y - t)^2 (slide "Computation Graph")."""
    w, b = scalar(0.8), scalar(-0.3)
    x, t = 1.5, 1.0
    z = w * x + b
    y = gradfit.sigmoid(z)
    L = 0.5 * (y - t) ** 2
    L.backward()
    Z = 0.8 * 1.5 - 0.3
    Y = 1 / (1 + math.exp(-Z))
    dL_dz = (Y - t) * Y * (1 - Y)
    assert abs(L.item() - 0.5 * (Y - t) ** 2) < 1e-15
    assert abs(w.grad.item() - dL_dz * x) < 1e-15
    assert abs(b.grad.item() - dL_dz) < 1e-15


def test_two_paths_merge_at_b():
    """(a + b)(b + 1): b feeds both factors, so db = (b + 1) + (a + b) (reverse mode)."""
    a, b = scalar(2.0), scalar(1.0)
    e = (a + b) * (b + 1)
    e.backward()
    assert e.item() == 6.0
    assert a.grad.item() == 2.0  # b + 1
    assert b.grad.item() == 5.0  # (b + 1) + (a + b)


def test_deep_relu_network_backward_matches_overall_algorithm():
    """The slides' "Overall Backprop Algorithm" for K hidden layers against autodiff."""
    rng = np.random.default_rng(0)
    widths = [4, 6, 5, 6, 3]  # input, K = 3 hidden layers, output
    K = len(widths) - 2
    betas = [rng.standard_normal(widths[k + 1]) for k in range(K + 1)]
    omegas = [rng.standard_normal((widths[k + 1], widths[k])) for k in range(K + 1)]
    x = rng.standard_normal(widths[0])
    y = rng.standard_normal(widths[-1])

    # autodiff
    B = [gradfit.tensor(b, requires_grad=True) for b in betas]
    W = [gradfit.tensor(w, requires_grad=True) for w in omegas]
    f = B[0] + W[0] @ gradfit.tensor(x)
    for k in range(1, K + 1):
        f = B[k] + W[k] @ f.relu()
    loss = ((f - gradfit.tensor(y)) ** 2).sum()
    loss.backward()

    # forward pass: f_0 = beta_0 + Omega_0 x; h_k = a[f_{k-1}]; f_k = beta_k + Omega_k h_k
    fs = [betas[0] + omegas[0] @ x]
    hs = [x]
    for k in range(1, K + 1):
        hs.append(np.maximum(fs[k - 1], 0))
        fs.append(betas[k] + omegas[k] @ hs[k])
    # backward pass
    dl_df = 2 * (fs[K] - y)
    for k in range(K, 0, -1):
        np.testing.assert_allclose(B[k].grad.numpy(), dl_df, rtol=1e-12)
        np.testing.assert_allclose(W[k].grad.numpy(), np.outer(dl_df, hs[k]), rtol=1e-12)
        dl_df = (fs[k - 1] > 0) * (omegas[k].T @ dl_df)  # I[f_{k-1} > 0] (Omega_k^T dl/df_k)
    np.testing.assert_allclose(B[0].grad.numpy(), dl_df, rtol=1e-12)
    np.testing.assert_allclose(W[0].grad.numpy(), np.outer(dl_df, x), rtol=1e-12)


def test_linear_regression_gradient_is_sum_of_per_example_terms():
    """dL/dphi = sum_i dl_i/dphi = sum_i [2(phi0 + phi1 x_i - y_i), 2 x_i(...)]."""
    rng = np.random.default_rng(1)
    x, y = rng.uniform(0, 2, 12), rng.uniform(0, 2, 12)
    phi = gradfit.tensor([0.4, -0.2], dtype=gradfit.float64, requires_grad=True)
    pred = phi[0] + phi[1] * gradfit.tensor(x)
    ((pred - gradfit.tensor(y)) ** 2).sum().backward()
    r = 0.4 - 0.2 * x - y
    np.testing.assert_allclose(phi.grad.numpy(), [np.sum(2 * r), np.sum(2 * x * r)], rtol=1e-13)
