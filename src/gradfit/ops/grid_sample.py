"""Grid sampling (``torch.nn.functional.grid_sample``) for 2-D and 3-D inputs.

Each output location reads the input at a real-valued position given by the grid. Along
every spatial axis the position becomes a few integer taps with 1-D weights (nearest: one
tap of weight 1; bilinear: two, ``1 - t`` and ``t``; bicubic: four, Keys' cubic
convolution with A = -0.75), and a sample is the sum over the tensor product of the taps
of the weights times the gathered input values, taps outside the input counting as 0.
The coordinate arithmetic follows ATen's formulas (unnormalize, clip, reflect) in the
input's dtype, so the same taps are chosen as in PyTorch.

Forward: one channels-last gather per tap combination (4 for bilinear 2-D, 8 trilinear,
16 bicubic). Backward: the input's gradient adds every tap's contribution at its flat
index (one ``np.bincount`` in float64); the grid's gradient is the sum over taps of the
gathered values times the derivative of the tap weight, times the coordinate's
derivative (0 where a clip is active, -1 where a reflection flips, PyTorch's
``*_set_grad`` rules). The same sampler is written in differentiable gradfit operations
(``composite``) for create_graph=True.

float32 rounds as PyTorch's CPU kernels do, so that printed results agree digit for
digit: the 2-D kernel (GridSamplerKernel.cpp, vectorized, 8 lanes) is compiled with fused
multiply-adds, emulated here exactly through float64 (``fma``); the 3-D kernel
(GridSampler.cpp) is not; sums run in the kernels' order (channel by channel for the
grid's gradient, output chunk by chunk then tap by tap for the input's). Bilinear and
nearest sampling are bit-identical to torch 2.13 in value and both gradients (tested);
bicubic gradients are too, its output almost always (the rounding of its row sums was
measured, not read).
"""

from __future__ import annotations

import itertools

import numpy as np

from gradfit.autograd.function import Op, Tensor, linear_backward_graph

_A = -0.75  # the cubic convolution's parameter in PyTorch (and OpenCV)

MODES = ("bilinear", "nearest", "bicubic")
PADDINGS = ("zeros", "border", "reflection")


def fma(a, b, c):
    """a * b + c rounded once, as PyTorch's compiled CPU kernels compute it (the compiler
    fuses the product and the sum). float32 is exact through float64; float64 (whose
    exact product needs more bits) and Tensors (the composite) round twice."""
    if isinstance(c, np.ndarray) and c.dtype == np.float32:
        return (np.asarray(a, np.float64) * np.asarray(b, np.float64) + c).astype(np.float32)
    return a * b + c


# ------------------------------------------------------------------ coordinates (GridSampler.h)
def _unnormalize(coord: np.ndarray, size: int, align_corners: bool, nd: int = 3):
    """[-1, 1] to pixel positions: corner pixels' centres (align_corners) or their outer
    edges; returns the position and d position / d coord. 2-D inputs use the rounding of
    ATen's vectorized kernel (GridSamplerKernel.cpp, compiled with fused multiply-adds),
    3-D ones GridSampler.h's (without)."""
    dt = coord.dtype.type
    if nd == 2:
        if align_corners:
            scale = dt(size - 1) / dt(2)
            return (coord + dt(1)) * scale, scale
        scale = dt(size) / dt(2)
        return fma(coord + dt(1), scale, np.full_like(coord, -0.5)), scale
    if align_corners:
        return ((coord + 1) / 2) * (size - 1), (size - 1) / 2
    return ((coord + 1) * size - 1) / 2, size / 2


def _clip(coord: np.ndarray, size: int):
    """Clamp to [0, size - 1]; the borders themselves count as clipped (gradient 0)."""
    inside = (coord > 0) & (coord < size - 1)
    out = np.minimum(size - 1, np.maximum(coord, 0)).astype(coord.dtype, copy=False)
    return out, inside.astype(coord.dtype)


def _reflect(coord: np.ndarray, twice_low: int, twice_high: int):
    """Reflect into [twice_low / 2, twice_high / 2] as often as needed; returns the
    position and its derivative (+1 or -1)."""
    dt = coord.dtype.type
    if twice_low == twice_high:
        return np.zeros_like(coord), np.zeros_like(coord)
    low = dt(twice_low / 2)
    span = dt((twice_high - twice_low) / 2)
    shifted = coord - low
    sign = np.where(shifted < 0, dt(-1), dt(1))
    shifted = np.abs(shifted)
    extra = np.fmod(shifted, span)
    flips = np.floor(shifted / span)
    even = (flips % 2) == 0
    out = np.where(even, extra + low, span - extra + low).astype(coord.dtype, copy=False)
    return out, np.where(even, sign, -sign)


