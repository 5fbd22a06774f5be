"""Support pages: scoping, case workflow through the views, and the browser journey (real Camden schools).

Haverstock School is URN 100049; Argyle Primary School is URN 100008."""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

import pytest
from django.urls import reverse
from docx import Document

from beacon.schools.models import School
from beacon.support import services
from beacon.support.models import CaseStatus, SupportCase
from tests.conftest import assert_accessible, make_user, sign_in_by_session

HAVERSTOCK, ARGYLE = 100049, 100008


def test_pages_are_scoped(client: Any, camden_register: None) -> None:
    director = make_user("dli", "director")
    case = services.open_case(
        school=School.objects.get(urn=HAVERSTOCK),
        level="targeted",
        started_on=dt.date(2025, 9, 8),
        chair=director,
    )
    adviser = make_user("cpp", "adviser", schools=(ARGYLE,))
    head = make_user("head", "headteacher", schools=(HAVERSTOCK,))
    client.force_login(adviser)
    assert client.get(reverse("support:caseload")).status_code == 200
    assert "Argyle Primary School" in client.get(reverse("support:caseload")).content.decode()
    assert client.get(reverse("support:case", args=[case.pk])).status_code == 403
    assert client.get(reverse("support:new_case", args=[ARGYLE])).status_code == 403
    client.force_login(head)
    assert client.get(reverse("support:caseload")).status_code == 403
    assert client.get(reverse("support:case", args=[case.pk])).status_code == 403
    client.force_login(director)
    page = client.get(reverse("support:case", args=[case.pk])).content.decode()
    assert "Haverstock School" in page and "Priorities (0 of 4)" in page


def test_case_workflow_through_views(client: Any, camden_register: None) -> None:
    director = make_user("dli", "director")
    client.force_login(director)
    r = client.post(
        reverse("support:new_case", args=[ARGYLE]), {"level": "focused", "started_on": "2025-09-08"}
    )
    case = SupportCase.objects.get(school__urn=ARGYLE)
    assert r.status_code == 302 and case.chair == director
    url = reverse("support:case", args=[case.pk])
    for i in range(3):
        assert (
            client.post(
                url, {"title": f"P{i}", "area": "achievement", "end_of_year_aim": "KS2 RWM 70%"}
            ).status_code
            == 302
        )
    r = client.post(url, {"title": "P4", "area": "achievement", "end_of_year_aim": "x"})
    assert r.status_code == 400 and "Focused support has at most 3 priorities." in r.content.decode()
    r = client.post(
        reverse("support:record_meeting", args=[case.pk]),
        {
            "held_on": "2025-09-22",
            "progress": "on_track",
            "next_steps": "Phonics audit",
            "next_meeting_on": "2025-12-08",
        },
    )
    assert r.status_code == 302
    meeting = case.meetings.get()
    doc = client.get(reverse("support:report", args=[meeting.pk, "docx"]))
    text = "\n".join(p.text for p in Document(io.BytesIO(doc.content)).paragraphs)
    assert "Focused Support Meeting Report (2025-26)" in text and "Phonics audit" in text
    assert (
        client.get(reverse("support:report", args=[meeting.pk, "pdf"]))["Content-Type"] == "application/pdf"
    )
    letter = client.get(reverse("support:letter", args=[case.pk, "meeting_summary", "docx"]))
    text = "\n".join(p.text for p in Document(io.BytesIO(letter.content)).paragraphs)
    # Updated for issue 13: the summary is dated, addressed and names the next meeting.
    assert "Summary of the support review meeting on 22 September 2025" in text
    assert "The agreed priorities are: P0 (achievement); P1 (achievement); P2 (achievement)." in text
    assert "Next steps: Phonics audit" in text and "The next meeting is on 8 December 2025." in text
    assert "Argyle Primary School" in text and "Chair of Governors" in text
    assert client.get(reverse("support:letter", args=[case.pk, "warning_notice", "pdf"])).status_code == 404
    r = client.post(
        reverse("support:exit", args=[case.pk]),
        # version 1: the meeting above scheduled the next one on the case
        {"version": "1", "agreed_on": "2026-07-10", "agreed_with": ["head", "chair_of_governors", "cpp"],
         "recategorise_to": "universal", "reduction_plan": "Termly CPP visits only"},
    )  # fmt: skip
    assert r.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED and case.recategorised_to == "universal"


