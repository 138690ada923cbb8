"""Tensors in memory that other processes map too (``Tensor.share_memory_``,
``Module.share_memory``, tensors sent through ``torch.multiprocessing`` queues).

``share(t)`` moves ``t``'s values into a new file in ``/dev/shm`` (the system's temporary
folder where there is none), mapped with ``mmap`` (MAP_SHARED), and makes ``t`` hold an
array over that mapping; ``t`` stays the same Python object. A child made by ``fork``
inherits the mapping; a process that receives the tensor pickled by multiprocessing's
``ForkingPickler`` (``spawn``/``forkserver`` arguments, ``Queue.put``) maps the same file
by its name (``_rebuild``). Writes from any process are then seen by all, as with
PyTorch's shared storages. Sending a tensor that is not shared moves it into shared
memory first, as PyTorch does.

The file is removed when the creating process's array is freed or the process exits
(processes that mapped it keep their mapping). Not covered: other tensors that were views
of ``t``'s old array keep the old memory (PyTorch moves the whole storage); a process
killed by a signal leaves its files in ``/dev/shm``.
"""

from __future__ import annotations

import itertools
import mmap
import os
import secrets
import tempfile
import weakref

import numpy as np

from gradfit._arrays import set_array, unwrap

# id(root array) -> (file name, size): the mappings this process created or attached.
_ROOTS: dict = {}
# file name -> root array (weakly): to map a file once per process.
_BY_NAME: weakref.WeakValueDictionary = weakref.WeakValueDictionary()
_counter = itertools.count()
_REGISTERED: set = set()


def _folder() -> str:
    return "/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir()


def _map(path: str, size: int, create: bool) -> np.ndarray:
    flags = os.O_RDWR | (os.O_CREAT | os.O_EXCL if create else 0)
    fd = os.open(path, flags, 0o600)
    try:
        if create:
            os.ftruncate(fd, size)
        mapping = mmap.mmap(fd, size)
    finally:
        os.close(fd)
    return np.frombuffer(mapping, dtype=np.uint8)


def _remember(root: np.ndarray, name: str, size: int) -> None:
    key = id(root)
    _ROOTS[key] = (name, size)
    _BY_NAME[name] = root
    weakref.finalize(root, _ROOTS.pop, key, None)


def _unlink(path: str, owner: int) -> None:
    if os.getpid() == owner:  # not a forked child that inherited the finalizer
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


def _root_of(arr: np.ndarray):
    a = arr
    while isinstance(a, np.ndarray):
        if id(a) in _ROOTS:
            return a
        a = a.base
    return None


def is_shared(t) -> bool:
    """Whether ``t``'s values live in shared memory."""
    arr = unwrap(t)
    return isinstance(arr, np.ndarray) and _root_of(arr) is not None


def share(t):
    """Move ``t``'s values into shared memory (no-op if they are there); returns ``t``."""
    arr = unwrap(t)
    if not isinstance(arr, np.ndarray):
        raise RuntimeError(
            f"share_memory_: only dense tensors can be shared, got a {type(t).__name__} "
            f"holding {type(arr).__name__}"
        )
    _register_reducer(type(t))
    if _root_of(arr) is not None:
        return t
    size = max(arr.nbytes, 1)
    name = f"gradfit_{os.getpid()}_{next(_counter)}_{secrets.token_hex(4)}"
    path = os.path.join(_folder(), name)
    root = _map(path, size, create=True)
    _remember(root, name, size)
    weakref.finalize(root, _unlink, path, os.getpid())
    new = np.ndarray(arr.shape, dtype=arr.dtype, buffer=root)
    new[...] = arr
    set_array(t, new)
    return t


def _reduce(t):
    """How ``ForkingPickler`` sends a tensor: its shared file's name and its layout."""
    if t.requires_grad and t.grad_fn is not None:
        raise RuntimeError(
            "Cowardly refusing to serialize non-leaf tensor which requires_grad, since "
            "autograd does not support crossing process boundaries.  If you just want to "
            "transfer the data, call detach() on the tensor before serializing (e.g., "
            "putting it on the queue)."
        )
    share(t)
    arr = unwrap(t)
    root = _root_of(arr)
    name, size = _ROOTS[id(root)]
    offset = arr.__array_interface__["data"][0] - root.__array_interface__["data"][0]
    layout = (arr.dtype, arr.shape, arr.strides, offset)
    return _rebuild, (type(t), name, size, layout, t.requires_grad)


def _rebuild(cls, name: str, size: int, layout, requires_grad: bool):
    """The receiving side of ``_reduce``: a tensor over the same shared file."""
    from gradfit._arrays import wrap

    root = _BY_NAME.get(name)
    if root is None:
        try:
            root = _map(os.path.join(_folder(), name), size, create=False)
        except FileNotFoundError:
            raise RuntimeError(
                f"shared tensor memory {name!r} was freed by the process that shared it "
                "before this process received it"
            ) from None
        _remember(root, name, size)
    dtype, shape, strides, offset = layout
    arr = np.ndarray(shape, dtype=dtype, buffer=root, offset=offset, strides=strides)
    t = wrap(arr)
    if type(t) is not cls:
        t.__class__ = cls
    if requires_grad:
        t.requires_grad_(True)
    return t


def _register_reducer(cls) -> None:
    """Have multiprocessing send tensors of ``cls`` as shared memory (its pickler looks
    reducers up by exact type)."""
    if cls in _REGISTERED:
        return
    from multiprocessing.reduction import ForkingPickler

    ForkingPickler.register(cls, _reduce)
    _REGISTERED.add(cls)
