"""``GradientMonitor``: watch a network for vanishing and exploding activations and
gradients, layer by layer (the lecture's Figure 7.7, for your own model).

For a ReLU layer f' = beta + Omega h with weights of variance sigma^2, the lecture shows
Var[f'] = (1/2) D_h sigma^2 Var[f]: unless sigma^2 = 2 / D_h (He), the variance of the
pre-activations is multiplied by the same factor at every layer and grows or shrinks
geometrically with depth, and the gradients do the same on the way back.

The monitor measures exactly that. For every monitored layer k it records

- ``activation_var``: the variance of the layer's output in the forward pass
  (a forward hook), and
- ``grad_var``: the variance of the gradient of the loss with respect to that output in
  the backward pass (a tensor hook on the output, ``Tensor.register_hook``).

It then compares neighbouring layers. In the forward direction the ratio is
Var[out_k] / Var[out_{k-1}]; in the backward direction, where gradients flow from the
last layer to the first, it is Var[grad_k] / Var[grad_{k+1}]. A ratio above ``factor`` or
below ``1 / factor`` flags the layer ("grows" / "shrinks"), as does a variance that is not
finite or has collapsed to zero. Each pass with flags issues one
``GradientHealthWarning`` (if ``warn``) and leaves the flags in ``.flagged``;
``.report()`` prints the per-layer table.

Usage::

    monitor = GradientMonitor(model, factor=2.0)
    loss = criterion(model(x), y)   # forward ratios checked when the model returns
    loss.backward()                 # backward ratios checked when the first layer's
                                    # gradient arrives
    print(monitor.report())
    monitor.remove()                # or use ``with GradientMonitor(model) as m: ...``

By default the monitored layers are the leaf modules that own parameters (e.g. every
``Linear``), whose outputs are the lecture's pre-activations f_k; pass ``modules=`` (a
module class, a tuple of classes, or a list of modules) to choose others. With He
initialisation the ratio between two square ReLU layers stays near 1; with weight variance
1.0 and width 100 it is about 50, which ``factor=2`` flags at every layer.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from gradfit._grad_mode import _enabled
from gradfit.nn.modules.module import Module
from gradfit.tensor import Tensor


class GradientHealthWarning(RuntimeWarning):
    """Issued by ``GradientMonitor`` when variances grow or shrink too fast per layer."""


@dataclass
class LayerStats:
    """What the monitor measured for one layer in the latest pass (variances averaged over
    the layer's calls in that pass; None until measured)."""

    name: str
    kind: str
    activation_var: float | None = None
    grad_var: float | None = None
    _acts: list = field(default_factory=list, repr=False)
    _grads: list = field(default_factory=list, repr=False)


@dataclass(frozen=True)
class Flag:
    """One flagged layer: ``direction`` is "forward" (activations) or "backward"
    (gradients); ``ratio`` is the change in variance from the previous layer in that
    direction (nan when the variance is not finite); ``problem`` is "grows", "shrinks",
    "non-finite" or "zero"."""

    direction: str
    layer: str
    previous: str | None
    variance: float
    ratio: float
    problem: str

    def __str__(self) -> str:
        if self.problem in ("non-finite", "zero"):
            return (
                f"{self.direction} variance at '{self.layer}' is {self.problem} "
                f"({self.variance:.3g})"
            )
        return (
            f"{self.direction} variance {self.problem} by {self.ratio:.3g}x from "
            f"'{self.previous}' to '{self.layer}'"
        )


def _variance(t: Tensor) -> float:
    # float64 accumulation: float32 activations near overflow would square to inf.
    with np.errstate(all="ignore"):
        return float(np.var(t._array, dtype=np.float64)) if t._array.size else math.nan


def _mean(xs: list) -> float | None:
    return sum(xs) / len(xs) if xs else None


class GradientMonitor:
    """Record per-layer activation and gradient variances and flag vanishing/exploding.

    Args:
        model: the network to watch (hooks are added to it; ``remove()`` takes them off).
        factor: the largest allowed change in variance between neighbouring layers, as a
            ratio (> 1); a layer is flagged when the ratio leaves [1 / factor, factor].
        modules: which layers to watch: None (leaf modules that own parameters), a Module
            class or tuple of classes, or an explicit list of submodules.
        warn: issue a ``GradientHealthWarning`` when a pass has flags.

    Attributes:
        layers: the ``LayerStats`` of the watched layers, in forward order.
        flagged: the ``Flag`` list of the latest forward and backward checks.
        passes: the number of forward passes seen.
    """

    def __init__(self, model: Module, factor: float = 2.0, modules=None, warn: bool = True):
        if not factor > 1:
            raise ValueError(f"GradientMonitor: factor must be > 1, got {factor}")
        self.model = model
        self.factor = float(factor)
        self.warn = warn
        self.passes = 0
        self._forward_flags: list[Flag] = []
        self._backward_flags: list[Flag] = []
        self._pending = 0
        self._handles = []
        named = list(model.named_modules())
        if modules is None:
            chosen = [
                (n, m)
                for n, m in named
                if not m._modules and any(p is not None for p in m._parameters.values())
            ]
        elif isinstance(modules, type) or (
            isinstance(modules, tuple) and all(isinstance(c, type) for c in modules)
        ):
            chosen = [(n, m) for n, m in named if isinstance(m, modules)]
        else:
            ids = {id(m) for m in modules}
            chosen = [(n, m) for n, m in named if id(m) in ids]
        if not chosen:
            raise ValueError("GradientMonitor: no layers to monitor in this model")
        self.layers = [LayerStats(n or type(m).__name__, type(m).__name__) for n, m in chosen]
        for stats, (_, m) in zip(self.layers, chosen):
            self._handles.append(m.register_forward_hook(self._make_hook(stats)))
        self._handles.append(model.register_forward_pre_hook(self._start_pass))
        self._handles.append(model.register_forward_hook(self._end_forward))

    # ------------------------------------------------------------------ hooks
    def _start_pass(self, module, args):
        self.passes += 1
        self._pending = 0
        for s in self.layers:
            s._acts.clear()
            s._grads.clear()
            s.activation_var = s.grad_var = None

    def _make_hook(self, stats: LayerStats):
        def grad_hook(grad: Tensor):
            stats._grads.append(_variance(grad))
            stats.grad_var = _mean(stats._grads)
            self._pending -= 1
            if self._pending == 0:
                self._check_backward()

        def forward_hook(module, args, output):
            if not isinstance(output, Tensor):
                return None
            stats._acts.append(_variance(output))
            stats.activation_var = _mean(stats._acts)
            if _enabled[0] and output.requires_grad:
                self._pending += 1
                output.register_hook(grad_hook)
            return None

        return forward_hook

    def _end_forward(self, module, args, output):
        self._check_forward()

    # ------------------------------------------------------------------ checks
    def _compare(self, direction: str, seq: list[tuple[str, float | None]]) -> list[Flag]:
        flags = []
        prev_name, prev = None, None
        for name, v in seq:
            if v is None:
                continue
            if not math.isfinite(v):
                flags.append(Flag(direction, name, prev_name, v, math.nan, "non-finite"))
            elif v == 0.0 and prev is not None and prev > 0:
                flags.append(Flag(direction, name, prev_name, v, 0.0, "zero"))
            elif prev is not None and math.isfinite(prev) and prev > 0:
                ratio = v / prev
                if ratio > self.factor:
                    flags.append(Flag(direction, name, prev_name, v, ratio, "grows"))
                elif ratio < 1.0 / self.factor:
                    flags.append(Flag(direction, name, prev_name, v, ratio, "shrinks"))
            prev_name, prev = name, v
        return flags

    def _emit(self, flags: list[Flag], direction: str) -> None:
        if flags and self.warn:
            shown = "; ".join(str(f) for f in flags[:3])
            more = f" (and {len(flags) - 3} more)" if len(flags) > 3 else ""
            what = "activations" if direction == "forward" else "gradients"
            warnings.warn(
                f"GradientMonitor: {len(flags)} layer(s) with {what} outside a factor "
                f"{self.factor:g} per layer: {shown}{more}. Check the initialisation "
                "(He: variance 2 / fan_in for ReLU) or the learning rate; "
                "monitor.report() has the table.",
                GradientHealthWarning,
                stacklevel=4,
            )

    def _check_forward(self) -> list[Flag]:
        self._forward_flags = self._compare(
            "forward", [(s.name, s.activation_var) for s in self.layers]
        )
        self._emit(self._forward_flags, "forward")
        return self._forward_flags

    def _check_backward(self) -> list[Flag]:
        self._backward_flags = self._compare(
            "backward", [(s.name, s.grad_var) for s in reversed(self.layers)]
        )
        self._emit(self._backward_flags, "backward")
        return self._backward_flags

    def check(self) -> list[Flag]:
        """Re-run both checks on the latest pass (e.g. when some layer's gradient never
        arrived) and return the flags."""
        self._check_forward()
        self._check_backward()
        return self.flagged

    @property
    def flagged(self) -> list[Flag]:
        return self._forward_flags + self._backward_flags

    # ------------------------------------------------------------------ output
    def report(self) -> str:
        """A table of the latest pass: per layer, the activation and gradient variances,
        their ratios to the neighbouring layer, and the flags."""
        flagged = {(f.direction, f.layer): f for f in self.flagged}
        width = max(len("layer"), *(len(s.name) for s in self.layers))
        lines = [
            f"GradientMonitor (factor {self.factor:g}, {self.passes} pass(es)): "
            f"{len(self.flagged)} flag(s)",
            f"{'layer':<{width}}  {'kind':<12} {'act var':>10} {'ratio':>8} "
            f"{'grad var':>10} {'ratio':>8}  flags",
        ]

        def fmt(v):
            return f"{v:10.3g}" if v is not None else f"{'-':>10}"

        def fmt_ratio(r):
            return f"{r:8.3g}" if r is not None else f"{'-':>8}"

        for i, s in enumerate(self.layers):
            prev = self.layers[i - 1].activation_var if i else None
            nxt = self.layers[i + 1].grad_var if i + 1 < len(self.layers) else None
            ra = s.activation_var / prev if prev and s.activation_var is not None else None
            rg = s.grad_var / nxt if nxt and s.grad_var is not None else None
            marks = []
            for direction in ("forward", "backward"):
                f = flagged.get((direction, s.name))
                if f is not None:
                    marks.append(f"{direction} {f.problem}")
            lines.append(
                f"{s.name:<{width}}  {s.kind:<12} {fmt(s.activation_var)} "
                f"{fmt_ratio(ra)} {fmt(s.grad_var)} {fmt_ratio(rg)}  {', '.join(marks)}"
            )
        return "\n".join(lines)

    def remove(self) -> None:
        """Take the monitor's hooks off the model."""
        for h in self._handles:
            h.remove()
        self._handles.clear()

    def __enter__(self) -> GradientMonitor:
        return self

    def __exit__(self, *exc) -> bool:
        self.remove()
        return False
