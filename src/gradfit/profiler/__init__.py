"""``torch.profiler`` for gradfit: wall-clock times of ``record_function`` ranges and of
every gradfit op, summarised in PyTorch's table.

While a ``profile`` records, each op's ``apply`` (the forward of every differentiable
gradfit operation, and ``autograd.Function.apply``) and each ``record_function`` range is
timed with ``time.perf_counter_ns``; nothing is patched or timed otherwise, so profiling
costs nothing when it is off. An op is named ``aten::<its gradfit op in snake case>``
(``aten::add``, ``aten::linear``, ``aten::relu``): gradfit's ops, which are not always
PyTorch's kernels one for one. The backward pass is not broken down per node; put it in a
``record_function`` range to time it.

- ``profile(activities, schedule, on_trace_ready, record_shapes, profile_memory,
  with_stack)``: a context manager with ``step()``, ``key_averages()``, ``events()`` and
  ``export_chrome_trace``. ``schedule`` and ``on_trace_ready`` follow PyTorch's state
  machine (wait, warmup, active, repeat; ``ProfilerStep#N`` ranges mark the steps).
  ``profile_memory`` counts the bytes of the arrays each op allocates (its output; a view
  allocates none). ``with_stack`` records the Python call stack of each event (frames
  outside gradfit). Only the CPU is profiled: other activities record nothing.
- ``key_averages(group_by_input_shape, group_by_stack_n).table(sort_by, row_limit, ...)``:
  PyTorch's table layout and number formats; the numbers are gradfit's own timings.
"""

from __future__ import annotations

import enum
import json
import os
import re
import time
import traceback
import warnings

from gradfit._arrays import unwrap
from gradfit.autograd import function as _function

__all__ = [
    "EventList",
    "FunctionEvent",
    "FunctionEventAvg",
    "ProfilerAction",
    "ProfilerActivity",
    "profile",
    "record_function",
    "schedule",
    "tensorboard_trace_handler",
]


class ProfilerActivity(enum.Enum):
    """The kinds of activity PyTorch can profile; gradfit records ``CPU`` only."""

    CPU = 0
    XPU = 1
    MTIA = 2
    CUDA = 3
    HPU = 4
    PrivateUse1 = 5


class ProfilerAction(enum.Enum):
    """What the profiler does at a step, as a ``schedule`` returns it."""

    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3


def schedule(
    *,
    wait: int,
    warmup: int,
    active: int,
    repeat: int = 0,
    skip_first: int = 0,
    skip_first_wait: int = 0,
):
    """PyTorch's profiler schedule: after ``skip_first`` steps, cycles of ``wait`` idle
    steps, ``warmup`` steps and ``active`` recorded steps (the last of a cycle is
    ``RECORD_AND_SAVE``, when ``on_trace_ready`` is called), ``repeat`` times (0: forever).
    ``skip_first_wait`` skips the first cycle's wait."""

    def schedule_fn(step: int) -> ProfilerAction:
        if step < 0:
            raise AssertionError(f"Step must be non-negative. Got {step}.")
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        if skip_first_wait != 0:
            step += wait
        num_steps = wait + warmup + active
        if repeat > 0 and step / num_steps >= repeat:
            return ProfilerAction.NONE
        mod_step = step % num_steps
        if mod_step < wait:
            return ProfilerAction.NONE
        if mod_step < wait + warmup:
            return ProfilerAction.WARMUP
        if mod_step < num_steps - 1:
            return ProfilerAction.RECORD
        return ProfilerAction.RECORD_AND_SAVE

    if wait < 0 or warmup < 0 or active <= 0 or repeat < 0 or skip_first < 0:
        raise AssertionError(
            f"Invalid profiler schedule arguments. Got wait={wait} (need >= 0), "
            f"warmup={warmup} (need >= 0), active={active} (need > 0), repeat={repeat} "
            f"(need >= 0), skip_first={skip_first} (need >= 0)."
        )
    if warmup == 0:
        warnings.warn(
            "Profiler won't be using warmup, this can skew profiler results", stacklevel=2
        )
    return schedule_fn


def _default_schedule_fn(_: int) -> ProfilerAction:
    return ProfilerAction.RECORD


