"""Typed services for school support. Views call these; rules live here, not in forms or templates."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet, Sum

from beacon.accounts.roles import CASE_CHAIR_ROLES
from beacon.assessments.models import SupportLevel
from beacon.core.versioning import StaleEdit, save_versioned, update_versioned
from beacon.inspections.models import EvaluationArea
from beacon.support.dates import academic_year_bounds, add_months, next_term_end
from beacon.support.models import (
    APPENDIX_B_AGENDA,
    AdviserCapacity,
    BrokeredSupport,
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


def as_days(value: Any) -> Decimal:
    """Days to one decimal place (database sums come back as 2, 2.0 or 2.00 depending on the backend)."""
    return Decimal(value or 0).quantize(Decimal("0.1"))


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


def days_used(school_id: int, year: int, visits: QuerySet[Visit] | None = None) -> Decimal:
    """The sum of the days of the school's visits in the academic year (of `visits`: the visits the
    reader may see, `permissions.visible_visits`; all visits when not given)."""
    start, end = academic_year_bounds(year)
    base = Visit.objects.all() if visits is None else visits
    total = base.filter(school_id=school_id, visited_on__range=(start, end)).aggregate(s=Sum("days"))["s"]
    return as_days(total)


def entitlement_for(school: Any, year: int) -> Entitlement:
    """The school's entitlement for the year without writing anything: the saved one, else the one the
    support matrix gives from the latest decision (universal when none), unsaved (`current_entitlement`)."""
    return current_entitlement(school, year)


def adviser_schools(adviser: Any, year: int) -> list[Any]:
    """The schools an adviser (CPP) serves in an academic year: those whose entitlement for the year names
    them, and those they are assigned to (accounts.SchoolAssignment overlapping the year) unless the
    year's entitlement names another adviser. Support cases carry no adviser of their own."""
    from beacon.schools.models import School

    start, end = academic_year_bounds(year)
    named = Entitlement.objects.filter(academic_year=year, adviser__isnull=False)
    assigned = (
        School.objects.filter(
            assignments__user=adviser,
        )
        .filter(Q(assignments__started_on__isnull=True) | Q(assignments__started_on__lte=end))
        .filter(Q(assignments__ended_on__isnull=True) | Q(assignments__ended_on__gte=start))
        .exclude(pk__in=named.exclude(adviser=adviser).values("school_id"))
    )
    allocated = School.objects.filter(pk__in=named.filter(adviser=adviser).values("school_id"))
    return list((assigned | allocated).distinct().order_by("name"))


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


def adviser_load(adviser: Any, year: int, visits: QuerySet[Visit] | None = None) -> AdviserLoad:
    """Days allocated (the entitlements of the adviser's schools, universal 1.5 where nothing is saved)
    against the budget; days used: the adviser's visits in the year among `visits` (those the reader may
    see; all when not given)."""
    cap = AdviserCapacity.objects.filter(adviser=adviser, academic_year=year).first()
    allocated = sum(
        (entitlement_days(entitlement_for(s, year)).total for s in adviser_schools(adviser, year)),
        Decimal("0"),
    )
    start, end = academic_year_bounds(year)
    base = Visit.objects.all() if visits is None else visits
    used = base.filter(adviser=adviser, visited_on__range=(start, end)).aggregate(s=Sum("days"))["s"]
    return AdviserLoad(cap.day_budget if cap else None, as_days(allocated), as_days(used))


# --- support cases ------------------------------------------------------------------------------


def open_case(
    *,
    school: Any,
    level: str,
    started_on: dt.date,
    chair: Any,
    planned_exit_on: dt.date | None = None,
    attendees: str = "",
    next_meeting_on: dt.date | None = None,
) -> SupportCase:
    if level not in (SupportLevel.FOCUSED, SupportLevel.TARGETED):
        raise ValidationError("A support case is focused or targeted.")
    if not (chair.is_superuser or chair.role in CASE_CHAIR_ROLES):
        raise ValidationError("The chair is the Director of Learning and Impact or the CEO.")
    if SupportCase.objects.open().filter(school=school).exists():
        raise ValidationError("This school already has an open support case.")
    if next_meeting_on is not None and next_meeting_on < started_on:
        raise ValidationError("The initial meeting cannot be before the support starts.")
    return SupportCase.objects.create(
        next_meeting_on=next_meeting_on,
        school=school,
        level=level,
        started_on=started_on,
        chair=chair,
        planned_exit_on=planned_exit_on,
        attendees=attendees,
    )


