"""Linear-algebra ops on (batches of) matrices, with PyTorch's backward formulas
(torch/csrc/autograd/FunctionsManual.cpp): inverse, determinant, log-determinant, solve,
Cholesky, QR (reduced, m >= n), SVD (reduced) and the symmetric eigendecomposition.

An op returns one array, so a decomposition (QR, SVD, eigh) returns its factors packed
side by side on one last axis; ``gradfit.linalg`` slices them out (differentiably), and
the factor gradients meet again in the decomposition's backward (``Decomposition``).
"""

from __future__ import annotations

import numpy as np

from gradfit._arrays import unwrap, wrap
from gradfit.autograd.function import Op
from gradfit.ops import movement


def _wants(ctx, i: int) -> bool:
    return getattr(ctx.inputs[i], "_requires_grad", False)


def _mT(x: np.ndarray) -> np.ndarray:  # noqa: N802
    return np.swapaxes(x, -1, -2)


class LinAlgError(RuntimeError):
    """A linear-algebra routine met a matrix it cannot handle (singular, not
    positive-definite), as PyTorch's ``torch.linalg.LinAlgError`` (a RuntimeError)."""


def _batch_prefix(shape: tuple, flat_index: int) -> str:
    """PyTorch's ``(Batch element i): `` in front of a per-matrix error of a batch."""
    return f"(Batch element {flat_index}): " if len(shape) > 2 else ""


def _solve_tri(a: np.ndarray, b: np.ndarray, lower: bool, unit: bool = False) -> np.ndarray:
    """a^{-1} b for triangular a (batched); ``unit``: a's diagonal is read as ones."""
    from scipy.linalg import solve_triangular

    if a.ndim == 2 and b.ndim == 2:
        return solve_triangular(a, b, lower=lower, unit_diagonal=unit)
    out = np.empty(np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + b.shape[-2:], b.dtype)
    a_b = np.broadcast_to(a, out.shape[:-2] + a.shape[-2:]).reshape(-1, *a.shape[-2:])
    b_b = np.broadcast_to(b, out.shape).reshape(-1, *b.shape[-2:])
    flat = out.reshape(-1, *b.shape[-2:])
    for k in range(flat.shape[0]):  # one LAPACK call per matrix of the batch
        flat[k] = solve_triangular(a_b[k], b_b[k], lower=lower, unit_diagonal=unit)
    return out


class Inv(Op):
    """A^{-1};  gA = -A^{-T} g A^{-T}."""

    saves_output = True  # backward reads the result

    saves_inputs = False

    @staticmethod
    def forward(ctx, a):
        ctx.inv = np.linalg.inv(a)
        return ctx.inv

    @staticmethod
    def backward(ctx, grad_output):
        it = _mT(ctx.inv)
        return -(it @ grad_output @ it)

    @staticmethod
    def backward_graph(ctx, g):
        it = Inv.apply(ctx.inputs[0]).transpose(-1, -2)
        return -(it @ g @ it)


class Det(Op):
    """det(A);  gA = g det(A) A^{-T}. At singular A, as PyTorch's linalg_det_backward:
    0 where det(A) == 0 exactly (its first-order LU solve of a zero right-hand side),
    and with create_graph the adjugate through an SVD where |det(A)| < 100 eps."""

    @staticmethod
    def forward(ctx, a):
        ctx.a = a
        ctx.det = np.linalg.det(a)
        return np.asarray(ctx.det, dtype=a.dtype)

    @staticmethod
    def backward(ctx, grad_output):
        a, det = ctx.a, ctx.det
        g = np.asarray(grad_output * det)[..., None, None]
        try:
            return _mT(np.linalg.inv(a)) * g
        except np.linalg.LinAlgError:
            zero = (np.asarray(det) == 0)[..., None, None]
            safe = np.where(zero, np.eye(a.shape[-1], dtype=a.dtype), a)
            return np.where(zero, 0.0, _mT(np.linalg.inv(safe)) * g).astype(a.dtype, copy=False)

    @staticmethod
    def backward_graph(ctx, g):
        a = ctx.inputs[0]
        det = Det.apply(a)
        scale = (g * det).unsqueeze(-1).unsqueeze(-1)
        small = np.abs(ctx.det) < 100 * np.finfo(ctx.a.dtype).eps
        if not small.any():
            return Inv.apply(a).transpose(-1, -2) * scale
        n = a.shape[-1]
        mask = wrap(np.asarray(small)[..., None, None])
        # Each branch sees a stand-in where the other is chosen, so neither the inverse
        # of a singular matrix nor the SVD gradient of a repeated spectrum is formed.
        stand_in = np.diag(np.arange(1.0, n + 1, dtype=ctx.a.dtype))
        regular = None
        if not small.all():
            safe = a.where(~mask, wrap(np.eye(n, dtype=ctx.a.dtype)))
            regular = Inv.apply(safe).transpose(-1, -2) * scale
        adj = _adjugate_t(a.where(mask, wrap(stand_in)), g)
        return adj if regular is None else adj.where(mask, regular)


