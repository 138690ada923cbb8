"""Hooks on the tensors the graph saves for backward (``torch.autograd.graph``'s
``saved_tensors_hooks``), and a node's ``_saved_<name>`` / ``_raw_saved_<name>`` views of
what it saved.

While a ``saved_tensors_hooks(pack, unpack)`` context is active (its pair is the last of
``function._saved_hooks``), ``Op.apply`` hands every node it records to ``pack_node``:
``pack`` is called once per tensor the op saves, at forward time, with grad mode off, and
what it returns replaces the op's own reference to that array; the engine calls
``unpack_node`` before the node's backward, which calls ``unpack`` on each (grad mode off)
and puts the arrays of the Tensors it returns where the op's backward reads them. So the
gradient is computed from what ``unpack`` returns, as in PyTorch.

Which tensors are saved. For the ops of ``_RULES`` (mul, div, pow, matmul, linear,
mse_loss, convolutions, max and average pooling, embedding, layer_norm) it is PyTorch's choice, in
PyTorch's order (an op that keeps arrays derived from an input, a convolution's columns,
runs its forward again on unpack's array): a product saves each operand only
when the other operand needs a gradient, pow with a tensor exponent also saves its result,
linear saves its input and its transposed weight (what ``addmm`` saves). Every other op
saves exactly the arrays it keeps for its backward: its inputs, in order, whose arrays it
holds (sin, log, ...), then its output if it holds that (exp, tanh, sigmoid, relu, sqrt,
softmax, ...), which for the common unary ops is PyTorch's choice too. The output is
handed to ``pack`` as the very tensor the op returns, an input as the very tensor passed
in, as in PyTorch. (``x.square()`` is a product in gradfit: two packs, PyTorch's pow one.)

Not covered: the graph keeps each node's input tensors as its edges, so packing an input
away (to disk, ...) does not free its memory in gradfit as it does in PyTorch; under
``create_graph=True`` ``unpack`` is called but second-order formulas read the inputs.
"""

from __future__ import annotations

import numpy as np

from gradfit._grad_mode import no_grad
from gradfit.autograd import function as _function

_FREED_MESSAGE = _function.GRAPH_FREED


def _needs(t) -> bool:
    return isinstance(t, _function.Tensor) and t._requires_grad


def _is_tensor(t) -> bool:
    return isinstance(t, _function.Tensor)


class _Saved:
    """One saved tensor of a node: what ``pack`` returned (or the tensor itself when no
    hooks are set), the ``unpack`` to call, and where the op's backward reads the array."""

    __slots__ = ("name", "packed", "unpack", "restore", "hooked", "shape")

    def __init__(self, name, tensor, restore):
        self.name = name
        self.shape = tensor._array.shape
        self.packed = tensor
        self.unpack = None
        self.restore = restore
        self.hooked = False

    def set_hooks(self, pack, unpack, detached: bool = False) -> None:
        with no_grad():
            self.packed = pack(self.packed.detach() if detached else self.packed)
        self.unpack = unpack
        self.hooked = True

    def value(self):
        """The tensor the backward uses (``unpack``'s result), checked."""
        if self.unpack is None:
            return self.packed
        with no_grad():
            t = self.unpack(self.packed)
        if not _is_tensor(t):
            raise TypeError(
                "Output of saved tensor unpack_hook expected to be a Tensor but got result of "
                f"type {type(t).__name__}"
            )
        return t


# --- which tensors an op saves ---------------------------------------------------------
# A rule returns [(name, tensor, restore)], in PyTorch's order; restore is a tuple of the
# ctx attributes that hold the array, or a function (ctx, array) setting them.


def _binary(first, second, first_needed, second_needed):
    """A product or quotient: ``other`` (saved when ``first_needed``) then ``self``."""

    def rule(ctx, args, out):
        a, b = args[0], args[1]
        saved = []
        if _is_tensor(b) and first_needed(a, b):
            saved.append((first, b, ("b",)))
        if _is_tensor(a) and second_needed(a, b):
            saved.append((second, a, ("a",)))
        return saved

    return rule


