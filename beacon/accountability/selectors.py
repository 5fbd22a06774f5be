"""Reads for the commissioner reports, the immediate-notification list, the strategy tracker and the
Commission outputs. Every function that touches school data takes the schools already scoped by
`beacon.permissions` (the views pass `visible_schools(user)`) and, for intelligence, the notes the policy lets
the reader see (`permissions.significant_intelligence(user, schools)`); nothing here asks the policy."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch, QuerySet

from beacon.accountability.models import (
    Action,
    ActionUpdate,
    Ambition,
    CommissionArea,
    CommissionOutput,
    ConcernAcknowledgement,
    ConcernKind,
    Pledge,
    Rag,
)
from beacon.accountability.periods import Period, academic_year_period, term_for
from beacon.assessments.models import (
    LEVEL_SEVERITY,
    RAG_SEVERITY,
    Sensitivity,
    SupportLevel,
    TermlyAssessment,
)
from beacon.assessments.models import Rag as SchoolRag
from beacon.inspections.models import Framework, Inspection, InspectionGrade, ReportCardGrade
from beacon.interventions.models import WarningNotice
from beacon.risk.models import Term
from beacon.schools.models import School
from beacon.support.models import CaseStatus, SupportCase

# ------------------------------------------------------------------------------------------------
# Significant concerns (the immediate-notification list)


@dataclass(frozen=True)
class Concern:
    key: str
    kind: str
    kind_label: str
    school_id: int
    school_name: str
    urn: int
    on: dt.date
    summary: str
    restricted: bool = False
    acknowledged_by: str = ""
    acknowledged_at: dt.datetime | None = None

    @property
    def acknowledged(self) -> bool:
        return self.acknowledged_at is not None


def _inspection_concerns(schools: QuerySet[School], start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    inspections = list(
        Inspection.objects.filter(school__in=schools, start_date__range=(start, end)).select_related("school")
    )
    urgent = set(
        InspectionGrade.objects.filter(
            inspection__in=[i.pk for i in inspections],
            inspection__framework=Framework.REPORT_CARD,
            grade=ReportCardGrade.URGENT_IMPROVEMENT,
        ).values_list("inspection_id", flat=True)
    )
    for i in inspections:
        when = f"inspection of {i.start_date:%-d %B %Y}"
        if i.safeguarding_met is False:
            out.append(
                {"key": f"safeguarding:{i.pk}", "kind": ConcernKind.SAFEGUARDING, "school": i.school,
                 "on": i.start_date, "summary": f"Safeguarding not met ({when})"}
            )  # fmt: skip
        if i.overall_effectiveness == 4 or i.category_of_concern:
            label = i.category_of_concern or "Inadequate"
            out.append(
                {"key": f"category:{i.pk}", "kind": ConcernKind.OFSTED_CATEGORY, "school": i.school,
                 "on": i.start_date, "summary": f"Ofsted: {label} ({when})"}
            )  # fmt: skip
        if i.pk in urgent:
            out.append(
                {"key": f"urgent:{i.pk}", "kind": ConcernKind.URGENT_IMPROVEMENT, "school": i.school,
                 "on": i.start_date, "summary": f"Ofsted report card: urgent improvement ({when})"}
            )  # fmt: skip
    return out


def head_changes(schools: QuerySet[School], start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    """Headteacher changes recorded in the register history (GIAS imports or edits) within the period:
    a history row whose head's name differs (ignoring case and spaces) from the school's previous named
    head. The first name ever recorded is not a change."""
    history = School.history.model
    rows = (
        history.objects.filter(id__in=schools.values("pk"), history_date__date__lte=end)
        .exclude(head_name="")
        .order_by("id", "history_date", "history_id")
        .values_list("id", "history_id", "history_date", "head_name", "name", "urn")
    )
    out: list[dict[str, Any]] = []
    previous: dict[int, str] = {}
    for school_id, history_id, when, head, name, urn in rows:
        head = " ".join(head.split())
        before = previous.get(school_id)
        previous[school_id] = head
        if before is None or before.lower() == head.lower():
            continue
        day = when.date()
        if start <= day <= end:
            out.append(
                {"key": f"head:{history_id}", "kind": ConcernKind.HEAD_CHANGE,
                 "school": School(pk=school_id, name=name, urn=urn), "on": day,
                 "summary": f"Headteacher change: {before} to {head}"}
            )  # fmt: skip
    return out


def _intelligence_concerns(intelligence: QuerySet[Any], start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    notes = intelligence.filter(date__range=(start, end))
    return [
        {"key": f"intelligence:{n.pk}", "kind": ConcernKind.INTELLIGENCE, "school": n.school, "on": n.date,
         "summary": f"{Sensitivity(n.sensitivity).label}: {n.summary}", "restricted": True}
        for n in notes.select_related("school")
    ]  # fmt: skip


def significant_concerns(
    schools: QuerySet[School], intelligence: QuerySet[Any], start: dt.date, end: dt.date
) -> list[Concern]:
    """Every significant concern about `schools` between `start` and `end` (inclusive), newest first, with
    the commissioner's acknowledgement where one was made. `intelligence`: the restricted notes about
    `schools` the reader may see, from the policy (`permissions.significant_intelligence(user, schools)`)."""
    raw = (
        _inspection_concerns(schools, start, end)
        + head_changes(schools, start, end)
        + _intelligence_concerns(intelligence, start, end)
    )
    acks = {
        a.key: a
        for a in ConcernAcknowledgement.objects.filter(key__in=[r["key"] for r in raw]).select_related(
            "acknowledged_by"
        )
    }
    concerns = []
    for r in raw:
        ack = acks.get(r["key"])
        school = r["school"]
        concerns.append(
            Concern(
                key=r["key"],
                kind=str(r["kind"]),
                kind_label=ConcernKind(r["kind"]).label,
                school_id=school.pk,
                school_name=school.name,
                urn=school.urn,
                on=r["on"],
                summary=r["summary"],
                restricted=bool(r.get("restricted")),
                acknowledged_by=str(ack.acknowledged_by) if ack else "",
                acknowledged_at=ack.acknowledged_at if ack else None,
            )
        )
    concerns.sort(key=lambda c: (c.on, c.key), reverse=True)
    return concerns


def find_concern(
    schools: QuerySet[School], intelligence: QuerySet[Any], key: str, start: dt.date, end: dt.date
) -> Concern | None:
    return next((c for c in significant_concerns(schools, intelligence, start, end) if c.key == key), None)


# ------------------------------------------------------------------------------------------------
# Commissioner reports


@dataclass(frozen=True)
class CategoryRow:
    school_name: str
    urn: int
    rag: str
    level: str
    previous_rag: str
    previous_level: str

    @property
    def change(self) -> str:
        if not self.previous_level:
            return "First decision"
        before = LEVEL_SEVERITY[self.previous_level] * 3 + RAG_SEVERITY[self.previous_rag]
        now = LEVEL_SEVERITY[self.level] * 3 + RAG_SEVERITY[self.rag]
        if now > before:
            return "More concern"
        if now < before:
            return "Less concern"
        return "No change"


@dataclass(frozen=True)
class CaseRow:
    school_name: str
    urn: int
    level: str
    on: dt.date
    detail: str


@dataclass
class CommissionerReport:
    kind: str  # "half-termly" or "annual"
    title: str
    period: Period
    term: Term | None
    previous_term: Term | None
    categories: list[CategoryRow] = field(default_factory=list)
    concerns: list[Concern] = field(default_factory=list)
    cases_opened: list[CaseRow] = field(default_factory=list)
    cases_closed: list[CaseRow] = field(default_factory=list)
    notices: list[CaseRow] = field(default_factory=list)
    term_summary: list[tuple[str, dict[str, int]]] = field(default_factory=list)

    @property
    def changes(self) -> list[CategoryRow]:
        return [c for c in self.categories if c.change != "No change"]

    @property
    def level_counts(self) -> list[tuple[str, int]]:
        counts = Counter(c.level for c in self.categories)
        return [(label, counts.get(value, 0)) for value, label in SupportLevel.choices]

    @property
    def rag_counts(self) -> list[tuple[str, int]]:
        counts = Counter(c.rag for c in self.categories)
        return [(label, counts.get(value, 0)) for value, label in SchoolRag.choices]


def _decided(term: Term | None, schools: QuerySet[School]) -> dict[int, TermlyAssessment]:
    if term is None:
        return {}
    return {
        a.school_id: a
        for a in TermlyAssessment.objects.decided()
        .filter(term=term, school__in=schools)
        .select_related("school")
    }


def categories(term: Term | None, previous: Term | None, schools: QuerySet[School]) -> list[CategoryRow]:
    """Schools by their decided category this term, with last term's decision; most concern first."""
    now, before = _decided(term, schools), _decided(previous, schools)
    rows = [
        CategoryRow(
            school_name=a.school.name,
            urn=a.school.urn,
            rag=a.decided_rag,
            level=a.decided_level,
            previous_rag=before[sid].decided_rag if sid in before else "",
            previous_level=before[sid].decided_level if sid in before else "",
        )
        for sid, a in now.items()
    ]
    rows.sort(key=lambda r: (-LEVEL_SEVERITY[r.level], -RAG_SEVERITY[r.rag], r.school_name))
    return rows