# ---------------------------------------------------------------------------- events
class FunctionEvent:
    """One timed op call or ``record_function`` range (times in microseconds)."""

    def __init__(self, id: int, name: str, start_ns: int, input_shapes, stack) -> None:  # noqa: A002
        self.id = id
        # PyTorch names the numbered step ranges "ProfilerStep*" (summed in its summaries);
        # the trace keeps the number
        self.trace_name = name
        self.name = self.key = "ProfilerStep*" if name.startswith("ProfilerStep#") else name
        self.start_ns = start_ns
        self.end_ns = start_ns
        self.input_shapes = input_shapes
        self.stack = stack
        self.cpu_children: list[FunctionEvent] = []
        self.cpu_parent: FunctionEvent | None = None
        self.memory = 0  # bytes this event's own work allocated
        self.count = 1
        self.node_id = -1
        self.overload_name = ""
        self.is_async = False
        self.is_legacy = False
        self.is_user_annotation = False
        self.use_device = None
        self.device_type = "CPU"
        self.flops = 0

    @property
    def cpu_time_total(self) -> float:
        return (self.end_ns - self.start_ns) / 1000.0

    @property
    def self_cpu_time_total(self) -> float:
        return self.cpu_time_total - sum(c.cpu_time_total for c in self.cpu_children)

    cpu_time = cpu_time_total

    @property
    def cpu_memory_usage(self) -> int:
        return self.memory + sum(c.cpu_memory_usage for c in self.cpu_children)

    @property
    def self_cpu_memory_usage(self) -> int:
        return self.memory

    device_time_total = self_device_time_total = device_time = 0.0
    device_memory_usage = self_device_memory_usage = 0
    cuda_time_total = self_cuda_time_total = 0.0

    @property
    def time_range(self) -> tuple[float, float]:
        return (self.start_ns / 1000.0, self.end_ns / 1000.0)

    def __repr__(self) -> str:
        return (
            f"<FunctionEvent id={self.id} name={self.name} cpu_time={_format_time(self.cpu_time)} "
            f"input_shapes={self.input_shapes}>"
        )


class FunctionEventAvg:
    """The events of one name (and input shapes / stack, when grouped by them), summed."""

    def __init__(self, key: str, input_shapes, stack) -> None:
        self.key = key
        self.input_shapes = input_shapes
        self.stack = stack
        self.count = 0
        self.cpu_time_total = 0.0
        self.self_cpu_time_total = 0.0
        self.cpu_memory_usage = 0
        self.self_cpu_memory_usage = 0
        self.cpu_parent = None
        self.node_id = -1
        self.overload_name = ""
        self.is_async = False
        self.is_legacy = False
        self.is_user_annotation = False
        self.use_device = None
        self.device_type = "CPU"
        self.flops = 0

    device_time_total = self_device_time_total = device_time = 0.0
    device_memory_usage = self_device_memory_usage = 0
    cuda_time_total = self_cuda_time_total = 0.0

    def add(self, other) -> FunctionEventAvg:
        self.count += other.count
        self.cpu_time_total += other.cpu_time_total
        self.self_cpu_time_total += other.self_cpu_time_total
        self.cpu_memory_usage += other.cpu_memory_usage
        self.self_cpu_memory_usage += other.self_cpu_memory_usage
        if other.cpu_parent is None:
            self.cpu_parent = None
        return self

    @property
    def cpu_time(self) -> float:
        return self.cpu_time_total / max(self.count, 1)

    def __repr__(self) -> str:
        return (
            f"<FunctionEventAvg key={self.key} "
            f"self_cpu_time={_format_time(self.self_cpu_time_total)} "
            f"cpu_time={_format_time(self.cpu_time)} input_shapes={self.input_shapes}>"
        )


for _cls in (FunctionEvent, FunctionEventAvg):
    for _attr in ("cpu_time", "cpu_time_total", "self_cpu_time_total"):
        setattr(
            _cls,
            _attr + "_str",
            property(lambda self, a=_attr: _format_time(getattr(self, a))),
        )
    _cls.self_device_time_total_str = _cls.device_time_total_str = property(
        lambda self: _format_time(0.0)
    )
    _cls.device_time_str = _cls.self_device_time_total_str


