"""Sign-in, the second factor (enrol, verify, recovery codes), single sign-on and "no access yet".

Thin views: the rules live in beacon.accounts.two_factor and beacon.accounts.oidc; who must present a
second factor is decided in beacon.permissions.requires_second_factor and enforced by
beacon.core.middleware.TwoFactorMiddleware.
"""

from __future__ import annotations

from typing import Any

import django_otp
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from beacon.accounts import two_factor
from beacon.accounts.models import RecoveryCodeDevice, SecurityEventKind
from beacon.core.middleware import second_factor_presented


class SignInForm(AuthenticationForm):
    error_messages = {
        "invalid_login": "Enter a correct username and password. Both are case-sensitive.",
        "inactive": "This account is inactive.",
    }


class SignInView(LoginView):
    template_name = "accounts/login.html"
    form_class = SignInForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        ctx["page_title"] = "Sign in"
        ctx["sso_enabled"] = settings.BEACON_OIDC_ENABLED
        ctx["sso_provider"] = settings.BEACON_OIDC_PROVIDER_NAME
        return ctx


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("accounts:login")


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return resolve_url(settings.LOGIN_REDIRECT_URL)


@login_required
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """Second step of sign-in: a code from the authenticator app, or a recovery code."""
    user: Any = request.user
    if not two_factor.has_confirmed_device(user):
        return redirect(f"{_url('accounts:two_factor_setup')}?next={_quoted_next(request)}")
    if second_factor_presented(request):
        return redirect(_next_url(request))
    error = ""
    if request.method == "POST":
        device = two_factor.verify_second_factor(user, request.POST.get("code", ""))
        if device is None:
            error = "Enter the 6-digit code from your authenticator app, or one of your recovery codes"
            two_factor.record_event(request, user, SecurityEventKind.VERIFY_FAILED)
        else:
            django_otp.login(request, device)
            request.session.cycle_key()
            if isinstance(device, RecoveryCodeDevice):
                left = device.remaining()
                two_factor.record_event(request, user, SecurityEventKind.RECOVERY_USED, f"{left} left")
                messages.warning(
                    request,
                    f"You used a recovery code. You have {left} left: make new ones from your account page.",
                )
            else:
                two_factor.record_event(request, user, SecurityEventKind.VERIFIED)
            return redirect(_next_url(request))
    return render(
        request,
        "accounts/two_factor.html",
        {"page_title": "Enter your security code", "error": error, "next": _next_url(request)},
        status=200 if not error else 400,
    )


@login_required
@require_http_methods(["GET", "POST"])
def setup(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator app. Someone who already has one must present it first (so a stolen
    password cannot replace it)."""
    user: Any = request.user
    if two_factor.has_confirmed_device(user) and not second_factor_presented(request):
        return redirect(f"{_url('accounts:two_factor')}?next={_quoted_next(request)}")
    device = two_factor.pending_totp_device(user, request.session)
    error = ""
    if request.method == "POST":
        codes = two_factor.confirm_enrolment(user, device, request.POST.get("code", ""))
        if codes is None:
            error = "The code is not right. Enter the 6-digit code your authenticator app shows now"
            two_factor.record_event(request, user, SecurityEventKind.VERIFY_FAILED, "enrolment")
        else:
            request.session.pop(two_factor.PENDING_KEY, None)
            django_otp.login(request, device)
            request.session.cycle_key()
            two_factor.record_event(request, user, SecurityEventKind.ENROLLED)
            return render(
                request,
                "accounts/recovery_codes.html",
                {"page_title": "Your recovery codes", "codes": codes, "next": _next_url(request)},
            )
    return render(
        request,
        "accounts/two_factor_setup.html",
        {
            "page_title": "Set up two-factor authentication",
            "qr": two_factor.qr_code_data_uri(device),
            "secret": two_factor.secret_for_display(device),
            "error": error,
            "next": _next_url(request),
        },
        status=200 if not error else 400,
    )


@login_required
@require_http_methods(["GET", "POST"])
def security(request: HttpRequest) -> HttpResponse:
    """The user's own sign-in security: whether an app is set up, recovery codes left, new codes."""
    user: Any = request.user
    enrolled = two_factor.has_confirmed_device(user)
    if request.method == "POST":
        if not (enrolled and second_factor_presented(request)):
            return redirect(f"{_url('accounts:two_factor')}?next={_url('accounts:security')}")
        codes = two_factor.issue_recovery_codes(user)
        two_factor.record_event(request, user, SecurityEventKind.RECOVERY_REGENERATED)
        return render(
            request,
            "accounts/recovery_codes.html",
            {"page_title": "Your recovery codes", "codes": codes, "next": _url("accounts:security")},
        )
    return render(
        request,
        "accounts/security.html",
        {
            "page_title": "Sign-in security",
            "enrolled": enrolled,
            "verified": second_factor_presented(request),
            "codes_left": two_factor.recovery_codes_left(user) if enrolled else 0,
        },
    )


def no_access(request: HttpRequest) -> HttpResponse:
    """Where single sign-on sends someone the council knows but Beacon does not (yet)."""
    return render(
        request,
        "accounts/no_access.html",
        {
            "page_title": "You do not have access to Beacon yet",
            "provider": settings.BEACON_OIDC_PROVIDER_NAME,
        },
    )


def _url(name: str) -> str:
    from django.urls import reverse

    return reverse(name)


def _quoted_next(request: HttpRequest) -> str:
    from urllib.parse import quote

    return quote(_next_url(request))
