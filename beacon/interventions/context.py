"""The values of a letter, from the record it is about: a support case (initial meeting, congratulations,
significant concerns), a review meeting (its summary), a decided termly assessment (categorisation after
the SRAS meeting) or a warning notice. Every letter is dated (`today`, passed in) and addressed to the
headteacher and the chair of governors at the school's address. Values that are not recorded are left
out, so `letters.render_letter` refuses the letter with the reason instead of printing a gap."""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any

from django.db.models import Q

from beacon.accounts.roles import Role
from beacon.assessments.models import Rag, SupportLevel
from beacon.interventions.letters import LetterRefused
from beacon.interventions.models import Ground, LetterKind, NoticeKind, Outcome, WarningNotice
from beacon.support.models import MeetingKind, ReviewMeeting, SupportCase

FMT = "%-d %B %Y"

WHAT_FOLLOWS = {
    SupportLevel.UNIVERSAL: (
        "universal support: three termly half-day visits from your Camden Learning professional partner "
        "(CPP), with the school's core offer of training and networks."
    ),
    SupportLevel.FOCUSED: (
        "focused support: an initial meeting with the headteacher, your CPP and the Director of Learning and "
        "Impact within four weeks, to agree up to three key priorities and the expected outcomes; termly "
        "review meetings; one and a half additional days of CPP time."
    ),
    SupportLevel.TARGETED: (
        "targeted support: an initial meeting chaired by the Targeted Support Chair with the headteacher, "
        "the chair of governors and your CPP within four weeks, to agree up to four key priorities and the "
        "expected outcomes; review meetings every 8 to 10 weeks; up to six additional days of CPP time and "
        "brokered support."
    ),
}

CONSEQUENCES: dict[str, str] = {
    Ground.PAY_CONDITIONS: (
        "If the governing body fails to comply, or to secure compliance, within the compliance period, the "
        "school becomes eligible for intervention under sections 64 to 66 of the Education and Inspections "
        "Act 2006, and the local authority may use those powers within two months after the period ends."
    ),
}
DEFAULT_CONSEQUENCES = (
    "If the governing body fails to comply, or to secure compliance, within the compliance period, the "
    "school becomes eligible for intervention: the local authority may appoint additional governors, "
    "suspend the delegated budget or replace the governing body with an interim executive board "
    "(sections 63 to 66 of the Education and Inspections Act 2006), and the school may be made a "
    "sponsored academy."
)


def _date(day: dt.date | None) -> str:
    return day.strftime(FMT) if day else ""


def _person(user: Any) -> str:
    if user is None:
        return ""
    title = getattr(user, "job_title", "") or (user.get_role_display() if hasattr(user, "role") else "")
    return f"{user}, {title}" if title else str(user)


def school_address(school: Any) -> str:
    return ", ".join(p.strip() for p in (school.street, school.locality, school.town, school.postcode) if p)


def chair_of_governors(school: Any, today: dt.date) -> str:
    """The chair of governors assigned to the school in Beacon, else the office itself."""
    from beacon.accounts.models import SchoolAssignment

    a = (
        SchoolAssignment.objects.filter(school=school, user__role=Role.CHAIR, user__is_active=True)
        .filter(Q(started_on__isnull=True) | Q(started_on__lte=today))
        .filter(Q(ended_on__isnull=True) | Q(ended_on__gte=today))
        .select_related("user")
        .order_by("pk")
        .first()
    )
    return f"{a.user} (Chair of Governors)" if a else "Chair of Governors"


def addressed(school: Any, *, today: dt.date, signatory: Any) -> dict[str, Any]:
    return {
        "letter_date": _date(today),
        "school_name": school.name,
        "urn": school.urn,
        "school_address": school_address(school),
        "head_name": school.head_name,
        "chair_name": chair_of_governors(school, today),
        "signatory": _person(signatory),
    }


def _priorities(case: SupportCase) -> str:
    return "; ".join(f"{p.title} ({p.get_area_display().lower()})" for p in case.priorities.all())


def warning_notice_blocking(school: Any) -> WarningNotice | None:
    """An active (issued, awaiting its outcome) or failed notice: no congratulations letter then."""
    return (
        WarningNotice.objects.filter(school=school)
        .filter(Q(issued_on__isnull=False, outcome=Outcome.PENDING) | Q(outcome=Outcome.NOT_COMPLIED))
        .order_by("-issued_on", "-pk")
        .first()
    )


def _congratulations_allowed(school: Any) -> None:
    n = warning_notice_blocking(school)
    if n is not None:
        state = (
            "the governing body failed to comply"
            if n.outcome == Outcome.NOT_COMPLIED
            else ("it awaits its outcome")
        )
        raise LetterRefused(
            f"No congratulations letter: {school.name} is under a {n.get_kind_display().lower()} issued on "
            f"{_date(n.issued_on) or 'a date not recorded'} ({state})."
        )


def latest_decision(school: Any, today: dt.date) -> Any:
    from beacon.support.dates import academic_year
    from beacon.support.services import latest_decided_assessment

    return latest_decided_assessment(school, academic_year(today))


def categorisation_context(assessment: Any, *, today: dt.date, signatory: Any) -> dict[str, Any]:
    """After the SRAS meeting's decision: the category (RAG), the support level and what follows."""
    level = assessment.decided_level
    return addressed(assessment.school, today=today, signatory=signatory) | {
        "level": SupportLevel(level).label.lower() if level else "",
        "rag": Rag(assessment.decided_rag).label.lower() if assessment.decided_rag else "",
        "term": str(assessment.term).lower(),
        "sras_meeting_date": _date(assessment.meeting.date) if assessment.meeting_id else "",
        "rationale": assessment.rationale,
        "what_follows": WHAT_FOLLOWS.get(level, ""),
    }