class EventList(list):
    """A list of events with PyTorch's summaries (``table``, ``key_averages``)."""

    def key_averages(self, group_by_input_shape: bool = False, group_by_stack_n: int = 0):
        """One ``FunctionEventAvg`` per event name (and input shapes, and the first
        ``group_by_stack_n`` stack frames), in order of first appearance."""
        groups: dict = {}
        for evt in self:
            key = [evt.key]
            if group_by_input_shape:
                key.append(str(evt.input_shapes))
            stack = evt.stack[:group_by_stack_n] if group_by_stack_n > 0 else []
            if group_by_stack_n > 0:
                key.append(tuple(stack))
            avg = groups.get(tuple(key))
            if avg is None:
                avg = groups[tuple(key)] = FunctionEventAvg(
                    evt.key, evt.input_shapes if group_by_input_shape else [], stack
                )
                avg.cpu_parent = evt.cpu_parent
            avg.add(evt)
        return EventList(groups.values())

    def total_average(self) -> FunctionEventAvg:
        total = FunctionEventAvg("Total", [], [])
        for evt in self:
            total.add(evt)
        return total

    @property
    def self_cpu_time_total(self) -> float:
        return sum(e.self_cpu_time_total for e in self)

    def table(
        self,
        sort_by: str | None = None,
        row_limit: int = 100,
        max_src_column_width: int = 75,
        max_name_column_width: int = 55,
        max_shapes_column_width: int = 80,
        header: str | None = None,
        top_level_events_only: bool = False,
        time_unit: str | None = None,
    ) -> str:
        """The events as PyTorch's profiler table (same columns, widths and formats)."""
        return _build_table(
            self,
            sort_by=sort_by,
            row_limit=row_limit,
            max_src_column_width=max_src_column_width,
            max_name_column_width=max_name_column_width,
            max_shapes_column_width=max_shapes_column_width,
            header=header,
            profile_memory=getattr(self, "_profile_memory", False),
            top_level_events_only=top_level_events_only,
            time_unit=time_unit,
        )

    def export_chrome_trace(self, path: str) -> None:
        """Write the events in the Chrome trace format (chrome://tracing, Perfetto)."""
        pid = os.getpid()
        events = [
            {
                "ph": "X",
                "cat": "user_annotation" if e.is_user_annotation else "cpu_op",
                "name": getattr(e, "trace_name", e.key),
                "pid": pid,
                "tid": 0,
                "ts": e.start_ns / 1000.0,
                "dur": (e.end_ns - e.start_ns) / 1000.0,
                "args": {"Input Dims": e.input_shapes} if e.input_shapes else {},
            }
            for e in self
        ]
        with open(path, "w") as f:
            json.dump({"traceEvents": events, "displayTimeUnit": "ms"}, f)


def _format_time(time_us: float) -> str:
    if time_us >= 1e6:
        return f"{time_us / 1e6:.3f}s"
    if time_us >= 1e3:
        return f"{time_us / 1e3:.3f}ms"
    return f"{time_us:.3f}us"


def _format_time_share(time_us: float, total_us: float) -> str:
    if total_us == 0:
        return "NaN"
    return f"{time_us * 100.0 / total_us:.2f}%"


def _format_memory(nbytes: int) -> str:
    kb, mb, gb = 1024, 1024**2, 1024**3
    if abs(nbytes) >= gb:
        return f"{nbytes / gb:.2f} GB"
    if abs(nbytes) >= mb:
        return f"{nbytes / mb:.2f} MB"
    if abs(nbytes) >= kb:
        return f"{nbytes / kb:.2f} KB"
    return f"{nbytes} B"


def _with_unit(time_us: float, time_unit: str | None) -> str:
    if time_unit == "s":
        return f"{time_us / 1e6:.3f}s"
    if time_unit == "ms":
        return f"{time_us / 1e3:.3f}ms"
    if time_unit == "us":
        return f"{time_us:.3f}us"
    return _format_time(time_us)


