"""Tensor operations older programs still call (apigaps): the legacy linear-algebra forms
(``svd``'s V, ``qr(some)``, ``lu``/``lu_unpack``/``lu_solve``, ``triangular_solve``,
``ger``/``addr``, ``chain_matmul``, ``frobenius_norm``, ``nuclear_norm``), the removed ones
raising PyTorch's error, the ``*_scatter`` and ``*_copy`` forms, shifts, ``nextafter``,
``i0``/``polygamma``/``mvlgamma``/``igamma``, and a few CPU-only facts (``get_device``,
``is_pinned``, ...).

Everything differentiable is composed of recorded gradfit operations (``linalg``'s
triangular solves, ``tril``/``triu``, views and in-place copies into a clone), so its
gradients and second derivatives are those of the parts.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from gradfit import _dtypes, linalg, return_types
from gradfit._arrays import unwrap, wrap
from gradfit.ops import activation as _act
from gradfit.ops import elementwise_more as _emore
from gradfit.ops import special as _sp

# ------------------------------------------------------------------------ warnings once
# PyTorch's TORCH_WARN_ONCE: a warning given once per process, unless set_warn_always(True)
WARN_ALWAYS = [False]
_WARNED: set = set()


def warn_once(message: str, stacklevel: int = 3) -> None:
    if WARN_ALWAYS[0] or message not in _WARNED:
        _WARNED.add(message)
        warnings.warn(message, stacklevel=stacklevel)


# ------------------------------------------------------------------------ removed functions
_REMOVED = {
    "solve": (
        "This function was deprecated since version 1.9 and is now removed. `torch.solve` is "
        "deprecated in favor of `torch.linalg.solve`. `torch.linalg.solve` has its arguments "
        "reversed and does not return the LU factorization.\n\nTo get the LU factorization "
        "see `torch.lu`, which can be used with `torch.lu_solve` or `torch.lu_unpack`.\n"
        "X = torch.solve(B, A).solution should be replaced with:\nX = torch.linalg.solve(A, B)"
    ),
    "lstsq": (
        "This function was deprecated since version 1.9 and is now removed. `torch.lstsq` is "
        "deprecated in favor of `torch.linalg.lstsq`.\n`torch.linalg.lstsq` has reversed "
        "arguments and does not return the QR decomposition in the returned tuple (although "
        "it returns other information about the problem).\n\nTo get the QR decomposition "
        "consider using `torch.linalg.qr`.\n\nThe returned solution in `torch.lstsq` stored "
        "the residuals of the solution in the last m - n columns of the returned value "
        "whenever m > n. In torch.linalg.lstsq, the residuals are in the field 'residuals' "
        "of the returned named tuple.\n\nThe unpacking of the solution, as in\nX, _ = "
        "torch.lstsq(B, A).solution[:A.size(1)]\nshould be replaced with:\nX = "
        "torch.linalg.lstsq(A, B).solution"
    ),
    "eig": (
        "This function was deprecated since version 1.9 and is now removed. `torch.linalg.eig` "
        "returns complex tensors of dtype `cfloat` or `cdouble` rather than real tensors "
        "mimicking complex tensors.\n\nL, _ = torch.eig(A) should be replaced with:\n"
        "L_complex = torch.linalg.eigvals(A)\n\nand\n\nL, V = torch.eig(A, eigenvectors=True) "
        "should be replaced with:\nL_complex, V_complex = torch.linalg.eig(A)"
    ),
    "symeig": (
        "This function was deprecated since version 1.9 and is now removed. The default "
        "behavior has changed from using the upper triangular portion of the matrix by "
        "default to using the lower triangular portion.\n\nL, _ = torch.symeig(A, "
        "upper=upper) should be replaced with:\nL = torch.linalg.eigvalsh(A, UPLO='U' if "
        "upper else 'L')\n\nand\n\nL, V = torch.symeig(A, eigenvectors=True) should be "
        "replaced with:\nL, V = torch.linalg.eigh(A, UPLO='U' if upper else 'L')"
    ),
    "matrix_rank": (
        "This function was deprecated since version 1.9 and is now removed.\nPlease use the "
        "`torch.linalg.matrix_rank` function instead. The parameter 'symmetric' was renamed "
        "in `torch.linalg.matrix_rank()` to 'hermitian'."
    ),
}


def removed(name: str):
    """A function PyTorch removed (``torch.solve``, ``lstsq``, ``eig``, ``symeig``,
    ``matrix_rank``): calling it raises PyTorch's RuntimeError, which says what replaces it."""

    def fn(*args, **kwargs):
        raise RuntimeError(_REMOVED[name])

    fn.__name__ = fn.__qualname__ = name
    return fn


