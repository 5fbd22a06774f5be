"""Entitlement, brokered support, visit and adviser capacity pages on real Camden schools (LA 202).

From GIAS dim_school.csv (Camden): 100049 Haverstock School (ages 11-18, with a sixth form), 100008
Argyle Primary School (ages 3-11). Worked values follow the support matrix: universal 1.5 days (three
termly half-day CPP visits), +0.5 orientation (new head or adviser), +0.5 post-16, +0.5 ARP, focused
+1.5, targeted up to +6."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from beacon.assessments.models import TermlyAssessment
from beacon.risk.models import Term
from beacon.schools.models import School
from beacon.support import services
from beacon.support.models import AdviserCapacity, BrokeredSupport, Entitlement, SupportCase, Visit
from tests.conftest import make_user

HAVERSTOCK, ARGYLE = 100049, 100008
D = dt.date


def _text(response: Any) -> str:
    """The page's visible text, tags removed and whitespace collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


def _decide(urn: int, slug: str, level: str, user: Any) -> TermlyAssessment:
    return TermlyAssessment.objects.create(
        school=School.objects.get(urn=urn),
        term=Term.parse(slug),
        decided_rag="red" if level == "targeted" else "amber",
        decided_level=level,
        rationale="Decided at the SRAS meeting on the evidence",
        decided_by=user,
        decided_at=timezone.now(),
    )


@pytest.fixture
def people(camden_register: None) -> dict[str, Any]:
    return {
        "director": make_user("dli", "director"),
        "commissioner": make_user("comm", "commissioner"),
        "ceo": make_user("ceo", "ceo"),
        "adviser": make_user("cpp", "adviser", schools=(HAVERSTOCK, ARGYLE)),
        "other_adviser": make_user("cpp2", "adviser", schools=(ARGYLE,)),
        "head": make_user("head", "headteacher", schools=(HAVERSTOCK,)),
    }


def test_entitlement_level_follows_the_latest_decided_assessment(people: dict[str, Any]) -> None:
    haverstock = School.objects.get(urn=HAVERSTOCK)
    ent = services.sync_entitlement(haverstock, 2025)
    assert (ent.level, ent.derived_from, services.entitlement_days(ent).total) == (
        "universal",
        None,
        Decimal("1.5"),
    )
    _decide(HAVERSTOCK, "autumn-2025", "focused", people["director"])  # the signal re-derives the level
    ent.refresh_from_db()
    assert ent.level == "focused" and services.entitlement_days(ent).total == Decimal("3.0")  # 1.5 + 1.5
    spring = _decide(HAVERSTOCK, "spring-2025", "targeted", people["director"])
    ent.refresh_from_db()
    assert ent.level == "targeted" and ent.derived_from == spring
    assert ent.targeted_extra_days == Decimal("6") and services.entitlement_days(ent).total == Decimal("7.5")
    # A later academic year without its own decision carries the latest decision forward.
    assert services.sync_entitlement(haverstock, 2026).level == "targeted"
    # An earlier year is not affected by later decisions.
    assert services.sync_entitlement(haverstock, 2024).level == "universal"
    assert ent.history.count() >= 3  # created, focused, targeted: audited


