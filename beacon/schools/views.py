"""School pages. Thin: scoping comes from beacon.permissions, the pages' content from the presenters
composition (register, figures and judgements) and the register's selectors."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from beacon import permissions
from beacon.core import exports
from beacon.core.pagination import page_links
from beacon.inspections.judgements import JUDGEMENT_CHOICES
from beacon.schools import presenters as pages
from beacon.schools import selectors


def _filter_items(
    options: selectors.FilterOptions, f: pages.SchoolFilters
) -> dict[str, list[dict[str, Any]]]:
    """Items for the GOV.UK checkboxes and selects of the filter form, with the current choices set."""
    return {
        "phase_items": [{"value": v, "text": t, "checked": v in f.phases} for v, t in options.phases],
        "type_items": [{"value": "", "text": "Any type"}]
        + [{"value": t, "text": t, "selected": t in f.types} for t in options.types],
        "la_items": [{"value": "", "text": "Any local authority"}]
        + [{"value": c, "text": n, "selected": c in f.las} for c, n in options.las],
        "ofsted_items": [{"value": v, "text": t, "checked": v in f.judgements} for v, t in JUDGEMENT_CHOICES],
    }


def _export_schools(fmt: str, results: Any) -> HttpResponse:
    rows = [
        [
            r.school.urn,
            r.school.name,
            r.school.get_phase_display(),
            r.school.establishment_type,
            r.school.la_name,
            r.school.postcode,
            "Open" if r.school.is_open else "Closed",
            r.pupils.export_value() if r.pupils is not None else "No data",
            r.pupils.year_label if r.pupils is not None else "",
            r.judgement_label,
            r.judgement_date,
            r.latest_text,
            r.latest_date,
        ]
        for r in pages.list_rows(list(results))
    ]
    headers = ["URN", "School", "Phase", "Type", "Local authority", "Postcode", "Status", "Pupils",
               "Pupils: academic year", "Latest graded Ofsted", "Graded inspection date",
               "Latest inspection (any kind)", "Latest inspection date"]  # fmt: skip
    return exports.export_response(fmt, "schools", headers, rows, sheet_title="Schools")


@login_required
def school_list(request: HttpRequest) -> HttpResponse:
    visible = permissions.visible_schools(request.user)
    filters = pages.SchoolFilters.from_query(request.GET)
    results = pages.search_schools(visible, filters)
    fmt = exports.requested_format(request)
    if fmt:  # every matching school, not just this page: same filters, same scoping
        return _export_schools(fmt, results)
    page = Paginator(results, selectors.PAGE_SIZE).get_page(request.GET.get("page"))
    options = selectors.filter_options(visible)
    return render(
        request,
        "schools/list.html",
        {
            "page_title": "Schools",
            "filters": filters,
            "options": options,
            "form": _filter_items(options, filters),
            "page": page,
            "rows": pages.list_rows(list(page.object_list)),
            "pagination": page_links(request, page),
            "export": exports.export_links(request),
        },
    )


@login_required
def school_detail(request: HttpRequest, urn: int) -> HttpResponse:
    school = permissions.require_school(request.user, urn)
    profile = pages.school_profile(school)
    links = pages.school_links(school, permissions.visible_schools(request.user))
    return render(
        request,
        "schools/detail.html",
        {
            "page_title": school.name,
            "school": school,
            "p": profile,
            "links": links,
            "can_see_data_held": permissions.can_see_data_freshness(request.user),
        },
    )


@login_required
def la_overview(request: HttpRequest) -> HttpResponse:
    if not permissions.can_see_la_overview(request.user):
        raise PermissionDenied
    la_code = getattr(request.user, "la_code", None) or settings.BEACON_LA_CODE
    la_items: list[dict[str, Any]] = []
    if permissions.can_choose_la(request.user):  # national roles: any LA, chosen on the page
        asked = request.GET.get("la", "")
        if asked.isascii() and asked.isdigit():
            la_code = int(asked)
        la_items = [
            {"value": c, "text": n, "selected": c == la_code}
            for c, n in selectors.la_choices(permissions.served_schools(request.user))
        ]
    overview = pages.la_overview(permissions.visible_schools(request.user), la_code)
    return render(
        request,
        "schools/la_overview.html",
        {"page_title": f"{overview.la_name}: local authority overview", "o": overview, "la_items": la_items},
    )
