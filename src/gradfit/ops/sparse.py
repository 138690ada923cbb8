"""Sparse COO arrays and the ops on them (PyTorch's ``torch.sparse_coo`` layout).

``SparseArray`` is the array a sparse Tensor holds in place of an ndarray: ``indices``
(int64, ``(sparse_dim, nnz)``), ``values`` (``(nnz, *dense_dims)``), ``shape`` and whether
it is known to be coalesced (indices sorted, no duplicates). It speaks the few words of
the ndarray protocol the engine uses on gradients (``shape``, ``dtype``, ``astype``,
``copy``, ``flags``, ``+``), so sparse gradients (``Embedding(sparse=True)``,
``torch.sparse.mm``) travel through the unchanged engine and accumulate into a leaf's
``.grad`` as PyTorch's do: sparse + sparse stays sparse, sparse + dense is dense.

The ops follow PyTorch's kernels and derivative formulas (derivatives.yaml): which
operand gets a sparse gradient, and which node name prints. Dense code never meets this
module: the Tensor class switches to the sparse subclass only for a non-ndarray output.
"""

from __future__ import annotations

import numpy as np

from gradfit._layout import sparse_coo, strided  # noqa: F401 - the layouts this module makes
from gradfit.autograd import function as _function
from gradfit.autograd.function import Op

# Set once the first sparse array exists: an optimizer looks for sparse gradients only
# then, so dense programs pay nothing for them.
CREATED = [False]


class _Flags:
    # A sparse gradient is made fresh by its op's backward, so a leaf may keep it as its
    # ``.grad`` (the engine still copies one it meets twice). Its arrays are never written
    # in place: sums and ``zero_()`` replace them.
    owndata = True
    writeable = True


class SparseArray:
    """A COO array: ``dense[tuple(indices[:, k])] += values[k]`` for every k.

    Attributes:
        indices: int64 array (sparse_dim, nnz).
        values: array (nnz, *shape[sparse_dim:]).
        shape: the full shape (a tuple).
        coalesced: indices known sorted and unique (PyTorch's ``is_coalesced()``).
    """

    __slots__ = ("indices", "values", "shape", "coalesced")
    __array_ufunc__ = None  # ndarray + SparseArray defers to __radd__
    tensor_class = None  # the sparse Tensor subclass (bound by gradfit._sparse)
    flags = _Flags()

    def __init__(self, indices, values, shape, coalesced=False):
        CREATED[0] = True
        self.indices = indices
        self.values = values
        self.shape = tuple(int(n) for n in shape)
        self.coalesced = bool(coalesced)

    # ---------------------------------------------------------------- ndarray protocol
    @property
    def dtype(self):
        return self.values.dtype

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def nnz(self) -> int:
        return self.indices.shape[1]

    @property
    def sparse_dim(self) -> int:
        return self.indices.shape[0]

    def astype(self, dtype):
        return SparseArray(self.indices, self.values.astype(dtype), self.shape, self.coalesced)

    def copy(self):
        return SparseArray(self.indices.copy(), self.values.copy(), self.shape, self.coalesced)

    def __add__(self, other):
        if isinstance(other, SparseArray):
            return add(self, other)
        out = np.array(other, dtype=np.result_type(other, self.values), copy=True)
        _scatter_add(out, self)
        return out

    __radd__ = __add__

    def __iadd__(self, other):
        # ``grad += g`` (how AccumulateGrad adds a sparse gradient to a sparse ``.grad``):
        # PyTorch's sparse add, in place; this object is kept, as the ``.grad`` holds it.
        if not isinstance(other, SparseArray):
            return self + other
        out = add(self, other)
        self.indices, self.values, self.coalesced = out.indices, out.values, out.coalesced
        return self

    def fill(self, value) -> None:
        # ``zero_grad(set_to_none=False)``: PyTorch's ``zero_()`` of a sparse tensor
        # empties it.
        if value != 0:
            raise RuntimeError("fill of a sparse tensor: only zero is supported (zero_())")
        self.indices = np.zeros((self.sparse_dim, 0), dtype=np.int64)
        self.values = np.zeros((0,) + self.values.shape[1:], dtype=self.values.dtype)
        self.coalesced = True

    def to_dense(self) -> np.ndarray:
        out = np.zeros(self.shape, dtype=self.values.dtype)
        _scatter_add(out, self)
        return out


