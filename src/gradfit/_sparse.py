"""Sparse COO tensors: ``gradfit.sparse_coo_tensor``, ``Tensor.to_sparse()`` and the
methods of a tensor in PyTorch's ``torch.sparse_coo`` layout.

A sparse tensor is a ``SparseTensor`` (a Tensor subclass) holding a
``ops.sparse.SparseArray`` (int64 indices ``(sparse_dim, nnz)``, values
``(nnz, *dense_dims)``, shape) where a dense one holds an ndarray. The graph machinery
makes one whenever an op returns a SparseArray, so the dense Tensor and its fast paths
know nothing of it. Its methods call the ops of ``ops.sparse``; what PyTorch's sparse
kernels refuse, these refuse with PyTorch's messages.
"""

from __future__ import annotations

import numpy as np

from gradfit import _dtypes
from gradfit._arrays import unwrap, wrap
from gradfit._tensor_str import PRINT_OPTS, _array_str
from gradfit.autograd._torch_names import named
from gradfit.ops import sparse as _ops
from gradfit.ops.sparse import SparseArray, sparse_coo, strided
from gradfit.tensor import Tensor

__all__ = ["SparseTensor", "sparse_coo_tensor", "sparse_coo", "strided", "spmm"]


def _suffixes(text: str, suffixes: list, indent: int) -> str:
    """PyTorch's ``_add_suffixes`` with ``force_newline`` (a sparse tensor's first suffix
    starts a line), line lengths measured in PyTorch's spelling (``torch.`` for
    ``gradfit.``)."""
    parts = [text]
    last = len(text) - text.rfind("\n") + 1
    force = True
    for suffix in suffixes:
        n = len(suffix) - suffix.count("gradfit.") * 2
        if force or last + n + 2 > PRINT_OPTS.linewidth:
            parts.append(",\n" + " " * indent + suffix)
            last = indent + n
            force = False
        else:
            parts.append(", " + suffix)
            last += n + 2
    return "".join(parts) + ")"


