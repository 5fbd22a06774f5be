"""Writes for the termly risk process: proposals, decisions (optimistic locking, beacon.core.versioning),
judgements, intelligence."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from beacon.assessments import engine
from beacon.assessments.models import (
    RANKING_FIELDS,
    Intelligence,
    JudgementRecord,
    Rag,
    SRASMeeting,
    SupportLevel,
    TermlyAssessment,
)
from beacon.core.bulk import Prototype
from beacon.core.gcpause import collector_paused
from beacon.core.versioning import bump_for_bulk_write, check_version, save_versioned
from beacon.imports.framework import bulk_upsert, copy_to_history
from beacon.risk.models import Criterion, CriterionKind, Rulebook, Term
from beacon.schools.models import School


def _with_judgements(
    rag: str, level: str, raw: list[Any], judgements: list[JudgementRecord]
) -> tuple[str, str, list[dict[str, Any]]]:
    reasons: list[dict[str, Any]] = [
        r if isinstance(r, dict) else {"source": "data", "text": str(r)} for r in raw
    ]
    for jr in judgements:
        if jr.applies:
            text = f"Judgement recorded ({jr.criterion.ref}): {jr.reason}"
        else:
            text = f"Judgement recorded ({jr.criterion.ref}) that it does not apply, so the data result is set aside: {jr.reason}"
        reasons.append(
            {"source": "judgement", "code": jr.criterion.code, "applies": jr.applies, "text": text}
        )
    return rag or Rag.GREEN, level or SupportLevel.UNIVERSAL, reasons


def _applying_judgements(term: Term, school_ids: list[int] | None) -> dict[int, list[JudgementRecord]]:
    """The judgements that change the proposal: criteria recorded as applying, and data criteria with a
    judgement route recorded as not applying (they set the data result aside). None: every school."""
    out: dict[int, list[JudgementRecord]] = {}
    qs = JudgementRecord.objects.filter(term=term)
    if school_ids is not None:
        qs = qs.filter(school_id__in=school_ids)
    for jr in (
        qs.filter(Q(applies=True) | Q(criterion__judgement_route=True))
        .select_related("criterion")
        .order_by("criterion__sort_order")
    ):
        out.setdefault(jr.school_id, []).append(jr)
    return out


def met_codes_with_judgements(
    data_met: set[str] | frozenset[str], judgements: list[JudgementRecord]
) -> set[str]:
    """The criteria met for the proposal: the data results, with each recorded judgement in place of its
    criterion's data result (applies: met; does not apply, on a judgement-route criterion: not met)."""
    codes = set(data_met)
    for jr in judgements:
        if jr.applies:
            codes.add(jr.criterion.code)
        else:
            codes.discard(jr.criterion.code)
    return codes


def compute_proposal(
    school: School, term: Term, rulebook: Rulebook | None = None
) -> tuple[str, str, list[dict[str, Any]]]:
    """The engine's proposal (School Improvement Support Matrix) from the data results combined with the
    judgements advisers have recorded this term (the judgement routes of i, vii, ix, x (e) and xxi (a)
    included, so a judgement alone can lead to red / targeted)."""
    judgements = _applying_judgements(term, [school.pk]).get(school.pk, [])
    rag, level, raw = engine.engine_proposal(
        school,
        term,
        [j.criterion.code for j in judgements if j.applies],
        rulebook,
        overruled=[j.criterion.code for j in judgements if not j.applies],
    )
    return _with_judgements(rag, level, raw, judgements)


