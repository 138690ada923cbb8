"""The layer classes of ``gradfit.nn`` (re-exported there)."""

from gradfit.nn.modules.activation import (
    GELU,
    LeakyReLU,
    LogSoftmax,
    ReLU,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Tanh,
)
from gradfit.nn.modules.container import ModuleDict, ModuleList, Sequential
from gradfit.nn.modules.dropout import Dropout
from gradfit.nn.modules.flatten import Flatten, Unflatten
from gradfit.nn.modules.linear import Identity, Linear
from gradfit.nn.modules.loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
)
from gradfit.nn.modules.module import Module, RemovableHandle
from gradfit.nn.modules.normalization import LayerNorm
from gradfit.nn.modules.rnn import GRU, GRUCell

__all__ = [
    "BCELoss",
    "BCEWithLogitsLoss",
    "CrossEntropyLoss",
    "Dropout",
    "Flatten",
    "GELU",
    "GRU",
    "GRUCell",
    "HuberLoss",
    "Identity",
    "L1Loss",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "LogSoftmax",
    "MSELoss",
    "Module",
    "ModuleDict",
    "ModuleList",
    "NLLLoss",
    "ReLU",
    "RemovableHandle",
    "Sequential",
    "SiLU",
    "Sigmoid",
    "SmoothL1Loss",
    "Softmax",
    "Softplus",
    "Tanh",
    "Unflatten",
]