# ------------------------------------------------------------------------ legacy linalg
def qr(input, some: bool = True):  # noqa: A002
    """(Q, R) of ``linalg.qr`` with mode 'reduced' (``some``) or 'complete'."""
    q, r = linalg.qr(input, "reduced" if some else "complete")
    return return_types.qr(q, r)


def lu(A, pivot: bool = True, get_infos: bool = False):  # noqa: N803
    """(LU, pivots) or, with ``get_infos``, (LU, pivots, infos): ``linalg.lu_factor_ex``,
    whose singular input is an error unless the infos are asked for."""
    packed, piv, info = linalg.lu_factor_ex(A, pivot=pivot, check_errors=not get_infos)
    return return_types._lu_with_info(packed, piv, info) if get_infos else (packed, piv)


def lu_unpack(LU_data, LU_pivots, unpack_data: bool = True, unpack_pivots: bool = True):  # noqa: N803
    """(P, L, U) from the packed factorisation of ``lu``: A = P L U, L unit lower (m x k),
    U upper (k x n), P the m x m permutation the 1-based row swaps make. What is not
    unpacked is an empty tensor, as in PyTorch. Differentiable in LU_data."""
    m, n = LU_data.shape[-2:]
    k = min(m, n)
    dt = unwrap(LU_data).dtype
    if unpack_data:
        eye = wrap(np.eye(m, k, dtype=dt))
        low = LU_data[..., :, :k].tril(-1) + eye
        up = LU_data[..., :k, :].triu()
    else:
        low = up = wrap(np.empty((0,), dtype=dt))
    if unpack_pivots:
        piv = unwrap(LU_pivots).astype(np.int64) - 1
        batch = piv.shape[:-1]
        flat = piv.reshape(-1, piv.shape[-1])
        perm = np.tile(np.arange(m), (flat.shape[0], 1))
        rows = np.arange(flat.shape[0])
        for i in range(flat.shape[1]):  # the swaps are sequential: each sees the last
            j = flat[:, i]
            a, b = perm[rows, i].copy(), perm[rows, j].copy()
            perm[rows, i], perm[rows, j] = b, a
        p = np.zeros((flat.shape[0], m, m), dtype=dt)
        p[rows[:, None], perm, np.arange(m)[None, :]] = 1
        P = wrap(p.reshape(batch + (m, m)))  # noqa: N806
    else:
        P = wrap(np.empty((0,), dtype=dt))  # noqa: N806
    return return_types.lu_unpack(P, low, up)


def lu_solve(b, LU_data, LU_pivots):  # noqa: N803
    """X with A X = b, A given by its packed LU factorisation (``linalg.lu_solve``)."""
    return linalg.lu_solve(LU_data, LU_pivots, b)


def _check_matrix(fn: str, name: str, t) -> None:
    if t.ndim < 2:
        raise RuntimeError(f"{fn}: The input tensor {name} must have at least 2 dimensions.")


def triangular_solve(
    b, A, upper: bool = True, transpose: bool = False, unitriangular: bool = False
):  # noqa: N803
    """(solution, cloned_coefficient): X with op(A) X = b, op(A) = A or A^T, A triangular
    (upper by default, PyTorch's legacy order of arguments), and a copy of A."""
    coeff = A.mT if transpose else A
    x = linalg.solve_triangular(coeff, b, upper=upper != transpose, unitriangular=unitriangular)
    return return_types.triangular_solve(x, A.clone())


