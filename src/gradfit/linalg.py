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
    "LinAlgError",
    "cholesky",
    "cond",
    "cross",
    "diagonal",
    "householder_product",
    "lstsq",
    "lu",
    "lu_factor",
    "lu_factor_ex",
    "lu_solve",
    "matmul",
    "matrix_exp",
    "pinv",
    "solve_ex",
    "tensorinv",
    "tensorsolve",
    "vander",
    "vecdot",
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


LinAlgError = linalg_ops.LinAlgError


def _first_singular(a: np.ndarray) -> tuple[int, int]:
    """(batch element, LAPACK info) of the first matrix whose LU has a zero pivot."""
    info = linalg_ops.getrf(a)[2].reshape(-1)
    bad = np.flatnonzero(info)
    i = int(bad[0]) if bad.size else 0
    return i, int(info[i]) if info.size else 0


def _singular(fn: str, a: np.ndarray) -> LinAlgError:
    """PyTorch's error for a singular matrix met by an inversion, naming the first zero
    diagonal element of U (1-based) and, in a batch, the matrix."""
    i, info = _first_singular(a)
    return LinAlgError(
        f"{fn}: {linalg_ops._batch_prefix(a.shape, i)}The diagonal element {info} is zero, "
        "the inversion could not be completed because the input matrix is singular."
    )


@with_out
def inv(A: Tensor) -> Tensor:  # noqa: N803 - PyTorch's name
    """A^{-1}; a singular matrix is an error, as in PyTorch."""
    _square("inv", A)
    try:
        return linalg_ops.Inv.apply(A)
    except np.linalg.LinAlgError:
        raise _singular("linalg.inv", unwrap(A)) from None


