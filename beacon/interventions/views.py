"""Warning notices (list, prepare from a support case, issue, response and outcome, letter) and letter
template editing. Thin views: scoping from beacon.permissions, rules in services, optimistic locking."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from beacon import permissions
from beacon.core.conflicts import stale_form
from beacon.core.forms import error_summary
from beacon.core.versioning import StaleEdit
from beacon.interventions import context, letters, services
from beacon.interventions.forms import (
    IssueForm,
    NewNoticeForm,
    ResponseForm,
    SchoolLetterForm,
    TemplateForm,
)
from beacon.interventions.letter_response import letter_response
from beacon.interventions.models import LetterKind, LetterTemplate, WarningNotice
from beacon.support.models import SupportCase
from beacon.support.services import eighteen_month_alert


def _notice(user: object, pk: int) -> WarningNotice:
    if not permissions.can_manage_warning_notices(user):
        raise PermissionDenied
    n = get_object_or_404(WarningNotice.objects.select_related("school", "case"), pk=pk)
    if not permissions.visible_schools(user).filter(pk=n.school_id).exists():
        raise PermissionDenied("You do not have access to this school.")
    return n


@login_required
def notice_list(request: HttpRequest) -> HttpResponse:
    if not permissions.can_manage_warning_notices(request.user):
        raise PermissionDenied
    notices = WarningNotice.objects.filter(
        school__in=permissions.visible_schools(request.user)
    ).select_related("school")
    return render(
        request,
        "interventions/list.html",
        {
            "page_title": "Warning notices",
            "rows": [(n, services.pay_conditions_deadline(n)) for n in notices],
            "can_edit_letters": permissions.can_edit_letter_templates(request.user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def new_notice(request: HttpRequest, case_pk: int) -> HttpResponse:
    user = request.user
    if not permissions.can_manage_warning_notices(user):
        raise PermissionDenied
    case = get_object_or_404(SupportCase.objects.select_related("school"), pk=case_pk)
    if not permissions.support_schools(user).filter(pk=case.school_id).exists():
        raise PermissionDenied("You do not have access to this school.")
    alert = eighteen_month_alert(case, dt.date.today())
    form = NewNoticeForm(
        request.POST if request.method == "POST" else None,
        initial={"kind": "pre_warning" if alert else "formal", "ground": "standards"},
    )
    if request.method == "POST" and form.is_valid():
        try:
            n = services.create_notice(school=case.school, case=case, created_by=user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Notice issued." if n.issued_on else "Notice saved as a draft.")
            return redirect("interventions:notice", pk=n.pk)
    return render(
        request,
        "interventions/new_notice.html",
        {"page_title": f"Prepare a warning notice: {case.school.name}", "case": case, "alert": alert,
         "religious": services.has_religious_character(case.school), "form": form,
         "errors": error_summary(form) if form.is_bound else []},
        status=400 if form.is_bound else 200,
    )  # fmt: skip


def _notice_page(request: HttpRequest, n: WarningNotice, form: Any, status: int = 200) -> HttpResponse:
    return render(
        request,
        "interventions/notice.html",
        {
            "page_title": f"{n.get_kind_display()}: {n.school.name}",
            "notice": n,
            "tpc_deadline": services.pay_conditions_deadline(n),
            "religious": services.has_religious_character(n.school),
            "needs_diocese": services.has_religious_character(n.school) and n.diocese_informed_on is None,
            "form": form,
            "errors": error_summary(form) if form.is_bound else [],
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def notice(request: HttpRequest, pk: int) -> HttpResponse:
    n = _notice(request.user, pk)
    data = request.POST if request.method == "POST" else None
    form = IssueForm(data, initial={"version": n.version})
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            d = form.cleaned_data
            try:
                services.issue_notice(
                    n, issued_on=d["issued_on"], compliance_ends_on=d["compliance_ends_on"],
                    expected_version=d["version"], diocese_informed_on=d["diocese_informed_on"],
                )  # fmt: skip
            except StaleEdit as exc:
                status = stale_form(form, exc, "notice")
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, "Notice issued.")
                return redirect("interventions:notice", pk=n.pk)
        n.refresh_from_db()
    return _notice_page(request, n, form, status)


@login_required
@require_http_methods(["GET", "POST"])
def notice_response(request: HttpRequest, pk: int) -> HttpResponse:
    n = _notice(request.user, pk)
    if n.issued_on is None:
        raise PermissionDenied("The notice has not been issued.")
    initial = {
        "version": n.version, "response": n.response, "response_received_on": n.response_received_on or "",
        "outcome": n.outcome, "outcome_recorded_on": n.outcome_recorded_on or "",
    }  # fmt: skip
    form = ResponseForm(request.POST if request.method == "POST" else None, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            d = form.cleaned_data
            try:
                services.record_response(
                    n, response=d["response"], received_on=d["response_received_on"], outcome=d["outcome"],
                    expected_version=d["version"], decided_on=d["outcome_recorded_on"],
                    today=timezone.localdate(),
                )  # fmt: skip
            except StaleEdit as exc:
                status = stale_form(form, exc, "notice")
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, "Response and outcome recorded.")
                return redirect("interventions:notice", pk=n.pk)
    return render(
        request,
        "interventions/response.html",
        {"page_title": f"Response and outcome: {n.school.name}", "notice": n, "form": form,
         "errors": error_summary(form) if form.is_bound else []},
        status=status,
    )  # fmt: skip


@login_required
def notice_letter(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    n = _notice(request.user, pk)
    return letter_response(
        request,
        LetterKind.WARNING_NOTICE,
        lambda: context.notice_context(n, today=timezone.localdate(), signatory=request.user),
        fmt,
        f"warning-notice-{n.school.urn}",
    )


SCHOOL_LETTERS = (LetterKind.CATEGORISATION, LetterKind.CONGRATULATIONS, LetterKind.SIGNIFICANT_CONCERNS)


@login_required
def school_letters(request: HttpRequest) -> HttpResponse:
    """Choose a school and a letter without a support case; a valid choice goes to its download."""
    if not permissions.can_manage_warning_notices(request.user):
        raise PermissionDenied
    schools = permissions.visible_schools(request.user).filter(is_open=True).order_by("name")
    form = SchoolLetterForm(
        request.GET if request.GET else None,
        schools=[(s.urn, s.name) for s in schools.only("urn", "name")],
        kinds=[(k, LetterKind(k).label) for k in SCHOOL_LETTERS],
        initial={"fmt": "docx"},
    )
    if form.is_bound and form.is_valid():
        d = form.cleaned_data
        return redirect("interventions:school_letter", urn=d["urn"], kind=d["kind"], fmt=d["fmt"])
    return render(
        request,
        "interventions/school_letters.html",
        {
            "page_title": "Letters to a school",
            "form": form,
            "errors": error_summary(form) if form.is_bound else [],
        },
        status=400 if form.is_bound else 200,
    )


@login_required
def school_letter(request: HttpRequest, urn: int, kind: str, fmt: str) -> HttpResponse:
    """Letters about a school without a support case: the categorisation letter after the SRAS meeting and
    Cambridgeshire Appendix 5's congratulations and significant concerns letters (leadership roles)."""
    if kind not in SCHOOL_LETTERS:
        raise Http404
    if not permissions.can_manage_warning_notices(request.user):
        raise PermissionDenied
    school = permissions.require_school(request.user, urn)
    return letter_response(
        request,
        kind,
        lambda: context.school_context(school, kind, today=timezone.localdate(), signatory=request.user),
        fmt,
        f"{kind}-{school.urn}",
    )


