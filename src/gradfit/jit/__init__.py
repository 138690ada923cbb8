"""``torch.jit`` without a compiler: ``script`` and ``trace`` return objects that run the
original Python code, so a scripted or traced function or module gives exactly the
original's numbers and gradients.

What PyTorch programs see of TorchScript is kept where it can be kept honestly:

- ``script(module)`` returns a ``RecursiveScriptModule`` and ``trace(module, inputs)`` a
  ``TopLevelTracedModule``: new module objects that share the original's parameters and
  buffers (training the one trains the other, as in PyTorch), with their own ``training``
  flags and submodules wrapped the same way, printed as PyTorch prints them
  (``RecursiveScriptModule(original_name=Linear)``, ``Linear(original_name=Linear)``).
  Their class derives from the original's, so its methods, properties and ``super()``
  calls work (in PyTorch ``isinstance(scripted, Net)`` is False; here it is True).
- ``script(fn)`` and ``trace(fn, inputs)`` return a ``ScriptFunction`` calling ``fn``.
- ``trace`` runs the function once on the example inputs, with ``is_tracing()`` True (PyTorch
  runs it more times when ``check_trace`` is on). A traced function then runs its Python
  code on every call: data-dependent branches are taken anew, where PyTorch's trace
  replays the recorded path, and Python side effects (print) repeat.
- ``is_scripting()`` is False everywhere (no code is compiled); ``ignore``, ``unused``,
  ``export``, ``annotate`` and ``Final`` are accepted and change nothing, as in eager PyTorch.
- ``save`` / ``load`` (and ``ScriptModule.save``): gradfit has no TorchScript serialization;
  they raise a one-line error pointing to ``gradfit.save(model.state_dict(), path)``.
"""

from __future__ import annotations

import os
import typing

from gradfit.nn.modules.module import Module

__all__ = [
    "Final",
    "Future",
    "RecursiveScriptModule",
    "ScriptFunction",
    "ScriptModule",
    "TopLevelTracedModule",
    "TracedModule",
    "annotate",
    "export",
    "fork",
    "ignore",
    "is_scripting",
    "is_tracing",
    "load",
    "save",
    "script",
    "trace",
    "trace_module",
    "unused",
    "wait",
]

Final = typing.Final  # PyTorch's alias, for class attributes TorchScript treats as constants

_NO_SERIALIZATION = (
    "gradfit has no TorchScript serialization: save the weights with "
    "gradfit.save(model.state_dict(), path) and load them into the model's class with "
    "model.load_state_dict(gradfit.load(path))"
)
_tracing = [False]


class ScriptModule(Module):
    """Base class of the modules ``script`` and ``trace`` return (``torch.jit.ScriptModule``)."""

    original_name: str

    def save(self, f, **kwargs) -> None:
        raise RuntimeError(f"{self._get_name()}.save: {_NO_SERIALIZATION}")

    def extra_repr(self) -> str:
        return f"original_name={self.original_name}"


class RecursiveScriptModule(ScriptModule):
    """What ``script(module)`` returns: the module's code, run as it is, on shared
    parameters; printed as PyTorch prints a scripted module."""

    def _get_name(self) -> str:
        return "RecursiveScriptModule"


class TracedModule(ScriptModule):
    """A submodule of a traced module; printed under its original class name."""

    def _get_name(self) -> str:
        return self.original_name


class TopLevelTracedModule(TracedModule):
    """What ``trace(module, example_inputs)`` returns."""


# One class per (wrapper kind, original class), named as PyTorch names the wrapper.
_classes: dict = {}


def _wrapper_class(kind: type, cls: type) -> type:
    key = (kind, cls)
    if key not in _classes:
        _classes[key] = type(kind.__name__, (kind, cls), {"__module__": kind.__module__})
    return _classes[key]


