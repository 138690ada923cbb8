"""Tensor operations real programs index, sort and rearrange with: ``gather``, ``scatter``,
``index_select``, ``where``, ``masked_fill``, ``sort``/``topk``, ``cumsum``, ``tril``, ...

Each is a ``gradfit.<name>`` function with PyTorch's signature; the Tensor methods of the
same names call these. Differentiable results come from the ops in ``gradfit.ops``
(mostly ``ops.indexing``); index results (``argsort``, ``nonzero``, ...) carry no graph.
"""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING

import numpy as np

from gradfit import _dtypes, _stl, linalg, return_types
from gradfit._arrays import unwrap, wrap
from gradfit._out import with_out
from gradfit.autograd import function as _graph
from gradfit.autograd._torch_names import named
from gradfit.ops import elementwise, movement
from gradfit.ops import indexing as indexing_ops  # meshgrid has an `indexing` argument
from gradfit.ops import linalg as linalg_ops

if TYPE_CHECKING:
    from gradfit.tensor import Tensor

_INDEX_KINDS = "iu"


def _t(x) -> Tensor:
    return x if isinstance(x, _graph.Tensor) else _graph.Tensor(x)


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


def _check_bounds(fn: str, idx: np.ndarray, n: int, dim: int | None = None) -> None:
    """PyTorch's errors for an index out of [0, n): gather and the scatters name the first
    bad index and the dimension (RuntimeError); the index_* functions say only "index out
    of range in self" (IndexError)."""
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        if dim is None:
            raise IndexError("index out of range in self")
        flat = idx.ravel()
        bad = flat[np.flatnonzero((flat < 0) | (flat >= n))[0]]
        raise RuntimeError(f"index {int(bad)} is out of bounds for dimension {dim} with size {n}")


# ------------------------------------------------------------------ triangles
@with_out
def tril(input, diagonal: int = 0):  # noqa: A002
    """The lower triangle (on and below the ``diagonal``-th diagonal) of the last two
    axes; the rest set to 0."""
    if input.ndim < 2:
        raise RuntimeError(f"tril: input tensor must have at least 2 dimensions, got {input.ndim}")
    return indexing_ops.Tri.apply(input, diagonal=int(diagonal), upper=False)


@with_out
def triu(input, diagonal: int = 0):  # noqa: A002
    """The upper triangle (on and above the ``diagonal``-th diagonal) of the last two axes."""
    if input.ndim < 2:
        raise RuntimeError(f"triu: input tensor must have at least 2 dimensions, got {input.ndim}")
    return indexing_ops.Tri.apply(input, diagonal=int(diagonal), upper=True)


# ------------------------------------------------------------------ where / masks
def _check_mask(fn: str, mask) -> np.ndarray:
    m = unwrap(mask)
    if m.dtype != np.bool_:
        raise RuntimeError(f"{fn}: expected a boolean mask, but got mask with dtype {m.dtype}")
    return m


def _saved_condition(condition, cond: np.ndarray):
    """What ``Where`` gets as its condition: the tensor itself when ``cond`` is its array,
    so that an in-place edit of the condition is caught (Where saves it, as PyTorch)."""
    if isinstance(condition, _graph.Tensor) and cond is unwrap(condition):
        return condition
    return cond


def _scalar_dtype(v) -> np.dtype:
    if isinstance(v, bool | np.bool_):
        return np.dtype(np.bool_)
    if isinstance(v, int | np.integer):
        return np.dtype(np.int64)
    if isinstance(v, complex | np.complexfloating):
        return np.result_type(_dtypes.default_np(), np.complex64)
    return _dtypes.default_np()


def _promote(a, b):
    """PyTorch's type promotion for two operands, either a Python number: a number only
    changes the category (bool < int < float) of a tensor, never its width."""
    ta, tb = isinstance(a, _graph.Tensor), isinstance(b, _graph.Tensor)
    if ta and tb:
        if a.dtype != b.dtype:
            common = _dtypes.from_np(_dtypes.tensors_result(unwrap(a), unwrap(b)))
            return a.to(common), b.to(common)
        return a, b
    if not ta and not tb:
        kinds = {_scalar_dtype(a).kind, _scalar_dtype(b).kind}
        common = _scalar_dtype(
            1j if "c" in kinds else 1.0 if "f" in kinds else 1 if "i" in kinds else True
        )
        return wrap(np.asarray(a, common)), wrap(np.asarray(b, common))
    t, s = (a, b) if ta else (b, a)
    order = "biufc"
    kind_t, kind_s = unwrap(t).dtype.kind, _scalar_dtype(s).kind
    if kind_s == "c" and kind_t != "c":  # a float tensor keeps its width (float32 -> complex64)
        real = unwrap(t).dtype if kind_t == "f" else _dtypes.default_np()
        t = t.to(np.result_type(real, np.complex64))
    elif order.index(kind_s if kind_s != "u" else "i") > order.index(kind_t):
        t = t.to(_scalar_dtype(s))
    s = wrap(np.asarray(_dtypes.fill_number(s, unwrap(t).dtype), t.dtype))
    return (t, s) if ta else (s, t)


@with_out
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
    return elementwise.Where.apply(_saved_condition(condition, cond), a, b)


def masked_scatter(input, mask, source):  # noqa: A002
    """``input`` with the entries where ``mask`` holds (broadcast) taken, in order, from
    the first entries of ``source``; gradients flow to both."""
    m = np.broadcast_to(_check_mask("masked_scatter", mask), tuple(input.shape))
    n = int(m.sum())
    if source.numel() < n:
        raise RuntimeError(
            f"masked_scatter: expected source to have at least {n} elements, got {source.numel()}"
        )
    values = source.reshape(-1)[:n].to(input.dtype)
    out = indexing_ops.IndexPut.apply(input, values, index=np.nonzero(m), accumulate=False)
    return named(out, "MaskedScatterBackward0")


