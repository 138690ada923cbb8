"""Training: the command line's ``gradfit train | evaluate | search | sample``, split by job.

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
- ``rundir``: the run folder: file names, the one atomic writer, the lock, metrics,
  checkpoints.
- ``report``: the console (header, progress bar, epoch lines), PNG plots, TensorBoard.
- ``run``: the commands on a run folder: ``train``, ``resume``, ``evaluate``, ``sample``.
- ``search``: hyperparameter search with Optuna.

A new model kind is a builder in ``gradfit.models`` and one entry of ``builders.MODELS``; a
new activation, optimizer or schedule in ``gradfit.nn`` / ``gradfit.optim`` is offered by the
command line without any edit here.

The errors below are what the command line turns into exit codes:

- ``UsageError`` is bad input (a config key, a value, a file) or a run folder another
  process holds: ``gradfit: error: <message>``, exit code 2, nothing written.
- ``DivergenceError`` is a run whose loss became NaN or infinite: exit code 3, the last
  good checkpoint kept.
- An ``OSError`` (read-only folder, disk full, file-size limit, a path that is a file) is
  reported in one line naming the path and the OS reason: exit code 4. Files are replaced
  atomically, so what was on disk before stays whole.
- Ctrl-C: exit code 130, the run resumable from its last checkpoint.

Submodules are imported on use, so ``import gradfit.train`` stays cheap.
"""

from __future__ import annotations

__all__ = ["DivergenceError", "UsageError"]

EXIT_USAGE = 2
EXIT_DIVERGED = 3
EXIT_OS = 4
EXIT_INTERRUPTED = 130


class UsageError(Exception):
    """Bad input from the user: the message names the value and what was expected."""

    exit_code = EXIT_USAGE


class DivergenceError(RuntimeError):
    """The loss became NaN or infinite during training."""

    exit_code = EXIT_DIVERGED

    def __init__(self, message: str, *, epoch: int, step: int, lr: float | None):
        super().__init__(message)
        self.epoch, self.step, self.lr = epoch, step, lr


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during a run; ``run_dir`` is the folder to resume."""

    exit_code = EXIT_INTERRUPTED

    def __init__(self, run_dir: str):
        super().__init__(run_dir)
        self.run_dir = run_dir


def describe_os_error(e: OSError) -> str:
    """``PATH: reason`` for an OSError (both paths of a rename)."""
    reason = e.strerror or str(e)
    paths = [p for p in (e.filename, e.filename2) if p not in (None, "")]
    if not paths:
        return reason
    return " -> ".join(repr(str(p)) for p in paths) + f": {reason}"
