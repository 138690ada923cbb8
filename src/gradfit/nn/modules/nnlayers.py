"""Layers that PyTorch programs use beyond the common set (nnlayers): the CTC loss,
fractional max pooling, adaptive log-softmax, channel shuffle, the legacy cross-map LRN,
and the CPU forms of DataParallel and SyncBatchNorm. The computation lives in
``gradfit.nn.functional``; these modules hold settings and parameters, with PyTorch's
constructors, parameter order and reprs."""

from __future__ import annotations

from gradfit.nn import functional as F
from gradfit.nn.modules.loss import _Loss
from gradfit.nn.modules.module import Module

__all__ = ["CTCLoss", "FractionalMaxPool2d", "FractionalMaxPool3d"]


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


def _ntuple(v, n: int):
    return tuple(v) if isinstance(v, (list, tuple)) else (v,) * n


class _FractionalMaxPoolNd(Module):
    _nd = 2

    def __init__(
        self,
        kernel_size,
        output_size=None,
        output_ratio=None,
        return_indices: bool = False,
        _random_samples=None,
    ) -> None:
        super().__init__()
        nd = self._nd
        name = type(self).__name__
        if nd == 3 and (
            (isinstance(kernel_size, int) and kernel_size <= 0)
            or (isinstance(kernel_size, (tuple, list)) and not all(k > 0 for k in kernel_size))
        ):
            raise ValueError(f"kernel_size must be greater than 0, but got {kernel_size}")
        self.kernel_size = _ntuple(kernel_size, nd)
        self.return_indices = return_indices
        self.register_buffer("_random_samples", _random_samples)
        self.output_size = _ntuple(output_size, nd) if output_size is not None else None
        self.output_ratio = _ntuple(output_ratio, nd) if output_ratio is not None else None
        if output_size is None and output_ratio is None:
            raise ValueError(
                f"{name} requires specifying either an output size, or a pooling ratio"
            )
        if output_size is not None and output_ratio is not None:
            raise ValueError("only one of output_size and output_ratio may be specified")
        if self.output_ratio is not None and not all(0 < r < 1 for r in self.output_ratio):
            raise ValueError(f"output_ratio must be between 0 and 1 (got {output_ratio})")

    def forward(self, input):  # noqa: A002
        fn = F.fractional_max_pool2d if self._nd == 2 else F.fractional_max_pool3d
        return fn(
            input,
            self.kernel_size,
            self.output_size,
            self.output_ratio,
            self.return_indices,
            _random_samples=self._random_samples,
        )


class FractionalMaxPool2d(_FractionalMaxPoolNd):
    """Fractional max pooling over (C, H, W) planes, ``F.fractional_max_pool2d``: k x k
    windows at pseudo-random starts (drawn per call unless ``_random_samples`` is given)
    spread to give ``output_size`` or ``input size * output_ratio``."""

    _nd = 2


class FractionalMaxPool3d(_FractionalMaxPoolNd):
    """Fractional max pooling over (C, T, H, W) volumes, ``F.fractional_max_pool3d``."""

    _nd = 3
