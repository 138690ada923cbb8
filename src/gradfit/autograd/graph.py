"""``torch.autograd.graph``: ``Node``, what every ``grad_fn`` is, and the hooks on the
graph's leaves (post-accumulate-grad hooks).

``Tensor.register_post_accumulate_grad_hook(fn)`` keeps a ``PostAccumulateGradHook`` in
the leaf's hook list: the engine calls the list before accumulating (where this entry does
nothing) and, when a leaf has hooks, ``post_accumulate`` after it, which calls ``fn(t)``.
"""

from __future__ import annotations

import abc
import contextlib

from gradfit.autograd import function as _function
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


# --- apihooks: hooks on the tensors saved for backward (autograd/saved_tensors.py) --------

# The message of the innermost ``disable_saved_tensors_hooks``; None while hooks may be set.
_disabled_message: list = [None]


class saved_tensors_hooks:  # noqa: N801 - PyTorch's name
    """Context manager that sets a pair of pack / unpack hooks for saved tensors.

    While it is active, each tensor an operation saves for backward is passed to
    ``pack_hook(tensor)`` at forward time (grad mode off), and what that returns is kept
    instead; when backward needs the tensor, ``unpack_hook(packed)`` is called and must
    return a Tensor, which the gradient is computed from. Contexts nest: the innermost
    pair applies. See ``gradfit.autograd.saved_tensors`` for which tensors each op saves.
    """

    def __init__(self, pack_hook, unpack_hook):
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self):
        if _disabled_message[0] is not None:
            raise RuntimeError(_disabled_message[0])
        if not (callable(self.pack_hook) and callable(self.unpack_hook)):
            raise TypeError(
                "saved_tensors_hooks expects two callables (pack_hook, unpack_hook), got "
                f"{type(self.pack_hook).__name__} and {type(self.unpack_hook).__name__}"
            )
        _function._saved_hooks.append((self.pack_hook, self.unpack_hook))

    def __exit__(self, *args):
        _function._saved_hooks.pop()


class save_on_cpu(saved_tensors_hooks):  # noqa: N801 - PyTorch's name
    """Saved tensors are copied to the CPU at forward time and moved back to their device
    for backward (``torch.autograd.graph.save_on_cpu``). gradfit's tensors live on the
    CPU, so this keeps a copy of each saved tensor; ``pin_memory`` is accepted."""

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda"):
        if not isinstance(pin_memory, bool):
            raise TypeError(f"save_on_cpu: pin_memory must be a bool, got {pin_memory!r}")

        def pack_to_cpu(tensor):
            return tensor.device, tensor.detach().to("cpu", copy=True)

        def unpack_from_cpu(packed):
            device, tensor = packed
            return tensor.to(device, non_blocking=pin_memory)

        super().__init__(pack_to_cpu, unpack_from_cpu)


@contextlib.contextmanager
def disable_saved_tensors_hooks(error_message: str):
    """Within it, setting saved-tensor hooks raises ``RuntimeError(error_message)`` (as
    does entering it while hooks are set), as ``torch.autograd.graph``'s."""
    if not isinstance(error_message, str):
        raise TypeError(
            f"disable_saved_tensors_hooks: error_message must be a str, got {error_message!r}"
        )
    if _function._saved_hooks:
        raise RuntimeError(error_message)
    previous = _disabled_message[0]
    _disabled_message[0] = error_message
    try:
        yield
    finally:
        _disabled_message[0] = previous
