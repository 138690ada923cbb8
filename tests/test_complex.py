"""Complex tensors against PyTorch: dtypes, promotion, views, printing, errors and
gradients (PyTorch's convention: dL/dRe(z) + i dL/dIm(z)), plus finite differences on the
real and imaginary parts. Parity tests import torch and fail without it."""

from __future__ import annotations

import numpy as np
import pytest

import gradfit


def _outcome(fn):
    """What a program sees: (exception class and message, or None) and the value's repr,
    with the library's name taken out."""
    try:
        out = fn()
    except Exception as e:  # noqa: BLE001 - the class and the text are compared
        return type(e).__name__, str(e).replace("torch", "L").replace("gradfit", "L")
    return None, repr(out).replace("torch", "L").replace("gradfit", "L")


# Each case runs under both libraries (T is the module) and prints the same.
CASES = [
    lambda T: T.tensor([1 + 2j, 3j]), lambda T: T.tensor(1 - 1j),
    lambda T: T.tensor(np.array([1 + 2j, -0.5j])), lambda T: T.tensor(np.array([1j], np.complex64)),
    lambda T: T.tensor([1 + 2j]).dtype, lambda T: T.tensor([[1, 2j], [3.5, -1]]).dtype,
    lambda T: T.tensor([1.0, 2.0]) + T.tensor([1j, 2j]),
    lambda T: T.tensor([1.0, 2.0], dtype=T.float64) * T.tensor([1j, 2j]),
    lambda T: T.tensor([1, 2]) * 1j, lambda T: T.tensor([1.0, 2.0]) * (1 + 1j),
    lambda T: T.tensor([1j]).is_complex(), lambda T: T.ones(1).is_complex(),
    lambda T: T.complex64.is_complex, lambda T: T.cdouble, lambda T: T.cfloat.is_floating_point,
    lambda T: T.tensor([1 + 2j, -3 - 4j]).abs(), lambda T: T.tensor([1 + 2j, -3, 0j]).angle(),
    lambda T: T.tensor([-1.0, 2.0, 0.0]).angle(), lambda T: T.tensor([1 + 2j]).real,
    lambda T: T.tensor([1 + 2j]).imag, lambda T: T.ones(2).real, lambda T: T.ones(2).imag,
    lambda T: T.tensor([1 + 2j], dtype=T.complex128).real.dtype,
    lambda T: T.tensor([1 + 2j, 3 - 1j]).conj(), lambda T: T.tensor([1 + 2j]).conj().is_conj(),
    lambda T: T.tensor([1 + 2j]).conj().resolve_conj().is_conj(),
    lambda T: T.conj_physical(T.tensor([1 + 2j])), lambda T: T.ones(2).conj().is_conj(),
    lambda T: T.complex(T.ones(2), T.arange(2.0)),
    lambda T: T.complex(T.ones(2), T.ones(2, dtype=T.float64)),
    lambda T: T.complex(T.ones(2, dtype=T.int64), T.ones(2, dtype=T.int64)),
    lambda T: T.polar(T.tensor([1.0, 2.0]), T.tensor([0.5, -1.0])),
    lambda T: T.view_as_real(T.tensor([1 + 2j, 3 - 4j])), lambda T: T.view_as_real(T.ones(2)),
    lambda T: T.view_as_complex(T.arange(6.0).reshape(3, 2)),
    lambda T: T.view_as_complex(T.ones(3, 3)), lambda T: T.view_as_complex(T.ones(2, 2).t()),
    lambda T: T.view_as_complex(T.ones(2, dtype=T.int64)),
    lambda T: T.tensor([1 + 2j]) * T.tensor([2 - 1j]), lambda T: T.tensor([1 + 2j]) / (1 - 1j),
    lambda T: T.tensor([1 + 2j]) - T.tensor([0.5]), lambda T: -T.tensor([1 + 2j]),
    lambda T: T.tensor([1 + 2j]) ** 2, lambda T: T.tensor([1 + 2j, -1j]).exp(),
    lambda T: T.tensor([1 + 2j]).log(), lambda T: T.tensor([1 + 2j, -4 + 0j]).sqrt(),
    lambda T: T.tensor([1 + 2j]).sin(), lambda T: T.tensor([1 + 2j]).cos(),
    lambda T: T.tensor([1 + 2j]).tanh(), lambda T: T.tensor([1 + 2j, -0.5j]).sigmoid(),
    lambda T: T.tensor([[1 + 2j, 1], [0, 1j]]) @ T.tensor([[1j], [2]]),
    lambda T: T.tensor([1 + 2j, 1]).sum(), lambda T: T.tensor([1 + 2j, 1]).mean(),
    lambda T: T.tensor([1 + 2j, 1 - 1j]).prod(), lambda T: T.tensor([1 + 2j, 0j]).sgn(),
    lambda T: T.tensor([1 + 2j]).sign(),
    lambda T: T.tensor([1 + 2j]) == T.tensor([1 + 2j]), lambda T: T.tensor([1 + 2j]) != 1,
    lambda T: T.tensor([1 + 2j]) < T.tensor([1 + 2j]), lambda T: T.tensor([1 + 2j]) >= 0,
    lambda T: T.tensor([1 + 2j], dtype=T.complex128) > 0,
    lambda T: T.tensor([1 + 2j]) <= T.tensor([1.0]),
    lambda T: T.tensor([1 + 2j]).sum().item(), lambda T: T.tensor([[1 + 2j, 0.5]]).tolist(),
    lambda T: T.zeros(2, dtype=T.complex128), lambda T: T.ones(2, 2, dtype=T.cfloat),
    lambda T: T.tensor([1 + 2j]).to(T.complex128), lambda T: T.ones(2).to(T.cfloat),
    lambda T: T.tensor([1 + 2j], requires_grad=True).sum().backward(),
    lambda T: T.tensor([1 + 2j], requires_grad=True) * 2,
    lambda T: T.tensor([1 + 2j]).type(), lambda T: T.tensor([1 + 2j], dtype=T.cdouble).type(),
    lambda T: float(T.tensor(1 + 2j)), lambda T: float(T.tensor(3 + 0j)),
    lambda T: complex(T.tensor([1 - 2j])), lambda T: T.where(T.tensor([True, False]), 1j, 0.5),
    lambda T: T.where(T.tensor([True, False]), T.ones(2), 2j),
    lambda T: T.tensor([1 + 2j, 3 - 1j]).var(), lambda T: T.tensor([1 + 2j, 3 - 1j]).norm(),
]  # fmt: skip


