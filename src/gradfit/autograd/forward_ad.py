"""Forward-mode automatic differentiation: ``torch.autograd.forward_ad``.

Inside ``dual_level()``, ``make_dual(x, t)`` returns a tensor aliasing ``x`` that carries
the tangent ``t``; every op applied to tensors with tangents gives its output the tangent
J t (the Jacobian-vector product), which ``unpack_dual`` returns. Tangents of an exited
level are gone, and one level at a time is supported, as in PyTorch.

How a tangent is computed (the design). Tangents are propagated eagerly, op by op, as
PyTorch does, not derived later from a recorded graph: forward AD then works under
``no_grad`` (which, as in PyTorch, does not apply to it), a dual tensor's
``requires_grad``, ``grad_fn`` and printing stay PyTorch's, and memory does not grow with
the program. There is no table of forward rules to fall out of step with the ops: each op
is differentiated from its own reverse-mode derivative by the double-vjp trick, on its
single node. The node's backward written in gradfit operations (``Op.backward_graph``, or
its ``composite`` differentiated: what ``create_graph=True`` already uses, and what the op
registry checks for every op against PyTorch's double backward) gives J^T u recorded as a
function of a zero seed u; J^T u is linear in u, so the gradient of <J^T u, t> with
respect to u is J t. Any op that has a second-order derivative therefore has a tangent,
and one that has none raises (never a silently missing tangent). View ops (reshape,
permute, expand, basic indexing) are linear in their input: their tangent is the same
view of the input's tangent, so that, as in PyTorch, a view's tangent shares memory with
its base's tangent and in-place edits of either are seen by the other.

While a level is entered, ``Op.apply`` is replaced by a tangent-aware version (gradfit
looks ``Op.apply`` up at each call; nothing binds it ahead), and the in-place methods of
``gradfit.tensor`` take their general path (``_inplace`` below): outside a level the
per-op path is exactly as fast as without this module. ``Function.apply`` asks itself
whether a level is entered, since users bind it ahead (``fn = Fn.apply``).

An op's tangent is itself built from gradfit operations, so when grad mode is on and
the primals or tangents require grad it is recorded, and one can backpropagate through
tangents (``unpack_dual(y).tangent.sum().backward()``), as in PyTorch. A tangent requires
grad only where it depends on such a tensor (PyTorch's formulas sometimes record a
dependence multiplied by zero: ``(dual * 2)``'s tangent has a ``grad_fn`` there). A custom
``Function`` needs a ``jvp`` staticmethod, as in PyTorch.
"""

from __future__ import annotations

import copy
import functools
import itertools
import weakref
from typing import NamedTuple

import numpy as np

from gradfit._grad_mode import _enabled, _fw_level, _fw_on
from gradfit.autograd import engine, function

__all__ = [
    "UnpackedDualTensor",
    "dual_level",
    "enter_dual_level",
    "exit_dual_level",
    "make_dual",
    "unpack_dual",
]

# PyTorch's public level number: -1 outside a level, 0 inside the only one.
_current_level = [-1]
# Each entered level gets a new generation (``_fw_level``): a tangent is stored with the
# generation it belongs to, so one left over from an exited level is never read.
_next_generation = itertools.count(1).__next__
# The tensors given a tangent in this level (id -> weak reference; a WeakSet would compare
# tensors with ``==``, which is elementwise): exiting the level deletes their tangents.
_DUALS: dict = {}

_plain_op_apply = function.Op.__dict__["apply"].__func__


class UnpackedDualTensor(NamedTuple):
    """What ``unpack_dual`` returns: the primal and the tangent (None if none)."""

    primal: object
    tangent: object


# ----------------------------------------------------------------------- tangent storage


def _tangent(t, gen: int):
    """``t``'s tangent at generation ``gen``, or None. A view made before its base got a
    tangent (or whose base got one by an in-place op) has the matching view of the base's
    tangent, as in PyTorch."""
    entry = getattr(t, "_fw_grad", None)
    if entry is not None and entry[0] == gen:
        return entry[1]
    base = getattr(t, "_view_base", None)
    if base is None:
        return None
    base_tangent = _tangent(base, gen)
    if base_tangent is None:
        return None
    view = _matching_view(base_tangent._array, base._array, t._array)
    if view is None:
        return None
    tan = function.Tensor._make(view, None)
    _set(t, tan, gen)
    return tan


