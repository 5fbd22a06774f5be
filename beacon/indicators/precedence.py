"""Which file's value wins when two files give the same school, measure and year.

One rule for every school-level source (decision record 0014): each source has a *standing*; a value
is only ever replaced by a file of the same or a higher standing, whatever the order files are loaded
in. Every stored value keeps the import run it came from (`SchoolMeasure.source_run` -> `ImportRun.source`
and file name), so a page can say where a figure came from and whether it is provisional.

Standings (higher wins):

* 3 ORIGINAL  - final figures in the DfE's own published columns, unrounded, DfE codes kept
                (the Camden transcription of CSP england_ks4final 2024/25, *_PREV / *_PREV2 columns;
                the SPC school-level census file, whose % EAL the re-keyed CSP census repeats, rounded);
* 2 FINAL     - final (revised) figures; the default for every source not listed here, including
                the repo-built files that re-key DfE values by URN (gieffeemme, charleskk6: some
                percentages rounded to whole numbers);
* 1 PROVISIONAL - provisional figures (CSP england_ks4provisional 2024/25 via calvinchankf).

Same standing: the later import wins (a corrected re-release of the same standing), and the run's notes
say how many values it replaced and from which source. A lower standing never overwrites a higher one:
those values are left alone and counted in the run's notes.
"""

from __future__ import annotations

import polars as pl

from beacon.core.frames import fetch_rows

PROVISIONAL, FINAL, ORIGINAL = 1, 2, 3
STANDING_LABELS = {PROVISIONAL: "provisional", FINAL: "final", ORIGINAL: "final, DfE published columns"}

# Source key -> standing. Sources not listed are FINAL.
STANDING: dict[str, int] = {
    "ks4_results_provisional": PROVISIONAL,
    "ks4_results_csp_prev_years": ORIGINAL,
    "school_census": ORIGINAL,
}


def standing(source_key: str | None) -> int:
    return STANDING.get(source_key or "", FINAL)


def standing_label(source_key: str | None) -> str:
    return STANDING_LABELS[standing(source_key)]


def is_provisional(source_key: str | None) -> bool:
    return standing(source_key) == PROVISIONAL


# Up to this many schools in a file, the values already held are read for those schools only (an IN list);
# beyond it, for every school (a national file covers most of the register).
FEW_SCHOOLS = 2000


def apply_precedence(rows: pl.DataFrame, source_key: str) -> tuple[pl.DataFrame, list[str]]:
    """Drop the rows a higher-standing source already holds.

    `rows` has integer columns school_id, measure_id, year (plus the values). Returns the rows to write
    and notes naming what was kept and what was replaced.
    """
    from beacon.indicators.models import SchoolMeasure

    if rows.height == 0:
        return rows, []
    measure_ids = rows["measure_id"].unique().to_list()
    years = rows["year"].unique().to_list()
    held_qs = SchoolMeasure.objects.filter(measure_id__in=measure_ids, year__in=years)
    school_ids = rows["school_id"].unique()
    if school_ids.len() <= FEW_SCHOOLS:  # an LA's file: its schools only, not every school's values
        held_qs = held_qs.filter(school_id__in=school_ids.to_list())
    held = fetch_rows(  # straight from the cursor: a national file's measures hold 100,000s of values
        held_qs.exclude(source_run__source=source_key)
        .order_by()
        .values_list("school_id", "measure_id", "year", "source_run__source")
    )
    if not held:
        return rows, []
    existing = pl.DataFrame(
        held,
        schema={"school_id": pl.Int64, "measure_id": pl.Int64, "year": pl.Int64, "held_source": pl.Utf8},
        orient="row",
    ).with_columns(
        pl.col("held_source")
        .fill_null("")
        .replace_strict(STANDING, default=FINAL, return_dtype=pl.Int64)
        .alias("held_standing")
    )
    mine = standing(source_key)
    joined = rows.join(existing, on=["school_id", "measure_id", "year"], how="left")
    outranked = joined.filter(pl.col("held_standing") > mine)
    notes: list[str] = []
    for (src,), part in outranked.group_by(["held_source"], maintain_order=True):
        notes.append(
            f"{part.height} values were not imported: '{src}' ({standing_label(str(src))}) already holds them "
            f"and this file is {standing_label(source_key)} (see decision 0014)."
        )
    replaced = joined.filter(pl.col("held_standing").is_not_null() & (pl.col("held_standing") <= mine))
    for (src,), part in replaced.group_by(["held_source"], maintain_order=True):
        why = (
            "which outranks them"
            if standing(str(src)) < mine
            else "of the same standing: the later import wins"
        )
        notes.append(
            f"{part.height} values from '{src}' ({standing_label(str(src))}) were replaced by this file "
            f"({standing_label(source_key)}, {why})."
        )
    keep = joined.filter(pl.col("held_standing").is_null() | (pl.col("held_standing") <= mine))
    return keep.select(rows.columns), notes
