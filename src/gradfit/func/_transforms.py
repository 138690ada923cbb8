"""``torch.func``'s autodiff transforms on gradfit's reverse-mode engine.

PyTorch runs each transform at its own level of wrapped tensors. Here every transform
works on fresh leaves: the differentiated inputs are detached copies marked
``requires_grad`` (or differentiable clones when an enclosing transform, or ordinary
autograd, follows them), the function runs once, and ``autograd.grad`` takes the
derivatives. Inside another transform the derivatives are taken with
``create_graph=True`` so the enclosing one can differentiate them again: that is what
makes ``grad(grad(f))``, ``jacrev(jacrev(f))`` and ``hessian`` work. Because each level
differentiates with respect to its own leaves, an inner ``grad`` never sees the outer
level's inputs as its own (no perturbation confusion).

Forward mode (``jvp``, ``jacfwd``) is computed in reverse mode: ``jvp`` by the double-vjp
trick (J^T u is linear in u, so its vjp with the tangent is J v), ``jacfwd`` as
``jacrev`` (the same Jacobian). ``autograd.forward_ad`` (dual tensors) is gradfit's eager
forward mode; it gives the same J v (tests/autograd/test_forward_ad.py), but these
transforms keep the per-level leaves that nest with ``vmap`` and ``grad``.

At the outermost level the derivatives keep their graph only when the results depend on
a tensor that ordinary autograd follows (an argument, or a tensor the function closes
over, with ``requires_grad=True``: found by walking the function's graph back from its
outputs), so that they are detached, as PyTorch's, otherwise.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from gradfit import _arrays
from gradfit.autograd import enable_grad, is_grad_enabled
from gradfit.autograd import grad as _autograd_grad
from gradfit.func._pytree import tree_flatten, tree_map, tree_unflatten
from gradfit.tensor import Tensor

__all__ = [
    "debug_unwrap",
    "functional_call",
    "functionalize",
    "grad",
    "grad_and_value",
    "hessian",
    "jacfwd",
    "jacrev",
    "jvp",
    "linearize",
    "replace_all_batch_norm_modules_",
    "stack_module_state",
    "vjp",
]

# How many autodiff transforms are running (an inner one must keep its graph).
_DEPTH = [0]
# The leaves the running transforms made (by id; the tensors are kept so that ids stay
# unique), emptied when the outermost one ends: a graph reaching them is internal.
_INTERNAL: dict = {}


class _Level:
    """One autodiff transform's scope: decides whether results keep their graph."""

    def __init__(self, flat_inputs):
        self.outer_grad = is_grad_enabled()
        nested = _DEPTH[0] > 0
        tracked = self.outer_grad and any(
            isinstance(t, Tensor) and t.requires_grad for t in flat_inputs
        )
        self.create_graph = nested or tracked

    def check(self, outputs, own_leaves) -> None:
        """Keep the graph also when ``outputs`` depend on a tensor requiring grad other
        than this level's own leaves (a tensor the function closes over)."""
        if not self.create_graph and self.outer_grad:
            self.create_graph = _depends_outside(outputs, own_leaves)

    def __enter__(self):
        _DEPTH[0] += 1
        self._grad = enable_grad()
        self._grad.__enter__()
        return self

    def __exit__(self, *exc):
        self._grad.__exit__(*exc)
        _DEPTH[0] -= 1
        if _DEPTH[0] == 0:
            _INTERNAL.clear()
        return False

    def leaf(self, x):
        """A differentiable stand-in for ``x`` (connected to ``x``'s graph only when
        results keep theirs)."""
        if not isinstance(x, Tensor):
            raise ValueError(f"Thing passed to transform API must be Tensor, got {type(x)}")
        if self.create_graph and x.requires_grad:
            return x.clone()
        return _internal(x.detach().requires_grad_(True))

    def finish(self, tree):
        """The results as the caller sees them: detached at the outermost level."""
        if self.create_graph:
            return tree
        return tree_map(lambda t: t.detach() if isinstance(t, Tensor) else t, tree)


def _internal(t):
    _INTERNAL[id(t)] = t
    return t


def _depends_outside(outputs, own_leaves) -> bool:
    own = {id(t) for t in own_leaves}
    seen: set = set()
    stack = [o for o in outputs if isinstance(o, Tensor) and o.requires_grad]
    while stack:
        t = stack.pop()
        if id(t) in own or id(t) in _INTERNAL:
            continue
        node = t.grad_fn
        if node is None:
            return True  # a leaf that requires grad and is not ours
        if id(node) in seen:
            continue
        seen.add(id(node))
        for a in getattr(node, "inputs", ()) or ():
            if isinstance(a, Tensor) and a.requires_grad:
                stack.append(a)
    return False


