"""Read side of the termly risk process: register rows, direction of travel, term-on-term diffs and the
SRAS meeting pack. Scoping always comes from beacon.core.permissions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet

from beacon.accounts.models import SchoolAssignment
from beacon.assessments import engine
from beacon.assessments.models import RAG_SEVERITY, Intelligence, SRASMeeting, TermlyAssessment
from beacon.core import permissions
from beacon.earlywarning import selectors as earlywarning
from beacon.risk.models import CriterionResult, Term
from beacon.schools.models import School

IMPROVING, DECLINING, SAME, NEW = "improving", "declining", "same", "new"
DIRECTION_LABELS = {IMPROVING: "Improving", DECLINING: "Declining", SAME: "No change", NEW: "New"}


def term_for_date(day: dt.date) -> Term:
    if day.month >= 9:
        return Term.parse(f"autumn-{day.year}")
    if day.month <= 3 or (day.month == 4 and day.day < 15):
        return Term.parse(f"spring-{day.year - 1}")
    return Term.parse(f"summer-{day.year - 1}")


def current_term(slug: str | None = None) -> Term:
    """The term asked for, else the latest term with results or assessments, else today's term."""
    if slug:
        try:
            found = Term.objects.filter(
                term=slug.split("-")[0], academic_year=int(slug.split("-")[1])
            ).first()
        except (IndexError, ValueError):
            found = None
        if found is not None:
            return found
        try:
            return Term.parse(slug)
        except ValueError:
            pass
    latest = (
        Term.objects.filter(results__isnull=False).order_by("-sort_key").first()
        or Term.objects.filter(assessments__isnull=False).order_by("-sort_key").first()
    )
    return latest or term_for_date(dt.date.today())


def previous_assessment(school: School, term: Term) -> TermlyAssessment | None:
    return (
        TermlyAssessment.objects.filter(school=school, term__sort_key__lt=term.sort_key)
        .exclude(decided_rag="")
        .select_related("term")
        .order_by("-term__sort_key")
        .first()
    )


def direction(current_rag: str, previous_rag: str | None) -> str:
    """Compare a RAG with last term's decided RAG: improving / declining / same / new."""
    if not previous_rag or not current_rag:
        return NEW
    now, before = RAG_SEVERITY[current_rag], RAG_SEVERITY[previous_rag]
    if now < before:
        return IMPROVING
    if now > before:
        return DECLINING
    return SAME


def direction_of_travel(assessment: TermlyAssessment) -> str:
    prev = previous_assessment(assessment.school, assessment.term)
    return direction(assessment.rag, prev.decided_rag if prev else None)


@dataclass
class TermDiff:
    term: Term
    previous_term: Term | None
    newly_met: list[CriterionResult] = field(default_factory=list)
    no_longer_met: list[CriterionResult] = field(default_factory=list)
    rag_change: tuple[str, str] | None = None
    level_change: tuple[str, str] | None = None
    direction: str = NEW

    @property
    def has_changes(self) -> bool:
        return bool(self.newly_met or self.no_longer_met or self.rag_change or self.level_change)


def _met(school: School, term: Term) -> dict[int, CriterionResult]:
    return {
        r.criterion_id: r
        for r in CriterionResult.objects.filter(school=school, term=term, outcome="met").select_related(
            "criterion"
        )
    }


def term_diff(school: School, term: Term) -> TermDiff:
    """What changed since the previous term: criteria newly met / no longer met, RAG and level."""
    prev_term = term.previous()
    diff = TermDiff(term=term, previous_term=prev_term)
    now = TermlyAssessment.objects.filter(school=school, term=term).first()
    before = previous_assessment(school, term)
    if prev_term is not None:
        met_now, met_before = _met(school, term), _met(school, prev_term)
        diff.newly_met = sorted(
            (r for c, r in met_now.items() if c not in met_before), key=lambda r: r.criterion.sort_order
        )
        diff.no_longer_met = sorted(
            (r for c, r in met_before.items() if c not in met_now), key=lambda r: r.criterion.sort_order
        )
    if now is not None and before is not None:
        if now.rag and now.rag != before.decided_rag:
            diff.rag_change = (before.decided_rag, now.rag)
        if now.level and now.level != before.decided_level:
            diff.level_change = (before.decided_level, now.level)
    diff.direction = direction(now.rag if now else "", before.decided_rag if before else None)
    return diff


@dataclass
class RegisterRow:
    school: School
    assessment: TermlyAssessment | None
    risk_score: float | None
    direction: str
    previous_rag: str
    advisers: list[str]
    probability: float | None = None  # early-warning model (beacon.earlywarning), stored scores
    watch: bool = False

    @property
    def rag(self) -> str:
        return self.assessment.rag if self.assessment else ""

    @property
    def level(self) -> str:
        return self.assessment.level if self.assessment else ""


@dataclass
class RegisterFilters:
    rags: list[str] = field(default_factory=list)
    levels: list[str] = field(default_factory=list)
    phases: list[str] = field(default_factory=list)
    adviser: str = ""

    @classmethod
    def from_query(cls, q: Any) -> RegisterFilters:
        return cls(
            rags=[v for v in q.getlist("rag") if v in RAG_SEVERITY],
            levels=[v for v in q.getlist("level") if v in {"universal", "focused", "targeted"}],
            phases=[v for v in q.getlist("phase") if v],
            adviser=q.get("adviser", "") or "",
        )


