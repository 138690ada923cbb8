"""The other lazy layers of PyTorch (``LazyConv1d/2d/3d``, ``LazyConvTranspose1d/2d/3d``,
``LazyBatchNorm1d/2d/3d``, ``LazyInstanceNorm1d/2d/3d``), ``UninitializedBuffer``, and
the deprecated ``MaxUnpool3d``'s neighbours ``NLLLoss2d`` and ``Container``.

A lazy layer is built with no input size; its first call reads the channel count from the
input (dimension 1, or 0 for an unbatched convolution input), materialises its
parameters and buffers, initialises them as the eager layer does (the same draws in the
same order, at that moment) and becomes that layer (``cls_to_become``), as PyTorch's
``LazyModuleMixin`` does.
"""

from __future__ import annotations

import warnings

import numpy as np

from gradfit import _dtypes
from gradfit._arrays import set_array, wrap
from gradfit._grad_mode import no_grad
from gradfit.nn import _functional_gaps as _fg
from gradfit.nn.modules import batchnorm as _bn
from gradfit.nn.modules import conv as _conv
from gradfit.nn.modules.layers_more import _MaxUnpoolNd
from gradfit.nn.modules.lazy import UninitializedParameter
from gradfit.nn.modules.loss import NLLLoss
from gradfit.nn.modules.module import Module
from gradfit.tensor import Tensor, _check_device

__all__ = [
    "Container",
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
    "MaxUnpool3d",
    "NLLLoss2d",
    "UninitializedBuffer",
]


class UninitializedBuffer(Tensor):
    """A buffer with no shape yet; ``materialize(shape)`` gives it one (uninitialised
    values) and turns it into a plain Tensor, keeping its identity."""

    cls_to_become = Tensor

    def __new__(cls, requires_grad=False, device=None, dtype=None, persistent=True):
        _check_device(device)
        t = wrap(np.empty((0,), dtype=_dtypes.to_dtype(dtype)))
        t.__class__ = cls
        t.requires_grad_(requires_grad)
        t.persistent = persistent
        return t

    def __init__(self, *args, **kwargs) -> None:
        pass

    def materialize(self, shape, device=None, dtype=None) -> None:
        _check_device(device)
        dt = self.dtype if dtype is None else _dtypes.to_dtype(dtype)
        set_array(self, np.empty(tuple(shape), dtype=_dtypes.to_dtype(dt)))
        self.__class__ = self.cls_to_become

    def __repr__(self) -> str:
        return "<UninitializedBuffer>"


def _is_lazy(t) -> bool:
    return isinstance(t, UninitializedParameter | UninitializedBuffer)


class _LazyMixin:
    """PyTorch's ``LazyModuleMixin``: the forward pre-hook that infers the shapes, then
    turns the module into ``cls_to_become``."""

    cls_to_become: type

    def _install_lazy_hook(self) -> None:
        self._initialize_hook = self.register_forward_pre_hook(_infer_parameters)

    def has_uninitialized_params(self) -> bool:
        return any(_is_lazy(t) for t in (*self._parameters.values(), *self._buffers.values()))


def _infer_parameters(module, args):
    with no_grad():
        module.initialize_parameters(*args)
    if not module.has_uninitialized_params():
        module._initialize_hook.remove()
        del module._initialize_hook
        module.__class__ = module.cls_to_become


# ------------------------------------------------------------------------ convolution
class _LazyConvMixin(_LazyMixin):
    _spatial: int
    transposed = False

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def _get_in_channels(self, input) -> int:  # noqa: A002
        nb = self._spatial + 1
        if input.dim() not in (nb, nb + 1):
            raise RuntimeError(
                f"Expected {nb}D (unbatched) or {nb + 1}D (batched) input to "
                f"{type(self).__name__}, but got input of size: {input.shape}"
            )
        return input.shape[1] if input.dim() == nb + 1 else input.shape[0]

    def initialize_parameters(self, input, *args, **kwargs) -> None:  # noqa: A002
        if self.has_uninitialized_params():
            self.in_channels = self._get_in_channels(input)
            if self.in_channels % self.groups != 0:
                raise ValueError("in_channels must be divisible by groups")
            if self.transposed:
                shape = (self.in_channels, self.out_channels // self.groups, *self.kernel_size)
            else:
                shape = (self.out_channels, self.in_channels // self.groups, *self.kernel_size)
            self.weight.materialize(shape)
            if self.bias is not None:
                self.bias.materialize((self.out_channels,))
            self.reset_parameters()


def _lazy_conv(name: str, base: type, nd: int):
    def __init__(
        self,
        out_channels,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups=1,
        bias=True,
        padding_mode="zeros",
        device=None,
        dtype=None,
    ) -> None:
        base.__init__(
            self, 0, 0, kernel_size, stride, padding, dilation, groups, False, padding_mode,
            device, dtype,
        )  # fmt: skip
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        self.out_channels = out_channels
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)
        self._install_lazy_hook()

    doc = f"``{base.__name__}`` whose ``in_channels`` is read from the first input."
    return type(
        name,
        (_LazyConvMixin, base),
        {"__init__": __init__, "cls_to_become": base, "_spatial": nd, "__doc__": doc},
    )


def _lazy_conv_transpose(name: str, base: type, nd: int):
    def __init__(
        self,
        out_channels,
        kernel_size,
        stride=1,
        padding=0,
        output_padding=0,
        groups=1,
        bias=True,
        dilation=1,
        padding_mode="zeros",
        device=None,
        dtype=None,
    ) -> None:
        base.__init__(
            self, 0, 0, kernel_size, stride, padding, output_padding, groups, False, dilation,
            padding_mode, device, dtype,
        )  # fmt: skip
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        self.out_channels = out_channels
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)
        self._install_lazy_hook()

    doc = f"``{base.__name__}`` whose ``in_channels`` is read from the first input."
    return type(
        name,
        (_LazyConvMixin, base),
        {
            "__init__": __init__,
            "cls_to_become": base,
            "_spatial": nd,
            "transposed": True,
            "__doc__": doc,
        },
    )