def masked_fill(input, mask, value):  # noqa: A002
    """``input`` with ``value`` where ``mask`` holds (broadcast). A 0-d tensor ``value``
    receives the gradient of the entries it fills."""
    m = _check_mask("masked_fill", mask)
    if isinstance(value, _graph.Tensor):
        if value.ndim != 0:
            raise RuntimeError(
                "masked_fill_ only supports a 0-dimensional value tensor, but got tensor "
                f"with {value.ndim} dimension(s)."
            )
        v = value.to(input.dtype)
    else:
        v = wrap(np.asarray(_dtypes.fill_number(value, unwrap(input).dtype)).astype(input.dtype))
    return elementwise.Where.apply(_saved_condition(mask, m), v, input)


@with_out
def masked_select(input, mask):  # noqa: A002
    """The entries of ``input`` (broadcast with ``mask``) where ``mask`` holds, as 1-D."""
    m = _check_mask("masked_select", mask)
    return indexing_ops.MaskedSelect.apply(input, mask=m)


@with_out
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
    # a 0-d tensor counts as 1-D here (PyTorch's ensure_nonempty_dim)
    if builtins.max(idx.ndim, 1) != builtins.max(x.ndim, 1):
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


@with_out
def gather(input, dim: int, index, *, sparse_grad: bool = False):  # noqa: A002
    """out[i][j] = input[index[i][j]][j] (dim 0) / input[i][index[i][j]] (dim 1), ...;
    the gradient scatter-adds back (repeated indices add up)."""
    d = _dim("gather", dim, input.ndim)
    idx = _index_array("gather", index, int64=True)
    _check_gather_shapes("gather", input, idx, d)
    if input.ndim == 0:  # PyTorch treats a 0-d tensor as 1-D here
        return gather(input.reshape(1), 0, wrap(idx))
    if idx.ndim == 0:
        return gather(input, d, wrap(idx.reshape(1))).reshape(())
    _check_bounds("gather", idx, input.shape[d], d)
    return indexing_ops.Gather.apply(input, index=idx, dim=d)


@with_out
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


def _nonempty(idx: np.ndarray, src):
    """A 0-d index (and a 0-d source tensor with it) as 1-D: PyTorch's scatter ops treat a
    0-d tensor as 1-D (ensure_nonempty_dim)."""
    if idx.ndim:
        return idx, src
    if isinstance(src, _graph.Tensor) and src.ndim == 0:
        src = src.reshape(1)
    return idx.reshape(1), src


def _scatter(fn: str, input, dim, index, src, reduce):  # noqa: A002
    d = _dim(fn, dim, input.ndim)
    idx = _index_array(fn, index, int64=True)
    _check_gather_shapes(fn, input, idx, d)
    if input.ndim == 0:
        return _scatter(fn, input.reshape(1), 0, wrap(idx), src, reduce).reshape(())
    idx, src = _nonempty(idx, src)
    if isinstance(src, _graph.Tensor):
        if builtins.max(src.ndim, 1) != idx.ndim and not (src.ndim == 0 and idx.ndim <= 1):
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
    _check_bounds(fn, idx, input.shape[d], d)
    if not isinstance(src, _graph.Tensor):
        src = np.asarray(src).astype(input.dtype)
    return indexing_ops.Scatter.apply(input, src, index=idx, dim=d, reduce=reduce)


@with_out
def scatter(input, dim: int, index, src=None, *, value=None, reduce=None):  # noqa: A002
    """``input`` with ``src`` (a tensor, or a number ``value``) written at ``index``
    along ``dim``: out[index[i][j]][j] = src[i][j] (dim 0). ``reduce='add'`` or
    ``'multiply'`` combines instead of overwriting."""
    src = value if src is None else src
    out = _scatter("scatter", input, dim, index, src, reduce)
    # scatter(dim, index, value: number) is PyTorch's second overload
    return out if isinstance(src, _graph.Tensor) or reduce else named(out, "ScatterBackward1")


@with_out
def scatter_add(input, dim: int, index, src):  # noqa: A002
    """``input`` with ``src`` added at ``index`` along ``dim`` (repeats add up)."""
    return _scatter("scatter_add", input, dim, index, src, "sum")


_SCATTER_REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")


@with_out
def scatter_reduce(input, dim: int, index, src, reduce: str, *, include_self: bool = True):  # noqa: A002
    """``input`` with ``src`` combined in at ``index`` along ``dim`` by ``reduce``
    ('sum', 'prod', 'mean', 'amax', 'amin'); ``include_self=False`` leaves ``input``'s own
    values out where something is scattered."""
    if reduce not in _SCATTER_REDUCTIONS:
        raise RuntimeError(
            f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}"
        )
    d = _dim("scatter_reduce", dim, input.ndim)
    idx = _index_array("scatter_reduce", index, int64=True)
    _check_gather_shapes("scatter_reduce", input, idx, d)
    if not isinstance(src, _graph.Tensor) or src.dtype != input.dtype:
        raise RuntimeError("scatter_reduce(): Expected self.dtype to be equal to src.dtype")
    if input.ndim == 0:
        out = scatter_reduce(input.reshape(1), 0, wrap(idx), src, reduce, include_self=include_self)
        return out.reshape(())
    idx, src = _nonempty(idx, src)
    _check_bounds("scatter_reduce", idx, input.shape[d], d)
    return indexing_ops.ScatterReduce.apply(
        input, src, index=idx, dim=d, reduce=reduce, include_self=include_self
    )


@with_out
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
        return movement.Index.apply(input.reshape(1), index=idx).reshape(
            idx.shape if idx.size != 1 else ()
        )
    return movement.Index.apply(input, index=(slice(None),) * d + (idx,))


@with_out
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
    return indexing_ops.IndexAdd.apply(input, src, index=idx, dim=d, alpha=alpha)


def index_put(input, indices, values, accumulate: bool = False):  # noqa: A002
    """``input`` with ``input[indices] = values`` (``accumulate``: added, repeats adding
    up); ``indices`` is a tuple of index tensors, as ``Tensor.index_put_`` takes."""
    if not isinstance(indices, tuple | list):
        raise TypeError("index_put(): indices must be a tuple of tensors")
    idx = tuple(unwrap(i) if i is not None else slice(None) for i in indices)
    v = _t(values)
    if v.dtype != input.dtype:
        v = v.to(input.dtype)
    return indexing_ops.IndexPut.apply(input, v, index=idx, accumulate=accumulate)


