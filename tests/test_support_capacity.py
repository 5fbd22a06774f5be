"""Support that adds up (issue 13, item 5) on real Camden schools: capacity from assignments, the support
matrix's universal 1.5 days, days used as the sum of the visits the reader may see, review meetings
scheduled on a date and used by the cadence."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from beacon.accounts.models import SchoolAssignment
from beacon.schools.models import School
from beacon.support import services
from beacon.support.models import Entitlement, Progress, Visit
from tests.conftest import make_user

HAVERSTOCK, ARGYLE = 100049, 100008
D = dt.date
TODAY = dt.datetime(2026, 1, 20, 10, 0, tzinfo=dt.UTC)


def _text(response: Any) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


@pytest.fixture
def six(camden_register: None) -> list[School]:
    schools = list(
        School.objects.filter(la_code=202, is_open=True).exclude(urn=HAVERSTOCK).order_by("urn")[:6]
    )
    assert len(schools) == 6
    return schools


@time_machine.travel(TODAY, tick=False)
def test_adviser_assigned_six_schools_shows_six_and_universal_days(client: Client, six: list[School]) -> None:
    adviser = make_user("cpp", "adviser", schools=tuple(s.urn for s in six))
    director = make_user("dli", "director")
    before = Entitlement.objects.count()
    view = services.adviser_capacity(adviser, 2025)
    assert len(view.rows) == 6 and all(r.entitled == Decimal("1.5") for r in view.rows)
    assert view.load.allocated == Decimal("9.0")  # six universal schools: 6 x 1.5 days (the matrix)
    client.force_login(director)
    page = _text(client.get(reverse("support:adviser_capacity_year", args=[adviser.pk, 2025])))
    assert "Schools 6" in page and "Days allocated 9.0" in page
    overview = _text(client.get(reverse("support:capacity_year", args=[2025])))
    assert "cpp" in overview and "9.0" in overview
    client.force_login(adviser)
    caseload = _text(client.get(reverse("support:caseload")))
    assert caseload.count("Universal 1.5") == 6
    assert Entitlement.objects.count() == before  # reading wrote nothing


def test_entitlement_naming_another_adviser_moves_the_school(six: list[School]) -> None:
    a = make_user("cpp", "adviser", schools=tuple(s.urn for s in six))
    b = make_user("cpp2", "adviser")
    Entitlement.objects.create(school=six[0], academic_year=2025, adviser=b, level="focused")
    assert len(services.adviser_schools(a, 2025)) == 5
    assert services.adviser_schools(b, 2025) == [six[0]]
    assert services.adviser_load(b, 2025).allocated == Decimal("3.0")  # 1.5 + focused 1.5
    # An assignment that ended before the academic year does not count.
    SchoolAssignment.objects.filter(user=a, school=six[1]).update(ended_on=D(2025, 8, 31))
    assert six[1] not in services.adviser_schools(a, 2025)


@time_machine.travel(TODAY, tick=False)
def test_days_used_is_the_sum_of_the_visits_the_reader_may_see(client: Client, camden_register: None) -> None:
    argyle, haverstock = School.objects.get(urn=ARGYLE), School.objects.get(urn=HAVERSTOCK)
    adviser = make_user("cpp", "adviser", schools=(ARGYLE, HAVERSTOCK))
    director = make_user("dli", "director")
    services.record_visit(school=argyle, adviser=adviser, visited_on=D(2025, 10, 6), visit_type="cpp",
                          days=Decimal("0.5"))  # fmt: skip
    services.record_visit(school=haverstock, adviser=adviser, visited_on=D(2025, 9, 15), visit_type="cpp",
                          days=Decimal("4.5"))  # fmt: skip
    # The adviser no longer serves Haverstock: its visit is no longer theirs to see or count.
    SchoolAssignment.objects.filter(user=adviser, school=haverstock).update(ended_on=D(2025, 12, 31))
    url = reverse("support:adviser_capacity_year", args=[adviser.pk, 2025])
    client.force_login(adviser)
    page = _text(client.get(url))
    assert "Days used 0.5" in page and "6 October 2025" in page and "15 September 2025" not in page
    caseload = _text(client.get(reverse("support:caseload")))
    assert "Days used: 0.5." in caseload and "Haverstock" not in caseload
    client.force_login(director)
    page = _text(client.get(url))
    assert "Days used 5.0" in page and "15 September 2025" in page  # the director sees both
    assert Visit.objects.count() == 2


def test_review_meeting_scheduled_on_a_date_drives_the_cadence(director_case: Any) -> None:
    case = director_case
    due = services.next_meeting_due(case)
    assert due is not None and due.due_by == D(2025, 10, 6) and due.scheduled is None  # 4 weeks
    with pytest.raises(ValidationError, match="today or a later date"):
        services.schedule_meeting(case, case.version, on=D(2025, 9, 9), today=D(2025, 9, 10))
    case = services.schedule_meeting(case, case.version, on=D(2025, 9, 29), today=D(2025, 9, 10))
    due = services.next_meeting_due(case)
    assert due is not None and (due.due_by, due.scheduled) == (D(2025, 9, 29), D(2025, 9, 29))
    assert not due.is_overdue(D(2025, 9, 29)) and due.is_overdue(D(2025, 9, 30))
    services.record_meeting(case, held_on=D(2025, 9, 30), progress=Progress.ON_TRACK,
                            next_meeting_on=D(2025, 12, 15))  # fmt: skip
    case.refresh_from_db()
    due = services.next_meeting_due(case)
    # Targeted: 8-10 weeks (by 9 December); scheduled later than the cadence asks: flagged, due by the cadence.
    assert due is not None and due.due_by == D(2025, 12, 9) and due.outside_cadence


@pytest.fixture
def director_case(camden_register: None) -> Any:
    director = make_user("dli", "director")
    return services.open_case(
        school=School.objects.get(urn=HAVERSTOCK), level="targeted", started_on=D(2025, 9, 8), chair=director
    )


@time_machine.travel(dt.datetime(2025, 9, 10, 10, 0, tzinfo=dt.UTC), tick=False)
def test_schedule_meeting_from_the_case_page(client: Client, director_case: Any) -> None:
    case = director_case
    client.force_login(case.chair)
    url = reverse("support:schedule_meeting", args=[case.pk])
    assert client.get(url).status_code == 405
    r = client.post(url, {"version": "0", "next_meeting_on": "2025-09-01"}, follow=True)
    assert "today or a later date" in r.content.decode()
    assert client.post(url, {"version": "0", "next_meeting_on": "2025-09-29"}).status_code == 302
    case.refresh_from_db()
    assert case.next_meeting_on == D(2025, 9, 29) and case.version == 1
    page = _text(client.get(reverse("support:case", args=[case.pk])))
    assert "Next review meeting scheduled 29 September 2025" in page
    r = client.post(url, {"version": "0", "next_meeting_on": "2025-10-01"}, follow=True)
    assert "changed by someone else" in r.content.decode()  # a stale form changes nothing
    case.refresh_from_db()
    assert case.next_meeting_on == D(2025, 9, 29)
