"""Registry entries for convolution, pooling, padding, interpolation and normalisation.

Each entry is a ``dim``-kind OpSpec whose strategy draws ``(shapes, cfg)``: the input
shapes and a configuration (stride, padding, dilation, groups, ...) that ``fn(lib,
*tensors, cfg)`` passes to ``lib.nn.functional``, so the same call runs under gradfit and
torch. The gradcheck draws the configurations with hypothesis (non-contiguous inputs
included, by the shared test); the parity test runs the fixed ``samples``.
"""

from __future__ import annotations

from hypothesis import strategies as st

from .op_registry import OpSpec


def _F(lib):
    return lib.nn.functional


def _spec(name, fn, shapes, samples, domain="real"):
    return OpSpec(name, fn, kind="dim", shapes=shapes, samples=samples, domain=domain)


# ------------------------------------------------------------------ convolution
@st.composite
def conv_cfg(draw, nd):
    g = draw(st.integers(1, 2))
    cg, og = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    k = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    s = tuple(draw(st.integers(1, 2)) for _ in range(nd))
    d = tuple(draw(st.integers(1, 2)) for _ in range(nd))
    p = tuple(draw(st.integers(0, 1)) for _ in range(nd))
    size = tuple(
        max(draw(st.integers(1, 5)), di * (ki - 1) + 1 - 2 * pi) for ki, di, pi in zip(k, d, p)
    )
    n = draw(st.integers(1, 2))
    bias = draw(st.booleans())
    shapes = [(n, g * cg) + size, (g * og, cg) + k] + ([(g * og,)] if bias else [])
    return shapes, {"stride": s, "padding": p, "dilation": d, "groups": g}


def _conv(nd):
    def fn(lib, x, w, *rest):
        cfg = rest[-1]
        b = rest[0] if len(rest) == 2 else None
        return getattr(_F(lib), f"conv{nd}d")(x, w, b, **cfg)

    return fn