def _adjugate_t(a, g):
    """g adj(A)^T = g U diag(prod_{j != i} s_j) Vh det(U) det(Vh) (PyTorch's singular
    branch of linalg_det_backward): finite and differentiable for singular A."""
    n = a.shape[-1]
    packed = SVD.apply(a)
    lead = tuple(a.shape[:-2])
    u = packed[..., : n * n].reshape(lead + (n, n))
    s = packed[..., n * n : n * n + n]
    vh = packed[..., n * n + n :].reshape(lead + (n, n))
    alpha = Det.apply(u) * Det.apply(vh) * g
    ones = wrap(np.ones(lead + (1,), dtype=s.dtype))
    before = movement.Cat.apply(ones, s[..., : n - 1], dim=s.ndim - 1).cumprod(-1)
    after = movement.Cat.apply(ones, s.flip(-1)[..., : n - 1], dim=s.ndim - 1).cumprod(-1)
    d = alpha.unsqueeze(-1) * before * after.flip(-1)
    return (u * d.unsqueeze(-2)) @ vh


class SlogDet(Op):
    """(sign, log|det A|) stacked on a last axis of size 2; the gradient of log|det| is
    g A^{-T} (sign is piecewise constant). A singular A gives (0, -inf), as PyTorch; the
    gradient there is undefined (PyTorch's is an LU artefact of infs and nans): nan, and
    an error with create_graph, as PyTorch's."""

    saves_inputs = False

    @staticmethod
    def forward(ctx, a):
        sign, logabs = np.linalg.slogdet(a)
        ctx.singular = None
        try:
            inv = np.linalg.inv(a)
        except np.linalg.LinAlgError:
            ctx.singular = (sign == 0)[..., None, None]
            eye = np.eye(a.shape[-1], dtype=a.dtype)
            inv = np.where(ctx.singular, np.nan, np.linalg.inv(np.where(ctx.singular, eye, a)))
        ctx.inv_t = _mT(inv)
        return np.stack([sign, logabs], axis=-1).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad_output):
        return ctx.inv_t * grad_output[..., 1][..., None, None]

    @staticmethod
    def backward_graph(ctx, g):
        # Only log|det| has a gradient (the sign is piecewise constant).
        scale = g[..., 1].unsqueeze(-1).unsqueeze(-1)
        if ctx.singular is not None:  # PyTorch's create_graph path solves with A^T
            raise RuntimeError(
                "linalg.slogdet: the derivative needs A^{-1}, but the input matrix is singular"
            )
        return Inv.apply(ctx.inputs[0]).transpose(-1, -2) * scale


class Solve(Op):
    """X = A^{-1} B (B a batch of matrices);  gB = A^{-T} g, gA = -gB X^T."""

    saves_output = True  # backward reads the result

    saves_inputs = False

    @staticmethod
    def forward(ctx, a, b):
        x = np.linalg.solve(a, b)
        ctx.a, ctx.x = a, x
        return x

    @staticmethod
    def backward(ctx, grad_output):
        gb = np.linalg.solve(_mT(ctx.a), grad_output)
        ga = -(gb @ _mT(ctx.x)) if _wants(ctx, 0) else None
        return ga, gb

    @staticmethod
    def backward_graph(ctx, g):
        a, b = ctx.inputs
        gb = Solve.apply(a.transpose(-1, -2), g)
        ga = -(gb @ Solve.apply(a, b).transpose(-1, -2)) if _wants(ctx, 0) else None
        return ga, gb


class SolveTriangular(Op):
    """X = A^{-1} B for triangular A (``upper``; ``unitriangular``: its diagonal read as
    ones; only that triangle is read);  gB = A^{-T} g, gA = -gB X^T on A's triangle
    (PyTorch's linalg_solve_triangular backward). The decompositions' second order is
    written with it."""

    saves_output = True  # backward reads the result

    @staticmethod
    def forward(ctx, a, b, upper=False, unitriangular=False):
        x = _solve_tri(a, b, lower=not upper, unit=unitriangular)
        ctx.a, ctx.x, ctx.upper, ctx.unit = a, x, upper, unitriangular
        return x

    @staticmethod
    def backward(ctx, grad_output):
        gb = _solve_tri(_mT(ctx.a), grad_output, lower=ctx.upper, unit=ctx.unit)
        ga = None
        if _wants(ctx, 0):
            ga = -(gb @ _mT(ctx.x))
            ga = np.triu(ga, int(ctx.unit)) if ctx.upper else np.tril(ga, -int(ctx.unit))
        return ga, gb

    @staticmethod
    def backward_graph(ctx, g):
        a, b = ctx.inputs
        upper, unit = ctx.upper, ctx.unit
        gb = SolveTriangular.apply(a.mT, g, upper=not upper, unitriangular=unit)
        ga = None
        if _wants(ctx, 0):
            x = SolveTriangular.apply(a, b, upper=upper, unitriangular=unit)
            ga = -(gb @ x.mT)
            ga = ga.triu(int(unit)) if upper else ga.tril(-int(unit))
        return ga, gb


