"""The run folder: its files, one atomic writer, the lock, the metrics file, checkpoints.

A run folder holds ``config.toml`` (the full resolved configuration, re-loadable with
``--config``), ``metrics.jsonl`` (one object per epoch), ``checkpoint.safetensors`` (the
state after the last finished epoch), ``model.safetensors`` (the final weights, a plain
state dict for ``gradfit.load``), ``summary.json``, and ``loss.png`` / ``accuracy.png``.

Every file is written by ``atomic_write``: to ``.tmp-NAME.XXXX`` beside it, flushed and
fsync'ed, then ``os.replace``'d over the old one (and the folder fsync'ed), so a process
killed at any moment leaves the old file or the new one, never a torn one; the temporary
files of a killed process (that one pattern) are removed when the folder is next used.
Files follow the umask, as ``open()`` would create them.

One process at a time writes a run folder: ``RunLock`` holds an exclusive ``flock`` on the
folder for the whole run. The OS drops it when the process ends, however it ends, so a
killed run never blocks its own resume; a second writer is refused, naming the process
that holds the folder.

A training checkpoint holds everything that determines the rest of a run: the model's
weights, the optimizer's and the schedule's state, the state of the data loader's generator
and of the global generator, the epoch count, and the standardisation of the data. It is
written with ``gradfit.serialization``'s checkpoint format (safetensors, no pickle).
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import signal
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gradfit.train import UsageError

CONFIG = "config.toml"
METRICS = "metrics.jsonl"
CHECKPOINT = "checkpoint.safetensors"
MODEL = "model.safetensors"
SUMMARY = "summary.json"
TENSORBOARD = "tensorboard"  # the folder of --tensorboard's event files
TMP_PREFIX = ".tmp-"
# The files --overwrite removes: a run's, then gradfit evaluate's.
RUN_FILES = (CONFIG, METRICS, CHECKPOINT, MODEL, SUMMARY, "loss.png", "accuracy.png")
RUN_FILES += ("confusion_matrix.png", "evaluation.json")

# Test-only switches (tests/cli/test_cli_safety.py): make a run die or fail at an exact
# point instead of racing a timer.
# GRADFIT_TEST_KILL = "step:N" (before the N-th optimizer step of this process) or
# "write:NAME[:N]" (halfway through the N-th write of file NAME, default the first): the
# process sends itself SIGKILL, or the signal GRADFIT_TEST_SIGNAL names (e.g. INT).
# GRADFIT_TEST_WRITE_ERROR = "NAME:ENOSPC": writing NAME fails with that errno.
KILL_ENV = "GRADFIT_TEST_KILL"
SIGNAL_ENV = "GRADFIT_TEST_SIGNAL"
WRITE_ERROR_ENV = "GRADFIT_TEST_WRITE_ERROR"
_events: dict[str, int] = {}


def test_kill_point(kind: str, where: str) -> None:
    """Count this event; if ``GRADFIT_TEST_KILL`` names it, signal this process."""
    want = os.environ.get(KILL_ENV)
    if not want:
        return
    key = f"{kind}:{where}"
    _events[key] = _events.get(key, 0) + 1
    if kind == "step":
        hit = want == f"step:{_events[key]}"
    else:
        hit = want in (f"{key}:{_events[key]}", key if _events[key] == 1 else None)
    if hit:
        sig = os.environ.get(SIGNAL_ENV, "KILL")
        os.kill(os.getpid(), getattr(signal, "SIG" + sig))


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform/file system allows it
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write(path: str | os.PathLike, data: bytes | Callable[[Any], None]) -> None:
    """Write ``data`` (bytes, or a function that writes to a binary file) to ``path``
    atomically: temp file + fsync + ``os.replace``; on any failure the temp file is removed
    and the old ``path`` is untouched."""
    path = Path(path)
    injected = os.environ.get(WRITE_ERROR_ENV, "")
    if injected.partition(":")[0] == path.name:
        code = getattr(errno, injected.partition(":")[2])
        raise OSError(code, os.strerror(code), str(path))
    fd, tmp = tempfile.mkstemp(prefix=f"{TMP_PREFIX}{path.name}.", dir=path.parent)
    try:
        with contextlib.suppress(OSError):  # mkstemp makes the file private (0600)
            os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as f:
            if callable(data):
                data(f)
            else:
                f.write(data[: len(data) // 2])
                f.flush()
                test_kill_point("write", path.name)
                f.write(data[len(data) // 2 :])
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(e, OSError) and not e.filename:  # a failed write names no file
            raise OSError(e.errno, e.strerror, str(path)) from None
        raise
    _fsync_dir(path.parent)


def remove_temporaries(folder: str | os.PathLike) -> None:
    """Delete the temporary files a process killed in the middle of a write left."""
    for p in Path(folder).glob(TMP_PREFIX + "*"):
        p.unlink(missing_ok=True)


# --- lock ---------------------------------------------------------------------------------


def _lock_holder(fd: int) -> str:
    """The process holding a flock on the file behind ``fd``, from /proc/locks (Linux)."""
    st = os.fstat(fd)
    want = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    with contextlib.suppress(OSError):
        with open("/proc/locks") as f:
            for line in f:
                parts = line.split()
                if len(parts) > 5 and parts[1] == "FLOCK" and parts[5] == want:
                    return f"process {parts[4]}"
    return "another process"


class RunLock:
    """An exclusive OS lock (``flock``) on a folder itself, held until ``release`` or the
    process ends. No file is written for it. Where the file system cannot lock a folder
    (some NFS mounts), the run goes on unlocked."""

    def __init__(self, folder: str | os.PathLike):
        import fcntl

        self.folder = Path(folder)
        self.fd = os.open(self.folder, os.O_RDONLY)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _lock_holder(self.fd)
            os.close(self.fd)
            raise UsageError(
                f"run folder {str(self.folder)!r} is in use by {holder} (another gradfit run); "
                "wait for it to finish or use another folder"
            ) from None
        except OSError as e:
            # NFS emulates flock with byte-range locks, which a folder opened read-only
            # cannot take: run unlocked there rather than not at all.
            if e.errno not in (errno.EBADF, errno.ENOLCK, errno.EINVAL, errno.EOPNOTSUPP):
                raise
            os.close(self.fd)
            self.fd = None

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing the descriptor drops the flock
            self.fd = None

    def __enter__(self) -> RunLock:
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def lock_folder(folder: Path) -> RunLock:
    """Create ``folder`` (and parents) if needed and lock it."""
    folder.mkdir(parents=True, exist_ok=True)
    return RunLock(folder)


def check_out_dir(path: Path, overwrite: bool) -> None:
    """Refuse to write into an existing non-empty folder unless ``overwrite``."""
    if path.exists() and not path.is_dir():
        raise UsageError(f"--out {str(path)!r} is a file, expected a folder for the run")
    if path.is_dir() and not overwrite and any(path.iterdir()):
        what = "a run" if (path / CONFIG).exists() else "files"
        raise UsageError(
            f"--out {str(path)!r} already holds {what}; use --resume {path} to continue it, "
            "--overwrite to replace it, or another --out"
        )


def clear_run_files(path: Path) -> None:
    for name in RUN_FILES:
        (path / name).unlink(missing_ok=True)
    tb = path / TENSORBOARD
    if tb.is_dir():  # only the event files a run writes; the folder goes if that empties it
        for f in tb.glob("events.out.tfevents.*"):
            f.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            tb.rmdir()
    remove_temporaries(path)


def check_run_name(name: str) -> None:
    """``--name`` is one folder name inside ``runs/``, not a path."""
    if not name or name in (".", "..") or "/" in name or os.sep in name or "\0" in name:
        raise UsageError(
            f"--name {name!r}: expected a plain folder name for runs/NAME (no '/', not "
            "'.' or '..'); use --out for a path"
        )


# --- metrics ------------------------------------------------------------------------------


def _json_number(v):
    return None if isinstance(v, float) and not math.isfinite(v) else v


def metrics_line(metrics: dict[str, Any]) -> str:
    return json.dumps({k: _json_number(v) for k, v in metrics.items()}) + "\n"


def append_metrics(run_dir: Path, metrics: dict[str, Any]) -> None:
    """One JSON object per epoch, appended and fsync'ed."""
    with open(run_dir / METRICS, "a", encoding="utf-8") as f:
        f.write(metrics_line(metrics))
        f.flush()
        os.fsync(f.fileno())


