"""Read-side functions for Ofsted inspections, for the school pages and the risk engine.

Vocabulary: a *graded* inspection is a legacy (OEIF) inspection with an overall effectiveness judgement
(1 = outstanding ... 4 = inadequate) or a November 2025 *report card* (a five-point grade per evaluation
area, 5 = exceptional ... 1 = urgent improvement, and safeguarding met / not met). An *ungraded*
inspection confirms or questions the standing judgement ('School remains Good') without replacing it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import polars as pl

from beacon.inspections.models import (
    GRADED_FRAMEWORKS,
    EvaluationArea,
    Framework,
    Inspection,
    InspectionGrade,
    OverallEffectiveness,
    ReportCardGrade,
)
from beacon.schools.models import School

# Evaluation areas in the order the report card shows them (legacy key judgements last).
AREA_ORDER: tuple[str, ...] = (
    EvaluationArea.INCLUSION.value,
    EvaluationArea.CURRICULUM.value,
    EvaluationArea.ACHIEVEMENT.value,
    EvaluationArea.ATTENDANCE_BEHAVIOUR.value,
    EvaluationArea.PERSONAL_DEVELOPMENT.value,
    EvaluationArea.EARLY_YEARS.value,
    EvaluationArea.POST16.value,
    EvaluationArea.LEADERSHIP.value,
    EvaluationArea.QUALITY_OF_EDUCATION.value,
    EvaluationArea.BEHAVIOUR_ATTITUDES.value,
    EvaluationArea.LEADERSHIP_MANAGEMENT.value,
)


NO_OVERALL_GRADE = "No overall grade (from September 2024)"
KIND_LABELS: dict[str, str] = {
    Framework.LEGACY.value: "Graded inspection",
    Framework.REPORT_CARD.value: "Report card inspection",
    Framework.UNGRADED.value: "Ungraded inspection",
}


def overall_label(framework: str, overall: int | None, outcome_text: str) -> str | None:
    """A graded inspection's overall judgement as published; 'Not judged' (September 2024 on) becomes
    NO_OVERALL_GRADE, never an invented grade. Report cards have no overall grade by design (None)."""
    if framework != Framework.LEGACY:
        return None
    if overall is not None:
        return OverallEffectiveness(overall).label
    if outcome_text.strip().lower() == "not judged":
        return NO_OVERALL_GRADE
    return outcome_text or None


def _school_id(school: School | int) -> int:
    return school if isinstance(school, int) else school.pk


def latest_inspection(school: School | int, *, graded_only: bool = False) -> Inspection | None:
    """The most recent inspection by start date; on the same date a graded one wins over an ungraded one.

    With `graded_only`, the most recent report card or legacy graded inspection (the current judgement).
    """
    qs = Inspection.objects.filter(school_id=_school_id(school))
    if graded_only:
        qs = qs.graded()
    return qs.newest_first().first()


def latest_any_inspection(school: School | int) -> dict[str, Any] | None:
    """The school's most recent inspection of ANY kind (graded, ungraded, report card), as it is.

    Keys: inspection_id, framework, kind (e.g. 'Ungraded inspection'), inspection_type, date,
    publication_date, outcome (the published wording: 'School remains Good', an overall grade, NO_OVERALL_GRADE
    or a report card's summary), converted_to_graded, urn_at_time, name_at_time, is_graded. On the same
    date a graded inspection wins over an ungraded one (`latest_inspection`)."""
    insp = latest_inspection(school)
    if insp is None:
        return None
    if insp.framework == Framework.UNGRADED:
        outcome = insp.outcome_text or (
            "Converted to a graded inspection" if insp.converted_to_graded else "Outcome not recorded"
        )
    elif insp.framework == Framework.REPORT_CARD:
        weak = insp.grades.filter(grade__lte=ReportCardGrade.NEEDS_ATTENTION, not_applicable=False).count()
        outcome = (
            f"Report card: {weak} area{'s' if weak != 1 else ''} at needs attention or worse"
            if weak
            else "Report card: no area below expected standard"
        )
    else:
        outcome = (
            overall_label(insp.framework, insp.overall_effectiveness, insp.outcome_text) or "No grade given"
        )
    return {
        "inspection_id": insp.pk,
        "framework": insp.framework,
        "kind": KIND_LABELS.get(insp.framework, insp.framework),
        "inspection_type": insp.inspection_type,
        "date": insp.start_date,
        "publication_date": insp.publication_date,
        "outcome": outcome,
        "converted_to_graded": insp.converted_to_graded,
        "urn_at_time": insp.urn_at_time,
        "name_at_time": insp.name_at_time,
        "is_graded": insp.framework in GRADED_FRAMEWORKS,
    }


def inspection_history(school: School | int) -> list[Inspection]:
    """Every inspection of the school, newest first, with its evaluation-area grades loaded."""
    return list(
        Inspection.objects.filter(school_id=_school_id(school)).newest_first().prefetch_related("grades")
    )


def grade_label(framework: str, grade: int | None, not_applicable: bool = False) -> str:
    if not_applicable:
        return "Not applicable"
    if grade is None:
        return "Not graded"
    if framework == Framework.REPORT_CARD:
        return ReportCardGrade(grade).label
    return OverallEffectiveness(grade).label


def safeguarding_label(framework: str, met: bool | None) -> str | None:
    if met is None:
        return None
    if framework == Framework.REPORT_CARD:
        return "Met" if met else "Not met"
    return "Effective" if met else "Not effective"


def current_judgement(school: School | int) -> dict[str, Any]:
    """The school's standing Ofsted judgement, for display and rules.

    Keys: framework (report_card / legacy / None), is_report_card, inspection_id, date, publication_date,
    inspection_type, overall_effectiveness (1-4 or None), overall_label, grades (list of {area, area_label,
    grade, label, not_applicable} in report-card order), safeguarding_met, safeguarding_label,
    category_of_concern, no_overall_grade (a graded inspection from September 2024: sub-grades only),
    urn_at_time / name_at_time (a predecessor school's inspection), latest_ungraded ({date, outcome}) when an
    ungraded inspection came after it, and latest_any (`latest_any_inspection`: the most recent inspection of
    any kind, shown beside the graded judgement).
    """
    graded = latest_inspection(school, graded_only=True)
    ungraded = (
        Inspection.objects.filter(school_id=_school_id(school), framework=Framework.UNGRADED)
        .order_by("-start_date")
        .first()
    )
    later_ungraded = (
        {"date": ungraded.start_date, "outcome": ungraded.outcome_text}
        if ungraded is not None and (graded is None or ungraded.start_date > graded.start_date)
        else None
    )
    latest_any = latest_any_inspection(school)
    if graded is None:
        return {
            "framework": None,
            "is_report_card": False,
            "inspection_id": None,
            "date": None,
            "publication_date": None,
            "inspection_type": "",
            "overall_effectiveness": None,
            "overall_label": None,
            "no_overall_grade": False,
            "urn_at_time": None,
            "name_at_time": "",
            "grades": [],
            "safeguarding_met": None,
            "safeguarding_label": None,
            "category_of_concern": "",
            "latest_ungraded": later_ungraded,
            "latest_any": latest_any,
        }
    order = {area: i for i, area in enumerate(AREA_ORDER)}
    grades = sorted(graded.grades.all(), key=lambda g: order.get(g.area, len(order)))
    overall = graded.overall_effectiveness
    return {
        "framework": graded.framework,
        "is_report_card": graded.framework == Framework.REPORT_CARD,
        "inspection_id": graded.pk,
        "date": graded.start_date,
        "publication_date": graded.publication_date,
        "inspection_type": graded.inspection_type,
        "overall_effectiveness": overall,
        "overall_label": overall_label(graded.framework, overall, graded.outcome_text),
        "no_overall_grade": graded.framework == Framework.LEGACY and overall is None,
        "urn_at_time": graded.urn_at_time,
        "name_at_time": graded.name_at_time,
        "grades": [
            {
                "area": g.area,
                "area_label": EvaluationArea(g.area).label,
                "grade": g.grade,
                "label": grade_label(graded.framework, g.grade, g.not_applicable),
                "not_applicable": g.not_applicable,
            }
            for g in grades
        ],
        "safeguarding_met": graded.safeguarding_met,
        "safeguarding_label": safeguarding_label(graded.framework, graded.safeguarding_met),
        "category_of_concern": graded.category_of_concern,
        "latest_ungraded": later_ungraded,
        "latest_any": latest_any,
    }


def latest_grades_frame(school_ids: Iterable[int] | None = None) -> pl.DataFrame:
    """One row per school with a graded inspection, for the risk engine (vectorised, three queries).

    Columns: school_id, latest_graded_date, framework, is_report_card, overall_effectiveness (1-4, null
    for report cards and 'Not judged'), safeguarding_met, grade_<area> for every evaluation area (null when
    not graded or not applicable; report-card scale 1-5 where 5 is best, legacy scale 1-4 where 1 is best:
    read `framework`), previous_graded_date and previous_overall_effectiveness (the latest earlier graded
    inspection that has an overall effectiveness), last_inspection_date (any kind, incl. ungraded) and
    latest_ungraded_outcome (when an ungraded inspection came after the latest graded one).
    """
    ids = None if school_ids is None else list(school_ids)
    qs = Inspection.objects.all()
    if ids is not None:
        qs = qs.filter(school_id__in=ids)
    rows = list(
        qs.values_list(
            "id", "school_id", "framework", "start_date", "overall_effectiveness", "safeguarding_met"
        )
    )
    insp = pl.DataFrame(
        rows,
        schema={
            "inspection_id": pl.Int64,
            "school_id": pl.Int64,
            "framework": pl.Utf8,
            "start_date": pl.Date,
            "overall_effectiveness": pl.Int64,
            "safeguarding_met": pl.Boolean,
        },
        orient="row",
    ).with_columns(
        pl.col("framework")
        .replace_strict({"report_card": 0, "legacy": 1, "ungraded": 2}, default=3)
        .alias("_rank")
    )
    insp = insp.sort(["school_id", "start_date", "_rank"], descending=[False, True, False])
    graded = insp.filter(pl.col("framework").is_in(GRADED_FRAMEWORKS))
    latest = graded.group_by("school_id", maintain_order=True).first()
    previous = (
        graded.join(latest.select("school_id", pl.col("inspection_id").alias("_latest_id")), on="school_id")
        .filter(
            (pl.col("inspection_id") != pl.col("_latest_id")) & pl.col("overall_effectiveness").is_not_null()
        )
        .join(latest.select("school_id", pl.col("start_date").alias("_latest_date")), on="school_id")
        .filter(pl.col("start_date") <= pl.col("_latest_date"))
        .group_by("school_id", maintain_order=True)
        .first()
        .select(
            "school_id",
            pl.col("start_date").alias("previous_graded_date"),
            pl.col("overall_effectiveness").alias("previous_overall_effectiveness"),
        )
    )
    last_any = insp.group_by("school_id").agg(pl.col("start_date").max().alias("last_inspection_date"))
    ungraded = (
        insp.filter(pl.col("framework") == Framework.UNGRADED.value)
        .group_by("school_id", maintain_order=True)
        .first()
        .select("school_id", pl.col("start_date").alias("_ug_date"), "inspection_id")
    )
    outcomes = dict(
        Inspection.objects.filter(pk__in=ungraded["inspection_id"].to_list()).values_list(
            "id", "outcome_text"
        )
    )
    ungraded = ungraded.with_columns(
        pl.col("inspection_id")
        .replace_strict(outcomes, default=None, return_dtype=pl.Utf8)
        .alias("_ug_outcome")
    ).drop("inspection_id")

    grade_rows = list(
        InspectionGrade.objects.filter(inspection_id__in=latest["inspection_id"].to_list()).values_list(
            "inspection_id", "area", "grade", "not_applicable"
        )
    )
    grades = pl.DataFrame(
        grade_rows,
        schema={"inspection_id": pl.Int64, "area": pl.Utf8, "grade": pl.Int64, "not_applicable": pl.Boolean},
        orient="row",
    )
    area_cols = [
        pl.col("grade")
        .filter((pl.col("area") == area) & ~pl.col("not_applicable"))
        .first()
        .alias(f"grade_{area}")
        for area in AREA_ORDER
    ]
    wide = grades.group_by("inspection_id").agg(area_cols)

    out = (
        latest.select(
            "school_id",
            "inspection_id",
            pl.col("start_date").alias("latest_graded_date"),
            "framework",
            (pl.col("framework") == Framework.REPORT_CARD.value).alias("is_report_card"),
            "overall_effectiveness",
            "safeguarding_met",
        )
        .join(wide, on="inspection_id", how="left")
        .join(previous, on="school_id", how="left")
        .join(last_any, on="school_id", how="left")
        .join(ungraded, on="school_id", how="left")
        .with_columns(
            pl.when(pl.col("_ug_date") > pl.col("latest_graded_date"))
            .then(pl.col("_ug_outcome"))
            .otherwise(None)
            .alias("latest_ungraded_outcome")
        )
        .drop("_ug_date", "_ug_outcome")
        .sort("school_id")
    )
    return out.with_columns(pl.col(f"grade_{a}").cast(pl.Int64) for a in AREA_ORDER)


def latest_graded_date(school: School | int) -> dt.date | None:
    inspection = latest_inspection(school, graded_only=True)
    return inspection.start_date if inspection else None