def _cholesky_solve(b: np.ndarray, factor: np.ndarray, upper: bool) -> np.ndarray:
    low = _mT(factor) if upper else factor
    y = _solve_tri(low, b, lower=True, unit=False)
    return _solve_tri(_mT(low), y, lower=False, unit=False)


class CholeskySolve(Op):
    """X = A^{-1} B with A = L L^T from its Cholesky factor L (``upper``: A = U^T U),
    two triangular solves reading only the factor's triangle. Backward as PyTorch's
    ``cholesky_solve_backward``: gB = A^{-1} g, and the factor's gradient is that of
    L L^T for a full matrix L, -(C + C^T) L with C = gB X^T (upper: -U (C + C^T))."""

    saves_output = True  # backward reads the result

    @staticmethod
    def forward(ctx, b, factor, upper=False):
        x = _cholesky_solve(b, factor, upper)
        ctx.factor, ctx.x, ctx.upper = factor, x, upper
        return x

    @staticmethod
    def backward(ctx, grad_output):
        gb = _cholesky_solve(grad_output, ctx.factor, ctx.upper)
        gf = None
        if _wants(ctx, 1):
            common = gb @ _mT(ctx.x)
            common = common + _mT(common)
            gf = -(ctx.factor @ common) if ctx.upper else -(common @ ctx.factor)
        return gb, gf

    @staticmethod
    def backward_graph(ctx, g):
        b, factor = ctx.inputs
        gb = CholeskySolve.apply(g, factor, upper=ctx.upper)
        gf = None
        if _wants(ctx, 1):
            common = gb @ CholeskySolve.apply(b, factor, upper=ctx.upper).mT
            common = common + common.mT
            gf = -(factor @ common) if ctx.upper else -(common @ factor)
        return gb, gf


def _tri_solve(a, b, upper: bool):
    """``SolveTriangular`` on Tensors (recorded, so differentiable again)."""
    return SolveTriangular.apply(a, b, upper=upper)


def _not_positive_definite(a: np.ndarray) -> RuntimeError:
    """PyTorch's error for the first matrix of a batch whose Cholesky fails, naming the
    order of its leading minor that is not positive-definite (LAPACK potrf's info)."""
    from scipy.linalg import lapack

    flat = a.reshape(-1, *a.shape[-2:])
    (potrf,) = lapack.get_lapack_funcs(("potrf",), (flat[0],))
    infos = [potrf(mat, lower=True)[1] for mat in flat]
    i = next((j for j, info in enumerate(infos) if info > 0), 0)
    info = infos[i]
    return LinAlgError(
        f"linalg.cholesky: {_batch_prefix(a.shape, i)}The factorization could not be "
        "completed because the input is not positive-definite (the leading minor of order "
        f"{info} is not positive-definite)."
    )


class Cholesky(Op):
    """Lower L with A = L L^T, reading A's lower triangle; ``upper``: U = L^T with
    A = U^T U, reading A's upper triangle (LAPACK's uplo, as PyTorch). Backward (Murray
    2016, PyTorch's form, the same symmetric gA whichever triangle was read):
    P = tril(L^T gL); P = (P + tril(P, -1)^T) / 2; gA = L^{-T} P L^{-1}."""

    saves_output = True  # backward reads the result

    saves_inputs = False

    @staticmethod
    def forward(ctx, a, upper=False):
        try:
            # numpy reads the lower triangle; A's upper triangle is A^T's lower one
            low = np.linalg.cholesky(_mT(a) if upper else a)
        except np.linalg.LinAlgError:
            raise _not_positive_definite(_mT(a) if upper else a) from None
        ctx.L, ctx.upper = low, upper
        return _mT(low).copy() if upper else low

    @staticmethod
    def backward(ctx, grad_output):
        low = ctx.L
        g = _mT(grad_output) if ctx.upper else grad_output
        p = np.tril(_mT(low) @ g)
        p = 0.5 * (p + _mT(np.tril(p, -1)))
        left = _solve_tri(_mT(low), p, lower=False)  # L^{-T} P
        return _mT(_solve_tri(_mT(low), _mT(left), lower=False))  # (L^{-T} (L^{-T}P)^T)^T

    @staticmethod
    def backward_graph(ctx, g):
        # ``backward`` on Tensors; L is recomputed from the input so that the graph
        # differentiates through it (the saved array would be a constant).
        low = Cholesky.apply(ctx.inputs[0], upper=ctx.upper)
        if ctx.upper:
            low, g = low.mT, g.mT
        p = (low.mT @ g).tril()
        p = 0.5 * (p + p.tril(-1).mT)
        left = _tri_solve(low.mT, p, upper=True)
        return _tri_solve(low.mT, left.mT, upper=True).mT