def _build_table(
    events,
    sort_by,
    row_limit,
    max_src_column_width,
    max_name_column_width,
    max_shapes_column_width,
    header,
    profile_memory,
    top_level_events_only,
    time_unit,
) -> str:
    if len(events) == 0:
        return ""
    if sort_by is not None:
        attr = sort_by.replace("cuda", "device").replace("xpu", "device")
        events = sorted(events, key=lambda e: getattr(e, attr), reverse=True)
    has_shapes = any(e.input_shapes for e in events)
    stacks = [e.stack for e in events if e.stack]
    name_w = max(len(e.key) for e in events) + 4
    if max_name_column_width is not None:
        name_w = min(name_w, max_name_column_width)
    shapes_w = max(len(str(e.input_shapes)) for e in events) + 4
    if max_shapes_column_width is not None:
        shapes_w = min(shapes_w, max_shapes_column_width)
    headers = ["Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg"]
    if profile_memory:
        headers += ["CPU Mem", "Self CPU Mem"]
    headers.append("# of Calls")
    widths = [name_w] + [12] * (len(headers) - 1)
    aligns = [">"] * len(headers)
    if has_shapes:
        headers.append("Input Shapes")
        widths.append(shapes_w)
        aligns.append(">")
    src_w = 0
    if stacks:
        src_w = max(len(entry) for s in stacks for entry in s) + 4
        if max_src_column_width is not None:
            src_w = min(src_w, max_src_column_width)
        headers.append("Source Location")
        widths.append(src_w)
        aligns.append("<")
    row_format = "".join("{: " + a + str(w) + "}  " for a, w in zip(aligns, widths, strict=True))
    sep = "".join("-" * w + "  " for w in widths)
    line_length = sum(w + 2 for w in widths) - 2
    total = sum(e.self_cpu_time_total for e in events)

    def trim(path: str) -> str:
        if len(path) > src_w:
            path = path[len(path) - src_w :]
            if len(path) > 3:
                path = "..." + path[3:]
        return path

    out = []
    if header is not None:
        out += ["=" * line_length, header]
    if top_level_events_only:
        out += ["=" * line_length, "This report only display top-level ops statistics"]
    out += [sep, row_format.format(*headers), sep]
    shown = 0
    for e in events:
        if shown == row_limit:
            break
        if top_level_events_only and e.cpu_parent is not None:
            continue
        shown += 1
        name = e.key
        if max_name_column_width is not None and len(name) >= max_name_column_width - 3:
            name = name[: max_name_column_width - 3] + "..."
        row = [
            name,
            _format_time_share(e.self_cpu_time_total, total),
            _with_unit(e.self_cpu_time_total, time_unit),
            _format_time_share(e.cpu_time_total, total),
            _with_unit(e.cpu_time_total, time_unit),
            _with_unit(e.cpu_time, time_unit),
        ]
        if profile_memory:
            row += [_format_memory(e.cpu_memory_usage), _format_memory(e.self_cpu_memory_usage)]
        row.append(e.count)
        if has_shapes:
            row.append(str(e.input_shapes)[:shapes_w])
        if stacks:
            row.append(trim(e.stack[0]) if e.stack else "")
        out.append(row_format.format(*row))
        if stacks:
            blank = [""] * (len(headers) - 1)
            for entry in (e.stack or [])[1:]:
                out.append(row_format.format(*blank, trim(entry)))
            out.append(row_format.format(*blank, ""))
    out += [sep, f"Self CPU time total: {_with_unit(total, time_unit)}"]
    return "".join(line + "\n" for line in out)


# ---------------------------------------------------------------------------- recording
class _Recorder:
    """The events of one recording: a stack of open events, the closed ones in order."""

    def __init__(self, record_shapes: bool, profile_memory: bool, with_stack: bool) -> None:
        self.record_shapes = record_shapes
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.events: list[FunctionEvent] = []
        self.open: list[FunctionEvent] = []

    def begin(self, name: str, args=()) -> FunctionEvent:
        shapes = [_shape_of(a) for a in args] if self.record_shapes else []
        stack = _python_stack() if self.with_stack else []
        evt = FunctionEvent(len(self.events), name, 0, shapes, stack)
        if self.open:
            evt.cpu_parent = self.open[-1]
            self.open[-1].cpu_children.append(evt)
        self.open.append(evt)
        self.events.append(evt)
        evt.start_ns = time.perf_counter_ns()
        return evt

    def end(self, evt: FunctionEvent) -> None:
        evt.end_ns = time.perf_counter_ns()
        # ranges left open inside this one (an exception) close with it
        while self.open and self.open[-1] is not evt:
            self.open.pop().end_ns = evt.end_ns
        if self.open:
            self.open.pop()


