"""The speed paths of issue #6 compute exactly what the plain paths compute.

Each optimisation made for the benchmarks claims to be bit-identical (or order-identical)
to the code it short-cuts; these tests hold it to that, against the plain path and, where
the semantics are PyTorch's, against PyTorch.
"""

import numpy as np
import pytest
import torch

import gradfit
from gradfit.optim import _functional as OF

ADAM_KW = dict(lr=1e-2, betas=(0.9, 0.999), eps=1e-8)


def _adam_state(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    p = rng.standard_normal(shape).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    m = (0.1 * rng.standard_normal(shape)).astype(dtype)
    v = np.abs(0.01 * rng.standard_normal(shape)).astype(dtype)
    vmax = v * 1.5
    return p, g, m, v, vmax


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "flags",
    [
        dict(weight_decay=0.0, amsgrad=False, maximize=False, decoupled_weight_decay=False),
        dict(weight_decay=0.1, amsgrad=True, maximize=True, decoupled_weight_decay=False),
        dict(weight_decay=0.1, amsgrad=False, maximize=False, decoupled_weight_decay=True),
    ],
)
def test_blocked_adam_is_bit_identical(monkeypatch, dtype, flags):
    """Cache blocking runs the same operations on the same elements: same bits."""
    plain = _adam_state((37, 29), dtype)
    blocked = tuple(a.copy() for a in plain)
    steps = {"plain": np.array(0.0), "blocked": np.array(0.0)}  # adam counts them up
    for _ in range(3):
        for name, state, block in (("plain", plain, 1 << 40), ("blocked", blocked, 100)):
            monkeypatch.setattr(OF, "_BLOCK", block)  # 100: 11 blocks, the last one short
            p, g, m, v, vmax = state
            state = ([steps[name]], [m], [v], [vmax if flags["amsgrad"] else None])
            OF.adam([p], [g], state, {**ADAM_KW, **flags})
    for a, b in zip(plain, blocked):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(plain[0], _adam_state((37, 29), dtype)[0])  # it did move


def test_blocked_adam_falls_back_on_non_contiguous(monkeypatch):
    monkeypatch.setattr(OF, "_BLOCK", 10)
    p, g, m, v, _ = _adam_state((20, 30), np.float32)
    pt, gt, mt, vt = (np.asfortranarray(a) for a in (p, g, m, v))  # not C-contiguous
    assert OF._flat_blocks(pt, gt, mt, vt, None) is None
    group = dict(
        ADAM_KW, weight_decay=0, amsgrad=False, maximize=False, decoupled_weight_decay=False
    )
    OF.adam([pt], [gt], ([np.array(0.0)], [mt], [vt], [None]), group)
    monkeypatch.setattr(OF, "_BLOCK", 1 << 40)
    OF.adam([p], [g], ([np.array(0.0)], [m], [v], [None]), group)
    np.testing.assert_array_equal(p, pt)
    np.testing.assert_array_equal(v, vt)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sgd_with_hyperparameters_as_arrays_matches_float_arithmetic(dtype):
    """sgd passes lr and momentum to NumPy as 0-d arrays of the parameter's dtype: the
    same bits as the Python floats, which NumPy casts to that dtype."""
    rng = np.random.default_rng(1)
    p1 = rng.standard_normal((13, 7)).astype(dtype)
    b1 = rng.standard_normal((13, 7)).astype(dtype)
    g = rng.standard_normal((13, 7)).astype(dtype)
    p2, b2 = p1.copy(), b1.copy()
    for _ in range(3):
        group = dict(
            lr=0.1, momentum=0.9, dampening=0, weight_decay=0, nesterov=False, maximize=False
        )
        OF.sgd([p1], [g], ([b1],), group)
        b2 *= 0.9
        b2 += g
        p2 -= 0.1 * b2
    np.testing.assert_array_equal(p1, p2)
    np.testing.assert_array_equal(b1, b2)


def _lecture_steps(F, steps, **sgd_kw):
    F.manual_seed(0)
    model = F.nn.Sequential(F.nn.Linear(10, 40), F.nn.ReLU(), F.nn.Linear(40, 5))
    opt = F.optim.SGD(model.parameters(), **sgd_kw)
    x, y = F.randn(10, 10), F.randn(10, 5)
    for _ in range(steps):
        opt.zero_grad()
        F.nn.functional.mse_loss(model(x), y).backward()
        opt.step()
    return [p.detach().numpy().copy() for p in model.parameters()]


@pytest.mark.parametrize(
    "kw",
    [
        dict(lr=0.1, momentum=0.9),  # the common case
        dict(lr=0.1, momentum=0.9, nesterov=True),
        dict(lr=0.1, momentum=0.9, weight_decay=0.01),
    ],
)
def test_sgd_steps_match_torch(kw):
    ours = _lecture_steps(gradfit, 5, **kw)
    ref = _lecture_steps(torch, 5, **kw)
    for a, b in zip(ours, ref):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "n, batch, drop_last, num_samples",
    [(100, 10, False, None), (103, 10, False, None), (103, 10, True, None), (5, 10, True, None),
     (100, 16, False, 250), (100, 16, True, 40)],
)  # fmt: skip
def test_shuffled_batches_and_global_stream_match_torch(n, batch, drop_last, num_samples):
    """The batched shuffle gives PyTorch's batches, and the global stream stays in step
    (one seed draw per epoch, at the first batch: draws in between are interleaved)."""
    runs = []
    for F in (torch, gradfit):
        F.manual_seed(123)
        ds = F.utils.data.TensorDataset(F.arange(n))
        sampler = F.utils.data.RandomSampler(ds, num_samples=num_samples)
        loader = F.utils.data.DataLoader(ds, batch_size=batch, sampler=sampler, drop_last=drop_last)
        seen = []
        for _ in range(3):
            it = iter(loader)
            seen.append(F.rand(1).tolist())
            for (b,) in it:
                seen.append(b.tolist())
                seen.append(F.rand(1).tolist())
        runs.append(seen)
    assert runs[0] == runs[1]


