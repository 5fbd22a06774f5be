"""Ofsted judgements as the school pages show them: the current judgement of each school (computed in the
database for lists and counts), its category, the standing judgement with its grades, and the history.

Moved from `beacon.schools.selectors` (decision 0022): it reads inspections only, so it lives with them;
the school pages (`beacon.schools.presenters`) and future options combine it with other apps' figures.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery

from beacon.inspections import selectors as inspection_selectors
from beacon.inspections.models import (
    EvaluationArea,
    Framework,
    Inspection,
    InspectionGrade,
    OverallEffectiveness,
    ReportCardGrade,
)
from beacon.schools.models import School

# ---------------------------------------------------------------------------------------------
# Current Ofsted judgement


class Judgement:
    OUTSTANDING = "outstanding"
    GOOD = "good"
    REQUIRES_IMPROVEMENT = "requires_improvement"
    INADEQUATE = "inadequate"
    REPORT_CARD_CONCERN = "report_card_concern"
    REPORT_CARD_OK = "report_card_ok"
    NO_OVERALL_GRADE = "no_overall_grade"  # graded from September 2024: sub-grades, no overall grade
    NOT_INSPECTED = "not_inspected"


JUDGEMENT_CHOICES: tuple[tuple[str, str], ...] = (
    (Judgement.OUTSTANDING, "Outstanding"),
    (Judgement.GOOD, "Good"),
    (Judgement.REQUIRES_IMPROVEMENT, "Requires improvement"),
    (Judgement.INADEQUATE, "Inadequate"),
    (
        Judgement.REPORT_CARD_CONCERN,
        "Report card: an area at needs attention or worse, or safeguarding not met",
    ),
    (Judgement.REPORT_CARD_OK, "Report card: every area at expected standard or better"),
    (Judgement.NO_OVERALL_GRADE, "Graded from September 2024: sub-grades, no overall grade"),
    (Judgement.NOT_INSPECTED, "Not inspected (no graded inspection held)"),
)
JUDGEMENT_LABELS = dict(JUDGEMENT_CHOICES)
SHORT_JUDGEMENT = {
    **JUDGEMENT_LABELS,
    Judgement.REPORT_CARD_CONCERN: "Needs attention",
    Judgement.REPORT_CARD_OK: "Expected or better",
    Judgement.NO_OVERALL_GRADE: "No overall grade",
    Judgement.NOT_INSPECTED: "Not inspected",
}
MEDIUM_JUDGEMENT = {
    **SHORT_JUDGEMENT,
    Judgement.REPORT_CARD_CONCERN: "Report card: needs attention or worse",
    Judgement.REPORT_CARD_OK: "Report card: expected standard or better",
    Judgement.NO_OVERALL_GRADE: "No overall grade (from September 2024)",
}
OE_TO_JUDGEMENT = {
    OverallEffectiveness.OUTSTANDING: Judgement.OUTSTANDING,
    OverallEffectiveness.GOOD: Judgement.GOOD,
    OverallEffectiveness.REQUIRES_IMPROVEMENT: Judgement.REQUIRES_IMPROVEMENT,
    OverallEffectiveness.INADEQUATE: Judgement.INADEQUATE,
}
GOOD_OR_BETTER = {Judgement.OUTSTANDING, Judgement.GOOD, Judgement.REPORT_CARD_OK}


def _graded() -> Q:
    """Inspections that set a judgement: report cards and graded (legacy) inspections with a grade, or
    'Not judged' (graded from September 2024: sub-grades without an overall grade, shown as such; the
    older overall grade no longer stands). An ungraded inspection leaves the previous judgement standing."""
    return Q(framework=Framework.REPORT_CARD) | Q(
        Q(overall_effectiveness__isnull=False) | Q(outcome_text__iexact="Not judged"),
        framework=Framework.LEGACY,
    )


def with_current_judgement(qs: QuerySet[School]) -> QuerySet[School]:
    """Annotate each school with its current judgement (`cj_*`) computed in the database."""
    current = Inspection.objects.filter(_graded(), school=OuterRef("pk")).newest_first()
    qs = qs.annotate(
        cj_id=Subquery(current.values("pk")[:1]),
        cj_framework=Subquery(current.values("framework")[:1]),
        cj_oe=Subquery(current.values("overall_effectiveness")[:1]),
        cj_date=Subquery(current.values("start_date")[:1]),
        cj_safeguarding=Subquery(current.values("safeguarding_met")[:1]),
    )
    # The latest inspection of any kind (an ungraded one included), shown beside the judgement.
    latest = Inspection.objects.filter(school=OuterRef("pk")).newest_first()
    qs = qs.annotate(
        li_framework=Subquery(latest.values("framework")[:1]),
        li_date=Subquery(latest.values("start_date")[:1]),
        li_outcome=Subquery(latest.values("outcome_text")[:1]),
        li_oe=Subquery(latest.values("overall_effectiveness")[:1]),
    )
    weak_area = InspectionGrade.objects.filter(
        inspection_id=OuterRef("cj_id"), grade__lte=ReportCardGrade.NEEDS_ATTENTION, not_applicable=False
    )
    return qs.annotate(cj_weak=Exists(weak_area))


def judgement_q(keys: Iterable[str]) -> Q:
    """Filter for schools annotated by `with_current_judgement` whose judgement is one of `keys`."""
    q = Q(pk__in=[])
    rc = Q(cj_framework=Framework.REPORT_CARD)
    rc_concern = rc & (Q(cj_weak=True) | Q(cj_safeguarding=False))
    for key in keys:
        if key == Judgement.NOT_INSPECTED:
            q |= Q(cj_id__isnull=True)
        elif key == Judgement.REPORT_CARD_CONCERN:
            q |= rc_concern
        elif key == Judgement.REPORT_CARD_OK:
            q |= rc & ~Q(cj_weak=True) & ~Q(cj_safeguarding=False)
        elif key == Judgement.NO_OVERALL_GRADE:
            q |= Q(cj_framework=Framework.LEGACY, cj_oe__isnull=True, cj_id__isnull=False)
        else:
            oe = next((g for g, k in OE_TO_JUDGEMENT.items() if k == key), None)
            if oe is not None:
                q |= Q(cj_framework=Framework.LEGACY, cj_oe=oe)
    return q


def judgement_key(school: Any) -> str:
    """The judgement category of a school annotated by `with_current_judgement`."""
    if school.cj_id is None:
        return Judgement.NOT_INSPECTED
    if school.cj_framework == Framework.REPORT_CARD:
        return (
            Judgement.REPORT_CARD_CONCERN
            if school.cj_weak or school.cj_safeguarding is False
            else Judgement.REPORT_CARD_OK
        )
    if school.cj_oe is None:
        return Judgement.NO_OVERALL_GRADE
    return OE_TO_JUDGEMENT[OverallEffectiveness(school.cj_oe)]


def latest_inspection_text(school: Any) -> tuple[str, dt.date | None]:
    """(kind and outcome, date) of the latest inspection of any kind, for a school annotated by
    `with_current_judgement`: e.g. ('Ungraded inspection: School remains Good', 2023-09-20)."""
    if school.li_framework is None:
        return "", None
    kind = inspection_selectors.KIND_LABELS.get(school.li_framework, school.li_framework)
    if school.li_framework == Framework.UNGRADED:
        outcome = school.li_outcome or ""
    elif school.li_framework == Framework.LEGACY:
        outcome = (
            inspection_selectors.overall_label(Framework.LEGACY, school.li_oe, school.li_outcome or "") or ""
        )
    else:
        outcome = ""
    return (f"{kind}: {outcome}" if outcome else kind), school.li_date


# ---------------------------------------------------------------------------------------------
# Inspections of one school


@dataclass(frozen=True)
class GradeRow:
    area: str
    label: str
    grade: int | None  # report-card or legacy grade (its colour: beacon.schools.presenters.grade_tag)
    not_applicable: bool = False


@dataclass(frozen=True)
class CurrentJudgement:
    """The standing judgement as `beacon.inspections.selectors.current_judgement` gives it, with tags."""

    is_report_card: bool
    start_date: dt.date
    publication_date: dt.date | None
    inspection_type: str
    overall_label: str
    overall_grade: int | None  # legacy overall effectiveness, None for report cards and no overall grade
    safeguarding_met: bool | None
    safeguarding_label: str
    category_of_concern: str
    grades: list[GradeRow]
    later_ungraded: dict[str, Any] | None
    no_overall_grade: bool = False
    inspection_id: int | None = None
    urn_at_time: int | None = None
    name_at_time: str = ""


def current_judgement(school: School) -> CurrentJudgement | None:
    """The inspection that sets the school's judgement now (latest report card or graded inspection)."""
    cj = inspection_selectors.current_judgement(school)
    if cj["framework"] is None:
        return None
    is_rc = bool(cj["is_report_card"])
    oe = cj["overall_effectiveness"]
    return CurrentJudgement(
        is_report_card=is_rc,
        start_date=cj["date"],
        publication_date=cj["publication_date"],
        inspection_type=cj["inspection_type"] or "",
        overall_label=cj["overall_label"] or inspection_selectors.NO_OVERALL_GRADE,
        overall_grade=oe or None,
        safeguarding_met=cj["safeguarding_met"],
        safeguarding_label=cj["safeguarding_label"] or "Not recorded",
        category_of_concern=cj["category_of_concern"] or "",
        grades=[
            GradeRow(
                area=g["area_label"].replace(" (legacy)", ""),
                label=g["label"],
                grade=g["grade"],
                not_applicable=bool(g["not_applicable"]),
            )
            for g in cj["grades"]
            if not (is_rc and g["area"] == EvaluationArea.SAFEGUARDING)  # shown as met / not met
        ],
        later_ungraded=cj["latest_ungraded"],
        no_overall_grade=bool(cj["no_overall_grade"]),
        inspection_id=cj["inspection_id"],
        urn_at_time=cj["urn_at_time"],
        name_at_time=cj["name_at_time"] or "",
    )


