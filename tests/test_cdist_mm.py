"""``cdist``'s compute modes: p = 2 with more than 25 rows on a side (or
``use_mm_for_euclid_dist``) takes PyTorch's matrix-product form, whose cancellation
shows in the smallest distances, and whose gradient at a zero distance is 0."""

from __future__ import annotations

import numpy as np
import pytest

import gradfit


@pytest.mark.parametrize(
    ("n", "mode"),
    [
        (30, "use_mm_for_euclid_dist_if_necessary"),
        (5, "use_mm_for_euclid_dist"),
        (30, "donot_use_mm_for_euclid_dist"),
        (25, "use_mm_for_euclid_dist_if_necessary"),
    ],
)
def test_cdist_of_a_set_with_itself_as_pytorchs(n, mode):
    import torch

    # 1-d points far from 0 and close together: the forms differ by ~1e-6 here
    x = 100.0 + 1e-3 * np.random.default_rng(0).standard_normal((n, 1))
    tx = torch.tensor(x, requires_grad=True)
    want = torch.cdist(tx, tx, compute_mode=mode)
    want.sum().backward()
    gx = gradfit.tensor(x, requires_grad=True)
    got = gradfit.cdist(gx, gx, compute_mode=mode)
    got.sum().backward()
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=0, atol=1e-9)
    np.testing.assert_array_equal(np.diag(got.detach().numpy()), 0.0)
    # 1/distance weighs the gradient: its rounding is the distances', amplified
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-6)
    assert got.grad_fn.name() == want.grad_fn.name()


def test_cdist_refuses_an_unknown_compute_mode():
    import torch

    x = torch.zeros(2, 2)
    with pytest.raises(ValueError) as want:
        torch.cdist(x, x, compute_mode="fast")
    with pytest.raises(ValueError) as got:
        gradfit.cdist(gradfit.zeros(2, 2), gradfit.zeros(2, 2), compute_mode="fast")
    assert str(got.value) == str(want.value)