def _zeros_like(x):
    return _arrays.wrap(np.zeros_like(_arrays.unwrap(x)))


def _grads(outputs, inputs, grad_outputs, create_graph):
    """``autograd.grad`` with zeros for inputs the outputs do not depend on."""
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o.requires_grad]
    if pairs and inputs:
        gs = _autograd_grad(
            [o for o, _ in pairs],
            list(inputs),
            [g for _, g in pairs],
            retain_graph=True,
            create_graph=create_graph,
            allow_unused=True,
        )
    else:
        gs = [None] * len(inputs)
    return [_zeros_like(x) if g is None else g for x, g in zip(inputs, gs)]


# --- argnums ---------------------------------------------------------------------------


def _check_argnums(argnums, num_args: int):
    if isinstance(argnums, tuple):
        if len(argnums) == 0:
            raise RuntimeError("argnums must be non-empty")
        if len(set(argnums)) != len(argnums):
            raise RuntimeError(f"argnums elements must be unique, got {argnums}")
        return tuple(_wrap_argnum(a, num_args) for a in argnums)
    if isinstance(argnums, int):
        return _wrap_argnum(argnums, num_args)
    raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(argnums)}")


def _wrap_argnum(argnum, num_args: int) -> int:
    if not isinstance(argnum, int):
        raise RuntimeError(f"argnum must be int, got: {type(argnum)}")
    if 0 <= argnum < num_args:
        return argnum
    if -num_args <= argnum < 0:
        return argnum + num_args
    raise RuntimeError(f"Got argnum={argnum}, but only {num_args} positional inputs")


def _differentiable_args(level: _Level, args: tuple, argnums):
    """(args with the differentiated ones replaced by fresh leaves, those leaves as a
    tree shaped as the argnums selection, and the flat leaves)."""
    argnums = _check_argnums(argnums, len(args))
    picked = argnums if isinstance(argnums, tuple) else (argnums,)
    new_args = list(args)
    for i in picked:
        new_args[i] = tree_map(level.leaf, args[i])
    diff = tuple(new_args[i] for i in picked)
    diff = diff if isinstance(argnums, tuple) else diff[0]
    flat, spec = tree_flatten(diff)
    return tuple(new_args), flat, spec


# --- grad -------------------------------------------------------------------------------


def _grad_and_value(func, argnums, has_aux, args, kwargs):
    level = _Level(tree_flatten((args, kwargs))[0])
    with level:
        args, flat_diff, spec = _differentiable_args(level, args, argnums)
        output = func(*args, **kwargs)
        aux = None
        if has_aux:
            if not (isinstance(output, tuple) and len(output) == 2):
                raise RuntimeError(
                    "grad_and_value(f)(*args): output of function f should be a tuple: "
                    "(output, aux) if has_aux is True"
                )
            output, aux = output
        if not isinstance(output, Tensor):
            raise RuntimeError(
                "grad_and_value(f)(*args): Expected f(*args) to return a Tensor, got "
                f"{type(output)}"
            )
        if output.dim() != 0:
            raise RuntimeError(
                "grad_and_value(f)(*args): Expected f(*args) to return a scalar Tensor, got "
                f"tensor with {output.dim()} dims. Maybe you wanted to use the vjp or jacrev "
                "APIs instead?"
            )
        level.check([output], flat_diff)
        one = _arrays.wrap(np.ones_like(_arrays.unwrap(output)))
        gs = _grads([output], flat_diff, [one], level.create_graph)
        result = tree_unflatten(gs, spec)
        result, output, aux = level.finish((result, output, aux))
    if has_aux:
        return result, (output, aux)
    return result, output


def grad_and_value(func, argnums=0, has_aux=False):
    """A function returning (gradient of ``func`` with respect to the arguments at
    ``argnums``, ``func``'s value); with ``has_aux`` ``func`` returns (scalar, aux) and the
    result is (gradient, (value, aux))."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        return _grad_and_value(func, argnums, has_aux, args, kwargs)

    return wrapper


def grad(func, argnums=0, has_aux=False):
    """The gradient of a scalar ``func`` with respect to the arguments at ``argnums``
    (a tree shaped as those arguments; a tuple of them for a tuple ``argnums``). With
    ``has_aux`` ``func`` returns (scalar, aux) and the result is (gradient, aux)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        g, value = _grad_and_value(func, argnums, has_aux, args, kwargs)
        return (g, value[1]) if has_aux else g

    return wrapper


# --- vjp --------------------------------------------------------------------------------


