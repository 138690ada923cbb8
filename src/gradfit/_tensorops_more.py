"""More of PyTorch's shape and linear-algebra functions: ``addmm``, ``tensordot``,
``kron``, ``cross``, ``diff``, ``movedim``, ``hstack``, ``tensor_split``, ``searchsorted``, ...

Each differentiable one is built from existing differentiable operations (matmul,
reshape, permute, narrow, cat, ...), so its gradient and second order come from theirs.
Index results (``searchsorted``, ``bucketize``, ``isin``, ``tril_indices``) carry no graph.
"""

from __future__ import annotations

import builtins
import itertools
import math
from typing import TYPE_CHECKING

import numpy as np

from gradfit import _dtypes, linalg
from gradfit import _tensorops as _tops
from gradfit._arrays import set_array, unwrap, wrap
from gradfit._out import factory_with_out, with_out
from gradfit.autograd import function as _graph
from gradfit.autograd._torch_names import named
from gradfit.ops import movement

if TYPE_CHECKING:
    from gradfit.tensor import Tensor


def _t(x) -> Tensor:
    return x if isinstance(x, _graph.Tensor) else _graph.Tensor(x)


def _dim(fn: str, dim, ndim: int) -> int:
    return _tops._dim(fn, dim, ndim)


def _cat(tensors, d: int):
    tensors = list(tensors)
    return tensors[0] if len(tensors) == 1 else movement.Cat.apply(*tensors, dim=d)


def _need(fn: str, name: str, x, ndim: int) -> None:
    if x.ndim != ndim:
        raise RuntimeError(f"{fn}: {name} must be a {ndim}D tensor, got a {x.ndim}D tensor")


# ------------------------------------------------------------------ products
def _scaled_sum(fn: str, input, product, beta, alpha):  # noqa: A002
    """``beta * input + alpha * product``; ``input`` broadcasts to the product's shape and
    is ignored when ``beta`` is 0 (its nan and inf do not propagate), as in PyTorch."""
    input = _t(input)  # noqa: A001
    try:
        shape = np.broadcast_shapes(tuple(input.shape), tuple(product.shape))
    except ValueError:
        shape = None
    if shape != tuple(product.shape):
        raise RuntimeError(
            f"{fn}: input of shape {list(input.shape)} does not broadcast to the product's "
            f"shape {list(product.shape)}"
        )
    p = product if alpha == 1 else product * alpha
    if beta != 0:
        p = (input if beta == 1 else input * beta) + p
    return named(p, fn.capitalize() + "Backward0")  # PyTorch's one fused node


@with_out
def mv(input, vec):  # noqa: A002
    """Matrix (n, m) times vector (m,): (n,)."""
    _need("mv", "input", input, 2)
    _need("mv", "vec", vec, 1)
    if input.shape[1] != vec.shape[0]:
        raise RuntimeError(
            f"size mismatch, got input ({input.shape[0]}x{input.shape[1]}), vec ({vec.shape[0]})"
        )
    return input.matmul(vec)


def _mm(fn: str, a, b):
    _need(fn, "mat1", a, 2)
    _need(fn, "mat2", b, 2)
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(
            f"{fn}: mat1 and mat2 shapes cannot be multiplied "
            f"({a.shape[0]}x{a.shape[1]} and {b.shape[0]}x{b.shape[1]})"
        )
    return a.matmul(b)


def _bmm(fn: str, a, b):
    _need(fn, "batch1", a, 3)
    _need(fn, "batch2", b, 3)
    if a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
        raise RuntimeError(
            f"{fn}: batch1 {list(a.shape)} and batch2 {list(b.shape)} cannot be multiplied "
            "(expected equal batch sizes and batch1.size(2) == batch2.size(1))"
        )
    return a.matmul(b)


@with_out
def addmm(input, mat1, mat2, *, beta=1, alpha=1):  # noqa: A002
    """``beta * input + alpha * (mat1 @ mat2)``."""
    return _scaled_sum("addmm", input, _mm("addmm", mat1, mat2), beta, alpha)


