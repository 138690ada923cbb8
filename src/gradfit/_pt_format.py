"""PyTorch's ``.pt`` file format (``torch.save``'s zip), written and read without PyTorch.

Writing: the object (state dicts, optimizer state dicts, nested dicts/lists/tuples of tensors,
numbers and strings) is pickled with protocol 2 as PyTorch pickles it: a tensor is
``torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks)`` whose
storage is a persistent id ``('storage', torch.FloatStorage, key, 'cpu', numel)``; the storage
bytes go to ``<stem>/data/<key>``, 64-byte aligned, next to ``data.pkl``, ``.format_version``,
``.storage_alignment``, ``byteorder``, ``version`` and ``.data/serialization_id``. PyTorch's
``torch.load(path, weights_only=True)`` reads it back.

Reading (the zip format, and the legacy pre-1.6 format): the pickle goes through an
unpickler whose ``find_class`` admits only PyTorch's ``weights_only`` allow-list (tensor
and parameter rebuild functions, storage types, dtypes, ``torch.Size``, ``torch.device``,
``collections.OrderedDict`` and a few primitive builtins), each mapped to a gradfit function
written here; every other global, ``os.system``, ``eval``, ``builtins.getattr`` and the like
included, is refused before anything is called. No module is imported on a file's behalf.
Tensor views are bounds-checked against their storage.
"""

from __future__ import annotations

import codecs
import io
import os
import pickle
import struct
import zipfile
from collections import OrderedDict

import numpy as np

from gradfit import _dtypes
from gradfit._arrays import unwrap, wrap
from gradfit.tensor import Size, Tensor, device

__all__ = ["is_pt_file", "load_pt", "save_pt", "UnsafePickleError"]

_ALIGN = 64
_STORAGE_NAMES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
    "ComplexFloatStorage": np.complex64,
    "ComplexDoubleStorage": np.complex128,
    "UntypedStorage": np.uint8,
}
_STORAGE_OF = {np.dtype(v): k for k, v in _STORAGE_NAMES.items() if k != "UntypedStorage"}
_DTYPE_NAMES = {
    "float32": np.float32,
    "float": np.float32,
    "float64": np.float64,
    "double": np.float64,
    "float16": np.float16,
    "half": np.float16,
    "int64": np.int64,
    "long": np.int64,
    "int32": np.int32,
    "int": np.int32,
    "int16": np.int16,
    "int8": np.int8,
    "uint8": np.uint8,
    "bool": np.bool_,
    "complex64": np.complex64,
    "complex128": np.complex128,
}


class UnsafePickleError(pickle.UnpicklingError):
    """A ``.pt`` file asked for something outside PyTorch's ``weights_only`` allow-list."""


# ---------------------------------------------------------------------------- writing
class _Global:
    """A ``module.name`` written as a pickle GLOBAL without importing the module."""

    __slots__ = ("module", "name")

    def __init__(self, module: str, name: str):
        self.module, self.name = module, name

    def __call__(self, *args):  # pickle insists that a reduce function is callable
        raise TypeError(f"{self.module}.{self.name} is only a name written into a .pt file")


class _StorageRef:
    __slots__ = ("key", "dtype", "numel")

    def __init__(self, key: str, dtype: np.dtype, numel: int):
        self.key, self.dtype, self.numel = key, dtype, numel


_REBUILD_TENSOR = _Global("torch._utils", "_rebuild_tensor_v2")
_REBUILD_PARAMETER = _Global("torch._utils", "_rebuild_parameter")


