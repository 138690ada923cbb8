"""``torch.autograd.graph``: ``Node``, what every ``grad_fn`` is, and the hooks on the
graph's leaves (post-accumulate-grad hooks).

``Tensor.register_post_accumulate_grad_hook(fn)`` keeps a ``PostAccumulateGradHook`` in
the leaf's hook list: the engine calls the list before accumulating (where this entry does
nothing) and, when a leaf has hooks, ``post_accumulate`` after it, which calls ``fn(t)``.
"""

from __future__ import annotations

import abc

from gradfit.autograd.function import AccumulateGrad, Op


class Node(abc.ABC):  # noqa: B024 - PyTorch's ABC: a type to test grad_fn against
    """A node of the backward graph: ``isinstance(t.grad_fn, Node)`` holds for every
    ``grad_fn`` (gradfit's ops and ``Function`` nodes) and for a leaf's
    ``AccumulateGrad`` in ``next_functions``, as in PyTorch."""


Node.register(Op)
Node.register(AccumulateGrad)


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
