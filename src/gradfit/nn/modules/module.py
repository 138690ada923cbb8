"""``Module``: the base class of every layer and model, as ``torch.nn.Module``.

A Module owns Parameters, buffers and child Modules, registered by assigning them as
attributes (``self.fc = Linear(2, 3)``). It walks them in registration order for
``parameters()``, ``state_dict()``, ``apply()`` and friends, with PyTorch's names
("0.weight", "encoder.fc.bias").
"""

from __future__ import annotations

import functools
import itertools
import warnings
from collections import OrderedDict, namedtuple
from collections.abc import Callable, Iterator
from types import MappingProxyType

import numpy as np

from gradfit import _dtypes, _layout, _meta
from gradfit._arrays import modified, set_array, unwrap
from gradfit._grad_mode import no_grad
from gradfit._hooks import RemovableHandle
from gradfit.autograd.function import Function
from gradfit.nn.parameter import Buffer, Parameter
from gradfit.tensor import Tensor, _check_device, parse_to


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """``load_state_dict``'s result; prints as PyTorch's when every key matched."""

    __slots__ = ()

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


_NO_HOOKS = MappingProxyType({})

# Hooks of every module (torch.nn.modules.module.register_module_forward_hook and
# register_module_forward_pre_hook): they run before each module's own hooks.
_global_forward_pre_hooks: OrderedDict = OrderedDict()
_global_forward_hooks: OrderedDict = OrderedDict()
_global_forward_hooks_with_kwargs: set = set()


def register_module_forward_pre_hook(hook: Callable) -> RemovableHandle:
    """``hook(module, args)`` before the forward of every module (PyTorch's global
    forward pre-hook); a non-None return value replaces the positional arguments."""
    handle = RemovableHandle(_global_forward_pre_hooks)
    _global_forward_pre_hooks[handle.id] = hook
    return handle


def register_module_forward_hook(
    hook: Callable, *, with_kwargs: bool = False, always_call: bool = False
) -> RemovableHandle:
    """``hook(module, args, output)`` (``with_kwargs``: ``hook(module, args, kwargs,
    output)``) after the forward of every module, before the module's own forward hooks;
    a non-None return value replaces the output."""
    handle = RemovableHandle(_global_forward_hooks)
    _global_forward_hooks[handle.id] = hook
    if with_kwargs:
        _global_forward_hooks_with_kwargs.add(handle.id)
    return handle


# PyTorch's name for a Module class's state-dict layout version (``Module._version``); a
# class attribute of modules, unrelated to a tensor's version counter of the same name.
_LAYOUT_VERSION = "_version"


def _addindent(s: str, num_spaces: int) -> str:
    lines = s.split("\n")
    if len(lines) == 1:
        return s
    first = lines.pop(0)
    rest = [(num_spaces * " ") + line if line.strip() else "" for line in lines]
    return first + "\n" + "\n".join(rest)


def _shape_str(shape) -> str:
    return f"gradfit.Size({list(shape)})"