class _TorchPickler(pickle._Pickler):
    """The pure-Python pickler with PyTorch's reductions for tensors and storages."""

    dispatch = pickle._Pickler.dispatch.copy()

    def __init__(self, file, storages: list):
        super().__init__(file, protocol=2)
        self.storages = storages

    def _save_global_marker(self, obj: _Global) -> None:
        self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode())
        self.memoize(obj)

    dispatch[_Global] = _save_global_marker

    def _save_dtype(self, obj: _dtypes.dtype) -> None:
        # torch.<name>, as PyTorch writes its dtypes (gradfit.<name> would not load there).
        self.write(pickle.GLOBAL + f"torch\n{obj._name}\n".encode())
        self.memoize(obj)

    dispatch[_dtypes.dtype] = _save_dtype

    def persistent_id(self, obj):
        if isinstance(obj, _StorageRef):
            return ("storage", _Global("torch", _STORAGE_OF[obj.dtype]), obj.key, "cpu", obj.numel)
        return None

    def reducer_override(self, obj):
        if not isinstance(obj, Tensor):
            return NotImplemented
        from gradfit.nn.parameter import Parameter

        if isinstance(obj, Parameter):
            # PyTorch writes a Parameter as _rebuild_parameter(<plain tensor>, ...).
            plain = wrap(unwrap(obj))
            return (_REBUILD_PARAMETER, (plain, bool(obj.requires_grad), OrderedDict()))
        arr = unwrap(obj)
        if not arr.flags.c_contiguous:  # (ascontiguousarray would make a 0-d array 1-d)
            arr = np.ascontiguousarray(arr).reshape(arr.shape)
        if arr.dtype not in _STORAGE_OF:
            raise TypeError(f"gradfit.save: no PyTorch storage type for dtype {arr.dtype}")
        key = str(len(self.storages))
        self.storages.append(arr)
        ref = _StorageRef(key, arr.dtype, arr.size)
        args = (ref, 0, tuple(arr.shape), _c_stride(arr), bool(obj.requires_grad), OrderedDict())
        return (_REBUILD_TENSOR, args)


def _c_stride(arr: np.ndarray) -> tuple:
    """Row-major strides in elements, as PyTorch computes them (a size-0 dim counts as 1)."""
    stride, acc = [], 1
    for n in reversed(arr.shape):
        stride.append(acc)
        acc *= max(n, 1)
    return tuple(reversed(stride))


def _plain(obj, where: str):
    """``obj`` with what PyTorch would not read made plain: NumPy scalars become Python
    numbers, arrays tensors, ``Size`` a tuple. Anything else unsupported is an error."""
    if isinstance(obj, Tensor) or obj is None or isinstance(obj, bool | int | float | str):
        return obj
    if isinstance(obj, np.ndarray):
        if obj.dtype.hasobject:
            raise TypeError(f"gradfit.save: cannot store an object array at {where}")
        return obj  # pickled by NumPy's own reduction, as torch.save does
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, complex | bytes | _dtypes.dtype):
        return obj
    if isinstance(obj, tuple):
        return tuple(_plain(v, f"{where}[{i}]") for i, v in enumerate(obj))
    if isinstance(obj, list):
        return [_plain(v, f"{where}[{i}]") for i, v in enumerate(obj)]
    if isinstance(obj, dict):
        out = OrderedDict() if isinstance(obj, OrderedDict) else {}
        for k, v in obj.items():
            out[_plain(k, where)] = _plain(v, f"{where}[{k!r}]")
        meta = getattr(obj, "_metadata", None)
        if isinstance(out, OrderedDict) and meta is not None:
            out._metadata = _plain(meta, where + "._metadata")
        return out
    if isinstance(obj, device):
        raise TypeError(f"gradfit.save: cannot store a device at {where}; store str(device)")
    raise TypeError(
        f"gradfit.save: cannot store a {type(obj).__name__} at {where} in a .pt file; "
        "supported: dict, OrderedDict, list, tuple, Tensor, ndarray, numbers, str, bool, None, "
        "dtype"
    )


def _aligned_extra(offset: int, name: str) -> bytes:
    """A local-header extra field that puts the entry's data on a 64-byte boundary."""
    pad = (-(offset + 30 + len(name.encode()))) % _ALIGN
    if pad == 0:
        return b""
    if pad < 4:
        pad += _ALIGN
    return b"FB" + struct.pack("<H", pad - 4) + b"Z" * (pad - 4)