@with_out
def addmv(input, mat, vec, *, beta=1, alpha=1):  # noqa: A002
    """``beta * input + alpha * (mat @ vec)``."""
    return _scaled_sum("addmv", input, mv(mat, vec), beta, alpha)


@with_out
def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):  # noqa: A002
    """``beta * input + alpha * bmm(batch1, batch2)``."""
    return _scaled_sum("baddbmm", input, _bmm("baddbmm", batch1, batch2), beta, alpha)


@with_out
def addbmm(input, batch1, batch2, *, beta=1, alpha=1):  # noqa: A002
    """``beta * input + alpha * sum_b(batch1[b] @ batch2[b])``."""
    return _scaled_sum("addbmm", input, _bmm("addbmm", batch1, batch2).sum(0), beta, alpha)


def _dims_pair(fn: str, dims, na: int, nb: int):
    if isinstance(dims, _graph.Tensor):
        dims = unwrap(dims).tolist()
    if isinstance(dims, int | np.integer):
        if dims < 0:
            raise RuntimeError(f"{fn} expects dims >= 0, but got dims={dims}")
        if dims > builtins.min(na, nb):
            raise RuntimeError(
                f"{fn}: dims={dims} is larger than the number of dimensions of the inputs "
                f"({na} and {nb})"
            )
        return list(range(na - dims, na)), list(range(dims))
    if isinstance(dims, list | tuple) and len(dims) == 2:
        da, db = dims
        da = [da] if isinstance(da, int | np.integer) else list(da)
        db = [db] if isinstance(db, int | np.integer) else list(db)
        if len(da) != len(db):
            raise RuntimeError(
                f"{fn}: both dimension lists should have same length, got {da} and {db}"
            )
        return [_dim(fn, d, na) for d in da], [_dim(fn, d, nb) for d in db]
    raise TypeError(f"{fn}: dims must be an int or a pair of dimension lists, got {dims!r}")


@with_out
def tensordot(a, b, dims=2):
    """Sum of products over ``dims`` of ``a`` and ``b``: the free axes of ``a`` then of ``b``."""
    a, b = _t(a), _t(b)
    da, db = _dims_pair("tensordot", dims, a.ndim, b.ndim)
    for i, j in zip(da, db, strict=True):
        if a.shape[i] != b.shape[j]:
            raise RuntimeError(
                f"contracted dimensions need to match, but first has size {a.shape[i]} in dim "
                f"{i} and second has size {b.shape[j]} in dim {j}"
            )
    free_a = [i for i in range(a.ndim) if i not in da]
    free_b = [j for j in range(b.ndim) if j not in db]
    k = math.prod(a.shape[i] for i in da)
    out_shape = [a.shape[i] for i in free_a] + [b.shape[j] for j in free_b]
    am = a.permute(*free_a, *da).reshape(math.prod(a.shape[i] for i in free_a), k)
    bm = b.permute(*db, *free_b).reshape(k, math.prod(b.shape[j] for j in free_b))
    return am.matmul(bm).reshape(out_shape)


@with_out
def inner(input, other):  # noqa: A002
    """Dot product over the last axes; a 0-d argument multiplies."""
    input, other = _t(input), _t(other)  # noqa: A001
    if input.ndim == 0 or other.ndim == 0:
        return input * other
    if input.shape[-1] != other.shape[-1]:
        raise RuntimeError(
            f"inner() the last dimension must match on both input tensors but got shapes "
            f"{list(input.shape)} and {list(other.shape)}"
        )
    return tensordot(input, other, dims=([-1], [-1]))