def _pad_coord(coord: np.ndarray, size: int, padding: str, align_corners: bool):
    """PyTorch's ``compute_coordinates``: the padding mode applied to a pixel position."""
    one = np.ones_like(coord)
    if padding == "border":
        return _clip(coord, size)
    if padding == "reflection":
        if align_corners:
            coord, d1 = _reflect(coord, 0, 2 * (size - 1))
        else:
            coord, d1 = _reflect(coord, -1, 2 * size - 1)
        coord, d2 = _clip(coord, size)
        return coord, d1 * d2
    return coord, one


def source_index(coord, size, padding, align_corners, mode, nd):
    """The pixel position of a grid coordinate and its derivative (bicubic pads each tap
    instead of the position)."""
    pos, scale = _unnormalize(coord, size, align_corners, nd)
    if mode == "bicubic":
        return pos, np.full_like(pos, scale)
    pos, d = _pad_coord(pos, size, padding, align_corners)
    return pos, d * pos.dtype.type(scale)


def _const(x, v):
    return np.full_like(x, v) if isinstance(x, np.ndarray) else v


def _cc1(x):
    """Keys' cubic for |x| <= 1, ((A + 2) x - (A + 3)) x x + 1 (fused as in ATen)."""
    t = (
        fma(_A + 2, x, _const(x, -(_A + 3)))
        if isinstance(x, np.ndarray)
        else (_A + 2) * x - (_A + 3)
    )
    return fma(t * x, x, _const(x, 1.0))


def _cc2(x):
    """Keys' cubic for 1 < |x| < 2, ((A x - 5A) x + 8A) x - 4A (unfused, as measured)."""
    return ((_A * x - 5 * _A) * x + 8 * _A) * x - 4 * _A


def _dcc1(x):
    return (3 * (_A + 2) * x - 2 * (_A + 3)) * x


def _dcc2(x):
    return (3 * _A * x - 10 * _A) * x + 8 * _A


def tap_weights(mode: str, t):
    """1-D weights of the taps at fraction ``t`` (an array or a Tensor)."""
    if mode == "bilinear":
        return [1 - t, t]
    return [_cc2(t + 1), _cc1(t), _cc1(1 - t), _cc2(2 - t)]


def _tap_derivatives(mode: str, t):
    if mode == "bilinear":
        return [-np.ones_like(t), np.ones_like(t)]
    return [_dcc2(t + 1), _dcc1(t), -_dcc1(1 - t), -_dcc2(2 - t)]


def axis_taps(pos: np.ndarray, size: int, mode: str, padding: str, align_corners: bool):
    """Integer taps along one axis: (index clipped for gathering, in-bounds mask) per tap,
    and the fraction ``t`` the weights are a function of (None for nearest)."""
    if mode == "nearest":
        idx = np.rint(pos)
        frac, starts = None, [idx]
    else:
        base = np.floor(pos)
        frac = pos - base
        offsets = (0, 1) if mode == "bilinear" else (-1, 0, 1, 2)
        starts = [base + o for o in offsets]
        if mode == "bicubic":  # each tap goes through the padding (get_value_bounded)
            starts = [_pad_coord(s, size, padding, align_corners)[0] for s in starts]
    taps = []
    for s in starts:
        # NaN and far-away positions become an out-of-bounds tap, as in PyTorch
        s = np.where(np.isfinite(s), s, -1.0)
        s = np.clip(s, -2.0, size + 1.0).astype(np.int64)
        mask = (s >= 0) & (s < size)
        taps.append((np.clip(s, 0, size - 1), mask))
    return taps, frac


class _Plan:
    """Everything the forward and backward share: per axis the taps, the fraction, the
    derivative of the position and the 1-D tap weights (rounded as PyTorch rounds them);
    and the batch index for gathering."""

    def __init__(self, x_shape, grid: np.ndarray, mode, padding, align_corners):
        nd = len(x_shape) - 2
        self.nd, self.mode = nd, mode
        self.spatial = tuple(x_shape[2:])
        self.axes = []
        self.weights = []
        for i, size in enumerate(self.spatial):
            coord = grid[..., nd - 1 - i]  # the grid lists x (width) first
            pos, dpos = source_index(coord, size, padding, align_corners, mode, nd)
            taps, frac = axis_taps(pos, size, mode, padding, align_corners)
            self.axes.append((taps, frac, dpos))
            if mode == "bilinear" and nd == 3:  # GridSampler.cpp: distances to the corners
                low = np.floor(pos)
                self.weights.append([(low + 1) - pos, pos - low])
            elif mode != "nearest":
                self.weights.append(tap_weights(mode, frac))
        n = grid.shape[0]
        self.batch = np.arange(n).reshape((n,) + (1,) * nd)

    def combos(self):
        """(indices per axis, mask, which tap per axis) for every tap combination, the
        last axis (x) varying fastest."""
        for choice in itertools.product(*(range(len(a[0])) for a in self.axes)):
            idx = [self.axes[d][0][k][0] for d, k in enumerate(choice)]
            mask = self.axes[0][0][choice[0]][1]
            for d in range(1, self.nd):
                mask = mask & self.axes[d][0][choice[d]][1]
            yield idx, mask, choice


