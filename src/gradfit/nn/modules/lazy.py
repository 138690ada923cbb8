"""Lazy layers: parameters whose shape is inferred from the first input
(``UninitializedParameter``, ``UninitializedBuffer``, ``LazyLinear``, ``LazyConv1d``-``3d``,
``LazyConvTranspose1d``-``3d``, ``LazyBatchNorm1d``-``3d``), as PyTorch's
``LazyModuleMixin`` (the d2l book builds every network with them)."""

from __future__ import annotations

import numpy as np

from gradfit._arrays import wrap
from gradfit._grad_mode import no_grad
from gradfit.nn.modules import batchnorm, conv
from gradfit.nn.modules.linear import Linear
from gradfit.nn.parameter import UninitializedBuffer, UninitializedParameter, is_lazy

__all__ = [
    "LazyBatchNorm1d",
    "LazyBatchNorm2d",
    "LazyBatchNorm3d",
    "LazyConv1d",
    "LazyConv2d",
    "LazyConv3d",
    "LazyConvTranspose1d",
    "LazyConvTranspose2d",
    "LazyConvTranspose3d",
    "LazyInstanceNorm1d",
    "LazyInstanceNorm2d",
    "LazyInstanceNorm3d",
    "LazyLinear",
    "LazyModuleMixin",
    "UninitializedBuffer",
    "UninitializedParameter",
]


def _has_uninitialized(module) -> bool:
    tensors = list(module._parameters.values()) + list(module._buffers.values())
    return any(is_lazy(t) for t in tensors)


class LazyModuleMixin:
    """A mixin for modules whose parameters are shaped by their first input, as
    ``torch.nn.modules.lazy.LazyModuleMixin``: ``class LazyMLP(LazyModuleMixin, nn.Module)``
    creates ``UninitializedParameter``s in ``__init__`` and defines
    ``initialize_parameters(*inputs)``, which the first call runs (a forward pre-hook)
    to materialise them; then the hook is removed and, if ``cls_to_become`` is set, the
    module becomes an instance of that class."""

    cls_to_become = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._initialize_hook = self.register_forward_pre_hook(_infer_lazy, with_kwargs=True)

    def has_uninitialized_params(self) -> bool:
        """Whether a parameter or buffer of this module (not its children) is lazy."""
        return _has_uninitialized(self)

    def initialize_parameters(self, *args, **kwargs):
        raise NotImplementedError(
            f"initialize_parameters is not implemented for {type(self).__name__}"
        )


def _infer_lazy(module, args, kwargs=None):
    """A user lazy module's first call: materialise, check, drop the hook, change class."""
    module.initialize_parameters(*args, **(kwargs or {}))
    if module.has_uninitialized_params():
        raise RuntimeError(f"module {module._get_name()} has not been fully initialized")
    module._initialize_hook.remove()
    del module._initialize_hook
    if module.cls_to_become is not None:
        module.__class__ = module.cls_to_become


class _LazyMixin(LazyModuleMixin):
    """What every lazy layer of gradfit shares: uninitialised weight and bias until the
    first call, whose forward pre-hook (``_infer_parameters``) materialises them."""

    def __init__(self, *args, **kwargs):
        # the layer registers its own hook (``_lazy_weight_and_bias``)
        super(LazyModuleMixin, self).__init__(*args, **kwargs)

    def _lazy_weight_and_bias(self, bias: bool, device, dtype) -> None:
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)
        self._initialize_hook = self.register_forward_pre_hook(_infer_parameters)


class LazyLinear(_LazyMixin, Linear):
    """``Linear`` whose ``in_features`` is the size of the last axis of the first input.

    Before that call the weight (and bias) are ``UninitializedParameter``s and the layer
    prints as ``LazyLinear(in_features=0, ...)``; the first call materialises them,
    initialises them as ``Linear`` does (same draws, same order, at that moment) and turns
    the module into a ``Linear``.
    """

    cls_to_become = Linear

    def __init__(self, out_features: int, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__(0, 0, False)
        self.out_features = out_features
        self._lazy_weight_and_bias(bias, device, dtype)

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input) -> None:  # noqa: A002
        if self.has_uninitialized_params():
            with no_grad():
                self.in_features = input.shape[-1]
                self.weight.materialize((self.out_features, self.in_features))
                if self.bias is not None:
                    self.bias.materialize((self.out_features,))
                self.reset_parameters()
        if self.in_features == 0:  # materialised by load_state_dict: check the input fits
            if input.shape[-1] != self.weight.shape[-1]:
                raise AssertionError(
                    f"The in_features inferred from input: {input.shape[-1]} is not equal to "
                    f"in_features from self.weight: {self.weight.shape[-1]}"
                )
            self.in_features = input.shape[-1]


def _infer_parameters(module, args):
    module.initialize_parameters(*args)
    if not module.has_uninitialized_params():
        module._initialize_hook.remove()
        del module._initialize_hook
        module.__class__ = module.cls_to_become


