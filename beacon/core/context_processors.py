from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.middleware.csp import get_nonce

from beacon import permissions


def service(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    nonce = get_nonce(request)
    return {
        "service_name": settings.BEACON_SERVICE_NAME,
        "organisation_name": settings.BEACON_ORGANISATION,
        "nav": permissions.navigation_for(user),
        # govuk-frontend-jinja's page template tests `{% if cspNonce %}` for its inline "js-enabled" script
        # before anything has used Django's lazy nonce (which is falsy until evaluated), so evaluate it here.
        "cspNonce": str(nonce) if nonce is not None else "",
    }
