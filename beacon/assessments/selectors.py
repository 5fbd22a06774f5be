"""Read side of the termly risk process: register rows, direction of travel, term-on-term diffs and the
SRAS meeting pack. Scoping always comes from beacon.permissions, through the caller: the views pass the
schools (`current_risk_register_schools(user)`) and the intelligence the user may read; nothing here asks
the policy (decision 0022)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.http import Http404

from beacon.accounts.models import SchoolAssignment
from beacon.accounts.roles import Role
from beacon.assessments import engine
from beacon.assessments.models import (
    RAG_SEVERITY,
    RANK_NONE,
    Intelligence,
    JudgementRecord,
    SRASMeeting,
    TermlyAssessment,
)
from beacon.core.terms import term_of
from beacon.earlywarning import selectors as earlywarning
from beacon.risk.models import CriterionResult, Term
from beacon.schools.models import School

IMPROVING, DECLINING, SAME, NEW = "improving", "declining", "same", "new"
DIRECTION_LABELS = {IMPROVING: "Improving", DECLINING: "Declining", SAME: "No change", NEW: "New"}


def term_for_date(day: dt.date) -> Term | None:
    """The existing term containing `day`, or None (terms are created by staff, never by reading)."""
    season, year = term_of(day)
    return Term.find(f"{season}-{year}")


def current_term(slug: str | None = None) -> Term:
    """The term asked for (404 if no such term exists), else the latest term with results or assessments,
    else today's term, else the latest term. Never creates a term: 404 when there is none."""
    if slug:
        found = Term.find(slug)
        if found is None:
            raise Http404("There is no such term. Terms are created by the director on the risk register.")
        return found
    latest = (
        Term.objects.live() or term_for_date(dt.date.today()) or Term.objects.order_by("-sort_key").first()
    )
    if latest is None:
        raise Http404("No term has been created yet.")
    return latest


