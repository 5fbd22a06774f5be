"""Commissioner reports, the immediate-notification list, the Building Back Stronger tracker and the
Commission outputs. Thin views: who may do what from beacon.permissions, reads from selectors,
writes from services, documents from documents."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from beacon import permissions
from beacon.accountability import documents, selectors, services
from beacon.accountability.forms import AcknowledgeForm, ActionForm, EvidenceForm, StatusForm, UpdateForm
from beacon.accountability.models import Action, CommissionOutput, ConcernKind, Pledge, Rag
from beacon.accountability.periods import (
    academic_year_of,
    half_terms_of,
    parse_half_term,
    previous_half_term,
    season_of,
)
from beacon.core import exports
from beacon.core.conflicts import stale_form
from beacon.core.documents import attachment
from beacon.core.forms import error_summary
from beacon.core.validation import query_int
from beacon.core.versioning import StaleEdit
from beacon.risk.models import Term

NOTIFICATION_WINDOW_DAYS = 365
ALL_TIME = dt.date(2000, 1, 1)


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


def _download(doc: documents.Document, fmt: str, name: str) -> HttpResponse:
    if fmt == "pdf":
        body = documents.document_pdf(doc)
    elif fmt == "docx":
        body = documents.document_docx(doc)
    else:
        raise Http404
    return attachment(body, fmt, name)


def _table_export(request: HttpRequest, doc: documents.Document, name: str) -> HttpResponse | None:
    """`?format=csv|xlsx&table=N`: the Nth table of the page (the same rows the page and documents show)."""
    fmt = exports.requested_format(request)
    if fmt is None:
        return None
    tables = [s for s in doc.sections if s.table is not None]
    index = query_int(request.GET.get("table") or "0", hi=len(tables) - 1)
    if index is None:
        raise Http404("No such table")
    section = tables[index]
    assert section.table is not None
    return exports.export_response(
        fmt,
        f"{name}-{section.heading}",
        section.table.headers,
        section.table.rows,
        sheet_title=section.heading,
    )


def _current_term() -> Term:
    """Today's term, created if need be: only for a POST that records a termly update."""
    today = dt.date.today()
    return Term.parse(f"{season_of(today)}-{academic_year_of(today)}")


def _term_shown() -> Term:
    """Today's term for a page: the stored one, or an unsaved one to name (reading never writes)."""
    today = dt.date.today()
    season, year = season_of(today), academic_year_of(today)
    return Term.objects.filter(term=season, academic_year=year).first() or Term(
        term=season, academic_year=year
    )


@login_required
def index(request: HttpRequest) -> HttpResponse:
    user = request.user
    _require(permissions.can_see_strategy(user))
    unacknowledged = 0
    if permissions.can_see_commissioner_reports(user):
        today = dt.date.today()
        schools = permissions.visible_schools(user)
        concerns = selectors.significant_concerns(
            schools,
            permissions.significant_intelligence(user, schools),
            today - dt.timedelta(days=NOTIFICATION_WINDOW_DAYS),
            today,
        )
        unacknowledged = sum(1 for c in concerns if not c.acknowledged)
    return render(
        request,
        "accountability/index.html",
        {"page_title": "Accountability", "unacknowledged": unacknowledged,
         "can_report": permissions.can_see_commissioner_reports(user),
         "can_outputs": permissions.can_see_commission_outputs(user)},
    )  # fmt: skip


# --- commissioner reports -----------------------------------------------------------------------


def _half_termly(request: HttpRequest) -> selectors.CommissionerReport:
    _require(permissions.can_see_commissioner_reports(request.user))
    period = parse_half_term(request.GET.get("period"))
    schools = permissions.served_schools(request.user)
    return selectors.half_termly_report(
        schools, permissions.significant_intelligence(request.user, schools), period
    )