def test_implicit_gradient_is_never_a_leafs_grad():
    """loss.backward()'s ones are cached read-only; a leaf gets its own writeable copy."""
    w = gradfit.tensor(2.0, requires_grad=True)
    w.backward()
    w.backward()  # accumulates into w.grad in place: must not touch the cached ones
    assert w.grad.item() == 2.0 and w.grad._array.flags.writeable
    v = gradfit.tensor([3.0], requires_grad=True)
    (v + 0.0).sum().backward()
    (v * 1.0).sum().backward()
    assert v.grad.tolist() == [2.0]
    u = gradfit.tensor(1.0, requires_grad=True)
    u.backward()
    assert u.grad.item() == 1.0  # the cache still holds ones


def test_linear_dot_path_matches_matmul_path():
    rng = np.random.default_rng(2)
    x = gradfit.tensor(rng.standard_normal((6, 4)).astype(np.float32), requires_grad=True)
    x3 = gradfit.tensor(x.detach().numpy()[None], requires_grad=True)  # 3-D: matmul path
    lin = gradfit.nn.Linear(4, 3)
    lin(x).sum().backward()
    g2 = (x.grad.numpy().copy(), lin.weight.grad.numpy().copy(), lin.bias.grad.numpy().copy())
    lin.zero_grad()
    lin(x3).sum().backward()
    np.testing.assert_allclose(x3.grad.numpy()[0], g2[0], rtol=1e-6)
    np.testing.assert_allclose(lin.weight.grad.numpy(), g2[1], rtol=1e-6)
    np.testing.assert_allclose(lin.bias.grad.numpy(), g2[2], rtol=1e-6)


def test_relu_zero_keeps_dtype_and_nan():
    for dt in (gradfit.float32, gradfit.float64):
        x = gradfit.tensor([-1.0, 0.0, 2.0, float("nan")], dtype=dt, requires_grad=True)
        y = x.relu()
        assert y.dtype == dt
        y.sum().backward()
        t = torch.tensor([-1.0, 0.0, 2.0, float("nan")], requires_grad=True)
        tr = t.relu()
        tr.sum().backward()
        np.testing.assert_array_equal(y.detach().numpy(), tr.detach().numpy())
        np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())


@pytest.mark.parametrize(
    "n, batch, drop_last",
    [(100, 10, False), (103, 10, False), (103, 10, True), (5, 10, True), (5, 10, False),
     (9, 3, True)],
)  # fmt: skip
def test_shuffled_batches_with_a_generator_keep_its_draw_timing(n, batch, drop_last):
    """With DataLoader(generator=g) the generator outlives the epoch: draws interleaved
    with the batches (and the discarded permutation) must land as in PyTorch."""
    runs = []
    for F in (torch, gradfit):
        F.manual_seed(5)
        g = F.Generator()
        g.manual_seed(123)
        ds = F.utils.data.TensorDataset(F.arange(n))
        loader = F.utils.data.DataLoader(
            ds, batch_size=batch, shuffle=True, drop_last=drop_last, generator=g
        )
        seen = []
        for _ in range(3):
            it = iter(loader)
            seen.append(F.rand(1, generator=g).tolist())
            for (b,) in it:
                seen += [b.tolist(), F.rand(1, generator=g).tolist(), F.rand(1).tolist()]
            seen.append(F.rand(1, generator=g).tolist())
        runs.append(seen)
    assert runs[0] == runs[1]


@pytest.mark.parametrize("shape", [(1, 3), (256, 10), (4, 64), (3, 65)])
def test_narrow_log_softmax_matches_torch_and_leaves_its_input(shape):
    """The transposed-layout log-softmax (few classes) gives PyTorch's values and
    gradients and never writes into its input (a (1, C) array's transpose is contiguous)."""
    rng = np.random.default_rng(3)
    a = (5 * rng.standard_normal(shape)).astype(np.float32)
    a[0, 0] = -np.inf  # a masked logit: the row max stays finite
    keep = a.copy()
    x = gradfit.tensor(a, requires_grad=True)
    y = x.log_softmax(1)
    np.testing.assert_array_equal(a, keep)
    assert y._array.flags.c_contiguous
    t = torch.tensor(keep, requires_grad=True)
    ty = t.log_softmax(1)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-6, atol=1e-6)
    w = rng.standard_normal(shape).astype(np.float32)
    (y * gradfit.tensor(w)).sum().backward()
    (ty * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-5, atol=1e-6)
    labels = rng.integers(0, shape[1], shape[0])
    ce = gradfit.nn.functional.cross_entropy(gradfit.tensor(keep), gradfit.tensor(labels))
    tce = torch.nn.functional.cross_entropy(torch.tensor(keep), torch.tensor(labels))
    np.testing.assert_allclose(ce.item(), tce.item(), rtol=1e-6)