def previous_assessment(school: School, term: Term) -> TermlyAssessment | None:
    return (
        TermlyAssessment.objects.rated()
        .before(term)
        .filter(school=school)
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


def previous_real_term(term: Term) -> Term | None:
    """The latest earlier term that staff assessed (at least one decision recorded): never a term that only
    exists because a page was opened, nor one the engine evaluated that nobody decided on."""
    return Term.objects.before(term).filter(assessments__decided_at__isnull=False).distinct().first()


def term_diff(school: School, term: Term) -> TermDiff:
    """What changed since the previous real term (previous_real_term): criteria newly met / no longer
    met, RAG and level."""
    prev_term = previous_real_term(term)
    diff = TermDiff(term=term, previous_term=prev_term)
    now = TermlyAssessment.objects.filter(school=school, term=term).first()
    before = (
        TermlyAssessment.objects.rated().filter(school=school, term=prev_term).first()
        if prev_term is not None
        else None
    )
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
    # What the register ranks by: the probability, lifted to the watch threshold where people recorded a
    # judgement criterion as applying this term (earlywarning.ranking_probability).
    ranking_probability: float | None = None

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
    # From the assignments (few) to the schools, not the reverse: `school__in=schools` would list every
    # school the user sees (all of England for a national user) to keep a handful of assignments.
    for a in SchoolAssignment.objects.filter(
        Exists(schools.order_by().filter(pk=OuterRef("school_id"))), user__role=Role.ADVISER
    ).select_related("user"):
        if (a.started_on and a.started_on > today) or (a.ended_on and a.ended_on < today):
            continue
        out.setdefault(a.school_id, []).append((a.user_id, str(a.user)))
    return out


REGISTER_PAGE_SIZE = 100


def _register_base(scope: QuerySet[School], f: RegisterFilters) -> QuerySet[School]:
    """The schools among `scope` the register's filters on schools (phase, adviser) keep."""
    # The scope's own conditions, so the database can choose its indexes (a distinct scope, e.g. an
    # adviser's assignments, through its keys).
    qs = School.objects.filter(pk__in=scope.values("pk")) if scope.query.distinct else scope.all()
    if f.phases:
        qs = qs.filter(phase__in=f.phases)
    if f.adviser:
        if (
            not (f.adviser.isascii() and f.adviser.isdigit()) or len(f.adviser) > 18
        ):  # an id, not a number SQL cannot hold
            return qs.none()
        today = dt.date.today()
        qs = qs.filter(
            pk__in=SchoolAssignment.objects.filter(user_id=int(f.adviser), user__role=Role.ADVISER)
            .filter(Q(started_on__isnull=True) | Q(started_on__lte=today))
            .filter(Q(ended_on__isnull=True) | Q(ended_on__gte=today))
            .values("school_id")
        )
    return qs


def _assessment_q(term: Term, f: RegisterFilters, to: str = "") -> Q:
    """The term's assessment, with the RAG and level filters (decided, or proposed while undecided), as
    conditions on TermlyAssessment reached through `to` ("termly_assessments__" from a school)."""
    q = Q(**{f"{to}term": term})
    if f.rags:
        q &= Q(**{f"{to}decided_rag__in": f.rags}) | Q(
            **{f"{to}decided_rag": "", f"{to}proposed_rag__in": f.rags}
        )
    if f.levels:
        q &= Q(**{f"{to}decided_level__in": f.levels}) | Q(
            **{f"{to}decided_level": "", f"{to}proposed_level__in": f.levels}
        )
    return q


def _rank_q(compare: str, to: str = "") -> Q:
    """The stored ranking key (TermlyAssessment.rank_*) against the key of a school without one (RANK_NONE
    in each part), compared lexicographically: "gt" above it, "lt" below it (a negative score)."""
    p, s, r = (f"{to}rank_probability", f"{to}rank_score", f"{to}rank_severity")
    return (
        Q(**{f"{p}__{compare}": RANK_NONE})
        | Q(**{p: RANK_NONE, f"{s}__{compare}": RANK_NONE})
        | Q(**{p: RANK_NONE, s: RANK_NONE, f"{r}__{compare}": RANK_NONE})
    )


def _none_key(to: str = "") -> Q:
    return Q(
        **{f"{to}rank_probability": RANK_NONE, f"{to}rank_score": RANK_NONE, f"{to}rank_severity": RANK_NONE}
    )


# From this many schools in the (filtered) scope the register checks the scope school by school as it reads
# the ranking index, rather than joining it: with ANALYZE statistics SQLite would read a joined scope of most
# of England first and sort it all; an LA's schools are still read first (a few dozen, then sorted).
WIDE_SCOPE = 2000


class RegisterSchools:
    """The register's schools in order, as Django's Paginator reads them (`count()`, slices).

    Three parts, each its own query: the schools ranked above "nothing known" in the order of the stored
    key (read from the index `assessment_register_rank`, so a page does not sort every school in England),
    then the schools with nothing known or no assessment this term, by name (as the key orders them: all
    ties), then any ranked below that (a negative score). A slice reads the parts it covers only.
    `parts(wide)`: the three querysets, for a scope of WIDE_SCOPE schools or more (wide) or fewer."""

    def __init__(self, parts: Callable[[bool], list[QuerySet[School]]], counted: QuerySet[School]) -> None:
        self._parts = parts
        self._counted = counted
        self._count: int | None = None

    def count(self) -> int:
        if self._count is None:
            self._count = self._counted.count()
        return self._count

    @property
    def parts(self) -> list[QuerySet[School]]:
        return self._parts(self.count() >= WIDE_SCOPE)

    def __getitem__(self, k: slice) -> list[School]:
        start, stop = k.start or 0, k.stop if k.stop is not None else self.count()
        out: list[School] = []
        offset = 0  # the position of the current part's first row in the register
        for part in self.parts:
            if stop <= offset:
                break
            lo, hi = max(start - offset, 0), stop - offset
            rows = list(part[lo:hi])
            out += rows
            if len(rows) == hi - lo:
                break
            # The part ended before the window did: its size is known from the rows read, unless the
            # window starts past its end.
            offset += lo + len(rows) if rows or lo == 0 else part.count()
        return out

    def __iter__(self) -> Iterator[School]:
        for part in self.parts:
            yield from part


def register_schools(
    scope: QuerySet[School], term: Term, filters: RegisterFilters | None = None
) -> RegisterSchools:
    """The register's schools among `scope` (the policy's `current_risk_register_schools(user)`), filtered
    and sorted from the stored proposals and figures (decision 0027): the model's probability (lifted to
    the watch threshold where people recorded a judgement criterion as applying), then the Appendix A score
    (which counts those judgements too), then RAG (decided, or proposed), then name - the stored ranking key
    (`TermlyAssessment.rank_*`), a school without an assessment this term ranking as one with none of them.
    Nothing is computed for schools not shown."""
    f = filters or RegisterFilters()
    schools = _register_base(scope, f)
    ta = "termly_assessments__"

    def ranked(compare: str, wide: bool) -> QuerySet[School]:
        # One filter() call: one inner join of the term's assessment, which the ordering reuses, so the
        # database can read the schools in the order of the index `assessment_register_rank`.
        base = School.objects.filter(Exists(schools.filter(pk=OuterRef("pk")))) if wide else schools
        return (
            base.filter(_assessment_q(term, f, ta) & _rank_q(compare, ta))
            .annotate(
                rank_p=F(f"{ta}rank_probability"), rank_s=F(f"{ta}rank_score"), rank_r=F(f"{ta}rank_severity")
            )
            .order_by(F("rank_p").desc(), F("rank_s").desc(), F("rank_r").desc(), "name", "pk")
        )

    this_term = TermlyAssessment.objects.filter(term=term, school=OuterRef("pk"))
    unranked = schools.exclude(Exists(this_term.exclude(_none_key())))
    if f.rags or f.levels:  # only schools with an assessment can match a RAG or level
        unranked = unranked.filter(Exists(this_term.filter(_assessment_q(term, f))))

    def parts(wide: bool) -> list[QuerySet[School]]:
        return [ranked("gt", wide), unranked.order_by("name", "pk"), ranked("lt", wide)]

    # Every school kept is in exactly one part: count them without reading the parts.
    counted = (
        schools.filter(Exists(this_term.filter(_assessment_q(term, f)))) if f.rags or f.levels else schools
    )
    return RegisterSchools(parts, counted)


def build_register_rows(schools: list[School], term: Term) -> list[RegisterRow]:
    """Register rows for these schools (in the order given): a few queries for all of them together."""
    ids = [s.pk for s in schools]
    assessments = {a.school_id: a for a in TermlyAssessment.objects.filter(term=term, school_id__in=ids)}
    previous: dict[int, str] = {}
    for school_id, decided_rag in (
        TermlyAssessment.objects.rated()
        .before(term)
        .filter(school_id__in=ids)
        .order_by("term__sort_key")
        .values_list("school_id", "decided_rag")
    ):
        previous[school_id] = decided_rag
    advisers = advisers_by_school(School.objects.filter(pk__in=ids))
    threshold = earlywarning.watch_probability()
    rows = []
    for school in schools:
        a = assessments.get(school.pk)
        p = a.probability if a else None
        rows.append(
            RegisterRow(
                school=school,
                assessment=a,
                risk_score=a.risk_score if a else None,
                direction=direction(a.rag if a else "", previous.get(school.pk)),
                previous_rag=previous.get(school.pk, ""),
                advisers=[n for _, n in advisers.get(school.pk, [])],
                probability=p,
                watch=earlywarning.is_watch(p, a.rag if a else "", a.level if a else "", threshold),
                ranking_probability=earlywarning.ranking_probability(p, bool(a and a.judged), threshold),
            )
        )
    return rows


def register_rows(
    scope: QuerySet[School], term: Term, filters: RegisterFilters | None = None
) -> list[RegisterRow]:
    """The whole risk register for the schools in `scope` (what the user may see), riskiest first (exports
    and the SRAS pack; the page shows `register_page`)."""
    return build_register_rows(list(register_schools(scope, term, filters)), term)


@dataclass
class RegisterPage:
    rows: list[RegisterRow]
    page: Any  # django.core.paginator.Page of schools


def register_page(
    scope: QuerySet[School], term: Term, filters: RegisterFilters | None = None, number: Any = 1
) -> RegisterPage:
    """One page of the register (REGISTER_PAGE_SIZE schools): the rows are built for that page only."""
    from django.core.paginator import Paginator

    schools: Any = register_schools(scope, term, filters)  # count() and slices, as Paginator reads them
    page = Paginator(schools, REGISTER_PAGE_SIZE).get_page(number)
    return RegisterPage(rows=build_register_rows(list(page.object_list), term), page=page)


def adviser_choices(scope: QuerySet[School]) -> list[tuple[str, str]]:
    """The advisers assigned to the schools in `scope` (the register's schools), by name."""
    seen: dict[int, str] = {}
    for items in advisers_by_school(scope).values():
        for uid, name in items:
            seen[uid] = name
    return sorted(((str(k), v) for k, v in seen.items()), key=lambda kv: kv[1])


def last_meeting_before(term: Term, before: dt.date | None = None) -> SRASMeeting | None:
    qs = SRASMeeting.objects.all()
    if before is not None:
        qs = qs.filter(date__lt=before)
    return qs.order_by("-date").first()


@dataclass
class PackEvidence:
    """One evidence table of a criterion in the pack: a measure against a benchmark, year by year."""

    caption: str
    rows: list[tuple[str, str, str]]  # (year, school value, benchmark)


@dataclass
class PackCriterion:
    ref: str
    text: str
    source: str  # "data" or "judgement"
    explanation: str
    evidence: list[PackEvidence] = field(default_factory=list)
    latest_year: int | None = None


def _num(v: Any, decimals: int = 1) -> str:
    if v is None:
        return "no data"
    if isinstance(v, int | float):
        return f"{v:.{decimals}f}"
    return str(v)


def evidence_caption(item: dict[str, Any]) -> str:
    """What an evidence item compares, in words: 'Attainment 8 score against London', never a measure code."""
    from beacon.indicators.catalogue import BY_CODE

    measure = str(item.get("measure", ""))
    label = BY_CODE[measure].label if measure in BY_CODE else measure.replace("_", " ")
    comp = item.get("comparator")
    kind = item.get("benchmark_kind")
    if comp == "threshold":
        caption = f"{label} against the threshold"
    elif comp:
        caption = f"{label} against {'England' if comp == 'national' else str(comp).capitalize()}"
    elif kind == "median_same_phase":
        caption = f"{label} against the median of {item.get('median_schools')} same-phase schools {item.get('median_scope', '')}".strip()
    elif kind == "england":
        caption = f"{label} against England"
    elif "gaps" in item:
        caption = f"{label} against other pupils nationally"
    else:
        caption = label
    return caption


def with_captions(results: list[Any]) -> list[Any]:
    """The results with a caption on each evidence item, for display only (the stored evidence is unchanged:
    each result gets a copy of its evidence)."""
    for r in results:
        ev = r.evidence or {}
        items = ev.get("items")
        if isinstance(items, list):
            r.evidence = {
                **ev,
                "items": [{**i, "caption": evidence_caption(i)} if isinstance(i, dict) else i for i in items],
            }
    return results


def pack_evidence(evidence: dict[str, Any]) -> list[PackEvidence]:
    """The values and benchmarks of a result's evidence items, as text rows (nothing cut)."""
    from beacon.core.formatting import academic_year
    from beacon.indicators.catalogue import BY_CODE

    out: list[PackEvidence] = []
    for item in evidence.get("items", []):
        years, values = item.get("years"), item.get("values")
        if not isinstance(years, list) or not isinstance(values, list):
            continue
        measure = str(item.get("measure", ""))
        decimals = BY_CODE[measure].decimals if measure in BY_CODE else 1
        caption = evidence_caption(item)
        bench = item.get("benchmark")
        statuses = item.get("statuses") or []
        rows = []
        for i, y in enumerate(years):
            v = values[i] if i < len(values) else None
            b = bench[i] if isinstance(bench, list) and i < len(bench) else bench
            shown = _num(v, decimals)
            if v is None and i < len(statuses) and statuses[i]:
                shown = str(statuses[i]).replace("_", " ")
            rows.append(
                (
                    academic_year(y) if isinstance(y, int) else str(y),
                    shown,
                    "" if b is None and bench is None else _num(b, decimals),
                )
            )
        sim = item.get("similar_schools")
        if isinstance(sim, list) and any(x is not None for x in sim):
            for i, y in enumerate(years):
                if i < len(sim) and sim[i] is not None:
                    rows.append(
                        (
                            f"{academic_year(y)}, similar-intake schools (median)",
                            _num(values[i], decimals),
                            _num(sim[i], decimals),
                        )
                    )
        out.append(PackEvidence(caption=caption, rows=rows))
    return out


@dataclass
class PackSchool:
    row: RegisterRow
    diff: TermDiff
    new_intelligence: list[Intelligence]
    met: list[PackCriterion] = field(default_factory=list)
    stale: list[PackCriterion] = field(default_factory=list)


@dataclass
class MeetingPack:
    term: Term
    meeting: SRASMeeting | None
    since: dt.date | None
    schools: list[PackSchool]
    generated_at: dt.datetime
    viewer: Any
    previous_term: Term | None = None


def _pack_criteria(school: School, term: Term) -> tuple[list[PackCriterion], list[PackCriterion]]:
    """(criteria met: data results and judgements, judgements in place of data results; stale evidence)."""

    judged = {
        j.criterion_id: j
        for j in JudgementRecord.objects.filter(school=school, term=term).select_related("criterion")
    }
    met: list[tuple[int, PackCriterion]] = []
    stale: list[PackCriterion] = []
    for r in engine.results_for_school(school, term):
        if r.criterion_id in judged:
            continue
        if r.outcome == "met":
            met.append(
                (
                    r.criterion.sort_order,
                    PackCriterion(
                        ref=r.criterion.ref,
                        text=r.criterion.text,
                        source="data",
                        explanation=r.explanation,
                        evidence=pack_evidence(r.evidence),
                        latest_year=r.evidence.get("latest_year"),
                    ),
                )
            )
        elif r.outcome == "stale_evidence":
            stale.append(
                PackCriterion(
                    ref=r.criterion.ref,
                    text=r.criterion.text,
                    source="data",
                    explanation=r.explanation,
                    latest_year=r.evidence.get("latest_year"),
                )
            )
    for j in judged.values():
        if j.applies:
            met.append(
                (
                    j.criterion.sort_order,
                    PackCriterion(
                        ref=j.criterion.ref,
                        text=j.criterion.text,
                        source="judgement",
                        explanation=f"Judgement recorded {j.recorded_at:%-d %B %Y} ({j.get_source_display()}): {j.reason}",
                    ),
                )
            )
    met.sort(key=lambda x: x[0])
    return [c for _, c in met], stale


def meeting_pack(
    scope: QuerySet[School],
    term: Term,
    meeting: SRASMeeting | None = None,
    *,
    intelligence: Callable[[School], QuerySet[Intelligence]],
    viewer: Any,
) -> MeetingPack:
    """Red and amber schools among `scope` (decided, or proposed while undecided): each criterion met with
    its values and benchmarks, evidence that is not current with its year, changes since the previous real
    term, and intelligence RECORDED since the previous SRAS meeting (whatever date it was received) that
    the viewer may read: `intelligence(school)` gives it (the policy's `visible_intelligence`)."""
    from django.utils import timezone

    anchor = meeting.date if meeting else None
    previous = last_meeting_before(term, anchor if anchor else dt.date.today() + dt.timedelta(days=1))
    if meeting is not None and previous is not None and previous.pk == meeting.pk:
        previous = None
    since = previous.date if previous else None
    out: list[PackSchool] = []
    for row in register_rows(scope, term):
        if row.rag not in {"red", "amber"}:
            continue
        notes = intelligence(row.school).filter(withdrawn_at__isnull=True)
        if since is not None:
            notes = notes.filter(created_at__date__gt=since)
        if anchor is not None:
            notes = notes.filter(created_at__date__lte=anchor)
        met, stale = _pack_criteria(row.school, term)
        out.append(
            PackSchool(
                row=row,
                diff=term_diff(row.school, term),
                new_intelligence=list(notes.order_by("created_at")),
                met=met,
                stale=stale,
            )
        )
    out.sort(key=lambda p: (-RAG_SEVERITY[p.row.rag], p.row.school.name))
    return MeetingPack(
        term=term,
        meeting=meeting,
        since=since,
        schools=out,
        generated_at=timezone.now(),
        viewer=viewer,
        previous_term=previous_real_term(term),
    )