def index_fill(input, dim: int, index, value):  # noqa: A002
    """``input`` with ``value`` (a number or 0-d tensor) along ``dim`` at ``index``."""
    d = _dim("index_fill", dim, input.ndim)
    idx = _index_array("index_fill", index).reshape(-1)
    n = input.shape[d] if input.ndim else 1
    _check_bounds("index_fill", idx, n)
    v = (
        value.to(input.dtype)
        if isinstance(value, _graph.Tensor)
        else np.asarray(_dtypes.fill_number(value, unwrap(input).dtype), input.dtype)
    )
    out = indexing_ops.IndexPut.apply(input, v, index=(slice(None),) * d + (idx,), accumulate=False)
    return named(out, "IndexFillBackward0")


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


# Rows at most this long go through PyTorch's sorting algorithm step by step when their
# order is not fixed by the values alone (equal values, or topk's sorted=False); longer
# ones keep NumPy's stable order (README).
_EMULATED_ROW_LENGTH = 4096


def _pytorch_order(a: np.ndarray, idx: np.ndarray, d: int, order, every_row: bool = False):
    """``idx`` (NumPy's stable order along ``d``) with each row whose result depends on
    PyTorch's algorithm rather than on the values alone (it holds equal values, or
    ``every_row``) replaced by ``order(row values)``, libstdc++'s order (``gradfit._stl``)."""
    rows = np.moveaxis(a, d, -1).reshape(-1, a.shape[d])
    if rows.shape[1] > _EMULATED_ROW_LENGTH or a.dtype.kind == "c" or not rows.size:
        return idx
    if every_row:
        ties = np.ones(len(rows), dtype=bool)
    else:
        srt = np.sort(rows, axis=1)
        ties = (srt[:, 1:] == srt[:, :-1]).any(axis=1)
        if a.dtype.kind == "f":
            ties |= np.isnan(rows).sum(axis=1) > 1  # NaNs are equal to each other there
    if not ties.any():
        return idx
    moved = np.moveaxis(idx, d, -1)
    out = moved.reshape(len(rows), -1).copy()
    for r in np.flatnonzero(ties):
        out[r] = order(rows[r].tolist())
    return np.moveaxis(out.reshape(moved.shape), -1, d)


@with_out
def sort(input, dim: int = -1, descending: bool = False, stable: bool = False):  # noqa: A002
    """(values, indices) sorted along ``dim``; NaN sorts as the largest value. Equal values
    keep their order with ``stable=True``; without, they come in the order PyTorch's
    ``std::sort`` leaves them (``_pytorch_order``; insertion sort, so stable, below 17)."""
    d = _dim("sort", dim, input.ndim)
    a = unwrap(input)
    if a.ndim == 0:
        return return_types.sort(input.clone(), wrap(np.zeros((), np.int64)))
    idx = _argsort_array(a, d, descending)
    if not stable:
        idx = _pytorch_order(a, idx, d, lambda row: _stl.sort_indices(row, descending))
    values = named(indexing_ops.Gather.apply(input, index=idx, dim=d), "SortBackward0")
    return return_types.sort(values, wrap(idx.astype(np.int64)))


@with_out
def argsort(input, dim: int = -1, descending: bool = False, stable: bool = False):  # noqa: A002
    """The indices that sort ``input`` along ``dim`` (``sort(...).indices``)."""
    d = _dim("argsort", dim, input.ndim)
    a = unwrap(input)
    if a.ndim == 0:
        return wrap(np.zeros((), np.int64))
    idx = _argsort_array(a, d, descending)
    if not stable:
        idx = _pytorch_order(a, idx, d, lambda row: _stl.sort_indices(row, descending))
    return wrap(idx.astype(np.int64))


@with_out
def msort(input):  # noqa: A002
    return sort(input, 0).values


@with_out
def topk(input, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):  # noqa: A002
    """The ``k`` largest (``largest=False``: smallest) entries along ``dim`` and their
    indices, sorted (or, ``sorted=False``, in PyTorch's selection order); among equal
    values the indices PyTorch's selection algorithm picks (``_pytorch_order``)."""
    d = _dim("topk", dim, input.ndim)
    n = input.shape[d] if input.ndim else 1
    if not isinstance(k, int | np.integer) or not 0 <= k <= n:
        raise RuntimeError(f"topk(): selected index k={k} out of range for a dimension of size {n}")
    a = unwrap(input)
    if a.ndim == 0:
        return return_types.topk(input.clone(), wrap(np.zeros((), np.int64)))
    idx = _argsort_array(a, d, largest)
    idx = np.take(idx, np.arange(k), axis=d)
    if k:
        pick = lambda row: _stl.topk_indices(row, k, largest, sorted)  # noqa: E731
        idx = _pytorch_order(a, idx, d, pick, every_row=not sorted)
    values = named(indexing_ops.Gather.apply(input, index=idx, dim=d), "TopkBackward0")
    return return_types.topk(values, wrap(idx.astype(np.int64)))


@with_out
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
    idx = _pytorch_order(a, idx, d, lambda row: [_stl.kth_smallest_index(row, k - 1)])
    values = indexing_ops.Gather.apply(input, index=idx, dim=d)
    if not keepdim:
        values, idx = values.squeeze(d), np.squeeze(idx, d)
    return return_types.kthvalue(named(values, "KthvalueBackward0"), wrap(idx.astype(np.int64)))


