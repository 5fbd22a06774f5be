"""The figures the register's census files carry, and the reads of them the register's importers need.

The school census (2022/23) and the CSP census (January 2025) are registered by schools (their rows create
and update the register); the measures in them belong here. `IndicatorsConfig.ready` hands these functions
to `beacon.schools.figures` (decision 0022: a lower app is told, it never imports a higher one).
"""

from __future__ import annotations

import polars as pl

from beacon.imports.framework import ImportContext, LoadResult, model_frame
from beacon.indicators.models import Area, AreaType, SchoolMeasure, ValueStatus
from beacon.indicators.services import save_school_measures, wide_to_long
from beacon.schools.figures import Figures

# The CSP census's percentage columns and the measure each records (the same codes as the other censuses).
CSP_CENSUS_MEASURES = {
    "pupils": "pupils",
    "sen_ehcp": "sen_ehcp",
    "sen_support": "sen_support",
    "eal": "eal",
    "fsm_ever6": "fsm_ever6",
}


def school_census_measures(df: pl.DataFrame, ctx: ImportContext) -> LoadResult:
    """Pupils, % FSM and % EAL of the school census (school-level underlying data)."""
    year = pl.col("time_period") // 100  # 202223 -> 2022 (census taken January 2023, academic year 2022/23)
    measures = save_school_measures(
        wide_to_long(df, {"pupils": "pupils", "fsm": "fsm", "eal": "eal"}, year=year), ctx
    )
    return LoadResult(
        inserted=measures.inserted,
        updated=measures.updated,
        skipped=measures.skipped,
        notes=[
            *measures.notes,
            f"Context measures: {measures.inserted} added, {measures.updated} updated.",
        ],
    )


def csp_census_measures(df: pl.DataFrame, ctx: ImportContext) -> LoadResult:
    """Pupils (NOR), % EHC plan, % SEN support, % EAL and % disadvantaged of the CSP census, for the run's year."""
    # FSM ever 6 where its base (NORFSMEVER) is 'NA': the file prints 0.00%, which is not a figure.
    no_base = pl.col("fsm_ever6_base__status") == ValueStatus.NOT_APPLICABLE
    df = df.with_columns(
        pl.when(no_base).then(None).otherwise(pl.col("fsm_ever6")).alias("fsm_ever6"),
        pl.when(no_base)
        .then(pl.lit(ValueStatus.NOT_AVAILABLE.value))
        .otherwise(pl.col("fsm_ever6__status"))
        .alias("fsm_ever6__status"),
    )
    parts = []
    for col, code in CSP_CENSUS_MEASURES.items():
        part = df.select(
            "urn",
            pl.lit(code).alias("measure"),
            pl.lit(ctx.year, dtype=pl.Int64).alias("year"),
            pl.col(col).cast(pl.Float64).round(6).alias("value"),
            pl.col(f"{col}__status").alias("status"),
        )
        parts.append(part.filter(pl.col("status") != ValueStatus.MISSING))
    measures = save_school_measures(pl.concat(parts), ctx)
    return LoadResult(
        inserted=measures.inserted,
        updated=measures.updated,
        skipped=measures.skipped,
        notes=[*measures.notes, f"Census measures: {measures.inserted} added, {measures.updated} updated."],
    )


CENSUS_WRITERS = {
    "school_census": school_census_measures,
    "csp_census_register": csp_census_measures,
}


def write_census(source_key: str, df: pl.DataFrame, ctx: ImportContext) -> LoadResult:
    return CENSUS_WRITERS[source_key](df, ctx)


def area_name(code: int) -> str | None:
    return Area.objects.filter(code=code).values_list("name", flat=True).first()


def la_names() -> dict[int, str]:
    return dict(Area.objects.filter(area_type=AreaType.LA).values_list("code", "name"))


def headcounts() -> pl.DataFrame:
    return model_frame(
        SchoolMeasure.objects.filter(measure__code="pupils"), ["school_id", "year", "value", "status"]
    )


FIGURES = Figures(
    write_census=write_census,
    area_name=area_name,
    la_names=la_names,
    headcounts=headcounts,
)
