"""Commissioner reports and the Education Strategy Board report as PDF (a Jinja template rendered to HTML,
then WeasyPrint) and Word (python-docx), both through `beacon.core.documents`.

Both formats are rendered from one neutral `Document` (title, sections with paragraphs and tables), so the
PDF and the Word file always say the same thing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from beacon.accountability.selectors import BoardReport, CaseRow, CommissionerReport
from beacon.core import documents as core_documents


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: list[tuple[str, ...]]


@dataclass
class Section:
    heading: str
    paragraphs: list[str] = field(default_factory=list)
    table: Table | None = None
    empty: str = ""


@dataclass
class Document:
    title: str
    subtitle: str
    sections: list[Section]
    marking: str = "OFFICIAL-SENSITIVE"


def _d(day: dt.date | None) -> str:
    return day.strftime("%-d %B %Y") if day else ""


def _case_rows(heading: str, headers: tuple[str, ...], rows: list[CaseRow], empty: str) -> Section:
    """A section listing support cases or notices (school, URN, level, date, detail), or `empty`."""
    table = Table(headers, [(r.school_name, str(r.urn), r.level, _d(r.on), r.detail) for r in rows])
    return Section(heading, table=table if rows else None, empty=empty)


def commissioner_document(report: CommissionerReport) -> Document:
    p = report.period
    term = str(report.term) if report.term else "no assessment term recorded"
    previous = str(report.previous_term) if report.previous_term else "no earlier term"
    sections = [
        Section(
            "Schools by support category",
            [
                f"Decided categories for {term} (compared with {previous}): "
                f"{len(report.categories)} schools with a decision.",
                "By support level: " + "; ".join(f"{label} {n}" for label, n in report.level_counts) + ".",
                "By RAG rating: " + "; ".join(f"{label} {n}" for label, n in report.rag_counts) + ".",
            ],
            Table(
                ("School", "URN", "Support level", "RAG", "Last term", "Change"),
                [
                    (
                        c.school_name,
                        str(c.urn),
                        c.level.capitalize(),
                        c.rag.capitalize(),
                        f"{c.previous_level.capitalize()} / {c.previous_rag.capitalize()}"
                        if c.previous_level
                        else "None",
                        c.change,
                    )
                    for c in report.categories
                ],
            )
            if report.categories
            else None,
            empty="No decided termly assessments for this term.",
        ),
        Section(
            "Changes since the previous term",
            table=Table(
                ("School", "URN", "Was", "Now", "Change"),
                [
                    (
                        c.school_name,
                        str(c.urn),
                        f"{c.previous_level.capitalize()} / {c.previous_rag.capitalize()}"
                        if c.previous_level
                        else "None",
                        f"{c.level.capitalize()} / {c.rag.capitalize()}",
                        c.change,
                    )
                    for c in report.changes
                ],
            )
            if report.changes
            else None,
            empty="No changes of category since the previous term.",
        ),
        Section(
            "New significant concerns",
            table=Table(
                ("Date", "School", "Concern", "Acknowledged"),
                [
                    (
                        _d(c.on),
                        f"{c.school_name} ({c.urn})",
                        c.summary,
                        f"{c.acknowledged_by}, {c.acknowledged_at:%-d %B %Y %H:%M}"
                        if c.acknowledged_at
                        else "Not yet",
                    )
                    for c in report.concerns
                ],
            )
            if report.concerns
            else None,
            empty="No new significant concerns in this period.",
        ),
        _case_rows(
            "Support cases opened",
            ("School", "URN", "Level", "Opened", "Note"),
            report.cases_opened,
            "No support cases opened in this period.",
        ),
        _case_rows(
            "Support cases closed",
            ("School", "URN", "Level", "Exit agreed", "Note"),
            report.cases_closed,
            "No support cases closed in this period.",
        ),
        _case_rows(
            "Warning notices",
            ("School", "URN", "Notice", "Issued", "Grounds and outcome"),
            report.notices,
            "No warning notices issued in this period.",
        ),
    ]
    if report.term_summary:
        sections.insert(
            1,
            Section(
                "Support levels term by term",
                table=Table(
                    ("Term", *report.term_summary[0][1].keys()),
                    [(t, *(str(n) for n in counts.values())) for t, counts in report.term_summary],
                ),
            ),
        )
    return Document(report.title, f"{_d(p.start)} to {_d(p.end)}", sections)


def board_document(report: BoardReport) -> Document:
    sections = [
        Section(
            "Summary",
            [
                f"{len(report.rows)} actions against {report.pledges} pledges; "
                f"{report.pledges_without_actions} pledges have no action yet.",
                "Progress: " + "; ".join(f"{label} {n}" for label, n in report.rag_counts) + ".",
                f"{len(report.overdue)} actions are past their milestone and not complete.",
            ],
        )
    ]
    by_goal: dict[tuple[str, str], list[tuple[str, ...]]] = {}
    for r in report.rows:
        by_goal.setdefault((r.ambition, r.goal), []).append(
            (
                r.action,
                r.owner,
                _d(r.milestone_on) + (" (overdue)" if r.overdue else ""),
                r.rag,
                r.progress or "No update this term",
            )
        )
    for (ambition, goal), rows in by_goal.items():
        sections.append(
            Section(
                f"{ambition}. {goal}", table=Table(("Action", "Owner", "Milestone", "RAG", "Progress"), rows)
            )
        )
    return Document(report.title, f"Prepared {_d(dt.date.today())}", sections, marking="OFFICIAL")


def document_html(doc: Document) -> str:
    return core_documents.template_html("accountability/document.html", {"doc": doc})


def document_pdf(doc: Document) -> bytes:
    return core_documents.html_pdf(document_html(doc))


def document_docx(doc: Document) -> bytes:
    out = core_documents.new_docx()
    out.add_heading(doc.title, level=1)
    out.add_paragraph(doc.subtitle)
    out.add_paragraph(doc.marking)
    for section in doc.sections:
        out.add_heading(section.heading, level=2)
        for text in section.paragraphs:
            out.add_paragraph(text)
        if section.table is not None:
            core_documents.docx_table(out, section.table.rows, headers=section.table.headers)
        elif section.empty and not section.paragraphs:
            out.add_paragraph(section.empty)
    return core_documents.docx_bytes(out)