@with_out
def mode(input, dim: int = -1, keepdim: bool = False):  # noqa: A002
    """The most frequent value along ``dim`` (the smallest of equally frequent ones; each
    NaN counts once) and the index of its last occurrence, as PyTorch's CPU kernel."""
    d = _dim("mode", dim, input.ndim)
    a = unwrap(input)
    if a.ndim == 0:
        return return_types.mode(input.clone(), wrap(np.zeros((), np.int64)))
    # the kernel's order (``std::sort`` by value: equal values in its order, not by index)
    stable = np.argsort(a, axis=d, kind="stable")
    order = _pytorch_order(a, stable, d, _stl.mode_order, every_row=True)
    moved, order = np.moveaxis(a, d, -1), np.moveaxis(order, d, -1)
    n = moved.shape[-1]
    srt = np.take_along_axis(moved, order, axis=-1)
    starts = np.ones(srt.shape, dtype=bool)
    starts[..., 1:] = srt[..., 1:] != srt[..., :-1]  # NaN != NaN: each NaN its own run
    pos = np.arange(n)
    run_start = np.maximum.accumulate(np.where(starts, pos, 0), axis=-1)
    ends = np.ones(srt.shape, dtype=bool)
    ends[..., :-1] = starts[..., 1:]
    length = np.where(ends, pos - run_start + 1, 0)
    end = np.argmax(length, axis=-1)[..., None]  # the first longest run: the smallest value
    idx = np.moveaxis(np.take_along_axis(order, end, axis=-1), -1, d)
    values = indexing_ops.Gather.apply(input, index=idx, dim=d)
    if not keepdim:
        values, idx = values.squeeze(d), np.squeeze(idx, d)
    return return_types.mode(named(values, "ModeBackward0"), wrap(idx.astype(np.int64)))


# ------------------------------------------------------------------ cumulative
@with_out
def cumsum(input, dim: int, *, dtype=None):  # noqa: A002
    """Cumulative sum along ``dim`` (integer and bool inputs give int64). Float32 sums
    accumulate in float64, as PyTorch's CPU kernel does."""
    d = _dim("cumsum", dim, input.ndim)
    x = input if dtype is None else input.to(dtype)
    if unwrap(x).dtype.kind in "biu" and dtype is None:
        x = x.to(np.int64)
    return indexing_ops.Cumsum.apply(x, dim=d)


@with_out
def cumprod(input, dim: int, *, dtype=None):  # noqa: A002
    """Cumulative product along ``dim``; its gradient is exact where entries are 0."""
    d = _dim("cumprod", dim, input.ndim)
    x = input if dtype is None else input.to(dtype)
    if unwrap(x).dtype.kind in "biu" and dtype is None:
        x = x.to(np.int64)
    return indexing_ops.Cumprod.apply(x, dim=d)


# ------------------------------------------------------------------ rearranging
def _dim_list(fn: str, dims, ndim: int) -> tuple:
    dims = (dims,) if isinstance(dims, int | np.integer) else tuple(dims)
    out = tuple(_dim(fn, d, ndim) for d in dims)
    if len(set(out)) != len(out):
        raise RuntimeError(f"{fn}: dims {list(dims)} name a dimension twice")
    return out


def flip(input, dims):  # noqa: A002
    """Reverse the order of the entries along each of ``dims``."""
    d = _dim_list("flip", dims, input.ndim)
    if input.ndim == 0 or not d:
        return input.clone()
    return indexing_ops.Flip.apply(input, dims=d)


def fliplr(input):  # noqa: A002
    if input.ndim < 2:
        raise RuntimeError("fliplr: input must be >= 2-d")
    return flip(input, (1,))


def flipud(input):  # noqa: A002
    if input.ndim < 1:
        raise RuntimeError("flipud: input must be >= 1-d")
    return flip(input, (0,))


def roll(input, shifts, dims=None):  # noqa: A002
    """Shift entries cyclically by ``shifts`` along ``dims`` (the flattened tensor,
    reshaped back, when ``dims`` is None)."""
    if dims is None:
        if not isinstance(shifts, int | np.integer):
            if len(shifts) != 1:
                raise RuntimeError("roll: with dims=None, shifts must be a single number")
            shifts = shifts[0]
        return indexing_ops.Roll.apply(input, shifts=int(shifts), dims=None)
    d = (dims,) if isinstance(dims, int | np.integer) else tuple(dims)
    s = (shifts,) if isinstance(shifts, int | np.integer) else tuple(shifts)
    if len(d) != len(s):
        raise RuntimeError(
            f"roll: shifts and dimensions must align. shifts: {len(s)}, dims: {len(d)}"
        )
    d = tuple(_dim("roll", k, input.ndim) for k in d)
    if input.ndim == 0:
        return input.clone()
    return indexing_ops.Roll.apply(input, shifts=tuple(int(k) for k in s), dims=d)


def rot90(input, k: int = 1, dims=(0, 1)):  # noqa: A002
    """Rotate by 90 degrees ``k`` times in the plane of ``dims`` (from the first axis
    towards the second)."""
    d0, d1 = _dim_list("rot90", dims, input.ndim)
    k %= 4
    if k == 0:
        return input.clone()
    if k == 1:
        return flip(input, (d1,)).transpose(d0, d1)
    if k == 2:
        return flip(input, (d0, d1))
    return flip(input, (d0,)).transpose(d0, d1)


def narrow(input, dim: int, start, length: int):  # noqa: A002
    """The ``length`` entries from ``start`` along ``dim`` (a slice)."""
    d = _dim("narrow", dim, input.ndim)
    n = input.shape[d]
    start = int(start)
    if not -n <= start <= n:
        raise IndexError(f"narrow: start ({start}) out of range for dimension of size {n}")
    if start < 0:
        start += n
    if length < 0 or start + length > n:
        raise RuntimeError(
            f"narrow: start ({start}) + length ({length}) exceeds dimension size ({n})."
        )
    return input[(slice(None),) * d + (slice(start, start + length),)]


