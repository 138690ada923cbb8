"""``torch.autograd.profiler``: the older spelling of the profiler (``with
torch.autograd.profiler.profile() as prof:`` and ``record_function``), the same recorder
as ``gradfit.profiler`` with this module's signature (``enabled`` first, ``use_cuda``).

It sits above the graph machinery (it imports ``gradfit.profiler``, which times the ops),
so ``gradfit.autograd`` loads it only on first use and nothing below imports it.
"""

from __future__ import annotations

import warnings

from gradfit.profiler import (
    EventList,
    FunctionEvent,
    FunctionEventAvg,
    ProfilerActivity,
    record_function,
)
from gradfit.profiler import profile as _profile

__all__ = [
    "EventList",
    "FunctionEvent",
    "FunctionEventAvg",
    "ProfilerActivity",
    "profile",
    "record_function",
]


class profile(_profile):  # noqa: N801 - PyTorch's name
    """Records the CPU time of every gradfit op and ``record_function`` range while it is
    entered (nothing when ``enabled=False``); ``key_averages().table(...)``,
    ``function_events``, ``table``, ``total_average`` and ``export_chrome_trace`` summarise
    it as ``torch.autograd.profiler.profile`` does. Only the CPU is profiled."""

    def __init__(
        self,
        enabled: bool = True,
        *,
        use_cuda: bool = False,
        use_device=None,
        record_shapes: bool = False,
        with_flops: bool = False,
        profile_memory: bool = False,
        with_stack: bool = False,
        with_modules: bool = False,
        use_kineto: bool = False,
        use_cpu: bool = True,
        experimental_config=None,
        acc_events: bool = False,
        custom_trace_id_callback=None,
        post_processing_timeout_s=None,
        activity_filters=None,
    ) -> None:
        if not isinstance(enabled, bool):
            raise TypeError(f"profile: enabled must be a bool, got {enabled!r}")
        self.enabled = enabled
        self.entered = False
        if use_cuda:
            warnings.warn(
                "The attribute `use_cuda` will be deprecated soon, please use "
                "``use_device = 'cuda'`` instead.",
                FutureWarning,
                stacklevel=2,
            )
        super().__init__(
            record_shapes=record_shapes or with_flops,
            profile_memory=profile_memory,
            with_stack=with_stack,
        )
        self.use_device = None  # gradfit profiles the CPU only
        self._finished = False

    def __enter__(self):
        if not self.enabled:
            return None
        if self.entered:
            raise RuntimeError("Profiler context manager is not reentrant")
        self.entered = True
        return super().__enter__()

    def __exit__(self, *exc) -> bool:
        if not self.enabled:
            return False
        super().__exit__(*exc)
        self._finished = True
        return False

    @property
    def function_events(self) -> EventList:
        """Every recorded event, in the order they began."""
        return self.events()

    def table(self, sort_by=None, row_limit: int = 100, **kwargs) -> str:
        return self.events().table(sort_by=sort_by, row_limit=row_limit, **kwargs)

    def total_average(self) -> FunctionEventAvg:
        return self.events().total_average()

    @property
    def self_cpu_time_total(self) -> float:
        return self.events().self_cpu_time_total

    def __str__(self) -> str:
        if not self._finished:
            return "<unfinished torch.autograd.profile>"
        return self.table()