def read_metrics(run_dir: str | Path, up_to_epoch: int | None = None) -> list[dict]:
    """The epochs recorded in ``metrics.jsonl``, each once. A torn last line (a run killed
    while writing it) is skipped; any other line that is not an epoch's JSON object, or a
    file that is not UTF-8, is a ``UsageError`` naming the line."""
    path = Path(run_dir) / METRICS
    if not path.exists():
        return []
    try:
        lines = path.read_bytes().decode("utf-8").splitlines()
    except UnicodeDecodeError as e:
        raise UsageError(
            f"{path} is not UTF-8 text (byte {e.start}); expected the JSON lines gradfit "
            "writes; remove or repair the file"
        ) from None
    out, seen = [], set()
    for i, line in enumerate(lines):
        try:
            m = json.loads(line)
            ok = isinstance(m, dict) and isinstance(m.get("epoch"), int)
        except json.JSONDecodeError:
            ok = False
        if not ok:
            if i == len(lines) - 1:
                continue  # the last line of a killed run may be incomplete
            raise UsageError(
                f"{path} line {i + 1} is not an epoch's metrics ({line[:40]!r}); expected "
                "the JSON lines gradfit writes; remove or repair the line"
            )
        if (up_to_epoch is None or m["epoch"] <= up_to_epoch) and m["epoch"] not in seen:
            seen.add(m["epoch"])  # an epoch logged twice (killed before its checkpoint)
            out.append(m)
    return out


