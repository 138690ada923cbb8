"""Model builders for the course's later chapters, one function per model kind.

Each builder takes the shape of one example (without the batch axis), the number of
classes and a few configuration keywords, and returns a ``Module``. A flat example shape
``(L,)`` (a row of features, as the data sets and the command line give them) gets an
``Unflatten`` first, so the model takes ``(N, L)`` batches; ``(C, L)`` takes ``(N, C, L)``.

``nn`` is the layer namespace (``gradfit.nn`` by default): the same builder with
``nn=torch.nn`` builds the identical PyTorch model, which is how the tests check that the
two agree number for number.

- ``mlp``: the command line's default model, Linear layers with an activation between
  them; it takes the number of features, not an example's shape.
- ``cnn1d``: the course's 1-D convolutional network for MNIST-1D (Notebook 10.2): three
  Conv1d layers of 15 channels, kernel 3, stride 2, no padding, each followed by ReLU, then
  Flatten and a Linear head, whose weight gets He initialisation (``kaiming_uniform_``)
  and whose bias starts at zero, as the notebook's ``weights_init`` does.
- ``resnet1d``: a residual 1-D network: a stem convolution, ``blocks`` residual blocks
  ``relu(x + f(x))`` with ``f = conv-bn-relu-conv-bn`` (BatchNorm optional), then Flatten
  (or global average pooling) and a Linear head.
"""

from __future__ import annotations

import math


def _nn(nn):
    if nn is None:
        from gradfit import nn as gnn

        return gnn
    return nn


def _front(nn, input_shape) -> tuple[list, int, int]:
    """Layers that bring an example to (C, L), and C, L."""
    shape = tuple(int(s) for s in input_shape)
    if len(shape) == 1:
        return [nn.Unflatten(1, (1, shape[0]))], 1, shape[0]
    if len(shape) == 2:
        return [], shape[0], shape[1]
    raise ValueError(
        f"1-D models take examples of shape (L,) or (C, L), got input_shape={input_shape}"
    )


def _conv_len(length: int, k: int, s: int, p: int = 0) -> int:
    return (length + 2 * p - k) // s + 1


def mlp(n_features: int, n_outputs: int, hidden=(), activation=None, nn=None):
    """Linear layers of widths ``n_features, *hidden, n_outputs``, an ``activation()``
    module (default ReLU) after each hidden one."""
    nn = _nn(nn)
    widths = [n_features, *hidden, n_outputs]
    layers = []
    for a, b in zip(widths[:-2], widths[1:-1]):
        layers += [nn.Linear(a, b), (activation or nn.ReLU)()]
    return nn.Sequential(*layers, nn.Linear(widths[-2], widths[-1]))


def cnn1d(
    input_shape,
    n_classes: int,
    channels: int = 15,
    kernel_size: int = 3,
    stride: int = 2,
    layers: int = 3,
    he_init: bool = True,
    nn=None,
):
    """The course's 1-D CNN: ``layers`` x (Conv1d(channels, kernel_size, stride), ReLU),
    Flatten, Linear. With MNIST-1D's (40,) examples: 40 -> 19 -> 9 -> 4, 4 x 15 = 60 features.
    """
    nn = _nn(nn)
    mods, c, length = _front(nn, input_shape)
    for _ in range(layers):
        mods += [nn.Conv1d(c, channels, kernel_size, stride=stride), nn.ReLU()]
        c = channels
        length = _conv_len(length, kernel_size, stride)
        if length < 1:
            raise ValueError(
                f"cnn1d: {layers} layers of kernel {kernel_size}, stride {stride} do not fit "
                f"an input of length {_front(nn, input_shape)[2]}"
            )
    head = nn.Linear(c * length, n_classes)
    if he_init:
        nn.init.kaiming_uniform_(head.weight)
        nn.init.zeros_(head.bias)
    model = nn.Sequential(*mods, nn.Flatten(), head)
    return model


def resnet1d(
    input_shape,
    n_classes: int,
    channels: int = 32,
    blocks: int = 3,
    kernel_size: int = 3,
    batch_norm: bool = True,
    head: str = "flatten",
    nn=None,
):
    """A residual 1-D network: stem Conv1d(C_in -> channels) [+ BatchNorm] + ReLU, then
    ``blocks`` x ``relu(x + f(x))`` with f = conv [bn] relu conv [bn] (same length,
    'same' padding), then ``head``: 'flatten' (keeps positions) or 'avgpool' (global
    average), and a Linear layer. Convolutions followed by BatchNorm have no bias."""
    nn = _nn(nn)
    if kernel_size % 2 == 0:
        raise ValueError(f"resnet1d: kernel_size must be odd, got {kernel_size}")
    if head not in ("flatten", "avgpool"):
        raise ValueError(f"resnet1d: head must be 'flatten' or 'avgpool', got {head!r}")
    front, c, length = _front(nn, input_shape)
    pad = kernel_size // 2

    def norm(ch):
        return nn.BatchNorm1d(ch) if batch_norm else nn.Identity()

    class ResidualBlock(nn.Module):
        """y = relu(x + bn2(conv2(relu(bn1(conv1(x))))))."""

        def __init__(self, ch):
            super().__init__()
            self.conv1 = nn.Conv1d(ch, ch, kernel_size, padding=pad, bias=not batch_norm)
            self.bn1 = norm(ch)
            self.conv2 = nn.Conv1d(ch, ch, kernel_size, padding=pad, bias=not batch_norm)
            self.bn2 = norm(ch)
            self.relu = nn.ReLU()

        def forward(self, x):
            h = self.relu(self.bn1(self.conv1(x)))
            return self.relu(x + self.bn2(self.conv2(h)))

    stem = [
        nn.Conv1d(c, channels, kernel_size, padding=pad, bias=not batch_norm),
        norm(channels),
        nn.ReLU(),
    ]
    tail = (
        [nn.Flatten(), nn.Linear(channels * length, n_classes)]
        if head == "flatten"
        else [nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Linear(channels, n_classes)]
    )
    return nn.Sequential(*front, *stem, *[ResidualBlock(channels) for _ in range(blocks)], *tail)


MODELS = {"cnn1d": cnn1d, "resnet1d": resnet1d}


def build(kind: str, input_shape, n_classes: int, **config):
    """``MODELS[kind](input_shape, n_classes, **config)``, with a clear error for an unknown
    kind or keyword."""
    if kind not in MODELS:
        raise ValueError(f"unknown model kind {kind!r}; expected one of {sorted(MODELS)}")
    try:
        return MODELS[kind](input_shape, n_classes, **config)
    except TypeError as e:
        import inspect

        allowed = [p for p in inspect.signature(MODELS[kind]).parameters][2:]
        raise ValueError(f"{kind}: {e}; its options are {allowed}") from None


def num_parameters(model) -> int:
    return int(sum(math.prod(p.shape) for p in model.parameters()))
