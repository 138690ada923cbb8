"""``Parameter``: a Tensor that a Module registers as one of its learnable weights."""

from __future__ import annotations

import numpy as np

from gradfit._arrays import unwrap, wrap
from gradfit.tensor import Tensor


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