def _set(t, tangent, gen: int) -> None:
    t._fw_grad = (gen, tangent)
    key = id(t)
    ref = _DUALS.get(key)
    if ref is None or ref() is not t:
        _DUALS[key] = weakref.ref(t, functools.partial(_forget, key))


def _forget(key: int, ref) -> None:
    if _DUALS.get(key) is ref:
        del _DUALS[key]


def _matching_view(base_tangent: np.ndarray, base: np.ndarray, view: np.ndarray):
    """The view of ``base_tangent`` that ``view`` is of ``base`` (same offset and strides),
    or None when the tangent is not laid out as the base, or ``view`` is not in ``base``."""
    if base_tangent.strides != base.strides or base_tangent.dtype != base.dtype:
        return None
    owner = base_tangent
    while isinstance(owner.base, np.ndarray):
        owner = owner.base
    offset = (
        base_tangent.__array_interface__["data"][0]
        - owner.__array_interface__["data"][0]
        + view.__array_interface__["data"][0]
        - base.__array_interface__["data"][0]
    )
    try:
        return np.ndarray(
            view.shape, base_tangent.dtype, buffer=owner, offset=offset, strides=view.strides
        )
    except (TypeError, ValueError):
        return None


def _alias(t, gen: int):
    """A tensor sharing ``t``'s memory, a view of it in the graph when ``t`` is in one,
    without a tangent at ``gen``."""
    saved = _fw_on[0]
    _fw_on[0] = 0
    try:
        if _enabled[0] and t._requires_grad:
            out = t.view_as(t)
        else:
            out = function.Tensor._make(t._array, None)
    finally:
        _fw_on[0] = saved
    out._fw_grad = (gen, None)  # explicitly none, whatever its base carries
    return out


# ----------------------------------------------------------------------------- levels


def _install(on: bool) -> None:
    """Route op application through the tangent-aware versions (or back)."""
    apply = _dual_op_apply if on else _plain_op_apply
    function.Op.apply = classmethod(apply)
    function._op_apply = apply


def enter_dual_level() -> int:
    """Enter a new forward grad level (0); ``make_dual`` and ``unpack_dual`` use it by
    default. Only one level at a time is supported, as in PyTorch."""
    if _current_level[0] >= 0:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    gen = _next_generation()
    _fw_level[0] = _fw_on[0] = gen
    _current_level[0] = 0
    _install(True)
    return 0


def exit_dual_level(*, level: int | None = None) -> None:
    """Exit the forward grad level: every tangent of that level is deleted."""
    if level is None:
        level = _current_level[0]
    if level != _current_level[0]:
        raise RuntimeError(
            "Trying to exit a forward AD level that was not the last one that was created. "
            "This is not supported."
        )
    if level < 0:  # no level was entered
        raise RuntimeError("Dual level must be a positive number.")
    _install(False)
    for ref in list(_DUALS.values()):
        t = ref()
        if t is not None:
            t.__dict__.pop("_fw_grad", None)
    _DUALS.clear()
    _fw_level[0] = _fw_on[0] = 0
    _current_level[0] = -1


class dual_level:  # noqa: N801 - PyTorch's name
    """Context manager (``with dual_level():``) and decorator: all forward AD computation
    happens inside it; the tangents made inside are deleted when it exits."""

    def __enter__(self) -> int:
        return enter_dual_level()

    def __exit__(self, *exc) -> None:
        exit_dual_level()

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)

        return wrapper


def _check_level(level, what: str) -> int:
    if level is None:
        level = _current_level[0]
    if level < 0 and what == "_make_dual":
        raise RuntimeError(
            "Trying to create a dual Tensor for forward AD but no level exists, make sure to "
            "enter_dual_level() first."
        )
    return level


