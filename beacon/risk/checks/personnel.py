"""The school's people and roll, from the register: head-teacher changes and falling rolls.

Checks: `head_change` (Camden xxi a), `falling_rolls` (Camden xxi g)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import polars as pl

from beacon.risk.checks.base import (
    _detail_frame,
    _evidence_rows,
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


def check_head_change(fr: Frames, p: dict[str, Any], schools: pl.DataFrame) -> pl.DataFrame:
    months = int(p.get("months", 24))
    since = dt.datetime.combine(fr.cutoff, dt.time(), tzinfo=dt.UTC) - dt.timedelta(
        days=round(months * 30.44)
    )
    h = (
        fr.heads.filter(pl.col("school_id").is_in(schools["school_id"].implode()))
        .with_columns(pl.col("head_name").str.strip_chars().alias("head_name"))
        .sort("school_id", "history_date")
        .with_columns(
            (
                pl.col("head_name").str.to_lowercase()
                != pl.col("head_name").str.to_lowercase().shift(1).over("school_id")
            )
            .fill_null(False)
            .alias("changed")
        )
    )
    agg = h.group_by("school_id").agg(
        pl.len().alias("n"),
        pl.col("head_name").unique(maintain_order=True).alias("names"),
        pl.col("history_date").filter(pl.col("changed")).alias("change_dates"),
        pl.col("history_date").min().alias("first_seen"),
    )
    rows = []
    for r in named_rows(agg):
        recent = [d for d in r["change_dates"] if d >= since]
        if r["n"] < 2:
            o, text = (
                Outcome.NO_EVIDENCE.value,
                "Only one record of the head's name, so a change cannot be seen.",
            )
        elif recent:
            o = Outcome.MET.value
            text = f"Head changed on {recent[-1].date().isoformat()} (register: {' then '.join(r['names'])})."
        else:
            o = Outcome.NOT_MET.value
            text = f"No change of head in the {months} months before the term ({r['n']} register records)."
        rows.append(
            (
                r["school_id"],
                o,
                {
                    "names": r["names"],
                    "change_dates": [d.isoformat() for d in r["change_dates"]],
                    "explanation": text,
                },
            )
        )
    return _evidence_rows(fr, combine([_detail_frame(rows)], schools), "No head's name is recorded.")


def check_falling_rolls(fr: Frames, p: dict[str, Any], schools: pl.DataFrame) -> pl.DataFrame:
    m, pct, span = p.get("measure", "pupils"), float(p.get("min_fall_pct", 10)), int(p.get("years", 5))
    s = series(fr, m).filter(
        pl.col("school_id").is_in(schools["school_id"].implode()) & pl.col("ok") & (pl.col("value") > 0)
    )
    s = s.with_columns(pl.col("year").max().over("school_id").alias("latest")).filter(
        pl.col("year") >= pl.col("latest") - span
    )
    s = with_formatted(s.sort("year"), "value", fixed(0), "value_text")
    agg = s.group_by("school_id").agg(
        pl.len().alias("n"),
        pl.col("year"),
        pl.col("value"),
        ((pl.col("value").first() - pl.col("value").last()) / pl.col("value").first() * 100).alias("fall"),
        pl.concat_str(pl.lit("January "), (pl.col("year") + 1).cast(pl.Utf8), pl.lit(": "), "value_text")
        .str.join(", ")
        .alias("pairs"),
    )
    agg = agg.with_columns(
        pl.when(pl.col("n") < 2)
        .then(pl.lit(Outcome.NO_EVIDENCE.value))
        .when(pl.col("fall") >= pct)
        .then(pl.lit(Outcome.MET.value))
        .otherwise(pl.lit(Outcome.NOT_MET.value))
        .alias("outcome")
    )
    agg = with_formatted(agg, "fall", fixed(1), "fell")
    agg = with_formatted(agg, "fall", lambda v: fixed(1)(None if v is None else -v), "rose")
    text = (
        pl.when(pl.col("outcome") == Outcome.NO_EVIDENCE.value)
        .then(pl.concat_str(pl.lit("Only one census year held ("), "pairs", pl.lit(").")))
        .otherwise(
            pl.concat_str(
                pl.lit("Pupils on roll "),
                "pairs",
                pl.lit(": "),
                pl.when(pl.col("fall") > 0)
                .then(pl.concat_str(pl.lit("fell "), "fell", pl.lit("%.")))
                .otherwise(pl.concat_str(pl.lit("rose "), "rose", pl.lit("%."))),
            )
        )
    )
    items = item_frame(
        agg.with_columns(text.alias("explanation")),
        fields={
            "measure": pl.lit(m),
            "years": pl.col("year"),
            "values": pl.col("value"),
            "fall_pct": pl.col("fall"),
            "explanation": pl.col("explanation"),
        },
        newest=pl.col("year").list.max(),  # every value held is a roll above 0
        data_items=measure_keys(m, pl.col("year")),
    )
    return _evidence_rows(fr, combine([items], schools), "No pupil numbers are held.")
