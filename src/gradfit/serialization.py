"""Saving and loading tensors with safetensors: no pickle, so loading never runs code.

- ``gradfit.save(state_dict, path)`` / ``gradfit.load(path)``: a flat ``{name: Tensor}``
  dict (a model's ``state_dict()``) is written as a plain safetensors file, the same format
  as ``safetensors.torch.save_file(torch_model.state_dict(), path)``, so files move between
  gradfit and PyTorch in both directions. Anything else (an optimizer state dict, a
  checkpoint with epochs and metrics) is written in the checkpoint format below.
- ``save_checkpoint(obj, path)`` / ``load_checkpoint(path)``: a nested structure of dicts,
  lists, tuples, Tensors, NumPy arrays, numbers, strings, booleans and None in one
  safetensors file: every tensor/array is an entry named by its dotted path
  ("optimizer.state.0.exp_avg"), and the structure, with everything that is not a tensor,
  is JSON in the file's metadata (key ``gradfit.structure``).

Every write is atomic: the bytes go to a temporary file in the target's directory, are
flushed and fsync'd, and the file is then ``os.replace``'d over the target. A crash or an
error midway leaves the old file intact and removes the temporary file.

PyTorch's ``.pt``/``.pth`` files (zip + pickle) are read and written by ``save``/``load``
through ``gradfit._pt_format``, whose unpickler admits only PyTorch's ``weights_only``
allow-list, so loading never runs code from the file.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections import OrderedDict

import numpy as np

from gradfit._arrays import unwrap, wrap
from gradfit.tensor import Tensor, device

__all__ = ["save", "load", "save_file", "load_file", "save_checkpoint", "load_checkpoint"]

_STRUCTURE_KEY = "gradfit.structure"
_FORMAT_KEY = "gradfit.format"
_CHUNK = 1 << 20  # bytes per write call


# ---------------------------------------------------------------------------- atomic writes
def _write_chunk(f, chunk) -> None:
    f.write(chunk)


def _fsync(fd: int) -> None:
    os.fsync(fd)


def _atomic_write(path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a fsync'd temporary file and ``os.replace``."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-" + os.path.basename(path) + ".", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            view = memoryview(data)
            for start in range(0, len(view), _CHUNK):
                _write_chunk(f, view[start : start + _CHUNK])
            f.flush()
            _fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    # Make the rename itself durable (best effort: not every platform can open a dir).
    try:
        dfd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


def _array(value) -> np.ndarray:
    arr = unwrap(value)
    # np.ascontiguousarray would turn a 0-d array (an optimizer's step) into 1-d.
    return arr if arr.flags.c_contiguous else np.ascontiguousarray(arr).reshape(arr.shape)


def save_file(tensors: dict, path, metadata: dict | None = None) -> None:
    """Write ``{name: Tensor or ndarray}`` to a safetensors file, atomically.

    Args:
        tensors: the entries; names are strings.
        path: the target file.
        metadata: optional ``{str: str}`` stored in the header.
    """
    from safetensors.numpy import save as _st_save

    arrays = {}
    for k, v in tensors.items():
        if not isinstance(k, str):
            raise TypeError(f"save_file: tensor names must be strings, got {k!r}")
        arrays[k] = _array(v)
    if metadata is not None:
        bad = [k for k, v in metadata.items() if not isinstance(k, str) or not isinstance(v, str)]
        if bad:
            raise TypeError(f"save_file: metadata keys and values must be strings; bad keys {bad}")
    _atomic_write(path, _st_save(arrays, metadata=metadata))


def _open_error(path, err: Exception) -> Exception:
    path = os.fspath(path)
    head = b""
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError:
        pass
    if head.startswith(b"PK") or head.startswith(b"\x80"):
        return ValueError(
            f"gradfit.load: {path!r} is a PyTorch pickle file (.pt/.pth), which gradfit never "
            "reads because unpickling executes code. Re-save it from PyTorch with "
            "safetensors.torch.save_file(model.state_dict(), 'model.safetensors')."
        )
    return ValueError(f"gradfit.load: {path!r} is not a valid safetensors file ({err})")


def _read(path) -> tuple[dict, dict]:
    from safetensors import safe_open

    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"gradfit.load: no such file: {path!r}")
    try:
        with safe_open(path, framework="np") as f:
            metadata = f.metadata() or {}
            arrays = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 - not a dict
    except Exception as e:  # safetensors raises its own error types
        raise _open_error(path, e) from e
    return arrays, metadata


def load_file(path) -> OrderedDict:
    """Read a safetensors file as an OrderedDict ``{name: Tensor}`` (names sorted, as
    safetensors stores them)."""
    arrays, _ = _read(path)
    return OrderedDict((k, wrap(arrays[k])) for k in arrays)


# ---------------------------------------------------------------------------- nested data
def _encode_key(k):
    if isinstance(k, bool) or k is None or isinstance(k, int | float | str):
        return k
    raise TypeError(f"save_checkpoint: dict keys must be str, int, float, bool or None, got {k!r}")


def _flatten(obj, path: str, tensors: dict):
    """The JSON-able description of ``obj``; tensors and arrays go into ``tensors``."""
    if isinstance(obj, Tensor | np.ndarray):
        name = path or "tensor"
        base, i = name, 1
        while name in tensors:
            name = f"{base}#{i}"
            i += 1
        tensors[name] = _array(obj)
        spec = {"__tensor__": name, "kind": "tensor" if isinstance(obj, Tensor) else "ndarray"}
        if isinstance(obj, Tensor) and obj.requires_grad:
            spec["requires_grad"] = True
        return spec
    if isinstance(obj, np.generic):
        return {"__scalar__": obj.item(), "dtype": obj.dtype.str}
    if obj is None or isinstance(obj, bool | int | float | str):
        return obj
    if isinstance(obj, dict):
        items = []
        for k, v in obj.items():
            sub = f"{path}.{k}" if path else str(k)
            items.append([_encode_key(k), _flatten(v, sub, tensors)])
        return {"__dict__": items, "ordered": isinstance(obj, OrderedDict)}
    if isinstance(obj, list | tuple):
        values = [
            _flatten(v, f"{path}.{i}" if path else str(i), tensors) for i, v in enumerate(obj)
        ]
        return {"__tuple__": values} if isinstance(obj, tuple) else values
    raise TypeError(
        f"save_checkpoint: cannot store a {type(obj).__name__} at {path or '<root>'!r}; "
        "supported: dict, list, tuple, Tensor, ndarray, numbers, str, bool, None"
    )


def _unflatten(spec, arrays: dict):
    if isinstance(spec, list):
        return [_unflatten(v, arrays) for v in spec]
    if not isinstance(spec, dict):
        return spec
    if "__tensor__" in spec:
        arr = arrays[spec["__tensor__"]]
        if spec.get("kind") == "ndarray":
            return arr
        t = wrap(arr)
        if spec.get("requires_grad"):
            t.requires_grad_(True)
        return t
    if "__scalar__" in spec:
        return np.dtype(spec["dtype"]).type(spec["__scalar__"])
    if "__tuple__" in spec:
        return tuple(_unflatten(v, arrays) for v in spec["__tuple__"])
    if "__dict__" in spec:
        cls = OrderedDict if spec.get("ordered") else dict
        return cls((k, _unflatten(v, arrays)) for k, v in spec["__dict__"])
    raise ValueError(f"load_checkpoint: unknown entry in the file's structure: {spec!r}")


def save_checkpoint(obj, path) -> None:
    """Store a nested structure (dicts, lists, tuples, Tensors, arrays, numbers, strings,
    booleans, None) in one safetensors file, atomically; no pickle.

    Tensors become entries named by their dotted path; the structure and every non-tensor
    value are JSON in the metadata. Dict keys may be str, int, float, bool or None (an
    optimizer state dict's integer keys come back as integers).
    """
    _atomic_write(path, checkpoint_bytes(obj))


def checkpoint_bytes(obj) -> bytes:
    """The bytes ``save_checkpoint`` writes, for callers with their own atomic writer
    (``gradfit.train`` writes every file of a run folder through one)."""
    from safetensors.numpy import save as _st_save

    tensors: dict = {}
    structure = _flatten(obj, "", tensors)
    metadata = {
        _FORMAT_KEY: "checkpoint-1",
        _STRUCTURE_KEY: json.dumps(structure, allow_nan=True),
    }
    return _st_save({k: _array(v) for k, v in tensors.items()}, metadata=metadata)


def load_checkpoint(path):
    """Read what ``save_checkpoint`` (or ``save``) wrote; a plain safetensors file comes
    back as an OrderedDict of Tensors."""
    arrays, metadata = _read(path)
    if _STRUCTURE_KEY not in metadata:
        return OrderedDict((k, wrap(arrays[k])) for k in arrays)
    return _unflatten(json.loads(metadata[_STRUCTURE_KEY]), arrays)


# ---------------------------------------------------------------------------- torch-style API
def _is_flat_tensor_dict(obj) -> bool:
    return (
        isinstance(obj, dict)
        and len(obj) > 0
        and all(isinstance(k, str) and isinstance(v, Tensor | np.ndarray) for k, v in obj.items())
    )


def _wants_safetensors(f) -> bool:
    return isinstance(f, str | os.PathLike) and os.fspath(f).endswith(".safetensors")


def save(obj, f, **kwargs) -> None:
    """Save ``obj`` to ``f`` (a path or a binary file object), as ``torch.save`` does.

    - A name ending in ``.safetensors`` (gradfit's run folders use these): a state dict (a
      non-empty ``{str: Tensor}`` dict) as a plain safetensors file that
      ``safetensors.torch.load_file`` reads, any other supported structure in the checkpoint
      format (see ``save_checkpoint``).
    - Any other name, or a file object: PyTorch's own zip format (``gradfit._pt_format``), so
      ``torch.load(path, weights_only=True)`` reads it: state dicts, optimizer state dicts,
      tensors, and dicts/lists/tuples of them and of numbers and strings. NumPy arrays are
      pickled as NumPy pickles them (``torch.load`` then needs ``weights_only=False``).

    PyTorch's ``pickle_module``/``pickle_protocol`` arguments are accepted and ignored. The
    write is atomic for paths.
    """
    kwargs.pop("pickle_module", None)
    kwargs.pop("pickle_protocol", None)
    kwargs.pop("_use_new_zipfile_serialization", None)
    if kwargs:
        raise TypeError(f"save(): unexpected keyword arguments {sorted(kwargs)}")
    if _wants_safetensors(f):
        if _is_flat_tensor_dict(obj):
            save_file(obj, f)
        else:
            save_checkpoint(obj, f)
        return
    from gradfit import _pt_format

    if hasattr(f, "write"):
        name = os.path.basename(str(getattr(f, "name", "archive")))
        f.write(_pt_format.save_pt(obj, os.path.splitext(name)[0] or "archive"))
        return
    stem = os.path.splitext(os.path.basename(os.fspath(f)))[0] or "archive"
    _atomic_write(f, _pt_format.save_pt(obj, stem))


def load(f, map_location=None, weights_only=None, **kwargs):
    """Load what ``save`` or ``torch.save`` wrote, or any safetensors file.

    The format is recognised from the file's first bytes: PyTorch's zip format is read
    through a restricted unpickler that admits only tensors, storages, containers and
    primitive types, as ``torch.load(weights_only=True)`` does; ``weights_only=False``
    admits NumPy arrays too (what ``torch.save`` of an array writes), and nothing else: a
    file asking for any other class is refused before anything in it runs (gradfit never
    loads arbitrary pickles). Safetensors files come back as an OrderedDict
    ``{name: Tensor}`` or the stored structure. ``map_location`` is accepted: gradfit is
    CPU-only, so everything lands on the CPU.
    """
    if map_location is not None:
        device(map_location if not callable(map_location) else "cpu")
    kwargs.pop("mmap", None)
    kwargs.pop("pickle_module", None)
    if kwargs:
        raise TypeError(f"load(): unexpected keyword arguments {sorted(kwargs)}")
    from gradfit import _pt_format

    if hasattr(f, "read"):
        return _pt_format.load_pt(f, weights_only)
    path = os.fspath(f)
    if not os.path.exists(path):
        raise FileNotFoundError(f"gradfit.load: no such file: {path!r}")
    with open(path, "rb") as fh:
        head = fh.read(9)
    if _pt_format.is_pt_file(head):
        return _pt_format.load_pt(path, weights_only)
    return load_checkpoint(path)