@login_required
def half_termly(request: HttpRequest) -> HttpResponse:
    report = _half_termly(request)
    doc = documents.commissioner_document(report)
    export = _table_export(request, doc, f"commissioner-update-{report.period.slug}")
    if export is not None:
        return export
    year = report.period.academic_year
    periods = half_terms_of(year - 1) + half_terms_of(year) + half_terms_of(year + 1)
    return render(
        request,
        "accountability/commissioner_report.html",
        {"page_title": report.title, "report": report, "fmt_view": "accountability:half_termly_document",
         "doc": doc,
         "query": f"period={report.period.slug}",
         "period_items": [{"value": p.slug, "text": str(p), "selected": p.slug == report.period.slug}
                          for p in periods],
         "previous_period": previous_half_term(report.period)},
    )  # fmt: skip


@login_required
def half_termly_document(request: HttpRequest, fmt: str) -> HttpResponse:
    report = _half_termly(request)
    return _download(
        documents.commissioner_document(report), fmt, f"commissioner-update-{report.period.slug}"
    )


def _year(request: HttpRequest) -> int:
    year = query_int(request.GET.get("year"), lo=2000, hi=2100)
    return year if year is not None else academic_year_of(dt.date.today()) - 1


def _annual(request: HttpRequest) -> selectors.CommissionerReport:
    _require(permissions.can_see_commissioner_reports(request.user))
    schools = permissions.served_schools(request.user)
    return selectors.annual_report(
        schools, permissions.significant_intelligence(request.user, schools), _year(request)
    )


@login_required
def annual(request: HttpRequest) -> HttpResponse:
    report = _annual(request)
    doc = documents.commissioner_document(report)
    export = _table_export(request, doc, f"commissioner-annual-{report.period.slug}")
    if export is not None:
        return export
    this_year = academic_year_of(dt.date.today())
    return render(
        request,
        "accountability/commissioner_report.html",
        {"page_title": report.title, "report": report, "fmt_view": "accountability:annual_document",
         "doc": doc,
         "query": f"year={report.period.academic_year}",
         "year_items": [{"value": y, "text": f"{y}/{(y + 1) % 100:02d}",
                         "selected": y == report.period.academic_year} for y in range(this_year, this_year - 6, -1)]},
    )  # fmt: skip


@login_required
def annual_document(request: HttpRequest, fmt: str) -> HttpResponse:
    report = _annual(request)
    return _download(
        documents.commissioner_document(report), fmt, f"commissioner-annual-{report.period.slug}"
    )


# --- immediate notifications ---------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def notifications(request: HttpRequest) -> HttpResponse:
    user = request.user
    _require(permissions.can_see_commissioner_reports(user))
    schools = permissions.visible_schools(user)
    intelligence = permissions.significant_intelligence(user, schools)
    today = dt.date.today()
    form = AcknowledgeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        _require(permissions.can_acknowledge_concerns(user))
        if form.is_valid():
            concern = selectors.find_concern(schools, intelligence, form.cleaned_data["key"], ALL_TIME, today)
            if concern is None:
                raise Http404("No such concern")
            try:
                services.acknowledge(concern, user=user, note=form.cleaned_data["note"])
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                messages.success(request, f"Concern about {concern.school_name} acknowledged.")
            return redirect("accountability:notifications")
    show_all = request.GET.get("show") == "all"
    concerns = selectors.significant_concerns(
        schools, intelligence, today - dt.timedelta(days=NOTIFICATION_WINDOW_DAYS), today
    )
    if not show_all:
        concerns = [c for c in concerns if not c.acknowledged]
    fmt = exports.requested_format(request)
    if fmt is not None:
        return exports.export_response(
            fmt, "significant-concerns", ("Date", "School", "URN", "Concern", "Detail", "Acknowledged by", "Acknowledged at"),
            [(c.on, c.school_name, c.urn, c.kind_label, c.summary, c.acknowledged_by,
              c.acknowledged_at.strftime("%Y-%m-%d %H:%M") if c.acknowledged_at else "") for c in concerns],
            sheet_title="Significant concerns",
        )  # fmt: skip
    return render(
        request,
        "accountability/notifications.html",
        {"page_title": "Significant concerns", "concerns": concerns, "show_all": show_all,
         "can_acknowledge": permissions.can_acknowledge_concerns(user),
         "window": NOTIFICATION_WINDOW_DAYS, "kinds": ConcernKind, "exports": exports.export_links(request)},
    )  # fmt: skip