@with_out
def vdot(input, other):  # noqa: A002
    """Dot product of two 1-D tensors (the first conjugated, which is a no-op for reals)."""
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {other.ndim}D tensors")
    if input.shape[0] != other.shape[0]:
        raise RuntimeError(
            f"inconsistent tensor size, expected tensor [{input.shape[0]}] and src "
            f"[{other.shape[0]}] to have the same number of elements, but got "
            f"{input.shape[0]} and {other.shape[0]} elements respectively"
        )
    if input.dtype != other.dtype:
        raise RuntimeError(
            f"dot : expected both vectors to have same dtype, but found {input.dtype} "
            f"and {other.dtype}"
        )
    return (input.conj() * other).sum()


@with_out
def kron(input, other):  # noqa: A002
    """Kronecker product: block (i, j, ...) is ``input[i, j, ...] * other``."""
    input, other = _t(input), _t(other)  # noqa: A001
    n = builtins.max(input.ndim, other.ndim)
    sa = (1,) * (n - input.ndim) + tuple(input.shape)
    sb = (1,) * (n - other.ndim) + tuple(other.shape)
    a = input.reshape([v for s in sa for v in (s, 1)])
    b = other.reshape([v for s in sb for v in (1, s)])
    out = (a * b).reshape([x * y for x, y in zip(sa, sb, strict=True)])
    return named(out, "UnsafeViewBackward0")


def broadcast_tensors(*tensors):
    """The tensors expanded to their common broadcast shape (views, differentiable)."""
    if len(tensors) == 1 and isinstance(tensors[0], list | tuple):
        tensors = tuple(tensors[0])
    tensors = [_t(x) for x in tensors]
    try:
        shape = np.broadcast_shapes(*[tuple(x.shape) for x in tensors])
    except ValueError:
        raise RuntimeError(_graph.broadcast_error([tuple(x.shape) for x in tensors])) from None
    return tuple(x if tuple(x.shape) == shape else x.expand(*shape) for x in tensors)


@with_out
def cross(input, other, dim=None):  # noqa: A002
    """Cross product of 3-vectors along ``dim`` (default: the first axis of size 3)."""
    a, b = broadcast_tensors(input, other)
    if dim is None:
        sizes = [i for i, s in enumerate(a.shape) if s == 3]
        if not sizes:
            raise RuntimeError(f"no dimension of size 3 in input of shape {list(a.shape)}")
        d = sizes[0]
    else:
        d = _dim("cross", dim, a.ndim)
    if a.shape[d] != 3:
        raise RuntimeError(
            f"linalg.cross: inputs dimension {d} must have length 3. Got shapes "
            f"{list(_t(input).shape)} and {list(_t(other).shape)}"
        )
    a0, a1, a2 = (a.narrow(d, i, 1) for i in range(3))
    b0, b1, b2 = (b.narrow(d, i, 1) for i in range(3))
    out = _cat([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], d)
    return named(out, "LinalgCrossBackward0")


@with_out
def diff(input, n: int = 1, dim: int = -1, prepend=None, append=None):  # noqa: A002
    """The ``n``-th forward difference along ``dim``, after ``prepend``/``append``."""
    if input.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    d = _dim("diff", dim, input.ndim)
    parts = []
    for extra in (prepend, input, append):
        if extra is None:
            continue
        extra = _t(extra)
        if extra.ndim != input.ndim:
            raise RuntimeError(
                "diff expects prepend or append to be the same dimension as input, got "
                f"{extra.ndim} and {input.ndim}"
            )
        parts.append(extra)
    x = _cat(parts, d)
    for _ in range(n):
        m = x.shape[d]
        if m == 0:
            break
        hi, lo = x.narrow(d, 1, m - 1), x.narrow(d, 0, m - 1)
        x = (hi != lo) if x.dtype == _dtypes.bool_ else hi - lo
    return x


@with_out
def dist(input, other, p=2):  # noqa: A002
    """The ``p``-norm of ``input - other`` (broadcast), over all elements."""
    # one node in PyTorch (DistBackward0), as programs print it
    return named(linalg.vector_norm(_t(input) - other, ord=p), "DistBackward0")


