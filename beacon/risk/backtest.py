"""Backtest: run the rules as they would have run in an earlier year, then check against the
inspections that followed.

For `--year Y` (an academic year by its start, 2017 = 2017/18) the rules see school results up to
Y only and inspections before 1 September Y+1 - exactly the autumn term of Y+1
(`Term.data_year == Y`, `Term.start_date == 1 September Y+1`). The outcome for a school is its first
graded inspection on or after that date within the horizon: below good = legacy overall
effectiveness requires improvement / inadequate, or a report card with any area at needs attention
or urgent improvement.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from beacon.inspections.models import Framework, Inspection, InspectionGrade
from beacon.risk.models import Rulebook, Term
from beacon.risk.selectors import risk_score_frame
from beacon.risk.services import EvaluationSummary, evaluate


@dataclass
class BacktestRow:
    label: str
    flagged: int
    inspected_flagged: int
    hits: int
    precision: float
    recall: float


@dataclass
class Backtest:
    year: int
    cutoff: dt.date
    until: dt.date
    schools: int
    inspected: int
    below_good: int
    rows: list[BacktestRow]
    summary: EvaluationSummary

    @property
    def base_rate(self) -> float:
        return self.below_good / self.inspected if self.inspected else 0.0

    def table(self) -> str:
        out = [
            f"Backtest {self.year}/{(self.year + 1) % 100:02d}: rules on results up to {self.year}/"
            f"{(self.year + 1) % 100:02d} and inspections before {self.cutoff}; outcomes = first graded "
            f"inspection {self.cutoff} to {self.until}.",
            f"Schools evaluated: {self.schools}; inspected afterwards: {self.inspected}; judged below good: "
            f"{self.below_good} (base rate {self.base_rate:.1%}).",
            "",
            f"{'flag':<28} {'flagged':>8} {'inspected':>10} {'below good':>11} {'precision':>10} {'recall':>8}",
        ]
        for r in self.rows:
            out.append(
                f"{r.label:<28} {r.flagged:>8} {r.inspected_flagged:>10} {r.hits:>11} "
                f"{r.precision:>10.1%} {r.recall:>8.1%}"
            )
        return "\n".join(out)


def outcomes(cutoff: dt.date, until: dt.date) -> pl.DataFrame:
    """school_id, below_good for each school's first graded inspection in [cutoff, until]."""
    rows = list(
        Inspection.objects.filter(start_date__gte=cutoff, start_date__lte=until)
        .graded()
        .values_list("id", "school_id", "framework", "start_date", "overall_effectiveness")
    )
    insp = pl.DataFrame(
        rows,
        schema={
            "inspection_id": pl.Int64,
            "school_id": pl.Int64,
            "framework": pl.Utf8,
            "start_date": pl.Date,
            "overall": pl.Int64,
        },
        orient="row",
    ).filter((pl.col("framework") == Framework.REPORT_CARD.value) | pl.col("overall").is_not_null())
    low_areas = set(
        InspectionGrade.objects.filter(
            inspection__framework=Framework.REPORT_CARD,
            inspection__start_date__gte=cutoff,
            grade__in=[1, 2],
            not_applicable=False,
        ).values_list("inspection_id", flat=True)
    )
    first = insp.sort("start_date").group_by("school_id").agg(pl.all().first())
    return first.select(
        "school_id",
        pl.when(pl.col("framework") == Framework.REPORT_CARD.value)
        .then(pl.col("inspection_id").is_in(list(low_areas)))
        .otherwise(pl.col("overall") >= 3)
        .alias("below_good"),
    )


def run_backtest(year: int, *, rulebook: Rulebook | None = None, horizon_years: int = 3) -> Backtest:
    term, _ = Term.objects.get_or_create(academic_year=year + 1, term="autumn")
    summary = evaluate(term, rulebook)
    scores = risk_score_frame(term, rulebook)
    cutoff = term.start_date
    until = dt.date(cutoff.year + horizon_years, cutoff.month, cutoff.day)
    out = outcomes(cutoff, until)
    df = scores.join(out, on="school_id", how="left")
    n = df.height
    inspected = df.filter(pl.col("below_good").is_not_null())
    below = int(inspected["below_good"].sum())
    rows: list[BacktestRow] = []

    def add(label: str, flagged: pl.Series) -> None:
        f = df.with_columns(flagged.alias("flag"))
        fi = f.filter(pl.col("flag") & pl.col("below_good").is_not_null())
        hits = int(fi["below_good"].sum())
        rows.append(
            BacktestRow(
                label=label,
                flagged=int(f["flag"].sum()),
                inspected_flagged=fi.height,
                hits=hits,
                precision=hits / fi.height if fi.height else 0.0,
                recall=hits / below if below else 0.0,
            )
        )

    for share in (0.10, 0.20):
        k = round(n * share)
        add(f"top {share:.0%} riskiest (k={k})", df["rank"] <= k)
    add("any criterion met", df["met"] > 0)
    ofsted_codes = {"A-i", "A-ix"}
    add(
        "prior Ofsted below good only",
        df["met_codes"].list.eval(pl.element().is_in(list(ofsted_codes))).list.any(),
    )
    add(
        "data (non-Ofsted) met",
        df["met_codes"].list.eval(~pl.element().is_in(list(ofsted_codes))).list.any(),
    )
    return Backtest(
        year=year,
        cutoff=cutoff,
        until=until,
        schools=n,
        inspected=inspected.height,
        below_good=below,
        rows=rows,
        summary=summary,
    )
