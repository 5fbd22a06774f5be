"""Future options pages. Thin views: scoping from beacon.permissions, arithmetic in selectors,
writes in services."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from beacon import permissions
from beacon.core.conflicts import STALE_STATUS, stale_form, stale_summary
from beacon.core.forms import error_summary
from beacon.core.validation import query_int
from beacon.core.versioning import StaleEdit
from beacon.futureoptions import selectors, services
from beacon.futureoptions import toolkit as tk
from beacon.futureoptions.forms import InterestForm, PartnershipForm, SummaryForm
from beacon.futureoptions.models import SUMMARY_SECTIONS, Partnership, SystemLeaderInterest
from beacon.schools.models import Phase, School

FLAG_FILTERS = (
    ("falling_roll", "Falling roll"),
    ("small_school", "Small school"),
    ("surplus", "Surplus places (watch or high)"),
    ("falling_demand", "Falling demand"),
)


def _scope(user: Any) -> QuerySet[School]:
    if not permissions.can_see_future_options(user):
        raise PermissionDenied
    return permissions.future_options_schools(user)


def _school(user: Any, urn: int) -> School:
    school = _scope(user).filter(urn=urn).first()
    if school is None:
        raise PermissionDenied("You do not have access to this school.")
    return school


def _filters(request: HttpRequest, schools: QuerySet[School]) -> dict[str, Any]:
    phases = [p for p in request.GET.getlist("phase") if p in Phase.values]
    flags = [f for f in request.GET.getlist("flag") if f in dict(FLAG_FILTERS)]
    present = set(schools.values_list("phase", flat=True))
    return {
        "phases": phases,
        "flags": flags,
        "phase_options": [(p.value, p.label) for p in Phase if p.value in present],
        "flag_options": FLAG_FILTERS,
    }


def _filtered_rows(request: HttpRequest, schools: QuerySet[School]) -> tuple[list[Any], dict[str, Any]]:
    f = _filters(request, schools)
    if f["phases"]:
        schools = schools.filter(phase__in=f["phases"])
    rows = selectors.future_options(schools)
    f["phase_rows"] = rows  # every school of the phases chosen (the borough totals), before the flag filter
    if f["flags"]:
        rows = [r for r in rows if any(fl.code in f["flags"] for fl in r.raised)]
    return rows, f


@login_required
def index(request: HttpRequest) -> HttpResponse:
    schools = _scope(request.user)
    rows, f = _filtered_rows(request, schools)
    trend = selectors.la_trend(f["phase_rows"])
    return render(
        request,
        "futureoptions/index.html",
        {
            "page_title": "School future options",
            "rows": rows,
            "trend": trend,
            "phase_rolls": selectors.phase_rolls(f["phase_rows"]),
            "method": selectors.PROJECTION_METHOD.format(n=selectors.PROJECTION_YEARS),
            "filters": f,
            "query": request.GET.urlencode(),
            "year_label": selectors.year_label,
        },
    )


@login_required
def school_map(request: HttpRequest) -> HttpResponse:
    schools = _scope(request.user)
    rows, f = _filtered_rows(request, schools)
    held = selectors.positions(r.school for r in rows)
    located = set(held)
    approximate = {pk for pk, (_lat, _lon, basis) in held.items() if basis.startswith("Approximate")}
    return render(
        request,
        "futureoptions/map.html",
        {
            "page_title": "Map of schools",
            "rows": rows,
            "filters": f,
            "points_url": reverse("futureoptions:map_points")
            + ("?" + request.GET.urlencode() if request.GET else ""),
            "located": len(located),
            "located_ids": located,
            "approximate_ids": approximate,
        },
    )


@login_required
def map_points(request: HttpRequest) -> JsonResponse:
    rows, _ = _filtered_rows(request, _scope(request.user))
    return JsonResponse({"schools": selectors.map_points(rows)})


@login_required
def school_detail(request: HttpRequest, urn: int) -> HttpResponse:
    school = _school(request.user, urn)
    fo = selectors.for_school(school)
    summary = services.summary_for(school)
    return render(
        request,
        "futureoptions/school.html",
        {
            "page_title": f"Future options: {school.name}",
            "school": school,
            "fo": fo,
            "summary": summary,
            "sections": SUMMARY_SECTIONS,
            "partnerships": selectors.active_partnerships(school),
            "leaders": SystemLeaderInterest.objects.current().filter(school=school),
            "can_edit": permissions.can_edit_future_options(request.user),
            "method": selectors.PROJECTION_METHOD.format(n=selectors.PROJECTION_YEARS),
            "intake_method": selectors.INTAKE_METHOD,
            "year_label": selectors.year_label,
            "history": summary.history.select_related("history_user")[:10] if summary.pk else [],
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def edit_summary(request: HttpRequest, urn: int) -> HttpResponse:
    school = _school(request.user, urn)
    if not permissions.can_edit_future_options(request.user):
        raise PermissionDenied
    summary = services.summary_for(school)
    initial = {name: getattr(summary, name) for name in services.SUMMARY_FIELDS} | {
        "version": summary.version
    }
    form = SummaryForm(request.POST or None, initial=initial)
    status = 200
    stale = None
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.save_summary(
                school,
                user=request.user,
                expected_version=d["version"],
                **{k: d[k] for k in services.SUMMARY_FIELDS},
            )
        except StaleEdit as exc:
            stale = exc.current
            status = stale_form(form, exc, "summary", shown_below=True)
        else:
            messages.success(request, "Future options summary saved")
            return redirect("futureoptions:school", urn=school.urn)
    return render(
        request,
        "futureoptions/summary_form.html",
        {
            "page_title": f"Edit future options summary: {school.name}",
            "school": school,
            "form": form,
            "errors": error_summary(form),
            "stale": stale,
            "sections": SUMMARY_SECTIONS,
        },
        status=status,
    )


@login_required
def partners(request: HttpRequest, urn: int) -> HttpResponse:
    schools = _scope(request.user)
    school = _school(request.user, urn)
    rows = selectors.future_options(schools)
    target = next(r for r in rows if r.school.pk == school.pk)
    return render(
        request,
        "futureoptions/partners.html",
        {
            "page_title": f"Possible partners for {school.name}",
            "school": school,
            "target": target,
            "suggestions": selectors.partner_suggestions(target, rows),
            "weights": selectors.partner_weights(),
            "near_m": selectors.thresholds().get(("partner_near_m", ""), selectors.NEAR_M),
        },
    )


# --------------------------------------------------------------------------------------------
# Partnership register


@login_required
def partnership_list(request: HttpRequest) -> HttpResponse:
    schools = _scope(request.user)
    partnerships = (
        Partnership.objects.filter(schools__in=schools)
        .distinct()
        .prefetch_related("schools")
        .order_by("name")
    )
    return render(
        request,
        "futureoptions/partnerships.html",
        {
            "page_title": "Partnership register",
            "partnerships": partnerships,
            "can_edit": permissions.can_edit_future_options(request.user),
        },
    )


def _partnership(user: Any, pk: int) -> Partnership:
    schools = _scope(user)
    p = get_object_or_404(Partnership, pk=pk)
    if not p.schools.filter(pk__in=schools.values("pk")).exists():
        raise PermissionDenied("You do not have access to this partnership.")
    return p


@login_required
def partnership_detail(request: HttpRequest, pk: int) -> HttpResponse:
    p = _partnership(request.user, pk)
    visible = _scope(request.user)
    return render(
        request,
        "futureoptions/partnership.html",
        {
            "page_title": p.name,
            "p": p,
            "schools": p.schools.filter(pk__in=visible.values("pk")).order_by("name"),
            "history": p.history.select_related("history_user")[:20],
            "can_edit": permissions.can_edit_future_options(request.user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def partnership_form(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    if not permissions.can_edit_future_options(request.user):
        raise PermissionDenied
    schools = _scope(request.user).order_by("name")
    p = _partnership(request.user, pk) if pk else None
    initial: dict[str, Any] = {}
    if p is not None:
        initial = {
            "name": p.name, "kind": p.kind, "status": p.status, "schools": list(p.schools.values_list("pk", flat=True)),
            "executive_head": p.executive_head, "started_on": p.started_on.isoformat() if p.started_on else "",
            "notes": p.notes, "version": p.version,
        }  # fmt: skip
    else:
        urn = request.GET.get("school")
        number = query_int(urn, hi=2**31 - 1)
        if number is not None:
            initial["schools"] = list(schools.filter(urn=number).values_list("pk", flat=True))
    form = PartnershipForm(request.POST or None, initial=initial, schools=schools)
    status = 200
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        fields = {k: d[k] for k in ("name", "kind", "status", "executive_head", "started_on", "notes")}
        try:
            if p is None:
                p = services.create_partnership(user=request.user, schools=d["schools"], **fields)
            else:
                p = services.update_partnership(
                    p, user=request.user, expected_version=d["version"] or 0, schools=d["schools"], **fields
                )
        except StaleEdit as exc:
            status = stale_form(form, exc, "partnership")
        else:
            messages.success(request, "Partnership saved")
            return redirect("futureoptions:partnership", pk=p.pk)
    chosen = {
        str(v) for v in (request.POST.getlist("schools") if form.is_bound else initial.get("schools", []))
    }
    return render(
        request,
        "futureoptions/partnership_form.html",
        {
            "page_title": "Edit partnership" if p else "Record a partnership",
            "form": form,
            "p": p,
            "errors": error_summary(form),
            "school_choices": [(s.pk, s.name, str(s.pk) in chosen) for s in schools],
        },
        status=status,
    )


# --------------------------------------------------------------------------------------------
# System-leadership register


@login_required
@require_http_methods(["GET", "POST"])
def leaders(request: HttpRequest) -> HttpResponse:
    schools = _scope(request.user).order_by("name")
    can_edit = permissions.can_edit_future_options(request.user)
    form = InterestForm(request.POST or None, schools=schools)
    conflict: list[dict[str, str]] = []
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        if "withdraw" in request.POST:
            entry = get_object_or_404(
                SystemLeaderInterest, pk=request.POST.get("withdraw"), school__in=schools
            )
            try:
                services.withdraw_interest(entry, expected_version=int(request.POST.get("version", "-1")))
            except StaleEdit:  # the register below shows the entry as it now is
                conflict = stale_summary("register entry", shown_below=True)
                form = InterestForm(schools=schools)
            except ValueError:
                messages.error(request, "This entry was changed by someone else. Nothing was withdrawn.")
                return redirect("futureoptions:leaders")
            else:
                messages.success(request, f"{entry.headteacher} withdrawn from the register")
                return redirect("futureoptions:leaders")
        elif form.is_valid():
            d = form.cleaned_data
            services.record_interest(
                user=request.user, school=d["school"], headteacher=d["headteacher"], interests=d["interests"],
                strengths=d["strengths"], available_from=d["available_from"],
            )  # fmt: skip
            messages.success(request, f"{d['headteacher']} added to the register")
            return redirect("futureoptions:leaders")
    entries = (
        SystemLeaderInterest.objects.filter(school__in=schools)
        .select_related("school")
        .order_by("withdrawn", "headteacher")
    )
    return render(
        request,
        "futureoptions/leaders.html",
        {
            "page_title": "Headteachers interested in system leadership",
            "entries": entries,
            "form": form,
            "errors": conflict or error_summary(form),
            "can_edit": can_edit,
        },
        status=STALE_STATUS if conflict else 200,
    )


@login_required
def toolkit(request: HttpRequest) -> HttpResponse:
    _scope(request.user)
    return render(
        request,
        "futureoptions/toolkit.html",
        {"page_title": "Partnership toolkit", "documents": tk.DOCUMENTS, "check": tk.CHECK},
    )


TOOLKIT_FORMATS = {"rtf": ("application/rtf", tk.as_rtf), "txt": ("text/plain; charset=utf-8", tk.as_text)}


@login_required
def toolkit_download(request: HttpRequest, slug: str, fmt: str) -> HttpResponse:
    _scope(request.user)
    doc = tk.BY_SLUG.get(slug)
    if doc is None or fmt not in TOOLKIT_FORMATS:
        raise Http404("No such document")
    content_type, render_doc = TOOLKIT_FORMATS[fmt]
    resp = HttpResponse(render_doc(doc), content_type=content_type)
    resp["Content-Disposition"] = f'attachment; filename="camden-{doc.slug}.{fmt}"'
    return resp