def update_case(case: SupportCase, expected_version: int, **changes: Any) -> SupportCase:
    """Save changes only if nobody else saved the case since `expected_version` was read (StaleEdit)."""
    return update_versioned(case, expected_version, changes)


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
    case: SupportCase,
    *,
    held_on: dt.date,
    progress: str,
    recorded_by: Any = None,
    next_meeting_on: dt.date | None = None,
    **fields: Any,
) -> ReviewMeeting:
    """The first meeting is the initial meeting; a not-on-track result proposes a rapid improvement plan.
    The date of the next meeting agreed at it (Appendix B) becomes the case's scheduled meeting; a meeting
    held on or after the scheduled date fulfils it."""
    if case.status != CaseStatus.OPEN:
        raise ValidationError("This support case is closed.")
    if progress not in Progress.values:
        raise ValidationError("Choose on track or not on track.")
    if next_meeting_on is not None and next_meeting_on <= held_on:
        raise ValidationError("The next meeting must be after this one.")
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
    changes: dict[str, Any] = {}
    if progress == Progress.NOT_ON_TRACK and case.securely_on_track:
        changes["securely_on_track"] = False
    if next_meeting_on is not None:
        changes["next_meeting_on"] = next_meeting_on
    elif case.next_meeting_on is not None and case.next_meeting_on <= held_on:
        changes["next_meeting_on"] = None
    if changes:
        updated = update_case(case, case.version, **changes)
        for name in (*changes, "version"):
            setattr(case, name, getattr(updated, name))
    return meeting


def schedule_meeting(case: SupportCase, expected_version: int, *, on: dt.date, today: dt.date) -> SupportCase:
    """Schedule the next review meeting (the initial meeting first) on a date."""
    if case.status != CaseStatus.OPEN:
        raise ValidationError("This support case is closed.")
    if on < today:
        raise ValidationError("A meeting is scheduled for today or a later date.")
    if on < case.started_on:
        raise ValidationError("The meeting cannot be before the support starts.")
    last = case.meetings.order_by("-held_on").first()
    if last is not None and on <= last.held_on:
        raise ValidationError("The next meeting must be after the last meeting.")
    return update_case(case, expected_version, next_meeting_on=on)


# --- cadence ------------------------------------------------------------------------------------

INITIAL_MEETING_WITHIN = dt.timedelta(weeks=4)


@dataclass(frozen=True)
class MeetingDue:
    earliest: dt.date
    due_by: dt.date
    cadence: str
    scheduled: dt.date | None = None

    def is_overdue(self, today: dt.date) -> bool:
        return today > self.due_by

    @property
    def outside_cadence(self) -> bool:
        """The scheduled date is later than the cadence asks for."""
        return self.scheduled is not None and self.scheduled > self.due_by

    @property
    def date(self) -> dt.date:
        """The date the next meeting happens by: the scheduled date when there is one."""
        return self.scheduled or self.due_by


def next_meeting_due(case: SupportCase) -> MeetingDue | None:
    """Focused: termly (by the end of the term after the last meeting). Targeted: every 8-10 weeks,
    termly once securely on track. The initial meeting is due within 4 weeks of the start. A meeting
    scheduled on a date (after the last one) is the date it is overdue from, when sooner than the cadence."""
    if case.status != CaseStatus.OPEN:
        return None
    last = case.meetings.order_by("-held_on").first()
    if last is None:
        due = MeetingDue(case.started_on, case.started_on + INITIAL_MEETING_WITHIN, "initial")
    elif case.level == SupportLevel.TARGETED and not case.securely_on_track:
        due = MeetingDue(
            last.held_on + dt.timedelta(weeks=8), last.held_on + dt.timedelta(weeks=10), "8-10 weeks"
        )
    else:
        due = MeetingDue(last.held_on + dt.timedelta(days=1), next_term_end(last.held_on), "termly")
    scheduled = case.next_meeting_on
    if scheduled is None or (last is not None and scheduled <= last.held_on):
        return due
    return MeetingDue(due.earliest, min(due.due_by, scheduled), due.cadence, scheduled)


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


# --- entitlements derived from the termly assessment ----------------------------------------------

ENTITLEMENT_FLAGS = ("new_adviser", "new_headteacher", "has_post16", "has_arp")


def latest_decided_assessment(school: Any, year: int) -> Any:
    """The latest termly assessment with a decision, in academic year `year` or before."""
    from beacon.assessments.models import TermlyAssessment

    return (
        TermlyAssessment.objects.decided()
        .filter(school=school, term__academic_year__lte=year)
        .exclude(decided_level="")
        .select_related("term")
        .order_by("-term__sort_key", "-decided_at")
        .first()
    )