_function._SPARSE_TYPE = SparseArray  # op outputs of this type become sparse Tensors


def _scatter_add(out: np.ndarray, s: SparseArray) -> None:
    np.add.at(out, tuple(s.indices), s.values)


def _linear(indices: np.ndarray, shape: tuple) -> np.ndarray:
    """Row-major linear positions of COO indices over the sparse dims of ``shape``."""
    if indices.shape[0] == 0:
        return np.zeros(indices.shape[1], dtype=np.int64)
    return np.ravel_multi_index(tuple(indices), shape[: indices.shape[0]])


def coalesce(s: SparseArray) -> SparseArray:
    """Indices sorted (row-major), duplicates summed: PyTorch's ``coalesce``."""
    if s.coalesced:
        return s
    sd = s.sparse_dim
    lin = _linear(s.indices, s.shape)
    uniq, inverse = np.unique(lin, return_inverse=True)
    values = np.zeros((len(uniq),) + s.values.shape[1:], dtype=s.values.dtype)
    np.add.at(values, inverse, s.values)
    if sd:
        indices = np.stack(np.unravel_index(uniq, s.shape[:sd])).astype(np.int64)
    else:
        indices = np.zeros((0, len(uniq)), dtype=np.int64)
    return SparseArray(indices.reshape(sd, len(uniq)), values, s.shape, True)


def add(a: SparseArray, b: SparseArray) -> SparseArray:
    """PyTorch's CPU sparse + sparse (``add_out_sparse_cpu``): with both values arrays
    contiguous, a two-pointer merge of the indices in the order they are stored (equal
    positions summed), so uncoalesced operands keep their order and duplicates as
    PyTorch's do; otherwise the entries are appended (coalesced once nnz > numel)."""
    if a.shape != b.shape:
        raise RuntimeError(
            f"add: expected sizes of 'self' and 'other' to match, but {list(a.shape)} != "
            f"{list(b.shape)}"
        )
    dtype = np.result_type(a.values, b.values)
    if not b.nnz:
        return SparseArray(a.indices, a.values.astype(dtype), a.shape, a.coalesced)
    if not a.nnz:
        return SparseArray(b.indices, b.values.astype(dtype), b.shape, b.coalesced)
    if not (a.values.flags.c_contiguous and b.values.flags.c_contiguous):
        indices = np.concatenate((a.indices, b.indices), axis=1)
        values = np.concatenate((a.values.astype(dtype), b.values.astype(dtype)))
        out = SparseArray(indices, values, a.shape, False)
        return coalesce(out) if out.nnz > out.size else out
    la, lb = _linear(a.indices, a.shape), _linear(b.indices, b.shape)
    if a.coalesced and b.coalesced:
        lin = np.concatenate((la, lb))
        uniq, inverse = np.unique(lin, return_inverse=True)
        values = np.zeros((len(uniq),) + a.values.shape[1:], dtype=dtype)
        np.add.at(values, inverse, np.concatenate((a.values, b.values)).astype(dtype))
        sd = a.sparse_dim
        indices = np.stack(np.unravel_index(uniq, a.shape[:sd])).astype(np.int64)
        return SparseArray(indices.reshape(sd, len(uniq)), values, a.shape, True)
    cols, vals = [], []
    i = j = 0
    na, nb = len(la), len(lb)
    av, bv = a.values.astype(dtype), b.values.astype(dtype)
    while i < na and j < nb:
        if la[i] == lb[j]:
            cols.append(a.indices[:, i])
            vals.append(av[i] + bv[j])
            i += 1
            j += 1
        elif la[i] < lb[j]:
            cols.append(a.indices[:, i])
            vals.append(av[i])
            i += 1
        else:
            cols.append(b.indices[:, j])
            vals.append(bv[j])
            j += 1
    indices = np.concatenate(
        [np.stack(cols, axis=1) if cols else np.zeros((a.sparse_dim, 0), np.int64)]
        + [a.indices[:, i:], b.indices[:, j:]],
        axis=1,
    ).astype(np.int64)
    rest = (np.stack(vals) if vals else np.zeros((0,) + av.shape[1:], dtype),)
    values = np.concatenate(rest + (av[i:], bv[j:]))
    return SparseArray(indices, values, a.shape, False)


