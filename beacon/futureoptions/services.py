"""Write side of future options: the action-planning summary, the partnership register and the
system-leadership register. Edits are guarded by a `version` (optimistic locking,
beacon.core.versioning) and kept in history with the user (django-simple-history)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction

from beacon.core.versioning import StaleEdit, check_version, save_versioned, update_versioned
from beacon.futureoptions.models import (
    SUMMARY_SECTIONS,
    FutureOptionsSummary,
    Partnership,
    SystemLeaderInterest,
)
from beacon.schools.models import School

SUMMARY_FIELDS: tuple[str, ...] = (*(name for name, _ in SUMMARY_SECTIONS), "next_steps")


def summary_for(school: School) -> FutureOptionsSummary:
    """The school's summary (unsaved and at version 0 if nobody has written one yet)."""
    return FutureOptionsSummary.objects.filter(school=school).first() or FutureOptionsSummary(school=school)


def save_summary(school: School, *, user: Any, expected_version: int, **notes: str) -> FutureOptionsSummary:
    unknown = set(notes) - set(SUMMARY_FIELDS)
    if unknown:
        raise ValueError(f"Unknown summary fields: {sorted(unknown)}")
    summary = summary_for(school)  # unsaved if none yet: the first save creates it (one history row)
    check_version(summary, expected_version)
    changed = [k for k, v in notes.items() if getattr(summary, k) != v.strip()]
    if not changed:
        return summary
    for k, v in notes.items():
        setattr(summary, k, v.strip())
    summary.updated_by = user
    try:
        return save_versioned(summary, expected_version, reason="Notes changed: " + ", ".join(changed))
    except IntegrityError:  # two first saves at once: the other one won
        raise StaleEdit(summary_for(school)) from None


def create_partnership(*, user: Any, schools: Iterable[School], **fields: Any) -> Partnership:
    with transaction.atomic():
        p = Partnership(created_by=user, **fields)
        p._change_reason = "Partnership recorded"  # type: ignore[attr-defined]
        p.save()
        p.schools.set(list(schools))
    return p


def update_partnership(
    partnership: Partnership, *, user: Any, expected_version: int, schools: Iterable[School], **fields: Any
) -> Partnership:
    with transaction.atomic():  # the partnership and its schools, or neither
        current = update_versioned(partnership, expected_version, fields, reason="Partnership changed")
        current.schools.set(list(schools))
    return current


def record_interest(
    *, user: Any, school: School, headteacher: str, interests: list[str], **fields: Any
) -> SystemLeaderInterest:
    entry = SystemLeaderInterest(
        school=school, headteacher=headteacher.strip(), interests=list(interests), recorded_by=user, **fields
    )
    entry._change_reason = "Interest recorded"  # type: ignore[attr-defined]
    entry.save()
    return entry


def withdraw_interest(entry: SystemLeaderInterest, *, expected_version: int) -> SystemLeaderInterest:
    return update_versioned(entry, expected_version, {"withdrawn": True}, reason="Interest withdrawn")
