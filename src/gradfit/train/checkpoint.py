"""Training checkpoints.

A checkpoint holds everything that determines the rest of a run: the model's weights, the
optimizer's and the schedule's state, the state of the data loader's generator and of the
global generator, the epoch count, and the standardisation of the data. It is written with
``gradfit.serialization``'s checkpoint format (safetensors, no pickle), through the run
folder's one atomic writer.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from gradfit.train.errors import UsageError
from gradfit.train.rundir import CHECKPOINT, atomic_write

__all__ = ["CHECKPOINT", "check_model_state", "load", "save", "save_weights"]
FORMAT = "gradfit-train-checkpoint"
VERSION = 1


def save(path: str | os.PathLike, state: dict[str, Any]) -> None:
    """Write a training checkpoint atomically."""
    from gradfit.serialization import checkpoint_bytes

    atomic_write(path, checkpoint_bytes({"format": FORMAT, "version": VERSION, **state}))


def save_weights(path: str | os.PathLike, state_dict: dict) -> None:
    """A plain safetensors state dict (what ``gradfit.save(model.state_dict())`` writes),
    atomically."""
    import numpy as np
    from safetensors.numpy import save as st_save

    from gradfit._arrays import unwrap

    arrays = {k: np.ascontiguousarray(unwrap(v)) for k, v in state_dict.items()}
    atomic_write(path, st_save(arrays))


def load(path: str | os.PathLike) -> dict[str, Any]:
    """Read a training checkpoint; a missing or foreign file is a ``UsageError``."""
    from gradfit.serialization import load_checkpoint

    p = Path(path)
    if not p.is_file():
        raise UsageError(f"checkpoint {str(p)!r} does not exist")
    try:
        state = load_checkpoint(str(p))
    except Exception as e:  # a torn or foreign file: say which and why, do not crash
        raise UsageError(f"checkpoint {str(p)!r} cannot be read: {e}") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise UsageError(
            f"checkpoint {str(p)!r} is not a gradfit training checkpoint "
            f"(expected format {FORMAT!r})"
        )
    return state


def check_model_state(model, state: dict, source: str) -> None:
    """Refuse weights that do not fit ``model``: missing or extra names, other shapes."""
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    extra = [k for k in state if k not in own]
    if missing or extra:
        parts = [
            f"{w} {', '.join(ks[:4])}"
            for w, ks in (("missing", missing), ("unexpected", extra))
            if ks
        ]
        raise UsageError(
            f"checkpoint {source} does not fit this model ({'; '.join(parts)}); "
            "was it written by a run with other layers?"
        )
    for k, t in own.items():
        s = tuple(state[k].shape)
        if s != tuple(t.shape):
            raise UsageError(
                f"checkpoint {source} does not fit this model: {k} has shape "
                f"{s}, the model expects {tuple(t.shape)}"
            )
