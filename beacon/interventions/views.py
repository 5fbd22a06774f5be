from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from beacon.core import permissions
from beacon.interventions import services
from beacon.interventions.models import WarningNotice


@login_required
def notice(request: HttpRequest, pk: int) -> HttpResponse:
    if not permissions.can_manage_warning_notices(request.user):
        raise PermissionDenied
    n = get_object_or_404(WarningNotice.objects.select_related("school"), pk=pk)
    if not permissions.visible_schools(request.user).filter(pk=n.school_id).exists():
        raise PermissionDenied("You do not have access to this school.")
    return render(
        request,
        "interventions/notice.html",
        {
            "page_title": f"{n.get_kind_display()}: {n.school.name}",
            "notice": n,
            "tpc_deadline": services.pay_conditions_deadline(n),
            "needs_diocese": services.has_religious_character(n.school) and n.diocese_informed_on is None,
        },
    )
