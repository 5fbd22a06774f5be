"""A decided termly assessment sets the school's entitlement level for that academic year."""

from __future__ import annotations

from typing import Any


def assessment_saved(sender: Any, instance: Any, **kwargs: Any) -> None:
    if kwargs.get("raw") or not instance.decided_level or instance.decided_at is None:
        return
    from beacon.support.services import sync_entitlement

    sync_entitlement(instance.school, instance.term.academic_year)
