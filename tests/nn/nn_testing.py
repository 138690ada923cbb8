"""Shared helpers for the gradfit.nn parity tests: run the same computation in gradfit and
in PyTorch on the same numbers and compare values and gradients."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gradfit

TOL = {
    np.dtype(np.float64): {"rtol": 1e-10, "atol": 1e-12},
    np.dtype(np.float32): {"rtol": 1e-5, "atol": 1e-6},
}
DTYPES = [np.float64, np.float32]


@pytest.fixture(autouse=True)
def torch_default_float32():
    """PyTorch's own default dtype for every test (imported into each test module): another
    module's ``torch.set_default_dtype(float64)`` at import time must not leak in here."""
    old_t, old_g = torch.get_default_dtype(), gradfit.get_default_dtype()
    torch.set_default_dtype(torch.float32)
    gradfit.set_default_dtype(gradfit.float32)
    yield
    torch.set_default_dtype(old_t)
    gradfit.set_default_dtype(old_g)


def tol(dtype) -> dict:
    return TOL[np.dtype(dtype)]


def assert_close(g, t, dtype, what: str = "") -> None:
    """gradfit Tensor/array ``g`` equals torch tensor ``t`` within the dtype's tolerance."""
    ga = g._array if isinstance(g, gradfit.Tensor) else np.asarray(g)
    ta = t.detach().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)
    assert ga.shape == ta.shape, f"{what}: shape {ga.shape} != torch {ta.shape}"
    assert ga.dtype == ta.dtype, f"{what}: dtype {ga.dtype} != torch {ta.dtype}"
    t = dict(tol(dtype))
    if np.dtype(dtype) == np.float32 and ta.size:
        # float32: the two libraries round differently; entries near zero are judged
        # against the array's scale, not their own.
        finite = np.abs(ta[np.isfinite(ta)])
        t["atol"] = t["atol"] * max(1.0, float(finite.max()) if finite.size else 1.0)
    np.testing.assert_allclose(ga, ta, err_msg=what, equal_nan=True, **t)


def pair(arr: np.ndarray, requires_grad: bool = True):
    """The same values as a gradfit leaf and a torch leaf."""
    arr = np.asarray(arr)
    rg = requires_grad and arr.dtype.kind == "f"
    g = gradfit.tensor(arr.copy(), requires_grad=rg)
    t = torch.tensor(arr.copy(), requires_grad=rg)
    return g, t


def _outputs(out) -> list:
    if isinstance(out, tuple | list):
        return list(out)
    return [out]


def backward_both(g_outs: list, t_outs: list, seed: int = 0) -> None:
    """Backpropagate sum(out * u) with the same random u for every output."""
    rng = np.random.default_rng(seed)
    g_total, t_total = None, None
    for go, to in zip(g_outs, t_outs):
        u = rng.normal(size=go.shape).astype(go.dtype)
        gl = (go * gradfit.tensor(u)).sum()
        tl = (to * torch.tensor(u)).sum()
        g_total = gl if g_total is None else g_total + gl
        t_total = tl if t_total is None else t_total + tl
    g_total.backward()
    t_total.backward()


def copy_weights(gmod, tmod) -> None:
    """Give the gradfit module the torch module's parameters and buffers."""
    gmod.load_state_dict({k: v.detach().numpy().copy() for k, v in tmod.state_dict().items()})


def check_module(gmod, tmod, arrays: list, dtype, seed: int = 0, what: str = "") -> None:
    """Same weights, same inputs: outputs, input gradients and parameter gradients agree."""
    copy_weights(gmod, tmod)
    gs, ts = zip(*(pair(np.asarray(a)) for a in arrays)) if arrays else ((), ())
    g_outs, t_outs = _outputs(gmod(*gs)), _outputs(tmod(*ts))
    assert len(g_outs) == len(t_outs)
    for i, (go, to) in enumerate(zip(g_outs, t_outs)):
        assert_close(go, to, dtype, f"{what} output {i}")
    backward_both(g_outs, t_outs, seed)
    for i, (g, t) in enumerate(zip(gs, ts)):
        if t.requires_grad:
            assert_close(g.grad, t.grad, dtype, f"{what} grad of input {i}")
    t_params = dict(tmod.named_parameters())
    g_params = dict(gmod.named_parameters())
    assert list(g_params) == list(t_params), f"{what}: parameter names differ"
    for name, tp in t_params.items():
        assert tp.grad is not None
        assert_close(g_params[name].grad, tp.grad, dtype, f"{what} grad of {name}")


def check_fn(
    gfn,
    tfn,
    arrays: list,
    dtype,
    grad: list | None = None,
    seed: int = 0,
    what: str = "",
    g_kwargs=None,
    t_kwargs=None,
) -> None:
    """Compare ``gfn(*inputs)`` with ``tfn(*inputs)`` and the gradients of every float input
    (or those marked True in ``grad``)."""
    g_kwargs = g_kwargs or {}
    t_kwargs = t_kwargs or {}
    grad = grad or [np.asarray(a).dtype.kind == "f" for a in arrays]
    gs, ts = [], []
    for a, rg in zip(arrays, grad):
        g, t = pair(np.asarray(a), rg)
        gs.append(g)
        ts.append(t)
    go, to = gfn(*gs, **g_kwargs), tfn(*ts, **t_kwargs)
    assert_close(go, to, dtype, f"{what} value")
    if not any(t.requires_grad for t in ts):
        return
    backward_both([go], [to], seed)
    for i, (g, t) in enumerate(zip(gs, ts)):
        if t.requires_grad:
            assert t.grad is not None, f"{what}: torch gives no grad for input {i}"
            assert g.grad is not None, f"{what}: gradfit gives no grad for input {i}"
            assert_close(g.grad, t.grad, dtype, f"{what} grad of input {i}")