def _store_proposal(
    school: School,
    term: Term,
    book: Rulebook,
    proposal: tuple[str, str, list[dict[str, Any]]],
    current: TermlyAssessment | None,
) -> TermlyAssessment:
    rag, level, reasons = proposal

    def unchanged(a: TermlyAssessment) -> bool:
        return a.proposed_rag == rag and a.proposed_level == level and a.proposal_reasons == reasons

    if current is not None and unchanged(current):
        return current
    with transaction.atomic():
        assessment, _ = TermlyAssessment.objects.select_for_update().get_or_create(school=school, term=term)
        if unchanged(assessment):
            return assessment
        assessment.proposed_rag = rag
        assessment.proposed_level = level
        assessment.proposal_reasons = reasons
        assessment.proposal_rulebook = book
        assessment.proposed_at = timezone.now()
        # A changed proposal bumps the version (under the row lock taken above, so it cannot be stale).
        save_versioned(assessment, assessment.version, reason="Proposal refreshed")
    return assessment


def refresh_proposal(school: School, term: Term, rulebook: Rulebook | None = None) -> TermlyAssessment:
    """Create the term's assessment or refresh its proposal. A decision already made is never touched;
    a changed proposal bumps the version, so a decision form opened on the old proposal is refused."""
    book = rulebook or engine.active_rulebook()
    if book.model == "camden":
        _refresh_bulk(term, book, [school.pk])
        return TermlyAssessment.objects.get(school=school, term=term)
    proposal = compute_proposal(school, term, book)
    current = TermlyAssessment.objects.filter(school=school, term=term).first()
    return _store_proposal(school, term, book, proposal, current)


def term_schools(term: Term) -> Any:
    """The schools the term's proposals are for: every school with criterion results or an assessment.

    Asked per school with `EXISTS` (an index probe each), not `IN (subquery) OR IN (subquery)`: once
    PostgreSQL's statistics know the term's 270,000 results, the `OR` of two `IN`s is planned as a subplan
    re-scanning the results for every school (133 s on the national database, a second termly pass)."""
    from beacon.risk.models import CriterionResult

    return School.objects.filter(
        Exists(CriterionResult.objects.filter(term=term, school_id=OuterRef("pk")))
        | Exists(TermlyAssessment.objects.filter(term=term, school_id=OuterRef("pk")))
    )


def refresh_proposals(term: Term, schools: Any = None) -> None:
    """Refresh the proposal of every school given (default: every school of the term, `term_schools`).
    Called when a proposal's inputs change (decision 0018): the term created or evaluated, an import
    finished, a judgement recorded, a rulebook activated, scores stored; pages only read the stored
    proposals. A handful of queries for all schools, then bulk writes only where something changed
    (decision 0027): a changed proposal bumps the version and is kept in the history, changed register
    figures (score, probability, judged) are updated in place."""
    book = engine.active_rulebook()
    if book.model != "camden":
        for school in term_schools(term) if schools is None else schools:
            refresh_proposal(school, term, book)
        return
    if schools is None:
        _refresh_bulk(term, book, None)
    elif isinstance(schools, QuerySet):
        _refresh_bulk(term, book, list(schools.values_list("pk", flat=True)))
    else:
        _refresh_bulk(term, book, [s.pk for s in schools])


def _history(assessments: list[TermlyAssessment], history_type: str) -> None:
    """History rows ("+" created, "~" changed) for assessments a bulk write just stored: copied inside the
    database (`imports.framework.copy_to_history`), with the user simple-history would record (the
    signed-in user of the request, if any) and the reason "Proposal refreshed"."""
    user = TermlyAssessment.history.model.get_default_history_user(assessments[0])
    copy_to_history(
        TermlyAssessment,
        sorted(a.pk for a in assessments),
        history_type=history_type,
        reason="Proposal refreshed",
        user_id=getattr(user, "pk", None),
    )


