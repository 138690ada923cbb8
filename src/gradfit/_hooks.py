"""``RemovableHandle`` (PyTorch's ``torch.utils.hooks.RemovableHandle``): what every
``register_*_hook`` returns, on tensors, modules and graph nodes alike.

Bottom rung of the ladder: the standard library only.
"""

from __future__ import annotations

import itertools


class RemovableHandle:
    """``remove()`` unregisters the hook; also a context manager that removes it on exit.

    ``hooks`` is where the hook is kept: a dict keyed by this handle's ``id`` (modules,
    whose caller stores ``hooks[handle.id] = hook``), or a list holding ``entry`` (a
    tensor's or a graph node's hooks, called in order).
    """

    __module__ = "gradfit.utils.hooks"  # where PyTorch programs find it, and how it prints

    next_id = itertools.count()

    def __init__(self, hooks: dict | list, entry=None) -> None:
        self.hooks_dict_ref = hooks
        self.entry = entry
        self.id = next(RemovableHandle.next_id)

    def remove(self) -> None:
        hooks = self.hooks_dict_ref
        if isinstance(hooks, dict):
            hooks.pop(self.id, None)
        elif self.entry in hooks:
            hooks.remove(self.entry)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc) -> bool:
        self.remove()
        return False