# --- letter templates -----------------------------------------------------------------------------------


def _require_letter_editor(user: Any) -> None:
    if not permissions.can_edit_letter_templates(user):
        raise PermissionDenied


@login_required
def template_list(request: HttpRequest) -> HttpResponse:
    _require_letter_editor(request.user)
    templates = [letters.template_for(kind) for kind in LetterKind.values]
    return render(
        request,
        "interventions/templates.html",
        {"page_title": "Letter templates", "templates": templates},
    )


@login_required
@require_http_methods(["GET", "POST"])
def template_edit(request: HttpRequest, kind: str) -> HttpResponse:
    _require_letter_editor(request.user)
    if kind not in LetterKind.values:
        raise Http404
    tpl = letters.template_for(kind)
    form = TemplateForm(
        request.POST if request.method == "POST" else None,
        initial={"version": tpl.version, "subject": tpl.subject, "body": tpl.body},
    )
    preview: letters.Letter | None = None
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            d = form.cleaned_data
            subject, body = d["subject"], d["body"].replace("\r\n", "\n")
            try:
                if request.POST.get("action") == "preview":
                    preview = letters.render_letter(
                        LetterTemplate(kind=kind, subject=subject, body=body),
                        {k: letters.SAMPLE_CONTEXT[k] for k in letters.KIND_PLACEHOLDERS[kind]},
                    )
                    status = 200
                else:
                    if tpl.pk is None:  # the default, first saved now (version 0, as the form was opened)
                        tpl = letters.saved_template_for(kind)
                    services.update_template(
                        tpl, d["version"], subject=subject, body=body, today=timezone.localdate()
                    )
                    messages.success(
                        request, "Letter template saved. The previous version is kept in its history."
                    )
                    return redirect("interventions:template", kind=kind)
            except StaleEdit as exc:
                status = stale_form(form, exc, "letter template")
            except ValidationError as exc:
                form.add_error("body", exc)
    history = (
        list(tpl.history.select_related("history_user").order_by("-history_date")[:20]) if tpl.pk else []
    )
    return render(
        request,
        "interventions/template_edit.html",
        {"page_title": f"Edit letter template: {tpl.get_kind_display()}", "tpl": tpl, "form": form,
         "preview": preview, "history": history, "placeholders": letters.KIND_PLACEHOLDERS[kind],
         "errors": error_summary(form) if form.is_bound else []},
        status=status,
    )  # fmt: skip