def _check_floating(t, name: str) -> None:
    if not isinstance(t, function.Tensor):
        raise TypeError(f"make_dual: expected {name} to be a Tensor, got {type(t).__name__}")
    if t._array.dtype.kind not in "fc":
        raise ValueError(f"Expected {name} to be floating point or complex, but got: {t.dtype}")


def make_dual(tensor, tangent, *, level: int | None = None):
    """A new tensor aliasing ``tensor`` (a view of it in the graph) with ``tangent``
    attached: ops on it propagate the Jacobian-vector product. The tangent is kept as it
    is when laid out as ``tensor`` (shared, not copied), else copied to that layout."""
    level = _check_level(level, "_make_dual")
    _check_floating(tensor, "primal")
    _check_floating(tangent, "tangent")
    if level != _current_level[0]:
        raise RuntimeError("Invalid level given to _make_dual")
    gen = _fw_level[0]
    if tuple(tensor.shape) != tuple(tangent.shape):
        raise RuntimeError(
            "Trying to set a forward gradient that has a different size than that of the "
            f"original Tensor, this is not supported. Tensor is of size {list(tensor.shape)} "
            f"while the given forward gradient is of size {list(tangent.shape)}."
        )
    if _tangent(tensor, gen) is not None:
        raise RuntimeError(
            "Making a dual Tensor based on a Tensor that already has a forward gradient at "
            f"the same level {level} is not supported."
        )
    if _tangent(tangent, gen) is not None:
        raise RuntimeError(
            "Expected tangent to not be a dual Tensor of the same level: nested forward "
            "mode AD is not supported at the moment"
        )
    arr = tangent._array
    if arr.strides != tensor._array.strides and not tangent._requires_grad:
        # PyTorch's rule: a tangent laid out otherwise is copied to the primal's layout,
        # which the tangents of views rely on.
        laid = np.empty_like(tensor._array, dtype=arr.dtype)
        laid[...] = arr
        tangent = function.Tensor._make(laid, None)
    dual = _alias(tensor, gen)
    del dual.__dict__["_fw_grad"]
    if "_view_base" not in dual.__dict__:
        dual._note_view_of(tensor)
    _set(dual, tangent, gen)
    return dual


def unpack_dual(tensor, *, level: int | None = None) -> UnpackedDualTensor:
    """``(primal, tangent)`` of ``tensor``: the primal a view of ``tensor`` without the
    tangent, the tangent as it is (None, with ``tensor`` itself as primal, if none)."""
    level = _check_level(level, "_unpack_dual")
    if level < 0:
        return UnpackedDualTensor(tensor, None)
    if not isinstance(tensor, function.Tensor):
        raise TypeError(
            "_unpack_dual(): argument 'dual' (position 1) must be Tensor, not "
            f"{type(tensor).__name__}"
        )
    gen = _fw_level[0]
    tan = _tangent(tensor, gen) if gen else None
    if level != _current_level[0]:
        if tan is not None:
            raise RuntimeError("Invalid level given to _fw_primal")
        return UnpackedDualTensor(tensor, None)
    if tan is None:
        return UnpackedDualTensor(tensor, None)
    return UnpackedDualTensor(_alias(tensor, gen), tan)


# ------------------------------------------------------------------- op application


def _tangents_of(args, gen: int):
    tans = None
    T = function.Tensor
    for i, a in enumerate(args):
        if isinstance(a, T):
            t = _tangent(a, gen)
            if t is not None:
                if tans is None:
                    tans = [None] * len(args)
                tans[i] = t
    return tans


def _dual_op_apply(cls, *args, **kwargs):
    """``Op.apply`` while a level is entered: the plain path unless an input has a tangent."""
    gen = _fw_on[0]
    if gen:
        tans = _tangents_of(args, gen)
        if tans is not None:
            return _apply_with_tangents(cls, args, kwargs, tans, gen)
    return _plain_op_apply(cls, *args, **kwargs)


