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


# Above this many URNs the whole register is read and filtered here: a query naming thousands of URNs cost
# more to build, send and plan (PostgreSQL's driver scans the text for its placeholders) than reading all
# 25,000 schools' two columns (decision 0029).
_IN_LIST_LIMIT = 500


def school_ids_by_urn(urns: Iterable[int] | None = None) -> dict[int, int]:
    """URN -> school id, for every school in the register (or those of `urns`): read straight from the
    cursor, unordered (most imports ask for all 25,000 schools)."""
    qs = School.objects.order_by()
    wanted = None if urns is None else set(urns)
    if wanted is not None and len(wanted) <= _IN_LIST_LIMIT:
        qs = qs.filter(urn__in=sorted(wanted))
    found = dict(fetch_rows(qs.values_list("urn", "id")))
    if wanted is None or len(wanted) <= _IN_LIST_LIMIT:
        return found
    return {urn: pk for urn, pk in found.items() if urn in wanted}


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