@pytest.mark.parametrize("case", range(len(CASES)))
def test_complex_api_as_pytorch(case):
    import torch

    fn = CASES[case]
    assert _outcome(lambda: fn(gradfit)) == _outcome(lambda: fn(torch))


def test_default_complex_dtype_follows_default_float():
    import torch

    for lib in (gradfit, torch):
        lib.set_default_dtype(lib.float64)
    try:
        for fn in (lambda T: T.tensor([1j]), lambda T: T.tensor(2j).dtype,
                   lambda T: T.tensor([1j], dtype=T.complex64)):  # fmt: skip
            assert _outcome(lambda fn=fn: fn(gradfit)) == _outcome(lambda fn=fn: fn(torch))
    finally:
        for lib in (gradfit, torch):
            lib.set_default_dtype(lib.float32)


def test_random_complex_draws_as_pytorch():
    import torch

    for dtype in ("cfloat", "cdouble"):
        for draw in ("rand", "randn"):
            torch.manual_seed(3)
            gradfit.manual_seed(3)
            want = getattr(torch, draw)(2, 11, dtype=getattr(torch, dtype)).numpy()
            got = getattr(gradfit, draw)(2, 11, dtype=getattr(gradfit, dtype)).numpy()
            assert got.dtype == want.dtype
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


def test_views_share_memory_as_pytorchs():
    z = gradfit.tensor([1 + 2j, 3 - 4j])
    z.real.mul_(10)
    z.imag[1] = 7.0
    r = gradfit.view_as_real(z)
    r[0, 1] = -1.0
    assert z.tolist() == [10 - 1j, 30 + 7j]
    x = gradfit.arange(4.0).reshape(2, 2)
    c = gradfit.view_as_complex(x)
    c.mul_(1j)
    assert x.tolist() == [[-1.0, 0.0], [-3.0, 2.0]]
    z.real = gradfit.tensor([5.0, 6.0])
    assert z.tolist() == [5 - 1j, 6 + 7j]


