"""Tensor: a NumPy array, its gradient, and its place in the computation graph.

A Tensor holds its values in ``_array`` (an ``np.ndarray``). ``grad_fn`` is the graph node
that made it (None for leaves), ``grad`` is filled by ``backward()`` on leaves that
require a gradient. Operators and methods call ops from ``gradfit.ops``; those build the
graph. ``.data`` is, as in PyTorch, a Tensor that shares the memory but stays outside the
graph (the lecture's program calls ``layer.bias.data.fill_(0.0)``).

This module sits above ``gradfit.autograd`` and ``gradfit.ops`` and imports them; they never
import it. Right after defining ``Tensor`` it hands the class to the graph machinery
(``autograd.bind_tensor_class``), which builds op outputs with it. Code above the core
reaches a tensor's array through ``gradfit._arrays``, not through ``_array``.
"""

from __future__ import annotations

import functools
import numbers
import weakref
from operator import attrgetter as _attrgetter

import numpy as np

from gradfit import _dtypes, _grad_mode, _layout, _meta, _rng, _stft, _typenames, return_types
from gradfit import _tensorops as _tops
from gradfit import _tensorops_more as _tmore
from gradfit._grad_mode import _enabled, _fw_level, _fw_on
from gradfit._hooks import RemovableHandle
from gradfit._meta import MetaArray as _MetaArray
from gradfit._tensor_str import tensor_repr
from gradfit.autograd import bind_tensor_class, engine
from gradfit.autograd import graph as _graph_hooks
from gradfit.autograd._torch_names import named
from gradfit.autograd.function import _other_output, number_nodes
from gradfit.autograd.function import count_edit as _count_edit
from gradfit.ops import binary_more as _binary_more
from gradfit.ops import complex as _complex_ops
from gradfit.ops import elementwise, indexing, movement, reduce
from gradfit.ops import elementwise_more as _emore
from gradfit.ops import overwrite as _overwrite
from gradfit.ops import sparse as _sparse_ops
from gradfit.ops import unary_top as _unary_top
from gradfit.ops.matmul import matmul as _matmul

# NumPy dtype -> public gradfit.dtype singleton, read by the dtype property.
_DTYPE_OF = _dtypes._BY_NP

# The device types PyTorch's parser accepts ("Expected one of ... device type").
_DEVICE_TYPES = (
    "cpu cuda ipu xpu mkldnn opengl opencl ideep hip ve fpga maia xla lazy vulkan mps meta hpu "
    "mtia privateuseone"
).split()


class device:  # noqa: N801 - PyTorch's name
    """A device descriptor, as ``torch.device``: any PyTorch device string is accepted.

    gradfit computes on the CPU only. As on a CPU-only PyTorch build, naming another device
    (``device("cuda")``, ``device("cuda", 0)``) is allowed; placing data on it fails
    (:func:`_check_device`).
    """

    __slots__ = ("type", "index")

    def __init__(self, type="cpu", index=None):  # noqa: A002 - PyTorch's names
        if isinstance(type, device):
            self.type, self.index = type.type, type.index
            return
        if isinstance(type, int) and not isinstance(type, bool):
            raise RuntimeError("Cannot access accelerator device when none is available.")
        if not isinstance(type, str):
            raise TypeError(f"device() expected a string or int, got {type.__class__.__name__}")
        name, sep, idx = type.partition(":")
        if name not in _DEVICE_TYPES:
            raise RuntimeError(
                f"Expected one of {', '.join(_DEVICE_TYPES)} device type at start of device "
                f"string: {type}"
            )
        if sep:
            if index is not None:
                raise RuntimeError(
                    f"type (string) must not include an index because index was passed "
                    f"explicitly: {type}"
                )
            if not idx.isdigit():
                raise RuntimeError(f"Invalid device string: '{type}'")
            index = int(idx)
        if index is not None and index < 0:
            raise RuntimeError(f"Device index must not be negative, got {index}")
        self.type, self.index = name, index

    def __eq__(self, other):
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self):
        return hash((self.type, self.index))

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    # ``with torch.device("cpu"):`` makes the device the default for new tensors inside
    # the block; the CPU already is, ``meta`` makes them meta tensors (_meta), and data on
    # any other device fails at once.
    def __enter__(self):
        if self.type == "meta":
            _meta.DEFAULT_META[0] += 1
        elif self.type != "cpu":
            raise _no_device_error(self.type)
        return self

    def __exit__(self, *exc):
        if self.type == "meta":
            _meta.DEFAULT_META[0] -= 1
        return False


_CPU = device("cpu")
_META = device("meta")


def _no_device_error(kind: str) -> Exception:
    """The error for placing data on a device gradfit lacks, in PyTorch's CPU-build form."""
    if kind == "cuda":
        return AssertionError("gradfit not compiled with CUDA enabled (it runs on the CPU only)")
    return RuntimeError(f"gradfit is not linked with support for {kind} devices (CPU only)")


def _check_device(dev) -> bool:
    """Refuse data placement on any device but the CPU and ``meta`` (naming one is fine);
    True when the data goes to ``meta`` (asked for, or the default inside a meta block)."""
    if dev is None:
        return _meta.DEFAULT_META[0] > 0
    d = dev if isinstance(dev, device) else device(dev)
    if d.type == "cpu":
        return False
    if d.type == "meta":
        return True
    raise _no_device_error(d.type)


def parse_to_args(args: tuple, kwargs: dict):
    """The dtype asked for by ``to(dtype)``, ``to(device)``, ``to(tensor)`` or
    ``to(device, dtype)`` (None if only a device); checks that the device is the CPU
    or meta."""
    return parse_to(args, kwargs)[0]


def parse_to(args: tuple, kwargs: dict):
    """``(dtype, meta)`` asked for by the arguments of ``to``: ``meta`` is True for the
    meta device, False for the CPU, None when no device is named."""
    kwargs = dict(kwargs)
    dtype = kwargs.pop("dtype", None)
    dev = kwargs.pop("device", None)
    kwargs.pop("non_blocking", None)
    kwargs.pop("copy", None)
    if kwargs:
        raise TypeError(f"to(): unexpected keyword arguments {sorted(kwargs)}")
    for a in args:
        if isinstance(a, Tensor):
            dtype = a.dtype
            dev = a.device
        elif isinstance(a, device) or (isinstance(a, str) and a.partition(":")[0] in _DEVICE_TYPES):
            dev = a
        else:
            dtype = a
    return dtype, None if dev is None else _check_device(dev)


def _to_array(data, dtype=None) -> np.ndarray:
    """Convert Python/NumPy data to an array with PyTorch's dtype inference."""
    if isinstance(data, Tensor):
        arr = data._array
    elif isinstance(data, np.ndarray | np.generic):
        arr = np.asarray(data)
    else:
        typed = None
        if isinstance(data, list | tuple) and not set(map(type, data)) <= _NUMBERS:
            if any(isinstance(d, Tensor) and d._array.size != 1 for d in data):
                # PyTorch reads each element as a number; stack() joins tensors
                raise ValueError("only one element tensors can be converted to Python scalars")
            if dtype is None:
                typed = _typed_items_dtype(data)
            if any(isinstance(d, Tensor) for d in data):
                data = [d._array if isinstance(d, Tensor) else d for d in data]
        try:
            arr = np.asarray(data)
        except ValueError:
            _check_nested(data)
            raise
        if dtype is None and typed is not None:
            arr = arr.astype(typed, copy=False)
        elif dtype is None:
            kind = arr.dtype.kind
            if kind == "f":
                arr = arr.astype(_dtypes.default_np(), copy=False)
            elif kind in "iu":
                arr = arr.astype(np.int64, copy=False)
            elif kind == "c":  # Python complex numbers: the default dtype's complex
                arr = arr.astype(np.result_type(_dtypes.default_np(), np.complex64), copy=False)
            elif kind in "US":
                raise ValueError(f"too many dimensions '{type(arr.flat[0].item()).__name__}'")
            elif (
                kind == "O"
                and (bad := next((v for v in arr.flat if not isinstance(v, numbers.Number)), _NO))
                is not _NO
            ):
                raise RuntimeError(f"Could not infer dtype of {type(bad).__name__}")
            elif kind not in "b":
                raise TypeError(f"cannot make a tensor from {type(data).__name__} of {arr.dtype}")
        elif arr.size and arr.dtype.kind in "iuf" and _dtypes.to_dtype(dtype).kind in "iu":
            # Python numbers are checked as PyTorch checks them (NumPy data is cast)
            target = _dtypes.to_dtype(dtype)
            _dtypes.check_fits(arr.min(), arr.max(), target, target.name)
    if dtype is not None:
        arr = arr.astype(_dtypes.to_dtype(dtype), copy=False)
    return arr


_NO = object()


def _check_nested(data) -> None:
    """PyTorch's error for nested lists NumPy cannot make an array of: the first
    sequence whose length differs from the first one's at the same depth."""
    sizes, seq = [], data
    while isinstance(seq, list | tuple):
        sizes.append(len(seq))
        if not seq:
            break
        seq = seq[0]

    def walk(seq, d):
        for item in seq:
            if d + 1 == len(sizes) and isinstance(item, list | tuple):
                raise TypeError(f"expected a number at dim {d}, got {type(item).__name__} {item!r}")
            if d + 1 < len(sizes):
                if not isinstance(item, list | tuple | np.ndarray):
                    raise TypeError(
                        f"expected a sequence of length {sizes[d + 1]} at dim {d + 1}, got "
                        f"{type(item).__name__} {item!r}"
                    )
                if len(item) != sizes[d + 1]:
                    raise ValueError(
                        f"expected sequence of length {sizes[d + 1]} at dim {d + 1} "
                        f"(got {len(item)})"
                    )
                walk(item, d + 1)

    walk(data, 0)


_PLAIN = {bool, int, float, complex, list, tuple}
_NUMBERS = {bool, int, float, complex}


def _typed_items_dtype(data) -> np.dtype | None:
    """The dtype PyTorch infers for a (nested) sequence holding NumPy scalars, arrays or
    tensors, whose own dtypes count (``tensor([np.float64(1.0)])`` is float64,
    ``tensor([np.int32(1)])`` int32), promoted with Python numbers' (float: the default
    dtype, int: int64); None when it holds only Python numbers."""
    found: list = []

    def walk(seq) -> None:
        kinds = set(map(type, seq))
        if kinds <= _NUMBERS:
            found.extend(kinds)
            return
        for d in seq:
            if isinstance(d, list | tuple):
                walk(d)
            elif isinstance(d, Tensor):
                found.append(d._array.dtype)
            elif isinstance(d, np.ndarray | np.generic):
                found.append(d.dtype)
            else:
                found.append(type(d))

    walk(data)
    if all(f in _PLAIN for f in found) or any(
        f.kind not in "biufc" if isinstance(f, np.dtype) else f not in _PLAIN for f in found
    ):
        return None  # Python numbers only, or something np.asarray must judge
    py = {bool: np.dtype(bool), int: np.dtype(np.int64), float: _dtypes.default_np()}
    py[complex] = np.result_type(_dtypes.default_np(), np.complex64)
    out = None
    for f in found:
        out = _dtypes.promote(out, py.get(f, f) if not isinstance(f, np.dtype) else f)
    return out


def _legacy_array(args: tuple, dtype) -> np.ndarray:
    """The array of PyTorch's legacy constructors (``Tensor(2, 3)``, ``FloatTensor([1, 2])``).

    All-int arguments (or one ``Size``) are a shape, filled with zeros (PyTorch leaves the
    memory uninitialised); one sequence or array is data, converted to ``dtype``; a Tensor
    keeps its own array; no argument gives an empty 1-d tensor.
    """
    dt = _dtypes.to_dtype(dtype)
    if not args:
        return np.empty((0,), dt)
    if len(args) == 1 and isinstance(args[0], Tensor):
        return args[0]._array
    if len(args) == 1 and isinstance(args[0], Size):
        args = tuple(args[0])
    if all(isinstance(a, int | np.integer) and not isinstance(a, bool) for a in args):
        if any(a < 0 for a in args):
            raise RuntimeError(f"Trying to create tensor with negative dimension: {list(args)}")
        return np.zeros(tuple(int(a) for a in args), dt)
    if len(args) != 1:
        raise TypeError(
            f"Tensor(): expected sizes (ints) or one sequence of data, got {len(args)} arguments"
        )
    data = args[0]
    if isinstance(data, float | bool | complex) or (
        isinstance(data, np.generic) and not isinstance(data, np.integer)
    ):
        raise TypeError(
            f"Tensor(): new(): data must be a sequence (got {type(data).__name__}); "
            "use gradfit.tensor(x) for a 0-d tensor"
        )
    return np.array(_to_array(data), dtype=dt)


def _named(out: Tensor, name: str) -> Tensor:
    """Give ``out``'s node PyTorch's name when the op it shares with other methods would be
    named otherwise (``unsqueeze`` is a ``Reshape``; see ``autograd/_torch_names``)."""
    node = out.grad_fn
    if node is not None:
        node.torch_name = name
    return out


def _raw(x):
    """A Tensor operand's array, or the Python value as given."""
    return x._array if isinstance(x, Tensor) else x


def _dims(dim, ndim: int):
    """Normalise a ``dim`` argument (int, tuple, list or None) to what NumPy takes."""
    if dim is None:
        return None
    if isinstance(dim, int):
        if not -max(ndim, 1) <= dim < max(ndim, 1):
            raise IndexError(
                f"Dimension out of range (expected to be in range of [{-max(ndim, 1)}, "
                f"{max(ndim, 1) - 1}], but got {dim})"
            )
        return dim % ndim if ndim else None
    return tuple(_dims(d, ndim) for d in dim)


def _shape_args(shape) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], tuple | list):
        return tuple(shape[0])
    return tuple(shape)


def _checked_size(shape: tuple, fn: str) -> tuple:  # fn: the factory, for the message
    """A factory's size as ints, with PyTorch's errors: TypeError for a size that is not
    an int, RuntimeError for a negative one."""
    for i, n in enumerate(shape):
        if not isinstance(n, int | np.integer) or isinstance(n, bool):
            kind = type(n).__name__
            raise TypeError(
                f"{fn}(): argument 'size' (position 1) must be tuple of ints, not {kind}"
                if len(shape) == 1
                else f"{fn}(): argument 'size' failed to unpack the object at pos {i + 1} with "
                f'error "type must be tuple of ints,but got {kind}"'
            )
    if any(n < 0 for n in shape):
        if fn == "zeros":  # PyTorch checks zeros' size itself, with its own words
            raise RuntimeError("zeros: Dimension size must be non-negative.")
        raise RuntimeError(
            f"Trying to create tensor with negative dimension {next(n for n in shape if n < 0)}: "
            f"{[int(m) for m in shape]}"
        )
    return tuple(int(n) for n in shape)