class Decomposition(Op):
    """A factorisation returning its factors packed on the last axis (``_pack``); its
    backward unpacks the factor gradients and calls ``ctx.grad(ctx, grads)`` -> gA."""

    saves_inputs = False

    @staticmethod
    def backward(ctx, grad_output):
        grads, start = [], 0
        for n in ctx.sizes:
            grads.append(grad_output[..., start : start + n])
            start += n
        return ctx.grad(ctx, grads)

    @staticmethod
    def backward_graph(ctx, g):
        # The factors are recomputed from the input (as ``Exp`` recomputes exp), so the
        # graph differentiates through them; the saved arrays would be constants.
        factors = _split(type(ctx).apply(ctx.inputs[0], **ctx.kwargs), ctx)
        return ctx.grad_graph(factors, _split(g, ctx))


def _split(packed, ctx):
    """The factors (or their gradients) of a packed Tensor, as ``_unpack`` on arrays."""
    out, start = [], 0
    for n, shape in zip(ctx.sizes, ctx.factor_shapes):
        out.append(packed[..., start : start + n].reshape(shape))
        start += n
    return out


def _pack(ctx, factors, shapes):
    """Factors of different shapes, flattened over their last two axes and concatenated
    on one last axis (so one node carries all of them)."""
    lead = factors[0].shape[: factors[0].ndim - shapes[0]]
    flat = [f.reshape(lead + (-1,)) for f, _ in zip(factors, shapes)]
    ctx.sizes = [f.shape[-1] for f in flat]
    ctx.factor_shapes = [f.shape for f in factors]
    return np.concatenate(flat, axis=-1)


def _unpack(ctx, grads):
    return [g.reshape(s) for g, s in zip(grads, ctx.factor_shapes)]


def _qr_grad(ctx, grads):
    g_q, g_r = _unpack(ctx, grads)
    q, r = ctx.q, ctx.r
    if q.shape[-2] < r.shape[-1]:
        raise RuntimeError(
            "linalg.qr: the derivative for an input with fewer rows than columns is not "
            "implemented in gradfit"
        )
    m = g_r @ _mT(r) - _mT(q) @ g_q
    m = np.triu(m)
    m = m + _mT(m)
    idx = np.arange(m.shape[-1])
    m[..., idx, idx] *= 0.5
    ga = q @ m + g_q
    # right-multiply by R^{-T}: solve X R^T = ga  <=>  R X^T = ga^T
    return _mT(_solve_tri(r, _mT(ga), lower=False))


def _qr_grad_graph(factors, grads):
    """``_qr_grad`` on Tensors."""
    q, r = factors
    g_q, g_r = grads
    if q.shape[-2] < r.shape[-1]:
        raise RuntimeError(
            "linalg.qr: the derivative for an input with fewer rows than columns is not "
            "implemented in gradfit"
        )
    m = (g_r @ r.mT - q.mT @ g_q).triu()
    m = m + m.triu(1).mT  # triu(M) + triu(M)^T with the diagonal once
    ga = q @ m + g_q
    return _tri_solve(r, ga.mT, upper=True).mT


class QR(Decomposition):
    """Reduced QR of an m x n matrix, m >= n (PyTorch's backward is defined there)."""

    @staticmethod
    def forward(ctx, a):
        q, r = np.linalg.qr(a, mode="reduced")
        ctx.q, ctx.r = q, r
        ctx.grad, ctx.grad_graph = _qr_grad, _qr_grad_graph
        return _pack(ctx, [q, r], [2, 2])


