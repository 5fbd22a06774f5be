"""Writing measure values. Every school- and area-level importer ends here."""

from __future__ import annotations

import polars as pl

from beacon.imports.framework import ImportContext, LoadResult, upsert_rows
from beacon.indicators.catalogue import ensure_measures
from beacon.indicators.models import AreaMeasure, SchoolMeasure
from beacon.indicators.precedence import apply_precedence
from beacon.schools.lookup import school_ids_by_urn

LONG_COLUMNS = ("urn", "measure", "year", "value", "status")


def wide_to_long(df: pl.DataFrame, measure_columns: dict[str, str], *, year: int | pl.Expr) -> pl.DataFrame:
    """Turn parsed source columns into (urn, measure, year, value, status) rows.

    `measure_columns` maps a parsed number column to a catalogue code. Its `<col>__status` companion
    (from framework.validate) travels with it.
    """
    year_expr = year if isinstance(year, pl.Expr) else pl.lit(year)
    parts = [
        df.select(
            pl.col("urn").cast(pl.Int64),
            pl.lit(code).alias("measure"),
            year_expr.cast(pl.Int64).alias("year"),
            pl.col(col).cast(pl.Float64).alias("value"),
            pl.col(f"{col}__status").alias("status"),
        )
        for col, code in measure_columns.items()
    ]
    return pl.concat(parts) if parts else pl.DataFrame(schema=dict.fromkeys(LONG_COLUMNS, pl.Utf8))


def save_school_measures(long: pl.DataFrame, ctx: ImportContext) -> LoadResult:
    """Upsert school values. Rows for schools not in the register are skipped and counted."""
    measure_ids = ensure_measures()
    unknown_measures = set(long["measure"].unique().to_list()) - set(measure_ids)
    if unknown_measures:
        raise ValueError(f"Measures not in the catalogue: {sorted(unknown_measures)}")
    long = long.filter(pl.col("urn").is_not_null())
    schools = school_ids_by_urn()
    known = long.filter(pl.col("urn").is_in(list(schools)))
    skipped_rows = long.height - known.height
    ids = known.select(
        pl.col("urn").replace_strict(schools, return_dtype=pl.Int64).alias("school_id"),
        pl.col("measure").replace_strict(measure_ids, return_dtype=pl.Int64).alias("measure_id"),
        pl.col("year").cast(pl.Int64),
        pl.col("value").cast(pl.Float64),
        pl.col("status"),
        pl.lit(ctx.run.pk, dtype=pl.Int64).alias("run_id"),
    )
    # A file never overwrites a value from a source of higher standing (decision 0014).
    ids, precedence_notes = apply_precedence(ids, ctx.run.source)
    # In key order: the unique index then grows at its end instead of at random pages.
    ids = ids.sort("school_id", "measure_id", "year", maintain_order=True)
    inserted, updated = upsert_rows(
        SchoolMeasure,
        ["school", "measure", "year", "value", "status", "source_run"],
        ids,
        unique_fields=["school", "measure", "year"],
        update_fields=["value", "status", "source_run"],
        ctx=ctx,
        total=ids.height,
    )
    notes = list(precedence_notes)
    if skipped_rows:
        notes.append(f"{skipped_rows} values were for schools not in the register and were not imported.")
    return LoadResult(inserted=inserted, updated=updated, skipped=skipped_rows, notes=notes)


def save_area_measures(long: pl.DataFrame, ctx: ImportContext) -> LoadResult:
    """Upsert area values from (area_id, measure, year, period_label, value, status) rows."""
    measure_ids = ensure_measures()
    rows = long.select(
        pl.col("area_id").cast(pl.Int64),
        pl.col("measure").replace_strict(measure_ids, return_dtype=pl.Int64),
        pl.col("year").cast(pl.Int64),
        pl.col("period_label").fill_null(""),
        pl.col("value").cast(pl.Float64),
        pl.col("status"),
        pl.lit(ctx.run.pk, dtype=pl.Int64),
    )
    inserted, updated = upsert_rows(
        AreaMeasure,
        ["area", "measure", "year", "period_label", "value", "status", "source_run"],
        rows,
        unique_fields=["area", "measure", "year"],
        update_fields=["value", "status", "period_label", "source_run"],
        ctx=ctx,
        total=rows.height,
    )
    return LoadResult(inserted=inserted, updated=updated)