def tile(input, dims):  # noqa: A002
    """Repeat the whole tensor ``dims[i]`` times along axis i (``dims`` padded with 1s
    in front to the tensor's rank, or the tensor's shape with 1s to ``dims``' length)."""
    dims = tuple(dims) if not isinstance(dims, int) else (dims,)
    if len(dims) < input.ndim:
        dims = (1,) * (input.ndim - len(dims)) + dims
    return input.repeat(*dims)


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):  # noqa: A002
    """Repeat each entry ``repeats`` times (an int, or one count per entry along
    ``dim``); the tensor is flattened first when ``dim`` is None.
    ``repeat_interleave(counts)`` (one argument) repeats each index i ``counts[i]`` times."""
    if repeats is None:
        counts = unwrap(input)
        if counts.ndim != 1 or counts.dtype.kind not in "iu":
            raise RuntimeError("repeat_interleave: repeats must be a 1-d integer tensor")
        return wrap(np.repeat(np.arange(counts.size, dtype=np.int64), counts))
    x = input.reshape(-1) if dim is None else input
    d = 0 if dim is None else _dim("repeat_interleave", dim, x.ndim)
    n = x.shape[d] if x.ndim else 1
    r = unwrap(repeats) if isinstance(repeats, _graph.Tensor) else np.asarray(repeats)
    if r.dtype.kind not in "iu":
        raise RuntimeError(f"repeat_interleave: repeats must be integers, got {r.dtype}")
    if r.ndim == 1 and r.size == 1:
        r = r.reshape(())
    if r.ndim > 1 or (r.ndim == 1 and r.size != n):
        raise RuntimeError(
            f"repeat_interleave: repeats must have the same size as input along dim, but got "
            f"repeats.size(0) = {r.size} and input.size({d}) = {n}"
        )
    if (r < 0).any():
        raise RuntimeError("repeat_interleave: repeats can not be negative")
    idx = np.repeat(np.arange(n), r)
    if x.ndim == 0:
        x = x.reshape(1)
    out = movement.Index.apply(x, index=(slice(None),) * d + (idx,))
    # PyTorch expands and reshapes for a number of repeats, index_selects for a tensor
    return named(
        out, "IndexSelectBackward0" if isinstance(repeats, _graph.Tensor) else "ViewBackward0"
    )


def unfold(input, dimension: int, size: int, step: int):  # noqa: A002
    """``Tensor.unfold``: all ``size``-long windows ``step`` apart along ``dimension``,
    as a new last axis of length ``size``."""
    d = _dim("unfold", dimension, input.ndim)
    n = input.shape[d] if input.ndim else 1
    if size > n:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {n} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    return indexing_ops.Unfold.apply(input, dim=d, size=int(size), step=int(step))


@with_out
def diag(input, diagonal: int = 0):  # noqa: A002
    """A 1-D input as the ``diagonal``-th diagonal of a square matrix, or the
    ``diagonal``-th diagonal of a 2-D input as 1-D."""
    if input.ndim not in (1, 2):
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.ndim}D")
    return indexing_ops.Diag.apply(input, offset=int(diagonal))


def diagonal(input, offset: int = 0, dim1: int = 0, dim2: int = 1):  # noqa: A002
    """The ``offset`` diagonal of the planes (dim1, dim2), on a new last axis."""
    d1, d2 = _dim("diagonal", dim1, input.ndim), _dim("diagonal", dim2, input.ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return indexing_ops.Diagonal.apply(input, offset=int(offset), dim1=d1, dim2=d2)


def diag_embed(input, offset: int = 0, dim1: int = -2, dim2: int = -1):  # noqa: A002
    """The last axis of ``input`` written on the ``offset`` diagonal of new square planes."""
    n = input.shape[-1] + abs(offset)
    out_nd = input.ndim + 1
    d1, d2 = _dim("diag_embed", dim1, out_nd), _dim("diag_embed", dim2, out_nd)
    k = np.arange(input.shape[-1])
    rows, cols = k + max(-offset, 0), k + max(offset, 0)
    # A scatter of the entries into an (..., n*n) zero tensor along the last axis.
    flat_idx = np.broadcast_to(rows * n + cols, input.shape).astype(np.int64)
    zeros = wrap(np.zeros(input.shape[:-1] + (n * n,), dtype=input.dtype))
    planes = _scatter("diag_embed", zeros, -1, wrap(np.ascontiguousarray(flat_idx)), input, None)
    planes = planes.reshape(input.shape[:-1] + (n, n))
    order = [i for i in range(out_nd) if i not in (d1, d2)]
    perm = [0] * out_nd
    for src, dst in enumerate(order + [d1, d2]):
        perm[dst] = src
    return planes.permute(*perm)


def trace(input):  # noqa: A002
    """Sum of the main diagonal of a 2-D tensor."""
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.ndim}")
    if unwrap(input).dtype.kind in "biu":
        return indexing_ops.Diagonal.apply(input.to(np.int64), offset=0, dim1=0, dim2=1).sum()
    return indexing_ops.Diagonal.apply(input, offset=0, dim1=0, dim2=1).sum()


# ------------------------------------------------------------------ einsum
_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def einsum(equation: str, *operands):
    """Einstein summation, NumPy's and PyTorch's notation (``'bij,bjk->bik'``, ellipsis,
    implicit output, repeated letters for diagonals); differentiable in every operand."""
    if len(operands) == 1 and isinstance(operands[0], list | tuple):
        operands = tuple(operands[0])
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    ins = lhs.split(",")
    if len(ins) != len(operands):
        raise RuntimeError(
            f"einsum(): {len(ins)} operands in the equation but {len(operands)} were given"
        )
    used = set(c for c in eq if c.isalpha())
    spare = [c for c in _LETTERS if c not in used]
    # Expand "..." into explicit letters, aligned at the right, and broadcast operands.
    ell_nd = 0
    for subs, x in zip(ins, operands):
        if "..." in subs:
            ell_nd = builtins.max(ell_nd, x.ndim - (len(subs) - 3))
    ell = "".join(spare[:ell_nd])
    shapes = []
    for subs, x in zip(ins, operands):
        if "..." in subs:
            k = x.ndim - (len(subs) - 3)
            shapes.append(x.shape[:k])
    ell_shape = np.broadcast_shapes(*shapes) if shapes else ()
    new_ins, new_ops = [], []
    for subs, x in zip(ins, operands):
        x = _t(x)
        if "..." in subs:
            k = x.ndim - (len(subs) - 3)
            want = ell_shape[ell_nd - k :] if k else ()
            if tuple(x.shape[:k]) != tuple(want):
                x = x.expand(tuple(want) + tuple(x.shape[k:]))
            subs = subs.replace("...", ell[ell_nd - k :])
        if len(subs) != x.ndim:
            raise RuntimeError(
                f"einsum(): the number of subscripts in the equation ({len(subs)}) does not "
                f"match the number of dimensions ({x.ndim}) for operand"
            )
        new_ins.append(subs)
        new_ops.append(x)
    if arrow:
        out = rhs.replace("...", ell)
    else:
        counts = {}
        for subs in new_ins:
            for c in subs:
                counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    dtypes = {x.dtype for x in new_ops}
    if len(dtypes) > 1:
        common = np.result_type(*dtypes)
        new_ops = [x.to(common) for x in new_ops]
    return indexing_ops.Einsum.apply(*new_ops, equation=",".join(new_ins) + "->" + out)