class _BackwardHookNode(Function):
    """Identity on the way forward. On the way back, around a module with backward hooks
    (PyTorch's ``BackwardHook``):

    - the node on the module's output hands the gradient of the output(s) to the
      backward pre-hooks (``hook(module, grad_output)``, which may replace it) and keeps
      it for the full backward hooks;
    - the node on the module's inputs calls the full backward hooks with the gradient of
      the inputs (``hook(module, grad_input, grad_output)``, which may replace it).

    ``layout``: (length of the tuple, positions in it of the tensors that need a gradient,
    their shapes). Several such tensors pass as one flat tensor, so that their gradients
    arrive together, as the hooks need them; the others get None, as in PyTorch.
    """

    @staticmethod
    def forward(ctx, x, state, layout, role):
        ctx.state, ctx.layout, ctx.role = state, layout, role
        return x

    @staticmethod
    def backward(ctx, grad):
        from gradfit._factories import zeros_like

        n, live, shapes, arrived = ctx.layout
        if len(live) == 1:
            pieces = [grad]
        else:
            sizes = [_numel(sh) for sh in shapes]
            pieces = [g.reshape(sh) for g, sh in zip(grad.split(sizes), shapes, strict=True)]
        grads = [None] * n
        for i, g in zip(live, pieces, strict=True):
            # a joined tensor's part that no gradient reached is None, as in PyTorch
            grads[i] = g if arrived is None or i in arrived else None
        grads = tuple(grads)
        state = ctx.state
        module = state.module
        if ctx.role == "output":
            for hook in list(module._backward_pre_hooks.values()):
                grads = _replaced(hook(module, grads), grads, "Backward pre hook", "grad_output")
            state.grad_outputs = grads
            if state.inputs_live is None and module._backward_hooks:
                # no input needs a gradient: the hooks run now, as PyTorch's do (and warn)
                import warnings

                warnings.warn(
                    "Full backward hook is firing when gradients are computed with respect "
                    "to module outputs since no inputs require gradients. See "
                    "https://docs.pytorch.org/docs/main/generated/torch.nn.Module.html"
                    "#torch.nn.Module.register_full_backward_hook for more details.",
                    stacklevel=2,
                )
                none = (None,) * state.n_inputs
                for hook in list(module._backward_hooks.values()):
                    res = hook(module, none, grads)
                    if res is not None and not all(r is None for r in res):
                        raise RuntimeError(
                            "Backward hook for Modules where no input requires gradient "
                            "should always return None or None for all gradients."
                        )
        else:
            # PyTorch hands a zero gradient for a tensor input that needs none (its hook
            # node fills the gradients of all the tensors it wraps)
            grads = tuple(
                zeros_like(t) if g is None and isinstance(t, Tensor) else g
                for g, t in zip(grads, state.inputs, strict=True)
            )
            for hook in list(module._backward_hooks.values()):
                grads = _replaced(
                    hook(module, grads, state.grad_outputs), grads, "Backward hook", "grad_input"
                )
        out = [grads[i] for i in live]
        if len(live) == 1:
            return out[0], None, None, None
        from gradfit._functional import cat

        out = [zeros_like(p) if g is None else g for g, p in zip(out, pieces, strict=True)]
        return cat([g.reshape(-1) for g in out]), None, None, None


def _replaced(res, grads: tuple, what: str, name: str) -> tuple:
    if res is None:
        return grads
    res = tuple(res) if isinstance(res, tuple | list) else (res,)
    if len(res) != len(grads):
        raise RuntimeError(
            f"{what} returned an invalid number of {name}, got {len(res)}, but expected "
            f"{len(grads)}"
        )
    return res


def _numel(shape) -> int:
    return int(np.prod(shape, dtype=np.int64))


class _HookState:
    """One call of a module with backward hooks: what its two nodes share."""

    __slots__ = ("module", "n_inputs", "inputs", "inputs_live", "grad_outputs")

    def __init__(self, module, inputs: tuple) -> None:
        self.module = module
        self.inputs = inputs
        self.n_inputs = len(inputs)
        self.inputs_live = None
        self.grad_outputs = None


def _through_node(values, state, role: str):
    """``values`` (a tensor, or a tuple) with its tensors that need a gradient routed
    through one ``_BackwardHookNode``; returns (new values, positions routed or None)."""
    if isinstance(values, Tensor):
        if not values.requires_grad:
            return values, None
        layout = (1, [0], [tuple(values.shape)], None)
        return _BackwardHookNode.apply(values, state, layout, role), [0]
    if not isinstance(values, tuple):
        return values, None
    live = [i for i, r in enumerate(values) if isinstance(r, Tensor) and r.requires_grad]
    if not live:
        return values, None
    shapes = [tuple(values[i].shape) for i in live]
    out = list(values)
    if len(live) == 1:
        layout = (len(values), live, shapes, None)
        out[live[0]] = _BackwardHookNode.apply(values[live[0]], state, layout, role)
    else:
        from gradfit._functional import cat

        arrived: set = set()  # the parts a gradient reached (their tensor hooks say so)
        layout = (len(values), live, shapes, arrived)
        flat = cat([values[i].reshape(-1) for i in live])
        joined = _BackwardHookNode.apply(flat, state, layout, role)
        start = 0
        for i, sh in zip(live, shapes, strict=True):
            n = _numel(sh)
            out[i] = joined[start : start + n].reshape(sh)
            out[i].register_hook(lambda g, i=i: arrived.add(i))
            start += n
    return (tuple(out) if type(values) is tuple else type(values)(*out)), live


