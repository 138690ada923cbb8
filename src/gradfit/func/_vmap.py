"""``torch.func.vmap`` by running the function once per slice along the mapped dimensions
and stacking the results.

PyTorch batches each operation instead; running per slice gives the same values for any
function (data-dependent control flow included), composes with every other transform
(``vmap(grad(f))`` is the per-sample gradient, nested ``vmap`` maps twice) and keeps the
graph, at the price of one call per batch element. ``chunk_size`` is accepted and checked;
it changes nothing here since slices are already computed one at a time.

``randomness``: 'error' raises PyTorch's error when the function draws from the default
generator (detected by comparing its state before and after the calls); 'same' restores
the generator before each slice so every slice draws the same numbers; 'different' lets
each slice draw its own. The numbers drawn are gradfit's, not PyTorch's batched stream.
"""

from __future__ import annotations

import functools

import numpy as np

from gradfit.func._pytree import broadcast_prefix, tree_flatten, tree_unflatten
from gradfit.tensor import Tensor

__all__ = ["vmap"]


def _name(func) -> str:
    return getattr(func, "__name__", repr(func))


def _check_randomness(randomness) -> None:
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(
            "Only allowed values for randomness are 'error', 'different', or 'same'. "
            f"Got {randomness}"
        )


def _check_out_dims(out_dims, func) -> None:
    leaves = tree_flatten(out_dims)[0]
    for d in leaves:
        if d is not None and not isinstance(d, int):
            raise ValueError(
                f"vmap({_name(func)}, ..., out_dims={out_dims}): `out_dims` must be an int, "
                "None or a python collection of ints representing where in the outputs the "
                "vmapped dimension should appear."
            )


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """``func`` mapped over dimension ``in_dims`` of its inputs; the results are stacked
    along ``out_dims``. ``in_dims``/``out_dims``: an int, None (not mapped), or a tree
    matching the inputs/outputs (a prefix of it)."""
    _check_randomness(randomness)
    _check_out_dims(out_dims, func)
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size < 1):
        raise ValueError(f"vmap: chunk_size should be None or greater than 0. (got {chunk_size})")

    @functools.wraps(func)
    def wrapped(*args, **kwargs):
        batch, flat_dims, flat_args, spec = _process_inputs(func, in_dims, args)
        outputs = _run(func, batch, flat_dims, flat_args, spec, kwargs, randomness)
        return _stack_outputs(func, outputs, out_dims)

    return wrapped


def _process_inputs(func, in_dims, args):
    name = _name(func)
    if not isinstance(in_dims, int | tuple) or isinstance(in_dims, bool):
        raise ValueError(
            f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): expected `in_dims` to be int or "
            "a (potentially nested) tuple matching the structure of inputs, got: "
            f"{type(in_dims)}."
        )
    if len(args) == 0:
        raise ValueError(
            f"vmap({name})(<inputs>): got no inputs. Maybe you forgot to add inputs, or you "
            "are trying to vmap over a function with no inputs. The latter is unsupported."
        )
    flat_args, spec = tree_flatten(args)
    flat_dims = broadcast_prefix(in_dims, spec)
    if flat_dims is None:
        raise ValueError(
            f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): in_dims is not compatible with "
            f"the structure of `inputs`. in_dims has structure {tree_flatten(in_dims)[1]} but "
            f"inputs has structure {spec}."
        )
    for i, (arg, d) in enumerate(zip(flat_args, flat_dims)):
        if d is not None and (not isinstance(d, int) or isinstance(d, bool)):
            raise ValueError(
                f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={d} for an input "
                "but in_dim must be either an integer dimension or None."
            )
        if d is not None and not isinstance(arg, Tensor):
            raise ValueError(
                f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={d} for an input "
                f"but the input is of type {type(arg)}. We cannot vmap over non-Tensor "
                "arguments, please use None as the respective in_dim"
            )
        if d is not None and not -arg.dim() <= d < arg.dim():
            raise ValueError(
                f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={d} for some "
                f"input, but that input is a Tensor of dimensionality {arg.dim()} so expected "
                f"in_dim to satisfy -{arg.dim()} <= in_dim < {arg.dim()}."
            )
        if d is not None and d < 0:
            flat_dims[i] = d % arg.dim()
    sizes = [a.shape[d] for a, d in zip(flat_args, flat_dims) if d is not None]
    if not sizes:
        raise ValueError("vmap: Expected at least one Tensor to vmap over")
    if any(s != sizes[0] for s in sizes):
        raise ValueError(
            "vmap: Expected all tensors to have the same size in the mapped dimension, got "
            f"sizes {sizes} for the mapped dimension"
        )
    return sizes[0], flat_dims, flat_args, spec