def _refresh_bulk(term: Term, book: Rulebook, ids: list[int] | None) -> tuple[int, int, int]:
    """(created, proposals changed, figures changed) for the schools `ids` (None: every school of the term)."""
    from beacon.earlywarning.selectors import latest_probabilities, watch_probability

    threshold = watch_probability()
    targets = list(term_schools(term).values_list("pk", flat=True)) if ids is None else ids
    met, scores = engine.met_and_scores(term, book, ids)
    judgements = _applying_judgements(term, ids)
    probabilities = latest_probabilities(term.start_date, ids)
    judged_qs = JudgementRecord.objects.filter(term=term, applies=True)
    if ids is not None:
        judged_qs = judged_qs.filter(school_id__in=ids)
    judged = set(judged_qs.values_list("school_id", flat=True))
    now = timezone.now()
    unsaved = Prototype(TermlyAssessment(term=term, version=1))  # a new assessment of the term, copied
    created: list[TermlyAssessment] = []
    changed: list[TermlyAssessment] = []
    figures: list[TermlyAssessment] = []
    with transaction.atomic():
        current_qs = TermlyAssessment.objects.select_for_update().filter(term=term)
        if ids is not None:
            current_qs = current_qs.filter(school_id__in=ids)
        current = {a.school_id: a for a in current_qs}
        for school_id in targets:
            js = judgements.get(school_id, [])
            rag, level, raw = engine.proposal_from_codes(
                met_codes_with_judgements(met.get(school_id, set()), js)
            )
            rag, level, reasons = _with_judgements(rag, level, raw, js)
            nums = (scores.get(school_id), probabilities.get(school_id), school_id in judged)
            a = current.get(school_id)
            if a is None:
                a = unsaved.new()
                a.school_id = school_id
                created.append(a)
            elif a.proposed_rag == rag and a.proposed_level == level and a.proposal_reasons == reasons:
                moved = (a.risk_score, a.probability, a.judged) != nums
                a.risk_score, a.probability, a.judged = nums
                if a.set_ranking(threshold) or moved:  # the register's key follows its figures
                    figures.append(a)
                continue
            else:
                bump_for_bulk_write(a)
                changed.append(a)
            a.proposed_rag, a.proposed_level, a.proposal_reasons = rag, level, reasons
            a.proposal_rulebook = book
            a.proposed_at = now
            a.risk_score, a.probability, a.judged = nums
            a.set_ranking(threshold)
        if created:
            # The imports' bulk insert (decision 0026): database-ready tuples, not the ORM's per-row SQL
            # compilation. A row another process created meanwhile is left as it is (DO NOTHING).
            bulk_upsert(TermlyAssessment, created, unique_fields=["school", "term"], update_fields=[])
            stored = TermlyAssessment.objects.filter(term=term)
            if ids is not None:
                stored = stored.filter(school_id__in=ids)
            pks = dict(stored.values_list("school_id", "pk"))
            for a in created:
                a.pk = pks[a.school_id]
            _history(created, "+")
        if changed:
            TermlyAssessment.objects.bulk_update(
                changed,
                [
                    "proposed_rag",
                    "proposed_level",
                    "proposal_reasons",
                    "proposal_rulebook",
                    "proposed_at",
                    "version",
                    "risk_score",
                    "probability",
                    "judged",
                    *RANKING_FIELDS,
                ],
                batch_size=500,
            )
            _history(changed, "~")
        if figures:
            TermlyAssessment.objects.bulk_update(
                figures, ["risk_score", "probability", "judged", *RANKING_FIELDS], batch_size=500
            )
    return len(created), len(changed), len(figures)


def rerank_judged() -> int:
    """The watch threshold changed (a `WatchThreshold` saved or deleted): the register's ranking key of every
    assessment people recorded a judgement criterion on follows it, in every term (their ranking
    probability is the model's lifted to the threshold; nothing else depends on it). Rows updated."""
    from beacon.earlywarning.selectors import watch_probability

    threshold = Value(watch_probability())
    return TermlyAssessment.objects.filter(judged=True).update(
        rank_probability=Greatest(Coalesce(F("probability"), threshold), threshold)
    )


def evaluate_and_refresh(term: Term, school_ids: list[int] | None = None) -> None:
    """Evaluate the data criteria for the term under the active rulebook, then refresh its proposals."""
    from beacon.risk.services import evaluate

    evaluate(term, engine.active_rulebook(), school_ids)
    refresh_proposals(term)


