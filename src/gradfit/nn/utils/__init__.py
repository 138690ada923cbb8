"""``gradfit.nn.utils``: gradient clipping, parameter vectors, and the gradient-health
monitor."""

from gradfit.nn.utils import rnn  # noqa: E402 - torch.nn.utils.rnn (packed sequences)
from gradfit.nn.utils.clip_grad import clip_grad_norm_, clip_grad_value_, get_total_norm
from gradfit.nn.utils.convert_parameters import parameters_to_vector, vector_to_parameters
from gradfit.nn.utils.monitor import Flag, GradientHealthWarning, GradientMonitor, LayerStats

clip_grad_norm = clip_grad_norm_  # PyTorch's deprecated alias

__all__ = [
    "Flag",
    "GradientHealthWarning",
    "GradientMonitor",
    "LayerStats",
    "clip_grad_norm_",
    "rnn",
    "clip_grad_value_",
    "get_total_norm",
    "parameters_to_vector",
    "vector_to_parameters",
]