# ------------------------------------------------------------------ moving axes, splitting
def movedim(input, source, destination):  # noqa: A002
    """Move axes ``source`` to positions ``destination`` (ints or sequences), others in order."""
    src = [source] if isinstance(source, int | np.integer) else list(source)
    dst = [destination] if isinstance(destination, int | np.integer) else list(destination)
    if len(src) != len(dst):
        raise RuntimeError(
            f"movedim: Invalid source or destination dims: source ({src} dims) should contain "
            f"the same number of dims as destination ({dst} dims)"
        )
    n = input.ndim
    src = [_dim("movedim", s, n) for s in src]
    dst = [_dim("movedim", s, n) for s in dst]
    if len(set(src)) != len(src):
        raise RuntimeError(f"movedim: repeated dim in `source` ({src})")
    if len(set(dst)) != len(dst):
        raise RuntimeError(f"movedim: repeated dim in `destination` ({dst})")
    order = [i for i in range(n) if i not in src]
    for d, s in sorted(zip(dst, src, strict=True)):
        order.insert(d, s)
    return input.permute(*order) if order != list(range(n)) else input.view(*input.shape)


moveaxis = movedim


def ravel(input):  # noqa: A002
    return input.reshape(-1)


def select(input, dim: int, index: int):  # noqa: A002
    """The slice at ``index`` along ``dim``, that axis removed."""
    if input.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = _dim("select", dim, input.ndim)
    size = input.shape[d]
    if not -size <= index < size:
        raise IndexError(
            f"select(): index {index} out of range for tensor of size {list(input.shape)} "
            f"at dimension {d}"
        )
    return input[(slice(None),) * d + (int(index) % size,)]


def take(input, index):  # noqa: A002
    """``input`` read as 1-D at ``index`` (negative counts from the end); shaped as ``index``."""
    idx = _tops._index_array("take", index, int64=True)
    n = input.numel()
    if idx.size and (idx.min() < -n or idx.max() >= n):
        bad = int(idx.min() if idx.min() < -n else idx.max())
        raise IndexError(f"out of range: tried to access index {bad} on a tensor of {n} elements.")
    flat = _tops.take_along_dim(input.reshape(-1), wrap((idx % builtins.max(n, 1)).reshape(-1)))
    return flat.reshape(idx.shape)


def as_strided(input, size, stride, storage_offset=None):  # noqa: A002
    """The view of ``input``'s values, read in row-major order as PyTorch reads a
    contiguous tensor's storage, with ``size``, ``stride`` and ``storage_offset`` (in
    elements). Differentiable: entries read twice (overlapping windows) add their
    gradients, as PyTorch's as_strided backward does."""
    size, stride = tuple(int(v) for v in size), tuple(int(v) for v in stride)
    if len(size) != len(stride):
        raise RuntimeError(f"mismatch in length of strides and shape: {len(stride)} vs {len(size)}")
    if any(v < 0 for v in stride):
        raise RuntimeError("as_strided: Negative strides are not supported at the moment, "
                           f"got strides: {list(stride)}")  # fmt: skip
    offset = 0 if storage_offset is None else int(storage_offset)
    positions = np.full(size, offset, dtype=np.int64)
    for axis, (n, st) in enumerate(zip(size, stride)):
        shape = [1] * len(size)
        shape[axis] = n
        positions = positions + (np.arange(n, dtype=np.int64) * st).reshape(shape)
    n = input.numel()
    if positions.size and positions.max() >= n:
        raise RuntimeError(
            f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {offset}, "
            f"and itemsize {unwrap(input).itemsize} requiring a storage size of "
            f"{(int(positions.max()) + 1) * unwrap(input).itemsize} are out of bounds for "
            f"storage of size {n * unwrap(input).itemsize}"
        )
    if unwrap(input).flags.c_contiguous:  # its memory is PyTorch's storage order
        from gradfit.ops import indexing as _indexing

        return _indexing.AsStrided.apply(input, size=size, stride=stride, offset=offset)
    return named(take(input, wrap(positions)), "AsStridedBackward0")