def _check_vec(fn: str, name: str, v) -> None:
    if v.ndim != 1:
        raise RuntimeError(f"{fn}: Expected 1-D argument {name}, but got {v.ndim}-D")


def ger(input, vec2):  # noqa: A002
    """The outer product of two vectors (``outer``)."""
    _check_vec("outer", "self", input)
    _check_vec("outer", "vec2", vec2)
    return input[:, None] * vec2[None, :]


def addr(input, vec1, vec2, *, beta=1, alpha=1):  # noqa: A002
    """beta * input + alpha * outer(vec1, vec2); beta = 0 ignores input (NaN included)."""
    _check_vec("addr", "vec1", vec1)
    _check_vec("addr", "vec2", vec2)
    prod = vec1[:, None] * vec2[None, :]
    if alpha != 1:
        prod = prod * alpha
    if beta == 0:  # BLAS's rule: input is not read, so its NaN and inf do not leak in
        return prod + (input * 0).nan_to_num(0.0, 0.0, 0.0)
    return (input * beta if beta != 1 else input) + prod


def chain_matmul(*matrices):
    """The product of the matrices in the order of least work (``linalg.multi_dot``), with
    PyTorch's deprecation warning (once per process); one matrix is returned as a copy."""
    warn_once(
        "torch.chain_matmul is deprecated and will be removed in a future PyTorch release. "
        "Use torch.linalg.multi_dot instead, which accepts a list of two or more tensors "
        "rather than multiple parameters."
    )
    if len(matrices) == 0:
        raise RuntimeError("chain_matmul(): Expected one or more input tensors")
    if len(matrices) == 1:
        if matrices[0].ndim != 2:
            raise RuntimeError(
                f"chain_matmul(): Expected 2D tensors but got {matrices[0].ndim}D tensor"
            )
        return matrices[0].clone()
    return linalg.multi_dot(list(matrices))


def frobenius_norm(input, dim, keepdim: bool = False):  # noqa: A002
    """sqrt(sum x^2) over ``dim`` (one or two dimensions)."""
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    if len(dims) > 2:
        raise RuntimeError(
            f"Expected at most 2 dimensions, but got {len(dims)} dimensions instead."
        )
    return linalg.vector_norm(input, 2, dims, keepdim)


def nuclear_norm(input, dim=None, keepdim: bool = False):  # noqa: A002
    """The sum of the singular values of the matrices over ``dim`` (the last two)."""
    if isinstance(dim, bool):  # nuclear_norm(x, True): the keepdim overload
        dim, keepdim = None, dim
    if dim is None:
        if input.ndim != 2:
            raise RuntimeError(
                f"Expected a tensor with 2 dimensions, but got a tensor with {input.ndim} "
                f"dimension{'s' if input.ndim != 1 else ''} instead."
            )
        dim = (-2, -1)
    return linalg.matrix_norm(input, "nuc", tuple(dim), keepdim)


# ------------------------------------------------------------------------ scatter / copy forms
def _clone_into(input, src, view_fn):  # noqa: A002
    out = input.clone()
    view = view_fn(out)
    if tuple(view.shape) != tuple(src.shape):
        raise RuntimeError(
            f"expected src to have a size equal to the slice of self. src size = "
            f"{list(src.shape)}, slice size = {list(view.shape)}"
        )
    view.copy_(src)
    return out


def diagonal_scatter(input, src, offset: int = 0, dim1: int = 0, dim2: int = 1):  # noqa: A002
    """A copy of input whose diagonal (offset, dim1, dim2) is src: the two dimensions are
    moved last and the diagonal's positions written by index (recorded, so the gradient
    reaches both input and src)."""
    view = input.diagonal(offset, dim1, dim2)
    if tuple(view.shape) != tuple(src.shape):
        raise RuntimeError(
            f"expected src to have a size equal to the slice of self. src size = "
            f"{list(src.shape)}, slice size = {list(view.shape)}"
        )
    d1, d2 = dim1 % input.ndim, dim2 % input.ndim
    moved = input.movedim((d1, d2), (-2, -1)).clone()
    k = view.shape[-1]
    rows = np.arange(k) + max(-offset, 0)
    cols = np.arange(k) + max(offset, 0)
    moved[..., wrap(rows), wrap(cols)] = src
    return moved.movedim((-2, -1), (d1, d2))


