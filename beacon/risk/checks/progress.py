"""Results over time: declining results and a widening disadvantage gap.

Checks: `declining` (Camden iii; Cambridgeshire amber / red 4), `gap_widening` (Camden secondary 3,
primary 3; Cambridgeshire amber / red 6)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import polars as pl

from beacon.risk.checks.attainment import _with_similar
from beacon.risk.checks.base import (
    COMPARATOR_AREAS,
    Details,
    _detail_frame,
    _evidence_rows,
    _formatter,
    _high_good,
    _label,
    _windowed,
    area_series,
    combine,
    fixed,
    item_frame,
    measure_keys,
    named_rows,
    series,
    with_formatted,
)
from beacon.risk.models import Outcome

if TYPE_CHECKING:
    from beacon.risk.services import Frames


def check_declining(fr: Frames, p: dict[str, Any], schools: pl.DataFrame) -> pl.DataFrame:
    """Falling over the school's latest `years` published years (strict: every year lower)."""
    years, min_cohort, strict = int(p.get("years", 3)), p.get("min_cohort", 0), bool(p.get("strict", True))
    parts = []
    for spec in p["measures"]:
        m = spec["measure"]
        sign = 1.0 if _high_good(m) else -1.0
        s = series(fr, m, spec.get("cohort", "")).filter(
            pl.col("school_id").is_in(schools["school_id"].implode()) & pl.col("ok")
        )
        s = with_formatted(_with_similar(fr, _windowed(s, years), p, m), "value", _formatter(m), "value_text")
        s = s.with_columns(
            pl.concat_str((pl.col("year") + 1).cast(pl.Utf8), pl.lit(": "), "value_text").alias("pair")
        )
        agg = s.group_by("school_id").agg(
            pl.col("pair").str.join(", ").alias("pairs"),
            pl.col("year").filter(pl.col("value").is_not_null()).max().alias("newest"),
            pl.col("progress_ok").last().alias("progress_latest"),
            pl.col("similar").last().alias("similar_latest"),
            pl.col("similar_n").last().alias("similar_n_latest"),
            pl.len().alias("n"),
            pl.col("year"),
            pl.col("value"),
            pl.col("cohort"),
            pl.col("cohort").last().alias("cohort_latest"),
            ((pl.col("value").first() - pl.col("value").last()) * sign).alias("drop"),
            ((pl.col("value").diff().drop_nulls() * sign) <= 0).all().alias("monotone"),
        )
        min_drop = float(spec.get("min_drop", 0))
        falling = (pl.col("drop") >= min_drop) & (pl.col("monotone") if strict else pl.lit(True))
        # Latest year without a published progress score: the decline counts only where the school is
        # also below the schools with a similar intake that year (when there are enough to compare).
        below_similar = (
            (pl.col("value").list.last() < pl.col("similar_latest"))
            if _high_good(m)
            else (pl.col("value").list.last() > pl.col("similar_latest"))
        )
        falling = falling & (pl.col("progress_latest") | pl.col("similar_latest").is_null() | below_similar)
        agg = agg.with_columns(
            pl.when(pl.col("n") < years)
            .then(pl.lit(Outcome.NO_EVIDENCE.value))
            .when(pl.col("cohort_latest").is_not_null() & (pl.col("cohort_latest") < min_cohort))
            .then(pl.lit(Outcome.LOW_CONFIDENCE.value))
            .when(falling)
            .then(pl.lit(Outcome.MET.value))
            .otherwise(pl.lit(Outcome.NOT_MET.value))
            .alias("outcome")
        )
        parts.append(_declining_items(agg, m, years, min_cohort, min_drop))
    return _evidence_rows(fr, combine(parts, schools), "No published results to show a trend.")


