"""gradfit.special against torch.special: values and first derivatives (float64 to
1e-10, float32 to 1e-5), second derivatives where the op records its backward, and
PyTorch's errors for the functions it does not differentiate."""

from __future__ import annotations

import numpy as np
import pytest

import gradfit

RNG = np.random.RandomState(0)
REAL = RNG.uniform(-3, 3, 7)
POS = RNG.uniform(0.2, 4, 7)
UNIT = RNG.uniform(0.05, 0.95, 7)
OPEN = np.concatenate([RNG.uniform(-0.9, 0.9, 6), [0.0]])

# name -> (call with the module as ``S``, input samples, differentiable)
CASES = {
    "expit": (lambda S, x: S.expit(x), REAL, True),
    "logit": (lambda S, x: S.logit(x), UNIT, True),
    "logit_eps": (lambda S, x: S.logit(x, eps=0.2), UNIT, True),
    "erf": (lambda S, x: S.erf(x), REAL, True),
    "erfc": (lambda S, x: S.erfc(x), REAL, True),
    "erfcx": (lambda S, x: S.erfcx(x), REAL, True),
    "erfinv": (lambda S, x: S.erfinv(x), OPEN, True),
    "exp2": (lambda S, x: S.exp2(x), REAL, True),
    "expm1": (lambda S, x: S.expm1(x * 1e-3), REAL, True),
    "log1p": (lambda S, x: S.log1p(x), POS, True),
    "log_softmax": (lambda S, x: S.log_softmax(x.reshape(1, -1), 1), REAL, True),
    "softmax": (lambda S, x: S.softmax(x.reshape(1, -1), -1), REAL, True),
    "logsumexp": (lambda S, x: S.logsumexp(x.reshape(7, 1), 0, keepdim=True), REAL, True),
    "xlogy": (lambda S, x: S.xlogy(x, x + 1), POS, True),
    "xlogy_scalar": (lambda S, x: S.xlogy(2.0, x), POS, True),
    "xlog1py": (lambda S, x: S.xlog1py(x - 1, x), POS, True),
    "gammaln": (lambda S, x: S.gammaln(x), POS, True),
    "digamma": (lambda S, x: S.digamma(x), POS, True),
    "psi": (lambda S, x: S.psi(x), POS, True),
    "polygamma": (lambda S, x: S.polygamma(2, x), POS, True),
    "multigammaln": (lambda S, x: S.multigammaln(x + 1.5, 3), POS, True),
    "sinc": (lambda S, x: S.sinc(x), REAL, True),
    "round": (lambda S, x: S.round(x, decimals=1), REAL, True),
    "entr": (lambda S, x: S.entr(x), POS, True),
    "ndtr": (lambda S, x: S.ndtr(x), REAL, True),
    "ndtri": (lambda S, x: S.ndtri(x), UNIT, True),
    "log_ndtr": (lambda S, x: S.log_ndtr(x * 3), REAL, True),
    "i0": (lambda S, x: S.i0(x), REAL, True),
    "i0e": (lambda S, x: S.i0e(x), REAL, True),
    "i1": (lambda S, x: S.i1(x), OPEN, True),
    "i1e": (lambda S, x: S.i1e(x), OPEN, True),
    "zeta": (lambda S, x: S.zeta(3.0, x), POS, True),
    "gammainc": (lambda S, x: S.gammainc(x.detach() * 0.5 + 1, x), POS, True),
    "gammaincc": (lambda S, x: S.gammaincc(x.detach() + 0.5, x), POS, True),
    "bessel_j0": (lambda S, x: S.bessel_j0(x), REAL, False),
    "bessel_j1": (lambda S, x: S.bessel_j1(x), REAL, False),
    "bessel_y0": (lambda S, x: S.bessel_y0(x), POS, False),
    "modified_bessel_k1": (lambda S, x: S.modified_bessel_k1(x), POS, False),
    "spherical_bessel_j0": (lambda S, x: S.spherical_bessel_j0(x), REAL, False),
}