# ------------------------------------------------------------------ sets and counts
def unique(
    input,  # noqa: A002
    sorted: bool = True,  # noqa: A002
    return_inverse: bool = False,
    return_counts: bool = False,
    dim=None,
):
    """The distinct values (sorted), optionally with each entry's position in them
    (``return_inverse``, shaped like ``input``) and how often each occurs."""
    a = unwrap(input)
    if dim is None:
        res = np.unique(a.reshape(-1), return_inverse=True, return_counts=True)
        values, inverse, counts = res
        inverse = inverse.reshape(a.shape)
    else:
        d = _dim("unique", dim, a.ndim)
        values, inverse, counts = np.unique(a, return_inverse=True, return_counts=True, axis=d)
        inverse = inverse.reshape(-1)
    out = [wrap(values)]
    if return_inverse:
        out.append(wrap(inverse.astype(np.int64)))
    if return_counts:
        out.append(wrap(counts.astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):  # noqa: A002
    """Drop consecutive repeats (of entries of the flattened tensor, or slices along
    ``dim``)."""
    a = unwrap(input)
    if dim is None:
        flat = a.reshape(-1)
        starts = np.ones(flat.size, dtype=bool)
        starts[1:] = flat[1:] != flat[:-1]
        values = flat[starts]
        group = np.cumsum(starts) - 1
        inverse = group.reshape(a.shape)
    else:
        d = _dim("unique_consecutive", dim, a.ndim)
        m = np.moveaxis(a, d, 0).reshape(a.shape[d], -1)
        starts = np.ones(m.shape[0], dtype=bool)
        starts[1:] = (m[1:] != m[:-1]).any(axis=1)
        values = np.compress(starts, a, axis=d)
        inverse = np.cumsum(starts) - 1
    counts = np.diff(np.append(np.flatnonzero(starts), starts.size))
    out = [wrap(values)]
    if return_inverse:
        out.append(wrap(inverse.astype(np.int64)))
    if return_counts:
        out.append(wrap(counts.astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


@with_out
def bincount(input, weights=None, minlength: int = 0):  # noqa: A002
    """How often each non-negative integer occurs in a 1-D tensor (or the sum of its
    ``weights``): length max(input) + 1, at least ``minlength``."""
    a = unwrap(input)
    if a.ndim != 1 or a.dtype.kind not in "iub":
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if a.size and a.min() < 0:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is None:
        return wrap(np.bincount(a, minlength=minlength).astype(np.int64))
    w = unwrap(weights)
    if w.shape != a.shape:
        raise RuntimeError("weights should be 1-d and have the same length as input")
    out = np.bincount(a, weights=w, minlength=minlength)
    return wrap(out.astype(w.dtype if w.dtype.kind == "f" else np.float64))


@with_out
def histc(input, bins: int = 100, min: float = 0.0, max: float = 0.0):  # noqa: A001, A002
    """A histogram of ``bins`` equal bins over [min, max] (the data's range if both 0)."""
    a = unwrap(input)
    lo, hi = float(min), float(max)
    if lo == hi and a.size:
        lo, hi = float(a.min()), float(a.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    counts, _ = np.histogram(a, bins=bins, range=(lo, hi))
    return wrap(counts.astype(a.dtype))


def meshgrid(*tensors, indexing: str | None = None):
    """Coordinate grids from 1-D tensors: ``indexing='ij'`` (PyTorch's default, with its
    warning when not given) or ``'xy'`` (the first two axes swapped)."""
    if len(tensors) == 1 and isinstance(tensors[0], list | tuple):
        tensors = tuple(tensors[0])
    if indexing is None:
        import warnings

        warnings.warn(
            "torch.meshgrid: in an upcoming release, it will be required to pass the "
            "indexing argument.",
            UserWarning,
            stacklevel=2,
        )
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(
            f'torch.meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}'
        )
    ts = [t.reshape(-1) if t.ndim == 0 else t for t in tensors]
    for t in ts:
        if t.ndim != 1:
            raise RuntimeError(
                f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: {t.ndim}D"
            )
    swap = indexing == "xy" and len(ts) >= 2
    if swap:
        ts[0], ts[1] = ts[1], ts[0]
    shape = tuple(t.shape[0] for t in ts)
    grids = []
    for i, t in enumerate(ts):
        view = [1] * len(ts)
        view[i] = shape[i]
        grids.append(t.reshape(view).expand(shape))
    if swap:  # 'xy' is 'ij' on the first two inputs swapped, outputs swapped back
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


def cartesian_prod(*tensors):
    grids = meshgrid(*tensors, indexing="ij")
    if len(grids) == 1:
        return grids[0]
    return movement.Cat.apply(*[g.reshape(-1, 1) for g in grids], dim=1)


# ------------------------------------------------------------------ distances, statistics
def cdist(x1, x2, p: float = 2.0, compute_mode: str = "use_mm_for_euclid_dist_if_necessary"):
    """Pairwise p-norm distances between the rows of ``x1`` (..., P, M) and ``x2``
    (..., R, M): (..., P, R). The gradient at a zero distance is 0, as PyTorch's."""
    if x1.ndim < 2 or x2.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {x1.ndim}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(
            f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} X2: {x2.shape[-1]}"
        )
    if p < 0:
        raise RuntimeError(f"cdist only supports non-negative p values, got {p}")
    modes = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist")
    if compute_mode not in (*modes, "donot_use_mm_for_euclid_dist"):
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    if p == 2 and (
        compute_mode == modes[1]
        or (compute_mode == modes[0] and (x1.shape[-2] > 25 or x2.shape[-2] > 25))
    ):
        return indexing_ops.EuclideanDist.apply(x1, x2)
    return indexing_ops.Cdist.apply(x1, x2, p=float(p))


@with_out
def median(input, dim=None, keepdim: bool = False):  # noqa: A002
    """The lower median (no averaging of the two middle values, as PyTorch): of all
    entries (gradient shared by the entries equal to it), or along ``dim`` with indices."""
    a = unwrap(input)
    if dim is None:
        if a.size == 0:
            return wrap(np.asarray(np.nan, a.dtype))
        flat = a.reshape(-1)
        if a.dtype.kind == "f" and np.isnan(flat).any():
            value = np.asarray(np.nan, a.dtype)
        else:
            value = np.partition(flat, (flat.size - 1) // 2)[(flat.size - 1) // 2]
        return named(indexing_ops.ShareEqual.apply(input, value=value), "MedianBackward0")
    d = _dim("median", dim, input.ndim)
    if a.ndim == 0:
        return return_types.median(input.clone(), wrap(np.zeros((), np.int64)))
    n = a.shape[d]
    order = _argsort_array(a, d, False)
    pick = np.take(order, [(n - 1) // 2], axis=d)
    if a.dtype.kind == "f":  # a NaN in the slice is its median (sorted last)
        has_nan = np.isnan(a).any(axis=d, keepdims=True)
        pick = np.where(has_nan, np.take(order, [n - 1], axis=d), pick)
        if has_nan.any():  # the first NaN, as PyTorch reports
            first_nan = np.argmax(np.isnan(a), axis=d)
            pick = np.where(has_nan, np.expand_dims(first_nan, d), pick)
    values = indexing_ops.Gather.apply(input, index=pick, dim=d)
    if not keepdim:
        values, pick = values.squeeze(d), np.squeeze(pick, d)
    return return_types.median(named(values, "MedianBackward1"), wrap(pick.astype(np.int64)))


@with_out
def nanmedian(input, dim=None, keepdim: bool = False):  # noqa: A002
    """``median`` ignoring NaN (NaN only where a slice is all NaN)."""
    a = unwrap(input)
    name = "NanmedianBackward0" if dim is None else "NanmedianBackward1"
    if a.dtype.kind != "f" or not np.isnan(a).any():
        result = median(input, dim, keepdim)
        if dim is None:
            return named(result, name)
        return return_types.nanmedian(named(result.values, name), result.indices)
    if dim is None:
        flat = a.reshape(-1)
        ok = flat[~np.isnan(flat)]
        value = np.partition(ok, (ok.size - 1) // 2)[(ok.size - 1) // 2] if ok.size else np.nan
        value = np.asarray(value, a.dtype)
        return named(indexing_ops.ShareEqual.apply(input, value=value), name)
    d = _dim("nanmedian", dim, input.ndim)
    order = _argsort_array(a, d, False)  # NaN last
    count = (~np.isnan(a)).sum(axis=d, keepdims=True)
    pick = np.take_along_axis(order, np.maximum(count - 1, 0) // 2, axis=d)
    values = indexing_ops.Gather.apply(input, index=pick, dim=d)
    if not keepdim:
        values, pick = values.squeeze(d), np.squeeze(pick, d)
    return return_types.nanmedian(named(values, name), wrap(pick.astype(np.int64)))


_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile_q(fn: str, input, q, interpolation: str) -> np.ndarray:  # noqa: A002
    """``q`` as an array, after PyTorch's checks of the quantile arguments."""
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(
            f"{fn}() interpolation must be one of {', '.join(_INTERPOLATIONS)}. Got {interpolation}"
        )
    if not input.dtype.is_floating_point:
        raise RuntimeError(
            f"{fn}() input tensor must be either float or double dtype, got {input.dtype}"
        )
    qa = unwrap(q) if isinstance(q, _graph.Tensor) else np.asarray(q, dtype=np.float64)
    if qa.ndim > 1:
        raise RuntimeError(f"{fn}() q must be a scalar or 1D tensor")
    if qa.size and (qa.min() < 0 or qa.max() > 1):
        raise RuntimeError(f"{fn}() q values must be in the range [0, 1]")
    return qa


@with_out
def quantile(input, q, dim=None, keepdim: bool = False, *, interpolation: str = "linear"):  # noqa: A002
    """The ``q``-quantiles (a number or a 1-D tensor in [0, 1]) of all entries or along
    ``dim``, interpolated between the two nearest ranks as PyTorch does; a 1-D ``q``
    adds a leading axis. Differentiable through the two selected entries."""
    qa = _quantile_q("quantile", input, q, interpolation)
    scalar_q = qa.ndim == 0
    x = input
    if dim is None:
        x = input.reshape(-1)
        d = 0
    else:
        d = _dim("quantile", dim, input.ndim)
    if x.ndim == 0:
        x = x.reshape(1)
    srt = sort(x, d).values
    n = x.shape[d]
    dt = unwrap(x).dtype  # PyTorch takes q in the input's dtype, so the ranks round there
    ranks = qa.reshape(-1).astype(dt) * dt.type(n - 1)
    lo = np.floor(ranks).astype(np.int64)
    hi = np.ceil(ranks).astype(np.int64)
    if interpolation == "lower":
        hi = lo
    elif interpolation == "higher":
        lo = hi
    elif interpolation == "nearest":
        lo = hi = np.round(ranks).astype(np.int64)  # half to even, as torch.round
    below = srt.index_select(d, wrap(lo))
    above = srt.index_select(d, wrap(hi))
    shape = [1] * x.ndim
    shape[d] = lo.size
    if interpolation == "midpoint":
        w = np.full(lo.size, 0.5)
    elif interpolation == "linear":
        w = ranks - lo
    else:
        w = np.zeros(lo.size)
    w = wrap(w.astype(x.dtype).reshape(shape))
    # PyTorch's lerp: below + w (above - below) for w < 0.5, else above - (above - below)(1 - w)
    diff = above - below
    out = where(w < 0.5, below + w * diff, above - diff * (1 - w))
    a = unwrap(x)
    nan_rows = np.isnan(a).any(axis=d, keepdims=True)
    if nan_rows.any():
        out = out.masked_fill(wrap(np.broadcast_to(nan_rows, out.shape)), float("nan"))
    out = out.permute(d, *[i for i in range(x.ndim) if i != d])
    if keepdim:
        kept = [1 if dim is None or i == d else n_i for i, n_i in enumerate(input.shape)]
        out = out.reshape([lo.size] + kept)
    # PyTorch ends quantile with a squeeze of its q axis, whatever the arguments
    return named(out[0] if scalar_q else out, "SqueezeBackward4")


@with_out
def nanquantile(input, q, dim=None, keepdim: bool = False, *, interpolation: str = "linear"):  # noqa: A002
    """``quantile`` ignoring NaN: each slice's ranks count only its non-NaN entries (NaN
    only where a slice is all NaN)."""
    qa = _quantile_q("nanquantile", input, q, interpolation)
    if not np.isnan(unwrap(input)).any():
        return quantile(input, q, dim, keepdim, interpolation=interpolation)
    x, d = (input.reshape(-1), 0) if dim is None else (input, _dim("nanquantile", dim, input.ndim))
    srt = sort(x, d).values  # NaN last
    count = (~np.isnan(unwrap(x))).sum(axis=d, keepdims=True)
    outs = []
    dt = unwrap(x).dtype
    for qv in qa.reshape(-1).astype(dt):
        ranks = qv * (count - 1).astype(dt)
        lo, hi = np.floor(ranks).astype(np.int64), np.ceil(ranks).astype(np.int64)
        if interpolation == "lower":
            hi = lo
        elif interpolation == "higher":
            lo = hi
        elif interpolation == "nearest":
            lo = hi = np.round(ranks).astype(np.int64)
        lo, hi = np.maximum(lo, 0), np.maximum(hi, 0)
        below = take_along_dim(srt, wrap(lo), d)
        above = take_along_dim(srt, wrap(hi), d)
        if interpolation == "linear":
            w = ranks - lo
        else:
            w = np.full(ranks.shape, 0.5 if interpolation == "midpoint" else 0.0)
        w = wrap(w.astype(unwrap(x).dtype))
        diff = above - below
        out = where(w < 0.5, below + w * diff, above - diff * (1 - w))
        outs.append(out.masked_fill(wrap(count == 0), float("nan")))
    out = movement.Cat.apply(*[o.unsqueeze(0) for o in outs], dim=0)
    if dim is None:
        out = out.reshape([len(outs)] + ([1] * input.ndim if keepdim else []))
    elif not keepdim:
        out = out.squeeze(d + 1)
    return named(out[0] if qa.ndim == 0 else out, "SqueezeBackward4")


# ------------------------------------------------------------------ norms and linear algebra
@with_out
def norm(input, p="fro", dim=None, keepdim: bool = False, dtype=None):  # noqa: A002
    """``torch.norm``: 'fro' (the 2-norm of the entries over ``dim``), 'nuc' (the
    nuclear norm of the matrices in the planes ``dim``) or a number p (a vector p-norm
    over ``dim``, all entries if None). The 2-norm's gradient at 0 is 0, as PyTorch's."""
    if isinstance(p, str):
        if p == "fro":
            return linalg.vector_norm(input, 2, dim, keepdim, dtype=dtype)
        if p == "nuc":
            return linalg.matrix_norm(input, "nuc", (-2, -1) if dim is None else dim, keepdim)
        raise RuntimeError(f"norm(): unsupported norm type {p!r}")
    return linalg.vector_norm(input, 2 if p is None else p, dim, keepdim, dtype=dtype)


@with_out
def inverse(input):  # noqa: A002
    return linalg.inv(input)


@with_out
def det(input):  # noqa: A002
    return linalg.det(input)


@with_out
def logdet(input):  # noqa: A002
    """log det(A): NaN for a negative determinant, -inf for 0 (PyTorch's)."""
    sign, logabs = linalg.slogdet(input)
    s = unwrap(sign)
    bad = np.where(s < 0, np.nan, np.where(s == 0, -np.inf, 0.0)).astype(input.dtype)
    return logabs + wrap(bad)


def slogdet(input):  # noqa: A002
    sign, logabs = linalg.slogdet(input)
    return return_types.slogdet(sign, logabs)


@with_out
def cholesky(input, upper: bool = False):  # noqa: A002
    return linalg.cholesky(input, upper=upper)


@with_out
def cholesky_solve(B, L, upper: bool = False):  # noqa: N803
    """X with A X = B, A = L L^T given its Cholesky factor L (``upper``: A = U^T U):
    two triangular solves; gradients reach B and the factor as PyTorch's.
    B and L are (batches of) matrices whose batch dimensions broadcast."""
    if B.ndim < 2 or L.ndim < 2:
        raise RuntimeError(
            f"cholesky_solve: expected B and the factor to have at least 2 dimensions, "
            f"got {B.ndim} and {L.ndim}"
        )
    return linalg._named(
        linalg_ops.CholeskySolve.apply(B, L, upper=upper), "CholeskySolveBackward0"
    )


@with_out
def cholesky_inverse(L, upper: bool = False):  # noqa: N803
    """The inverse of A = L L^T (``upper``: A = U^T U) from its Cholesky factor."""
    linalg._square("cholesky_inverse", L)
    eye = wrap(np.broadcast_to(np.eye(L.shape[-1], dtype=unwrap(L).dtype), L.shape).copy())
    inv = cholesky_solve(eye, L, upper)
    return linalg._named(inv, "CholeskyInverseBackward0")


def svd(input, some: bool = True, compute_uv: bool = True):  # noqa: A002
    """``torch.svd``: (U, S, V) with V (not V^T); ``some=False`` gives full U and V."""
    u, s, vh = linalg.svd(input, full_matrices=not some)
    if not compute_uv:
        m, n = input.shape[-2:]
        zeros_u = wrap(np.zeros(input.shape[:-2] + (m, m if not some else min(m, n)), input.dtype))
        zeros_v = wrap(np.zeros(input.shape[:-2] + (n, n if not some else min(m, n)), input.dtype))
        return return_types.svd(zeros_u, s, zeros_v)
    return return_types.svd(u, s, vh.mT)