# --- strategy tracker -----------------------------------------------------------------------------


@login_required
def strategy(request: HttpRequest) -> HttpResponse:
    _require(permissions.can_see_strategy(request.user))
    ambitions = selectors.strategy_tree()
    fmt = exports.requested_format(request)
    if fmt is not None:
        return exports.export_response(
            fmt, "building-back-stronger", selectors.TRACKER_HEADERS, selectors.tracker_rows(ambitions),
            sheet_title="Building Back Stronger",
        )  # fmt: skip
    return render(
        request,
        "accountability/strategy.html",
        {"page_title": "Building Back Stronger tracker", "ambitions": ambitions,
         "exports": exports.export_links(request),
         "can_edit": permissions.can_edit_strategy(request.user), "today": dt.date.today(),
         "complete": Rag.COMPLETE},
    )  # fmt: skip


@login_required
@require_http_methods(["GET", "POST"])
def new_action(request: HttpRequest, pk: int) -> HttpResponse:
    _require(permissions.can_edit_strategy(request.user))
    pledge = get_object_or_404(Pledge.objects.select_related("goal__ambition"), pk=pk)
    form = ActionForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            action = services.add_action(
                pledge, title=d["title"], owner=d["owner"], milestone_on=d["milestone_on"],
                rag=d["rag"], user=request.user,
            )  # fmt: skip
        except ValidationError as exc:
            for field, errs in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errs)
        else:
            messages.success(request, "Action added.")
            return redirect("accountability:action", pk=action.pk)
    return render(
        request,
        "accountability/action_form.html",
        {"page_title": "Add an action", "pledge": pledge, "form": form,
         "errors": error_summary(form) if form.is_bound else []},
        status=400 if form.is_bound else 200,
    )  # fmt: skip


@login_required
@require_http_methods(["GET", "POST"])
def action_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    _require(permissions.can_see_strategy(user))
    action = get_object_or_404(Action.objects.select_related("pledge__goal__ambition"), pk=pk)
    edit_form: ActionForm | None = None
    update_form: UpdateForm | None = None
    stale = False
    status: int | None = None
    if request.method == "POST":
        _require(permissions.can_edit_strategy(user))
        which = request.POST.get("form")
        try:
            if which == "edit":
                edit_form = ActionForm(request.POST)
                if edit_form.is_valid():
                    d = edit_form.cleaned_data
                    services.edit_action(
                        action.pk, expected_version=d["version"] if d["version"] is not None else -1,
                        title=d["title"], owner=d["owner"], milestone_on=d["milestone_on"], rag=d["rag"],
                    )  # fmt: skip
                    messages.success(request, "Action updated.")
                    return redirect("accountability:action", pk=action.pk)
            else:
                update_form = UpdateForm(request.POST)
                if update_form.is_valid():
                    d = update_form.cleaned_data
                    services.record_update(
                        action.pk, term=_current_term(), rag=d["term_rag"], progress=d["progress"], user=user,
                        expected_version=d["version"],
                    )  # fmt: skip
                    messages.success(request, "Termly update recorded.")
                    return redirect("accountability:action", pk=action.pk)
        except StaleEdit as exc:
            stale = True
            form = edit_form or update_form
            assert form is not None
            status = stale_form(form, exc, "action")
        except ValidationError as exc:
            form = edit_form or update_form
            assert form is not None
            for field, errs in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errs)
        action.refresh_from_db()
    if edit_form is None:
        edit_form = ActionForm(
            initial={"title": action.title, "owner": action.owner, "milestone_on": action.milestone_on,
                     "rag": action.rag, "version": action.version}
        )  # fmt: skip
    if update_form is None:
        update_form = UpdateForm(initial={"term_rag": action.rag, "version": action.version})
    bound = [f for f in (edit_form, update_form) if f.is_bound]
    return render(
        request,
        "accountability/action.html",
        {"page_title": action.title, "action": action, "edit_form": edit_form, "update_form": update_form,
         "errors": error_summary(*bound), "stale": stale, "version": action.version,
         "updates": action.updates.select_related("term", "recorded_by"),
         "history": action.history.select_related("history_user").order_by("-history_date")[:20],
         "can_edit": permissions.can_edit_strategy(user), "term": _term_shown()},
        status=status or (400 if bound else 200),
    )  # fmt: skip