# ---- printing ---------------------------------------------------------------------------
def _print_values():
    rng = np.random.default_rng(0)
    yield np.array([1 + 2j, 3 - 4j])
    yield np.array([0j, -0.0 - 0j, 1.5 + 0j])
    yield np.array(2.5 - 1j)
    yield np.array([1e-5 + 1j, 1e5 - 2j])
    yield np.array([1e9j, 1 + 0j])
    yield np.array([np.nan + 1j, np.inf - np.inf * 1j, 1 + 1j])
    yield (rng.standard_normal((3, 4)) + 1j * rng.standard_normal((3, 4))).astype(np.complex64)
    yield rng.standard_normal((2, 3, 2)) * 100 + 1j * rng.standard_normal((2, 3, 2))
    yield rng.standard_normal((40, 40)) + 0.25j
    yield rng.standard_normal((30,)) - 3j * rng.standard_normal((30,))
    yield np.zeros((0, 2), np.complex64)
    yield np.arange(6).reshape(2, 3) * (1 - 1j)


@pytest.mark.parametrize("case", range(12))
def test_printing_as_pytorch(case):
    import torch

    values = list(_print_values())[case]
    for wrap in (lambda T, v: T.tensor(v), lambda T, v: T.tensor(v).to(T.complex128)):
        want = repr(wrap(torch, values)).replace("torch.", "")
        got = repr(wrap(gradfit, values)).replace("gradfit.", "")
        assert got == want
    want = str(torch.tensor(values, requires_grad=True) * 2).replace("torch.", "")
    got = str(gradfit.tensor(values, requires_grad=True) * 2).replace("gradfit.", "")
    assert got == want


def test_printing_with_options_as_pytorch():
    import torch

    v = np.random.default_rng(1).standard_normal((5, 7)) * (1 + 3j)
    try:
        for opts in ({"precision": 2, "linewidth": 50}, {"sci_mode": True}, {"threshold": 10}):
            torch.set_printoptions(**opts)
            gradfit.set_printoptions(**opts)
            assert repr(gradfit.tensor(v)).replace("gradfit.", "") == repr(torch.tensor(v)).replace(
                "torch.", ""
            )
    finally:
        torch.set_printoptions(profile="default")
        gradfit.set_printoptions(profile="default")


# ---- gradients ----------------------------------------------------------------------------
def _c(rng, shape):
    return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


# (name, function of (library, *inputs), input kinds: "c" complex, "r" real)
GRAD_CASES = [
    ("mul", lambda T, a, b: a * b, "cc"), ("div", lambda T, a, b: a / b, "cc"),
    ("add_real", lambda T, a, b: a + b, "cr"), ("mul_real", lambda T, a, b: a * b, "rc"),
    ("pow", lambda T, a: a**3, "c"), ("exp", lambda T, a: a.exp(), "c"),
    ("log", lambda T, a: a.log(), "c"), ("sqrt", lambda T, a: a.sqrt(), "c"),
    ("sin", lambda T, a: a.sin(), "c"), ("cos", lambda T, a: a.cos(), "c"),
    ("tanh", lambda T, a: a.tanh(), "c"), ("sigmoid", lambda T, a: a.sigmoid(), "c"),
    ("matmul", lambda T, a, b: a @ b.reshape(3, 3), "cc"),
    ("sum", lambda T, a: a.sum(0), "c"), ("mean", lambda T, a: a.mean(), "c"),
    ("prod", lambda T, a: a.prod(1), "c"), ("abs", lambda T, a: a.abs(), "c"),
    ("angle", lambda T, a: a.angle(), "c"), ("sgn", lambda T, a: a.sgn(), "c"),
    ("real", lambda T, a: a.real * 2, "c"), ("imag", lambda T, a: a.imag**2, "c"),
    ("conj", lambda T, a, b: a.conj() * b, "cc"),
    ("conj_physical", lambda T, a: T.conj_physical(a) * a, "c"),
    ("complex", lambda T, a, b: T.complex(a, b) ** 2, "rr"),
    ("polar", lambda T, a, b: T.polar(a.abs() + 0.5, b) ** 2, "rr"),
    ("view_as_real", lambda T, a: T.view_as_real(a) ** 2, "c"),
    ("view_as_complex", lambda T, a: T.view_as_complex(a.reshape(3, 3, 2)[:, :2]) ** 2, "r6"),
    ("cast", lambda T, a: a.to(T.complex128) * 1j, "r"),
    ("reshape_index", lambda T, a: a.reshape(9)[2:5].flip(0) * 1j, "c"),
    ("norm", lambda T, a: a.norm() + T.linalg.vector_norm(a, 3, dim=0).sum(), "c"),
    ("var_std", lambda T, a: a.var(0) + a.std(1), "c"),
    ("vdot", lambda T, a, b: T.vdot(a.reshape(9), b.reshape(9)), "cc"),
    ("where", lambda T, a: T.where(a.real > 0, a, 0) * 1j, "c"),
]  # fmt: skip


