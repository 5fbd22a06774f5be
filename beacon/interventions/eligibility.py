"""Statutory eligibility for intervention (Camden strategy, Appendix C) from Ofsted inspections.

A maintained school is 'eligible for intervention' if it is judged 'requires significant improvement'
or 'special measures'; is a 'stuck' school; or has failed to comply with a warning notice.

* Category of concern, legacy framework: overall effectiveness inadequate or a published category
  (serious weaknesses / special measures).
* Category of concern, report cards (November 2025): special measures where leadership and governance is
  'urgent improvement' or safeguarding is 'not met'; requires significant improvement where any other
  evaluation area is 'urgent improvement'.
* 'Stuck', as the seed defines it: overall effectiveness 'requires improvement' at the most recent
  section 5 inspection and below good at the section 5 inspection immediately before it.
* 'Stuck', the current definition: 'needs attention' for leadership and governance at the latest report
  card with below good at the previous graded inspection.
* Failed warning notice: a `beacon.interventions.WarningNotice` whose outcome is a valid "failed to comply"
  (issued, decided after the compliance period ended: `interventions.models.valid_failures`)
  (callers may also pass notices in, e.g. for a what-if).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from beacon.inspections.models import (
    EvaluationArea,
    Framework,
    Inspection,
    OverallEffectiveness,
    ReportCardGrade,
)
from beacon.interventions.models import WarningNotice, valid_failures
from beacon.schools.models import School

GRADED = (Framework.LEGACY, Framework.REPORT_CARD)


@dataclass(frozen=True)
class Flag:
    code: str
    title: str
    applies: bool
    basis: str


def _graded(school: School) -> list[Inspection]:
    return list(
        Inspection.objects.filter(school=school, framework__in=GRADED)
        .order_by("-start_date", "-pk")
        .prefetch_related("grades")
    )


def _grade(inspection: Inspection, area: str) -> int | None:
    for g in inspection.grades.all():
        if g.area == area and not g.not_applicable:
            return g.grade
    return None


def _below_good(inspection: Inspection) -> bool:
    if inspection.framework == Framework.LEGACY:
        return inspection.overall_effectiveness in (
            OverallEffectiveness.REQUIRES_IMPROVEMENT,
            OverallEffectiveness.INADEQUATE,
        )
    # A report card has no overall grade: below 'expected standard' in leadership, or safeguarding not met.
    lead = _grade(inspection, EvaluationArea.LEADERSHIP)
    return (
        lead is not None and lead < ReportCardGrade.EXPECTED_STANDARD
    ) or inspection.safeguarding_met is False


def _category(latest: Inspection | None) -> tuple[str | None, str]:
    if latest is None:
        return None, "No graded inspection on record."
    when = f"{latest.start_date:%d %B %Y}"
    if latest.framework == Framework.LEGACY:
        cat = latest.category_of_concern.lower()
        if "special" in cat:
            return "special_measures", f"Special measures at the inspection of {when}."
        if "serious" in cat or "significant" in cat:
            return (
                "significant_improvement",
                f"Serious weaknesses (requires significant improvement), {when}.",
            )
        if latest.overall_effectiveness == OverallEffectiveness.INADEQUATE:
            return "inadequate", f"Overall effectiveness inadequate at the inspection of {when}."
        return None, f"Latest graded inspection ({when}): not in a category of concern."
    lead = _grade(latest, EvaluationArea.LEADERSHIP)
    if lead == ReportCardGrade.URGENT_IMPROVEMENT or latest.safeguarding_met is False:
        why = []
        if lead == ReportCardGrade.URGENT_IMPROVEMENT:
            why.append("leadership and governance 'urgent improvement'")
        if latest.safeguarding_met is False:
            why.append("safeguarding 'not met'")
        return "special_measures", f"Report card of {when}: {' and '.join(why)} (special measures)."
    urgent = [
        EvaluationArea(g.area).label
        for g in latest.grades.all()
        if not g.not_applicable and g.grade == ReportCardGrade.URGENT_IMPROVEMENT
    ]
    if urgent:
        return (
            "significant_improvement",
            f"Report card of {when}: 'urgent improvement' in {', '.join(urgent)} (requires significant "
            "improvement).",
        )
    return None, f"Report card of {when}: no area at 'urgent improvement' and safeguarding met."


def _failed_warning_notices(school: School, given: Iterable[Any] | None) -> list[Any]:
    if given is not None:
        return [w for w in given if _is_failed(w)]
    # Only valid outcomes: issued, and "failed to comply" decided after the compliance period ended.
    return list(WarningNotice.objects.filter(valid_failures(), school=school))


def _is_failed(notice: Any) -> bool:
    get = notice.get if isinstance(notice, dict) else lambda k, d=None: getattr(notice, k, d)
    if get("failed") is True or get("complied") is False:
        return True
    return str(get("status", "") or "").lower() in {"failed", "not_complied", "failed_to_comply"}


def eligibility_flags(school: School, *, warning_notices: Iterable[Any] | None = None) -> list[Flag]:
    """Appendix C flags for one school, each with the evidence it rests on."""
    graded = _graded(school)
    latest = graded[0] if graded else None
    category, category_basis = _category(latest)

    # Seed definition: RI at the most recent section 5 (legacy graded) inspection, below good at the one before.
    legacy = [i for i in graded if i.framework == Framework.LEGACY and i.overall_effectiveness]
    seed_stuck = False
    seed_basis = "Needs two graded (section 5) inspections with an overall effectiveness grade."
    if len(legacy) >= 2:
        last, prior = legacy[0], legacy[1]
        last_oe, prior_oe = int(last.overall_effectiveness or 0), int(prior.overall_effectiveness or 0)
        seed_stuck = last_oe == OverallEffectiveness.REQUIRES_IMPROVEMENT and prior_oe >= 3
        seed_basis = (
            f"Overall effectiveness {OverallEffectiveness(last_oe).label.lower()} "
            f"({last.start_date:%B %Y}), previously "
            f"{OverallEffectiveness(prior_oe).label.lower()} ({prior.start_date:%B %Y})."
        )
    elif len(legacy) == 1:
        seed_basis = "Only one graded inspection with an overall effectiveness grade."

    current_stuck = False
    current_basis = "The latest graded inspection is not a report card."
    if latest is not None and latest.framework == Framework.REPORT_CARD:
        lead = _grade(latest, EvaluationArea.LEADERSHIP)
        previous = graded[1] if len(graded) > 1 else None
        lead_text = ReportCardGrade(lead).label.lower() if lead else "not graded"
        if previous is None:
            current_basis = f"Leadership and governance {lead_text}; no previous graded inspection."
        else:
            prev_below = _below_good(previous)
            current_stuck = lead == ReportCardGrade.NEEDS_ATTENTION and prev_below
            prev_text = (
                OverallEffectiveness(previous.overall_effectiveness).label.lower()
                if previous.overall_effectiveness
                else ("below good" if prev_below else "good or better")
            )
            current_basis = (
                f"Leadership and governance {lead_text} ({latest.start_date:%B %Y}); previous inspection "
                f"{prev_text} ({previous.start_date:%B %Y})."
            )

    failed = _failed_warning_notices(school, warning_notices)
    return [
        Flag(
            "special_measures",
            "Special measures",
            category == "special_measures",
            category_basis,
        ),
        Flag(
            "significant_improvement",
            "Requires significant improvement (serious weaknesses) or inadequate",
            category in {"significant_improvement", "inadequate"},
            category_basis,
        ),
        Flag("stuck_seed", "'Stuck' school (strategy's definition)", seed_stuck, seed_basis),
        Flag(
            "stuck_current",
            "'Stuck' school (current definition: needs attention in leadership and governance, below good before)",
            current_stuck,
            current_basis,
        ),
        Flag(
            "failed_warning_notice",
            "Failed to comply with a warning notice",
            bool(failed),
            f"{len(failed)} warning notice(s) not complied with."
            if failed
            else "No failed warning notice on record.",
        ),
    ]


def is_eligible_for_intervention(flags: list[Flag]) -> bool:
    return any(f.applies for f in flags)
