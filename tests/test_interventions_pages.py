"""Warning notice and letter template pages on real Camden schools: 100049 Haverstock School (religious
character "Does not apply"), 100028 Christ Church Primary School, Hampstead (Church of England)."""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from docx import Document

from beacon.interventions import eligibility, letters
from beacon.interventions.models import LetterKind, LetterTemplate, Outcome, WarningNotice
from beacon.schools.models import School
from beacon.support import services
from beacon.support.models import Progress
from tests.conftest import make_user

HAVERSTOCK, CHRIST_CHURCH = 100049, 100028
D = dt.date


def _text(response: Any) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


@pytest.fixture
def director(camden_register: None) -> Any:
    return make_user("dli", "director")


@time_machine.travel(dt.datetime(2026, 4, 10, 10, 0, tzinfo=dt.UTC), tick=False)
def test_notice_from_an_eighteen_month_alert_through_outcome(client: Client, director: Any) -> None:
    school = School.objects.get(urn=HAVERSTOCK)
    assert school.religious_character == "Does not apply"
    case = services.open_case(school=school, level="targeted", started_on=D(2024, 1, 8), chair=director)
    services.record_meeting(case, held_on=D(2025, 6, 2), progress=Progress.NOT_ON_TRACK)
    client.force_login(director)
    page = client.get(reverse("support:case", args=[case.pk])).content.decode()
    new_url = reverse("interventions:new_notice", args=[case.pk])
    assert "Prepare a pre-warning or warning notice" in page and new_url in page
    form = client.get(new_url).content.decode()
    assert 'value="pre_warning" checked' in form  # the alert proposes a pre-warning first
    base = {"kind": "formal", "ground": "pay_conditions", "concerns": "Pay policy not applied",
            "required_action": "Apply the 2025 pay award"}  # fmt: skip
    r = client.post(new_url, {**base, "issued_on": "2026-01-12"})  # no compliance end: refused
    assert r.status_code == 400 and "enter both the issue date" in r.content.decode()
    assert client.post(new_url, base).status_code == 302  # a draft
    notice = WarningNotice.objects.get()
    assert (notice.case, notice.issued_on, notice.created_by) == (case, None, director)
    url = reverse("interventions:notice", args=[notice.pk])
    issue = {"version": "0", "issued_on": "2026-01-12", "compliance_ends_on": "2026-03-31"}
    assert client.post(url, {**issue, "compliance_ends_on": "2026-01-12"}).status_code == 400
    assert client.post(url, issue).status_code == 302
    notice.refresh_from_db()
    assert notice.issued_on == D(2026, 1, 12) and notice.version == 1
    page = _text(client.get(url))
    # Teachers' pay and conditions: powers must be used within two months after 31 March: 31 May 2026.
    assert "Deadline to use powers 31 May 2026" in page
    resp_url = reverse("interventions:response", args=[notice.pk])
    data = {"version": "1", "response": "Governors deferred the award", "response_received_on": "2026-03-20",
            "outcome": "not_complied", "outcome_recorded_on": "2026-04-02"}  # fmt: skip
    assert client.post(resp_url, {**data, "response_received_on": "2026-01-01"}).status_code == 400
    future = client.post(resp_url, {**data, "response_received_on": "2026-04-11"})
    assert future.status_code == 400 and "cannot be in the future" in future.content.decode()
    early = client.post(resp_url, {**data, "outcome_recorded_on": "2026-03-31"})  # the period's last day
    assert early.status_code == 400 and "before the compliance period ends" in early.content.decode()
    assert client.post(resp_url, data).status_code == 302
    r = client.post(resp_url, {**data, "outcome": "complied"})  # the old version again
    assert r.status_code == 409
    notice.refresh_from_db()
    assert notice.outcome == Outcome.NOT_COMPLIED and notice.outcome_recorded_on == D(2026, 4, 2)
    assert eligibility._failed_warning_notices(school, None) == [notice]  # Appendix C eligibility
    page = _text(client.get(url))
    assert "the school is eligible for intervention" in page and "Failed to comply (2 April 2026)" in page
    assert [h.history_change_reason for h in notice.history.order_by("history_date")] == [
        None, "Notice issued", "Outcome: Failed to comply",
    ]  # fmt: skip
    listing = _text(client.get(reverse("interventions:list")))
    assert "Haverstock School" in listing and "31 May 2026" in listing


