"""Targets dashboard, a target's page (trend, history, edit) and group gaps. Thin: who may see what comes
from beacon.permissions; figures from beacon.reporting.services; exports from beacon.core.exports."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from beacon import permissions
from beacon.core import exports
from beacon.core.conflicts import stale_form
from beacon.core.forms import error_summary
from beacon.core.versioning import StaleEdit
from beacon.reporting import services, tables
from beacon.reporting.forms import TargetForm
from beacon.reporting.models import Comparator, Framework, SystemTarget


def _la_code(request: HttpRequest) -> int:
    return int(getattr(request.user, "la_code", None) or settings.BEACON_LA_CODE)


def _require_reporting(request: HttpRequest) -> None:
    if not permissions.can_see_reporting(request.user):
        raise PermissionDenied


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    _require_reporting(request)
    framework = request.GET.get("framework") or Framework.CAMDEN
    if framework not in Framework.values:
        framework = Framework.CAMDEN
    d = services.dashboard(framework, _la_code(request), permissions.served_schools(request.user))
    fmt = exports.requested_format(request)
    if fmt:
        headers, rows = tables.dashboard_table(d)
        return exports.export_response(fmt, f"targets-{framework}", headers, rows, sheet_title="Targets")
    return render(
        request,
        "reporting/dashboard.html",
        {
            "page_title": "System targets",
            "d": d,
            "frameworks": Framework.choices,
            "framework_label": Framework(framework).label,
            "export": exports.export_links(request),
            "services": services,
        },
    )


def _target_context(request: HttpRequest, target: SystemTarget, form: TargetForm | None) -> dict[str, Any]:
    result = services.target_detail(target, _la_code(request), permissions.served_schools(request.user))
    return {
        "page_title": f"{target.ref}: {target.title}",
        "target": target,
        "r": result,
        "history": list(target.history.select_related("history_user").order_by("-history_date")[:20]),
        "can_edit": permissions.can_edit_targets(request.user),
        "export": exports.export_links(request),
        "form": form,
        "labels": dict(Comparator.choices),
    }


@login_required
def target_detail(request: HttpRequest, ref: str) -> HttpResponse:
    _require_reporting(request)
    target = get_object_or_404(SystemTarget, ref=ref)
    fmt = exports.requested_format(request)
    if fmt:
        result = services.target_detail(target, _la_code(request), permissions.served_schools(request.user))
        headers, rows = tables.target_table(result)
        return exports.export_response(fmt, f"target-{target.ref}", headers, rows, sheet_title=target.ref)
    return render(request, "reporting/target.html", _target_context(request, target, None))


def _initial(target: SystemTarget) -> dict[str, Any]:
    return {
        "title": target.title,
        "comparators": list(target.comparators),
        "direction": target.direction,
        "threshold": target.threshold,
        "gap_change_points": target.gap_change_points,
        "no_data_reason": target.no_data_reason,
        "is_active": target.is_active,
        "version": target.version,
    }


@login_required
@require_http_methods(["GET", "POST"])
def edit_target(request: HttpRequest, ref: str) -> HttpResponse:
    _require_reporting(request)
    if not permissions.can_edit_targets(request.user):
        raise PermissionDenied
    target = get_object_or_404(SystemTarget, ref=ref)
    form = TargetForm(request.POST if request.method == "POST" else None, initial=_initial(target))
    status = 200
    stale = None
    if request.method == "POST":
        status = 400
        if form.is_valid():
            d = dict(form.cleaned_data)
            version, reason = d.pop("version"), d.pop("reason")
            try:
                services.update_target(
                    target.pk, expected_version=version, reason=reason, user=request.user, **d
                )
            except StaleEdit as exc:
                stale = exc.current
                status = stale_form(form, exc, "target")
            except ValidationError as exc:
                for name, msgs in exc.message_dict.items():
                    form.add_error(name if name in form.fields else None, msgs)
            else:
                messages.success(request, f"Target {target.ref} updated.")
                return redirect(reverse("reporting:target", args=[target.ref]))
    return render(
        request,
        "reporting/edit_target.html",
        {
            "page_title": f"Edit {target.ref}",
            "target": stale or target,
            "form": form,
            "errors": error_summary(form) if form.is_bound else [],
        },
        status=status,
    )


@login_required
def gaps(request: HttpRequest) -> HttpResponse:
    _require_reporting(request)
    page = services.gaps_page(_la_code(request), permissions.served_schools(request.user))
    fmt = exports.requested_format(request)
    if fmt:
        headers, rows = tables.gaps_table(page)
        return exports.export_response(fmt, "group-gaps", headers, rows, sheet_title="Group gaps")
    return render(
        request,
        "reporting/gaps.html",
        {"page_title": "Group gaps", "p": page, "export": exports.export_links(request)},
    )