def _pow_rule(ctx, args, out):
    a, b = args[0], args[1]
    if not _is_tensor(b):  # a tensor to a number: self, for its own gradient
        return [("self", a, ("a",))] if _needs(a) else []
    saved = []
    either = _needs(a) or _needs(b)
    if either:
        saved.append(("exponent", b, ("b",)))
    if _is_tensor(a) and either:
        saved.append(("self", a, ("a",)))
    if _needs(b):
        saved.append(("result", out, ("out",)))
    return saved


def _matmul_rule(ctx, args, out):
    a, b = args[0], args[1]
    if a._array.ndim == 2 and b._array.ndim == 1:  # mv: self, then vec
        saved = [("self", a, ("a",))] if _needs(b) else []
        return saved + ([("vec", b, ("b",))] if _needs(a) else [])
    # mm (and the batched forms): mat2 when self needs a gradient, then self
    saved = [("mat2", b, ("b",))] if _needs(a) else []
    return saved + ([("self", a, ("a",))] if _needs(b) else [])


def _linear_rule(ctx, args, out):
    """addmm's choice: the (2-D) input when the weight needs a gradient, then the
    transposed weight when the input does; without a bias, mm's order (weight first)."""
    x, w = args[0], args[1]
    bias = args[2] if len(args) > 2 else None
    if w._array.ndim != 2:
        return []
    in_features = w._array.shape[1]
    x_shape = ctx.x.shape

    def set_x(ctx, arr):
        ctx.x = arr.reshape(x_shape)

    def set_w(ctx, arr):
        ctx.weight = arr.T

    saved_x = saved_w = None
    if _needs(w):
        x2 = x if x._array.ndim == 2 else x.reshape(-1, in_features)
        saved_x = ("mat1" if bias is not None else "self", x2, set_x)
    if _needs(x):
        saved_w = ("mat2", w.t(), set_w)
    order = (saved_x, saved_w) if bias is not None else (saved_w, saved_x)
    return [s for s in order if s is not None]


def _mse_rule(ctx, args, out):
    """mse_loss saves self and target; gradfit's op keeps their difference."""

    def set_self(ctx, arr):
        ctx.d = arr

    def set_target(ctx, arr):
        ctx.d = ctx.d - arr

    return [("self", args[0], set_self), ("target", args[1], set_target)]


class _Reforward:
    """The restore of an op that keeps arrays derived from its inputs (a convolution's
    columns, a pooling's argmax): input ``index`` is replaced by unpack's array and the
    op's forward is run again to derive them from it."""

    __slots__ = ("index",)

    def __init__(self, index: int):
        self.index = index


def _no_restore(ctx, arr) -> None:
    """For a saved tensor the op's backward does not read (an average pooling's input)."""


def _conv_rule(ctx, args, out):
    """convolution saves its input and its weight, whenever it is recorded."""
    return [("input", args[0], _Reforward(0)), ("weight", args[1], _Reforward(1))]


def _max_pool_rule(ctx, args, out):
    """max pooling saves its input and the indices of the maxima (gradfit's are the
    window positions, PyTorch's the positions in the input plane: same shape and dtype)."""
    indices = _function.Tensor._make(ctx.arg.astype(np.int64), None)
    return [("self", args[0], _Reforward(0)), ("result1", indices, _no_restore)]


def _avg_pool_rule(ctx, args, out):
    return [("self", args[0], _no_restore)]


def _embedding_rule(ctx, args, out):
    indices = args[1]
    if not _is_tensor(indices):
        indices = _function.Tensor._make(np.asarray(indices), None)

    def set_indices(ctx, arr):
        ctx.indices = arr

    return [("indices", indices, set_indices)]


def _layer_norm_rule(ctx, args, out):
    """layer_norm saves its bias, input, weight, and the mean and 1/std it computed; its
    backward reads x_hat = (input - mean) * rstd, rebuilt from the unpacked three."""
    x = args[0]
    weight = args[1] if len(args) > 1 else None
    bias = args[2] if len(args) > 2 else None
    make = _function.Tensor._make
    mean = make(ctx.mu, None)

    def set_input(ctx, arr):
        ctx.ln_input = arr

    def set_mean(ctx, arr):
        ctx.ln_mean = arr

    def set_rstd(ctx, arr):
        ctx.rstd = arr
        ctx.x_hat = (ctx.ln_input - ctx.ln_mean) * arr

    saved = [("bias", bias, _no_restore)] if _is_tensor(bias) else []
    saved.append(("input", x, set_input))
    if _is_tensor(weight):
        saved.append(("weight", weight, ("weight",)))
    saved.append(("result1", mean, set_mean))
    saved.append(("result2", make(ctx.rstd, None), set_rstd))
    return saved