def test_entitlement_page_flags_days_and_optimistic_lock(client: Client, people: dict[str, Any]) -> None:
    _decide(HAVERSTOCK, "autumn-2025", "targeted", people["director"])
    haverstock = School.objects.get(urn=HAVERSTOCK)
    services.record_visit(
        school=haverstock, adviser=people["adviser"], visited_on=D(2025, 10, 6), visit_type="cpp",
        days=Decimal("0.5"), report_to_head_on=D(2025, 10, 8),
    )  # fmt: skip
    services.record_visit(
        school=haverstock, adviser=people["adviser"], visited_on=D(2026, 1, 14), visit_type="targeted",
        days=Decimal("1.5"),
    )  # fmt: skip
    url = reverse("support:entitlement_year", args=[HAVERSTOCK, 2025])
    client.force_login(people["director"])
    page = client.get(url).content.decode()
    assert "Support entitlement 2025 to 2026" in page and "Targeted (decided for Autumn 2025/26)" in page
    assert "7.5" in page and "Headteacher 8 Oct 2025" in page  # 1.5 + 6 entitled; circulation shown
    ent = Entitlement.objects.get(school=haverstock, academic_year=2025)
    post = {
        "version": str(ent.version),
        "flags": ["new_headteacher", "has_post16"],
        "targeted_extra_days": "4",
        "adviser": str(people["adviser"].pk),
    }
    assert client.post(url, post).status_code == 302
    ent.refresh_from_db()
    assert ent.new_headteacher and ent.has_post16 and not ent.has_arp and ent.adviser == people["adviser"]
    assert services.entitlement_days(ent).total == Decimal("6.5")  # 1.5 + 0.5 + 0.5 + 4
    page = _text(client.get(url))
    assert "Days entitled 6.5 Days used 2.0 Days remaining 4.5" in page  # 0.5 + 1.5 used
    # The same form again (old version): refused, nothing changed.
    r = client.post(url, {**post, "flags": ["has_arp"]})
    assert r.status_code == 409 and "changed by someone else" in r.content.decode()
    ent.refresh_from_db()
    assert not ent.has_arp and ent.version == 1
    # More than 6 targeted days, or the wrong role, is refused.
    r = client.post(url, {**post, "version": "1", "targeted_extra_days": "6.5"})
    assert r.status_code == 400
    client.force_login(people["commissioner"])
    assert client.post(url, {**post, "version": "1", "flags": ["has_arp"]}).status_code == 302
    ent.refresh_from_db()
    assert ent.has_arp and not ent.new_headteacher and ent.version == 2
    client.force_login(people["adviser"])
    assert client.get(url).status_code == 200
    assert client.post(url, {**post, "version": "2"}).status_code == 403
    client.force_login(people["head"])
    assert client.get(url).status_code == 403


def test_brokered_support_add_and_edit(client: Client, people: dict[str, Any]) -> None:
    _decide(HAVERSTOCK, "autumn-2025", "targeted", people["director"])
    case = services.open_case(
        school=School.objects.get(urn=HAVERSTOCK), level="targeted", started_on=D(2025, 9, 8),
        chair=people["director"],
    )  # fmt: skip
    client.force_login(people["director"])
    new = reverse("support:brokered_new", args=[HAVERSTOCK, 2025])
    r = client.post(
        new,
        {"case": str(case.pk), "provider": "Camden Maths Hub", "cost": "2400.00", "funding_source": "grant",
         "description": "Mastery training for KS3 maths"},
    )  # fmt: skip
    assert r.status_code == 302 and r["Location"] == reverse("support:case", args=[case.pk])
    b = BrokeredSupport.objects.get()
    assert (b.case, b.entitlement.academic_year, b.cost) == (case, 2025, Decimal("2400.00"))
    assert client.post(new, {"provider": "", "cost": "-1", "funding_source": "la"}).status_code == 400
    page = client.get(reverse("support:case", args=[case.pk])).content.decode()
    assert "Camden Maths Hub" in page and "£2,400.00" in page and "DfE grant" in page
    edit = reverse("support:brokered_edit", args=[b.pk])
    data = {"version": "0", "provider": "Camden Maths Hub", "cost": "3150.50", "funding_source": "la"}
    assert client.post(edit, data).status_code == 302
    assert client.post(edit, {**data, "cost": "1"}).status_code == 409
    b.refresh_from_db()
    assert (b.cost, b.funding_source, b.version) == (Decimal("3150.50"), "la", 1)
    assert b.history.count() == 2
    client.force_login(people["adviser"])
    assert client.get(edit).status_code == 403