def mask(dense: np.ndarray, pattern: SparseArray) -> SparseArray:
    """``dense.sparse_mask(pattern)``: the entries of ``dense`` at ``pattern``'s indices,
    on the coalesced pattern (PyTorch's masked gradient of a sparse operand)."""
    c = coalesce(pattern)
    return SparseArray(c.indices, dense[tuple(c.indices)], c.shape, True)


def gather(g, indices: np.ndarray, shape: tuple) -> np.ndarray:
    """The gradient's entries at ``indices`` (one row per stored element, duplicates
    each getting the full entry): the values' gradient of ``sparse_coo_tensor``."""
    if isinstance(g, np.ndarray):
        return g[tuple(indices)]
    c = coalesce(g)
    out = np.zeros((indices.shape[1],) + c.values.shape[1:], dtype=c.values.dtype)
    if not c.nnz:
        return out
    want = _linear(indices, shape)
    have = _linear(c.indices, shape)
    pos = np.clip(np.searchsorted(have, want), 0, len(have) - 1)
    hit = have[pos] == want
    out[hit] = c.values[pos[hit]]
    return out


def from_dense(x: np.ndarray, sparse_dim: int | None = None) -> SparseArray:
    """``to_sparse()``: the nonzero entries (rows with any nonzero for dense dims)."""
    sd = x.ndim if sparse_dim is None else sparse_dim
    if sd == x.ndim:
        idx = np.nonzero(x)
        indices = np.stack(idx).astype(np.int64) if x.ndim else np.zeros((0, 1), np.int64)
        values = x[idx] if x.ndim else x.reshape(1)
        if not x.ndim and x == 0:
            indices, values = np.zeros((0, 0), np.int64), x.reshape(0)
    else:
        flat = x.reshape(x.shape[:sd] + (-1,))
        idx = np.nonzero((flat != 0).any(axis=-1))
        indices = np.stack(idx).astype(np.int64)
        values = x[idx]
    return SparseArray(indices.reshape(sd, -1), values.copy(), x.shape, True)


# ----------------------------------------------------------------------------- ops
class SparseCooTensor(Op):
    """``sparse_coo_tensor(indices, values, size)``: the values' gradient is the output
    gradient read at each stored index (``sparse_constructor_values_backward``)."""

    saves_inputs = False

    @staticmethod
    def forward(ctx, values, indices=None, shape=None, coalesced=False):
        ctx.indices, ctx.shape = indices, shape
        ctx.torch_name = "SparseCooTensorWithDimsAndTensorsBackward0"
        return SparseArray(indices, values, shape, coalesced)

    @staticmethod
    def backward(ctx, g):
        return gather(g, ctx.indices, ctx.shape)


class ToDense(Op):
    """``sparse.to_dense()``; the sparse input's gradient is the dense gradient masked to
    the input's pattern (PyTorch's ``to_dense_backward``)."""

    saves_inputs = False

    @staticmethod
    def forward(ctx, s):
        ctx.pattern = s
        ctx.torch_name = "ToDenseBackward0"
        return s.to_dense()

    @staticmethod
    def backward(ctx, g):
        return mask(g, ctx.pattern)


