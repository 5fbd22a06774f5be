from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from beacon.core import permissions


@login_required
def school_list(request: HttpRequest) -> HttpResponse:
    schools = permissions.visible_schools(request.user).filter(is_state_funded=True)
    return render(request, "schools/list.html", {"page_title": "Schools", "schools": schools})


@login_required
def school_detail(request: HttpRequest, urn: int) -> HttpResponse:
    school = permissions.require_school(request.user, urn)
    return render(request, "schools/detail.html", {"page_title": school.name, "school": school})


@login_required
def la_overview(request: HttpRequest) -> HttpResponse:
    if not permissions.can_see_la_overview(request.user):
        raise PermissionDenied
    return render(request, "schools/la_overview.html", {"page_title": "Local authority overview"})
