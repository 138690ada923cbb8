"""``gradfit.nn.parallel``: ``DataParallel`` and ``data_parallel`` as PyTorch's behave on a
machine without accelerators (gradfit's only kind): the wrapped module runs as is.

Tutorials wrap their model unconditionally (``netG = nn.DataParallel(netG)``) or behind a
GPU count; either way the program must run, and print and save what PyTorch's CPU build
does: the wrapper's repr names ``(module)``, and its ``state_dict`` keys start with
``module.``.
"""

from __future__ import annotations

from gradfit.nn.modules.module import Module

__all__ = ["DataParallel", "data_parallel"]


class DataParallel(Module):
    """Runs ``module`` on the inputs unchanged: with no accelerator PyTorch keeps
    ``device_ids`` empty and calls the module directly, whatever ``device_ids``,
    ``output_device`` and ``dim`` say."""

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0):
        super().__init__()
        self.module = module
        self.device_ids = []

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)


def data_parallel(
    module: Module, inputs, device_ids=None, output_device=None, dim: int = 0, module_kwargs=None
):
    """``module(*inputs, **module_kwargs)``, as PyTorch's ``data_parallel`` without an
    accelerator (``inputs`` that is not a tuple is the single positional argument)."""
    if not isinstance(inputs, tuple):
        inputs = (inputs,) if inputs is not None else ()
    return module(*inputs, **(module_kwargs or {}))
