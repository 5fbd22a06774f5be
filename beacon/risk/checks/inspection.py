"""The latest graded inspection: overall effectiveness, evaluation areas / key judgements, safeguarding.

Checks: `ofsted_below` (Camden i and ix; Cambridgeshire amber / red 7), `safeguarding_not_met` (Camden x e)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import polars as pl

from beacon.inspections.models import Framework, OverallEffectiveness
from beacon.risk.checks.base import (
    _detail_frame,
    _evidence_rows,
    combine,
    named_rows,
)
from beacon.risk.models import Outcome

if TYPE_CHECKING:
    from beacon.risk.services import Frames


def _latest_graded(fr: Frames, schools: pl.DataFrame) -> pl.DataFrame:
    """The latest graded inspection per school: a report card, or a legacy one with an overall grade."""
    i = fr.inspections.filter(pl.col("school_id").is_in(schools["school_id"].implode()))
    # Graded inspections from September 2024 carry no overall grade ('Not judged'), only key judgements.
    sub_graded = fr.grades.filter(~pl.col("not_applicable") & pl.col("grade").is_not_null())["inspection_id"]
    graded = i.filter(
        (pl.col("framework") == Framework.REPORT_CARD.value)
        | (
            (pl.col("framework") == Framework.LEGACY.value)
            & (pl.col("overall").is_not_null() | pl.col("inspection_id").is_in(sub_graded.implode()))
        )
    )
    return graded.sort("start_date").group_by("school_id").agg(pl.all().last())


def check_ofsted_below(fr: Frames, p: dict[str, Any], schools: pl.DataFrame) -> pl.DataFrame:
    legacy_in = [int(x) for x in p.get("legacy_overall_in", [3, 4])]
    rc_in = [int(x) for x in p.get("report_card_grades_in", [1, 2])]
    area_in = [int(x) for x in p.get("legacy_area_grades_in", [])] if p.get("scope") == "areas" else []
    # No overall grade (graded inspections from September 2024): the key-judgement sub-grades are read.
    sub_in = [int(x) for x in p.get("legacy_subgrades_in_without_overall", legacy_in)]
    latest = _latest_graded(fr, schools)
    g = fr.grades.filter(~pl.col("not_applicable") & pl.col("grade").is_not_null())
    g = g.join(latest.select("inspection_id", "framework", "overall"), on="inspection_id", how="inner")
    bad_area = (
        pl.when(pl.col("framework") == Framework.REPORT_CARD.value)
        .then(pl.col("grade").is_in(rc_in))
        .when(pl.col("overall").is_null())
        .then(pl.col("grade").is_in(sub_in))
        .otherwise(pl.col("grade").is_in(area_in))
    )
    flagged = g.filter(bad_area).group_by("inspection_id").agg(pl.col("area"), pl.col("grade"))
    grades = g.group_by("inspection_id").agg(pl.struct("area", "grade").alias("all_grades"))
    latest = latest.join(flagged, on="inspection_id", how="left").join(grades, on="inspection_id", how="left")
    rows = []
    for r in named_rows(latest):
        areas = r["area"] or []
        when = r["start_date"].isoformat()
        keys = [f"inspection:{when}:{a}" for a in areas]
        if r["framework"] == Framework.LEGACY.value and r["overall"] is None:
            met = bool(areas)
            listed = ", ".join(
                f"{str(x['area']).replace('_', ' ')} {OverallEffectiveness(x['grade']).label.lower()}"
                for x in r["all_grades"] or []
                if x["grade"] in (1, 2, 3, 4)
            )
            text = (
                f"Latest graded inspection {when}: overall effectiveness not judged (inspections from "
                f"September 2024); key judgements: {listed or 'none held'}"
                + (f"; below good: {', '.join(a.replace('_', ' ') for a in areas)}." if areas else ".")
            )
        elif r["framework"] == Framework.LEGACY.value:
            overall_bad = r["overall"] in legacy_in
            met = overall_bad or bool(areas)
            if overall_bad:
                keys = [f"inspection:{when}:overall", *keys]
            word = OverallEffectiveness(r["overall"]).label if r["overall"] in (1, 2, 3, 4) else "not judged"
            text = f"Latest graded inspection {when} (legacy): overall effectiveness {word.lower()}" + (
                f"; key judgements below good: {', '.join(areas)}." if areas else "."
            )
        else:
            met = bool(areas)
            text = f"Latest report card {when}: " + (
                f"{', '.join(a.replace('_', ' ') for a in areas)} at needs attention or worse."
                if areas
                else "no evaluation area at needs attention or worse."
            )
        rows.append(
            (
                r["school_id"],
                Outcome.MET.value if met else Outcome.NOT_MET.value,
                {
                    "inspection_date": when,
                    "framework": r["framework"],
                    "overall": r["overall"],
                    "areas_flagged": areas,
                    "grades": r["all_grades"] or [],
                    "data_items": keys,
                    "explanation": text,
                },
            )
        )
    return _evidence_rows(
        fr, combine([_detail_frame(rows)], schools), "No graded inspection is held for this school."
    )


def check_safeguarding(fr: Frames, p: dict[str, Any], schools: pl.DataFrame) -> pl.DataFrame:
    i = fr.inspections.filter(
        pl.col("school_id").is_in(schools["school_id"].implode()) & pl.col("safeguarding_met").is_not_null()
    )
    latest = i.sort("start_date").group_by("school_id").agg(pl.all().last())
    rows = [
        (
            r["school_id"],
            Outcome.NOT_MET.value if r["safeguarding_met"] else Outcome.MET.value,
            {
                "inspection_date": r["start_date"].isoformat(),
                "framework": r["framework"],
                "safeguarding_met": r["safeguarding_met"],
                "explanation": f"Inspection {r['start_date'].isoformat()}: safeguarding "
                + ("met." if r["safeguarding_met"] else "NOT met."),
            },
        )
        for r in named_rows(latest)
    ]
    return _evidence_rows(
        fr, combine([_detail_frame(rows)], schools), "No inspection with a safeguarding judgement is held."
    )
