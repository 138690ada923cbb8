"""From configuration tables to objects: the MLP, its initialisation, the loss, the
optimizer and the learning-rate schedule.

Names are matched loosely (case, ``_`` and ``-`` ignored): ``sgd``, ``AdamW``,
``lecture.nesterov``, ``step_lr``, ``StepLR``, ``cosine``. The keyword arguments of an
optimizer, schedule or loss are checked against its constructor's signature, and the
constructor's own errors (PyTorch's ``Invalid learning rate: -1``) become ``UsageError``.
"""

from __future__ import annotations

import inspect
import math
from typing import Any

from gradfit.train.config import _norm
from gradfit.train.errors import UsageError

CLASSIFICATION_LOSSES = {"cross_entropy": "CrossEntropyLoss"}
REGRESSION_LOSSES = {
    "mse": "MSELoss",
    "l1": "L1Loss",
    "huber": "HuberLoss",
    "smooth_l1": "SmoothL1Loss",
}
ACTIVATION_CLASSES = {
    "relu": "ReLU",
    "tanh": "Tanh",
    "sigmoid": "Sigmoid",
    "leaky_relu": "LeakyReLU",
    "elu": "ELU",
    "gelu": "GELU",
    "softplus": "Softplus",
    "identity": "Identity",
}
SCHEDULER_ALIASES = {
    "step": "StepLR",
    "multistep": "MultiStepLR",
    "exponential": "ExponentialLR",
    "cosine": "CosineAnnealingLR",
    "linear": "LinearLR",
    "onecycle": "OneCycleLR",
    "plateau": "ReduceLROnPlateau",
    "constant": "ConstantLR",
    "polynomial": "PolynomialLR",
}
# Schedules that take a function or other schedules cannot be written in a TOML file.
_UNSUPPORTED_SCHEDULERS = {
    "LRScheduler",
    "LambdaLR",
    "MultiplicativeLR",
    "SequentialLR",
    "ChainedScheduler",
}
PER_BATCH_SCHEDULERS = {"OneCycleLR", "CyclicLR"}
# Optimizers whose step() evaluates the loss itself, through a closure.
CLOSURE_OPTIMIZERS = {"LBFGS", "LineSearchGD", "Nesterov"}


def loss_name(name: str) -> str:
    """The canonical loss name, or UsageError."""
    n = _norm(name)
    for canon in (*CLASSIFICATION_LOSSES, *REGRESSION_LOSSES):
        cls = {**CLASSIFICATION_LOSSES, **REGRESSION_LOSSES}[canon]
        if n in (_norm(canon), _norm(cls), _norm(cls).removesuffix("loss")):
            return canon
    if n in ("ce", "crossentropy", "nll"):
        return "cross_entropy"
    if n in ("l2", "meansquarederror", "leastsquares"):
        return "mse"
    raise UsageError(
        f"unknown loss {name!r} (expected one of: auto, "
        f"{', '.join([*CLASSIFICATION_LOSSES, *REGRESSION_LOSSES])})"
    )


def _nn():
    import gradfit.nn as nn

    return nn


# --- model --------------------------------------------------------------------------------


def build_model(model_cfg: dict, in_features: int, out_features: int):
    """An MLP ``in -> hidden... -> out`` with an activation after every hidden layer.

    Initialisation (``model.init``), applied to every Linear layer's weight, as the
    lecture's program does with ``model.apply(weights_init)``:

    - ``kaiming_uniform``: ``nn.init.kaiming_uniform_(w)``, He uniform,
      U(-b, b) with b = sqrt(6 / fan_in) (PyTorch's defaults: gain sqrt(2)).
    - ``kaiming_normal``: N(0, 2 / fan_in).
    - ``xavier_uniform`` / ``xavier_normal``: Glorot, variance 2 / (fan_in + fan_out).
    - ``he_normal_fan_in`` / ``_fan_out`` / ``_fan_avg``: N(0, 2 / fan) with fan the fan-in,
      the fan-out or their mean (the lecture's compromise for forward and backward pass,
      variance 4 / (fan_in + fan_out)).
    - ``default``: ``nn.Linear``'s own initialisation.

    Biases are set to zero (``model.bias = "zeros"``, the lecture's ``bias.data.fill_(0.0)``)
    or keep ``nn.Linear``'s default.
    """
    nn = _nn()
    act_name = model_cfg["activation"]
    act_cls = getattr(nn, ACTIVATION_CLASSES[act_name], None)
    if act_cls is None:
        raise UsageError(
            f"model.activation = {act_name!r}: gradfit.nn has no {ACTIVATION_CLASSES[act_name]}"
        )
    layers = []
    width = in_features
    for h in model_cfg["hidden"]:
        layers += [nn.Linear(width, h), act_cls()]
        width = h
    layers.append(nn.Linear(width, out_features))
    model = nn.Sequential(*layers)
    init = model_cfg["init"]
    zero_bias = model_cfg["bias"] == "zeros"

    def weights_init(layer):
        if isinstance(layer, nn.Linear):
            _init_weight(nn, layer.weight, init)
            if zero_bias and layer.bias is not None:
                layer.bias.data.fill_(0.0)

    model.apply(weights_init)
    return model


