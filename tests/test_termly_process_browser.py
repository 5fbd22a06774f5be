"""Issue 13's acceptance test: a whole term as people run it, in a real browser, through the real pages,
signed in once per role, with axe-core on every page.

The register (census 2022/23, GIAS) is already loaded; the data manager imports the real KS4 results for
2024/25 on the imports page (Camden rows only); the director creates the autumn 2025 term with the form on
the risk register (a POST: reading never creates a term), sees Haverstock School's proposal on the register
and on its risk page, adds the SRAS meeting, records the SRAS decision (red, targeted) with its rationale and
downloads the categorisation letter; then the casework (tests/casework_journey.py): support case, two review
meetings with Appendix D, warning notice, response, outcome and letters, their text checked.

Time is frozen on 20 January 2026 (spring term: autumn 2025 is the term just assessed)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import time_machine

from beacon.assessments.models import SRASMeeting, TermlyAssessment
from beacon.imports.models import ImportRun, RunStatus
from beacon.indicators.models import SchoolMeasure
from beacon.risk.models import Term
from tests.casework_journey import HAVERSTOCK, casework, categorisation_letter
from tests.conftest import CAMDEN, _watch_csp, assert_accessible, make_user, sign_in_by_session

KS4_2024 = "charleskk6-ks2-ks4-2023-25/ks4_2024-2025_school_level_with_urn.csv"
RATIONALE = (
    "Year 11 outcomes in maths well below the floor and a falling trend; the school asked for help. "
    "Targeted support with a warning notice if the plan is not adopted."
)


def _import_ks4_results(browser: Any, live_server: Any, data_dir: Path) -> float:
    """The data manager uploads the real national KS4 file, keeping Camden's rows. Returns Haverstock's
    Attainment 8 for 2024/25 as imported."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    base = live_server.url
    page = context.new_page()
    violations = _watch_csp(page)
    try:
        sign_in_by_session(page, live_server, "dmo")
        page.goto(f"{base}/imports/upload/")
        assert_accessible(page)
        page.get_by_label("What is in the file?").select_option("ks4_results_matched")
        page.get_by_label("Academic year it covers (optional)").fill("2024")
        page.get_by_label("Only import rows for this local authority code (optional)").fill(str(CAMDEN))
        page.get_by_label("Upload a file").set_input_files(str(data_dir / KS4_2024))
        page.get_by_role("button", name="Check and import").click()
        page.wait_for_load_state()
        run = ImportRun.objects.get(source="ks4_results_matched")
        assert run.status == RunStatus.SUCCEEDED, run.message
        assert page.get_by_role("heading", level=1).inner_text() == f"Import {run.pk}: Imported"
        assert_accessible(page)
    finally:
        context.close()
    assert not violations, violations
    haverstock = SchoolMeasure.objects.get(
        school__urn=HAVERSTOCK, source_run=run, measure__code="ks4_attainment8", year=2024
    )
    assert haverstock.value is not None
    return float(haverstock.value)


