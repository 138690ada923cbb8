"""``Parameter``: a Tensor that a Module registers as one of its learnable weights."""

from __future__ import annotations

import numpy as np

from gradfit import _dtypes
from gradfit._arrays import set_array, unwrap, wrap
from gradfit.tensor import Tensor, _check_device


class Parameter(Tensor):
    """A Tensor that is a module parameter, as ``torch.nn.Parameter``.

    Assigning a Parameter to a Module attribute registers it (``Module.__setattr__``), so it
    appears in ``parameters()`` and ``state_dict()``. It requires a gradient unless told
    otherwise and shares memory with the Tensor it is made from (no copy), as in PyTorch.

    Args:
        data: the initial values (a Tensor, an array or nested lists); an empty float
            tensor when None.
        requires_grad: whether the parameter takes part in autodiff (default True).
    """

    def __init__(self, data=None, requires_grad: bool = True):
        if data is None:
            data = np.empty((0,), dtype=np.float32)
        super().__init__(data.detach() if isinstance(data, Tensor) else data)
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        out = Parameter(unwrap(self).copy(), requires_grad=self.requires_grad)
        if self.grad is not None:
            out.grad = wrap(unwrap(self.grad).copy())
        memo[id(self)] = out
        return out


class Buffer(Tensor):
    """Marks a Tensor as a module buffer when assigned as an attribute (``torch.nn.Buffer``).

    Args:
        data: the buffer's values.
        persistent: whether the buffer goes into ``state_dict()``.
    """

    def __init__(self, data=None, *, persistent: bool = True):
        if data is None:
            data = np.empty((0,), dtype=np.float32)
        super().__init__(data.detach() if isinstance(data, Tensor) else data)
        self.persistent = persistent


# --- lazy parameters (the lazy layers of nn.modules.lazy), at PyTorch's import path -------
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


class UninitializedBuffer(Tensor):
    """A buffer with no shape yet (a lazy norm layer's running statistics); ``materialize``
    gives it one and turns it into a plain Tensor, keeping its identity."""

    def __init__(self, requires_grad: bool = False, device=None, dtype=None) -> None:
        _check_device(device)
        super().__init__(np.empty((0,), dtype=_dtypes.to_dtype(dtype)))

    def materialize(self, shape, device=None, dtype=None) -> None:
        _check_device(device)
        dt = self.dtype if dtype is None else _dtypes.to_dtype(dtype)
        set_array(self, np.empty(tuple(shape), dtype=_dtypes.to_dtype(dt)))
        self.__class__ = Tensor

    def __repr__(self) -> str:
        return "<UninitializedBuffer>"


UninitializedTensorMixin = (UninitializedParameter, UninitializedBuffer)


def is_lazy(param) -> bool:
    """Whether ``param`` is an ``UninitializedParameter`` or ``UninitializedBuffer``."""
    return isinstance(param, UninitializedTensorMixin)
