"""Grad mode: ``no_grad``, ``enable_grad`` and ``is_grad_enabled``.

The flag lives in a one-element list so the per-op path reads it with a single index.
"""

from __future__ import annotations

import functools

_enabled = [True]


def is_grad_enabled() -> bool:
    """True when new operations are recorded in the graph."""
    return _enabled[0]


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


class set_grad_enabled(_GradMode):  # noqa: N801 - PyTorch's name
    """``set_grad_enabled(mode)`` switches recording on or off at once, as a call; as a
    context manager (``with set_grad_enabled(False):``) or decorator it also switches it
    back on exit, as PyTorch's does."""

    def __init__(self, mode: bool) -> None:
        self._prev = _enabled[0]
        self.mode = bool(mode)
        _enabled[0] = self.mode

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        _enabled[0] = self._prev
        return False

    def __call__(self, fn):
        _enabled[0] = self._prev  # as a decorator the switch applies inside calls only

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(self.mode):
                return fn(*args, **kwargs)

        return wrapper


# --- inference mode (toplevel helper) -------------------------------------------------------
# ``_inference[0]`` is True inside ``inference_mode()``. ``gradfit.tensor`` registers in
# ``_inference_switches`` the function that makes new tensors inference tensors while it
# is on, so the per-op path pays nothing outside inference mode.
_inference = [False]
_inference_switches: list = []


def is_inference_mode_enabled() -> bool:
    """True inside ``inference_mode()``."""
    return _inference[0]


def _set_inference(on: bool) -> None:
    if on != _inference[0]:
        _inference[0] = on
        for switch in _inference_switches:
            switch(on)


class inference_mode:  # noqa: N801 - PyTorch's name
    """Context manager and decorator (``@inference_mode``, ``@inference_mode()``): no
    recording, as ``no_grad``; tensors made inside are inference tensors
    (``t.is_inference()``), never requiring grad. ``inference_mode(False)`` is normal
    mode again: recording on, as in PyTorch.
    """

    def __new__(cls, mode=True):
        if callable(mode) and not isinstance(mode, bool):
            return cls()(mode)  # used as a bare decorator
        return super().__new__(cls)

    def __init__(self, mode: bool = True) -> None:
        self.mode = bool(mode)

    def __enter__(self) -> None:
        self._prev = (_enabled[0], _inference[0])
        _enabled[0] = not self.mode
        _set_inference(self.mode)

    def __exit__(self, *exc) -> bool:
        _enabled[0] = self._prev[0]
        _set_inference(self._prev[1])
        return False

    def __call__(self, fn):
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with inference_mode(mode):
                return fn(*args, **kwargs)

        return wrapper

    def clone(self) -> inference_mode:
        return self.__class__(self.mode)


# --- forward-mode AD (gradfit.autograd.forward_ad) -----------------------------------------
# ``_fw_level[0]``: the generation of the dual level that is entered (0: none), so that a
# tangent of an exited level is never taken for one of the current level. ``_fw_on[0]``: the
# same while tangents propagate, 0 while forward_ad computes a tangent itself (its own ops
# must not propagate); the in-place fast paths of ``gradfit.tensor`` read it.
_fw_level = [0]
_fw_on = [0]
