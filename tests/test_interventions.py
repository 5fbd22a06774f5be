"""Warning notices on real Camden schools: 100008 Argyle Primary School (religious character "Does not
apply") and 100028 Christ Church Primary School, Hampstead (Church of England)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
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
    # Updated for issue 13: "failed to comply" used to be accepted before the compliance period ended.
    from beacon.interventions.eligibility import eligibility_flags

    school = School.objects.get(urn=100008)
    assert school.religious_character == "Does not apply"
    notice = WarningNotice.objects.create(school=school, ground=Ground.MANAGEMENT)
    with pytest.raises(ValidationError, match="not been issued"):
        services.record_response(
            notice, response="x", received_on=D(2026, 2, 1), outcome=Outcome.COMPLIED, today=D(2026, 2, 1)
        )
    services.issue_notice(notice, issued_on=D(2026, 1, 12), compliance_ends_on=D(2026, 2, 9))
    assert not notice.eligible_for_intervention
    services.record_response(
        notice, response="Partial plan", received_on=D(2026, 2, 6), outcome=Outcome.NOT_COMPLIED,
        today=D(2026, 2, 10),
    )  # fmt: skip
    assert notice.eligible_for_intervention and notice.outcome_recorded_on == D(2026, 2, 10)
    assert notice.history.count() == 3
    flag = {f.code: f for f in eligibility_flags(school)}["failed_warning_notice"]
    assert flag.applies and flag.basis.startswith("1 warning notice")


def _issued(urn: int = 100008) -> WarningNotice:
    notice = WarningNotice.objects.create(school=School.objects.get(urn=urn), ground=Ground.STANDARDS)
    services.issue_notice(notice, issued_on=D(2026, 1, 12), compliance_ends_on=D(2026, 2, 9))
    return notice


def test_no_response_or_outcome_date_in_the_future(camden_register: None) -> None:
    notice = _issued()
    with pytest.raises(ValidationError, match="received cannot be in the future"):
        services.record_response(
            notice, response="Plan", received_on=D(2026, 2, 6), outcome=Outcome.PENDING, today=D(2026, 2, 5)
        )
    with pytest.raises(ValidationError, match="decision cannot be in the future"):
        services.record_response(
            notice, response="Plan", received_on=D(2026, 2, 5), outcome=Outcome.COMPLIED,
            decided_on=D(2026, 2, 6), today=D(2026, 2, 5),
        )  # fmt: skip
    assert WarningNotice.objects.get(pk=notice.pk).version == notice.version == 1  # nothing saved
    services.record_response(
        notice, response="Plan", received_on=D(2026, 2, 5), outcome=Outcome.COMPLIED, today=D(2026, 2, 5)
    )
    assert notice.outcome == Outcome.COMPLIED and notice.outcome_recorded_on == D(2026, 2, 5)


@pytest.mark.parametrize("decided", [D(2026, 1, 30), D(2026, 2, 9)])
def test_no_failure_to_comply_before_the_compliance_period_ends(camden_register: None, decided: D) -> None:
    from beacon.interventions.eligibility import eligibility_flags

    notice = _issued()
    with pytest.raises(ValidationError, match="before the compliance period ends"):
        services.record_response(
            notice, response="", received_on=None, outcome=Outcome.NOT_COMPLIED, decided_on=decided,
            today=D(2026, 3, 1),
        )  # fmt: skip
    with pytest.raises(ValidationError, match="before the compliance period ends"):
        services.record_response(  # no decision date: decided today, still within the period
            notice, response="", received_on=None, outcome=Outcome.NOT_COMPLIED, today=decided
        )
    school = notice.school
    assert not {f.code: f for f in eligibility_flags(school)}["failed_warning_notice"].applies


def test_eligibility_ignores_an_invalid_failure_recorded_before_the_rules(camden_register: None) -> None:
    """A row saved before the dates were validated (failure decided inside the period) flags nothing."""
    from beacon.interventions.eligibility import eligibility_flags

    notice = _issued()
    WarningNotice.objects.filter(pk=notice.pk).update(
        outcome=Outcome.NOT_COMPLIED, outcome_recorded_on=D(2026, 2, 1)
    )
    flags = {f.code: f for f in eligibility_flags(notice.school)}
    assert not flags["failed_warning_notice"].applies
    WarningNotice.objects.filter(pk=notice.pk).update(outcome_recorded_on=D(2026, 2, 10))
    assert {f.code: f for f in eligibility_flags(notice.school)}["failed_warning_notice"].applies


@time_machine.travel(dt.datetime(2026, 1, 20, 10, 0, tzinfo=dt.UTC), tick=False)
def test_notice_page_blocks_issue_until_diocese_recorded_and_downloads_letter(
    client, camden_register: None
) -> None:  # type: ignore[no-untyped-def]
    import io

    from django.urls import reverse
    from docx import Document

    from tests.conftest import make_user

    notice = WarningNotice.objects.create(
        school=School.objects.get(urn=100028), ground=Ground.PAY_CONDITIONS,
        concerns="The 2025 pay award has not been applied", required_action="Apply the 2025 pay award",
    )  # fmt: skip
    url = reverse("interventions:notice", args=[notice.pk])
    client.force_login(make_user("cpp", "adviser", schools=(100028,)))
    assert client.get(url).status_code == 403
    client.force_login(make_user("dli", "director"))
    page = client.get(url).content.decode()
    assert "record that the diocese was informed" in page
    r = client.post(url, {"issued_on": "2026-01-12", "compliance_ends_on": "2026-12-31"})
    assert r.status_code == 400 and "version" in r.content.decode().lower()  # no version: never assumed
    assert WarningNotice.objects.get(pk=notice.pk).issued_on is None
    r = client.post(
        url, {"version": notice.version, "issued_on": "2026-01-12", "compliance_ends_on": "2026-12-31"}
    )
    assert r.status_code == 400 and "Record that the diocese was informed" in r.content.decode()
    r = client.post(
        url,
        {
            "version": notice.version,
            "diocese_informed_on": "2026-01-05",
            "issued_on": "2026-01-12",
            "compliance_ends_on": "2026-12-31",
        },
    )
    assert r.status_code == 302
    page = client.get(url).content.decode()
    assert "28 February 2027" in page  # two months after 31 December 2026, clamped to month end
    doc = client.get(reverse("interventions:notice_letter", args=[notice.pk, "docx"]))
    text = "\n".join(p.text for p in Document(io.BytesIO(doc.content)).paragraphs)
    assert "Christ Church Primary School, Hampstead" in text and "by 31 December 2026" in text
    assert "teachers' pay and conditions" in text
    # Appendix C's content, dated and addressed (updated for issue 13: it had no concerns or actions).
    assert "The concerns: The 2025 pay award has not been applied" in text
    assert "The action required of the governing body: Apply the 2025 pay award" in text
    assert "The compliance period: 12 January 2026 to 31 December 2026" in text
    assert "sections 64 to 66" in text and "within two months after the period ends" in text
    assert "Chair of Governors" in text and "London" in text and text.count("2026") >= 3
