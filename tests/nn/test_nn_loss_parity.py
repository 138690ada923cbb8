"""Every loss, functional and module, against PyTorch: values and gradients, every option."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from nn_testing import (
    DTYPES,
    assert_close,
    check_fn,
    torch_default_float32,  # noqa: F401 - autouse fixture
)

import gradfit
import gradfit.nn as nn
import gradfit.nn.functional as F

REDUCTIONS = ["mean", "sum", "none"]


def _rng(seed=0):
    return np.random.default_rng(seed)


# ---------------------------------------------------------------------------- regression
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    "name, kw",
    [
        ("mse_loss", {}),
        ("l1_loss", {}),
        ("huber_loss", {"delta": 1.0}),
        ("huber_loss", {"delta": 0.3}),
        ("huber_loss", {"delta": 2.5}),
        ("smooth_l1_loss", {"beta": 1.0}),
        ("smooth_l1_loss", {"beta": 0.4}),
        ("smooth_l1_loss", {"beta": 0.0}),
    ],
)
def test_regression_losses(name, kw, reduction, dtype):
    rng = _rng(1)
    x = rng.normal(size=(6, 3)).astype(dtype) * 2
    y = rng.normal(size=(6, 3)).astype(dtype)
    check_fn(
        lambda a, b: getattr(F, name)(a, b, reduction=reduction, **kw),
        lambda a, b: getattr(TF, name)(a, b, reduction=reduction, **kw),
        [x, y],
        dtype,
        what=f"{name}{kw} {reduction}",
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
def test_weighted_regression_losses(name, reduction, dtype):
    rng = _rng(2)
    x, y = (rng.normal(size=(5, 4)).astype(dtype) for _ in range(2))
    w = rng.uniform(0.1, 2.0, size=(5, 4)).astype(dtype)
    check_fn(
        lambda a, b, c: getattr(F, name)(a, b, reduction=reduction, weight=c),
        lambda a, b, c: getattr(TF, name)(a, b, reduction=reduction, weight=c),
        [x, y, w],
        dtype,
        grad=[True, True, False],
        what=f"weighted {name} {reduction}",
    )


@pytest.mark.parametrize("dtype", DTYPES)
def test_regression_loss_modules(dtype):
    rng = _rng(3)
    x, y = (rng.normal(size=(7, 2)).astype(dtype) for _ in range(2))
    cases = [
        (nn.MSELoss(), torch.nn.MSELoss()),
        (nn.MSELoss(reduction="sum"), torch.nn.MSELoss(reduction="sum")),
        (nn.L1Loss(reduction="none"), torch.nn.L1Loss(reduction="none")),
        (nn.HuberLoss(delta=0.5), torch.nn.HuberLoss(delta=0.5)),
        (
            nn.SmoothL1Loss(beta=0.7, reduction="sum"),
            torch.nn.SmoothL1Loss(beta=0.7, reduction="sum"),
        ),
    ]
    for g, t in cases:
        check_fn(g, t, [x, y], dtype, what=repr(g))


def test_l1_gradient_at_tie_is_zero():
    x = gradfit.tensor([1.0, 2.0, 3.0], requires_grad=True)
    F.l1_loss(x, gradfit.tensor([1.0, 0.0, 5.0]), reduction="sum").backward()
    assert x.grad.tolist() == [0.0, 1.0, -1.0]


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss"])
def test_regression_shape_mismatch_broadcasts_with_torchs_warning(name):
    # (N, 1) against (N,) becomes (N, N), with PyTorch's warning: values and gradients
    x = np.linspace(-1, 1, 4).reshape(4, 1)
    y = np.linspace(0.5, -2, 4)
    xg, xt = gradfit.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    with pytest.warns(UserWarning) as wg:
        lg = getattr(F, name)(xg, gradfit.tensor(y))
    with pytest.warns(UserWarning) as wt:
        lt = getattr(torch.nn.functional, name)(xt, torch.tensor(y))
    assert str(wg[0].message) == str(wt[0].message).replace("torch.", "gradfit.")
    lg.backward()
    lt.backward()
    np.testing.assert_allclose(lg.item(), lt.item(), rtol=1e-12)
    np.testing.assert_allclose(xg.grad.numpy(), xt.grad.numpy(), rtol=1e-12)
    with pytest.raises(RuntimeError) as eg, pytest.warns(UserWarning):
        getattr(F, name)(gradfit.zeros(2, 3), gradfit.zeros(2, 5))
    with pytest.raises(RuntimeError) as et, pytest.warns(UserWarning):
        getattr(torch.nn.functional, name)(torch.zeros(2, 3), torch.zeros(2, 5))
    assert str(eg.value) == str(et.value)


def test_mse_module_dtype_mismatch():
    with pytest.raises(TypeError, match=r"dtype gradfit.float64.*target.to\(gradfit.float32\)"):
        nn.MSELoss()(gradfit.zeros(4), gradfit.zeros(4, dtype=gradfit.float64))


def test_invalid_reduction():
    with pytest.raises(ValueError, match="avg is not a valid value for reduction"):
        F.mse_loss(gradfit.zeros(2), gradfit.zeros(2), reduction="avg")
    with pytest.raises(ValueError, match="avg"):
        nn.CrossEntropyLoss(reduction="avg")


def test_legacy_size_average_reduce():
    x, y = gradfit.tensor([1.0, 2.0]), gradfit.tensor([0.0, 0.0])
    with pytest.warns(UserWarning):
        assert F.mse_loss(x, y, size_average=False).item() == 5.0
    with pytest.warns(UserWarning):
        assert F.mse_loss(x, y, reduce=False).tolist() == [1.0, 4.0]


def test_mse_fused_is_one_node():
    x = gradfit.randn(5, 2, requires_grad=True)
    loss = F.mse_loss(x, gradfit.zeros(5, 2))
    assert type(loss.grad_fn).__name__ == "MSELoss"
    assert loss.grad_fn.next_functions[0][0].variable is x  # straight to the leaf
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.detach().numpy() / 10, rtol=1e-6)


# ---------------------------------------------------------------------------- cross-entropy
def _ce_case(shape, n_classes_axis_value, seed=0, dtype=np.float64, ignore=None):
    rng = _rng(seed)
    x = (rng.normal(size=shape) * 2).astype(dtype)
    c = shape[0] if len(shape) == 1 else shape[1]
    tshape = () if len(shape) == 1 else shape[:1] + shape[2:]
    t = rng.integers(0, c, size=tshape).astype(np.int64)
    if ignore is not None and t.ndim:
        t.reshape(-1)[::3] = ignore
    return x, t


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.15])
@pytest.mark.parametrize("ignore", [None, 2, -100])
@pytest.mark.parametrize("shape", [(6, 4), (3, 4, 2, 3), (4,)])
def test_cross_entropy_index_targets(shape, ignore, smoothing, weighted, reduction, dtype):
    x, t = _ce_case(shape, None, dtype=dtype, ignore=ignore)
    c = shape[0] if len(shape) == 1 else shape[1]
    w = np.linspace(0.5, 2.0, c).astype(dtype) if weighted else None
    kw = {"reduction": reduction, "label_smoothing": smoothing}
    if ignore is not None:
        kw["ignore_index"] = ignore
    check_fn(
        lambda a, b: F.cross_entropy(a, b, weight=None if w is None else gradfit.tensor(w), **kw),
        lambda a, b: TF.cross_entropy(a, b, weight=None if w is None else torch.tensor(w), **kw),
        [x, t],
        dtype,
        what=f"cross_entropy {shape} ignore={ignore} eps={smoothing} w={weighted} {reduction}",
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("shape", [(5, 3), (2, 3, 4), (3,)])
def test_cross_entropy_probability_targets(shape, smoothing, weighted, reduction, dtype):
    rng = _rng(4)
    x = rng.normal(size=shape).astype(dtype)
    p = rng.uniform(size=shape)
    axis = 0 if len(shape) == 1 else 1
    p = (p / p.sum(axis=axis, keepdims=True)).astype(dtype)
    c = shape[axis]
    w = np.linspace(0.5, 1.5, c).astype(dtype) if weighted else None
    kw = {"reduction": reduction, "label_smoothing": smoothing}
    check_fn(
        lambda a, b: F.cross_entropy(a, b, weight=None if w is None else gradfit.tensor(w), **kw),
        lambda a, b: TF.cross_entropy(a, b, weight=None if w is None else torch.tensor(w), **kw),
        [x, p],
        dtype,
        what=f"cross_entropy probs {shape} eps={smoothing} w={weighted} {reduction}",
    )


def test_cross_entropy_all_ignored_mean_is_nan():
    x = gradfit.randn(3, 4)
    t = gradfit.tensor([-100, -100, -100])
    assert np.isnan(F.cross_entropy(x, t).item())
    assert np.isnan(TF.cross_entropy(torch.tensor(x.numpy()), torch.tensor(t.numpy())).item())


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_stable_for_large_logits(dtype):
    x = np.array([[1e4, -1e4, 0.0], [-5e3, 5e3, 4.9e3]], dtype=dtype)
    t = np.array([1, 2])
    check_fn(F.cross_entropy, TF.cross_entropy, [x, t], dtype, what="large logits")
    g = gradfit.tensor(x, requires_grad=True)
    loss = F.cross_entropy(g, gradfit.tensor(t))
    loss.backward()
    assert np.isfinite(loss.item()) and np.isfinite(g.grad.numpy()).all()


def test_cross_entropy_errors():
    x = gradfit.randn(3, 4)
    with pytest.raises(IndexError, match="Target 4 is out of bounds"):
        F.cross_entropy(x, gradfit.tensor([0, 4, 1]))
    with pytest.raises(IndexError, match="Target -2"):
        F.cross_entropy(x, gradfit.tensor([0, -2, 1]))
    with pytest.raises(ValueError, match=r"batch_size \(3\).*batch_size \(2\)"):
        F.cross_entropy(x, gradfit.tensor([0, 1]))
    with pytest.raises(RuntimeError, match="ignore_index is not supported"):
        F.cross_entropy(x, gradfit.rand(3, 4), ignore_index=1)
    with pytest.raises(RuntimeError, match="4 classes"):
        F.cross_entropy(x, gradfit.tensor([0, 1, 2]), weight=gradfit.ones(3))
    with pytest.raises(RuntimeError, match="label_smoothing"):
        F.cross_entropy(x, gradfit.tensor([0, 1, 2]), label_smoothing=1.5)


def test_cross_entropy_fused_is_one_node():
    x = gradfit.randn(4, 3, requires_grad=True)
    loss = F.cross_entropy(x, gradfit.tensor([0, 2, 1, 1]))
    assert type(loss.grad_fn).__name__ == "CrossEntropyLoss"
    assert loss.grad_fn.next_functions[0][0].variable is x


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_module(dtype):
    x, t = _ce_case((5, 3), None, seed=7, dtype=dtype, ignore=1)
    w = np.array([0.2, 1.0, 3.0], dtype=dtype)
    g = nn.CrossEntropyLoss(weight=gradfit.tensor(w), ignore_index=1, label_smoothing=0.1)
    tm = torch.nn.CrossEntropyLoss(weight=torch.tensor(w), ignore_index=1, label_smoothing=0.1)
    check_fn(g, tm, [x, t], dtype, what="CrossEntropyLoss module")
    assert "weight" in dict(g.named_buffers())


# ---------------------------------------------------------------------------- nll
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignore", [None, 0])
@pytest.mark.parametrize("shape", [(6, 4), (2, 4, 3), (4,)])
def test_nll_loss(shape, ignore, weighted, reduction, dtype):
    x, t = _ce_case(shape, None, seed=5, dtype=dtype, ignore=ignore)
    c = shape[0] if len(shape) == 1 else shape[1]
    w = np.linspace(0.3, 1.7, c).astype(dtype) if weighted else None
    kw = {"reduction": reduction}
    if ignore is not None:
        kw["ignore_index"] = ignore
    check_fn(
        lambda a, b: F.nll_loss(a, b, weight=None if w is None else gradfit.tensor(w), **kw),
        lambda a, b: TF.nll_loss(a, b, weight=None if w is None else torch.tensor(w), **kw),
        [x, t],
        dtype,
        what=f"nll {shape} {ignore} {weighted} {reduction}",
    )


@pytest.mark.parametrize("dtype", DTYPES)
def test_nll_after_log_softmax_equals_cross_entropy(dtype):
    x, t = _ce_case((5, 4), None, seed=6, dtype=dtype)
    g = nn.NLLLoss()
    tm = torch.nn.NLLLoss()
    check_fn(
        lambda a, b: g(nn.LogSoftmax(dim=1)(a), b),
        lambda a, b: tm(torch.nn.LogSoftmax(dim=1)(a), b),
        [x, t],
        dtype,
        what="NLLLoss(LogSoftmax)",
    )


# ---------------------------------------------------------------------------- binary
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_cross_entropy(weighted, reduction, dtype):
    rng = _rng(8)
    x = rng.uniform(0.05, 0.95, size=(4, 3)).astype(dtype)
    y = rng.uniform(0, 1, size=(4, 3)).astype(dtype)
    w = rng.uniform(0.5, 2, size=(4, 3)).astype(dtype) if weighted else None
    check_fn(
        lambda a, b: F.binary_cross_entropy(
            a, b, weight=None if w is None else gradfit.tensor(w), reduction=reduction
        ),
        lambda a, b: TF.binary_cross_entropy(
            a, b, weight=None if w is None else torch.tensor(w), reduction=reduction
        ),
        [x, y],
        dtype,
        what=f"bce w={weighted} {reduction}",
    )


def test_binary_cross_entropy_clamps_log_and_checks_range():
    x = np.array([0.0, 1.0, 0.5])
    y = np.array([1.0, 0.0, 1.0])
    g = F.binary_cross_entropy(gradfit.tensor(x), gradfit.tensor(y), reduction="none")
    t = TF.binary_cross_entropy(torch.tensor(x), torch.tensor(y), reduction="none")
    assert_close(g, t, np.float64, "clamped bce")  # 100 where log(0) would be -inf
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        F.binary_cross_entropy(gradfit.tensor([1.5]), gradfit.tensor([1.0]))
    with pytest.raises(ValueError, match="target size"):
        F.binary_cross_entropy(gradfit.tensor([0.5, 0.5]), gradfit.tensor([[1.0, 0.0]]))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("pos_weighted", [False, True])
def test_binary_cross_entropy_with_logits(pos_weighted, weighted, reduction, dtype):
    rng = _rng(9)
    x = (rng.normal(size=(5, 3)) * 3).astype(dtype)
    y = rng.uniform(0, 1, size=(5, 3)).astype(dtype)
    w = rng.uniform(0.5, 2, size=(5, 3)).astype(dtype) if weighted else None
    pw = np.array([0.5, 2.0, 4.0], dtype=dtype) if pos_weighted else None

    def opt(arr, lib):
        return None if arr is None else lib.tensor(arr)

    check_fn(
        lambda a, b: F.binary_cross_entropy_with_logits(
            a, b, weight=opt(w, gradfit), pos_weight=opt(pw, gradfit), reduction=reduction
        ),
        lambda a, b: TF.binary_cross_entropy_with_logits(
            a, b, weight=opt(w, torch), pos_weight=opt(pw, torch), reduction=reduction
        ),
        [x, y],
        dtype,
        what=f"bce_logits w={weighted} pw={pos_weighted} {reduction}",
    )


@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_with_logits_stable_for_large_logits(dtype):
    x = np.array([1e4, -1e4, 800.0, -800.0, 0.0], dtype=dtype)
    y = np.array([0.0, 1.0, 1.0, 0.0, 0.5], dtype=dtype)
    pw = np.array([3.0], dtype=dtype)
    check_fn(
        lambda a, b: F.binary_cross_entropy_with_logits(a, b, pos_weight=gradfit.tensor(pw)),
        lambda a, b: TF.binary_cross_entropy_with_logits(a, b, pos_weight=torch.tensor(pw)),
        [x, y],
        dtype,
        what="bce logits large",
    )


@pytest.mark.parametrize("dtype", DTYPES)
def test_binary_modules(dtype):
    rng = _rng(10)
    x = rng.normal(size=(6, 2)).astype(dtype)
    y = rng.integers(0, 2, size=(6, 2)).astype(dtype)
    pw = np.array([2.0, 0.5], dtype=dtype)
    check_fn(
        nn.BCEWithLogitsLoss(pos_weight=gradfit.tensor(pw)),
        torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(pw)),
        [x, y],
        dtype,
        grad=[True, False],
        what="BCEWithLogitsLoss",
    )
    check_fn(
        lambda a, b: nn.BCELoss(reduction="sum")(nn.Sigmoid()(a), b),
        lambda a, b: torch.nn.BCELoss(reduction="sum")(torch.nn.Sigmoid()(a), b),
        [x, y],
        dtype,
        grad=[True, False],
        what="BCELoss(Sigmoid)",
    )


def test_loss_reprs():
    assert repr(nn.MSELoss()) == repr(torch.nn.MSELoss()) == "MSELoss()"
    assert repr(nn.CrossEntropyLoss()) == "CrossEntropyLoss()"
    assert repr(nn.BCEWithLogitsLoss()) == repr(torch.nn.BCEWithLogitsLoss())
