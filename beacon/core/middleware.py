"""Session timeouts, the second sign-in factor and security headers.

- SessionTimeoutMiddleware: the idle timeout. The absolute timeout is SESSION_COOKIE_AGE (set at sign-in).
- TwoFactorMiddleware: a signed-in user who must present a second factor (settings.BEACON_REQUIRE_2FA and
  a staff role, see beacon.permissions.requires_second_factor; or anyone who has enrolled a device;
  or anyone reaching the admin site when settings.BEACON_ADMIN_REQUIRE_2FA) reaches nothing but the
  sign-in pages until they have, and is sent to enrol when they have no device yet.
- SecurityHeadersMiddleware: Permissions-Policy, Cross-Origin-Resource-Policy and no-store caching of
  signed-in pages (Django's SecurityMiddleware sets HSTS, nosniff, Referrer-Policy and COOP).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import quote

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import Resolver404, resolve, reverse

_KEY = "beacon_last_seen"
SEEN_RESOLUTION_SECONDS = 60
# Session keys of the second factor: whether this session must present one, and a factor asserted by the
# council's identity provider (OpenID Connect `amr`) that stands in for Beacon's own.
MFA_REQUIRED_KEY = "beacon_mfa_required"
MFA_BY_IDP_KEY = "beacon_mfa_by_idp"

# Pages a signed-in user may reach before the second factor: signing in and out, enrolling, help.
MFA_EXEMPT_VIEWS = frozenset(
    {
        "accounts:login",
        "accounts:logout",
        "accounts:two_factor",
        "accounts:two_factor_setup",
        "accounts:no_access",
        "accounts:oidc_start",
        "accounts:oidc_callback",
        "core:healthz",
        "core:accessibility",
    }
)


class SessionTimeoutMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = int(time.time())
            last = request.session.get(_KEY)
            if last is not None and now - int(last) > settings.BEACON_SESSION_IDLE_SECONDS:
                logout(request)
            elif last is None or now - int(last) >= SEEN_RESOLUTION_SECONDS:
                # Recorded at most once a minute: an unchanged session is not saved, so reading pages
                # does not write the session row on every request (the idle limit is 30 minutes).
                request.session[_KEY] = now
        return self.get_response(request)


def second_factor_presented(request: HttpRequest) -> bool:
    """True once this session has presented a TOTP or recovery code, or the IdP asserted MFA."""
    user = request.user
    is_verified = getattr(user, "is_verified", None)
    return bool((is_verified is not None and is_verified()) or request.session.get(MFA_BY_IDP_KEY))


def _session_requires_second_factor(request: HttpRequest) -> bool:
    """Decided once per session (at its first signed-in request) and kept in the session."""
    required = request.session.get(MFA_REQUIRED_KEY)
    if required is None:
        from django_otp import user_has_device

        from beacon.permissions import requires_second_factor

        required = bool(
            (settings.BEACON_REQUIRE_2FA and requires_second_factor(request.user))
            or user_has_device(request.user)
        )
        request.session[MFA_REQUIRED_KEY] = required
    return bool(required)


def _is_exempt(request: HttpRequest) -> bool:
    if request.path_info.startswith(settings.STATIC_URL):
        return True
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return False
    return match.view_name in MFA_EXEMPT_VIEWS


def _is_admin(request: HttpRequest) -> bool:
    return request.path_info.startswith(reverse("admin:index"))


class TwoFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        admin = _is_admin(request)
        if admin and request.path_info.startswith(reverse("admin:login")):
            # One sign-in page for everybody: the admin's own would bypass the second factor.
            next_url = request.GET.get("next", reverse("admin:index"))
            return HttpResponseRedirect(f"{reverse('accounts:login')}?next={quote(next_url)}")
        if request.user.is_authenticated:
            needed = _session_requires_second_factor(request) or (admin and settings.BEACON_ADMIN_REQUIRE_2FA)
            if needed and not second_factor_presented(request) and not _is_exempt(request):
                from django_otp import user_has_device

                target = (
                    "accounts:two_factor" if user_has_device(request.user) else "accounts:two_factor_setup"
                )
                return HttpResponseRedirect(f"{reverse(target)}?next={quote(request.get_full_path())}")
        return self.get_response(request)


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", settings.BEACON_PERMISSIONS_POLICY)
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and "Cache-Control" not in response.headers:
            # Pages of a signed-in user hold school data: never kept by the browser or a proxy.
            response.headers["Cache-Control"] = "no-store"
        return response


class RequestSizeMiddleware:
    """Refuse a request body larger than the largest import upload (plus room for the form's other
    fields) from its Content-Length, before anything (CSRF's form parsing included) reads it: 413 on the
    GOV.UK error page, nothing written to disk. A NUL character in the query string (which PostgreSQL
    refuses in any text it is given) is a 400 here rather than a database error later."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from beacon.core.validation import query_int

        limit = settings.BEACON_IMPORT_MAX_UPLOAD_BYTES + 1024 * 1024
        declared = request.META.get("CONTENT_LENGTH")
        if declared and (query_int(declared) is None or (query_int(declared) or 0) > limit):
            from beacon.core.views import error_page

            return error_page(request, 413)
        if "\x00" in request.META.get("QUERY_STRING", "") or "%00" in request.META.get("QUERY_STRING", ""):
            from beacon.core.views import error_page

            return error_page(request, 400)
        return self.get_response(request)
