"""nn.utils reparametrizations and helpers against PyTorch, each test running the same
program under both libraries (same seed) and comparing what it returns: weight_norm and
spectral_norm (the hook API: values, gradients, power iterations from the same random
u and v, eval mode, state_dict keys, removal), nn.utils.parametrize (class swap, repr,
right_inverse, chaining, caching, removal), parametrizations.weight_norm/spectral_norm,
the conv/linear + batch-norm fusions, skip_init and stateless.functional_call."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from nn_testing import torch_default_float32  # noqa: F401 - autouse fixture

import gradfit


def _compare(program, rtol=1e-5, atol=1e-6):
    """Run ``program(lib)`` (a dict of results) under gradfit and torch; compare."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        ours, ref = program(gradfit), program(torch)
    assert list(ours) == list(ref)
    for key in ref:
        a, b = ours[key], ref[key]
        if isinstance(b, torch.Tensor):
            a, b = a.detach().numpy(), b.detach().numpy()
            assert a.shape == b.shape and a.dtype == b.dtype, key
            np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=key)
        else:
            if isinstance(b, str):
                a = a.replace("gradfit", "torch")
            assert a == b, key


def _keys(m):
    return list(m.state_dict().keys())


@pytest.mark.parametrize("n_power_iterations", [1, 3])
def test_spectral_norm_hook_api_matches_torch(n_power_iterations):
    def program(lib):
        lib.manual_seed(0)
        m = lib.nn.utils.spectral_norm(
            lib.nn.Linear(20, 6), n_power_iterations=n_power_iterations
        )  # 20 > 16 entries: both of PyTorch's normal_ paths are drawn
        out = {"repr": repr(m), "keys": _keys(m), "u0": m.weight_u.clone()}
        x = lib.randn(3, 20)
        for step in range(3):  # each training forward runs the power iteration
            y = m(x)
            (y**2).sum().backward()
            out[f"y{step}"] = y
        out.update(u=m.weight_u.clone(), v=m.weight_v.clone(), grad=m.weight_orig.grad)
        m.eval()
        out.update(eval_y=m(x), eval_u=m.weight_u.clone())
        lib.nn.utils.remove_spectral_norm(m)
        out.update(removed=_keys(m), weight=m.weight, is_param=type(m.weight).__name__)
        return out

    _compare(program)


def test_spectral_norm_conv_and_transposed_dims_match_torch():
    def program(lib):
        lib.manual_seed(1)
        c = lib.nn.utils.spectral_norm(lib.nn.Conv2d(2, 3, 3))
        t = lib.nn.utils.spectral_norm(lib.nn.ConvTranspose2d(3, 2, 3))
        x = lib.randn(1, 2, 6, 6)
        y = t(c(x))
        y.sum().backward()
        return {
            "y": y,
            "cu": c.weight_u.clone(),
            "tu": t.weight_u.clone(),
            "tv": t.weight_v.clone(),
            "g": c.weight_orig.grad,
        }

    _compare(program)


@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm_hook_api_matches_torch(dim):
    def program(lib):
        lib.manual_seed(0)
        m = lib.nn.utils.weight_norm(lib.nn.Conv2d(2, 3, 3), dim=dim)
        out = {"repr": repr(m), "keys": _keys(m), "g": m.weight_g.clone()}
        x = lib.randn(2, 2, 5, 5)
        y = m(x)
        (y**2).sum().backward()
        out.update(y=y, gg=m.weight_g.grad, gv=m.weight_v.grad)
        lib.nn.utils.remove_weight_norm(m)
        out.update(removed=_keys(m), weight=m.weight)
        return out

    _compare(program)


def test_weight_norm_second_derivative_matches_torch():
    def program(lib):
        lib.manual_seed(0)
        m = lib.nn.utils.weight_norm(lib.nn.Linear(4, 3).double())
        x = lib.randn(5, 4, dtype=lib.float64, requires_grad=True)
        y = lib.tanh(m(x)).sum()
        (gx,) = lib.autograd.grad(y, x, create_graph=True)
        gg, gv = lib.autograd.grad((gx**2).sum(), [m.weight_g, m.weight_v])
        return {"gx": gx, "gg": gg, "gv": gv}

    _compare(program, rtol=1e-10, atol=1e-12)