def _svd_grad(ctx, grads):
    g_u, g_s, g_vh = _unpack(ctx, grads)
    g_s = g_s[..., 0]
    u, s, vh = ctx.u, ctx.s, ctx.vh
    m, n = u.shape[-2], vh.shape[-1]
    if not (g_u.any() or g_vh.any()):  # svdvals: finite for repeated singular values too
        return u @ (g_s[..., :, None] * vh) if m >= n else (u * g_s[..., None, :]) @ vh
    k = s.shape[-1]
    uhgu = _mT(u) @ g_u
    uhgu = uhgu - _mT(uhgu)
    vhgv = vh @ _mT(g_vh)
    vhgv = vhgv - _mT(vhgv)
    s2 = s * s
    e = s2[..., None, :] - s2[..., :, None]
    idx = np.arange(k)
    e[..., idx, idx] = 1
    ret = (uhgu * s[..., None, :] + s[..., :, None] * vhgv) / e
    ret[..., idx, idx] = g_s
    if m > k:
        ga = u @ ret
        gus = g_u / s[..., None, :]
        ga = ga + gus - u @ (_mT(u) @ gus)
        return ga @ vh
    if n > k:
        ga = ret @ vh
        sgvh = g_vh / s[..., :, None]
        ga = ga + sgvh - (sgvh @ _mT(vh)) @ vh
        return u @ ga
    return u @ ret @ vh


def _off_diagonal(k: int, dtype) -> np.ndarray:
    return 1 - np.eye(k, dtype=dtype)


def _svd_grad_graph(factors, grads):
    """``_svd_grad`` on Tensors (the diagonal of ``ret`` replaced through a constant
    mask and ``diag_embed``, which record the same values)."""
    u, s, vh = factors
    g_u, g_s, g_vh = grads
    s, g_s = s[..., 0], g_s[..., 0]
    m, n, k = u.shape[-2], vh.shape[-1], s.shape[-1]
    if not (unwrap(g_u).any() or unwrap(g_vh).any()):
        return u @ (g_s.unsqueeze(-1) * vh) if m >= n else (u * g_s.unsqueeze(-2)) @ vh
    eye = np.eye(k, dtype=s.dtype)
    uhgu = u.mT @ g_u
    uhgu = uhgu - uhgu.mT
    vhgv = vh @ g_vh.mT
    vhgv = vhgv - vhgv.mT
    s2 = s * s
    e = s2.unsqueeze(-2) - s2.unsqueeze(-1) + eye
    ret = (uhgu * s.unsqueeze(-2) + s.unsqueeze(-1) * vhgv) / e
    ret = ret * _off_diagonal(k, s.dtype) + g_s.diag_embed()
    if m > k:
        gus = g_u / s.unsqueeze(-2)
        ga = u @ ret + gus - u @ (u.mT @ gus)
        return ga @ vh
    if n > k:
        sgvh = g_vh / s.unsqueeze(-1)
        ga = ret @ vh + sgvh - (sgvh @ vh.mT) @ vh
        return u @ ga
    return u @ ret @ vh


class SVD(Decomposition):
    """Reduced SVD A = U diag(S) Vh (PyTorch's svd_backward; needs distinct, non-zero
    singular values for U and Vh gradients, as PyTorch says)."""

    @staticmethod
    def forward(ctx, a):
        u, s, vh = np.linalg.svd(a, full_matrices=False)
        ctx.u, ctx.s, ctx.vh = u, s, vh
        ctx.grad, ctx.grad_graph = _svd_grad, _svd_grad_graph
        return _pack(ctx, [u, s[..., None], vh], [2, 2, 2])


def _eigh_grad(ctx, grads):
    """PyTorch's linalg_eig_backward with is_hermitian: V^T gV is projected onto the
    skew-symmetric matrices before the division by the eigenvalue gaps, and gA is the
    full (generally non-symmetric) V ret V^T, even though eigh read one triangle."""
    g_l, g_v = _unpack(ctx, grads)
    g_l = g_l[..., 0]
    lam, v = ctx.lam, ctx.v
    if not g_v.any():  # eigenvalues only (eigvalsh): finite for repeated eigenvalues too
        return (v * g_l[..., None, :]) @ _mT(v)
    vhgv = _mT(v) @ g_v
    vhgv = 0.5 * (vhgv - _mT(vhgv))
    e = lam[..., None, :] - lam[..., :, None]
    idx = np.arange(lam.shape[-1])
    e[..., idx, idx] = 1
    ret = vhgv / e
    ret[..., idx, idx] = g_l
    return v @ (ret @ _mT(v))


def _eigh_grad_graph(factors, grads):
    """``_eigh_grad`` on Tensors."""
    lam, v = factors
    g_l, g_v = grads
    lam, g_l = lam[..., 0], g_l[..., 0]
    if not unwrap(g_v).any():
        return (v * g_l.unsqueeze(-2)) @ v.mT
    n = lam.shape[-1]
    e = lam.unsqueeze(-2) - lam.unsqueeze(-1) + np.eye(n, dtype=lam.dtype)
    vhgv = v.mT @ g_v
    vhgv = 0.5 * (vhgv - vhgv.mT)
    ret = vhgv / e * _off_diagonal(n, lam.dtype) + g_l.diag_embed()
    return v @ (ret @ v.mT)