def _board(request: HttpRequest) -> selectors.BoardReport:
    _require(permissions.can_see_strategy(request.user))
    slug = request.GET.get("term")
    term = Term.find(slug) if slug else _term_shown()
    if term is None:
        raise Http404("There is no such term.")
    return selectors.board_report(term)


@login_required
def board_report(request: HttpRequest) -> HttpResponse:
    report = _board(request)
    doc = documents.board_document(report)
    export = _table_export(request, doc, f"strategy-board-{report.term.slug}")
    if export is not None:
        return export
    terms = list(Term.objects.order_by("-sort_key")[:9])
    return render(
        request,
        "accountability/board_report.html",
        {"page_title": report.title, "report": report, "doc": doc,
         "term_items": [{"value": t.slug, "text": str(t), "selected": t.pk == report.term.pk} for t in terms]},
    )  # fmt: skip


@login_required
def board_report_document(request: HttpRequest, fmt: str) -> HttpResponse:
    report = _board(request)
    return _download(documents.board_document(report), fmt, f"strategy-board-{report.term.slug}")


# --- Commission outputs ---------------------------------------------------------------------------


@login_required
def outputs(request: HttpRequest) -> HttpResponse:
    _require(permissions.can_see_commission_outputs(request.user))
    areas = selectors.commission_areas()
    fmt = exports.requested_format(request)
    if fmt is not None:
        return exports.export_response(
            fmt,
            "commission-outputs",
            selectors.OUTPUT_HEADERS,
            selectors.output_rows(areas),
            sheet_title="Commission outputs",
        )
    return render(
        request,
        "accountability/outputs.html",
        {"page_title": "Camden Learning Commission outputs", "areas": areas,
         "exports": exports.export_links(request)},
    )  # fmt: skip


@login_required
@require_http_methods(["GET", "POST"])
def output_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    _require(permissions.can_see_commission_outputs(user))
    output = get_object_or_404(CommissionOutput.objects.select_related("area"), pk=pk)
    evidence_form: EvidenceForm | None = None
    status_form: StatusForm | None = None
    status: int | None = None
    if request.method == "POST":
        _require(permissions.can_record_delivery_evidence(user))
        try:
            if request.POST.get("form") == "status":
                status_form = StatusForm(request.POST)
                if status_form.is_valid():
                    services.set_output_status(
                        output.pk, status=status_form.cleaned_data["status"],
                        expected_version=status_form.cleaned_data["version"],
                    )  # fmt: skip
                    messages.success(request, "Delivery status updated.")
                    return redirect("accountability:output", pk=output.pk)
            else:
                evidence_form = EvidenceForm(request.POST)
                if evidence_form.is_valid():
                    d = evidence_form.cleaned_data
                    services.record_evidence(
                        output, text=d["text"], link=d["link"], evidenced_on=d["evidenced_on"], user=user
                    )
                    messages.success(request, "Evidence recorded.")
                    return redirect("accountability:output", pk=output.pk)
        except StaleEdit as exc:
            assert status_form is not None
            status = stale_form(status_form, exc, "output")
        except ValidationError as exc:
            form = evidence_form or status_form
            assert form is not None
            for field, errs in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errs)
        output.refresh_from_db()
    evidence_form = evidence_form or EvidenceForm()
    status_form = status_form or StatusForm(initial={"status": output.status, "version": output.version})
    bound = [f for f in (evidence_form, status_form) if f.is_bound]
    return render(
        request,
        "accountability/output.html",
        {"page_title": f"Area {output.area.number}: output {output.number}", "output": output,
         "evidence": output.evidence.select_related("recorded_by"), "evidence_form": evidence_form,
         "status_form": status_form, "errors": error_summary(*bound), "version": output.version,
         "can_record": permissions.can_record_delivery_evidence(user),
         "back": reverse("accountability:outputs")},
        status=status or (400 if bound else 200),
    )  # fmt: skip
