"""Second order of the decompositions (cholesky, qr, svd, eigh and the matrix norms built
on them) and of solve_triangular on every registry sample, not only the smallest one the
registry sweep takes (so the tall and wide branches of the SVD and QR gradients are both
differentiated), a third derivative against PyTorch, and ``hessian`` through ``eigh``."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gradfit
from gradfit.autograd import gradgradcheck

from .op_registry import REGISTRY, make_array
from .test_engine_registry import _call, _non_contiguous
from .test_engine_second_order import _double_backward

_NAMES = {
    "cholesky",
    "cholesky_upper",
    "qr",
    "svdvals",
    "svd_vectors",
    "eigh",
    "matrix_norm_2",
    "matrix_norm_nuc",
    "solve_triangular_upper",
    "solve_triangular_lower_batched",
    "solve_triangular_right_unit",
}
_CASES = [(spec, shapes) for spec in REGISTRY if spec.name in _NAMES for shapes in spec.samples]
_IDS = [f"{s.name}-{'x'.join(map(str, shapes[0]))}" for s, shapes in _CASES]


def test_every_decomposition_is_covered():
    assert {s.name for s, _ in _CASES} == _NAMES


@pytest.mark.parametrize(("spec", "shapes"), _CASES, ids=_IDS)
def test_double_backward_matches_torch_on_every_sample(spec, shapes):
    rng = np.random.default_rng(3)
    arrays = [make_array(s, spec.domain, rng) for s in shapes]
    out_shape = tuple(_call(spec, torch, [torch.tensor(a) for a in arrays], None).shape)
    w = rng.standard_normal(out_shape)
    v = [rng.standard_normal(a.shape) for a in arrays]
    ours = _double_backward(gradfit, spec, arrays, None, w, v)
    ref = _double_backward(torch, spec, arrays, None, w, v)
    assert any(r is not None for r in ref)
    for a, b in zip(ours, ref):
        assert (a is None) == (b is None), spec.name
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10, err_msg=spec.name)


@pytest.mark.parametrize(("spec", "shapes"), _CASES, ids=_IDS)
def test_gradgradcheck_on_every_sample(spec, shapes):
    rng = np.random.default_rng(8)
    inputs = tuple(
        gradfit.from_numpy(_non_contiguous(make_array(s, spec.domain, rng))).requires_grad_()
        for s in shapes
    )
    assert gradgradcheck(lambda *t: _call(spec, gradfit, t, None), inputs, atol=1e-6, rtol=1e-5)


def _third(lib, f, x0, vs):
    """<v3, d/dx <v2, d/dx <v1, df/dx>>>: three nested gradients with create_graph."""
    x = lib.tensor(x0, requires_grad=True)
    y = f(lib, x)
    for i, v in enumerate(vs):
        (y,) = lib.autograd.grad(y, x, create_graph=i < len(vs) - 1)
        if i < len(vs) - 1:
            y = (y * lib.tensor(v)).sum()
    return y.detach().numpy()


def _chol_logdet(lib, a):
    spd = a @ a.mT + 2 * lib.eye(a.shape[-1], dtype=a.dtype)
    return (
        lib.linalg.cholesky(spd).diagonal(0, -2, -1).log().sum()
        + lib.linalg.cholesky(spd, upper=True).sum()
    )


def _qr_sum(lib, a):
    q, r = lib.linalg.qr(a)
    return (q * q.sum(-1, keepdim=True)).sum() + (r * r).sum()


def _svd_sum(lib, a):
    u, s, vh = lib.linalg.svd(a, full_matrices=False)
    return (s**3).sum() + (u[..., :, :1] * vh[..., :1, :] * s[..., :1, None]).sum()


def _eigh_sum(lib, a):
    lam, v = lib.linalg.eigh(a + a.mT)
    return (lam**2).sum() + (v[..., :, -1:] @ v[..., :, -1:].mT).pow(2).sum()


@pytest.mark.parametrize(
    ("f", "shape"),
    [(_chol_logdet, (3, 3)), (_qr_sum, (4, 3)), (_svd_sum, (3, 4)), (_eigh_sum, (3, 3))],
    ids=["cholesky", "qr", "svd", "eigh"],
)
def test_third_derivative_matches_torch(f, shape):
    rng = np.random.default_rng(1)
    x0 = rng.standard_normal(shape)
    vs = [rng.standard_normal(shape) for _ in range(3)]
    ours = _third(gradfit, f, x0, vs)
    ref = _third(torch, f, x0, vs)
    np.testing.assert_allclose(ours, ref, rtol=1e-9, atol=1e-9)


def test_hessian_through_eigvalsh_and_nuclear_norm_matches_torch():
    rng = np.random.default_rng(4)
    x0 = rng.standard_normal((3, 3))

    def f(lib):
        def fn(a):
            return (lib.linalg.eigvalsh(a + a.mT) ** 3).sum() + lib.linalg.matrix_norm(a, "nuc")

        return fn

    ours = gradfit.autograd.functional.hessian(f(gradfit), gradfit.tensor(x0))
    ref = torch.autograd.functional.hessian(f(torch), torch.tensor(x0))
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-10, atol=1e-10)
