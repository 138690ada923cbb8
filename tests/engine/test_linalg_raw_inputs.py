"""Linear algebra on raw inputs, against PyTorch float64 (first order, first order with
create_graph, second order). The op registry feeds structured ops inputs made structured
*by the graph* (``a + a.mT``, ``a @ a.mT + 2 I``, ``a + 4 I``), whose backward hides a
gradient that is wrong off the symmetric subspace: here the input is symmetric as data,
or not symmetric at all (only one triangle is read), singular, or has a repeated
spectrum. (PyTorch's eigh gradient projects V^T gV onto the skew-symmetric matrices,
which makes it symmetric; without the projection it is not.) These are not registry
entries because their finite-difference gradcheck cannot hold: PyTorch's gradient for a
triangle-reading op is not the derivative with respect to every entry."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gradfit

_RNG = np.random.default_rng(20)


def _sym(*shape):
    x = _RNG.standard_normal(shape)
    return (x + np.swapaxes(x, -1, -2)) / 2


def _spd(n, garbage=None):
    """An SPD matrix; ``garbage`` 'upper'/'lower': that strict triangle overwritten."""
    x = _RNG.standard_normal((n, n))
    a = x @ x.T + n * np.eye(n)
    if garbage is not None:
        idx = np.triu_indices(n, 1) if garbage == "upper" else np.tril_indices(n, -1)
        a[idx] = _RNG.standard_normal(len(idx[0]))
    return a


def _raw(*shape):
    return _RNG.standard_normal(shape)


def _eig_loss(uplo="L"):
    # eigenvalues and a sign-invariant function of the eigenvectors
    def fn(lib, a):
        lam, v = lib.linalg.eigh(a, UPLO=uplo)
        return lib.cat([lam.reshape(-1), (v[..., :, :1] * v[..., :, :1].mT).reshape(-1)])

    return fn


_SINGULAR = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.0, 1.0, 5.0]])

# name -> (fn(lib, *tensors), inputs, second order compared)
CASES = {
    "eigh_symmetric_data": (_eig_loss(), [_sym(3, 3)], True),
    "eigh_symmetric_data_batched": (_eig_loss(), [_sym(2, 3, 3)], True),
    "eigh_raw_lower": (_eig_loss(), [_raw(3, 3)], True),
    "eigh_raw_upper": (_eig_loss("U"), [_raw(3, 3)], True),
    "eigvalsh_symmetric_data": (lambda lib, a: lib.linalg.eigvalsh(a), [_sym(3, 3)], True),
    "eigvalsh_raw": (lambda lib, a: lib.linalg.eigvalsh(a, UPLO="U"), [_raw(2, 3, 3)], True),
    # repeated eigenvalues: PyTorch's eigenvalues-only gradient V diag(g) V^T stays finite
    "eigvalsh_repeated": (
        lambda lib, a: lib.linalg.eigvalsh(a),
        [np.diag([1.0, 1.0, 2.0])],
        False,
    ),
    "cholesky_spd_data": (lambda lib, a: lib.linalg.cholesky(a), [_spd(3)], True),
    "cholesky_raw": (lambda lib, a: lib.linalg.cholesky(a), [_spd(3, "upper")], True),
    "cholesky_upper_spd_data": (
        lambda lib, a: lib.linalg.cholesky(a, upper=True),
        [_spd(3)],
        True,
    ),
    # upper=True reads the upper triangle (LAPACK's uplo='U')
    "cholesky_upper_raw": (
        lambda lib, a: lib.linalg.cholesky(a, upper=True),
        [_spd(3, "lower")],
        True,
    ),
    "svdvals_repeated": (lambda lib, a: lib.linalg.svdvals(a), [np.eye(3)], False),
    "matrix_norm_nuc_repeated": (
        lambda lib, a: lib.linalg.matrix_norm(a, "nuc"),
        [np.diag([2.0, 2.0, 1.0])],
        False,
    ),
    "matrix_norm_2_repeated": (
        lambda lib, a: lib.linalg.matrix_norm(a, 2),
        [np.diag([2.0, 2.0, 1.0])],
        False,
    ),
    "svd_symmetric_data": (
        lambda lib, a: (lambda usv: usv[0][:, :1] * usv[2][:1, :] * usv[1][0])(lib.linalg.svd(a)),
        [_spd(3)],
        True,
    ),
    "det_raw": (lambda lib, a: lib.linalg.det(a), [_raw(2, 3, 3)], True),
    "det_symmetric_data": (lambda lib, a: lib.linalg.det(a), [_sym(3, 3)], True),
    # det == 0: PyTorch's first-order gradient is 0, its create_graph one the adjugate
    "det_singular": (lambda lib, a: lib.linalg.det(a), [_SINGULAR], True),
    "det_singular_in_batch": (
        lambda lib, a: lib.linalg.det(a),
        [np.stack([_SINGULAR, _raw(3, 3)])],
        True,
    ),
    "slogdet_raw": (lambda lib, a: lib.linalg.slogdet(a)[1], [_raw(3, 3)], True),
    "slogdet_symmetric_data": (lambda lib, a: lib.linalg.slogdet(a)[1], [_sym(3, 3)], True),
    "inv_raw": (lambda lib, a: lib.linalg.inv(a), [_raw(3, 3)], True),
    "solve_raw": (lambda lib, a, b: lib.linalg.solve(a, b), [_raw(3, 3), _raw(3, 2)], True),
    "qr_symmetric_data": (
        lambda lib, a: lib.cat([f.reshape(-1) for f in lib.linalg.qr(a)]),
        [_sym(3, 3)],
        True,
    ),
}

_EIGH = {"eigh_symmetric_data", "eigh_symmetric_data_batched", "eigh_raw_lower", "eigh_raw_upper"}


def _grads(lib, name, create_graph):
    fn, arrays, _ = CASES[name]
    xs = [lib.tensor(a, requires_grad=True) for a in arrays]
    out = fn(lib, *xs)
    w = np.random.default_rng(1).standard_normal(tuple(out.shape))
    loss = (out * lib.tensor(w)).sum()
    if not create_graph:
        loss.backward()
        return out.detach().numpy(), [x.grad.numpy() for x in xs]
    first = lib.autograd.grad(loss, xs, create_graph=True)
    if not CASES[name][2]:  # a repeated spectrum: PyTorch's second order is nan there
        return [g.detach().numpy() for g in first], None
    v = [np.random.default_rng(2).standard_normal(a.shape) for a in arrays]
    total = sum((g * lib.tensor(u)).sum() for g, u in zip(first, v))
    second = lib.autograd.grad(total, xs, allow_unused=True)
    return [g.detach().numpy() for g in first], [
        None if s is None else s.detach().numpy() for s in second
    ]


def _close(ours, ref, name):
    np.testing.assert_allclose(ours, ref, rtol=1e-10, atol=1e-10, err_msg=name)


@pytest.mark.parametrize("name", sorted(CASES))
def test_first_order_matches_torch(name):
    out, ours = _grads(gradfit, name, create_graph=False)
    out_ref, ref = _grads(torch, name, create_graph=False)
    _close(out, out_ref, name)
    for a, b in zip(ours, ref):
        _close(a, b, name)
    if name in _EIGH:  # skew(V^T gV) / (lam_j - lam_i) is symmetric, so gA = V ret V^T is
        np.testing.assert_allclose(ours[0], np.swapaxes(ours[0], -1, -2), atol=1e-12)


@pytest.mark.parametrize("name", sorted(CASES))
def test_create_graph_and_second_order_match_torch(name):
    first, second = _grads(gradfit, name, create_graph=True)
    first_ref, second_ref = _grads(torch, name, create_graph=True)
    for a, b in zip(first, first_ref):
        _close(a, b, name)
    if second is None:
        return
    for a, b, x in zip(second, second_ref, CASES[name][1]):
        _close(np.zeros_like(x) if a is None else a, np.zeros_like(x) if b is None else b, name)


def test_det_of_a_zero_determinant_has_torch_first_order_gradient():
    # PyTorch's first-order path solves A^T X = det(A) g I with a perturbed LU: X = 0
    for a in (np.zeros((3, 3)), _SINGULAR):
        x = gradfit.tensor(a, requires_grad=True)
        gradfit.linalg.det(x).backward()
        xt = torch.tensor(a, requires_grad=True)
        torch.linalg.det(xt).backward()
        np.testing.assert_array_equal(x.grad.numpy(), xt.grad.numpy())


def test_slogdet_of_a_singular_matrix():
    a = np.stack([_SINGULAR, _raw(3, 3)])
    sign, logabs = gradfit.linalg.slogdet(gradfit.tensor(a))
    sign_ref, logabs_ref = torch.linalg.slogdet(torch.tensor(a))
    np.testing.assert_array_equal(sign.numpy(), sign_ref.numpy())
    np.testing.assert_allclose(logabs.numpy(), logabs_ref.numpy(), rtol=1e-12)
    x = gradfit.tensor(a, requires_grad=True)
    gradfit.linalg.slogdet(x)[1].sum().backward()
    assert np.isnan(x.grad.numpy()[0]).all()  # no derivative at a singular matrix
    xt = torch.tensor(a, requires_grad=True)
    torch.linalg.slogdet(xt)[1].sum().backward()
    np.testing.assert_allclose(x.grad.numpy()[1], xt.grad.numpy()[1], rtol=1e-10, atol=1e-10)
    # with create_graph both need A^{-1} and refuse, as PyTorch's solve does
    x = gradfit.tensor(a, requires_grad=True)
    with pytest.raises(RuntimeError, match="singular"):
        gradfit.autograd.grad(gradfit.linalg.slogdet(x)[1].sum(), x, create_graph=True)
