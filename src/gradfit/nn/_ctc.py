"""``ctc_loss`` with PyTorch's argument handling (torch/nn/functional.py and ATen's
LossCTC.cpp): targets padded (N, S) or concatenated (sum of target lengths), lengths as
tensors or sequences of ints, unbatched (T, C) inputs, blank, reductions (mean divides each
loss by its target length first) and zero_infinity."""

from __future__ import annotations

import numpy as np

from gradfit._arrays import unwrap, wrap
from gradfit._typenames import NAMES
from gradfit.ops.ctc import CTCLoss
from gradfit.tensor import Tensor

__all__ = ["ctc_loss"]

_WHERE = " (while checking arguments for ctc_loss_allocate_outputs)"


def _lengths(x, name: str) -> np.ndarray:
    """The lengths as int64."""
    if isinstance(x, Tensor):
        a = unwrap(x)
        if a.dtype.kind not in "iu":
            raise RuntimeError(f"{name} must be integral")
        return a.astype(np.int64).reshape(-1)
    if isinstance(x, (int, np.integer)):
        raise TypeError(f"ctc_loss(): argument '{name}' must be tuple of ints or Tensor, not int")
    return np.asarray(list(x), dtype=np.int64).reshape(-1)


def _padded_targets(tg: np.ndarray, target_lengths: np.ndarray, batch: int) -> np.ndarray:
    """Targets as (N, L_max), checked as ATen checks them."""
    for v in target_lengths:
        if v < 0:
            raise RuntimeError(
                f"Expected target_lengths to have value at least 0, but got value {v}" + _WHERE
            )
    lmax = int(target_lengths.max(initial=0))
    if tg.ndim == 1:  # concatenated
        total = int(target_lengths.sum())
        if tg.shape[0] != total:
            raise RuntimeError(
                f"Expected tensor to have size {total} at dimension 0, but got size "
                f"{tg.shape[0]} for argument #2 'targets'" + _WHERE
            )
        out = np.zeros((batch, lmax), dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(target_lengths)[:-1]])
        cols = np.arange(lmax)
        inside = cols[None, :] < target_lengths[:, None]
        src = np.where(inside, starts[:, None] + cols[None, :], 0)
        out[inside] = tg[src[inside]]
        return out
    if tg.shape[0] != batch:
        raise RuntimeError(
            f"Expected tensor to have size {batch} at dimension 0, but got size "
            f"{tg.shape[0]} for argument #2 'targets'" + _WHERE
        )
    if tg.shape[1] < lmax:
        raise RuntimeError(
            f"Expected tensor to have size at least {lmax} at dimension 1, but got size "
            f"{tg.shape[1]} for argument #2 'targets'" + _WHERE
        )
    return tg[:, :lmax].astype(np.int64)


def ctc_loss(
    log_probs: Tensor,
    targets: Tensor,
    input_lengths,
    target_lengths,
    blank: int = 0,
    reduction: str = "mean",
    zero_infinity: bool = False,
) -> Tensor:
    """The CTC loss of ``log_probs`` (T, N, C) or (T, C), log-softmax outputs, against
    ``targets`` (N, S) padded or (sum(target_lengths),) concatenated, as
    ``torch.nn.functional.ctc_loss``. ``reduction='mean'`` divides each loss by its target
    length (at least 1) and averages over the batch; ``zero_infinity`` replaces infinite
    losses (targets too long for the input) and their gradients by 0."""
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if isinstance(input_lengths, Tensor) != isinstance(target_lengths, Tensor):
        raise TypeError(
            "ctc_loss(): input_lengths and target_lengths must both be Tensors or both "
            f"tuples of ints, got {type(input_lengths).__name__} and "
            f"{type(target_lengths).__name__}"
        )
    lp = unwrap(log_probs)
    in_len = _lengths(input_lengths, "input_lengths")
    tg_len = _lengths(target_lengths, "target_lengths")
    unbatched = lp.ndim == 2
    tg = unwrap(targets)
    if unbatched:
        log_probs = log_probs.unsqueeze(1)
        lp = unwrap(log_probs)
        tg = tg.reshape(1, -1)
    if lp.ndim != 3:
        raise RuntimeError(
            f"Expected 3-dimensional tensor, but got {lp.ndim}-dimensional tensor for "
            "argument #1 'log_probs'" + _WHERE
        )
    if lp.dtype.kind != "f":
        name = NAMES.get(lp.dtype, str(lp.dtype)).removesuffix("Tensor")
        raise NotImplementedError(f"\"ctc_loss_cpu\" not implemented for '{name}'")
    t_max, batch, n_labels = lp.shape
    if len(in_len) != batch:
        raise RuntimeError("input_lengths must be of size batch_size")
    if len(tg_len) != batch:
        raise RuntimeError("target_lengths must be of size batch_size")
    if not 0 <= blank < n_labels:
        raise RuntimeError("blank must be in label range")
    padded = _padded_targets(np.asarray(tg).astype(np.int64), tg_len, batch)
    for v in in_len:
        if v < 0:
            raise RuntimeError(
                f"Expected input_lengths to have value at least 0, but got value {v}" + _WHERE
            )
        if v > t_max:
            raise RuntimeError(
                f"Expected input_lengths to have value at most {t_max}, but got value {v}" + _WHERE
            )
    # only the first target_lengths[b] labels are read: padding may hold anything (-1, ...)
    used = padded[np.arange(padded.shape[1])[None, :] < tg_len[:, None]]
    if used.size and (used.min() < 0 or used.max() >= n_labels):
        bad = used.min() if used.min() < 0 else used.max()
        raise IndexError(f"ctc_loss: target {bad} is out of range for {n_labels} classes")
    loss = CTCLoss.apply(
        log_probs, padded, in_len, tg_len, blank=int(blank), zero_infinity=bool(zero_infinity)
    )
    if zero_infinity:
        inf = unwrap(loss) == np.inf
        if inf.any():
            loss = loss.masked_fill(wrap(inf), 0.0)
    if reduction == "mean":
        divisor = wrap(np.maximum(tg_len, 1).astype(lp.dtype))
        return (loss / divisor).mean()
    if reduction == "sum":
        return loss.sum()
    return loss.squeeze(0) if unbatched else loss
