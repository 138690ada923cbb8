"""Training: the command line's ``gradfit train | evaluate | search``, split by job.

- ``config``: defaults (the lecture's MNIST-1D recipe), recipes that converge for the other
  built-in sets and optimizers, TOML files, flags, validation.
- ``builders``: the tables every choice comes from (model kinds, activations, inits,
  losses, optimizers, schedules) and the objects built from them; ``build_model`` is the one
  place a model is made (seeded, in the run's dtype) from ``gradfit.models``' builders.
- ``data``: load, split, standardise, fingerprint the data.
- ``session``: ``build_session``, the one builder of a run (train, resume, evaluate and
  search use it), its state for checkpoints, and the checks before anything is written.
- ``loop``: ``train_step`` (plain, closure and distributed optimizers alike), ``train_epoch``,
  ``fit`` with ``Callback`` hooks, ``evaluate_model``.
- ``rundir``: the run folder: file names, the one atomic writer, the lock, metrics.
- ``checkpoint``: training checkpoints (safetensors).
- ``report`` and ``plots``: the console (header, progress bar, epoch lines) and PNG plots.
- ``run``: the commands on a run folder: ``train``, ``resume``, ``evaluate``.
- ``search``: hyperparameter search with Optuna.

A new model kind is a builder in ``gradfit.models`` and one entry of ``builders.MODELS``; a
new activation, optimizer or schedule in ``gradfit.nn`` / ``gradfit.optim`` is offered by the
command line without any edit here.

Submodules are imported on use, so ``import gradfit.train`` stays cheap.
"""

from __future__ import annotations

from gradfit.train.errors import DivergenceError, UsageError

__all__ = ["DivergenceError", "UsageError"]
