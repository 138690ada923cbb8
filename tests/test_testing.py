"""gradfit.testing.assert_close raises what torch.testing.assert_close raises (type and
message) on the same inputs; make_tensor honours shape, dtype, range and requires_grad."""

from __future__ import annotations

import numpy as np
import pytest

import gradfit
from gradfit.testing import assert_close, make_tensor

NAN = float("nan")

# (actual, expected, keywords) built with the module as T
CASES = [
    lambda T: (T.tensor([1.0, 2.0, 3.0]), T.tensor([1.0, 2.5, 3.1]), {}),
    lambda T: (T.tensor([1.0, 2.0]), T.tensor([1.0, 2.0 + 1e-6]), {}),
    lambda T: (T.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=T.float64),
               T.tensor([[1.0, 2.0], [3.0, 4.0 + 1e-6]], dtype=T.float64), {}),
    lambda T: (T.tensor([1.0, 2.0]), T.tensor([1.1, 2.0]), {"rtol": 0.2, "atol": 0.0}),
    lambda T: (T.tensor([1.0, 2.0]), T.tensor([1.1, 2.0]), {"rtol": 0.2}),
    lambda T: (T.tensor([1, 2]), T.tensor([1, 3]), {}),
    lambda T: (T.tensor(2.0), T.tensor(2.5), {}),
    lambda T: (T.tensor([NAN, 1.0]), T.tensor([NAN, 1.0]), {}),
    lambda T: (T.tensor([NAN, 1.0]), T.tensor([NAN, 1.0]), {"equal_nan": True}),
    lambda T: (T.tensor([float("inf"), 1.0]), T.tensor([float("inf"), 1.0]), {}),
    lambda T: (T.zeros(2), T.zeros(2, dtype=T.float64), {}),
    lambda T: (T.tensor([1.0, 2.0]), T.tensor([1.0, 2.0 + 1e-6], dtype=T.float64),
               {"check_dtype": False}),
    lambda T: (T.zeros(2), T.zeros(3), {}),
    lambda T: (T.zeros(2), 0.0, {}),
    lambda T: ([T.tensor(1.0), T.tensor([1.0, 2.0])], [T.tensor(1.0), T.tensor([1.0, 3.0])], {}),
    lambda T: ({"a": T.zeros(2)}, {"a": T.ones(2)}, {}),
    lambda T: ({"a": T.zeros(2)}, {"b": T.zeros(2)}, {}),
    lambda T: (1.0, 1.5, {}),
    lambda T: (1, 1.0, {}),
    lambda T: (2, 3, {}),
    lambda T: (None, 1, {}),
    lambda T: ([1, 2], [1], {}),
    lambda T: (True, False, {}),
    lambda T: (T.tensor([1.0, 2.0]), T.tensor([1.0, 3.0]), {"msg": "custom"}),
    lambda T: (T.tensor([1.0, 2.0]), T.tensor([1.0, 3.0]), {"msg": lambda m: "> " + m}),
    lambda T: (T.tensor([True, False]), T.tensor([True, True]), {}),
]  # fmt: skip


def _outcome(T, case):
    actual, expected, kw = case(T)
    try:
        T.testing.assert_close(actual, expected, **kw)
    except Exception as e:  # noqa: BLE001 - compared with torch's
        return type(e).__name__, str(e)
    return None


@pytest.mark.parametrize("i", range(len(CASES)))
def test_assert_close_matches_torch(i):
    import torch

    want = _outcome(torch, CASES[i])
    got = _outcome(gradfit, CASES[i])
    if got is not None:  # the class's module differs: gradfit.tensor.Tensor is gradfit.Tensor
        got = (got[0], got[1].replace("gradfit.tensor.Tensor", "gradfit.Tensor"))
    if want is not None:
        want = (want[0], want[1].replace("torch.", "gradfit.").replace("'torch.", "'gradfit."))
    assert got == want


@pytest.mark.parametrize(
    "args",
    [
        ([1.0, 2.0], [1.0, 2.00001]),
        ([1.0, NAN], [1.0, NAN]),
        ([1.0, 2.0], [1.0, 2.1]),
        ([1, 2], [1, 3]),
    ],
)
def test_assert_allclose_matches_torch(args):
    import torch

    def outcome(T):
        a, e = T.tensor(args[0]), args[1]
        with pytest.warns(FutureWarning, match="assert_allclose"):
            try:
                T.testing.assert_allclose(a, e)
            except AssertionError as err:
                return str(err)
        return None

    assert outcome(gradfit) == outcome(torch)


def test_assert_close_on_arrays_and_requires_grad():
    x = gradfit.tensor([1.0, 2.0], requires_grad=True)
    assert_close(x * 1, gradfit.tensor([1.0, 2.0]))
    assert_close(np.array([1.0, 2.0]), np.array([1.0, 2.0 + 1e-9]))
    with pytest.raises(AssertionError, match="Tensor-likes are not close!"):
        assert_close(np.array([1.0, 2.0]), np.array([1.0, 2.1]))


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "uint8", "bool"])
def test_make_tensor(dtype):
    dt = getattr(gradfit, dtype)
    t = make_tensor(3, 4, dtype=dt, device="cpu")
    assert tuple(t.shape) == (3, 4) and t.dtype == dt
    v = t.numpy().astype(np.float64)
    lo, hi = {"bool": (0, 1), "uint8": (0, 9), "int64": (-9, 9)}.get(dtype, (-9, 9))
    assert v.min() >= lo and v.max() <= hi
    if dtype.startswith("float"):
        u = make_tensor((50,), dtype=dt, low=2.0, high=3.0, requires_grad=True)
        assert u.requires_grad and float(u.min()) >= 2.0 and float(u.max()) < 3.0
        assert len(set(u.tolist())) > 40
        assert make_tensor(20, dtype=dt, exclude_zero=True).numpy().all()


def test_make_tensor_errors():
    with pytest.raises(ValueError, match="`low` must be less than `high`"):
        make_tensor(2, dtype=gradfit.float32, low=3, high=1)
    with pytest.raises(ValueError, match="requires_grad=True` is not supported"):
        make_tensor(2, dtype=gradfit.int64, requires_grad=True)