def _init_weight(nn, w, init: str) -> None:
    if init == "default":
        return
    if init == "kaiming_uniform":
        nn.init.kaiming_uniform_(w)
    elif init == "kaiming_normal":
        nn.init.kaiming_normal_(w)
    elif init == "xavier_uniform":
        nn.init.xavier_uniform_(w)
    elif init == "xavier_normal":
        nn.init.xavier_normal_(w)
    elif init in ("he_normal_fan_in", "he_normal_fan_out"):
        nn.init.kaiming_normal_(w, mode=init.removeprefix("he_normal_"), nonlinearity="relu")
    elif init == "he_normal_fan_avg":
        fan_out, fan_in = w.shape[0], w.shape[1]
        nn.init.normal_(w, 0.0, math.sqrt(4.0 / (fan_in + fan_out)))
    else:  # the config check lists the names; this is a programming error
        raise AssertionError(init)


# --- loss ---------------------------------------------------------------------------------


def build_loss(loss_cfg: dict):
    """The loss module named by ``loss.name`` (already resolved from ``auto``)."""
    nn = _nn()
    name = loss_name(loss_cfg["name"])
    cls_name = {**CLASSIFICATION_LOSSES, **REGRESSION_LOSSES}[name]
    cls = getattr(nn, cls_name, None)
    if cls is None:
        raise UsageError(f"loss {name!r}: gradfit.nn has no {cls_name}")
    kwargs = {k: v for k, v in loss_cfg.items() if k != "name"}
    if "reduction" in kwargs and kwargs["reduction"] != "mean":
        raise UsageError(
            f"loss.reduction = {kwargs['reduction']!r}: training uses the mean "
            'loss; expected "mean"'
        )
    return _construct("loss", name, cls, (), kwargs, skip=("weight", "size_average", "reduce"))


# --- optimizer ----------------------------------------------------------------------------


def optimizer_registry() -> dict[str, type]:
    """Every optimizer of ``gradfit.optim`` and ``gradfit.optim.lecture`` by normalised
    name; the lecture forms are ``lecture.<name>``."""
    import gradfit.optim as optim

    base = optim.Optimizer
    reg: dict[str, type] = {}
    for name, obj in vars(optim).items():
        if inspect.isclass(obj) and issubclass(obj, base) and obj is not base:
            reg[_norm(name)] = obj
    try:
        import gradfit.optim.lecture as lecture
    except ImportError:  # the lecture forms are optional for the command line
        lecture = None
    if lecture is not None:
        for name, obj in vars(lecture).items():
            if inspect.isclass(obj) and issubclass(obj, base) and obj is not base:
                reg["lecture." + _norm(name)] = obj
    return reg


def _optimizer_display_names(reg: dict[str, type]) -> list[str]:
    return [
        (k.split(".")[0] + "." + cls.__name__ if k.startswith("lecture.") else cls.__name__).lower()
        for k, cls in reg.items()
    ]


def optimizer_class(name: str) -> type:
    reg = optimizer_registry()
    n = _norm(name)
    if n.startswith("lecture") and not n.startswith("lecture."):
        n = "lecture." + n.removeprefix("lecture")
    if n in reg:
        return reg[n]
    raise UsageError(
        f"unknown optimizer {name!r} (expected one of: {', '.join(_optimizer_display_names(reg))})"
    )


def build_optimizer(opt_cfg: dict, params):
    cls = optimizer_class(opt_cfg["name"])
    kwargs = {k: v for k, v in opt_cfg.items() if k != "name"}
    return _construct("optimizer", opt_cfg["name"], cls, (params,), kwargs)


def needs_closure(optimizer) -> bool:
    """True for optimizers whose ``step`` must evaluate the loss itself (LBFGS, line search,
    the lecture's Nesterov): their ``step(closure)`` has no default for ``closure``."""
    if type(optimizer).__name__ in CLOSURE_OPTIMIZERS:
        return True
    p = inspect.signature(optimizer.step).parameters.get("closure")
    return p is not None and p.default is inspect.Parameter.empty


# --- scheduler ----------------------------------------------------------------------------


