"""Training: configuration, the fit loop, callbacks, checkpoints, run folders, search.

The command line (``gradfit train | evaluate | search``) is a thin layer over this package:

- ``config``: defaults (the lecture's MNIST-1D recipe), TOML files, flags, validation.
- ``loop``: ``Session`` (model, loss, optimizer, schedule, data loader, built reproducibly
  from a config) and its ``fit`` loop with ``Callback`` hooks.
- ``callbacks``: progress bar, metrics file, checkpoints, plots.
- ``checkpoint``: atomic files and training checkpoints (safetensors).
- ``run``: run folders, ``train``, ``resume`` and ``evaluate``.
- ``search``: hyperparameter search with Optuna.

Submodules are imported on use, so ``import gradfit.train`` stays cheap.
"""

from __future__ import annotations

from gradfit.train.errors import DivergenceError, UsageError

__all__ = ["DivergenceError", "UsageError"]
