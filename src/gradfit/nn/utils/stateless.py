"""``torch.nn.utils.stateless.functional_call``: call a module with some of its
parameters and buffers replaced for that one call."""

from __future__ import annotations

import warnings
from contextlib import contextmanager

__all__ = ["functional_call"]

_MISSING = object()


def _owner(module, name: str):
    *path, leaf = name.split(".")
    for part in path:
        module = getattr(module, part)
    return module, leaf


@contextmanager
def _reparametrize(module, values: dict, tie_weights: bool, strict: bool):
    if tie_weights:
        # A tensor shared under several names (tied weights) is replaced under all of
        # them when one name is given.
        named = {}
        for get in (module.named_parameters, module.named_buffers):
            for n, t in get(remove_duplicate=False):
                named[n] = t
        by_id: dict = {}
        for n, t in named.items():
            by_id.setdefault(id(t), []).append(n)
        values = dict(values)
        for n in list(values):
            if n in named:
                for other in by_id[id(named[n])]:
                    values.setdefault(other, values[n])
    if strict:
        keys = set(dict(module.named_parameters(remove_duplicate=False)))
        keys |= set(dict(module.named_buffers(remove_duplicate=False)))
        missing = sorted(keys - set(values))
        unexpected = sorted(set(values) - keys)
        errors = []
        if unexpected:
            errors.append("Unexpected key(s): {}.".format(", ".join(map(repr, unexpected))))
        if missing:
            errors.append("Missing key(s): {}.".format(", ".join(map(repr, missing))))
        if errors:
            raise RuntimeError(
                "Error(s) in reparametrizing for {}:\n\t{}".format(
                    module._get_name(), "\n\t".join(errors)
                )
            )
    saved = []
    try:
        for name, value in values.items():
            owner, leaf = _owner(module, name)
            for store in (owner._parameters, owner._buffers):
                if leaf in store:
                    saved.append((store, leaf, store[leaf]))
                    store[leaf] = value
                    break
            else:
                saved.append((owner, leaf, owner.__dict__.get(leaf, _MISSING)))
                object.__setattr__(owner, leaf, value)
        yield
    finally:
        for store, leaf, old in reversed(saved):
            if isinstance(store, dict):
                store[leaf] = old
            elif old is _MISSING:
                object.__delattr__(store, leaf)
            else:
                object.__setattr__(store, leaf, old)


def _functional_call(module, parameters_and_buffers, args=None, kwargs=None, *,
                     tie_weights: bool = True, strict: bool = False):  # fmt: skip
    if isinstance(parameters_and_buffers, (list, tuple)):
        merged: dict = {}
        for d in parameters_and_buffers:
            for k in d:
                if k in merged:
                    raise ValueError(
                        f"{k} appeared in multiple dictionaries; behavior of functional "
                        "call is ambiguous"
                    )
            merged.update(d)
        parameters_and_buffers = merged
    if kwargs is None:
        kwargs = {}
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    with _reparametrize(module, parameters_and_buffers, tie_weights, strict):
        return module(*args, **kwargs)


def functional_call(module, parameters_and_buffers, args=None, kwargs=None, *,
                    tie_weights: bool = True, strict: bool = False):  # fmt: skip
    """``module(*args, **kwargs)`` with the parameters and buffers named (dotted, as in
    ``named_parameters``) in ``parameters_and_buffers`` replaced by the given tensors for
    this call only; gradients flow to those tensors. ``tie_weights``: a tensor the module
    shares under several names is replaced under all of them. ``strict``: every
    parameter and buffer must be given, and nothing else.

    Deprecated in PyTorch (a FutureWarning, as there) for ``torch.func.functional_call``.
    """
    warnings.warn(
        "This API is deprecated as of PyTorch 2.0 and will be removed in a future "
        "version of PyTorch. Please use torch.func.functional_call instead which is a "
        "drop-in replacement.",
        FutureWarning,
        stacklevel=2,
    )
    return _functional_call(
        module, parameters_and_buffers, args, kwargs, tie_weights=tie_weights, strict=strict
    )