def test_religious_school_notice_needs_the_diocese_first(client: Client, director: Any) -> None:
    school = School.objects.get(urn=CHRIST_CHURCH)
    case = services.open_case(school=school, level="targeted", started_on=D(2024, 9, 2), chair=director)
    client.force_login(director)
    new_url = reverse("interventions:new_notice", args=[case.pk])
    assert "the diocese must be informed" in client.get(new_url).content.decode()
    data = {"kind": "formal", "ground": "standards", "concerns": "KS2 outcomes well below floor",
            "issued_on": "2026-01-12", "compliance_ends_on": "2026-02-09"}  # fmt: skip
    r = client.post(new_url, data)
    assert r.status_code == 400 and "Record that the diocese was informed" in r.content.decode()
    assert WarningNotice.objects.count() == 0
    assert client.post(new_url, {**data, "diocese_informed_on": "2026-01-05"}).status_code == 302
    notice = WarningNotice.objects.get()
    assert notice.diocese_informed_on == D(2026, 1, 5) and notice.issued_on == D(2026, 1, 12)
    # Advisers and headteachers cannot reach notices.
    client.force_login(make_user("cpp", "adviser", schools=(CHRIST_CHURCH,)))
    assert client.get(new_url).status_code == 403
    assert client.get(reverse("interventions:list")).status_code == 403


def test_letter_template_edit_preview_and_history(client: Client, director: Any) -> None:
    url = reverse("interventions:template", args=["congratulations"])
    client.force_login(director)
    assert client.get(reverse("interventions:templates")).status_code == 200
    tpl = LetterTemplate.objects.get(kind=LetterKind.CONGRATULATIONS)
    body = "Dear {{ head_name }},\r\n\r\nWell done, {{ school_name }}.\r\n\r\nYours sincerely,\r\n{{ signatory }}"
    r = client.post(
        url, {"version": "0", "subject": "Well done {{ school_name }}", "body": body, "action": "preview"}
    )
    page = _text(r)
    assert r.status_code == 200 and "Well done Argyle Primary School" in page  # sample values
    tpl.refresh_from_db()
    assert tpl.version == 0 and "Well done" not in tpl.body  # a preview saves nothing
    bad = client.post(url, {"version": "0", "subject": "S", "body": "Dear {{ governor }}", "action": "save"})
    assert bad.status_code == 400 and "could not be rendered" in bad.content.decode()
    sandbox = client.post(
        url, {"version": "0", "subject": "S", "body": "{{ ''.__class__.__mro__ }}", "action": "save"}
    )
    assert sandbox.status_code == 400
    r = client.post(
        url, {"version": "0", "subject": "Well done {{ school_name }}", "body": body, "action": "save"}
    )
    assert r.status_code == 302
    tpl.refresh_from_db()
    # the first history row comes from the data migration (issue 13: no template is made on a read)
    assert tpl.version == 1 and "\r" not in tpl.body and tpl.history.count() == 2
    stale = client.post(url, {"version": "0", "subject": "Old", "body": "Old", "action": "save"})
    assert stale.status_code == 409
    page = _text(client.get(url))
    assert "Template edited" in page and "dli" in page  # version history with who and why
    letter = letters.render_letter(
        tpl, {"school_name": "Haverstock School", "head_name": "Ms B", "signatory": "DLI"}
    )
    assert letter.subject == "Well done Haverstock School" and letter.body.startswith(
        "Dear Ms B,\n\nWell done"
    )
    client.force_login(make_user("cpp", "adviser"))
    assert client.get(url).status_code == 403


def test_edited_warning_notice_template_is_used_for_the_letter(client: Client, director: Any) -> None:
    notice = WarningNotice.objects.create(school=School.objects.get(urn=HAVERSTOCK), ground="safety")
    tpl = letters.saved_template_for(LetterKind.WARNING_NOTICE)
    from beacon.interventions.services import update_template

    update_template(
        tpl, tpl.version, subject="Notice to {{ school_name }}",
        body="Grounds: {{ grounds }}.\n\nDated {{ letter_date }}", today=D(2026, 1, 20),
    )  # fmt: skip
    client.force_login(director)
    doc = client.get(reverse("interventions:notice_letter", args=[notice.pk, "docx"]))
    text = "\n".join(p.text for p in Document(io.BytesIO(doc.content)).paragraphs)
    assert (
        "Notice to Haverstock School" in text and "Grounds: safety of pupils or staff is threatened." in text
    )