@st.composite
def convt_cfg(draw, nd):
    g = draw(st.integers(1, 2))
    cg, og = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    k = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    s = tuple(draw(st.integers(1, 2)) for _ in range(nd))
    d = tuple(draw(st.integers(1, 2)) for _ in range(nd))
    op = tuple(draw(st.integers(0, max(si, di) - 1)) for si, di in zip(s, d))
    size = tuple(draw(st.integers(1, 4)) for _ in range(nd))
    # padding must leave a positive output: (L-1)s + d(k-1) + op + 1 - 2p >= 1
    p = tuple(
        min(draw(st.integers(0, 1)), ((li - 1) * si + di * (ki - 1) + opi) // 2)
        for li, si, di, ki, opi in zip(size, s, d, k, op)
    )
    n = draw(st.integers(1, 2))
    shapes = [(n, g * cg) + size, (g * cg, og) + k, (g * og,)]
    return shapes, {"stride": s, "padding": p, "output_padding": op, "dilation": d, "groups": g}


def _convt(nd):
    def fn(lib, x, w, b, cfg):
        return getattr(_F(lib), f"conv_transpose{nd}d")(x, w, b, **cfg)

    return fn


CONV = [
    _spec(
        "conv1d",
        _conv(1),
        conv_cfg(1),
        [
            ([(2, 3, 9), (4, 3, 3), (4,)], {"stride": 2, "padding": 1, "dilation": 1, "groups": 1}),
            ([(2, 4, 10), (6, 2, 3)], {"stride": 1, "padding": 2, "dilation": 2, "groups": 2}),
            ([(1, 2, 8), (3, 2, 4), (3,)], {"stride": 1, "padding": "same"}),
        ],
    ),
    _spec(
        "conv2d",
        _conv(2),
        conv_cfg(2),
        [
            (
                [(2, 2, 7, 6), (3, 2, 2, 2), (3,)],
                {"stride": (2, 1), "padding": (1, 0), "dilation": (1, 2), "groups": 1},
            ),
            ([(2, 4, 5, 5), (4, 2, 3, 3), (4,)], {"stride": 1, "padding": 1, "groups": 2}),
            ([(1, 2, 6, 5), (3, 2, 2, 3)], {"padding": "valid"}),
        ],
    ),
    _spec(
        "conv_transpose1d",
        _convt(1),
        convt_cfg(1),
        [
            (
                [(2, 4, 5), (4, 3, 3), (6,)],
                {"stride": 2, "padding": 1, "output_padding": 1, "dilation": 1, "groups": 2},
            ),
        ],
    ),
    _spec(
        "conv_transpose2d",
        _convt(2),
        convt_cfg(2),
        [
            (
                [(2, 3, 4, 3), (3, 2, 3, 2), (2,)],
                {
                    "stride": (2, 1),
                    "padding": (1, 0),
                    "output_padding": (1, 0),
                    "dilation": 1,
                    "groups": 1,
                },
            ),
            (
                [(1, 4, 3, 3), (4, 1, 2, 2), (2,)],
                {"stride": 1, "padding": 0, "output_padding": 0, "dilation": 2, "groups": 2},
            ),
        ],
    ),
]


# ------------------------------------------------------------------ pooling
@st.composite
def pool_cfg(draw, nd, dilation=True):
    k = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    s = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    d = tuple(draw(st.integers(1, 2)) for _ in range(nd)) if dilation else (1,) * nd
    p = tuple(draw(st.integers(0, ki // 2)) for ki in k)
    # at least one kernel extent, so no window is made of padding only
    size = tuple(max(draw(st.integers(1, 6)), di * (ki - 1) + 1) for ki, di in zip(k, d))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) + size
    cfg = {"kernel_size": k, "stride": s, "padding": p, "ceil_mode": draw(st.booleans())}
    if dilation:
        cfg["dilation"] = d
    return [shape], cfg


def _max_pool(nd):
    def fn(lib, x, cfg):
        return getattr(_F(lib), f"max_pool{nd}d")(x, **cfg)

    return fn


@st.composite
def avg_cfg(draw, nd):
    shapes, cfg = draw(pool_cfg(nd, dilation=False))
    cfg["count_include_pad"] = draw(st.booleans())
    if nd == 2 and draw(st.booleans()):
        cfg["divisor_override"] = draw(st.integers(1, 5))
    return shapes, cfg


def _avg_pool(nd):
    def fn(lib, x, cfg):
        return getattr(_F(lib), f"avg_pool{nd}d")(x, **cfg)

    return fn


@st.composite
def adaptive_cfg(draw, nd):
    size = tuple(draw(st.integers(1, 7)) for _ in range(nd))
    out = tuple(draw(st.integers(1, 5)) for _ in range(nd))
    return [(draw(st.integers(1, 2)), 2) + size], {"output_size": out}


def _adaptive(kind, nd):
    def fn(lib, x, cfg):
        return getattr(_F(lib), f"adaptive_{kind}_pool{nd}d")(x, cfg["output_size"])

    return fn


POOL = [
    _spec(
        "max_pool1d",
        _max_pool(1),
        pool_cfg(1),
        [
            (
                [(2, 3, 10)],
                {"kernel_size": 3, "stride": 2, "padding": 1, "dilation": 2, "ceil_mode": True},
            )
        ],
    ),
    _spec(
        "max_pool2d",
        _max_pool(2),
        pool_cfg(2),
        [
            ([(2, 3, 6, 8)], {"kernel_size": 2}),
            (
                [(1, 2, 7, 5)],
                {"kernel_size": (3, 2), "stride": (2, 1), "padding": (1, 1), "ceil_mode": True},
            ),
        ],
    ),
    _spec(
        "avg_pool1d",
        _avg_pool(1),
        avg_cfg(1),
        [
            (
                [(2, 3, 10)],
                {
                    "kernel_size": 3,
                    "stride": 2,
                    "padding": 1,
                    "ceil_mode": True,
                    "count_include_pad": False,
                },
            )
        ],
    ),
    _spec(
        "avg_pool2d",
        _avg_pool(2),
        avg_cfg(2),
        [
            ([(2, 3, 7, 6)], {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}),
            ([(1, 2, 5, 5)], {"kernel_size": 2, "divisor_override": 3}),
        ],
    ),
    _spec(
        "adaptive_avg_pool1d",
        _adaptive("avg", 1),
        adaptive_cfg(1),
        [([(2, 3, 10)], {"output_size": (4,)})],
    ),
    _spec(
        "adaptive_avg_pool2d",
        _adaptive("avg", 2),
        adaptive_cfg(2),
        [([(2, 3, 7, 5)], {"output_size": (3, 2)}), ([(1, 2, 6, 4)], {"output_size": (3, 2)})],
    ),
    _spec(
        "adaptive_max_pool1d",
        _adaptive("max", 1),
        adaptive_cfg(1),
        [([(2, 3, 10)], {"output_size": (4,)})],
    ),
    _spec(
        "adaptive_max_pool2d",
        _adaptive("max", 2),
        adaptive_cfg(2),
        [([(2, 3, 7, 5)], {"output_size": (3, 4)})],
    ),
]


# ------------------------------------------------------------------ pad, interpolate, unfold/fold
@st.composite
def pad_cfg(draw):
    mode = draw(st.sampled_from(["constant", "reflect", "replicate", "circular"]))
    size = (draw(st.integers(2, 5)), draw(st.integers(2, 5)))
    pads = []
    for s in reversed(size):
        top = s - 1 if mode == "reflect" else s
        pads += [draw(st.integers(0, top)), draw(st.integers(0, top))]
    if mode == "constant" and draw(st.booleans()):
        pads[0] = -1
    return [(draw(st.integers(1, 2)), 2) + size], {"pad": tuple(pads), "mode": mode}


@st.composite
def interp_cfg(draw):
    nd = draw(st.integers(1, 2))
    mode = draw(st.sampled_from(["nearest", "linear"]))
    size = tuple(draw(st.integers(2, 5)) for _ in range(nd))
    cfg = {"mode": mode if mode == "nearest" else ("linear", "bilinear")[nd - 1]}
    if mode != "nearest":
        cfg["align_corners"] = draw(st.booleans())
    if draw(st.booleans()):
        cfg["size"] = tuple(draw(st.integers(1, 7)) for _ in range(nd))
    else:
        cfg["scale_factor"] = draw(st.sampled_from([0.5, 1.5, 2.0, 2.5]))
    return [(1, 2) + size], cfg


@st.composite
def unfold_cfg(draw):
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    d = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    s = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    p = (draw(st.integers(0, 1)), draw(st.integers(0, 1)))
    size = tuple(
        max(draw(st.integers(1, 5)), di * (ki - 1) + 1 - 2 * pi) for ki, di, pi in zip(k, d, p)
    )
    return [(draw(st.integers(1, 2)), 2) + size], {
        "kernel_size": k,
        "dilation": d,
        "padding": p,
        "stride": s,
    }


@st.composite
def fold_cfg(draw):
    (shape,), cfg = draw(unfold_cfg())
    n, c = shape[:2]
    out = shape[2:]
    blocks = 1
    for o, k, d, s, p in zip(
        out, cfg["kernel_size"], cfg["dilation"], cfg["stride"], cfg["padding"]
    ):
        blocks *= (o + 2 * p - d * (k - 1) - 1) // s + 1
    cfg["output_size"] = out
    return [(n, c * cfg["kernel_size"][0] * cfg["kernel_size"][1], blocks)], cfg


RESHAPE = [
    _spec(
        "pad",
        lambda lib, x, cfg: _F(lib).pad(x, **cfg),
        pad_cfg(),
        [
            ([(2, 3, 4, 5)], {"pad": (2, 1, 1, 3), "mode": m})
            for m in ("constant", "reflect", "replicate", "circular")
        ]
        + [([(2, 3, 4, 5)], {"pad": (-1, 2, 0, 1), "mode": "constant", "value": 0.5})],
    ),
    _spec(
        "interpolate",
        lambda lib, x, cfg: _F(lib).interpolate(x, **cfg),
        interp_cfg(),
        [
            ([(2, 3, 5)], {"scale_factor": 2.5, "mode": "nearest"}),
            ([(2, 3, 5)], {"size": 9, "mode": "linear"}),
            ([(2, 3, 5)], {"size": 9, "mode": "linear", "align_corners": True}),
            ([(1, 2, 4, 5)], {"scale_factor": 1.5, "mode": "bilinear"}),
            ([(1, 2, 4, 5)], {"size": (7, 3), "mode": "bilinear", "align_corners": True}),
            ([(1, 2, 4, 5)], {"size": (7, 3), "mode": "nearest"}),
            ([(1, 2, 4, 5)], {"size": (6, 9), "mode": "nearest-exact"}),
            ([(2, 3, 5)], {"scale_factor": 1.5, "mode": "nearest-exact"}),
        ],
    ),
    _spec(
        "unfold",
        lambda lib, x, cfg: _F(lib).unfold(x, **cfg),
        unfold_cfg(),
        [
            (
                [(2, 3, 5, 6)],
                {"kernel_size": (2, 3), "dilation": (1, 2), "padding": 1, "stride": (2, 1)},
            )
        ],
    ),
    _spec(
        "fold",
        lambda lib, x, cfg: _F(lib).fold(x, **cfg),
        fold_cfg(),
        [
            (
                [(2, 12, 15)],
                {"output_size": (4, 5), "kernel_size": (2, 3), "padding": (1, 0), "stride": 1},
            )
        ],
    ),
]


# ------------------------------------------------------------------ normalisation
@st.composite
def norm_cfg(draw, min_batch=2):
    nd = draw(st.integers(0, 2))
    c = draw(st.integers(1, 3))
    shape = (draw(st.integers(min_batch, 3)), c) + tuple(draw(st.integers(1, 3)) for _ in range(nd))
    return [shape, (c,), (c,)], {}


def _bn_train(lib, x, w, b, cfg):
    return _F(lib).batch_norm(x, None, None, w, b, training=True, eps=cfg.get("eps", 1e-5))


def _bn_eval(lib, x, w, b, cfg):
    c = x.shape[1]
    rm = lib.linspace(-0.5, 0.5, c, dtype=x.dtype)
    rv = lib.linspace(0.5, 2.0, c, dtype=x.dtype)
    return _F(lib).batch_norm(x, rm, rv, w, b, training=False)


@st.composite
def group_cfg(draw):
    g = draw(st.integers(1, 3))
    c = g * draw(st.integers(1, 2))
    shape = (draw(st.integers(1, 2)), c) + tuple(
        draw(st.integers(1, 3)) for _ in range(draw(st.integers(1, 2)))
    )
    if shape[1] // g * int(__import__("math").prod(shape[2:])) < 2:
        shape = shape[:2] + (2,) + shape[3:]
    return [shape, (c,), (c,)], {"num_groups": g}


@st.composite
def instance_cfg(draw):
    c = draw(st.integers(1, 3))
    shape = (draw(st.integers(1, 2)), c) + tuple(
        draw(st.integers(2, 4)) for _ in range(draw(st.integers(1, 2)))
    )
    return [shape, (c,), (c,)], {}


NORM = [
    _spec(
        "batch_norm_train",
        _bn_train,
        norm_cfg(),
        [
            ([(4, 3), (3,), (3,)], {}),
            ([(3, 2, 5), (2,), (2,)], {}),
            ([(2, 3, 3, 2), (3,), (3,)], {}),
        ],
    ),
    _spec(
        "batch_norm_eval",
        _bn_eval,
        norm_cfg(min_batch=1),
        [([(4, 3), (3,), (3,)], {}), ([(2, 3, 3, 2), (3,), (3,)], {})],
    ),
    _spec(
        "group_norm",
        lambda lib, x, w, b, cfg: _F(lib).group_norm(x, cfg["num_groups"], w, b),
        group_cfg(),
        [
            ([(2, 6, 5), (6,), (6,)], {"num_groups": 3}),
            ([(1, 4, 3, 2), (4,), (4,)], {"num_groups": 2}),
        ],
    ),
    _spec(
        "instance_norm",
        lambda lib, x, w, b, cfg: _F(lib).instance_norm(x, weight=w, bias=b),
        instance_cfg(),
        [([(2, 3, 5), (3,), (3,)], {}), ([(2, 2, 3, 4), (2,), (2,)], {})],
    ),
]

CONV_REGISTRY = CONV + POOL + RESHAPE + NORM