def _run(lib, fn, data, dtype_name, grad):
    x = lib.tensor(data, dtype=getattr(lib, dtype_name), requires_grad=grad)
    y = fn(lib.special, x)
    if not grad:
        return y.detach().numpy(), None
    weights = np.linspace(0.5, 1.5, y.numel()).reshape(tuple(y.shape))
    (g,) = lib.autograd.grad((y * lib.tensor(weights, dtype=y.dtype)).sum(), x)
    return y.detach().numpy(), g.numpy()


@pytest.mark.parametrize("dtype, tol", [("float64", 1e-10), ("float32", 1e-5)])
@pytest.mark.parametrize("name", sorted(CASES))
def test_values_and_gradients_match_torch(name, dtype, tol):
    import torch

    fn, data, grad = CASES[name]
    want_y, want_g = _run(torch, fn, data, dtype, grad)
    got_y, got_g = _run(gradfit, fn, data, dtype, grad)
    assert got_y.dtype == want_y.dtype
    if not grad and dtype == "float64":
        # PyTorch's own Bessel approximations agree with scipy's to ~1e-9 near their roots
        tol = 1e-8
    np.testing.assert_allclose(got_y, want_y, rtol=tol, atol=tol)
    if grad:
        np.testing.assert_allclose(got_g, want_g, rtol=tol, atol=tol)


@pytest.mark.parametrize("name", ["i0", "i0e", "i1", "i1e", "ndtri", "log_ndtr", "entr",
                                  "erfcx", "expm1", "xlog1py", "zeta", "ndtr"])  # fmt: skip
def test_second_derivatives_match_torch(name):
    import torch

    fn, data, _ = CASES[name]

    def second(lib):
        x = lib.tensor(data, dtype=lib.float64, requires_grad=True)
        (g,) = lib.autograd.grad(fn(lib.special, x).sum(), x, create_graph=True)
        return lib.autograd.grad((g * g).sum(), x)[0].numpy()

    np.testing.assert_allclose(second(gradfit), second(torch), rtol=1e-9, atol=1e-10)


def test_edge_values_match_torch():
    import torch

    edges = [0.0, -1.0, 1.0, float("inf"), float("-inf"), float("nan"), 2.0]
    for name in ("entr", "ndtri", "log_ndtr", "i1", "i1e", "expm1", "ndtr", "erfcx"):
        fn = CASES[name][0]
        want = fn(torch.special, torch.tensor(edges, dtype=torch.float64)).numpy()
        got = fn(gradfit.special, gradfit.tensor(edges, dtype=gradfit.float64)).numpy()
        np.testing.assert_allclose(got, want, rtol=1e-12, equal_nan=True, err_msg=name)
    # integer inputs are computed in the default float dtype
    assert gradfit.special.i0(gradfit.tensor([1, 2])).dtype == gradfit.float32
    assert gradfit.special.xlog1py(gradfit.tensor([0, 1]), 2).dtype == gradfit.float32


def _leaf(lib, values):
    return lib.tensor(values, requires_grad=True)


def _raised(lib, call):
    try:
        call(lib)
    except Exception as e:  # noqa: BLE001 - compared with torch's
        return type(e).__name__, str(e)
    return None


@pytest.mark.parametrize(
    "call",
    [
        lambda T: T.special.bessel_j0(_leaf(T, [0.5, 1.0])).sum().backward(),
        lambda T: T.special.spherical_bessel_j0(_leaf(T, [0.5])).sum().backward(),
        lambda T: T.special.zeta(_leaf(T, [2.5]), T.tensor([2.0])).sum().backward(),
        lambda T: T.special.gammainc(_leaf(T, [2.5]), T.tensor([2.0])).sum().backward(),
        lambda T: T.special.gammaincc(_leaf(T, [2.5]), T.tensor([2.0])).sum().backward(),
        lambda T: T.special.gammaincc(T.tensor([2.5]), 2.0),
    ],
)  # fmt: skip
def test_not_differentiable_raises_as_torch(call):
    import torch

    want = _raised(torch, call)
    assert want is not None
    assert _raised(gradfit, call) == want


def test_multigammaln_domain_error():
    with pytest.raises(RuntimeError, match="greater than"):
        gradfit.special.multigammaln(gradfit.tensor([0.5, 3.0]), 3)
