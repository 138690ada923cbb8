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


def _tri_solve(a, b, upper: bool):
    """``SolveTriangular`` on Tensors (recorded, so differentiable again)."""
    return SolveTriangular.apply(a, b, upper=upper)


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
            raise RuntimeError(
                "linalg.cholesky: The factorization could not be completed because the "
                "input is not positive-definite."
            ) from None
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