_RULES: dict = {}


def _bind_rules() -> None:
    """The op classes of ``_RULES``, from ``gradfit.ops`` (imported when hooks are first
    used: ops sit above autograd, which must not import them at load time)."""
    import importlib

    elementwise = importlib.import_module("gradfit.ops.elementwise")
    matmul = importlib.import_module("gradfit.ops.matmul")
    loss = importlib.import_module("gradfit.ops.loss")
    _RULES[loss.MSELoss] = _mse_rule
    _RULES[elementwise.Mul] = _binary(
        "other", "self", lambda a, b: _needs(a), lambda a, b: _needs(b)
    )
    _RULES[elementwise.Div] = _binary(
        "other", "self", lambda a, b: _needs(a) or _needs(b), lambda a, b: _needs(b)
    )
    _RULES[elementwise.Pow] = _pow_rule
    _RULES[matmul.MatMul] = _matmul_rule
    _RULES[matmul.Linear] = _linear_rule
    conv = importlib.import_module("gradfit.ops.conv")
    pooling = importlib.import_module("gradfit.ops.pooling")
    sequence = importlib.import_module("gradfit.ops.sequence")
    _RULES[conv.ConvNd] = _conv_rule
    _RULES[pooling.MaxPoolNd] = _max_pool_rule
    _RULES[pooling.AvgPoolNd] = _avg_pool_rule
    _RULES[sequence.Embedding] = _embedding_rule
    activation = importlib.import_module("gradfit.ops.activation")
    _RULES[activation.LayerNorm] = _layer_norm_rule


_INPUT_NAMES = ("self", "other")


def _default_rule(ctx, args, out):
    """The arrays the op keeps in ``ctx``: its inputs', then its output's."""
    kept = ctx.__dict__
    saved = []
    tensors = [a for a in args if _is_tensor(a)]
    for i, a in enumerate(tensors):
        arr = a._array
        attrs = tuple(k for k, v in kept.items() if v is arr)
        if attrs:
            name = _INPUT_NAMES[i] if i < len(_INPUT_NAMES) and len(tensors) <= 2 else f"input{i}"
            saved.append((name, a, attrs))
    if out is not None:
        arr = out._array
        attrs = tuple(k for k, v in kept.items() if v is arr)
        if attrs:
            saved.append(("result", out, attrs))
    return saved


def _saved_of(ctx, args, out) -> list:
    if not _RULES:
        _bind_rules()
    rule = _RULES.get(type(ctx), _default_rule)
    return [_Saved(name, t, restore) for name, t, restore in rule(ctx, args, out)]


def _clear(ctx, restore) -> None:
    if type(restore) is tuple:
        for attr in restore:
            ctx.__dict__[attr] = None


def pack_node(ctx, args, out) -> None:
    """Called by ``Op.apply`` for a recorded node while hooks are set: ``pack`` each saved
    tensor and drop the op's own reference to its array (backward reads unpack's)."""
    pack, unpack = _function._saved_hooks[-1]
    saved = _saved_of(ctx, args, out)
    for s in saved:
        s.set_hooks(pack, unpack)
    for s in saved:
        _clear(ctx, s.restore)
    ctx.packed = saved


def unpack_node(node, retain_graph: bool) -> None:
    """Called by the engine before ``node``'s backward: put unpack's arrays back."""
    again = {}
    for s in node.packed:
        arr = s.value()._array
        if arr.shape != s.shape:
            raise RuntimeError(
                f"unpack_hook returned a tensor of shape {tuple(arr.shape)} for the saved "
                f"tensor {s.name!r} of {node.name()}, which has shape {tuple(s.shape)}"
            )
        if type(s.restore) is tuple:
            for attr in s.restore:
                node.__dict__[attr] = arr
        elif type(s.restore) is _Reforward:
            again[s.restore.index] = arr
        else:
            s.restore(node, arr)
    if again:
        _forward_again(node, again)
    if not retain_graph:
        node.packed = ()


_GRAPH_FIELDS = ("inputs", "versions", "kwargs", "packed", "seq", "hooks", "user_metadata")