LazyConv1d = _lazy_conv("LazyConv1d", _conv.Conv1d, 1)
LazyConv2d = _lazy_conv("LazyConv2d", _conv.Conv2d, 2)
LazyConv3d = _lazy_conv("LazyConv3d", _conv.Conv3d, 3)
LazyConvTranspose1d = _lazy_conv_transpose("LazyConvTranspose1d", _conv.ConvTranspose1d, 1)
LazyConvTranspose2d = _lazy_conv_transpose("LazyConvTranspose2d", _conv.ConvTranspose2d, 2)
LazyConvTranspose3d = _lazy_conv_transpose("LazyConvTranspose3d", _conv.ConvTranspose3d, 3)


# ------------------------------------------------------------------------ normalisation
class _LazyNormMixin(_LazyMixin):
    def _lazy_init(self, affine, track_running_stats, bias, device, dtype) -> None:
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = UninitializedParameter(device=device, dtype=dtype)
            if bias:
                self.bias = UninitializedParameter(device=device, dtype=dtype)
        if track_running_stats:
            self.running_mean = UninitializedBuffer(device=device, dtype=dtype)
            self.running_var = UninitializedBuffer(device=device, dtype=dtype)
            self.num_batches_tracked = wrap(np.array(0, dtype=np.int64))
        self._install_lazy_hook()

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input) -> None:  # noqa: A002
        if self.has_uninitialized_params():
            self.num_features = input.shape[1]
            if self.affine:
                self.weight.materialize((self.num_features,))
                if self.bias is not None:
                    self.bias.materialize((self.num_features,))
            if self.track_running_stats:
                self.running_mean.materialize((self.num_features,))
                self.running_var.materialize((self.num_features,))
            self.reset_parameters()


# PyTorch's lazy instance norms default to affine=True, track_running_stats=True (their
# eager counterparts to False): the signature of _LazyNormBase
def _lazy_norm(name: str, base: type, affine_default: bool, track_default: bool):
    def __init__(
        self,
        eps=1e-5,
        momentum=0.1,
        affine=affine_default,
        track_running_stats=track_default,
        device=None,
        dtype=None,
    ) -> None:
        base.__init__(self, 0, eps, momentum, False, False, device, dtype)
        self._lazy_init(affine, track_running_stats, True, device, dtype)

    doc = f"``{base.__name__}`` whose ``num_features`` is read from the first input."
    return type(
        name,
        (_LazyNormMixin, base),
        {"__init__": __init__, "cls_to_become": base, "__doc__": doc},
    )


LazyBatchNorm1d = _lazy_norm("LazyBatchNorm1d", _bn.BatchNorm1d, True, True)
LazyBatchNorm2d = _lazy_norm("LazyBatchNorm2d", _bn.BatchNorm2d, True, True)
LazyBatchNorm3d = _lazy_norm("LazyBatchNorm3d", _bn.BatchNorm3d, True, True)
LazyInstanceNorm1d = _lazy_norm("LazyInstanceNorm1d", _bn.InstanceNorm1d, True, True)
LazyInstanceNorm2d = _lazy_norm("LazyInstanceNorm2d", _bn.InstanceNorm2d, True, True)
LazyInstanceNorm3d = _lazy_norm("LazyInstanceNorm3d", _bn.InstanceNorm3d, True, True)


# ------------------------------------------------------------------------ the rest
class MaxUnpool3d(_MaxUnpoolNd):
    """Partial inverse of ``MaxPool3d``: ``forward(input, indices, output_size=None)``."""

    def __init__(self, kernel_size, stride=None, padding=0) -> None:
        super().__init__()
        self.kernel_size = _triple(kernel_size)
        self.stride = _triple(stride if stride is not None else kernel_size)
        self.padding = _triple(padding)

    def forward(self, input, indices, output_size=None):  # noqa: A002
        return _fg.max_unpool3d(
            input, indices, self.kernel_size, self.stride, self.padding, output_size
        )


def _triple(v):
    return tuple(v) if isinstance(v, tuple | list) else (v, v, v)


class NLLLoss2d(NLLLoss):
    """Deprecated alias of ``NLLLoss`` (PyTorch warns with a FutureWarning)."""

    def __init__(
        self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"
    ) -> None:
        warnings.warn(
            "`NLLLoss2d` has been deprecated. Please use `NLLLoss` instead as a drop-in "
            "replacement and see https://pytorch.org/docs/main/nn.html#torch.nn.NLLLoss for "
            "more details.",
            FutureWarning,
            stacklevel=2,
        )
        super().__init__(weight, size_average, ignore_index, reduce, reduction)


class Container(Module):
    """Deprecated: a Module holding the keyword arguments' modules (PyTorch warns with a
    FutureWarning)."""

    def __init__(self, **kwargs) -> None:
        warnings.warn(
            "`nn.Container` is deprecated. All of its functionality is now implemented in "
            "`nn.Module`. Subclass that instead.",
            FutureWarning,
            stacklevel=2,
        )
        super().__init__()
        for key, value in kwargs.items():
            self.add_module(key, value)