def _weights(plan: _Plan, fracs=None):
    """Per axis the list of tap weights; ``fracs`` (the composite's Tensors) replaces the
    plan's fractions."""
    if plan.mode == "nearest":
        return None
    if fracs is None:
        return plan.weights
    return [tap_weights(plan.mode, f) for f in fracs]


def _channels_last(x):
    nd = x.ndim - 2
    if isinstance(x, np.ndarray):
        return np.moveaxis(x, 1, -1)
    return x.permute(0, *range(2, 2 + nd), 1)


def _channels_first(y, nd):
    if isinstance(y, np.ndarray):
        return np.ascontiguousarray(np.moveaxis(y, -1, 1))
    return y.permute(0, nd + 1, *range(1, nd + 1))


def sample(x, plan: _Plan, fracs=None):
    """The grid sample of ``x``: an array (summed in PyTorch's order, products fused into
    the running sum as its compiled kernel does), or a Tensor (the composite)."""
    xl = _channels_last(x)
    ws = _weights(plan, fracs)
    dtype = _dtype(x)
    if plan.mode == "bicubic" and isinstance(x, np.ndarray):
        return _channels_first(_bicubic_rows(xl, plan, ws, dtype), plan.nd)
    # the 3-D kernel (GridSampler.cpp) is compiled without fused multiply-adds
    add = fma if plan.nd == 2 else _mul_add
    out = None
    for idx, mask, choice in plan.combos():
        vals = _zero_outside(xl[(plan.batch, *idx)], mask, dtype)
        if ws is None:  # nearest: one tap
            return _channels_first(vals, plan.nd)
        w = _combo_weight(ws, choice, 1)[..., None]
        out = vals * w if out is None else add(vals, w, out)
    return _channels_first(out, plan.nd)


def _zero_outside(vals, mask, dtype):
    """The gathered values with +0 at out-of-bounds taps (as ATen's masked gather; a
    product with the mask would give -0 for negative values, which prints as -0.)."""
    if isinstance(vals, np.ndarray):
        return np.where(mask[..., None], vals, dtype.type(0))
    return vals * mask.astype(dtype)[..., None]


def _mul_add(a, b, c):
    return a * b + c


def _bicubic_rows(xl, plan: _Plan, ws, dtype):
    """ATen's bicubic forward: each of the 4 rows interpolated along x, then the rows
    along y (the rounding measured against torch 2.13: the rows' sums unfused, the
    columns' fused)."""
    rows = [None] * 4
    for idx, mask, (ky, kx) in plan.combos():
        v = _zero_outside(xl[(plan.batch, *idx)], mask, dtype)
        c = ws[1][kx][..., None]
        rows[ky] = c * v if rows[ky] is None else rows[ky] + c * v
    out = ws[0][0][..., None] * rows[0]
    for ky in range(1, 4):
        out = fma(ws[0][ky][..., None], rows[ky], out)
    return out


def _combo_weight(ws, choice, mask):
    """The product of the taps' 1-D weights, x's first (PyTorch's rounding order), times
    the in-bounds mask."""
    if ws is None:
        return mask
    nd = len(choice)
    w = ws[nd - 1][choice[nd - 1]]
    for d in range(nd - 2, -1, -1):
        w = w * ws[d][choice[d]]
    return w * mask


def _dtype(x):
    return x.dtype if isinstance(x, np.ndarray) else x._array.dtype


# ATen's grid sampler kernel runs on 256-bit vectors (8 float32 lanes), also on AVX512
# machines (measured against torch 2.13: the input gradient's rounding fixes the width)
_VECTOR_BYTES = 32


