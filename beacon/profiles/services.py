"""Writes for the school's profile narrative: draft, submit, publish, return (optimistic locking,
beacon.core.versioning).

Who may call which is decided in beacon.permissions (profiles section); views check it first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from beacon.core.versioning import StaleEdit, check_version, save_versioned
from beacon.profiles.models import MAX_SECTION_CHARS, SECTION_FIELDS, NarrativeStatus, SchoolNarrative
from beacon.schools.models import School


def narrative_for(school: School) -> SchoolNarrative:
    """The school's narrative row (an unsaved, empty one if the school has not started)."""
    found = SchoolNarrative.objects.filter(school=school).first()
    return found if found is not None else SchoolNarrative(school=school)


def clean_sections(texts: Mapping[str, str]) -> dict[str, str]:
    """Normalise line endings and outer whitespace; unknown keys are ignored."""
    return {f: str(texts.get(f, "") or "").replace("\r\n", "\n").strip() for f in SECTION_FIELDS}


def validate_sections(texts: Mapping[str, str], *, submitting: bool) -> dict[str, str]:
    errors: dict[str, str] = {}
    for field in SECTION_FIELDS:
        if len(texts.get(field, "")) > MAX_SECTION_CHARS:
            errors[field] = f"Keep this to {MAX_SECTION_CHARS:,} characters or fewer"
    if submitting and not texts.get("atmosphere") and "atmosphere" not in errors:
        errors["atmosphere"] = "Enter a few sentences about your school before submitting it for review"
    return errors


def _current(school: School, expected_version: int) -> SchoolNarrative:
    """The school's narrative as stored (a new, unsaved one at version 0 if none yet: its first save is its
    creation, recorded with the reason for it); StaleEdit if it is not at the version the user loaded."""
    narrative = narrative_for(school)
    check_version(narrative, expected_version)
    return narrative


def save_draft(
    school: School, texts: Mapping[str, str], *, user: Any, expected_version: int, submit: bool = False
) -> SchoolNarrative:
    """The headteacher saves the draft, and submits it for review when `submit`. A draft that was
    submitted goes back to draft when edited without submitting again (the reviewer sees the last
    submitted text only while it stays submitted)."""
    cleaned = clean_sections(texts)
    errors = validate_sections(cleaned, submitting=submit)
    if errors:
        raise ValidationError(errors)
    try:
        return _save_draft(school, cleaned, user=user, expected_version=expected_version, submit=submit)
    except IntegrityError:  # two first saves at once: the other one won
        raise StaleEdit(narrative_for(school)) from None


def _save_draft(
    school: School, cleaned: dict[str, str], *, user: Any, expected_version: int, submit: bool
) -> SchoolNarrative:
    with transaction.atomic():
        narrative = _current(school, expected_version)
        for field, text in cleaned.items():
            setattr(narrative, field, text)
        narrative.updated_by = user
        if submit:
            narrative.status = NarrativeStatus.SUBMITTED
            narrative.submitted_by = user
            narrative.submitted_at = timezone.now()
            return save_versioned(narrative, expected_version, reason="Submitted for review", user=user)
        if narrative.status != NarrativeStatus.RETURNED:
            narrative.status = NarrativeStatus.DRAFT
        return save_versioned(narrative, expected_version, reason="Draft saved", user=user)


def publish(school: School, *, user: Any, expected_version: int) -> SchoolNarrative:
    """The reviewer publishes the submitted draft: it becomes the public text."""
    with transaction.atomic():
        narrative = _current(school, expected_version)
        if narrative.status != NarrativeStatus.SUBMITTED:
            raise ValidationError({"status": "Only a narrative submitted for review can be published"})
        errors = validate_sections(narrative.draft(), submitting=True)
        if errors:
            raise ValidationError(errors)
        narrative.published = narrative.draft()
        narrative.published_by = user
        narrative.published_at = timezone.now()
        narrative.status = NarrativeStatus.PUBLISHED
        narrative.review_note = ""
        return save_versioned(narrative, expected_version, reason="Published", user=user)


def return_for_changes(school: School, *, user: Any, expected_version: int, note: str) -> SchoolNarrative:
    """The reviewer sends the draft back with a note; the published text (if any) stays public."""
    note = note.strip()
    if not note:
        raise ValidationError({"review_note": "Say what the school should change"})
    with transaction.atomic():
        narrative = _current(school, expected_version)
        if narrative.status != NarrativeStatus.SUBMITTED:
            raise ValidationError({"status": "Only a narrative submitted for review can be returned"})
        narrative.status = NarrativeStatus.RETURNED
        narrative.review_note = note
        narrative.updated_by = user
        return save_versioned(narrative, expected_version, reason="Returned for changes", user=user)


def unpublish(school: School, *, user: Any, expected_version: int) -> SchoolNarrative:
    """The reviewer takes the public text down (the draft stays with the school)."""
    with transaction.atomic():
        narrative = _current(school, expected_version)
        narrative.published = {}
        narrative.published_at = None
        narrative.published_by = user
        if narrative.status == NarrativeStatus.PUBLISHED:
            narrative.status = NarrativeStatus.DRAFT
        return save_versioned(narrative, expected_version, reason="Unpublished", user=user)
