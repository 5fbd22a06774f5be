"""OpenID Connect single sign-on with the council's identity provider (mozilla-django-oidc).

Off unless BEACON_OIDC_CLIENT_ID and BEACON_OIDC_ISSUER are set. Authorisation code flow with PKCE,
state and nonce; the ID token's signature (JWKS), issuer, audience and expiry are checked. One claim
(settings.BEACON_OIDC_CLAIM, default `email`) must equal one field (BEACON_OIDC_USER_FIELD) of exactly one
active Beacon user: accounts are never created from a sign-on, so nobody gains a role by signing in.
An unknown person lands on the "no access yet" page.
"""

from __future__ import annotations

import logging
from typing import Any

import jwt
import requests
from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from beacon.accounts.models import SecurityEventKind, User
from beacon.accounts.two_factor import record_event
from beacon.core.middleware import MFA_BY_IDP_KEY

logger = logging.getLogger(__name__)

# Authentication method references (RFC 8176) that mean the provider asked for more than a password.
MFA_AMR: frozenset[str] = frozenset(
    {"mfa", "otp", "hwk", "swk", "sc", "fpt", "face", "iris", "retina", "tel"}
)


def claims_to_user(claims: dict[str, Any]) -> User | None:
    """The one active Beacon user whose configured field equals the configured claim, else None."""
    value = claims.get(settings.BEACON_OIDC_CLAIM)
    if not isinstance(value, str) or not value.strip():
        return None
    if settings.BEACON_OIDC_CLAIM == "email" and claims.get("email_verified") is False:
        return None
    field = settings.BEACON_OIDC_USER_FIELD
    if field not in {"email", "username"}:
        raise SuspiciousOperation(f"BEACON_OIDC_USER_FIELD must be email or username, not {field!r}")
    users = list(User.objects.filter(**{f"{field}__iexact": value.strip()}, is_active=True)[:2])
    return users[0] if len(users) == 1 else None


def idp_asserted_mfa(claims: dict[str, Any]) -> bool:
    amr = claims.get("amr") or []
    if isinstance(amr, str):
        amr = [amr]
    return bool(settings.BEACON_OIDC_TRUST_IDP_MFA and MFA_AMR & {str(a).lower() for a in amr})


class BeaconOIDCBackend(OIDCAuthenticationBackend):
    def authenticate(self, request: HttpRequest | None, **kwargs: Any) -> User | None:
        """A token that fails verification (signature, nonce, provider errors) refuses the sign-on
        instead of raising: the person lands on the "no access" page and the refusal is logged."""
        try:
            return super().authenticate(request, **kwargs)
        except (SuspiciousOperation, requests.RequestException, jwt.PyJWTError) as exc:
            logger.warning("Single sign-on refused: %s", exc)
            record_event(request, None, SecurityEventKind.SSO_REFUSED, f"token rejected: {exc}"[:300])
            return None

    def get_or_create_user(self, access_token: str, id_token: str, payload: dict[str, Any]) -> User | None:
        if payload.get("iss", "").rstrip("/") != settings.BEACON_OIDC_ISSUER:
            raise SuspiciousOperation("ID token issuer does not match BEACON_OIDC_ISSUER")
        aud = payload.get("aud")
        audiences = aud if isinstance(aud, list) else [aud]
        if settings.OIDC_RP_CLIENT_ID not in audiences:
            raise SuspiciousOperation("ID token audience does not include this client")
        user_info = self.get_userinfo(access_token, id_token, payload)
        if user_info.get("sub") != payload.get("sub"):
            raise SuspiciousOperation("userinfo subject differs from the ID token's")
        claims = {**payload, **user_info}
        user = claims_to_user(claims)
        request = getattr(self, "request", None)
        claim_value = str(claims.get(settings.BEACON_OIDC_CLAIM, ""))[:200]
        if user is None:
            record_event(
                request, None, SecurityEventKind.SSO_REFUSED, f"{settings.BEACON_OIDC_CLAIM}={claim_value}"
            )
            return None
        user.beacon_idp_mfa = idp_asserted_mfa(payload)  # type: ignore[attr-defined]
        record_event(
            request,
            user,
            SecurityEventKind.SSO_SIGNED_IN,
            "provider MFA" if user.beacon_idp_mfa else "",  # type: ignore[attr-defined]
        )
        return user


def _require_enabled() -> None:
    if not settings.BEACON_OIDC_ENABLED:
        raise Http404("Single sign-on is not configured.")


class SignOnStartView(OIDCAuthenticationRequestView):
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        _require_enabled()
        return super().dispatch(request, *args, **kwargs)


class SignOnCallbackView(OIDCAuthenticationCallbackView):
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        _require_enabled()
        return super().dispatch(request, *args, **kwargs)

    def login_success(self) -> HttpResponse:
        response = super().login_success()
        if getattr(self.user, "beacon_idp_mfa", False):
            self.request.session[MFA_BY_IDP_KEY] = True
        return response
