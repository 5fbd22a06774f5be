"""The casework half of a term as people do it in a browser (issue 13 acceptance), shared by
tests/test_casework_browser.py and tests/test_termly_process_browser.py.

Each step runs through the real pages of the signed-in page (a director), checks the letters' text and runs
axe-core on every page it opens. Time must be frozen on 20 January 2026 by the caller; the school is
Haverstock School (URN 100049) with a red / targeted decision at the SRAS meeting of 6 October 2025."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path
from typing import Any

from django.urls import reverse
from docx import Document

from beacon.interventions.models import Outcome, WarningNotice
from beacon.schools.models import School
from beacon.support.models import ReviewMeeting, SupportCase
from tests.conftest import assert_accessible

HAVERSTOCK = 100049


def download_text(page: Any, link: Any) -> str:
    """Click a link or button that downloads a Word document; its paragraphs and table cells as text."""
    with page.expect_download() as info:
        link.click()
    data = Path(info.value.path()).read_bytes()
    doc = Document(io.BytesIO(data))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts.extend(c.text for c in row.cells)
    return "\n".join(parts)


def categorisation_letter(page: Any, base: str) -> None:
    """After the SRAS meeting: the categorisation letter to the head and chair, chosen on the school letters
    form of the interventions page."""
    page.goto(f"{base}{reverse('interventions:list')}")
    assert_accessible(page)
    page.get_by_role("link", name="Letters to a school without a support case").click()
    page.wait_for_load_state()
    assert_accessible(page)
    page.get_by_label("School").select_option(label="Haverstock School")
    page.get_by_label("Categorisation letter (after the SRAS meeting)").check()
    page.get_by_label("Word").check()
    text = download_text(page, page.get_by_role("button", name="Download the letter"))
    assert "SRAS) meeting on 6 October 2025 considered Haverstock School" in text
    assert "categorised red and will receive targeted support" in text and "20 January 2026" in text
    assert "review meetings every 8 to 10 weeks" in text


def casework(page: Any, base: str) -> None:
    """A targeted support case with its initial meeting, two review meetings with the head's pre-meeting
    report in Appendix D, a warning notice with Appendix C's content, a refused future response date, the
    response and outcome, the letters with their text checked and the congratulations letter refused."""
    school = School.objects.get(urn=HAVERSTOCK)

    # Open the targeted case with the initial meeting scheduled.
    page.goto(f"{base}{reverse('support:new_case', args=[HAVERSTOCK])}")
    assert_accessible(page)
    page.get_by_label("Targeted").check()
    page.get_by_label("Start date").fill("2025-10-13")
    page.get_by_label("Date of the initial meeting").fill("2025-11-03")
    page.get_by_role("button", name="Open case").click()
    page.wait_for_url(re.compile(r"/support/cases/\d+/$"))
    case = SupportCase.objects.get(school=school)
    assert page.get_by_text("Next review meeting scheduled").is_visible()
    assert_accessible(page)

    # The invitation names the initial meeting.
    letters = page.locator("#letters + ul")
    text = download_text(page, letters.get_by_role("link", name="Word (Initial meeting letter"))
    assert "the initial meeting on 3 November 2025" in text

    page.get_by_label("Priority", exact=True).fill("Progress 8 in maths")
    page.get_by_label("Ofsted evaluation area").select_option("achievement")
    page.get_by_label("Measurable end-of-year aim").fill("Progress 8 in maths at or above zero")
    page.get_by_role("button", name="Add priority").click()
    page.wait_for_url(re.compile(r"/support/cases/\d+/$"))

    # Two review meetings with the head's pre-meeting report.
    for held_on, progress, report, nxt in (
        ("2025-11-03", "On track", "Maths lead appointed; mocks in December", "2026-01-12"),
        ("2026-01-12", "Not on track", "Mock results below target in year 11", ""),
    ):
        page.get_by_role("link", name="Record a meeting").click()
        page.wait_for_load_state()
        assert_accessible(page)
        page.get_by_label("Date of meeting").fill(held_on)
        page.get_by_label("Headteacher's pre-meeting report").fill(report)
        page.get_by_label("Next steps").fill("Weekly maths intervention for year 11")
        if nxt:
            page.get_by_label("Date of the next meeting").fill(nxt)
        page.get_by_label(progress, exact=True).check()
        page.get_by_role("button", name="Record meeting").click()
        page.wait_for_url(re.compile(r"/support/cases/\d+/$"))
    assert_accessible(page)
    first, second = ReviewMeeting.objects.filter(case=case).order_by("held_on")
    meetings = page.locator("#meetings + table")
    report = download_text(page, meetings.get_by_role("link", name="Word report of 12 January 2026"))
    assert "Headteacher's pre-meeting report" in report and "Mock results below target in year 11" in report
    summary = download_text(page, meetings.get_by_role("link", name="Word summary letter of 3 November 2025"))
    assert "meeting on 3 November 2025" in summary and "The next meeting is on 12 January 2026." in summary
    assert first.kind == "initial" and second.kind == "subsequent"

    # A warning notice with Appendix C's content.
    page.goto(f"{base}{reverse('interventions:new_notice', args=[case.pk])}")
    assert_accessible(page)
    page.get_by_label("Formal warning notice").check()
    page.get_by_label("Unacceptably low standards of performance").check()
    page.get_by_label("Concerns", exact=True).fill("Year 11 maths outcomes well below the floor")
    page.get_by_label("Action required of the governing body").fill("Adopt the rapid improvement plan")
    page.get_by_label("Issue date").fill("2026-01-13")
    page.get_by_label("Compliance period ends").fill("2026-01-19")
    page.get_by_role("button", name="Save notice").click()
    page.wait_for_url(re.compile(r"/interventions/notices/\d+/$"))
    assert_accessible(page)
    text = download_text(page, page.get_by_role("link", name="Word warning notice letter"))
    assert "The concerns: Year 11 maths outcomes well below the floor" in text
    assert "The action required of the governing body: Adopt the rapid improvement plan" in text
    assert "The compliance period: 13 January 2026 to 19 January 2026" in text
    assert "interim executive board" in text and "Haverstock School" in text

    # The response: a future date is refused; then the outcome after the period ends.
    page.get_by_role("link", name="Record the response and outcome").click()
    page.wait_for_load_state()
    assert_accessible(page)
    page.get_by_label("The governing body's response").fill("The plan was not adopted")
    page.get_by_label("Date the response was received").fill("2026-01-25")
    page.get_by_label("Failed to comply").check()
    page.get_by_role("button", name="Save response and outcome").click()
    page.get_by_role("alert").get_by_text("cannot be in the future").wait_for()
    assert_accessible(page)
    page.get_by_label("Date the response was received").fill("2026-01-16")
    page.get_by_role("button", name="Save response and outcome").click()
    page.get_by_text("Response and outcome recorded.").wait_for()
    assert page.get_by_text("the school is eligible for intervention").is_visible()
    assert_accessible(page)
    notice = WarningNotice.objects.get()
    assert notice.outcome == Outcome.NOT_COMPLIED and notice.outcome_recorded_on == dt.date(2026, 1, 20)

    # No congratulations letter under a failed notice: refused with the reason.
    page.goto(f"{base}{reverse('support:case', args=[case.pk])}")
    page.locator("#letters + ul").get_by_role("link", name="Word (Congratulations letter").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="This letter cannot be produced").is_visible()
    assert page.get_by_text("the governing body failed to comply").is_visible()
    assert_accessible(page)
