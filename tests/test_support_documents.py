"""Appendix D meeting report (Word + PDF) and letters, on real Camden data.

Haverstock School (URN 100049): kspdeveloper-csp-2018-19/england_abs.csv row `202,4104,100049,6.9,18.8`
(overall absence 6.9%, persistent absence 18.8%, academic year 2018/19); latest graded Ofsted: Good."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.exceptions import ValidationError
from docx import Document
from pypdf import PdfReader

from beacon.interventions import letters
from beacon.interventions.models import LetterKind
from beacon.schools.models import School
from beacon.support import documents, services
from beacon.support.models import Progress
from tests.conftest import make_user


def _docx_text(data: bytes) -> str:
    doc = Document(io.BytesIO(data))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts.extend(c.text for c in row.cells)
    return "\n".join(parts)


def _pdf_text(data: bytes) -> str:
    return " ".join((p.extract_text() or "") for p in PdfReader(io.BytesIO(data)).pages)


def test_appendix_d_report_word_and_pdf(camden_demo: None) -> None:
    director = make_user("dli", "director")
    case = services.open_case(
        school=School.objects.get(urn=100049),
        level="targeted",
        started_on=dt.date(2025, 9, 8),
        chair=director,
        planned_exit_on=dt.date(2026, 7, 17),
    )
    services.add_priority(
        case,
        area="attendance_and_behaviour",
        title="Attendance",
        end_of_year_aim="Persistent absence below 15%",
    )
    meeting = services.record_meeting(
        case, held_on=dt.date(2025, 9, 22), progress=Progress.NOT_ON_TRACK,
        attendees="Director of Learning and Impact\nHeadteacher\nChair of governors",
        previous_actions="Attendance officer appointed", context_and_impact="Year 9 absence rising",
        next_steps="Weekly attendance panel", head_report="New attendance lead started in September",
    )  # fmt: skip
    report = documents.build_report(meeting)
    # With the date it rests on (issue 11): pvhee schools_london_complete.csv `Haverstock School,100049,…,
    # 2,02/07/2019,Good` and ofsted_ratings_2018.csv `100049,Good,20190702`.
    assert report.ofsted.startswith("Good (inspection of 2 July 2019")
    assert ("Overall absence rate", "2018/19", "6.9%") in report.data
    assert ("Persistent absence (10% or more sessions missed)", "2018/19", "18.8%") in report.data
    word = _docx_text(documents.report_docx(report))
    pdf = " ".join(_pdf_text(documents.report_pdf(report)).split())
    for text in (word, pdf):
        assert "Targeted Support Meeting Report (2025-26)" in text
        assert "Haverstock School (URN 100049)" in text
        assert "8 September 2025" in text and "17 July 2026" in text and "22 September 2025" in text
        assert "Persistent absence below 15%" in text and "18.8%" in text
        assert "Weekly attendance panel" in text and "Attendance officer appointed" in text
        assert "Year 9 absence rising" in text and "Chair of governors" in text
        assert "Not on track" in text
        assert "Good (inspection of 2 July 2019" in text
        assert "Headteacher's pre-meeting report" in text
        assert "New attendance lead started in September" in text
        assert "does not yet demonstrate sufficient capacity to meet key aims within 12/24 months" in text


def test_letters_render_in_sandbox_to_word_and_pdf(db: None) -> None:
    tpl = letters.template_for(LetterKind.WARNING_NOTICE)
    # Updated for issue 13: the notice letter carries Appendix C's content, so its context is complete.
    ctx = {k: letters.SAMPLE_CONTEXT[k] for k in letters.KIND_PLACEHOLDERS[LetterKind.WARNING_NOTICE]}
    letter = letters.render_letter(tpl, ctx)
    assert letter.subject == "Formal warning notice: Argyle Primary School (URN 100008)"
    assert "by 9 February 2026" in letter.body
    assert "by 9 February 2026" in _docx_text(letters.letter_docx(letter))
    assert "Argyle Primary School" in _pdf_text(letters.letter_pdf(letter))
    tpl.body = "{{ school_name.__class__.__mro__ }}"
    with pytest.raises(ValidationError, match="could not be rendered"):
        letters.render_letter(tpl, ctx)
    tpl.body = "{{ missing }}"
    with pytest.raises(ValidationError):
        letters.render_letter(tpl, ctx)
    with pytest.raises(ValidationError, match="Unknown placeholders"):
        letters.render_letter(tpl, {"password": "x"})
    for kind in LetterKind.values:
        assert letters.template_for(kind).body
