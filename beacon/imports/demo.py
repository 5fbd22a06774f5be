"""Loads the real files in ../shared/data for one LA, in dependency order (register first)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from beacon.imports.framework import ImportItem, import_files, load_all_sources
from beacon.imports.models import ImportRun

# Area/benchmark sources first (so LA names resolve), then the register, then school-level data.
DEMO_ORDER: tuple[str, ...] = (
    "lait_benchmarks",
    "statistical_neighbours",
    "school_census",
    "gias_establishments",
    "csp_census",
    "csp_census_register",  # January 2025: adds schools new since 2022 before any 2024/25 results load
    "gias_links",  # predecessor / successor links (the closure check reads them)
    "csp_school_register",  # names new schools; marks closed the schools gone by 2024/25 (with evidence)
    "ks2_results",
    "ks4_results",
    "csp_absence",
    "ofsted_inspection_history",
    "ofsted_latest",
    "ofsted_management_information",
    "ofsted_official_statistics",  # after the older Ofsted files: it wins for the same inspection
)


# The recent school-level results and context (2022/23-2024/25; beacon/indicators/recent_importers.py) load
# last, after every other source, so that every register source (listed above or not) has added its schools
# first. Which file's value wins does not depend on this order (indicators/precedence.py, decision 0014).
LATE_ORDER: tuple[str, ...] = (
    "ks2_results_by_urn",
    "ks2_results_matched",
    "ks4_results_by_urn",
    "ks4_results_matched",
    "ks4_results_csp_prev_years",
    "ks4_results_provisional",
    "census_context_by_urn",
    "ks5_results_by_urn",
    "ks5_destinations",
    "destinations_by_urn",
    "finance_by_urn",
    "workforce_by_urn",
)


def demo_plan() -> list[tuple[str, str, int | None]]:
    """(source key, path under the data directory, year) for every demo file, in load order.

    The benchmark (bench/run.py) walks the same plan, one file per process."""
    sources = load_all_sources()
    first = [k for k in DEMO_ORDER if k in sources]
    last = [k for k in LATE_ORDER if k in sources]
    middle = sorted(set(sources) - set(first) - set(last))
    return [(key, rel, year) for key in first + middle + last for rel, year in sources[key].demo_files]


def load_demo(
    data_dir: str | Path, *, la_code: int | None, log: Callable[[str], object] = print
) -> list[ImportRun]:
    """Import every demo file found under `data_dir` in plan order (`import_files`: each file in its own
    transaction; the risk proposals refreshed once, at the end)."""
    items: list[ImportItem] = []
    for key, rel, year in demo_plan():
        path = Path(data_dir) / rel
        if not path.exists():
            log(f"  skip {key}: {path} not found")
            continue
        items.append((key, path, year))

    def logged(run: ImportRun, _seconds: float) -> None:
        log(f"  {run.source:32} {run.file_name}: {run.get_status_display()} - {run.message}")

    return import_files(items, la_code=la_code, on_run=logged)
