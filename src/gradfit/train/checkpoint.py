"""Atomic files and training checkpoints.

Every file of a run is written the same way: to a temporary file in the same folder,
flushed and fsync'ed, then ``os.replace``'d over the old one (and the folder fsync'ed), so a
process killed at any moment leaves either the old file or the new one, never a torn one.

A checkpoint holds everything that determines the rest of a run: the model's weights, the
optimizer's and the schedule's state, the state of the data loader's generator and of the
global generator, the epoch count, and the standardisation of the data. It is written with
``gradfit.serialization.save_checkpoint`` (safetensors, no pickle).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Any

from gradfit.train.errors import UsageError

CHECKPOINT = "checkpoint.safetensors"
FORMAT = "gradfit-train-checkpoint"
VERSION = 1


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform/file system allows it
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _mkstemp(path: Path) -> tuple[int, str]:
    """A temporary file beside ``path`` with the permissions a plain open() would give
    (mkstemp makes it private, 0600)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    with contextlib.suppress(OSError, AttributeError):
        os.fchmod(fd, 0o666 & ~_umask())
    return fd, tmp


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temp file + fsync + os.replace)."""
    path = Path(path)
    fd, tmp = _mkstemp(path)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def atomic_save_figure(fig, path: str | os.PathLike, **kwargs) -> None:
    """``fig.savefig`` to a temporary file, then rename over ``path``."""
    path = Path(path)
    fd, tmp = _mkstemp(path)
    try:
        with os.fdopen(fd, "wb") as f:
            fig.savefig(f, format=path.suffix.lstrip(".") or "png", **kwargs)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def remove_stale_temporaries(folder: str | os.PathLike) -> None:
    """Delete temporary files left by a process killed in the middle of a write."""
    for p in Path(folder).glob(".*.tmp"):
        p.unlink(missing_ok=True)


def save(path: str | os.PathLike, state: dict[str, Any]) -> None:
    """Write a training checkpoint atomically."""
    from gradfit.serialization import save_checkpoint

    save_checkpoint({"format": FORMAT, "version": VERSION, **state}, str(path))


def load(path: str | os.PathLike) -> dict[str, Any]:
    """Read a training checkpoint; a missing or foreign file is a ``UsageError``."""
    from gradfit.serialization import load_checkpoint

    p = Path(path)
    if not p.is_file():
        raise UsageError(f"checkpoint {str(p)!r} does not exist")
    try:
        state = load_checkpoint(str(p))
    except UsageError:
        raise
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
        parts = []
        if missing:
            parts.append(f"missing {', '.join(missing[:4])}")
        if extra:
            parts.append(f"unexpected {', '.join(extra[:4])}")
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
