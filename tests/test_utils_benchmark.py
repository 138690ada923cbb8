"""torch.utils.benchmark: Measurement statistics and repr, Compare's tables (on recorded
times, compared with PyTorch's text), and Timer's structure (timings themselves vary)."""

import re

import numpy as np
import pytest

import gradfit
from gradfit.utils import benchmark


def _torch_benchmark():
    import torch.utils.benchmark as tb  # parity tests fail, not skip, without torch

    return tb


def _measure(mod, raw, number=10, **labels):
    spec = mod.utils.common.TaskSpec(stmt=labels.pop("stmt", "x + y"), setup="pass", **labels)
    return mod.utils.common.Measurement(number, list(raw), spec)


def _no_address(text: str) -> str:
    return re.sub(r"<(torch|gradfit)\.(\S+) object at 0x[0-9a-f]+>", r"<\2>", text)


RAWS = [
    [2.1e-5],
    [3.0e-4, 3.1e-4, 2.9e-4, 3.3e-4, 3.05e-4],
    [1.0e-2, 1.9e-2, 1.1e-2, 1.0e-2, 3.0e-2, 1.2e-2, 1.0e-2],  # wide: warnings
    [5.0, 5.1, 5.2, 4.9],
]


@pytest.mark.parametrize("raw", RAWS)
def test_measurement_statistics_and_repr_match_torch(raw):
    tb = _torch_benchmark()
    kw = dict(label="adds", sub_label="small", description="fp32", num_threads=2)
    got, want = _measure(benchmark, raw, **kw), _measure(tb, raw, **kw)
    times = np.asarray(raw) / 10
    assert got.times == want.times
    np.testing.assert_allclose(got.mean, times.mean(), rtol=1e-12)
    np.testing.assert_allclose(got.median, np.median(times), rtol=1e-12)
    np.testing.assert_allclose(got.iqr, want.iqr, rtol=1e-12)
    assert got.median == want.median
    assert got.significant_figures == want.significant_figures
    assert got.has_warnings == want.has_warnings
    assert (got.title, got.env, got.as_row_name) == (want.title, want.env, want.as_row_name)
    assert _no_address(repr(got)) == _no_address(repr(want))


def test_multiline_statement_and_setup_repr_match_torch():
    tb = _torch_benchmark()
    stmt, setup = "a = x * 2\nb = a + 1", "import math\nx = 3"
    spec_g = benchmark.TaskSpec(stmt=stmt, setup=setup, sub_label="two")
    spec_t = tb.utils.common.TaskSpec(stmt=stmt, setup=setup, sub_label="two")
    got = benchmark.Measurement(100, [1e-6, 2e-6], spec_g)
    want = tb.utils.common.Measurement(100, [1e-6, 2e-6], spec_t)
    assert _no_address(repr(got)) == _no_address(repr(want))
    merged_g = benchmark.Measurement.merge([got, got])
    merged_t = tb.utils.common.Measurement.merge([want, want])
    assert [m.times for m in merged_g] == [m.times for m in merged_t]


def _compare_text(mod, trim, colorize, highlight):
    results = []
    for i, threads in enumerate((1, 4)):
        for j, size in enumerate(("n=10", "n=1000")):
            for k, desc in enumerate(("mul/sum", "dot", "bmm")):
                raw = [(1 + i + 3 * j + 0.5 * k) * 1e-5 * (1 + 0.03 * r) for r in range(5)]
                if (j, k) == (1, 2):
                    raw[-1] *= 2  # a high-variance cell
                if (i, j, k) == (1, 1, 0):
                    continue  # a missing cell
                results.append(
                    _measure(
                        mod,
                        raw,
                        number=100,
                        stmt="f(x)",
                        label="Batched dot",
                        sub_label=size,
                        description=desc,
                        num_threads=threads,
                    )
                )
    results.append(_measure(mod, [2e-3, 2.2e-3], label="Other", description="dot"))
    compare = mod.Compare(results)
    if trim:
        compare.trim_significant_figures()
    if colorize:
        compare.colorize(rowwise=colorize == "row")
    if highlight:
        compare.highlight_warnings()
    return str(compare)


@pytest.mark.parametrize(
    "options",
    [(False, None, False), (True, None, False), (True, "col", True), (False, "row", True)],
)
def test_compare_table_matches_torch(options):
    tb = _torch_benchmark()
    assert _compare_text(benchmark, *options) == _compare_text(tb, *options)


def test_timer_structure_and_errors():
    x = gradfit.ones(8)
    t = benchmark.Timer(
        stmt="torch.add(x, x)",
        setup="y = 1",
        globals={"x": x},
        label="add",
        sub_label="8",
        description="ones",
        num_threads=1,
    )
    m = t.timeit(50)
    assert (m.number_per_run, len(m.raw_times), len(m.times)) == (50, 1, 1)
    assert m.times[0] == m.raw_times[0] / 50 > 0
    assert m.stmt == "torch.add(x, x)" and m.label == "add" and m.task_spec.setup == "y = 1"
    calls = []
    b = t.blocked_autorange(callback=lambda n, s: calls.append((n, s)), min_run_time=0.01)
    assert sum(b.raw_times) >= 0.01 and len(calls) == len(b.raw_times)
    assert all(n == b.number_per_run for n, _ in calls)
    a = t.adaptive_autorange(min_run_time=0.01, max_run_time=0.2)
    assert len(a.raw_times) >= 1
    text = str(benchmark.Compare([m, b]))
    assert text.startswith("[") and "add" in text and "Times are in" in text
    with pytest.raises(ValueError, match="only a `str` stmt"):
        benchmark.Timer(stmt=lambda: 1)
    with pytest.raises(ValueError, match="number must be a positive int, got 0"):
        t.timeit(0)
    with pytest.raises(ValueError, match="C\\+\\+"):
        benchmark.Timer("x", language="cpp")
    with pytest.raises(ValueError, match="Expected an instance of `Measurement`"):
        benchmark.Compare([1])
    with pytest.raises(NotImplementedError, match="blocked_autorange"):
        t.repeat()
