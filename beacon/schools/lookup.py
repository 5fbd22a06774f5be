"""Small reads of the register that the importers of the apps above need (decision 0022: the import
framework in beacon.imports does not know schools; it is told)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from beacon.core.frames import fetch_rows
from beacon.schools.models import School


def public_schools() -> QuerySet[School]:
    """Schools with a public profile: open, state-funded, in this deployment's local authority. Who may
    read them (anyone) is decided in beacon.permissions.public_schools, which returns this."""
    return School.objects.served().filter(la_code=settings.BEACON_LA_CODE)


def school_ids_by_urn(urns: Iterable[int] | None = None) -> dict[int, int]:
    """URN -> school id, for every school in the register (or those of `urns`): read straight from the
    cursor, unordered (most imports ask for all 25,000 schools)."""
    qs = School.objects.order_by()
    if urns is not None:
        qs = qs.filter(urn__in=list(urns))
    return dict(fetch_rows(qs.values_list("urn", "id")))


def register_changed_since(previous: Any) -> bool:
    """True when a school joined or changed in the register after the import run `previous` finished
    (registered with beacon.imports.framework.rerun_duplicates_when: the same file is then imported again)."""
    if previous.finished_at is None:
        return False
    return School.objects.filter(updated_at__gt=previous.finished_at).exists()


def la_lookup(model: Any, fields: dict[str, Any]) -> str | None:
    """How a provenance model's rows tie to an LA, for beacon.imports.freshness: the school's own LA code,
    or its `school`'s."""
    if model is School:
        return "la_code"
    if "school" in fields and fields["school"].related_model is School:
        return "school__la_code"
    return None
