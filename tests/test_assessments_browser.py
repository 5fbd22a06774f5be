"""A director decides a school's category in a real browser (Playwright + axe), on the real Camden register."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from tests.conftest import assert_accessible, make_user, sign_in_by_session

ARGYLE = 100008  # Argyle Primary School
ACLAND = 100053  # Acland Burghley School


@pytest.mark.browser
def test_director_decides_a_category(
    page: Any, live_server: Any, transactional_db: None, camden_register: None
) -> None:
    from beacon.assessments.models import Intelligence, TermlyAssessment
    from beacon.risk.models import Criterion, CriterionResult, Term
    from beacon.risk.services import active_rulebook
    from beacon.schools.models import School

    term = Term.parse("autumn-2025")
    argyle = School.objects.get(urn=ARGYLE)
    book = active_rulebook()
    # Argyle: at risk of an Ofsted area (A-i) and high suspensions (A-vii): the matrix proposes red / targeted.
    for code, outcome in (("A-i", "met"), ("A-vii", "met"), ("A-viii", "no_evidence")):
        CriterionResult.objects.create(
            school=argyle,
            term=term,
            criterion=Criterion.objects.get(code=code),
            rulebook=book,
            outcome=outcome,
            evidence={
                "explanation": f"{code}: worked example",
                "items": [
                    {
                        "measure": "suspension_rate",
                        "years": [2022, 2023],
                        "values": [4.2, 6.1],
                        "benchmark": [2.1, 2.3],
                    }
                ],
            },
            evaluated_at=timezone.now(),
        )
    CriterionResult.objects.create(
        school=School.objects.get(urn=ACLAND),
        term=term,
        criterion=Criterion.objects.get(code="A-viii"),
        rulebook=book,
        outcome="met",
        evidence={"explanation": "Absence above median"},
        evaluated_at=timezone.now(),
    )
    from beacon.assessments.services import refresh_proposals

    refresh_proposals(term)  # as evaluate_risk does after evaluating; the pages only read (decision 0018)
    director = make_user("dana", "director")
    Intelligence.objects.create(
        school=argyle,
        date=dt.date(2025, 10, 2),
        source="cpp_visit",
        summary="Lunchtime supervision concerns",
        sensitivity="safeguarding",
        recorded_by=director,
    )

    sign_in_by_session(page, live_server, "dana")
    page.goto(f"{live_server.url}/risk/?term=autumn-2025")
    assert page.get_by_role("heading", level=1).inner_text() == "Risk register"
    first = page.locator("#risk-register tbody tr").first
    assert first.get_attribute("data-urn") == str(ARGYLE)  # riskiest first (score 2)
    assert_accessible(page)

    page.get_by_role("link", name="Argyle Primary School").click()
    page.wait_for_load_state()
    assert "Argyle Primary School: risk assessment" in page.get_by_role("heading", level=1).inner_text()
    assert "Red" in page.locator("#proposed").inner_text()
    assert "Targeted" in page.locator("#proposed").inner_text()
    assert page.locator("#intelligence-list h3", has_text="Lunchtime supervision concerns").is_visible()
    assert_accessible(page)

    # Without a rationale: error summary, nothing saved.
    page.get_by_role("button", name="Record decision").click()
    page.wait_for_load_state()
    assert page.get_by_role("alert").get_by_text("Enter the rationale for this decision").is_visible()
    assert not TermlyAssessment.objects.get(school=argyle, term=term).is_decided
    assert_accessible(page)

    page.locator("#id_decided_rag-2").check()  # Amber
    page.locator("#id_decided_level-2").check()  # Focused
    page.get_by_label("Rationale").fill(
        "New head in post with a credible plan; focused support, review at spring SRAS."
    )
    page.get_by_role("button", name="Record decision").click()
    page.wait_for_load_state()
    assert page.get_by_text("Decision recorded for Argyle Primary School.").is_visible()
    assert "Amber" in page.locator("#decided").inner_text()

    page.get_by_role("link", name="Risk register").first.click()
    page.wait_for_load_state()
    row = page.locator(f'#risk-register tr[data-urn="{ARGYLE}"]')
    assert row.locator("[data-decided]").get_attribute("data-decided") == "amber"
    assert "Amber" in row.locator("[data-decided]").inner_text()
    a = TermlyAssessment.objects.get(school=argyle, term=term)
    assert (a.decided_rag, a.decided_level, a.decided_by_id) == ("amber", "focused", director.pk)


@pytest.mark.browser
def test_national_user_chooses_the_la_of_a_meeting_pack(
    page: Any, live_server: Any, transactional_db: None, camden_register: None, data_dir: Any
) -> None:
    """A user who sees several LAs is asked which LA's meeting pack to download (accessible form, an error
    when none is chosen), then gets that LA's pack."""
    from beacon.imports.framework import run_import
    from beacon.imports.models import RunStatus
    from beacon.risk.models import Term

    run = run_import(
        "school_census",
        data_dir / "helios-census-2022-23/spc_school_level_underlying_data_2022_23.csv",
        la_code=213,
    )
    assert run.status == RunStatus.SUCCEEDED, run.message
    Term.parse("autumn-2025")
    make_user("nadia", "national", la_code=None)

    sign_in_by_session(page, live_server, "nadia", then="/risk/?term=autumn-2025")
    page.get_by_role("link", name="SRAS meeting pack (PDF) for one local authority").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "SRAS meeting pack"
    assert_accessible(page)

    page.get_by_role("button", name="Download the pack (PDF)").click()  # no LA chosen
    page.wait_for_load_state()
    assert page.get_by_role("link", name="Choose a local authority from the list").is_visible()
    assert_accessible(page)

    page.get_by_label("Local authority").select_option(label="Camden")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the pack (PDF)").click()
    assert download.value.suggested_filename == "sras-meeting-pack-autumn-2025-la-202.pdf"
