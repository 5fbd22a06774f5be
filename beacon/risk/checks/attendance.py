"""Absence against the median of same-phase schools.

Check: `absence_high` (Camden viii, secondary 5)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import polars as pl

from beacon.risk.checks.base import (
    ENGLAND,
    Details,
    _evidence_rows,
    _label,
    _ok,
    _windowed,
    area_series,
    combine,
    fixed,
    item_frame,
    measure_keys,
    series,
    with_formatted,
    year_label,
)
from beacon.risk.models import Outcome

if TYPE_CHECKING:
    from beacon.risk.services import Frames


def check_absence_high(fr: Frames, p: dict[str, Any], schools: pl.DataFrame) -> pl.DataFrame:
    """Latest absence vs the median of same-phase schools held (the strategy's "median for absence").

    The median is over the state-funded schools of the same phase held for that year: every school in
    England when the national files are loaded, the LA's schools otherwise (said in the evidence). With
    fewer than `min_schools_for_median` such schools, England's published rate is used and said so."""
    om, pm = float(p.get("overall_margin", 1.0)), float(p.get("persistent_margin", 5.0))
    min_las = int(p.get("min_las_for_national_median", 20))
    min_schools = int(p.get("min_schools_for_median", 5))
    peers = fr.peers if fr.peers is not None else fr.schools.select("school_id", "phase", "la_code")
    held = fr.school_measures.filter(pl.col("measure").is_in(["absence_overall", "absence_persistent"]))
    las_held = (
        held.select("school_id")
        .unique()
        .join(peers.select("school_id", "la_code"), on="school_id", how="inner")["la_code"]
        .n_unique()
    )
    scope_word = (
        "in England" if las_held >= min_las else "in the LA" if las_held == 1 else f"in {las_held} LAs"
    )
    parts = []
    for m, margin in (("absence_overall", om), ("absence_persistent", pm)):
        s = series(fr, m).join(peers, on="school_id", how="inner")
        medians = (
            s.filter(pl.col("ok"))
            .group_by("phase", "year")
            .agg(pl.col("value").median().alias("median"), pl.len().alias("n_schools"))
        )
        mine = _windowed(s.filter(pl.col("school_id").is_in(schools["school_id"].implode())), 1)
        mine = mine.join(medians, on=["phase", "year"], how="left")
        mine = mine.join(area_series(fr, m, ENGLAND).rename({"bench": "england"}), on="year", how="left")
        la = fr.area_measures.filter((pl.col("measure") == m) & _ok()).select(
            pl.col("area_code").alias("la_code"), "year", pl.col("value").alias("la_rate")
        )
        mine = mine.join(fr.schools.select("school_id", "la_code"), on="school_id", how="left").join(
            la, on=["la_code", "year"], how="left"
        )
        use_median = pl.col("n_schools").fill_null(0) >= min_schools
        mine = mine.with_columns(
            pl.when(use_median).then(pl.col("median")).otherwise(pl.col("england")).alias("bench"),
            use_median.alias("is_median"),
        ).with_columns(
            pl.when(~pl.col("ok") | pl.col("bench").is_null())
            .then(pl.lit(Outcome.NO_EVIDENCE.value))
            .when(pl.col("value") > pl.col("bench") + margin)
            .then(pl.lit(Outcome.MET.value))
            .otherwise(pl.lit(Outcome.NOT_MET.value))
            .alias("outcome")
        )
        parts.append(_absence_items(mine, m, margin, min_schools, scope_word))
    return _evidence_rows(fr, combine(parts, schools), "No school-level absence data is held.")


def _absence_items(mine: pl.DataFrame, m: str, margin: float, min_schools: int, scope_word: str) -> Details:
    """One evidence item per school from its latest year (`mine`), built in polars (decision 0030)."""
    for column in ("value", "bench", "la_rate"):
        mine = with_formatted(mine, column, fixed(1), f"{column}_text")
    o = pl.col("outcome")
    phase = pl.col("phase").fill_null("")
    bench_label = (
        pl.when(pl.col("is_median"))
        .then(
            pl.concat_str(
                pl.lit("the median of "),
                pl.col("n_schools").cast(pl.Utf8),
                pl.lit(" "),
                phase.str.replace_all("_", "-", literal=True),
                pl.lit(f" schools {scope_word}"),
            )
        )
        .otherwise(
            pl.concat_str(
                pl.lit(f"England's rate (fewer than {min_schools} "),
                phase,
                pl.lit(" schools held for a median)"),
            )
        )
    )
    head = pl.concat_str(pl.lit(f"{_label(m)} "), year_label(pl.col("year")), pl.lit(": "))
    text = (
        pl.when(o == Outcome.NO_EVIDENCE.value)
        .then(pl.concat_str(head, pl.col("status").str.replace_all("_", " ", literal=True), pl.lit(".")))
        .otherwise(
            pl.concat_str(
                head,
                "value_text",
                pl.lit("% vs "),
                bench_label,
                pl.lit(" "),
                "bench_text",
                pl.lit(f"% (margin {margin:g})"),
                pl.when(pl.col("la_rate").is_not_null())
                .then(pl.concat_str(pl.lit(", LA "), "la_rate_text", pl.lit("%")))
                .otherwise(pl.lit("")),
                pl.when(o == Outcome.MET.value).then(pl.lit("; significantly above.")).otherwise(pl.lit(".")),
            )
        )
    )
    return item_frame(
        mine.with_columns(text.alias("explanation")),
        fields={
            "measure": pl.lit(m),
            "years": pl.concat_list("year"),
            "values": pl.concat_list("value"),
            "status": pl.col("status"),
            "benchmark": pl.col("bench"),
            "benchmark_kind": pl.when(pl.col("is_median"))
            .then(pl.lit("median_same_phase"))
            .otherwise(pl.lit("england")),
            "median_schools": pl.col("n_schools"),
            "median_scope": pl.lit(scope_word),
            "england": pl.col("england"),
            "la": pl.col("la_rate"),
            "explanation": pl.col("explanation"),
        },
        newest=pl.when(pl.col("value").is_not_null()).then(pl.col("year")),
        data_items=measure_keys(m, pl.concat_list("year")),
    )
