"""``Timer``: time a Python statement as ``torch.utils.benchmark.Timer`` does.

``timeit(number)`` runs a warm-up of ``number // 100`` runs, then times one block of
``number`` runs. ``blocked_autorange`` first picks a block size (runs per block, a power of
ten, until the timer's own overhead is under 0.01 % of a block and a block takes at
least ``min_run_time / 1000``), then times blocks until ``min_run_time`` seconds have
been spent. ``adaptive_autorange`` times blocks until the interquartile range is under
``threshold`` of the median. All run with ``num_threads`` threads for gradfit's matrix
products. Only Python statements: gradfit has no C++ to time.
"""

from __future__ import annotations

import enum
import textwrap
import timeit as _timeit

import numpy as np

from gradfit.utils.benchmark.utils import common

__all__ = ["Language", "Timer", "timer"]

timer = _timeit.default_timer


class Language(enum.Enum):
    PYTHON = 0
    CPP = 1


class Timer:
    """Times ``stmt`` (run after ``setup``, with ``globals`` as its namespace, where
    ``torch`` is gradfit unless given). ``label``, ``sub_label`` and ``description`` name
    the measurement in ``Compare``'s table; ``num_threads`` sets the thread count."""

    def __init__(
        self,
        stmt: str = "pass",
        setup: str = "pass",
        global_setup: str = "",
        timer=timer,
        globals: dict | None = None,  # noqa: A002 - PyTorch's name
        label: str | None = None,
        sub_label: str | None = None,
        description: str | None = None,
        env: str | None = None,
        num_threads: int = 1,
        language=Language.PYTHON,
    ) -> None:
        if not isinstance(stmt, str):
            raise ValueError("Currently only a `str` stmt is supported.")
        if not isinstance(setup, str):
            raise ValueError(f"Timer: setup must be a str, got {type(setup).__name__}")
        if language not in (Language.PYTHON, "py", "python"):
            if language in (Language.CPP, "cpp", "c++"):
                raise ValueError("Timer: gradfit times Python statements only, not C++")
            raise ValueError(f"Invalid language `{language}`.")
        if global_setup:
            raise ValueError(
                f"global_setup is C++ only, got `{global_setup}`. Most likely this code can "
                "simply be moved to `setup`."
            )
        if isinstance(num_threads, bool) or not isinstance(num_threads, int) or num_threads < 1:
            raise ValueError(f"Timer: num_threads must be a positive int, got {num_threads!r}")
        import gradfit

        self._globals = dict(globals or {})
        self._globals.setdefault("torch", gradfit)
        stmt, setup = _clean(stmt), _clean(setup)
        self._timer = _timeit.Timer(stmt=stmt, setup=setup, timer=timer, globals=self._globals)
        self._task_spec = common.TaskSpec(
            stmt=stmt,
            setup=setup,
            global_setup=global_setup,
            label=label,
            sub_label=sub_label,
            description=description,
            env=env,
            num_threads=num_threads,
        )

    def _timeit(self, number: int) -> float:
        return max(self._timer.timeit(number), 1e-9)

    def timeit(self, number: int = 1000000) -> common.Measurement:
        """One block of ``number`` runs (after a warm-up of ``number // 100``)."""
        if isinstance(number, bool) or not isinstance(number, int) or number < 1:
            raise ValueError(f"timeit: number must be a positive int, got {number!r}")
        with common.set_torch_threads(self._task_spec.num_threads):
            self._timeit(max(number // 100, 2))
            return common.Measurement(number, [self._timeit(number)], self._task_spec)

    def repeat(self, repeat: int = -1, number: int = -1):
        raise NotImplementedError("See `Timer.blocked_autorange.`")

    def autorange(self, callback=None):
        raise NotImplementedError("See `Timer.blocked_autorange.`")

    def _measure(self, number, stop, min_run_time, max_run_time=None, callback=None) -> list:
        total, can_stop, times = 0.0, False, []
        with common.set_torch_threads(self._task_spec.num_threads):
            while total < min_run_time or not can_stop:
                spent = self._timeit(number)
                times.append(spent)
                total += spent
                if callback:
                    callback(number, spent)
                can_stop = stop(times)
                if max_run_time and total > max_run_time:
                    break
        return times

    def _estimate_block_size(self, min_run_time: float) -> int:
        with common.set_torch_threads(self._task_spec.num_threads):
            overhead = float(np.median([self._timeit(0) for _ in range(5)]))
            number = 1
            while True:
                taken = self._timeit(number)
                if overhead / taken <= 1e-4 and taken >= min_run_time / 1000:
                    break
                if taken > min_run_time or number * 10 > 2147483647:
                    break
                number *= 10
        return number

    def blocked_autorange(self, callback=None, min_run_time: float = 0.2) -> common.Measurement:
        """Blocks of a chosen number of runs, timed until ``min_run_time`` seconds."""
        _check_time("min_run_time", min_run_time)
        number = self._estimate_block_size(min_run_time)
        times = self._measure(number, lambda times: True, min_run_time, callback=callback)
        return common.Measurement(number, times, self._task_spec)

    def adaptive_autorange(
        self,
        threshold: float = 0.1,
        *,
        min_run_time: float = 0.01,
        max_run_time: float = 10.0,
        callback=None,
    ) -> common.Measurement:
        """Blocks timed until the IQR is under ``threshold`` of the median (at least four
        blocks and ``min_run_time`` seconds, at most ``max_run_time``)."""
        _check_time("min_run_time", min_run_time)
        number = self._estimate_block_size(min_run_time=0.05)

        def stop(times) -> bool:
            if len(times) <= 3:
                return False
            m = common.Measurement(number, times, self._task_spec)
            return m.meets_confidence(threshold=threshold)

        times = self._measure(number, stop, min_run_time, max_run_time, callback)
        return common.Measurement(number, times, self._task_spec)

    def collect_callgrind(self, *args, **kwargs):
        raise NotImplementedError(
            "collect_callgrind: gradfit has no Callgrind support (it counts C++ instructions)"
        )


def _clean(code: str) -> str:
    code = textwrap.dedent(code)
    return (code[1:] if code and code[0] == "\n" else code).rstrip()


def _check_time(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")
