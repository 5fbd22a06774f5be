"""Suspensions: high against England and rising.

Check: `suspensions_high_rising` (Camden vii)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import polars as pl

from beacon.risk.checks.base import (
    ENGLAND,
    _detail_frame,
    _evidence_rows,
    _windowed,
    area_series,
    combine,
    named_rows,
    series,
)
from beacon.risk.models import Outcome

if TYPE_CHECKING:
    from beacon.risk.services import Frames


def check_suspensions(fr: Frames, p: dict[str, Any], schools: pl.DataFrame) -> pl.DataFrame:
    m, factor = p.get("measure", "suspension_rate"), float(p.get("factor", 1.5))
    s = series(fr, m).filter(pl.col("school_id").is_in(schools["school_id"].implode()) & pl.col("ok"))
    s = _windowed(s, 2).join(area_series(fr, m, ENGLAND), on="year", how="left")
    agg = s.group_by("school_id").agg(
        pl.len().alias("n"),
        pl.col("year"),
        pl.col("value"),
        pl.col("bench"),
        (pl.col("value").last() > pl.col("bench").last() * factor).alias("high"),
        (pl.col("value").last() > pl.col("value").first()).alias("rising"),
    )
    agg = agg.with_columns(
        pl.when((pl.col("n") < 2) | pl.col("high").is_null())
        .then(pl.lit(Outcome.NO_EVIDENCE.value))
        .when(pl.col("high") & pl.col("rising"))
        .then(pl.lit(Outcome.MET.value))
        .otherwise(pl.lit(Outcome.NOT_MET.value))
        .alias("outcome")
    )
    rows = [
        (
            r["school_id"],
            r["outcome"],
            {
                "measure": m,
                "years": r["year"],
                "values": r["value"],
                "benchmark": r["bench"],
                "explanation": f"Suspensions per 100 pupils {r['value']} vs England x{factor:g} {r['bench']}.",
            },
        )
        for r in named_rows(agg)
    ]
    return _evidence_rows(
        fr,
        combine([_detail_frame(rows)], schools),
        "No school-level suspension data is held (LAIT has LA rates only).",
    )
