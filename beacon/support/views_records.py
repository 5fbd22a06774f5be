"""Entitlements, brokered support, visits and adviser capacity pages. Thin views: scoping from
beacon.permissions, rules in beacon.support.services, optimistic locking on every edit."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from beacon import permissions
from beacon.accounts.roles import Role
from beacon.core.conflicts import stale_form
from beacon.core.forms import error_summary
from beacon.core.validation import query_id
from beacon.core.versioning import StaleEdit
from beacon.support import services
from beacon.support.dates import academic_year, academic_year_bounds
from beacon.support.forms import BrokeredForm, CapacityForm, EntitlementForm, VisitForm
from beacon.support.models import BrokeredSupport, SupportCase, Visit

VISIT_DATES = ("report_to_head_on", "report_to_chair_on", "report_to_director_on", "report_to_ceo_on")


def _school(user: Any, urn: int) -> Any:
    if not permissions.can_see_support(user):
        raise PermissionDenied
    school = permissions.support_schools(user).filter(urn=urn).first()
    if school is None:
        raise PermissionDenied("You do not have access to this school.")
    return school


def _year(value: int | None) -> int:
    year = value if value is not None else academic_year(dt.date.today())
    if not 2000 <= year <= 2100:
        raise PermissionDenied("Not an academic year.")
    return year


def _adviser_choices(user: Any) -> list[tuple[str, str]]:
    return [(str(a.pk), str(a)) for a in permissions.capacity_advisers(user)]


def _adviser(user: Any, value: str) -> Any:
    if not value:
        return None
    adviser = permissions.capacity_advisers(user).filter(pk=int(value)).first()
    if adviser is None:
        raise ValidationError("Choose an adviser from the list.")
    return adviser


def _case_for(user: Any, school: Any, value: str | None) -> SupportCase | None:
    if not value:
        return None
    case = SupportCase.objects.filter(pk=query_id(value), school=school).first()
    if case is None:
        raise PermissionDenied("Not a support case for this school.")
    return case


# --- entitlement ----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def entitlement(request: HttpRequest, urn: int, year: int | None = None) -> HttpResponse:
    user = request.user
    school = _school(user, urn)
    year = _year(year)
    # A GET reads (the stored entitlement or the derived one, unsaved); only a POST writes.
    ent = (
        services.sync_entitlement(school, year)
        if request.method == "POST"
        else services.current_entitlement(school, year)
    )
    can_edit = permissions.can_edit_entitlement(user, school)
    advisers = _adviser_choices(user) if can_edit else []
    initial = {
        "version": ent.version,
        "targeted_extra_days": ent.targeted_extra_days,
        "adviser": str(ent.adviser_id or ""),
    }
    form = EntitlementForm(
        request.POST if request.method == "POST" else None, initial=initial, advisers=advisers
    )
    status = 200
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        status = 400
        if form.is_valid():
            d = form.cleaned_data
            try:
                services.update_entitlement(
                    ent,
                    d["version"],
                    **{flag: flag in d["flags"] for flag in services.ENTITLEMENT_FLAGS},
                    targeted_extra_days=d["targeted_extra_days"] or Decimal("0"),
                    adviser=_adviser(user, d["adviser"]),
                )
            except StaleEdit as exc:
                status = stale_form(form, exc, "entitlement")
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, "Entitlement saved.")
                return redirect("support:entitlement_year", urn=school.urn, year=year)
        ent.refresh_from_db()
    start, end = academic_year_bounds(year)
    days = services.entitlement_days(ent)
    visible = permissions.visible_visits(user)
    used = services.days_used(school.pk, year, visible)
    visits = list(
        visible.filter(school=school, visited_on__range=(start, end)).select_related("adviser", "case")
    )
    return render(
        request,
        "support/entitlement.html",
        {
            "page_title": f"Support entitlement {year} to {year + 1}: {school.name}",
            "school": school,
            "year": year,
            "ent": ent,
            "days": days,
            "used": used,
            "remaining": days.total - used,
            "visits": [(v, services.circulation_summary(v)) for v in visits],
            "brokered": list(ent.brokered.select_related("case")) if ent.pk else [],
            "brokered_total": services.brokered_total(ent),
            "cases": list(SupportCase.objects.filter(school=school)),
            "form": form,
            "errors": error_summary(form) if form.is_bound else [],
            "checked_flags": (
                request.POST.getlist("flags")
                if form.is_bound
                else [f for f in services.ENTITLEMENT_FLAGS if getattr(ent, f)]
            ),
            "can_edit": can_edit,
            "can_broker": permissions.can_manage_brokered_support(user, school),
            "can_visit": permissions.can_record_visit(user, school),
        },
        status=status,
    )


# --- brokered support ------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def brokered_new(request: HttpRequest, urn: int, year: int) -> HttpResponse:
    user = request.user
    school = _school(user, urn)
    if not permissions.can_manage_brokered_support(user, school):
        raise PermissionDenied
    year = _year(year)
    ent = (
        services.sync_entitlement(school, year)
        if request.method == "POST"
        else services.current_entitlement(school, year)
    )
    case_id = request.POST.get("case") or request.GET.get("case")
    case = _case_for(user, school, case_id)
    form = BrokeredForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.add_brokered(
                ent, provider=d["provider"], cost=d["cost"], funding_source=d["funding_source"],
                description=d["description"], case=case,
            )  # fmt: skip
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Brokered support added.")
            if case is not None:
                return redirect("support:case", pk=case.pk)
            return redirect("support:entitlement_year", urn=school.urn, year=year)
    return render(
        request,
        "support/brokered_form.html",
        {"page_title": f"Add brokered support: {school.name}", "school": school, "year": year, "case": case,
         "form": form, "errors": error_summary(form) if form.is_bound else [], "heading": "Add brokered support"},
        status=400 if form.is_bound else 200,
    )  # fmt: skip


@login_required
@require_http_methods(["GET", "POST"])
def brokered_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    b = get_object_or_404(BrokeredSupport.objects.select_related("entitlement", "case"), pk=pk)
    school = _school(user, b.entitlement.school.urn)
    if not permissions.can_manage_brokered_support(user, school):
        raise PermissionDenied
    initial = {
        "version": b.version, "provider": b.provider, "description": b.description, "cost": b.cost,
        "funding_source": b.funding_source,
    }  # fmt: skip
    form = BrokeredForm(request.POST if request.method == "POST" else None, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            d = form.cleaned_data
            try:
                services.update_brokered(
                    b, d["version"] or 0, provider=d["provider"], description=d["description"],
                    cost=d["cost"], funding_source=d["funding_source"],
                )  # fmt: skip
            except StaleEdit as exc:
                status = stale_form(form, exc, "brokered support")
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, "Brokered support saved.")
                if b.case_id:
                    return redirect("support:case", pk=b.case_id)
                return redirect("support:entitlement_year", urn=school.urn, year=b.entitlement.academic_year)
    return render(
        request,
        "support/brokered_form.html",
        {"page_title": f"Edit brokered support: {school.name}", "school": school,
         "year": b.entitlement.academic_year, "case": b.case, "form": form, "brokered": b,
         "errors": error_summary(form) if form.is_bound else [], "heading": "Edit brokered support"},
        status=status,
    )  # fmt: skip


# --- visits ------------------------------------------------------------------------------------------


def _visit_advisers(user: Any) -> list[tuple[str, str]]:
    return _adviser_choices(user)


@login_required
@require_http_methods(["GET", "POST"])
def visit_new(request: HttpRequest, urn: int) -> HttpResponse:
    user = request.user
    school = _school(user, urn)
    if not permissions.can_record_visit(user, school):
        raise PermissionDenied
    case = _case_for(user, school, request.POST.get("case") or request.GET.get("case"))
    initial: dict[str, Any] = {"days": "0.5"}
    if getattr(user, "role", "") == Role.ADVISER:
        initial["adviser"] = str(user.pk)
    if case is not None:
        initial["visit_type"] = case.level
    form = VisitForm(
        request.POST if request.method == "POST" else None, initial=initial, advisers=_visit_advisers(user)
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            visit = services.record_visit(
                school=school, adviser=_adviser(user, d["adviser"]), visited_on=d["visited_on"],
                visit_type=d["visit_type"], days=d["days"], notes=d["notes"], case=case,
                **{k: d[k] for k in VISIT_DATES},
            )  # fmt: skip
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Visit recorded.")
            if case is not None:
                return redirect("support:case", pk=case.pk)
            return redirect("support:entitlement_year", urn=school.urn, year=academic_year(visit.visited_on))
    return render(
        request,
        "support/visit_form.html",
        {"page_title": f"Record a visit: {school.name}", "school": school, "case": case, "form": form,
         "errors": error_summary(form) if form.is_bound else [], "heading": "Record a visit"},
        status=400 if form.is_bound else 200,
    )  # fmt: skip


@login_required
@require_http_methods(["GET", "POST"])
def visit_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    visit = get_object_or_404(Visit.objects.select_related("school", "case"), pk=pk)
    school = _school(user, visit.school.urn)
    if not permissions.can_record_visit(user, school):
        raise PermissionDenied
    initial: dict[str, Any] = {
        "version": visit.version, "visited_on": visit.visited_on, "visit_type": visit.visit_type,
        "days": visit.days, "adviser": str(visit.adviser_id or ""), "notes": visit.notes,
        **{k: getattr(visit, k) or "" for k in VISIT_DATES},
    }  # fmt: skip
    advisers = _visit_advisers(user)
    if visit.adviser_id and str(visit.adviser_id) not in {a for a, _ in advisers}:
        advisers.append((str(visit.adviser_id), str(visit.adviser)))
    form = VisitForm(request.POST if request.method == "POST" else None, initial=initial, advisers=advisers)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            d = form.cleaned_data
            adviser = (
                visit.adviser if d["adviser"] == str(visit.adviser_id or "") else _adviser(user, d["adviser"])
            )
            try:
                services.update_visit(
                    visit, d["version"] or 0, visited_on=d["visited_on"], visit_type=d["visit_type"],
                    days=d["days"], notes=d["notes"], adviser=adviser, **{k: d[k] for k in VISIT_DATES},
                )  # fmt: skip
            except StaleEdit as exc:
                status = stale_form(form, exc, "visit")
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, "Visit saved.")
                if visit.case_id:
                    return redirect("support:case", pk=visit.case_id)
                return redirect(
                    "support:entitlement_year", urn=school.urn, year=academic_year(d["visited_on"])
                )
    return render(
        request,
        "support/visit_form.html",
        {"page_title": f"Edit a visit: {school.name}", "school": school, "case": visit.case, "form": form,
         "visit": visit, "errors": error_summary(form) if form.is_bound else [], "heading": "Visit and report circulation"},
        status=status,
    )  # fmt: skip


# --- adviser capacity ---------------------------------------------------------------------------------


@login_required
def capacity_overview(request: HttpRequest, year: int | None = None) -> HttpResponse:
    user = request.user
    if not permissions.can_see_capacity_overview(user):
        raise PermissionDenied
    year = _year(year)
    rows = services.capacity_overview(
        permissions.capacity_advisers(user), year, permissions.visible_visits(user)
    )
    return render(
        request,
        "support/capacity_overview.html",
        {
            "page_title": f"Adviser capacity {year} to {year + 1}",
            "year": year,
            "rows": rows,
            "over": sum(1 for _, load in rows if load.over_allocated),
            "totals": (
                sum((load.budget or Decimal("0") for _, load in rows), Decimal("0")),
                sum((load.allocated for _, load in rows), Decimal("0")),
                sum((load.used for _, load in rows), Decimal("0")),
            ),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def adviser_capacity(request: HttpRequest, adviser_id: int, year: int | None = None) -> HttpResponse:
    user = request.user
    adviser = permissions.capacity_advisers(user).filter(pk=adviser_id).first()
    if adviser is None or not permissions.can_see_adviser_capacity(user, adviser):
        raise PermissionDenied
    year = _year(year)
    visible = permissions.visible_visits(user)
    view = services.adviser_capacity(adviser, year, visible)
    can_set = permissions.can_set_capacity(user)
    initial = {
        "version": view.capacity.version if view.capacity else 0,
        "day_budget": view.capacity.day_budget if view.capacity else "",
    }
    form = CapacityForm(request.POST if request.method == "POST" else None, initial=initial)
    status = 200
    if request.method == "POST":
        if not can_set:
            raise PermissionDenied
        status = 400
        if form.is_valid():
            try:
                services.set_capacity(
                    adviser, year, form.cleaned_data["day_budget"], form.cleaned_data["version"]
                )
            except StaleEdit as exc:
                status = stale_form(form, exc, "day budget")
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, "Day budget saved.")
                return redirect(reverse("support:adviser_capacity_year", args=[adviser.pk, year]))
        view = services.adviser_capacity(adviser, year, visible)
    start, end = academic_year_bounds(year)
    visits = list(visible.filter(adviser=adviser, visited_on__range=(start, end)).select_related("school"))
    return render(
        request,
        "support/adviser_capacity.html",
        {
            "page_title": f"Capacity {year} to {year + 1}: {adviser}",
            "adviser": adviser,
            "year": year,
            "view": view,
            "visits": [(v, services.circulation_summary(v)) for v in visits],
            "form": form,
            "errors": error_summary(form) if form.is_bound else [],
            "can_set": can_set,
            "open_cases": SupportCase.objects.open()
            .filter(school__in=[r.entitlement.school for r in view.rows])
            .count(),
        },
        status=status,
    )
