"""The ``Optimizer`` base class: parameter groups, per-parameter state, ``state_dict``.

The bookkeeping follows ``torch/optim/optimizer.py`` so that a PyTorch training script
(and a PyTorch ``state_dict``) works unchanged:

* ``param_groups`` is a list of dicts, each with ``"params"`` (a list of Tensors) and the
  group's hyperparameters; missing hyperparameters are filled from ``defaults``.
* ``state`` is a ``defaultdict(dict)`` keyed by the parameter Tensor itself.
* ``state_dict()`` replaces the Tensors by their position (numbered across all groups) and
  ``load_state_dict()`` matches saved state to the current parameters by that position.

The update rules themselves live in ``gradfit.optim._functional`` as functions over NumPy
arrays, ``rule(params, grads, state, group)``. ``Optimizer.step`` gathers each group's
parameters that have a gradient and their arrays, marking the parameters as changed
(``_arrays.to_update``), and hands them to the subclass's ``_update``; the default
``_update`` gathers the state arrays (``_state_arrays``, the entries a subclass names in
``_state_spec``) and calls the rule (``_rule``) with them and the group; a subclass whose
state is made otherwise overrides ``_update``. Gradients that are sparse go through
``_sparse_update``: the dense ones through ``_update``, the sparse ones through the
subclass's ``_sparse_rule``, where PyTorch has one.

gradfit's optimizers take PyTorch's arguments, with PyTorch's defaults (their signatures
show them: ``inspect.signature(SGD)``), and build their ``__init__`` with ``constructor``
from that signature written as data. Common to all of them:

* ``params``: an iterable of Tensors, of ``(name, Tensor)`` pairs, or of dicts defining
  parameter groups (each with ``"params"`` and optional hyperparameters);
* ``lr``: the learning rate; ``maximize``: ascend instead of descend;
* ``foreach``, ``capturable``, ``differentiable``, ``fused``: PyTorch's choices among its
  implementations, accepted where PyTorch accepts them and kept in the groups: gradfit
  has one implementation (``SHARED_OPTIONS``).
"""

from __future__ import annotations

import copy
import inspect
from collections import defaultdict
from itertools import chain

import numpy as np

from gradfit import _dtypes
from gradfit._arrays import bump_version, clear_grads, to_update, unwrap, unwrap_many, wrap
from gradfit._grad_mode import enable_grad
from gradfit.ops.sparse import CREATED as _SPARSE_CREATED
from gradfit.optim._sparse_functional import has_sparse
from gradfit.tensor import Tensor


class _RequiredParameter:
    """Marks a hyperparameter without a default (PyTorch's ``optim.optimizer.required``)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


def _step_array(_param=None, value: float = 0.0) -> np.ndarray:
    """The array of a ``state['step']`` counter: 0-d float, as PyTorch stores it.

    PyTorch keeps it in float32, or float64 when the default dtype is float64
    (``_get_scalar_dtype``), whatever the parameter's dtype (``_param`` is ignored: the
    signature is that of ``_state_arrays``' ``make``); integers up to 2**24 are exact.
    """
    dtype = np.float64 if _dtypes.default_np() == np.float64 else np.float32
    return np.array(value, dtype=dtype)


def _one(_param=None) -> np.ndarray:
    """A 0-d state entry that starts at 1 (NAdam's μ product, ASGD's μ), in the step
    counter's dtype."""
    return _step_array(value=1.0)


def _numbers_to_scalar_state(state: dict, *keys: str) -> None:
    """Turn plain-number entries ``keys`` of each parameter's state (older PyTorch state
    dicts kept them as Python numbers) into 0-d Tensors of the step counter's dtype, as
    the ``__setstate__`` of PyTorch's NAdam and ASGD do (``step`` itself is converted
    by ``load_state_dict``)."""
    for st in state.values():
        if isinstance(st, dict):
            for key in keys:
                if isinstance(st.get(key), (int, float)):
                    st[key] = wrap(_step_array(value=float(st[key])))


