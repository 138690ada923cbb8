"""Activation checkpointing, as ``torch.utils.checkpoint``.

PyTorch's ``checkpoint`` frees a segment's activations after the forward pass and
recomputes them during backward, trading compute for memory. gradfit runs the segment once
with its graph recorded: the gradients are the same (the recomputation replays the same
random numbers in PyTorch, so even dropout agrees), but no memory is saved. What callers
can observe is kept: the ``use_reentrant`` warning when it is not passed, the argument
checks, and the reentrant variant's rule that the output requires grad only if some
tensor input does (with the "None of the inputs have requires_grad=True" warning).

One difference remains: with ``preserve_rng_state=False`` PyTorch's recomputation draws
fresh random numbers (dropout masks differ from the forward's, and the random stream moves
on during backward); gradfit's gradients are those of the forward that ran, as PyTorch's
are with the default ``preserve_rng_state=True``.
"""

from __future__ import annotations

import contextlib
import warnings

__all__ = ["checkpoint", "checkpoint_sequential", "noop_context_fn", "CheckpointError"]

_DETERMINISM_MODES = ("default", "none")


class CheckpointError(RuntimeError):
    """PyTorch's error for a recomputation that differs from the forward (never raised
    here: nothing is recomputed)."""


def noop_context_fn():
    """The default ``context_fn``: two null contexts (forward, recomputation)."""
    return contextlib.nullcontext(), contextlib.nullcontext()


def _is_tensor(x) -> bool:
    from gradfit.tensor import Tensor

    return isinstance(x, Tensor)


def checkpoint(
    function,
    *args,
    use_reentrant: bool | None = None,
    context_fn=noop_context_fn,
    determinism_check: str = "default",
    debug: bool = False,
    early_stop: bool = True,
    **kwargs,
):
    """``function(*args, **kwargs)``, differentiable as in PyTorch (no memory saved here).

    Args:
        function: the segment to run.
        use_reentrant: PyTorch's variant switch; not passing it warns, as PyTorch 2.x does,
            and selects the reentrant variant (keyword arguments to ``function`` are then
            refused, and the output requires grad only if a tensor input does).
        context_fn: returns (forward context, recomputation context); the forward one
            wraps the call (``use_reentrant=False`` only).
        determinism_check: ``'default'`` or ``'none'``.
        debug: ``use_reentrant=False`` only.
        preserve_rng_state: accepted in ``kwargs`` as PyTorch does (the random stream is
            consumed once, as in PyTorch's forward).
    """
    from gradfit.autograd import no_grad

    if use_reentrant is None:
        warnings.warn(
            "torch.utils.checkpoint: the use_reentrant parameter should be passed explicitly. "
            "Starting in PyTorch 2.9, calling checkpoint without use_reentrant will raise an "
            "exception. use_reentrant=False is recommended, but if you need to preserve the "
            "current default behavior, you can pass use_reentrant=True. Refer to docs for more "
            "details on the differences between the two variants.",
            stacklevel=2,
        )
        use_reentrant = True
    kwargs.pop("preserve_rng_state", True)
    if kwargs and use_reentrant:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))
    if use_reentrant:
        if context_fn is not noop_context_fn or debug is not False:
            raise ValueError(
                "Passing `context_fn` or `debug` is only supported when use_reentrant=False."
            )
        if not any(_is_tensor(a) and a.requires_grad for a in args):
            warnings.warn(
                "None of the inputs have requires_grad=True. Gradients will be None",
                stacklevel=2,
            )
            with no_grad():
                return function(*args)
        return function(*args)
    if debug and context_fn is not noop_context_fn:
        raise ValueError("debug=True is incompatible with non-default context_fn")
    if determinism_check not in _DETERMINISM_MODES:
        raise ValueError(
            f"determinism_check should be one of {list(_DETERMINISM_MODES)}, but got "
            f"{determinism_check}"
        )
    forward_context, _recompute_context = context_fn()
    with forward_context:
        return function(*args, **kwargs)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):  # noqa: A002
    """Run ``functions`` (a list or ``nn.Sequential``) in ``segments`` chunks, each but the
    last through ``checkpoint``, as PyTorch does."""
    from gradfit.nn.modules.container import Sequential

    if use_reentrant is None:
        warnings.warn(
            "torch.utils.checkpoint.checkpoint_sequential: the use_reentrant parameter should "
            "be passed explicitly. In version 2.9 we will raise an exception if use_reentrant "
            "is not passed. use_reentrant=False is recommended, but if you need to preserve the "
            "current default behavior, you can pass use_reentrant=True. Refer to docs for more "
            "details on the differences between the two variants.",
            stacklevel=2,
        )
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))

    def run_function(start, end, functions):
        def forward(input):  # noqa: A002
            for j in range(start, end + 1):
                input = functions[j](input)  # noqa: A001
            return input

        return forward

    if isinstance(functions, Sequential):
        functions = list(functions.children())
    segment_size = len(functions) // segments
    end = -1
    for start in range(0, segment_size * (segments - 1), segment_size):
        end = start + segment_size - 1
        input = checkpoint(  # noqa: A001
            run_function(start, end, functions),
            input,
            use_reentrant=use_reentrant,
            preserve_rng_state=preserve,
        )
    return run_function(end + 1, len(functions) - 1, functions)(input)