def _rng_state():
    from gradfit.random import default_generator

    return default_generator.mt.get_state()


def _run(func, batch, flat_dims, flat_args, spec, kwargs, randomness):
    from gradfit.random import default_generator

    start = _rng_state() if randomness in ("error", "same") else None
    outputs = []
    for i in range(batch):
        if randomness == "same" and i > 0:
            default_generator.mt.set_state(start)
        sliced = [a if d is None else a.select(d, i) for a, d in zip(flat_args, flat_dims)]
        outputs.append(func(*tree_unflatten(sliced, spec), **kwargs))
        if randomness == "error" and not np.array_equal(_rng_state(), start):
            raise RuntimeError(
                "vmap: called random operation while in randomness error mode. Please either "
                "use the 'same' or 'different' randomness flags on vmap or perform the "
                "randomness operation out of vmap"
            )
    return outputs


def _equal(a, b) -> bool:
    return isinstance(b, Tensor) and tuple(a.shape) == tuple(b.shape) and bool((a == b).all())


def _stack_outputs(func, outputs, out_dims):
    from gradfit import stack

    name = _name(func)
    flats = [tree_flatten(o) for o in outputs]
    flat0, spec = flats[0]
    for _, s in flats[1:]:
        if s != spec:
            raise ValueError(
                f"vmap({name}, ...): `{name}` must return outputs of the same structure for "
                f"every batch element, got {spec} and {s}"
            )

    def incompatible():
        raise ValueError(
            f"vmap({name}, ..., out_dims={out_dims})(<inputs>): out_dims is not compatible "
            f"with the structure of `outputs`. out_dims has structure "
            f"{tree_flatten(out_dims)[1]} but outputs has structure {spec}."
        )

    if isinstance(outputs[0], Tensor):
        if isinstance(out_dims, int) or out_dims is None:
            dims = [out_dims]
        elif isinstance(out_dims, tuple) and len(out_dims) == 1:
            dims = list(out_dims)
        else:
            incompatible()
    else:
        dims = broadcast_prefix(out_dims, spec)
        if dims is None:
            incompatible()
    result = []
    for j, d in enumerate(dims):
        items = [f[0][j] for f in flats]
        if d is None:
            # PyTorch raises for an output that depends on the mapped inputs; here that
            # shows only as values that differ between the slices
            if isinstance(items[0], Tensor) and any(not _equal(items[0], t) for t in items[1:]):
                raise ValueError(
                    f"vmap({name}, ...): `{name}` can not return a BatchedTensor when out_dim "
                    "is None"
                )
            result.append(items[0])
            continue
        if not isinstance(items[0], Tensor):
            raise ValueError(
                f"vmap({name}, ...): `{name}` must only return Tensors, got type "
                f"{type(items[0])}. Did you mean to set out_dims= to None for output?"
            )
        nd = items[0].dim() + 1
        if not -nd <= d < nd:
            raise IndexError(
                f"Dimension out of range (expected to be in range of [{-nd}, {nd - 1}], but "
                f"got {d})"
            )
        result.append(stack(items, dim=d))
    return tree_unflatten(result, spec)
