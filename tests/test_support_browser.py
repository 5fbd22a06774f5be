"""Browser journey of a full targeted case on a real Camden school, through every support page type:
entitlement, visit, brokered support, meetings (initial, not on track), warning notice (from the 18-month
alert) and its outcome, adviser capacity, letter template, exit. axe-core checks each new page type.

Haverstock School (URN 100049, ages 11-18 with a sixth form, no religious character)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from beacon.assessments.models import TermlyAssessment
from beacon.interventions.models import Outcome, WarningNotice
from beacon.risk.models import Term
from beacon.schools.models import School
from beacon.support.models import BrokeredSupport, CaseStatus, Entitlement, SupportCase, Visit
from tests.conftest import assert_accessible, make_user, sign_in_by_session

HAVERSTOCK = 100049


@pytest.mark.browser
def test_full_targeted_case_through_the_new_pages(
    page: Any, live_server: Any, transactional_db: None, camden_register: None
) -> None:
    director = make_user("dli", "director")
    adviser = make_user("cpp", "adviser", schools=(HAVERSTOCK,))
    school = School.objects.get(urn=HAVERSTOCK)
    TermlyAssessment.objects.create(
        school=school, term=Term.parse("autumn-2025"), decided_rag="red", decided_level="targeted",
        rationale="Standards and leadership concerns agreed at SRAS", decided_by=director,
        decided_at=timezone.now(),
    )  # fmt: skip
    base = live_server.url
    sign_in_by_session(page, live_server, "dli")

    # Entitlement: targeted from the decision; the director adds post-16 and allocates the adviser.
    page.goto(f"{base}{reverse('support:entitlement_year', args=[HAVERSTOCK, 2025])}")
    assert page.get_by_text("Targeted (decided for Autumn 2025/26)").is_visible()
    assert_accessible(page)
    page.get_by_label("Post-16 provision").check()
    page.get_by_label("Adviser (CPP)").select_option(label="cpp")
    page.get_by_role("button", name="Save entitlement").click()
    page.wait_for_load_state()
    assert page.get_by_text("Entitlement saved.").is_visible()
    ent = Entitlement.objects.get(school=school, academic_year=2025)
    assert ent.has_post16 and ent.adviser == adviser
    entitled = page.locator(".govuk-summary-list__row", has_text="Days entitled")
    assert entitled.get_by_text("8.0").is_visible()  # 1.5 + 0.5 + 6

    # Open the targeted case (started January 2025: 18 months have passed by the time of the review).
    page.goto(f"{base}{reverse('support:new_case', args=[HAVERSTOCK])}")
    page.get_by_label("Targeted").check()
    page.get_by_label("Start date").fill("2025-01-06")
    page.get_by_role("button", name="Open case").click()
    page.wait_for_url(re.compile(r"/support/cases/\d+/$"))
    case = SupportCase.objects.get(school=school)
    for title, area in (("Attendance of disadvantaged pupils", "attendance_and_behaviour"),
                        ("Progress 8 in maths", "achievement")):  # fmt: skip
        page.get_by_label("Priority", exact=True).fill(title)
        page.get_by_label("Ofsted evaluation area").select_option(area)
        page.get_by_label("Measurable end-of-year aim").fill("Above the national figure")
        page.get_by_role("button", name="Add priority").click()
        page.wait_for_load_state()

    # Initial meeting, then a review that is not on track.
    for held_on, progress in (("2025-01-20", "On track"), ("2025-03-24", "Not on track")):
        page.get_by_role("link", name="Record a meeting").click()
        page.wait_for_load_state()
        page.get_by_label("Date of meeting").fill(held_on)
        page.get_by_label(progress, exact=True).check()
        page.get_by_role("button", name="Record meeting").click()
        page.wait_for_url(re.compile(r"/support/cases/\d+/$"))
    assert page.get_by_text("rapid improvement plan with enhanced support proposed").is_visible()

    # A visit with its report circulation.
    page.get_by_role("link", name="Record a visit").click()
    assert_accessible(page)
    page.get_by_label("Date of visit").fill("2025-03-03")
    page.get_by_label("Type of visit").select_option("targeted")
    page.get_by_label("Days").fill("1.0")
    page.get_by_label("Report sent to the headteacher").fill("2025-03-05")
    page.get_by_label("Report sent to the chair of governors").fill("2025-03-05")
    page.get_by_label("Report sent to the Director").fill("2025-03-06")
    page.get_by_role("button", name="Save visit").click()
    page.wait_for_url(re.compile(r"/support/cases/\d+/$"))
    assert page.get_by_text("Headteacher 5 Mar 2025; Chair of governors 5 Mar 2025").is_visible()
    assert Visit.objects.get().case == case

    # Brokered, funded support.
    page.get_by_role("link", name="Add brokered support").click()
    page.wait_for_load_state()
    assert_accessible(page)
    page.get_by_label("Provider").fill("North London Teaching School Hub")
    page.get_by_label("Cost (£)").fill("4500")
    page.get_by_label("DfE grant").check()
    page.get_by_role("button", name="Save brokered support").click()
    page.wait_for_url(re.compile(r"/support/cases/\d+/$"))
    assert page.get_by_text("£4,500.00").is_visible()
    assert BrokeredSupport.objects.get().case == case

    # 18-month alert: prepare a pre-warning notice, issue it, record that the school complied.
    assert page.get_by_text("Targeted support has passed 18 months").is_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Prepare a pre-warning or warning notice").click()
    page.wait_for_load_state()
    assert_accessible(page)
    page.get_by_label("Pre-warning notice").check()
    page.get_by_label("Unacceptably low standards of performance").check()
    page.get_by_label("Concerns", exact=True).fill("Outcomes have not improved after 18 months")
    page.get_by_role("button", name="Save notice").click()
    page.wait_for_url(re.compile(r"/interventions/notices/\d+/$"))
    page.get_by_label("Issue date").fill("2026-07-13")
    page.get_by_label("Compliance period ends").fill("2026-09-30")
    page.get_by_role("button", name="Issue notice").click()
    page.wait_for_load_state()
    assert page.get_by_text("Notice issued.").is_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Record the response and outcome").click()
    page.wait_for_load_state()
    assert_accessible(page)
    page.get_by_label("The governing body's response").fill("Action plan agreed with the LA")
    page.get_by_label("Date the response was received").fill("2026-07-27")
    page.get_by_label("Complied", exact=True).check()
    page.get_by_role("button", name="Save response and outcome").click()
    page.wait_for_load_state()
    assert page.get_by_text("Response and outcome recorded.").is_visible()
    notice = WarningNotice.objects.get()
    assert notice.outcome == Outcome.COMPLIED and notice.case == case

    # Capacity: the LA overview and the adviser's page with a day budget that is too small.
    page.goto(f"{base}{reverse('support:capacity_year', args=[2025])}")
    assert_accessible(page)
    page.get_by_role("link", name="cpp").click()
    page.wait_for_load_state()
    page.get_by_label("Day budget for school visits").fill("6")
    page.get_by_role("button", name="Save day budget").click()
    page.wait_for_load_state()
    assert page.get_by_text("Over-allocated by 2.0 days (8.0 of 6.0).").is_visible()
    assert_accessible(page)

    # Letter template: preview an edit.
    page.goto(f"{base}{reverse('interventions:templates')}")
    assert_accessible(page)
    page.get_by_role("link", name="Congratulations letter").click()
    page.wait_for_load_state()
    page.get_by_label("Subject").fill("Congratulations to {{ school_name }}")
    page.get_by_role("button", name="Preview").click()
    page.wait_for_load_state()
    assert page.get_by_text("Congratulations to Argyle Primary School").is_visible()
    assert_accessible(page)

    # Back on track, then exit agreed by the chair.
    page.goto(f"{base}{reverse('support:case', args=[case.pk])}")
    page.get_by_role("link", name="Agree exit and re-categorisation").click()
    page.wait_for_load_state()
    page.get_by_label("Date agreed").fill("2026-07-17")
    for who in ("The headteacher", "The chair of governors", "The CPP"):
        page.get_by_label(who).check()
    page.get_by_label("Focused").check()
    page.get_by_label("Planned reduction of support").fill("Half-termly visits in the autumn, then termly")
    page.get_by_role("button", name="Agree exit").click()
    page.wait_for_load_state()
    assert page.get_by_text("Exit agreed and the school re-categorised.").is_visible()
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED and case.recategorised_to == "focused"