def inv_ex(A: Tensor, *, check_errors: bool = False):  # noqa: N803
    """(inverse, info): info 0 where the inversion worked."""
    try:
        return return_types.linalg_inv_ex(inv(A), wrap(np.zeros(A.shape[:-2], np.int32)))
    except LinAlgError:
        if check_errors:
            raise
        info = linalg_ops.getrf(unwrap(A))[2]
        nan = wrap(np.full(A.shape, np.nan, A.dtype))
        return return_types.linalg_inv_ex(nan, wrap(info))


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
        a = unwrap(A)
        i = _first_singular(a)[0]
        raise LinAlgError(
            f"torch.linalg.solve: {linalg_ops._batch_prefix(a.shape, i)}The solver failed "
            "because the input matrix is singular."
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
    if x.dtype.is_complex:  # the norm of the moduli (real, as PyTorch's)
        x = x.abs()
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


# ---------------------------------------------------------------------------------------
# Products, LU, least squares, pseudo-inverse, condition number, matrix exponential and
# the tensor forms of inv/solve (PyTorch's torch.linalg names and checks).


def _named(t: Tensor, name: str) -> Tensor:
    """Print PyTorch's node name for a result built from several gradfit ops."""
    if t.grad_fn is not None:
        t.grad_fn.torch_name = name
    return t


@with_out
def cross(input: Tensor, other: Tensor, *, dim: int = -1) -> Tensor:  # noqa: A002
    """The cross product of 3-vectors along ``dim`` (the inputs broadcast)."""
    from gradfit._tensorops_more import broadcast_tensors
    from gradfit._tensorops_more import cross as _cross

    if input.dtype != other.dtype:
        raise RuntimeError(
            f"linalg.cross: expected input and other to have the same dtype, but got "
            f"{input.dtype} and {other.dtype}"
        )
    if input.ndim != other.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    for t in (input, other):
        if t.ndim == 0 or not -t.ndim <= dim < t.ndim:
            raise IndexError(
                f"Dimension out of range (expected to be in range of "
                f"[{-max(t.ndim, 1)}, {max(t.ndim, 1) - 1}], but got {dim})"
            )
    if input.shape[dim] != 3 or other.shape[dim] != 3:
        raise RuntimeError(
            f"linalg.cross: inputs dimension {dim} must have length 3. Got "
            f"{input.shape[dim]} and {other.shape[dim]}"
        )
    a, b = broadcast_tensors(input, other)
    return _named(_cross(a, b, dim=dim % a.ndim), "LinalgCrossBackward0")


@with_out
def vecdot(x: Tensor, y: Tensor, *, dim: int = -1) -> Tensor:
    """sum_i x_i y_i along ``dim`` (the inputs broadcast; real tensors)."""
    if x.dtype != y.dtype:
        raise RuntimeError(
            f"linalg.vecdot: Expected x and y to have the same dtype, but found x of type "
            f"{_scalar_name(x.dtype)} and y of type {_scalar_name(y.dtype)} instead"
        )
    return (x * y).sum(dim)


def _scalar_name(dtype) -> str:
    """PyTorch's C++ scalar type name (Float, Double, Long, ...) in its error messages."""
    names = {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16",
             "int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char",
             "uint8": "Byte", "bool": "Bool"}  # fmt: skip
    return names.get(str(dtype).rsplit(".", 1)[-1], str(dtype))


@with_out
def matmul(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    """The matrix product, as ``gradfit.matmul`` (an alias, as in PyTorch)."""
    return input @ other


def diagonal(A: Tensor, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:  # noqa: N803
    """The diagonals of the matrices in the planes (dim1, dim2), as a view."""
    return A.diagonal(offset, dim1, dim2)


_LSTSQ_DRIVERS = ("gels", "gelsy", "gelsd", "gelss")


def lstsq(A: Tensor, B: Tensor, rcond: float | None = None, *, driver: str | None = None):  # noqa: N803
    """Least squares: X minimising ||A X - B||_F for each matrix of a batch (A (*, m, n),
    B (*, m, k) or (*, m); batches broadcast), with LAPACK's ``driver``: 'gelsy' (the
    default on the CPU, as PyTorch: complete orthogonal factorisation), 'gelsd', 'gelss'
    (SVD: also the singular values) or 'gels' (QR, A assumed of full rank: no rank).

    Returns ``(solution, residuals, rank, singular_values)`` as PyTorch: residuals
    ||A X - B||^2 per column only for drivers other than gelsy when m > n and every A
    has full rank (else empty); rank (int64) except for 'gels'; singular values only for
    'gelsd' and 'gelss'. Singular values below ``rcond`` times the largest count as zero
    (default eps * max(m, n)). The gradient of X is that of pinv(A) B, as PyTorch's.
    """
    if A.ndim < 2:
        raise RuntimeError("torch.linalg.lstsq: input must have at least 2 dimensions.")
    if B.ndim < 1:
        raise RuntimeError("torch.linalg.lstsq: other must have at least 1 dimension.")
    if A.dtype != B.dtype:
        raise RuntimeError(
            f"torch.linalg.lstsq: Expected input and other to have the same dtype, but got "
            f"input's dtype {_scalar_name(A.dtype)} and other's dtype "
            f"{_scalar_name(B.dtype)}"
        )
    _float("lstsq", A)
    if not 0 <= A.ndim - B.ndim <= 1:
        raise RuntimeError(
            "torch.linalg.lstsq: input.dim() must be greater or equal to other.dim() and "
            "(input.dim() - other.dim()) <= 1"
        )
    vector = B.ndim == A.ndim - 1
    row = -1 if vector else -2
    if A.shape[-2] != B.shape[row]:
        raise RuntimeError(f"torch.linalg.lstsq: input.size(-2) should match other.size({row})")
    driver = "gelsy" if driver is None else driver
    if driver not in _LSTSQ_DRIVERS:
        raise RuntimeError(
            "torch.linalg.lstsq: parameter `driver` should be one of (gels, gelsy, gelsd, gelss)"
        )
    from scipy.linalg import lstsq as _scipy_lstsq

    b = B.unsqueeze(-1) if vector else B
    m, n, k = A.shape[-2], A.shape[-1], b.shape[-1]
    batch = np.broadcast_shapes(A.shape[:-2], b.shape[:-2])
    a_arr = np.broadcast_to(unwrap(A), batch + (m, n)).reshape(-1, m, n)
    b_arr = np.broadcast_to(unwrap(b), batch + (m, k)).reshape(-1, m, k)
    if rcond is None:
        rcond = np.finfo(a_arr.dtype).eps * max(m, n)
    x = np.zeros((a_arr.shape[0], n, k), a_arr.dtype)
    ranks = np.zeros(a_arr.shape[0], np.int64)
    svals = np.zeros((a_arr.shape[0], min(m, n)), a_arr.dtype)
    lapack = "gelsy" if driver == "gels" else driver
    for i in range(a_arr.shape[0]):  # one LAPACK call per matrix of the batch
        if m and n:
            sol, _, rank, sv = _scipy_lstsq(a_arr[i], b_arr[i], cond=rcond, lapack_driver=lapack)
            x[i], ranks[i] = sol, rank
            if sv is not None:
                svals[i] = sv
    solution = linalg_ops.Lstsq.apply(A, b, x=x.reshape(batch + (n, k)))
    _named(solution, "LinalgLstsqBackward0")
    empty = wrap(np.empty((0,), a_arr.dtype))
    residuals = empty
    if driver != "gelsy" and m > n and (driver == "gels" or (ranks == n).all()):
        # (*, k), and (*, 1) for a vector B, as PyTorch
        residuals = ((A @ solution - b) ** 2).sum(-2)
    if vector:
        solution = solution.squeeze(-1)
    rank = wrap(np.empty((0,), np.int64)) if driver == "gels" else wrap(ranks.reshape(batch))
    singular_values = empty
    if driver in ("gelsd", "gelss"):
        singular_values = wrap(svals.reshape(batch + (min(m, n),)))
    return return_types.linalg_lstsq(solution, residuals, rank, singular_values)


def _lu_checks(fn: str, A: Tensor) -> None:  # noqa: N803
    if A.ndim < 2:
        raise RuntimeError(
            f"torch.linalg.{fn}: Expected tensor with 2 or more dimensions. Got size: "
            f"{list(A.shape)} instead"
        )
    _float(fn, A)


def lu_factor_ex(A: Tensor, *, pivot: bool = True, check_errors: bool = False):  # noqa: N803
    """(LU, pivots, info): the LU factorisation with partial pivoting A = P L U packed
    as LAPACK's getrf gives it (L's strict lower triangle and U's upper one), the 1-based
    int32 row swaps (row i was swapped with row pivots[i]), and info > 0 where U has a
    zero on its diagonal (at 1-based position info). Differentiable in LU (PyTorch's LU
    backward; for square, wide and tall A)."""
    _lu_checks("lu_factor_ex", A)
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")
    lu_arr, piv, info = linalg_ops.getrf(unwrap(A))
    if check_errors and info.any():
        i = int(np.flatnonzero(info.reshape(-1))[0])
        raise LinAlgError(
            f"torch.linalg.lu_factor_ex: {linalg_ops._batch_prefix(A.shape, i)}The "
            f"factorization could not be completed because the input is singular "
            f"(U[{info.reshape(-1)[i]},{info.reshape(-1)[i]}] is zero)."
        )
    lu = _named(linalg_ops.LUFactor.apply(A, lu=lu_arr, piv=piv), "LinalgLuFactorExBackward0")
    return return_types.linalg_lu_factor_ex(lu, wrap(piv), wrap(info))


def lu_factor(A: Tensor, *, pivot: bool = True):  # noqa: N803
    """(LU, pivots) of ``lu_factor_ex``; a zero on U's diagonal is an error, as in
    PyTorch (``lu_solve`` would divide by it)."""
    _lu_checks("lu_factor", A)
    lu, piv, info = lu_factor_ex(A, pivot=pivot)
    flat = unwrap(info).reshape(-1)
    if flat.any():
        i = int(np.flatnonzero(flat)[0])
        raise RuntimeError(
            f"torch.linalg.lu_factor: {linalg_ops._batch_prefix(A.shape, i)}U[{flat[i]},"
            f"{flat[i]}] is zero and using it on lu_solve would result in a division by "
            "zero. If you still want to perform the factorization, consider calling "
            "linalg.lu(A, pivot) or linalg.lu_factor_ex(A, pivot)"
        )
    return return_types.linalg_lu_factor(lu, piv)


def lu(A: Tensor, *, pivot: bool = True):  # noqa: N803
    """(P, L, U) with A = P L U: P a permutation matrix (m x m), L unit lower
    triangular (m x k), U upper triangular (k x n), k = min(m, n)."""
    _lu_checks("lu", A)
    packed, piv, _ = lu_factor_ex(A, pivot=pivot)
    m, n = A.shape[-2:]
    k = min(m, n)
    low = packed[..., :, :k].tril(-1) + wrap(np.eye(m, k, dtype=unwrap(packed).dtype))
    up = packed[..., :k, :].triu()
    p = linalg_ops.permutation_from_pivots(unwrap(piv), m, unwrap(packed).dtype)
    return return_types.linalg_lu(
        wrap(p), _named(low, "LinalgLuBackward0"), _named(up, "LinalgLuBackward0")
    )


def lu_solve(
    LU: Tensor,  # noqa: N803
    pivots: Tensor,
    B: Tensor,  # noqa: N803
    *,
    left: bool = True,
    adjoint: bool = False,
) -> Tensor:
    """X with A X = B from ``lu_factor``'s (LU, pivots) of A (``left=False``: X A = B;
    ``adjoint``: A^T in place of A). Two triangular solves and the row permutation, so
    gradients reach LU (its two triangles) and B, as PyTorch's."""
    if B.ndim < 2:
        raise RuntimeError("linalg.lu_solve: The input tensor B must have at least 2 dimensions.")
    if str(pivots.dtype).rsplit(".", 1)[-1] != "int32":
        raise RuntimeError("linalg.lu_solve: pivots should be a Tensor of scalar type torch.int32")
    _square("lu_solve", LU)
    n = LU.shape[-1]
    rows = B.shape[-2] if left else B.shape[-1]
    if rows != n:
        eq = "AX = B" if left else "XA = B"
        raise RuntimeError(
            f"linalg.lu_solve: Incompatible shapes of A and B for the equation {eq} "
            f"({n}x{n} and {B.shape[-2]}x{B.shape[-1]})"
        )
    p = wrap(linalg_ops.permutation_from_pivots(unwrap(pivots), n, unwrap(LU).dtype))
    if not left:  # X A = B  <=>  A^T X^T = B^T
        return lu_solve(LU, pivots, B.mT, left=True, adjoint=not adjoint).mT
    if adjoint:  # A^T X = B, A^T = U^T L^T P^T:  X = P L^{-T} U^{-T} B
        y = solve_triangular(LU.mT, B, upper=False)
        y = solve_triangular(LU.mT, y, upper=True, unitriangular=True)
        return _named(p @ y, "LinalgLuSolveBackward0")
    y = solve_triangular(LU, p.mT @ B, upper=False, unitriangular=True)
    return _named(solve_triangular(LU, y, upper=True), "LinalgLuSolveBackward0")


def solve_ex(A: Tensor, B: Tensor, *, left: bool = True, check_errors: bool = False):  # noqa: N803
    """(result, info) of ``solve``: info (int32, per matrix) > 0 where A is singular
    (the 1-based position of the zero on U's diagonal); there the result is nan."""
    _square("solve", A)
    info = linalg_ops.getrf(unwrap(A))[2]
    if not info.any():
        return return_types.linalg_solve_ex(solve(A, B, left=left), wrap(info))
    if check_errors:
        solve(A, B, left=left)  # raises PyTorch's error for the first singular matrix
    eye = np.eye(A.shape[-1], dtype=unwrap(A).dtype)
    safe = wrap(np.where(info[..., None, None] > 0, eye, unwrap(A)))
    x = unwrap(solve(safe, B, left=left))
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and B.shape[:-1] == A.shape[:-2])
    bad = info.reshape(info.shape + (1,) * (1 if vector else 2))
    return return_types.linalg_solve_ex(wrap(np.where(bad > 0, np.nan, x)), wrap(info))


@with_out
def pinv(
    A: Tensor,  # noqa: N803
    *,
    atol: float | Tensor | None = None,
    rtol: float | Tensor | None = None,
    hermitian: bool = False,
) -> Tensor:
    """The Moore-Penrose pseudo-inverse through the SVD (``hermitian``: the symmetric
    eigendecomposition, reading the lower triangle); singular values at most
    max(atol, rtol * largest) count as zero. Defaults as PyTorch: atol 0 and rtol
    eps * max(m, n), or rtol 0 when only a positive atol is given."""
    if A.ndim < 2 or not A.dtype.is_floating_point:
        raise RuntimeError(
            f"linalg.pinv({_scalar_name(A.dtype)}{{{list(A.shape)}}}): expected a tensor with "
            "2 or more dimensions of float, double, cfloat or cdouble types"
        )
    atol_v = 0.0 if atol is None else unwrap(atol)
    if rtol is None:
        positive_atol = atol is not None and np.all(np.asarray(atol_v) > 0)
        rtol_v = 0.0 if positive_atol else None
    else:
        rtol_v = unwrap(rtol)
    out = linalg_ops.Pinv.apply(A, atol=atol_v, rtol=rtol_v, hermitian=hermitian)
    return _named(out, "LinalgPinvBackward0")


def pinverse(input: Tensor, rcond: float = 1e-15) -> Tensor:  # noqa: A002
    """``torch.pinverse``: ``linalg.pinv`` with rtol ``rcond``."""
    return pinv(input, rtol=rcond)


_COND_NORMS = ("fro", "nuc", np.inf, -np.inf, 1, -1)


@with_out
def cond(A: Tensor, p=None) -> Tensor:  # noqa: N803
    """The condition number ||A||_p ||A^{-1}||_p: for p None, 2 or -2 the ratio of the
    largest and smallest singular values (any m x n); for 'fro', 'nuc', inf, -inf, 1, -1
    (square A) through the inverse, inf where A is singular, as PyTorch."""
    if p is not None and p not in _COND_NORMS + (2, -2):
        raise RuntimeError(f"linalg.cond got an invalid norm type: {p}")
    if A.ndim < 2:
        raise RuntimeError("linalg.cond: The input tensor A must have at least 2 dimensions.")
    _float("cond", A)
    if p in (None, 2, -2):
        s = svdvals(A)
        big, small = s[..., 0], s[..., -1]
        return _named(big / small if p != -2 else small / big, "SqueezeBackward1")
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(
            f"linalg.cond(ord={p}): A must be batches of square matrices, but they are "
            f"{A.shape[-2]} by {A.shape[-1]} matrices"
        )
    if p == "nuc":  # from the singular values directly, as PyTorch (finite near singular)
        s = svdvals(A)
        return s.sum(-1) * (1 / s).sum(-1)
    info = linalg_ops.getrf(unwrap(A))[2]
    if not info.any():
        return _named(matrix_norm(A, p) * matrix_norm(inv(A), p), "NanToNumBackward0")
    eye = np.eye(A.shape[-1], dtype=unwrap(A).dtype)
    safe = A.where(wrap(info[..., None, None] == 0), wrap(eye))
    value = matrix_norm(A, p) * matrix_norm(inv(safe), p)
    out = value.where(wrap(info == 0), wrap(np.asarray(np.inf, unwrap(A).dtype)))
    return _named(out, "NanToNumBackward0")


@with_out
def matrix_exp(A: Tensor) -> Tensor:  # noqa: N803
    """exp(A) = sum_k A^k / k! of each square matrix (scipy's scaling and squaring);
    differentiable to any order (the block-matrix form of its derivative)."""
    if A.ndim < 2:
        raise RuntimeError("linalg.matrix_exp: The input tensor A must have at least 2 dimensions.")
    _square("matrix_exp", A)
    return _named(linalg_ops.MatrixExp.apply(A), "LinalgMatrixExpBackward0")


@with_out
def tensorinv(A: Tensor, ind: int = 2) -> Tensor:  # noqa: N803
    """The inverse of A read as a matrix of shape (prod(A.shape[:ind]),
    prod(A.shape[ind:])), returned in shape A.shape[ind:] + A.shape[:ind]."""
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    rows, cols = tuple(A.shape[:ind]), tuple(A.shape[ind:])
    n_rows, n_cols = int(np.prod(rows)), int(np.prod(cols))
    if n_rows != n_cols:
        raise RuntimeError(
            f"Expected self to satisfy the requirement prod(self.shape[ind:]) == "
            f"prod(self.shape[:ind]), but got {n_cols} != {n_rows}"
        )
    flat = A.reshape(n_rows, n_cols)
    _square("inv", flat)
    try:
        result = linalg_ops.Inv.apply(flat)
    except np.linalg.LinAlgError:
        raise _singular("inv", unwrap(flat)) from None
    return _named(result.reshape(cols + rows), "ReshapeAliasBackward0")


@with_out
def tensorsolve(A: Tensor, B: Tensor, dims=None) -> Tensor:  # noqa: N803
    """X with tensordot(A, X, X.ndim) = B: A's dims ``dims`` are moved to the end first;
    X has shape A.shape[B.ndim:]."""
    if dims is not None:
        dims = [d % A.ndim for d in dims]
        rest = [d for d in range(A.ndim) if d not in dims]
        A = A.permute(*rest, *dims)  # noqa: N806
    result_shape = tuple(A.shape[B.ndim :])
    n_rows = int(np.prod(A.shape[: B.ndim]))
    n_cols = int(np.prod(result_shape))
    if n_rows != n_cols:
        raise RuntimeError(
            f"Expected self to satisfy the requirement prod(self.shape[other.ndim:]) == "
            f"prod(self.shape[:other.ndim]), but got {n_cols} != {n_rows}"
        )
    x = solve(A.reshape(n_rows, n_cols), B.reshape(n_cols))
    return x.reshape(result_shape)


def vander(x: Tensor, *, N: int | None = None) -> Tensor:  # noqa: N803
    """The Vandermonde matrix of increasing powers x^0, x^1, ..., x^(N-1) along a new
    last axis (N defaults to x.shape[-1]); the powers are a cumulative product, as
    PyTorch, so the gradient is finite at x = 0."""
    if x.ndim == 0:
        raise RuntimeError("x must have at least one dimension.")
    n = x.shape[-1] if N is None else N
    if n <= 1:
        raise RuntimeError("N must be greater than 1.")
    powers = x.unsqueeze(-1).expand(*x.shape, n - 1).cumprod(-1)
    ones = wrap(np.ones(tuple(x.shape) + (1,), dtype=unwrap(x).dtype))
    return movement.Cat.apply(ones, powers, dim=x.ndim)


@with_out
def householder_product(A: Tensor, tau: Tensor) -> Tensor:  # noqa: N803
    """The first n columns of H_1 H_2 ... H_k, H_i = I - tau_i v_i v_i^T, where v_i is
    column i of A below the diagonal with a 1 on it (LAPACK's orgqr, the Q of ``geqrf``).
    A product of differentiable steps, so gradients reach A and tau."""
    if A.ndim < 2:
        raise RuntimeError(
            "torch.linalg.householder_product: input must have at least 2 dimensions."
        )
    m, n = A.shape[-2:]
    k = tau.shape[-1]
    if m < n:
        raise RuntimeError(
            "torch.linalg.householder_product: input.shape[-2] must be greater than or "
            "equal to input.shape[-1]"
        )
    if k > n:
        raise RuntimeError(
            "torch.linalg.householder_product: input.shape[-1] must be greater than or "
            "equal to tau.shape[-1]"
        )
    dtype = unwrap(A).dtype
    q = wrap(np.broadcast_to(np.eye(m, dtype=dtype), tuple(A.shape[:-2]) + (m, m)).copy())
    rows = np.arange(m)
    for i in range(k):
        below = wrap((rows > i).astype(dtype))
        v = A[..., :, i] * below + wrap((rows == i).astype(dtype))
        qv = (q @ v.unsqueeze(-1)) * tau[..., i, None, None]
        q = q - qv @ v.unsqueeze(-2)
    return _named(q[..., :, :n], "LinalgHouseholderProductBackward0")
