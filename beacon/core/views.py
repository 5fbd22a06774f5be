from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render

from beacon import permissions
from beacon.core import audit


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return redirect("schools:list")


def accessibility(request: HttpRequest) -> HttpResponse:
    return render(request, "core/accessibility.html", {"page_title": "Accessibility statement"})


def data_sources(request: HttpRequest) -> HttpResponse:
    from beacon.imports.framework import load_all_sources

    return render(
        request,
        "core/data_sources.html",
        {
            "page_title": "Data sources and licences",
            "sources": sorted(load_all_sources().values(), key=lambda s: s.key),
        },
    )


def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness for load balancers: "ok" (the database answered). The database engine is shown only to
    signed-in LA staff (it tells an attacker what to aim at)."""
    with connection.cursor() as cur:
        cur.execute("SELECT 1")
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and permissions.can_see_audit_trail(user):
        return JsonResponse({"status": "ok", "database": connection.vendor})
    return HttpResponse("ok", content_type="text/plain; charset=utf-8")


# --- error pages (issue 13 item 6): GOV.UK-styled, no staff navigation for anonymous visitors ---------

ERRORS = {
    400: ("There is a problem with the address", [
        "The address or one of its values (after the ?) was not understood.",
        "Check it, or go back and use the links and forms on the page.",
    ]),
    403: ("You do not have access to this page", [
        "Your account does not give you access to this page or school.",
        "If you think you should have access, contact the Beacon administrator at your council.",
    ]),
    404: ("Page not found", [
        "If you typed the web address, check it is correct.",
        "If you pasted the web address, check you copied the entire address.",
    ]),
    413: ("The file is too large", [
        "The file you sent is larger than Beacon accepts. Save it as CSV or split it, and try again.",
    ]),
    500: ("Sorry, there is a problem with the service", [
        "Try again later. Anything you had saved is still saved.",
    ]),
}  # fmt: skip


def error_page(request: HttpRequest, status: int) -> HttpResponse:
    title, paragraphs = ERRORS[status]
    try:
        return render(
            request,
            "core/error.html",
            {"page_title": title, "heading": title, "paragraphs": paragraphs, "status": status},
            status=status,
        )
    except Exception:  # the error page itself failed (e.g. the database is down): plain, still no detail
        return HttpResponse(f"{title}\n", status=status, content_type="text/plain; charset=utf-8")


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_page(request, 400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_page(request, 403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_page(request, 404)


def server_error(request: HttpRequest) -> HttpResponse:
    return error_page(request, 500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent without a valid CSRF token (e.g. from a page open too long): the styled 403 page."""
    return error_page(request, 403)


@login_required
def audit_trail(request: HttpRequest) -> HttpResponse:
    if not permissions.can_see_audit_trail(request.user):
        raise PermissionDenied
    # Changes to schools outside the user's scope (another LA's) are not listed, so their names never show.
    visible = set(permissions.visible_schools(request.user).values_list("pk", flat=True))
    entries = [e for e in audit.recent_changes(200) if e.object_type != "School" or e.object_id in visible]
    return render(request, "core/audit.html", {"page_title": "Change history", "entries": entries})