def _forward_again(node, arrays: dict) -> None:
    """Re-run the node's forward on unpack's arrays (the others as recorded) so that what
    it derives from them for backward comes from unpack's values."""
    args = []
    for i, a in enumerate(node.inputs):
        if i in arrays:
            args.append(arrays[i])
        elif _is_tensor(a):
            args.append(a._array)
        else:
            args.append(a.item() if isinstance(a, np.generic) else a)
    fresh = object.__new__(type(node))
    with np.errstate(all="ignore"):
        type(node).forward(fresh, *args, **node.kwargs)
    for k, v in fresh.__dict__.items():
        if k not in _GRAPH_FIELDS:
            node.__dict__[k] = v


# --- a node's _saved_<name> and _raw_saved_<name> ----------------------------------------


class SavedTensor:
    """``torch._C._autograd.SavedTensor``: one tensor a node saved, on which
    ``register_hooks(pack, unpack)`` sets hooks of its own (``pack`` is called at once)."""

    def __init__(self, node, saved: _Saved):
        self._node = node
        self._saved = saved

    def register_hooks(self, pack_hook, unpack_hook) -> None:
        if not (callable(pack_hook) and callable(unpack_hook)):
            raise TypeError(
                "register_hooks expects two callables (pack_hook, unpack_hook), got "
                f"{type(pack_hook).__name__} and {type(unpack_hook).__name__}"
            )
        if self._node._freed:
            raise RuntimeError(_FREED_MESSAGE)
        if self._saved.hooked:
            raise RuntimeError(
                "Calling register_hooks on a saved tensor whose hooks have already been set. "
                "Hint: only one pair of hooks is allowed at a time."
            )
        packed = self._node.__dict__.get("packed")
        if packed is None:  # the node's first hooked tensor: the others keep their arrays
            packed = self._node.packed = []
        # PyTorch hands this pack hook the saved data without its autograd history
        self._saved.set_hooks(pack_hook, unpack_hook, detached=True)
        _clear(self._node, self._saved.restore)
        if self._saved not in packed:
            packed.append(self._saved)

    def __repr__(self) -> str:
        return f"<torch._C._autograd.SavedTensor object at {id(self):#x}>"


def _saved_list(node) -> list:
    packed = node.__dict__.get("packed")
    if packed is not None:
        return packed
    cached = node.__dict__.get("_saved_entries")
    if cached is None:
        out = _function.Tensor._make(_output_array(node), node) if _keeps_output(node) else None
        cached = node.__dict__["_saved_entries"] = _saved_of(node, node.inputs, out)
    return cached


def _keeps_output(node) -> bool:
    return _output_array(node) is not None


def _output_array(node):
    v = node.__dict__.get("out")
    return v if type(v) is np.ndarray else None


def saved_attribute(node, name: str):
    """``node._saved_<name>`` (the saved tensor, or a saved number) and
    ``node._raw_saved_<name>`` (its ``SavedTensor``); AttributeError for other names."""
    if isinstance(node, _function._UserNode):  # PyTorch names no custom Function's
        raise AttributeError(f"{type(node).__name__!r} object has no attribute {name!r}")
    raw = name.startswith("_raw_saved_")
    key = name[len("_raw_saved_") :] if raw else name[len("_saved_") :]
    if node._freed:
        raise RuntimeError(_FREED_MESSAGE)
    for s in _saved_list(node):
        if s.name == key:
            if raw:
                return SavedTensor(node, s)
            return s.value()
    if not raw and key == "exponent" and len(node.inputs) > 1:
        b = node.inputs[1]
        if not _is_tensor(b):
            return b
    raise AttributeError(f"{type(node).__name__!r} object has no attribute {name!r}")


def pack_function_saved(node) -> None:
    """A user ``Function``'s ``save_for_backward`` while hooks are set: ``pack`` each
    tensor; ``saved_tensors`` unpacks them."""
    pack, unpack = _function._saved_hooks[-1]
    entries = []
    for t in node._saved:
        if _is_tensor(t):
            s = _Saved("", t, ())
            s.set_hooks(pack, unpack)
            entries.append(s)
        else:
            entries.append(t)
    node._saved = tuple(entries)


def unpack_function_saved(saved: tuple) -> tuple:
    return tuple(s.value() if type(s) is _Saved else s for s in saved)