def select_scatter(input, src, dim: int, index: int):  # noqa: A002
    """A copy of input whose slice ``select(dim, index)`` is src."""
    return _clone_into(input, src, lambda t: t.select(dim, index))


def slice_scatter(input, src, dim: int = 0, start=None, end=None, step: int = 1):  # noqa: A002
    """A copy of input whose slice ``[start:end:step]`` along dim is src."""
    d = dim % input.ndim if input.ndim else 0
    key = (slice(None),) * d + (slice(start, end, step),)
    return _clone_into(input, src, lambda t: t[key])


def narrow_copy(input, dim: int, start: int, length: int):  # noqa: A002
    return input.narrow(dim, start, length).clone()


# ------------------------------------------------------------------------ shifts, nextafter
def _int_pair(fn: str, a, b):
    """Both operands as arrays of their promoted integer dtype (PyTorch's promotion)."""
    x = unwrap(a) if hasattr(a, "shape") else a
    y = unwrap(b) if hasattr(b, "shape") else b
    if not hasattr(a, "shape"):
        x = np.asarray(x, dtype=y.dtype if isinstance(x, int) else None)
    if not hasattr(b, "shape"):
        y = np.asarray(y, dtype=x.dtype if isinstance(y, int) else None)
    dt = _dtypes.tensors_result(x, y)
    if dt.kind not in "iu":
        raise RuntimeError(f"{fn}: expected integer operands, got {x.dtype} and {y.dtype}")
    return x.astype(dt), y.astype(dt), dt


def bitwise_left_shift(input, other):  # noqa: A002
    """input << other; a shift by the bit width or more (or a negative one) gives 0, as
    PyTorch's kernel does."""
    a, b, dt = _int_pair("lshift", input, other)
    bits = dt.itemsize * 8
    big = (b < 0) | (b >= bits)
    with np.errstate(all="ignore"):
        out = np.left_shift(a, np.where(big, 0, b).astype(dt))
    return wrap(np.where(big, np.zeros((), dt), out).astype(dt))


def bitwise_right_shift(input, other):  # noqa: A002
    """input >> other (arithmetic); a shift by the bit width or more (or a negative one)
    shifts by width - 1, as PyTorch's kernel does."""
    a, b, dt = _int_pair("rshift", input, other)
    bits = dt.itemsize * 8
    big = (b < 0) | (b >= bits)
    return wrap(np.right_shift(a, np.where(big, bits - 1, b).astype(dt)).astype(dt))


def nextafter(input, other):  # noqa: A002
    """The next floating-point value after input towards other (no gradient: PyTorch has
    no derivative for it)."""
    a, b = unwrap(input), unwrap(other)
    if a.dtype != b.dtype or a.dtype.kind != "f":
        raise RuntimeError(
            f"nextafter: expected both inputs to have the same floating dtype, got {a.dtype} "
            f"and {b.dtype}"
        )
    return wrap(np.nextafter(a, b))


# ------------------------------------------------------------------------ special functions
def _float(x):
    a = unwrap(x)
    if a.dtype.kind in "fc":
        return x
    return x.to(_dtypes.get_default_dtype())


def i0(input):  # noqa: A002
    """The modified Bessel function of the first kind, order 0."""
    return _sp.I0.apply(_float(input))