def truncate_metrics(run_dir: Path, epoch: int) -> list[dict]:
    """Keep the metrics of epochs 1..``epoch`` only (those the checkpoint includes)."""
    kept = read_metrics(run_dir, epoch)
    atomic_write(run_dir / METRICS, "".join(metrics_line(m) for m in kept).encode("utf-8"))
    return kept


def write_json(path: Path, obj: Any) -> None:
    atomic_write(path, (json.dumps(obj, indent=2, default=str) + "\n").encode("utf-8"))


# --- checkpoints --------------------------------------------------------------------------

CHECKPOINT_FORMAT = "gradfit-train-checkpoint"
CHECKPOINT_VERSION = 1


def save_checkpoint(path: str | os.PathLike, state: dict[str, Any]) -> None:
    """Write a training checkpoint atomically."""
    from gradfit.serialization import checkpoint_bytes

    atomic_write(
        path,
        checkpoint_bytes({"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION, **state}),
    )


def save_weights(path: str | os.PathLike, state_dict: dict) -> None:
    """A plain safetensors state dict (what ``gradfit.save(model.state_dict())`` writes),
    atomically."""
    import numpy as np
    from safetensors.numpy import save as st_save

    from gradfit._arrays import unwrap

    arrays = {k: np.ascontiguousarray(unwrap(v)) for k, v in state_dict.items()}
    atomic_write(path, st_save(arrays))


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Read a training checkpoint; a missing or foreign file is a ``UsageError``."""
    from gradfit import serialization

    p = Path(path)
    if not p.is_file():
        raise UsageError(f"checkpoint {str(p)!r} does not exist")
    try:
        state = serialization.load_checkpoint(str(p))
    except Exception as e:  # a torn or foreign file: say which and why, do not crash
        raise UsageError(f"checkpoint {str(p)!r} cannot be read: {e}") from None
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise UsageError(
            f"checkpoint {str(p)!r} is not a gradfit training checkpoint "
            f"(expected format {CHECKPOINT_FORMAT!r})"
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