def _declining_items(agg: pl.DataFrame, m: str, years: int, min_cohort: Any, min_drop: float) -> Details:
    """One evidence item per school and measure, built in polars (decision 0030)."""
    agg = with_formatted(agg, "similar_latest", _formatter(m), "similar_text")
    agg = with_formatted(agg, "drop", fixed(1), "drop_text")
    agg = with_formatted(agg, "cohort_latest", fixed(0), "cohort_text")
    o, name, pairs = pl.col("outcome"), _label(m), pl.col("pairs")
    text = (
        pl.when(o == Outcome.NO_EVIDENCE.value)
        .then(pl.concat_str(pl.lit(f"{name}: fewer than {years} published years ("), pairs, pl.lit(").")))
        .when(o == Outcome.LOW_CONFIDENCE.value)
        .then(
            pl.concat_str(
                pl.lit(f"{name}: cohort of "),
                "cohort_text",
                pl.lit(f" under {min_cohort}, not judged ("),
                pairs,
                pl.lit(")."),
            )
        )
        .when(o == Outcome.MET.value)
        .then(
            pl.concat_str(
                pl.lit(f"{name} declined by "),
                "drop_text",
                pl.lit(f" over {years} years ("),
                pairs,
                pl.lit(")."),
            )
        )
        .otherwise(
            pl.concat_str(pl.lit(f"{name} did not decline by {min_drop:g} or more ("), pairs, pl.lit(")."))
        )
    )
    similar = (
        pl.when(~pl.col("progress_latest") & pl.col("similar_latest").is_not_null())
        .then(
            pl.concat_str(
                pl.lit(" No progress score published for "),
                (pl.col("year").list.last() + 1).cast(pl.Utf8),
                pl.lit(": the median of "),
                pl.col("similar_n_latest").cast(pl.Utf8),
                pl.lit(" schools with a similar intake was "),
                "similar_text",
                pl.lit("."),
            )
        )
        .otherwise(pl.lit(""))
    )
    return item_frame(
        agg.with_columns(pl.concat_str(text, similar).alias("explanation")),
        fields={
            "measure": pl.lit(m),
            "years": pl.col("year"),
            "values": pl.col("value"),
            "cohort": pl.col("cohort"),
            "drop": pl.col("drop"),
            "min_drop": pl.lit(min_drop, dtype=pl.Float64),
            "progress_published_latest": pl.col("progress_latest"),
            "similar_schools_latest": pl.col("similar_latest"),
            "similar_schools_n": pl.col("similar_n_latest"),
            "explanation": pl.col("explanation"),
        },
        newest=pl.col("newest"),
        data_items=measure_keys(m, pl.col("year")),
    )


def check_gap_widening(fr: Frames, p: dict[str, Any], schools: pl.DataFrame) -> pl.DataFrame:
    """Gap = national other pupils minus the school's disadvantaged pupils; widening over the window."""
    years, min_cohort, widen = int(p.get("years", 3)), p.get("min_cohort", 0), float(p.get("min_widening", 3))
    area = COMPARATOR_AREAS[p.get("comparator", "national")]
    parts = []
    for spec in p["measures"]:
        m, bm = spec["measure"], spec["benchmark_measure"]
        s = series(fr, m, spec.get("cohort", "")).filter(
            pl.col("school_id").is_in(schools["school_id"].implode()) & pl.col("ok")
        )
        s = s.join(area_series(fr, bm, area), on="year", how="inner")
        s = _windowed(s.with_columns((pl.col("bench") - pl.col("value")).alias("gap")), years)
        agg = s.group_by("school_id").agg(
            pl.len().alias("n"),
            pl.col("year"),
            pl.col("value"),
            pl.col("bench"),
            pl.col("gap"),
            pl.col("cohort").last().alias("cohort_latest"),
            (pl.col("gap").last() - pl.col("gap").first()).alias("widening"),
            pl.col("gap").last().alias("gap_latest"),
        )
        agg = agg.with_columns(
            pl.when(pl.col("n") < 2)
            .then(pl.lit(Outcome.NO_EVIDENCE.value))
            .when(pl.col("cohort_latest").is_not_null() & (pl.col("cohort_latest") < min_cohort))
            .then(pl.lit(Outcome.LOW_CONFIDENCE.value))
            .when((pl.col("widening") >= widen) & (pl.col("gap_latest") > 0))
            .then(pl.lit(Outcome.MET.value))
            .otherwise(pl.lit(Outcome.NOT_MET.value))
            .alias("outcome")
        )
        rows = []
        for r in named_rows(agg):
            o = r["outcome"]
            text = (
                f"Gap between the school's disadvantaged pupils ({_label(m)}) and other pupils nationally: "
                + ", ".join(f"{y + 1}: {g:.1f}" for y, g in zip(r["year"], r["gap"], strict=False))
                + (f"; widened by {r['widening']:.1f}." if o == Outcome.MET else ".")
            )
            rows.append(
                (
                    r["school_id"],
                    o,
                    {
                        "measure": m,
                        "benchmark_measure": bm,
                        "years": r["year"],
                        "values": r["value"],
                        "benchmark": r["bench"],
                        "gaps": r["gap"],
                        "explanation": text,
                    },
                )
            )
        parts.append(_detail_frame(rows))
    return _evidence_rows(
        fr,
        combine(parts, schools),
        "No school-level results for disadvantaged pupils are held, so the gap cannot be measured.",
    )