def case_context(case: SupportCase, kind: str, *, today: dt.date) -> dict[str, Any]:
    """A letter about a support case, signed by its chair."""
    school = case.school
    ctx = addressed(school, today=today, signatory=case.chair) | {"level": case.get_level_display().lower()}
    if kind == LetterKind.INITIAL_MEETING:
        initial = case.meetings.filter(kind=MeetingKind.INITIAL).order_by("held_on", "pk").first()
        ctx["meeting_date"] = _date(initial.held_on if initial else case.next_meeting_on)
    elif kind == LetterKind.MEETING_SUMMARY:
        last = case.meetings.order_by("-held_on", "-pk").first()
        if last is None:
            raise LetterRefused("No review meeting has been recorded for this case yet.")
        return meeting_context(last, today=today)
    elif kind == LetterKind.CATEGORISATION:
        decision = latest_decision(school, today)
        if decision is None:
            raise LetterRefused(f"No SRAS decision has been recorded for {school.name}.")
        return categorisation_context(decision, today=today, signatory=case.chair)
    elif kind == LetterKind.CONGRATULATIONS:
        _congratulations_allowed(school)
    elif kind == LetterKind.SIGNIFICANT_CONCERNS:
        concerns = _priorities(case)
        last = case.meetings.order_by("-held_on", "-pk").first()
        if concerns and last is not None and last.context_and_impact.strip():
            concerns += f". At the review meeting on {_date(last.held_on)}: {last.context_and_impact.strip()}"
        ctx["concerns"] = concerns
    return ctx


def meeting_context(meeting: ReviewMeeting, *, today: dt.date) -> dict[str, Any]:
    """The summary letter of one review meeting (Appendix B): progress and next steps."""
    case = meeting.case
    after = case.meetings.filter(held_on__gt=meeting.held_on).order_by("held_on").first()
    nxt = after.held_on if after else None  # the meeting that followed, else the one scheduled
    if nxt is None and case.next_meeting_on and case.next_meeting_on > meeting.held_on:
        nxt = case.next_meeting_on
    return addressed(case.school, today=today, signatory=case.chair) | {
        "level": case.get_level_display().lower(),
        "meeting_date": _date(meeting.held_on),
        "progress": meeting.get_progress_display().lower(),
        "priorities": _priorities(case),
        "next_steps": meeting.next_steps.strip(),
        "next_meeting_date": _date(nxt),
    }


def school_context(school: Any, kind: str, *, today: dt.date, signatory: Any) -> dict[str, Any]:
    """Cambridgeshire Appendix 5 letters (and the categorisation letter) for a school without a case."""
    ctx = addressed(school, today=today, signatory=signatory)
    if kind == LetterKind.CATEGORISATION:
        decision = latest_decision(school, today)
        if decision is None:
            raise LetterRefused(f"No SRAS decision has been recorded for {school.name}.")
        return categorisation_context(decision, today=today, signatory=signatory)
    if kind == LetterKind.CONGRATULATIONS:
        _congratulations_allowed(school)
    if kind == LetterKind.SIGNIFICANT_CONCERNS:
        case = SupportCase.objects.filter(school=school).order_by("-started_on").first()
        decision = latest_decision(school, today)
        if case is not None and case.priorities.exists():
            ctx["concerns"] = _priorities(case)
        elif decision is not None and decision.decided_rag in (Rag.RED, Rag.AMBER):
            ctx["concerns"] = decision.rationale.strip()
    return ctx


def notice_context(notice: WarningNotice, *, today: dt.date, signatory: Any) -> dict[str, Any]:
    """Appendix C's content: grounds, concerns, actions required, compliance period, consequences."""
    issued, ends = notice.issued_on, notice.compliance_ends_on
    return addressed(notice.school, today=today, signatory=signatory) | {
        "notice_kind": NoticeKind(notice.kind).label,
        "grounds": notice.get_ground_display().lower(),
        "concerns": notice.concerns.strip(),
        "required_action": notice.required_action.strip(),
        "issued_on": _date(issued),
        "compliance_period": f"{_date(issued)} to {_date(ends)}" if issued and ends else "",
        "compliance_ends_on": _date(ends),
        "consequences": notice.consequences.strip() or CONSEQUENCES.get(notice.ground, DEFAULT_CONSEQUENCES),
    }


def real_contexts(kind: str, *, today: dt.date, limit: int = 5) -> list[dict[str, Any]]:
    """Contexts of real records of a letter kind, to check an edited template against before saving."""
    from beacon.assessments.models import TermlyAssessment

    out: list[dict[str, Any]] = []

    def add(build: Any) -> None:
        with contextlib.suppress(LetterRefused):
            out.append(build())

    if kind == LetterKind.WARNING_NOTICE:
        for n in WarningNotice.objects.select_related("school", "created_by").order_by("-pk")[:limit]:
            add(lambda n=n: notice_context(n, today=today, signatory=n.created_by))
    elif kind == LetterKind.MEETING_SUMMARY:
        for m in ReviewMeeting.objects.select_related("case__school", "case__chair").order_by("-pk")[:limit]:
            add(lambda m=m: meeting_context(m, today=today))
    elif kind == LetterKind.CATEGORISATION:
        decided = TermlyAssessment.objects.decided().exclude(decided_level="")
        for a in decided.select_related("school", "term", "meeting", "decided_by").order_by("-pk")[:limit]:
            add(lambda a=a: categorisation_context(a, today=today, signatory=a.decided_by))
    else:
        for c in SupportCase.objects.select_related("school", "chair").order_by("-pk")[:limit]:
            add(lambda c=c: case_context(c, kind, today=today))
    return out
