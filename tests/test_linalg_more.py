"""gradfit.linalg additions against PyTorch: the named tuples (lstsq for every driver,
lu_factor_ex, lu, solve_ex), int32 pivots, broadcasting, the top-level and Tensor forms
(pinverse, matrix_exp), LinAlgError and PyTorch's error messages. Values and gradients
of the differentiable ones, first and second order, are swept by the op registry
(tests/engine/registry_linalg_more.py)."""

from __future__ import annotations

import numpy as np
import pytest

import gradfit


def _torch():
    import torch  # the reference must be installed: fail, not skip

    return torch


def _run(fn, arrays, grad=True):
    """fn's outputs (and, with grad, the gradients of a fixed weighting of them) under
    gradfit and under PyTorch."""
    torch = _torch()
    results = []
    for lib in (gradfit, torch):
        ts = [lib.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays]
        out = fn(lib, *ts)
        outs = out if isinstance(out, tuple) else (out,)
        values = [o.detach().numpy() for o in outs]
        grads = []
        if grad:
            loss = sum(
                (o * lib.tensor(np.cos(np.arange(o.numel())).reshape(tuple(o.shape)))).sum()
                for o in outs
                if o.requires_grad
            )
            grads = [g.numpy() for g in lib.autograd.grad(loss, [t for t in ts if t.requires_grad])]
        results.append((values, grads))
    return results


def _assert_same(fn, *arrays, grad=True, tol=1e-10):
    (ours, ours_g), (ref, ref_g) = _run(fn, arrays, grad)
    assert len(ours) == len(ref)
    for a, b in zip(ours + ours_g, ref + ref_g):
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


rng = np.random.default_rng(0)
A3 = rng.standard_normal((3, 3))
B32 = rng.standard_normal((3, 2))


@pytest.mark.parametrize("driver", [None, "gelsy", "gelsd", "gelss", "gels"])
@pytest.mark.parametrize(("a", "b"), [((5, 3), (5, 2)), ((2, 5, 3), (2, 5)), ((3, 5), (3, 2))])
def test_lstsq_every_driver_returns_what_torch_returns(driver, a, b):
    if driver == "gels" and a[-2] < a[-1]:
        return  # gels needs full column rank there (PyTorch's QR driver)
    x, y = rng.standard_normal(a), rng.standard_normal(b)
    _assert_same(lambda lib, p, q: tuple(lib.linalg.lstsq(p, q, driver=driver)), x, y, grad=False)
    _assert_same(lambda lib, p, q: lib.linalg.lstsq(p, q, driver=driver)[:2], x, y)


def test_lstsq_rank_of_a_rank_deficient_matrix_and_rcond():
    a = rng.standard_normal((5, 2)) @ rng.standard_normal((2, 4))
    b = rng.standard_normal((5, 3))
    _assert_same(lambda lib, p, q: tuple(lib.linalg.lstsq(p, q)), a, b, grad=False)
    _assert_same(lambda lib, p, q: lib.linalg.lstsq(p, q, rcond=0.5).rank, a, b, grad=False)
    out = gradfit.linalg.lstsq(gradfit.tensor(a), gradfit.tensor(b))
    assert type(out).__name__ == "linalg_lstsq" and out._fields == (
        "solution",
        "residuals",
        "rank",
        "singular_values",
    )


@pytest.mark.parametrize("shape", [(3, 3), (2, 3, 5), (2, 5, 3), (0, 3, 3)])
def test_lu_factor_ex_and_lu_match_torch(shape):
    a = rng.standard_normal(shape).astype(np.float32)
    _assert_same(lambda lib, p: tuple(lib.linalg.lu_factor_ex(p)), a, grad=False, tol=1e-6)
    _assert_same(lambda lib, p: tuple(lib.linalg.lu(p)), a, grad=False, tol=1e-6)
    piv = gradfit.linalg.lu_factor(gradfit.tensor(a)).pivots
    assert piv.dtype == gradfit.int32 and piv.shape == shape[:-2] + (min(shape[-2:]),)


def test_singular_lu_info_and_solve_ex_info_match_torch():
    z = np.stack([A3, np.zeros((3, 3)), np.array([[1.0, 2, 3], [2, 4, 6], [1, 1, 1]])])
    _assert_same(lambda lib, p: tuple(lib.linalg.lu_factor_ex(p)), z, grad=False)
    _assert_same(lambda lib, p: lib.linalg.solve_ex(p, p[..., :1]).info, z, grad=False)
    _assert_same(lambda lib, p: lib.linalg.inv_ex(p).info, z, grad=False)
    _assert_same(lambda lib, p, b: tuple(lib.linalg.solve_ex(p, b)), A3, B32)


