"""The one place that decides who sees what.

Every view that reads school data goes through `visible_schools()` or `require_school()`;
nothing else filters schools by user. Tests in tests/test_scoping.py hold this to account.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet

from beacon.accounts.roles import ASSIGNED_ROLES, IMPORT_ROLES, LA_WIDE_ROLES

if TYPE_CHECKING:
    from beacon.schools.models import School


def _active(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def visible_schools(user: Any) -> QuerySet[School]:
    """Schools this user may see. Anonymous users see none (public pages use their own selectors)."""
    from beacon.schools.models import School

    if not _active(user):
        return School.objects.none()
    if user.is_superuser:
        return School.objects.all()
    if user.role in LA_WIDE_ROLES:
        qs = School.objects.all()
        return qs.filter(la_code=user.la_code) if user.la_code else qs
    if user.role in ASSIGNED_ROLES:
        today = dt.date.today()
        return School.objects.filter(
            Q(assignments__user=user),
            Q(assignments__started_on__isnull=True) | Q(assignments__started_on__lte=today),
            Q(assignments__ended_on__isnull=True) | Q(assignments__ended_on__gte=today),
        ).distinct()
    return School.objects.none()


def require_school(user: Any, urn: int) -> School:
    """The school with this URN if the user may see it; otherwise 404-equivalent PermissionDenied."""
    school = visible_schools(user).filter(urn=urn).first()
    if school is None:
        raise PermissionDenied("You do not have access to this school.")
    return school


def can_see_la_overview(user: Any) -> bool:
    return _active(user) and (user.is_superuser or user.role in LA_WIDE_ROLES or user.role == "adviser")


def can_import(user: Any) -> bool:
    return _active(user) and (user.is_superuser or user.role in IMPORT_ROLES)


def can_see_audit_trail(user: Any) -> bool:
    from beacon.accounts.roles import Role

    return _active(user) and (
        user.is_superuser or user.role in {Role.COMMISSIONER, Role.CEO, Role.DIRECTOR, Role.DATA_MANAGER}
    )


def navigation_for(user: Any) -> list[dict[str, str]]:
    from django.urls import reverse

    if not _active(user):
        return []
    items = [{"href": reverse("schools:list"), "text": "Schools"}]
    if can_see_la_overview(user):
        items.append({"href": reverse("schools:la_overview"), "text": "Local authority"})
    if can_import(user):
        items.append({"href": reverse("imports:list"), "text": "Data imports"})
    if can_see_audit_trail(user):
        items.append({"href": reverse("core:audit"), "text": "Change history"})
    return items
