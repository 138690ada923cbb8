"""Ops of sequence models: embedding lookup, scaled dot-product attention, whole-sequence
recurrent layers (LSTM, GRU, Elman RNN) and the packing of padded sequences.

Each is one graph node with a closed-form backward, because the alternative — a node per
elementwise step of every time step — spends its time in per-node bookkeeping, not in
arithmetic. Attention is matrix products over the batch axes (no loops over positions);
the recurrent op loops over time steps, the one axis that cannot be batched.
"""

from __future__ import annotations

import numpy as np

from gradfit.autograd.function import Op, linear_backward_graph
from gradfit.ops.elementwise import Relu, Sigmoid, Tanh
from gradfit.ops.matmul import MatMul
from gradfit.ops.movement import Cat, Index, Permute, Reshape
from gradfit.ops.reduce import Softmax


def _swap(x: np.ndarray) -> np.ndarray:
    return np.swapaxes(x, -1, -2)


# --------------------------------------------------------------------------- embedding
class Embedding(Op):
    """out = weight[indices]: rows of the table gathered by integer indices.

    Backward: the gradient of a row is the sum of the output gradients of every position
    that picked it (``np.add.at``), divided by how often the index occurs when
    ``scale_grad_by_freq``; the ``padding_idx`` row gets none (PyTorch).
    """

    saves_inputs = False

    @staticmethod
    def forward(ctx, weight, indices, padding_idx=None, scale_grad_by_freq=False):
        ctx.shape, ctx.indices = weight.shape, indices
        ctx.padding_idx, ctx.scale = padding_idx, scale_grad_by_freq
        return weight[indices]

    @staticmethod
    def backward(ctx, grad_output):
        num, dim = ctx.shape
        flat = ctx.indices.reshape(-1)
        g = grad_output.reshape(-1, dim)
        gw = np.zeros(ctx.shape, dtype=grad_output.dtype)
        np.add.at(gw, flat, g)
        if ctx.scale:
            counts = np.bincount(flat, minlength=num).astype(gw.dtype)
            gw /= np.maximum(counts, 1)[:, None]
        if ctx.padding_idx is not None:
            gw[ctx.padding_idx] = 0
        return gw, None

    backward_graph = staticmethod(linear_backward_graph)


