"""PyTorch's top-level forms of functional ops (``torch.conv2d``, ``torch.dropout``,
``torch.embedding``, ``torch.kl_div``, ...), with ``torch.``'s own signatures.

These are the ATen entry points that ``torch.nn.functional`` calls, and they differ from
F's: every argument of ``torch.batch_norm`` is required and the weight comes first,
``torch.dropout(input, p, train)`` has no defaults, ``torch.embedding`` takes the weight
before the indices and ``padding_idx=-1`` for none, the losses take ``reduction`` as an
integer (0 none, 1 mean, 2 sum; mean is the plain element mean, without F's ``kl_div``
warning; left out it is 0, not ATen's declared 1: PyTorch's Python binding passes 0),
``torch.max_pool2d`` has no ``return_indices`` and its empty ``stride=[]`` means the
kernel size, ``torch.adaptive_max_pool1d`` always returns (values, indices).
Each one computes with the nn.functional implementation, so values, draws (dropout's
mask) and gradients are F's. They live on rung 5 (they need nn.functional) and reach
``gradfit.`` through its lazy names.
"""

from __future__ import annotations

import warnings

from gradfit import _LAZY_NAMES
from gradfit.nn import _functional_conv as _fc
from gradfit.nn import _functional_layers as _fl
from gradfit.nn import functional as F

# the names gradfit's namespace loads from here: one list, in gradfit/__init__.py
__all__ = sorted(name for name, module in _LAZY_NAMES.items() if module == __name__)

_REDUCTIONS = {0: "none", 1: "mean", 2: "sum"}


def _reduction(reduction) -> str:
    """ATen's Reduction enum (an int) as F's string."""
    if isinstance(reduction, bool) or reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return _REDUCTIONS[reduction]


def _stride(stride):
    """ATen's ``stride=[]`` (the default) means "the kernel size", F's None."""
    if stride is None or (isinstance(stride, list | tuple) and len(stride) == 0):
        return None
    return stride


# ------------------------------------------------------------------------ convolution
# torch.conv*d take F's arguments in F's order: the same functions
conv1d, conv2d, conv3d = F.conv1d, F.conv2d, F.conv3d
conv_transpose1d, conv_transpose2d = F.conv_transpose1d, F.conv_transpose2d
conv_transpose3d = F.conv_transpose3d


# ------------------------------------------------------------------------ pooling
def max_pool1d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):  # noqa: A002
    return F.max_pool1d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def max_pool2d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):  # noqa: A002
    return F.max_pool2d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def max_pool3d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):  # noqa: A002
    return F.max_pool3d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def max_pool1d_with_indices(
    input,  # noqa: A002
    kernel_size,
    stride=(),
    padding=0,
    dilation=1,
    ceil_mode=False,
):
    return F.max_pool1d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode, True)


def avg_pool1d(
    input,  # noqa: A002
    kernel_size,
    stride=(),
    padding=0,
    ceil_mode=False,
    count_include_pad=True,
):
    return F.avg_pool1d(input, kernel_size, _stride(stride), padding, ceil_mode, count_include_pad)


def adaptive_avg_pool1d(input, output_size):  # noqa: A002
    return F.adaptive_avg_pool1d(input, output_size)


def adaptive_max_pool1d(input, output_size):  # noqa: A002
    """(values, indices), always: ATen's form has no ``return_indices``."""
    return F.adaptive_max_pool1d(input, output_size, True)


# ------------------------------------------------------------------------ normalisation
def batch_norm(
    input,  # noqa: A002
    weight,
    bias,
    running_mean,
    running_var,
    training,
    momentum,
    eps,
    cudnn_enabled,
):
    return F.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def instance_norm(
    input,  # noqa: A002
    weight,
    bias,
    running_mean,
    running_var,
    use_input_stats,
    momentum,
    eps,
    cudnn_enabled,
):
    return F.instance_norm(
        input, running_mean, running_var, weight, bias, use_input_stats, momentum, eps
    )


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5, cudnn_enable=True):  # noqa: A002
    return F.layer_norm(input, normalized_shape, weight, bias, eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5, cudnn_enabled=True):  # noqa: A002
    return F.group_norm(input, num_groups, weight, bias, eps)


# ------------------------------------------------------------------------ dropout
def _in_place(input, out):  # noqa: A002
    """Write ``out`` into ``input`` (recorded as an in-place edit) and return ``input``."""
    if out is not input:
        input.copy_(out)
    return input