def _apply_with_tangents(cls, args, kwargs, tans, gen):
    T = function.Tensor
    grad_on = _enabled[0]
    reverse = grad_on and any(isinstance(a, T) and a._requires_grad for a in args)
    # The tangent is recorded when it may be differentiated (backward through tangents).
    create = reverse or (grad_on and any(t is not None and t._requires_grad for t in tans))
    _fw_on[0] = 0  # the ops computing a tangent propagate none themselves
    try:
        if issubclass(cls, function.ViewOp) and all(t is None for t in tans[1:]):
            out = _plain_op_apply(cls, *args, **kwargs)
            if out._array.dtype.kind in "fc":
                _set(out, _plain_op_apply(cls, tans[0], *args[1:], **kwargs), gen)
            return out
        # The op runs once, on stand-ins that record its node: the inputs with a tangent
        # (fresh leaves unless the tangent must stay connected to the caller's graph).
        stand = list(args)
        leaves: dict = {}
        for i, (a, t) in enumerate(zip(args, tans)):
            if not isinstance(a, T) or (create and (t is None or a._requires_grad)):
                continue
            s = leaves.get(id(a))
            if s is None:
                s = T._make(a._array, None)
                s._requires_grad = t is not None
                leaves[id(a)] = s
            stand[i] = s
        _enabled[0] = True
        try:
            local = _plain_op_apply(cls, *stand, **kwargs)
            ctx, arr = local.grad_fn, local._array
            if reverse:  # the caller's graph gets the node, on the real inputs
                node = copy.copy(ctx)
                node.inputs = args
                if ctx.versions is not None:
                    node.versions = [a._version if isinstance(a, T) else None for a in args]
                out = T._make(arr, node)
            else:
                out = T._make(arr, None)
            if ctx is not None and arr.dtype.kind in "fc":
                _set(out, _node_jvp(ctx, arr, stand, tans, create), gen)
        finally:
            _enabled[0] = grad_on
        return out
    finally:
        _fw_on[0] = gen


def _node_jvp(ctx, out_arr, stand, tans, create: bool):
    """J t for one node by the double-vjp trick: d/du <J^T u, t> = J t."""
    T = function.Tensor
    # Any seed gives the same J t (J^T u is linear in u); ones, not zeros, because a
    # backward may branch on a zero gradient (eigh's eigenvalues-only case).
    u = T._make(np.ones_like(out_arr), None)
    u._requires_grad = True
    try:
        in_grads = engine._derivative(ctx, u)
    except RuntimeError as e:
        if "no second-order derivative" not in str(e):
            raise
        raise NotImplementedError(
            f"Trying to use forward AD with {ctx.name()} that does not support it: {e}"
        ) from None
    if type(in_grads) is not tuple:
        in_grads = (in_grads,)
    roots, seeds = [], []
    for s, t, g in zip(stand, tans, in_grads):
        if t is None or g is None:
            continue
        if not isinstance(g, T):
            continue  # a constant: J^T u does not depend on u, J is 0
        if not g._requires_grad:
            continue
        shape = s._array.shape
        if g._array.shape != shape:
            g = engine._sum_to_shape_graph(g, shape)
        if t._array.dtype != g._array.dtype:
            t = t.to(g.dtype)
        roots.append(g)
        seeds.append(t)
    if not roots:
        return T._make(np.zeros_like(out_arr), None)
    if create:
        # Stop at the real inputs: the partial derivative of this node only.
        capture = {id(u): u}
        for a in stand:
            if isinstance(a, T) and a._requires_grad:
                capture[id(a)] = a
        res = engine.run_backward_graph(roots, seeds, True, capture, stop_at_capture=True).get(
            id(u)
        )
        if res is None:
            return T._make(np.zeros_like(out_arr), None)
        if any(res is t for t in seeds):
            res = res.clone()  # an identity: the output's tangent is a tensor of its own
        return res
    got = engine.run_backward(roots, [t._array for t in seeds], False, capture=[u]).get(id(u))
    if got is None:
        return T._make(np.zeros_like(out_arr), None)
    if any(np.may_share_memory(got, t._array) for t in seeds):
        got = got.copy()
    return T._make(got, None)