def test_lu_solve_every_mode_matches_torch():
    for left in (True, False):
        for adjoint in (True, False):
            b = B32 if left else B32.T.copy()

            def fn(lib, a, rhs, left=left, adjoint=adjoint):
                lu, piv = lib.linalg.lu_factor(a)
                return lib.linalg.lu_solve(lu, piv, rhs, left=left, adjoint=adjoint)

            _assert_same(fn, A3, b)


def test_top_level_and_tensor_forms():
    _assert_same(lambda lib, a: lib.pinverse(a, rcond=0.3), rng.standard_normal((5, 3)))
    _assert_same(lambda lib, a: a.pinverse(), rng.standard_normal((3, 4)))
    _assert_same(lambda lib, a: lib.matrix_exp(a) + a.matrix_exp(), A3)
    _assert_same(lambda lib, a: lib.linalg.pinv(a, atol=0.5), rng.standard_normal((2, 4, 3)))
    _assert_same(lambda lib, a, b: lib.linalg.matmul(a, b), A3, B32)
    _assert_same(lambda lib, a: lib.linalg.diagonal(a, offset=1, dim1=0), A3[None])
    _assert_same(lambda lib, a: lib.linalg.vander(a), np.array([0.0, 1.0, -2.0]))
    x = gradfit.linalg.vander(gradfit.tensor([1, 2, 3]))
    assert x.dtype == gradfit.int64


@pytest.mark.parametrize("p", [None, 2, -2, "fro", "nuc", 1, -1, np.inf, -np.inf])
def test_cond_values_match_torch(p):
    _assert_same(lambda lib, a: lib.linalg.cond(a, p), rng.standard_normal((2, 3, 3)), grad=False)
    singular = np.array([[1.0, 2.0], [2.0, 4.0]])
    # inf where the inverse does not exist (the SVD-based orders give a rounding-level
    # smallest singular value there instead, which two SVDs need not share)
    if p not in (None, 2, -2, "nuc"):
        _assert_same(lambda lib, a: lib.linalg.cond(a, p), singular, grad=False)


def test_cond_gradient_by_finite_differences():
    # PyTorch 2.13's own backward of cond(A, 'fro') fails (an in-place edit of inv_ex's
    # output), so the gradient is checked against finite differences.
    a = gradfit.tensor(A3 + 3 * np.eye(3), requires_grad=True)
    for p in ("fro", 1, None):
        assert gradfit.autograd.gradcheck(lambda t, p=p: gradfit.linalg.cond(t, p), (a,))


def test_second_derivatives_match_torch():
    torch = _torch()

    def second(lib, fn, a):
        t = lib.tensor(a, requires_grad=True)
        (g,) = lib.autograd.grad(fn(lib, t).sum(), t, create_graph=True)
        (h,) = lib.autograd.grad(
            (g * lib.tensor(np.sin(np.arange(g.numel())).reshape(g.shape))).sum(), t
        )
        return h.numpy()

    for fn, a in [
        (lambda lib, t: lib.linalg.lu_factor(t).LU ** 2, A3 + 4 * np.eye(3)),
        (lambda lib, t: lib.linalg.pinv(t) ** 2, rng.standard_normal((4, 3))),
        (lambda lib, t: lib.linalg.matrix_exp(t), 0.5 * A3),
        (lambda lib, t: lib.linalg.lstsq(t, t[:, :1] ** 2).solution, rng.standard_normal((4, 2))),
    ]:
        np.testing.assert_allclose(
            second(gradfit, fn, a), second(torch, fn, a), rtol=1e-9, atol=1e-10
        )