class Tensor:
    """An n-dimensional array with reverse-mode autodiff, PyTorch's API subset."""

    __slots__ = (
        "_array",
        "_grad",
        "grad_fn",
        "_requires_grad",
        "_version",
        "_hooks",
        "_retains_grad",
        "__weakref__",
        "__dict__",
    )
    __array_priority__ = 1000  # ndarray + Tensor defers to Tensor.__radd__

    def __init__(self, *args, requires_grad: bool = False, dtype=None):
        if type(self) is Tensor:
            # ``Tensor(...)`` called as a constructor is PyTorch's legacy one: sizes
            # (``Tensor(2, 3)``) or data, always of the default float type (or ``dtype``),
            # whatever the data's own type; a Tensor argument is kept as it is.
            arr = _legacy_array(args, dtype or _dtypes.default_np())
        else:  # Parameter, Buffer: ``Subclass(data)`` keeps the data's type
            data = args[0] if args else None
            arr = _to_array([] if data is None else data, dtype)
        if _meta.DEFAULT_META[0] and not (args and isinstance(args[0], Tensor)):
            arr = _meta.to_meta(arr)  # built inside a meta block (a module on meta)
        self._array = arr
        self._grad = None
        self.grad_fn = None
        self._requires_grad = False
        self._version = 0
        self._hooks = None
        if requires_grad:
            self.requires_grad_(True)

    @staticmethod
    def _make(arr, node) -> Tensor:
        """Fast internal constructor: wrap ``arr`` (no copy) as the output of ``node``."""
        t = object.__new__(Tensor)
        t._array = arr if type(arr) is np.ndarray else _other_output(t, arr)
        t._grad = None
        t.grad_fn = node
        t._requires_grad = node is not None
        t._version = 0
        t._hooks = None
        return t

    # ------------------------------------------------------------------ attributes
    def _set_grad(self, value) -> None:
        # PyTorch refuses a gradient the optimizer would misapply (broadcast or cast).
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(
                    "assigned grad expected to be a Tensor or None but got grad of type "
                    f"{type(value).__name__}"
                )
            if value._array.shape != self._array.shape:
                raise RuntimeError(
                    f"attempting to assign a gradient of size '{list(value._array.shape)}' "
                    f"to a tensor of size '{list(self._array.shape)}'. Please ensure that "
                    "the gradient and the tensor are the same size"
                )
            if value._array.dtype != self._array.dtype:
                raise RuntimeError(
                    "attempting to assign a gradient with dtype "
                    f"'{_typenames.C_NAMES.get(value._array.dtype, value._array.dtype)}' to a "
                    f"tensor with grad_dtype '{_typenames.scalar_type(self._array.dtype)}'. The "
                    "gradient must match the tensor's grad_dtype (defaults to the tensor's "
                    "dtype)."
                )
        self._grad = value

    grad = property(
        _attrgetter("_grad"),
        _set_grad,
        doc="The gradient accumulated by ``backward()`` (None until then); assigned "
        "gradients must have this tensor's size and dtype.",
    )

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and self._array.dtype.kind not in "fc":
            raise RuntimeError(
                f"only Tensors of floating point dtype can require gradients, got {self.dtype}"
            )
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use a "
                "computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach()."
            )
        self._requires_grad = bool(requires_grad)
        return self

    @property
    def data(self) -> Tensor:
        """A Tensor sharing this one's memory, outside the graph (PyTorch's ``.data``)."""
        return Tensor._make(self._array, None)

    @data.setter
    def data(self, value) -> None:
        self._array = value._array if isinstance(value, Tensor) else np.asarray(value)

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def shape(self) -> Size:
        return Size(self._array.shape)

    def size(self, dim: int | None = None):
        if dim is None:
            return Size(self._array.shape)
        if not self.ndim:
            raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
        return self._array.shape[_dims(dim, self.ndim)]

    @property
    def dtype(self) -> _dtypes.dtype:
        # The public singleton (prints gradfit.float32); the core reads _array.dtype.
        d = self._array.dtype
        return _DTYPE_OF.get(d) or _dtypes.from_np(d)

    @property
    def ndim(self) -> int:
        return self._array.ndim

    def dim(self) -> int:
        return self._array.ndim

    ndimension = dim

    def numel(self) -> int:
        return self._array.size

    nelement = numel

    def element_size(self) -> int:
        return self._array.itemsize

    @property
    def device(self) -> device:
        return _META if type(self._array) is _MetaArray else _CPU

    @property
    def is_meta(self) -> bool:
        return type(self._array) is _MetaArray

    @property
    def layout(self):
        """``gradfit.strided``: a dense tensor (the sparse subclass says ``sparse_coo``)."""
        return _layout.strided

    @property
    def is_cuda(self) -> bool:
        return False

    def is_floating_point(self) -> bool:
        return self._array.dtype.kind == "f"

    def is_contiguous(self, memory_format=_layout.contiguous_format) -> bool:
        return _layout.is_in_format(self._array, memory_format)

    def stride(self, dim: int | None = None):
        strides = tuple(s // self._array.itemsize for s in self._array.strides)
        return strides if dim is None else strides[dim]

    @property
    def T(self) -> Tensor:  # noqa: N802 - PyTorch's name
        return self.permute(*reversed(range(self.ndim)))

    @property
    def mT(self) -> Tensor:  # noqa: N802 - PyTorch's name
        return self.transpose(-2, -1)

    # ------------------------------------------------------------------ conversion
    def item(self):
        if self._array.size != 1:
            raise RuntimeError(
                f"a Tensor with {self._array.size} elements cannot be converted to Scalar"
            )
        return self._array.item()

    def numpy(self, *, force: bool = False) -> np.ndarray:
        # ``force``: PyTorch's way to read a tensor that requires grad (a detached view)
        if self._requires_grad and not force:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                "instead."
            )
        if type(self._array) is _MetaArray:
            raise TypeError(
                "can't convert meta device type tensor to numpy. Use Tensor.cpu() to copy the "
                "tensor to host memory first."
            )
        # a new array object on the same memory each call, as PyTorch's
        return self._array.view()

    def tolist(self):
        return self._array.tolist()

    def __array__(self, dtype=None, copy=None):
        # NumPy reads a tensor through ``numpy()``, as in PyTorch: one that requires grad
        # (``np.percentile(w.abs(), 40)``, ``plt.plot(loss)``) is refused.
        a = self.numpy() if self._requires_grad else self._array
        return a if dtype is None else a.astype(dtype)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self._array.dtype.kind not in "iu" or self._array.size != 1:
            raise TypeError("only integer tensors of a single element can be used as an index")
        return int(self._array.item())

    def __bool__(self) -> bool:
        if self._array.size != 1:
            raise RuntimeError(
                f"Boolean value of Tensor with {self._array.size} values is ambiguous"
            )
        return bool(self._array.item())

    def __len__(self) -> int:
        if self._array.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._array.shape[0]

    def __iter__(self):
        if self._array.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._array.shape[0]))

    def __format__(self, spec: str) -> str:
        # PyTorch formats a plain 0-d tensor as its number; anything else only without a spec.
        if self._array.ndim == 0 and type(self) is Tensor and type(self._array) is not _MetaArray:
            return format(self._array.item(), spec)
        if spec:
            raise TypeError("unsupported format string passed to Tensor.__format__")
        return str(self)

    def __repr__(self) -> str:
        node = self.grad_fn
        tangent = None
        if _fw_level[0]:  # inside a forward AD level a dual tensor prints its tangent
            from gradfit.autograd.forward_ad import tangent_for_repr

            tangent = tangent_for_repr(self)
        # printed as PyTorch prints a C++ node's name: CopySlices, not torch::autograd::...
        name = None if node is None else node.name().rpartition("::")[2]
        return tensor_repr(self._array, name, self._requires_grad, tangent)

    __hash__ = object.__hash__

    # ------------------------------------------------------------------ dtype and device
    def to(self, *args, memory_format=_layout.preserve_format, **kwargs) -> Tensor:
        """``to(dtype)``, ``to(device)``, ``to(other)``, ``to(device, dtype)``; CPU only.
        A ``memory_format`` other than ``preserve_format`` lays the result out in it."""
        dtype, meta = parse_to(args, kwargs)
        out = self
        if meta is not None and meta is not (type(self._array) is _MetaArray):
            if not meta:
                raise NotImplementedError(_meta.NO_DATA)
            out = Tensor._make(_meta.to_meta(self._array), None)
        if dtype is not None:
            dtype = _dtypes.to_dtype(dtype)
            if dtype != self._array.dtype:
                out = movement.Cast.apply(self, dtype=dtype)
        if memory_format is not _layout.preserve_format:
            out = out.contiguous(memory_format)
        return out

    def type(self, dtype=None):
        """``type()``: PyTorch's type string (``'torch.FloatTensor'``); ``type(t)``: a cast
        to a dtype, a legacy type (``gradfit.DoubleTensor``) or its name."""
        if dtype is None:
            return _typenames.type_string(self.dtype)
        return self.to(_typenames.target_dtype(dtype))

    def float(self) -> Tensor:
        return self.to(np.float32)

    def double(self) -> Tensor:
        return self.to(np.float64)

    def half(self) -> Tensor:
        return self.to(np.float16)

    def long(self) -> Tensor:
        return self.to(np.int64)

    def int(self) -> Tensor:
        return self.to(np.int32)

    def bool(self) -> Tensor:
        return self.to(np.bool_)

    def cpu(self) -> Tensor:
        if type(self._array) is _MetaArray:
            raise NotImplementedError(_meta.NO_DATA)
        return self

    def cuda(self, *args, **kwargs):
        raise _no_device_error("cuda")

    # ------------------------------------------------------------------ autograd
    def backward(
        self,
        gradient=None,
        retain_graph: bool | None = None,
        create_graph: bool = False,
        inputs=None,
    ) -> None:
        """Backpropagate from this tensor, accumulating into the leaves' ``.grad``.

        ``create_graph=True`` records the backward pass (``.grad`` gets a ``grad_fn``) so
        it can be differentiated again; ``retain_graph`` then defaults to True."""
        if create_graph or inputs is not None:
            engine.backward(self, gradient, retain_graph, create_graph, inputs)
            return
        if not self._requires_grad:
            raise RuntimeError(
                "element 0 of tensors does not require grad and does not have a grad_fn"
            )
        if gradient is None:
            if self._array.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if self._array.dtype.kind == "c":
                engine.backward(self, None)  # PyTorch's error for a complex output
            g = _ones(self._array)
        else:
            g = _to_array(gradient).astype(self._array.dtype, copy=False)
            if g.shape != self._array.shape:
                raise engine.shape_mismatch(0, g.shape, self._array.shape)
        engine.run_backward([self], [g], bool(retain_graph))

    def detach(self) -> Tensor:
        return Tensor._make(self._array, None)

    def detach_(self) -> Tensor:
        base = self.__dict__.get("_view_base")
        if base is not None and np.may_share_memory(self._array, base._array):
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self.grad_fn = None
        self._requires_grad = False
        return self

    def register_hook(self, hook) -> RemovableHandle:
        """Call ``hook(grad)`` when this tensor's gradient is computed; it may return a
        replacement gradient."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is None:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        else:
            hooks = self.grad_fn.__dict__.setdefault("hooks", [])
        hooks.append(hook)
        return RemovableHandle(hooks, hook)

    def retain_grad(self) -> None:
        """Keep ``.grad`` on a non-leaf tensor after backward."""
        if self.grad_fn is None:
            return
        ref = weakref.ref(self)

        def _store(grad):
            t = ref()
            if t is not None:
                g = grad._array.copy()
                if t._grad is None:
                    t._grad = Tensor._make(g, None)
                else:
                    t._grad._array = t._grad._array + g

        self.register_hook(_store)

    # ------------------------------------------------------------------ in-place
    # Outside a graph (no tensor involved requires grad, or grad mode off) an in-place
    # method writes into the tensor's memory: optimizers and ``p.data.add_`` rely on this
    # path, so its test is two attribute reads. Inside a graph it goes through
    # ``_inplace_op``, which records the out-of-place op, as PyTorch's in-place ops do.
    def _check_inplace(self) -> None:
        if _enabled[0] and self._requires_grad and self.grad_fn is None:
            raise RuntimeError(
                "a leaf Variable that requires grad is being used in an in-place operation."
            )

    def _inplace(self, values, name: str = "") -> Tensor:
        # ``name``: PyTorch's node for the method (``ZeroBackward0`` for zero_, ...)
        if (
            _fw_on[0]
            or _enabled[0]
            and (self._requires_grad or (isinstance(values, Tensor) and values._requires_grad))
        ):
            if isinstance(values, Tensor) and values._array.dtype != self._array.dtype:
                values = values.to(self._array.dtype)
            out = self._inplace_op(lambda t: _overwrite.Overwrite.apply(t, values), values)
            return named(out, name) if name else out
        values = values._array if isinstance(values, Tensor) else values
        np.copyto(self._array, values, casting="unsafe")
        _count_edit(self)
        return self

    def zero_(self) -> Tensor:
        return self._inplace(0, "ZeroBackward0")

    def fill_(self, value) -> Tensor:
        if isinstance(value, Tensor):
            return self._inplace(value, "FillBackward3")
        return self._inplace(_dtypes.fill_number(value, self._array.dtype), "FillBackward2")

    def copy_(self, src, non_blocking: bool = False) -> Tensor:
        src_arr = src._array if isinstance(src, Tensor) else np.asarray(src)
        try:
            np.broadcast_to(src_arr, self._array.shape)
        except ValueError:
            raise RuntimeError(
                f"copy_: source of shape {src_arr.shape} cannot be broadcast to {self._array.shape}"
            ) from None
        return self._inplace(
            src if isinstance(src, Tensor) else src_arr, "torch::autograd::CopyBackwards"
        )

    def add_(self, other, alpha=1) -> Tensor:
        if (
            _fw_on[0]
            or self._array.dtype.kind != "f"
            or _enabled[0]
            and (self._requires_grad or isinstance(other, Tensor) and other._requires_grad)
        ):
            return self._inplace_op(lambda t: t.add(other, alpha=alpha), other, check_cast=True)
        o = other._array if isinstance(other, Tensor) else other
        if alpha == 1:
            np.add(self._array, o, out=self._array, casting="unsafe")
        else:
            np.add(self._array, np.multiply(o, alpha), out=self._array, casting="unsafe")
        _count_edit(self)
        return self

    def sub_(self, other, alpha=1) -> Tensor:
        if _fw_on[0] or isinstance(other, Tensor) and other._requires_grad and _enabled[0]:
            return self._inplace_op(lambda t: t.sub(other, alpha=alpha), other, check_cast=True)
        o = other._array if isinstance(other, Tensor) else other
        return self.add_(np.negative(o) if alpha == 1 else np.multiply(o, -alpha))

    def mul_(self, other) -> Tensor:
        if (
            _fw_on[0]
            or self._array.dtype.kind != "f"
            or _enabled[0]
            and (self._requires_grad or isinstance(other, Tensor) and other._requires_grad)
        ):
            return self._inplace_op(lambda t: t.mul(other), other, check_cast=True)
        o = other._array if isinstance(other, Tensor) else other
        np.multiply(self._array, o, out=self._array, casting="unsafe")
        _count_edit(self)
        return self

    def div_(self, other, *, rounding_mode=None) -> Tensor:
        if (
            _fw_on[0]
            or rounding_mode is not None
            or self._array.dtype.kind != "f"
            or _enabled[0]
            and (self._requires_grad or isinstance(other, Tensor) and other._requires_grad)
        ):
            return self._inplace_op(
                lambda t: t.div(other, rounding_mode=rounding_mode), other, check_cast=True
            )
        o = other._array if isinstance(other, Tensor) else other
        np.divide(self._array, o, out=self._array, casting="unsafe")
        _count_edit(self)
        return self

    def clamp_(self, min=None, max=None) -> Tensor:  # noqa: A002 - PyTorch's names
        if (
            _fw_on[0]
            or self._array.dtype.kind != "f"
            or _enabled[0]
            and (
                self._requires_grad
                or isinstance(min, Tensor)
                and min._requires_grad
                or isinstance(max, Tensor)
                and max._requires_grad
            )
        ):
            return self._inplace_op(lambda t: t.clamp(min, max), min, max, check_cast=True)
        if min is None and max is None:
            raise RuntimeError("clamp: at least one of 'min' or 'max' must not be None")
        lo = min._array if isinstance(min, Tensor) else min
        hi = max._array if isinstance(max, Tensor) else max
        np.clip(self._array, lo, hi, out=self._array)
        _count_edit(self)
        return self

    clip_ = clamp_

    # In-place random fills, drawn from the stream exactly as PyTorch's CPU kernels draw.
    def _random_fill(self, kind: str, args: tuple, generator) -> Tensor:
        a = self._array
        if type(a) is _MetaArray:
            return self  # no values to draw, and PyTorch's stream is left as it is
        args = tuple(x._array if isinstance(x, Tensor) else x for x in args)
        if a.flags.c_contiguous:
            return self._inplace(_rng.fill(kind, a.shape, a.dtype, args, generator), _FILLS[kind])
        # PyTorch fills a strided view in memory order (its iterator sorts the dimensions by
        # stride), and normal_ then takes its per-element path: draw in that order.
        order = sorted(range(a.ndim), key=lambda d: -abs(a.strides[d]))
        shape = tuple(a.shape[d] for d in order)
        args = tuple(
            np.broadcast_to(x, a.shape).transpose(order) if isinstance(x, np.ndarray) else x
            for x in args
        )
        values = _rng.fill(kind, shape, a.dtype, args, generator, contiguous=False)
        return self._inplace(values.transpose(np.argsort(order)), _FILLS[kind])

    def uniform_(self, a: float = 0.0, b: float = 1.0, *, generator=None) -> Tensor:
        return self._random_fill("uniform", (a, b), generator)

    def normal_(self, mean: float = 0.0, std: float = 1.0, *, generator=None) -> Tensor:
        return self._random_fill("normal", (mean, std), generator)

    def random_(self, from_: int = 0, to: int | None = None, *, generator=None) -> Tensor:
        return self._random_fill("random", (from_, to), generator)

    def bernoulli_(self, p=0.5, *, generator=None) -> Tensor:
        return self._random_fill("bernoulli", (p,), generator)

    def exponential_(self, lambd: float = 1.0, *, generator=None) -> Tensor:
        return self._random_fill("exponential", (lambd,), generator)

    def geometric_(self, p: float, *, generator=None) -> Tensor:
        return self._random_fill("geometric", (p,), generator)

    def cauchy_(self, median: float = 0.0, sigma: float = 1.0, *, generator=None) -> Tensor:
        return self._random_fill("cauchy", (median, sigma), generator)

    def log_normal_(self, mean: float = 1.0, std: float = 2.0, *, generator=None) -> Tensor:
        return self._random_fill("log_normal", (mean, std), generator)

    def bernoulli(self, p=None, *, generator=None) -> Tensor:
        return Tensor._make(_rng.bernoulli(self._array, p, generator), None)

    def multinomial(self, num_samples: int, replacement: bool = False, *, generator=None):
        return Tensor._make(
            _rng.multinomial(self._array, num_samples, replacement, generator), None
        )

    def _iop(self, op, other):
        # x += y: PyTorch's in-place add, inside a graph too (other names of the tensor
        # see the new values; ``_inplace_op`` records the op).
        if (
            _fw_on[0]
            or _enabled[0]
            and (self._requires_grad or (isinstance(other, Tensor) and other._requires_grad))
        ):
            return self._inplace_op(lambda t: op(t, other), other, check_cast=True)
        res = op(self.detach(), other)._array
        if res.shape != self._array.shape:
            raise RuntimeError(
                f"output with shape {self._array.shape} doesn't match the broadcast shape "
                f"{res.shape}"
            )
        if self._array.dtype.kind != "f":
            _check_cast(res.dtype, self._array.dtype)
        np.copyto(self._array, res, casting="unsafe")
        _count_edit(self)
        return self

    def __iadd__(self, other):
        return self._iop(Tensor.__add__, other)

    def __isub__(self, other):
        return self._iop(Tensor.__sub__, other)

    def __imul__(self, other):
        return self._iop(Tensor.__mul__, other)

    def __itruediv__(self, other):
        return self._iop(Tensor.__truediv__, other)

    def __setitem__(self, index, value) -> None:
        """``x[index] = value``, recorded in the graph when ``value`` or ``x`` needs a
        gradient (the overwritten entries of ``x`` then get none)."""
        idx = _index_arrays(index)
        if isinstance(value, Tensor) and value._array.dtype != self._array.dtype:
            value = value.to(self._array.dtype)
        if (
            _fw_on[0]
            or _enabled[0]
            and (self._requires_grad or (isinstance(value, Tensor) and value._requires_grad))
        ):
            self._inplace_op(
                lambda t: indexing.IndexPut.apply(t, value, index=idx), value, region=idx
            )
            return
        self._array[idx] = value._array if isinstance(value, Tensor) else value
        _count_edit(self)

    def _note_view_of(self, src: Tensor) -> None:
        """``self`` was made from ``src`` by a view op (``ViewOp``): if they share memory,
        note ``self`` among the views of ``src``'s base (weak references), so that an
        in-place op inside a graph on either updates the other's gradient history too
        (``_refresh_views``; PyTorch's CopySlices) instead of leaving it stale."""
        if np.may_share_memory(self._array, src._array):
            root = src.__dict__.get("_view_base")
            if root is None:
                root = src
            self._view_base = root
            self._version = root._version  # one counter for a base and its views
            views = root.__dict__.get("_views")
            if views is None:
                views = root._views = weakref.WeakSet()
            views.add(self)

    def _inplace_op(
        self, fn, *others, check_cast: bool = False, view_op: bool = False, region=None
    ):
        """Make this tensor hold ``fn(self)`` (an out-of-place op), as PyTorch's in-place
        ops do. Outside a graph the values are copied into this tensor's memory (views
        see them). Inside one they are copied there too (so ``.detach()`` aliases see
        them, as in PyTorch), and the tensor becomes the op's output; the op reads a copy
        that keeps the tensor's previous node. Only code that runs later sees the new
        node; ops that saved the old values see the version bump and refuse.

        check_cast: PyTorch's rule that an in-place result must be castable to the
            tensor's dtype (no float into an int tensor); fills and copies cast freely.
        view_op: ``fn`` returns a view of the same values with another shape
            (``unsqueeze_``, ``t_``): the tensor takes that view.
        region: an index of the entries ``fn`` may change (None: all of them); views of
            this tensor outside it keep their history."""
        if _fw_on[0]:  # a forward AD level: the tangent is edited too (forward_ad._inplace)
            from gradfit.autograd.forward_ad import _inplace

            return _inplace(
                self,
                fn,
                others,
                lambda f: self._inplace_op_primal(f, others, check_cast, view_op, region),
            )
        return self._inplace_op_primal(fn, others, check_cast, view_op, region)

    def _inplace_op_primal(self, fn, others, check_cast, view_op, region):
        if not _enabled[0] or not (
            self._requires_grad or any(isinstance(o, Tensor) and o._requires_grad for o in others)
        ):
            res = fn(Tensor._make(self._array, None))._array
            if view_op:
                self._array = res
                _count_edit(self)
                return self
            if check_cast:
                _check_cast(res.dtype, self._array.dtype)
            if res.shape != self._array.shape:
                raise RuntimeError(
                    f"output with shape {self.shape} doesn't match the broadcast shape {res.shape}"
                )
            np.copyto(self._array, res, casting="unsafe")
            _count_edit(self)
            return self
        if self.grad_fn is None and self._requires_grad:
            self._check_inplace()  # a leaf that requires grad: PyTorch's error
        number_nodes()  # the engine orders this edit against the nodes around it
        if not view_op:
            base = self.__dict__.get("_view_base")
            if base is not None and np.may_share_memory(self._array, base._array):
                return self._inplace_on_view(base, fn, check_cast)
            self._check_not_aliased()
        old = Tensor._make(self._array if view_op else self._array.copy(), self.grad_fn)
        old._requires_grad = self._requires_grad
        # PyTorch's tensors before and after the edit share one version counter: the
        # earlier node (exp, sigmoid: it saved its output) sees the edit through ``old``.
        old._version = self._version + 1
        out = fn(old)
        if view_op:
            self._array = out._array
        else:
            if check_cast:
                _check_cast(out._array.dtype, self._array.dtype)
            if out._array.shape != self._array.shape:
                raise RuntimeError(
                    f"output with shape {self.shape} doesn't match the broadcast shape "
                    f"{out._array.shape}"
                )
            if self._array.flags.writeable:
                np.copyto(self._array, out._array, casting="unsafe")
            else:  # read-only memory (a NumPy constant): nothing else can see an edit
                self._array = out._array.astype(self._array.dtype, copy=False)
        node = out.grad_fn
        self.grad_fn, self._requires_grad = node, out._requires_grad
        # The bump is for the nodes that saved this tensor's earlier values; the new node
        # (whose output this tensor now is) expects this version, and a node that reads
        # its output refuses a later edit, as PyTorch's exp_() then mul_() does.
        _count_edit(self)
        if node is not None:
            node.output_version = self._version
            if node is not old.grad_fn:
                # Nodes recorded before this edit consumed the earlier tensor: the engine
                # follows ``replaced`` back to it for them (``engine.as_consumed``).
                node.replaced = old
        if not view_op and "_views" in self.__dict__:
            _refresh_views(self, region)
        return self

    def __getstate__(self):
        # The view bookkeeping (``_view_base``, ``_views``: weak references) is about
        # memory shared in this process; a pickled or copied tensor owns its values.
        state = object.__getstate__(self)
        d = state[0] if type(state) is tuple else None
        if d and ("_views" in d or "_view_base" in d or "_fw_grad" in d):
            # (a forward AD tangent belongs to a level of this process: not kept either)
            d = {k: v for k, v in d.items() if k not in ("_views", "_view_base", "_fw_grad")}
            state = (d or None, state[1])
        return state

    def _inplace_on_view(self, base, fn, check_cast: bool) -> Tensor:
        """An in-place op inside a graph on a view of ``base``: PyTorch's CopySlices.
        The base becomes index_put(base before, the view's positions, the new values)
        (its memory, which the view shares, gets the values), and every live view of
        the base, this one included, is re-read from the new base in the graph."""
        if base._requires_grad and base.grad_fn is None:
            raise RuntimeError(
                "a view of a leaf Variable that requires grad is being used in an in-place "
                "operation."
            )
        name = getattr(self.grad_fn, "torch_name", "")
        if name in ("SplitBackward0", "UnbindBackward0"):
            raise RuntimeError(
                f"Output of {name[: -len('Backward0')]} is a view and is being modified "
                "inplace. This view is the output of a function that returns multiple views. "
                "Such functions do not allow the output views to be modified inplace. You "
                "should replace the inplace operation by an out-of-place one."
            )
        self._check_not_aliased(views_ok=True)
        pos = _positions(base._array, self._array)
        old = Tensor._make(self._array.copy(), self.grad_fn)
        old._requires_grad = self._requires_grad
        old._version = self._version + 1
        out = fn(old)
        if check_cast:
            _check_cast(out._array.dtype, self._array.dtype)
        if out._array.shape != self._array.shape:
            raise RuntimeError(
                f"output with shape {self.shape} doesn't match the broadcast shape "
                f"{out._array.shape}"
            )
        if out._array.dtype != self._array.dtype:
            out = out.to(self._array.dtype)
        index = np.unravel_index(pos.reshape(-1), base._array.shape)
        values = out.reshape(-1)
        base._inplace_op(
            lambda b: indexing.IndexPut.apply(b, values, index=index), values, region=index
        )
        if base.grad_fn is not None:  # PyTorch's node for a base edited through a view
            base.grad_fn.torch_name = "torch::autograd::CopySlices"
        return self

    def _check_not_aliased(self, views_ok: bool = False) -> None:
        """Refuse an in-place op inside a graph on a tensor whose memory another tensor
        in use shares (a view, or a tensor that has views): PyTorch rewrites the other
        tensors' gradient history too (CopySlices), which gradfit does not, so it raises
        rather than give those tensors wrong gradients."""
        a = self._array
        if a.ndim and 0 in a.strides and a.size > 1:
            raise RuntimeError(
                "unsupported operation: more than one element of the written-to tensor refers "
                "to a single memory location. Please clone() the tensor before performing the "
                "operation."
            )
        if views_ok:
            return
        base = None
        if self.grad_fn is not None:
            # An op whose output shares its input's memory (a view made some other way).
            # (``replaced``: this tensor before an in-place view op, ``unsqueeze_``.)
            prev = self.grad_fn.replaced
            for t in getattr(self.grad_fn, "inputs", ()):
                if (
                    isinstance(t, Tensor)
                    and t is not self
                    and t is not prev
                    and np.may_share_memory(a, t._array)
                ):
                    base = t
                    break
        if base is not None:
            if base._requires_grad and base.grad_fn is None:
                raise RuntimeError(
                    "a view of a leaf Variable that requires grad is being used in an in-place "
                    "operation."
                )
            raise RuntimeError(
                f"in-place operation inside a graph on the output of {self.grad_fn.name()}, "
                "which shares its input's memory, is not supported by gradfit; use the "
                "out-of-place form, or clone() the tensor first"
            )

    def masked_fill_(self, mask, value) -> Tensor:
        return self._inplace_op(lambda t: _tops.masked_fill(t, mask, value), value)

    # ------------------------------------------------------------------ arithmetic
    def _coerce(self, other, int_scalar: str | None = "wrap"):
        """Operands in the dtype PyTorch computes in: two tensors by its promotion rules (a
        0-d tensor counts only when of a higher category); Python int/float operands stay
        weak scalars (NEP 50); an integer tensor with a float scalar becomes the default
        float dtype, as in PyTorch. A Python int with an integer tensor is cast to its dtype
        (``_dtypes.c_cast_int``: ``int_scalar`` "wrap" or "checked"; None leaves it, for a
        true division)."""
        if isinstance(other, Tensor):
            a, b = self._array, other._array
            if a.dtype is b.dtype or a.dtype == b.dtype:
                return self, other
            common = _dtypes.tensors_result(a, b)  # PyTorch's promotion, 0-d tensors weak
            return (
                self if a.dtype == common else self.to(common),
                other if b.dtype == common else other.to(common),
            )
        if isinstance(other, np.generic):
            # PyTorch takes a NumPy scalar (``np.sqrt(2 / n)`` is an ``np.float64``) as the
            # Python number it holds: a weak scalar that keeps a float32 tensor float32.
            other = other.item()
        if type(other) is int and int_scalar and self._array.dtype.kind in "iu":
            checked = int_scalar == "checked"
            return self, _dtypes.c_cast_int(other, self._array.dtype, checked=checked)
        if isinstance(other, float) and self._array.dtype.kind not in "fc":
            return self.to(_dtypes.default_np()), other
        if isinstance(other, complex) and self._array.dtype.kind != "c":
            # a float tensor becomes its own precision's complex, others the default's
            real = self._array.dtype if self._array.dtype.kind == "f" else _dtypes.default_np()
            return self.to(_complex_ops.complex_of(real)), other
        if isinstance(other, np.ndarray):
            return self, Tensor._make(other, None)
        return self, other

    # The binary operators go straight to the op when both operands are tensors of one
    # dtype: the usual case, where _coerce has nothing to do (W0 measures this path).
    def __add__(self, other):
        if isinstance(other, Tensor) and other._array.dtype is self._array.dtype:
            return elementwise.Add.apply(self, other)
        a, b = self._coerce(other)
        return elementwise.Add.apply(a, b)

    def __radd__(self, other):
        a, b = self._coerce(other)
        return elementwise.Add.apply(b, a)

    def __sub__(self, other):
        if isinstance(other, Tensor) and other._array.dtype is self._array.dtype:
            return elementwise.Sub.apply(self, other)
        a, b = self._coerce(other)
        return elementwise.Sub.apply(a, b)

    def __rsub__(self, other):
        a, b = self._coerce(other)
        return elementwise.Sub.apply(b, a)

    def __mul__(self, other):
        if isinstance(other, Tensor) and other._array.dtype is self._array.dtype:
            return elementwise.Mul.apply(self, other)
        a, b = self._coerce(other)
        return elementwise.Mul.apply(a, b)

    def __rmul__(self, other):
        a, b = self._coerce(other)
        return elementwise.Mul.apply(b, a)

    def __truediv__(self, other):
        a, b = self._coerce(other, None)
        if a._array.dtype.kind not in "fc" and (
            not isinstance(b, Tensor) or b._array.dtype.kind not in "fc"
        ):
            a = a.to(_dtypes.default_np())
            if isinstance(b, Tensor) and b._array.dtype.kind in "biu":  # int / int: float32
                b = b.to(a._array.dtype)
        return elementwise.Div.apply(a, b)

    def __rtruediv__(self, other):
        if not isinstance(other, Tensor) and self._array.dtype.kind in "fc":
            # PyTorch's Tensor.__rdiv__ is self.reciprocal() * other: its value and its
            # gradient round as that product does
            return self.reciprocal() * other
        a, b = self._coerce(other, None)
        if a._array.dtype.kind not in "fc":
            a = a.to(_dtypes.default_np())
        return elementwise.Div.apply(b, a)

    def __neg__(self):
        return elementwise.Neg.apply(self)

    def __pos__(self):
        return self

    def __pow__(self, exponent):
        a, b = self._coerce(exponent, "checked")
        return elementwise.Pow.apply(a, b)

    def __rpow__(self, base):
        a, b = self._coerce(base)
        if not isinstance(b, Tensor):
            b = Tensor._make(np.asarray(b, dtype=a._array.dtype), None)
        return elementwise.Pow.apply(b, a)

    def __matmul__(self, other):
        return _matmul(self, other)

    def __rmatmul__(self, other):
        return _matmul(Tensor(other) if not isinstance(other, Tensor) else other, self)

    def __abs__(self):
        return self.abs()

    def add(self, other, alpha=1):
        return self + (other * alpha if alpha != 1 else other)

    def sub(self, other, alpha=1):
        return self - (other * alpha if alpha != 1 else other)

    def mul(self, other):
        return self * other

    def div(self, other, *, rounding_mode=None):
        if rounding_mode is None:
            return self / other
        if rounding_mode not in ("floor", "trunc"):
            raise RuntimeError(
                f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                f"'{rounding_mode}'"
            )
        a, b = self._coerce(other)
        return _overwrite.Step.apply(a, b, fn="div_" + rounding_mode)

    multiply, divide, subtract, true_divide = mul, div, sub, div

    def neg(self):
        return -self

    negative = neg

    def pow(self, exponent):
        return self**exponent

    def square(self):
        return named(elementwise.Mul.apply(self, self), "PowBackward0")  # PyTorch: pow(x, 2)

    def matmul(self, other):
        return _matmul(self, other)

    def mm(self, other):
        if self.ndim != 2 or other.ndim != 2:
            raise RuntimeError(f"mm: expected 2-D tensors, got {self.ndim}-D and {other.ndim}-D")
        return _matmul(self, other)

    def bmm(self, other):
        if self.ndim != 3 or other.ndim != 3:
            raise RuntimeError(f"bmm: expected 3-D tensors, got {self.ndim}-D and {other.ndim}-D")
        return _matmul(self, other)

    def dot(self, other):
        if self.ndim != 1 or other.ndim != 1:
            raise RuntimeError(f"dot: expected 1-D tensors, got {self.ndim}-D and {other.ndim}-D")
        return _matmul(self, other)

    # ---------------------------------------- binary ops and reductions (ops-binary)
    def _float_pair(self, other):
        """Both operands as tensors of one float dtype: an integer pair goes to the default
        float dtype, an integer operand takes the float one's (as PyTorch's float-valued
        binary functions: atan2, hypot, xlogy, logaddexp, ...)."""
        a, b = self._coerce(other)
        if not isinstance(b, Tensor):
            kind = a._array.dtype.kind
            dt = a._array.dtype if kind == "f" else _dtypes.default_np()
            return a.to(dt), Tensor._make(np.asarray(b, dtype=dt), None)
        da, db = a._array.dtype, b._array.dtype
        if da.kind == "f" and db.kind == "f":
            dt = np.result_type(da, db)
        elif da.kind == "f" or db.kind == "f":
            dt = da if da.kind == "f" else db
        else:
            dt = _dtypes.default_np()
        return a.to(dt), b.to(dt)

    def remainder(self, other):
        return _binary_more.Remainder.apply(*self._coerce(other))

    def __mod__(self, other):
        return self.remainder(other)

    def __rmod__(self, other):
        a, b = self._coerce(other)
        if not isinstance(b, Tensor):
            b = Tensor._make(np.asarray(b, dtype=a._array.dtype), None)
        return _binary_more.Remainder.apply(b, a)

    def fmod(self, other):
        return _binary_more.Fmod.apply(*self._coerce(other))

    def floor_divide(self, other):
        a, b = self._coerce(other)
        return _overwrite.FloorDivide.apply(a, b, fn="div_floor")

    def __floordiv__(self, other):
        return self.floor_divide(other)

    def __rfloordiv__(self, other):
        a, b = self._coerce(other)
        if not isinstance(b, Tensor):
            b = Tensor._make(np.asarray(b, dtype=a._array.dtype), None)
        return b.floor_divide(a)

    def atan2(self, other):
        return _binary_more.Atan2.apply(*self._float_pair(other))

    arctan2 = atan2

    def _no_integer_pair(self, name, other):
        # PyTorch has no integer kernel for these (hypot, logaddexp): no silent promotion.
        if self._array.dtype.kind != "f" and np.asarray(_raw(other)).dtype.kind != "f":
            raise NotImplementedError(f"{name}: expected a floating point tensor, got {self.dtype}")

    def hypot(self, other):
        self._no_integer_pair("hypot", other)
        return _binary_more.Hypot.apply(*self._float_pair(other))

    def xlogy(self, other):
        return _binary_more.Xlogy.apply(*self._float_pair(other))

    def logaddexp(self, other):
        self._no_integer_pair("logaddexp", other)
        return _binary_more.LogAddExp.apply(*self._float_pair(other))

    def logaddexp2(self, other):
        self._no_integer_pair("logaddexp2", other)
        return _binary_more.LogAddExp.apply(*self._float_pair(other), base2=True)

    def fmax(self, other):
        return _binary_more.FMax.apply(*self._coerce(other), which="max")

    def fmin(self, other):
        return _binary_more.FMax.apply(*self._coerce(other), which="min")

    def copysign(self, other):
        return _binary_more.Copysign.apply(*self._float_pair(other))

    def float_power(self, exponent):
        e = exponent.to(np.float64) if isinstance(exponent, Tensor) else exponent
        return self.to(np.float64) ** e

    def logical_and(self, other):
        return Tensor._make(np.logical_and(self._array, _raw(other)), None)

    def logical_or(self, other):
        return Tensor._make(np.logical_or(self._array, _raw(other)), None)

    def logical_xor(self, other):
        return Tensor._make(np.logical_xor(self._array, _raw(other)), None)

    def _bitwise(self, ufunc, other):
        if self._array.dtype.kind == "f" or np.asarray(_raw(other)).dtype.kind == "f":
            raise RuntimeError(
                f"{ufunc.__name__}: expected integer or bool tensors, got {self.dtype}"
            )
        return Tensor._make(np.asarray(ufunc(self._array, _raw(other))), None)

    def bitwise_and(self, other):
        return self._bitwise(np.bitwise_and, other)

    def bitwise_or(self, other):
        return self._bitwise(np.bitwise_or, other)

    def bitwise_xor(self, other):
        return self._bitwise(np.bitwise_xor, other)

    def bitwise_not(self):
        if self._array.dtype.kind == "f":
            raise RuntimeError(f"bitwise_not: expected an integer or bool tensor, got {self.dtype}")
        return ~self

    def __xor__(self, other):
        return self.bitwise_xor(other)

    def __rand__(self, other):
        return self & other

    def __ror__(self, other):
        return self | other

    def __rxor__(self, other):
        return self ^ other

    def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return Tensor._make(
            np.asarray(
                np.isclose(self._array, _raw(other), rtol=rtol, atol=atol, equal_nan=equal_nan)
            ),
            None,
        )

    def prod(self, dim=None, keepdim: bool = False, *, dtype=None):
        x = self if dtype is None else self.to(dtype)
        if x._array.dtype.kind in "biu" and dtype is None:
            x = x.to(np.int64)
        return _binary_more.Prod.apply(x, dim=_dims(dim, self.ndim), keepdim=keepdim)

    def nansum(self, dim=None, keepdim: bool = False, *, dtype=None):
        x = self.masked_fill(self.isnan(), 0) if self._array.dtype.kind == "f" else self
        return x.sum(dim, keepdim, dtype=dtype)

    def nanmean(self, dim=None, keepdim: bool = False, *, dtype=None):
        if self._array.dtype.kind != "f":
            raise RuntimeError(
                "nanmean(): expected input to have floating point or complex dtype but got "
                + _TORCH_SCALAR_NAMES[self._array.dtype]
            )
        count = self.isnan().logical_not().sum(dim, keepdim)
        return self.nansum(dim, keepdim, dtype=dtype) / count

    def count_nonzero(self, dim=None):
        return Tensor._make(
            np.asarray(np.count_nonzero(self._array, axis=_dims(dim, self.ndim)), dtype=np.int64),
            None,
        )

    def var_mean(
        self, dim=None, unbiased: bool | None = None, keepdim: bool = False, *, correction=None
    ):
        _floating_only(self, "var_mean")
        return self.var(dim, unbiased, keepdim, correction=correction), self.mean(dim, keepdim)

    def std_mean(
        self, dim=None, unbiased: bool | None = None, keepdim: bool = False, *, correction=None
    ):
        _floating_only(self, "std_mean")
        return self.std(dim, unbiased, keepdim, correction=correction), self.mean(dim, keepdim)

    def _cum_extreme(self, dim, which):
        d = _dims(dim, self.ndim) or 0
        x = self if self.ndim else self.reshape(1)
        _, idx = _binary_more.cum_extreme(x._array, d, which)
        values = _binary_more.CumExtreme.apply(x, dim=d, which=which, indices=idx)
        if not self.ndim:
            values, idx = values.reshape(()), idx.reshape(())
        return getattr(return_types, "cum" + which)(values, Tensor._make(idx, None))

    def cummax(self, dim):
        return self._cum_extreme(dim, "max")

    def cummin(self, dim):
        return self._cum_extreme(dim, "min")

    def logcumsumexp(self, dim):
        d = _dims(dim, self.ndim)
        if self.ndim == 0:
            return self * 1
        return _binary_more.LogCumSumExp.apply(self, dim=d)

    # ------------------------------------------------------------------ comparisons (no grad)
    def _cmp(self, ufunc, other, order=None):
        o = other._array if isinstance(other, Tensor) else other
        if order is not None and (self._array.dtype.kind == "c" or np.iscomplexobj(o)):
            raise _complex_order_error(order, self, o)
        return Tensor._make(ufunc(self._array, o), None)

    def __eq__(self, other):  # type: ignore[override]
        return self._cmp(np.equal, other)

    def __ne__(self, other):  # type: ignore[override]
        return self._cmp(np.not_equal, other)

    def __lt__(self, other):
        return self._cmp(np.less, other, "lt")

    def __le__(self, other):
        return self._cmp(np.less_equal, other, "le")

    def __gt__(self, other):
        return self._cmp(np.greater, other, "gt")

    def __ge__(self, other):
        return self._cmp(np.greater_equal, other, "ge")

    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__

    def __and__(self, other):
        return self._cmp(np.logical_and if self._array.dtype == np.bool_ else np.bitwise_and, other)

    def __or__(self, other):
        return self._cmp(np.logical_or if self._array.dtype == np.bool_ else np.bitwise_or, other)

    def __invert__(self):
        return Tensor._make(
            np.logical_not(self._array)
            if self._array.dtype == np.bool_
            else np.invert(self._array),
            None,
        )

    def logical_not(self):
        return Tensor._make(np.logical_not(self._array), None)

    def equal(self, other) -> bool:
        return self._array.shape == other.shape and bool(np.array_equal(self._array, other._array))

    def allclose(self, other, rtol=1e-5, atol=1e-8) -> bool:
        return bool(np.allclose(self._array, other._array, rtol=rtol, atol=atol))

    def isnan(self):
        return Tensor._make(np.isnan(self._array), None)

    def isinf(self):
        return Tensor._make(np.isinf(self._array), None)

    def isfinite(self):
        return Tensor._make(np.isfinite(self._array), None)

    def all(self, dim=None, keepdim: bool = False):
        out = np.all(self._array, axis=_dims(dim, self.ndim), keepdims=keepdim)
        return Tensor._make(np.asarray(out), None)

    def any(self, dim=None, keepdim: bool = False):
        out = np.any(self._array, axis=_dims(dim, self.ndim), keepdims=keepdim)
        return Tensor._make(np.asarray(out), None)

    def sign(self):
        return _overwrite.Step.apply(self, None, fn="sign")

    def floor(self):
        return _overwrite.Step.apply(self, None, fn="floor")

    def ceil(self):
        return _overwrite.Step.apply(self, None, fn="ceil")

    def round(self, *, decimals: int = 0):
        if decimals:
            return _overwrite.Step.apply(self, None, fn="round", decimals=decimals)
        return _overwrite.Step.apply(self, None, fn="round")

    # ------------------------------------------------------------------ elementwise functions
    def exp(self):
        return elementwise.Exp.apply(self._unary_float())

    def log(self):
        return elementwise.Log.apply(self._unary_float())

    def log1p(self):
        return elementwise.Log1p.apply(self._unary_float())

    def sqrt(self):
        return elementwise.Sqrt.apply(self._unary_float())

    def rsqrt(self):
        return named(elementwise.Rsqrt.apply(self._unary_float()), "RsqrtBackward0")

    def abs(self):
        return elementwise.Abs.apply(self)

    def sin(self):
        return elementwise.Sin.apply(self._unary_float())

    def cos(self):
        return elementwise.Cos.apply(self._unary_float())

    def tanh(self):
        return elementwise.Tanh.apply(self._unary_float())

    def sigmoid(self):
        return elementwise.Sigmoid.apply(self._unary_float())

    def relu(self):
        return elementwise.Relu.apply(self)

    # unary math (ops-unary): integer and bool inputs compute in the default float dtype
    def _unary_float(self):
        return self if self._array.dtype.kind in "fc" else self.to(_dtypes.default_np())

    def tan(self):
        return _emore.Tan.apply(self._unary_float())

    def sinh(self):
        return _emore.Sinh.apply(self._unary_float())

    def cosh(self):
        return _emore.Cosh.apply(self._unary_float())

    def asin(self):
        return _emore.Asin.apply(self._unary_float())

    def acos(self):
        return _emore.Acos.apply(self._unary_float())

    def atan(self):
        return _emore.Atan.apply(self._unary_float())

    def asinh(self):
        return _emore.Asinh.apply(self._unary_float())

    def acosh(self):
        return _emore.Acosh.apply(self._unary_float())

    def atanh(self):
        return _emore.Atanh.apply(self._unary_float())

    arcsin, arccos, arctan, arcsinh, arccosh, arctanh = asin, acos, atan, asinh, acosh, atanh

    def log2(self):
        return _emore.Log2.apply(self._unary_float())

    def log10(self):
        return _emore.Log10.apply(self._unary_float())

    def exp2(self):
        return _emore.Exp2.apply(self._unary_float())

    def erf(self):
        return _emore.Erf.apply(self._unary_float())

    def erfc(self):
        return _emore.Erfc.apply(self._unary_float())

    def erfinv(self):
        return _emore.Erfinv.apply(self._unary_float())

    def lgamma(self):
        return _emore.Lgamma.apply(self._unary_float())

    def digamma(self):
        return _emore.Polygamma.apply(self._unary_float(), n=0)

    def logit(self, eps=None):
        return _emore.Logit.apply(self._unary_float(), eps=eps)

    def sinc(self):
        return _emore.Sinc.apply(self._unary_float())

    def deg2rad(self):
        return _named(self._unary_float() * (np.pi / 180.0), "Deg2RadBackward0")

    def rad2deg(self):
        return _named(self._unary_float() * (180.0 / np.pi), "Rad2DegBackward0")

    def nan_to_num(self, nan=0.0, posinf=None, neginf=None):
        if self._array.dtype.kind not in "fc":
            return self.clone()
        return _emore.NanToNum.apply(self, nan=nan, posinf=posinf, neginf=neginf)

    def signbit(self):
        return Tensor._make(np.signbit(self._array), None)

    def isposinf(self):
        return Tensor._make(np.isposinf(self._array), None)

    def isneginf(self):
        return Tensor._make(np.isneginf(self._array), None)

    # end unary math (ops-unary)

    def clamp(self, min=None, max=None):  # noqa: A002 - PyTorch's names
        if min is None and max is None:
            raise RuntimeError("clamp: at least one of 'min' or 'max' must not be None")
        # The result has the dtype the tensor and both bounds promote to (an integer
        # tensor clamped by 1.5 is float32), and each bound is taken in that dtype.
        x = self
        for bound in (min, max):
            if bound is not None:
                x = x._coerce(bound)[0]
        # number bounds are checked as fills are, not wrapped as arithmetic's numbers
        min, max = (_dtypes.fill_number(v, x._array.dtype) for v in (min, max))
        if isinstance(min, Tensor) and min._array.dtype != x._array.dtype:
            min = min.to(x._array.dtype)
        if isinstance(max, Tensor) and max._array.dtype != x._array.dtype:
            max = max.to(x._array.dtype)
        out = elementwise.Clamp.apply(x, min=min, max=max)
        # tensor bounds are PyTorch's first overload
        if isinstance(min, Tensor) or isinstance(max, Tensor):
            return _named(out, "ClampBackward0")
        return out

    clip = clamp

    def maximum(self, other):
        return elementwise.Maximum.apply(*self._coerce(other))

    def minimum(self, other):
        return elementwise.Minimum.apply(*self._coerce(other))

    def masked_fill(self, mask, value):
        return _named(_tops.masked_fill(self, mask, value), "MaskedFillBackward0")

    # ------------------------------------------------------------------ reductions
    def sum(self, dim=None, keepdim: bool = False, dtype=None):
        x = self if dtype is None else self.to(dtype)
        if x._array.dtype.kind in "biu" and dtype is None:
            x = x.to(np.int64)
        return reduce.Sum.apply(x, dim=_dims(dim, self.ndim), keepdim=keepdim)

    def mean(self, dim=None, keepdim: bool = False, dtype=None):
        x = self if dtype is None else self.to(dtype)
        if x._array.dtype.kind not in "fc":
            raise RuntimeError(
                "mean(): could not infer output dtype. Input dtype must be either a floating "
                f"point or complex dtype. Got: {_TORCH_SCALAR_NAMES[x._array.dtype]}"
            )
        return reduce.Mean.apply(x, dim=_dims(dim, self.ndim), keepdim=keepdim)

    def var(
        self, dim=None, unbiased: bool | None = None, keepdim: bool = False, *, correction=None
    ):
        if correction is None:
            correction = 1 if unbiased is None or unbiased else 0
        _floating_only(self, "std and var")
        return reduce.Var.apply(
            self, dim=_dims(dim, self.ndim), correction=correction, keepdim=keepdim
        )

    def std(
        self, dim=None, unbiased: bool | None = None, keepdim: bool = False, *, correction=None
    ):
        if correction is None:
            correction = 1 if unbiased is None or unbiased else 0
        _floating_only(self, "std and var")
        out = reduce.Var.apply(
            self, dim=_dims(dim, self.ndim), correction=correction, keepdim=keepdim, take_sqrt=True
        )
        return _named(out, "StdBackward0")

    def _minmax(self, which: str, dim, keepdim: bool):
        if isinstance(dim, Tensor):
            return self.maximum(dim) if which == "max" else self.minimum(dim)
        if dim is None:
            out = reduce.AMax.apply(self, dim=None, keepdim=False, which=which)
            return _named(out, "MaxBackward1" if which == "max" else "MinBackward1")
        d = _dims(dim, self.ndim)
        arg = np.argmax if which == "max" else np.argmin
        idx = np.expand_dims(arg(self._array, axis=d), d) if self.ndim else np.asarray(0)
        values = reduce.TakeAlong.apply(self, indices=idx, dim=d, keepdim=keepdim)
        _named(values, "MaxBackward0" if which == "max" else "MinBackward0")
        indices = Tensor._make(idx if keepdim or not self.ndim else np.squeeze(idx, d), None)
        return getattr(return_types, which)(values, indices.long())

    def max(self, dim=None, keepdim: bool = False):
        """``max()`` (gradient split evenly among ties), ``max(dim)`` -> (values, indices),
        or ``max(other)`` = ``maximum``."""
        return self._minmax("max", dim, keepdim)

    def min(self, dim=None, keepdim: bool = False):
        return self._minmax("min", dim, keepdim)

    def amax(self, dim=(), keepdim: bool = False):
        dim = None if dim == () else dim
        return reduce.AMax.apply(self, dim=_dims(dim, self.ndim), keepdim=keepdim, which="max")

    def amin(self, dim=(), keepdim: bool = False):
        dim = None if dim == () else dim
        out = reduce.AMax.apply(self, dim=_dims(dim, self.ndim), keepdim=keepdim, which="min")
        return _named(out, "AminBackward0")

    def argmax(self, dim=None, keepdim: bool = False):
        return _argext(np.argmax, self, dim, keepdim)

    def argmin(self, dim=None, keepdim: bool = False):
        return _argext(np.argmin, self, dim, keepdim)

    def logsumexp(self, dim, keepdim: bool = False):
        return reduce.LogSumExp.apply(self, dim=_dims(dim, self.ndim), keepdim=keepdim)

    def softmax(self, dim, dtype=None):
        x = self if dtype is None else self.to(dtype)
        _softmax_kernel(x, "softmax", dim)
        return reduce.Softmax.apply(x, dim=_dims(dim, self.ndim))

    def log_softmax(self, dim, dtype=None):
        x = self if dtype is None else self.to(dtype)
        _softmax_kernel(x, "log_softmax", dim)
        return reduce.LogSoftmax.apply(x, dim=_dims(dim, self.ndim))

    def norm(self, p="fro", dim=None, keepdim: bool = False, dtype=None):
        return _tops.norm(self, p, dim, keepdim, dtype=dtype)

    # ------------------------------------------------------------------ movement
    def reshape(self, *shape):
        shape = _shape_args(shape)
        try:
            out_shape = _resolve_shape(self._array.size, shape)
        except ValueError as e:
            raise RuntimeError(
                f"shape '{list(shape)}' is invalid for input of size {self._array.size}"
            ) from e
        if out_shape == self._array.shape and not (self._requires_grad and _enabled[0]):
            return self  # no node to record: the same values and shape
        return movement.Reshape.apply(self, shape=out_shape)

    def view(self, *shape, dtype=None):
        """``reshape`` that must not copy: a tensor that is itself a view of another
        (``t()``, ``permute``, slicing) whose memory cannot be read in the new shape raises
        PyTorch's error instead of silently losing the aliasing. (A fresh result is always
        viewed: gradfit's arrays may be laid out differently from PyTorch's.)
        ``view(dtype)``: the same memory read as another dtype (:func:`_view_dtype`)."""
        if dtype is not None or (len(shape) == 1 and isinstance(shape[0], _dtypes.dtype)):
            return _view_dtype(self, shape[0] if dtype is None else dtype)
        out = self.reshape(*shape)
        if self.__dict__.get("_view_base") is not None and not _viewable(
            self._array, out._array.shape
        ):
            raise RuntimeError(
                "view size is not compatible with input tensor's size and stride (at least "
                "one dimension spans across two contiguous subspaces). Use .reshape(...) "
                "instead."
            )
        return out

    def view_as(self, other):
        return self.reshape(other.shape)

    reshape_as = view_as

    def flatten(self, start_dim: int = 0, end_dim: int = -1):
        s, e = _dims(start_dim, self.ndim), _dims(end_dim, self.ndim)
        if self.ndim == 0:
            return self.reshape(1)
        if s > e:
            raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
        shape = (
            self._array.shape[:s]
            + (int(np.prod(self._array.shape[s : e + 1])),)
            + self._array.shape[e + 1 :]
        )
        return self.reshape(shape)

    def squeeze(self, dim=None):
        if dim is None:
            shape = tuple(n for n in self._array.shape if n != 1)
        else:
            listed = dim if isinstance(dim, tuple | list) else (dim,)
            for d in listed:
                _dims(d, self.ndim)  # PyTorch's IndexError for a dim out of range
            dims = {d % max(self.ndim, 1) for d in listed}
            shape = tuple(n for i, n in enumerate(self._array.shape) if not (i in dims and n == 1))
        return _named(
            self.reshape(shape), "SqueezeBackward0" if dim is None else "SqueezeBackward1"
        )

    def unsqueeze(self, dim: int):
        nd = self.ndim + 1
        if not -nd <= dim < nd:
            raise IndexError(f"unsqueeze: dim {dim} out of range for a {self.ndim}-D tensor")
        d = dim % nd
        return _named(
            self.reshape(self._array.shape[:d] + (1,) + self._array.shape[d:]), "UnsqueezeBackward0"
        )

    def transpose(self, dim0: int, dim1: int):
        if self.ndim < 2 and dim0 in (0, -1) and dim1 in (0, -1):
            return self
        axes = list(range(self.ndim))
        d0, d1 = _dims(dim0, self.ndim), _dims(dim1, self.ndim)
        axes[d0], axes[d1] = axes[d1], axes[d0]
        return _named(movement.Permute.apply(self, dims=tuple(axes)), "TransposeBackward0")

    swapaxes = transpose

    def t(self):
        if self.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, got {self.ndim}")
        return _named(self.transpose(0, 1), "TBackward0") if self.ndim == 2 else self

    def permute(self, *dims):
        dims = _shape_args(dims)
        if sorted(d % max(self.ndim, 1) for d in dims) != list(range(self.ndim)):
            raise RuntimeError(
                f"permute: dims {list(dims)} are not a permutation of {self.ndim} dimensions"
            )
        dims = tuple(d % self.ndim for d in dims)
        if dims == tuple(range(self.ndim)):
            return self
        return movement.Permute.apply(self, dims=dims)

    def expand(self, *sizes):
        sizes = _shape_args(sizes)
        have = self._array.shape
        lead = len(sizes) - self.ndim
        if lead < 0:
            raise RuntimeError(
                f"expand({self.type()}{{{list(have)}}}, size={list(sizes)}): the number of "
                f"sizes provided ({len(sizes)}) must be greater or equal to the number of "
                f"dimensions in the tensor ({self.ndim})"
            )
        for i in range(len(sizes) - 1, -1, -1):  # PyTorch checks from the last dimension
            n = sizes[i]
            if i < lead:
                if n < 0:
                    raise RuntimeError(
                        f"The expanded size of the tensor ({n}) isn't allowed in a leading, "
                        f"non-existing dimension {i}"
                    )
            elif n != -1 and n != have[i - lead] and have[i - lead] != 1:
                raise RuntimeError(
                    f"The expanded size of the tensor ({n}) must match the existing size "
                    f"({have[i - lead]}) at non-singleton dimension {i}.  Target sizes: "
                    f"{list(sizes)}.  Tensor sizes: {list(have)}"
                )
        shape = tuple(have[i - lead] if n == -1 else n for i, n in enumerate(sizes))
        if shape == self._array.shape and not (self._requires_grad and _enabled[0]):
            return self  # no node to record: the same values and shape
        return movement.Expand.apply(self, shape=shape)

    def expand_as(self, other):
        return self.expand(other.shape)

    broadcast_to = expand

    def repeat(self, *sizes):
        sizes = _shape_args(sizes)
        x = self.reshape((1,) * (len(sizes) - self.ndim) + self._array.shape)
        expanded = []
        for n, r in zip(x.shape, sizes):
            expanded += [r, n]
        inter = x.reshape(tuple(v for n in x.shape for v in (1, n))).expand(expanded)
        return _named(
            inter.reshape(tuple(n * r for n, r in zip(x.shape, sizes))), "RepeatBackward0"
        )

    def contiguous(self, memory_format=_layout.contiguous_format):
        if memory_format is _layout.contiguous_format:
            if self._array.flags.c_contiguous:
                return self
            return movement.Contiguous.apply(self)
        if _layout.is_in_format(self._array, memory_format):
            return self
        if memory_format is _layout.preserve_format:
            raise RuntimeError("preserve memory format is unsupported by the contiguous operator")
        return movement.Contiguous.apply(self, memory_format=memory_format)

    def clone(self, *, memory_format=_layout.preserve_format):
        return movement.Contiguous.apply(self, memory_format=memory_format)

    def __getitem__(self, index):
        return movement.Index.apply(self, index=_index_arrays(index))

    def split(self, split_size_or_sections, dim: int = 0):
        d = _dims(dim, self.ndim)
        n = self._array.shape[d]
        if isinstance(split_size_or_sections, int):
            size = split_size_or_sections
            sizes = [min(size, n - i) for i in range(0, n, size)] or [0]
        else:
            sizes = list(split_size_or_sections)
            if sum(sizes) != n:
                raise RuntimeError(
                    f"split: sizes {sizes} do not add up to dimension {d} of size {n}"
                )
        out, start = [], 0
        for s in sizes:
            idx = (slice(None),) * d + (slice(start, start + s),)
            out.append(_named(movement.Index.apply(self, index=idx), "SplitBackward0"))
            start += s
        return tuple(out)

    def chunk(self, chunks: int, dim: int = 0):
        n = self._array.shape[_dims(dim, self.ndim)]
        return self.split(max(1, -(-n // chunks)), dim)

    def unbind(self, dim: int = 0):
        d = _dims(dim, self.ndim)
        return tuple(
            _named(movement.Index.apply(self, index=(slice(None),) * d + (i,)), "UnbindBackward0")
            for i in range(self._array.shape[d])
        )

    # ------------------------------------------------ shape and linear algebra (ops-shape)
    # (gradfit._tensorops_more: addmm, kron, cross, diff, movedim, select, hsplit, ...)
    def addmm(self, mat1, mat2, *, beta=1, alpha=1):
        return _tmore.addmm(self, mat1, mat2, beta=beta, alpha=alpha)

    def addmv(self, mat, vec, *, beta=1, alpha=1):
        return _tmore.addmv(self, mat, vec, beta=beta, alpha=alpha)

    def baddbmm(self, batch1, batch2, *, beta=1, alpha=1):
        return _tmore.baddbmm(self, batch1, batch2, beta=beta, alpha=alpha)

    def addbmm(self, batch1, batch2, *, beta=1, alpha=1):
        return _tmore.addbmm(self, batch1, batch2, beta=beta, alpha=alpha)

    def mv(self, vec):
        return _tmore.mv(self, vec)

    def inner(self, other):
        return _tmore.inner(self, other)

    def vdot(self, other):
        return _tmore.vdot(self, other)

    def kron(self, other):
        return _tmore.kron(self, other)

    def cross(self, other, dim=None):
        return _tmore.cross(self, other, dim)

    def diff(self, n: int = 1, dim: int = -1, prepend=None, append=None):
        return _tmore.diff(self, n, dim, prepend, append)

    def dist(self, other, p=2):
        return _tmore.dist(self, other, p)

    def movedim(self, source, destination):
        return _tmore.movedim(self, source, destination)

    def moveaxis(self, source, destination):
        return _tmore.movedim(self, source, destination)

    def ravel(self):
        return _tmore.ravel(self)

    def select(self, dim: int, index: int):
        return _tmore.select(self, dim, index)

    def take(self, index):
        return _tmore.take(self, index)

    def as_strided(self, size, stride, storage_offset=None):
        return _tmore.as_strided(self, size, stride, storage_offset)

    def unflatten(self, dim: int, sizes):
        return _tmore.unflatten(self, dim, sizes)

    def tensor_split(self, indices_or_sections, dim: int = 0):
        return _tmore.tensor_split(self, indices_or_sections, dim)

    def hsplit(self, indices_or_sections):
        return _tmore.hsplit(self, indices_or_sections)

    def vsplit(self, indices_or_sections):
        return _tmore.vsplit(self, indices_or_sections)

    def dsplit(self, indices_or_sections):
        return _tmore.dsplit(self, indices_or_sections)

    def diagflat(self, offset: int = 0):
        return _tmore.diagflat(self, offset)

    def cov(self, *, correction: int = 1, fweights=None, aweights=None):
        return _tmore.cov(self, correction=correction, fweights=fweights, aweights=aweights)

    def addmm_(self, mat1, mat2, *, beta=1, alpha=1):
        return self._inplace_op(
            lambda t: _tmore.addmm(t, mat1, mat2, beta=beta, alpha=alpha), mat1, mat2
        )

    def addmv_(self, mat, vec, *, beta=1, alpha=1):
        return self._inplace_op(
            lambda t: _tmore.addmv(t, mat, vec, beta=beta, alpha=alpha), mat, vec
        )

    def baddbmm_(self, batch1, batch2, *, beta=1, alpha=1):
        return self._inplace_op(
            lambda t: _tmore.baddbmm(t, batch1, batch2, beta=beta, alpha=alpha), batch1, batch2
        )

    def addbmm_(self, batch1, batch2, *, beta=1, alpha=1):
        return self._inplace_op(
            lambda t: _tmore.addbmm(t, batch1, batch2, beta=beta, alpha=alpha), batch1, batch2
        )

    def outer(self, vec2):
        return self.reshape(-1, 1) * vec2.reshape(1, -1)

    # ------------------------------------------------------------------ tensor operations
    # (gradfit._tensorops: indexing, sorting, cumulative ops, triangles, ...)
    def tril(self, diagonal: int = 0):
        return _tops.tril(self, diagonal)

    def triu(self, diagonal: int = 0):
        return _tops.triu(self, diagonal)

    def tril_(self, diagonal: int = 0):
        return self._inplace_op(lambda t: _tops.tril(t, diagonal))

    def triu_(self, diagonal: int = 0):
        return self._inplace_op(lambda t: _tops.triu(t, diagonal))

    def where(self, condition, other):
        return _tops.where(condition, self, other)

    def masked_select(self, mask):
        return _tops.masked_select(self, mask)

    def nonzero(self, *, as_tuple: bool = False):
        return _tops.nonzero(self, as_tuple=as_tuple)

    def argwhere(self):
        return _tops.nonzero(self)

    def gather(self, dim: int, index, *, sparse_grad: bool = False):
        return _tops.gather(self, dim, index)

    def take_along_dim(self, indices, dim=None):
        return _tops.take_along_dim(self, indices, dim)

    def scatter(self, dim: int, index, src=None, *, value=None, reduce=None):
        return _tops.scatter(self, dim, index, src, value=value, reduce=reduce)

    def scatter_(self, dim: int, index, src=None, *, value=None, reduce=None):
        return self._inplace_op(
            lambda t: _tops.scatter(t, dim, index, src, value=value, reduce=reduce), src
        )

    def scatter_add(self, dim: int, index, src):
        return _tops.scatter_add(self, dim, index, src)

    def scatter_add_(self, dim: int, index, src):
        return self._inplace_op(lambda t: _tops.scatter_add(t, dim, index, src), src)

    def scatter_reduce(self, dim: int, index, src, reduce: str, *, include_self: bool = True):
        return _tops.scatter_reduce(self, dim, index, src, reduce, include_self=include_self)

    def scatter_reduce_(self, dim: int, index, src, reduce: str, *, include_self: bool = True):
        return self._inplace_op(
            lambda t: _tops.scatter_reduce(t, dim, index, src, reduce, include_self=include_self),
            src,
        )

    def index_select(self, dim: int, index):
        return _tops.index_select(self, dim, index)

    def index_add(self, dim: int, index, source, *, alpha=1):
        return _tops.index_add(self, dim, index, source, alpha=alpha)

    def index_add_(self, dim: int, index, source, *, alpha=1):
        return self._inplace_op(
            lambda t: _tops.index_add(t, dim, index, source, alpha=alpha), source
        )

    def index_put(self, indices, values, accumulate: bool = False):
        return _tops.index_put(self, indices, values, accumulate)

    def index_put_(self, indices, values, accumulate: bool = False):
        return self._inplace_op(lambda t: _tops.index_put(t, indices, values, accumulate), values)

    def index_fill(self, dim: int, index, value):
        return _tops.index_fill(self, dim, index, value)

    def index_fill_(self, dim: int, index, value):
        return self._inplace_op(lambda t: _tops.index_fill(t, dim, index, value), value)

    def sort(self, dim: int = -1, descending: bool = False, stable: bool = False):
        return _tops.sort(self, dim, descending, stable)

    def argsort(self, dim: int = -1, descending: bool = False, stable: bool = False):
        return _tops.argsort(self, dim, descending, stable)

    def msort(self):
        return _tops.msort(self)

    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):  # noqa: A002
        return _tops.topk(self, k, dim, largest, sorted)

    def kthvalue(self, k: int, dim: int = -1, keepdim: bool = False):
        return _tops.kthvalue(self, k, dim, keepdim)

    def nanquantile(self, q, dim=None, keepdim: bool = False, *, interpolation: str = "linear"):
        return _tops.nanquantile(self, q, dim, keepdim, interpolation=interpolation)

    def mode(self, dim: int = -1, keepdim: bool = False):
        return _tops.mode(self, dim, keepdim)

    def masked_scatter(self, mask, source):
        return _tops.masked_scatter(self, mask, source)

    def cumsum(self, dim: int, *, dtype=None):
        return _tops.cumsum(self, dim, dtype=dtype)

    def cumprod(self, dim: int, *, dtype=None):
        return _tops.cumprod(self, dim, dtype=dtype)

    def cumsum_(self, dim: int, *, dtype=None):
        return self._inplace_op(lambda t: _tops.cumsum(t, dim, dtype=dtype))

    def flip(self, *dims):
        return _tops.flip(self, _shape_args(dims))

    def fliplr(self):
        return _tops.fliplr(self)

    def flipud(self):
        return _tops.flipud(self)

    def roll(self, shifts, dims=None):
        return _tops.roll(self, shifts, dims)

    def rot90(self, k: int = 1, dims=(0, 1)):
        return _tops.rot90(self, k, dims)

    def narrow(self, dim: int, start, length: int):
        return _tops.narrow(self, dim, start, length)

    def tile(self, *dims):
        return _tops.tile(self, _shape_args(dims))

    def repeat_interleave(self, repeats=None, dim=None, *, output_size=None):
        return _tops.repeat_interleave(self, repeats, dim)

    def unfold(self, dimension: int, size: int, step: int):
        return _tops.unfold(self, dimension, size, step)

    def diag(self, diagonal: int = 0):
        return _tops.diag(self, diagonal)

    def diagonal(self, offset: int = 0, dim1: int = 0, dim2: int = 1):
        return _tops.diagonal(self, offset, dim1, dim2)

    def diag_embed(self, offset: int = 0, dim1: int = -2, dim2: int = -1):
        return _tops.diag_embed(self, offset, dim1, dim2)

    def trace(self):
        return _tops.trace(self)

    def unique(self, sorted: bool = True, return_inverse=False, return_counts=False, dim=None):  # noqa: A002
        return _tops.unique(self, sorted, return_inverse, return_counts, dim)

    def unique_consecutive(self, return_inverse=False, return_counts=False, dim=None):
        return _tops.unique_consecutive(self, return_inverse, return_counts, dim)

    def bincount(self, weights=None, minlength: int = 0):
        return _tops.bincount(self, weights, minlength)

    def histc(self, bins: int = 100, min: float = 0.0, max: float = 0.0):  # noqa: A002
        return _tops.histc(self, bins, min, max)

    def median(self, dim=None, keepdim: bool = False):
        return _tops.median(self, dim, keepdim)

    def nanmedian(self, dim=None, keepdim: bool = False):
        return _tops.nanmedian(self, dim, keepdim)

    def quantile(self, q, dim=None, keepdim: bool = False, *, interpolation: str = "linear"):
        return _tops.quantile(self, q, dim, keepdim, interpolation=interpolation)

    def inverse(self):
        return _tops.inverse(self)

    def det(self):
        return _tops.det(self)

    def logdet(self):
        return _tops.logdet(self)

    def slogdet(self):
        return _tops.slogdet(self)

    def cholesky(self, upper: bool = False):
        return _tops.cholesky(self, upper)

    def cholesky_solve(self, input2, upper: bool = False):
        return _tops.cholesky_solve(self, input2, upper)

    def cholesky_inverse(self, upper: bool = False):
        return _tops.cholesky_inverse(self, upper)

    def type_as(self, other):
        return self.to(other.dtype)

    def _new(self, arr, dtype, requires_grad, device=None):
        # on this tensor's device unless ``device`` names one
        arr = arr.astype(self.dtype if dtype is None else _dtypes.to_dtype(dtype))
        if type(self._array) is _MetaArray if device is None else _check_device(device):
            arr = _meta.to_meta(arr)
        t = Tensor._make(arr, None)
        return t.requires_grad_() if requires_grad else t

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False, **_):
        return self._new(np.zeros(_shape_args(size)), dtype, requires_grad, device)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False, **_):
        return self._new(np.ones(_shape_args(size)), dtype, requires_grad, device)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False, **_):
        return self._new(np.zeros(_shape_args(size)), dtype, requires_grad, device)

    def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False, **_):
        target = self._array.dtype if dtype is None else _dtypes.to_dtype(dtype)
        filled = np.full(tuple(size), _dtypes.fill_number(fill_value, target))
        return self._new(filled, dtype, requires_grad, device)

    def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False, **_):
        """A copy of ``data`` with this tensor's dtype unless ``dtype`` is given."""
        arr = np.array(data._array if isinstance(data, Tensor) else data)
        return self._new(arr, dtype, requires_grad, device)


