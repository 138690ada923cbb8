"""Registry entries for the functions behind the extra layers (layersmore): padding with
negative amounts and in 3 dims, pixel (un)shuffle, local response norm, RMS norm,
bilinear, max unpooling. Each is a ``dim``-kind OpSpec drawing ``(shapes, cfg)``; the same
call runs under gradfit and torch (gradcheck, parity, second order by the shared tests).
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from .op_registry import OpSpec


def _F(lib):
    return lib.nn.functional


def _spec(name, fn, shapes, samples):
    return OpSpec(name, fn, kind="dim", shapes=shapes, samples=samples)


# ------------------------------------------------------------------ pad (all modes, crops, 3d)
@st.composite
def pad_more_cfg(draw):
    mode = draw(st.sampled_from(["constant", "reflect", "replicate", "circular"]))
    nd = draw(st.integers(1, 3))
    size = tuple(draw(st.integers(2, 4)) for _ in range(nd))
    pads = []
    for s in reversed(size):
        top = s - 1 if mode == "reflect" else s
        lo = draw(st.integers(-1, top))
        hi = draw(st.integers(-1, top))
        if s + lo + hi < 1:  # keep one element at least (and one to wrap around)
            hi = 1 - s - lo
        pads += [lo, hi]
    return [(1, 2) + size], {"pad": tuple(pads), "mode": mode}


def _pad(lib, x, cfg):
    return _F(lib).pad(x, **cfg)


# ------------------------------------------------------------------ pixel shuffle
@st.composite
def shuffle_cfg(draw):
    r = draw(st.integers(1, 3))
    c = draw(st.integers(1, 2))
    lead = draw(st.sampled_from([(), (2,), (1, 2)]))
    return [lead + (c * r * r, draw(st.integers(1, 3)), draw(st.integers(1, 3)))], r


@st.composite
def unshuffle_cfg(draw):
    r = draw(st.integers(1, 3))
    lead = draw(st.sampled_from([(), (2,)]))
    return [lead + (draw(st.integers(1, 2)), r * draw(st.integers(1, 2)), r * 2)], r


# ------------------------------------------------------------------ norms, bilinear
@st.composite
def lrn_cfg(draw):
    nd = draw(st.integers(1, 2))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 5))) + tuple(
        draw(st.integers(1, 3)) for _ in range(nd)
    )
    cfg = {"size": draw(st.integers(1, 4)), "alpha": 0.5, "beta": 0.75, "k": 2.0}
    return [shape], cfg


@st.composite
def rms_cfg(draw):
    shape = tuple(draw(st.integers(1, 4)) for _ in range(draw(st.integers(1, 3))))
    n = draw(st.integers(1, len(shape)))
    weight = draw(st.booleans())
    eps = draw(st.sampled_from([None, 1e-5]))
    return [shape] + ([shape[-n:]] if weight else []), {"normalized_shape": shape[-n:], "eps": eps}


def _rms(lib, x, *rest):
    cfg = rest[-1]
    w = rest[0] if len(rest) == 2 else None
    return _F(lib).rms_norm(x, cfg["normalized_shape"], w, cfg["eps"])


@st.composite
def bilinear_cfg(draw):
    lead = draw(st.sampled_from([(2,), (1, 3), ()]))
    i1, i2, o = (draw(st.integers(1, 3)) for _ in range(3))
    shapes = [lead + (i1,), lead + (i2,), (o, i1, i2)]
    return shapes + ([(o,)] if draw(st.booleans()) else []), None


def _bilinear(lib, x1, x2, w, *rest):
    b = rest[0] if len(rest) == 2 else None
    return _F(lib).bilinear(x1, x2, w, b)


# ------------------------------------------------------------------ max unpooling
@st.composite
def unpool_cfg(draw, nd):
    k = draw(st.integers(1, 3))
    size = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    return [(draw(st.integers(1, 2)), 2) + size], {"kernel_size": k}


def _unpool(nd):
    def fn(lib, x, cfg):
        k = cfg["kernel_size"]
        # indices from max pooling a fixed array of the unpooled size (distinct per window)
        big = tuple(x.shape[:2]) + tuple(s * k for s in x.shape[2:])
        ref = np.random.default_rng(0).standard_normal(big)
        pool = getattr(_F(lib), f"max_pool{nd}d")
        _, idx = pool(lib.tensor(ref), k, return_indices=True)
        return getattr(_F(lib), f"max_unpool{nd}d")(x, idx, k, **cfg.get("extra", {}))

    return fn


LAYERS_MORE = [
    _spec(
        "pad_more",
        _pad,
        pad_more_cfg(),
        [
            ([(2, 3, 5)], {"pad": (-1, 2), "mode": "reflect"}),
            ([(2, 3, 4)], {"pad": (-2, -1, 1, -2), "mode": "circular"}),
            ([(1, 2, 3, 4, 3)], {"pad": (1, 2, 0, -1, 2, 1), "mode": "replicate"}),
            ([(2, 3, 4, 3)], {"pad": (1, 2, 1, 0, 2, 1), "mode": "reflect"}),
            ([(1, 2, 3, 4, 3)], {"pad": (1, -1, 2, 0, 1, 3), "mode": "circular"}),
        ],
    ),
    _spec(
        "pixel_shuffle",
        lambda lib, x, r: _F(lib).pixel_shuffle(x, r),
        shuffle_cfg(),
        [([(2, 8, 2, 3)], 2), ([(2, 1, 9, 2, 1)], 3), ([(4, 3, 2)], 1)],
    ),
    _spec(
        "pixel_unshuffle",
        lambda lib, x, r: _F(lib).pixel_unshuffle(x, r),
        unshuffle_cfg(),
        [([(2, 2, 4, 6)], 2), ([(1, 3, 6, 3)], 3)],
    ),
    _spec(
        "local_response_norm",
        lambda lib, x, cfg: _F(lib).local_response_norm(x, **cfg),
        lrn_cfg(),
        [
            ([(2, 5, 3)], {"size": 3, "alpha": 0.5, "beta": 0.75, "k": 2.0}),
            ([(2, 6, 3, 2)], {"size": 2, "alpha": 1e-2, "beta": 0.6, "k": 1.0}),
            ([(1, 4, 2, 2, 2)], {"size": 5}),
        ],
    ),
    _spec(
        "rms_norm",
        _rms,
        rms_cfg(),
        [
            ([(2, 3, 4), (4,)], {"normalized_shape": (4,), "eps": None}),
            ([(2, 3, 4), (3, 4)], {"normalized_shape": (3, 4), "eps": 1e-6}),
            ([(5, 2)], {"normalized_shape": [2], "eps": None}),
        ],
    ),
    _spec(
        "bilinear",
        _bilinear,
        bilinear_cfg(),
        [([(4, 3), (4, 2), (5, 3, 2), (5,)], None), ([(2, 3, 3), (2, 3, 4), (2, 3, 4)], None)],
    ),
    _spec(
        "max_unpool1d",
        _unpool(1),
        unpool_cfg(1),
        [([(2, 3, 4)], {"kernel_size": 2}), ([(1, 2, 3)], {"kernel_size": 3})],
    ),
    _spec(
        "max_unpool2d",
        _unpool(2),
        unpool_cfg(2),
        [([(2, 3, 2, 3)], {"kernel_size": 2}), ([(1, 2, 2, 1)], {"kernel_size": 3})],
    ),
]
