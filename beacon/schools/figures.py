"""What the register's importers need from indicators, the app above that owns the figures (decision 0022).

A school census file carries the register (URN, LA, type) and figures (pupils, % FSM, % EAL ...) in one
file; the closure check of the 2024/25 school list reads who is in the census, and the GIAS loader reads an
LA's name from the areas. schools may not import indicators, so indicators tells schools what to call when
it starts (`IndicatorsConfig.ready` calls `provide`), as schools tells the import framework its rules
(`rerun_duplicates_when`, `la_lookup_rule`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

    from beacon.imports.framework import ImportContext, LoadResult


@dataclass(frozen=True)
class Figures:
    # (source key, validated frame, context) -> the census figures of a register file, written
    write_census: Callable[[str, pl.DataFrame, ImportContext], LoadResult]
    # an area's (LA's) name by its code, None where the areas do not hold it
    area_name: Callable[[int], str | None]
    # every LA's name by its code (the areas held; one query)
    la_names: Callable[[], dict[int, str]]
    # every census headcount held ('pupils'): school_id, year, value, status (one frame, no query per school)
    headcounts: Callable[[], pl.DataFrame]


_PROVIDED: list[Figures] = []


def provide(figures: Figures) -> None:
    """Register the figures' provider (indicators, at start)."""
    _PROVIDED[:] = [figures]


def figures() -> Figures:
    if not _PROVIDED:
        raise RuntimeError("No figures provider: beacon.indicators registers one when it starts")
    return _PROVIDED[0]
