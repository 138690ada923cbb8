"""``torch.nn.utils.parametrizations``: weight normalisation, spectral normalisation and
orthogonality as parametrizations (``nn.utils.parametrize``), PyTorch's modern API."""

from __future__ import annotations

from gradfit.autograd import no_grad
from gradfit.nn.modules.module import Module
from gradfit.nn.utils import _norms, parametrize
from gradfit.nn.utils.spectral_norm import _is_conv_transpose
from gradfit.tensor import Tensor

__all__ = ["spectral_norm", "weight_norm"]


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