def scheduler_registry() -> dict[str, type]:
    import gradfit.optim.lr_scheduler as lrs

    reg = {}
    for name, obj in vars(lrs).items():
        if inspect.isclass(obj) and obj.__module__.startswith("gradfit.optim"):
            if name.startswith("_") or name in _UNSUPPORTED_SCHEDULERS:
                continue
            if hasattr(obj, "step") and hasattr(obj, "state_dict"):
                reg[_norm(name)] = obj
    return reg


def scheduler_class(name: str) -> type | None:
    n = _norm(name)
    if n in ("none", "", "off", "constantlr0"):
        return None
    reg = scheduler_registry()
    n = _norm(SCHEDULER_ALIASES.get(n, n))
    for cand in (n, n + "lr"):
        if cand in reg:
            return reg[cand]
    raise UsageError(
        f"unknown scheduler {name!r} (expected none or one of: "
        f"{', '.join(sorted(c.__name__ for c in reg.values()))})"
    )


def build_scheduler(sched_cfg: dict, optimizer, epochs: int, steps_per_epoch: int):
    """The schedule, or None. OneCycleLR gets ``total_steps = epochs * steps_per_epoch``
    unless the config sets ``total_steps`` or ``epochs``."""
    cls = scheduler_class(sched_cfg["name"])
    if cls is None:
        return None
    if any("lr" not in g for g in optimizer.param_groups):
        raise UsageError(
            f"scheduler {sched_cfg['name']!r}: optimizer {type(optimizer).__name__} has no "
            "learning rate to schedule; use --scheduler none"
        )
    kwargs = {k: v for k, v in sched_cfg.items() if k != "name"}
    if cls.__name__ == "OneCycleLR" and "total_steps" not in kwargs and "epochs" not in kwargs:
        # Written into the config too, so a resumed run keeps the same cycle.
        kwargs["total_steps"] = sched_cfg["total_steps"] = epochs * steps_per_epoch
    if "last_epoch" in kwargs:
        raise UsageError(
            "scheduler.last_epoch: resuming is done with --resume, not by setting last_epoch"
        )
    return _construct(
        "scheduler", sched_cfg["name"], cls, (optimizer,), kwargs, skip=("last_epoch", "verbose")
    )


def scheduler_mode(scheduler) -> str:
    """``"batch"`` (stepped after every batch), ``"metric"`` (``step(val_loss)``) or
    ``"epoch"``."""
    name = type(scheduler).__name__
    if name in PER_BATCH_SCHEDULERS:
        return "batch"
    if name == "ReduceLROnPlateau":
        return "metric"
    return "epoch"


# --- shared -------------------------------------------------------------------------------


def _toml_able(v: Any) -> bool:
    if isinstance(v, bool | int | str):
        return True
    if isinstance(v, float):
        return math.isfinite(v)
    if isinstance(v, list | tuple):
        return len(v) > 0 and all(_toml_able(x) and not isinstance(x, list | tuple) for x in v)
    return False


def signature_defaults(cls: type, n_args: int = 1, skip=()) -> dict[str, Any]:
    """The constructor's keyword defaults that a TOML file can hold (None, callables and
    the first ``n_args`` positional inputs left out)."""
    out = {}
    params = list(inspect.signature(cls.__init__).parameters.values())[1 + n_args :]
    for p in params:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or p.name in skip:
            continue
        d = p.default
        if d is inspect.Parameter.empty or not _toml_able(d):
            continue
        out[p.name] = list(d) if isinstance(d, tuple) else d
    return out


def _is_required(default) -> bool:
    return type(default).__name__ == "_RequiredParameter"  # gradfit.optim's `required`


def _construct(kind: str, name: str, cls: type, args: tuple, kwargs: dict, skip=()):
    sig = inspect.signature(cls.__init__)
    params = list(sig.parameters.values())[1 + len(args) :]
    accepts_any = any(p.kind == p.VAR_KEYWORD for p in params)
    allowed = [p.name for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    allowed = [a for a in allowed if a not in skip]
    for k in kwargs:
        if k not in allowed and not accepts_any:
            raise UsageError(
                f"{kind}.{k}: {cls.__name__} has no argument {k!r} (expected one of: "
                f"{', '.join(allowed) or 'none'})"
            )
    missing = [
        p.name
        for p in params
        if (p.default is inspect.Parameter.empty or _is_required(p.default))
        and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        and p.name not in kwargs
    ]
    if missing:
        raise UsageError(
            f"{kind} {name!r}: {cls.__name__} needs {', '.join(missing)} "
            f"(set {kind}.{missing[0]} in the config)"
        )
    call = {
        k: tuple(v) if isinstance(v, list) and k not in ("milestones",) else v
        for k, v in kwargs.items()
    }
    try:
        return cls(*args, **call)
    except (ValueError, TypeError) as e:
        shown = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
        raise UsageError(f"{kind} {cls.__name__}({shown}): {e}") from None