class SparseTensor(Tensor):
    """A tensor in the ``sparse_coo`` layout (see the module docstring)."""

    __slots__ = ()

    # ------------------------------------------------------------------ facts
    @property
    def layout(self):
        return sparse_coo

    is_sparse = True

    def is_coalesced(self) -> bool:
        return unwrap(self).coalesced

    def _nnz(self) -> int:
        return unwrap(self).nnz

    def sparse_dim(self) -> int:
        return unwrap(self).sparse_dim

    def dense_dim(self) -> int:
        s = unwrap(self)
        return len(s.shape) - s.sparse_dim

    def is_contiguous(self, memory_format=None) -> bool:
        return False

    def stride(self, dim=None):
        strides = (0,) * self.ndim  # PyTorch reports zeros for a sparse tensor
        return strides if dim is None else strides[dim]

    def numpy(self, *, force: bool = False):
        raise TypeError("can't convert Sparse layout tensor to numpy. Use Tensor.to_dense() first.")

    def tolist(self):
        raise RuntimeError("Cannot access data pointer of Tensor that doesn't have storage")

    def __array__(self, dtype=None, copy=None):
        raise TypeError("can't convert Sparse layout tensor to numpy. Use Tensor.to_dense() first.")

    # ------------------------------------------------------------------ parts
    def _indices(self) -> Tensor:
        return wrap(unwrap(self).indices)

    def _values(self) -> Tensor:
        return wrap(unwrap(self).values)

    def indices(self) -> Tensor:
        if not unwrap(self).coalesced:
            raise RuntimeError(
                "Cannot get indices on an uncoalesced tensor, please call .coalesce() first"
            )
        return wrap(unwrap(self).indices)

    def values(self) -> Tensor:
        if not unwrap(self).coalesced:
            raise RuntimeError(
                "Cannot get values on an uncoalesced tensor, please call .coalesce() first"
            )
        return _ops.Values.apply(self)

    # ------------------------------------------------------------------ conversions
    def coalesce(self) -> Tensor:
        if unwrap(self).coalesced:
            return self  # PyTorch returns the tensor itself
        return _ops.Coalesce.apply(self)

    def to_dense(self, dtype=None, *, masked_grad=None) -> Tensor:
        out = _ops.ToDense.apply(self)
        return out if dtype is None else out.to(dtype)

    def to_sparse(self, sparse_dim=None, *, layout=None, blocksize=None, dense_dim=None):
        if layout not in (None, sparse_coo):
            raise NotImplementedError(f"to_sparse: only layout=gradfit.sparse_coo, got {layout}")
        return self

    to_sparse_coo = to_sparse

    def clone(self, *, memory_format=None) -> Tensor:
        # a copy of the values (times one), recorded as PyTorch's clone
        return named(_ops.SparseMulScalar.apply(self, c=1), "CloneBackward0")

    # ------------------------------------------------------------------ maths
    def mm(self, mat2) -> Tensor:
        return _matmul(self, mat2, "mm")

    def matmul(self, other) -> Tensor:
        return _matmul(self, other, "matmul")

    def __matmul__(self, other) -> Tensor:
        return _matmul(self, other, "matmul")

    def __rmatmul__(self, other):
        raise NotImplementedError("dense @ sparse is not supported (use (sparse.t() @ x.t()).t())")

    def __mul__(self, other) -> Tensor:
        if isinstance(other, Tensor):
            if other.ndim == 0 and not other.is_sparse:
                other = other.item()
            else:
                raise NotImplementedError(
                    "sparse * tensor is not supported; sparse tensors multiply by numbers"
                )
        if not isinstance(other, int | float | bool | np.number):
            raise TypeError(f"unsupported operand type for sparse *: {type(other).__name__}")
        return _ops.SparseMulScalar.apply(self, c=other)

    __rmul__ = mul = __mul__

    def __truediv__(self, other) -> Tensor:
        if isinstance(other, Tensor) or not isinstance(other, int | float | np.number):
            raise NotImplementedError("sparse / tensor is not supported; divide by a number")
        return _ops.SparseMulScalar.apply(self, c=1.0 / other)

    div = __truediv__

    def __neg__(self) -> Tensor:
        return _ops.SparseMulScalar.apply(self, c=-1)

    def __add__(self, other, alpha=1) -> Tensor:
        if not isinstance(other, Tensor) or not other.is_sparse:
            raise RuntimeError(
                "add(sparse, dense) is not supported. Use add(dense, sparse) instead."
            )
        return _ops.SparseAdd.apply(self, other, alpha=alpha)

    def add(self, other, *, alpha=1) -> Tensor:
        return self.__add__(other, alpha)

    def __sub__(self, other) -> Tensor:
        return self.__add__(other, -1)

    sub = __sub__

    def t(self) -> Tensor:
        if self.ndim > 2:
            raise RuntimeError(
                f"t() expects a tensor with <= 2 sparse and 0 dense dimensions, but self is "
                f"{self.sparse_dim()} sparse and {self.dense_dim()} dense dimensions"
            )
        if self.ndim < 2:
            return self
        return _ops.SparseT.apply(self)

    def sum(self, dim=None, keepdim: bool = False, dtype=None) -> Tensor:
        return sum(self, dim, dtype)

    # ------------------------------------------------------------------ printing
    def __repr__(self) -> str:
        s = unwrap(self)
        indent = len("tensor(")
        ip, vp = "indices=tensor(", "values=tensor("
        istr = _array_str(s.indices, indent + len(ip))
        if s.indices.size == 0:
            istr += ", size=" + str(tuple(s.indices.shape))
        vstr = _array_str(s.values, indent + len(vp))
        if s.values.size == 0:
            vstr += ", size=" + str(tuple(s.values.shape))
        text = "tensor(" + ip + istr + "),\n" + " " * indent + vp + vstr + ")"
        suffixes = ["size=" + str(tuple(s.shape)), f"nnz={s.nnz}"]
        if s.values.dtype not in (_dtypes.default_np(), np.int64, np.bool_):
            suffixes.append(f"dtype={_dtypes.from_np(s.values.dtype)}")
        suffixes.append("layout=" + repr(sparse_coo))
        if self.grad_fn is not None:
            suffixes.append(f"grad_fn=<{self.grad_fn.name()}>")
        elif self.requires_grad:
            suffixes.append("requires_grad=True")
        return _suffixes(text, suffixes, indent)

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        if spec:
            raise TypeError("unsupported format string passed to Tensor.__format__")
        return repr(self)


