"""``gradfit.nn.parallel``: ``DataParallel`` and ``data_parallel`` as they behave in
PyTorch's CPU build (gradfit's only kind): the wrapper runs the module as is, and the
functional form raises PyTorch's error.

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
    """PyTorch's functional form needs an accelerator: without one (gradfit's case) it
    raises PyTorch's error."""
    raise RuntimeError("device type could not be determined")