def _split_aux(output, has_aux: bool, api: str):
    if not has_aux:
        return output, None
    if not (isinstance(output, tuple) and len(output) == 2):
        raise RuntimeError(
            f"{api}(f, *primals): output of function f should be a tuple: (output, aux) "
            "if has_aux is True"
        )
    return output


def _check_outputs(flat_out, api: str):
    for o in flat_out:
        if not isinstance(o, Tensor):
            raise RuntimeError(
                f"{api}: expected f(*primals) to return only tensors, got unsupported type "
                f"{type(o)}"
            )
        if _arrays.unwrap(o).dtype.kind not in "fc":
            raise RuntimeError(
                f"{api}(f, ...): All outputs of f must be floating-point or complex Tensors, "
                f"got Tensor with dtype {o.dtype}"
            )


def vjp(func, *primals, has_aux=False):
    """(``func(*primals)``, vjp_fn[, aux]): ``vjp_fn(cotangents)`` is the tuple of
    cotangents^T J, one entry per primal (shaped as the primal's tree)."""
    level = _Level(tree_flatten(primals)[0])
    with level:
        leaves = tuple(tree_map(level.leaf, p) for p in primals)
        flat_primals, primals_spec = tree_flatten(leaves)
        output, aux = _split_aux(func(*leaves), has_aux, "vjp")
        flat_out, out_spec = tree_flatten(output)
        _check_outputs(flat_out, "vjp")
        level.check(flat_out, flat_primals)
    keep_graph = level.create_graph

    def vjp_fn(cotangents, retain_graph=True, create_graph=None):
        # retain_graph: the graph is always kept, so vjp_fn can be called again
        flat_ct, ct_spec = tree_flatten(cotangents)
        if create_graph is None:
            create_graph = keep_graph
        create_graph = create_graph or (
            is_grad_enabled() and any(isinstance(c, Tensor) and c.requires_grad for c in flat_ct)
        )
        if ct_spec != out_spec:
            raise RuntimeError(
                "Expected pytree structure of cotangents to be the same as pytree structure "
                f"of outputs to the function. cotangents: {ct_spec.pprint()}, primal output: "
                f"{out_spec.pprint()}"
            )
        for o, c in zip(flat_out, flat_ct):
            if tuple(o.shape) != tuple(c.shape):
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[0] has a shape of {c.shape} and "
                    f"output[0] has a shape of {o.shape}."
                )
        with enable_grad():
            gs = _grads(flat_out, flat_primals, flat_ct, create_graph)
        res = tree_unflatten(gs, primals_spec)
        return res if create_graph else tree_map(Tensor.detach, res)

    output = level.finish(output)
    if has_aux:
        return output, vjp_fn, level.finish(aux)
    return output, vjp_fn


# --- jvp --------------------------------------------------------------------------------


def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """(``func(*primals)``, J tangents[, aux]), by the double-vjp trick."""
    api = "jvp(f, primals, tangents)"
    if not isinstance(primals, tuple):
        raise RuntimeError(
            f"{api}: Expected primals to be a tuple. E.g. it should be valid to call f(*primals)."
        )
    flat_p, p_spec = tree_flatten(primals)
    flat_t, t_spec = tree_flatten(tangents)
    if p_spec != t_spec:
        raise RuntimeError(
            f"{api}: Expected primals and tangents to have the same python structure. For "
            "example, if primals is a tuple of 3 tensors, tangents also must be. Got primals "
            f"with structure {p_spec} and tangents with structure {t_spec}"
        )
    for name, flat in (("primals", flat_p), ("tangents", flat_t)):
        if not flat:
            raise RuntimeError(f"{api}: Expected {name} to be a non-empty tuple of Tensors.")
        for x in flat:
            if not isinstance(x, Tensor):
                raise RuntimeError(
                    f"{api}: Expected {name} to be a tuple of Tensors, got a tuple with an "
                    f"element of type {type(x)}"
                )
    for p, t in zip(flat_p, flat_t):
        if tuple(p.shape) != tuple(t.shape):
            raise RuntimeError(
                "Trying to set a forward gradient that has a different size than that of the "
                f"original Tensor, this is not supported. Tensor is of size {list(p.shape)} "
                f"while the given forward gradient is of size {list(t.shape)}."
            )
    level = _Level(flat_p + flat_t)
    with level:
        leaves = tuple(tree_map(level.leaf, p) for p in primals)
        flat_leaves = tree_flatten(leaves)[0]
        output, aux = _split_aux(func(*leaves), has_aux, "jvp")
        flat_out, out_spec = tree_flatten(output)
        if not flat_out:
            raise RuntimeError(
                f"{api}: Expected f to be a function that has non-empty output (got output = "
                f"{output})"
            )
        for o in flat_out:
            if not isinstance(o, Tensor):
                raise RuntimeError(
                    f"{api}: expected f(*args) to return only tensors, got unsupported type "
                    f"{type(o)}"
                )
        if strict and not any(o.requires_grad for o in flat_out):
            raise RuntimeError(
                "jvp(f, primals, tangents, strict=True): The output of f is independent of "
                "the inputs. This is not allowed with strict=True."
            )
        level.check(flat_out, flat_leaves)
        seeds = [_internal(_zeros_like(o).requires_grad_(True)) for o in flat_out]
        back = _grads(flat_out, flat_leaves, seeds, True)
        pairs = [(b, t) for b, t in zip(back, flat_t) if b.requires_grad]
        tangents_out = _grads(
            [b for b, _ in pairs], seeds, [t for _, t in pairs], level.create_graph
        )
        result = (tree_unflatten(flat_out, out_spec), tree_unflatten(tangents_out, out_spec))
        result = level.finish(result)
        if has_aux:
            return (*result, level.finish(aux))
        return result


