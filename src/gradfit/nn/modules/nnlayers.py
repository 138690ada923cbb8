"""Layers that PyTorch programs use beyond the common set (nnlayers): the CTC loss,
fractional max pooling, adaptive log-softmax, channel shuffle, the legacy cross-map LRN,
and the CPU forms of DataParallel and SyncBatchNorm. The computation lives in
``gradfit.nn.functional``; these modules hold settings and parameters, with PyTorch's
constructors, parameter order and reprs."""

from __future__ import annotations

from gradfit.nn import functional as F
from gradfit.nn.modules.loss import _Loss

__all__ = ["CTCLoss"]


class CTCLoss(_Loss):
    """The Connectionist Temporal Classification loss, ``F.ctc_loss`` (``blank`` the
    blank label's index; ``zero_infinity`` zeroes infinite losses and their gradients)."""

    def __init__(self, blank: int = 0, reduction: str = "mean", zero_infinity: bool = False):
        super().__init__(reduction=reduction)
        self.blank = blank
        self.zero_infinity = zero_infinity

    def forward(self, log_probs, targets, input_lengths, target_lengths):
        return F.ctc_loss(
            log_probs,
            targets,
            input_lengths,
            target_lengths,
            self.blank,
            self.reduction,
            self.zero_infinity,
        )