def test_hook_api_errors_and_warning_match_torch():
    def program(lib):
        out = {}
        m = lib.nn.Linear(2, 2)
        with pytest.warns(FutureWarning, match="parametrizations.weight_norm"):
            lib.nn.utils.weight_norm(m)
        for fn in (
            lambda: lib.nn.utils.weight_norm(m),
            lambda: lib.nn.utils.remove_spectral_norm(m),
            lambda: lib.nn.utils.spectral_norm(lib.nn.Linear(2, 2), n_power_iterations=0),
        ):
            with pytest.raises((RuntimeError, ValueError)) as info:
                fn()
            out[len(out)] = (type(info.value).__name__, str(info.value))
        return out

    _compare(program)


class _Symmetric:
    """A user-defined parametrization, built on each library's nn.Module."""

    @staticmethod
    def make(lib):
        class Symmetric(lib.nn.Module):
            def forward(self, x):
                return x.triu() + x.triu(1).mT

            def right_inverse(self, a):
                return a.triu()

        return Symmetric


def test_parametrize_matches_torch():
    def program(lib):
        P = lib.nn.utils.parametrize  # noqa: N806
        lib.manual_seed(0)
        m = lib.nn.Linear(3, 3)
        P.register_parametrization(m, "weight", _Symmetric.make(lib)())
        out = {
            "repr": repr(m),
            "cls": type(m).__name__,
            "before": P.type_before_parametrizations(m).__name__,
            "keys": _keys(m),
            "params": [n for n, _ in m.named_parameters()],
            "is": (
                P.is_parametrized(m),
                P.is_parametrized(m, "weight"),
                P.is_parametrized(m, "bias"),
            ),
            "original": m.parametrizations.weight.original.clone(),
            "w": m.weight,
        }
        x = lib.randn(2, 3)
        m(x).sum().backward()
        out["grad"] = m.parametrizations.weight.original.grad
        with lib.no_grad():
            m.weight = lib.arange(9.0).reshape(3, 3)  # goes through right_inverse
        out["set"] = m.parametrizations.weight.original.clone()
        with P.cached():
            out["cached_same"] = m.weight is m.weight
        out["uncached_same"] = m.weight is m.weight
        P.register_parametrization(m, "weight", _Symmetric.make(lib)())  # chained
        out["chained_repr"] = repr(m)
        P.remove_parametrizations(m, "weight", leave_parametrized=False)
        out.update(after=(type(m).__name__, _keys(m)), w_after=m.weight)
        return out

    _compare(program)


def test_parametrize_errors_match_torch():
    def program(lib):
        P = lib.nn.utils.parametrize  # noqa: N806

        class Flatten(lib.nn.Module):
            def forward(self, x):
                return x.flatten()

        out = {}
        for fn in (
            lambda: P.register_parametrization(lib.nn.Linear(2, 2), "weight", Flatten()),
            lambda: P.register_parametrization(lib.nn.Linear(2, 2), "nothing", Flatten()),
            lambda: P.remove_parametrizations(lib.nn.Linear(2, 2), "weight"),
        ):
            with pytest.raises(ValueError) as info:
                fn()
            out[len(out)] = str(info.value).split("\n")[0].split("(")[0]
        return out

    _compare(program)


def test_parametrizations_weight_norm_and_spectral_norm_match_torch():
    def program(lib):
        lib.manual_seed(0)
        pz = lib.nn.utils.parametrizations
        a = pz.weight_norm(lib.nn.Linear(4, 3))
        b = pz.spectral_norm(lib.nn.Linear(20, 5))
        c = pz.spectral_norm(lib.nn.Conv1d(2, 3, 2))
        out = {"ra": repr(a), "rb": repr(b), "ka": _keys(a), "kb": _keys(b), "kc": _keys(c)}
        x = lib.randn(2, 4)
        for step in range(2):
            y = b(lib.cat([a(x)] * 7, 1)[:, :20]) + c(lib.randn(1, 2, 4)).sum()
            y.sum().backward()
            out[f"y{step}"] = y
        out["u"] = b.parametrizations.weight[0]._u.clone()
        out["g0"] = a.parametrizations.weight.original0.grad
        out["g1"] = a.parametrizations.weight.original1.grad
        out["gb"] = b.parametrizations.weight.original.grad
        b.eval()
        out["eval"] = b(lib.randn(1, 20))
        return out

    _compare(program)


