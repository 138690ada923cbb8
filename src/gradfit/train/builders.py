"""From configuration tables to objects: the model, its initialisation, the loss, the
optimizer and the learning-rate schedule.

Every list the command line offers comes from one table here or from the library itself,
so nothing is kept in sync by hand:

- model kinds: ``MODELS`` (kind -> builder, parameter count, header line, own keys). The
  layers themselves are built in ``gradfit.models`` / ``gradfit.models_text``; a new kind
  is a builder there and one entry here;
- activations: every activation module of ``gradfit.nn`` (``activation_classes``);
- initialisations: ``INITS``;
- losses: ``CLASSIFICATION_LOSSES`` and ``REGRESSION_LOSSES``;
- optimizers: every ``Optimizer`` of ``gradfit.optim`` and ``gradfit.optim.lecture``;
- schedules: every schedule class of ``gradfit.optim.lr_scheduler`` plus short aliases
  for the classes that exist.

Names are matched loosely (case, ``_`` and ``-`` ignored): ``sgd``, ``AdamW``,
``lecture.nesterov``, ``step_lr``, ``StepLR``, ``cosine``. The keyword arguments of an
optimizer, schedule or loss are checked against its constructor's signature, and the
constructor's own errors (PyTorch's ``Invalid learning rate: -1``) become ``UsageError``.
"""

from __future__ import annotations

import inspect
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import gradfit
from gradfit.train import UsageError


def norm_name(name: str) -> str:
    """A name with case, ``_``, ``-`` and spaces ignored, for loose matching."""
    return str(name).lower().replace("_", "").replace("-", "").replace(" ", "")


def _nn():
    import gradfit.nn as nn

    return nn


# --- model --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelKind:
    """How one ``model.kind`` is built: ``build(model_cfg, in_features, out_features,
    activation_class)`` returns the module; ``num_parameters`` (same arguments but the
    activation) counts its parameters before anything is allocated, for the memory check;
    ``describe(model_cfg, in_features, out_features)`` is the run header's word for it.

    ``options``: the kind's own ``[model]`` keys, ``{key: (default, check)}`` with ``check``
    one of ``"int"`` (>= 1), ``"fraction"`` (0 <= f < 1), ``"bool"`` or a tuple of allowed
    strings; they are filled into the configuration of a run of this kind only.
    ``text``: the model reads character ids (``--data text:PATH`` or ``stdlib-text``) and
    predicts the next character at every position. ``linear_init``: the ``model.init`` /
    ``model.bias`` of every Linear layer apply (a transformer keeps its own scheme)."""

    build: Callable[..., Any]
    num_parameters: Callable[[dict, int, int], int]
    describe: Callable[[dict, int, int], str]
    # Activations of the widest layer per sample, for the memory estimate.
    activations_per_sample: Callable[[dict, int, int], int]
    options: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    text: bool = False
    linear_init: bool = True


def _mlp_widths(cfg: dict, n_in: int, n_out: int) -> list[int]:
    return [n_in, *cfg["hidden"], n_out]


def _build_mlp(cfg: dict, n_in: int, n_out: int, act_cls):
    from gradfit import models

    return models.mlp(n_in, n_out, cfg["hidden"], act_cls)


def _describe_mlp(cfg: dict, n_in: int, n_out: int) -> str:
    shape = "-".join(map(str, _mlp_widths(cfg, n_in, n_out)))
    if not cfg["hidden"]:
        return f"linear {shape}"
    return f"MLP {shape}, {cfg['activation']}"


def kind_options(cfg: dict) -> dict[str, Any]:
    """The values of the ``[model]`` keys that belong to ``cfg["kind"]``."""
    return {k: cfg[k] for k in MODELS[cfg["kind"]].options}


def model_settings(cfg: dict) -> str:
    """``model 'cnn1d' (channels = 15, ...)``: a model kind and its own keys, for messages."""
    shown = ", ".join(f"{k} = {v!r}" for k, v in kind_options(cfg).items())
    return f"model {cfg['kind']!r} ({shown})"


