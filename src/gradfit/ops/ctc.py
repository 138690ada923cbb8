"""Connectionist Temporal Classification loss (Graves et al. 2006), as ATen's CPU kernel
(aten/src/ATen/native/LossCTC.cpp) computes it.

Each target l (length L) is extended with blanks, l' = (blank, l_1, blank, ..., l_L,
blank) of length S = 2L + 1. The forward variables (log space)

    alpha_t(s) = logsumexp(alpha_{t-1}(s), alpha_{t-1}(s-1), alpha_{t-1}(s-2) [if
                 l'_s != l'_{s-2}]) + log y_t(l'_s)

start from alpha_0(0) = log y_0(blank), alpha_0(1) = log y_0(l_1); the loss is
-logsumexp(alpha_{T-1}(S-1), alpha_{T-1}(S-2)). The backward variables beta run the same
recursion from the end, and PyTorch's gradient with respect to the log-probabilities is

    d loss / d log y_t(c) = y_t(c) - exp(logsumexp_{s: l'_s = c}(alpha_t(s) + beta_t(s))
                                        + loss - log y_t(c)),

the gradient through a log_softmax that produced the inputs (the extra y_t(c) vanishes
after it), which is what every CTC program feeds in. The recursions loop over time only;
each step is vectorized over the batch and the label positions.
"""

from __future__ import annotations

import numpy as np

from gradfit.autograd.function import Op, Tensor
from gradfit.ops.movement import Cat

_new = object.__new__

_NEG = -np.inf


def _exp(a):
    """exp rounded once to a's dtype: float32 through float64, as the C library's
    (correctly rounded) expf that ATen's loops call."""
    if a.dtype == np.float32:
        return np.exp(a.astype(np.float64)).astype(np.float32)
    return np.exp(a)


def _log(a):
    if a.dtype == np.float32:
        return np.log(a.astype(np.float64)).astype(np.float32)
    return np.log(a)


def _logsumexp3(a1, a2, a3):
    """log(e^a1 + e^a2 + e^a3) with ATen's guard: the max is taken as 0 when all are
    -inf (no -inf - -inf)."""
    m = np.maximum(np.maximum(a1, a2), a3)
    m = np.where(m == _NEG, 0, m)
    with np.errstate(divide="ignore"):
        return _log(_exp(a1 - m) + _exp(a2 - m) + _exp(a3 - m)) + m


def _shift(a, k, fill=_NEG):
    """a[:, s - k] (k > 0) or a[:, s + |k|] (k < 0), ``fill`` where out of range."""
    out = np.full_like(a, fill)
    if k > 0:
        out[:, k:] = a[:, :-k]
    else:
        out[:, :k] = a[:, -k:]
    return out


class _Extended:
    """The blank-extended targets and what the recursions need of them."""

    def __init__(self, targets, target_lengths, blank, n_labels):
        b, lmax = targets.shape
        s = 2 * lmax + 1
        ext = np.full((b, s), blank, dtype=np.int64)
        ext[:, 1::2] = targets
        pos = np.arange(s)
        self.valid = pos[None, :] < (2 * target_lengths[:, None] + 1)
        # read padding as blanks (never used: those positions stay -inf)
        self.ext = np.where(self.valid, ext, blank).clip(0, n_labels - 1)
        self.skip = np.zeros((b, s), dtype=bool)  # alpha_t(s) may come from s - 2
        self.skip[:, 2:] = self.ext[:, 2:] != self.ext[:, :-2]
        self.skip &= self.valid
        self.lengths = target_lengths
        self.s = s


def ctc_alpha(lpe, ext: _Extended, input_lengths):
    """alpha (T, B, S) from the log-probabilities of the extended labels lpe (T, B, S)."""
    t_max, b, s = lpe.shape
    alpha = np.full((t_max, b, s), _NEG, dtype=lpe.dtype)
    if t_max == 0:
        return alpha
    alpha[0, :, 0] = lpe[0, :, 0]
    if s > 1:
        alpha[0, :, 1] = np.where(ext.lengths > 0, lpe[0, :, 1], _NEG)
    skip = ext.skip
    for t in range(1, t_max):
        prev = alpha[t - 1]
        a3 = np.where(skip, _shift(prev, 2), _NEG)
        new = _logsumexp3(prev, _shift(prev, 1), a3) + lpe[t]
        alpha[t] = np.where(ext.valid & (t < input_lengths)[:, None], new, _NEG)
    return alpha