_ONES: dict = {}


def _ones(like: np.ndarray) -> np.ndarray:
    """A read-only array of ones shaped like ``like`` (a one-element array): the implicit
    gradient of ``loss.backward()``, cached because every training step asks for it. Ops
    never write to their grad_output and the engine copies before giving it to a leaf, so
    sharing is safe; read-only makes any violation fail loudly."""
    if type(like) is _MetaArray:
        return _meta.to_meta(like)
    key = (like.shape, like.dtype)
    ones = _ONES.get(key)
    if ones is None:
        ones = np.ones(like.shape, like.dtype)
        ones.flags.writeable = False
        _ONES[key] = ones
    return ones


def _resolve_shape(size: int, shape: tuple) -> tuple:
    shape = tuple(int(s) for s in shape)
    if shape.count(-1) > 1:
        raise ValueError("only one dimension can be inferred")
    if -1 in shape:
        known = int(np.prod([s for s in shape if s != -1]))
        if known == 0 or size % known:
            raise ValueError("bad shape")
        shape = tuple(size // known if s == -1 else s for s in shape)
    if int(np.prod(shape)) != size or any(s < 0 for s in shape):
        raise ValueError("bad shape")
    return shape


def _index_arrays(index):
    """Turn Tensors inside an index into arrays (NumPy indexing is PyTorch's, for these)."""
    if isinstance(index, Tensor):
        return index._array
    if isinstance(index, tuple):
        return tuple(i._array if isinstance(i, Tensor) else i for i in index)
    if isinstance(index, list):
        return np.asarray(index)
    return index


def _view_dtype(t: Tensor, dtype) -> Tensor:
    """PyTorch's ``Tensor.view(dtype)``: the bytes reinterpreted, outside the graph. With a
    different element size the last dimension (stride 1) is split or merged, with
    PyTorch's checks."""
    a = t._array
    dt = np.dtype(_dtypes.to_dtype(dtype))
    src, dst = a.dtype.itemsize, dt.itemsize
    if src != dst:
        names = f"{_TORCH_SCALAR_NAMES[a.dtype]} as {_TORCH_SCALAR_NAMES[dt]}"
        why = f"to view {names} (different element sizes)"
        if a.ndim == 0:
            raise RuntimeError(f"self.dim() cannot be 0 {why}")
        if a.strides[-1] != src:
            raise RuntimeError(f"self.stride(-1) must be 1 {why}, but got {a.strides[-1] // src}")
        if dst > src:
            ratio = dst // src
            if a.shape[-1] % ratio:
                raise RuntimeError(
                    f"self.size(-1) must be divisible by {ratio} {why}, but got {a.shape[-1]}"
                )
            offset = t.storage_offset()
            if offset % ratio:
                raise RuntimeError(
                    f"self.storage_offset() must be divisible by {ratio} {why}, but got {offset}"
                )
    return Tensor._make(a.view(dt), None)  # PyTorch's has no ``_base`` either


def _argext(fn, t: Tensor, dim, keepdim: bool) -> Tensor:
    if dim is None:
        out = np.asarray(fn(t._array))
        if keepdim:
            out = out.reshape((1,) * t.ndim)
    else:
        d = _dims(dim, t.ndim)
        out = fn(t._array, axis=d, keepdims=keepdim)
    out = np.asarray(out, dtype=np.int64)
    return Tensor._make(_meta.to_meta(out) if type(t._array) is _MetaArray else out, None)


class Size(tuple):
    """``gradfit.Size``: a tuple, as ``torch.Size``, printed ``gradfit.Size([3, 4])``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"gradfit.Size({list(self)})"

    __str__ = __repr__

    def numel(self) -> int:
        n = 1
        for d in self:
            n *= d
        return n

    def __getitem__(self, index):
        out = tuple.__getitem__(self, index)
        return Size(out) if isinstance(index, slice) else out

    def __add__(self, other):
        return Size(tuple.__add__(self, tuple(other)))


# ---------------------------------------------------------------------- in-place methods
# Ops PyTorch has in place that gradfit had only out of place: the out-of-place forms
# first (composed of recorded ops, so their gradients are PyTorch's).
def _addcmul(self, tensor1, tensor2, *, value=1):
    # PyTorch's kernel computes self + value * t1 * t2 left to right.
    out = self + (tensor1 * tensor2 if value == 1 else (tensor1 * value) * tensor2)
    return named(out, "AddcmulBackward0")


def _addcdiv(self, tensor1, tensor2, *, value=1):
    t1 = tensor1._array if isinstance(tensor1, Tensor) else np.asarray(tensor1)
    t2 = tensor2._array if isinstance(tensor2, Tensor) else np.asarray(tensor2)
    if t1.dtype.kind in "biu" and t2.dtype.kind in "biu":
        raise RuntimeError(
            "Integer division with addcdiv is no longer supported, and in a future  release "
            "addcdiv will perform a true division of tensor1 and tensor2. The historic addcdiv "
            "behavior can be implemented as (input + value * torch.trunc(tensor1 / tensor2))"
            ".to(input.dtype) for integer inputs and as (input + value * tensor1 / tensor2) for "
            "float inputs. The future addcdiv behavior is just the latter implementation: "
            "(input + value * tensor1 / tensor2), for all dtypes."
        )
    out = self + (tensor1 / tensor2 if value == 1 else (tensor1 * value) / tensor2)
    return named(out, "AddcdivBackward0")


def _lerp(self, end, weight):
    """PyTorch's two-sided formula: from ``self`` for weight < 0.5, from ``end`` above,
    so that weight 1 gives ``end`` exactly."""
    if self._array.dtype.kind not in "fc":
        raise NotImplementedError(
            f"\"lerp_kernel_scalar\" not implemented for '{_TORCH_SCALAR_NAMES[self._array.dtype]}'"
        )
    diff = end - self
    if isinstance(weight, Tensor):
        low = np.abs(weight._array) < 0.5
        out = _tops.where(Tensor._make(low, None), self + weight * diff, end - diff * (1 - weight))
        return named(out, "LerpBackward1")
    out = self + weight * diff if abs(weight) < 0.5 else end - diff * (1 - weight)
    return named(out, "LerpBackward0")


def _step(fn):
    def method(self, *args, **kwargs):
        return _overwrite.Step.apply(self, None, fn=fn, **kwargs)

    method.__name__ = fn
    return method


def _named_method(method, name: str):
    """``method`` whose result prints PyTorch's node name ``name`` (see ``named``)."""

    @functools.wraps(method)  # keeps the signature, read by _numpy_names
    def wrapper(self, *args, **kwargs):
        return named(method(self, *args, **kwargs), name)

    return wrapper


# Methods composed of other ops, printed with the node name of PyTorch's own kernel.
for _meth, _node in (
    ("bmm", "BmmBackward0"),
    ("nansum", "NansumBackward0"),
    ("take", "TakeBackward0"),
    ("index_select", "IndexSelectBackward0"),
    ("rot90", "Rot90Backward0"),
    ("diag_embed", "DiagEmbedBackward0"),
    ("trace", "TraceBackward0"),
):
    setattr(Tensor, _meth, _named_method(getattr(Tensor, _meth), _node))


Tensor.addcmul = _addcmul
Tensor.addcdiv = _addcdiv
Tensor.lerp = _lerp
Tensor.clamp_min = lambda self, min: named(self.clamp(min=min), "ClampMinBackward0")  # noqa: A006
Tensor.clamp_max = lambda self, max: named(self.clamp(max=max), "ClampMaxBackward0")  # noqa: A006
Tensor.reciprocal = lambda self: named(
    elementwise.Reciprocal.apply(self._unary_float()), "ReciprocalBackward0"
)
Tensor.expm1 = lambda self: _unary_top.Expm1.apply(self._unary_float())
Tensor.absolute = Tensor.abs
Tensor.trunc = _step("trunc")
Tensor.fix = Tensor.trunc
Tensor.frac = lambda self: named(self - self.trunc(), "FracBackward0")
Tensor.sgn = _step("sgn")


# --- linalg additions (linutils): torch's Tensor.pinverse and Tensor.matrix_exp ------------
def _pinverse(self, rcond: float = 1e-15):
    from gradfit import linalg

    return linalg.pinverse(self, rcond)


def _matrix_exp(self):
    from gradfit import linalg

    return linalg.matrix_exp(self)


Tensor.pinverse = _pinverse
Tensor.matrix_exp = _matrix_exp

# name_ -> the out-of-place method it writes back; step functions (floor, sign, ...) use
# ``Step`` in place so the result stays in the graph with PyTorch's zero gradient.
_INPLACE = {
    **{
        n: n
        for n in (
            "relu sigmoid tanh exp neg negative abs absolute sqrt rsqrt log log1p sin cos "
            "square pow addcmul addcdiv lerp clamp_min clamp_max reciprocal expm1 "
            "multiply subtract true_divide frac masked_scatter"
        ).split()
    },
    # unary math (ops-unary)
    **{
        n: n
        for n in (
            "tan sinh cosh asin acos atan asinh acosh atanh arcsin arccos arctan arcsinh "
            "arccosh arctanh log2 log10 exp2 erf erfc erfinv lgamma digamma logit sinc "
            "deg2rad rad2deg nan_to_num"
        ).split()
    },
    "floor": _step("floor"),
    "ceil": _step("ceil"),
    "trunc": Tensor.trunc,
    "fix": Tensor.trunc,
    "sign": _step("sign"),
    "sgn": _step("sgn"),
    "round": "round",
    # binary ops (ops-binary)
    **{n: n for n in ("remainder fmod atan2 arctan2 hypot xlogy float_power copysign").split()},
}
# In-place view ops: the tensor takes a view of its values with another shape.
_INPLACE_VIEWS = ("t", "squeeze", "unsqueeze", "transpose", "swapaxes", "swapdims")


def _tensor_args(args, kwargs):
    return [a for a in (*args, *kwargs.values()) if isinstance(a, Tensor)]


def _inplace_method(name, op):
    op = getattr(Tensor, op) if isinstance(op, str) else op

    def method(self, *args, **kwargs):
        return self._inplace_op(
            lambda t: op(t, *args, **kwargs), *_tensor_args(args, kwargs), check_cast=True
        )

    method.__name__ = method.__qualname__ = name + "_"
    return method


def _inplace_view_method(name):
    op = getattr(Tensor, "transpose" if name in ("swapaxes", "swapdims") else name)

    def method(self, *args, **kwargs):
        return self._inplace_op(lambda t: op(t, *args, **kwargs), view_op=True)

    method.__name__ = method.__qualname__ = name + "_"
    return method


for _name, _op in _INPLACE.items():
    setattr(Tensor, _name + "_", _inplace_method(_name, _op))

# (ops-binary) in-place forms whose result has no gradient in PyTorch (logical, bitwise, and
# floor_divide, whose derivative PyTorch does not implement): tested against PyTorch's
# values in tests/test_ops_binary_more.py, not by the gradient parity of the table above.
for _name in (
    "floor_divide logical_and logical_or logical_xor logical_not bitwise_and bitwise_or "
    "bitwise_xor bitwise_not"
).split():
    setattr(Tensor, _name + "_", _inplace_method(_name, _name))
for _name in _INPLACE_VIEWS:
    setattr(Tensor, _name + "_", _inplace_view_method(_name))


# PyTorch's node for each in-place random fill recorded in a graph
_FILLS = {
    "uniform": "UniformBackward0",
    "normal": "NormalBackward0",
    "random": "RandomBackward0",
    "bernoulli": "BernoulliBackward2",
    "exponential": "ExponentialBackward0",
    "geometric": "GeometricBackward0",
    "cauchy": "CauchyBackward0",
    "log_normal": "LogNormalBackward0",
}


# ------------------------------------------------- top-level additions (toplevel helper)
# Tensor methods everyday PyTorch programs call: in-place comparisons, dtype shorthands,
# storage facts, and small ops composed of recorded ops (so first and second order hold).
def _cmp_inplace(name: str):
    cmp = getattr(Tensor, name)

    def method(self, other):
        # The comparison's values, written in this tensor's dtype; as PyTorch, the result
        # stays in the graph with a zero gradient.
        out = self._inplace_op(lambda t: _overwrite.Overwrite.apply(t, cmp(t, other)._array))
        overload = 1 if isinstance(other, Tensor) else 0
        return named(out, f"{name.capitalize()}Backward{overload}")

    method.__name__ = method.__qualname__ = name + "_"
    return method


def _threshold(self, threshold, value):
    """``value`` where ``self <= threshold`` (value cast to this dtype), else ``self``."""
    v = Tensor._make(np.asarray(value).astype(self._array.dtype), None)
    return _tops.where(self <= threshold, v, self)


def _heaviside(self, values):
    if not isinstance(values, Tensor):
        raise TypeError(
            f"heaviside(): argument 'values' (position 2) must be Tensor, not "
            f"{type(values).__name__}"
        )
    a, v = self._array, values._array
    if a.dtype != v.dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes.")
    return Tensor._make(np.where(a == 0, v, (a > 0).astype(a.dtype)).astype(a.dtype), None)


def _integer_binary(name: str, ufunc):
    def method(self, other):
        a = self._array
        b = other._array if isinstance(other, Tensor) else np.asarray(other)
        for x in (a, b):
            if x.dtype.kind not in "iu":
                raise NotImplementedError(
                    f"\"{name}_cpu\" not implemented for '{_TORCH_SCALAR_NAMES[x.dtype]}'"
                )
        return Tensor._make(np.asarray(ufunc(a, b)), None)

    method.__name__ = method.__qualname__ = name
    return method


def _ldexp(self, other):
    """``self * 2 ** other`` (PyTorch's composition, so differentiable in ``self``)."""
    return self * (
        2.0 ** (other if isinstance(other, Tensor) else Tensor._make(np.asarray(other), None))
    )


def _frexp(self):
    """Mantissa in [0.5, 1) and int32 exponent with self = mantissa * 2 ** exponent; the
    mantissa is ``self / 2 ** exponent`` (exact), differentiable as PyTorch's."""
    if self._array.dtype.kind != "f":
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    _, e = np.frexp(self._array)
    exponent = Tensor._make(e.astype(np.int32), None)
    scale = Tensor._make(
        np.ldexp(np.ones((), self._array.dtype), e).astype(self._array.dtype), None
    )
    return return_types.frexp(self / scale, exponent)


def _aminmax(self, *, dim=None, keepdim: bool = False):
    if self._array.size == 0 and (dim is None or self.shape[dim] == 0):
        raise RuntimeError(
            "aminmax(): cannot compute aminmax over an empty dimension as the operation has no "
            "identity."
        )
    if dim is None:
        lo, hi = self.amin(), self.amax()
        if keepdim:
            lo, hi = lo.reshape((1,) * self.ndim), hi.reshape((1,) * self.ndim)
    else:
        lo, hi = self.amin(dim, keepdim), self.amax(dim, keepdim)
    return return_types.aminmax(lo, hi)


def _matrix_power(self, n: int):
    """A^n in PyTorch's order of products: A@A for 2, (A@A)@A for 3, else the binary
    decomposition from the lowest bit (so the last bits match); n < 0 uses inv(A)."""
    if self.ndim < 2:
        raise RuntimeError(
            "linalg.matrix_power: The input tensor A must have at least 2 dimensions."
        )
    if self.shape[-1] != self.shape[-2]:
        raise RuntimeError(
            "linalg.matrix_power: A must be batches of square matrices, but they are "
            f"{self.shape[-2]} by {self.shape[-1]} matrices"
        )
    if n == 0:
        eye = np.eye(self.shape[-1], dtype=self._array.dtype)
        return Tensor._make(np.ascontiguousarray(np.broadcast_to(eye, self.shape)), None)
    a = self
    if n < 0:
        from gradfit import linalg

        a, n = linalg.inv(self), -n
    if n == 1:
        return a.clone()
    if n == 2:
        return _matmul(a, a)
    if n == 3:
        return _matmul(_matmul(a, a), a)
    z = result = None
    while n > 0:
        bit, n = n % 2, n // 2
        z = a if z is None else _matmul(z, z)
        if bit:
            result = z if result is None else _matmul(result, z)
    return result


def _sum_to_size(self, *size):
    size = _shape_args(size)
    shape = self.shape
    lead = len(shape) - len(size)
    if lead < 0 or any(s != 1 and s != d for s, d in zip(size, shape[lead:])):
        raise RuntimeError(f"size {{{list(size)}}} is not expandable to size {{{list(shape)}}}.")
    axes = tuple(range(lead)) + tuple(
        lead + i for i, s in enumerate(size) if s == 1 and shape[lead + i] != 1
    )
    out = self.sum(dim=axes, keepdim=True) if axes else self
    return out.reshape(size) if lead else out


def _fill_diagonal_(self, fill_value, wrap: bool = False):
    if self.ndim < 2:
        raise RuntimeError("dimensions must larger than 1")
    if self.ndim > 2 and len(set(self.shape)) != 1:
        raise RuntimeError("all dimensions of input must be of equal length")
    mask = np.zeros(self.shape, dtype=bool)
    np.fill_diagonal(mask, True, wrap=wrap)
    m = Tensor._make(mask, None)
    return self._inplace_op(lambda t: t.masked_fill(m, fill_value))


def _index_copy(self, dim: int, index, source):
    """``self`` with the slices ``index`` along ``dim`` replaced by ``source``'s: the old
    slices get no gradient, ``source`` gets the gradient's slices."""
    return self.index_fill(dim, index, 0).index_add(dim, index, source)


def _put(self, index, source, accumulate: bool = False):
    flat = self.reshape(-1)
    idx = index.reshape(-1)
    out = flat.index_put((idx,), source.reshape(-1), accumulate)
    return out.reshape(self.shape)


def _renorm(self, p, dim: int, maxnorm):
    """Each slice along ``dim`` whose p-norm exceeds ``maxnorm`` scaled to norm
    ``maxnorm`` (PyTorch's factor maxnorm / (norm + 1e-7)), differentiable through the
    norm as PyTorch's."""
    if self.ndim < 2:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {self.ndim} dimensions")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    d = dim % self.ndim
    others = tuple(i for i in range(self.ndim) if i != d)
    norm = self.norm(p, dim=others, keepdim=True)
    big = norm._array > maxnorm
    factor = _tops.where(
        Tensor._make(big, None),
        maxnorm / (norm + 1e-7),
        Tensor._make(np.ones((), self._array.dtype), None),
    )
    return self * factor


def _positive(self):
    if self._array.dtype == np.bool_:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return self


def _conj_t(self, t):
    return Tensor._make(np.conj(t._array), None) if self._array.dtype.kind == "c" else t


def _mH(self):  # noqa: N802 - PyTorch's name
    return _conj_t(self, self.mT)


def _H(self):  # noqa: N802 - PyTorch's name
    if self.ndim not in (0, 2):
        raise RuntimeError(
            f"tensor.H is only supported on matrices (2-D tensors). Got {self.ndim}-D tensor."
        )
    return _conj_t(self, self.t() if self.ndim == 2 else self)


def _is_nonzero(self) -> bool:
    n = self._array.size
    if n == 0:
        raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
    if n > 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return bool(self._array.reshape(()) != 0)


def _storage_offset(self) -> int:
    root = _layout.memory_owner(self._array)
    start = self._array.__array_interface__["data"][0] - root.__array_interface__["data"][0]
    return start // self._array.itemsize


_retain_grad_hook = Tensor.retain_grad


def _retain_grad(self) -> None:
    """PyTorch's retain_grad: an error without requires_grad, nothing on a leaf, and
    one hook however often it is called (``retains_grad`` tells)."""
    if not self._requires_grad:
        raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
    if self.grad_fn is None or getattr(self, "_retains_grad", False):
        return
    _retain_grad_hook(self)
    self._retains_grad = True


def _register_post_accumulate_grad_hook(self, hook) -> RemovableHandle:
    """Call ``hook(tensor)`` after a backward pass has accumulated into this leaf's
    ``.grad`` (an optimizer step per parameter, as PyTorch's)."""
    if not self._requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if self.grad_fn is not None:
        raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
    if self._hooks is None:
        self._hooks = []
    entry = _graph_hooks.PostAccumulateGradHook(hook)
    self._hooks.append(entry)
    return RemovableHandle(self._hooks, entry)


def _legacy_new(self, *args, **kwargs):
    """``x.new(...)``: PyTorch's legacy constructor with ``x``'s dtype (sizes or data)."""
    _check_device(kwargs.pop("device", None))
    if kwargs:
        raise TypeError(f"new(): unexpected keyword arguments {sorted(kwargs)}")
    return Tensor._make(_legacy_array(args, self._array.dtype), None)


Tensor.byte = lambda self: self.to(_dtypes.uint8)
Tensor.char = lambda self: self.to(_dtypes.int8)
Tensor.short = lambda self: self.to(_dtypes.int16)
Tensor.greater, Tensor.greater_equal, Tensor.less = Tensor.gt, Tensor.ge, Tensor.lt
Tensor.less_equal, Tensor.not_equal = Tensor.le, Tensor.ne
for _name in "eq ne lt le gt ge greater greater_equal less less_equal not_equal".split():
    setattr(Tensor, _name + "_", _cmp_inplace(_name))
Tensor.divide_ = Tensor.div_
Tensor.cumprod_ = _inplace_method("cumprod", "cumprod")
Tensor.swapdims = Tensor.transpose
Tensor.threshold = _threshold
Tensor.threshold_ = _inplace_method("threshold", _threshold)
Tensor.heaviside = _heaviside
Tensor.heaviside_ = _inplace_method("heaviside", _heaviside)
Tensor.gcd = _integer_binary("gcd", np.gcd)
Tensor.lcm = _integer_binary("lcm", np.lcm)
Tensor.gcd_ = _inplace_method("gcd", Tensor.gcd)
Tensor.lcm_ = _inplace_method("lcm", Tensor.lcm)
Tensor.ldexp = _ldexp
Tensor.ldexp_ = _inplace_method("ldexp", _ldexp)
Tensor.frexp = _frexp
Tensor.aminmax = _aminmax
Tensor.matrix_power = _matrix_power
Tensor.sum_to_size = _sum_to_size
Tensor.fill_diagonal_ = _fill_diagonal_
Tensor.index_copy = _index_copy
Tensor.index_copy_ = _inplace_method("index_copy", _index_copy)
Tensor.put = _put
Tensor.put_ = _inplace_method("put", _put)
Tensor.renorm = _renorm
Tensor.renorm_ = _inplace_method("renorm", _renorm)
Tensor.positive = _positive
Tensor.mH = property(_mH)
Tensor.H = property(_H)
Tensor.adjoint = _mH
Tensor.is_cpu = property(lambda self: type(self._array) is not _MetaArray)
Tensor.nbytes = property(lambda self: self._array.nbytes)
Tensor.itemsize = property(lambda self: self._array.itemsize)
# a meta tensor has no memory: PyTorch says 0
Tensor.data_ptr = lambda self: (
    0 if type(self._array) is _MetaArray else self._array.__array_interface__["data"][0]
)
Tensor.storage_offset = _storage_offset


def _untyped_storage(self):
    """The bytes this tensor's memory belongs to (``torch.UntypedStorage``), shared."""
    from gradfit import storage

    return storage.UntypedStorage._of(self._array)


def _typed_storage(self):
    """``untyped_storage`` read as elements of this tensor's dtype (PyTorch's deprecated
    ``TypedStorage``, with its warning)."""
    from gradfit import storage

    return storage.TypedStorage._of(self._array, warn=True)


Tensor.untyped_storage = _untyped_storage
Tensor.storage = _typed_storage
Tensor.is_complex = lambda self: self._array.dtype.kind == "c"
Tensor.is_signed = lambda self: self._array.dtype.kind in "ifc"
Tensor.is_nonzero = _is_nonzero
Tensor.is_same_size = lambda self, other: self.shape == other.shape
Tensor.is_inference = lambda self: self.__dict__.get("_inference", False)
Tensor.retain_grad = _retain_grad
Tensor.retains_grad = property(lambda self: getattr(self, "_retains_grad", False))
Tensor.register_post_accumulate_grad_hook = _register_post_accumulate_grad_hook
Tensor.new = _legacy_new


# Inside ``inference_mode()`` every new tensor is marked an inference tensor: the op path's
# constructor and ``_make`` are swapped for marking ones while the mode is on (and only then).
def _inference_switch(on: bool) -> None:
    from gradfit.autograd import function as _function

    if on:
        _function._new = _new_inference
        Tensor._make = staticmethod(_make_inference)
    else:
        _function._new = object.__new__
        Tensor._make = staticmethod(_make_plain)


_make_plain = Tensor._make


def _new_inference(cls):
    obj = object.__new__(cls)
    if cls is Tensor:
        obj._inference = True
    return obj


def _make_inference(arr, node):
    t = _make_plain(arr, node)
    t._inference = True
    return t


_grad_mode._inference_switches.append(_inference_switch)


def _floating_only(t: Tensor, what: str) -> None:
    if t._array.dtype.kind not in "fc":
        raise RuntimeError(f"{what} only support floating point and complex dtypes")


def _softmax_kernel(t: Tensor, name: str, dim: int) -> None:
    """PyTorch's softmax kernels exist for floating types only (no silent promotion)."""
    if t._array.dtype.kind not in "fc":
        last = t.ndim == 0 or dim in (-1, t.ndim - 1)
        raise NotImplementedError(
            f'"{name}_{"lastdim_" if last else ""}kernel_impl" not implemented for '
            f"'{_TORCH_SCALAR_NAMES[t._array.dtype]}'"
        )


_TORCH_SCALAR_NAMES = {np.dtype(k): v[: -len("Tensor")] for k, v in _typenames.NAMES.items()}


def _check_cast(src: np.dtype, dst: np.dtype) -> None:
    """PyTorch's canCast for an in-place result: no float into an integer or bool
    tensor, no complex into a real one, nothing but bool into a bool one."""
    if (
        (src.kind in "fc" and dst.kind in "biu")
        or (src.kind == "c" and dst.kind != "c")
        or (dst.kind == "b" and src.kind != "b")
    ):
        raise RuntimeError(
            f"result type {_TORCH_SCALAR_NAMES.get(src, src)} can't be cast to the desired "
            f"output type {_TORCH_SCALAR_NAMES.get(dst, dst)}"
        )


def _viewable(arr: np.ndarray, shape: tuple) -> bool:
    """Whether ``arr``'s memory can be read in ``shape`` without a copy (the rule of
    PyTorch's ``computeStride``, which NumPy's no-copy reshape follows)."""
    alias = arr.view()
    try:
        alias.shape = shape
    except AttributeError:
        return False
    return True


def _positions(base: np.ndarray, view: np.ndarray) -> np.ndarray:
    """For each element of ``view`` (an array sharing ``base``'s memory), its flat C-order
    position in ``base``, from the two arrays' memory offsets and strides."""
    start = view.__array_interface__["data"][0] - base.__array_interface__["data"][0]
    off = np.full(view.shape, start, dtype=np.int64)
    for d, (n, st) in enumerate(zip(view.shape, view.strides)):
        off += (np.arange(n, dtype=np.int64) * st).reshape((-1,) + (1,) * (view.ndim - d - 1))
    if base.flags.c_contiguous:
        pos = off // base.itemsize
        if off.size and (off.min() < 0 or off.max() >= base.nbytes or (off % base.itemsize).any()):
            raise RuntimeError("in-place operation on a view that lies outside its base")
        return pos
    boff = np.zeros(base.shape, dtype=np.int64)
    for d, (n, st) in enumerate(zip(base.shape, base.strides)):
        boff += (np.arange(n, dtype=np.int64) * st).reshape((-1,) + (1,) * (base.ndim - d - 1))
    boff = boff.reshape(-1)
    order = np.argsort(boff, kind="stable")
    found = np.searchsorted(boff[order], off).clip(0, max(boff.size - 1, 0))
    pos = order[found]
    if boff.size == 0 or not np.array_equal(boff[pos], off):
        raise RuntimeError("in-place operation on a view that lies outside its base")
    return pos


def _refresh_views(base: Tensor, region=None) -> None:
    """After ``base`` was edited inside a graph, make each live view of it that overlaps
    the edited ``region`` (None: all) read its values from the new base, as PyTorch
    regenerates a view's grad_fn: the view's earlier consumers keep its earlier history
    (``replaced``). A view outside the region holds values the edit did not change, and
    its history stays right."""
    touched = None
    if region is not None:
        touched = np.zeros(base._array.shape, dtype=bool)
        touched[region] = True
        touched = touched.reshape(-1)
    for w in list(base.__dict__["_views"]):
        if not np.may_share_memory(w._array, base._array):
            continue  # the base's memory was replaced (``.data = ...``)
        pos = _positions(base._array, w._array)
        if touched is not None and not touched[pos].any():
            continue
        g = movement.Index.apply(base, index=np.unravel_index(pos, base._array.shape))
        prev = Tensor._make(w._array, w.grad_fn)
        prev._requires_grad = w._requires_grad
        # the base's edit is already counted on the counter ``w`` shares with it: the
        # nodes that saved ``w``'s earlier values see it
        prev._version = w._version
        node = g.grad_fn
        if node is not None:
            node.torch_name = "AsStridedBackward0"  # PyTorch's regenerated view node
            node.replaced = prev
            w.grad_fn, w._requires_grad = node, True


# The graph machinery below this module builds its outputs as Tensors from here on.
bind_tensor_class(Tensor)


# --- rtapi: apply_, map_, index_reduce, bfloat16 (the functions in _tensorops_rt) ---------
def _rt():
    from gradfit import _tensorops_rt

    return _tensorops_rt


def _index_reduce(self, dim: int, index, source, reduce: str, *, include_self: bool = True):
    return _rt().index_reduce(self, dim, index, source, reduce, include_self=include_self)


def _index_reduce_(self, dim: int, index, source, reduce: str, *, include_self: bool = True):
    fn = _rt().index_reduce
    return self._inplace_op(
        lambda t: fn(t, dim, index, source, reduce, include_self=include_self), source
    )


def _bfloat16(self, memory_format=None):
    # NumPy has no bfloat16 type to hold the values (float16 it has: Tensor.half).
    raise TypeError(
        "bfloat16 is not supported: NumPy has no bfloat16 dtype (gradfit supports float16, "
        "float32 and float64)"
    )


Tensor.apply_ = lambda self, callable: _rt().apply_(self, callable)  # noqa: A002
Tensor.map_ = lambda self, tensor, callable: _rt().map_(self, tensor, callable)  # noqa: A002
Tensor.index_reduce = _index_reduce
Tensor.index_reduce_ = _index_reduce_
Tensor.bfloat16 = _bfloat16


# --- sparse: the strided side of the COO layout (gradfit._sparse holds the sparse subclass) ---
def _to_sparse(self, sparse_dim=None, *, layout=None, blocksize=None, dense_dim=None):
    if layout not in (None, _sparse_ops.sparse_coo):
        raise NotImplementedError(f"to_sparse: only layout=gradfit.sparse_coo, got {layout}")
    if sparse_dim is not None and not 0 < sparse_dim <= self.ndim:
        raise RuntimeError(
            f"sparse_dim must be in [0, {self.ndim}], got {sparse_dim}"
            if sparse_dim > self.ndim or sparse_dim < 0
            else "to_sparse: sparse_dim must be positive"
        )
    return _sparse_ops.ToSparse.apply(self, sparse_dim=sparse_dim)


def _sparse_only(name: str):
    def method(self, *args, **kwargs):
        raise RuntimeError(
            f"{name} expected sparse coordinate tensor layout but got Strided"
            if name in ("indices", "coalesce", "is_coalesced", "_indices")
            else f"{name} expected sparse tensor layout but got Strided"
        )

    method.__name__ = name
    return method


Tensor.is_sparse = False
Tensor.to_sparse = _to_sparse
Tensor.to_sparse_coo = lambda self: _to_sparse(self)
Tensor.to_dense = lambda self, dtype=None, *, masked_grad=None: (
    self if dtype is None else self.to(dtype)
)
for _name in ("indices", "values", "_indices", "_values", "coalesce", "is_coalesced"):
    setattr(Tensor, _name, _sparse_only(_name))


# --- complexfft: complex tensors (ops in gradfit.ops.complex) --------------------------------
_COMPLEX_NAMES = {"complex64": "ComplexFloat", "complex128": "ComplexDouble"}


def _complex_order_error(op: str, a: Tensor, b) -> NotImplementedError:
    """PyTorch's refusal of <, <=, >, >= on complex numbers."""
    kind = np.result_type(a._array, b).name
    return NotImplementedError(
        f"\"{op}_cpu\" not implemented for '{_COMPLEX_NAMES.get(kind, kind)}'"
    )


def _real(self) -> Tensor:
    """``z.real``: a real view of a complex tensor's memory (writable); a real tensor
    itself, as in PyTorch."""
    if self._array.dtype.kind != "c":
        return self
    return _complex_ops.Real.apply(self)


def _imag(self) -> Tensor:
    if self._array.dtype.kind != "c":
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    return _complex_ops.Imag.apply(self)


def _part_setter(part):
    def setter(self, value) -> None:
        part(self).copy_(value)

    return setter


def _conj(self) -> Tensor:
    # PyTorch's conj() is a lazy view with a conjugate bit; gradfit materialises it (same
    # values, same printing); a real tensor's conj() is itself.
    if self._array.dtype.kind != "c":
        return self
    out = _complex_ops.Conj.apply(self)
    out.__dict__["_is_conj"] = True  # what PyTorch's conjugate bit would say
    return out


def _resolve_conj(self) -> Tensor:
    # PyTorch copies a tensor whose conjugate bit is set (gradfit's values already are
    # conjugated) and returns any other tensor itself.
    if not self.__dict__.get("_is_conj"):
        return self
    return self.clone()


def _conj_physical(self) -> Tensor:
    if self._array.dtype.kind != "c":
        return self.clone()
    return _named(_complex_ops.Conj.apply(self), "ConjPhysicalBackward0")


def _abs(self) -> Tensor:
    if self._array.dtype.kind == "c":
        return _complex_ops.Abs.apply(self)
    return elementwise.Abs.apply(self)


_real_sgn = Tensor.sgn


def _sgn(self) -> Tensor:
    if self._array.dtype.kind == "c":
        return _complex_ops.Sgn.apply(self)
    return _real_sgn(self)


_real_sign = Tensor.sign


def _sign(self) -> Tensor:
    if self._array.dtype.kind == "c":
        raise NotImplementedError(
            "Unlike NumPy, torch.sign is not intended to support complex numbers. Please use "
            "torch.sgn instead."
        )
    return _real_sign(self)


def _angle(self) -> Tensor:
    return _complex_ops.Angle.apply(self if self._array.dtype.kind in "fc" else self.float())


def _var(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
    if self._array.dtype.kind == "c":  # E|z - mean|^2: real, the two parts' variances added
        return self.real.var(dim, unbiased, keepdim, correction=correction) + self.imag.var(
            dim, unbiased, keepdim, correction=correction
        )
    return _real_var(self, dim, unbiased, keepdim, correction=correction)


def _float_of(self) -> float:
    value = self.item()
    if isinstance(value, complex):
        if value.imag:
            raise RuntimeError("value cannot be converted to type double without overflow")
        return value.real
    return float(value)


def _std(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
    if self._array.dtype.kind == "c":
        out = _var(self, dim, unbiased, keepdim, correction=correction).sqrt()
        return _named(out, "StdBackward0")
    return _real_std(self, dim, unbiased, keepdim, correction=correction)


_real_var, _real_std = Tensor.var, Tensor.std
Tensor.var, Tensor.std = _var, _std
Tensor.__float__ = _float_of
Tensor.__complex__ = lambda self: complex(self.item())
Tensor.real = property(_real, _part_setter(_real))
Tensor.imag = property(_imag, _part_setter(_imag))
Tensor.conj = _conj
Tensor.conj_physical = _conj_physical
Tensor.resolve_conj = _resolve_conj
Tensor.resolve_neg = lambda self: self
Tensor.is_conj = lambda self: self.__dict__.get("_is_conj", False)
Tensor.is_neg = lambda self: False
Tensor.abs = Tensor.absolute = _abs
Tensor.sgn = _sgn
Tensor.sign = _sign
Tensor.angle = _angle
Tensor.stft = _stft.stft
Tensor.istft = _stft.istft


# --- apigaps: legacy linear algebra, *_scatter / *_copy forms, shifts, special functions and
# CPU-only facts (the functions in _tensorops_gaps, loaded on first call) -------------------
from gradfit.ops import activation as _activation  # noqa: E402


def _gaps():
    from gradfit import _tensorops_gaps

    return _tensorops_gaps


def _gap_method(name: str, fn_name: str | None = None, first: bool = True):
    def method(self, *args, **kwargs):
        fn = getattr(_gaps(), fn_name or name)
        return fn(self, *args, **kwargs) if first else fn(*args, self, **kwargs)

    method.__name__ = method.__qualname__ = name
    return method


for _name in (
    "qr", "lu", "lu_solve", "triangular_solve", "ger",
    "addr", "diagonal_scatter", "select_scatter", "slice_scatter", "narrow_copy",
    "bitwise_left_shift", "bitwise_right_shift", "nextafter", "i0", "mvlgamma", "igamma",
    "igammac", "isreal", "as_strided_scatter",
):  # fmt: skip
    setattr(Tensor, _name, _gap_method(_name))
Tensor.polygamma = _gap_method("polygamma", first=False)
for _name in ("solve", "lstsq", "eig", "symeig"):
    setattr(Tensor, _name, lambda self, *a, _n=_name, **k: _gaps().removed(_n)())
for _name in ("addr", "i0", "mvlgamma", "igamma", "igammac", "polygamma", "nextafter",
              "bitwise_left_shift", "bitwise_right_shift"):  # fmt: skip
    setattr(
        Tensor,
        _name + "_",
        lambda self, *a, _n=_name, **k: self._inplace_op(
            lambda t: getattr(Tensor, _n)(t, *a, **k), *[x for x in a if isinstance(x, Tensor)]
        ),
    )
Tensor.__lshift__ = lambda self, other: _gaps().bitwise_left_shift(self, other)
Tensor.__rshift__ = lambda self, other: _gaps().bitwise_right_shift(self, other)
Tensor.__rlshift__ = lambda self, other: _gaps().bitwise_left_shift(other, self)
Tensor.__rrshift__ = lambda self, other: _gaps().bitwise_right_shift(other, self)
Tensor.svd = lambda self, some=True, compute_uv=True: _tops.svd(self, some, compute_uv)
Tensor.hardshrink = lambda self, lambd=0.5: _activation.Shrink.apply(self, lambd=lambd, soft=False)
Tensor.prelu = lambda self, weight: _gaps().prelu(self, weight)
Tensor.split_with_sizes = lambda self, split_sizes, dim=0: self.split(list(split_sizes), dim)
Tensor.unsafe_split = lambda self, split_size, dim=0: self.split(split_size, dim)
Tensor.unsafe_chunk = lambda self, chunks, dim=0: self.chunk(chunks, dim)
Tensor.unsafe_split_with_sizes = Tensor.split_with_sizes
Tensor.corrcoef = lambda self: _rt().corrcoef(self)
# CPU-only facts: no pinned or shared memory, no other device, no quantisation or nesting
Tensor.get_device = lambda self: -1
Tensor.is_pinned = lambda self, device=None: False


def _pin_memory(self, device=None):
    raise RuntimeError("Cannot access accelerator device when none is available.")


def _share_memory_(self):
    """Move the values into memory other processes map too (gradfit._shared_memory)."""
    from gradfit import _shared_memory

    return _shared_memory.share(self)


def _is_shared(self) -> bool:
    from gradfit import _shared_memory

    return _shared_memory.is_shared(self)


# ``_base``: the tensor a view was made from by a view op (the root one for a view of a
# view), None for anything else, as PyTorch's
Tensor._base = property(lambda self: self.__dict__.get("_view_base"))
Tensor.pin_memory = _pin_memory
Tensor.is_shared = _is_shared
Tensor.share_memory_ = _share_memory_
for _name in ("is_quantized", "is_nested", "is_mkldnn", "is_xpu", "is_mps",
              "is_xla", "is_ipu", "is_vulkan", "is_maia", "is_mtia", "is_sparse_csr"):  # fmt: skip
    setattr(Tensor, _name, False)
Tensor.is_neg = lambda self: False
Tensor.is_distributed = lambda self: False


def _resize_(self, *sizes, memory_format=None):
    """PyTorch's ``resize_``: the first elements (row-major) keep their values, in the
    same memory when the tensor shrinks; new elements are uninitialised."""
    from gradfit._arrays import set_array

    shape = tuple(sizes[0]) if len(sizes) == 1 and not isinstance(sizes[0], int) else sizes
    shape = tuple(int(v) for v in shape)
    if any(v < 0 for v in shape):
        raise RuntimeError(
            f"Trying to create tensor with negative dimension {min(shape)}: {list(shape)}"
        )
    if self.requires_grad:
        raise RuntimeError("cannot resize variables that require grad")
    flat = _storage_of(self._array)
    n = int(np.prod(shape, dtype=np.int64))
    if n <= flat.size:
        new = flat[:n].reshape(shape)
    else:
        new = np.empty((n,), dtype=flat.dtype)
        new[: flat.size] = flat
        new = new.reshape(shape)
    set_array(self, new)
    return self


def _storage_of(a: np.ndarray) -> np.ndarray:
    """The flat memory a contiguous array starts, as far as its base reaches (a tensor
    shrunk by resize_ keeps its old elements for a later growth, as PyTorch's storage)."""
    root = a
    while isinstance(root.base, np.ndarray):
        root = root.base
    if (
        a.flags.c_contiguous
        and root.flags.c_contiguous
        and root.dtype == a.dtype
        and root.__array_interface__["data"][0] == a.__array_interface__["data"][0]
    ):
        return root.reshape(-1)
    return a.reshape(-1)


Tensor.resize_ = _resize_
Tensor.resize_as_ = lambda self, other, memory_format=None: _resize_(self, tuple(other.shape))
Tensor.resolve_neg = lambda self: self  # no lazily negated tensors in gradfit


def _new_empty_strided(self, size, stride, *, dtype=None, device=None, requires_grad=False, **_):
    dt = self.dtype if dtype is None else dtype
    return _gaps().empty_strided(size, stride, dtype=dt, device=device, requires_grad=requires_grad)


Tensor.new_empty_strided = _new_empty_strided


def _set_(self, source=None, storage_offset=0, size=None, stride=None):
    """``set_()``: an empty tensor; ``set_(t)``: share t's memory, shape and strides."""
    from gradfit._arrays import set_array

    if source is None:
        set_array(self, np.empty((0,), dtype=self._array.dtype))
        return self
    if not isinstance(source, Tensor):
        raise TypeError(f"set_: expected a Tensor source, got {type(source).__name__}")
    if storage_offset or size is not None or stride is not None:
        raise NotImplementedError("set_: storage_offset, size and stride are not supported")
    set_array(self, source._array)
    return self


def _is_set_to(self, tensor) -> bool:
    a, b = self._array, tensor._array
    return (
        a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
        and a.shape == b.shape
        and a.strides == b.strides
        and a.dtype == b.dtype
    )


def _as_subclass(self, cls):
    """A ``cls`` tensor sharing this one's memory and its place in the graph."""
    if not (isinstance(cls, type) and issubclass(cls, Tensor)):
        raise TypeError(f"as_subclass: expected a Tensor subclass, got {cls!r}")
    out = self.view_as(self)
    out.__class__ = cls
    return out


Tensor.set_ = _set_
Tensor.is_set_to = _is_set_to
Tensor.as_subclass = _as_subclass


# --- NumPy's argument names: PyTorch's argument parser takes ``axis`` for ``dim`` and
# ``keepdims`` for ``keepdim`` in every method that has them (``P.sum(1, keepdims=True)``
# is how makemore normalises its counts), so every such method here does too. ---
def _numpy_names(fn):
    def method(*args, **kwargs):
        if kwargs and ("axis" in kwargs or "keepdims" in kwargs):
            for numpy_name, name in (("axis", "dim"), ("keepdims", "keepdim")):
                if numpy_name in kwargs:
                    if name in kwargs:
                        raise TypeError(
                            f"{fn.__name__}() got both '{name}' and its alias '{numpy_name}'"
                        )
                    kwargs[name] = kwargs.pop(numpy_name)
        return fn(*args, **kwargs)

    method.__name__, method.__qualname__, method.__doc__ = fn.__name__, fn.__qualname__, fn.__doc__
    method.__wrapped__ = fn
    return method


def _takes_dim(fn) -> bool:
    """Whether ``fn`` (or the function a wrapper's ``__wrapped__`` names) has a parameter
    ``dim`` or ``keepdim`` and none named ``axis``: read from its code object, since
    ``inspect.signature`` over every function would slow ``import gradfit`` noticeably."""
    while hasattr(fn, "__wrapped__"):
        fn = fn.__wrapped__
    code = getattr(fn, "__code__", None)
    if code is None:
        return False
    names = code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]
    return ("dim" in names or "keepdim" in names) and "axis" not in names


# public methods only; ``size``/``stride`` stay unwrapped: they sit on every hot path and
# nobody spells their argument ``axis``
NUMPY_NAMES_SKIPPED = ("size", "stride")
for _name, _fn in list(vars(Tensor).items()):
    if (
        not _name.startswith("_")
        and _name not in NUMPY_NAMES_SKIPPED
        and type(_fn) is type(_numpy_names)
        and _takes_dim(_fn)
    ):
        setattr(Tensor, _name, _numpy_names(_fn))


# --- Tensor.histogram: torch.histogram as a method ---
def _histogram_method(self, bins=100, *, range=None, weight=None, density=False):  # noqa: A002
    import gradfit  # the function lives above the core (its edges are torch.linspace's)

    return gradfit.histogram(self, bins, range=range, weight=weight, density=density)


Tensor.histogram = _histogram_method