def save_pt(obj, stem: str) -> bytes:
    """The bytes of a ``.pt`` file holding ``obj``; ``stem`` names the archive's folder."""
    storages: list = []
    buf = io.BytesIO()
    _TorchPickler(buf, storages).dump(_plain(obj, "<root>"))
    entries = [
        ("data.pkl", buf.getvalue()),
        (".format_version", b"1"),
        (".storage_alignment", b"64"),
        ("byteorder", b"little"),
    ]
    entries += [(f"data/{i}", arr.astype(arr.dtype.newbyteorder("<")).tobytes()) for i, arr in
                enumerate(storages)]  # fmt: skip
    entries += [("version", b"3\n"), (".data/serialization_id", _serialization_id())]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
        for name, data in entries:
            info = zipfile.ZipInfo(f"{stem}/{name}", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            info.extra = _aligned_extra(out.tell(), info.filename)
            z.writestr(info, data)
    return out.getvalue()


def _serialization_id() -> bytes:
    return str(int.from_bytes(os.urandom(16), "little")).zfill(40)[:40].encode()


# ---------------------------------------------------------------------------- reading
class _StorageType:
    """What ``find_class`` returns for ``torch.FloatStorage`` and friends: a dtype tag."""

    __slots__ = ("dtype",)

    def __init__(self, dtype):
        self.dtype = np.dtype(dtype)


def _check_ints(values, what: str) -> tuple:
    if not isinstance(values, tuple | list) or not all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values
    ):
        raise UnsafePickleError(f"gradfit.load: bad tensor {what} {values!r} in the file")
    return tuple(values)


def _rebuild_tensor(storage, storage_offset, size, stride, requires_grad=False, *_ignored):
    if not isinstance(storage, np.ndarray) or storage.ndim != 1:
        raise UnsafePickleError("gradfit.load: a tensor's storage is not a storage")
    size = _check_ints(size, "size")
    stride = _check_ints(stride, "stride")
    (offset,) = _check_ints((storage_offset,), "offset")
    if len(size) != len(stride):
        raise UnsafePickleError(f"gradfit.load: size {size} and stride {stride} differ in length")
    numel = int(np.prod(size)) if size else 1
    if numel:
        last = offset + sum((n - 1) * s for n, s in zip(size, stride))
        if last >= storage.size:
            raise UnsafePickleError(
                f"gradfit.load: tensor of size {size}, stride {stride}, offset {offset} reads "
                f"past its storage of {storage.size} elements"
            )
        view = np.lib.stride_tricks.as_strided(
            storage[offset:], size, tuple(s * storage.itemsize for s in stride), writeable=False
        )
        arr = np.array(view)
    else:
        arr = np.zeros(size, storage.dtype)
    t = wrap(arr)
    if requires_grad is True and arr.dtype.kind in "fc":
        t.requires_grad_(True)
    return t


def _rebuild_tensor_v1(storage, storage_offset, size, stride):
    return _rebuild_tensor(storage, storage_offset, size, stride)


def _rebuild_parameter(data, requires_grad=True, backward_hooks=None, *_ignored):
    from gradfit.nn.parameter import Parameter

    if not isinstance(data, Tensor):
        raise UnsafePickleError("gradfit.load: a parameter's data is not a tensor")
    return Parameter(data, requires_grad=bool(requires_grad))


def _allowed() -> dict:
    table = {
        ("collections", "OrderedDict"): OrderedDict,
        ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
        ("torch._utils", "_rebuild_tensor"): _rebuild_tensor_v1,
        ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
        ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
        ("torch", "Size"): Size,
        ("torch", "device"): device,
        ("builtins", "set"): set,
        ("builtins", "frozenset"): frozenset,
        ("builtins", "complex"): complex,
        ("builtins", "slice"): slice,
    }
    for name, dt in _STORAGE_NAMES.items():
        table[("torch", name)] = _StorageType(dt)
        table[("torch.storage", name)] = _StorageType(dt)
    for name, dt in _DTYPE_NAMES.items():
        table[("torch", name)] = _dtypes.from_np(np.dtype(dt))
    return table