class Eigh(Decomposition):
    """Eigenvalues (ascending) and orthonormal eigenvectors of a symmetric matrix; the
    lower triangle is read (``UPLO='L'``), as PyTorch's default."""

    @staticmethod
    def forward(ctx, a, uplo="L"):
        lam, v = np.linalg.eigh(a, UPLO=uplo)
        ctx.lam, ctx.v = lam, v
        ctx.grad, ctx.grad_graph = _eigh_grad, _eigh_grad_graph
        return _pack(ctx, [lam[..., None], v], [2, 2])


# ---------------------------------------------------------------------------------------
# LU, pseudo-inverse, least squares and the matrix exponential (linalg additions). Their
# backward formulas are PyTorch's (FunctionsManual.cpp: linalg_lu_backward,
# pinv_backward, linalg_lstsq_backward, differential_analytic_matrix_function), each
# written once against a small namespace (``_ArrayNS`` / ``_TensorNS``) so that the same
# lines run on arrays (first order) and on Tensors (recorded, for create_graph=True).


def getrf(a: np.ndarray):
    """LAPACK's partially pivoted LU of each matrix of a batch (what PyTorch calls):
    (LU packed, 1-based int32 pivots (*, k), int32 info (*)); info i > 0: U[i-1, i-1] == 0."""
    from scipy.linalg import lapack

    m, n = a.shape[-2:]
    k = min(m, n)
    lead = a.shape[:-2]
    flat = a.reshape(-1, m, n)
    lu = np.empty_like(flat)
    piv = np.empty((flat.shape[0], k), np.int32)
    info = np.zeros(flat.shape[0], np.int32)
    if flat.size:
        (fn,) = lapack.get_lapack_funcs(("getrf",), (flat[0],))
        for i in range(flat.shape[0]):  # one LAPACK call per matrix of the batch
            lu_i, piv_i, info_i = fn(flat[i])
            lu[i], piv[i], info[i] = lu_i, piv_i[:k] + 1, info_i
    else:
        piv[:] = np.arange(1, k + 1, dtype=np.int32)
    return lu.reshape(a.shape), piv.reshape(lead + (k,)), info.reshape(lead)


def geqrf(a: np.ndarray):
    """LAPACK's QR in Householder form of each matrix of a batch (``torch.geqrf``):
    (R above the diagonal and the reflectors' vectors below it, tau (*, min(m, n)))."""
    from scipy.linalg import lapack

    m, n = a.shape[-2:]
    flat = a.reshape(-1, m, n)
    packed = np.empty_like(flat)
    tau = np.zeros((flat.shape[0], min(m, n)), a.dtype)
    if flat.size:
        (fn,) = lapack.get_lapack_funcs(("geqrf",), (flat[0],))
        for i in range(flat.shape[0]):  # one LAPACK call per matrix of the batch
            qr, tau_i = fn(flat[i])[:2]
            packed[i], tau[i] = qr, tau_i
    return packed.reshape(a.shape), tau.reshape(a.shape[:-2] + (min(m, n),))


def permutation_from_pivots(piv: np.ndarray, m: int, dtype) -> np.ndarray:
    """P (*, m, m) with A = P L U from LAPACK's row swaps (row i <-> row piv[i] - 1)."""
    lead = piv.shape[:-1]
    flat = piv.reshape(-1, piv.shape[-1]).astype(np.int64) - 1
    perm = np.tile(np.arange(m), (flat.shape[0], 1))
    rows = np.arange(flat.shape[0])
    for i in range(flat.shape[1]):  # the swaps are sequential (each sees the last)
        j = flat[:, i]
        perm[rows, i], perm[rows, j] = perm[rows, j], perm[rows, i].copy()
    # P^T A = A[perm], so P^T = I[perm] and P = I[perm]^T.
    p = np.eye(m, dtype=dtype)[perm]
    return np.ascontiguousarray(np.swapaxes(p, -1, -2)).reshape(lead + (m, m))


class _ArrayNS:
    """The operations the shared backward formulas need, on NumPy arrays."""

    @staticmethod
    def tril(x, k=0):
        return np.tril(x, k)

    @staticmethod
    def triu(x, k=0):
        return np.triu(x, k)

    @staticmethod
    def cat(xs, dim):
        return np.concatenate(xs, axis=dim)

    @staticmethod
    def zeros_like(x):
        return np.zeros_like(x)

    @staticmethod
    def solve_tri(a, b, upper, left=True, unit=False):
        if left:
            return _solve_tri(a, b, lower=not upper, unit=unit)
        return _mT(_solve_tri(_mT(a), _mT(b), lower=upper, unit=unit))