_recorder: list = [None]  # the recording in progress, if any


def _shape_of(a) -> list:
    shape = getattr(a, "shape", None)
    if shape is None or isinstance(a, int | float | bool):
        return []
    return list(shape)


_GRADFIT_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _python_stack() -> list[str]:
    frames = traceback.extract_stack()
    return [
        f"{f.filename}({f.lineno}): {f.name}"
        for f in reversed(frames)
        if not os.path.abspath(f.filename).startswith(_GRADFIT_DIR)
    ]


_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
# gradfit ops whose snake-case name is not PyTorch's name for the same operation
_ATEN = {
    "MatMul": "matmul",
    "ConvNd": "convolution",
    "ConvTransposeNd": "convolution",
    "Reshape": "view",
    "Cast": "to",
    "AMax": "amax",
}


def _op_name(cls) -> str:
    name = cls.__dict__.get("_profiler_name")
    if name is None:
        base = cls.__name__.strip("_")
        name = "aten::" + _ATEN.get(base, _CAMEL.sub("_", base).lower())
        cls._profiler_name = name
    return name


def _timed(original, name_of):
    def apply(cls, *args, **kwargs):
        rec = _recorder[0]
        if rec is None:
            return original(cls, *args, **kwargs)
        evt = rec.begin(name_of(cls), args)
        try:
            out = original(cls, *args, **kwargs)
        finally:
            rec.end(evt)
        if rec.profile_memory:
            if isinstance(out, _function.Tensor):
                arr = unwrap(out)
                if arr.base is None:  # a view allocates nothing
                    evt.memory = arr.nbytes
        return out

    return classmethod(apply)


_patched: list = []


def _patch() -> None:
    # The ops are timed only while recording: the per-op path stays as it is otherwise.
    if _patched:
        return
    for owner, name_of in (
        (_function.Op, _op_name),
        (_function.ViewOp, _op_name),
        (_function.Function, lambda cls: cls.__name__),
    ):
        original = owner.__dict__["apply"]
        _patched.append((owner, original))
        owner.apply = _timed(original.__func__, name_of)


def _unpatch() -> None:
    while _patched:
        owner, original = _patched.pop()
        owner.apply = original


class record_function:  # noqa: N801 - PyTorch's name
    """A named range of code, timed while a profiler records (``with record_function(
    "forward"):`` or as a decorator); free when none does."""

    def __init__(self, name: str, args: str | None = None) -> None:
        self.name = name
        self.args = args
        self._evt = None
        self._rec = None

    def __enter__(self):
        rec = _recorder[0]
        if rec is not None:
            self._rec = rec
            self._evt = rec.begin(self.name)
            self._evt.is_user_annotation = True
        return self

    def __exit__(self, *exc) -> bool:
        if self._evt is not None:
            self._rec.end(self._evt)
            self._evt = self._rec = None
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with record_function(self.name, self.args):
                return fn(*args, **kwargs)

        return wrapper


