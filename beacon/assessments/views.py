"""Risk register, school assessment, decisions, judgements, intelligence and the SRAS meeting pack.

Thin views: who may do what comes from beacon.permissions; reads from selectors; writes from
services."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from beacon import permissions
from beacon.assessments import engine, selectors, services
from beacon.assessments.forms import DecisionForm, IntelligenceForm, JudgementForm, MeetingForm, WithdrawForm
from beacon.assessments.models import (
    Intelligence,
    JudgementRecord,
    Rag,
    SRASMeeting,
    SupportLevel,
    TermlyAssessment,
)
from beacon.core import exports
from beacon.core.conflicts import stale_form
from beacon.core.documents import attachment
from beacon.core.pagination import page_links
from beacon.core.validation import query_id, query_int
from beacon.core.versioning import StaleEdit
from beacon.earlywarning import selectors as earlywarning
from beacon.interventions.eligibility import eligibility_flags, is_eligible_for_intervention
from beacon.risk.models import Season, Term
from beacon.schools.models import Phase, School
from beacon.schools.selectors import la_choices


def _register_school(user: Any, urn: int) -> School:
    """A school whose full assessment the user may read (advisers: caseload only)."""
    if not permissions.can_see_risk_register(user):
        raise PermissionDenied
    school = permissions.risk_register_schools(user).filter(urn=urn).first()
    if school is None:
        raise PermissionDenied("You do not have access to this school.")
    return school


def _user(request: HttpRequest) -> Any:
    return request.user


def _term(request: HttpRequest) -> Term:
    return selectors.current_term(request.GET.get("term") or request.POST.get("term"))


def _error_list(*forms: Any) -> list[dict[str, str]]:
    items = []
    for form in forms:
        if form is None:
            continue
        prefix = f"{form.prefix}-" if form.prefix else ""
        for name, errs in form.errors.items():
            anchor = f"#id_{prefix}{name}" if name != "__all__" else "#main-content"
            items.append({"text": " ".join(errs), "href": anchor})
    return items


def _export_register(fmt: str, term: Term, rows: list[Any]) -> HttpResponse:
    headers = ["URN", "School", "Phase", "Risk score", "Proposed RAG", "Proposed level", "Decided RAG",
               "Decided level", "Direction of travel", "Last term RAG", "Advisers"]  # fmt: skip
    out = []
    for r in rows:
        a = r.assessment
        out.append(
            [
                r.school.urn,
                r.school.name,
                r.school.get_phase_display(),
                round(r.risk_score, 1) if r.risk_score is not None else "Not evaluated",
                a.get_proposed_rag_display() if a and a.proposed_rag else "",
                a.get_proposed_level_display() if a and a.proposed_level else "",
                a.get_decided_rag_display() if a and a.decided_rag else "Not decided",
                a.get_decided_level_display() if a and a.decided_level else "",
                selectors.DIRECTION_LABELS.get(r.direction, r.direction),
                r.previous_rag.capitalize() if r.previous_rag else "",
                ", ".join(r.advisers),
            ]
        )
    return exports.export_response(
        fmt, f"risk-register-{term.slug}", headers, out, sheet_title="Risk register"
    )


@login_required
def register(request: HttpRequest) -> HttpResponse:
    if not permissions.can_see_risk_register(request.user):
        raise PermissionDenied
    try:
        term = _term(request)
    except Http404:
        if request.GET.get("term"):
            raise
        return render(  # no term has been created yet: say so, with the form to create one
            request,
            "assessments/no_term.html",
            {"page_title": "Risk register", "can_create_term": permissions.can_decide_assessment(request.user),
             "season_items": _season_items(), "errors": []},
        )  # fmt: skip
    schools = permissions.current_risk_register_schools(request.user)
    # Reading never writes (decision 0018): the proposals shown are the stored ones, refreshed when their
    # inputs change (term created or evaluated, import, judgement, rulebook).
    phases = set(schools.order_by().values_list("phase", flat=True).distinct())
    filters = selectors.RegisterFilters.from_query(request.GET)
    fmt = exports.requested_format(request)
    if fmt:  # every row, not just this page: same term, filters and scoping
        return _export_register(fmt, term, selectors.register_rows(schools, term, filters))
    page = selectors.register_page(schools, term, filters, request.GET.get("page"))
    return render(
        request,
        "assessments/register.html",
        {
            "page_title": f"Risk register: {term}",
            "term": term,
            "pack_by_la": permissions.can_choose_la(request.user),
            "terms": list(Term.objects.order_by("-sort_key")),
            "rows": page.rows,
            "count": page.page.paginator.count,
            "pagination": page_links(request, page.page),
            "filters": filters,
            "rag_items": [{"value": v, "text": t, "checked": v in filters.rags} for v, t in Rag.choices],
            "level_items": [
                {"value": v, "text": t, "checked": v in filters.levels} for v, t in SupportLevel.choices
            ],
            "phase_items": [
                {"value": v, "text": t, "checked": v in filters.phases}
                for v, t in Phase.choices
                if v in phases
            ],
            "adviser_items": [{"value": "", "text": "Any adviser"}]
            + [
                {"value": v, "text": t, "selected": v == filters.adviser}
                for v, t in selectors.adviser_choices(schools)
            ],
            "directions": selectors.DIRECTION_LABELS,
            "can_pack": True,
            "can_create_term": permissions.can_decide_assessment(request.user),
            "season_items": _season_items(),
            "export": exports.export_links(request),
        },
    )


def _season_items() -> list[dict[str, str]]:
    return [{"value": v, "text": t} for v, t in Season.choices]


@login_required
@require_POST
def create_term(request: HttpRequest) -> HttpResponse:
    """Staff who decide assessments create a term: it is evaluated and its proposals stored at once."""
    if not permissions.can_decide_assessment(request.user):
        raise PermissionDenied
    season = request.POST.get("season", "")
    year_text = request.POST.get("academic_year", "").strip()
    errors = []
    if season not in Season.values:
        errors.append({"text": "Select the term", "href": "#season"})
    if not (year_text.isascii() and year_text.isdigit() and 2000 <= int(year_text) <= 2100):
        errors.append(
            {"text": "Enter the year the academic year starts, for example 2025", "href": "#academic_year"}
        )
    if errors:
        return render(
            request,
            "assessments/no_term.html",
            {"page_title": "Create a term", "can_create_term": True, "season_items": _season_items(),
             "errors": errors, "season": season, "academic_year": year_text},
            status=400,
        )  # fmt: skip
    term = services.create_term(season, int(year_text))
    messages.success(request, f"{term} is ready: its criteria are evaluated and proposals made.")
    return redirect(f"{reverse('assessments:register')}?term={term.slug}")


def _assessment_context(
    request: HttpRequest,
    school: School,
    term: Term,
    *,
    decision_form: DecisionForm | None = None,
    judgement_form: JudgementForm | None = None,
    stale: TermlyAssessment | None = None,
) -> dict[str, Any]:
    user = request.user
    book = engine.active_rulebook()
    # Read only: the stored assessment, or an unsaved blank one when the term has no proposal for the school.
    assessment = TermlyAssessment.objects.filter(school=school, term=term).first() or TermlyAssessment(
        school=school, term=term
    )
    if decision_form is None:
        initial = {
            "decided_rag": assessment.decided_rag or assessment.proposed_rag,
            "decided_level": assessment.decided_level or assessment.proposed_level,
            "school_requested_focused": assessment.school_requested_focused,
            "meeting": assessment.meeting_id,
            "version": assessment.version,
        }
        decision_form = DecisionForm(initial=initial, term=term)
    results = selectors.with_captions(engine.results_for_school(school, term, book))
    flags = eligibility_flags(school)
    prev = selectors.previous_assessment(school, term)
    return {
        "page_title": f"{school.name}: risk assessment",
        "school": school,
        "term": term,
        "terms": list(Term.objects.order_by("-sort_key")),
        "assessment": assessment,
        "can_withdraw_all": permissions.can_decide_assessment(user),
        "decision_history": _decision_history(assessment),
        "results": results,
        "judgements": list(
            JudgementRecord.objects.filter(school=school, term=term).select_related(
                "criterion", "recorded_by"
            )
        ),
        "intelligence": list(
            permissions.visible_intelligence(user, school).select_related("recorded_by", "withdrawn_by")
        ),
        "flags": flags,
        "eligible": is_eligible_for_intervention(flags),
        "previous": prev,
        "direction": selectors.direction(assessment.rag, prev.decided_rag if prev else None),
        "directions": selectors.DIRECTION_LABELS,
        "diff": selectors.term_diff(school, term),
        "decision_form": decision_form,
        "judgement_form": judgement_form or JudgementForm(prefix="j", school=school),
        "can_decide": permissions.can_decide_assessment(user),
        "can_judge": permissions.can_record_judgement(user, school),
        "can_add_intelligence": permissions.can_record_intelligence(user, school),
        "stale": stale,
        "early_warning": earlywarning.latest_scores([school.pk], term.start_date).get(school.pk),
        "errors": _error_list(decision_form if decision_form.is_bound else None, judgement_form),
    }


def _decision_history(assessment: TermlyAssessment) -> list[Any]:
    """One row per decision made (history rows where the decision itself changed), newest first."""
    if assessment.pk is None:
        return []
    rows = list(assessment.history.exclude(decided_at__isnull=True).order_by("history_date", "history_id"))
    out: list[Any] = []
    last_key = None
    for h in rows:
        key = (h.decided_at, h.decided_rag, h.decided_level, h.rationale)
        if key != last_key:
            out.append(h)
            last_key = key
    return list(reversed(out))


@login_required
def school_assessment(request: HttpRequest, urn: int) -> HttpResponse:
    user = request.user
    if not permissions.can_see_risk_register(user):
        school = permissions.require_school(user, urn)
        if not permissions.can_see_own_school_category(user, school):
            raise PermissionDenied
        decided = (
            TermlyAssessment.objects.filter(school=school)
            .exclude(decided_at__isnull=True)
            .select_related("term")
            .order_by("-term__sort_key")
            .first()
        )
        return render(
            request,
            "assessments/own_school.html",
            {
                "page_title": f"{school.name}: support category",
                "school": school,
                "decided": decided,
                "intelligence": list(permissions.visible_intelligence(user, school)),
            },
        )
    school = _register_school(user, urn)
    term = _term(request)
    return render(request, "assessments/school.html", _assessment_context(request, school, term))


@login_required
@require_POST
def decide(request: HttpRequest, urn: int) -> HttpResponse:
    school = _register_school(request.user, urn)
    if not permissions.can_decide_assessment(request.user):
        raise PermissionDenied
    term = _term(request)
    assessment = TermlyAssessment.objects.filter(school=school, term=term).first()
    created_now = assessment is None
    if assessment is None:  # the form was opened on a blank assessment (version 0)
        assessment = services.refresh_proposal(school, term)
    form = DecisionForm(request.POST, term=term)
    if form.is_valid():
        d = form.cleaned_data
        if created_now and d["version"] == 0:
            d["version"] = assessment.version
        try:
            services.decide(
                assessment.pk,
                services.Decision(
                    rag=d["decided_rag"],
                    level=d["decided_level"],
                    rationale=d["rationale"],
                    school_requested_focused=d["school_requested_focused"],
                    meeting=d["meeting"],
                ),
                user=request.user,
                expected_version=d["version"],
            )
        except StaleEdit as exc:  # someone else decided, or the proposal was refreshed
            status = stale_form(form, exc, "assessment", shown_below=True)
            ctx = _assessment_context(request, school, term, decision_form=form, stale=exc.current)
            return render(request, "assessments/school.html", ctx, status=status)
        except ValidationError as exc:
            for field, msgs in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, msgs)
        else:
            messages.success(request, f"Decision recorded for {school.name}.")
            return redirect(f"{reverse('assessments:school', args=[urn])}?term={term.slug}")
    ctx = _assessment_context(request, school, term, decision_form=form)
    return render(request, "assessments/school.html", ctx, status=400)


@login_required
@require_POST
def record_judgement(request: HttpRequest, urn: int) -> HttpResponse:
    school = _register_school(request.user, urn)
    if not permissions.can_record_judgement(request.user, school):
        raise PermissionDenied
    term = _term(request)
    form = JudgementForm(request.POST, prefix="j", school=school)
    if form.is_valid():
        d = form.cleaned_data
        services.record_judgement(
            school=school,
            term=term,
            criterion=d["criterion"],
            applies=d["applies"],
            reason=d["reason"],
            source=d["source"],
            user=request.user,
        )
        messages.success(request, f"Judgement recorded: {d['criterion'].ref}.")
        return redirect(f"{reverse('assessments:school', args=[urn])}?term={term.slug}#judgements")
    ctx = _assessment_context(request, school, term, judgement_form=form)
    return render(request, "assessments/school.html", ctx, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def add_intelligence(request: HttpRequest, urn: int) -> HttpResponse:
    school = _register_school(request.user, urn)
    if not permissions.can_record_intelligence(request.user, school):
        raise PermissionDenied
    form = IntelligenceForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        Intelligence.objects.create(school=school, recorded_by=_user(request), **d)
        messages.success(request, "Intelligence recorded.")
        return redirect(f"{reverse('assessments:school', args=[urn])}#intelligence")
    return render(
        request,
        "assessments/intelligence_form.html",
        {
            "page_title": f"Record intelligence: {school.name}",
            "school": school,
            "form": form,
            "errors": _error_list(form) if form.is_bound else [],
        },
        status=400 if form.is_bound else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def withdraw_intelligence(request: HttpRequest, pk: int) -> HttpResponse:
    note = get_object_or_404(Intelligence, pk=pk)
    if not permissions.can_withdraw_intelligence(request.user, note):
        raise PermissionDenied
    form = WithdrawForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.withdraw_intelligence(
                note, user=request.user, reason=form.cleaned_data["withdrawn_reason"]
            )
        except ValidationError as exc:
            form.add_error("withdrawn_reason", exc.message_dict.get("withdrawn_reason", exc.messages))
        else:
            messages.success(request, "The note has been withdrawn. It is kept in the record.")
            return redirect(f"{reverse('assessments:school', args=[note.school.urn])}#intelligence")
    return render(
        request,
        "assessments/withdraw.html",
        {
            "page_title": "Withdraw a note",
            "note": note,
            "form": form,
            "errors": _error_list(form) if form.is_bound else [],
        },
        status=400 if form.is_bound else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def meetings(request: HttpRequest) -> HttpResponse:
    if not permissions.can_see_risk_register(request.user):
        raise PermissionDenied
    term = _term(request)
    can_add = permissions.can_decide_assessment(request.user)
    form = MeetingForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if not can_add:
            raise PermissionDenied
        if form.is_valid():
            SRASMeeting.objects.create(term=term, **form.cleaned_data)
            messages.success(request, "SRAS meeting added.")
            return redirect(f"{reverse('assessments:meetings')}?term={term.slug}")
    return render(
        request,
        "assessments/meetings.html",
        {
            "page_title": f"SRAS meetings: {term}",
            "term": term,
            "meetings": list(SRASMeeting.objects.filter(term=term)),
            "form": form,
            "can_add": can_add,
            "errors": _error_list(form) if form.is_bound else [],
        },
        status=400 if form.is_bound else 200,
    )


@login_required
def meeting_pack_pdf(request: HttpRequest) -> HttpResponse:
    if not permissions.can_see_risk_register(request.user):
        raise PermissionDenied
    from beacon.assessments.pdf import render_meeting_pack

    term = _term(request)
    meeting = None
    if request.GET.get("meeting"):
        meeting = get_object_or_404(SRASMeeting, pk=query_id(request.GET["meeting"]))
        term = meeting.term
    user = request.user
    scope = permissions.current_risk_register_schools(user)
    filename = f"sras-meeting-pack-{term.slug}"
    if permissions.can_choose_la(user):
        # A meeting pack is one LA's: a user who sees several LAs (a national user) chooses one. England's
        # red and amber schools, a page each, are not a meeting's pack (and would tie up the server for
        # minutes).
        choices = la_choices(scope)
        if len(choices) > 1:
            la = query_int(request.GET.get("la"), hi=9999)
            if la not in {code for code, _name in choices}:
                asked = "la" in request.GET
                return render(
                    request,
                    "assessments/meeting_pack_choose.html",
                    {
                        "page_title": f"SRAS meeting pack: {term}",
                        "term": term,
                        "meeting": meeting,
                        "la_items": [{"value": "", "text": "Choose a local authority"}]
                        + [{"value": str(code), "text": name} for code, name in choices],
                        "errors": [{"text": "Choose a local authority from the list", "href": "#la"}]
                        if asked
                        else [],
                    },
                    status=400 if asked else 200,
                )
            scope = scope.filter(la_code=la)
            filename += f"-la-{la}"
    pack = selectors.meeting_pack(
        scope,
        term,
        meeting,
        intelligence=lambda school: permissions.visible_intelligence(user, school),
        viewer=user,
    )
    response = attachment(render_meeting_pack(pack), "pdf", filename)
    response["Cache-Control"] = "no-store"
    return response
