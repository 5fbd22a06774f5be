"""The commissioner and the director use the accountability pages in a real browser (Playwright + axe), on the
real Camden register: acknowledge a headteacher change, read the half-termly update, add an action to a
Building Back Stronger pledge with a termly update, and record delivery evidence for a Table 1 output."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.conftest import assert_accessible, assert_no_horizontal_scroll, make_user, sign_in_by_session

HAVERSTOCK = 100049


@pytest.mark.browser
def test_accountability_pages(
    page: Any, phone_page: Any, live_server: Any, transactional_db: None, camden_register: None
) -> None:
    from beacon.accountability.models import Action, ConcernAcknowledgement, DeliveryEvidence, Pledge
    from beacon.accountability.seed import load_seed
    from beacon.schools.models import School

    load_seed()
    school = School.objects.get(urn=HAVERSTOCK)
    school.head_name = "Ms Ada Example"  # the register previously named Mr James Hadley (GIAS)
    school.save()
    commissioner = make_user("cora", "commissioner")
    make_user("dana", "director")

    sign_in_by_session(page, live_server, "cora", then="/")
    page.get_by_role("link", name="Accountability").first.click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "Accountability"
    assert page.get_by_text("1 not acknowledged").is_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Significant concerns for immediate notification").click()
    page.wait_for_load_state()
    assert page.get_by_text("Headteacher change: Mr James Hadley to Ms Ada Example").is_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Acknowledge the concern about Haverstock School").click()
    page.wait_for_load_state()
    assert page.get_by_text("Concern about Haverstock School acknowledged.").is_visible()
    ack = ConcernAcknowledgement.objects.get()
    assert (ack.acknowledged_by, ack.school_id, ack.kind) == (commissioner, school.pk, "head_change")

    page.goto(f"{live_server.url}/accountability/commissioner/")
    assert (
        page.get_by_role("heading", level=1).inner_text().startswith("Half-termly update to the commissioner")
    )
    assert page.get_by_text("Headteacher change: Mr James Hadley to Ms Ada Example").is_visible()
    assert_accessible(page)
    page.goto(f"{live_server.url}/accountability/commissioner/annual/")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Annual report to the commissioner")
    assert_accessible(page)

    # On a phone the report's tables scroll inside their own region, not the page.
    sign_in_by_session(phone_page, live_server, "cora")
    for path in ("commissioner/", "notifications/?show=all", "commission/"):
        phone_page.goto(f"{live_server.url}/accountability/{path}")
        assert_no_horizontal_scroll(phone_page)

    # The director adds an action to the ECR7 pledge, then records this term's update.
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state()
    sign_in_by_session(page, live_server, "dana")
    page.goto(f"{live_server.url}/accountability/strategy/")
    assert page.get_by_role("heading", name="Goal 2: Every child a reader by 7 (ECR7)").is_visible()
    assert_accessible(page)
    pledge = Pledge.objects.get(goal__ambition__number=2, goal__number=2, number=1)
    page.get_by_role("link", name="Add an action to goal 2 pledge 1 of ambition 2").click()
    page.wait_for_load_state()
    page.get_by_role("button", name="Add action").click()
    page.wait_for_load_state()
    assert page.get_by_role("alert").get_by_text("This field is required.").first.is_visible()
    assert_accessible(page)
    page.get_by_label("Action").fill("Phonics audit in every primary school")
    page.get_by_label("Owner").fill("ECR7 lead")
    page.get_by_label("Milestone date").fill("2026-03-31")
    page.get_by_role("button", name="Add action").click()
    page.wait_for_load_state()
    action = Action.objects.get(pledge=pledge)
    assert page.get_by_role("heading", level=1).inner_text() == "Phonics audit in every primary school"
    page.get_by_label("Progress this term (RAG)").select_option("amber")
    page.get_by_label("What has happened this term").fill("27 primary schools engaged")
    page.get_by_role("button", name="Record update").click()
    page.wait_for_load_state()
    assert page.get_by_text("Termly update recorded.").is_visible()
    assert page.get_by_text("27 primary schools engaged").is_visible()
    assert_accessible(page)
    action.refresh_from_db()
    assert (action.rag, action.version, action.updates.count()) == ("amber", 1, 1)

    page.goto(f"{live_server.url}/accountability/strategy/board-report/")
    assert page.get_by_text("27 primary schools engaged").is_visible()
    assert_accessible(page)

    page.goto(f"{live_server.url}/accountability/commission/")
    assert page.get_by_role("table", name="Area 4: Safeguarding").is_visible()
    assert_accessible(page)
    page.get_by_role(
        "link", name="All reasonable steps taken to ensure that all schools are safeguarding compliant"
    ).click()
    page.wait_for_load_state()
    page.get_by_label("Evidence of delivery").fill("Section 11 audit returned by every school")
    page.get_by_label("Link to the evidence (optional)").fill("https://example.org/s11.pdf")
    page.get_by_label("Date of the evidence").fill((dt.date.today() - dt.timedelta(days=3)).isoformat())
    page.get_by_role("button", name="Record evidence").click()
    page.wait_for_load_state()
    assert page.get_by_text("Evidence recorded.").is_visible()
    assert_accessible(page)
    ev = DeliveryEvidence.objects.get()
    assert (ev.text, ev.recorded_by.username) == ("Section 11 audit returned by every school", "dana")
