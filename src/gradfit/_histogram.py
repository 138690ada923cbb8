"""``torch.histogram``: counts (or weights, or a density) of a tensor's values over bins,
returned with the bin edges, as PyTorch's CPU kernel assigns them.

With ``bins`` a count, the edges are ``torch.linspace(min, max, bins + 1)`` in the input's
dtype and a value's bin is found by division in that dtype, then corrected against the
neighbouring edges (PyTorch's "linear interpolation with local search", so that the counts
agree with the edges it returns); with ``bins`` a tensor of edges, by binary search. The last
bin includes its right edge; values outside [first edge, last edge] and NaN are skipped."""

from __future__ import annotations

import numpy as np

from gradfit import _typenames, return_types
from gradfit._arrays import unwrap, wrap
from gradfit._factories import _linspace_values


def _outer_edges(a: np.ndarray, range):  # noqa: A002 - PyTorch's name
    if range is not None:
        lo, hi = float(range[0]), float(range[1])
    elif a.size:
        lo, hi = float(a.min()), float(a.max())
    else:
        lo, hi = 0.0, 1.0  # numpy.histogram's default for empty input
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise RuntimeError(f"torch.histogram: range of [{lo}, {hi}] is not finite")
    if lo > hi:
        raise RuntimeError(f"torch.histogram: min should not exceed max, but got min {lo} max {hi}")
    if lo == hi:  # as numpy: widen an empty range (and avoid dividing by 0 for density)
        lo, hi = lo - 0.5, hi + 0.5
    return lo, hi


def histogram(input, bins=100, *, range=None, weight=None, density: bool = False, out=None):  # noqa: A002
    """``(hist, bin_edges)`` of ``input``'s values (flattened); ``weight`` (same shape) adds
    its entry instead of 1; ``density`` divides by the total and by each bin's width."""
    a = unwrap(input)
    if a.dtype.kind != "f":
        raise NotImplementedError(
            f"\"histogramdd\" not implemented for '{_typenames.scalar_type(a.dtype)}'"
        )
    x = a.reshape(-1)
    if isinstance(bins, int):
        if bins <= 0:
            raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins}")
        lo, hi = _outer_edges(a, range)
        edges = _linspace_values(lo, hi, bins + 1, a.dtype)
    else:
        edges = np.ascontiguousarray(unwrap(bins))
        if edges.ndim != 1 or edges.size < 1:
            raise RuntimeError(
                f"torch.histogram(): bins tensor should have one dimension, but got {edges.ndim}"
            )
        if edges.dtype != a.dtype:
            raise RuntimeError(
                "torch.histogram: input tensor and bins tensors should have the same dtype, "
                f"but got input {input.dtype} and bins {bins.dtype}"
            )
    n_edges = edges.size
    left, right = edges[0], edges[-1]
    keep = (x >= left) & (x <= right)  # False for NaN
    v = x[keep]
    if isinstance(bins, int):
        t = a.dtype.type
        with np.errstate(invalid="ignore", divide="ignore"):
            pos = ((v - left) * t(n_edges - 1) / (right - left)).astype(np.int64)
        # the local search: the edge just left of the value among pos-1, pos, pos+1
        lo_i = np.maximum(pos - 1, 0)
        cand = lo_i[:, None] + np.arange(3)
        cand_ok = cand < np.minimum(pos + 2, n_edges)[:, None]
        edge_vals = edges[np.minimum(cand, n_edges - 1)]
        pos = lo_i + ((edge_vals <= v[:, None]) & cand_ok).sum(1) - 1
    else:
        pos = np.searchsorted(edges, v, side="right") - 1
    pos[pos == n_edges - 1] -= 1
    hist = np.zeros(n_edges - 1, dtype=a.dtype)
    if weight is None:
        hist += np.bincount(pos, minlength=n_edges - 1).astype(a.dtype)
    else:
        np.add.at(hist, pos, unwrap(weight).reshape(-1)[keep].astype(a.dtype))
    if density:
        hist = hist / hist.sum(dtype=a.dtype)
        hist = (hist / np.diff(edges)).astype(a.dtype)
    result = return_types.histogram(wrap(hist), wrap(edges.copy()))
    if out is not None:
        from gradfit._arrays import set_array

        for o, r in zip(out, result):
            set_array(o, unwrap(r))
        return return_types.histogram(*out)
    return result