# --- Jacobians --------------------------------------------------------------------------


def _jacobian(func, argnums, has_aux, args, kwargs, api):
    level = _Level(tree_flatten((args, kwargs))[0])
    with level:
        args, flat_diff, diff_spec = _differentiable_args(level, args, argnums)
        output, aux = _split_aux(func(*args, **kwargs), has_aux, api)
        flat_out, out_spec = tree_flatten(output)
        _check_outputs(flat_out, "vjp")
        level.check(flat_out, flat_diff)
        per_output = []
        for o in flat_out:
            rows = [[] for _ in flat_diff]
            flat_o = o.reshape(-1)
            n = flat_o.numel()
            for k in range(n):
                seed = np.zeros(n, dtype=_arrays.unwrap(o).dtype)
                seed[k] = 1
                gs = _grads([flat_o], flat_diff, [_arrays.wrap(seed)], level.create_graph)
                for j, g in enumerate(gs):
                    rows[j].append(g)
            jacs = []
            for j, x in enumerate(flat_diff):
                shape = tuple(o.shape) + tuple(x.shape)
                if n == 0:
                    jacs.append(_arrays.wrap(np.zeros(shape, _arrays.unwrap(x).dtype)))
                else:
                    jacs.append(_stack(rows[j]).reshape(shape))
            per_output.append(tree_unflatten(jacs, diff_spec))
        result = tree_unflatten(per_output, out_spec)
        result = level.finish(result)
        if has_aux:
            return result, level.finish(aux)
        return result


def _stack(tensors):
    from gradfit import stack

    return stack(tensors)


def jacrev(func, argnums=0, *, has_aux=False, chunk_size=None, _preallocate_and_copy=False):
    """The Jacobian of ``func`` with respect to the arguments at ``argnums``, one backward
    pass per output element: for each output leaf, a tree shaped as those arguments whose
    leaves have shape output.shape + argument.shape."""
    if not (chunk_size is None or chunk_size > 0):
        raise ValueError("jacrev: `chunk_size` should be greater than 0.")

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        return _jacobian(func, argnums, has_aux, args, kwargs, "jacrev")

    return wrapper


def jacfwd(func, argnums=0, has_aux=False, *, randomness="error"):
    """``torch.func.jacfwd``: the same Jacobian as ``jacrev``, computed in reverse mode
    (the transforms' per-level leaves nest with ``vmap`` and ``grad``; the eager forward
    mode of ``autograd.forward_ad`` gives the same columns, one dual evaluation each)."""
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(
            "Only allowed values for randomness are 'error', 'different', or 'same'. "
            f"Got {randomness}"
        )

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        return _jacobian(func, argnums, has_aux, args, kwargs, "jacfwd")

    return wrapper