@dataclass(frozen=True)
class HistoryRow:
    inspection: Inspection
    framework_label: str
    outcome: str


def inspection_history(school: School) -> list[HistoryRow]:
    rows = []
    for i in inspection_selectors.inspection_history(school):
        if i.framework == Framework.REPORT_CARD:
            weak = [
                g for g in i.grades.all() if g.grade is not None and not g.not_applicable and g.grade <= 2
            ]
            outcome = (
                f"{len(weak)} area{'s' if len(weak) != 1 else ''} at needs attention or worse"
                if weak
                else "No area below expected standard"
            )
            if i.safeguarding_met is not None:
                outcome += "; safeguarding " + ("met" if i.safeguarding_met else "not met")
        elif i.framework == Framework.LEGACY:
            outcome = (
                inspection_selectors.overall_label(i.framework, i.overall_effectiveness, i.outcome_text)
                or "No grade given"
            )
        else:
            outcome = i.outcome_text or "No grade given"
            if i.converted_to_graded:
                outcome += " (converted to a graded inspection)"
        if i.urn_at_time:
            outcome += f"; inspected as URN {i.urn_at_time}" + (
                f" ({i.name_at_time})" if i.name_at_time else ""
            )
        if i.category_of_concern:
            outcome += f" ({i.category_of_concern})"
        rows.append(HistoryRow(inspection=i, framework_label=Framework(i.framework).label, outcome=outcome))
    return rows
