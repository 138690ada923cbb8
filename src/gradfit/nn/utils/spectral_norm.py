"""Spectral normalisation through a forward pre-hook (``torch.nn.utils.spectral_norm``,
the API PyTorch keeps for old code): W / sigma(W), sigma estimated by power iteration
(Miyato et al. 2018, https://arxiv.org/abs/1802.05957)."""

from __future__ import annotations

from gradfit.autograd import no_grad
from gradfit.nn.parameter import Parameter
from gradfit.nn.utils import _norms

__all__ = ["SpectralNorm", "remove_spectral_norm", "spectral_norm"]


class SpectralNorm:
    """The hook: before every forward, ``n_power_iterations`` steps of
    v <- normalize(W^T u), u <- normalize(W v) (in training mode only, updating the
    buffers ``<name>_u`` and ``<name>_v`` in place), then ``<name>`` = W / (u^T W v)
    with W = ``<name>_orig`` read as a matrix whose rows are indexed by ``dim``."""

    _version: int = 1

    def __init__(
        self, name: str = "weight", n_power_iterations: int = 1, dim: int = 0, eps: float = 1e-12
    ) -> None:
        self.name = name
        self.dim = dim
        if n_power_iterations <= 0:
            raise ValueError(
                "Expected n_power_iterations to be positive, but "
                f"got n_power_iterations={n_power_iterations}"
            )
        self.n_power_iterations = n_power_iterations
        self.eps = eps

    def reshape_weight_to_matrix(self, weight):
        return _norms.reshape_weight_to_matrix(weight, self.dim)

    def compute_weight(self, module, do_power_iteration: bool):
        weight = getattr(module, self.name + "_orig")
        u = getattr(module, self.name + "_u")
        v = getattr(module, self.name + "_v")
        weight_mat = self.reshape_weight_to_matrix(weight)
        if do_power_iteration:
            with no_grad():
                for _ in range(self.n_power_iterations):
                    _norms.assign(v, _norms.normalize(weight_mat.t() @ u, self.eps))
                    _norms.assign(u, _norms.normalize(weight_mat @ v, self.eps))
                # copies, so later in-place updates of the buffers leave this graph alone
                u, v = _norms.detached_copy(u), _norms.detached_copy(v)
        sigma = u.dot(weight_mat @ v)
        return weight / sigma

    def remove(self, module) -> None:
        with no_grad():
            weight = self.compute_weight(module, do_power_iteration=False)
        delattr(module, self.name)
        delattr(module, self.name + "_u")
        delattr(module, self.name + "_v")
        delattr(module, self.name + "_orig")
        module.register_parameter(self.name, Parameter(weight.detach()))

    def __call__(self, module, inputs) -> None:
        setattr(module, self.name, self.compute_weight(module, do_power_iteration=module.training))

    @staticmethod
    def apply(module, name: str, n_power_iterations: int, dim: int, eps: float) -> SpectralNorm:
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, SpectralNorm) and hook.name == name:
                raise RuntimeError(
                    f"Cannot register two spectral_norm hooks on the same parameter {name}"
                )
        fn = SpectralNorm(name, n_power_iterations, dim, eps)
        weight = module._parameters[name]
        if weight is None:
            raise ValueError(f"`SpectralNorm` cannot be applied as parameter `{name}` is None")
        with no_grad():
            h, w = fn.reshape_weight_to_matrix(weight).shape
            # drawn in this order from the default generator, as PyTorch (same seed, same u, v)
            u = _norms.normalize(weight.new_empty(h).normal_(0, 1), fn.eps)
            v = _norms.normalize(weight.new_empty(w).normal_(0, 1), fn.eps)
        delattr(module, fn.name)
        module.register_parameter(fn.name + "_orig", weight)
        setattr(module, fn.name, weight.detach())
        module.register_buffer(fn.name + "_u", u)
        module.register_buffer(fn.name + "_v", v)
        module.register_forward_pre_hook(fn)
        return fn


def _is_conv_transpose(module) -> bool:
    from gradfit import nn

    kinds = tuple(
        getattr(nn, n) for n in ("ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d")
        if hasattr(nn, n)
    )  # fmt: skip
    return isinstance(module, kinds)


def spectral_norm(
    module, name: str = "weight", n_power_iterations: int = 1, eps: float = 1e-12, dim=None
):
    """Divide ``module.<name>`` by its largest singular value, estimated by power
    iteration before every forward (``dim``: the output dimension, 0, or 1 for the
    transposed convolutions). The weight becomes the parameter ``<name>_orig``; the
    iterates are the buffers ``<name>_u`` and ``<name>_v``, started from normal draws of
    the default generator, as PyTorch's.

    Returns:
        The module, changed in place.
    """
    if dim is None:
        dim = 1 if _is_conv_transpose(module) else 0
    SpectralNorm.apply(module, name, n_power_iterations, dim, eps)
    return module


def remove_spectral_norm(module, name: str = "weight"):
    """Replace ``<name>_orig``, ``<name>_u``, ``<name>_v`` by the normalised weight as
    one parameter ``<name>``."""
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, SpectralNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"spectral_norm of '{name}' not found in {module}")
