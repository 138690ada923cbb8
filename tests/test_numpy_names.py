"""NumPy's ``axis``/``keepdims`` accepted as ``dim``/``keepdim`` where PyTorch's argument
parser accepts them (Tensor methods and ``torch.*`` functions: the d2l book writes
``y_hat.argmax(axis=1)``, ``torch.cat(xs, axis=1)``), refused where PyTorch's function is
Python (``torch.norm``)."""

from __future__ import annotations

import numpy as np
import pytest

import gradfit

CALLS = [
    ("sum", "m", {"axis": 1, "keepdims": True}),
    ("mean", "f", {"axis": 0}),
    ("argmax", "m", {"axis": 1}),
    ("max", "m", {"axis": 1, "keepdims": True}),
    ("amin", "f", {"axis": (0, 1)}),
    ("std", "m", {"axis": 1, "keepdims": True}),
    ("softmax", "f", {"axis": 1}),
    ("cumsum", "m", {"axis": 0}),
    ("all", "f", {"axis": 1, "keepdims": True}),
    ("any", "m", {"axis": 0}),
    ("nansum", "f", {"axis": 1}),
    ("logsumexp", "m", {"axis": 1, "keepdims": True}),
    ("sort", "m", {"axis": 0}),
    ("unsqueeze", "f", {"axis": 1}),
]


def _call(lib, name, form, kwargs):
    x = lib.tensor(np.arange(6.0).reshape(2, 3) - 2.5)
    if name in ("all", "any"):
        x = x > 0
    fn = getattr(x, name) if form == "m" else getattr(lib, name)
    out = fn(**kwargs) if form == "m" else fn(x, **kwargs)
    return out[0] if isinstance(out, tuple) else out


@pytest.mark.parametrize(("name", "form", "kwargs"), CALLS, ids=str)
def test_numpy_names_as_pytorch(name, form, kwargs):
    import torch  # the reference: fail, not skip

    got, want = _call(gradfit, name, form, kwargs), _call(torch, name, form, kwargs)
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)


def test_cat_stack_take_axis_and_python_functions_refuse_it():
    import torch

    for lib in (gradfit, torch):
        xs = [lib.ones(2, 3), lib.zeros(2, 3)]
        assert tuple(lib.cat(xs, axis=1).shape) == (2, 6)
        assert tuple(lib.stack(xs, axis=2).shape) == (2, 3, 2)
        with pytest.raises(TypeError):
            lib.norm(xs[0], axis=1)  # torch.norm is written in Python
    with pytest.raises(TypeError, match="both 'dim' and its alias 'axis'"):
        gradfit.ones(2).sum(dim=0, axis=0)
