from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError

from beacon.interventions.models import Ground, Outcome, WarningNotice
from beacon.support.dates import add_months

NO_RELIGIOUS_CHARACTER = {"", "none", "does not apply", "not applicable"}


def has_religious_character(school: Any) -> bool:
    return (school.religious_character or "").strip().lower() not in NO_RELIGIOUS_CHARACTER


def pay_conditions_deadline(notice: WarningNotice) -> dt.date | None:
    """For teachers' pay and conditions notices, the LA must use its powers within two months after
    the compliance period ends (month-end clamped: 31 Dec -> 28/29 Feb)."""
    if notice.ground != Ground.PAY_CONDITIONS or notice.compliance_ends_on is None:
        return None
    return add_months(notice.compliance_ends_on, 2)


def issue_notice(notice: WarningNotice, *, issued_on: dt.date, compliance_ends_on: dt.date) -> WarningNotice:
    """Issue a notice. Schools with a religious character: the diocese must be informed first."""
    if notice.issued_on is not None:
        raise ValidationError("This notice has already been issued.")
    if has_religious_character(notice.school) and (
        notice.diocese_informed_on is None or notice.diocese_informed_on > issued_on
    ):
        raise ValidationError("Record that the diocese was informed before issuing a notice to this school.")
    if compliance_ends_on <= issued_on:
        raise ValidationError("The compliance period must end after the notice is issued.")
    notice.issued_on = issued_on
    notice.compliance_ends_on = compliance_ends_on
    notice.save()
    return notice


def record_response(
    notice: WarningNotice, *, response: str, received_on: dt.date, outcome: str
) -> WarningNotice:
    if notice.issued_on is None:
        raise ValidationError("The notice has not been issued.")
    if outcome not in Outcome.values:
        raise ValidationError("Choose an outcome.")
    notice.response, notice.response_received_on, notice.outcome = response, received_on, outcome
    notice.save()
    return notice
