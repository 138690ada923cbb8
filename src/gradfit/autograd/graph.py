"""Hooks on the graph's leaves (``torch.autograd.graph``'s post-accumulate-grad hooks).

``Tensor.register_post_accumulate_grad_hook(fn)`` keeps a ``PostAccumulateGradHook`` in
the leaf's hook list: the engine calls the list before accumulating (where this entry does
nothing) and, when a leaf has hooks, ``post_accumulate`` after it, which calls ``fn(t)``.
"""

from __future__ import annotations


class PostAccumulateGradHook:
    """A leaf's post-accumulate hook: a no-op as a gradient hook, ``fn(tensor)`` after
    the gradient is accumulated into ``tensor.grad``."""

    __slots__ = ("fn",)

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, grad):
        return None


def post_accumulate(t) -> None:
    for hook in list(t._hooks):
        if type(hook) is PostAccumulateGradHook:
            hook.fn(t)
