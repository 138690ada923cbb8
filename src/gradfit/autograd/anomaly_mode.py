"""Anomaly detection, as ``torch.autograd.detect_anomaly`` / ``set_detect_anomaly``.

In anomaly mode every backward pass checks each node's input gradients for NaN and raises
PyTorch's error naming the node (``Function 'DivBackward0' returned nan values in its 0th
output.``). The engine reads the flag once per pass, so the check costs nothing while off.
PyTorch also prints the forward traceback of the failing node; gradfit does not record
forward tracebacks, so the error names the node only.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np

# [enabled, check_nan]: read by the engine's backward loops.
ANOMALY = [False, True]


def check_nan(node, in_grads) -> None:
    """PyTorch's error when ``node`` returned NaN in a gradient; gradients are numbered
    among the node's tensor inputs, as PyTorch numbers a node's outputs."""
    k = 0
    for t, ig in zip(node.inputs, in_grads):
        if not hasattr(t, "grad_fn"):  # a number, not a tensor input
            continue
        if ig is not None:
            arr = np.asarray(getattr(ig, "_array", ig))
            if arr.dtype.kind in "fc" and np.isnan(arr).any():
                raise RuntimeError(
                    f"Function '{node.name()}' returned nan values in its {k}th output."
                )
        k += 1


def is_anomaly_enabled() -> bool:
    return ANOMALY[0]


def is_anomaly_check_nan_enabled() -> bool:
    return ANOMALY[1]


class detect_anomaly:  # noqa: N801 - PyTorch's name
    """Context manager and decorator: anomaly mode inside (see the module docstring)."""

    def __init__(self, check_nan: bool = True) -> None:
        self.prev = ANOMALY[0]
        self.check_nan = check_nan
        self.prev_check_nan = ANOMALY[1]
        warnings.warn(
            "Anomaly Detection has been enabled. This mode will increase the runtime and should "
            "only be enabled for debugging.",
            stacklevel=2,
        )

    def __enter__(self) -> None:
        self.prev, self.prev_check_nan = ANOMALY[0], ANOMALY[1]
        ANOMALY[0], ANOMALY[1] = True, self.check_nan

    def __exit__(self, *exc) -> None:
        ANOMALY[0], ANOMALY[1] = self.prev, self.prev_check_nan

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__(self.check_nan):
                return fn(*args, **kwargs)

        return wrapper


class set_detect_anomaly:  # noqa: N801 - PyTorch's name
    """Turn anomaly mode on or off: at once, or as a context manager for a block."""

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self.prev, self.prev_check_nan = ANOMALY[0], ANOMALY[1]
        ANOMALY[0], ANOMALY[1] = bool(mode), bool(check_nan)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc) -> None:
        ANOMALY[0], ANOMALY[1] = self.prev, self.prev_check_nan
