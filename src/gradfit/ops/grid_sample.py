"""Grid sampling (``torch.nn.functional.grid_sample``) for 2-D and 3-D inputs.

Each output location reads the input at a real-valued position given by the grid. Along
every spatial axis the position becomes a few integer taps with 1-D weights (nearest: one
tap of weight 1; bilinear: two, ``1 - t`` and ``t``; bicubic: four, Keys' cubic
convolution with A = -0.75), and a sample is the sum over the tensor product of the taps
of the weights times the gathered input values, taps outside the input counting as 0.
The coordinate arithmetic follows ATen's ``GridSampler.h`` formula by formula (unnormalize,
clip, reflect), in the input's dtype, so the same taps are chosen as in PyTorch.

Forward: one channels-last gather per tap combination (4 for bilinear 2-D, 8 trilinear,
16 bicubic). Backward: the input's gradient is one ``np.bincount`` over every tap's flat
index; the grid's gradient is the sum over taps of the gathered values times the
derivative of the tap weight, times the coordinate's derivative (0 where a clip is
active, -1 where a reflection flips, PyTorch's ``*_set_grad`` rules). The same sampler is
written in differentiable gradfit operations (``composite``) for create_graph=True.
"""

from __future__ import annotations

import itertools

import numpy as np

from gradfit.autograd.function import Op, Tensor

_A = -0.75  # the cubic convolution's parameter in PyTorch (and OpenCV)

MODES = ("bilinear", "nearest", "bicubic")
PADDINGS = ("zeros", "border", "reflection")


# ------------------------------------------------------------------ coordinates (GridSampler.h)
def _unnormalize(coord: np.ndarray, size: int, align_corners: bool, nd: int = 3):
    """[-1, 1] to pixel positions: corner pixels' centres (align_corners) or their outer
    edges; returns the position and d position / d coord. 2-D inputs use the rounding of
    ATen's vectorized kernel (GridSamplerKernel.cpp), 3-D ones GridSampler.h's."""
    if nd == 2:
        dt = coord.dtype.type
        if align_corners:
            scale = dt(size - 1) / dt(2)
            return (coord + dt(1)) * scale, scale
        scale = dt(size) / dt(2)
        return (coord + dt(1)) * scale - dt(0.5), scale
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


def _cc1(x):
    return ((_A + 2) * x - (_A + 3)) * x * x + 1


def _cc2(x):
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
    derivative of the position; and the batch index for gathering."""

    def __init__(self, x_shape, grid: np.ndarray, mode, padding, align_corners):
        nd = len(x_shape) - 2
        self.nd, self.mode = nd, mode
        self.spatial = tuple(x_shape[2:])
        self.axes = []
        for i, size in enumerate(self.spatial):
            coord = grid[..., nd - 1 - i]  # the grid lists x (width) first
            pos, dpos = source_index(coord, size, padding, align_corners, mode, nd)
            taps, frac = axis_taps(pos, size, mode, padding, align_corners)
            self.axes.append((taps, frac, dpos))
        n = grid.shape[0]
        self.batch = np.arange(n).reshape((n,) + (1,) * nd)

    def combos(self):
        """(indices per axis, mask, which tap per axis) for every tap combination."""
        for choice in itertools.product(*(range(len(a[0])) for a in self.axes)):
            idx = [self.axes[d][0][k][0] for d, k in enumerate(choice)]
            mask = self.axes[0][0][choice[0]][1]
            for d in range(1, self.nd):
                mask = mask & self.axes[d][0][choice[d]][1]
            yield idx, mask, choice


def _weights(plan: _Plan, fracs=None):
    """Per axis the list of tap weights; ``fracs`` replaces the plan's fractions (the
    composite passes them as Tensors)."""
    if plan.mode == "nearest":
        return None
    if fracs is None:
        fracs = [frac for _, frac, _ in plan.axes]
    return [tap_weights(plan.mode, f) for f in fracs]


def _channels_last(x):
    nd = x.ndim - 2
    return (
        np.moveaxis(x, 1, -1) if isinstance(x, np.ndarray) else x.permute(0, *range(2, 2 + nd), 1)
    )


def _channels_first(y, nd):
    if isinstance(y, np.ndarray):
        return np.ascontiguousarray(np.moveaxis(y, -1, 1))
    return y.permute(0, nd + 1, *range(1, nd + 1))


def sample(x, plan: _Plan, fracs=None):
    """The grid sample of ``x`` (an array, or a Tensor for the composite)."""
    xl = _channels_last(x)
    ws = _weights(plan, fracs)
    out = None
    for idx, mask, choice in plan.combos():
        vals = xl[(plan.batch, *idx)]
        w = _combo_weight(ws, choice, mask.astype(_dtype(x)))
        term = vals * w[..., None]
        out = term if out is None else out + term
    return _channels_first(out, plan.nd)


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


def _scatter_input(flat_idx, flat_vals, plan, x_shape, dtype):
    """The input's gradient: every tap's contribution added at its pixel. float32 sums
    in float32 in the order of PyTorch's scalar loop (output position, then tap: x outer
    for bicubic), close to its rounding (its compiled kernel fuses some products into
    FMAs, which NumPy cannot reproduce); float64 sums with one bincount."""
    c = x_shape[1]
    lin = np.stack(flat_idx, axis=-1)[..., None] * c + np.arange(c)  # (N, *out, K, C)
    vals = np.stack(flat_vals, axis=-2)
    if plan.mode == "bicubic":  # combos run y outer; PyTorch's loop runs x outer
        order = [ky * 4 + kx for kx in range(4) for ky in range(4)]
        lin, vals = lin[..., order, :], vals[..., order, :]
    total = int(np.prod(x_shape))
    if dtype == np.float64:
        flat = np.bincount(lin.ravel(), vals.ravel(), minlength=total)
    else:
        flat = np.zeros(total, dtype=dtype)
        np.add.at(flat, lin.ravel(), vals.ravel())
    return _channels_first(
        flat.astype(dtype, copy=False).reshape(x_shape[0], *plan.spatial, c), plan.nd
    )


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
        dws = None if ws is None else [_tap_derivatives(plan.mode, f) for _, f, _ in plan.axes]
        xl = np.moveaxis(x, 1, -1) if wants_grid and ws is not None else None
        flat_idx, flat_vals = [], []
        gpos = (
            [np.zeros(gl.shape[:-1], dtype=x.dtype) for _ in range(nd)] if xl is not None else None
        )
        for idx, mask, choice in plan.combos():
            m = mask.astype(x.dtype)
            if wants_x:
                lin = plan.batch
                for size, i in zip(plan.spatial, idx):
                    lin = lin * size + i
                flat_idx.append(lin)
                if plan.mode == "bicubic":  # (g * c_x) * c_y as PyTorch rounds it
                    wy = ws[0][choice[0]] * m
                    flat_vals.append((gl * ws[1][choice[1]][..., None]) * wy[..., None])
                else:
                    flat_vals.append(gl * _combo_weight(ws, choice, m)[..., None])
            if gpos is not None:
                dot = np.einsum("...c,...c->...", gl, xl[(plan.batch, *idx)]) * m
                for d in range(nd):
                    term = dot * dws[d][choice[d]]
                    for e, k in enumerate(choice):
                        if e != d:
                            term = term * ws[e][k]
                    gpos[d] += term
        gx = None
        if wants_x:
            gx = _scatter_input(flat_idx, flat_vals, plan, ctx.x_shape, x.dtype)
        ggrid = None
        if wants_grid:
            ggrid = np.zeros(ctx.grid.shape, dtype=ctx.grid.dtype)
            if gpos is not None:
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