class profile:  # noqa: N801 - PyTorch's name
    """Profile the CPU time of gradfit's ops and ``record_function`` ranges (see the module
    docstring), as ``torch.profiler.profile``."""

    def __init__(
        self,
        *,
        activities=None,
        schedule=None,
        on_trace_ready=None,
        record_shapes: bool = False,
        profile_memory: bool = False,
        with_stack: bool = False,
        with_flops: bool = False,
        with_modules: bool = False,
        experimental_config=None,
        execution_trace_observer=None,
        acc_events: bool = False,
        use_cuda=None,
        custom_trace_id_callback=None,
    ) -> None:
        acts = set(activities) if activities is not None else {ProfilerActivity.CPU}
        for a in acts:
            if not isinstance(a, ProfilerActivity):
                raise TypeError(f"activities must be ProfilerActivity values, got {a!r}")
        self.activities = acts
        self.record_shapes = record_shapes
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.record_steps = schedule is not None
        self.schedule = schedule if schedule is not None else _default_schedule_fn
        self.on_trace_ready = on_trace_ready
        self.step_num = 0
        self.current_action = self.schedule(0)
        self._step_range: record_function | None = None
        self._rec: _Recorder | None = None
        self._events = EventList()

    # the actions of PyTorch's state machine
    def _start_trace(self) -> None:
        self._rec = _Recorder(self.record_shapes, self.profile_memory, self.with_stack)
        if ProfilerActivity.CPU in self.activities:
            _recorder[0] = self._rec
            _patch()

    def _stop_trace(self) -> None:
        if self._rec is None:
            return
        if _recorder[0] is self._rec:
            _recorder[0] = None
            _unpatch()
        self._events = EventList(self._rec.events)
        self._events._profile_memory = self.profile_memory
        self._rec = None

    def _trace_ready(self) -> None:
        if self.on_trace_ready is not None:
            self.on_trace_ready(self)

    def _transit(self, prev, cur) -> None:
        A = ProfilerAction
        recording = (A.RECORD, A.RECORD_AND_SAVE)
        if prev in (A.NONE, A.WARMUP) and cur in recording:
            self._start_trace()
        elif prev == A.WARMUP and cur is None:
            self._start_trace()
            self._stop_trace()
        elif prev in recording and cur in (A.NONE, A.WARMUP):
            if prev == A.RECORD:
                warnings.warn(f"Incorrect schedule: RECORD followed by {cur.name}", stacklevel=3)
            self._stop_trace()
            if prev == A.RECORD_AND_SAVE:
                self._trace_ready()
        elif prev == A.RECORD_AND_SAVE and cur in recording:
            self._stop_trace()
            self._trace_ready()
            self._start_trace()
        elif prev in recording and cur is None:
            self._stop_trace()
            self._trace_ready()

    def start(self) -> None:
        self._transit(ProfilerAction.NONE, self.current_action)
        if self.record_steps:
            self._step_range = record_function(f"ProfilerStep#{self.step_num}").__enter__()

    def stop(self) -> None:
        if self._step_range is not None:
            self._step_range.__exit__(None, None, None)
            self._step_range = None
        self._transit(self.current_action, None)

    def step(self) -> None:
        """Signal that the next training step begins (the schedule moves on)."""
        if self._step_range is not None:
            self._step_range.__exit__(None, None, None)
            self._step_range = None
        prev = self.current_action
        self.step_num += 1
        self.current_action = self.schedule(self.step_num)
        self._transit(prev, self.current_action)
        if self.record_steps:
            self._step_range = record_function(f"ProfilerStep#{self.step_num}").__enter__()

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc) -> bool:
        self.stop()
        return False

    def events(self) -> EventList:
        """The events of the last finished recording, in the order they began."""
        return self._events

    def key_averages(
        self,
        group_by_input_shape: bool = False,
        group_by_stack_n: int = 0,
        group_by_overload_name: bool = False,
    ) -> EventList:
        """The events summed by name (see ``EventList.key_averages``)."""
        if group_by_input_shape and not self.record_shapes:
            raise AssertionError("Need to set record_shapes to True to group by input shape")
        avg = self._events.key_averages(group_by_input_shape, group_by_stack_n)
        avg._profile_memory = self.profile_memory
        return avg

    def export_chrome_trace(self, path: str) -> None:
        self._events.export_chrome_trace(path)


def tensorboard_trace_handler(
    dir_name: str, worker_name: str | None = None, use_gzip: bool = False
):
    """An ``on_trace_ready`` handler writing each trace (Chrome trace format) to
    ``dir_name/<worker_name>.<time_ns>.pt.trace.json`` (``.gz`` with ``use_gzip``), as
    PyTorch's; ``worker_name`` defaults to ``<hostname>_<pid>``."""
    import gzip
    import socket

    def handler_fn(prof) -> None:
        nonlocal worker_name
        os.makedirs(dir_name, exist_ok=True)
        if not worker_name:
            worker_name = f"{socket.gethostname()}_{os.getpid()}"
        file_name = f"{worker_name}.{time.time_ns()}.pt.trace.json"
        path = os.path.join(dir_name, file_name)
        prof.export_chrome_trace(path)
        if use_gzip:
            with open(path, "rb") as f:
                data = f.read()
            with gzip.open(path + ".gz", "wb") as f:
                f.write(data)
            os.remove(path)

    return handler_fn
