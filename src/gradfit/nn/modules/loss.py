"""Loss modules: settings held by the module, the computation in
``gradfit.nn.functional`` (which calls the fused ops of ``gradfit.ops.loss``)."""

from __future__ import annotations

from gradfit.nn import functional as F
from gradfit.nn.modules.module import Module
from gradfit.ops import loss as _loss


def _reduction(size_average, reduce, reduction: str) -> str:
    if size_average is not None or reduce is not None:
        return F._legacy_reduction(size_average, reduce)
    if reduction not in F._REDUCTIONS:
        raise F._bad_reduction(reduction)
    return reduction


class _Loss(Module):
    def __init__(self, size_average=None, reduce=None, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = _reduction(size_average, reduce, reduction)


class _WeightedLoss(_Loss):
    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)


class MSELoss(_Loss):
    """Mean squared error, the lecture's least-squares loss: mean((x - y)^2) (or "sum",
    "none"). One fused op; the mean's gradient is 2 (x - y) / N.

    Difference from PyTorch: input and target must have the same shape. PyTorch warns
    and broadcasts a prediction of shape (N, 1) against a target of shape (N,) to an
    (N, N) loss; gradfit raises ``ValueError`` naming both shapes.
    """

    def forward(self, input, target):  # noqa: A002
        return _loss.MSELoss.apply(input, target, reduction=self.reduction)  # op checks


class L1Loss(_Loss):
    """Mean absolute error |x - y| (gradient sign(x - y), 0 at a tie). Shapes must match
    (ValueError; PyTorch broadcasts with a warning)."""

    def forward(self, input, target):  # noqa: A002
        return F.l1_loss(input, target, reduction=self.reduction)


class HuberLoss(_Loss):
    """Huber loss: 0.5 d^2 if |d| < delta else delta (|d| - delta / 2). Shapes must match
    (ValueError; PyTorch broadcasts with a warning)."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input, target):  # noqa: A002
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class SmoothL1Loss(_Loss):
    """Smooth L1: 0.5 d^2 / beta if |d| < beta else |d| - beta / 2. Shapes must match
    (ValueError; PyTorch broadcasts with a warning)."""

    def __init__(self, size_average=None, reduce=None, reduction="mean", beta: float = 1.0):
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input, target):  # noqa: A002
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class CrossEntropyLoss(_WeightedLoss):
    """Cross-entropy of logits (softmax fused in, stable for large logits), with class
    index or class probability targets, per-class ``weight``, ``ignore_index`` and
    ``label_smoothing``; see ``gradfit.nn.functional.cross_entropy`` for the formulas."""

    def __init__(
        self,
        weight=None,
        size_average=None,
        ignore_index: int = -100,
        reduce=None,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input, target):  # noqa: A002
        return F.cross_entropy(
            input,
            target,
            weight=self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of log-probabilities (use after ``LogSoftmax``)."""

    def __init__(
        self,
        weight=None,
        size_average=None,
        ignore_index: int = -100,
        reduce=None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):  # noqa: A002
        return F.nll_loss(
            input,
            target,
            weight=self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
        )


class BCELoss(_WeightedLoss):
    """Binary cross-entropy of probabilities in [0, 1] (logs clamped at -100)."""

    def forward(self, input, target):  # noqa: A002
        return F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy on logits with ``weight`` and ``pos_weight``, stable for any
    logit size."""

    def __init__(
        self,
        weight=None,
        size_average=None,
        reduce=None,
        reduction: str = "mean",
        pos_weight=None,
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input, target):  # noqa: A002
        return F.binary_cross_entropy_with_logits(
            input, target, self.weight, pos_weight=self.pos_weight, reduction=self.reduction
        )
