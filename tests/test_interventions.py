"""Warning notices on real Camden schools: 100008 Argyle Primary School (religious character "Does not
apply") and 100028 Christ Church Primary School, Hampstead (Church of England)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from beacon.interventions import services
from beacon.interventions.models import Ground, Outcome, WarningNotice
from beacon.schools.models import School

D = dt.date


@pytest.mark.parametrize(
    ("ends", "deadline"),
    [
        (D(2026, 3, 13), D(2026, 5, 13)),
        (D(2025, 12, 31), D(2026, 2, 28)),
        (D(2027, 12, 31), D(2028, 2, 29)),
        (D(2026, 8, 31), D(2026, 10, 31)),
        (D(2026, 7, 31), D(2026, 9, 30)),
    ],
)
def test_pay_conditions_deadline_two_months_after_compliance(ends: D, deadline: D) -> None:
    notice = WarningNotice(ground=Ground.PAY_CONDITIONS, compliance_ends_on=ends)
    assert services.pay_conditions_deadline(notice) == deadline
    assert (
        services.pay_conditions_deadline(WarningNotice(ground=Ground.STANDARDS, compliance_ends_on=ends))
        is None
    )


def test_religious_character_school_needs_diocese_informed_first(camden_register: None) -> None:
    school = School.objects.get(urn=100028)
    assert school.religious_character == "Church of England"
    notice = WarningNotice.objects.create(school=school, ground=Ground.STANDARDS)
    with pytest.raises(ValidationError, match="diocese"):
        services.issue_notice(notice, issued_on=D(2026, 1, 12), compliance_ends_on=D(2026, 2, 9))
    notice.diocese_informed_on = D(2026, 1, 13)  # after the issue date: still refused
    with pytest.raises(ValidationError, match="diocese"):
        services.issue_notice(notice, issued_on=D(2026, 1, 12), compliance_ends_on=D(2026, 2, 9))
    notice.diocese_informed_on = D(2026, 1, 5)
    services.issue_notice(notice, issued_on=D(2026, 1, 12), compliance_ends_on=D(2026, 2, 9))
    assert notice.issued_on == D(2026, 1, 12)


def test_failure_to_comply_makes_school_eligible(camden_register: None) -> None:
    school = School.objects.get(urn=100008)
    assert school.religious_character == "Does not apply"
    notice = WarningNotice.objects.create(school=school, ground=Ground.MANAGEMENT)
    with pytest.raises(ValidationError, match="not been issued"):
        services.record_response(notice, response="x", received_on=D(2026, 2, 1), outcome=Outcome.COMPLIED)
    services.issue_notice(notice, issued_on=D(2026, 1, 12), compliance_ends_on=D(2026, 2, 9))
    assert not notice.eligible_for_intervention
    services.record_response(
        notice, response="Partial plan", received_on=D(2026, 2, 6), outcome=Outcome.NOT_COMPLIED
    )
    assert notice.eligible_for_intervention
    assert notice.history.count() == 3