class ToSparse(Op):
    """``dense.to_sparse()``; its gradient is the sparse gradient made dense."""

    saves_inputs = False

    @staticmethod
    def forward(ctx, x, sparse_dim=None):
        ctx.torch_name = "ToSparseBackward1" if sparse_dim is None else "ToSparseBackward0"
        return from_dense(x, sparse_dim)

    @staticmethod
    def backward(ctx, g):
        return g.to_dense() if isinstance(g, SparseArray) else g


class Coalesce(Op):
    saves_inputs = False

    @staticmethod
    def forward(ctx, s):
        ctx.torch_name = "CoalesceBackward0"
        out = coalesce(s)
        return SparseArray(out.indices, out.values.copy(), out.shape, True) if out is s else out

    @staticmethod
    def backward(ctx, g):
        return g


class Values(Op):
    """``coalesced.values()``: the gradient is a sparse tensor on the input's indices."""

    saves_inputs = False

    @staticmethod
    def forward(ctx, s):
        ctx.indices, ctx.shape = s.indices, s.shape
        ctx.torch_name = "ValuesBackward0"
        return s.values

    @staticmethod
    def backward(ctx, g):
        return SparseArray(ctx.indices, g, ctx.shape, True)


class SparseMM(Op):
    """sparse (n, m) @ dense (m, p). ``sparse_grad``: the sparse operand's gradient is
    ``g @ dense.T`` masked to its pattern (``torch.sparse.mm``, ``SparseAddmmBackward0``);
    otherwise it is dense (``torch.mm`` / ``@``, ``MmBackward0``)."""

    @staticmethod
    def forward(ctx, s, d, sparse_grad=True):
        if s.ndim != 2 or s.sparse_dim != 2:
            raise RuntimeError(
                f"sparse.mm: expected a 2-D sparse matrix with 2 sparse dims, got size "
                f"{s.shape} with {s.sparse_dim} sparse dims"
            )
        if d.ndim != 2:
            raise RuntimeError(f"mm: expected 2D tensor for argument #2 'mat2', got {d.ndim}D")
        if s.shape[1] != d.shape[0]:
            raise RuntimeError(
                f"addmm: Argument #3 (dense): Expected dim 0 size {s.shape[1]}, got {d.shape[0]}"
            )
        ctx.sparse_grad = sparse_grad
        ctx.torch_name = "SparseAddmmBackward0" if sparse_grad else "MmBackward0"
        dtype = np.result_type(s.values, d)
        out = np.zeros((s.shape[0], d.shape[1]), dtype=dtype)
        rows, cols = s.indices
        np.add.at(out, rows, s.values[:, None] * d[cols])
        return out

    @staticmethod
    def backward(ctx, g):
        s, d = ctx.inputs[0]._array, ctx.inputs[1]._array
        rows, cols = s.indices
        gd = np.zeros(d.shape, dtype=g.dtype)
        np.add.at(gd, cols, s.values[:, None] * g[rows])
        if ctx.sparse_grad:
            c = coalesce(s)
            r, k = c.indices
            gs = SparseArray(c.indices, np.einsum("ij,ij->i", g[r], d[k]), s.shape, True)
        else:
            gs = g @ d.T
        return gs, gd


