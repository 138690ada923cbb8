"""Tensor operations real programs index, sort and rearrange with: ``gather``, ``scatter``,
``index_select``, ``where``, ``masked_fill``, ``sort``/``topk``, ``cumsum``, ``tril``, ...

Each is a ``gradfit.<name>`` function with PyTorch's signature; the Tensor methods of the
same names call these. Differentiable results come from the ops in ``gradfit.ops``
(mostly ``ops.indexing``); index results (``argsort``, ``nonzero``, ...) carry no graph.
"""

from __future__ import annotations

import builtins

import numpy as np

from gradfit import _dtypes, return_types
from gradfit._arrays import unwrap, wrap
from gradfit.ops import elementwise as _el
from gradfit.ops import indexing as _ix
from gradfit.ops import movement as _mv
from gradfit.tensor import Tensor

_INDEX_KINDS = "iu"


def _t(x) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def _dim(fn: str, dim, ndim: int) -> int:
    n = builtins.max(ndim, 1)
    if not isinstance(dim, int | np.integer) or not -n <= dim < n:
        raise IndexError(
            f"{fn}: dimension out of range (expected to be in range of [{-n}, {n - 1}], "
            f"but got {dim})"
        )
    return int(dim) % n


def _index_array(fn: str, index, kinds: str = _INDEX_KINDS, int64: bool = False) -> np.ndarray:
    idx = unwrap(index)
    if idx.dtype.kind not in kinds or (int64 and idx.dtype != np.int64):
        want = "int64" if int64 else "an integer dtype"
        raise RuntimeError(f"{fn}(): expected index of {want}, got {idx.dtype}")
    return idx


def _check_bounds(fn: str, idx: np.ndarray, n: int) -> None:
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        bad = idx.min() if idx.min() < 0 else idx.max()
        raise IndexError(f"{fn}(): index {int(bad)} is out of bounds for dimension with size {n}")


# ------------------------------------------------------------------ triangles
def tril(input, diagonal: int = 0):  # noqa: A002
    """The lower triangle (on and below the ``diagonal``-th diagonal) of the last two
    axes; the rest set to 0."""
    if input.ndim < 2:
        raise RuntimeError(f"tril: input tensor must have at least 2 dimensions, got {input.ndim}")
    return _ix.Tri.apply(input, diagonal=int(diagonal), upper=False)


def triu(input, diagonal: int = 0):  # noqa: A002
    """The upper triangle (on and above the ``diagonal``-th diagonal) of the last two axes."""
    if input.ndim < 2:
        raise RuntimeError(f"triu: input tensor must have at least 2 dimensions, got {input.ndim}")
    return _ix.Tri.apply(input, diagonal=int(diagonal), upper=True)


# ------------------------------------------------------------------ where / masks
def _check_mask(fn: str, mask) -> np.ndarray:
    m = unwrap(mask)
    if m.dtype != np.bool_:
        raise RuntimeError(f"{fn}: expected a boolean mask, but got mask with dtype {m.dtype}")
    return m


def _scalar_dtype(v) -> np.dtype:
    if isinstance(v, bool | np.bool_):
        return np.dtype(np.bool_)
    if isinstance(v, int | np.integer):
        return np.dtype(np.int64)
    return np.dtype(_dtypes.get_default_dtype())


def _promote(a, b):
    """PyTorch's type promotion for two operands, either a Python number: a number only
    changes the category (bool < int < float) of a tensor, never its width."""
    ta, tb = isinstance(a, Tensor), isinstance(b, Tensor)
    if ta and tb:
        if a.dtype != b.dtype:
            common = np.result_type(a.dtype, b.dtype)
            return a.to(common), b.to(common)
        return a, b
    if not ta and not tb:
        kinds = {_scalar_dtype(a).kind, _scalar_dtype(b).kind}
        common = _scalar_dtype(1.0 if "f" in kinds else 1 if "i" in kinds else True)
        return wrap(np.asarray(a, common)), wrap(np.asarray(b, common))
    t, s = (a, b) if ta else (b, a)
    order = "biuf"
    kind_t, kind_s = t.dtype.kind, _scalar_dtype(s).kind
    if order.index(kind_s if kind_s != "u" else "i") > order.index(kind_t):
        t = t.to(_scalar_dtype(s))
    s = wrap(np.asarray(s, t.dtype))
    return (t, s) if ta else (s, t)