def ctc_nll(alpha, ext: _Extended, input_lengths):
    """-log p(l | x) per batch element from the last valid alpha row."""
    b = alpha.shape[1]
    rows = np.arange(b)
    last = alpha[np.maximum(input_lengths - 1, 0), rows]  # (B, S)
    two_l = 2 * ext.lengths
    l1 = last[rows, two_l]
    l2 = np.where(ext.lengths > 0, last[rows, np.maximum(two_l - 1, 0)], _NEG)
    m = np.maximum(l1, l2)
    m = np.where(m == _NEG, 0, m)
    with np.errstate(divide="ignore"):
        ll = _log(_exp(l1 - m) + _exp(l2 - m)) + m
    ll = np.where(ext.lengths > 0, ll, l1)  # an empty target has one final state
    # no input: the empty target has probability 1 (PyTorch gives -0.0), others 0
    empty = np.where(ext.lengths == 0, -0.0, np.inf)
    return np.where(input_lengths > 0, -ll, empty).astype(alpha.dtype)


def ctc_beta(lpe, ext: _Extended, input_lengths):
    t_max, b, s = lpe.shape
    beta = np.full((t_max, b, s), _NEG, dtype=lpe.dtype)
    rows = np.arange(b)
    two_l = 2 * ext.lengths
    init = np.full((b, s), _NEG, dtype=lpe.dtype)
    skip_next = np.zeros((b, s), dtype=bool)  # beta_t(s) may come from s + 2
    skip_next[:, :-2] = ext.skip[:, 2:]
    for t in range(t_max - 1, -1, -1):
        last = t == input_lengths - 1
        init[:] = _NEG
        init[rows, two_l] = lpe[t, rows, two_l]
        one_before = np.maximum(two_l - 1, 0)
        init[rows, one_before] = np.where(
            ext.lengths > 0, lpe[t, rows, one_before], init[rows, one_before]
        )
        row = init
        if t + 1 < t_max:
            nxt = beta[t + 1]
            b3 = np.where(skip_next, _shift(nxt, -2), _NEG)
            rec = np.where(ext.valid, _logsumexp3(nxt, _shift(nxt, -1), b3) + lpe[t], _NEG)
            row = np.where(
                last[:, None], init, np.where((t < input_lengths - 1)[:, None], rec, _NEG)
            )
        else:
            row = np.where(last[:, None], init, _NEG)
        beta[t] = row
    return beta


def _class_logsumexp(lab, ext: _Extended, n_labels):
    """For every (t, b, c): logsumexp of lab (T, B, S) over the positions s with
    l'_s = c (-inf where there are none)."""
    t_max, b, s = lab.shape
    idx = ((np.arange(t_max)[:, None, None] * b + np.arange(b)[None, :, None]) * n_labels
           + ext.ext[None]).ravel()  # fmt: skip
    vals = lab.ravel()
    size = t_max * b * n_labels
    m = np.full(size, _NEG, dtype=np.float64)
    np.maximum.at(m, idx, vals)
    shift = np.where(m == _NEG, 0, m)
    with np.errstate(divide="ignore", invalid="ignore"):
        total = np.bincount(idx, np.exp(vals - shift[idx]), minlength=size)
        out = np.log(total) + shift
    return out.reshape(t_max, b, n_labels).astype(lab.dtype)


