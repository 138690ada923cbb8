"""The layer classes of ``gradfit.nn`` (re-exported there)."""

from gradfit.nn.modules.activation import (
    CELU,
    ELU,
    GELU,
    GLU,
    SELU,
    Hardshrink,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    LeakyReLU,
    LogSigmoid,
    LogSoftmax,
    Mish,
    PReLU,
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    Softmax,
    Softmin,
    Softplus,
    Softshrink,
    Softsign,
    Tanh,
    Tanhshrink,
    Threshold,
)
from gradfit.nn.modules.attention import MultiheadAttention  # noqa: E402

# (issue 13) convolution, pooling, normalisation layers
from gradfit.nn.modules.batchnorm import (
    BatchNorm1d,
    BatchNorm2d,
    Dropout1d,
    Dropout2d,
    GroupNorm,
    InstanceNorm1d,
    InstanceNorm2d,
)
from gradfit.nn.modules.container import ModuleDict, ModuleList, Sequential
from gradfit.nn.modules.conv import (
    Conv1d,
    Conv2d,
    ConvTranspose1d,
    ConvTranspose2d,
    Fold,
    Unfold,
)
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
from gradfit.nn.modules.pooling import (
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AdaptiveMaxPool1d,
    AdaptiveMaxPool2d,
    AvgPool1d,
    AvgPool2d,
    MaxPool1d,
    MaxPool2d,
    Upsample,
)

# sequence models (embedding, recurrent layers, attention, transformer)
from gradfit.nn.modules.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase  # noqa: E402, I001
from gradfit.nn.modules.sparse import Embedding  # noqa: E402
from gradfit.nn.modules.transformer import (  # noqa: E402
    Transformer,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)

__all__ = [
    # more activations (issue 12 section 8)
    "CELU",
    "ELU",
    "GLU",
    "SELU",
    "Hardshrink",
    "Hardsigmoid",
    "Hardswish",
    "Hardtanh",
    "LogSigmoid",
    "Mish",
    "PReLU",
    "ReLU6",
    "Softmin",
    "Softshrink",
    "Softsign",
    "Tanhshrink",
    "Threshold",
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
    # (issue 13) convolution, pooling, normalisation layers
    "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d",
    "AdaptiveMaxPool1d",
    "AdaptiveMaxPool2d",
    "AvgPool1d",
    "AvgPool2d",
    "BatchNorm1d",
    "BatchNorm2d",
    "Conv1d",
    "Conv2d",
    "ConvTranspose1d",
    "ConvTranspose2d",
    "Dropout1d",
    "Dropout2d",
    "Fold",
    "GroupNorm",
    "InstanceNorm1d",
    "InstanceNorm2d",
    "MaxPool1d",
    "MaxPool2d",
    "Unfold",
    "Upsample",
    # sequence models
    "Embedding",
    "LSTM",
    "LSTMCell",
    "RNN",
    "RNNBase",
    "RNNCell",
    "RNNCellBase",
    "MultiheadAttention",
    "Transformer",
    "TransformerDecoder",
    "TransformerDecoderLayer",
    "TransformerEncoder",
    "TransformerEncoderLayer",
]

# more layers: padding, pixel shuffle, parameter containers, lazy, norms, unpooling, ...
# (listed in their modules' __all__)
from gradfit.nn.modules import layers_more, lazy, padding, paramcontainers, pixelshuffle  # noqa: E402
from gradfit.nn.modules.layers_more import *  # noqa: E402, F403
from gradfit.nn.modules.lazy import *  # noqa: E402, F403
from gradfit.nn.modules.padding import *  # noqa: E402, F403
from gradfit.nn.modules.paramcontainers import *  # noqa: E402, F403
from gradfit.nn.modules.pixelshuffle import *  # noqa: E402, F403

__all__ += [
    *layers_more.__all__,
    *lazy.__all__,
    *padding.__all__,
    *paramcontainers.__all__,
    *pixelshuffle.__all__,
]

# (lossdist) distances and more losses
from gradfit.nn.modules.distance import CosineSimilarity, PairwiseDistance  # noqa: E402
from gradfit.nn.modules.loss import (  # noqa: E402
    CosineEmbeddingLoss,
    GaussianNLLLoss,
    HingeEmbeddingLoss,
    KLDivLoss,
    MarginRankingLoss,
    MultiLabelMarginLoss,
    MultiLabelSoftMarginLoss,
    MultiMarginLoss,
    PoissonNLLLoss,
    SoftMarginLoss,
    TripletMarginLoss,
    TripletMarginWithDistanceLoss,
)

__all__ += [
    "CosineEmbeddingLoss",
    "CosineSimilarity",
    "GaussianNLLLoss",
    "HingeEmbeddingLoss",
    "KLDivLoss",
    "MarginRankingLoss",
    "MultiLabelMarginLoss",
    "MultiLabelSoftMarginLoss",
    "MultiMarginLoss",
    "PairwiseDistance",
    "PoissonNLLLoss",
    "SoftMarginLoss",
    "TripletMarginLoss",
    "TripletMarginWithDistanceLoss",
]

# 3-D forms of the convolution, pooling and normalisation layers
from gradfit.nn.modules.batchnorm import BatchNorm3d, Dropout3d, InstanceNorm3d  # noqa: E402
from gradfit.nn.modules.conv import Conv3d, ConvTranspose3d  # noqa: E402
from gradfit.nn.modules.pooling import (  # noqa: E402
    AdaptiveAvgPool3d,
    AdaptiveMaxPool3d,
    AvgPool3d,
    MaxPool3d,
)

__all__ += [
    "AdaptiveAvgPool3d",
    "AdaptiveMaxPool3d",
    "AvgPool3d",
    "BatchNorm3d",
    "Conv3d",
    "ConvTranspose3d",
    "Dropout3d",
    "InstanceNorm3d",
    "MaxPool3d",
]

from gradfit.nn.modules.sparse import EmbeddingBag  # noqa: E402

__all__ += ["EmbeddingBag"]

from gradfit.nn.modules.pooling import LPPool1d, LPPool2d, LPPool3d  # noqa: E402

__all__ += ["LPPool1d", "LPPool2d", "LPPool3d"]

# (nnlayers) CTC loss, fractional max pooling, adaptive log-softmax, channel shuffle, ...
from gradfit.nn.modules import nnlayers  # noqa: E402
from gradfit.nn.modules.nnlayers import *  # noqa: E402, F403

__all__ += nnlayers.__all__

# --- apigaps: PyTorch's deprecated NLLLoss2d and Container
from gradfit.nn.modules import deprecated  # noqa: E402
from gradfit.nn.modules.deprecated import *  # noqa: E402, F403

__all__ += deprecated.__all__
