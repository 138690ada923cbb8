"""Linear-algebra ops on (batches of) matrices, with PyTorch's backward formulas
(torch/csrc/autograd/FunctionsManual.cpp): inverse, determinant, log-determinant, solve,
Cholesky, QR (reduced, m >= n), SVD (reduced) and the symmetric eigendecomposition.

An op returns one array, so a decomposition (QR, SVD, eigh) returns its factors packed
side by side on one last axis; ``gradfit.linalg`` slices them out (differentiably), and
the factor gradients meet again in the decomposition's backward (``Decomposition``).
"""

from __future__ import annotations

import numpy as np

from gradfit.autograd.function import Op


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
    """det(A);  gA = g det(A) A^{-T} (through a solve, so singular A gives inf/nan as
    PyTorch's does for non-invertible input)."""

    @staticmethod
    def forward(ctx, a):
        ctx.a = a
        ctx.det = np.linalg.det(a)
        return np.asarray(ctx.det, dtype=a.dtype)

    @staticmethod
    def backward(ctx, grad_output):
        a = ctx.a
        g = np.asarray(grad_output * ctx.det)[..., None, None]
        return _mT(np.linalg.inv(a)) * g

    @staticmethod
    def backward_graph(ctx, g):
        a = ctx.inputs[0]
        scale = (g * Det.apply(a)).unsqueeze(-1).unsqueeze(-1)
        return Inv.apply(a).transpose(-1, -2) * scale


class SlogDet(Op):
    """(sign, log|det A|) stacked on a last axis of size 2; the gradient of log|det| is
    g A^{-T} (sign is piecewise constant)."""

    saves_inputs = False

    @staticmethod
    def forward(ctx, a):
        sign, logabs = np.linalg.slogdet(a)
        ctx.inv_t = _mT(np.linalg.inv(a))
        return np.stack([sign, logabs], axis=-1).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad_output):
        return ctx.inv_t * grad_output[..., 1][..., None, None]

    @staticmethod
    def backward_graph(ctx, g):
        # Only log|det| has a gradient (the sign is piecewise constant).
        scale = g[..., 1].unsqueeze(-1).unsqueeze(-1)
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
    """Lower L with A = L L^T. Backward (Murray 2016, PyTorch's form):
    P = tril(L^T gL); P = (P + tril(P, -1)^T) / 2; gA = L^{-T} P L^{-1}."""

    saves_output = True  # backward reads the result

    saves_inputs = False

    @staticmethod
    def forward(ctx, a, upper=False):
        try:
            low = np.linalg.cholesky(a)
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
        low = Cholesky.apply(ctx.inputs[0])
        if ctx.upper:
            g = g.mT
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
    g_l, g_v = _unpack(ctx, grads)
    g_l = g_l[..., 0]
    lam, v = ctx.lam, ctx.v
    vhgv = _mT(v) @ g_v
    e = lam[..., None, :] - lam[..., :, None]
    idx = np.arange(lam.shape[-1])
    e[..., idx, idx] = 1
    ret = vhgv / e
    ret[..., idx, idx] = g_l
    return v @ ret @ _mT(v)


def _eigh_grad_graph(factors, grads):
    """``_eigh_grad`` on Tensors."""
    lam, v = factors
    g_l, g_v = grads
    lam, g_l = lam[..., 0], g_l[..., 0]
    n = lam.shape[-1]
    e = lam.unsqueeze(-2) - lam.unsqueeze(-1) + np.eye(n, dtype=lam.dtype)
    ret = (v.mT @ g_v) / e * _off_diagonal(n, lam.dtype) + g_l.diag_embed()
    return v @ ret @ v.mT


class Eigh(Decomposition):
    """Eigenvalues (ascending) and orthonormal eigenvectors of a symmetric matrix; the
    lower triangle is read (``UPLO='L'``), as PyTorch's default."""

    @staticmethod
    def forward(ctx, a, uplo="L"):
        lam, v = np.linalg.eigh(a, UPLO=uplo)
        ctx.lam, ctx.v = lam, v
        ctx.grad, ctx.grad_graph = _eigh_grad, _eigh_grad_graph
        return _pack(ctx, [lam[..., None], v], [2, 2])