# --------------------------------------------------------------------------- attention
def _softmax_last(s: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, in place (``s`` is a fresh array of scores)."""
    s -= s.max(axis=-1, keepdims=True)
    np.exp(s, out=s)
    s /= s.sum(axis=-1, keepdims=True)
    return s


class ScaledDotProductAttention(Op):
    """o = dropout(softmax(q k^T * scale + bias)) v over the trailing two axes.

    ``bias`` (additive, -inf where a position may not attend; broadcast to (..., L, S))
    and ``keep`` (the dropout mask already scaled by 1 / (1 - p)) are constants. With
    P = softmax(.), P' = P * keep and g the output gradient:
        dv = P'^T g,  dP = (g v^T) * keep,  dS = P * (dP - sum(dP * P, -1)),
        dq = dS k * scale,  dk = dS^T q * scale.
    """

    @staticmethod
    def forward(ctx, q, k, v, bias=None, keep=None, scale=1.0):
        q = q * q.dtype.type(scale)  # scaling q costs L*E products, the scores L*S
        s = np.matmul(q, _swap(k))
        if bias is not None:
            s += bias
        p = _softmax_last(s)
        pd = p if keep is None else p * keep
        ctx.q, ctx.k, ctx.v, ctx.p, ctx.pd, ctx.keep, ctx.scale = q, k, v, p, pd, keep, scale
        return np.matmul(pd, v)

    @staticmethod
    def backward(ctx, grad_output):
        q, k, v, p, pd, keep = ctx.q, ctx.k, ctx.v, ctx.p, ctx.pd, ctx.keep
        g = grad_output
        inputs = ctx.inputs
        dv = np.matmul(_swap(pd), g) if inputs[2]._requires_grad else None
        if not (inputs[0]._requires_grad or inputs[1]._requires_grad):
            return None, None, dv
        dp = np.matmul(g, _swap(v))
        if keep is not None:
            dp *= keep
        ds = dp
        ds -= (dp * p).sum(axis=-1, keepdims=True)
        ds *= p
        scale = ds.dtype.type(ctx.scale)
        dq = np.matmul(ds, k) * scale if inputs[0]._requires_grad else None
        dk = np.matmul(_swap(ds), q) if inputs[1]._requires_grad else None  # q is scaled
        return dq, dk, dv

    @staticmethod
    def composite(q, k, v, bias=None, keep=None, scale=1.0):
        s = MatMul.apply(q * scale, k.transpose(-1, -2))
        if bias is not None:
            s = s + bias
        p = Softmax.apply(s, dim=-1)
        if keep is not None:
            p = p * keep
        return MatMul.apply(p, v)


# --------------------------------------------------------------------------- recurrent layers
_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


class RecurrentLayer(Op):
    """One direction of one recurrent layer over a whole padded sequence.

    Inputs: ``gi`` (T, N, G) the input projections W_ih x_t + b_ih of every step (one
    matrix product made before this op), ``w_hh`` (G, H_out), ``b_hh`` (G,) or None, the
    initial states ``h0`` (N, H_out) and ``c0`` (N, H) (LSTM; else None), and ``w_hr``
    (H_out, H) for an LSTM with projections. G is 4H (LSTM, gates i, f, g, o), 3H (GRU,
    r, z, n) or H (Elman RNN, tanh or relu), PyTorch's layouts and equations.

    ``batch_sizes`` (a packed sequence's) says how many sequences are still running at
    each step; they are sorted longest first, so the running ones are a prefix of the
    batch and a finished one keeps its last state.

    Output: one array (T + 2, N, H) for an LSTM, (T + 1, N, H) otherwise: rows 0..T-1 the
    outputs h_t (zero past a sequence's end; the first H_out features), row T the final
    h, row T + 1 the final c. Backward is backpropagation through time written out per
    gate; the weight gradients are one matrix product over all steps at the end.
    """

    @staticmethod
    def forward(ctx, gi, w_hh, b_hh, h0, c0, w_hr, mode="LSTM", reverse=False, batch_sizes=None):
        steps, batch, width = gi.shape
        dt = gi.dtype
        hidden = width // _GATES[mode]
        h_out = w_hh.shape[1]
        lstm = mode == "LSTM"
        out = np.zeros((steps + 1 + lstm, batch, hidden), dtype=dt)
        h = h0.copy()
        c = c0.copy() if lstm else None
        acts = np.zeros((steps, batch, width), dtype=dt)
        h_prev = np.zeros((steps, batch, h_out), dtype=dt)
        extra = np.zeros((steps, batch, hidden), dtype=dt) if lstm or mode == "GRU" else None
        extra2 = np.zeros((steps, batch, hidden), dtype=dt) if lstm else None
        m_all = np.zeros((steps, batch, hidden), dtype=dt) if w_hr is not None else None
        w_hh_t = np.ascontiguousarray(w_hh.T)  # the per-step gemm is faster on C order
        # sigma(x) = (1 + tanh(x / 2)) / 2: one tanh over all gates (g's block unscaled)
        # instead of a stable sigmoid's exp, compare and select per gate.
        scale = shift = None
        if lstm or mode == "GRU":
            n_sig = 2 * hidden if mode == "GRU" else width
            scale = np.full(n_sig, 0.5, dtype=dt)
            shift = np.full(n_sig, 0.5, dtype=dt)
            if lstm:
                scale[2 * hidden : 3 * hidden] = 1.0
                shift[2 * hidden : 3 * hidden] = 0.0
        order = range(steps - 1, -1, -1) if reverse else range(steps)
        for t in order:
            b = batch if batch_sizes is None else int(batch_sizes[t])
            hp = h[:b]
            h_prev[t, :b] = hp
            gh = hp.dot(w_hh_t)
            if b_hh is not None:
                gh += b_hh
            if lstm:
                gh += gi[t, :b]
                a = acts[t, :b]
                np.multiply(gh, scale, out=a)
                np.tanh(a, out=a)
                a *= scale
                a += shift
                i, f = a[:, :hidden], a[:, hidden : 2 * hidden]
                g, o = a[:, 2 * hidden : 3 * hidden], a[:, 3 * hidden :]
                extra[t, :b] = c[:b]  # c_{t-1}
                c_new = f * c[:b] + i * g
                tc = np.tanh(c_new)
                extra2[t, :b] = tc
                m = o * tc
                if w_hr is not None:
                    m_all[t, :b] = m
                    h_new = m.dot(w_hr.T)
                else:
                    h_new = m
                c[:b] = c_new
            elif mode == "GRU":
                two = 2 * hidden
                a = acts[t, :b]
                rz = a[:, :two]
                np.add(gi[t, :b, :two], gh[:, :two], out=rz)
                rz *= scale
                np.tanh(rz, out=rz)
                rz *= scale
                rz += shift
                r, z = a[:, :hidden], a[:, hidden:two]
                ghn = gh[:, two:]
                extra[t, :b] = ghn
                n = np.tanh(gi[t, :b, two:] + r * ghn)
                a[:, two:] = n
                h_new = n + z * (hp - n)
            else:
                pre = gi[t, :b] + gh
                h_new = np.tanh(pre) if mode == "RNN_TANH" else np.maximum(pre, 0)
                acts[t, :b] = h_new
            h[:b] = h_new
            out[t, :b, :h_out] = h_new
        out[steps, :, :h_out] = h
        if lstm:
            out[steps + 1] = c
        ctx.saved = (w_hh, w_hr, acts, h_prev, extra, extra2, m_all)
        ctx.mode, ctx.order, ctx.batch_sizes, ctx.hidden = mode, order, batch_sizes, hidden
        return out

    @staticmethod
    def backward(ctx, grad_output):
        w_hh, w_hr, acts, h_prev, extra, extra2, m_all = ctx.saved
        mode, hidden, bs = ctx.mode, ctx.hidden, ctx.batch_sizes
        steps, batch, width = acts.shape
        h_out = w_hh.shape[1]
        lstm = mode == "LSTM"
        gy = grad_output
        dh = gy[steps, :, :h_out].copy()
        dc = gy[steps + 1].copy() if lstm else None
        dgi = np.zeros_like(acts)
        dgh = np.zeros_like(acts) if mode == "GRU" else dgi
        dproj = np.zeros((steps, batch, h_out), dtype=acts.dtype) if w_hr is not None else None
        for t in reversed(ctx.order):
            b = batch if bs is None else int(bs[t])
            dht = dh[:b] + gy[t, :b, :h_out]
            a = acts[t, :b]
            if lstm:
                if w_hr is not None:
                    dproj[t, :b] = dht
                    dm = dht.dot(w_hr)
                else:
                    dm = dht
                i, f = a[:, :hidden], a[:, hidden : 2 * hidden]
                g, o = a[:, 2 * hidden : 3 * hidden], a[:, 3 * hidden :]
                tc = extra2[t, :b]
                dct = dc[:b] + dm * o * (1 - tc * tc)
                d = dgi[t, :b]
                d[:, :hidden] = dct * g * i * (1 - i)
                d[:, hidden : 2 * hidden] = dct * extra[t, :b] * f * (1 - f)
                d[:, 2 * hidden : 3 * hidden] = dct * i * (1 - g * g)
                d[:, 3 * hidden :] = dm * tc * o * (1 - o)
                dc[:b] = dct * f
                dh[:b] = d.dot(w_hh)
            elif mode == "GRU":
                two = 2 * hidden
                r, z, n = a[:, :hidden], a[:, hidden:two], a[:, two:]
                dn = dht * (1 - z) * (1 - n * n)
                dr = dn * extra[t, :b] * r * (1 - r)
                dz = dht * (h_prev[t, :b] - n) * z * (1 - z)
                di, dhh = dgi[t, :b], dgh[t, :b]
                di[:, :hidden] = dr
                di[:, hidden:two] = dz
                di[:, two:] = dn
                dhh[:, :two] = di[:, :two]
                dhh[:, two:] = dn * r
                dh[:b] = dht * z + dhh.dot(w_hh)
            else:
                hcur = a
                d = dgi[t, :b]
                d[...] = dht * (1 - hcur * hcur) if mode == "RNN_TANH" else dht * (hcur > 0)
                dh[:b] = d.dot(w_hh)
        inputs = ctx.inputs
        flat = dgh.reshape(-1, width)
        dw_hh = flat.T.dot(h_prev.reshape(-1, h_out)) if inputs[1]._requires_grad else None
        db_hh = flat.sum(axis=0) if inputs[2] is not None and inputs[2]._requires_grad else None
        dw_hr = None
        if w_hr is not None and inputs[5]._requires_grad:
            dw_hr = dproj.reshape(-1, h_out).T.dot(m_all.reshape(-1, hidden))
        return dgi, dw_hh, db_hh, dh, dc, dw_hr

    @staticmethod
    def composite(gi, w_hh, b_hh, h0, c0, w_hr, mode="LSTM", reverse=False, batch_sizes=None):
        """The same recurrence step by step in differentiable gradfit ops (for
        create_graph=True): PyTorch's gate equations, the output laid out as ``forward``'s."""
        steps, batch, width = gi.shape
        hidden = width // _GATES[mode]
        dt = gi._array.dtype
        h, c = h0, c0
        rows = [None] * steps
        order = range(steps - 1, -1, -1) if reverse else range(steps)
        for t in order:
            b = batch if batch_sizes is None else int(batch_sizes[t])
            hp = h if b == batch else Index.apply(h, index=slice(0, b))
            gh = MatMul.apply(hp, Permute.apply(w_hh, dims=(1, 0)))
            if b_hh is not None:
                gh = gh + b_hh
            x = Index.apply(gi, index=(t, slice(0, b)))
            if mode == "LSTM":
                pre = x + gh
                gate = [
                    Index.apply(pre, index=(slice(None), slice(k * hidden, (k + 1) * hidden)))
                    for k in range(4)
                ]
                i, f, o = Sigmoid.apply(gate[0]), Sigmoid.apply(gate[1]), Sigmoid.apply(gate[3])
                cp = c if b == batch else Index.apply(c, index=slice(0, b))
                c_new = f * cp + i * Tanh.apply(gate[2])
                m = o * Tanh.apply(c_new)
                h_new = m if w_hr is None else MatMul.apply(m, Permute.apply(w_hr, dims=(1, 0)))
                c = _keep_rest(c_new, c, b, batch)
            elif mode == "GRU":
                cols = [slice(k * hidden, (k + 1) * hidden) for k in range(3)]

                def part(a, k, cols=cols):
                    return Index.apply(a, index=(slice(None), cols[k]))

                r = Sigmoid.apply(part(x, 0) + part(gh, 0))
                z = Sigmoid.apply(part(x, 1) + part(gh, 1))
                n = Tanh.apply(part(x, 2) + r * part(gh, 2))
                h_new = n + z * (hp - n)
            else:
                pre = x + gh
                h_new = Tanh.apply(pre) if mode == "RNN_TANH" else Relu.apply(pre)
            h = _keep_rest(h_new, h, b, batch)
            rows[t] = _pad_row(h_new, batch, hidden, dt)
        rows.append(_pad_row(h, batch, hidden, dt))
        if mode == "LSTM":
            rows.append(c)
        return Cat.apply(*[Reshape.apply(r, shape=(1, batch, hidden)) for r in rows], dim=0)


def _keep_rest(new, old, b: int, batch: int):
    """The state after a step where only the first ``b`` sequences run."""
    if b == batch:
        return new
    return Cat.apply(new, Index.apply(old, index=slice(b, batch)), dim=0)


def _pad_row(h, batch: int, hidden: int, dt):
    """One output row (batch, hidden): ``h`` in the first rows and columns, zeros elsewhere."""
    rows, cols = h.shape
    if cols < hidden:
        h = Cat.apply(h, np.zeros((rows, hidden - cols), dt), dim=1)
    if rows < batch:
        h = Cat.apply(h, np.zeros((batch - rows, hidden), dt), dim=0)
    return h


# --------------------------------------------------------------------------- packing
class MaskedRows(Op):
    """``a[mask]`` for a boolean mask over the leading axes (a padded batch to a packed
    sequence's data, time-major); backward scatters the gradient back (no repeats)."""

    saves_inputs = False

    @staticmethod
    def forward(ctx, a, mask=None):
        ctx.shape, ctx.mask = a.shape, mask
        return a[mask]

    @staticmethod
    def backward(ctx, grad_output):
        out = np.zeros(ctx.shape, dtype=grad_output.dtype)
        out[ctx.mask] = grad_output
        return out

    backward_graph = staticmethod(linear_backward_graph)


class ScatterRows(Op):
    """The inverse of ``MaskedRows``: rows into the True places of ``mask``, zeros (or
    ``fill``) elsewhere; backward gathers ``g[mask]``."""

    saves_inputs = False

    @staticmethod
    def forward(ctx, data, mask=None, fill=0.0):
        out = np.full(mask.shape + data.shape[1:], fill, dtype=data.dtype)
        out[mask] = data
        ctx.mask = mask
        return out

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output[ctx.mask]

    backward_graph = staticmethod(linear_backward_graph)
