"""Write side of future options: the action-planning summary, the partnership register and the
system-leadership register. Edits are guarded by a `version` (optimistic locking, as in
beacon.support and beacon.assessments) and kept in history with the user (django-simple-history)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction

from beacon.futureoptions.models import (
    SUMMARY_SECTIONS,
    FutureOptionsSummary,
    Partnership,
    SystemLeaderInterest,
)
from beacon.schools.models import School

SUMMARY_FIELDS: tuple[str, ...] = (*(name for name, _ in SUMMARY_SECTIONS), "next_steps")


class StaleEdit(Exception):
    """Someone else saved the record after it was read; nothing was written."""

    def __init__(self, current: Any) -> None:
        self.current = current
        super().__init__(
            "This was changed by someone else after you opened it. Your changes have not been saved."
        )


def summary_for(school: School) -> FutureOptionsSummary:
    """The school's summary (unsaved and at version 0 if nobody has written one yet)."""
    return FutureOptionsSummary.objects.filter(school=school).first() or FutureOptionsSummary(school=school)


def save_summary(school: School, *, user: Any, expected_version: int, **notes: str) -> FutureOptionsSummary:
    unknown = set(notes) - set(SUMMARY_FIELDS)
    if unknown:
        raise ValueError(f"Unknown summary fields: {sorted(unknown)}")
    with transaction.atomic():
        summary = FutureOptionsSummary.objects.select_for_update().filter(school=school).first()
        if summary is None:
            summary = FutureOptionsSummary(school=school)  # first save below creates it (one history row)
        if summary.version != expected_version:
            raise StaleEdit(summary)
        changed = [k for k, v in notes.items() if getattr(summary, k) != v.strip()]
        if not changed:
            return summary
        for k, v in notes.items():
            setattr(summary, k, v.strip())
        summary.updated_by = user
        summary.version += 1
        summary._change_reason = "Notes changed: " + ", ".join(changed)  # type: ignore[attr-defined]
        summary.save()
    return summary


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
    with transaction.atomic():
        current = Partnership.objects.select_for_update().get(pk=partnership.pk)
        if current.version != expected_version:
            raise StaleEdit(current)
        for k, v in fields.items():
            setattr(current, k, v)
        current.version += 1
        current._change_reason = "Partnership changed"  # type: ignore[attr-defined]
        current.save()
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
    with transaction.atomic():
        current = SystemLeaderInterest.objects.select_for_update().get(pk=entry.pk)
        if current.version != expected_version:
            raise StaleEdit(current)
        current.withdrawn = True
        current.version += 1
        current._change_reason = "Interest withdrawn"  # type: ignore[attr-defined]
        current.save()
    return current
