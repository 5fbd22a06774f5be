"""Typed services for school support. Views call these; rules live here, not in forms or templates."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum

from beacon.assessments.models import SupportLevel
from beacon.inspections.models import EvaluationArea
from beacon.support.dates import academic_year_bounds, add_months, next_term_end
from beacon.support.models import (
    APPENDIX_B_AGENDA,
    AdviserCapacity,
    CaseStatus,
    Entitlement,
    MeetingKind,
    Priority,
    Progress,
    ReviewMeeting,
    SupportCase,
    Visit,
)

HALF = Decimal("0.5")
UNIVERSAL_CPP_DAYS = Decimal("1.5")  # three termly half-day CPP visits
FOCUSED_EXTRA_DAYS = Decimal("1.5")
TARGETED_MAX_EXTRA_DAYS = Decimal("6")
CHAIR_ROLES = frozenset({"director", "ceo"})


class StaleCase(Exception):
    """Someone else changed the case since it was read (optimistic locking)."""


# --- entitlements and capacity ------------------------------------------------------------------


@dataclass(frozen=True)
class EntitlementDays:
    lines: list[tuple[str, Decimal]] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((d for _, d in self.lines), Decimal("0"))


def entitlement_days(ent: Entitlement) -> EntitlementDays:
    """The support matrix: universal 1.5 days (+0.5 orientation, +0.5 post-16, +0.5 ARP);
    focused +1.5 days; targeted up to +6 days."""
    lines: list[tuple[str, Decimal]] = [("Termly CPP visits (3 half days)", UNIVERSAL_CPP_DAYS)]
    if ent.new_adviser or ent.new_headteacher:
        lines.append(("Orientation visit (new adviser or headteacher)", HALF))
    if ent.has_post16:
        lines.append(("Post-16", HALF))
    if ent.has_arp:
        lines.append(("Additionally resourced provision", HALF))
    if ent.level == SupportLevel.FOCUSED:
        lines.append(("Focused support", FOCUSED_EXTRA_DAYS))
    if ent.level == SupportLevel.TARGETED and ent.targeted_extra_days:
        lines.append(("Targeted support", Decimal(ent.targeted_extra_days)))
    return EntitlementDays(lines)


def save_entitlement(ent: Entitlement) -> Entitlement:
    extra = Decimal(ent.targeted_extra_days or 0)
    if extra and ent.level != SupportLevel.TARGETED:
        raise ValidationError("Additional targeted days apply only to targeted schools.")
    if extra < 0 or extra > TARGETED_MAX_EXTRA_DAYS:
        raise ValidationError("Targeted support is up to 6 additional days.")
    ent.full_clean()
    ent.save()
    return ent


def days_used(school_id: int, year: int) -> Decimal:
    start, end = academic_year_bounds(year)
    total = Visit.objects.filter(school_id=school_id, visited_on__range=(start, end)).aggregate(
        s=Sum("days")
    )["s"]
    return Decimal(total or 0)


@dataclass(frozen=True)
class AdviserLoad:
    budget: Decimal | None
    allocated: Decimal
    used: Decimal

    @property
    def over_allocated(self) -> bool:
        return self.budget is not None and self.allocated > self.budget

    @property
    def warning(self) -> str:
        if self.budget is None:
            return "No day budget has been set for this adviser."
        if self.over_allocated:
            return (
                f"Over-allocated by {self.allocated - self.budget} days ({self.allocated} of {self.budget})."
            )
        return ""


def adviser_load(adviser: Any, year: int) -> AdviserLoad:
    cap = AdviserCapacity.objects.filter(adviser=adviser, academic_year=year).first()
    ents = Entitlement.objects.filter(adviser=adviser, academic_year=year)
    allocated = sum((entitlement_days(e).total for e in ents), Decimal("0"))
    start, end = academic_year_bounds(year)
    used = Visit.objects.filter(adviser=adviser, visited_on__range=(start, end)).aggregate(s=Sum("days"))["s"]
    return AdviserLoad(cap.day_budget if cap else None, allocated, Decimal(used or 0))


# --- support cases ------------------------------------------------------------------------------


def open_case(
    *,
    school: Any,
    level: str,
    started_on: dt.date,
    chair: Any,
    planned_exit_on: dt.date | None = None,
    attendees: str = "",
) -> SupportCase:
    if level not in (SupportLevel.FOCUSED, SupportLevel.TARGETED):
        raise ValidationError("A support case is focused or targeted.")
    if not (chair.is_superuser or chair.role in CHAIR_ROLES):
        raise ValidationError("The chair is the Director of Learning and Impact or the CEO.")
    if SupportCase.objects.filter(school=school, status=CaseStatus.OPEN).exists():
        raise ValidationError("This school already has an open support case.")
    return SupportCase.objects.create(
        school=school,
        level=level,
        started_on=started_on,
        chair=chair,
        planned_exit_on=planned_exit_on,
        attendees=attendees,
    )


def update_case(case: SupportCase, expected_version: int, **changes: Any) -> SupportCase:
    """Save changes only if nobody else saved the case since `expected_version` was read."""
    with transaction.atomic():
        current = SupportCase.objects.select_for_update().get(pk=case.pk)
        if current.version != expected_version:
            raise StaleCase("This case was changed by someone else. Reload it and try again.")
        for name, value in changes.items():
            setattr(current, name, value)
        current.version += 1
        current.save()
    return current


def priority_area_allowed(case: SupportCase, area: str) -> bool:
    """Sixth form (post-16) only where the school has one."""
    if area != EvaluationArea.POST16:
        return True
    school = case.school
    if school.has_sixth_form is not None:
        return bool(school.has_sixth_form)
    return (school.statutory_high_age or 0) >= 18


def add_priority(case: SupportCase, *, area: str, title: str, end_of_year_aim: str) -> Priority:
    if case.priorities.count() >= case.max_priorities:
        raise ValidationError(
            f"{case.get_level_display()} support has at most {case.max_priorities} priorities."
        )
    if area not in EvaluationArea.values:
        raise ValidationError("Choose an Ofsted evaluation area.")
    if not priority_area_allowed(case, area):
        raise ValidationError("Sixth form is only a priority for schools with a sixth form.")
    if not end_of_year_aim.strip():
        raise ValidationError("Enter a measurable end-of-year aim.")
    return Priority.objects.create(case=case, area=area, title=title, end_of_year_aim=end_of_year_aim)


def record_meeting(
    case: SupportCase, *, held_on: dt.date, progress: str, recorded_by: Any = None, **fields: Any
) -> ReviewMeeting:
    """The first meeting is the initial meeting; a not-on-track result proposes a rapid improvement plan."""
    if case.status != CaseStatus.OPEN:
        raise ValidationError("This support case is closed.")
    if progress not in Progress.values:
        raise ValidationError("Choose on track or not on track.")
    kind = MeetingKind.SUBSEQUENT if case.meetings.exists() else MeetingKind.INITIAL
    fields.setdefault("agenda", APPENDIX_B_AGENDA[kind])
    meeting = ReviewMeeting.objects.create(
        case=case,
        kind=kind,
        held_on=held_on,
        progress=progress,
        recorded_by=recorded_by,
        rapid_improvement_plan_proposed=progress == Progress.NOT_ON_TRACK,
        **fields,
    )
    if progress == Progress.NOT_ON_TRACK and case.securely_on_track:
        update_case(case, case.version, securely_on_track=False)
    return meeting


# --- cadence ------------------------------------------------------------------------------------

INITIAL_MEETING_WITHIN = dt.timedelta(weeks=4)


@dataclass(frozen=True)
class MeetingDue:
    earliest: dt.date
    due_by: dt.date
    cadence: str

    def is_overdue(self, today: dt.date) -> bool:
        return today > self.due_by


def next_meeting_due(case: SupportCase) -> MeetingDue | None:
    """Focused: termly (by the end of the term after the last meeting). Targeted: every 8-10 weeks,
    termly once securely on track. The initial meeting is due within 4 weeks of the start."""
    if case.status != CaseStatus.OPEN:
        return None
    last = case.meetings.order_by("-held_on").first()
    if last is None:
        return MeetingDue(case.started_on, case.started_on + INITIAL_MEETING_WITHIN, "initial")
    if case.level == SupportLevel.TARGETED and not case.securely_on_track:
        return MeetingDue(
            last.held_on + dt.timedelta(weeks=8), last.held_on + dt.timedelta(weeks=10), "8-10 weeks"
        )
    return MeetingDue(last.held_on + dt.timedelta(days=1), next_term_end(last.held_on), "termly")


# --- 18-month alert -----------------------------------------------------------------------------


@dataclass(frozen=True)
class EighteenMonthAlert:
    since: dt.date
    message: str


def eighteen_month_alert(case: SupportCase, today: dt.date) -> EighteenMonthAlert | None:
    """Targeted support for 18 months (or more) without sufficient progress: the latest review is not
    on track (or there is none). Proposes a pre-warning or formal warning notice."""
    if case.level != SupportLevel.TARGETED or case.status != CaseStatus.OPEN:
        return None
    since = add_months(case.started_on, 18)
    if today < since:
        return None
    last = case.meetings.order_by("-held_on", "-pk").first()
    if last is not None and last.progress == Progress.ON_TRACK:
        return None
    return EighteenMonthAlert(
        since,
        "Targeted support has passed 18 months without sufficient progress: consider a pre-warning "
        "notice or a formal warning notice.",
    )


# --- exit and re-categorisation -----------------------------------------------------------------


def agree_exit(
    case: SupportCase,
    *,
    by: Any,
    agreed_on: dt.date,
    expected_version: int,
    head: bool,
    chair_of_governors: bool,
    cpp: bool,
    recategorise_to: str,
    reduction_plan: str,
) -> SupportCase:
    """The case chair agrees exit with the head, chair of governors and CPP, with a planned reduction."""
    if by.pk != case.chair_id:
        raise ValidationError("Only the chair of this support case can agree exit.")
    if not (head and chair_of_governors and cpp):
        raise ValidationError("Exit is agreed with the headteacher, the chair of governors and the CPP.")
    if recategorise_to not in SupportLevel.values or recategorise_to == case.level:
        raise ValidationError("Choose the level the school moves to.")
    if not reduction_plan.strip():
        raise ValidationError("Describe the planned reduction of support.")
    return update_case(
        case,
        expected_version,
        status=CaseStatus.CLOSED,
        exit_agreed_on=agreed_on,
        exit_agreed_by_head=True,
        exit_agreed_by_chair_of_governors=True,
        exit_agreed_by_cpp=True,
        recategorised_to=recategorise_to,
        support_reduction_plan=reduction_plan,
    )