_ALLOWED = _allowed()


# What a NumPy array's own pickle asks for (numpy 2 writes numpy._core, numpy 1 numpy.core):
# admitted only under weights_only=False, as PyTorch refuses arrays under weights_only=True.
def _reconstruct_array(subtype, shape, dtype):
    """numpy's ``_reconstruct`` for a plain ndarray only (its BUILD then fills it)."""
    if subtype is not np.ndarray:
        raise UnsafePickleError("gradfit.load: an array of a subclass of ndarray")
    return np.ndarray.__new__(np.ndarray, shape, dtype)


def _numpy_scalar(dtype, data=None):
    if not isinstance(dtype, np.dtype) or dtype.hasobject:
        raise UnsafePickleError("gradfit.load: a NumPy scalar of an object dtype")
    return np.frombuffer(data, dtype)[0] if data is not None else dtype.type()


_NUMPY = {
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct_array,
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct_array,
    ("numpy._core.multiarray", "scalar"): _numpy_scalar,
    ("numpy.core.multiarray", "scalar"): _numpy_scalar,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("_codecs", "encode"): codecs.encode,
}


class _RestrictedUnpickler(pickle.Unpickler):
    """``find_class`` admits only the allow-list; a storage's persistent id is resolved by
    ``storage_for(key, storage_type, numel)`` (once per key)."""

    def __init__(self, file, storage_for, weights_only=None):
        super().__init__(file)
        self._storage_for = storage_for
        self._storages: dict = {}
        self._numpy = weights_only is False

    def find_class(self, module: str, name: str):
        if (module, name) in _ALLOWED:
            return _ALLOWED[(module, name)]
        if (module, name) in _NUMPY:
            if self._numpy:
                return _NUMPY[(module, name)]
            raise UnsafePickleError(
                f"gradfit.load: weights only load failed: the file holds a NumPy array or "
                f"scalar ({module}.{name}), which PyTorch's weights_only=True refuses too; "
                "pass weights_only=False to read it (gradfit then admits NumPy arrays and "
                "nothing else)"
            )
        raise UnsafePickleError(
            f"gradfit.load: refusing to load {module}.{name}: a .pt file is read as "
            "PyTorch's weights_only=True does, admitting only tensors, storages, "
            "containers and primitive types (and NumPy arrays under weights_only=False); "
            "nothing in the file was run"
        )

    def persistent_load(self, pid):
        # Zip format: ('storage', type, key, location, numel); legacy format: the same and
        # a view_metadata entry (None unless the storage is a view of another).
        if not (isinstance(pid, tuple) and len(pid) in (5, 6) and pid[0] == "storage"):
            raise UnsafePickleError(f"gradfit.load: unknown persistent id {pid!r}")
        _, kind, key, _location, numel = pid[:5]
        if len(pid) == 6 and pid[5] is not None:
            raise UnsafePickleError("gradfit.load: storage views of the legacy format are not read")
        if not isinstance(kind, _StorageType) or not isinstance(key, str):
            raise UnsafePickleError(f"gradfit.load: bad storage reference {pid!r}")
        if not isinstance(numel, int) or numel < 0:
            raise UnsafePickleError(f"gradfit.load: bad storage size {numel!r}")
        if key not in self._storages:
            self._storages[key] = self._storage_for(key, kind, numel)
        return self._storages[key]


class _PrimitiveUnpickler(_RestrictedUnpickler):
    """For the legacy format's header pickles, which hold numbers, strings and dicts only."""

    def __init__(self, file):
        super().__init__(file, None)

    def persistent_load(self, pid):
        raise UnsafePickleError("gradfit.load: unexpected storage in a file header")


