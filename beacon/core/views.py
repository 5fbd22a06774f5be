from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render

from beacon.core import audit, permissions


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


def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cur:
        cur.execute("SELECT 1")
    return JsonResponse({"status": "ok", "database": connection.vendor})


@login_required
def audit_trail(request: HttpRequest) -> HttpResponse:
    if not permissions.can_see_audit_trail(request.user):
        raise PermissionDenied
    # Changes to schools outside the user's scope (another LA's) are not listed, so their names never show.
    visible = set(permissions.visible_schools(request.user).values_list("pk", flat=True))
    entries = [e for e in audit.recent_changes(200) if e.object_type != "School" or e.object_id in visible]
    return render(request, "core/audit.html", {"page_title": "Change history", "entries": entries})
