"""Writes: acknowledging concerns, strategy actions and their termly updates (optimistic locking,
`beacon.core.versioning`), Commission output status
and delivery evidence. Every model written here keeps its history (django-simple-history)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from beacon.accountability.models import (
    Action,
    ActionUpdate,
    CommissionOutput,
    ConcernAcknowledgement,
    DeliveryEvidence,
    DeliveryStatus,
    Pledge,
    Rag,
)
from beacon.accountability.selectors import Concern
from beacon.core.versioning import update_versioned
from beacon.risk.models import Term


def acknowledge(concern: Concern, *, user: Any, note: str = "") -> ConcernAcknowledgement:
    """The commissioner acknowledges a significant concern (once; who and when are kept)."""
    if concern.acknowledged:
        raise ValidationError(f"Already acknowledged by {concern.acknowledged_by}.")
    try:
        with transaction.atomic():
            ack = ConcernAcknowledgement(
                key=concern.key, kind=concern.kind, school_id=concern.school_id, acknowledged_by=user,
                note=note.strip(),
            )  # fmt: skip
            ack._change_reason = "Concern acknowledged"  # type: ignore[attr-defined]
            ack.save()
    except IntegrityError as exc:
        raise ValidationError("This concern has just been acknowledged by someone else.") from exc
    return ack


def _clean_action(title: str, owner: str, milestone_on: dt.date | None, rag: str) -> dict[str, str]:
    errors = {}
    if not title.strip():
        errors["title"] = "Enter the action"
    if not owner.strip():
        errors["owner"] = "Enter who owns the action"
    if milestone_on is None:
        errors["milestone_on"] = "Enter the milestone date"
    if rag not in Rag.values:
        errors["rag"] = "Select the progress rating"
    return errors


def add_action(
    pledge: Pledge, *, title: str, owner: str, milestone_on: dt.date, user: Any, rag: str = Rag.NOT_STARTED
) -> Action:
    errors = _clean_action(title, owner, milestone_on, rag)
    if errors:
        raise ValidationError(errors)
    action = Action(
        pledge=pledge, title=title.strip(), owner=owner.strip(), milestone_on=milestone_on, rag=rag,
        created_by=user,
    )  # fmt: skip
    action._change_reason = "Action added"  # type: ignore[attr-defined]
    action.save()
    return action


def edit_action(
    action_id: int, *, expected_version: int, title: str, owner: str, milestone_on: dt.date | None, rag: str
) -> Action:
    """Change an action; refused (beacon.core.versioning.StaleEdit) if anyone saved it since
    `expected_version`."""
    errors = _clean_action(title, owner, milestone_on, rag)
    if errors:
        raise ValidationError(errors)
    changes = {"title": title.strip(), "owner": owner.strip(), "rag": rag, "milestone_on": milestone_on}
    return update_versioned(Action(pk=action_id), expected_version, changes, reason="Action changed")


def record_update(
    action_id: int, *, term: Term, rag: str, progress: str, user: Any, expected_version: int
) -> ActionUpdate:
    """A termly progress update: kept as its own row (never overwritten) and sets the action's RAG."""
    if rag not in Rag.values:
        raise ValidationError({"rag": "Select the progress rating"})
    if not progress.strip():
        raise ValidationError({"progress": "Describe the progress this term"})
    with transaction.atomic():  # the update row and the action's new RAG, or neither
        action = update_versioned(
            Action(pk=action_id), expected_version, {"rag": rag}, reason=f"Termly update ({term})"
        )
        return ActionUpdate.objects.create(
            action=action, term=term, rag=rag, progress=progress.strip(), recorded_by=user
        )


def set_output_status(output_id: int, *, status: str, expected_version: int) -> CommissionOutput:
    if status not in DeliveryStatus.values:
        raise ValidationError({"status": "Select the delivery status"})
    return update_versioned(
        CommissionOutput(pk=output_id), expected_version, {"status": status}, reason="Delivery status changed"
    )


def record_evidence(
    output: CommissionOutput, *, text: str, link: str, evidenced_on: dt.date | None, user: Any
) -> DeliveryEvidence:
    errors = {}
    if not text.strip():
        errors["text"] = "Describe the evidence of delivery"
    if evidenced_on is None:
        errors["evidenced_on"] = "Enter the date of the evidence"
    elif evidenced_on > dt.date.today():
        errors["evidenced_on"] = "The date of the evidence must be today or in the past"
    link = link.strip()
    if link and not link.startswith(("https://", "http://")):
        errors["link"] = "Enter a link starting with https://"
    if errors or evidenced_on is None:
        raise ValidationError(errors)
    evidence = DeliveryEvidence(
        output=output, text=text.strip(), link=link, evidenced_on=evidenced_on, recorded_by=user
    )
    evidence._change_reason = "Delivery evidence recorded"  # type: ignore[attr-defined]
    evidence.full_clean()
    evidence.save()
    return evidence
