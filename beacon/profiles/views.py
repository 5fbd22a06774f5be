"""Public school profile pages (no sign-in) and the signed-in narrative workflow.

Thin: schools come from beacon.permissions (public_schools / require_public_school for the public
pages, profile_narrative_schools for the signed-in ones); reads from selectors; writes from services.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from beacon import permissions
from beacon.core.conflicts import stale_form
from beacon.core.forms import error_summary
from beacon.core.pagination import page_links
from beacon.core.versioning import StaleEdit
from beacon.profiles import selectors, services
from beacon.profiles.forms import NarrativeForm, ReviewForm
from beacon.profiles.models import SECTIONS, NarrativeStatus
from beacon.schools.models import School

# ---------------------------------------------------------------------------------------------
# Public pages


def search(request: HttpRequest) -> HttpResponse:
    schools = permissions.public_schools()
    f = selectors.PublicSearch.from_query(request.GET)
    results = selectors.search(schools, f)
    page = Paginator(results, selectors.PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "profiles/search.html",
        {
            "page_title": "Find a school",
            "f": f,
            "searched": f.active or "page" in request.GET,
            "phase_items": [
                {"value": v, "text": t, "checked": v in f.phases} for v, t in selectors.phase_options(schools)
            ],
            "page": page,
            "rows": selectors.result_rows(list(page.object_list)),
            "pagination": page_links(request, page),
        },
    )


def accessibility(request: HttpRequest) -> HttpResponse:
    """The public profile's accessibility statement, with a contact (settings.BEACON_PROFILES_CONTACT_EMAIL;
    default: the council's published families information address)."""
    from django.conf import settings

    return render(
        request,
        "profiles/accessibility.html",
        {
            "page_title": "Accessibility statement",
            "contact_email": getattr(settings, "BEACON_PROFILES_CONTACT_EMAIL", "families@camden.gov.uk"),
        },
    )


def profile(request: HttpRequest, urn: int) -> HttpResponse:
    school = permissions.require_public_school(urn)
    return render(
        request,
        "profiles/profile.html",
        {"page_title": school.name, "school": school, "p": selectors.profile(school)},
    )


def section(request: HttpRequest, urn: int, group: str) -> HttpResponse:
    school = permissions.require_public_school(urn)
    g = selectors.GROUP_BY_SLUG.get(group)
    if g is None:
        raise Http404("No such section.")
    return render(
        request,
        "profiles/section.html",
        {
            "page_title": f"{g.title}: {school.name}",
            "school": school,
            "s": selectors.section(school, g),
            "groups": selectors.GROUPS,
        },
    )


# ---------------------------------------------------------------------------------------------
# Signed in: the narrative workflow


def _narrative_school(request: HttpRequest, urn: int) -> School:
    school = permissions.profile_narrative_schools(request.user).filter(urn=urn).first()
    if school is None:
        raise PermissionDenied("You do not have access to this school's profile.")
    return school


@login_required
def narratives(request: HttpRequest) -> HttpResponse:
    schools = permissions.profile_narrative_schools(request.user)
    can_publish = permissions.can_publish_profile_narratives(request.user)
    if not can_publish and not schools.exists():
        raise PermissionDenied
    rows = selectors.narrative_rows(schools)
    if can_publish:
        rows.sort(key=lambda r: (r.status != NarrativeStatus.SUBMITTED, r.school.name))
    return render(
        request,
        "profiles/narratives.html",
        {"page_title": "School profiles", "rows": rows, "can_publish": can_publish},
    )


@login_required
@require_http_methods(["GET", "POST"])
def edit_narrative(request: HttpRequest, urn: int) -> HttpResponse:
    school = _narrative_school(request, urn)
    if not permissions.can_write_profile_narrative(request.user, school):
        raise PermissionDenied
    narrative = services.narrative_for(school)
    stale = False
    status = 200
    if request.method == "POST":
        form = NarrativeForm(request.POST)
        if form.is_valid():
            try:
                services.save_draft(
                    school,
                    {f: form.cleaned_data.get(f, "") for f, _l, _h in SECTIONS},
                    user=request.user,
                    expected_version=form.cleaned_data["version"],
                    submit=request.POST.get("action") == "submit",
                )
            except StaleEdit as exc:
                stale = True
                narrative = exc.current
                status = stale_form(form, exc, "profile", shown_below=True)
            except ValidationError as exc:
                for name, msgs in exc.message_dict.items():
                    form.add_error(name if name in form.fields else None, msgs)
            else:
                submitted = request.POST.get("action") == "submit"
                messages.success(
                    request,
                    "Your profile has been submitted for review"
                    if submitted
                    else "Your draft has been saved",
                )
                return redirect("profiles:edit", urn=school.urn)
    else:
        form = NarrativeForm(initial={**narrative.draft(), "version": narrative.version})
    return render(
        request,
        "profiles/edit.html",
        {
            "page_title": f"{school.name}: school profile",
            "school": school,
            "narrative": narrative,
            "form": form,
            "sections": SECTIONS,
            "stale": stale,
            "error_list": error_summary(form, id_prefix=""),
            "status_label": NarrativeStatus(narrative.status).label,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def review_narrative(request: HttpRequest, urn: int) -> HttpResponse:
    if not permissions.can_publish_profile_narratives(request.user):
        raise PermissionDenied
    school = _narrative_school(request, urn)
    narrative = services.narrative_for(school)
    stale = False
    status = 200
    form = ReviewForm(initial={"version": narrative.version})
    if request.method == "POST":
        form = ReviewForm(request.POST)
        if form.is_valid():
            action = form.cleaned_data["action"]
            kwargs: dict[str, Any] = {"user": request.user, "expected_version": form.cleaned_data["version"]}
            try:
                if action == "publish":
                    services.publish(school, **kwargs)
                    messages.success(request, f"The profile of {school.name} is now public")
                elif action == "return":
                    services.return_for_changes(school, note=form.cleaned_data["review_note"], **kwargs)
                    messages.success(request, f"The profile of {school.name} was returned to the school")
                else:
                    services.unpublish(school, **kwargs)
                    messages.success(request, f"The profile text of {school.name} is no longer public")
            except StaleEdit as exc:
                stale = True
                narrative = exc.current
                status = stale_form(form, exc, "profile", shown_below=True)
            except ValidationError as exc:
                for name, msgs in exc.message_dict.items():
                    form.add_error(name if name in form.fields else None, msgs)
            else:
                return redirect("profiles:review", urn=school.urn)
    return render(
        request,
        "profiles/review.html",
        {
            "page_title": f"{school.name}: review school profile",
            "school": school,
            "narrative": narrative,
            "sections": SECTIONS,
            "form": form,
            "stale": stale,
            "error_list": error_summary(form, id_prefix=""),
            "status_label": NarrativeStatus(narrative.status).label,
            "history": selectors.narrative_history(narrative),
        },
        status=status,
    )
