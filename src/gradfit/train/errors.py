"""Errors the training command line turns into exit codes.

``UsageError`` is bad input (a config key, a value, a file): the command prints
``gradfit: error: <message>`` and exits with code 2, having written nothing.
``DivergenceError`` is a run whose loss became NaN or infinite: exit code 3, the last good
checkpoint kept.
"""

from __future__ import annotations

EXIT_USAGE = 2
EXIT_DIVERGED = 3
EXIT_INTERRUPTED = 130


class UsageError(Exception):
    """Bad input from the user: the message names the value and what was expected."""

    exit_code = EXIT_USAGE


class DivergenceError(RuntimeError):
    """The loss became NaN or infinite during training."""

    exit_code = EXIT_DIVERGED

    def __init__(self, message: str, *, epoch: int, step: int, lr: float):
        super().__init__(message)
        self.epoch = epoch
        self.step = step
        self.lr = lr