def test_fusions_match_torch_and_the_unfused_layers():
    def program(lib):
        lib.manual_seed(0)
        conv, bn = lib.nn.Conv2d(2, 3, 3), lib.nn.BatchNorm2d(3)
        lin, bn1 = lib.nn.Linear(4, 3), lib.nn.BatchNorm1d(3)
        x, z = lib.randn(4, 2, 5, 5), lib.randn(6, 4)
        bn(conv(x))
        bn1(lin(z))  # running statistics
        for mod in (conv, bn, lin, bn1):
            mod.eval()
        fc = lib.nn.utils.fuse_conv_bn_eval(conv, bn)
        fl = lib.nn.utils.fuse_linear_bn_eval(lin, bn1)
        w, b = lib.nn.utils.fuse_conv_bn_weights(
            conv.weight, None, bn.running_mean, bn.running_var, bn.eps, None, None
        )
        return {
            "conv": fc(x),
            "conv_diff": (fc(x) - bn(conv(x))).abs().max() < 1e-5,
            "lin": fl(z),
            "lin_diff": (fl(z) - bn1(lin(z))).abs().max() < 1e-5,
            "w": w,
            "b": b,
            "types": (type(w).__name__, w.requires_grad, b.requires_grad),
            "same_conv": fc is conv,
        }

    _compare(program)


def test_skip_init_draws_no_random_numbers():
    def program(lib):
        lib.manual_seed(0)
        m = lib.nn.utils.skip_init(lib.nn.Linear, 3, 4, dtype=lib.float64)
        out = {"shape": tuple(m.weight.shape), "dtype": str(m.weight.dtype), "next": lib.randn(3)}
        with pytest.raises(RuntimeError) as info:
            lib.nn.utils.skip_init(lib.nn.ReLU)
        out["error"] = str(info.value)
        return out

    _compare(program)


def test_functional_call_matches_torch():
    def program(lib):
        lib.manual_seed(0)
        m = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4))
        w = lib.randn(4, 3, requires_grad=True)
        x = lib.randn(5, 3)
        fc = lib.nn.utils.stateless.functional_call
        y = fc(m, {"0.weight": w, "1.running_mean": lib.ones(4)}, (x,))
        y.sum().backward()
        out = {"y": y, "gw": w.grad, "orig_untouched": m[0].weight.grad is None}
        out["mean"] = m[1].running_mean  # updated: the given buffer, not the module's
        out["y_kw"] = fc(m[0], {"weight": w}, kwargs={"input": x})
        with pytest.raises(RuntimeError) as info:
            fc(m, {"0.weight": w, "extra": w}, x, strict=True)
        out["strict"] = str(info.value)
        return out

    _compare(program)


@pytest.mark.parametrize(
    ("shape", "orthogonal_map", "use_trivialization"),
    [
        ((3, 3), None, True),
        ((5, 3), None, True),  # householder; the completion draws from the generator
        ((3, 5), "cayley", True),
        ((3, 5), "householder", False),
        ((4, 4), "matrix_exp", False),
    ],
)
def test_orthogonal_matches_torch(shape, orthogonal_map, use_trivialization):
    def program(lib):
        lib.manual_seed(0)
        m = lib.nn.Linear(shape[1], shape[0]).double()
        lib.nn.utils.parametrizations.orthogonal(
            m, orthogonal_map=orthogonal_map, use_trivialization=use_trivialization
        )
        y = m(lib.randn(2, shape[1], dtype=lib.float64))
        (y**2).sum().backward()
        w = m.weight
        small = w @ w.mT if shape[0] <= shape[1] else w.mT @ w
        return {
            "keys": _keys(m),
            "w": w,
            "orthogonal": bool(
                (small - lib.eye(min(shape), dtype=lib.float64)).abs().max() < 1e-12
            ),
            "y": y,
            "grad": m.parametrizations.weight.original.grad,
        }

    _compare(program, rtol=1e-9, atol=1e-10)


def test_weight_norm_on_recurrent_layers_matches_torch():
    def program(lib):
        lib.manual_seed(0)
        lstm = lib.nn.utils.weight_norm(lib.nn.LSTM(3, 4, num_layers=2), "weight_hh_l0")
        gru = lib.nn.utils.parametrizations.weight_norm(lib.nn.GRU(3, 4), "weight_ih_l0")
        x = lib.randn(5, 2, 3)
        y = lstm(x)[0].sum() + gru(x)[0].sum()
        y.backward()
        return {
            "keys": _keys(lstm)[:4] + _keys(gru)[:3],
            "y": y,
            "g": lstm.weight_hh_l0_g.grad,
            "v": gru.parametrizations.weight_ih_l0.original1.grad,
        }

    _compare(program)
