"""Optimistic locking shared by the support and interventions forms.

Every editable record carries a `version` that is bumped on each save. A form posts the version it was
read at; `locked_save` refuses the write (StaleRecord) if someone saved the record in between, the same
rule as `assessments.services.decide` and `support.services.update_case`."""

from __future__ import annotations

from typing import Any

from django.db import models, transaction


class StaleRecord(Exception):
    """Someone else changed the record since it was read."""

    def __init__(self, current: Any, message: str = "") -> None:
        super().__init__(
            message
            or "This record was changed by someone else after you opened it. Your changes have not "
            "been saved: check the current values and submit again."
        )
        self.current = current


def locked_save[M: models.Model](
    obj: M, expected_version: int, changes: dict[str, Any], *, reason: str = ""
) -> M:
    """Apply `changes` to the stored row of `obj` if its version is still `expected_version`; bump the
    version; record `reason` in the history (django-simple-history keeps who and when)."""
    model = type(obj)
    with transaction.atomic():
        current = model._default_manager.select_for_update().get(pk=obj.pk)
        if current.version != expected_version:  # type: ignore[attr-defined]
            raise StaleRecord(current)
        for name, value in changes.items():
            setattr(current, name, value)
        current.full_clean()
        current.version += 1  # type: ignore[attr-defined]
        if reason:
            current._change_reason = reason  # type: ignore[attr-defined]
        current.save()
    return current