def advisers_by_school(schools: QuerySet[School]) -> dict[int, list[tuple[int, str]]]:
    today = dt.date.today()
    out: dict[int, list[tuple[int, str]]] = {}
    for a in SchoolAssignment.objects.filter(school__in=schools, user__role="adviser").select_related("user"):
        if (a.started_on and a.started_on > today) or (a.ended_on and a.ended_on < today):
            continue
        out.setdefault(a.school_id, []).append((a.user_id, str(a.user)))
    return out


def register_rows(user: Any, term: Term, filters: RegisterFilters | None = None) -> list[RegisterRow]:
    """The risk register for what this user may see, riskiest first."""
    f = filters or RegisterFilters()
    schools = permissions.current_risk_register_schools(user)
    if f.phases:
        schools = schools.filter(phase__in=f.phases)
    advisers = advisers_by_school(schools)
    if f.adviser:
        schools = schools.filter(
            pk__in=[s for s, a in advisers.items() if any(str(u) == f.adviser for u, _ in a)]
        )
    assessments = {a.school_id: a for a in TermlyAssessment.objects.filter(term=term, school__in=schools)}
    previous: dict[int, str] = {}
    for school_id, decided_rag in (
        TermlyAssessment.objects.filter(school__in=schools, term__sort_key__lt=term.sort_key)
        .exclude(decided_rag="")
        .order_by("term__sort_key")
        .values_list("school_id", "decided_rag")
    ):
        previous[school_id] = decided_rag
    scores = engine.risk_scores(term)
    model_scores = earlywarning.latest_scores(schools.values_list("pk", flat=True), term.start_date)
    threshold = earlywarning.watch_probability()
    rows = []
    for school in schools.order_by("name"):
        a = assessments.get(school.pk)
        ms = model_scores.get(school.pk)
        rows.append(
            RegisterRow(
                school=school,
                assessment=a,
                risk_score=scores.get(school.pk),
                direction=direction(a.rag if a else "", previous.get(school.pk)),
                previous_rag=previous.get(school.pk, ""),
                advisers=[n for _, n in advisers.get(school.pk, [])],
                probability=ms.probability if ms else None,
                watch=earlywarning.is_watch(
                    ms.probability if ms else None, a.rag if a else "", a.level if a else "", threshold
                ),
            )
        )
    if f.rags:
        rows = [r for r in rows if r.rag in f.rags]
    if f.levels:
        rows = [r for r in rows if r.level in f.levels]
    # The model's probability first, then the Appendix A score (with judgements recorded by people).
    rows.sort(
        key=lambda r: (
            -(r.probability if r.probability is not None else -1.0),
            -(r.risk_score if r.risk_score is not None else -1.0),
            -RAG_SEVERITY.get(r.rag, -1),
            r.school.name,
        )
    )
    return rows


def adviser_choices(user: Any) -> list[tuple[str, str]]:
    seen: dict[int, str] = {}
    for items in advisers_by_school(permissions.current_risk_register_schools(user)).values():
        for uid, name in items:
            seen[uid] = name
    return sorted(((str(k), v) for k, v in seen.items()), key=lambda kv: kv[1])


def last_meeting_before(term: Term, before: dt.date | None = None) -> SRASMeeting | None:
    qs = SRASMeeting.objects.all()
    if before is not None:
        qs = qs.filter(date__lt=before)
    return qs.order_by("-date").first()


@dataclass
class PackSchool:
    row: RegisterRow
    diff: TermDiff
    new_intelligence: list[Intelligence]


@dataclass
class MeetingPack:
    term: Term
    meeting: SRASMeeting | None
    since: dt.date | None
    schools: list[PackSchool]
    generated_at: dt.datetime
    viewer: Any


def meeting_pack(user: Any, term: Term, meeting: SRASMeeting | None = None) -> MeetingPack:
    """Red and amber schools (decided, or proposed while undecided), changes since last term, and
    intelligence recorded since the previous SRAS meeting that this user may read."""
    from django.utils import timezone

    anchor = meeting.date if meeting else None
    previous = last_meeting_before(term, anchor if anchor else dt.date.today() + dt.timedelta(days=1))
    if meeting is not None and previous is not None and previous.pk == meeting.pk:
        previous = None
    since = previous.date if previous else None
    out: list[PackSchool] = []
    for row in register_rows(user, term):
        if row.rag not in {"red", "amber"}:
            continue
        notes = permissions.visible_intelligence(user, row.school).filter(withdrawn_at__isnull=True)
        if since is not None:
            notes = notes.filter(date__gt=since)
        out.append(PackSchool(row=row, diff=term_diff(row.school, term), new_intelligence=list(notes)))
    out.sort(key=lambda p: (-RAG_SEVERITY[p.row.rag], p.row.school.name))
    return MeetingPack(
        term=term, meeting=meeting, since=since, schools=out, generated_at=timezone.now(), viewer=user
    )