def _inputs(kinds: str, seed: int):
    rng = np.random.default_rng(seed)
    out = []
    for k in kinds.replace("6", ""):
        shape = (3, 6) if kinds == "r6" else (3, 3)
        out.append(_c(rng, shape) if k == "c" else rng.standard_normal(shape))
    return out


def _weights(shape, complex_out: bool, seed: int):
    rng = np.random.default_rng(seed + 100)
    return rng.standard_normal(shape), rng.standard_normal(shape)


def _loss(T, out, wr, ww):
    """A real loss with an arbitrary gradient for out: <Re out, wr> + <Im out, wi>."""
    wr, ww = T.tensor(wr, dtype=out.real.dtype), T.tensor(ww, dtype=out.real.dtype)
    if out.is_complex():
        return (out.real * wr).sum() + (out.imag * ww).sum()
    return (out * wr).sum()


@pytest.mark.parametrize("name", [c[0] for c in GRAD_CASES])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_gradients_as_pytorch(name, dtype):
    import torch

    _, fn, kinds = next(c for c in GRAD_CASES if c[0] == name)
    values = _inputs(kinds, 1)
    cast = {"float64": (np.float64, np.complex128), "float32": (np.float32, np.complex64)}[dtype]
    values = [v.astype(cast[1] if np.iscomplexobj(v) else cast[0]) for v in values]
    grads = {}
    for T in (torch, gradfit):
        xs = [T.tensor(v, requires_grad=True) for v in values]
        out = fn(T, *xs)
        wr, ww = _weights(tuple(out.shape), out.is_complex(), 1)
        _loss(T, out, wr, ww).backward()
        grads[T.__name__] = (
            out.detach().resolve_conj().numpy(),
            [x.grad.resolve_conj().numpy() for x in xs],
        )
    (want_out, want), (got_out, got) = grads["torch"], grads["gradfit"]
    tol = {"float64": 1e-10, "float32": 2e-5}[dtype]
    assert got_out.dtype == want_out.dtype
    np.testing.assert_allclose(got_out, want_out, rtol=tol, atol=tol)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype
        np.testing.assert_allclose(g, w, rtol=tol, atol=tol)


@pytest.mark.parametrize("name", [c[0] for c in GRAD_CASES])
def test_gradients_are_finite_differences_of_real_and_imaginary_parts(name):
    # The convention itself, without PyTorch: grad = dL/dRe(z) + i dL/dIm(z).
    _, fn, kinds = next(c for c in GRAD_CASES if c[0] == name)
    values = _inputs(kinds, 2)

    def loss(vals):
        with gradfit.no_grad():
            out = fn(gradfit, *[gradfit.tensor(v) for v in vals])
            wr, ww = _weights(tuple(out.shape), out.is_complex(), 2)
            return _loss(gradfit, out, wr, ww).item()

    xs = [gradfit.tensor(v, requires_grad=True) for v in values]
    out = fn(gradfit, *xs)
    wr, ww = _weights(tuple(out.shape), out.is_complex(), 2)
    _loss(gradfit, out, wr, ww).backward()
    h = 1e-6
    for i, v in enumerate(values):
        fd = np.zeros(v.shape, v.dtype)
        for idx in np.ndindex(v.shape):
            for step in (1, 1j) if np.iscomplexobj(v) else (1,):
                plus = [w.copy() for w in values]
                minus = [w.copy() for w in values]
                plus[i][idx] += h * step
                minus[i][idx] -= h * step
                fd[idx] += step * (loss(plus) - loss(minus)) / (2 * h)
        np.testing.assert_allclose(xs[i].grad.numpy(), fd, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "name, kwargs",
    [("Adam", {"amsgrad": True}), ("AdamW", {}), ("RMSprop", {"momentum": 0.5}),
     ("SGD", {"momentum": 0.9}), ("Adagrad", {}), ("NAdam", {})],
)  # fmt: skip
def test_optimizers_update_complex_parameters_as_pytorch(name, kwargs):
    # PyTorch updates a complex parameter as its view_as_real pairs
    import torch

    got = {}
    for lib in (torch, gradfit):
        p = lib.nn.Parameter(lib.tensor([[1 + 2j, -0.5 + 0.1j], [0.3j, 2.0]]))
        opt = getattr(lib.optim, name)([p], lr=0.1, **kwargs)
        for _ in range(4):
            opt.zero_grad()
            loss = (p * p.conj()).real.sum() + (p.sum() * (1 + 1j)).real + p.abs().sum()
            loss.backward()
            opt.step()
        got[lib.__name__] = p.detach().numpy()
    np.testing.assert_allclose(got["gradfit"], got["torch"], rtol=1e-6, atol=1e-6)


