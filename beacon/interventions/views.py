from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from beacon.core import permissions
from beacon.interventions import letters, services
from beacon.interventions.models import LetterKind, WarningNotice


def _notice(user: object, pk: int) -> WarningNotice:
    if not permissions.can_manage_warning_notices(user):
        raise PermissionDenied
    n = get_object_or_404(WarningNotice.objects.select_related("school"), pk=pk)
    if not permissions.visible_schools(user).filter(pk=n.school_id).exists():
        raise PermissionDenied("You do not have access to this school.")
    return n


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise ValidationError("Enter dates as YYYY-MM-DD.") from exc


@login_required
@require_http_methods(["GET", "POST"])
def notice(request: HttpRequest, pk: int) -> HttpResponse:
    n = _notice(request.user, pk)
    errors: list[dict[str, str]] = []
    if request.method == "POST":
        try:
            if request.POST.get("diocese_informed_on"):
                n.diocese_informed_on = _date(request.POST["diocese_informed_on"])
                n.save()
            services.issue_notice(
                n,
                issued_on=_date(request.POST.get("issued_on", "")),
                compliance_ends_on=_date(request.POST.get("compliance_ends_on", "")),
            )
        except ValidationError as exc:
            errors = [{"text": m, "href": "#id_issued_on"} for m in exc.messages]
        else:
            messages.success(request, "Notice issued.")
            return redirect("interventions:notice", pk=n.pk)
    return render(
        request,
        "interventions/notice.html",
        {
            "page_title": f"{n.get_kind_display()}: {n.school.name}",
            "notice": n,
            "tpc_deadline": services.pay_conditions_deadline(n),
            "needs_diocese": services.has_religious_character(n.school) and n.diocese_informed_on is None,
            "errors": errors,
        },
        status=400 if errors else 200,
    )


@login_required
def notice_letter(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    if fmt not in ("docx", "pdf"):
        raise Http404
    n = _notice(request.user, pk)
    tpl = letters.template_for(LetterKind.WARNING_NOTICE)
    letter = letters.render_letter(
        tpl,
        {
            "school_name": n.school.name,
            "urn": n.school.urn,
            "head_name": n.school.head_name or "Headteacher",
            "grounds": n.get_ground_display().lower(),
            "compliance_ends_on": n.compliance_ends_on.strftime("%-d %B %Y") if n.compliance_ends_on else "",
            "signatory": str(request.user),
        },
    )
    if fmt == "docx":
        body = letters.letter_docx(letter)
        ctype = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    else:
        body, ctype = letters.letter_pdf(letter), "application/pdf"
    response = HttpResponse(body, content_type=ctype)
    response["Content-Disposition"] = f'attachment; filename="warning-notice-{n.school.urn}.{fmt}"'
    return response