class SparseSum(Op):
    """``torch.sparse.sum(s, dim)``: over every dim a dense scalar (``SumBackward0``),
    over some dims a coalesced sparse tensor (``SparseSumBackward0``). The gradient is
    sparse, on the input's coalesced pattern."""

    saves_inputs = False

    @staticmethod
    def forward(ctx, s, dims=None):
        c = coalesce(s)
        ctx.pattern, ctx.dims = c, dims
        if dims is None:
            ctx.torch_name = "SumBackward0"
            return np.asarray(c.values.sum(), dtype=c.values.dtype)
        ctx.torch_name = "SparseSumBackward0"
        sd = c.sparse_dim
        keep = [d for d in range(sd) if d not in dims]
        dense_dims = tuple(1 + d - sd for d in dims if d >= sd)
        values = c.values.sum(axis=dense_dims) if dense_dims else c.values
        shape = tuple(n for i, n in enumerate(c.shape) if i not in dims)
        if not keep:
            return values.sum(axis=0)
        out = SparseArray(c.indices[keep], values, shape, len(keep) == sd)
        ctx.keep, ctx.dense_dims = keep, dense_dims
        return coalesce(out)

    @staticmethod
    def backward(ctx, g):
        c = ctx.pattern
        if ctx.dims is None:
            return SparseArray(c.indices, np.broadcast_to(g, c.values.shape).copy(), c.shape, True)
        keep = getattr(ctx, "keep", [])
        if keep:
            sub = gather(g, c.indices[keep], g.shape)
        else:
            sub = np.broadcast_to(g, (c.nnz,) + g.shape)
        for d in ctx.dense_dims:
            sub = np.expand_dims(sub, d)
        return SparseArray(c.indices, np.broadcast_to(sub, c.values.shape).copy(), c.shape, True)


class SparseMulScalar(Op):
    saves_inputs = False

    @staticmethod
    def forward(ctx, s, c=1.0):
        ctx.c = c
        ctx.torch_name = "MulBackward0"
        values = s.values * np.asarray(c, dtype=s.values.dtype)
        return SparseArray(s.indices, values, s.shape, s.coalesced)

    @staticmethod
    def backward(ctx, g):
        if isinstance(g, SparseArray):
            return SparseArray(g.indices, g.values * ctx.c, g.shape, g.coalesced)
        return g * ctx.c


class SparseAdd(Op):
    saves_inputs = False

    @staticmethod
    def forward(ctx, a, b, alpha=1):
        ctx.alpha = alpha
        ctx.torch_name = "AddBackward0"
        if alpha != 1:
            b = SparseArray(b.indices, b.values * alpha, b.shape, b.coalesced)
        return add(a, b)

    @staticmethod
    def backward(ctx, g):
        if ctx.alpha == 1:
            return g, g
        if isinstance(g, SparseArray):
            return g, SparseArray(g.indices, g.values * ctx.alpha, g.shape, g.coalesced)
        return g, g * ctx.alpha


class SparseT(Op):
    """The transpose of a 2-D sparse matrix (its indices' rows swapped)."""

    saves_inputs = False

    @staticmethod
    def forward(ctx, s):
        ctx.torch_name = "TBackward0"
        return _swap(s)

    @staticmethod
    def backward(ctx, g):
        return _swap(g) if isinstance(g, SparseArray) else g.T


def _swap(s: SparseArray) -> SparseArray:
    shape = (s.shape[1], s.shape[0]) + s.shape[2:]
    return SparseArray(s.indices[[1, 0]], s.values, shape, False)


class EmbeddingSparse(Op):
    """``embedding(..., sparse=True)``: the table's gradient is a sparse tensor with one
    row per looked-up position (uncoalesced, in the input's order), the ``padding_idx``
    positions left out (PyTorch's ``embedding_sparse_backward``; as there,
    ``scale_grad_by_freq`` is refused at backward time)."""

    saves_inputs = False

    @staticmethod
    def forward(ctx, weight, indices, padding_idx=None, scale_grad_by_freq=False):
        ctx.shape, ctx.indices = weight.shape, indices
        ctx.padding_idx, ctx.scale = padding_idx, scale_grad_by_freq
        ctx.torch_name = "EmbeddingBackward0"
        return weight[indices]

    @staticmethod
    def backward(ctx, grad_output):
        dim = ctx.shape[1]
        flat = ctx.indices.reshape(-1).astype(np.int64)
        g = grad_output.reshape(-1, dim)
        if ctx.padding_idx is not None:
            keep = flat != ctx.padding_idx
            flat, g = flat[keep], g[keep]
        if ctx.scale:
            raise RuntimeError(
                "embedding_backward: scale_grad_by_freq not supported with sparse gradients"
            )
        return SparseArray(flat[None, :], g, ctx.shape, False), None