class _TensorNS:
    """The same operations on Tensors, recorded in the graph."""

    @staticmethod
    def tril(x, k=0):
        return x.tril(k)

    @staticmethod
    def triu(x, k=0):
        return x.triu(k)

    @staticmethod
    def cat(xs, dim):
        return movement.Cat.apply(*xs, dim=dim % xs[0].ndim)

    @staticmethod
    def zeros_like(x):
        return wrap(np.zeros(x.shape, unwrap(x).dtype))

    @staticmethod
    def solve_tri(a, b, upper, left=True, unit=False):
        if left:
            return SolveTriangular.apply(a, b, upper=upper, unitriangular=unit)
        return SolveTriangular.apply(a.mT, b.mT, upper=not upper, unitriangular=unit).mT


def _lu_backward(ns, g_l, g_u, p, low, up):
    """gA from the gradients of L (m x k) and U (k x n) of A = P L U (PyTorch's
    linalg_lu_backward): square, wide (m < n) and tall (m > n) cases."""
    m, n = low.shape[-2], up.shape[-1]
    k = min(m, n)
    if m == n:
        # gA = P L^{-T} [tril(L^T gL, -1) + triu(gU U^T)] U^{-T}
        ga = ns.tril(low.mT @ g_l, -1) + ns.triu(g_u @ up.mT)
        ga = ns.solve_tri(up.mT, ga, upper=False, left=False)
        ga = ns.solve_tri(low.mT, ga, upper=True, unit=True)
    elif m < n:
        # gA1 = P L^{-T} [triu(gU1) + tril(L^T gL - gU U^T, -1) U1^{-T}],  gA2 = P L^{-T} gU2
        ga = low.mT @ g_l - ns.triu(g_u) @ up.mT
        ga = ns.solve_tri(up[..., :, :k].mT, ns.tril(ga, -1), upper=False, left=False)
        ga = ns.cat([ga + ns.triu(g_u[..., :, :k]), g_u[..., :, k:]], -1)
        ga = ns.solve_tri(low.mT, ga, upper=True, unit=True)
    else:
        # gA1 = P [tril(gL1, -1) + L1^{-T} triu(gU U^T - L^T tril(gL, -1))] U^{-T},
        # gA2 = P gL2 U^{-T}
        ga = g_u @ up.mT - low.mT @ ns.tril(g_l, -1)
        ga = ns.solve_tri(low[..., :k, :].mT, ns.triu(ga), upper=True, unit=True)
        ga = ns.cat([ga + ns.tril(g_l[..., :k, :], -1), g_l[..., k:, :]], -2)
        ga = ns.solve_tri(up.mT, ga, upper=False, left=False)
    return p @ ga


def _lu_factors(ns, lu, k: int):
    """L (m x k, unit diagonal) and U (k x n) out of the packed LU."""
    m = lu.shape[-2]
    eye = np.eye(m, k, dtype=unwrap(lu).dtype)
    return ns.tril(lu[..., :, :k], -1) + eye, ns.triu(lu[..., :k, :])


class LUFactor(Op):
    """The packed LU of A = P L U (L's strict lower triangle, U's upper one). The
    factorisation is computed by the caller (``getrf``, which also gives the pivots) and
    passed in; backward is PyTorch's LU backward with gL = tril(g, -1), gU = triu(g)."""

    saves_inputs = False

    @staticmethod
    def forward(ctx, a, lu=None, piv=None):
        ctx.lu, ctx.piv = lu, piv
        return lu.copy()

    @staticmethod
    def _grad(ns, g, lu, piv):
        m, n = lu.shape[-2], lu.shape[-1]
        k = min(m, n)
        low, up = _lu_factors(ns, lu, k)
        p = permutation_from_pivots(piv, m, unwrap(lu).dtype)
        if ns is _TensorNS:
            p = wrap(p)
        return _lu_backward(ns, ns.tril(g[..., :, :k], -1), ns.triu(g[..., :k, :]), p, low, up)

    @staticmethod
    def backward(ctx, grad_output):
        return LUFactor._grad(_ArrayNS, grad_output, ctx.lu, ctx.piv)

    @staticmethod
    def backward_graph(ctx, g):
        lu = LUFactor.apply(ctx.inputs[0], **ctx.kwargs)
        return LUFactor._grad(_TensorNS, g, lu, ctx.piv)