def current_entitlement(school: Any, year: int) -> Entitlement:
    """Read only (decision 0018): the stored entitlement, or the one `sync_entitlement` would make, unsaved
    (level from the latest decision, no flags), so a page can show the derived figures without writing."""
    ent = Entitlement.objects.filter(school=school, academic_year=year).first()
    if ent is not None:
        return ent
    assessment = latest_decided_assessment(school, year)
    level = assessment.decided_level if assessment else SupportLevel.UNIVERSAL
    return Entitlement(
        school=school,
        academic_year=year,
        level=level,
        derived_from=assessment,
        targeted_extra_days=TARGETED_MAX_EXTRA_DAYS if level == SupportLevel.TARGETED else Decimal("0"),
    )


def sync_entitlement(school: Any, year: int) -> Entitlement:
    """The school's entitlement for `year`, its level taken from the decided support level of the latest
    termly assessment (universal when nothing has been decided). Moving into targeted support starts at
    the full 6 additional days (editable); leaving it drops them. Flags are kept."""
    with transaction.atomic():
        ent, created = Entitlement.objects.select_for_update().get_or_create(
            school=school, academic_year=year
        )
        assessment = latest_decided_assessment(school, year)
        level = assessment.decided_level if assessment else SupportLevel.UNIVERSAL
        derived_id = assessment.pk if assessment else None
        if created or ent.level != level or ent.derived_from_id != derived_id:
            if level == SupportLevel.TARGETED and ent.level != SupportLevel.TARGETED:
                ent.targeted_extra_days = TARGETED_MAX_EXTRA_DAYS
            if level != SupportLevel.TARGETED:
                ent.targeted_extra_days = Decimal("0")
            ent.level, ent.derived_from_id = level, derived_id
            reason = (
                f"Level from the decision of {assessment.term}"
                if assessment
                else "Universal: no decision yet"
            )
            if created:
                ent._change_reason = reason  # type: ignore[attr-defined]
                ent.save()
            else:  # bumped: a form opened on the old level is stale (row locked above)
                save_versioned(ent, ent.version, reason=reason)
    return ent


def update_entitlement(
    ent: Entitlement,
    expected_version: int,
    *,
    new_adviser: bool,
    new_headteacher: bool,
    has_post16: bool,
    has_arp: bool,
    targeted_extra_days: Decimal,
    adviser: Any = None,
) -> Entitlement:
    """Director / commissioner edit the flags (and the targeted days, the adviser); the level is derived."""
    extra = Decimal(targeted_extra_days or 0)
    if extra and ent.level != SupportLevel.TARGETED:
        raise ValidationError("Additional targeted days apply only to targeted schools.")
    if extra < 0 or extra > TARGETED_MAX_EXTRA_DAYS:
        raise ValidationError("Targeted support is up to 6 additional days.")
    if extra % HALF:
        raise ValidationError("Enter additional days in half days.")
    return update_versioned(
        ent,
        expected_version,
        {
            "new_adviser": new_adviser,
            "new_headteacher": new_headteacher,
            "has_post16": has_post16,
            "has_arp": has_arp,
            "targeted_extra_days": extra,
            "adviser": adviser,
        },
        reason="Entitlement edited",
        full_clean=True,
    )


# --- brokered support -----------------------------------------------------------------------------


def add_brokered(
    ent: Entitlement,
    *,
    provider: str,
    cost: Decimal,
    funding_source: str,
    description: str = "",
    case: SupportCase | None = None,
) -> BrokeredSupport:
    if not provider.strip():
        raise ValidationError("Enter the provider.")
    if cost < 0:
        raise ValidationError("The cost cannot be negative.")
    if case is not None and case.school_id != ent.school_id:
        raise ValidationError("The support case is for another school.")
    b = BrokeredSupport(
        entitlement=ent,
        provider=provider.strip(),
        cost=cost,
        funding_source=funding_source,
        description=description,
        case=case,
    )
    b.full_clean()
    b.save()
    return b


def update_brokered(b: BrokeredSupport, expected_version: int, **changes: Any) -> BrokeredSupport:
    if Decimal(changes.get("cost", b.cost)) < 0:
        raise ValidationError("The cost cannot be negative.")
    return update_versioned(b, expected_version, changes, reason="Brokered support edited", full_clean=True)


def brokered_total(ent: Entitlement) -> Decimal:
    if ent.pk is None:  # a derived, unsaved entitlement has no brokered support
        return Decimal("0")
    return Decimal(ent.brokered.aggregate(s=Sum("cost"))["s"] or 0)


# --- visits and report circulation ------------------------------------------------------------------

CIRCULATION = (
    ("report_to_head", "Headteacher"),
    ("report_to_chair", "Chair of governors"),
    ("report_to_director", "Director of Learning and Impact"),
    ("report_to_ceo", "CEO"),
)
MAX_VISIT_DAYS = Decimal("5")


