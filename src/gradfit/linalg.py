"""``gradfit.linalg``: PyTorch's ``torch.linalg`` basics on (batches of) real matrices, with
gradients where PyTorch defines them: ``inv``, ``det``, ``slogdet``, ``solve``,
``solve_triangular``, ``cholesky``, ``qr``, ``svd``/``svdvals``, ``eigh``/``eigvalsh``, ``norm``,
``vector_norm``, ``matrix_norm``, ``matrix_power``, ``multi_dot``, ``matrix_rank``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from gradfit import return_types
from gradfit._arrays import unwrap, wrap
from gradfit._out import with_out
from gradfit.ops import indexing, movement
from gradfit.ops import linalg as linalg_ops

if TYPE_CHECKING:
    from gradfit.tensor import Tensor

__all__ = [
    "cholesky",
    "cholesky_ex",
    "det",
    "eigh",
    "eigvalsh",
    "inv",
    "inv_ex",
    "matrix_norm",
    "matrix_power",
    "matrix_rank",
    "multi_dot",
    "norm",
    "qr",
    "slogdet",
    "solve",
    "solve_triangular",
    "svd",
    "svdvals",
    "vector_norm",
]


def _square(fn: str, a: Tensor) -> None:
    if a.ndim < 2:
        raise RuntimeError(
            f"linalg.{fn}: The input tensor A must have at least 2 dimensions, got {a.ndim}"
        )
    if a.shape[-1] != a.shape[-2]:
        raise RuntimeError(
            f"linalg.{fn}: A must be batches of square matrices, but they are "
            f"{a.shape[-2]} by {a.shape[-1]} matrices"
        )
    _float(fn, a)


def _float(fn: str, a: Tensor) -> None:
    if not a.dtype.is_floating_point:
        raise RuntimeError(f"linalg.{fn}: Expected a floating point tensor as input. Got {a.dtype}")


def _singular(fn: str) -> RuntimeError:
    return RuntimeError(
        f"linalg.{fn}: The diagonal element 1 is zero, the inversion could not be completed "
        "because the input matrix is singular."
    )


@with_out
def inv(A: Tensor) -> Tensor:  # noqa: N803 - PyTorch's name
    """A^{-1}; a singular matrix is an error, as in PyTorch."""
    _square("inv", A)
    try:
        return linalg_ops.Inv.apply(A)
    except np.linalg.LinAlgError:
        raise _singular("inv") from None


def inv_ex(A: Tensor, *, check_errors: bool = False):  # noqa: N803
    """(inverse, info): info 0 where the inversion worked."""
    try:
        return return_types.linalg_inv_ex(inv(A), wrap(np.zeros(A.shape[:-2], np.int32)))
    except RuntimeError:
        if check_errors:
            raise
        nan = wrap(np.full(A.shape, np.nan, A.dtype))
        return return_types.linalg_inv_ex(nan, wrap(np.ones(A.shape[:-2], np.int32)))


@with_out
def det(A: Tensor) -> Tensor:  # noqa: N803
    """The determinant;  d det(A) / dA = det(A) A^{-T}."""
    _square("det", A)
    return linalg_ops.Det.apply(A)


@with_out
def slogdet(A: Tensor):  # noqa: N803
    """(sign, log|det A|), stable where ``det`` under- or overflows."""
    _square("slogdet", A)
    packed = linalg_ops.SlogDet.apply(A)
    return return_types.linalg_slogdet(packed[..., 0].detach(), packed[..., 1])


@with_out
def solve(A: Tensor, B: Tensor, *, left: bool = True) -> Tensor:  # noqa: N803
    """X with A X = B (``left=False``: X A = B). B is a vector batch when it has one
    dimension fewer than A (and the batch shapes agree) or is 1-D."""
    _square("solve", A)
    if not left:
        return solve(A.mT, B.mT).mT
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and B.shape[:-1] == A.shape[:-2])
    b = B.unsqueeze(-1) if vector else B
    if b.shape[-2] != A.shape[-1]:
        raise RuntimeError(
            f"linalg.solve: Incompatible shapes of A and B for the equation AX = B "
            f"({A.shape[-2]}x{A.shape[-1]} and {b.shape[-2]}x{b.shape[-1]})"
        )
    try:
        x = linalg_ops.Solve.apply(A, b)
    except np.linalg.LinAlgError:
        raise RuntimeError(
            "torch.linalg.solve: The solver failed because the input matrix is singular."
        ) from None
    return x.squeeze(-1) if vector else x


@with_out
def solve_triangular(
    A: Tensor,  # noqa: N803
    B: Tensor,  # noqa: N803
    *,
    upper: bool,
    left: bool = True,
    unitriangular: bool = False,
) -> Tensor:
    """X with A X = B (``left=False``: X A = B) for triangular A: only its ``upper`` (or
    lower) triangle is read, and with ``unitriangular`` its diagonal is taken as ones.
    A and B are (batches of) matrices; their batch dimensions broadcast."""
    _square("solve_triangular", A)
    _float("solve_triangular", B)
    if B.ndim < 2:
        raise RuntimeError(
            f"linalg.solve_triangular: The input tensor B must have at least 2 dimensions, "
            f"got {B.ndim}"
        )
    if not left:
        return solve_triangular(
            A.mT, B.mT, upper=not upper, left=True, unitriangular=unitriangular
        ).mT
    if B.shape[-2] != A.shape[-1]:
        raise RuntimeError(
            f"linalg.solve_triangular: Incompatible shapes of A and B for the equation "
            f"AX = B ({A.shape[-2]}x{A.shape[-1]} and {B.shape[-2]}x{B.shape[-1]})"
        )
    try:
        return linalg_ops.SolveTriangular.apply(A, B, upper=upper, unitriangular=unitriangular)
    except np.linalg.LinAlgError as err:
        raise RuntimeError(f"linalg.solve_triangular: A is singular ({err})") from None


@with_out
def cholesky(A: Tensor, *, upper: bool = False) -> Tensor:  # noqa: N803
    """Lower-triangular L with A = L L^T (``upper=True``: U = L^T with A = U^T U)."""
    _square("cholesky", A)
    return linalg_ops.Cholesky.apply(A, upper=upper)


def cholesky_ex(A: Tensor, *, upper: bool = False, check_errors: bool = False):  # noqa: N803
    try:
        return return_types.linalg_cholesky_ex(
            cholesky(A, upper=upper), wrap(np.zeros(A.shape[:-2], np.int32))
        )
    except RuntimeError:
        if check_errors:
            raise
        nan = wrap(np.full(A.shape, np.nan, A.dtype))
        return return_types.linalg_cholesky_ex(nan, wrap(np.ones(A.shape[:-2], np.int32)))


def _unpack(packed: Tensor, shapes: list) -> list:
    out, start = [], 0
    lead = tuple(packed.shape[:-1])
    for s in shapes:
        n = int(np.prod(s))
        piece = packed[..., start : start + n].reshape(lead + tuple(s))
        if piece.grad_fn is not None and packed.grad_fn is not None:
            # Each output prints the decomposition's own node name, as in PyTorch (issue 16).
            piece.grad_fn.torch_name = packed.grad_fn.name()
        out.append(piece)
        start += n
    return out


@with_out
def qr(A: Tensor, mode: str = "reduced"):  # noqa: N803
    """(Q, R) with A = Q R; ``mode`` 'reduced', 'complete' or 'r' (Q empty). Gradients
    for 'reduced' with at least as many rows as columns, as PyTorch."""
    _float("qr", A)
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}'")
    m, n = A.shape[-2], A.shape[-1]
    if mode == "reduced" or (mode == "complete" and m <= n):
        k = min(m, n)
        q, r = _unpack(linalg_ops.QR.apply(A), [(m, k), (k, n)])
        return return_types.linalg_qr(q, r)
    a = unwrap(A)
    if mode == "r":
        r = np.linalg.qr(a, mode="r")
        return return_types.linalg_qr(wrap(np.empty((0,), a.dtype)), wrap(np.asarray(r)))
    q, r = np.linalg.qr(a, mode="complete")
    return return_types.linalg_qr(wrap(q), wrap(r))


@with_out
def svd(A: Tensor, full_matrices: bool = True, *, driver=None):  # noqa: N803
    """(U, S, Vh) with A = U diag(S) Vh, S descending. Gradients flow through the first
    min(m, n) singular vectors (PyTorch narrows full matrices the same way)."""
    _float("svd", A)
    m, n = A.shape[-2], A.shape[-1]
    k = min(m, n)
    u, s, vh = _unpack(linalg_ops.SVD.apply(A), [(m, k), (k,), (k, n)])
    if full_matrices and m != n:
        uf, _, vhf = np.linalg.svd(unwrap(A), full_matrices=True)
        if m > k:
            u = movement.Cat.apply(u, wrap(np.ascontiguousarray(uf[..., :, k:])), dim=u.ndim - 1)
        if n > k:
            vh = movement.Cat.apply(
                vh, wrap(np.ascontiguousarray(vhf[..., k:, :])), dim=vh.ndim - 2
            )
    return return_types.linalg_svd(u, s, vh)


@with_out
def svdvals(A: Tensor) -> Tensor:  # noqa: N803
    """The singular values, descending."""
    return svd(A, full_matrices=False).S


@with_out
def eigh(A: Tensor, UPLO: str = "L"):  # noqa: N803
    """(eigenvalues ascending, eigenvectors as columns) of a symmetric matrix, reading
    its ``UPLO`` triangle."""
    _square("eigh", A)
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    n = A.shape[-1]
    lam, v = _unpack(linalg_ops.Eigh.apply(A, uplo=UPLO), [(n,), (n, n)])
    return return_types.linalg_eigh(lam, v)


@with_out
def eigvalsh(A: Tensor, UPLO: str = "L") -> Tensor:  # noqa: N803
    return eigh(A, UPLO).eigenvalues


def _norm_dims(dim, ndim: int):
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    out = tuple(d % ndim for d in dims)
    return out[0] if len(out) == 1 else out


@with_out
def vector_norm(x, ord=2, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:  # noqa: A002
    """(sum |x_i|^ord)^(1/ord) over ``dim`` (all entries if None); ``ord`` may be inf,
    -inf or 0 (the count of non-zeros)."""
    if dtype is not None:
        x = x.to(dtype)
    _float("vector_norm", x)
    if x.ndim == 0:
        x, dim = x.reshape(1), None if dim is None else 0
    return indexing.VectorNorm.apply(x, p=float(ord), dim=_norm_dims(dim, x.ndim), keepdim=keepdim)


@with_out
def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim: bool = False, *, dtype=None) -> Tensor:  # noqa: N803, A002
    """'fro', 'nuc', inf, -inf, 1, -1, 2, -2 norms of the matrices in the planes ``dim``."""
    if dtype is not None:
        A = A.to(dtype)  # noqa: N806
    _float("matrix_norm", A)
    if A.ndim < 2:
        raise RuntimeError(
            "linalg.matrix_norm: The input tensor A must have at least 2 dimensions."
        )
    d0, d1 = (d % A.ndim for d in dim)
    if ord == "fro":
        return vector_norm(A, 2, (d0, d1), keepdim)
    if ord in ("nuc", 2, -2):
        rest = [i for i in range(A.ndim) if i not in (d0, d1)]
        s = svdvals(A.permute(*rest, d0, d1))
        out = s.sum(-1) if ord == "nuc" else (s.amax(-1) if ord == 2 else s.amin(-1))
        if keepdim:
            out = out.unsqueeze(min(d0, d1)).unsqueeze(max(d0, d1))
        return out
    if ord in (1, -1, np.inf, -np.inf):
        sum_dim, ext_dim = (d0, d1) if ord in (1, -1) else (d1, d0)
        sums = A.abs().sum(sum_dim, keepdim=True)
        out = sums.amax(ext_dim, keepdim=True) if ord > 0 else sums.amin(ext_dim, keepdim=True)
        return out if keepdim else out.squeeze((d0, d1))
    raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")


@with_out
def norm(A, ord=None, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:  # noqa: N803, A002
    """``vector_norm`` for a 1-D ``dim`` (or a 1-D input, or ``ord=None`` over all
    entries), ``matrix_norm`` for a 2-D ``dim`` (or a 2-D input with an ``ord``)."""
    if dim is not None and not isinstance(dim, int) and len(dim) == 2:
        return matrix_norm(A, "fro" if ord is None else ord, dim, keepdim, dtype=dtype)
    if dim is None and ord is not None and A.ndim == 2:
        return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
    if dim is None and ord is not None and A.ndim != 1:
        raise RuntimeError(
            f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. "
            f"Got {A.ndim}D."
        )
    return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)


@with_out
def matrix_power(A: Tensor, n: int) -> Tensor:  # noqa: N803
    """A^n by repeated squaring (n < 0: of the inverse; n = 0: the identity)."""
    _square("matrix_power", A)
    if n == 0:
        eye = np.broadcast_to(np.eye(A.shape[-1], dtype=A.dtype), A.shape)
        return wrap(np.ascontiguousarray(eye))
    base = inv(A) if n < 0 else A
    n = abs(n)
    result = None
    while n:
        if n & 1:
            result = base if result is None else result @ base
        n >>= 1
        if n:
            base = base @ base
    return result


@with_out
def multi_dot(tensors) -> Tensor:
    """The product of a chain of matrices (first and last may be vectors), left to right."""
    tensors = list(tensors)
    if len(tensors) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    out = tensors[0]
    for t in tensors[1:]:
        out = out @ t
    return out


@with_out
def matrix_rank(A: Tensor, *, atol=None, rtol=None, hermitian: bool = False) -> Tensor:  # noqa: N803
    """The number of singular values above max(atol, rtol * largest) (PyTorch's default
    rtol: eps * max(m, n) when neither is given)."""
    s = np.linalg.svd(unwrap(A), compute_uv=False)
    smax = s.max(axis=-1, keepdims=True) if s.shape[-1] else np.zeros(s.shape[:-1] + (1,))
    if rtol is None:
        rtol = 0.0 if atol is not None and atol > 0 else np.finfo(s.dtype).eps * max(A.shape[-2:])
    tol = np.maximum(atol or 0.0, rtol * smax)
    return wrap((s > tol).sum(axis=-1).astype(np.int64))
