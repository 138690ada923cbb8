"""Graph nodes: the internal op base class and the public ``Function`` for user ops.

An op is a small class with ``forward(ctx, *arrays) -> array`` and
``backward(ctx, grad_output) -> one gradient per input`` working on NumPy arrays. The
instance made by ``apply`` is the graph node: it is the output's ``grad_fn`` and the
``ctx`` both methods see. Ops never undo broadcasting: the engine sums every gradient
back to its input's shape in one place (``engine.sum_to_shape``).

``backward`` works on arrays and records nothing: the first-order path. For
``create_graph=True`` (gradients of gradients) the engine asks each node instead for
``backward_graph(ctx, grad_output)``, the same derivative written with gradfit operations
on Tensors (so it is recorded), or, for a fused op, differentiates its ``composite``: the
op's function written in differentiable gradfit operations. An op with neither raises
under create_graph, naming itself (never a silently wrong second derivative).

The graph machinery sits below ``gradfit.tensor`` and never imports it: it knows tensors
through the protocol ``TensorProtocol`` (the fields it reads and writes) and builds
them from the one class that ``gradfit.tensor`` binds (``autograd.bind_tensor_class``) when
it defines ``Tensor``, as minitorch's autodiff knows its ``Variable`` only as a protocol.
"""

from __future__ import annotations

import functools
import itertools
import weakref
from typing import Protocol

import numpy as np

from gradfit._grad_mode import _enabled, _fw_on, no_grad
from gradfit._meta import MetaArray as _MetaArray
from gradfit.autograd import _torch_names

_new = object.__new__
# Nodes are numbered as they are recorded, from the first in-place op recorded in a graph
# on (``number_nodes``): the engine tells from the numbers whether a node consumed a tensor
# before or after an in-place op replaced that tensor's node. Nodes recorded before that
# first one keep 0, which is "before" every in-place node, as they are.
_next_seq = itertools.count(1).__next__
_numbering = [False]


# The (pack, unpack) pairs of the active ``torch.autograd.graph.saved_tensors_hooks``
# contexts, innermost last (``graph.saved_tensors_hooks``): while it is not empty, each
# recorded node hands what it saves to ``pack`` (``saved_tensors.pack_node``).
_saved_hooks: list = []


def _pack_saved(ctx, args, out) -> None:
    from gradfit.autograd import saved_tensors

    saved_tensors.pack_node(ctx, args, out)


def number_nodes() -> None:
    """Number every node recorded from now on (an in-place op is about to be recorded)."""
    _numbering[0] = True


_ndarray = np.ndarray
_asarray = np.asarray


# The sparse array type (``ops.sparse.SparseArray``, bound there): an op output of that
# type is held by the Tensor subclass it names (``_sparse_output``); NumPy scalars and
# other data are converted by ``np.asarray`` as before.
_SPARSE_TYPE = None


def _sparse_output(t, out):
    t.__class__ = out.tensor_class
    return out


def _other_output(t, out):
    """The array to store for an output that is not an ndarray (``Tensor._make``)."""
    kind = type(out)
    if kind is _SPARSE_TYPE:
        return _sparse_output(t, out)
    return out if kind is _MetaArray else _asarray(out)


def count_edit(t) -> None:
    """Count an in-place edit of ``t`` in its version, which PyTorch's views share with
    their base: a tensor with view bookkeeping (anything in its ``__dict__``) passes the
    new version to its base and the base's live views."""
    t._version += 1
    if t.__dict__:
        share_version(t)


def share_version(t) -> None:
    """Give ``t``'s base and every live view of that base ``t``'s version."""
    d = t.__dict__
    root = d.get("_view_base")
    if root is None:
        root = t
    v = t._version
    root._version = v
    views = root.__dict__.get("_views")
    if views:
        for w in views:
            w._version = v