def unflatten(input, dim: int, sizes):  # noqa: A002
    """Axis ``dim`` split into ``sizes`` (one entry may be -1)."""
    d = _dim("unflatten", dim, input.ndim)
    sizes = [int(s) for s in sizes]
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    n = input.shape[d]
    known = math.prod(s for s in sizes if s != -1)
    if (
        sizes.count(-1) > 1
        or (-1 not in sizes and known != n)
        or (-1 in sizes and (known == 0 or n % known))
    ):
        raise RuntimeError(
            f"unflatten: Provided sizes {sizes} don't multiply up to the size of dim {d} ({n}) "
            "in the input tensor"
        )
    shape = list(input.shape)
    return input.reshape(shape[:d] + sizes + shape[d + 1 :])


def _atleast(x, k: int):
    x = _t(x)
    if x.ndim >= k:
        return x
    if k == 3 and x.ndim == 2:
        return x.unsqueeze(-1)
    shape = [1] * (k - x.ndim) + list(x.shape)
    if k == 3 and x.ndim == 1:
        shape = [1, x.shape[0], 1]
    return x.reshape(shape)


def _seq(fn: str, tensors):
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError(f"{fn} expects a non-empty TensorList")
    return tensors


def _cat_checked(fn: str, tensors, d: int):
    movement.check_cat([x.shape for x in tensors], d)
    return movement.Cat.apply(*tensors, dim=d)


@with_out
def hstack(tensors):
    ts = [_atleast(x, 1) for x in _seq("hstack", tensors)]
    return _cat_checked("hstack", ts, 0 if ts[0].ndim == 1 else 1)


@with_out
def vstack(tensors):
    return _cat_checked("vstack", [_atleast(x, 2) for x in _seq("vstack", tensors)], 0)


row_stack = vstack


@with_out
def dstack(tensors):
    return _cat_checked("dstack", [_atleast(x, 3) for x in _seq("dstack", tensors)], 2)


@with_out
def column_stack(tensors):
    ts = [_t(x) for x in _seq("column_stack", tensors)]
    ts = [x.reshape(-1, 1) if x.ndim <= 1 else x for x in ts]
    return _cat_checked("column_stack", ts, 1)


def _pieces(x, d: int, bounds):
    n = x.shape[d]
    out = []
    for lo, hi in itertools.pairwise([0, *bounds, n]):
        lo, hi = builtins.min(builtins.max(lo, 0), n), builtins.min(builtins.max(hi, 0), n)
        out.append(x.narrow(d, lo, builtins.max(hi - lo, 0)))
    return tuple(out)


def tensor_split(input, indices_or_sections, dim: int = 0):  # noqa: A002
    """Split into ``n`` nearly equal pieces (the first ``size % n`` one larger) or at the
    given indices."""
    if input.ndim == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor")
    d = _dim("tensor_split", dim, input.ndim)
    ios = indices_or_sections
    if isinstance(ios, _graph.Tensor):
        ios = unwrap(ios).tolist()
    if isinstance(ios, int | np.integer):
        if ios <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {ios}")
        n = input.shape[d]
        q, r = divmod(n, int(ios))
        sizes = [q + 1] * r + [q] * (int(ios) - r)
        return _pieces(input, d, list(itertools.accumulate(sizes))[:-1])
    n = input.shape[d]
    return _pieces(input, d, [int(i) + n if i < 0 else int(i) for i in ios])


def _split_dim(fn: str, input, ios, d: int, min_ndim: int):  # noqa: A002
    if input.ndim < min_ndim:
        raise RuntimeError(
            f"torch.{fn} requires a tensor with at least {min_ndim} dimension, but got a tensor "
            f"with {input.ndim} dimensions!"
        )
    if isinstance(ios, int | np.integer):
        if ios == 0 or input.shape[d] % ios:
            raise RuntimeError(
                f"torch.{fn} attempted to split along dimension {d}, but the size of the "
                f"dimension {input.shape[d]} is not divisible by the split_size {ios}!"
            )
    return tensor_split(input, ios, d)