_FRESH_HOOKS = (
    "_state_dict_pre_hooks",
    "_state_dict_hooks",
    "_load_state_dict_pre_hooks",
    "_load_state_dict_post_hooks",
    "_backward_pre_hooks",
    "_backward_hooks",
    "_has_backward_hooks",
)


def _wrap(module: Module, kind: type, child_kind: type) -> Module:
    """A ``kind`` module running ``module``'s code on the same parameters and buffers
    (its own dicts holding them, its own ``training`` flag), children wrapped as
    ``child_kind``."""
    if isinstance(module, ScriptModule):
        return module
    cls = _wrapper_class(kind, type(module))
    new = cls.__new__(cls)
    d = dict(module.__dict__)
    for name in _FRESH_HOOKS:
        d.pop(name, None)
    d["_parameters"] = dict(module._parameters)
    d["_buffers"] = dict(module._buffers)
    d["_non_persistent_buffers_set"] = set(module._non_persistent_buffers_set)
    d["_forward_hooks"] = module._forward_hooks.copy()
    d["_forward_pre_hooks"] = module._forward_pre_hooks.copy()
    d["_forward_hooks_with_kwargs"] = set(module._forward_hooks_with_kwargs)
    d["_forward_pre_hooks_with_kwargs"] = set(module._forward_pre_hooks_with_kwargs)
    d["_modules"] = {
        name: None if child is None else _wrap(child, child_kind, child_kind)
        for name, child in module._modules.items()
    }
    d["original_name"] = type(module).__name__
    new.__dict__.update(d)
    return new


class ScriptFunction:
    """What ``script(fn)`` and ``trace(fn, inputs)`` return: calls ``fn``."""

    def __init__(self, fn) -> None:
        self._fn = fn
        self.__wrapped__ = fn
        self.name = getattr(fn, "__name__", type(fn).__name__)
        self.__doc__ = getattr(fn, "__doc__", None)

    def __call__(self, *args, **kwargs):
        return self._fn(*args, **kwargs)

    def save(self, f, **kwargs) -> None:
        raise RuntimeError(f"ScriptFunction.save: {_NO_SERIALIZATION}")


def script(obj, optimize=None, _frames_up: int = 0, _rcb=None, example_inputs=None):
    """``torch.jit.script``: a module becomes a ``RecursiveScriptModule`` (see the module
    docstring), a function a ``ScriptFunction``; a class, or something already scripted,
    is returned as it is."""
    if isinstance(obj, ScriptModule | ScriptFunction):
        return obj
    if isinstance(obj, Module):
        return _wrap(obj, RecursiveScriptModule, RecursiveScriptModule)
    if isinstance(obj, type):
        return obj
    if callable(obj):
        return ScriptFunction(obj)
    raise RuntimeError(
        f"Type '{type(obj).__name__}' cannot be compiled since it is not a function, a "
        "class or an nn.Module"
    )


def _as_tuple(example_inputs) -> tuple:
    if isinstance(example_inputs, tuple):
        return example_inputs
    if example_inputs is None:
        return ()
    return (example_inputs,)


def _run_traced(fn, args: tuple, kwargs: dict):
    prev = _tracing[0]
    _tracing[0] = True
    try:
        return fn(*args, **kwargs)
    finally:
        _tracing[0] = prev


