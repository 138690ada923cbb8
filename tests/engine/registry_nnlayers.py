"""Registry entries for the layers added by nnlayers: grid_sample (every mode, padding mode
and align_corners, 2-D and 3-D), affine_grid, ctc_loss, fractional max pooling,
channel_shuffle. Each is a ``dim``-kind OpSpec drawing ``(shapes, cfg)``; the same call
runs under gradfit and torch (gradcheck, parity, second order by the shared tests).
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from .op_registry import OpSpec


def _F(lib):
    return lib.nn.functional


def _spec(name, fn, shapes, samples):
    return OpSpec(name, fn, kind="dim", shapes=shapes, samples=samples)


# ------------------------------------------------------------------ grid_sample
@st.composite
def grid_sample_cfg(draw, mode, nd):
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    size = tuple(draw(st.integers(1, 4)) for _ in range(nd))
    out = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    cfg = {
        "mode": mode,
        "padding_mode": draw(st.sampled_from(["zeros", "border", "reflection"])),
        "align_corners": draw(st.booleans()),
    }
    return [(n, c, *size), (n, *out, nd)], cfg


def _grid_sample(lib, x, grid, cfg):
    return _F(lib).grid_sample(x, grid, **cfg)


def _gs_samples(mode, nd):
    x, g = ((2, 3, 4, 5), (2, 3, 2, 2)) if nd == 2 else ((1, 2, 3, 4, 2), (1, 2, 3, 2, 3))
    if mode == "bicubic":
        # few taps per input pixel: PyTorch's float32 kernel rounds through fused
        # multiply-adds, so where many taps cancel in one pixel its float32 input gradient
        # is off from the exact one by more than the float32 parity's absolute 1e-7 (as is
        # any float32 sum); tests/nn/test_nn_grid_sample.py checks larger cases relatively
        x, g = (1, 2, 3, 4), (1, 2, 2, 2)
    return [
        ([x, g], {"mode": mode, "padding_mode": p, "align_corners": a})
        for p in ("zeros", "border", "reflection")
        for a in (False, True)
    ]


# ------------------------------------------------------------------ affine_grid
@st.composite
def affine_cfg(draw):
    nd = draw(st.integers(2, 3))
    n = draw(st.integers(1, 2))
    size = (n, 1) + tuple(draw(st.integers(2, 4)) for _ in range(nd))
    return [(n, nd, nd + 1)], {"size": size, "align_corners": draw(st.booleans())}


def _affine(lib, theta, cfg):
    return _F(lib).affine_grid(theta, cfg["size"], align_corners=cfg["align_corners"])


GRID_SAMPLE = [
    _spec(
        f"grid_sample_{mode}_{nd}d", _grid_sample, grid_sample_cfg(mode, nd), _gs_samples(mode, nd)
    )
    for mode, nd in [
        ("bilinear", 2),
        ("nearest", 2),
        ("bicubic", 2),
        ("bilinear", 3),
        ("nearest", 3),
    ]
] + [
    _spec(
        "affine_grid",
        _affine,
        affine_cfg(),
        [
            ([(2, 2, 3)], {"size": (2, 3, 4, 5), "align_corners": False}),
            ([(2, 2, 3)], {"size": (2, 1, 3, 3), "align_corners": True}),
            ([(1, 3, 4)], {"size": (1, 2, 2, 3, 4), "align_corners": False}),
            ([(1, 3, 4)], {"size": (1, 2, 2, 3, 4), "align_corners": True}),
        ],
    )
]


# ------------------------------------------------------------------ ctc_loss
@st.composite
def ctc_cfg(draw):
    t, n, c = draw(st.integers(2, 6)), draw(st.integers(1, 3)), draw(st.integers(2, 5))
    blank = draw(st.integers(0, c - 1))
    labels = [k for k in range(c) if k != blank]
    lengths = [draw(st.integers(0, 3)) for _ in range(n)]
    targets = [[draw(st.sampled_from(labels)) for _ in range(max(lengths))] for _ in range(n)]
    cfg = {
        "targets": targets,
        "input_lengths": [draw(st.integers(1, t)) for _ in range(n)],
        "target_lengths": lengths,
        "blank": blank,
        "reduction": draw(st.sampled_from(["none", "mean", "sum"])),
        "zero_infinity": True,  # finite-difference checks need finite losses
    }
    return [(t, n, c)], cfg


def _ctc(lib, x, cfg):
    # PyTorch's CTC gradient is the one through a log_softmax (what programs feed in)
    cfg = dict(cfg)
    targets = lib.tensor(
        np.array(cfg.pop("targets"), dtype=np.int64).reshape(len(cfg["target_lengths"]), -1)
    )
    lengths = tuple(cfg.pop("input_lengths")), tuple(cfg.pop("target_lengths"))
    return _F(lib).ctc_loss(x.log_softmax(2), targets, *lengths, **cfg)


CTC = [
    _spec(
        "ctc_loss",
        _ctc,
        ctc_cfg(),
        [
            (
                [(6, 2, 4)],
                {
                    "targets": [[1, 2, 2], [3, 1, 0]],
                    "input_lengths": [6, 5],
                    "target_lengths": [3, 2],
                    "blank": 0,
                    "reduction": "mean",
                    "zero_infinity": False,
                },
            ),
            (
                [(5, 3, 3)],
                {
                    "targets": [[0, 1], [1, 1], [0, 0]],
                    "input_lengths": [5, 2, 4],
                    "target_lengths": [2, 2, 0],
                    "blank": 2,
                    "reduction": "none",
                    "zero_infinity": True,
                },
            ),
        ],
    )
]


# ------------------------------------------------------------------ fractional max pooling
@st.composite
def fractional_cfg(draw, nd):
    lead = draw(st.sampled_from([(1, 2), (2, 1), (2,)]))
    k = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    size = tuple(draw(st.integers(ki + 1, ki + 4)) for ki in k)
    # the 3-D bound is strict (out + k - 1 < size)
    out = tuple(draw(st.integers(1, s - ki + (nd == 2))) for s, ki in zip(size, k))
    samples = draw(st.lists(st.floats(0, 0.999), min_size=nd * 4, max_size=nd * 4))
    return [lead + size], {"kernel_size": k, "output_size": out, "samples": samples}


def _fractional(nd):
    def fn(lib, x, cfg):
        n, c = (1, x.shape[0]) if x.dim() == nd + 1 else (x.shape[0], x.shape[1])
        samples = np.array(cfg["samples"] * (n * c))[: n * c * nd].reshape(n, c, nd)
        f = getattr(_F(lib), f"fractional_max_pool{nd}d")
        return f(x, cfg["kernel_size"], cfg["output_size"],
                 _random_samples=lib.tensor(samples, dtype=x.dtype))  # fmt: skip

    return fn


FRACTIONAL = [
    _spec(
        "fractional_max_pool2d",
        _fractional(2),
        fractional_cfg(2),
        [
            (
                [(2, 3, 7, 8)],
                {"kernel_size": (2, 3), "output_size": (4, 5), "samples": [0.1, 0.7, 0.45, 0.2]},
            ),
            ([(3, 5, 5)], {"kernel_size": (2, 2), "output_size": (3, 2), "samples": [0.9, 0.3]}),
        ],
    ),
    _spec(
        "fractional_max_pool3d",
        _fractional(3),
        fractional_cfg(3),
        [
            (
                [(1, 2, 5, 6, 4)],
                {
                    "kernel_size": (2, 2, 1),
                    "output_size": (3, 4, 2),
                    "samples": [0.1, 0.7, 0.45, 0.2, 0.8, 0.5],
                },
            )
        ],
    ),
]


# ------------------------------------------------------------------ channel_shuffle
@st.composite
def shuffle_groups_cfg(draw):
    groups, per = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    rest = draw(st.sampled_from([(2,), (2, 3), (1, 2, 2)]))
    return [(draw(st.integers(1, 2)), groups * per) + rest], groups


CHANNEL_SHUFFLE = [
    _spec(
        "channel_shuffle",
        lambda lib, x, g: _F(lib).channel_shuffle(x, g),
        shuffle_groups_cfg(),
        [([(2, 6, 3)], 3), ([(1, 8, 2, 2)], 2), ([(2, 4, 1, 2, 2)], 4)],
    )
]

# CrossMapLRN2d is not registered: PyTorch's backward for it (the Lua formula) is not the
# derivative of its forward, so a finite-difference check cannot hold; its parity with
# PyTorch is tested in tests/nn/test_nn_layers_nnlayers.py.

# PyTorch has no double backward of _ctc_loss_backward ("not implemented"): gradgradcheck only
TORCH_NO_DOUBLE_BACKWARD = {"ctc_loss"}

NNLAYERS = [*GRID_SAMPLE, *CTC, *FRACTIONAL, *CHANNEL_SHUFFLE]
