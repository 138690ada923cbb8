"""Lazy layers: parameters whose shape is inferred from the first input
(``UninitializedParameter``, ``LazyLinear``), as PyTorch's ``LazyModuleMixin``."""

from __future__ import annotations

import numpy as np

from gradfit import _dtypes
from gradfit._arrays import set_array
from gradfit._grad_mode import no_grad
from gradfit.nn.modules.linear import Linear
from gradfit.nn.parameter import Parameter
from gradfit.tensor import _check_device

__all__ = ["LazyLinear", "UninitializedParameter"]


class UninitializedParameter(Parameter):
    """A parameter with no shape yet; ``materialize(shape)`` gives it one (uninitialised
    values) and turns it into a plain ``Parameter``, keeping its identity, so optimizers
    and references made before the first forward see the materialised parameter."""

    cls_to_become = Parameter

    def __init__(self, requires_grad: bool = True, device=None, dtype=None) -> None:
        _check_device(device)
        super().__init__(np.empty((0,), dtype=_dtypes.to_dtype(dtype)), requires_grad)

    def materialize(self, shape, device=None, dtype=None) -> None:
        _check_device(device)
        dt = self.dtype if dtype is None else _dtypes.to_dtype(dtype)
        set_array(self, np.empty(tuple(shape), dtype=_dtypes.to_dtype(dt)))
        self.__class__ = self.cls_to_become

    def __repr__(self) -> str:
        return "<UninitializedParameter>"


class LazyLinear(Linear):
    """``Linear`` whose ``in_features`` is the size of the last axis of the first input.

    Before that call the weight (and bias) are ``UninitializedParameter``s and the layer
    prints as ``LazyLinear(in_features=0, ...)``; the first call materialises them,
    initialises them as ``Linear`` does (same draws, same order, at that moment) and turns
    the module into a ``Linear``.
    """

    cls_to_become = Linear

    def __init__(self, out_features: int, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__(0, 0, False)
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        self.out_features = out_features
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)
        self._initialize_hook = self.register_forward_pre_hook(_infer_parameters)

    def has_uninitialized_params(self) -> bool:
        return any(isinstance(p, UninitializedParameter) for p in self._parameters.values())

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
