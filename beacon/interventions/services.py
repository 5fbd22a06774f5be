from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError

from beacon.core.versioning import save_versioned, update_versioned
from beacon.interventions.models import Ground, LetterTemplate, NoticeKind, Outcome, WarningNotice
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


def _check_issue(notice: WarningNotice, issued_on: dt.date, compliance_ends_on: dt.date) -> None:
    if notice.issued_on is not None:
        raise ValidationError("This notice has already been issued.")
    if has_religious_character(notice.school) and (
        notice.diocese_informed_on is None or notice.diocese_informed_on > issued_on
    ):
        raise ValidationError("Record that the diocese was informed before issuing a notice to this school.")
    if compliance_ends_on <= issued_on:
        raise ValidationError("The compliance period must end after the notice is issued.")


def issue_notice(
    notice: WarningNotice,
    *,
    issued_on: dt.date,
    compliance_ends_on: dt.date,
    expected_version: int | None = None,
    diocese_informed_on: dt.date | None = None,
) -> WarningNotice:
    """Issue a notice. Schools with a religious character: the diocese must be informed first."""
    if diocese_informed_on is not None:
        notice.diocese_informed_on = diocese_informed_on
    _check_issue(notice, issued_on, compliance_ends_on)
    changes = {
        "issued_on": issued_on,
        "compliance_ends_on": compliance_ends_on,
        "diocese_informed_on": notice.diocese_informed_on,
    }
    saved = update_versioned(
        notice,
        notice.version if expected_version is None else expected_version,
        changes,
        reason="Notice issued",
        full_clean=True,
    )
    notice.refresh_from_db()
    return saved


def create_notice(
    *,
    school: Any,
    kind: str,
    ground: str,
    concerns: str,
    required_action: str,
    created_by: Any,
    consequences: str = "",
    case: Any = None,
    diocese_informed_on: dt.date | None = None,
    issued_on: dt.date | None = None,
    compliance_ends_on: dt.date | None = None,
) -> WarningNotice:
    """Draft a notice (from a support case when the 18-month alert proposes one); issue it at once when an
    issue date and the end of the compliance period are given."""
    if kind not in NoticeKind.values or ground not in Ground.values:
        raise ValidationError("Choose the kind of notice and its grounds.")
    if not concerns.strip():
        raise ValidationError("Describe the concerns the notice sets out.")
    if case is not None and case.school_id != school.pk:
        raise ValidationError("The support case is for another school.")
    if (issued_on is None) != (compliance_ends_on is None):
        raise ValidationError("To issue the notice now, enter both the issue date and the end of the "
                              "compliance period; leave both empty to save a draft.")  # fmt: skip
    notice = WarningNotice(
        school=school,
        kind=kind,
        ground=ground,
        concerns=concerns,
        required_action=required_action,
        consequences=consequences,
        created_by=created_by,
        case=case,
        diocese_informed_on=diocese_informed_on,
    )
    if issued_on is not None and compliance_ends_on is not None:
        _check_issue(notice, issued_on, compliance_ends_on)
        notice.issued_on, notice.compliance_ends_on = issued_on, compliance_ends_on
    notice.full_clean()
    notice.save()
    return notice


def record_diocese_informed(
    notice: WarningNotice, *, informed_on: dt.date, expected_version: int
) -> WarningNotice:
    if notice.issued_on is not None and informed_on > notice.issued_on:
        raise ValidationError("The diocese is informed before the notice is issued.")
    return update_versioned(
        notice,
        expected_version,
        {"diocese_informed_on": informed_on},
        reason="Diocese informed",
        full_clean=True,
    )


def record_response(
    notice: WarningNotice,
    *,
    response: str,
    received_on: dt.date | None,
    outcome: str,
    today: dt.date,
    expected_version: int | None = None,
    decided_on: dt.date | None = None,
) -> WarningNotice:
    """The governing body's response and the LA's outcome. Failing to comply makes the school eligible for
    intervention (beacon.interventions.eligibility reads the outcome). `today` is passed in (no wall clock):
    no date may be in the future, and "failed to comply" is decided only after the compliance period ends.
    An outcome without a decision date is decided `today`."""
    if notice.issued_on is None:
        raise ValidationError("The notice has not been issued.")
    if outcome not in Outcome.values:
        raise ValidationError("Choose an outcome.")
    if received_on is not None and received_on < notice.issued_on:
        raise ValidationError("The response cannot be received before the notice was issued.")
    if received_on is not None and received_on > today:
        raise ValidationError("The date the response was received cannot be in the future.")
    if outcome != Outcome.PENDING and decided_on is None:
        decided_on = today
    if outcome != Outcome.PENDING and decided_on is not None:
        if decided_on < notice.issued_on:
            raise ValidationError("The outcome cannot be decided before the notice was issued.")
        if decided_on > today:
            raise ValidationError("The date of the outcome decision cannot be in the future.")
    if outcome == Outcome.NOT_COMPLIED:
        ends = notice.compliance_ends_on
        if ends is None or decided_on is None or decided_on <= ends:
            raise ValidationError(
                "The school cannot fail to comply before the compliance period ends"
                + (f" ({ends:%-d %B %Y})." if ends else ".")
            )
    changes = {
        "response": response,
        "response_received_on": received_on,
        "outcome": outcome,
        "outcome_recorded_on": decided_on if outcome != Outcome.PENDING else None,
    }
    saved = update_versioned(
        notice,
        notice.version if expected_version is None else expected_version,
        changes,
        reason=f"Outcome: {Outcome(outcome).label}",
        full_clean=True,
    )
    for name, value in changes.items():
        setattr(notice, name, value)
    notice.version = saved.version
    return saved


def update_template(
    tpl: LetterTemplate, expected_version: int, *, subject: str, body: str, today: dt.date
) -> LetterTemplate:
    """Save a new version of a letter template, checked first by rendering it with the sample values and
    against real records of its kind (unknown placeholders, placeholders of another letter, limits)."""
    from beacon.interventions.context import real_contexts
    from beacon.interventions.letters import check_template

    if not subject.strip() or not body.strip():
        raise ValidationError("Enter the subject and the body of the letter.")
    check_template(tpl.kind, subject, body, real_contexts(tpl.kind, today=today))
    if tpl.pk is None:  # not yet saved by the data migration (e.g. a kind added later): the first version
        tpl.subject, tpl.body = subject, body
        return save_versioned(tpl, expected_version, reason="Template edited")
    return update_versioned(
        tpl, expected_version, {"subject": subject, "body": body}, reason="Template edited", full_clean=True
    )
