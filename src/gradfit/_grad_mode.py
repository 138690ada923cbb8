"""Grad mode: ``no_grad``, ``enable_grad`` and ``is_grad_enabled``.

The flag lives in a one-element list so the per-op path reads it with a single index.
"""

from __future__ import annotations

import functools

_enabled = [True]


def is_grad_enabled() -> bool:
    """True when new operations are recorded in the graph."""
    return _enabled[0]


def set_grad_enabled(mode: bool) -> None:
    _enabled[0] = bool(mode)


class _GradMode:
    mode = True

    def __enter__(self):
        self._prev = _enabled[0]
        _enabled[0] = self.mode

    def __exit__(self, *exc):
        _enabled[0] = self._prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradMode):  # noqa: N801 - PyTorch's name
    """Context manager and decorator: operations inside are not recorded."""

    mode = False


class enable_grad(_GradMode):  # noqa: N801 - PyTorch's name
    """Context manager and decorator: re-enables recording inside ``no_grad``."""

    mode = True
