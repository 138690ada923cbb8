"""``torch.nn.utils.parametrizations``: weight normalisation, spectral normalisation and
orthogonality as parametrizations (``nn.utils.parametrize``), PyTorch's modern API."""

from __future__ import annotations

import numpy as np

import gradfit
from gradfit import linalg
from gradfit._arrays import unwrap, wrap
from gradfit.autograd import no_grad
from gradfit.nn.modules.module import Module
from gradfit.nn.utils import _norms, parametrize
from gradfit.nn.utils.spectral_norm import _is_conv_transpose
from gradfit.ops.linalg import geqrf
from gradfit.tensor import Tensor

__all__ = ["orthogonal", "spectral_norm", "weight_norm"]


class _WeightNorm(Module):
    """w = g v / ||v||, the norm over every dimension but ``dim`` (``None``: all)."""

    def __init__(self, dim: int | None = 0) -> None:
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g, weight_v):
        return _norms.weight_norm(weight_v, weight_g, self.dim)

    def right_inverse(self, weight):
        return _norms.norm_except_dim(weight, self.dim), weight


def weight_norm(module, name: str = "weight", dim: int | None = 0):
    """Reparametrize ``module.<name>`` as g v / ||v||: ``parametrizations.<name>.original0``
    holds g (the norms over every dimension but ``dim``) and ``original1`` holds v.

    Returns:
        The module, changed in place.
    """
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)
    return module


class _SpectralNorm(Module):
    """W / sigma(W), sigma by power iteration on W read as a matrix with rows indexed
    by ``dim``; u and v (buffers ``_u``, ``_v``) start from normal draws and 15 power
    iterations, as PyTorch's. A 1-D weight is divided by its norm instead."""

    def __init__(
        self, weight, n_power_iterations: int = 1, dim: int = 0, eps: float = 1e-12
    ) -> None:
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError(
                "Dimension out of range (expected to be in range of "
                f"[-{ndim}, {ndim - 1}] but got {dim})"
            )
        if n_power_iterations <= 0:
            raise ValueError(
                "Expected n_power_iterations to be positive, but "
                f"got n_power_iterations={n_power_iterations}"
            )
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            weight_mat = _norms.reshape_weight_to_matrix(weight, self.dim)
            h, w = weight_mat.shape
            u = weight_mat.new_empty(h).normal_(0, 1)
            v = weight_mat.new_empty(w).normal_(0, 1)
            self.register_buffer("_u", _norms.normalize(u, self.eps))
            self.register_buffer("_v", _norms.normalize(v, self.eps))
            self._power_method(weight_mat, 15)

    def _power_method(self, weight_mat, n_power_iterations: int) -> None:
        with no_grad():
            for _ in range(n_power_iterations):
                _norms.assign(self._u, _norms.normalize(weight_mat @ self._v, self.eps))
                _norms.assign(self._v, _norms.normalize(weight_mat.mT @ self._u, self.eps))

    def forward(self, weight):
        if weight.ndim == 1:
            return _norms.normalize(weight, self.eps)
        weight_mat = _norms.reshape_weight_to_matrix(weight, self.dim)
        if self.training:
            self._power_method(weight_mat, self.n_power_iterations)
        u, v = _norms.detached_copy(self._u), _norms.detached_copy(self._v)
        sigma = u.dot(weight_mat @ v)
        return weight / sigma

    def right_inverse(self, value):
        return value


def spectral_norm(
    module, name: str = "weight", n_power_iterations: int = 1, eps: float = 1e-12, dim=None
):
    """Reparametrize ``module.<name>`` as W / sigma(W) (``_SpectralNorm``); ``dim``
    defaults to 0, or 1 for the transposed convolutions.

    Returns:
        The module, changed in place.
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        dim = 1 if _is_conv_transpose(module) else 0
    parametrize.register_parametrization(
        module, name, _SpectralNorm(weight, n_power_iterations, dim, eps)
    )
    return module


_ORTHOGONAL_MAPS = ("matrix_exp", "cayley", "householder")


def _is_orthogonal(q) -> bool:
    n, k = q.shape[-2], q.shape[-1]
    eps = 10.0 * n * float(np.finfo(unwrap(q).dtype).eps)
    eye = np.eye(k, dtype=unwrap(q).dtype)
    return bool(np.allclose(unwrap(q.mT @ q), eye, atol=eps))


def _make_orthogonal(a):
    """The Q of A = QR (A tall) with R's diagonal made non-negative."""
    packed, tau = geqrf(unwrap(a))
    q = linalg.householder_product(wrap(packed), wrap(tau))
    return q * wrap(np.sign(np.diagonal(packed, axis1=-2, axis2=-1))).unsqueeze(-2)


