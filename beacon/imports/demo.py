"""Loads the real files in ../shared/data for one LA, in dependency order (register first)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from beacon.imports.framework import load_all_sources, run_import
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


def demo_plan() -> list[tuple[str, str, int | None]]:
    """(source key, path under the data directory, year) for every demo file, in load order.

    The benchmark (bench/run.py) walks the same plan, one file per process."""
    sources = load_all_sources()
    return [
        (key, rel, year)
        for key in [k for k in DEMO_ORDER if k in sources] + sorted(set(sources) - set(DEMO_ORDER))
        for rel, year in sources[key].demo_files
    ]


def load_demo(
    data_dir: str | Path, *, la_code: int | None, log: Callable[[str], object] = print
) -> list[ImportRun]:
    runs: list[ImportRun] = []
    for key, rel, year in demo_plan():
        path = Path(data_dir) / rel
        if not path.exists():
            log(f"  skip {key}: {path} not found")
            continue
        run = run_import(key, path, year=year, la_code=la_code)
        log(f"  {key:32} {rel}: {run.get_status_display()} - {run.message}")
        runs.append(run)
    return runs
