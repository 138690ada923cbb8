"""``gradfit.nn.utils``: gradient clipping, parameter vectors, and the gradient-health
monitor."""

# --- linutils: normalisation reparametrizations, fusion, skip_init, functional_call ---------
from gradfit.nn.utils import (  # noqa: E402
    parametrizations,
    parametrize,
    prune,  # pruneamp: torch.nn.utils.prune
    rnn,  # noqa: E402 - torch.nn.utils.rnn (packed sequences)
    stateless,
)
from gradfit.nn.utils.clip_grad import (
    clip_grad_norm_,
    clip_grad_value_,
    clip_grads_with_norm_,
    get_total_norm,
)
from gradfit.nn.utils.convert_parameters import parameters_to_vector, vector_to_parameters
from gradfit.nn.utils.fusion import (  # noqa: E402
    fuse_conv_bn_eval,
    fuse_conv_bn_weights,
    fuse_linear_bn_eval,
    fuse_linear_bn_weights,
)
from gradfit.nn.utils.init import skip_init  # noqa: E402
from gradfit.nn.utils.monitor import Flag, GradientHealthWarning, GradientMonitor, LayerStats
from gradfit.nn.utils.spectral_norm import remove_spectral_norm, spectral_norm  # noqa: E402
from gradfit.nn.utils.weight_norm import remove_weight_norm, weight_norm  # noqa: E402

clip_grad_norm = clip_grad_norm_  # PyTorch's deprecated alias

__all__ = [
    "Flag",
    "GradientHealthWarning",
    "GradientMonitor",
    "LayerStats",
    "clip_grad_norm_",
    "rnn",
    "clip_grad_value_",
    "clip_grads_with_norm_",
    "get_total_norm",
    "parameters_to_vector",
    "vector_to_parameters",
    "fuse_conv_bn_eval",
    "fuse_conv_bn_weights",
    "fuse_linear_bn_eval",
    "fuse_linear_bn_weights",
    "parametrizations",
    "parametrize",
    "prune",
    "remove_spectral_norm",
    "remove_weight_norm",
    "skip_init",
    "spectral_norm",
    "stateless",
    "weight_norm",
]
