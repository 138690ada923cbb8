"""``gradfit.nn``: modules, parameters, layers, losses and initialisation, mirroring
``torch.nn`` (``gradfit.nn.functional``, ``gradfit.nn.init``, ``gradfit.nn.utils``), so that
PyTorch model code runs unchanged apart from its imports and gives the same numbers.
"""

from gradfit.nn import attention, functional, init, parallel, utils
from gradfit.nn.modules import *  # noqa: F403 - the layer classes, listed in modules.__all__
from gradfit.nn.modules import __all__ as _modules_all
from gradfit.nn.parallel import DataParallel  # PyTorch's CPU build: runs the module as is
from gradfit.nn.parameter import Buffer, Parameter

__all__ = ["Buffer", "Parameter", "functional", "init", "utils", *_modules_all]
__all__ += ["DataParallel", "parallel", "attention"]