_ERRORS = [
    lambda lib: lib.linalg.inv(lib.tensor([[1.0, 2], [2, 4]])),
    lambda lib: lib.linalg.inv(lib.zeros(2, 3, 3)),
    lambda lib: lib.linalg.solve(lib.stack([lib.eye(2), lib.zeros(2, 2)]), lib.ones(2, 2)),
    lambda lib: lib.linalg.cholesky(lib.tensor([[1.0, 2], [2, 1]])),
    lambda lib: lib.linalg.cholesky(lib.stack([lib.eye(2), -lib.eye(2)])),
    lambda lib: lib.linalg.lu_factor(lib.stack([lib.eye(3), lib.zeros(3, 3)])),
    lambda lib: lib.linalg.lu(lib.ones(3, 3), pivot=False),
    lambda lib: lib.linalg.lstsq(lib.ones(4, 3), lib.ones(5, 2)),
    lambda lib: lib.linalg.lstsq(lib.ones(4, 3), lib.ones(4, 2, dtype=lib.float64)),
    lambda lib: lib.linalg.lstsq(lib.ones(4, 3), lib.ones(2, 4, 2)),
    lambda lib: lib.linalg.lstsq(lib.ones(3), lib.ones(3)),
    lambda lib: lib.linalg.lstsq(lib.ones(4, 3), lib.ones(4, 2), driver="qr"),
    lambda lib: lib.linalg.cross(lib.ones(3, 2), lib.ones(3, 2)),
    lambda lib: lib.linalg.cross(lib.ones(2, 3), lib.ones(3)),
    lambda lib: lib.linalg.vecdot(lib.ones(3), lib.ones(3, dtype=lib.float64)),
    lambda lib: lib.linalg.vander(lib.tensor([1.0, 2]), N=1),
    lambda lib: lib.linalg.tensorinv(lib.ones(4, 6, 8, 3), ind=2),
    lambda lib: lib.linalg.tensorinv(lib.ones(4, 3), ind=0),
    lambda lib: lib.linalg.tensorinv(lib.zeros(4, 6, 24, dtype=lib.float64), ind=2),
    lambda lib: lib.linalg.tensorsolve(lib.ones(6, 4, 3), lib.ones(6, 4)),
    lambda lib: lib.linalg.cond(lib.ones(3, 4), "fro"),
    lambda lib: lib.linalg.cond(lib.ones(3, 3), 3),
    lambda lib: lib.linalg.cond(lib.ones(3, 4), -np.inf),
    lambda lib: lib.linalg.cond(lib.ones(3, 4), -1),
    lambda lib: lib.linalg.matrix_exp(lib.ones(3, 4)),
    lambda lib: lib.linalg.matrix_exp(lib.ones(3)),
    lambda lib: lib.linalg.pinv(lib.ones(3)),
    lambda lib: lib.linalg.lu_solve(*lib.linalg.lu_factor(lib.eye(3)), lib.ones(4, 2)),
    lambda lib: lib.linalg.lu_solve(*lib.linalg.lu_factor(lib.eye(3)), lib.ones(3)),
    lambda lib: lib.linalg.lu_solve(*lib.linalg.lu_factor(lib.eye(3)), lib.ones(3, 2), left=False),
    lambda lib: lib.linalg.lu_solve(lib.eye(3), lib.tensor([1, 2, 3]), lib.ones(3, 2)),
    lambda lib: lib.linalg.householder_product(lib.ones(2, 3), lib.ones(2)),
    lambda lib: lib.linalg.householder_product(lib.ones(3, 2), lib.ones(3)),
]


@pytest.mark.parametrize("case", range(len(_ERRORS)))
def test_errors_match_torch(case):
    torch = _torch()
    caught = []
    for lib in (gradfit, torch):
        with pytest.raises(Exception) as info:  # noqa: PT011 - compared below
            _ERRORS[case](lib)
        err = info.value
        kinds = (isinstance(err, lib.linalg.LinAlgError), isinstance(err, RuntimeError))
        caught.append((kinds, isinstance(err, IndexError), str(err)))
    assert caught[0] == caught[1]


def test_linalg_error_is_a_runtime_error():
    assert issubclass(gradfit.linalg.LinAlgError, RuntimeError)
    with pytest.raises(RuntimeError, match="singular"):
        gradfit.linalg.inv(gradfit.zeros(2, 2))


@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_solve_and_inverse_match_torch(upper):
    """torch.cholesky_solve(B, L) and cholesky_inverse(L): values, gradients to B and the
    factor, broadcast batches, the Tensor methods and the node names."""
    rng = np.random.default_rng(3)
    m = rng.standard_normal((2, 1, 4, 4))
    a = m @ np.swapaxes(m, -1, -2) + 4 * np.eye(4)
    factor = np.linalg.cholesky(a)
    if upper:
        factor = np.swapaxes(factor, -1, -2)
    b = rng.standard_normal((3, 4, 2))

    def solve(lib, b, f):
        return lib.cholesky_solve(b, f, upper=upper), f.cholesky_inverse(upper)

    (got, got_grads), (want, want_grads) = _run(solve, [b, factor])
    for g, w in zip(got + got_grads, want + want_grads):
        assert g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)
    f = gradfit.tensor(factor[0, 0], requires_grad=True)
    x = gradfit.tensor(b[0]).cholesky_solve(f, upper)
    assert x.grad_fn.name() == "CholeskySolveBackward0"
    assert gradfit.cholesky_inverse(f, upper).grad_fn.name() == "CholeskyInverseBackward0"


def test_cholesky_solve_second_derivative_matches_torch():
    torch = _torch()
    rng = np.random.default_rng(4)
    m = rng.standard_normal((3, 3))
    factor, b = np.linalg.cholesky(m @ m.T + 3 * np.eye(3)), rng.standard_normal((3, 2))
    results = []
    for lib in (gradfit, torch):
        f, x = lib.tensor(factor, requires_grad=True), lib.tensor(b, requires_grad=True)
        out = lib.cholesky_solve(x, f)
        gf, gx = lib.autograd.grad((out * out).sum(), [f, x], create_graph=True)
        second = lib.autograd.grad(gf.sin().sum() + (gx * gx).sum(), [f, x])
        results.append([g.detach().numpy() for g in second])
    for got, want in zip(*results):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
