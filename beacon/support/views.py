"""Caseload, overdue actions, support cases, meetings, report downloads and exit. Thin views: scoping
from beacon.permissions, rules in beacon.support.services."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from beacon import permissions
from beacon.accounts.roles import Role
from beacon.core.conflicts import stale_form
from beacon.core.documents import attachment
from beacon.core.forms import error_summary
from beacon.core.versioning import StaleEdit
from beacon.interventions import context as letter_context
from beacon.interventions.letter_response import letter_response
from beacon.interventions.models import LetterKind, WarningNotice
from beacon.support import documents, services
from beacon.support.dates import academic_year, academic_year_bounds
from beacon.support.forms import ExitForm, MeetingForm, NewCaseForm, PriorityForm, ScheduleForm
from beacon.support.models import (
    BrokeredSupport,
    CaseStatus,
    ReviewMeeting,
    SupportCase,
    Visit,
)


def _case(user: Any, pk: int) -> SupportCase:
    if not permissions.can_see_support(user):
        raise PermissionDenied
    case = get_object_or_404(SupportCase.objects.select_related("school", "chair"), pk=pk)
    if not permissions.support_schools(user).filter(pk=case.school_id).exists():
        raise PermissionDenied("You do not have access to this school.")
    return case


@login_required
def caseload(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not permissions.can_see_support(user):
        raise PermissionDenied
    today = dt.date.today()
    year = academic_year(today)
    schools = permissions.current_support_schools(user).order_by("name")
    if getattr(user, "role", "") != Role.ADVISER:
        schools = schools.filter(
            Q(support_cases__status=CaseStatus.OPEN) | Q(entitlements__academic_year=year)
        ).distinct()
    cases = {c.school_id: c for c in SupportCase.objects.open().filter(school__in=schools)}
    visible = permissions.visible_visits(user)
    rows = []
    for school in schools.distinct():
        ent = services.entitlement_for(school, year)  # universal 1.5 days where nothing is saved
        case = cases.get(school.pk)
        due = services.next_meeting_due(case) if case else None
        rows.append(
            {
                "school": school,
                "level": ent.get_level_display(),
                "entitled": services.entitlement_days(ent).total,
                "used": services.days_used(school.pk, year, visible),
                "case": case,
                "due": due,
                "overdue": bool(due and due.is_overdue(today)),
            }
        )
    is_adviser = getattr(user, "role", "") == Role.ADVISER
    load = services.adviser_load(user, year, visible) if is_adviser else None
    start, end = academic_year_bounds(year)
    visits = visible.filter(school__in=schools, visited_on__range=(start, end)).select_related(
        "school", "adviser"
    )
    if is_adviser:
        visits = visits.filter(adviser_id=user.pk)
    return render(
        request,
        "support/caseload.html",
        {"page_title": "Support caseload", "rows": rows, "year": year, "load": load,
         "can_open": permissions.can_chair_support(user),
         "visits": [(v, services.circulation_summary(v)) for v in visits[:20]],
         "is_adviser": is_adviser, "can_overview": permissions.can_see_capacity_overview(user)},
    )  # fmt: skip


@login_required
def overdue(request: HttpRequest) -> HttpResponse:
    if not permissions.can_see_support(request.user):
        raise PermissionDenied
    today = dt.date.today()
    rows = []
    schools = permissions.current_support_schools(request.user)
    for case in SupportCase.objects.open().filter(school__in=schools).select_related("school"):
        due = services.next_meeting_due(case)
        alert = services.eighteen_month_alert(case, today)
        if (due and due.is_overdue(today)) or alert:
            rows.append(
                {"case": case, "due": due, "overdue": bool(due and due.is_overdue(today)), "alert": alert}
            )
    return render(request, "support/overdue.html", {"page_title": "Overdue support actions", "rows": rows})


@login_required
@require_http_methods(["GET", "POST"])
def new_case(request: HttpRequest, urn: int) -> HttpResponse:
    if not permissions.can_chair_support(request.user):
        raise PermissionDenied
    school = permissions.support_schools(request.user).filter(urn=urn).first()
    if school is None:
        raise PermissionDenied("You do not have access to this school.")
    form = NewCaseForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            case = services.open_case(school=school, chair=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Support case opened.")
            return redirect("support:case", pk=case.pk)
    return render(
        request,
        "support/new_case.html",
        {"page_title": f"Open a support case: {school.name}", "school": school, "form": form,
         "errors": error_summary(form) if form.is_bound else []},
        status=400 if form.is_bound else 200,
    )  # fmt: skip


@login_required
@require_http_methods(["GET", "POST"])
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case(request.user, pk)
    can_edit = permissions.can_manage_support_case(request.user, case)
    form = PriorityForm(request.POST if request.method == "POST" else None, case=case)
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        if form.is_valid():
            try:
                form.save()
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, "Priority added.")
                return redirect("support:case", pk=case.pk)
    return _case_page(request, case, form, can_edit=can_edit)


def _case_page(
    request: HttpRequest,
    case: SupportCase,
    form: PriorityForm,
    *,
    can_edit: bool,
    schedule_form: ScheduleForm | None = None,
    status: int | None = None,
) -> HttpResponse:
    today = dt.date.today()
    due = services.next_meeting_due(case)
    return render(
        request,
        "support/case.html",
        {
            "page_title": f"{case.get_level_display()} support: {case.school.name}",
            "case": case,
            "priorities": list(case.priorities.all()),
            "meetings": list(case.meetings.all()),
            "due": due,
            "overdue": bool(due and due.is_overdue(today)),
            "alert": services.eighteen_month_alert(case, today),
            "form": form,
            "errors": (error_summary(form) if form.is_bound else [])
            + (error_summary(schedule_form) if schedule_form else []),
            "can_edit": can_edit,
            "letters": [(k, LetterKind(k).label) for k in CASE_LETTERS],
            "can_exit": can_edit and case.status == CaseStatus.OPEN and case.chair_id == request.user.pk,
            "visits": [
                (v, services.circulation_summary(v))
                for v in Visit.objects.filter(
                    Q(case=case) | Q(school=case.school, visited_on__gte=case.started_on)
                )
                .select_related("adviser")
                .distinct()
            ],
            "brokered": list(
                BrokeredSupport.objects.filter(
                    Q(case=case)
                    | Q(
                        entitlement__school=case.school,
                        entitlement__academic_year__gte=academic_year(case.started_on),
                    )
                )
                .select_related("entitlement")
                .distinct()
            ),
            "notices": list(WarningNotice.objects.filter(Q(case=case) | Q(school=case.school)).distinct()),
            "can_visit": permissions.can_record_visit(request.user, case.school),
            "can_broker": permissions.can_manage_brokered_support(request.user, case.school),
            "can_notice": permissions.can_manage_warning_notices(request.user),
            "year": academic_year(today),
            "schedule_form": schedule_form
            or ScheduleForm(initial={"version": case.version, "next_meeting_on": case.next_meeting_on or ""}),
        },
        status=status or (400 if form.is_bound else 200),
    )


@login_required
@require_http_methods(["GET", "POST"])
def record_meeting(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case(request.user, pk)
    if not permissions.can_manage_support_case(request.user, case):
        raise PermissionDenied
    form = MeetingForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.record_meeting(case, recorded_by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Meeting recorded.")
            return redirect("support:case", pk=case.pk)
    return render(
        request,
        "support/meeting_form.html",
        {"page_title": f"Record a meeting: {case.school.name}", "case": case, "form": form,
         "errors": error_summary(form) if form.is_bound else []},
        status=400 if form.is_bound else 200,
    )  # fmt: skip


@login_required
@require_http_methods(["POST"])
def schedule_meeting(request: HttpRequest, pk: int) -> HttpResponse:
    """Schedule the next review meeting on a date (the case page's form)."""
    case = _case(request.user, pk)
    if not permissions.can_manage_support_case(request.user, case):
        raise PermissionDenied
    form = ScheduleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Enter the date of the next review meeting.")
        return redirect(reverse("support:case", args=[case.pk]) + "#schedule")
    try:
        services.schedule_meeting(
            case, form.cleaned_data["version"], on=form.cleaned_data["next_meeting_on"],
            today=timezone.localdate(),
        )  # fmt: skip
    except StaleEdit as exc:  # the case page again, with the date the user chose and what is now scheduled
        status = stale_form(form, exc, "case", shown_below=True)
        case = _case(request.user, pk)
        return _case_page(
            request, case, PriorityForm(None, case=case), can_edit=True, schedule_form=form, status=status
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Next review meeting scheduled.")
    return redirect(reverse("support:case", args=[case.pk]) + "#schedule")


@login_required
def meeting_report(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    if fmt not in ("docx", "pdf"):
        raise Http404
    meeting = get_object_or_404(ReviewMeeting, pk=pk)
    _case(request.user, meeting.case_id)
    report = documents.build_report(meeting)
    name = f"support-meeting-{meeting.case.school.urn}-{meeting.held_on.isoformat()}"
    body = documents.report_docx(report) if fmt == "docx" else documents.report_pdf(report)
    return attachment(body, fmt, name)


@login_required
@require_http_methods(["GET", "POST"])
def agree_exit(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case(request.user, pk)
    if not permissions.can_manage_support_case(request.user, case):
        raise PermissionDenied
    form = ExitForm(request.POST if request.method == "POST" else None, initial={"version": case.version})
    status = 400 if form.is_bound else 200
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.agree_exit(
                case, by=request.user, agreed_on=d["agreed_on"], expected_version=d["version"],
                head="head" in d["agreed_with"], chair_of_governors="chair_of_governors" in d["agreed_with"],
                cpp="cpp" in d["agreed_with"],
                recategorise_to=d["recategorise_to"], reduction_plan=d["reduction_plan"],
            )  # fmt: skip
        except StaleEdit as exc:
            status = stale_form(form, exc, "case")
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Exit agreed and the school re-categorised.")
            return redirect(reverse("support:case", args=[case.pk]))
    return render(
        request,
        "support/exit_form.html",
        {"page_title": f"Agree exit: {case.school.name}", "case": case, "form": form,
         "errors": error_summary(form) if form.is_bound else []},
        status=status,
    )  # fmt: skip


CASE_LETTERS = (
    LetterKind.INITIAL_MEETING,
    LetterKind.CATEGORISATION,
    LetterKind.MEETING_SUMMARY,
    LetterKind.CONGRATULATIONS,
    LetterKind.SIGNIFICANT_CONCERNS,
)


@login_required
def case_letter(request: HttpRequest, pk: int, kind: str, fmt: str) -> HttpResponse:
    """A letter about this case from its editable template: the initial-meeting letter names the initial
    meeting; the meeting summary is of the latest meeting (each meeting also has its own link)."""
    if fmt not in ("docx", "pdf") or kind not in CASE_LETTERS:
        raise Http404
    case = _case(request.user, pk)
    return letter_response(
        request,
        kind,
        lambda: letter_context.case_context(case, kind, today=timezone.localdate()),
        fmt,
        f"{kind}-{case.school.urn}",
    )


@login_required
def meeting_letter(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    """The summary letter of one review meeting."""
    meeting = get_object_or_404(ReviewMeeting.objects.select_related("case"), pk=pk)
    _case(request.user, meeting.case_id)
    return letter_response(
        request,
        LetterKind.MEETING_SUMMARY,
        lambda: letter_context.meeting_context(meeting, today=timezone.localdate()),
        fmt,
        f"meeting-summary-{meeting.case.school.urn}-{meeting.held_on.isoformat()}",
    )