class CTCLoss(Op):
    """nll[b] = -log p(targets[b] | log_probs[:, b]) (log_probs (T, B, C), targets padded
    (B, L_max)); backward as ATen's ``ctc_loss_backward_cpu``."""

    @staticmethod
    def forward(
        ctx, log_probs, targets, input_lengths, target_lengths, blank=0, zero_infinity=False
    ):
        ctx.torch_name = "CtcLossBackward0"
        lp = log_probs
        c = lp.shape[2]
        ext = _Extended(targets, target_lengths, blank, c)
        lpe = lp[:, np.arange(lp.shape[1])[:, None], ext.ext]  # (T, B, S)
        alpha = ctc_alpha(lpe, ext, input_lengths)
        nll = ctc_nll(alpha, ext, input_lengths)
        ctx.saved = (lp, lpe, ext, alpha, nll, input_lengths, zero_infinity)
        return nll

    @staticmethod
    def backward(ctx, grad_output):
        lp, lpe, ext, alpha, nll, input_lengths, zero_infinity = ctx.saved
        beta = ctc_beta(lpe, ext, input_lengths)
        res = _class_logsumexp(alpha + beta, ext, lp.shape[2])
        with np.errstate(over="ignore", invalid="ignore"):
            grad = (_exp(lp) - _exp(res + nll[None, :, None] - lp)) * grad_output[None, :, None]
        used = np.arange(lp.shape[0])[:, None] < input_lengths[None, :]  # (T, B)
        keep = used
        if zero_infinity:
            keep = keep & (nll != np.inf)[None, :]
        grad = np.where(keep[..., None], grad, 0).astype(lp.dtype, copy=False)
        return grad, None, None, None


_SENTINEL = -1e30  # the composite's -inf: finite, so that 0 * it stays 0 in derivatives


def _const(a):
    return Tensor._make(np.asarray(a), None)


def _lse(terms, dtype):
    """logsumexp of Tensors, shifted by their (constant) maximum."""
    m = terms[0]._array
    for t in terms[1:]:
        m = np.maximum(m, t._array)
    m = _const(m.astype(dtype))
    total = (terms[0] - m).exp()
    for t in terms[1:]:
        total = total + (t - m).exp()
    return total.log() + m


def _masked(a, mask, dtype):
    """a where mask, the sentinel elsewhere (both as Tensor arithmetic)."""
    keep = _const(mask.astype(dtype))
    return a * keep + _const(((1 - mask) * _SENTINEL).astype(dtype))


def ctc_composite(log_probs, targets, input_lengths, target_lengths, blank=0, zero_infinity=False):
    """``CTCLoss`` in differentiable gradfit operations (the derivative of its backward for
    create_graph=True): the alpha recursion on Tensors, -inf replaced by a large negative
    number, plus sum exp(log_probs) - its detached value, which gives the y_t(c) term of
    PyTorch's gradient."""
    lp = log_probs
    dtype = lp._array.dtype
    t_max, b, c = lp.shape
    ext = _Extended(targets, target_lengths, blank, c)
    rows = np.arange(b)
    lpe = lp[:, rows[:, None], ext.ext]  # (T, B, S)
    s = ext.s
    pos = np.arange(s)[None, :]
    first = (pos == 0) | ((pos == 1) & (target_lengths[:, None] > 0))
    alpha = _masked(lpe[0], first, dtype)
    for t in range(1, t_max):
        neg1 = _const(np.full((b, 1), _SENTINEL, dtype=dtype))
        a2 = cat_cols(neg1, alpha, 1)
        a3 = _masked(cat_cols(neg1, alpha, 2), ext.skip, dtype)
        new = _masked(_lse([alpha, a2, a3], dtype) + lpe[t], ext.valid, dtype)
        live = _const((t < input_lengths)[:, None].astype(dtype))
        alpha = new * live + alpha * (1 - live)
    two_l = 2 * target_lengths
    l1 = alpha[rows, two_l]
    l2 = _masked(alpha[rows, np.maximum(two_l - 1, 0)], target_lengths > 0, dtype)
    ll = _lse([l1, l2], dtype)
    ll = ll * _const((target_lengths > 0).astype(dtype)) + l1 * _const(
        (target_lengths == 0).astype(dtype)
    )
    used = (np.arange(t_max)[:, None] < input_lengths[None, :]).astype(dtype)  # (T, B)
    y = (lp.exp() * _const(used[..., None])).sum(dim=(0, 2))
    out = -ll * _const((input_lengths > 0).astype(dtype)) + (y - _const(y._array))
    if zero_infinity:
        nll = CTCLoss.forward(
            _new(CTCLoss), lp._array, targets, input_lengths, target_lengths, blank
        )
        out = out * _const((nll != np.inf).astype(dtype))
    return out


def cat_cols(fill, a, k):
    """[fill] * k columns, then a's columns but its last k (a shifted right by k)."""
    return Cat.apply(*([fill] * k), a[:, : a.shape[1] - k], dim=1)


CTCLoss.composite = staticmethod(ctc_composite)