@pytest.mark.browser
@time_machine.travel(dt.datetime(2026, 1, 20, 9, 0, tzinfo=dt.UTC))
def test_a_whole_term_as_people_run_it(
    browser: Any, page: Any, live_server: Any, transactional_db: None, camden_register: None, data_dir: Path
) -> None:
    base = live_server.url
    make_user("dmo", "data_manager")
    director = make_user("dli", "director")

    # 1. An import through the imports page.
    attainment8 = _import_ks4_results(browser, live_server, data_dir)

    # 2. No term yet: the register says so and offers the form; the director creates autumn 2025.
    sign_in_by_session(page, live_server, "dli")
    page.goto(f"{base}/risk/")
    assert page.get_by_role("heading", level=1).inner_text() == "Risk register"
    assert page.get_by_text("No assessment term has been created yet").is_visible()
    assert not Term.objects.exists()  # reading created nothing
    assert_accessible(page)
    page.get_by_label("Term", exact=True).select_option(label="Autumn")
    page.get_by_label("Academic year it starts").fill("2025")
    page.get_by_role("button", name="Create the term").click()
    page.wait_for_load_state()
    term = Term.objects.get()
    assert (term.academic_year, term.term) == (2025, "autumn")
    assert page.url == f"{base}/risk/?term={term.slug}"
    assert page.get_by_text("its criteria are evaluated and proposals made").is_visible()
    assert_accessible(page)

    # 3. The proposal, stored when the term was created, on the register and on the school's risk page.
    proposal = TermlyAssessment.objects.get(school__urn=HAVERSTOCK, term=term)
    assert proposal.proposed_rag and proposal.proposed_level and not proposal.is_decided
    row = page.locator(f'#risk-register tr[data-urn="{HAVERSTOCK}"]')
    proposed_cell = row.locator("td[data-proposed]").inner_text()
    assert proposal.get_proposed_rag_display() in proposed_cell, proposed_cell
    assert "Not decided" in row.inner_text()
    row.get_by_role("link", name="Haverstock School").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text().startswith("Haverstock School: risk assessment")
    shown = page.locator("#proposed").inner_text()
    assert proposal.get_proposed_rag_display() in shown
    assert proposal.get_proposed_level_display() in shown
    body = page.locator("main").inner_text()
    assert proposal.proposal_reasons and all(r["text"] in body for r in proposal.proposal_reasons)
    # The criteria were evaluated on the imported results: Haverstock's 2024/25 Attainment 8 is the evidence.
    criteria = page.locator("#criteria-results").inner_text()
    assert f"Attainment 8 score: fewer than 3 published years (2025: {attainment8:.1f})" in criteria
    assert "Latest evidence: 2024/25" in criteria and ">None<" not in page.content()
    assert_accessible(page)

    # 4. The SRAS meeting of 6 October 2025, then its decision with the rationale.
    page.goto(f"{base}/risk/meetings/?term={term.slug}")
    assert_accessible(page)
    page.get_by_label("Day").fill("6")
    page.get_by_label("Month").fill("10")
    page.get_by_label("Year").fill("2025")
    page.get_by_label("Attendees").fill("Director of education, SRAS advisers")
    page.get_by_role("button", name="Add meeting").click()
    page.wait_for_load_state()
    assert page.get_by_text("SRAS meeting added.").is_visible()
    meeting = SRASMeeting.objects.get(term=term)
    assert meeting.date == dt.date(2025, 10, 6)
    assert_accessible(page)

    page.goto(f"{base}/risk/{HAVERSTOCK}/?term={term.slug}")
    page.locator("input[name='decided_rag'][value='red']").check()
    page.locator("input[name='decided_level'][value='targeted']").check()
    page.get_by_label("Decided at").select_option(str(meeting.pk))
    page.get_by_label("Rationale").fill(RATIONALE)
    page.get_by_role("button", name="Record decision").click()
    page.wait_for_load_state()
    assert page.get_by_text("Decision recorded for Haverstock School.").is_visible()
    decided = page.locator("#decided").inner_text()
    assert "Red" in decided and "Targeted" in decided and "Year 11 outcomes in maths" in decided
    assert_accessible(page)
    decision = TermlyAssessment.objects.get(pk=proposal.pk)
    assert (decision.decided_rag, decision.decided_level, decision.meeting_id) == (
        "red",
        "targeted",
        meeting.pk,
    )
    assert decision.decided_by_id == director.pk and decision.rationale == RATIONALE

    page.goto(f"{base}/risk/?term={term.slug}")
    row = page.locator(f'#risk-register tr[data-urn="{HAVERSTOCK}"]')
    assert row.locator("[data-decided]").get_attribute("data-decided") == "red"
    assert_accessible(page)

    # 5. The categorisation letter, then the casework with its letters.
    categorisation_letter(page, base)
    casework(page, base)


def test_the_term_forms_carry_their_csrf_token(db: None) -> None:
    """The term form is a macro: imported without context it lost csrf_input and every POST was refused
    (403) — the journey above found it. With CSRF checks on, as in production, both forms work."""
    import re

    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("dli", "director"))
    for year, page_url in ((2025, "/risk/"), (2024, "/risk/?term=autumn-2025")):
        html = client.get(page_url).content.decode()
        form = html[html.index('action="/risk/terms/new/"') :]
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form[: form.index("</form>")])
        assert token, f"no CSRF token in the term form of {page_url}"
        resp = client.post(
            "/risk/terms/new/",
            {"season": "autumn", "academic_year": str(year), "csrfmiddlewaretoken": token.group(1)},
        )
        assert resp.status_code == 302, page_url
    assert sorted(Term.objects.values_list("academic_year", flat=True)) == [2024, 2025]