@pytest.mark.browser
def test_director_targeted_case_journey(
    page: Any, live_server: Any, transactional_db: None, camden_register: None
) -> None:
    make_user("dli", "director")
    sign_in_by_session(page, live_server, "dli")
    page.goto(f"{live_server.url}{reverse('support:new_case', args=[HAVERSTOCK])}")
    assert_accessible(page)
    page.get_by_label("Targeted").check()
    page.get_by_label("Start date").fill("2025-09-08")
    page.get_by_role("button", name="Open case").click()
    page.wait_for_url(re.compile(r"/support/cases/\d+/$"))
    for i in range(5):
        page.get_by_label("Priority", exact=True).fill(f"Priority {i + 1}")
        page.get_by_label("Ofsted evaluation area").select_option("achievement")
        page.get_by_label("Measurable end-of-year aim").fill("Progress 8 above -0.2")
        page.get_by_role("button", name="Add priority").click()
        page.wait_for_load_state()
    assert page.get_by_text("Targeted support has at most 4 priorities.").first.is_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Record a meeting").click()
    page.wait_for_load_state()
    page.get_by_label("Date of meeting").fill("2025-09-22")
    page.get_by_label("Not on track").check()
    page.get_by_label("Next steps").fill("Weekly attendance panel")
    page.get_by_role("button", name="Record meeting").click()
    page.wait_for_load_state()
    assert page.get_by_text("rapid improvement plan with enhanced support proposed").is_visible()
    assert_accessible(page)
    with page.expect_download() as dl:
        page.get_by_role("link", name="Word report of 22 September 2025").click()
    text = "\n".join(p.text for p in Document(dl.value.path()).paragraphs)
    assert "Weekly attendance panel" in text and "Not on track" in text
    page.get_by_role("link", name="Agree exit and re-categorisation").click()
    page.wait_for_load_state()
    page.get_by_label("Date agreed").fill("2026-07-10")
    for who in ("The headteacher", "The chair of governors", "The CPP"):
        page.get_by_label(who).check()
    page.get_by_label("Focused").check()
    page.get_by_label("Planned reduction of support").fill("Half-termly, then termly visits")
    page.get_by_role("button", name="Agree exit").click()
    page.wait_for_load_state()
    assert page.get_by_text("Exit agreed and the school re-categorised.").is_visible()
    assert_accessible(page)
    case = SupportCase.objects.get(school__urn=HAVERSTOCK)
    assert case.status == CaseStatus.CLOSED and case.priorities.count() == 4


@pytest.mark.time_machine(dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC), tick=False)
def test_adviser_caseload_shows_over_allocation(client: Any, camden_register: None) -> None:
    from decimal import Decimal

    from beacon.support.dates import academic_year
    from beacon.support.models import AdviserCapacity, Entitlement

    year = academic_year(dt.date.today())
    adviser = make_user("cpp", "adviser", schools=(ARGYLE, HAVERSTOCK))
    AdviserCapacity.objects.create(adviser=adviser, academic_year=year, day_budget=Decimal("2"))
    for urn in (ARGYLE, HAVERSTOCK):
        Entitlement.objects.create(school=School.objects.get(urn=urn), academic_year=year, adviser=adviser)
    client.force_login(adviser)
    page = client.get(reverse("support:caseload")).content.decode()
    assert "Over-allocated by 1.0 days (3.0 of 2.0)." in page
    assert "Haverstock School" in page and "Argyle Primary School" in page