def hsplit(input, indices_or_sections):  # noqa: A002
    return _split_dim("hsplit", input, indices_or_sections, 0 if input.ndim == 1 else 1, 1)


def vsplit(input, indices_or_sections):  # noqa: A002
    return _split_dim("vsplit", input, indices_or_sections, 0, 2)


def dsplit(input, indices_or_sections):  # noqa: A002
    return _split_dim("dsplit", input, indices_or_sections, 2, 3)


# ------------------------------------------------------------------ index builders
def _tri_indices(fn: str, row: int, col: int, offset: int, dtype, upper: bool):
    if row < 0 or col < 0:
        raise RuntimeError(f"{fn}: row and col must be non-negative, got row={row}, col={col}")
    dt = _dtypes.to_dtype(dtype) if dtype is not None else np.dtype(np.int64)
    if dt.kind not in "iu":
        raise RuntimeError(f"{fn}: dtype must be an integer type, got {dt}")
    r, c = (np.triu_indices if upper else np.tril_indices)(row, offset, col)
    return wrap(np.stack([r, c]).astype(dt).reshape(2, -1))


def tril_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None, layout=None):
    """The (2, N) row and column indices of the lower triangle of a ``row`` x ``col`` matrix."""
    return _tri_indices("tril_indices", row, col, offset, dtype, upper=False)


def triu_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None, layout=None):
    """The (2, N) row and column indices of the upper triangle of a ``row`` x ``col`` matrix."""
    return _tri_indices("triu_indices", row, col, offset, dtype, upper=True)


@with_out
def diagflat(input, offset: int = 0):  # noqa: A002
    """A 2-D matrix with the flattened ``input`` on its ``offset``-th diagonal."""
    return _tops.diag(_t(input).reshape(-1), offset)


def combinations(input, r: int = 2, with_replacement: bool = False):  # noqa: A002
    """The length-``r`` combinations of a 1-D tensor's elements, one per row (r, 0: empty)."""
    if input.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input.shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return input.narrow(0, 0, 0)
    pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    idx = np.array(list(pick(range(input.shape[0]), r)), dtype=np.int64).reshape(-1, r)
    return take(input, wrap(idx))


# ------------------------------------------------------------------ searching (no gradient)
def _side(fn: str, right: bool, side) -> str:
    if side is None:
        return "right" if right else "left"
    if side not in ("left", "right"):
        raise RuntimeError(f"{fn}(): side can only be 'left' or 'right' but got {side!r}")
    if right and side == "left":
        raise RuntimeError(
            f"{fn}(): side and right can't be set to opposites, got side of left while "
            "right was True"
        )
    return side


def _positions(seq: np.ndarray, vals: np.ndarray, side: str, out_int32: bool) -> Tensor:
    out_dtype = np.int32 if out_int32 else np.int64
    if seq.ndim == 1:
        return wrap(np.searchsorted(seq, vals, side=side).astype(out_dtype))
    rows_s = seq.reshape(-1, seq.shape[-1])
    rows_v = vals.reshape(-1, vals.shape[-1])
    found = [np.searchsorted(s, v, side=side) for s, v in zip(rows_s, rows_v, strict=True)]
    return wrap(np.array(found, dtype=out_dtype).reshape(vals.shape))


