"""``Compare``: many measurements as tables, as ``torch.utils.benchmark.Compare`` prints
them. One table per ``label``; a row per (thread count, env, sub_label or statement), a
column per ``description``; each cell is the median in the table's unit. Replicates of a
measurement are merged first. ``trim_significant_figures``, ``colorize`` and
``highlight_warnings`` change the cells as in PyTorch."""

from __future__ import annotations

import collections
import enum
import itertools
import math

import numpy as np

from gradfit.utils.benchmark.utils import common

__all__ = ["Colorize", "Compare"]

BEST = "\033[92m"
GOOD = "\033[34m"
BAD = "\033[2m\033[91m"
VERY_BAD = "\033[31m"
BOLD = "\033[1m"
TERMINATE = "\033[0m"


class Colorize(enum.Enum):
    NONE = "none"
    COLUMNWISE = "columnwise"
    ROWWISE = "rowwise"


def _leading_digits(value: float) -> int:
    return int(math.ceil(np.log10(np.float32(value))))


class _Column:
    """One description's cells: a common number format for every row."""

    def __init__(self, grouped, time_scale, trim, highlight) -> None:
        self._grouped = grouped
        flat = [r for r in itertools.chain.from_iterable(grouped)]
        self._trim = trim
        self._highlight = highlight and any(r.has_warnings for r in flat if r)
        leading = [_leading_digits(r.median / time_scale) if r else None for r in flat]
        unit_digits = max(d for d in leading if d is not None)
        if trim:
            decimals = min(
                max(m.significant_figures - d, 0)
                for d, m in zip(leading, flat, strict=True)
                if m is not None and d is not None
            )
        else:
            decimals = 1
        width = unit_digits + decimals + (1 if decimals else 0)
        self._template = f"{{:>{width}.{decimals}f}}{{:>{7 if self._highlight else 0}}}"

    def results_for(self, group: int):
        return self._grouped[group]

    def num_to_str(self, value, sigfigs: int, spread) -> str:
        if value is None:
            return " " * len(self.num_to_str(1, sigfigs, None))
        if self._trim:
            value = common.trim_sigfig(value, sigfigs)
        note = f" (! {spread * 100:.0f}%)" if self._highlight and spread is not None else ""
        return self._template.format(value, note)


class _Row:
    def __init__(self, results, group, render_env, env_len, time_scale, colorize, threads):
        self._results = results
        self._group = group
        self._render_env = render_env
        self._env_len = env_len
        self._time_scale = time_scale
        self._colorize = colorize
        self._threads = threads
        self._columns: tuple = ()

    def cells(self) -> list:
        first = next(r for r in self._results if r is not None)
        env = f"({first.env})" if self._render_env else ""
        out = ["  " + env.ljust(self._env_len + 4) + first.as_row_name]
        for m, col in zip(self._results, self._columns, strict=False):
            if m is None:
                out.append(col.num_to_str(None, 1, None))
            else:
                spread = m.iqr / m.median if m.has_warnings else None
                out.append(
                    col.num_to_str(m.median / self._time_scale, m.significant_figures, spread)
                )
        return out

    def separator(self, width: int) -> list:
        return [] if self._threads is None else [f"{self._threads} threads: ".ljust(width, "-")]

    @staticmethod
    def _color(text: str, value: float, best: float) -> str:
        if value <= best * 1.01 or value <= best + 100e-9:
            return BEST + BOLD + text + TERMINATE * 2
        if value <= best * 1.1:
            return GOOD + BOLD + text + TERMINATE * 2
        if value >= best * 5:
            return VERY_BAD + BOLD + text + TERMINATE * 2
        if value >= best * 2:
            return BAD + text + TERMINATE * 2
        return text

    def finalize(self, cells: list, widths: list) -> list:
        best = [-1 for _ in cells]
        if self._colorize == Colorize.ROWWISE:
            low = min(r.median for r in self._results if r is not None)
            best = [low for _ in cells]
        elif self._colorize == Colorize.COLUMNWISE:
            best = []
            for col in self._columns:
                medians = [r.median for r in col.results_for(self._group) if r is not None]
                best.append(min(medians) if medians else None)
        out = [cells[0].ljust(widths[0])]
        for text, width, result, b in zip(cells[1:], widths[1:], self._results, best, strict=False):
            text = text.center(width)
            if self._colorize != Colorize.NONE and result is not None and b is not None:
                text = self._color(text, result.median, b)
            out.append(text)
        return out