def hessian(func, argnums=0):
    """``jacfwd(jacrev(func, argnums), argnums)``: the Hessian of ``func``."""
    return jacfwd(jacrev(func, argnums), argnums)


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *,
                    tie_weights=True, strict=False):  # fmt: skip
    """``module(*args, **kwargs)`` with its parameters and buffers replaced by those in
    ``parameter_and_buffer_dicts`` (a dict, or a tuple/list of dicts with distinct keys)."""
    from gradfit.nn.utils.stateless import _functional_call

    if isinstance(parameter_and_buffer_dicts, dict):
        values = parameter_and_buffer_dicts
    elif isinstance(parameter_and_buffer_dicts, list | tuple):
        if not all(isinstance(d, dict) for d in parameter_and_buffer_dicts):
            raise ValueError(
                "Expected all elements of parameter_and_buffer_dicts to be dictionaries"
            )
        counts: dict[str, int] = {}
        for d in parameter_and_buffer_dicts:
            for k in d:
                counts[k] = counts.get(k, 0) + 1
        repeated = [k for k, n in counts.items() if n > 1]
        if repeated:
            raise ValueError(
                f"{repeated} appeared in multiple dictionaries; behavior of functional call "
                "is ambiguous"
            )
        values = {k: v for d in parameter_and_buffer_dicts for k, v in d.items()}
    else:
        raise ValueError(
            "Expected parameter_and_buffer_dicts to be a dict, or a list/tuple of dicts, "
            f"but got {type(parameter_and_buffer_dicts)}"
        )
    return _functional_call(module, values, args, kwargs, tie_weights=tie_weights, strict=strict)


def stack_module_state(models) -> tuple[dict[str, Any], dict[str, Any]]:
    """The models' parameters and buffers stacked along a new first dimension, for
    ``vmap`` over an ensemble with ``functional_call``."""
    from gradfit import stack

    models = list(models)
    if len(models) == 0:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if not (all(m.training for m in models) or all(not m.training for m in models)):
        raise RuntimeError(
            "stack_module_state: Expected all models to have the same training/eval mode."
        )
    if not all(type(m) is type(models[0]) for m in models):
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")

    def stacked(tensors, name):
        if len({t.requires_grad for t in tensors}) > 1:
            raise RuntimeError(f"Expected {name} from each model to have the same .requires_grad")
        out = stack(tensors)
        return out.detach().requires_grad_() if tensors[0].requires_grad else out

    params = [dict(m.named_parameters()) for m in models]
    buffers = [dict(m.named_buffers()) for m in models]
    return (
        {k: stacked([p[k] for p in params], k) for k in params[0]},
        {k: stacked([b[k] for b in buffers], k) for k in buffers[0]},
    )


def linearize(func, *primals):
    """(``func(*primals)``, jvp_fn): ``jvp_fn(*tangents)`` is the Jacobian-vector product
    at ``primals``. PyTorch traces the linear map once; here each call computes ``jvp``
    afresh (the same values)."""
    output = func(*primals)
    flat_primals, primals_spec = tree_flatten(primals)

    def jvp_fn(*tangents):
        flat_tangents, tangents_spec = tree_flatten(tangents)
        if tangents_spec != primals_spec:
            raise RuntimeError(
                f"Expected the tangents {tangents_spec} to have the same argspec as the "
                f"primals {primals_spec}"
            )
        for idx, (t, p) in enumerate(zip(flat_tangents, flat_primals)):
            for what, a, b in (("shape", t.shape, p.shape), ("dtype", t.dtype, p.dtype)):
                if a != b:
                    raise RuntimeError(
                        f"tangent:{idx} with {what} {a} in flattened pytree doesn't match the "
                        f"{what} {b} of the corresponding primal."
                    )
        return jvp(func, primals, tangents)[1]

    return output, jvp_fn


def functionalize(func, *, remove="mutations"):
    """``func`` itself: PyTorch's functionalize rewrites in-place ops as out-of-place ones
    for graph capture, which changes no value, and gradfit has no graph capture."""
    if remove not in ("mutations", "mutations_and_views"):
        raise RuntimeError(
            f"functionalize(f, remove='mutations'): received invalid argument for "
            f"remove={remove}. Valid options are:\n     remove='mutations': all inplace and "
            "out= operators will be removed from the program, and replaced with their "
            "out-of-place equivalents.\n     remove='mutations_and_views': In addition to the "
            "above, all aliasing operators {view} will be replaced with their non-aliasing "
            "counterparts, {view}_copy.\n"
        )

    @functools.wraps(func)
    def wrapped(*args, **kwargs):
        return func(*args, **kwargs)

    return wrapped


def debug_unwrap(tensor, *, recurse=True):
    """The tensor itself: gradfit's transforms work on ordinary tensors, never wrappers."""
    return tensor


def replace_all_batch_norm_modules_(root):
    """Make every BatchNorm module in ``root`` use batch statistics only (running stats
    None, ``track_running_stats`` False), in place, for use under ``vmap``."""
    from gradfit.nn.modules.batchnorm import _BatchNorm

    for module in (root, *root.modules()):
        if isinstance(module, _BatchNorm) and module.track_running_stats:
            module.running_mean = None
            module.running_var = None
            module.num_batches_tracked = None
            module.track_running_stats = False
    return root
