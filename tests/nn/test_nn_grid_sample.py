"""grid_sample and affine_grid against PyTorch: every mode, padding mode and
align_corners on 2-D and 3-D inputs, positions exactly on pixel centres and borders and
far outside, gradients for the input and the grid, argument checks and warnings."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
import torch

import gradfit
import gradfit.nn.functional as F

CASES = [
    (nd, mode, pad, ac)
    for nd in (2, 3)
    for mode, pad, ac in itertools.product(
        ("bilinear", "nearest", "bicubic"), ("zeros", "border", "reflection"), (False, True)
    )
    if not (nd == 3 and mode == "bicubic")
]


def _run(lib, x, g, w, **cfg):
    xt = lib.tensor(x, requires_grad=True)
    gt = lib.tensor(g, requires_grad=True)
    out = lib.nn.functional.grid_sample(xt, gt, **cfg)
    (out * lib.tensor(w)).sum().backward()
    return out.detach().numpy(), xt.grad.numpy(), gt.grad.numpy()


def _grid_with_edges(nd, x_shape, ac, rng):
    """Random positions plus the identity grid (pixel centres, exactly +-1 with
    align_corners) and values on / beyond the borders."""
    theta = torch.zeros(1, nd, nd + 1, dtype=torch.float64)
    theta[0, :, :nd] = torch.eye(nd)
    ident = torch.nn.functional.affine_grid(theta, (1, 1, *x_shape[2:]), align_corners=ac)
    special = np.array([-1, 1, 0, -3, 3, 5.5, -7.25, 0.5, -0.5, 1e3, -2.0, 1 / 3])
    pts = np.concatenate(
        [
            ident.numpy().reshape(-1, nd),
            rng.choice(special, (12, nd)),
            rng.standard_normal((12, nd)) * 1.5,
        ]
    )
    return pts.reshape(1, -1, 1, *([1] * (nd - 2)), nd)


@pytest.mark.parametrize("nd,mode,pad,ac", CASES)
def test_grid_sample_matches_torch(nd, mode, pad, ac):
    rng = np.random.default_rng(5)
    x_shape = (1, 2, 4, 5) if nd == 2 else (1, 2, 3, 4, 3)
    x = rng.standard_normal(x_shape)
    g = _grid_with_edges(nd, x_shape, ac, rng)
    cfg = {"mode": mode, "padding_mode": pad, "align_corners": ac}
    w = rng.standard_normal((1, 2, *g.shape[1:-1]))
    for dtype, tol in ((np.float64, 1e-10), (np.float32, 1e-5)):
        ours = _run(gradfit, x.astype(dtype), g.astype(dtype), w.astype(dtype), **cfg)
        ref = _run(torch, x.astype(dtype), g.astype(dtype), w.astype(dtype), **cfg)
        for a, b, name in zip(ours, ref, ("output", "input grad", "grid grad")):
            assert a.dtype == dtype
            # float32 is compared relative to the largest value (PyTorch's float32 kernel
            # rounds through fused multiply-adds)
            scale = max(1.0, float(np.abs(b).max())) if dtype == np.float32 else 1.0
            np.testing.assert_allclose(a, b, rtol=tol, atol=tol * scale, err_msg=name)


def test_grid_sample_batched_larger_float32():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 4, 7, 6)).astype(np.float32)
    g = rng.uniform(-1.2, 1.2, (3, 5, 9, 2)).astype(np.float32)
    w = rng.standard_normal((3, 4, 5, 9)).astype(np.float32)
    for mode in ("bilinear", "bicubic"):
        ours = _run(gradfit, x, g, w, mode=mode, align_corners=False)
        ref = _run(torch, x, g, w, mode=mode, align_corners=False)
        for a, b in zip(ours, ref):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5 * np.abs(b).max())


def test_grid_sample_grad_for_one_input_and_grad_fn():
    rng = np.random.default_rng(0)
    x = gradfit.tensor(rng.standard_normal((1, 1, 3, 3)))
    g = gradfit.tensor(rng.standard_normal((1, 2, 2, 2)), requires_grad=True)
    out = F.grid_sample(x, g, align_corners=True)
    assert type(out.grad_fn).__name__ == "GridSample"
    assert out.grad_fn.name() == "GridSampler2DBackward0"
    out.sum().backward()
    assert x.grad is None and g.grad.shape == g.shape
    x3 = gradfit.zeros(1, 1, 2, 2, 2, requires_grad=True)
    g3 = gradfit.zeros(1, 1, 1, 1, 3)
    out3 = F.grid_sample(x3, g3, align_corners=False)
    assert out3.grad_fn.name() == "GridSampler3DBackward0"
    out3.sum().backward()
    assert g3.grad is None
    np.testing.assert_allclose(x3.grad.numpy(), np.full((1, 1, 2, 2, 2), 0.125))


def test_grid_sample_empty_batch():
    out = F.grid_sample(gradfit.zeros(0, 2, 3, 3), gradfit.zeros(0, 4, 5, 2), align_corners=False)
    assert tuple(out.shape) == (0, 2, 4, 5)


def _error(lib, fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fn(lib)(*args, **kwargs)
        except Exception as e:  # noqa: BLE001 - the type and message are compared
            return type(e).__name__, str(e)
    return None


BAD_GRID_SAMPLE = [
    ((1, 2, 3, 3), (1, 2, 2, 2, 2), {}),
    ((1, 2, 3), (1, 2, 1), {}),
    ((1, 2, 3), (1, 2, 2), {}),
    ((2, 2, 3, 3), (1, 2, 2, 2), {}),
    ((1, 2, 3, 3), (1, 2, 2, 3), {}),
    ((1, 2, 0, 3), (1, 2, 2, 2), {}),
    ((1, 2, 3, 3, 3), (1, 2, 2, 2, 3), {"mode": "bicubic"}),
    ((1, 2, 3, 3), (1, 2, 2, 2), {"mode": "linear"}),
    ((1, 2, 3, 3), (1, 2, 2, 2), {"padding_mode": "circular"}),
]


@pytest.mark.parametrize("xs,gs,kw", BAD_GRID_SAMPLE)
def test_grid_sample_errors_match_torch(xs, gs, kw):
    def fn(lib):
        return lambda: lib.nn.functional.grid_sample(
            lib.zeros(*xs), lib.zeros(*gs), align_corners=False, **kw
        )

    theirs = _error(torch, fn)
    assert theirs is not None
    assert _error(gradfit, fn) == theirs


def test_grid_sample_dtype_errors_match_torch():
    for xd, gd in (("float32", "float64"), ("float64", "float32"), ("int64", "int64")):

        def fn(lib, xd=xd, gd=gd):
            x = lib.zeros(1, 1, 2, 2, dtype=getattr(lib, xd))
            g = lib.zeros(1, 1, 1, 2, dtype=getattr(lib, gd))
            return lambda: lib.nn.functional.grid_sample(x, g, align_corners=False)

        kind, msg = _error(torch, fn)
    assert _error(gradfit, fn) == (kind, msg.replace("torch.", "gradfit."))


def test_align_corners_default_warns_as_torch():
    for lib in (torch, gradfit):
        with pytest.warns(UserWarning, match="Default grid_sample and affine_grid behavior"):
            lib.nn.functional.grid_sample(lib.zeros(1, 1, 2, 2), lib.zeros(1, 1, 1, 2))
        with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
            lib.nn.functional.affine_grid(lib.zeros(1, 2, 3), (1, 1, 2, 2))


# ------------------------------------------------------------------ affine_grid
@pytest.mark.parametrize("size", [(2, 3, 5, 4), (2, 1, 1, 6), (2, 1, 3, 4, 5), (2, 2, 7, 1, 2)])
@pytest.mark.parametrize("ac", [False, True])
def test_affine_grid_matches_torch(size, ac):
    rng = np.random.default_rng(4)
    shape = (2, 2, 3) if len(size) == 4 else (2, 3, 4)
    th = rng.standard_normal(shape)
    w = None
    results = []
    for lib in (gradfit, torch):
        t = lib.tensor(th, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # unit-size grids with align_corners warn
            grid = lib.nn.functional.affine_grid(t, size, align_corners=ac)
        if w is None:
            w = rng.standard_normal(tuple(grid.shape))
        (grid * lib.tensor(w)).sum().backward()
        results.append((grid.detach().numpy(), t.grad.numpy()))
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_affine_grid_identity_is_pixel_centres_float32():
    th = np.array([[[1, 0, 0], [0, 1, 0]]], dtype=np.float32)
    for ac in (False, True):
        ours = F.affine_grid(gradfit.tensor(th), (1, 1, 5, 7), align_corners=ac).numpy()
        ref = torch.nn.functional.affine_grid(torch.tensor(th), (1, 1, 5, 7), align_corners=ac)
        assert ours.dtype == np.float32
        np.testing.assert_allclose(ours, ref.numpy(), rtol=1e-6, atol=1e-7)


BAD_AFFINE = [
    ((2, 2, 3), (2, 1, 3)),
    ((2, 2, 3), (2, 1, 0, 3)),
    ((2, 2, 3), (2, 1, 3, 4, 5)),
    ((2, 3, 4), (2, 1, 3, 4)),
    ((2, 2, 3), (3, 1, 3, 4)),
]


@pytest.mark.parametrize("ts,size", BAD_AFFINE)
def test_affine_grid_errors_match_torch(ts, size):
    def fn(lib):
        return lambda: lib.nn.functional.affine_grid(lib.zeros(*ts), size, align_corners=False)

    theirs = _error(torch, fn)
    assert theirs is not None
    ours = _error(gradfit, fn)
    assert ours[0] == theirs[0]
    assert ours[1] == theirs[1].replace("torch.Size", "gradfit.Size")


def test_affine_grid_integer_theta_rejected():
    def fn(lib):
        return lambda: lib.nn.functional.affine_grid(
            lib.zeros(1, 2, 3, dtype=lib.int64), (1, 1, 2, 2), align_corners=False
        )

    kind, msg = _error(torch, fn)
    assert _error(gradfit, fn) == (kind, msg.replace("torch.", "gradfit."))


@pytest.mark.parametrize("nd", [2, 3])
@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_float32_rounds_as_torch(nd, mode):
    """float32 bilinear and nearest sampling are bit-for-bit PyTorch's (output and both
    gradients): the same fused multiply-adds, the same summation order."""
    rng = np.random.default_rng(8)
    xs = (2, 3, 5, 6) if nd == 2 else (2, 2, 3, 4, 5)
    gs = (2, 9, 7, 2) if nd == 2 else (2, 3, 4, 5, 3)
    x = rng.standard_normal(xs).astype(np.float32)
    g = rng.uniform(-1.3, 1.3, gs).astype(np.float32)
    w = rng.standard_normal((2, xs[1], *gs[1:-1])).astype(np.float32)
    for pad in ("zeros", "border", "reflection"):
        for ac in (False, True):
            cfg = {"mode": mode, "padding_mode": pad, "align_corners": ac}
            for a, b in zip(_run(gradfit, x, g, w, **cfg), _run(torch, x, g, w, **cfg)):
                np.testing.assert_array_equal(a, b)


def test_affine_grid_grad_fn_is_one_node():
    theta = gradfit.zeros(2, 2, 3, requires_grad=True)
    grid = F.affine_grid(theta, (2, 1, 3, 4), align_corners=False)
    assert grid.grad_fn.name() == "AffineGridGeneratorBackward0"
    assert grid.grad_fn.next_functions[0][0].variable is theta  # theta is a leaf


@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
def test_outside_samples_are_positive_zero(mode):
    """Out-of-bounds taps read +0 (ATen's masked gather): a negative input must not turn
    them into -0, which prints as '-0.'."""
    x = -np.ones((1, 1, 3, 3), dtype=np.float32)
    g = np.array([[[[5.0, 5.0], [-4.0, 0.0], [0.0, 7.5]]]], dtype=np.float32)
    for ac in (False, True):
        ours = F.grid_sample(gradfit.tensor(x), gradfit.tensor(g), mode=mode, align_corners=ac)
        ref = torch.nn.functional.grid_sample(
            torch.tensor(x), torch.tensor(g), mode=mode, align_corners=ac
        )
        np.testing.assert_array_equal(np.signbit(ours.numpy()), np.signbit(ref.numpy()))
        assert str(ours).replace("gradfit", "torch") == str(ref)