def pinv_array(a: np.ndarray, atol=0.0, rtol=None, hermitian: bool = False) -> np.ndarray:
    """The pseudo-inverse as PyTorch computes it: singular values (hermitian: |eigenvalues|)
    at most max(atol, rtol * largest) are dropped; rtol defaults to eps * max(m, n)."""
    m, n = a.shape[-2:]
    if rtol is None:
        rtol = np.finfo(a.dtype).eps * max(m, n)
    atol = np.asarray(atol, dtype=a.dtype)[..., None]
    rtol = np.asarray(rtol, dtype=a.dtype)[..., None]
    if hermitian:
        lam, v = np.linalg.eigh(a)
        s = np.abs(lam)
        smax = s.max(axis=-1, keepdims=True) if n else s[..., :1]
        tol = np.maximum(atol, rtol * smax)
        inv = np.where(s > tol, 1 / np.where(lam == 0, 1, lam), 0).astype(a.dtype)
        return (v * inv[..., None, :]) @ _mT(v)
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    tol = np.maximum(atol, rtol * s[..., :1])
    inv = np.where(s > tol, 1 / np.where(s == 0, 1, s), 0).astype(a.dtype)
    return (_mT(vh) * inv[..., None, :]) @ _mT(u)


def _pinv_backward(g, pinv, a):
    """PyTorch's pinv_backward, arranged so the products are of the smaller size; the
    same lines run on arrays and on Tensors."""
    m, n = a.shape[-2], a.shape[-1]
    pinv_t, g_t = pinv.mT, g.mT
    if m <= n:
        k = g_t @ pinv
        k_pinv_t = k @ pinv_t
        return -(pinv @ k).mT + k_pinv_t - (a @ pinv) @ k_pinv_t + (pinv_t @ pinv) @ (g_t - k @ a)
    k = pinv @ g_t
    pinv_t_k = pinv_t @ k
    return -(k @ pinv).mT + pinv_t_k - (pinv_t_k @ pinv) @ a + ((g_t - a @ k) @ pinv) @ pinv_t


class Pinv(Op):
    """The Moore-Penrose pseudo-inverse (``pinv_array``); gA by PyTorch's pinv_backward
    (defined where the rank does not change under small perturbations)."""

    saves_output = True  # backward reads the result
    saves_inputs = False

    @staticmethod
    def forward(ctx, a, atol=0.0, rtol=None, hermitian=False):
        ctx.a = a
        ctx.pinv = pinv_array(a, atol, rtol, hermitian)
        return ctx.pinv

    @staticmethod
    def backward(ctx, grad_output):
        return _pinv_backward(grad_output, ctx.pinv, ctx.a)

    @staticmethod
    def backward_graph(ctx, g):
        a = ctx.inputs[0]
        return _pinv_backward(g, Pinv.apply(a, **ctx.kwargs), a)


class Lstsq(Op):
    """The least-squares solution X of min ||A X - B|| (B a batch of matrices), computed
    by LAPACK's ``driver`` (gelsy by default, as PyTorch on the CPU). Its gradient is
    PyTorch's linalg_lstsq_backward: that of pinv(A) B, gA through pinv_backward and
    gB = pinv(A)^T gX."""

    saves_inputs = False

    @staticmethod
    def forward(ctx, a, b, x=None):
        ctx.a, ctx.b = a, b
        return x

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.a, ctx.b
        pinv = pinv_array(a)
        ga = _pinv_backward(grad_output @ _mT(b), pinv, a) if _wants(ctx, 0) else None
        return ga, _mT(pinv) @ grad_output

    @staticmethod
    def backward_graph(ctx, g):
        a, b = ctx.inputs
        pinv = Pinv.apply(a)
        ga = _pinv_backward(g @ b.mT, pinv, a) if _wants(ctx, 0) else None
        return ga, pinv.mT @ g


def expm_array(a: np.ndarray) -> np.ndarray:
    from scipy.linalg import expm

    if a.size == 0:
        return a.copy()
    out = expm(a.astype(np.float64) if a.dtype == np.float32 else a)
    return np.asarray(out, dtype=a.dtype)


class MatrixExp(Op):
    """exp(A) = sum_k A^k / k!;  gA = the upper-right n x n block of
    exp([[A^T, g], [0, A^T]]) (PyTorch's differential_analytic_matrix_function)."""

    saves_inputs = False

    @staticmethod
    def forward(ctx, a):
        ctx.a = a
        return expm_array(a)

    @staticmethod
    def backward(ctx, grad_output):
        at = _mT(ctx.a)
        n = at.shape[-1]
        g = np.broadcast_to(grad_output, at.shape)
        top = np.concatenate([at, g], axis=-1)
        bottom = np.concatenate([np.zeros_like(at), at], axis=-1)
        return expm_array(np.concatenate([top, bottom], axis=-2))[..., :n, n:]

    @staticmethod
    def backward_graph(ctx, g):
        at = ctx.inputs[0].mT
        n = at.shape[-1]
        d = at.ndim - 1
        top = movement.Cat.apply(at, g, dim=d)
        bottom = movement.Cat.apply(_TensorNS.zeros_like(at), at, dim=d)
        return MatrixExp.apply(movement.Cat.apply(top, bottom, dim=d - 1))[..., :n, n:]