class _Table:
    def __init__(self, results: list, colorize, trim: bool, highlight: bool) -> None:
        self.results = results
        self.label = results[0].label
        self._highlight = highlight
        self.time_unit, self.time_scale = common.select_unit(min(r.median for r in results))
        row_keys = common.ordered_unique((r.num_threads, r.env, r.as_row_name) for r in results)
        row_keys.sort(key=lambda k: (k[0], k[1]))  # by threads and env; names keep order
        col_keys = common.ordered_unique(r.description for r in results)
        self.column_keys = col_keys
        cells = [[None] * len(col_keys) for _ in row_keys]
        row_at = {k: i for i, k in enumerate(row_keys)}
        col_at = {k: j for j, k in enumerate(col_keys)}
        for r in results:
            cells[row_at[(r.num_threads, r.env, r.as_row_name)]][col_at[r.description]] = r
        envs = {r.env for r in results}
        render_env = len(envs) > 1
        env_len = max(len(e) for e in envs) if render_env else 0
        rows, groups = [], []
        prior_threads, prior_env, group = -1, "", -1
        for (threads, env, _), row in zip(row_keys, cells, strict=True):
            new_group = threads != prior_threads
            if new_group:
                prior_threads, prior_env = threads, ""
                group += 1
                groups.append([])
            rows.append(
                _Row(
                    row,
                    group,
                    render_env and env != prior_env,
                    env_len,
                    self.time_scale,
                    colorize,
                    threads if new_group else None,
                )
            )
            groups[-1].append(row)
            prior_env = env
        columns = tuple(
            _Column([tuple(row[j] for row in g) for g in groups], self.time_scale, trim, highlight)
            for j in range(len(col_keys))
        )
        for row in rows:
            row._columns = columns
        self.rows = rows

    def render(self) -> str:
        table = [["", *self.column_keys]] + [row.cells() for row in self.rows]
        n = max(len(t) for t in table)
        for t in table:
            t.extend("" for _ in range(n - len(t)))
        widths = [max(len(c) for c in col) for col in zip(*table, strict=True)]
        lines = ["  |  ".join(c.center(w) for c, w in zip(table[0], widths, strict=True))]
        width = len(lines[0])
        for cells, row in zip(table[1:], self.rows, strict=True):
            lines.extend(row.separator(width))
            lines.append("  |  ".join(row.finalize(cells, widths)))
        warned = self._highlight and any(r.has_warnings for r in self.results)
        title = (" " + (self.label or "") + " ").center(width - 2, "-")
        note = (
            "(! XX%) Measurement has high variance, where XX is the IQR / median * 100.\n"
            if warned
            else ""
        )
        unit = self.time_unit
        return (
            f"[{title}]\n" + "\n".join(lines) + "\n\n"
            f"Times are in {common.unit_to_english(unit)}s ({unit}).\n" + note
        )


class Compare:
    """A table (per label) of many ``Measurement``s; ``print()`` or ``str()`` it."""

    def __init__(self, results) -> None:
        self._results: list = []
        self.extend_results(results)
        self._trim_significant_figures = False
        self._colorize = Colorize.NONE
        self._highlight_warnings = False

    def __str__(self) -> str:
        return "\n".join(self._render())

    def extend_results(self, results) -> None:
        """Add more measurements (each must be a ``Measurement``)."""
        for r in results:
            if not isinstance(r, common.Measurement):
                raise ValueError(f"Expected an instance of `Measurement`, got {type(r)} instead.")
        self._results.extend(results)

    def trim_significant_figures(self) -> None:
        self._trim_significant_figures = True

    def colorize(self, rowwise: bool = False) -> None:
        self._colorize = Colorize.ROWWISE if rowwise else Colorize.COLUMNWISE

    def highlight_warnings(self) -> None:
        self._highlight_warnings = True

    def print(self) -> None:
        print(str(self))

    def _render(self) -> list:
        groups: dict = collections.defaultdict(list)
        for r in common.Measurement.merge(self._results):
            groups[r.label].append(r)
        return [
            _Table(
                g, self._colorize, self._trim_significant_figures, self._highlight_warnings
            ).render()
            for g in groups.values()
        ]
