from typing import Any

from django.conf import settings
from django.http import HttpRequest

from beacon.core import permissions


def service(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    return {
        "service_name": settings.BEACON_SERVICE_NAME,
        "organisation_name": settings.BEACON_ORGANISATION,
        "nav": permissions.navigation_for(user),
    }