def _check_p(p) -> None:
    # ATen checks p whether or not it trains, and raises a RuntimeError (F: ValueError)
    if p < 0.0 or p > 1.0:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {p}")


def dropout(input, p, train):  # noqa: A002
    _check_p(p)
    return F.dropout(input, p, train)


def dropout_(input, p, train):  # noqa: A002
    _check_p(p)
    return _in_place(input, F.dropout(input, p, train))


def feature_dropout(input, p, train):  # noqa: A002
    """Zero whole channels (dimension 1) of (N, C, ...): one draw per (sample, channel)."""
    _check_p(p)
    return _fc._feature_dropout(input, p, train)


def feature_dropout_(input, p, train):  # noqa: A002
    _check_p(p)
    return _in_place(input, _fc._feature_dropout(input, p, train))


def alpha_dropout_(input, p, train):  # noqa: A002
    _check_p(p)
    return _in_place(input, F.alpha_dropout(input, p, train))


def feature_alpha_dropout_(input, p, train):  # noqa: A002
    _check_p(p)
    return _in_place(input, F.feature_alpha_dropout(input, p, train))


# ------------------------------------------------------------------------ embedding
def embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    """``torch.embedding(weight, indices, ...)``: the weight first; a negative
    ``padding_idx`` (-1 by default) means no padding row (F has already turned a negative
    index into a row number before it calls this form)."""
    pad = None if padding_idx is None or padding_idx < 0 else int(padding_idx)
    return F.embedding(indices, weight, pad, None, 2.0, scale_grad_by_freq, sparse)


# ------------------------------------------------------------------------ activations
def celu(input, alpha=1.0):  # noqa: A002
    return F.celu(input, alpha)


def celu_(input, alpha=1.0):  # noqa: A002
    return F.celu_(input, alpha)


def selu(input):  # noqa: A002
    return F.selu(input)


def selu_(input):  # noqa: A002
    return F.selu_(input)


def prelu(input, weight):  # noqa: A002
    return F.prelu(input, weight)


def hardshrink(input, lambd=0.5):  # noqa: A002
    return F.hardshrink(input, lambd)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False, generator=None):  # noqa: A002
    """In-place randomised leaky ReLU (the noise drawn as ``F.rrelu`` draws it)."""
    if generator is not None:
        raise NotImplementedError("rrelu_: an explicit generator is not supported by gradfit")
    return _in_place(input, _fl.rrelu(input, lower, upper, training))


# ------------------------------------------------------------------------ losses
def kl_div(input, target, reduction=0, *, log_target=False):  # noqa: A002
    with warnings.catch_warnings():
        # ATen's mean is the element mean, asked for on purpose: F's batchmean hint is F's
        warnings.simplefilter("ignore")
        return F.kl_div(input, target, reduction=_reduction(reduction), log_target=log_target)


def binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None, reduction=0):  # noqa: A002
    return F.binary_cross_entropy_with_logits(
        input, target, weight, reduction=_reduction(reduction), pos_weight=pos_weight
    )


def cosine_embedding_loss(input1, input2, target, margin=0.0, reduction=0):
    return F.cosine_embedding_loss(input1, input2, target, margin, reduction=_reduction(reduction))


def margin_ranking_loss(input1, input2, target, margin=0.0, reduction=0):
    return F.margin_ranking_loss(input1, input2, target, margin, reduction=_reduction(reduction))


def hinge_embedding_loss(input, target, margin=1.0, reduction=0):  # noqa: A002
    return F.hinge_embedding_loss(input, target, margin, reduction=_reduction(reduction))


def triplet_margin_loss(
    anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False, reduction=0
):
    return F.triplet_margin_loss(
        anchor, positive, negative, margin, p, eps, swap, reduction=_reduction(reduction)
    )


def poisson_nll_loss(input, target, log_input, full, eps, reduction):  # noqa: A002
    return F.poisson_nll_loss(
        input, target, log_input, full, eps=eps, reduction=_reduction(reduction)
    )


def ctc_loss(
    log_probs,
    targets,
    input_lengths,
    target_lengths,
    blank=0,
    reduction=0,
    zero_infinity=False,
):
    return F.ctc_loss(
        log_probs,
        targets,
        input_lengths,
        target_lengths,
        blank,
        _reduction(reduction),
        zero_infinity,
    )


# ------------------------------------------------------------------------ shape ops
def channel_shuffle(input, groups):  # noqa: A002
    return F.channel_shuffle(input, groups)


def constant_pad_nd(input, pad, value=0):  # noqa: A002
    return F.pad(input, list(pad), "constant", value)