def _as_tensor(value) -> Tensor | None:
    """Convert an array-like from a foreign ``state_dict`` (a NumPy array or a PyTorch
    tensor, which both expose ``__array__``) to a gradfit Tensor; None if it is not one."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, np.ndarray):
        return wrap(value.copy())
    if hasattr(value, "__array__") and not isinstance(value, (int, float, bool, str)):
        # call __array__ without arguments: older implementations (PyTorch's) reject the
        # copy= keyword that np.array would pass
        return wrap(np.array(value.__array__(), copy=True))
    return None


# PyTorch's words in its range errors ("Invalid learning rate: -1"); another name is
# "<name> value" ("Invalid momentum value: -0.5").
_LABELS = {"lr": "learning rate", "eps": "epsilon value"}


def _check_nonnegative(name: str, value) -> None:
    """PyTorch's hyperparameter check: ``ValueError: Invalid learning rate: -1``.

    ``required`` (no default: each group must set it) is not checked here.
    """
    if value is not required and not 0.0 <= value:
        raise ValueError(f"Invalid {_LABELS.get(name, name + ' value')}: {value}")


def _hyperparameters(arguments: dict, *checked: str, order: str = "") -> dict:
    """An optimizer's group defaults: its constructor's arguments but ``self`` and
    ``params``, in the order of the space-separated names in ``order`` where given
    (PyTorch's ``defaults`` dict, whose order ``param_groups`` and ``state_dict()`` show
    when printed), the rest after them.

    The arguments named in ``checked`` are checked first, in that order (PyTorch's, which
    decides the message when several are wrong): ``betas`` each in [0, 1), ``rho`` in
    [0, 1], ``etas`` with 0 < etaminus < 1 < etaplus, ``nesterov`` only with a momentum
    and no dampening, the others nonnegative.
    """
    for name in checked:
        value = arguments[name]
        if name == "betas":
            for i, beta in enumerate(value):
                if not 0.0 <= beta < 1.0:
                    raise ValueError(f"Invalid beta parameter at index {i}: {beta}")
        elif name == "rho":
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"Invalid rho value: {value}")
        elif name == "etas":
            if not 0.0 < value[0] < 1.0 < value[1]:
                raise ValueError(f"Invalid eta values: {value[0]}, {value[1]}")
        elif name == "nesterov":
            momentum, dampening = arguments["momentum"], arguments["dampening"]
            if value and (momentum <= 0 or dampening != 0):
                raise ValueError(
                    "Nesterov momentum requires a momentum and zero dampening, got "
                    f"momentum={momentum}, dampening={dampening}"
                )
        else:
            _check_nonnegative(name, value)
    out = {k: arguments[k] for k in order.split()}
    for k, v in arguments.items():
        if k not in ("self", "params", "__class__") and k not in out:
            out[k] = v
    return out


#: Options that several of PyTorch's optimizers take, each with the same default in all of
#: them. ``foreach``, ``capturable``, ``differentiable`` and ``fused`` choose among
#: PyTorch's implementations: gradfit has one, and only keeps them in the groups.
SHARED_OPTIONS = {
    "foreach": None,
    "maximize": False,
    "capturable": False,
    "differentiable": False,
    "fused": None,
    "decoupled_weight_decay": False,
}


def constructor(
    hyperparameters: dict, options: str = "", *, checked: str = "", order: str = "", fixed=None
):
    """The ``__init__`` of one of gradfit's optimizers, from its PyTorch signature.

    The constructor is ``__init__(self, params, <hyperparameters>, <options>)``:
    ``hyperparameters`` are the optimizer's own, with PyTorch's defaults, in PyTorch's
    order; ``options`` names the ``SHARED_OPTIONS`` that follow them, ``*`` marking where
    the keyword-only ones begin, as in a ``def``. The arguments are bound as Python binds
    them (a ``TypeError`` for an unknown keyword or one positional argument too many),
    ``checked`` (names, in PyTorch's order) and ``order`` go to ``_hyperparameters``, and
    ``fixed`` holds the group entries the class sets itself (AdamW's
    ``decoupled_weight_decay=True``). ``inspect.signature`` shows the signature.
    """
    positional = inspect.Parameter.POSITIONAL_OR_KEYWORD
    parameters = [inspect.Parameter("self", positional), inspect.Parameter("params", positional)]
    parameters += [inspect.Parameter(k, positional, default=v) for k, v in hyperparameters.items()]
    kind = positional
    for name in options.split():
        if name == "*":
            kind = inspect.Parameter.KEYWORD_ONLY
        else:
            parameters.append(inspect.Parameter(name, kind, default=SHARED_OPTIONS[name]))
    signature = inspect.Signature(parameters)

    def __init__(self, *args, **kwargs) -> None:
        try:
            bound = signature.bind(self, *args, **kwargs)
        except TypeError as e:
            raise TypeError(f"{type(self).__name__}.__init__() {e}") from None
        bound.apply_defaults()
        arguments = {**bound.arguments, **(fixed or {})}
        defaults = _hyperparameters(arguments, *checked.split(), order=order)
        Optimizer.__init__(self, arguments["params"], defaults)

    __init__.__signature__ = signature
    return __init__


class Optimizer:
    """Base class for all optimizers (PyTorch's ``torch.optim.Optimizer``).

    Args:
        params: an iterable of Tensors, of ``(name, Tensor)`` pairs, or of dicts defining
            parameter groups (each dict has ``"params"`` and optional hyperparameters).
        defaults: default hyperparameters, used for groups that do not set them.
    """

    def __init__(self, params, defaults: dict) -> None:
        self.defaults = defaults
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or "
                f"dicts, but got {params.type()}"
            )
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict] = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    # ------------------------------------------------------------------ pickling, repr
    def __getstate__(self) -> dict:
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state: dict) -> None:
        """Restore ``state``; a group saved without some option (an older or a PyTorch
        state dict) gets the optimizer's default for it, as PyTorch's per-class
        ``__setstate__`` methods do."""
        self.__dict__.update(state)
        for group in self.param_groups:
            for key, value in self.defaults.items():
                group.setdefault(key, value)

    def __repr__(self) -> str:
        # PyTorch's layout: every group opens with a newline, so groups are blank-line apart
        text = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}\n"
            for key in sorted(group):
                if key != "params":
                    text += f"    {key}: {group[key]}\n"
        return text + ")"

    # ------------------------------------------------------------------ groups
    def add_param_group(self, param_group: dict) -> None:
        """Add a parameter group (e.g. layers unfrozen during fine-tuning).

        Missing hyperparameters are taken from ``defaults``; a parameter may belong to
        only one group.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the "
                "ordering of tensors in sets will change between runs. Please use a list instead."
            )
        else:
            params = list(params)
        tensors, names = [], []
        for p in params:
            if isinstance(p, tuple):
                names.append(p[0])
                tensors.append(p[1])
            else:
                tensors.append(p)
        param_group["params"] = tensors
        if names:
            if len(names) != len(tensors):
                raise ValueError(
                    "all optimizer params should be with/without names. Some param names are "
                    "missing"
                )
            param_group["param_names"] = names
        for p in tensors:
            if not isinstance(p, Tensor):
                raise TypeError(
                    "optimizer can only optimize Tensors, but one of the params is "
                    f"{type(p).__name__}"
                )
            if p.grad_fn is not None:
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(
                    "parameter group didn't specify a value of required optimization "
                    f"parameter {name}"
                )
            param_group.setdefault(name, default)
        if len({id(p) for p in tensors}) != len(tensors):
            raise ValueError(
                "optimizer contains a parameter group with duplicate parameters "
                f"({len(tensors)} entries, {len({id(p) for p in tensors})} distinct)"
            )
        seen = set()
        for group in self.param_groups:
            seen.update(id(p) for p in group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError(
                    "all optimizer param groups should be with/without names. "
                    f"cannot add param group {which} to the optimizer"
                )
        if any(id(p) in seen for p in tensors):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # ------------------------------------------------------------------ gradients, step
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients: ``None`` by default (PyTorch's default), else zeros.

        The difference matters: a parameter whose ``.grad`` is None is skipped by ``step``
        (no weight decay, no momentum, no state), while a zero gradient still moves it.
        """
        for group in self.param_groups:
            if set_to_none:
                clear_grads(group["params"])
                continue
            for p in group["params"]:
                g = p.grad
                if g is not None:
                    unwrap(g).fill(0)
                    bump_version(g)

    def step(self, closure=None):
        """Perform one optimization step; ``closure`` (optional) re-evaluates the loss
        first, and its value is returned.

        In each group the parameters that have a gradient go through the subclass's rule
        (``_update``); the others are skipped, with no state and no decay, as in PyTorch.
        A subclass written for PyTorch overrides ``step`` itself instead.
        """
        loss = None if closure is None else self._eval_closure(closure)
        for group in self.param_groups:
            params, arrays, grads = to_update(group["params"])  # versions counted there
            if _SPARSE_CREATED[0] and has_sparse(grads):
                self._sparse_update(group, params, arrays, grads)
            else:
                self._update(group, params, arrays, grads)
        return loss

    def _sparse_update(self, group: dict, params: list, arrays: list, grads: list) -> None:
        """``_update`` for a group where some gradient is sparse (``Embedding(sparse=True)``):
        the dense gradients go through ``_update``, the sparse ones through the
        subclass's ``_sparse_rule`` (PyTorch's sparse branch). An optimizer without one
        refuses sparse gradients, with PyTorch's message."""
        if self._sparse_rule is None:
            raise RuntimeError(f"{type(self).__name__} does not support sparse gradients")
        sparse = [has_sparse([g]) for g in grads]

        def pick(want_sparse: bool) -> list:
            return [
                [x for x, s in zip(xs, sparse) if s is want_sparse]
                for xs in (params, arrays, grads)
            ]

        if not all(sparse):
            self._update(group, *pick(False))
        self._sparse_rule(group, *pick(True))

    #: PyTorch's sparse branch, a method ``(group, params, arrays, grads)`` for the
    #: parameters whose gradient is sparse; None where PyTorch has none.
    _sparse_rule = None

    #: The per-parameter state, in PyTorch's creation order (which the state_dict keeps):
    #: ``(key, make)`` pairs, ``make(array of p)`` giving a missing entry's first value,
    #: or ``(key, make, option)`` for an entry that exists only while the group's
    #: ``option`` is on (Adam's ``amsgrad``, RMSprop's ``momentum``), None otherwise.
    _state_spec: tuple = ()

    #: The rule, a pure function over arrays (``optim._functional``), called as
    #: ``_rule(arrays, grads, state lists in _state_spec order, group)``.
    _rule = None

    def _update(self, group: dict, params: list, arrays: list, grads: list) -> None:
        """The optimizer's rule on one group: change ``arrays`` (those of ``params``, the
        group's parameters that have a gradient) in place, given ``grads`` (their
        gradients' arrays) and the group's hyperparameters. By default, ``_rule`` on the
        state of ``_state_spec``; an optimizer whose state is made otherwise overrides
        this."""
        states = []
        for key, make, *option in self._state_spec:
            if option and not group[option[0]]:
                states.append([None] * len(params))
            else:
                states.append(self._state_arrays(params, key, make))
        self._rule(arrays, grads, tuple(states), group)

    def _state_arrays(self, params: list, key: str, make=np.zeros_like) -> list:
        """The arrays of ``state[p][key]`` for each parameter, created as
        ``make(array of p)`` (zeros by default) where missing, or left None when ``make``
        is None (for a rule that makes the buffer itself)."""
        state = self.state
        tensors = []
        for p in params:
            st = state[p]
            t = st.get(key)
            if t is None and make is not None:
                t = st[key] = wrap(make(unwrap(p)))
            tensors.append(t)
        return unwrap_many(tensors)

    @staticmethod
    def _eval_closure(closure):
        """Call ``closure`` with recording on (PyTorch: ``with torch.enable_grad()``)."""
        if closure is None:
            return None
        with enable_grad():
            return closure()

    # ------------------------------------------------------------------ state_dict
    def state_dict(self) -> dict:
        """The optimizer's state, in PyTorch's layout.

        ``{'state': {index: {...}}, 'param_groups': [{hyperparameters..., 'params': [index,
        ...]}]}``; parameters are numbered in order across all groups and only parameters
        with state appear in ``'state'``. As in PyTorch, the values are the live state
        Tensors (serialize or deep-copy them to keep a snapshot).
        """
        mapping: dict[int, int] = {}
        start = 0

        def pack_group(group: dict) -> dict:
            nonlocal start
            packed = {k: v for k, v in group.items() if k != "params"}
            for i, p in enumerate(group["params"], start):
                mapping.setdefault(id(p), i)
            packed["params"] = [mapping[id(p)] for p in group["params"]]
            start += len(packed["params"])
            return packed

        param_groups = [pack_group(g) for g in self.param_groups]
        packed_state = {
            (mapping[id(k)] if isinstance(k, Tensor) else k): v for k, v in self.state.items()
        }
        return {"state": packed_state, "param_groups": param_groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Load a state from ``state_dict()`` (gradfit's or PyTorch's, same layout).

        Raises:
            ValueError: if the number of groups or the size of a group differs.

        Saved state is matched to the current parameters by position. Floating state is
        copied and cast to the parameter's dtype, except ``step`` (PyTorch does not cast it
        either); PyTorch tensors and NumPy arrays become gradfit Tensors. The saved
        hyperparameters replace the current ones.
        """
        groups = self.param_groups
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError(
                "loaded state dict has a different number of parameter groups: "
                f"{len(saved_groups)} saved, the optimizer has {len(groups)}"
            )
        for i, (g, s) in enumerate(zip(groups, saved_groups)):
            if len(g["params"]) != len(s["params"]):
                raise ValueError(
                    "loaded state dict contains a parameter group that doesn't match the size "
                    f"of optimizer's group: group {i} has {len(s['params'])} saved parameters, "
                    f"the optimizer's has {len(g['params'])}"
                )
        id_map = dict(
            zip(
                chain.from_iterable(g["params"] for g in saved_groups),
                chain.from_iterable(g["params"] for g in groups),
            )
        )

        def cast(param: Tensor, value, key=None):
            if key == "step" and isinstance(value, (int, float)):
                return wrap(_step_array(value=float(value)))  # old checkpoints kept a number
            t = _as_tensor(value)
            if t is not None:
                arr = unwrap(t)
                dtype = unwrap(param).dtype
                if key != "step" and dtype.kind == "f" and arr.dtype.kind == "f":
                    arr = arr.astype(dtype)
                else:
                    arr = arr.copy()
                return wrap(arr)
            if isinstance(value, dict):
                return {k: cast(param, v, k) for k, v in value.items()}
            if isinstance(value, (list, tuple)):
                return type(value)(cast(param, v) for v in value)
            return value

        state: defaultdict = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                param = id_map[k]
                state[param] = cast(param, v)
            else:
                state[k] = v

        def update_group(group: dict, new_group: dict) -> dict:
            new_group["params"] = group["params"]
            if "param_names" in group and "param_names" not in new_group:
                new_group["param_names"] = group["param_names"]
            return new_group

        self.__setstate__(
            {
                "state": state,
                "param_groups": [update_group(g, ng) for g, ng in zip(groups, saved_groups)],
            }
        )