def _visit_fields(visited_on: dt.date, days: Decimal, dates: dict[str, dt.date | None]) -> dict[str, Any]:
    if days <= 0 or days > MAX_VISIT_DAYS or days % HALF:
        raise ValidationError("A visit is between half a day and 5 days, in half days.")
    fields: dict[str, Any] = {}
    for name, who in CIRCULATION:
        when = dates.get(f"{name}_on")
        if when is not None and when < visited_on:
            raise ValidationError(f"The report cannot reach the {who.lower()} before the visit.")
        fields[f"{name}_on"] = when
        fields[name] = when is not None
    return fields


def record_visit(
    *,
    school: Any,
    adviser: Any,
    visited_on: dt.date,
    visit_type: str,
    days: Decimal,
    notes: str = "",
    case: SupportCase | None = None,
    **circulation: dt.date | None,
) -> Visit:
    if case is not None and case.school_id != school.pk:
        raise ValidationError("The support case is for another school.")
    visit = Visit(
        school=school,
        adviser=adviser,
        visited_on=visited_on,
        visit_type=visit_type,
        days=days,
        notes=notes,
        case=case,
        **_visit_fields(visited_on, days, circulation),
    )
    visit.full_clean()
    visit.save()
    return visit


def update_visit(visit: Visit, expected_version: int, **changes: Any) -> Visit:
    circulation = {f"{n}_on": changes.pop(f"{n}_on", getattr(visit, f"{n}_on")) for n, _ in CIRCULATION}
    visited_on = changes.get("visited_on", visit.visited_on)
    days = Decimal(changes.get("days", visit.days))
    changes.update(_visit_fields(visited_on, days, circulation))
    return update_versioned(visit, expected_version, changes, reason="Visit edited", full_clean=True)


def circulation_summary(visit: Visit) -> str:
    parts = [
        f"{who} {getattr(visit, f'{n}_on').strftime('%-d %b %Y')}"
        for n, who in CIRCULATION
        if getattr(visit, f"{n}_on") is not None
    ]
    return "; ".join(parts) or "Not circulated"


# --- adviser capacity -------------------------------------------------------------------------------


def set_capacity(
    adviser: Any, year: int, day_budget: Decimal, expected_version: int | None
) -> AdviserCapacity:
    if day_budget < 0 or day_budget > 220:
        raise ValidationError("Enter a day budget between 0 and 220 days.")
    cap = AdviserCapacity.objects.filter(adviser=adviser, academic_year=year).first()
    if cap is None:
        if expected_version not in (None, 0):
            raise StaleEdit(None)
        # Version 1: a form read before the budget existed (version 0) is then stale.
        return AdviserCapacity.objects.create(
            adviser=adviser, academic_year=year, day_budget=day_budget, version=1
        )
    return update_versioned(
        cap, expected_version or 0, {"day_budget": day_budget}, reason="Day budget set", full_clean=True
    )


@dataclass(frozen=True)
class CapacityRow:
    entitlement: Entitlement
    entitled: Decimal
    used: Decimal

    @property
    def over_used(self) -> bool:
        return self.used > self.entitled


@dataclass(frozen=True)
class AdviserCapacityView:
    adviser: Any
    year: int
    capacity: AdviserCapacity | None
    load: AdviserLoad
    rows: list[CapacityRow]

    @property
    def warnings(self) -> list[str]:
        out = [self.load.warning] if self.load.warning else []
        if self.load.budget is not None and self.load.used > self.load.budget:
            out.append(f"Days used ({self.load.used}) exceed the budget of {self.load.budget}.")
        out += [
            f"{r.entitlement.school.name}: {r.used} days used of {r.entitled} entitled."
            for r in self.rows
            if r.over_used
        ]
        return out


def adviser_capacity(adviser: Any, year: int, visits: QuerySet[Visit] | None = None) -> AdviserCapacityView:
    """An adviser's year: budget, the schools they serve (adviser_schools) with their entitled days, and
    the days of the adviser's visits at each (among `visits`, those the reader may see)."""
    start, end = academic_year_bounds(year)
    base = Visit.objects.all() if visits is None else visits
    used_by_school = dict(
        base.filter(adviser=adviser, visited_on__range=(start, end))
        .order_by()
        .values("school_id")
        .annotate(s=Sum("days"))
        .values_list("school_id", "s")
    )
    rows = []
    for school in adviser_schools(adviser, year):
        ent = entitlement_for(school, year)
        rows.append(CapacityRow(ent, entitlement_days(ent).total, as_days(used_by_school.get(school.pk))))
    return AdviserCapacityView(
        adviser,
        year,
        AdviserCapacity.objects.filter(adviser=adviser, academic_year=year).first(),
        adviser_load(adviser, year, visits),
        rows,
    )


def capacity_overview(
    advisers: Any, year: int, visits: QuerySet[Visit] | None = None
) -> list[tuple[Any, AdviserLoad]]:
    return [(a, adviser_load(a, year, visits)) for a in advisers]