def where(condition, input=None, other=None):  # noqa: A002
    """``where(condition, input, other)``: ``input`` where ``condition`` holds, else
    ``other`` (tensors or numbers, broadcast, promoted as PyTorch does); gradients flow
    to the chosen entries. ``where(condition)`` is ``nonzero(condition, as_tuple=True)``."""
    if input is None and other is None:
        return nonzero(condition, as_tuple=True)
    if input is None or other is None:
        raise TypeError("where(): expected both input and other, or neither")
    cond = unwrap(condition)
    if cond.dtype == np.uint8:
        cond = cond.astype(np.bool_)
    if cond.dtype != np.bool_:
        raise RuntimeError(
            f"where expected condition to be a boolean tensor, but got a tensor with dtype "
            f"{cond.dtype}"
        )
    a, b = _promote(input, other)
    return _el.Where.apply(cond, a, b)


def masked_fill(input, mask, value):  # noqa: A002
    """``input`` with ``value`` where ``mask`` holds (broadcast). A 0-d tensor ``value``
    receives the gradient of the entries it fills."""
    m = _check_mask("masked_fill", mask)
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(
                "masked_fill_ only supports a 0-dimensional value tensor, but got tensor "
                f"with {value.ndim} dimension(s)."
            )
        v = value.to(input.dtype)
    else:
        v = wrap(np.asarray(value).astype(input.dtype))
    return _el.Where.apply(m, v, input)


def masked_select(input, mask):  # noqa: A002
    """The entries of ``input`` (broadcast with ``mask``) where ``mask`` holds, as 1-D."""
    m = _check_mask("masked_select", mask)
    return _ix.MaskedSelect.apply(input, mask=m)


def nonzero(input, *, as_tuple: bool = False):  # noqa: A002
    """Indices of the non-zero entries: an (n, ndim) int64 tensor, or with ``as_tuple``
    one 1-D tensor per axis (a 0-d input counts as 1-D)."""
    a = unwrap(input)
    if as_tuple:
        return tuple(wrap(i.astype(np.int64)) for i in np.nonzero(np.atleast_1d(a)))
    return wrap(np.argwhere(a).astype(np.int64))


def argwhere(input):  # noqa: A002
    return nonzero(input)


# ------------------------------------------------------------------ gather / scatter
def _check_gather_shapes(fn: str, x: Tensor, idx: np.ndarray, d: int) -> None:
    if idx.ndim != builtins.max(x.ndim, 1) and not (x.ndim == 0 and idx.ndim <= 1):
        raise RuntimeError(
            f"{fn}(): Index tensor must have the same number of dimensions as input tensor "
            f"({idx.ndim} vs {x.ndim})"
        )
    for k, (n_i, n_x) in enumerate(zip(idx.shape, x.shape)):
        if k != d and n_i > n_x:
            raise RuntimeError(
                f"{fn}(): size of dimension {k} of index ({n_i}) is larger than that of "
                f"input ({n_x})"
            )


def gather(input, dim: int, index, *, sparse_grad: bool = False):  # noqa: A002
    """out[i][j] = input[index[i][j]][j] (dim 0) / input[i][index[i][j]] (dim 1), ...;
    the gradient scatter-adds back (repeated indices add up)."""
    d = _dim("gather", dim, input.ndim)
    idx = _index_array("gather", index, int64=True)
    _check_gather_shapes("gather", input, idx, d)
    if input.ndim == 0:
        _check_bounds("gather", idx, 1)
        return _ix.Gather.apply(input, index=idx.reshape(()), dim=0).reshape(idx.shape)
    _check_bounds("gather", idx, input.shape[d])
    return _ix.Gather.apply(input, index=idx, dim=d)


def take_along_dim(input, indices, dim: int | None = None):  # noqa: A002
    """``np.take_along_axis``: ``indices`` broadcast against ``input`` except along
    ``dim``; with ``dim=None`` both are flattened."""
    idx = _index_array("take_along_dim", indices)
    if dim is None:
        return gather(input.reshape(-1), 0, wrap(idx.reshape(-1).astype(np.int64)))
    d = _dim("take_along_dim", dim, input.ndim)
    if idx.ndim != input.ndim:
        raise RuntimeError(
            f"torch.take_along_dim(): input and indices should have the same number of "
            f"dimensions, but got {input.ndim} dimensions for input, and {idx.ndim} "
            "dimensions for indices"
        )
    shape_x = list(input.shape)
    shape_i = list(idx.shape)
    shape_x[d] = shape_i[d] = 1
    common = np.broadcast_shapes(tuple(shape_x), tuple(shape_i))
    xs = list(common)
    xs[d] = input.shape[d]
    is_ = list(common)
    is_[d] = idx.shape[d]
    x = input.expand(tuple(xs)) if tuple(xs) != input.shape else input
    idx = np.broadcast_to(idx, tuple(is_)).astype(np.int64)
    return gather(x, d, wrap(idx))