def _cases(schools: QuerySet[School], start: dt.date, end: dt.date) -> tuple[list[CaseRow], list[CaseRow]]:
    opened = [
        CaseRow(c.school.name, c.school.urn, c.get_level_display(), c.started_on,
                f"Planned exit {c.planned_exit_on:%-d %B %Y}" if c.planned_exit_on else "")
        for c in SupportCase.objects.filter(school__in=schools, started_on__range=(start, end))
        .select_related("school").order_by("started_on", "pk")
    ]  # fmt: skip
    closed = [
        CaseRow(c.school.name, c.school.urn, c.get_level_display(), c.exit_agreed_on,
                f"Re-categorised to {c.get_recategorised_to_display().lower()}" if c.recategorised_to else "")
        for c in SupportCase.objects.filter(
            school__in=schools, status=CaseStatus.CLOSED, exit_agreed_on__range=(start, end)
        ).select_related("school").order_by("exit_agreed_on", "pk")
        if c.exit_agreed_on is not None
    ]  # fmt: skip
    return opened, closed


def _notices(schools: QuerySet[School], start: dt.date, end: dt.date) -> list[CaseRow]:
    return [
        CaseRow(n.school.name, n.school.urn, n.get_kind_display(), n.issued_on,
                f"{n.get_ground_display()}; {n.get_outcome_display().lower()}")
        for n in WarningNotice.objects.filter(school__in=schools, issued_on__range=(start, end))
        .select_related("school").order_by("issued_on", "pk")
        if n.issued_on is not None
    ]  # fmt: skip


