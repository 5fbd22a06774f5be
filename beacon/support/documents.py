"""Appendix D Targeted Support Meeting Report as editable Word (python-docx) and PDF (WeasyPrint), through
`beacon.core.documents`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from beacon.core import documents
from beacon.core.terms import academic_year_of
from beacon.inspections.selectors import current_judgement
from beacon.support.models import Progress, ReviewMeeting

ON_TRACK_WORDING = (
    "Current indicators would suggest the school is on track to meet the agreed aims. Measures of impact "
    "suggest that the school demonstrates sufficient capacity to meet key aims within 12/24 months of the "
    "inception of the project board."
)
NOT_ON_TRACK_WORDING = (
    "Current indicators would suggest the school is not yet on track to meet the agreed aims. Measures of "
    "impact suggest that the school does not yet demonstrate sufficient capacity to meet key aims within "
    "12/24 months of the inception of the project board."
)
DATA_TOPICS = ("attendance",)
KEY_GROUP_MARKERS = ("disadvantaged", "sen", "fsm", "ehc")


@dataclass(frozen=True)
class MeetingReport:
    title: str
    school: str
    start: str
    exit: str
    level: str
    ofsted: str
    ofsted_grades: list[tuple[str, str]]
    date: str
    present: list[str]
    eoy_aims: list[tuple[str, str, str]]  # (area, priority, aim)
    data: list[tuple[str, str, str]]  # (measure, year, value)
    head_report: str
    previous_actions: str
    context_and_impact: str
    next_steps: str
    key_aims: list[str]
    progress: str
    progress_wording: str


def _fmt(day: Any) -> str:
    return day.strftime("%-d %B %Y") if day else "Not set"


def _data_rows(school_id: int) -> list[tuple[str, str, str]]:
    from beacon.indicators.models import SchoolMeasure

    rows = (
        SchoolMeasure.objects.filter(school_id=school_id)
        .select_related("measure")
        .order_by("measure__code", "-year")
    )
    latest: dict[str, tuple[str, str, str]] = {}
    for m in rows:
        code = m.measure.code
        if code in latest:
            continue
        if m.measure.topic in DATA_TOPICS or any(k in code for k in KEY_GROUP_MARKERS):
            value = (
                f"{m.value:.{m.measure.decimals}f}{m.measure.unit if m.measure.unit == '%' else ''}"
                if m.value is not None
                else m.get_status_display()
            )
            latest[code] = (m.measure.label, f"{m.year}/{str(m.year + 1)[-2:]}", value)
    return list(latest.values())


def _judgement_text(j: dict[str, Any]) -> str:
    """The standing judgement with the date it rests on (issue 11: every figure with its date)."""
    label = j.get("overall_label") or ("No overall grade" if j.get("date") else "No graded inspection")
    if not j.get("date"):
        return label
    text = f"{label} (inspection of {_fmt(j['date'])}"
    if j.get("publication_date"):
        text += f", published {_fmt(j['publication_date'])}"
    return text + ")"


def _latest_inspection(j: dict[str, object]) -> list[tuple[str, str]]:
    """The latest inspection of any kind, when it is not the graded one (e.g. 'School remains Good')."""
    latest = j.get("latest_any")
    if not isinstance(latest, dict) or latest.get("inspection_id") == j.get("inspection_id"):
        return []
    return [("Latest inspection", f"{latest['kind']}, {_fmt(latest['date'])}: {latest['outcome']}")]


def build_report(meeting: ReviewMeeting) -> MeetingReport:
    case = meeting.case
    school = case.school
    j = current_judgement(school)
    year = academic_year_of(meeting.held_on)
    return MeetingReport(
        title=f"{case.get_level_display()} Support Meeting Report ({year}-{str(year + 1)[-2:]})",
        school=f"{school.name} (URN {school.urn})",
        start=_fmt(case.started_on),
        exit=_fmt(case.planned_exit_on),
        level=case.get_level_display(),
        ofsted=_judgement_text(j),
        ofsted_grades=[(g["area_label"], g["label"]) for g in j.get("grades", [])] + _latest_inspection(j),
        date=_fmt(meeting.held_on),
        present=[a.strip() for a in meeting.attendees.splitlines() if a.strip()],
        eoy_aims=[(p.get_area_display(), p.title, p.end_of_year_aim) for p in case.priorities.all()],
        data=_data_rows(school.pk),
        head_report=meeting.head_report.strip(),
        previous_actions=meeting.previous_actions,
        context_and_impact=meeting.context_and_impact,
        next_steps=meeting.next_steps,
        key_aims=[a.strip() for a in meeting.key_aims.splitlines() if a.strip()]
        or [p.title for p in case.priorities.all()],
        progress=meeting.get_progress_display(),
        progress_wording=ON_TRACK_WORDING if meeting.progress == Progress.ON_TRACK else NOT_ON_TRACK_WORDING,
    )


def report_html(report: MeetingReport) -> str:
    return documents.template_html("support/meeting_report.html", {"r": report})


def report_pdf(report: MeetingReport) -> bytes:
    return documents.html_pdf(report_html(report))


def report_docx(report: MeetingReport) -> bytes:
    doc = documents.new_docx()
    doc.add_heading(report.title, level=1)
    documents.docx_table(
        doc,
        [
            ("School", report.school),
            ("Timescale for support: start", report.start),
            ("Timescale for support: exit", report.exit),
            ("Level of additional support", report.level),
            ("Ofsted: how good is the school?", report.ofsted),
            ("Date", report.date),
            ("Present", "; ".join(report.present)),
            *((f"Ofsted: {area}", grade) for area, grade in report.ofsted_grades),
        ],
        cols=2,
    )
    doc.add_heading("End of Year (EoY) Aims", level=2)
    for area, title, aim in report.eoy_aims:
        doc.add_paragraph(f"{title} ({area}): {aim}", style="List Bullet")
    doc.add_heading("Data (including attendance, including key groups)", level=2)
    if report.data:
        documents.docx_table(doc, report.data, headers=("Measure", "Year", "Value"))
    else:
        doc.add_paragraph("No published data held for this school.")
    for heading, body in (
        ("Headteacher's pre-meeting report", report.head_report),
        ("Previous Actions", report.previous_actions),
        ("Current context and impact of actions, outstanding actions", report.context_and_impact),
        ("Next steps/Actions", report.next_steps),
    ):
        doc.add_heading(heading, level=2)
        doc.add_paragraph(body or "None recorded")
    doc.add_heading("Key Aims", level=2)
    for aim in report.key_aims:
        doc.add_paragraph(f"Key Aim: {aim}")
    doc.add_heading(f"Overall Progress: {report.progress}", level=2)
    doc.add_paragraph(report.progress_wording)
    return documents.docx_bytes(doc)