class TensorProtocol(Protocol):
    """What the graph machinery (``Op.apply``, ``Function``, the engine, ``grad``,
    ``gradcheck``) uses of a tensor.

    Attributes:
        _array: the values, an ``np.ndarray``.
        _requires_grad: whether gradients flow to this tensor.
        _version: counts in-place edits; a node checks it before reading saved values.
        grad_fn: the node (an ``Op``) that made the tensor, None for a leaf.
        grad: the accumulated gradient of a leaf (a tensor) or None.
        _hooks: a leaf's gradient hooks (a list) or None.
    """

    _array: np.ndarray
    _requires_grad: bool
    _version: int
    grad_fn: Op | None
    grad: TensorProtocol | None
    _hooks: list | None

    @staticmethod
    def _make(arr: np.ndarray, node: Op | None) -> TensorProtocol:
        """Wrap ``arr`` (no copy) as the output of ``node`` (None: outside the graph)."""

    def _note_view_of(self, src: TensorProtocol) -> None:
        """Record that this tensor, made by a ``ViewOp`` from ``src``, may share its memory."""


# The tensor class, bound once by ``gradfit.autograd.bind_tensor_class`` (gradfit.tensor
# calls it when it defines Tensor). A module global, so the per-op path reads it as it
# would an imported name.
Tensor: type[TensorProtocol] = None  # type: ignore[assignment]