def test_visit_recording_with_circulation(client: Client, people: dict[str, Any]) -> None:
    case = services.open_case(
        school=School.objects.get(urn=HAVERSTOCK), level="targeted", started_on=D(2025, 9, 8),
        chair=people["director"],
    )  # fmt: skip
    client.force_login(people["adviser"])
    new = reverse("support:visit_new", args=[HAVERSTOCK])
    data = {
        "case": str(case.pk), "visited_on": "2025-10-06", "visit_type": "targeted", "days": "1.0",
        "adviser": str(people["adviser"].pk), "report_to_head_on": "2025-10-08",
        "report_to_chair_on": "2025-10-08", "report_to_director_on": "2025-10-09", "report_to_ceo_on": "",
    }  # fmt: skip
    assert client.post(new, {**data, "report_to_chair_on": "2025-10-01"}).status_code == 400  # before visit
    assert client.post(new, {**data, "days": "0.3"}).status_code == 400
    assert client.post(new, data).status_code == 302
    v = Visit.objects.get()
    assert (v.case, v.days, v.report_to_head, v.report_to_director, v.report_to_ceo) == (
        case, Decimal("1.0"), True, True, False,
    )  # fmt: skip
    page = client.get(reverse("support:case", args=[case.pk])).content.decode()
    assert (
        "Headteacher 8 Oct 2025; Chair of governors 8 Oct 2025; Director of Learning and Impact 9 Oct 2025"
        in page
    )
    edit = reverse("support:visit_edit", args=[v.pk])
    data.pop("case")
    assert client.post(edit, {**data, "version": "0", "report_to_ceo_on": "2025-10-10"}).status_code == 302
    r = client.post(edit, {**data, "version": "0", "days": "2.0"})
    assert r.status_code == 409
    v.refresh_from_db()
    assert v.report_to_ceo and v.report_to_ceo_on == D(2025, 10, 10) and v.days == Decimal("1.0")
    # Another adviser (not assigned to Haverstock) cannot see or record it.
    client.force_login(people["other_adviser"])
    assert client.get(edit).status_code == 403 and client.get(new).status_code == 403


def test_adviser_capacity_pages(client: Client, people: dict[str, Any]) -> None:
    adviser = people["adviser"]
    _decide(HAVERSTOCK, "autumn-2025", "targeted", people["director"])
    for urn in (HAVERSTOCK, ARGYLE):
        ent = services.sync_entitlement(School.objects.get(urn=urn), 2025)
        ent.adviser = adviser
        ent.save()
    services.record_visit(
        school=School.objects.get(urn=ARGYLE), adviser=adviser, visited_on=D(2025, 9, 15), visit_type="cpp",
        days=Decimal("2.0"),
    )  # fmt: skip
    # Allocated: Haverstock 1.5 + 6 = 7.5, Argyle 1.5: 9.0 days; budget 8: over by 1.0.
    url = reverse("support:adviser_capacity_year", args=[adviser.pk, 2025])
    client.force_login(people["director"])
    assert client.post(url, {"version": "0", "day_budget": "8"}).status_code == 302
    assert AdviserCapacity.objects.get(adviser=adviser, academic_year=2025).day_budget == Decimal("8")
    page = client.get(url).content.decode()
    assert "Over-allocated by 1.0 days (9.0 of 8.0)." in page
    assert "Argyle Primary School: 2.0 days used of 1.5 entitled." in page
    assert client.post(url, {"version": "0", "day_budget": "10"}).status_code == 409
    assert client.post(url, {"version": "1", "day_budget": "10"}).status_code == 302
    assert AdviserCapacity.objects.get(adviser=adviser).version == 2
    overview = client.get(reverse("support:capacity_year", args=[2025])).content.decode()
    assert (
        "cpp" in overview and "Within budget" in overview and "cpp2" in overview and "No budget" in overview
    )
    client.force_login(people["ceo"])
    assert client.get(reverse("support:capacity_year", args=[2025])).status_code == 200
    client.force_login(adviser)
    assert client.get(url).status_code == 200
    assert client.post(url, {"version": "2", "day_budget": "50"}).status_code == 403
    assert AdviserCapacity.objects.get(adviser=adviser).day_budget == Decimal("10")
    assert client.get(reverse("support:capacity")).status_code == 403
    other = reverse("support:adviser_capacity_year", args=[people["other_adviser"].pk, 2025])
    assert client.get(other).status_code == 403
    caseload = client.get(reverse("support:caseload")).content.decode()
    assert "My capacity and visits" in caseload


def test_case_page_lists_school_visits_since_start(client: Client, people: dict[str, Any]) -> None:
    haverstock = School.objects.get(urn=HAVERSTOCK)
    case = services.open_case(
        school=haverstock, level="focused", started_on=D(2025, 9, 8), chair=people["director"]
    )
    services.record_visit(
        school=haverstock, adviser=None, visited_on=D(2025, 7, 1), visit_type="cpp", days=Decimal("0.5")
    )
    services.record_visit(
        school=haverstock, adviser=None, visited_on=D(2025, 11, 3), visit_type="focused", days=Decimal("1.5")
    )
    client.force_login(people["director"])
    page = client.get(reverse("support:case", args=[case.pk])).content.decode()
    assert "3 November 2025" in page and "1 July 2025" not in page
    assert SupportCase.objects.count() == 1