def polygamma(n, input):  # noqa: A002
    """The n-th derivative of digamma."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise RuntimeError(f"polygamma(n, x) does not support negative n. (got n={n!r})")
    return _emore.Polygamma.apply(_float(input), n=n)


def mvlgamma(input, p: int):  # noqa: A002
    """The multivariate log-gamma of dimension p: sum_{i<p} lgamma(x - i/2) +
    p(p-1)/4 log(pi)."""
    x = _float(input)
    if not isinstance(p, int) or p < 1:
        raise RuntimeError(f"p has to be greater than or equal to 1 (got p={p!r})")
    if bool((x <= (p - 1) / 2).any()):
        raise RuntimeError(f"All elements must be greater than (p-1)/2 = {(p - 1) / 2}")
    offsets = wrap(np.arange(-p * 0.5 + 0.5, 0.5, 0.5, dtype=unwrap(x).dtype))
    return (x.unsqueeze(-1) + offsets).lgamma().sum(-1) + p * (p - 1) / 4 * math.log(math.pi)


def igamma(input, other):  # noqa: A002
    """The regularised lower incomplete gamma function P(input, other)."""
    return _sp.Gammainc.apply(_float(input), _float(other))


def igammac(input, other):  # noqa: A002
    """The regularised upper incomplete gamma function Q = 1 - P."""
    a, b = _float(input), _float(other)
    return _sp.Gammainc.apply(a, b, upper=True)


def isreal(input):  # noqa: A002
    """True everywhere for a real tensor (complex: where the imaginary part is 0)."""
    a = unwrap(input)
    if a.dtype.kind == "c":
        return wrap(a.imag == 0)
    return wrap(np.ones(a.shape, dtype=bool))


def prelu(input, weight):  # noqa: A002
    """``Tensor.prelu``: z for z > 0, weight * z otherwise, one weight per channel (axis 1)
    or one shared weight (the checks of ``nn.functional.prelu``)."""
    if input.dtype != weight.dtype:
        names = {"float64": "Double", "float32": "Float", "float16": "Half"}
        a, b = unwrap(input).dtype, unwrap(weight).dtype
        raise RuntimeError(
            f"prelu: Type promoting not supported. Got {names.get(a.name, input.dtype)}"
            f" and {names.get(b.name, weight.dtype)}"
        )
    n = weight.numel()
    if n != 1:
        channels = input.shape[1] if input.ndim >= 2 else 1
        if weight.ndim != 1 or n != channels:
            raise RuntimeError(
                f"Mismatch of parameter numbers and input channel size. Found parameter "
                f"numbers = {n} and channel size = {channels}."
            )
        weight = weight.reshape((n,) + (1,) * (input.ndim - 2))
    elif input.ndim == 0:
        weight = weight.reshape(())
    return _act.Prelu.apply(input, weight)


def as_strided_scatter(input, src, size, stride, storage_offset=None):  # noqa: A002
    """A copy of input whose positions that ``as_strided(size, stride, storage_offset)``
    reads (in input's row-major storage order) hold src; differentiable in both."""
    size, stride = tuple(int(v) for v in size), tuple(int(v) for v in stride)
    if tuple(src.shape) != size:
        raise RuntimeError(
            f"expected src to have a size equal to the slice of self. src size = "
            f"{list(src.shape)}, slice size = {list(size)}"
        )
    offset = 0 if storage_offset is None else int(storage_offset)
    positions = np.full(size, offset, dtype=np.int64)
    for axis, (n, st) in enumerate(zip(size, stride)):
        shape = [1] * len(size)
        shape[axis] = n
        positions = positions + (np.arange(n, dtype=np.int64) * st).reshape(shape)
    if positions.size and (positions.max() >= input.numel() or positions.min() < 0):
        raise RuntimeError(
            f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {offset} "
            f"is out of bounds for storage of {input.numel()} elements"
        )
    flat = input.reshape(-1).clone()
    flat[wrap(positions.reshape(-1))] = src.reshape(-1)
    return flat.reshape(input.shape)


def empty_strided(
    size, stride, *, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False
):
    """An uninitialised tensor with the given sizes and strides (in elements)."""
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError(
            f"mismatch in length of strides and shape: got {len(stride)} strides for "
            f"{len(size)} sizes"
        )
    dt = _dtypes.default_np() if dtype is None else _dtypes.to_dtype(dtype)
    need = 1 + sum((n - 1) * s for n, s in zip(size, stride)) if all(size) else 0
    buf = np.empty((need,), dtype=dt)
    a = np.lib.stride_tricks.as_strided(
        buf, size, tuple(s * dt.itemsize for s in stride), writeable=True
    )
    t = wrap(a)
    return t.requires_grad_() if requires_grad else t
