"""Reading never writes (issue 13 item 4, decision 0018).

Every GET URL pattern of the project is requested by every role and an anonymous visitor in the access
matrix's crawl (tests/test_access_matrix.py, `crawl`): no table may change. Row counts are compared after
every request (one query), and a checksum of every row of every table after each role's GETs. The session
table is left out: a signed-in request refreshes its own session, which is not recorded data.

Here: that those measures can fail; then the cases issue 13 found: an unknown term (404, no term made), an
entitlement for a year without one (figures derived, nothing saved), a letter download (no template saved),
the two-factor set-up page (no device saved); and the events that do refresh proposals (term created by
staff, judgement recorded).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client

from tests.conftest import make_user
from tests.test_access_matrix import changed_tables, checksums, counts

pytestmark = pytest.mark.django_db


def test_the_crawl_would_see_a_write() -> None:
    """The measures above can fail: one saved row changes both, and on PostgreSQL an update is seen at once."""
    from beacon.risk.models import Term

    before, sums = counts(), checksums()
    term = Term.objects.create(academic_year=2031, term="spring")
    assert changed_tables(before, counts()) == ["risk_term"]
    assert "risk_term" in changed_tables(sums, checksums())
    before, sums = counts(), checksums()
    Term.objects.filter(pk=term.pk).update(term="summer")
    assert changed_tables(sums, checksums()) == ["risk_term"]
    if connection.vendor == "postgresql":
        assert changed_tables(before, counts()) == ["risk_term"]


ARGYLE, HAVERSTOCK = 100008, 100049


def test_an_unknown_term_is_404_and_makes_no_term(camden_register: None) -> None:
    from beacon.assessments import services
    from beacon.assessments.models import TermlyAssessment
    from beacon.risk.models import CriterionResult, Term

    services.create_term("autumn", 2025)
    evaluated = CriterionResult.objects.values("school").distinct().count()
    assert evaluated == 59  # Camden's state-funded schools (independent schools are not assessed)
    assert TermlyAssessment.objects.filter(term__academic_year=2025).count() == evaluated  # one each
    terms, assessments = Term.objects.count(), TermlyAssessment.objects.count()
    client = Client()
    client.force_login(make_user("adv", "adviser", schools=(ARGYLE,)))
    for path in (
        "/risk/?term=summer-1999",
        f"/risk/{ARGYLE}/?term=summer-1999",
        "/risk/meetings/?term=summer-1999",
        "/risk/meeting-pack.pdf?term=summer-1999",
        "/risk/?term=not-a-term",
    ):
        resp = client.get(path)
        assert resp.status_code == 404, path
        assert "govuk-heading-l" in resp.content.decode(), path  # the styled error page
    assert (Term.objects.count(), TermlyAssessment.objects.count()) == (terms, assessments)
    assert not Term.objects.filter(academic_year=1999).exists()
    # The known term reads fine.
    assert client.get("/risk/?term=autumn-2025").status_code == 200


def test_terms_are_created_by_staff_with_a_post(camden_register: None) -> None:
    from beacon.assessments.models import TermlyAssessment
    from beacon.risk.models import CriterionResult, Term

    director, adviser = make_user("dli", "director"), make_user("adv", "adviser", schools=(ARGYLE,))
    client = Client()
    client.force_login(director)
    # No term yet: the register says so and offers the form (and writes nothing).
    page = client.get("/risk/")
    assert page.status_code == 200 and "Create the term" in page.content.decode()
    assert Term.objects.count() == 0
    bad = client.post("/risk/terms/new/", {"season": "autumn", "academic_year": "²0²5"})
    assert bad.status_code == 400 and "Enter the year the academic year starts" in bad.content.decode()
    assert Term.objects.count() == 0
    other = Client()
    other.force_login(adviser)
    assert other.post("/risk/terms/new/", {"season": "autumn", "academic_year": "2025"}).status_code == 403
    assert Term.objects.count() == 0
    done = client.post("/risk/terms/new/", {"season": "spring", "academic_year": "2025"})
    assert done.status_code == 302 and done["Location"] == "/risk/?term=spring-2025"
    term = Term.objects.get()
    assert CriterionResult.objects.filter(term=term).values("school").distinct().count() == 59
    assert TermlyAssessment.objects.filter(term=term).exclude(proposed_rag="").count() == 59
    assert "Risk register" in client.get(done["Location"]).content.decode()


def test_a_judgement_refreshes_the_proposal_and_the_page_only_reads_it(camden_register: None) -> None:
    from beacon.assessments import services
    from beacon.assessments.models import TermlyAssessment
    from beacon.risk.models import Criterion, CriterionKind

    term = services.create_term("autumn", 2025)
    director = make_user("dli", "director")
    a = TermlyAssessment.objects.get(school__urn=ARGYLE, term=term)
    version = a.version
    criterion = next(
        c
        for c in Criterion.objects.filter(model="camden", kind=CriterionKind.JUDGEMENT).order_by("sort_order")
        if c.applies_to({"primary"})  # Argyle is a primary school
    )
    client = Client()
    client.force_login(director)
    resp = client.post(
        f"/risk/{ARGYLE}/judgements/?term={term.slug}",
        {
            "j-criterion": criterion.pk,
            "j-applies": "yes",
            "j-reason": "Seen on the visit",
            "j-source": "cpp_visit",
        },
    )
    assert resp.status_code == 302, resp.content.decode()[:2000]
    a.refresh_from_db()
    assert a.version == version + 1
    assert any(r.get("source") == "judgement" for r in a.proposal_reasons)
    before = a.version
    assert client.get(f"/risk/{ARGYLE}/?term={term.slug}").status_code == 200
    a.refresh_from_db()
    assert a.version == before


def test_an_import_refreshes_the_live_terms_proposals(camden_register: None, data_dir: Any) -> None:
    from beacon.assessments import services
    from beacon.assessments.models import TermlyAssessment
    from beacon.imports.framework import run_import
    from beacon.imports.models import RunStatus

    term = services.create_term("autumn", 2025)
    camden = TermlyAssessment.objects.filter(term=term).count()
    assert camden == 59
    run = run_import(
        "school_census",
        data_dir / "helios-census-2022-23/spc_school_level_underlying_data_2022_23.csv",
        la_code=213,
    )
    assert run.status == RunStatus.SUCCEEDED, run.message
    # Westminster's schools came in: evaluated and proposed by the import's post-load hook, not by a page.
    assert TermlyAssessment.objects.filter(term=term, school__la_code=213).count() > 30


def test_entitlement_for_a_year_without_one_is_derived_not_saved(camden_register: None) -> None:
    from beacon.support.models import Entitlement

    client = Client()
    client.force_login(make_user("dli", "director"))
    resp = client.get(f"/support/schools/{HAVERSTOCK}/entitlement/2099/")
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "Universal" in html and "1.5" in html  # the support matrix's universal days, derived
    assert not Entitlement.objects.exists()
    assert client.get(f"/support/schools/{HAVERSTOCK}/entitlement/").status_code == 200
    assert client.get(f"/support/schools/{HAVERSTOCK}/entitlement/2099/brokered/new/").status_code == 200
    assert not Entitlement.objects.exists()
    # Saving the entitlement (a POST) does make the row.
    saved = client.post(
        f"/support/schools/{HAVERSTOCK}/entitlement/2099/",
        {"version": "0", "flags": ["has_post16"], "targeted_extra_days": "0", "adviser": ""},
    )
    assert saved.status_code == 302
    assert Entitlement.objects.get().has_post16 is True


def test_letter_downloads_and_template_pages_make_no_template(camden_register: None) -> None:
    import datetime as dt

    from beacon.interventions.models import Ground, LetterTemplate, WarningNotice
    from beacon.schools.models import School

    director = make_user("dli", "director")
    notice = WarningNotice.objects.create(
        school=School.objects.get(urn=HAVERSTOCK),
        ground=Ground.STANDARDS,
        concerns="Year 11 maths outcomes well below the floor",  # Appendix C: the letter needs both
        required_action="Adopt the rapid improvement plan",
        issued_on=dt.date(2026, 2, 1),
        compliance_ends_on=dt.date(2026, 3, 1),
    )
    # The default templates are rows from data migration interventions/0005: reading adds or changes none,
    # and a kind whose row is gone is read as the unsaved default, never created.
    LetterTemplate.objects.filter(kind="warning_notice").delete()
    before = list(LetterTemplate.objects.order_by("pk").values_list("pk", "kind", "version"))
    client = Client()
    client.force_login(director)
    for path in (
        f"/interventions/notices/{notice.pk}/letter.docx",
        "/interventions/letters/",
        "/interventions/letters/warning_notice/",
    ):
        assert client.get(path).status_code == 200, path
    assert list(LetterTemplate.objects.order_by("pk").values_list("pk", "kind", "version")) == before
    assert not LetterTemplate.objects.filter(kind="warning_notice").exists()


def test_a_school_without_a_proposal_is_read_blank_and_decided_by_post(camden_register: None) -> None:
    from beacon.assessments import services
    from beacon.assessments.models import TermlyAssessment
    from beacon.schools.models import School

    term = services.create_term("autumn", 2025)
    assessed = set(TermlyAssessment.objects.filter(term=term).values_list("school_id", flat=True))
    school = School.objects.filter(la_code=202).exclude(pk__in=assessed).order_by("urn").first()
    assert school is not None  # an independent school: not evaluated, so no proposal
    client = Client()
    client.force_login(make_user("dli", "director"))
    page = client.get(f"/risk/{school.urn}/?term={term.slug}")
    from html import unescape

    assert page.status_code == 200 and school.name in unescape(page.content.decode())
    assert not TermlyAssessment.objects.filter(school=school).exists()
    decided = client.post(
        f"/risk/{school.urn}/decide/?term={term.slug}",
        {"decided_rag": "green", "decided_level": "universal", "version": "0",
         "rationale": "No concerns: the school is not maintained by the LA and is monitored by the DfE."},
    )  # fmt: skip
    assert decided.status_code == 302, decided.content.decode()[:3000]
    a = TermlyAssessment.objects.get(school=school, term=term)
    assert (a.decided_rag, a.decided_level) == ("green", "universal")