@dataclass
class PassTimings:
    """One termly pass over every school (`run_term_pass`): seconds per stage and what was written."""

    term: str
    schools: int = 0
    results: int = 0
    results_inserted: int = 0
    results_replaced: int = 0
    results_unchanged: int = 0
    scores: int = 0
    proposals_created: int = 0
    proposals_changed: int = 0
    figures_changed: int = 0
    evaluate_s: float = 0.0
    load_s: float = 0.0
    rules_s: float = 0.0
    write_s: float = 0.0
    score_s: float = 0.0
    # Seconds the scores took in their worker process, beside the rules (0: scored in the pass's process).
    score_worker_s: float = 0.0
    refresh_s: float = 0.0
    total_s: float = 0.0
    model_version: str = ""  # the early-warning model's version the scores are filed under ("": not scored)


RESULT_PLAN_FIELDS = ("term", "rulebook", "school", "criterion", "outcome")


def _analyse_after_bulk_writes(*, scored: bool) -> None:
    """On PostgreSQL, refresh the planner's statistics of the tables a pass writes in bulk (ANALYZE samples
    them: a fraction of a second). Straight after a national pass autovacuum has not yet analysed the new
    rows, and the register's plan over its ranking index was 3x slower until it had (decision 0027)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return  # SQLite keeps no statistics unless asked, and its plans are chosen without them
    from beacon.risk.models import CriterionResult

    qn = connection.ops.quote_name
    # The results' columns that queries select and join on: not the evidence (200 MB nationally, out of line),
    # whose sampled values ANALYZE would read and decompress for statistics no plan uses.
    result_columns = ", ".join(qn(str(CriterionResult._meta.get_field(f).column)) for f in RESULT_PLAN_FIELDS)  # type: ignore[union-attr]
    tables = [qn(TermlyAssessment._meta.db_table), f"{qn(CriterionResult._meta.db_table)} ({result_columns})"]
    if scored:
        from beacon.earlywarning.models import RiskScore

        tables.append(qn(RiskScore._meta.db_table))
    with connection.cursor() as cur:
        for table in tables:
            cur.execute(f"ANALYZE {table}")


def run_term_pass(term: Term, model: Any = None, *, la_code: int | None = None) -> PassTimings:
    """Evaluate every school (or the schools of `la_code`) for the term under the active rulebook, score
    the open schools with the early-warning `model` as of the term's start, then refresh their proposals
    and the register's stored figures (decision 0027). What `evaluate_risk` runs.

    `model`: a beacon.earlywarning TrainedModel, or the path of its saved artefact (with a card beside it,
    the model is read by the scores' worker, not by this process: decision 0033); None: scores are not
    refreshed."""
    from beacon.core.checkpoints import background_checkpoints

    # millions of short-lived objects, no cycles (beacon.core.gcpause); SQLite's checkpoints of the pass's
    # commits on the second core (beacon.core.checkpoints)
    with collector_paused(), background_checkpoints():
        return _run_term_pass(term, model, la_code=la_code)


def _run_term_pass(term: Term, model: Any, *, la_code: int | None) -> PassTimings:
    import contextlib
    import time

    from beacon.risk.services import evaluate, load_frames
    from beacon.schools.models import School

    started = time.perf_counter()
    book = engine.active_rulebook()
    ids = (
        None if la_code is None else list(School.objects.filter(la_code=la_code).values_list("id", flat=True))
    )
    out = PassTimings(term=str(term))
    with contextlib.ExitStack() as stack:
        warm = None
        sources: list[Any] = []
        if model is not None:
            from pathlib import Path

            from django.conf import settings

            from beacon.earlywarning.artefact import load, read_card, warm_worker

            if isinstance(model, Path):
                model = read_card(model) or load(model)
            out.model_version = model.version

            in_scope = School.objects.filter(is_state_funded=True, close_date__isnull=True)
            if la_code is not None:
                in_scope = in_scope.filter(la_code=la_code)
            if in_scope.count() >= settings.BEACON_SCORING_WORKER_MIN_SCHOOLS:
                # The scores' worker starts now, its interpreter and imports on the second core while this
                # one reads the frames (decision 0028); `start_scores` uses it or closes it.
                warm = warm_worker()
                stack.callback(warm.close)
            # What the scores read besides the school measures, started now: on a national database it is
            # read beside this process while the frames are read (decision 0032).
            from beacon.earlywarning.features import start_sources

            sources = start_sources()
            for read in sources:
                stack.callback(read.close)
        frames = load_frames(data_year=term.data_year, cutoff=term.start_date, school_ids=ids)
        loaded = time.perf_counter()
        pending = None
        if model is not None:
            from beacon.earlywarning.features import load_sources
            from beacon.earlywarning.scoring import start_scores

            # The school measures the rules read hold every year published before the term starts: read once.
            # The scores are computed beside the rules (in a worker process for a national pass: decision
            # 0028) and stored after the results.
            src = load_sources(school_measures=frames.school_measures, started=sources)
            pending = start_scores(model, term.start_date, src=src, la_code=la_code, warm=warm)
            stack.enter_context(pending.job)
        started_scores = time.perf_counter()
        summary = evaluate(term, book, ids, frames=frames)
        evaluated = time.perf_counter()
        if pending is not None:
            from beacon.earlywarning.scoring import finish_scores

            out.scores = finish_scores(pending)
            out.score_worker_s = pending.job.seconds if pending.job.in_worker else 0.0
    scored = time.perf_counter()
    out.schools, out.results = summary.schools, summary.results
    if summary.written is not None:
        out.results_inserted = summary.written.inserted
        out.results_replaced = summary.written.replaced
        out.results_unchanged = summary.written.unchanged
    # Proposals for the schools the term covers (those with results or an assessment), as refresh_proposals.
    targets = (
        None
        if la_code is None
        else list(term_schools(term).filter(la_code=la_code).values_list("pk", flat=True))
    )
    out.proposals_created, out.proposals_changed, out.figures_changed = _refresh_bulk(term, book, targets)
    _analyse_after_bulk_writes(scored=model is not None)
    done = time.perf_counter()
    out.load_s = loaded - started
    out.write_s = summary.write_seconds
    out.rules_s = summary.seconds - summary.load_seconds - summary.write_seconds
    # What the pass itself spent on the scores: reading their sources and starting them, then waiting for the
    # worker (if the rules finished first) and storing them.
    out.score_s = (started_scores - loaded) + (scored - evaluated)
    out.evaluate_s = out.load_s + (evaluated - started_scores)
    out.refresh_s = done - scored
    out.total_s = done - started
    return out


def live_term() -> Term | None:
    """The term whose proposals follow the data: the latest with results or assessments."""
    return Term.objects.live()


def after_import(**_kwargs: Any) -> None:
    """An import finished: re-evaluate the live term (if there is one) and refresh its proposals. Earlier
    terms keep the results they were assessed on."""
    term = live_term()
    if term is not None:
        evaluate_and_refresh(term)


def after_rulebook_activated(book: Rulebook) -> None:
    """A rulebook was activated: the live term is re-evaluated under it and its proposals refreshed."""
    term = live_term()
    if term is not None and book.model == "camden":
        evaluate_and_refresh(term)


def create_term(season: str, academic_year: int) -> Term:
    """Staff create a term (a POST on the risk register): evaluated and proposed at once. An existing
    term is returned unchanged."""
    term, created = Term.objects.get_or_create(academic_year=academic_year, term=season)
    if created:
        evaluate_and_refresh(term)
    return term


def proposal_text(assessment: TermlyAssessment) -> str:
    return "\n".join(str(r.get("text", "")) for r in assessment.proposal_reasons if isinstance(r, dict))


@dataclass(frozen=True)
class Decision:
    rag: str
    level: str
    rationale: str
    school_requested_focused: bool = False
    meeting: SRASMeeting | None = None


def validate_decision(assessment: TermlyAssessment, decision: Decision) -> dict[str, str]:
    """Field errors (field name -> message)."""
    errors: dict[str, str] = {}
    if decision.rag not in Rag.values:
        errors["decided_rag"] = "Select a RAG rating"
    if decision.level not in SupportLevel.values:
        errors["decided_level"] = "Select a support level"
    rationale = " ".join(decision.rationale.split())
    if not rationale:
        errors["rationale"] = "Enter the rationale for this decision"
    elif len(rationale) < 20:
        errors["rationale"] = "The rationale must be at least 20 characters and explain the decision"
    elif rationale == " ".join(proposal_text(assessment).split()):
        errors["rationale"] = (
            "Explain the decision in your own words: the rationale cannot repeat the proposal"
        )
    elif assessment.is_decided and rationale == " ".join(assessment.rationale.split()):
        errors["rationale"] = "A new decision needs a new rationale: say what has changed"
    return errors


def decide(assessment_id: int, decision: Decision, *, user: Any, expected_version: int) -> TermlyAssessment:
    """Record a human decision. Refuses (beacon.core.versioning.StaleEdit) if the assessment changed since
    `expected_version`; raises ValidationError for a missing or repeated rationale. Every decision is kept
    in the history table; a re-decision replaces the current one only with a new rationale."""
    assessment = TermlyAssessment.objects.get(pk=assessment_id)
    check_version(assessment, expected_version)
    errors = validate_decision(assessment, decision)
    if errors:
        raise ValidationError(errors)
    redecision = assessment.is_decided
    assessment.decided_rag = decision.rag
    assessment.decided_level = decision.level
    assessment.rationale = decision.rationale.strip()
    assessment.school_requested_focused = decision.school_requested_focused
    assessment.meeting = decision.meeting
    assessment.decided_by = user
    assessment.decided_at = timezone.now()
    reason = "Decision changed" if redecision else "Decision recorded"
    return save_versioned(assessment, expected_version, reason=reason)


def judgement_criteria() -> list[Criterion]:
    """Criteria a person may record: the judgement criteria and the data criteria with a judgement route."""
    return list(
        Criterion.objects.filter(model="camden")
        .filter(Q(kind=CriterionKind.JUDGEMENT) | Q(judgement_route=True))
        .order_by("sort_order")
    )


def record_judgement(
    *, school: School, term: Term, criterion: Criterion, applies: bool, reason: str, source: str, user: Any
) -> JudgementRecord:
    if not criterion.can_be_judged:
        raise ValidationError(
            {"criterion": "Only judgement criteria and criteria with a judgement route are recorded by hand"}
        )
    if not reason.strip():
        raise ValidationError({"reason": "Enter the reason for this judgement"})
    record, _ = JudgementRecord.objects.update_or_create(
        school=school,
        term=term,
        criterion=criterion,
        defaults={"applies": applies, "reason": reason.strip(), "source": source, "recorded_by": user},
    )
    refresh_proposal(school, term)  # a judgement is an input of the proposal
    return record


def withdraw_intelligence(note: Intelligence, *, user: Any, reason: str) -> Intelligence:
    if not reason.strip():
        raise ValidationError({"withdrawn_reason": "Enter why this note is withdrawn"})
    if note.is_withdrawn:
        raise ValidationError({"withdrawn_reason": "This note has already been withdrawn"})
    note.withdrawn_at = timezone.now()
    note.withdrawn_by = user
    note.withdrawn_reason = reason.strip()
    note.save(update_fields=["withdrawn_at", "withdrawn_by", "withdrawn_reason"])
    return note