class Op:
    """Base class of gradfit's built-in ops (array level).

    Saved tensors are version-checked, as PyTorch checks its saved variables: an op whose
    backward reads what it saved raises, instead of computing a wrong gradient, when one
    of those tensors was edited in place after the forward pass (``y.mul_(0)`` under
    ``no_grad``). An op declares what it saves:

        saves_inputs: its backward reads its inputs (the default). ``apply`` notes the
            inputs' versions; the engine compares them before calling ``backward``. An
            op whose backward reads an input only for another input's gradient (a
            product's operands) says so in ``reads_input``, so an edit of an input it
            did not need is no error, as in PyTorch.
        saves_output: its backward reads its output (exp, tanh, softmax, ...). The
            engine checks that the output is still at ``output_version`` (0: a new
            tensor's version; an in-place op recorded in the graph sets it) when the
            output's gradient reaches the node. May be set per call in ``forward``.

    Attributes set on the node by ``apply`` when the output needs a gradient:
        inputs: the arguments of the call (Tensors, numbers, arrays), in order.
        versions: the inputs' version counters (None for non-tensors and unsaved inputs).
        kwargs: the keyword arguments of the call.

    Second order (``create_graph=True``), one of:
        backward_graph(ctx, grad_output): as ``backward``, on Tensors, with gradfit
            operations; ``ctx.inputs`` holds the input Tensors.
        composite(*inputs, **kwargs): the forward function in gradfit operations on
            Tensors; its derivative is taken through the engine.
    """

    saves_inputs = True
    saves_output = False
    output_version = 0
    inputs = ()
    versions = None
    kwargs: dict = {}  # never mutated: apply replaces it per node
    hooks = None
    _freed = False
    seq = 0  # the recording order (``_next_seq``; 0 before the first in-place op)
    replaced = None  # an in-place op's node: the tensor as it was before the edit
    packed = None  # what saved-tensor hooks packed (``saved_tensors.pack_node``)
    backward_graph = None
    composite = None
    # True for an op whose backward handles complex gradients itself (ops/complex.py,
    # the FFTs); the others get PyTorch's convention from engine._wirtinger.
    complex_grad = False
    # Whether the node's printed name is picked from its inputs, which backward frees
    # (``_torch_names.pin_name``): None until the first node of the class is freed.
    _picks_name = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._picks_name = None  # a subclass's name is picked by its own entry

    @staticmethod
    def forward(ctx, *args, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError

    @staticmethod
    def backward(ctx, grad_output):  # pragma: no cover - abstract
        raise NotImplementedError

    def reads_input(self, i: int) -> bool:
        """Whether this node's backward reads input ``i`` (asked only when that input
        was edited in place after the forward pass)."""
        return True

    @classmethod
    def apply(cls, *args, **kwargs) -> Tensor:
        # The per-op path: the lecture's program spends most of its time here and in the
        # engine, not in arithmetic. One loop unwraps the arrays, finds whether any input
        # needs a gradient and notes the inputs' versions (None for non-tensors), instead
        # of three comprehensions; the output Tensor is built inline (Tensor._make).
        ctx = _new(cls)
        arrays = []
        saves = cls.saves_inputs
        versions = [] if saves else None
        needs_grad = False
        for a in args:
            if isinstance(a, Tensor):
                arrays.append(a._array)
                if saves:
                    versions.append(a._version)
                if a._requires_grad:
                    needs_grad = True
            else:
                # A NumPy scalar operand acts as the Python number it holds (PyTorch's
                # wrapped numbers), not as a float64 array that would promote the result.
                arrays.append(a.item() if isinstance(a, np.generic) else a)
                if saves:
                    versions.append(None)
        # Calls with one to three arrays and no keywords are spelled out, because
        # unpacking a list into a call is a sizeable part of this short function.
        n = len(arrays)
        if kwargs:
            for v in kwargs.values():
                if isinstance(v, np.generic):  # as for positional operands above
                    kwargs = {
                        k: w.item() if isinstance(w, np.generic) else w for k, w in kwargs.items()
                    }
                    break
        try:
            if kwargs:
                out = cls.forward(ctx, *arrays, **kwargs)
                ctx.kwargs = kwargs  # a composite re-runs the forward with them
            elif n == 2:
                out = cls.forward(ctx, arrays[0], arrays[1])
            elif n == 1:
                out = cls.forward(ctx, arrays[0])
            elif n == 3:
                out = cls.forward(ctx, arrays[0], arrays[1], arrays[2])
            else:
                out = cls.forward(ctx, *arrays)
        except ValueError as e:
            message = "could not be broadcast" in str(e) and broadcast_error(
                [np.shape(a) for a in arrays if hasattr(a, "shape")]
            )
            if not message:
                raise
            raise RuntimeError(message) from None
        t = _new(Tensor)
        # (a meta output is made meta again by the meta-aware path, _meta_mode)
        t._array = (
            out
            if type(out) is _ndarray
            else _asarray(out)
            if type(out) is not _SPARSE_TYPE
            else _sparse_output(t, out)
        )
        t._grad = None
        t._version = 0
        t._hooks = None
        if needs_grad and _enabled[0]:
            ctx.inputs = args
            if _numbering[0]:
                ctx.seq = _next_seq()
            if saves:
                ctx.versions = versions
            t.grad_fn = ctx
            t._requires_grad = True
            if _saved_hooks:
                _pack_saved(ctx, args, t)
        else:
            t.grad_fn = None
            t._requires_grad = False
        return t

    def name(self) -> str:
        """PyTorch's name for this node (``AddmmBackward0``), from one table."""
        return _torch_names.node_name(self)

    def __repr__(self) -> str:
        return f"<{self.name().rpartition('::')[2]} object at {id(self):#x}>"  # PyTorch's form

    @property
    def metadata(self) -> dict:
        """A dict kept with the node for the user's own notes (PyTorch's ``metadata``)."""
        return self.__dict__.setdefault("user_metadata", {})

    @property
    def next_functions(self):
        """The parents' nodes, as PyTorch exposes them: an input's ``grad_fn``, the
        ``AccumulateGrad`` of a leaf that requires grad, None for the rest. (Empty once
        ``backward()`` has freed the graph: keeping the edges would cost every backward
        pass a walk over every node's inputs.)"""
        return tuple((_parent(t), 0) for t in self.inputs)

    def free(self) -> None:
        """Drop the recorded inputs (the engine, after backward without retain_graph),
        keeping the name they chose (``AddmmBackward0``), which ``print(out)`` shows."""
        _torch_names.pin_name(self)
        self.inputs = ()
        self.versions = None
        self._freed = True


def _parent(t):
    if not isinstance(t, Tensor):
        return None
    if t.grad_fn is not None:
        return t.grad_fn
    return accumulate_grad(t) if t._requires_grad else None


class AccumulateGrad:
    """The node PyTorch shows for a leaf that requires grad (``next_functions`` of the
    ops that used it): ``variable`` is the leaf. One per leaf while it is referenced,
    as in PyTorch, so ``is`` comparisons between edges hold."""

    __slots__ = ("variable", "__weakref__")
    next_functions = ()

    def __init__(self, variable) -> None:
        self.variable = variable

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {id(self):#x}>"


def accumulate_grad(t) -> AccumulateGrad:
    """The leaf's ``AccumulateGrad`` (made on first use, kept while referenced)."""
    ref = t.__dict__.get("_grad_accumulator")
    node = ref() if ref is not None else None
    if node is None:
        node = AccumulateGrad(t)
        t.__dict__["_grad_accumulator"] = weakref.ref(node)
    return node


def broadcast_error(shapes) -> str | None:
    """PyTorch's message for shapes that do not broadcast together (``infer_size``: the
    dimensions are compared from the last, the first mismatch is named), None if they do."""
    ndim = max((len(sh) for sh in shapes), default=0)
    for i in range(ndim - 1, -1, -1):
        sizes = [sh[i - ndim + len(sh)] if i - ndim + len(sh) >= 0 else 1 for sh in shapes]
        a = sizes[0]
        for b in sizes[1:]:
            if a != b and a != 1 and b != 1:
                return (
                    f"The size of tensor a ({a}) must match the size of tensor b ({b}) at "
                    f"non-singleton dimension {i}"
                )
            a = b if a == 1 else a
    return None


class ViewOp(Op):
    """An op whose output may share its first input's memory (reshape, permute, expand,
    basic indexing). The output is noted as a view of that input (``_note_view_of``), so
    that an in-place op inside a graph on either updates the other's gradient history
    too (PyTorch's CopySlices) instead of leaving it stale."""

    @classmethod
    def apply(cls, *args, **kwargs) -> Tensor:
        out = _op_apply(cls, *args, **kwargs)
        if out._array.base is not None and isinstance(args[0], Tensor):
            out._note_view_of(args[0])
        return out


_op_apply = Op.apply.__func__  # Op.apply on a subclass, without super()'s lookup


class _LinearAdjoint(Op):
    """The backward of an op that is linear (or affine) in its first input, as an op of
    its own: forward is that op's ``backward`` (J^T g), and its gradient is J v, the
    original op applied to v minus its value at 0 (exact for linear ops, and right for
    affine ones such as padding with a constant). Its own derivative is the original op
    again, so such ops are differentiable to any order."""

    saves_inputs = False

    @staticmethod
    def forward(ctx, g, node=None):
        ctx.op, ctx.kwargs_of_op = type(node), node.kwargs
        ctx.rest = tuple(getattr(a, "_array", a) for a in node.inputs[1:])
        out = node.backward(node, g)
        return out[0] if type(out) is tuple else out

    @staticmethod
    def backward(ctx, grad_output):
        def f(v):
            return ctx.op.forward(_new(ctx.op), v, *ctx.rest, **ctx.kwargs_of_op)

        return _asarray(f(grad_output)) - _asarray(f(np.zeros_like(grad_output)))

    @staticmethod
    def backward_graph(ctx, g):
        zero = Tensor._make(np.zeros_like(g._array), None)
        op = ctx.op
        return op.apply(g, *ctx.rest, **ctx.kwargs_of_op) - op.apply(
            zero, *ctx.rest, **ctx.kwargs_of_op
        )

    def name(self) -> str:
        return self.op.__name__ + "BackwardBackward"


def linear_backward_graph(ctx, grad_output):
    """``backward_graph`` of an op linear (or affine) in its first input, all other
    arguments constant (flip, roll, cumsum, gather, padding, average pooling, ...):
    ``Op.backward_graph = staticmethod(linear_backward_graph)``."""
    for t in ctx.inputs[1:]:
        if isinstance(t, Tensor) and t._requires_grad:
            raise RuntimeError(
                f"{ctx.name()} has no second-order derivative in gradfit when its other "
                "inputs require grad: create_graph=True cannot go through it"
            )
    return _LinearAdjoint.apply(grad_output, node=ctx)


# PyTorch's words when a graph freed by an earlier backward is used again
GRAPH_FREED = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
    "backward through the graph a second time or if you need to access saved tensors after "
    "calling backward."
)


class FunctionCtx:
    """The ``ctx`` a user ``Function`` sees: save tensors, read them back in backward."""

    def save_for_backward(self, *tensors) -> None:
        self._saved = tensors
        self._saved_versions = [getattr(t, "_version", None) for t in tensors]

    def save_for_forward(self, *tensors) -> None:
        """Keep ``tensors`` for ``jvp`` (forward mode), where ``saved_tensors`` gives them."""
        self._saved_for_forward = tensors

    @property
    def saved_tensors(self) -> tuple:
        if self._saved is None:
            raise RuntimeError(GRAPH_FREED)
        if getattr(self, "packed", None) is not None:  # packed by saved-tensor hooks
            from gradfit.autograd import saved_tensors

            return saved_tensors.unpack_function_saved(self._saved)
        return self._saved


class _SavedAttribute:
    """``node._saved_<name>`` and ``node._raw_saved_<name>``: PyTorch's views of what a
    node saved (``saved_tensors.saved_attribute``; AttributeError where it saved none).
    Descriptors on ``Op`` for the names nodes save, rather than an ``Op.__getattr__``,
    which would slow every attribute read of every node."""

    def __init__(self, name: str):
        self.name = name

    def __get__(self, node, owner=None):
        if node is None:
            return self
        from gradfit.autograd import saved_tensors

        return saved_tensors.saved_attribute(node, self.name)


for _name in (
    "self other result result1 result2 input mat1 mat2 vec weight bias exponent index "
    "indices target a b out input0 input1 input2 input3"
).split():
    for _prefix in ("_saved_", "_raw_saved_"):
        setattr(Op, _prefix + _name, _SavedAttribute(_prefix + _name))


class _UserNode(Op, FunctionCtx):
    """Graph node for a user ``Function``: wraps arrays as Tensors around its backward."""

    pieces = None  # (start, stop, shape) of each output in the packed one, if several
    _saved_for_forward = None  # what ``save_for_forward`` kept (forward mode)
    complex_grad = True  # a user's backward gets the gradient as PyTorch gives it

    def __init__(self, fn_cls):
        self.fn_cls = fn_cls
        self._saved = ()
        self._saved_versions = ()
        self.needs_input_grad = ()
        self._non_differentiable = ()

    def mark_non_differentiable(self, *tensors) -> None:
        """Outputs that get no gradient (indices, masks), as PyTorch's ctx method."""
        self._non_differentiable = tensors

    def set_materialize_grads(self, value: bool) -> None:
        """Accepted for PyTorch's API; gradients of unused outputs are zeros either way."""

    def _grads_of_outputs(self, grad_output) -> tuple:
        """One gradient per output of ``forward``, as PyTorch passes them: a piece of the
        packed gradient, zeros for a non-differentiable tensor, None for a non-tensor."""
        if self.pieces is None:
            return (grad_output,)
        grads = []
        for piece in self.pieces:
            if piece is None:
                grads.append(None)
            elif piece[0] == "zeros":
                grads.append(Tensor._make(np.zeros(piece[1], dtype=piece[2]), None))
            else:
                grads.append(grad_output[piece[0] : piece[1]].reshape(piece[2]))
        return tuple(grads)

    @staticmethod
    def backward(ctx, grad_output):
        with no_grad():
            grads = ctx.fn_cls.backward(
                ctx, *ctx._grads_of_outputs(Tensor._make(grad_output, None))
            )
        if not isinstance(grads, tuple):
            grads = (grads,)
        n_tensors = len(ctx.inputs)
        if len(grads) != n_tensors:
            raise RuntimeError(
                f"function {ctx.name()} returned an incorrect number of gradients (expected "
                f"{n_tensors}, got {len(grads)})"
            )
        return tuple(g._array if isinstance(g, Tensor) else g for g in grads)

    @staticmethod
    def backward_graph(ctx, grad_output):
        """create_graph: the user's backward runs on Tensors with grad mode on, so the
        gradfit operations it uses are recorded. A gradient that needs no grad although
        its inputs do was computed outside gradfit operations (on arrays, or under
        ``once_differentiable``): it is returned behind a node that raises if reached."""
        grads = ctx.fn_cls.backward(ctx, *ctx._grads_of_outputs(grad_output))
        if not isinstance(grads, tuple):
            grads = (grads,)
        if len(grads) != len(ctx.inputs):
            raise RuntimeError(
                f"function {ctx.name()} returned an incorrect number of gradients (expected "
                f"{len(ctx.inputs)}, got {len(grads)})"
            )
        deps = [t for t in (grad_output, *ctx.inputs) if isinstance(t, Tensor) and t._requires_grad]
        out = []
        for g in grads:
            if isinstance(g, Tensor) and deps and not g._requires_grad:
                g = _NotTwiceDifferentiable.apply(g, *deps, name=ctx.name())
            out.append(g)
        return tuple(out)

    def name(self) -> str:
        return self.fn_cls.__name__ + "Backward"

    def __repr__(self) -> str:
        return f"<{type(self).__module__}.{self.name()} object at {id(self):#x}>"  # PyTorch's

    @property
    def next_functions(self):
        """One edge per tensor argument of ``apply`` (PyTorch leaves the others out)."""
        return tuple((_parent(t), 0) for t in self.inputs if isinstance(t, Tensor))


class _NotTwiceDifferentiable(Op):
    """PyTorch's DelayedError: stands for a gradient that was computed outside gradfit
    operations; differentiating through it raises."""

    saves_inputs = False

    @staticmethod
    def forward(ctx, value, *deps, name=""):
        ctx.fn_name = name
        return value

    @staticmethod
    def _raise(ctx, grad_output):
        raise RuntimeError(
            f"{ctx.fn_name} is not differentiable twice: its backward computes outside "
            "gradfit operations (on arrays, or under once_differentiable). Write the "
            "backward with gradfit operations to take gradients of gradients."
        )

    backward = _raise
    backward_graph = _raise


def once_differentiable(backward):
    """Decorator for a ``Function.backward`` that is not differentiable (PyTorch's
    ``torch.autograd.function.once_differentiable``): it runs without recording, and a
    gradient of its gradient raises instead of silently being zero."""

    @functools.wraps(backward)
    def wrapper(ctx, *grad_outputs):
        with no_grad():
            return backward(ctx, *grad_outputs)

    return wrapper


class Function:
    """Base class for user-defined differentiable functions, as ``torch.autograd.Function``.

    Subclass it with static ``forward(ctx, *args)`` and ``backward(ctx, grad_output)``
    working on Tensors, then call ``MyFn.apply(*args)``::

        class Square(Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            def backward(ctx, grad_output):  # FUNCTION rule: delta_a = delta_b * f'(a)
                (x,) = ctx.saved_tensors
                return grad_output * 2 * x

    ``forward`` runs without recording; ``backward`` returns one gradient per input of
    ``forward`` (None for inputs that are not Tensors or need no gradient). Each subclass
    gets its node class, ``<Name>Backward``, the type of its outputs' ``grad_fn``.
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._backward_cls = type(cls.__name__ + "Backward", (_UserNode,), {})

    @staticmethod
    def forward(ctx, *args, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError("Function subclasses must implement forward(ctx, ...)")

    @staticmethod
    def backward(ctx, *grad_outputs):  # pragma: no cover - abstract
        raise NotImplementedError("Function subclasses must implement backward(ctx, grad)")

    @staticmethod
    def setup_context(ctx, inputs, output):
        """PyTorch 2's split form: ``forward(*args)`` without ``ctx``, then
        ``setup_context(ctx, inputs, output)`` saves what backward needs. Overriding it
        selects that form."""
        raise NotImplementedError

    @staticmethod
    def jvp(ctx, *grad_inputs):
        """Forward mode (``gradfit.autograd.forward_ad``): the tangent of the output from
        one tangent per input of ``forward`` (zeros for a Tensor without one, None for a
        non-Tensor). Tensors ``ctx.save_for_forward`` kept are ``ctx.saved_tensors`` here."""
        raise NotImplementedError(
            "You must implement the jvp function for custom autograd.Function to use it with "
            "forward mode AD."
        )

    @classmethod
    def apply(cls, *args, **kwargs):
        if _fw_on[0]:  # a forward AD level: the output's tangent comes from ``jvp``
            from gradfit.autograd.forward_ad import _dual_function_apply

            return _dual_function_apply(cls, *args, **kwargs)
        return _function_apply(cls, args, kwargs)[0]


def _function_apply(cls, args, kwargs) -> tuple:
    """``Function.apply``: (the output, or the tuple of outputs, and the node ``forward``
    saw as ``ctx``)."""
    node = cls._backward_cls(cls)
    node.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
    with no_grad():
        if cls.setup_context is not Function.setup_context:
            out = cls.forward(*args, **kwargs)
            cls.setup_context(node, args, out)
        else:
            out = cls.forward(node, *args, **kwargs)
    if isinstance(out, tuple):
        return _apply_outputs(node, args, out), node
    if not isinstance(out, Tensor):
        out = Tensor._make(np.asarray(out), None)
    if _enabled[0] and any(node.needs_input_grad):
        _record(node, args, (out,))
        new = Tensor._make(out._array, node)
        # a saved output is the output itself: its gradient flows under create_graph
        node._saved = tuple(new if t is out else t for t in node._saved)
        out = new
        if _saved_hooks:
            _pack_function_saved(node)
    return out, node


def _pack_function_saved(node) -> None:
    from gradfit.autograd import saved_tensors

    saved_tensors.pack_function_saved(node)
    node.packed = ()  # the engine has nothing to restore: saved_tensors unpacks


def _record(node, args, outs) -> None:
    node.inputs = args
    # Only what forward saved is checked, with its version when it was saved.
    saved = dict(zip(map(id, node._saved), node._saved_versions))
    node.versions = [saved.get(id(a)) if isinstance(a, Tensor) else None for a in args]
    node.saves_output = any(id(o) in saved for o in outs)
    if _numbering[0]:
        node.seq = _next_seq()


def _apply_outputs(node, args, outs: tuple) -> tuple:
    """A Function returning several values. Its differentiable outputs (floating-point
    Tensors not marked non-differentiable) are laid end to end in one array, the node's
    single output, and each returned tensor is its piece of it (``_OutputOf``): the
    engine then adds every output's gradient into that array (zeros where an output was
    not used, as PyTorch materialises them), and the node splits it for ``backward``."""
    skip = {id(t) for t in node._non_differentiable}
    diff = [
        i
        for i, o in enumerate(outs)
        if isinstance(o, Tensor) and o._array.dtype.kind in "fc" and id(o) not in skip
    ]
    for o in outs:
        if isinstance(o, Tensor) and id(o) in skip:
            o._requires_grad = False
    if not (_enabled[0] and any(node.needs_input_grad) and diff):
        return outs
    _record(node, args, [outs[i] for i in diff])
    dtype = np.result_type(*(outs[i]._array for i in diff))
    node.pieces = []
    start = 0
    for i, o in enumerate(outs):
        if i in diff:
            shape = o._array.shape
            size = int(np.prod(shape))
            node.pieces.append((start, start + size, shape))
            start += size
        elif isinstance(o, Tensor):
            node.pieces.append(("zeros", o._array.shape, o._array.dtype))
        else:
            node.pieces.append(None)
    packed = np.concatenate([outs[i]._array.reshape(-1).astype(dtype) for i in diff])
    whole = Tensor._make(packed, node)
    result = list(outs)
    for i in diff:
        a, b, shape = node.pieces[i]
        result[i] = _OutputOf.apply(whole, a, b, shape)
        result[i].grad_fn.user_node = node
    remap = {id(outs[i]): result[i] for i in diff}
    node._saved = tuple(remap.get(id(t), t) for t in node._saved)
    if _saved_hooks:
        _pack_function_saved(node)
    return tuple(result)


class _OutputOf(Op):
    """One output of a several-output Function: its piece of the node's single array.
    Named after the Function's node, whose output it is in PyTorch."""

    saves_inputs = False

    @staticmethod
    def forward(ctx, whole, start, stop, shape):
        ctx.size, ctx.start, ctx.stop = whole.shape[0], start, stop
        return whole[start:stop].reshape(shape)

    @staticmethod
    def backward(ctx, grad_output):
        g = np.zeros(ctx.size, dtype=grad_output.dtype)
        g[ctx.start : ctx.stop] = grad_output.reshape(-1)
        return g

    backward_graph = staticmethod(linear_backward_graph)

    def name(self) -> str:
        return self.user_node.name()

    @property
    def next_functions(self):
        return self.user_node.next_functions
