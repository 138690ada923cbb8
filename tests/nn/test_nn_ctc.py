"""ctc_loss / CTCLoss against PyTorch: random batches (blank anywhere, repeated labels,
empty targets, short inputs, padded and concatenated targets, lengths as tensors or
tuples), every reduction with and without zero_infinity, unbatched inputs, the gradient
PyTorch computes, argument checks and the module's repr."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import gradfit


def _log_softmax(x):
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


def _case(rng):
    t, b, c = int(rng.integers(1, 9)), int(rng.integers(1, 4)), int(rng.integers(2, 6))
    blank = int(rng.integers(0, c))
    labels = [k for k in range(c) if k != blank]
    lengths = [int(rng.integers(0, 5)) for _ in range(b)]
    il = [int(rng.integers(0, t + 1)) if rng.random() < 0.3 else t for _ in range(b)]
    lmax = max(lengths + [1])
    # repeated labels are common: draw from the first two labels often
    tg = np.array([[rng.choice(labels[:2] if rng.random() < 0.5 else labels) for _ in range(lmax)]
                   for _ in range(b)])  # fmt: skip
    return t, b, c, blank, lengths, il, tg


def _run(lib, lp, targets, lengths, grad_w, **kw):
    x = lib.tensor(lp, requires_grad=True)
    loss = lib.nn.functional.ctc_loss(x, lib.tensor(targets), *lengths, **kw)
    (loss * lib.tensor(grad_w)).sum().backward()
    return loss.detach().numpy(), x.grad.numpy()


@pytest.mark.parametrize("seed", range(8))
def test_ctc_loss_matches_torch(seed):
    rng = np.random.default_rng(seed)
    t, b, c, blank, lengths, il, tg = _case(rng)
    concat = seed % 2 == 0
    targets = np.concatenate([tg[i, : lengths[i]] for i in range(b)]) if concat else tg
    x = rng.standard_normal((t, b, c))
    for dtype, tol in ((np.float64, 1e-10), (np.float32, 1e-5)):
        lp = _log_softmax(x).astype(dtype)
        for reduction in ("none", "mean", "sum"):
            for zero_infinity in (False, True):
                results = []
                for lib in (gradfit, torch):
                    if seed % 3 == 0:
                        lens = (lib.tensor(np.array(il)), lib.tensor(np.array(lengths)))
                    else:
                        lens = (tuple(il), tuple(lengths))
                    w = np.linspace(0.5, 1.5, b if reduction == "none" else 1).astype(dtype)
                    w = w.reshape(-1) if reduction == "none" else w.reshape(())
                    kw = {"blank": blank, "reduction": reduction, "zero_infinity": zero_infinity}
                    results.append(_run(lib, lp, targets, lens, w, **kw))
                for ours, ref in zip(*results):
                    assert ours.dtype == dtype
                    finite = np.isfinite(ref)
                    np.testing.assert_array_equal(np.isfinite(ours), finite)
                    np.testing.assert_allclose(ours[finite], ref[finite], rtol=tol, atol=tol)


def test_ctc_loss_float32_rounds_as_torch():
    rng = np.random.default_rng(0)
    lp = _log_softmax(rng.standard_normal((12, 3, 6))).astype(np.float32)
    tg = rng.integers(1, 6, (3, 4))
    lens = ((12, 10, 11), (4, 3, 4))
    ours = gradfit.nn.functional.ctc_loss(gradfit.tensor(lp), gradfit.tensor(tg), *lens,
                                          reduction="none")  # fmt: skip
    ref = torch.nn.functional.ctc_loss(torch.tensor(lp), torch.tensor(tg), *lens, reduction="none")
    np.testing.assert_array_equal(ours.numpy(), ref.numpy())


def test_unbatched_and_module():
    rng = np.random.default_rng(1)
    lp = _log_softmax(rng.standard_normal((7, 5)))
    tg = np.array([1, 3, 3])
    results = []
    for lib in (gradfit, torch):
        x = lib.tensor(lp, requires_grad=True)
        crit = lib.nn.CTCLoss(blank=0, reduction="none")
        loss = crit(x, lib.tensor(tg), lib.tensor(7), lib.tensor(3))
        assert tuple(loss.shape) == ()
        loss.backward()
        results.append((loss.detach().numpy(), x.grad.numpy()))
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    assert repr(gradfit.nn.CTCLoss(blank=2, zero_infinity=True)) == "CTCLoss()"
    crit = gradfit.nn.CTCLoss(blank=2, zero_infinity=True)
    assert (crit.blank, crit.reduction, crit.zero_infinity) == (2, "mean", True)


def test_grad_fn_names_and_create_graph_gradient():
    rng = np.random.default_rng(2)
    lp = _log_softmax(rng.standard_normal((6, 2, 4)))
    tg = np.array([[1, 2, 2], [3, 1, 0]])
    grads = []
    for lib in (gradfit, torch):
        x = lib.tensor(lp, requires_grad=True)
        loss = lib.nn.functional.ctc_loss(x, lib.tensor(tg), (6, 5), (3, 2), reduction="none")
        assert loss.grad_fn.name() == "CtcLossBackward0"
        # create_graph differentiates gradfit's composite: the same (PyTorch's) gradient
        (g,) = lib.autograd.grad(loss.sum(), x, create_graph=lib is gradfit)
        grads.append(g.detach().numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-10, atol=1e-12)
    mean = gradfit.nn.functional.ctc_loss(gradfit.tensor(lp), gradfit.tensor(tg), (6, 5), (3, 2))
    assert mean.grad_fn is None  # no input needs grad


def _error(lib, make):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            make(lib)
        except Exception as e:  # noqa: BLE001 - type and message compared
            return type(e).__name__, str(e)
    return None


BAD = [
    {"il": (6, 5), "tl": (2, 2)},
    {"il": (5, 5), "tl": (3, 2)},
    {"il": (5,), "tl": (2, 2)},
    {"il": (5, 5), "tl": (2,)},
    {"il": (5, 5), "tl": (2, 2), "blank": 4},
    {"il": (5, 5), "tl": (2, 2), "blank": -1},
    {"il": (5, 5), "tl": (2, 2), "reduction": "avg"},
    {"il": (5, 5), "tl": (2, 2), "targets": [1, 2, 3]},
    {"il": (5, -1), "tl": (2, 2)},
    {"il": (5, 5), "tl": (-1, 2)},
    {"il": "float", "tl": (2, 2)},
    {"il": (5, 5), "tl": (2, 2), "targets": [[1, 2]]},
]


@pytest.mark.parametrize("case", BAD)
def test_ctc_errors_match_torch(case):
    def make(lib):
        lp = lib.zeros(5, 2, 4)
        targets = lib.tensor(case.get("targets", [[1, 2], [3, 3]]))
        il, tl = case["il"], case["tl"]
        if il == "float":
            il, tl = lib.tensor([5.0, 5.0]), lib.tensor(tl)
        kw = {k: case[k] for k in ("blank", "reduction") if k in case}
        lib.nn.functional.ctc_loss(lp, targets, il, tl, **kw)

    theirs = _error(torch, make)
    assert theirs is not None
    assert _error(gradfit, make) == theirs


def test_integer_log_probs_rejected_as_torch():
    def make(lib):
        lib.nn.functional.ctc_loss(lib.zeros(5, 2, 4, dtype=lib.int64), lib.tensor([[1], [2]]),
                                   (5, 5), (1, 1))  # fmt: skip

    assert _error(gradfit, make) == _error(torch, make)


def test_padding_beyond_target_lengths_is_not_read():
    rng = np.random.default_rng(3)
    lp = _log_softmax(rng.standard_normal((6, 2, 4)))
    tg = np.array([[1, 2, -1, -1], [3, 3, 1, 9]])  # -1 / out-of-range padding
    res = []
    for lib in (gradfit, torch):
        x = lib.tensor(lp, requires_grad=True)
        loss = lib.nn.functional.ctc_loss(x, lib.tensor(tg), (6, 6), (2, 3))
        loss.backward()
        res.append((loss.detach().numpy(), x.grad.numpy()))
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