def searchsorted(
    sorted_sequence,
    values,
    *,
    out_int32: bool = False,
    right: bool = False,
    side=None,
    sorter=None,
    out=None,
):
    """For each value, the index where inserting it keeps ``sorted_sequence`` sorted along
    its last axis (leftmost such index, or rightmost with ``right=True``/``side='right'``)."""
    side = _side("torch.searchsorted", right, side)
    seq = unwrap(_t(sorted_sequence))
    scalar = not isinstance(values, _graph.Tensor)
    vals = np.asarray(values) if scalar else unwrap(values)
    if seq.ndim == 0:
        raise RuntimeError(
            "torch.searchsorted(): boundaries tensor should have positive dimension, but got 0 "
            "dimension"
        )
    if sorter is not None:
        order = _tops._index_array("torch.searchsorted", sorter, int64=True)
        if order.shape != seq.shape:
            raise RuntimeError(
                f"torch.searchsorted(): boundary and sorter must have the same size, but got "
                f"boundary tensor {list(seq.shape)} and got sorter tensor {list(order.shape)}"
            )
        seq = np.take_along_axis(seq, order, axis=-1)
    if seq.ndim > 1 and (vals.ndim != seq.ndim or vals.shape[:-1] != seq.shape[:-1]):
        raise RuntimeError(
            "torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
            "dimensions of boundaries tensor and input value tensor must match, but we got "
            f"boundaries tensor {list(seq.shape)} and input value tensor {list(vals.shape)}"
        )
    result = _positions(seq, vals, side, out_int32)
    if out is not None:
        set_array(out, unwrap(result))
        return out
    return result


