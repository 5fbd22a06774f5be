"""Optimistic locking: the one mechanism for every record two people may edit (decision 0023).

A versioned model inherits `Versioned` (the `version` column). A form posts the version it was read at;
`save_versioned` writes the record only if its stored row is still at that version, in one conditional
`UPDATE ... SET version = expected + 1 WHERE id = ... AND version = expected` (SQLite and PostgreSQL alike:
on PostgreSQL a second writer's UPDATE waits for the first to commit, then matches no row). Otherwise
nothing is written and `StaleEdit` carries the row as it now is, for the page to show. The record itself is
then saved with `Model.save()` in the same transaction, so signals, `auto_now` fields and
django-simple-history (who, when and the change reason) work as for any save.

Views answer a `StaleEdit` with `beacon.core.conflicts` (HTTP 409, the user's entries kept).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import models, router, transaction


class Versioned(models.Model):
    """Abstract base of every model edited with optimistic locking."""

    version = models.PositiveIntegerField(default=0, help_text="Optimistic lock: bumped on every save")

    class Meta:
        abstract = True


class StaleEdit(Exception):
    """Someone else saved the record after it was read: nothing was written. `current` is the stored row
    now (None if there is none, e.g. a form opened on a record that was never created)."""

    def __init__(self, current: Any, message: str = "") -> None:
        super().__init__(
            message
            or "This record was changed by someone else after you opened it. Your changes have not been saved."
        )
        self.current = current


def check_version(obj: Versioned, expected_version: int) -> None:
    """Refuse early (StaleEdit with `obj`) when the row just read is not at the version the user loaded."""
    if obj.version != expected_version:
        raise StaleEdit(obj)


def bump_for_bulk_write(obj: Versioned) -> None:
    """A system write of many rows at once (the bulk proposal refresh, decision 0027): the caller holds the
    rows with select_for_update and writes `version` with bulk_update, so every form opened before it is stale."""
    obj.version += 1


def _annotate(obj: Versioned, reason: str, user: Any) -> None:
    if reason:
        obj._change_reason = reason  # type: ignore[attr-defined]  # django-simple-history
    if getattr(user, "is_authenticated", False):
        obj._history_user = user  # type: ignore[attr-defined]  # also outside a request


def save_versioned[M: Versioned](obj: M, expected_version: int, *, reason: str = "", user: Any = None) -> M:
    """Save `obj` only if its stored row is still at `expected_version`, bumping the version by one.

    A new (unsaved) record is created at version 1, and only for a form opened before it existed
    (`expected_version` 0). `reason` and `user` go into the history. Raises StaleEdit with the current row."""
    model = type(obj)
    db = router.db_for_write(model, instance=obj)
    if obj._state.adding:
        if expected_version != 0:
            raise StaleEdit(None)
        obj.version = 1
        _annotate(obj, reason, user)
        with transaction.atomic(using=db):  # a unique clash (two first saves) leaves the transaction usable
            obj.save(using=db)
        return obj
    with transaction.atomic(using=db):
        claimed = (
            model._base_manager.using(db)
            .filter(pk=obj.pk, version=expected_version)
            .update(version=expected_version + 1)
        )
        if not claimed:
            raise StaleEdit(model._default_manager.using(db).filter(pk=obj.pk).first())
        obj.version = expected_version + 1
        _annotate(obj, reason, user)
        obj.save(using=db)
    return obj


def update_versioned[M: Versioned](
    obj: M,
    expected_version: int,
    changes: Mapping[str, Any],
    *,
    reason: str = "",
    user: Any = None,
    full_clean: bool = False,
) -> M:
    """Apply `changes` to the stored row of `obj` and save it with `save_versioned`. The row is read again,
    so fields nobody changed keep their stored values and `obj` may be any instance carrying the primary key
    (`Action(pk=action_id)`). `full_clean` validates the result first."""
    current = type(obj)._default_manager.get(pk=obj.pk)
    check_version(current, expected_version)
    for name, value in changes.items():
        setattr(current, name, value)
    if full_clean:
        current.full_clean()
    return save_versioned(current, expected_version, reason=reason, user=user)