# --- convolutional kinds (gradfit.models: the course's chapters 10 and 11) ---------------


def _build_conv(kind: str):
    def build(cfg: dict, n_in: int, n_out: int, act_cls):
        from gradfit import models

        return getattr(models, kind)((n_in,), n_out, **kind_options(cfg))

    return build


def _cnn1d_lengths(cfg: dict, n_in: int) -> list[int]:
    lengths = [n_in]
    for _ in range(cfg["layers"]):
        lengths.append((lengths[-1] - cfg["kernel_size"]) // cfg["stride"] + 1)
    return lengths


def _cnn1d_parameters(cfg: dict, n_in: int, n_out: int) -> int:
    c, k = cfg["channels"], cfg["kernel_size"]
    convs = (c * k + c) + (cfg["layers"] - 1) * (c * c * k + c)
    return convs + c * _cnn1d_lengths(cfg, n_in)[-1] * n_out + n_out


def _resnet1d_parameters(cfg: dict, n_in: int, n_out: int) -> int:
    c, k, bn = cfg["channels"], cfg["kernel_size"], cfg["batch_norm"]
    stem = c * k + (2 * c if bn else c)
    block = 2 * (c * c * k + (2 * c if bn else c))
    head = (c * n_in if cfg["head"] == "flatten" else c) * n_out + n_out
    return stem + cfg["blocks"] * block + head


def _describe_cnn1d(cfg: dict, n_in: int, n_out: int) -> str:
    return (
        f"1-D CNN {cfg['layers']} x Conv1d({cfg['channels']} channels, kernel "
        f"{cfg['kernel_size']}, stride {cfg['stride']}) + ReLU, Linear "
        f"{cfg['channels'] * _cnn1d_lengths(cfg, n_in)[-1]}-{n_out}"
    )


def _describe_resnet1d(cfg: dict, n_in: int, n_out: int) -> str:
    bn = "BatchNorm" if cfg["batch_norm"] else "no BatchNorm"
    return (
        f"residual 1-D CNN, {cfg['blocks']} blocks of {cfg['channels']} channels, kernel "
        f"{cfg['kernel_size']}, {bn}, {cfg['head']} head, {n_out} outputs"
    )


# --- character-level language models (gradfit.models_text) ------------------------------


def _build_text(kind: str):
    def build(cfg: dict, n_in: int, n_out: int, act_cls):
        from gradfit.models_text import TokenLogits, build_text_model

        # n_in is the context (block_size); n_out the vocabulary.
        return TokenLogits(build_text_model(kind, n_out, **kind_options(cfg)))

    return build


def _transformer_parameters(cfg: dict, n_in: int, n_out: int) -> int:
    # Embeddings (the output layer shares the token embedding), per block two LayerNorms,
    # attention (qkv, proj) and the 4x MLP, the final LayerNorm.
    e = cfg["n_embd"]
    return (n_out + cfg["block_size"]) * e + cfg["n_layer"] * (12 * e * e + 13 * e) + 2 * e


def _lstm_parameters(cfg: dict, n_in: int, n_out: int) -> int:
    e, h = cfg["n_embd"], cfg["hidden_size"]
    layers = 4 * h * (e + h) + 8 * h + (cfg["num_layers"] - 1) * (4 * h * 2 * h + 8 * h)
    return n_out * e + layers + h * n_out + n_out


def _describe_transformer(cfg: dict, n_in: int, n_out: int) -> str:
    return (
        f"character GPT, {cfg['n_layer']} layers, {cfg['n_head']} heads, width "
        f"{cfg['n_embd']}, context {cfg['block_size']}, vocabulary {n_out}"
    )


def _describe_lstm(cfg: dict, n_in: int, n_out: int) -> str:
    return (
        f"character LSTM, {cfg['num_layers']} layers of {cfg['hidden_size']}, embedding "
        f"{cfg['n_embd']}, context {cfg['block_size']}, vocabulary {n_out}"
    )


def _text_kind(kind: str, num_parameters, describe, activations_per_sample, options: dict):
    """A character-level language model: it reads character ids, keeps its own
    initialisation of its Linear layers, and takes a context length (``block_size``) and
    a ``dropout`` besides its own ``options``."""
    return ModelKind(
        build=_build_text(kind),
        num_parameters=num_parameters,
        describe=describe,
        activations_per_sample=activations_per_sample,
        options={"block_size": (64, "int"), **options, "dropout": (0.0, "fraction")},
        text=True,
        linear_init=False,
    )


MODELS: dict[str, ModelKind] = {
    "mlp": ModelKind(
        build=_build_mlp,
        num_parameters=lambda c, i, o: sum(
            (a + 1) * b for a, b in zip(_mlp_widths(c, i, o), _mlp_widths(c, i, o)[1:])
        ),
        describe=_describe_mlp,
        activations_per_sample=lambda c, i, o: sum(_mlp_widths(c, i, o)),
    ),
    # The course's 1-D CNN (Notebook 10.2); ReLU, He-initialised head with zero bias.
    "cnn1d": ModelKind(
        build=_build_conv("cnn1d"),
        num_parameters=_cnn1d_parameters,
        describe=_describe_cnn1d,
        activations_per_sample=lambda c, i, o: c["channels"] * sum(_cnn1d_lengths(c, i)) + o,
        options={
            "channels": (15, "int"),
            "kernel_size": (3, "int"),
            "stride": (2, "int"),
            "layers": (3, "int"),
        },
    ),
    "resnet1d": ModelKind(
        build=_build_conv("resnet1d"),
        num_parameters=_resnet1d_parameters,
        describe=_describe_resnet1d,
        activations_per_sample=lambda c, i, o: 6 * c["channels"] * i * (c["blocks"] + 1) + o,
        options={
            "channels": (32, "int"),
            "blocks": (3, "int"),
            "kernel_size": (3, "int"),
            "batch_norm": (True, "bool"),
            "head": ("flatten", ("flatten", "avgpool")),
        },
    ),
    "transformer": _text_kind(
        "transformer",
        _transformer_parameters,
        _describe_transformer,
        lambda c, i, o: (
            c["block_size"] * (16 * c["n_embd"] * c["n_layer"] + 2 * o)
            + c["n_head"] * c["block_size"] ** 2 * c["n_layer"]
        ),
        # Smaller than the example's 4 x 128 (W6a), so that an epoch of the built-in
        # text takes about a minute on a laptop's CPU.
        {"n_layer": (2, "int"), "n_head": (4, "int"), "n_embd": (64, "int")},
    ),
    "lstm": _text_kind(
        "lstm",
        _lstm_parameters,
        _describe_lstm,
        lambda c, i, o: (
            c["block_size"] * (c["n_embd"] + 6 * c["hidden_size"] * c["num_layers"] + 2 * o)
        ),
        {"n_embd": (64, "int"), "hidden_size": (128, "int"), "num_layers": (2, "int")},
    ),
}


def model_option_keys() -> dict[str, list[str]]:
    """``{key: [kinds that take it]}`` for every kind-specific ``[model]`` key."""
    out: dict[str, list[str]] = {}
    for kind, spec in MODELS.items():
        for k in spec.options:
            out.setdefault(k, []).append(kind)
    return out


# Activation modules that act along a dimension (not elementwise) are not layer activations.
# GLU halves its input's width.
_NOT_LAYER_ACTIVATIONS = {
    "Softmax",
    "LogSoftmax",
    "Softmin",
    "Softmax2d",
    "MultiheadAttention",
    "GLU",
}


def activation_classes() -> dict[str, type]:
    """``{name: class}`` for every elementwise activation module of ``gradfit.nn`` that
    can be built without arguments, plus ``identity``. Names are ``nn.functional``'s
    (``leaky_relu``, ``gelu``), else the class name in lower case."""
    import gradfit.nn.functional as F

    nn = _nn()
    # In-place forms (relu_) share the normalised name; the plain one is the name.
    functional = {norm_name(n): n for n in dir(F) if not n.startswith("_") and not n.endswith("_")}
    out: dict[str, type] = {}
    for cls_name in dir(nn):
        cls = getattr(nn, cls_name)
        if (
            not inspect.isclass(cls)
            or not issubclass(cls, nn.Module)
            or ".activation" not in cls.__module__
            or cls_name in _NOT_LAYER_ACTIVATIONS
        ):
            continue
        if any(p.default is p.empty for p in _named_parameters(cls)):
            continue
        out[functional.get(norm_name(cls_name), cls_name.lower())] = cls
    out["identity"] = nn.Identity
    return dict(sorted(out.items()))


def _he_normal_fan_avg(nn, w) -> None:
    fan_out, fan_in = w.shape[0], w.shape[1]
    nn.init.normal_(w, 0.0, math.sqrt(4.0 / (fan_in + fan_out)))


INITS: dict[str, Callable | None] = {
    "kaiming_uniform": lambda nn, w: nn.init.kaiming_uniform_(w),
    "kaiming_normal": lambda nn, w: nn.init.kaiming_normal_(w),
    "xavier_uniform": lambda nn, w: nn.init.xavier_uniform_(w),
    "xavier_normal": lambda nn, w: nn.init.xavier_normal_(w),
    "he_normal_fan_in": lambda nn, w: nn.init.kaiming_normal_(w, mode="fan_in"),
    "he_normal_fan_out": lambda nn, w: nn.init.kaiming_normal_(w, mode="fan_out"),
    "he_normal_fan_avg": _he_normal_fan_avg,
    "default": None,
}
"""Initialisation of every Linear layer's weight, as the lecture's program does with
``model.apply(weights_init)``. ``he_normal_fan_*``: N(0, 2 / fan) with fan the fan-in, the
fan-out or their mean (the lecture's compromise for forward and backward pass); ``default``:
``nn.Linear``'s own initialisation."""


def build_model(cfg: dict, in_features: int, out_features: int):
    """The model of ``cfg`` (a full, validated configuration), built reproducibly: the
    global generator is seeded with ``train.seed`` and the default dtype is ``train.dtype``
    while the layers are made and initialised. Biases are zero (``model.bias = "zeros"``,
    the lecture's ``bias.data.fill_(0.0)``) or keep the layer's default."""
    mcfg = cfg["model"]
    nn = _nn()
    act_cls = activation_classes()[mcfg["activation"]]
    init = INITS[mcfg["init"]]
    zero_bias = mcfg["bias"] == "zeros"
    kind = MODELS[mcfg["kind"]]

    def weights_init(layer):
        if isinstance(layer, nn.Linear) and kind.linear_init:
            if init is not None:
                init(nn, layer.weight)
            if zero_bias and layer.bias is not None:
                layer.bias.data.fill_(0.0)

    gradfit.manual_seed(cfg["train"]["seed"])
    old_default = gradfit.get_default_dtype()
    gradfit.set_default_dtype(torch_dtype(cfg["train"]["dtype"]))
    try:
        model = kind.build(mcfg, in_features, out_features, act_cls)
        model.apply(weights_init)
    except ValueError as e:  # the builder's refusal of a shape (a CNN deeper than the input)
        raise UsageError(f"{model_settings(mcfg)}: {e}") from None
    finally:
        gradfit.set_default_dtype(old_default)
    return model


def torch_dtype(name: str):
    return gradfit.float64 if name == "float64" else gradfit.float32


# --- loss ---------------------------------------------------------------------------------

CLASSIFICATION_LOSSES = {"cross_entropy": "CrossEntropyLoss"}
REGRESSION_LOSSES = {
    "mse": "MSELoss",
    "l1": "L1Loss",
    "huber": "HuberLoss",
    "smooth_l1": "SmoothL1Loss",
}
_LOSS_ALIASES = {
    "ce": "cross_entropy",
    "nll": "cross_entropy",
    "l2": "mse",
    "meansquarederror": "mse",
    "leastsquares": "mse",
}
# Loss arguments a TOML file cannot state or that would change what training minimises.
_LOSS_SKIP = ("weight", "size_average", "reduce", "reduction", "pos_weight")


def loss_name(name: str) -> str:
    """The canonical loss name, or UsageError."""
    n = norm_name(name)
    for canon, cls in {**CLASSIFICATION_LOSSES, **REGRESSION_LOSSES}.items():
        if n in (norm_name(canon), norm_name(cls), norm_name(cls).removesuffix("loss")):
            return canon
    if n in _LOSS_ALIASES:
        return _LOSS_ALIASES[n]
    raise UsageError(
        f"unknown loss {name!r} (expected one of: auto, "
        f"{', '.join([*CLASSIFICATION_LOSSES, *REGRESSION_LOSSES])})"
    )


def build_loss(loss_cfg: dict):
    """The loss module named by ``loss.name`` (already resolved from ``auto``)."""
    name = loss_name(loss_cfg["name"])
    cls_name = {**CLASSIFICATION_LOSSES, **REGRESSION_LOSSES}[name]
    cls = getattr(_nn(), cls_name)
    kwargs = {k: v for k, v in loss_cfg.items() if k != "name"}
    if "reduction" in kwargs and kwargs["reduction"] != "mean":
        raise UsageError(
            f"loss.reduction = {kwargs['reduction']!r}: training uses the mean "
            'loss; expected "mean"'
        )
    return _construct("loss", name, cls, (), kwargs, skip=("weight", "size_average", "reduce"))


# --- optimizer ----------------------------------------------------------------------------

# Optimizers whose step() evaluates the loss itself, through a closure.
CLOSURE_OPTIMIZERS = {"LBFGS", "LineSearchGD", "Nesterov"}


def optimizer_registry() -> dict[str, type]:
    """Every optimizer of ``gradfit.optim`` and ``gradfit.optim.lecture`` by normalised
    name; the lecture forms are ``lecture.<name>``."""
    import gradfit.optim as optim
    import gradfit.optim.lecture as lecture

    reg: dict[str, type] = {}
    for prefix, module in (("", optim), ("lecture.", lecture)):
        for name, obj in vars(module).items():
            if name.startswith("_"):  # a module's private alias (lecture's _PyTorchAdam)
                continue
            if inspect.isclass(obj) and issubclass(obj, optim.Optimizer):
                if obj is not optim.Optimizer:
                    reg[prefix + norm_name(name)] = obj
    return reg


def optimizer_key(name: str) -> str:
    """The registry's name of an optimizer: ``lectureAdam``, ``lecture_adam`` and
    ``lecture.adam`` alike."""
    n = norm_name(name)
    return "lecture." + n[7:] if n.startswith("lecture") and n[7:8] != "." else n


def optimizer_class(name: str) -> type:
    reg = optimizer_registry()
    n = optimizer_key(name)
    if n in reg:
        return reg[n]
    raise UsageError(f"unknown optimizer {name!r} (expected one of: {', '.join(reg)})")


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

# Short names besides a class's own name with or without its "LR" (step, onecycle, ...),
# offered for the classes gradfit.optim.lr_scheduler has.
SCHEDULER_ALIASES = {
    "cosine": "CosineAnnealingLR",
    "cosinerestarts": "CosineAnnealingWarmRestarts",
    "plateau": "ReduceLROnPlateau",
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
# Arguments a run sets itself (resuming restores the epoch).
_SCHEDULER_SKIP = ("last_epoch", "verbose")


def scheduler_registry() -> dict[str, type]:
    """Every schedule class a TOML file can configure, by normalised name, aliases
    included (only those whose class exists)."""
    import gradfit.optim.lr_scheduler as lrs

    reg = {}
    for name, obj in vars(lrs).items():
        if (
            inspect.isclass(obj)
            and obj.__module__.startswith("gradfit.optim")
            and not name.startswith("_")
            and name not in _UNSUPPORTED_SCHEDULERS
            and hasattr(obj, "step")
            and hasattr(obj, "state_dict")
        ):
            reg[norm_name(name)] = obj
    for alias, cls_name in SCHEDULER_ALIASES.items():
        if norm_name(cls_name) in reg:
            reg[alias] = reg[norm_name(cls_name)]
    return reg


def scheduler_class(name: str) -> type | None:
    n = norm_name(name)
    if n in ("none", "", "off"):
        return None
    reg = scheduler_registry()
    for cand in (n, n + "lr"):
        if cand in reg:
            return reg[cand]
    raise UsageError(
        f"unknown scheduler {name!r} (expected none or one of: "
        f"{', '.join(sorted({c.__name__ for c in reg.values()}))})"
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
    return _construct("scheduler", sched_cfg["name"], cls, (optimizer,), kwargs, _SCHEDULER_SKIP)


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


def fill_defaults(cfg: dict, criterion, optimizer, scheduler) -> None:
    """Write the constructor defaults of the loss, optimizer and schedule that a TOML file
    can hold (not None, callables or the positional inputs) into ``cfg``, so the saved
    config.toml states every hyperparameter that was used."""
    for section, obj, n_args, skip in (
        ("loss", criterion, 0, _LOSS_SKIP),
        ("optimizer", optimizer, 1, ()),
        ("scheduler", scheduler, 1, _SCHEDULER_SKIP),
    ):
        if obj is None:
            continue
        for p in _named_parameters(type(obj), n_args):
            d = p.default
            if p.name not in skip and d is not p.empty and _toml_able(d):
                cfg[section].setdefault(p.name, list(d) if isinstance(d, tuple) else d)


def _is_required(default) -> bool:
    return type(default).__name__ == "_RequiredParameter"  # gradfit.optim's `required`


def _check_kind(kind: str, cls: type, p: inspect.Parameter, v: Any) -> None:
    """Refuse a value whose type the parameter cannot take (``milestones = "abc"`` would
    otherwise be read as three milestones that never come)."""
    note = str(p.annotation) if p.annotation is not p.empty else ""
    takes_str = isinstance(p.default, str) or "str" in note or "Literal" in note
    words = set(re.findall(r"[A-Za-z_]+", note))
    if isinstance(v, str) and not takes_str:
        expected = "a number" if words & {"int", "float"} else "a number or a list of numbers"
        raise UsageError(f"{kind}.{p.name} = {v!r}: {cls.__name__} expects {expected}, not text")
    if words and words <= {"int"} and (isinstance(v, bool) or not isinstance(v, int)):
        raise UsageError(f"{kind}.{p.name} = {v!r}: {cls.__name__} expects an integer")


def _named_parameters(cls: type, n_args: int = 0) -> list[inspect.Parameter]:
    """The constructor's named parameters after ``self`` and the first ``n_args``."""
    params = list(inspect.signature(cls.__init__).parameters.values())[1 + n_args :]
    return [p for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


def _construct(kind: str, name: str, cls: type, args: tuple, kwargs: dict, skip=()):
    signature = inspect.signature(cls.__init__).parameters.values()
    accepts_any = any(p.kind == p.VAR_KEYWORD for p in signature)
    named = {p.name: p for p in _named_parameters(cls, len(args))}
    allowed = [a for a in named if a not in skip]
    for k, v in kwargs.items():
        if k not in allowed and not accepts_any:
            raise UsageError(
                f"{kind}.{k}: {cls.__name__} has no argument {k!r} (expected one of: "
                f"{', '.join(allowed) or 'none'})"
            )
        if k in named:
            _check_kind(kind, cls, named[k], v)
    missing = [
        p.name
        for p in named.values()
        if (p.default is inspect.Parameter.empty or _is_required(p.default))
        and p.name not in kwargs
    ]
    if missing:
        flag = "--lr (optimizer.lr)" if missing[0] == "lr" else f"{kind}.{missing[0]}"
        raise UsageError(
            f"{kind} {name!r}: {cls.__name__} needs {', '.join(missing)} "
            f"(set {flag} in the config or on the command line)"
        )
    call = {
        k: tuple(v) if isinstance(v, list) and k != "milestones" else v for k, v in kwargs.items()
    }
    try:
        return cls(*args, **call)
    except (ValueError, TypeError, ZeroDivisionError) as e:
        shown = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
        raise UsageError(f"{kind} {cls.__name__}({shown}): {e}") from None