def bucketize(input, boundaries, *, out_int32: bool = False, right: bool = False, out=None):  # noqa: A002
    """The index of the bucket of ``boundaries`` (1-D, sorted) each element falls in:
    ``boundaries[i-1] < x <= boundaries[i]`` (``<= x <`` with ``right=True``)."""
    b = unwrap(_t(boundaries))
    if b.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({b.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right, out=out)


def isin(elements, test_elements, *, assume_unique: bool = False, invert: bool = False):
    """A boolean tensor shaped as ``elements``: True where the element is in ``test_elements``."""
    if not isinstance(elements, _graph.Tensor) and not isinstance(test_elements, _graph.Tensor):
        raise TypeError("isin() expected at least one of elements and test_elements to be a Tensor")
    e = np.asarray(elements) if not isinstance(elements, _graph.Tensor) else unwrap(elements)
    t = (
        np.asarray(test_elements)
        if not isinstance(test_elements, _graph.Tensor)
        else unwrap(test_elements)
    )
    return wrap(np.isin(e, t, invert=invert))


# ------------------------------------------------------------------ statistics, integration
def cov(input, *, correction: int = 1, fweights=None, aweights=None):  # noqa: A002
    """Covariance of the rows (variables) of ``input`` over its columns (observations), with
    optional integer frequency weights and float observation weights, as ``torch.cov``."""
    if input.ndim > 2:
        raise RuntimeError(
            "cov(): expected input to have two or fewer dimensions but got an input with "
            f"{input.ndim} dimensions"
        )
    x = input.reshape(1, -1) if input.ndim < 2 else input
    n_obs = x.shape[1]
    w = None
    if fweights is not None:
        fw = unwrap(_t(fweights))
        if fw.ndim > 1 or fw.shape[0:1] != (n_obs,):
            raise RuntimeError(
                f"cov(): expected fweights to have one dimension of size {n_obs} but got "
                f"shape {list(fw.shape)}"
            )
        if fw.dtype.kind not in "iu":
            raise RuntimeError(
                f"cov(): expected fweights to have integral dtype but got {fw.dtype}"
            )
        if (fw < 0).any():
            raise RuntimeError("cov(): fweights cannot be negative")
        w = wrap(fw.astype(unwrap(x).dtype))
    if aweights is not None:
        aw = _t(aweights)
        if aw.ndim > 1 or tuple(aw.shape)[0:1] != (n_obs,):
            raise RuntimeError(
                f"cov(): expected aweights to have one dimension of size {n_obs} but got "
                f"shape {list(aw.shape)}"
            )
        if unwrap(aw).dtype.kind != "f":
            raise RuntimeError(
                f"cov(): expected aweights to have floating point dtype but got {aw.dtype}"
            )
        if (unwrap(aw) < 0).any():
            raise RuntimeError("cov(): aweights cannot be negative")
        w = aw if w is None else w * aw
    if w is None:
        avg = x.mean(1)
        norm = float(n_obs - correction)
    else:
        w_sum = w.sum()
        avg = (x * w).sum(1) / w_sum
        if correction == 0:
            norm = w_sum
        elif aweights is None:
            norm = w_sum - correction
        else:
            norm = w_sum - correction * (w * aweights).sum() / w_sum
    if isinstance(norm, float):
        norm = builtins.max(norm, 0.0)
    else:
        norm = norm.clamp(min=0)
    xm = x - avg.unsqueeze(1)
    c = xm.matmul((xm if w is None else xm * w).t())
    out = c / norm
    return out.reshape(()) if out.shape == (1, 1) else out


def trapezoid(y, x=None, *, dx=None, dim: int = -1):
    """The trapezoid rule along ``dim``: samples ``y`` at points ``x`` (1-D, or broadcasting
    with ``y``) or spaced ``dx`` apart (default 1)."""
    d = _dim("trapezoid", dim, y.ndim)
    n = y.shape[d]
    if x is not None and dx is not None:
        raise RuntimeError("trapezoid: received both x and dx; pass at most one")
    if n == 0:
        return y.sum(d) * 0
    mid = (y.narrow(d, 1, n - 1) + y.narrow(d, 0, n - 1)) * 0.5
    if x is None:
        return named(mid.sum(d) * (1.0 if dx is None else dx), "MulBackward1")
    x = _t(x)
    if x.ndim == 1:
        if x.shape[0] != n:
            raise RuntimeError(
                f"trapezoid: There must be one `x` value for each sample point, got "
                f"{x.shape[0]} x values and {n} samples along dimension {d}"
            )
        shape = [1] * y.ndim
        shape[d] = n - 1
        step = diff(x).reshape(shape)
    else:
        step = diff(x, dim=d - y.ndim)
    return named((mid * step).sum(d), "DivBackward1")


trapz = trapezoid


def vander(x, N: int | None = None, increasing: bool = False):  # noqa: N803 - PyTorch's name
    """The Vandermonde matrix of a 1-D ``x``: columns ``x ** (N-1), ..., x ** 0`` (increasing
    powers with ``increasing=True``); built by a cumulative product, as PyTorch's."""
    if x.ndim != 1:
        raise RuntimeError(f"x must be a one-dimensional tensor, got {x.ndim} dimensions")
    n = x.shape[0] if N is None else int(N)
    if n < 0:
        raise RuntimeError(f"N must be non-negative, got {n}")
    if n == 0:
        return x.reshape(-1, 1).narrow(1, 0, 0)
    dt = unwrap(x).dtype
    dt = np.dtype(np.int64) if dt.kind in "biu" else dt
    xs = x if unwrap(x).dtype == dt else wrap(unwrap(x).astype(dt))
    ones = wrap(np.ones((x.shape[0], 1), dtype=dt))
    cols = [ones] + ([xs.unsqueeze(1).expand(x.shape[0], n - 1)] if n > 1 else [])
    out = _cat(cols, 1).cumprod(1)
    return out if increasing else out.flip(1)


@factory_with_out
def logspace(
    start,
    end,
    steps: int,
    base: float = 10.0,
    *,
    out=None,
    dtype=None,
    layout=None,
    device=None,
    requires_grad: bool = False,
):
    """``steps`` points ``base ** t`` for ``t`` evenly spaced from ``start`` to ``end``."""
    if steps < 0:
        raise RuntimeError(f"number of steps must be non-negative, got {steps}")
    dt = _dtypes.to_dtype(dtype)
    arr = np.power(float(base), np.linspace(float(start), float(end), int(steps)))
    t = wrap(arr.astype(dt))
    if requires_grad:
        t.requires_grad_(True)
    if out is not None:
        set_array(out, unwrap(t))
        return out
    return t