def test_real_scalar_times_complex_tensor_stays_complex():
    z = gradfit.tensor([1 + 1j])
    assert (0.5 * z).dtype == gradfit.complex64 and (z / 2.0).dtype == gradfit.complex64


NODE_CASES = [
    "L.fft.rfft(x)", "L.fft.fft(x)", "L.fft.fft(z)", "L.fft.ifft(x)", "L.fft.irfft(z)",
    "L.fft.hfft(z)", "L.fft.ihfft(x)", "L.view_as_real(z)", "L.view_as_complex(x.reshape(2, 2))",
    "L.complex(x, x)", "L.polar(x, x)", "z.abs()", "z.angle()", "z.sgn()", "z.real", "z.imag",
    "z.conj()", "L.conj_physical(z)", "z.conj().resolve_conj()", "x.angle()", "x.real",
    "x.conj()", "z * x[:3]", "(z @ z).exp()",
]  # fmt: skip


@pytest.mark.parametrize("expr", NODE_CASES)
def test_results_and_grad_fn_names_print_as_pytorch(expr):
    import torch

    printed = []
    for L in (torch, gradfit):
        x = L.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
        z = L.tensor([1 + 1j, 2, 3j], requires_grad=True)
        out = eval(expr, {"L": L, "x": x, "z": z})
        printed.append(repr(out).replace("torch.", "").replace("gradfit.", ""))
    assert printed[1] == printed[0]


SECOND_ORDER = [
    "(z * z * x).abs().pow(2).sum()", "((z.exp() * z).sum() * x.sum()).real",
    "(z.sin() / (z + 3)).real.sum() + (x * z).imag.sum()", "(z @ z.conj()).real * x.sum()",
    "L.fft.fft(z * x).abs().sum()", "(L.fft.rfft(x * x, n=6) * z[:4]).abs().sum()",
    "L.fft.irfft(z * z, n=7).pow(2).sum() * x.sum()",
    "L.fft.irfft(z * x, n=5, norm='ortho').pow(3).sum()",
    "L.fft.ifft(z * z * x, n=6, norm='forward').abs().pow(2).sum()",
    "L.view_as_real(z * z).pow(3).sum() + L.view_as_complex(L.stack([x, x * x], -1)).abs().sum()",
    "L.polar(x * x + 1, x).mul(z).real.sum()", "(z * z).angle().sum() * x.sum()",
    "(z * z).sgn().real.pow(2).sum() + (z * x).conj().imag.pow(2).sum()",
    "(L.complex(x * x, x).pow(2) * z).abs().sum()", "L.fft.hfft(z * z * x).pow(2).sum()",
    "(L.fft.ihfft(x * x) * z[:3]).abs().sum()",
]  # fmt: skip


@pytest.mark.parametrize("expr", SECOND_ORDER)
def test_second_order_as_pytorch(expr):
    # create_graph=True through complex ops: the gradient's own gradient
    import torch

    rng = np.random.default_rng(0)
    zv, xv = _c(rng, 4), rng.standard_normal(4)
    got = []
    for L in (torch, gradfit):
        z, x = L.tensor(zv, requires_grad=True), L.tensor(xv, requires_grad=True)
        loss = eval(expr, {"L": L, "x": x, "z": z})
        gz, gx = L.autograd.grad(loss, (z, x), create_graph=True)
        ((gz * gz.conj()).real.sum() + gx.pow(2).sum()).backward()
        got.append(
            [gz.detach().resolve_conj().numpy(), z.grad.resolve_conj().numpy(), x.grad.numpy()]
        )
    for g, w in zip(got[1], got[0]):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-10)