def trace(
    func,
    example_inputs=None,
    optimize=None,
    check_trace: bool = True,
    check_inputs=None,
    check_tolerance: float = 1e-5,
    strict: bool = True,
    _force_outplace: bool = False,
    _module_class=None,
    _compilation_unit=None,
    example_kwarg_inputs=None,
    _store_inputs: bool = True,
):
    """``torch.jit.trace``: runs ``func`` once on ``example_inputs`` (a tensor or a tuple of
    them; or ``example_kwarg_inputs``, a dict) and returns a ``TopLevelTracedModule`` for a
    module, a ``ScriptFunction`` for a function, each running the original code."""
    if example_inputs is None and example_kwarg_inputs is None:
        raise RuntimeError("example_kwarg_inputs and example_inputs cannot both be None")
    if isinstance(func, ScriptModule | ScriptFunction):
        return func
    if isinstance(func, Module):
        return trace_module(
            func,
            {"forward": example_inputs if example_kwarg_inputs is None else example_kwarg_inputs},
            check_trace=check_trace,
        )
    if not callable(func):
        raise RuntimeError(f"trace: expected a function or an nn.Module, got {type(func).__name__}")
    if example_kwarg_inputs is not None:
        _run_traced(func, (), dict(example_kwarg_inputs))
    else:
        _run_traced(func, _as_tuple(example_inputs), {})
    return ScriptFunction(func)


def trace_module(
    mod: Module,
    inputs: dict,
    optimize=None,
    check_trace: bool = True,
    check_inputs=None,
    check_tolerance: float = 1e-5,
    strict: bool = True,
    _force_outplace: bool = False,
    _module_class=None,
    _compilation_unit=None,
    example_inputs_is_kwarg: bool = False,
    _store_inputs: bool = True,
):
    """``torch.jit.trace_module``: ``inputs`` maps method names to example inputs; each
    method runs once on them. Returns a ``TopLevelTracedModule``."""
    if not isinstance(mod, Module):
        raise AttributeError("expected torch.nn.Module as the first argument")
    if not isinstance(inputs, dict):
        raise AttributeError("expected a dictionary of (method_name, input) pairs")
    for name, example in inputs.items():
        method = mod if name == "forward" else getattr(mod, name)
        if isinstance(example, dict):
            _run_traced(method, (), example)
        else:
            _run_traced(method, _as_tuple(example), {})
    return _wrap(mod, TopLevelTracedModule, TracedModule)


def ignore(drop=False, **kwargs):
    """``@ignore`` / ``@ignore(drop=True)``: leave a method to Python (it already is)."""
    if callable(drop):
        return drop
    return lambda fn: fn


def unused(fn):
    """``@unused``: the method is not compiled (nothing is); it is returned as it is."""
    return fn


def export(fn):
    """``@export``: compile this method too (nothing is compiled); returned as it is."""
    return fn


def annotate(the_type, the_value):
    """``annotate(type, value)``: a type hint for the compiler; returns ``the_value``."""
    return the_value


def is_scripting() -> bool:
    """False: gradfit compiles nothing, so code never runs as TorchScript."""
    return False


def is_tracing() -> bool:
    """True while ``trace`` runs the traced function on its example inputs."""
    return _tracing[0]


class Future:
    """The result of ``fork``: the call already ran (eager PyTorch also runs it at once)."""

    def __init__(self, value) -> None:
        self._value = value

    def wait(self):
        return self._value

    def done(self) -> bool:
        return True


def fork(func, *args, **kwargs) -> Future:
    """Run ``func(*args, **kwargs)`` and return a ``Future`` holding its result."""
    return Future(func(*args, **kwargs))


def wait(future: Future):
    """The result held by ``future`` (from ``fork``)."""
    return future.wait()


def save(m, f, _extra_files=None) -> None:
    """``torch.jit.save``: not available (no TorchScript serialization); one-line error."""
    raise RuntimeError(f"gradfit.jit.save: {_NO_SERIALIZATION}")


def load(f, map_location=None, _extra_files=None, _restore_shapes=False, **kwargs):
    """``torch.jit.load``: not available (no TorchScript serialization); a missing file
    is reported as PyTorch reports it, any other gets the one-line error."""
    if isinstance(f, str | os.PathLike):
        if not os.path.exists(f):
            raise ValueError(f"The provided filename {os.fspath(f)} does not exist")
        if os.path.isdir(f):
            raise ValueError(f"The provided filename {os.fspath(f)} is a directory")
    raise RuntimeError(f"gradfit.jit.load: {_NO_SERIALIZATION}")
