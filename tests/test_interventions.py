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


def test_notice_page_blocks_issue_until_diocese_recorded_and_downloads_letter(
    client, camden_register: None
) -> None:  # type: ignore[no-untyped-def]
    import io

    from django.urls import reverse
    from docx import Document

    from tests.conftest import make_user

    notice = WarningNotice.objects.create(school=School.objects.get(urn=100028), ground=Ground.PAY_CONDITIONS)
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