def _previous_term(term: Term | None) -> Term | None:
    return term.previous() if term is not None else None


def half_termly_report(
    schools: QuerySet[School], intelligence: QuerySet[Any], period: Period
) -> CommissionerReport:
    """The half-termly update: categories from the term containing the period's end (changes against the
    term before), and what happened within the period."""
    term = term_for(period.end)
    previous = _previous_term(term)
    opened, closed = _cases(schools, period.start, period.end)
    return CommissionerReport(
        kind="half-termly",
        title=f"Half-termly update to the commissioner: {period}",
        period=period,
        term=term,
        previous_term=previous,
        categories=categories(term, previous, schools),
        concerns=significant_concerns(schools, intelligence, period.start, period.end),
        cases_opened=opened,
        cases_closed=closed,
        notices=_notices(schools, period.start, period.end),
    )


def annual_report(schools: QuerySet[School], intelligence: QuerySet[Any], year: int) -> CommissionerReport:
    """The annual report: the year's last term with decisions (changes against the previous year's last
    decided term), a per-term count by support level, and everything that happened in the year."""
    period = academic_year_period(year)
    terms = list(Term.objects.filter(academic_year=year).order_by("sort_key"))
    decided_terms = [t for t in terms if TermlyAssessment.objects.decided().filter(term=t).exists()]
    term = decided_terms[-1] if decided_terms else (terms[-1] if terms else None)
    previous = (
        Term.objects.filter(
            sort_key__lt=(term.sort_key if term else year * 10), assessments__decided_at__isnull=False
        )
        .exclude(academic_year=year)
        .order_by("-sort_key")
        .first()
    )
    summary = []
    for t in terms:
        counts = Counter(a.decided_level for a in _decided(t, schools).values())
        summary.append((str(t), {label: counts.get(value, 0) for value, label in SupportLevel.choices}))
    opened, closed = _cases(schools, period.start, period.end)
    return CommissionerReport(
        kind="annual",
        title=f"Annual report to the commissioner: {period.year_label}",
        period=period,
        term=term,
        previous_term=previous,
        categories=categories(term, previous, schools),
        concerns=significant_concerns(schools, intelligence, period.start, period.end),
        cases_opened=opened,
        cases_closed=closed,
        notices=_notices(schools, period.start, period.end),
        term_summary=summary,
    )


# ------------------------------------------------------------------------------------------------
# Building Back Stronger tracker and the Education Strategy Board report


