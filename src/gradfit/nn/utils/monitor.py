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

It then measures how fast these variances change per layer. Along each direction (forward:
first layer to last; backward: last to first, the way gradients flow) it takes the
per-layer rate over a window of ``window`` layers,

    rate_k = (Var_k / Var_{k-window}) ** (1 / window),

the geometric mean of the layer-to-layer ratios. At finite width the ratio between two
neighbouring layers is noisy even with He initialisation (at width 100 it ranges over
roughly 0.5 to 2 from layer to layer); averaged over a window a He network stays within
about 0.75 to 1.6, while a consistent trend stands out (weight variance 1.0 at width 100:
about 50 per layer, as the lecture's formula says). A layer whose rate leaves
[1 / ``factor``, ``factor``] is flagged ("grows" / "shrinks"), as is a variance that is not
finite or has collapsed to zero. A network shorter than the window is judged by its rate
over the whole stack. Each pass with flags issues one ``GradientHealthWarning`` (if
``warn``) and leaves the flags in ``.flagged``; ``.report()`` prints the per-layer table.

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
initialisation the rate of a stack of square ReLU layers stays near 1; with weight variance
1.0 and width 100 it is about 50, which ``factor=2`` flags at every layer past the first
window.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from gradfit._arrays import unwrap
from gradfit._grad_mode import _enabled
from gradfit.tensor import Tensor

if TYPE_CHECKING:  # nn.modules imports nn.utils (packed sequences): no import at run time
    from gradfit.nn.modules.module import Module


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
    activation_rate: float | None = None
    grad_rate: float | None = None
    _acts: list = field(default_factory=list, repr=False)
    _grads: list = field(default_factory=list, repr=False)


@dataclass(frozen=True)
class Flag:
    """One flagged layer: ``direction`` is "forward" (activations) or "backward"
    (gradients); ``ratio`` is the per-layer rate of change of the variance over the window
    from ``previous`` to ``layer`` in that direction (nan when the variance is not
    finite); ``problem`` is "grows", "shrinks", "non-finite" or "zero"."""

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
            f"{self.direction} variance {self.problem} by {self.ratio:.3g}x per layer from "
            f"'{self.previous}' to '{self.layer}'"
        )


def _variance(t: Tensor) -> float:
    # float64 accumulation: float32 activations near overflow would square to inf.
    with np.errstate(all="ignore"):
        return float(np.var(unwrap(t), dtype=np.float64)) if unwrap(t).size else math.nan


def _mean(xs: list) -> float | None:
    return sum(xs) / len(xs) if xs else None


class GradientMonitor:
    """Record per-layer activation and gradient variances and flag vanishing/exploding.

    Args:
        model: the network to watch (hooks are added to it; ``remove()`` takes them off).
        factor: the largest allowed change in variance per layer, as a ratio (> 1); a
            layer is flagged when its rate leaves [1 / factor, factor].
        window: the number of layers the rate is averaged over (>= 1; 1 compares
            neighbours directly).
        modules: which layers to watch: None (leaf modules that own parameters), a Module
            class or tuple of classes, or an explicit list of submodules.
        warn: issue a ``GradientHealthWarning`` when a pass has flags.

    Attributes:
        layers: the ``LayerStats`` of the watched layers, in forward order.
        flagged: the ``Flag`` list of the latest forward and backward checks.
        passes: the number of forward passes seen.
    """

    def __init__(
        self,
        model: Module,
        factor: float = 2.0,
        modules=None,
        warn: bool = True,
        window: int = 5,
    ):
        if not factor > 1:
            raise ValueError(f"GradientMonitor: factor must be > 1, got {factor}")
        if window < 1:
            raise ValueError(f"GradientMonitor: window must be >= 1, got {window}")
        self.model = model
        self.factor = float(factor)
        self.window = int(window)
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
    def _compare(self, direction: str, stats: list[LayerStats]) -> list[Flag]:
        attr = "activation_var" if direction == "forward" else "grad_var"
        rate_attr = "activation_rate" if direction == "forward" else "grad_rate"
        seq = [(s, getattr(s, attr)) for s in stats]
        seq = [(s, v) for s, v in seq if v is not None]
        for s in stats:
            setattr(s, rate_attr, None)
        flags = []
        n = len(seq)
        w = min(self.window, n - 1)
        for k, (s, v) in enumerate(seq):
            if not math.isfinite(v):
                flags.append(Flag(direction, s.name, None, v, math.nan, "non-finite"))
                continue
            if v == 0.0 and k > 0 and seq[k - 1][1] != 0.0:
                flags.append(Flag(direction, s.name, seq[k - 1][0].name, v, 0.0, "zero"))
                continue
            if w < 1 or k < w:
                continue
            prev_s, prev = seq[k - w]
            if not (math.isfinite(prev) and prev > 0 and v > 0):
                continue
            rate = (v / prev) ** (1.0 / w)
            setattr(s, rate_attr, rate)
            if rate > self.factor:
                flags.append(Flag(direction, s.name, prev_s.name, v, rate, "grows"))
            elif rate < 1.0 / self.factor:
                flags.append(Flag(direction, s.name, prev_s.name, v, rate, "shrinks"))
        return flags

    def _emit(self, flags: list[Flag], direction: str) -> None:
        if flags and self.warn:
            shown = "; ".join(str(f) for f in flags[:3])
            more = f" (and {len(flags) - 3} more)" if len(flags) > 3 else ""
            what = "activations" if direction == "forward" else "gradients"
            warnings.warn(
                f"GradientMonitor: {len(flags)} layer(s) with {what} changing by more than "
                f"a factor {self.factor:g} per layer: {shown}{more}. Check the initialisation "
                "(He: variance 2 / fan_in for ReLU) or the learning rate; "
                "monitor.report() has the table.",
                GradientHealthWarning,
                stacklevel=4,
            )

    def _check_forward(self) -> list[Flag]:
        self._forward_flags = self._compare("forward", self.layers)
        self._emit(self._forward_flags, "forward")
        return self._forward_flags

    def _check_backward(self) -> list[Flag]:
        self._backward_flags = self._compare("backward", self.layers[::-1])
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
        their per-layer rates of change (see the module docstring), and the flags."""
        flagged = {(f.direction, f.layer): f for f in self.flagged}
        width = max(len("layer"), *(len(s.name) for s in self.layers))
        lines = [
            f"GradientMonitor (factor {self.factor:g}, window {self.window}, "
            f"{self.passes} pass(es)): "
            f"{len(self.flagged)} flag(s)",
            f"{'layer':<{width}}  {'kind':<12} {'act var':>10} {'rate':>8} "
            f"{'grad var':>10} {'rate':>8}  flags",
        ]

        def fmt(v):
            return f"{v:10.3g}" if v is not None else f"{'-':>10}"

        def fmt_ratio(r):
            return f"{r:8.3g}" if r is not None else f"{'-':>8}"

        for s in self.layers:
            ra, rg = s.activation_rate, s.grad_rate
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