def _dual_function_apply(cls, *args, **kwargs):
    """``Function.apply`` while a level is entered: with a tangent in, the Function's
    ``jvp`` gives the output's (its forward runs without forward AD, as in PyTorch)."""
    gen = _fw_on[0]
    tans = _tangents_of(args, gen) if gen else None
    if tans is None:
        return function._function_apply(cls, args, kwargs)[0]
    if cls.jvp is function.Function.jvp:
        function.Function.jvp(None)  # PyTorch's NotImplementedError
    T = function.Tensor
    _fw_on[0] = 0
    try:
        out, node = function._function_apply(cls, args, kwargs)
        grads = [
            (t if t is not None else T._make(np.zeros_like(a._array), None))
            if isinstance(a, T)
            else None
            for a, t in zip(args, tans)
        ]
        saved = node._saved
        if getattr(node, "_saved_for_forward", None) is not None:
            node._saved = node._saved_for_forward
        try:
            res = cls.jvp(node, *grads)
        finally:
            node._saved = saved
    finally:
        _fw_on[0] = gen
    if isinstance(res, tuple | list):
        if len(res) != 1:
            raise RuntimeError(
                "Function's jvp returned an invalid number of forward gradients (expected 1 "
                f"but got {len(res)})"
            )
        res = res[0]
    if res is not None and out._array.dtype.kind in "fc":
        if not isinstance(res, T):
            raise TypeError(f"{cls.__name__}.jvp must return a Tensor, got {type(res).__name__}")
        if tuple(res.shape) != tuple(out.shape):
            raise RuntimeError(
                f"{cls.__name__}.jvp returned a tangent of shape {tuple(res.shape)} for an "
                f"output of shape {tuple(out.shape)}"
            )
        _set(out, res, gen)
    return out


# ------------------------------------------------------------------------ in-place ops


def _inplace(self, fn, others, run):
    """An in-place op on ``self`` while a level is entered (``Tensor._inplace_op``):
    ``run(fn)`` edits the primal as usual, ``fn`` receiving the tensor as it was before the
    edit, to which this gives ``self``'s tangent; the result's tangent becomes ``self``'s,
    written into ``self``'s tangent (so that views of it see the edit) where it can be."""
    gen = _fw_on[0]
    T = function.Tensor
    old = _tangent(self, gen)
    if old is None and not any(isinstance(o, T) and _tangent(o, gen) is not None for o in others):
        return run(fn)
    got = []

    def with_tangent(t):
        if old is not None:
            _set(t, old, gen)
        res = fn(t)
        got.append(_tangent(res, gen) if isinstance(res, T) else None)
        return res

    result = run(with_tangent)
    new = got[-1] if got else None
    if new is None:
        return result
    if tuple(new.shape) != tuple(self.shape):  # an in-place view op (unsqueeze_, t_)
        _set(self, new, gen)
        return result
    if new._array.dtype != self._array.dtype and self._array.dtype.kind in "fc":
        new = new.to(self.dtype)
    cur = old
    if cur is None:
        cur = _tangent_from_base(self, gen)
    if (
        cur is not None
        and not (cur._requires_grad or new._requires_grad)
        and cur._array.flags.writeable
        and cur._array.shape == new._array.shape
        and cur._array.dtype == new._array.dtype
    ):
        np.copyto(cur._array, new._array)
        cur._version += 1
        if old is None:
            _set(self, cur, gen)
    else:
        _set(self, new, gen)
    return result


def _tangent_from_base(t, gen: int):
    """For a view whose base has no tangent yet: a zero tangent for the base (laid out as
    the base) and the view's part of it, so that the edit reaches the base's tangent, as
    in PyTorch; None when ``t`` is not a view."""
    base = getattr(t, "_view_base", None)
    if base is None or not np.may_share_memory(base._array, t._array):
        return None
    if _tangent(base, gen) is None:
        _set(base, function.Tensor._make(np.zeros_like(base._array), None), gen)
    return _tangent(t, gen)


def tangent_for_repr(t):
    """The tangent printed with ``t`` (``tensor(..., tangent=...)``), or None."""
    gen = _fw_level[0]
    return _tangent(t, gen) if gen else None