def _meta_aware_init(init: Callable) -> Callable:
    """A layer's ``__init__`` that builds the layer on the device it is given (or the
    default device of a ``with device("meta"):`` block), as PyTorch passes its factory
    keywords to every tensor it creates: on ``meta`` the parameters and buffers are meta
    and their initialisation draws nothing."""
    code = init.__code__
    position = code.co_varnames.index("device") - 1  # without self
    positional = position < code.co_argcount - 1

    @functools.wraps(init)
    def __init__(self, *args, **kwargs):
        dev = kwargs.get("device")
        if dev is None and positional and len(args) > position:
            dev = args[position]
        meta = _check_device(dev)
        default = _meta.DEFAULT_META[0]
        if not meta and not default:
            return init(self, *args, **kwargs)
        _meta.DEFAULT_META[0] = 1 if meta else 0
        try:
            init(self, *args, **kwargs)
        finally:
            _meta.DEFAULT_META[0] = default
        if meta:  # the buffers a layer wraps from arrays
            for b in self._buffers.values():
                if b is not None and not b.is_meta:
                    set_array(b, _meta.to_meta(unwrap(b)))

    return __init__


class Module:
    """Base class for all neural-network modules (PyTorch's ``nn.Module`` API subset).

    Subclasses call ``super().__init__()`` first, assign Parameters and sub-Modules as
    attributes, and define ``forward``. Calling the module runs ``forward`` (and the
    forward hooks, if any are registered).
    """

    training: bool
    # PyTorch's version of a module's state-dict layout (``state_dict()._metadata``).
    _version: int = 1
    # Hooks that most modules never get: read-only empty mappings on the class until
    # ``_add_hook`` gives the instance its own dict (the call path stays as short).
    _state_dict_pre_hooks = _NO_HOOKS
    _state_dict_hooks = _NO_HOOKS
    _load_state_dict_pre_hooks = _NO_HOOKS
    _load_state_dict_post_hooks = _NO_HOOKS
    _backward_pre_hooks = _NO_HOOKS
    _backward_hooks = _NO_HOOKS
    # set on an instance when it gets a backward hook: one look-up on the call path
    _has_backward_hooks = False

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is not None and cls.__module__.startswith("gradfit."):
            code = getattr(init, "__code__", None)
            if (
                code is not None
                and "device" in code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]
            ):
                cls.__init__ = _meta_aware_init(init)

    def __init__(self, *args, **kwargs) -> None:
        if args or kwargs:
            raise TypeError(
                f"{type(self).__name__}.__init__() got unexpected arguments {args} {kwargs}"
            )
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = {}
        d["_buffers"] = {}
        d["_non_persistent_buffers_set"] = set()
        d["_modules"] = {}
        d["_forward_hooks"] = OrderedDict()
        d["_forward_hooks_with_kwargs"] = set()
        d["_forward_pre_hooks"] = OrderedDict()
        d["_forward_pre_hooks_with_kwargs"] = set()

    forward: Callable

    def forward(self, *args, **kwargs):  # noqa: F811 - the declaration above is for typing
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function'
        )

    # ------------------------------------------------------------------ calling
    def __call__(self, *args, **kwargs):
        # The hot path: most modules have no hooks, so forward runs directly.
        if (
            self._forward_hooks
            or self._forward_pre_hooks
            or self._has_backward_hooks
            or _global_forward_hooks
            or _global_forward_pre_hooks
        ):
            return self._call_with_hooks(args, kwargs)
        return self.forward(*args, **kwargs)

    def _call_with_hooks(self, args, kwargs):
        pre_hooks = [*_global_forward_pre_hooks.items(), *self._forward_pre_hooks.items()]
        for hid, hook in pre_hooks:
            if hid in self._forward_pre_hooks_with_kwargs:
                res = hook(self, args, kwargs)
                if res is not None:
                    args, kwargs = res
            else:
                res = hook(self, args)
                if res is not None:
                    args = res if isinstance(res, tuple) else (res,)
        state = None
        if self._backward_hooks or self._backward_pre_hooks:
            state = _HookState(self, tuple(args))
            if self._backward_hooks:
                args, state.inputs_live = _through_node(tuple(args), state, "input")
        result = self.forward(*args, **kwargs)
        for hid, hook in [*_global_forward_hooks.items(), *self._forward_hooks.items()]:
            if hid in self._forward_hooks_with_kwargs or hid in _global_forward_hooks_with_kwargs:
                res = hook(self, args, kwargs, result)
            else:
                res = hook(self, args, result)
            if res is not None:
                result = res
        if state is not None:
            result, _ = _through_node(result, state, "output")
        return result

    def register_forward_hook(
        self,
        hook: Callable,
        *,
        prepend: bool = False,
        with_kwargs: bool = False,
        always_call: bool = False,
    ) -> RemovableHandle:
        """Call ``hook(module, args, output)`` after every forward; a non-None return
        value replaces the output. With ``with_kwargs=True`` the hook is
        ``hook(module, args, kwargs, output)``. ``always_call`` is accepted for
        compatibility (hooks run only when forward returns)."""
        handle = RemovableHandle(self._forward_hooks)
        self._forward_hooks[handle.id] = hook
        if with_kwargs:
            self._forward_hooks_with_kwargs.add(handle.id)
        if prepend:
            self._forward_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_forward_pre_hook(
        self, hook: Callable, *, prepend: bool = False, with_kwargs: bool = False
    ) -> RemovableHandle:
        """Call ``hook(module, args)`` before every forward; a non-None return value
        replaces the positional arguments (a single value is wrapped in a tuple)."""
        handle = RemovableHandle(self._forward_pre_hooks)
        self._forward_pre_hooks[handle.id] = hook
        if with_kwargs:
            self._forward_pre_hooks_with_kwargs.add(handle.id)
        if prepend:
            self._forward_pre_hooks.move_to_end(handle.id, last=False)
        return handle

    # ------------------------------------------------------------------ registration
    def __setattr__(self, name: str, value) -> None:
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._remove_name(name, keep="_parameters")
            self.register_parameter(name, value)
            return
        if params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{_typename(value)}' as parameter '{name}' "
                    "(gradfit.nn.Parameter or None expected)"
                )
            params[name] = None
            return
        modules = d.get("_modules")
        if isinstance(value, Module):
            if modules is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._remove_name(name, keep="_modules")
            modules[name] = value
            return
        if modules is not None and name in modules:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as child module '{name}' "
                    "(gradfit.nn.Module or None expected)"
                )
            modules[name] = None
            return
        buffers = d.get("_buffers")
        if isinstance(value, Buffer) or (buffers is not None and name in buffers):
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                    "(gradfit.Tensor or None expected)"
                )
            if isinstance(value, Buffer):
                persistent = value.persistent
            else:
                persistent = name not in self._non_persistent_buffers_set
            self.register_buffer(name, value, persistent)
            return
        object.__setattr__(self, name, value)

    def _remove_name(self, name: str, keep: str) -> None:
        d = self.__dict__
        d.pop(name, None)
        for key in ("_parameters", "_buffers", "_modules"):
            if key != keep:
                d[key].pop(name, None)
        d["_non_persistent_buffers_set"].discard(name)

    def __getattr__(self, name: str):
        # Only reached when normal lookup fails: parameters, buffers and children live in
        # their own dicts, as in PyTorch, so that assignment can keep them in order.
        d = self.__dict__
        if "_parameters" in d:
            p = d["_parameters"]
            if name in p:
                return p[name]
            b = d["_buffers"]
            if name in b:
                return b[name]
            m = d["_modules"]
            if name in m:
                return m[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        d = self.__dict__
        for key in ("_parameters", "_buffers", "_modules"):
            if name in d[key]:
                del d[key][name]
                d["_non_persistent_buffers_set"].discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        keys = list(super().__dir__())
        keys += list(self._parameters) + list(self._buffers) + list(self._modules)
        return sorted(set(keys))

    def _check_name(self, name, kind: str) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign {kind} before Module.__init__() call")
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string. Got {type(name).__name__}")
        if name == "":
            raise KeyError(f'{kind} name can\'t be empty string ""')
        if "." in name:
            raise KeyError(f'{kind} name can\'t contain ".", got: {name}')

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter (or a None placeholder, as ``Linear(bias=False)`` does)."""
        self._check_name(name, "parameter")
        if hasattr(self, name) and name not in self._parameters:
            raise KeyError(f"attribute '{name}' already exists")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign '{_typename(param)}' object to parameter '{name}' "
                "(gradfit.nn.Parameter or None required)"
            )
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Add a buffer: state that is not trained (e.g. running statistics). Persistent
        buffers go into ``state_dict()``."""
        self._check_name(name, "buffer")
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' "
                "(gradfit Tensor or None required)"
            )
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a child module under ``name`` (what attribute assignment does)."""
        self._check_name(name, "module")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        self._modules[name] = module

    register_module = add_module

    def get_submodule(self, target: str) -> Module:
        """The module at dotted path ``target`` ("" is this module)."""
        mod = self
        if target == "":
            return mod
        for item in target.split("."):
            sub = mod._modules.get(item) if isinstance(mod, Module) else None
            if sub is None:
                raise AttributeError(f"{mod._get_name()} has no attribute `{item}`")
            mod = sub
        return mod

    def get_parameter(self, target: str) -> Parameter:
        module_path, _, name = target.rpartition(".")
        mod = self.get_submodule(module_path)
        if not hasattr(mod, name):
            raise AttributeError(f"{mod._get_name()} has no attribute `{name}`")
        if name not in mod._parameters:
            raise AttributeError(f"`{name}` is not an nn.Parameter")
        return mod._parameters[name]

    def get_buffer(self, target: str) -> Tensor:
        module_path, _, name = target.rpartition(".")
        mod = self.get_submodule(module_path)
        if name not in mod._buffers:
            raise AttributeError(f"`{name}` is not a buffer")
        return mod._buffers[name]

    # ------------------------------------------------------------------ iteration
    def _named_members(self, get_members, prefix="", recurse=True, remove_duplicate=True):
        memo = set()
        modules = (
            self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
            if recurse
            else [(prefix, self)]
        )
        for module_prefix, module in modules:
            for k, v in get_members(module):
                if v is None or (remove_duplicate and id(v) in memo):
                    continue
                if remove_duplicate:
                    memo.add(id(v))
                yield (module_prefix + ("." if module_prefix else "") + k, v)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """The parameters of this module and (with ``recurse``) its descendants, in
        registration order, each once."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """(name, parameter) pairs with dotted names like PyTorch's ("0.weight")."""
        yield from self._named_members(
            lambda m: m._parameters.items(), prefix, recurse, remove_duplicate
        )

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def named_buffers(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Tensor]]:
        yield from self._named_members(
            lambda m: m._buffers.items(), prefix, recurse, remove_duplicate
        )

    def children(self) -> Iterator[Module]:
        for _, m in self.named_children():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        memo = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in memo:
                memo.add(id(m))
                yield name, m

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def named_modules(self, memo: set | None = None, prefix: str = "", remove_duplicate=True):
        """(name, module) pairs, this module first (named ``prefix``, "" by default), then
        its descendants depth-first with dotted names."""
        if memo is None:
            memo = set()
        if id(self) in memo:
            return
        if remove_duplicate:
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            sub_prefix = prefix + ("." if prefix else "") + name
            yield from module.named_modules(memo, sub_prefix, remove_duplicate)

    def apply(self, fn: Callable[[Module], None]) -> Module:
        """Call ``fn`` on every child (recursively) and then on this module, as PyTorch
        does; the lecture's ``model.apply(weights_init)``."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------------ modes and grads
    def train(self, mode: bool = True) -> Module:
        """Set training mode here and in every descendant (Dropout acts only in it)."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        self.training = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode: ``train(False)``."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the parameters' gradients: to None (PyTorch's default) or to zeros."""
        for p in self.parameters():
            if p.grad is not None:
                if set_to_none:
                    p.grad = None
                else:
                    with modified(p.grad) as (grad,):
                        grad[...] = 0

    # ------------------------------------------------------------------ dtype and device
    def _apply_arrays(self, fn: Callable[[np.ndarray], np.ndarray]) -> Module:
        # Parameters keep their identity (an optimizer built before .to() still sees
        # them), as PyTorch does by swapping .data.
        for module in self.modules():
            for p in module._parameters.values():
                if p is None:
                    continue
                set_array(p, fn(unwrap(p)))
                if p.grad is not None:
                    set_array(p.grad, fn(unwrap(p.grad)))
            for b in module._buffers.values():
                if b is not None:
                    set_array(b, fn(unwrap(b)))
        return self

    def to(self, *args, memory_format=None, **kwargs) -> Module:
        """``to(dtype)``, ``to(device)``, ``to(tensor)`` or ``to(device, dtype)``: casts
        floating-point parameters and buffers in place; CPU only. ``memory_format``
        (channels_last) lays out the 4-D (channels_last_3d: 5-D) ones in it."""
        dtype, meta = parse_to(args, kwargs)
        if meta is not None:
            self._to_device(meta)
        if memory_format is not None:
            # as PyTorch: every 4-D and 5-D tensor, so channels_last refuses a 5-D one
            self._apply_arrays(
                lambda a: _layout.copy_as(a, memory_format) if a.ndim in (4, 5) else a
            )
        if dtype is None:
            return self
        dt = _dtypes.to_dtype(dtype)
        if dt.kind != "f":
            raise TypeError(
                f"nn.Module.to only accepts floating point dtypes, but got desired dtype={dt}"
            )
        return self._apply_arrays(lambda a: a.astype(dt, copy=False) if a.dtype.kind == "f" else a)

    def float(self) -> Module:
        return self.to(np.float32)

    def double(self) -> Module:
        return self.to(np.float64)

    def half(self) -> Module:
        return self.to(np.float16)

    def type(self, dst_type) -> Module:
        from gradfit._typenames import target_dtype

        return self.to(target_dtype(dst_type))

    def share_memory(self) -> Module:
        """Move every parameter, gradient and buffer into memory other processes map too
        (``Tensor.share_memory_``): Hogwild workers started afterwards update one model."""
        for t in itertools.chain(self.parameters(), self.buffers()):
            t.share_memory_()
            if t.grad is not None:
                t.grad.share_memory_()
        return self

    def cpu(self) -> Module:
        return self

    def cuda(self, device=None) -> Module:
        from gradfit.tensor import _no_device_error

        raise _no_device_error("cuda")

    # ------------------------------------------------------------------ state dict
    def state_dict(self, *args, destination=None, prefix: str = "", keep_vars: bool = False):
        """An OrderedDict name -> Tensor of the parameters and persistent buffers.

        The values share memory with the module's (detached, outside the graph) unless
        ``keep_vars``, which returns the Parameters themselves. Order: each module's
        parameters, then its buffers, then its children's, as PyTorch. The dict's
        ``_metadata`` maps each module's prefix to ``{"version": module._version}``.

        Hooks, as PyTorch's: each module's state-dict pre-hooks run first
        (``hook(module, prefix, keep_vars)``), its post-hooks last
        (``hook(module, state_dict, prefix, local_metadata)``); a hook registered with
        ``_register_state_dict_hook`` may return a dict that replaces this module's result.
        """
        if args:  # PyTorch's deprecated positional form state_dict(destination, prefix)
            destination = args[0]
            if len(args) > 1:
                prefix = args[1]
        if destination is None:
            destination = OrderedDict()
            destination._metadata = OrderedDict()
        local_metadata = {"version": getattr(type(self), _LAYOUT_VERSION, 1)}
        if hasattr(destination, "_metadata"):
            destination._metadata[prefix[:-1]] = local_metadata
        for hook in self._state_dict_pre_hooks.values():
            hook(self, prefix, keep_vars)
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = b if keep_vars else b.detach()
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(
                    destination=destination, prefix=prefix + name + ".", keep_vars=keep_vars
                )
        for hook in self._state_dict_hooks.values():
            result = hook(self, destination, prefix, local_metadata)
            if getattr(hook, "_from_public_api", False):
                if result is not None:
                    raise RuntimeError("state_dict post-hook must return None")
            elif result is not None:
                destination = result
        return destination

    def _local_state(self) -> dict:
        out = {}
        for prefix, module in self.named_modules(remove_duplicate=False):
            p = prefix + "." if prefix else ""
            for name, t in module._own_state().items():
                out[p + name] = t
        return out

    def _own_state(self) -> dict:
        """This module's parameters and persistent buffers (not its children's), by name."""
        out = {name: t for name, t in self._parameters.items() if t is not None}
        for name, t in self._buffers.items():
            if t is not None and name not in self._non_persistent_buffers_set:
                out[name] = t
        return out

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        """Copy values from ``state_dict`` into the parameters and buffers (in place).

        Values may be Tensors or NumPy arrays (e.g. from ``gradfit.load``) and are cast
        to each parameter's dtype. A shape mismatch is always an error; with ``strict``,
        so are missing and unexpected keys. All problems are reported at once, naming the
        keys and both shapes, in PyTorch's format; nothing is copied then.

        The modules are visited as PyTorch visits them (each module, then its children),
        running each module's load-state-dict pre-hooks (``hook(module, state_dict,
        prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs)``)
        before reading its keys, and its post-hooks (``hook(module, incompatible_keys)``,
        which may edit the key lists in place) after its children.

        Returns:
            A namedtuple ``(missing_keys, unexpected_keys)``.

        Raises:
            TypeError: ``state_dict`` is not a mapping.
            RuntimeError: listing the missing, unexpected or mis-shaped keys.
        """
        if not hasattr(state_dict, "keys") or not hasattr(state_dict, "__getitem__"):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        metadata = getattr(state_dict, "_metadata", None)
        state_dict = OrderedDict(state_dict)  # hooks may edit it; the caller's stays as is
        if metadata is not None:
            state_dict._metadata = metadata
        missing: list = []
        unexpected: list = []
        errors: list = []
        pending = []

        def load(module: Module, prefix: str) -> None:
            local_metadata = {} if metadata is None else metadata.get(prefix[:-1], {})
            for hook in module._load_state_dict_pre_hooks.values():
                hook(module, state_dict, prefix, local_metadata, True, missing, unexpected, errors)
            local = module._own_state()
            for name, target in local.items():
                key = prefix + name
                if key not in state_dict:
                    missing.append(key)
                    continue
                arr = unwrap(state_dict[key])
                if getattr(target, "materialize", None) is not None:
                    # a lazy layer's UninitializedParameter takes its shape from the checkpoint
                    target.materialize(arr.shape)
                if arr.shape != unwrap(target).shape:
                    errors.append(
                        f"size mismatch for {key}: copying a param with shape "
                        f"{_shape_str(arr.shape)} from checkpoint, the shape in current model "
                        f"is {_shape_str(unwrap(target).shape)}."
                    )
                    continue
                if not assign and _meta.is_meta(unwrap(target)) and not _meta.is_meta(arr):
                    warnings.warn(
                        f"for {key}: copying from a non-meta parameter in the checkpoint to a "
                        "meta parameter in the current model, which is a no-op. (Did you mean "
                        "to pass `assign=True` to assign items in the state dictionary to their "
                        "corresponding key in the module instead of copying them in place?)",
                        stacklevel=3,
                    )
                pending.append((module, name, target, state_dict[key]))
            for key in state_dict:
                if key.startswith(prefix):
                    head = key[len(prefix) :].split(".", 1)[0]
                    if head not in module._modules and head not in local:
                        unexpected.append(key)
            for name, child in module._modules.items():
                if child is not None:
                    load(child, prefix + name + ".")
            incompatible = _IncompatibleKeys(missing, unexpected)
            for hook in module._load_state_dict_post_hooks.values():
                if hook(module, incompatible) is not None:
                    raise AssertionError(
                        "Hooks registered with ``register_load_state_dict_post_hook`` are not "
                        "expected to return new values, if incompatible_keys need to be "
                        "modified, it should be done inplace."
                    )

        load(self, "")
        if strict:
            if unexpected:
                errors.insert(
                    0,
                    "Unexpected key(s) in state_dict: {}. ".format(
                        ", ".join(f'"{k}"' for k in unexpected)
                    ),
                )
            if missing:
                errors.insert(
                    0,
                    "Missing key(s) in state_dict: {}. ".format(
                        ", ".join(f'"{k}"' for k in missing)
                    ),
                )
        if errors:
            raise RuntimeError(
                "Error(s) in loading state_dict for {}:\n\t{}".format(
                    type(self).__name__, "\n\t".join(errors)
                )
            )
        with no_grad():
            for module, name, target, value in pending:
                if assign and isinstance(value, Tensor):
                    # PyTorch's assign=True: the checkpoint's tensor itself (its memory and
                    # dtype) becomes the attribute, as a Parameter where one was
                    if isinstance(target, Parameter):
                        if isinstance(value, Parameter):
                            value.requires_grad_(target.requires_grad)
                        else:
                            value = Parameter(value, requires_grad=target.requires_grad)
                    setattr(module, name, value)
                elif assign:  # a NumPy array (gradfit.load): the module gets a copy
                    set_array(target, np.array(value, dtype=unwrap(target).dtype, copy=True))
                else:
                    target.copy_(unwrap(value))
        return _IncompatibleKeys(missing, unexpected)

    # --- rtapi: state-dict hooks, as PyTorch's (their dicts are made on first registration)
    def register_state_dict_pre_hook(self, hook: Callable) -> RemovableHandle:
        """Call ``hook(module, prefix, keep_vars)`` before this module's ``state_dict``."""
        return self._add_hook("_state_dict_pre_hooks", hook)

    def register_state_dict_post_hook(self, hook: Callable) -> RemovableHandle:
        """Call ``hook(module, state_dict, prefix, local_metadata)`` after this module's
        ``state_dict`` (children included); it edits ``state_dict`` in place and must
        return None."""
        hook._from_public_api = True
        return self._add_hook("_state_dict_hooks", hook)

    def _register_state_dict_hook(self, hook: Callable) -> RemovableHandle:
        """As ``register_state_dict_post_hook``, but a returned dict replaces the result of
        this module's ``state_dict`` (PyTorch's older, private form)."""
        if getattr(hook, "_from_public_api", False):
            raise RuntimeError(
                "Cannot register the same function as the state dict post hook that was "
                "previously registered via register_state_dict_post_hook"
            )
        return self._add_hook("_state_dict_hooks", hook)

    def register_load_state_dict_pre_hook(self, hook: Callable) -> RemovableHandle:
        """Call ``hook(module, state_dict, prefix, local_metadata, strict, missing_keys,
        unexpected_keys, error_msgs)`` before this module's keys are read by
        ``load_state_dict``; it may edit ``state_dict`` (a copy of the caller's)."""
        return self._add_hook("_load_state_dict_pre_hooks", hook)

    def _register_load_state_dict_pre_hook(self, hook: Callable, with_module: bool = False):
        """PyTorch's private form: ``hook(state_dict, prefix, ...)``, with the module first
        only if ``with_module``."""
        if with_module:
            return self.register_load_state_dict_pre_hook(hook)
        return self.register_load_state_dict_pre_hook(lambda module, *args: hook(*args))

    def register_load_state_dict_post_hook(self, hook: Callable) -> RemovableHandle:
        """Call ``hook(module, incompatible_keys)`` after this module and its children were
        read by ``load_state_dict``; it may edit ``incompatible_keys.missing_keys`` and
        ``.unexpected_keys`` in place (before ``strict`` judges them) and must return None."""
        return self._add_hook("_load_state_dict_post_hooks", hook)

    def _add_hook(self, attr: str, hook: Callable, prepend: bool = False) -> RemovableHandle:
        hooks = self.__dict__.get(attr)
        if hooks is None:
            hooks = self.__dict__[attr] = OrderedDict()
        handle = RemovableHandle(hooks)
        hooks[handle.id] = hook
        if prepend:
            hooks.move_to_end(handle.id, last=False)
        return handle

    # --- rtapi: backward pre-hooks, on the gradient of the module's output ---------------
    def register_full_backward_pre_hook(
        self, hook: Callable, prepend: bool = False
    ) -> RemovableHandle:
        """Call ``hook(module, grad_output)`` when the gradient of this module's output has
        been computed, before it flows into the module; ``grad_output`` is a tuple (one
        entry per output tensor) and a non-None return value (a tuple of the same length)
        replaces it, as PyTorch's. The output passes through an identity node that calls
        the hooks, added only while backward pre-hooks are registered."""
        self.__dict__["_has_backward_hooks"] = True
        return self._add_hook("_backward_pre_hooks", hook, prepend)

    def register_full_backward_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
        """Call ``hook(module, grad_input, grad_output)`` once the gradient of this module's
        positional inputs has been computed; ``grad_input`` has one entry per positional
        argument (None where no gradient flows) and a non-None return value replaces it,
        as PyTorch's. Where no input needs a gradient the hook runs when the output's
        gradient arrives, with ``grad_input`` all None."""
        self.__dict__["_has_backward_hooks"] = True
        return self._add_hook("_backward_hooks", hook, prepend)

    def to_empty(self, *, device=None, recurse: bool = True) -> Module:
        """Give every parameter and buffer new, uninitialized storage of the same shape
        and dtype (as ``torch.nn.Module.to_empty``, used after building on the meta
        device); ``device`` is the CPU or meta. The values are whatever memory held."""
        meta = _check_device(device)
        modules = self.modules() if recurse else [self]
        for module in modules:
            for t in list(module._parameters.values()) + list(module._buffers.values()):
                if t is not None:
                    a = unwrap(t)
                    set_array(t, _meta.to_meta(a) if meta else np.empty(a.shape, a.dtype))
        return self

    def _to_device(self, meta: bool) -> None:
        """``to("meta")`` gives every parameter and buffer (and gradient) a meta array;
        ``to("cpu")`` of a meta module has no data to copy: PyTorch's error."""
        if meta:
            self._apply_arrays(_meta.to_meta)
            return
        for t in list(self.parameters()) + list(self.buffers()):
            if t.is_meta:
                raise NotImplementedError(
                    f"{_meta.NO_DATA} Please use torch.nn.Module.to_empty() instead of "
                    "torch.nn.Module.to() when moving module from meta to a different device."
                )

    # ------------------------------------------------------------------ repr
    def _get_name(self) -> str:
        return type(self).__name__

    def extra_repr(self) -> str:
        """The text between the parentheses of this module's repr (layer settings)."""
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = []
        for key, module in self._modules.items():
            child_lines.append("(" + key + "): " + _addindent(repr(module), 2))
        lines = extra_lines + child_lines
        main = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                main += extra_lines[0]
            else:
                main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"

    def __getstate__(self):
        return self.__dict__.copy()

    def __setstate__(self, state):
        self.__dict__.update(state)


def _typename(obj) -> str:
    """The type name PyTorch's messages print: a tensor's legacy type ('torch.FloatTensor')."""
    return obj.type() if isinstance(obj, Tensor) else type(obj).__name__
