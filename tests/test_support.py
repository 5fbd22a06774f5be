"""Support matrix, cadence, 18-month alert, priorities and exit on real Camden schools (LA 202).

Schools used (from GIAS dim_school.csv, Camden): 100008 Argyle Primary School (ages 3-11, no religious
character), 100049 Haverstock School (ages 11-18)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from beacon.core.versioning import StaleEdit
from beacon.schools.models import School
from beacon.support import services
from beacon.support.dates import academic_year, add_months, next_term_end
from beacon.support.forms import PriorityForm
from beacon.support.models import (
    AdviserCapacity,
    CaseStatus,
    Entitlement,
    MeetingKind,
    Progress,
    SupportCase,
    Visit,
)
from tests.conftest import make_user

ARGYLE, HAVERSTOCK = 100008, 100049
D = dt.date


def test_add_months_clamps_to_month_end() -> None:
    assert add_months(D(2024, 8, 31), 18) == D(2026, 2, 28)
    assert add_months(D(2022, 8, 31), 18) == D(2024, 2, 29)  # leap year
    assert add_months(D(2025, 1, 15), 18) == D(2026, 7, 15)
    assert academic_year(D(2025, 8, 31)) == 2024
    assert academic_year(D(2025, 9, 1)) == 2025
    # Spring ends 14 April (beacon.core.terms, decision 0022).
    assert next_term_end(D(2025, 10, 6)) == D(2026, 4, 14)
    assert next_term_end(D(2026, 2, 1)) == D(2026, 8, 31)
    assert next_term_end(D(2026, 5, 1)) == D(2026, 12, 31)


@pytest.fixture
def director(camden_register: None):  # type: ignore[no-untyped-def]
    return make_user("dli", "director")


def test_entitlement_matrix(camden_register: None) -> None:
    argyle = School.objects.get(urn=ARGYLE)
    ent = Entitlement(school=argyle, academic_year=2025)
    assert services.entitlement_days(ent).total == Decimal("1.5")
    ent.new_headteacher = True
    assert services.entitlement_days(ent).total == Decimal("2.0")
    ent.new_adviser = True  # still one orientation half day
    assert services.entitlement_days(ent).total == Decimal("2.0")
    ent.has_arp = True
    ent.level = "focused"
    assert services.entitlement_days(ent).total == Decimal("4.0")  # 1.5 + 0.5 + 0.5 + 1.5
    haverstock = School.objects.get(urn=HAVERSTOCK)
    t = Entitlement(
        school=haverstock,
        academic_year=2025,
        level="targeted",
        has_post16=True,
        targeted_extra_days=Decimal("6"),
    )
    assert services.entitlement_days(t).total == Decimal("8.0")  # 1.5 + 0.5 + 6
    t.targeted_extra_days = Decimal("6.5")
    with pytest.raises(ValidationError, match="up to 6"):
        services.save_entitlement(t)
    ent.targeted_extra_days = Decimal("1")
    with pytest.raises(ValidationError, match="only to targeted"):
        services.save_entitlement(ent)


def test_adviser_over_allocation_and_days_used(camden_register: None) -> None:
    adviser = make_user("cpp", "adviser", schools=(ARGYLE, HAVERSTOCK))
    AdviserCapacity.objects.create(adviser=adviser, academic_year=2025, day_budget=Decimal("5"))
    Entitlement.objects.create(school=School.objects.get(urn=ARGYLE), academic_year=2025, adviser=adviser)
    load = services.adviser_load(adviser, 2025)
    # Updated for issue 13: Haverstock, assigned but with no saved entitlement, counts its universal 1.5.
    assert (load.allocated, load.over_allocated, load.warning) == (Decimal("3.0"), False, "")
    Entitlement.objects.create(
        school=School.objects.get(urn=HAVERSTOCK),
        academic_year=2025,
        adviser=adviser,
        level="targeted",
        targeted_extra_days=Decimal("3"),
    )
    load = services.adviser_load(adviser, 2025)
    assert load.allocated == Decimal("6.0") and load.over_allocated
    assert "Over-allocated by 1.0 days" in load.warning
    argyle = School.objects.get(urn=ARGYLE)
    Visit.objects.create(school=argyle, adviser=adviser, visited_on=D(2025, 9, 1), visit_type="cpp")
    Visit.objects.create(
        school=argyle, adviser=adviser, visited_on=D(2025, 8, 31), visit_type="cpp"
    )  # 2024/25
    Visit.objects.create(
        school=argyle,
        adviser=adviser,
        visited_on=D(2026, 1, 12),
        visit_type="cpp",
        report_to_head=True,
        report_to_chair=True,
    )
    assert services.days_used(argyle.pk, 2025) == Decimal("1.0")
    assert services.adviser_load(adviser, 2025).used == Decimal("1.0")


def _case(director, level: str = "targeted", urn: int = HAVERSTOCK, start: D | None = None) -> SupportCase:  # type: ignore[no-untyped-def]
    return services.open_case(
        school=School.objects.get(urn=urn), level=level, started_on=start or D(2024, 9, 2), chair=director
    )


def test_case_chair_must_be_director_or_ceo(director) -> None:  # type: ignore[no-untyped-def]
    adviser = make_user("cpp", "adviser")
    with pytest.raises(ValidationError, match="Director of Learning and Impact or the CEO"):
        _case(adviser)
    _case(director)
    with pytest.raises(ValidationError, match="already has an open"):
        _case(make_user("ceo", "ceo"))


def test_priority_limits_service_and_form(director) -> None:  # type: ignore[no-untyped-def]
    targeted = _case(director)
    for i in range(4):
        services.add_priority(
            targeted, area="achievement", title=f"P{i}", end_of_year_aim="KS4 P8 above -0.2"
        )
    with pytest.raises(ValidationError, match="at most 4"):
        services.add_priority(targeted, area="inclusion", title="P5", end_of_year_aim="x")
    form = PriorityForm({"area": "inclusion", "title": "P5", "end_of_year_aim": "x"}, case=targeted)
    assert not form.is_valid() and "at most 4 priorities" in str(form.errors)
    focused = _case(director, "focused", ARGYLE)
    for i in range(3):
        services.add_priority(focused, area="attendance_and_behaviour", title=f"F{i}", end_of_year_aim="95%")
    with pytest.raises(ValidationError, match="at most 3"):
        services.add_priority(focused, area="achievement", title="F4", end_of_year_aim="x")


def test_sixth_form_priority_only_where_applicable(director) -> None:  # type: ignore[no-untyped-def]
    primary = _case(director, "focused", ARGYLE)
    with pytest.raises(ValidationError, match="Sixth form"):
        services.add_priority(primary, area="post16", title="Sixth form", end_of_year_aim="x")
    secondary = _case(director, "targeted", HAVERSTOCK)  # ages 11-18
    assert services.add_priority(
        secondary, area="post16", title="Sixth form", end_of_year_aim="A-level APS 35"
    )


def test_targeted_cadence_then_termly_when_secure(director) -> None:  # type: ignore[no-untyped-def]
    case = _case(director, start=D(2025, 9, 8))
    due = services.next_meeting_due(case)
    assert due is not None and due.due_by == D(2025, 10, 6) and due.cadence == "initial"
    m = services.record_meeting(case, held_on=D(2025, 9, 22), progress=Progress.ON_TRACK)
    assert m.kind == MeetingKind.INITIAL and "priorities" in m.agenda
    due = services.next_meeting_due(case)
    assert due is not None and (due.earliest, due.due_by) == (D(2025, 11, 17), D(2025, 12, 1))
    assert not due.is_overdue(D(2025, 12, 1)) and due.is_overdue(D(2025, 12, 2))
    m2 = services.record_meeting(case, held_on=D(2025, 11, 24), progress=Progress.NOT_ON_TRACK)
    assert m2.kind == MeetingKind.SUBSEQUENT and m2.rapid_improvement_plan_proposed
    case = services.update_case(case, case.version, securely_on_track=True)
    due = services.next_meeting_due(case)
    assert due is not None and due.due_by == D(2026, 4, 14) and due.cadence == "termly"


def test_focused_cadence_is_termly(director) -> None:  # type: ignore[no-untyped-def]
    case = _case(director, "focused", ARGYLE, start=D(2026, 1, 5))
    services.record_meeting(case, held_on=D(2026, 1, 19), progress=Progress.ON_TRACK)
    due = services.next_meeting_due(case)
    assert due is not None and due.due_by == D(2026, 8, 31)


def test_eighteen_month_alert_exact_dates(director) -> None:  # type: ignore[no-untyped-def]
    case = _case(director, start=D(2024, 8, 31))
    assert services.eighteen_month_alert(case, D(2026, 2, 27)) is None
    alert = services.eighteen_month_alert(case, D(2026, 2, 28))
    assert alert is not None and alert.since == D(2026, 2, 28) and "warning notice" in alert.message
    services.record_meeting(case, held_on=D(2026, 2, 1), progress=Progress.ON_TRACK)
    assert services.eighteen_month_alert(case, D(2026, 3, 1)) is None
    services.record_meeting(case, held_on=D(2026, 4, 1), progress=Progress.NOT_ON_TRACK)
    assert services.eighteen_month_alert(case, D(2026, 4, 2)) is not None
    focused = _case(director, "focused", ARGYLE, start=D(2023, 1, 1))
    assert services.eighteen_month_alert(focused, D(2026, 1, 1)) is None


def test_optimistic_locking_and_exit(director) -> None:  # type: ignore[no-untyped-def]
    case = _case(director)
    stale_version = case.version
    services.update_case(case, stale_version, planned_exit_on=D(2026, 7, 17))
    with pytest.raises(StaleEdit):
        services.update_case(case, stale_version, planned_exit_on=D(2026, 12, 18))
    case.refresh_from_db()
    assert case.version == 1 and case.planned_exit_on == D(2026, 7, 17)
    kwargs = {
        "agreed_on": D(2026, 7, 10),
        "head": True,
        "chair_of_governors": True,
        "cpp": True,
        "recategorise_to": "focused",
        "reduction_plan": "Fortnightly to half-termly visits by Christmas",
    }
    with pytest.raises(ValidationError, match="Only the chair"):
        services.agree_exit(case, by=make_user("ceo2", "ceo"), expected_version=1, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="chair of governors"):
        services.agree_exit(case, by=director, expected_version=1, **{**kwargs, "cpp": False})  # type: ignore[arg-type]
    closed = services.agree_exit(case, by=director, expected_version=1, **kwargs)  # type: ignore[arg-type]
    assert closed.status == CaseStatus.CLOSED and closed.recategorised_to == "focused"
    assert services.next_meeting_due(closed) is None
    assert closed.history.count() == 3  # created, planned exit, exit: audited