class _Orthogonal(Module):
    """An orthogonal (n x k: orthonormal columns or rows) matrix from unconstrained
    parameters: the matrix exponential or Cayley transform of a skew-symmetric matrix
    built from the lower triangle, or a product of Householder reflections. With the
    trivialization the result is ``base @ Q``, ``base`` set by ``right_inverse``."""

    def __init__(self, weight, orthogonal_map: str, *, use_trivialization: bool = True) -> None:
        super().__init__()
        self.shape = weight.shape
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, x):
        n, k = x.shape[-2], x.shape[-1]
        transposed = n < k
        if transposed:
            x = x.mT
            n, k = k, n
        if self.orthogonal_map in ("matrix_exp", "cayley"):
            x = x.tril()
            if n != k:
                zeros = wrap(np.zeros(tuple(x.shape[:-2]) + (n, n - k), unwrap(x).dtype))
                x = gradfit.cat([x, zeros], dim=-1)
            a = x - x.mT
            if self.orthogonal_map == "matrix_exp":
                q = linalg.matrix_exp(a)
            else:  # (I + A/2)(I - A/2)^{-1}, as PyTorch computes it
                eye = gradfit.eye(n, dtype=a.dtype)
                q = linalg.solve(eye - 0.5 * a, eye + 0.5 * a)
            if n != k:
                q = q[..., :k]
        else:
            a = x.tril(-1)
            tau = 2.0 / (1.0 + (a * a).sum(dim=-2))
            q = linalg.householder_product(a, tau)
            q = q * x.diagonal(dim1=-2, dim2=-1).int().unsqueeze(-2)
        if "base" in self._buffers:
            q = self.base @ q
        return q.mT if transposed else q

    def right_inverse(self, q):
        with no_grad():
            if q.shape != self.shape:
                raise ValueError(
                    f"Expected a matrix or batch of matrices of shape {self.shape}. "
                    f"Got a tensor of shape {q.shape}."
                )
            q_init = q
            n, k = q.shape[-2], q.shape[-1]
            transpose = n < k
            if transpose:
                q = q.mT
                n, k = k, n
            if "base" not in self._buffers:
                if self.orthogonal_map in ("matrix_exp", "cayley"):
                    raise NotImplementedError(
                        "It is not possible to assign to the matrix exponential or the Cayley "
                        "parametrizations when use_trivialization=False."
                    )
                packed, tau = geqrf(unwrap(q))
                diag = np.sign(np.diagonal(packed, axis1=-2, axis2=-1))
                diag = np.where(tau == 0.0, -diag, diag)
                idx = np.arange(min(n, k))
                packed[..., idx, idx] = diag
                a = wrap(packed)
                return a.mT if transpose else a
            if n == k:
                q = q.clone() if _is_orthogonal(q) else _make_orthogonal(q)
            else:
                # completed to a square orthogonal matrix from normal draws, as PyTorch
                extra = gradfit.randn(*(tuple(q.shape[:-2]) + (n, n - k)), dtype=q.dtype)
                q = _make_orthogonal(gradfit.cat([q, extra], dim=-1))
            self.base = q
            neg_eye = np.zeros(q_init.shape, unwrap(q_init).dtype)
            idx = np.arange(min(q_init.shape[-2:]))
            neg_eye[..., idx, idx] = -1.0
            return wrap(neg_eye)


def orthogonal(
    module,
    name: str = "weight",
    orthogonal_map: str | None = None,
    *,
    use_trivialization: bool = True,
):
    """Constrain ``module.<name>`` (a matrix or a batch of them) to be orthogonal:
    ``orthogonal_map`` 'matrix_exp' (the default for square weights), 'cayley' or
    'householder' (the default otherwise); with ``use_trivialization`` the map is
    applied around the current weight (``base``), as PyTorch's.

    Returns:
        The module, changed in place.
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError(
            f"Expected a matrix or batch of matrices. Got a tensor of {weight.ndim} dimensions."
        )
    if orthogonal_map is None:
        orthogonal_map = "matrix_exp" if weight.shape[-2] == weight.shape[-1] else "householder"
    if orthogonal_map not in _ORTHOGONAL_MAPS:
        raise ValueError(
            'orthogonal_map has to be one of "matrix_exp", "cayley", "householder". '
            f"Got: {orthogonal_map}"
        )
    orth = _Orthogonal(weight, orthogonal_map, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, orth, unsafe=True)
    return module
