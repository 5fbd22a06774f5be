"""The load test's statistics (bench/load.py): the percentile function and the seeded think-time schedule.

No timing here: these are the pure functions the load test's figures are computed with, so a wrong
percentile or a schedule that is not repeatable fails here rather than in a misleading report.
"""

from __future__ import annotations

import importlib.util
import itertools
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH_LOAD = Path(__file__).resolve().parent.parent / "bench" / "load.py"


@pytest.fixture(scope="module")
def load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_load", BENCH_LOAD)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_load"] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def test_percentiles_by_nearest_rank(load: ModuleType) -> None:
    one_to_hundred = [float(x) for x in range(100, 0, -1)]  # unsorted on purpose
    assert load.pct(one_to_hundred, 50) == 50.0
    assert load.pct(one_to_hundred, 95) == 95.0
    assert load.pct(one_to_hundred, 99) == 99.0
    assert load.pct(one_to_hundred, 100) == 100.0
    assert load.pct([5.0, 1.0, 4.0, 2.0, 3.0], 50) == 3.0  # the median of five is the third
    assert load.pct([1.0, 2.0, 3.0, 4.0], 50) == 2.0  # nearest rank, not interpolated
    assert load.pct([1.0, 2.0, 3.0, 4.0], 51) == 3.0
    assert load.pct([7.0], 99) == 7.0
    assert load.pct([3.0, 1.0, 2.0], 0) == 1.0
    assert load.pct([], 95) == 0.0


def test_summary_counts_errors_as_requests_and_takes_percentiles_over_all_pages(load: ModuleType) -> None:
    stats = {"a": load.PageStats(latencies=[0.1, 0.2, 0.3]), "b": load.PageStats(latencies=[0.4])}
    stats["b"].error("/b/: HTTP 500", "HTTP 500")
    stats["a"].error("/a/: ReadTimeout", "ReadTimeout")
    stats["b"].error("/b/: ReadTimeout", "ReadTimeout")
    out = load.summarise(stats, wall=2.0)
    assert out["requests"] == 7 and out["errors"] == 3
    assert out["error_kinds"] == {"ReadTimeout": 2, "HTTP 500": 1}
    assert out["rps"] == 3.5
    assert out["p50_ms"] == 200.0 and out["max_ms"] == 400.0  # over the four successful latencies
    assert out["pages"]["b"] == {
        "requests": 3,
        "errors": 2,
        "p50_ms": 400.0,
        "p95_ms": 400.0,
        "p99_ms": 400.0,
        "max_ms": 400.0,
        "mean_ms": 400.0,
        "sample_errors": ["/b/: HTTP 500", "/b/: ReadTimeout"],
    }


def test_think_time_schedule_is_seeded_uniform_and_covers_every_page(load: ModuleType) -> None:
    steps = list(itertools.islice(load.journey(16, 0), 3000))
    again = list(itertools.islice(load.journey(16, 0), 3000))
    assert steps == again  # same seed and user: the same requests and pauses
    assert steps != list(itertools.islice(load.journey(16, 1), 3000))  # another user: another stream
    assert steps != list(itertools.islice(load.journey(17, 0), 3000))  # another seed: another run

    thinks = [s.think_s for s in steps]
    assert all(1.0 <= t <= 3.0 for t in thinks)
    assert 1.9 < sum(thinks) / len(thinks) < 2.1  # uniform on [1, 3]: mean 2
    assert min(thinks) < 1.05 and max(thinks) > 2.95  # the whole interval is used
    assert sum(t < 2.0 for t in thinks) == pytest.approx(1500, abs=150)

    pages = {name for name, _ in load.PAGES}
    counts = {name: sum(s.page == name for s in steps) for name in pages}
    assert set(counts) == pages and all(400 <= n <= 600 for n in counts.values())  # ~500 each of 6
    urls = {s.url for s in steps}
    assert {f"/schools/{urn}/" for urn in load.SCHOOLS} <= urls
    assert {f"/risk/{urn}/" for urn in load.SCHOOLS} <= urls
    assert all("{" not in u for u in urls)


def test_think_time_bounds_and_start_offsets(load: ModuleType) -> None:
    steps = list(itertools.islice(load.journey(1, 5, (123,), low=0.5, high=0.75), 200))
    assert all(0.5 <= s.think_s <= 0.75 for s in steps)
    assert {s.url for s in steps if s.page == "school page"} == {"/schools/123/"}

    offsets = [load.start_offset(16, user) for user in range(200)]
    assert offsets == [load.start_offset(16, user) for user in range(200)]
    assert all(0.0 <= o <= 3.0 for o in offsets)
    assert len(set(offsets)) == 200  # users do not arrive together
    assert sum(o < 1.5 for o in offsets) == pytest.approx(100, abs=25)  # spread over the interval