def strategy_tree() -> list[Ambition]:
    """Ambitions with goals, pledges and actions (each action with its updates), in four queries."""
    actions = Action.objects.prefetch_related(
        Prefetch("updates", queryset=ActionUpdate.objects.select_related("term", "recorded_by"))
    )
    return list(
        Ambition.objects.prefetch_related(
            "goals",
            Prefetch("goals__pledges", queryset=Pledge.objects.order_by("number")),
            Prefetch("goals__pledges__actions", queryset=actions),
        )
    )


TRACKER_HEADERS = (
    "Ambition",
    "Goal",
    "Pledge",
    "Action",
    "Owner",
    "Milestone",
    "Progress (RAG)",
    "Latest update",
)


def tracker_rows(ambitions: list[Ambition]) -> list[tuple[Any, ...]]:
    """One row per action (and one per pledge without actions) for the tracker export."""
    rows: list[tuple[Any, ...]] = []
    for a in ambitions:
        for g in a.goals.all():
            for p in g.pledges.all():
                base = (f"{a.number}. {a.title}", f"{g.number}. {g.title}", p.text)
                actions = list(p.actions.all())
                if not actions:
                    rows.append((*base, "", "", None, "", ""))
                for act in actions:
                    latest = next(iter(act.updates.all()), None)
                    rows.append(
                        (*base, act.title, act.owner, act.milestone_on, act.get_rag_display(),
                         f"{latest.term}: {latest.progress}" if latest else "")
                    )  # fmt: skip
    return rows


@dataclass(frozen=True)
class BoardActionRow:
    ambition: str
    goal: str
    pledge: str
    action: str
    owner: str
    milestone_on: dt.date
    rag: str
    term_rag: str
    progress: str
    overdue: bool


@dataclass
class BoardReport:
    title: str
    term: Term
    rows: list[BoardActionRow]
    pledges_without_actions: int
    pledges: int

    @property
    def rag_counts(self) -> list[tuple[str, int]]:
        counts = Counter(r.rag for r in self.rows)
        return [(label, counts.get(label, 0)) for _, label in Rag.choices]

    @property
    def overdue(self) -> list[BoardActionRow]:
        return [r for r in self.rows if r.overdue]


def board_report(term: Term, today: dt.date | None = None) -> BoardReport:
    """Termly progress report for the Education Strategy Board: every action with its current RAG and the
    update recorded for `term` (if any); milestones past and not complete are overdue."""
    today = today or dt.date.today()
    rows: list[BoardActionRow] = []
    pledges = without = 0
    for ambition in strategy_tree():
        for goal in ambition.goals.all():
            for pledge in goal.pledges.all():
                pledges += 1
                actions = list(pledge.actions.all())
                if not actions:
                    without += 1
                for action in actions:
                    update = next((u for u in action.updates.all() if u.term_id == term.pk), None)
                    rows.append(
                        BoardActionRow(
                            ambition=f"Ambition {ambition.number}: {ambition.title}",
                            goal=f"Goal {goal.number}: {goal.title}",
                            pledge=pledge.text,
                            action=action.title,
                            owner=action.owner,
                            milestone_on=action.milestone_on,
                            rag=action.get_rag_display(),
                            term_rag=update.get_rag_display() if update else "No update",
                            progress=update.progress if update else "",
                            overdue=action.milestone_on < today and action.rag != Rag.COMPLETE,
                        )
                    )
    return BoardReport(
        title=f"Building Back Stronger: progress report to the Education Strategy Board, {term}",
        term=term,
        rows=rows,
        pledges_without_actions=without,
        pledges=pledges,
    )


# ------------------------------------------------------------------------------------------------
# Commission outputs (Table 1)


def commission_areas() -> list[CommissionArea]:
    return list(
        CommissionArea.objects.prefetch_related(
            Prefetch(
                "outputs",
                queryset=CommissionOutput.objects.prefetch_related("evidence__recorded_by").order_by(
                    "number"
                ),
            )
        )
    )


OUTPUT_HEADERS = (
    "Area",
    "Area title",
    "Output",
    "Expected delivery",
    "Status",
    "Evidence items",
    "Latest evidence",
)


def output_rows(areas: list[CommissionArea]) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = []
    for area in areas:
        for o in area.outputs.all():
            evidence = list(o.evidence.all())
            rows.append(
                (area.number, area.title, o.output, "; ".join(o.delivery_items), o.get_status_display(),
                 len(evidence), evidence[0].evidenced_on if evidence else None)
            )  # fmt: skip
    return rows