def _scatter(fn: str, input, dim, index, src, reduce):  # noqa: A002
    d = _dim(fn, dim, input.ndim)
    idx = _index_array(fn, index, int64=True)
    _check_gather_shapes(fn, input, idx, d)
    if isinstance(src, Tensor):
        if src.ndim != idx.ndim and not (src.ndim == 0 and idx.ndim <= 1):
            raise RuntimeError(
                f"{fn}(): Index tensor must have the same number of dimensions as src tensor"
            )
        for k, (n_i, n_s) in enumerate(zip(idx.shape, src.shape)):
            if n_i > n_s:
                raise RuntimeError(
                    f"{fn}(): size of dimension {k} of index ({n_i}) is larger than that of "
                    f"src ({n_s})"
                )
        if src.dtype != input.dtype:
            raise RuntimeError(
                f"{fn}(): Expected self.dtype to be equal to src.dtype, got {input.dtype} "
                f"and {src.dtype}"
            )
    elif src is None:
        raise TypeError(f"{fn}(): expected src (a tensor) or value (a number)")
    if reduce not in (None, "add", "multiply", "sum"):
        raise RuntimeError(
            f"{fn}(): reduce argument must be either add or multiply, got {reduce!r}"
        )
    n = input.shape[d] if input.ndim else 1
    _check_bounds(fn, idx, n)
    if input.ndim == 0:
        idx = idx.reshape(())
    if not isinstance(src, Tensor):
        src = np.asarray(src).astype(input.dtype)
    return _ix.Scatter.apply(input, src, index=idx, dim=d, reduce=reduce)


def scatter(input, dim: int, index, src=None, *, value=None, reduce=None):  # noqa: A002
    """``input`` with ``src`` (a tensor, or a number ``value``) written at ``index``
    along ``dim``: out[index[i][j]][j] = src[i][j] (dim 0). ``reduce='add'`` or
    ``'multiply'`` combines instead of overwriting."""
    return _scatter("scatter", input, dim, index, value if src is None else src, reduce)


def scatter_add(input, dim: int, index, src):  # noqa: A002
    """``input`` with ``src`` added at ``index`` along ``dim`` (repeats add up)."""
    return _scatter("scatter_add", input, dim, index, src, "sum")


def index_select(input, dim: int, index):  # noqa: A002
    """The entries at ``index`` (1-D, integer) along ``dim``."""
    d = _dim("index_select", dim, input.ndim)
    idx = _index_array("index_select", index)
    if idx.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    n = input.shape[d] if input.ndim else 1
    _check_bounds("index_select", idx, n)
    idx = idx.reshape(-1).astype(np.intp, copy=False)
    if input.ndim == 0:
        return _mv.Index.apply(input.reshape(1), index=idx).reshape(
            idx.shape if idx.size != 1 else ()
        )
    return _mv.Index.apply(input, index=(slice(None),) * d + (idx,))


def index_add(input, dim: int, index, source, *, alpha=1):  # noqa: A002
    """``input`` with ``alpha * source`` added at ``index`` (1-D) along ``dim``."""
    d = _dim("index_add", dim, input.ndim)
    idx = _index_array("index_add", index)
    if idx.ndim > 1:
        raise IndexError("index_add_(): Index is supposed to be a vector")
    idx = idx.reshape(-1)
    n = input.shape[d] if input.ndim else 1
    _check_bounds("index_add", idx, n)
    src = _t(source)
    want = input.shape[:d] + (idx.size,) + input.shape[d + 1 :]
    if input.ndim and tuple(src.shape) != want:
        raise RuntimeError(
            f"index_add_(): source has shape {tuple(src.shape)}, expected {want} for an "
            f"index of {idx.size} entries along dim {d}"
        )
    if src.dtype != input.dtype:
        raise RuntimeError(
            f"index_add_(): self ({input.dtype}) and source ({src.dtype}) must have the "
            "same scalar type"
        )
    return _ix.IndexAdd.apply(input, src, index=idx, dim=d, alpha=alpha)