SparseArray.tensor_class = SparseTensor


def _matmul(s: Tensor, other, name: str) -> Tensor:
    if not isinstance(other, Tensor):
        raise TypeError(f"{name}(): argument 'mat2' must be Tensor, not {type(other).__name__}")
    if other.is_sparse:
        raise NotImplementedError(f"{name}: sparse @ sparse is not supported")
    if s.ndim != 2:
        raise RuntimeError(f"{name}: a sparse operand must be 2-D, got {s.ndim}-D")
    if other.ndim == 1:
        if name == "mm":
            raise IndexError(
                "Dimension out of range (expected to be in range of [-1, 0], but got 1)"
            )
        out = _ops.SparseMM.apply(s, other.unsqueeze(1), sparse_grad=False).squeeze(1)
        return named(out, "MvBackward0")
    return _ops.SparseMM.apply(s, other, sparse_grad=False)


def mm(mat1: Tensor, mat2: Tensor) -> Tensor:
    """``torch.sparse.mm``: sparse (n, m) @ dense (m, p) -> dense (n, p); the sparse
    operand's gradient is sparse, on its own pattern (``SparseAddmmBackward0``). Two
    dense operands give ``mat1 @ mat2``."""
    if not mat1.is_sparse:
        if mat2.is_sparse:
            raise NotImplementedError("sparse.mm: dense @ sparse is not supported")
        return mat1.mm(mat2)
    if mat2.is_sparse:
        raise NotImplementedError("sparse.mm: sparse @ sparse is not supported")
    return _ops.SparseMM.apply(mat1, mat2, sparse_grad=True)


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta=1.0, alpha=1.0) -> Tensor:  # noqa: A002
    """``torch.sparse.addmm``: beta·input + alpha·(sparse mat1 @ dense mat2), the sparse
    operand's gradient sparse as in ``mm``."""
    out = mm(mat1, mat2)
    if alpha != 1:
        out = out * alpha
    out = input + out if beta == 1 else input * beta + out
    return named(out, "SparseAddmmBackward0")


def spmm(input: Tensor, mat2: Tensor) -> Tensor:  # noqa: A002
    """``torch.spmm``: ``input.mm(mat2)``, for a sparse or dense ``input`` (the sparse
    operand's gradient is dense, as ``torch.mm``'s)."""
    return input.mm(mat2)


def sum(input: Tensor, dim=None, dtype=None) -> Tensor:  # noqa: A001, A002 - PyTorch's names
    """``torch.sparse.sum``: over every dim a dense 0-d tensor; over ``dim`` (an int or a
    tuple) a coalesced sparse tensor, or a dense one when no sparse dim is left."""
    if not input.is_sparse:
        return input.sum() if dim is None else input.sum(dim)
    if dtype is not None:
        input = input.to(dtype)
    if dim is None:
        return _ops.SparseSum.apply(input, dims=None)
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    n = input.ndim
    norm = []
    for d in dims:
        if not -n <= d < n:
            raise IndexError(
                f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {d})"
            )
        norm.append(d % n)
    if len(set(norm)) != len(norm):
        raise RuntimeError(f"dim {norm[0]} appears multiple times in the list of dims")
    if len(norm) == n:
        return _ops.SparseSum.apply(input, dims=None)
    return _ops.SparseSum.apply(input, dims=tuple(sorted(norm)))


