"""The audit trail: every change to a tracked model (django-simple-history), newest first.

Only field *names* are shown, never values, so that the trail cannot leak restricted content
(safeguarding or personnel notes) to someone who may read the trail but not the note.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from itertools import islice
from typing import Any

from django.db import models
from simple_history.models import registered_models

ACTIONS = {"+": "Created", "~": "Changed", "-": "Deleted"}


@dataclass(frozen=True)
class AuditEntry:
    when: dt.datetime
    who: str
    action: str
    object_type: str
    object_id: Any
    object_label: str
    changed_fields: tuple[str, ...]
    reason: str


def _history_models() -> list[type[models.Model]]:
    return [m.history.model for m in registered_models.values() if hasattr(m, "history")]


def recent_changes(
    limit: int = 100, *, label_objects: frozenset[str] = frozenset({"school"})
) -> list[AuditEntry]:
    """The latest `limit` changes across all tracked models."""
    rows: list[Any] = []
    for hm in _history_models():
        rows.extend(hm._default_manager.select_related("history_user").order_by("-history_date")[:limit])
    rows.sort(key=lambda r: r.history_date, reverse=True)
    entries = []
    for rec in islice(rows, limit):
        original = rec.instance_type
        prev = rec.prev_record
        changed: tuple[str, ...] = ()
        if rec.history_type == "~" and prev is not None:
            changed = tuple(c.field for c in rec.diff_against(prev).changes)
        name = original._meta.model_name
        entries.append(
            AuditEntry(
                when=rec.history_date,
                who=str(rec.history_user) if rec.history_user else "System (import or command)",
                action=ACTIONS.get(rec.history_type, rec.history_type),
                object_type=str(original._meta.verbose_name).capitalize(),
                object_id=getattr(rec, original._meta.pk.attname),
                object_label=str(getattr(rec, "name", "")) if name in label_objects else "",
                changed_fields=changed,
                reason=rec.history_change_reason or "",
            )
        )
    return entries