# ------------------------------------------------------------------ sorting
def _argsort_array(a: np.ndarray, d: int, descending: bool) -> np.ndarray:
    """Stable argsort along ``d``, NaN counted as the largest value (PyTorch's order)."""
    if not descending:
        return np.argsort(a, axis=d, kind="stable")
    if a.dtype.kind == "f":
        nan = np.isnan(a)
        if nan.any():
            return np.lexsort((-a, ~nan), axis=d)
        return np.argsort(-a, axis=d, kind="stable")
    # ~x reverses the order of every integer (and bool) type without overflowing.
    return np.argsort(~a, axis=d, kind="stable")


def sort(input, dim: int = -1, descending: bool = False, stable: bool = False):  # noqa: A002
    """(values, indices) sorted along ``dim``; equal values keep their order (the sort
    is stable either way); NaN sorts as the largest value."""
    d = _dim("sort", dim, input.ndim)
    a = unwrap(input)
    if a.ndim == 0:
        return return_types.sort(input.clone(), wrap(np.zeros((), np.int64)))
    idx = _argsort_array(a, d, descending)
    return return_types.sort(_ix.Gather.apply(input, index=idx, dim=d), wrap(idx.astype(np.int64)))


def argsort(input, dim: int = -1, descending: bool = False, stable: bool = False):  # noqa: A002
    """The indices that sort ``input`` along ``dim`` (``sort(...).indices``)."""
    d = _dim("argsort", dim, input.ndim)
    a = unwrap(input)
    if a.ndim == 0:
        return wrap(np.zeros((), np.int64))
    return wrap(_argsort_array(a, d, descending).astype(np.int64))


def msort(input):  # noqa: A002
    return sort(input, 0).values


def topk(input, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):  # noqa: A002
    """The ``k`` largest (``largest=False``: smallest) entries along ``dim`` and their
    indices, in sorted order (ties in index order)."""
    d = _dim("topk", dim, input.ndim)
    n = input.shape[d] if input.ndim else 1
    if not isinstance(k, int | np.integer) or not 0 <= k <= n:
        raise RuntimeError(f"topk(): selected index k={k} out of range for a dimension of size {n}")
    a = unwrap(input)
    if a.ndim == 0:
        return return_types.topk(input.clone(), wrap(np.zeros((), np.int64)))
    idx = _argsort_array(a, d, largest)
    idx = np.take(idx, np.arange(k), axis=d)
    return return_types.topk(_ix.Gather.apply(input, index=idx, dim=d), wrap(idx.astype(np.int64)))


def kthvalue(input, k: int, dim: int = -1, keepdim: bool = False):  # noqa: A002
    """The ``k``-th smallest entry (1-based) along ``dim`` and its index."""
    d = _dim("kthvalue", dim, input.ndim)
    n = input.shape[d] if input.ndim else 1
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k={k} out of range for dimension {n}")
    a = unwrap(input)
    if a.ndim == 0:
        return return_types.kthvalue(input.clone(), wrap(np.zeros((), np.int64)))
    idx = np.take(_argsort_array(a, d, False), [k - 1], axis=d)
    values = _ix.Gather.apply(input, index=idx, dim=d)
    if not keepdim:
        values, idx = values.squeeze(d), np.squeeze(idx, d)
    return return_types.kthvalue(values, wrap(idx.astype(np.int64)))


# ------------------------------------------------------------------ cumulative
def cumsum(input, dim: int, *, dtype=None):  # noqa: A002
    """Cumulative sum along ``dim`` (integer and bool inputs give int64). Float32 sums
    accumulate in float64, as PyTorch's CPU kernel does."""
    d = _dim("cumsum", dim, input.ndim)
    x = input if dtype is None else input.to(dtype)
    if x.dtype.kind in "biu" and dtype is None:
        x = x.to(np.int64)
    return _ix.Cumsum.apply(x, dim=d)


def cumprod(input, dim: int, *, dtype=None):  # noqa: A002
    """Cumulative product along ``dim``; its gradient is exact where entries are 0."""
    d = _dim("cumprod", dim, input.ndim)
    x = input if dtype is None else input.to(dtype)
    if x.dtype.kind in "biu" and dtype is None:
        x = x.to(np.int64)
    return _ix.Cumprod.apply(x, dim=d)
