"""Batch, instance and group normalisation layers, and channel dropout."""

from __future__ import annotations

import warnings

import numpy as np

from gradfit import _dtypes
from gradfit._arrays import modified, unwrap, wrap
from gradfit.nn import _functional_conv as Fc
from gradfit.nn.modules.module import Module
from gradfit.nn.parameter import Parameter
from gradfit.tensor import _check_device


class _NormBase(Module):
    """Parameters and running statistics shared by batch and instance norm (PyTorch's
    ``_NormBase``): ``weight`` (ones) and ``bias`` (zeros) if ``affine``; buffers
    ``running_mean`` (zeros), ``running_var`` (ones) and ``num_batches_tracked`` (int64 0)
    if ``track_running_stats``, all in the state dict under PyTorch's keys."""

    # PyTorch's state-dict layout version (``state_dict()._metadata``): 2 since it added
    # num_batches_tracked
    _version = 2

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device=None,
        dtype=None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        _check_device(device)
        dt = _dtypes.to_dtype(dtype)
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = Parameter(np.ones(num_features, dtype=dt))
            if bias:
                self.bias = Parameter(np.zeros(num_features, dtype=dt))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", wrap(np.zeros(num_features, dtype=dt)))
            self.register_buffer("running_var", wrap(np.ones(num_features, dtype=dt)))
            self.register_buffer("num_batches_tracked", wrap(np.array(0, dtype=np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            with modified(self.running_mean, self.running_var, self.num_batches_tracked) as (
                m,
                v,
                n,
            ):
                m[...] = 0
                v[...] = 1
                n[...] = 0

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.affine:
            with modified(self.weight) as (w,):
                w[...] = 1
            if self.bias is not None:
                with modified(self.bias) as (b,):
                    b[...] = 0

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, bias={self.bias is not None}, "
            f"track_running_stats={self.track_running_stats}"
        )


class _BatchNorm(_NormBase):
    def _check_input_dim(self, input) -> None:  # noqa: A002
        raise NotImplementedError

    def forward(self, input):  # noqa: A002
        self._check_input_dim(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            with modified(self.num_batches_tracked) as (n,):
                n += 1
            # momentum=None: a cumulative moving average, weight 1 / batches seen
            factor = (
                1.0 / float(unwrap(self.num_batches_tracked))
                if self.momentum is None
                else self.momentum
            )
        bn_training = self.training or (self.running_mean is None and self.running_var is None)
        use_running = not self.training or self.track_running_stats
        return Fc.batch_norm(
            input,
            self.running_mean if use_running else None,
            self.running_var if use_running else None,
            self.weight,
            self.bias,
            bn_training,
            factor,
            self.eps,
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) over the batch (and length) per channel:
    y = (x - E[x]) / sqrt(Var[x] + eps) * gamma + beta. Training uses the batch's biased
    variance and updates ``running_var`` with the unbiased one, as PyTorch;
    ``momentum=None`` keeps a cumulative average. Evaluation uses the running estimates."""

    def _check_input_dim(self, input) -> None:  # noqa: A002
        if input.ndim not in (2, 3):
            raise ValueError(f"expected 2D or 3D input (got {input.ndim}D input)")


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) per channel (see ``BatchNorm1d``)."""

    def _check_input_dim(self, input) -> None:  # noqa: A002
        if input.ndim != 4:
            raise ValueError(f"expected 4D input (got {input.ndim}D input)")


class BatchNorm3d(_BatchNorm):
    """Batch normalisation of (N, C, D, H, W) per channel (see ``BatchNorm1d``)."""

    def _check_input_dim(self, input) -> None:  # noqa: A002
        if input.ndim != 5:
            raise ValueError(f"expected 5D input (got {input.ndim}D input)")


class _InstanceNorm(_NormBase):
    _no_batch_dim = 2

    def __init__(
        self,
        num_features,
        eps=1e-5,
        momentum=0.1,
        affine=False,
        track_running_stats=False,
        device=None,
        dtype=None,
        *,
        bias=True,
    ) -> None:
        super().__init__(
            num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias
        )

    def forward(self, input):  # noqa: A002
        nb = self._no_batch_dim
        if input.ndim not in (nb, nb + 1):
            raise ValueError(f"expected {nb}D or {nb + 1}D input (got {input.ndim}D input)")
        feature_dim = input.ndim - nb
        if input.shape[feature_dim] != self.num_features:
            if self.affine:
                raise ValueError(
                    f"expected input's size at dim={feature_dim} to match num_features "
                    f"({self.num_features}), but got: {input.shape[feature_dim]}."
                )
            warnings.warn(
                f"input's size at dim={feature_dim} does not match num_features. You can "
                "silence this warning by not passing in num_features, which is not used "
                "because affine=False",
                stacklevel=2,
            )
        unbatched = input.ndim == nb
        x = input.unsqueeze(0) if unbatched else input
        y = Fc.instance_norm(
            x,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            self.training or not self.track_running_stats,
            self.momentum if self.momentum is not None else 0.0,
            self.eps,
        )
        return y.squeeze(0) if unbatched else y


class InstanceNorm1d(_InstanceNorm):
    """Normalise each (sample, channel) of (N, C, L) over L (no affine, no running stats
    by default, as PyTorch)."""

    _no_batch_dim = 2


class InstanceNorm2d(_InstanceNorm):
    """Normalise each (sample, channel) of (N, C, H, W) over H and W."""

    _no_batch_dim = 3


class InstanceNorm3d(_InstanceNorm):
    """Normalise each (sample, channel) of (N, C, D, H, W) over D, H and W."""

    _no_batch_dim = 4


class GroupNorm(Module):
    """Normalise each sample over ``num_groups`` groups of channels (and all positions),
    then a per-channel affine map (weight ones, bias zeros)."""

    def __init__(
        self,
        num_groups: int,
        num_channels: int,
        eps: float = 1e-5,
        affine: bool = True,
        device=None,
        dtype=None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        _check_device(device)
        if num_channels % num_groups != 0:
            raise ValueError(
                f"num_channels ({num_channels}) must be divisible by num_groups ({num_groups})"
            )
        dt = _dtypes.to_dtype(dtype)
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        if affine:
            self.weight = Parameter(np.ones(num_channels, dtype=dt))
            if bias:
                self.bias = Parameter(np.zeros(num_channels, dtype=dt))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, input):  # noqa: A002
        return Fc.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
            f"bias={self.bias is not None}"
        )


class _DropoutNd(Module):
    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout1d(_DropoutNd):
    """Zero whole channels of (N, C, L) with probability p (one draw per sample and
    channel, PyTorch's stream), scaling the rest by 1 / (1 - p)."""

    def forward(self, input):  # noqa: A002
        return Fc.dropout1d(input, self.p, self.training, self.inplace)


class Dropout2d(_DropoutNd):
    """Zero whole channels of (N, C, H, W) with probability p (see ``Dropout1d``)."""

    def forward(self, input):  # noqa: A002
        return Fc.dropout2d(input, self.p, self.training, self.inplace)


class Dropout3d(_DropoutNd):
    """Zero whole channels of (N, C, D, H, W) with probability p (see ``Dropout1d``)."""

    def forward(self, input):  # noqa: A002
        return Fc.dropout3d(input, self.p, self.training, self.inplace)