def _frombytes(raw: bytes, kind: _StorageType, what: str) -> np.ndarray:
    dt = kind.dtype.newbyteorder("<")
    if len(raw) % dt.itemsize:
        raise UnsafePickleError(f"gradfit.load: storage {what} has a partial element")
    return np.frombuffer(raw, dt).astype(kind.dtype)


_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_LEGACY_PROTOCOL = 1001


def _load_legacy(data: bytes, name, weights_only=None) -> object:
    """PyTorch's legacy (pre-1.6, ``_use_new_zipfile_serialization=False``) format: pickles
    of the magic number, the protocol version and system info, the object (storages as
    persistent ids), the list of storage keys, then each storage as an int64 element count
    and its bytes. The object is unpickled twice: first with stand-in storages to find where
    it ends, then with the real ones; both times through the allow-list."""
    f = io.BytesIO(data)
    if _PrimitiveUnpickler(f).load() != _LEGACY_MAGIC:
        raise ValueError(f"gradfit.load: {name!r} is not a torch.save file")
    if _PrimitiveUnpickler(f).load() != _LEGACY_PROTOCOL:
        raise ValueError(f"gradfit.load: {name!r} has an unknown legacy protocol version")
    info = _PrimitiveUnpickler(f).load()
    if not (isinstance(info, dict) and info.get("little_endian", True)):
        raise ValueError(f"gradfit.load: {name!r} was written on a big-endian machine")
    start = f.tell()
    kinds = {}

    def stand_in(key, kind, numel):
        kinds[key] = kind
        return np.broadcast_to(np.zeros((), kind.dtype), (numel,))  # no memory

    _RestrictedUnpickler(f, stand_in, weights_only).load()
    keys = _PrimitiveUnpickler(f).load()
    if not isinstance(keys, list) or set(keys) - set(kinds):
        raise UnsafePickleError(f"gradfit.load: {name!r} lists storages it does not use")
    storages = {}
    for key in keys:
        (count,) = struct.unpack("<q", f.read(8) or b"\0" * 8)
        nbytes = count * kinds[key].dtype.itemsize
        raw = f.read(nbytes)
        if count < 0 or len(raw) != nbytes:
            raise ValueError(f"gradfit.load: {name!r} is truncated (storage {key})")
        storages[key] = _frombytes(raw, kinds[key], key)
    f.seek(start)
    return _RestrictedUnpickler(f, lambda key, kind, numel: storages[key], weights_only).load()


def is_pt_file(head: bytes) -> bool:
    """Whether a file starting with ``head`` (9 bytes or more) is a PyTorch zip or legacy
    pickle file. A safetensors file starts with its header's length (8 bytes, which may
    begin with 0x80 too) and then ``{``."""
    if head.startswith(b"PK\x03\x04"):
        return True
    return head.startswith(b"\x80") and head[8:9] != b"{"


def load_pt(source, weights_only=None) -> object:
    """Read a ``.pt`` file (a path or a binary file object) written by ``torch.save``."""
    data = source.read() if hasattr(source, "read") else open(os.fspath(source), "rb").read()
    name = getattr(source, "name", None) if hasattr(source, "read") else os.fspath(source)
    if data.startswith(b"\x80"):
        return _load_legacy(data, name, weights_only)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as e:
        raise ValueError(f"gradfit.load: {name!r} is not a PyTorch .pt file ({e})") from e
    names = archive.namelist()
    pkl = [n for n in names if n.endswith("data.pkl") and n.count("/") == 1]
    if len(pkl) != 1:
        raise ValueError(f"gradfit.load: {name!r} has no data.pkl: not a torch.save file")
    prefix = pkl[0][: -len("data.pkl")]

    def read_storage(key: str, kind: _StorageType, numel: int) -> np.ndarray:
        entry = f"{prefix}data/{key}"
        if entry not in names:
            raise UnsafePickleError(f"gradfit.load: storage {key!r} is missing from the file")
        return _frombytes(archive.read(entry), kind, key)

    return _RestrictedUnpickler(io.BytesIO(archive.read(pkl[0])), read_storage, weights_only).load()