class _LazyConvMixin(_LazyMixin):
    """PyTorch's ``_LazyConvXdMixin``: ``in_channels`` is dimension 1 of the first input
    (0 for an unbatched one); the weight and bias are then made and initialised as the
    convolution's own."""

    def _lazy_setup(self, out_channels: int, bias: bool, device, dtype) -> None:
        self.out_channels = out_channels
        self._lazy_weight_and_bias(bias, device, dtype)

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def initialize_parameters(self, input) -> None:  # noqa: A002
        if not self.has_uninitialized_params():
            return
        nd = self._nd
        if input.ndim not in (nd + 1, nd + 2):
            raise RuntimeError(
                f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to "
                f"{type(self).__name__}, but got input of size: {input.shape}"
            )
        self.in_channels = input.shape[1] if input.ndim == nd + 2 else input.shape[0]
        if self.in_channels % self.groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        with no_grad():
            if self.transposed:
                shape = (self.in_channels, self.out_channels // self.groups)
            else:
                shape = (self.out_channels, self.in_channels // self.groups)
            self.weight.materialize(shape + self.kernel_size)
            if self.bias is not None:
                self.bias.materialize((self.out_channels,))
            self.reset_parameters()


def _lazy_conv(base, name: str):
    class LazyConv(_LazyConvMixin, base):
        cls_to_become = base

        def __init__(
            self,
            out_channels: int,
            kernel_size,
            stride=1,
            padding=0,
            dilation=1,
            groups: int = 1,
            bias: bool = True,
            padding_mode: str = "zeros",
            device=None,
            dtype=None,
        ) -> None:
            base.__init__(
                self, 0, 0, kernel_size, stride, padding, dilation, groups, False, padding_mode,
                device, dtype,
            )  # fmt: skip
            self._lazy_setup(out_channels, bias, device, dtype)

    LazyConv.__name__ = LazyConv.__qualname__ = name
    LazyConv.__doc__ = f"``{base.__name__}`` whose ``in_channels`` comes from the first input."
    return LazyConv


def _lazy_conv_transpose(base, name: str):
    class LazyConvTranspose(_LazyConvMixin, base):
        cls_to_become = base

        def __init__(
            self,
            out_channels: int,
            kernel_size,
            stride=1,
            padding=0,
            output_padding=0,
            groups: int = 1,
            bias: bool = True,
            dilation=1,
            padding_mode: str = "zeros",
            device=None,
            dtype=None,
        ) -> None:
            base.__init__(
                self, 0, 0, kernel_size, stride, padding, output_padding, groups, False,
                dilation, padding_mode, device, dtype,
            )  # fmt: skip
            self._lazy_setup(out_channels, bias, device, dtype)

    LazyConvTranspose.__name__ = LazyConvTranspose.__qualname__ = name
    LazyConvTranspose.__doc__ = (
        f"``{base.__name__}`` whose ``in_channels`` comes from the first input."
    )
    return LazyConvTranspose


LazyConv1d = _lazy_conv(conv.Conv1d, "LazyConv1d")
LazyConv2d = _lazy_conv(conv.Conv2d, "LazyConv2d")
LazyConv3d = _lazy_conv(conv.Conv3d, "LazyConv3d")
LazyConvTranspose1d = _lazy_conv_transpose(conv.ConvTranspose1d, "LazyConvTranspose1d")
LazyConvTranspose2d = _lazy_conv_transpose(conv.ConvTranspose2d, "LazyConvTranspose2d")
LazyConvTranspose3d = _lazy_conv_transpose(conv.ConvTranspose3d, "LazyConvTranspose3d")


def _lazy_batch_norm(base, name: str):
    class LazyBatchNorm(_LazyMixin, base):
        """PyTorch's ``_LazyNormBase``: ``num_features`` is dimension 1 of the first
        input; weight, bias and running statistics are then made and reset."""

        cls_to_become = base

        def __init__(
            self,
            eps: float = 1e-5,
            momentum: float | None = 0.1,
            affine: bool = True,
            track_running_stats: bool = True,
            device=None,
            dtype=None,
        ) -> None:
            base.__init__(self, 0, eps, momentum, False, False, device, dtype)
            self.affine = affine
            self.track_running_stats = track_running_stats
            if affine:
                self.weight = UninitializedParameter(device=device, dtype=dtype)
                self.bias = UninitializedParameter(device=device, dtype=dtype)
            if track_running_stats:
                self.running_mean = UninitializedBuffer(device=device, dtype=dtype)
                self.running_var = UninitializedBuffer(device=device, dtype=dtype)
                self.num_batches_tracked = wrap(np.array(0, dtype=np.int64))
            self._initialize_hook = self.register_forward_pre_hook(_infer_parameters)

        def reset_parameters(self) -> None:
            if not self.has_uninitialized_params() and self.num_features != 0:
                super().reset_parameters()

        def initialize_parameters(self, input) -> None:  # noqa: A002
            if not self.has_uninitialized_params():
                return
            self.num_features = input.shape[1]
            with no_grad():
                if self.affine:
                    self.weight.materialize((self.num_features,))
                    self.bias.materialize((self.num_features,))
                if self.track_running_stats:
                    self.running_mean.materialize((self.num_features,))
                    self.running_var.materialize((self.num_features,))
                self.reset_parameters()

    LazyBatchNorm.__name__ = LazyBatchNorm.__qualname__ = name
    return LazyBatchNorm


LazyBatchNorm1d = _lazy_batch_norm(batchnorm.BatchNorm1d, "LazyBatchNorm1d")
LazyBatchNorm2d = _lazy_batch_norm(batchnorm.BatchNorm2d, "LazyBatchNorm2d")
LazyBatchNorm3d = _lazy_batch_norm(batchnorm.BatchNorm3d, "LazyBatchNorm3d")
# PyTorch's lazy instance norms share _LazyNormBase's defaults, affine=True and
# track_running_stats=True, unlike their eager counterparts
LazyInstanceNorm1d = _lazy_batch_norm(batchnorm.InstanceNorm1d, "LazyInstanceNorm1d")
LazyInstanceNorm2d = _lazy_batch_norm(batchnorm.InstanceNorm2d, "LazyInstanceNorm2d")
LazyInstanceNorm3d = _lazy_batch_norm(batchnorm.InstanceNorm3d, "LazyInstanceNorm3d")