def sparse_coo_tensor(
    indices,
    values,
    size=None,
    *,
    dtype=None,
    device=None,
    pin_memory: bool = False,
    requires_grad: bool = False,
    check_invariants: bool | None = None,
    is_coalesced: bool | None = None,
) -> Tensor:
    """``torch.sparse_coo_tensor``: a COO tensor with ``values[k]`` at ``indices[:, k]``.

    ``indices`` (sparse_dim, nnz) of integers; ``values`` (nnz, *dense_dims); ``size``
    inferred as max index + 1 per sparse dim when omitted. Gradients flow to ``values``
    when it requires them (each stored element gets the output gradient at its index).
    ``check_invariants``: check every index against ``size`` (PyTorch does not by
    default either).
    """
    idx = unwrap(indices) if isinstance(indices, Tensor) else np.asarray(indices)
    if idx.dtype.kind not in "iu":
        if idx.size:
            raise RuntimeError(f"indices must be an int64 tensor, got {idx.dtype}")
        idx = idx.astype(np.int64)
    idx = idx.astype(np.int64, copy=False)
    if idx.ndim == 1 and size is not None and len(size) != idx.shape[0] + np.ndim(values) - 1:
        # PyTorch reads a 1-D index list's length as the number of sparse dims
        raise RuntimeError(
            f"'len(size) == sparse_dim + dense_dim' is not satisfied: len(size) = {len(size)}, "
            f"sparse_dim = {idx.shape[0]}, dense_dim = {np.ndim(values) - 1}"
        )
    if idx.ndim != 2:
        raise RuntimeError(f"indices must be sparse_dim x nnz, but got: {list(idx.shape)}")
    if not isinstance(values, Tensor):
        from gradfit._factories import tensor as _tensor

        values = _tensor(values, dtype=dtype)
    elif dtype is not None:
        values = values.to(dtype)
    vals = unwrap(values)
    if vals.ndim == 0:
        raise RuntimeError("values must be at least 1-D (nnz, *dense_dims)")
    sd, nnz = idx.shape
    if vals.shape[0] != nnz:
        raise RuntimeError(
            f"indices and values must have same nnz, but got nnz from indices: {nnz}, nnz "
            f"from values: {vals.shape[0]}"
        )
    if size is None:
        sparse_sizes = idx.max(axis=1) + 1 if nnz else np.zeros(sd, dtype=np.int64)
        shape = tuple(int(n) for n in sparse_sizes) + tuple(vals.shape[1:])
    else:
        shape = tuple(int(n) for n in size)
        if len(shape) != sd + vals.ndim - 1:
            raise RuntimeError(
                f"'len(size) == sparse_dim + dense_dim' is not satisfied: len(size) = "
                f"{len(shape)}, sparse_dim = {sd}, dense_dim = {vals.ndim - 1}"
            )
        if tuple(vals.shape[1:]) != shape[sd:]:
            raise RuntimeError(
                f"values has incorrect size, expected {list((nnz,) + shape[sd:])}, got "
                f"{list(vals.shape)}"
            )
    if check_invariants and nnz:
        for d in range(sd):
            lo, hi = int(idx[d].min()), int(idx[d].max())
            if lo < 0:
                raise RuntimeError(f"found negative index {lo} for dim {d}")
            if hi >= shape[d]:
                raise RuntimeError(
                    f"size is inconsistent with indices: for dim {d}, size is {shape[d]} but "
                    f"found index {hi}"
                )
    coalesced = nnz <= 1 if is_coalesced is None else bool(is_coalesced)
    out = _ops.SparseCooTensor.apply(values, indices=idx, shape=shape, coalesced=coalesced)
    if requires_grad:
        out.requires_grad_(True)
    return out
