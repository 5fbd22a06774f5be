"""Absence against the median of same-phase schools.

Check: `absence_high` (Camden viii, secondary 5)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import polars as pl

from beacon.core.terms import academic_year_label
from beacon.risk.checks.base import (
    ENGLAND,
    _detail_frame,
    _evidence_rows,
    _label,
    _ok,
    _windowed,
    area_series,
    combine,
    named_rows,
    series,
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
        rows = []
        for r in named_rows(mine):
            o = r["outcome"]
            year = academic_year_label(r["year"])
            if r["is_median"]:
                bench_label = (
                    f"the median of {r['n_schools']} {r['phase'].replace('_', '-')} schools {scope_word}"
                )
            else:
                bench_label = (
                    f"England's rate (fewer than {min_schools} {r['phase']} schools held for a median)"
                )
            if o == Outcome.NO_EVIDENCE:
                text = f"{_label(m)} {year}: {r['status'].replace('_', ' ')}."
            else:
                text = (
                    f"{_label(m)} {year}: {r['value']:.1f}% vs {bench_label} "
                    f"{r['bench']:.1f}% (margin {margin:g})"
                    + (f", LA {r['la_rate']:.1f}%" if r["la_rate"] is not None else "")
                    + ("; significantly above." if o == Outcome.MET else ".")
                )
            rows.append(
                (
                    r["school_id"],
                    o,
                    {
                        "measure": m,
                        "years": [r["year"]],
                        "values": [r["value"]],
                        "status": r["status"],
                        "benchmark": r["bench"],
                        "benchmark_kind": "median_same_phase" if r["is_median"] else "england",
                        "median_schools": r["n_schools"],
                        "median_scope": scope_word,
                        "england": r["england"],
                        "la": r["la_rate"],
                        "explanation": text,
                    },
                )
            )
        parts.append(_detail_frame(rows))
    return _evidence_rows(fr, combine(parts, schools), "No school-level absence data is held.")