def _chunk_order(lin, vals):
    """Reorder (N, H, W, K, C) contributions as ATen's vectorized 2-D kernel adds them:
    output positions in chunks of one SIMD vector, and within a chunk tap by tap."""
    lanes = _VECTOR_BYTES // vals.dtype.itemsize
    n, k, c = lin.shape[0], lin.shape[-2], lin.shape[-1]
    p = lin.size // max(1, n * k * c)
    chunks = -(-p // lanes)
    pad = chunks * lanes - p

    def arrange(a):
        a = a.reshape(n, p, k, c)
        if pad:  # zeros added at index 0 change nothing
            a = np.concatenate([a, np.zeros((n, pad, k, c), dtype=a.dtype)], axis=1)
        return a.reshape(n, chunks, lanes, k, c).transpose(0, 1, 3, 2, 4)

    return arrange(lin), arrange(vals)


def _scatter_input(flat_idx, flat_vals, plan, x_shape, dtype):
    """The input's gradient: every tap's contribution added at its pixel. float32 sums
    in float32 in PyTorch's order (2-D: chunks of one SIMD vector of output positions,
    then tap (x outer for bicubic), then position; 3-D: position, then tap), so that it
    rounds the same; float64 sums with one bincount."""
    c = x_shape[1]
    lin = np.stack(flat_idx, axis=-1)[..., None] * c + np.arange(c)  # (N, *out, K, C)
    vals = np.stack(flat_vals, axis=-2)
    if plan.mode == "bicubic":  # combos run y outer; PyTorch's loop runs x outer
        order = [ky * 4 + kx for kx in range(4) for ky in range(4)]
        lin, vals = lin[..., order, :], vals[..., order, :]
    if plan.nd == 2 and dtype != np.float64:
        lin, vals = _chunk_order(lin, vals)
    total = int(np.prod(x_shape))
    if dtype == np.float64:
        flat = np.bincount(lin.ravel(), vals.ravel(), minlength=total)
    else:
        flat = np.zeros(total, dtype=dtype)
        np.add.at(flat, lin.ravel(), vals.ravel())
    return _channels_first(
        flat.astype(dtype, copy=False).reshape(x_shape[0], *plan.spatial, c), plan.nd
    )


def _grid_grad(plan: _Plan, xl, gl, ws):
    """d loss / d position along each axis (before the unnormalize/padding factor), summed
    channel by channel in the order and with the rounding of PyTorch's kernels."""
    nd, dtype = plan.nd, xl.dtype
    g = [np.zeros(gl.shape[:-1], dtype=dtype) for _ in range(nd)]
    combos = list(plan.combos())
    if plan.mode == "bicubic":
        dws = [_tap_derivatives("bicubic", f) for _, f, _ in plan.axes]
        # x's taps outer, y's inner: gx -= (v g c'_x) c_y, gy -= (v g c'_y) c_x (fused)
        combos.sort(key=lambda t: (t[2][1], t[2][0]))
    gathered = [_zero_outside(xl[(plan.batch, *idx)], mask, dtype) for idx, mask, _ in combos]
    for c in range(xl.shape[-1]):
        go = gl[..., c]
        vals = [v[..., c] for v in gathered]
        if plan.mode == "bilinear" and nd == 2:
            (s, n), (e, w) = ws  # y's weights (1 - n, n), x's (1 - w, w)
            nw, ne, sw, se = vals
            g[1] = fma(fma(se - sw, n, (ne - nw) * s), go, g[1])
            g[0] = fma(fma(se - ne, w, (sw - nw) * e), go, g[0])
        elif plan.mode == "bilinear":  # GridSampler.cpp, unfused
            for v, (_, _, choice) in zip(vals, combos):
                for d in range(nd):
                    term = v
                    for other in range(nd - 1, -1, -1):  # x, y, z
                        if other != d:
                            term = term * ws[other][choice[other]]
                    term = term * go
                    g[d] = g[d] + term if choice[d] == 1 else g[d] - term
        else:
            for v, (_, _, (ky, kx)) in zip(vals, combos):
                vg = v * go
                g[1] = fma(-(vg * dws[1][kx]), ws[0][ky], g[1])
                g[0] = fma(-(vg * dws[0][ky]), ws[1][kx], g[0])
    if plan.mode == "bicubic":  # PyTorch's coefficient derivatives are d/d(tap - x)
        g = [-gi for gi in g]
    return g


class GridSample(Op):
    """y[n, c, p] = sum over taps k of w_k(grid[n, p]) x[n, c, idx_k(grid[n, p])]."""

    @staticmethod
    def forward(ctx, x, grid, mode="bilinear", padding_mode="zeros", align_corners=False):
        plan = _Plan(x.shape, grid, mode, padding_mode, align_corners)
        ctx.plan, ctx.x_shape = plan, x.shape
        ctx.torch_name = f"GridSampler{plan.nd}DBackward0"
        ctx.x, ctx.grid = x, grid
        return sample(x, plan)

    @staticmethod
    def backward(ctx, grad_output):
        plan, x = ctx.plan, ctx.x
        nd = plan.nd
        wants_x = getattr(ctx.inputs[0], "_requires_grad", False)
        wants_grid = getattr(ctx.inputs[1], "_requires_grad", False)
        gl = np.moveaxis(grad_output, 1, -1)  # (N, *out, C)
        ws = _weights(plan)
        flat_idx, flat_vals = [], []
        if wants_x:
            for idx, mask, choice in plan.combos():
                m = mask.astype(x.dtype)
                lin = plan.batch
                for size, i in zip(plan.spatial, idx):
                    lin = lin * size + i
                flat_idx.append(lin)
                if plan.mode == "bicubic":  # (g * c_x) * c_y as PyTorch rounds it
                    wy = ws[0][choice[0]] * m
                    flat_vals.append((gl * ws[1][choice[1]][..., None]) * wy[..., None])
                else:
                    flat_vals.append(gl * _combo_weight(ws, choice, m)[..., None])
        gx = None
        if wants_x:
            gx = _scatter_input(flat_idx, flat_vals, plan, ctx.x_shape, x.dtype)
        ggrid = None
        if wants_grid:
            ggrid = np.zeros(ctx.grid.shape, dtype=ctx.grid.dtype)
            if ws is not None:  # nearest: the output is piecewise constant in the grid
                gpos = _grid_grad(plan, np.moveaxis(x, 1, -1), gl, ws)
                for i, (_, _, dpos) in enumerate(plan.axes):
                    ggrid[..., nd - 1 - i] = gpos[i] * dpos
        return gx, ggrid

    @staticmethod
    def composite(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False):
        plan = _Plan(tuple(x.shape), grid._array, mode, padding_mode, align_corners)
        if plan.mode == "nearest":
            return sample(x, plan)
        nd = plan.nd
        fracs = []
        for i, (_, frac, dpos) in enumerate(plan.axes):
            # the fraction as a differentiable function of the grid: its value is the one
            # the forward used, its derivative d pos / d coord
            fracs.append(_Fraction.apply(grid, frac, dpos, nd - 1 - i))
        return sample(x, plan, fracs)


class _Fraction(Op):
    """The fractional position along one axis as a function of the grid (value computed
    by the forward pass; derivative dpos, constant between taps)."""

    saves_inputs = False

    @staticmethod
    def forward(ctx, grid, frac, dpos, component):
        ctx.dpos, ctx.component, ctx.shape = dpos, component, grid.shape
        return frac

    @staticmethod
    def backward(ctx, grad_output):
        g = np.zeros(ctx.shape, dtype=grad_output.dtype)
        g[..., ctx.component] = grad_output * ctx.dpos
        return g

    @staticmethod
    def backward_graph(ctx, g):
        return _Embed.apply(g * Tensor._make(ctx.dpos, None), ctx.shape, ctx.component)


class _Embed(Op):
    """Place one component's gradient into a zero grid-shaped tensor (linear)."""

    saves_inputs = False

    @staticmethod
    def forward(ctx, g, shape, component):
        ctx.component = component
        out = np.zeros(shape, dtype=g.dtype)
        out[..., component] = g
        return out

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output[..., ctx.component]

    @staticmethod
    def backward_graph(ctx, g):
        return g[..., ctx.component]


class AffineGrid(Op):
    """grid[n, ..., j] = sum_k base[n, ..., k] theta[n, j, k] (``base``: the output's
    normalised pixel centres, homogeneous, (N, *spatial, nd + 1)), summed term by term in
    k's order as PyTorch's small batched product rounds it;  d theta[n] = g[n]^T base[n]."""

    saves_inputs = False

    @staticmethod
    def forward(ctx, theta, base):
        ctx.base = base
        ctx.torch_name = "AffineGridGeneratorBackward0"
        n, k = base.shape[0], base.shape[-1]
        flat = base.reshape(n, -1, k)
        out = flat[..., 0:1] * theta[:, None, :, 0]
        for i in range(1, k):
            out = out + flat[..., i : i + 1] * theta[:, None, :, i]
        return out.reshape(base.shape[:-1] + (k - 1,))

    @staticmethod
    def backward(ctx, grad_output):
        n, k = ctx.base.shape[0], ctx.base.shape[-1]
        g = grad_output.reshape(n, -1, k - 1)
        return np.matmul(np.swapaxes(g, 1, 2), ctx.base.reshape(n, -1, k))

    backward_graph = staticmethod(linear_backward_graph)
