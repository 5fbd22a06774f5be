"""Evaluating the data-driven criteria for every school, vectorised with polars.

`evaluate(term)` loads the school measures, area benchmarks, inspections and head-teacher history
into frames once, runs each enabled rule of the rulebook as polars expressions over all schools,
and upserts one `CriterionResult` per (school, term, criterion, rulebook), each with its evidence.

Principles (issue 3): missing or suppressed data (status other than 'ok') is 'no_evidence', never
the worst case; a cohort under the rule's `min_cohort` is 'low_confidence' and not judged; every
result carries values, benchmarks, years, cohort and a plain-English sentence.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import json
import queue
import threading
import time
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from django.db import transaction
from django.utils import timezone

from beacon.core.frames import PendingFrame, query_frame, start_query_frames
from beacon.indicators.models import AreaMeasure, Measure, SchoolMeasure
from beacon.indicators.selectors import school_measures_held
from beacon.inspections.models import Inspection, InspectionGrade
from beacon.risk.checks import CHECKS as CHECKS
from beacon.risk.checks.attainment import intake_bands as intake_bands
from beacon.risk.checks.attainment import similar_schools_frame as similar_schools_frame
from beacon.risk.checks.base import RESULT_SCHEMA, _dumps, _loads
from beacon.risk.checks.base import join_explanations as join_explanations
from beacon.risk.models import (
    Criterion,
    CriterionKind,
    Outcome,
    RiskModel,
    Rule,
    Rulebook,
    Term,
)
from beacon.risk.store import ResultWriter, WriteCounts, fingerprint_expr
from beacon.schools.models import School

# School phase -> the criterion phases that apply to it.
PHASE_MAP: dict[str, tuple[str, ...]] = {
    "primary": ("primary",),
    "secondary": ("secondary",),
    "all_through": ("primary", "secondary"),
    "middle": ("primary", "secondary"),
    "special": ("special",),
    "nursery": ("nursery",),
}


@dataclass
class EvaluationSummary:
    term: str
    rulebook: str
    schools: int = 0
    results: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    by_criterion: dict[str, dict[str, int]] = field(default_factory=dict)
    seconds: float = 0.0
    load_seconds: float = 0.0
    write_seconds: float = 0.0
    written: WriteCounts | None = None


@dataclass
class Frames:
    """Everything a check needs, loaded once per evaluation."""

    schools: pl.DataFrame  # school_id, urn, la_code, phase
    school_measures: pl.DataFrame  # school_id, measure, year, value, status
    area_measures: pl.DataFrame  # area_code, measure, year, value, status
    inspections: pl.DataFrame  # inspection_id, school_id, framework, start_date, overall, safeguarding_met
    grades: pl.DataFrame  # inspection_id, area, grade, not_applicable
    heads: pl.DataFrame  # school_id, history_date, head_name
    data_year: int
    cutoff: dt.date
    # school_id, phase, la_code: every state-funded school held (similar schools, absence medians)
    peers: pl.DataFrame | None = None
    # First academic year whose evidence is current (set per rule from the rulebook's stale_after_years).
    stale_before: int | None = None
    # Similar-intake medians by (measure, spec): several rules compare the same measure.
    similar_cache: dict[str, pl.DataFrame] = field(default_factory=dict)


# ------------------------------------------------------------------------------------------------
# Loading


def load_frames(
    *,
    data_year: int,
    cutoff: dt.date,
    school_ids: Iterable[int] | None = None,
    state_funded_only: bool = True,
) -> Frames:
    """Measures up to `data_year` (academic start year) and inspections / history before `cutoff`.

    Independent schools are left out by default: the strategy is for state-funded schools, and
    their published measures (e.g. iGCSEs not counted in KS4 tables) would read as failure.

    The frames are started together (`start_query_frames`): on a national database, outside a transaction,
    they are read beside this process (SQLite: separate processes; PostgreSQL: threads on connections of their
    own) while it reads the rest (decision 0032); otherwise each is read here, in turn."""
    qs = School.objects.all()
    if state_funded_only:
        qs = qs.filter(is_state_funded=True)
    if school_ids is not None:
        qs = qs.filter(pk__in=list(school_ids))
    insp_schema = {
        "inspection_id": pl.Int64,
        "school_id": pl.Int64,
        "framework": pl.Utf8,
        "start_date": pl.Date,
        "overall": pl.Int64,
        "safeguarding_met": pl.Boolean,
    }
    grade_schema = {
        "inspection_id": pl.Int64,
        "area": pl.Utf8,
        "grade": pl.Int64,
        "not_applicable": pl.Boolean,
    }

    def inspections(scope: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        return (
            Inspection.objects.filter(start_date__lt=cutoff, **scope).values_list(
                "id", "school_id", "framework", "start_date", "overall_effectiveness", "safeguarding_met"
            ),
            insp_schema,
        )

    def grades(scope: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        return (
            InspectionGrade.objects.filter(
                inspection__start_date__lt=cutoff, **{f"inspection__{k}": v for k, v in scope.items()}
            ).values_list("inspection_id", "area", "grade", "not_applicable"),
            grade_schema,
        )

    queries = [
        # Measures for every school held (national medians need them all), filtered by year only: 1.6
        # million rows on a national database. The measure's code is joined afterwards from the few hundred
        # measures (fewer strings made row by row; the rows keep the order the database gave).
        (
            SchoolMeasure.objects.filter(year__lte=data_year).values_list(
                "school_id", "measure_id", "year", "value", "status"
            ),
            {
                "school_id": pl.Int64,
                "measure_id": pl.Int64,
                "year": pl.Int64,
                "value": pl.Float64,
                "status": pl.Utf8,
            },
        ),
        (
            AreaMeasure.objects.filter(year__lte=data_year).values_list(
                "area__code", "measure__code", "year", "value", "status"
            ),
            {
                "area_code": pl.Int64,
                "measure": pl.Utf8,
                "year": pl.Int64,
                "value": pl.Float64,
                "status": pl.Utf8,
            },
        ),
        (
            qs.values_list("id", "urn", "la_code", "phase"),
            {"school_id": pl.Int64, "urn": pl.Int64, "la_code": pl.Int64, "phase": pl.Utf8},
        ),
        (
            School.objects.filter(is_state_funded=True).values_list("id", "phase", "la_code"),
            {"school_id": pl.Int64, "phase": pl.Utf8, "la_code": pl.Int64},
        ),
    ]
    if school_ids is None:  # every school in the frame, selected in the database (one query each)
        queries += [
            inspections({"school_id__in": qs.values("id")}),
            grades({"school_id__in": qs.values("id")}),
        ]
    expected = school_measures_held()
    # Two readers at once: the school measures (most of the rows), and the rest.
    pending = [
        *start_query_frames(queries[:1], expected_rows=expected),
        *start_query_frames(queries[1:], expected_rows=expected),
    ]
    try:
        return _load_frames(pending, data_year, cutoff, school_ids, qs, inspections, grades)
    finally:
        for p in pending:
            p.close()


def _load_frames(
    pending: list[PendingFrame],
    data_year: int,
    cutoff: dt.date,
    school_ids: Iterable[int] | None,
    qs: Any,
    inspections: Callable[[dict[str, Any]], tuple[Any, dict[str, Any]]],
    grades: Callable[[dict[str, Any]], tuple[Any, dict[str, Any]]],
) -> Frames:
    history = School.history.model
    head_schema = {"school_id": pl.Int64, "history_date": pl.Datetime("us", "UTC"), "head_name": pl.Utf8}
    # History recorded before the cutoff day began, in the service's time zone: what `history_date__date__lt`
    # selects, compared as stored (SQLite ran Django's date cast, a Python function, on every history row).
    cutoff_start = timezone.make_aware(dt.datetime.combine(cutoff, dt.time.min))

    def heads(scope: dict[str, Any]) -> pl.DataFrame:
        return query_frame(
            history.objects.filter(
                history_date__lt=cutoff_start, **{k.replace("school_", ""): v for k, v in scope.items()}
            )
            .exclude(head_name="")
            .values_list("id", "history_date", "head_name"),
            head_schema,
        )

    codes = query_frame(
        Measure.objects.values_list("id", "code"), {"measure_id": pl.Int64, "measure": pl.Utf8}
    )
    if school_ids is None:
        head_frame = heads({"school_id__in": qs.values("id")})
        insp, grade_frame = pending[4].result(), pending[5].result()
        schools = pending[2].result()
    else:  # a list of ids: in chunks (SQLite limits the number of query parameters)
        schools = pending[2].result()
        scopes = [{"school_id__in": list(c)} for c in itertools.batched(schools["school_id"].to_list(), 5000)]
        scopes = scopes or [{"school_id__in": []}]
        insp = pl.concat([query_frame(*inspections(scope)) for scope in scopes])
        grade_frame = pl.concat([query_frame(*grades(scope)) for scope in scopes])
        head_frame = pl.concat([heads(scope) for scope in scopes])
    sm = (
        pending[0]
        .result()
        .join(codes, on="measure_id", how="inner", maintain_order="left")
        .select("school_id", "measure", "year", "value", "status")
    )
    return Frames(
        schools=schools,
        school_measures=sm,
        area_measures=pending[1].result(),
        inspections=insp,
        grades=grade_frame,
        heads=head_frame,
        data_year=data_year,
        cutoff=cutoff,
        peers=pending[3].result(),
    )


# ------------------------------------------------------------------------------------------------
# Evaluation


def active_rulebook(model: str = RiskModel.CAMDEN) -> Rulebook:
    """The model's active rulebook (the catalogue and version 1 are created if the database has none)."""
    active = Rulebook.objects.filter(model=model, is_active=True).order_by("-version").first()
    if active is not None:
        return active
    from beacon.risk.catalogue import ensure_catalogue

    books = ensure_catalogue()
    active = Rulebook.objects.filter(model=model, is_active=True).order_by("-version").first()
    return active or books[model]


def schools_in_scope(schools: pl.DataFrame, criterion: Criterion, params: dict[str, Any]) -> pl.DataFrame:
    """Schools of the phases the criterion applies to, less any phase the rule excludes (special
    schools and alternative provision are not judged against national attainment benchmarks: the
    strategy compares them with pupils with similar needs, A-spe-2)."""
    excluded = list(params.get("exclude_phases", []))
    if excluded:
        schools = schools.filter(~pl.col("phase").is_in(excluded))
    if "all" in criterion.phases:
        return schools
    wanted = set(criterion.phases)
    phases = [ph for ph, mapped in PHASE_MAP.items() if wanted & set(mapped)]
    return schools.filter(pl.col("phase").is_in(phases))


def run_rules(
    fr: Frames,
    rules: list[Rule],
    *,
    term_year: int | None = None,
    emit: Callable[[int, pl.DataFrame], object] | None = None,
    cancelled: threading.Event | None = None,
) -> dict[int, pl.DataFrame]:
    """criterion id -> (school_id, outcome, evidence) for the schools the criterion applies to.

    `term_year`: the academic year of the term; evidence older than the rulebook's `stale_after_years`
    before it is stale (None: no staleness, as for a backtest run against its own data year).
    `emit(criterion id, frame)` is called with each criterion's final results as soon as they are known: at
    once for a criterion `count_once` never changes, after it for the others. `cancelled`: checked between
    rules; once set, no more rules are run and nothing more is emitted (the caller has given up)."""
    out: dict[int, pl.DataFrame] = {}
    held_back = {r.criterion_id for r in rules if r.params.get("counted_under")}
    for rule in rules:
        if cancelled is not None and cancelled.is_set():
            return out
        if not rule.enabled or rule.criterion.kind != CriterionKind.DATA:
            continue
        check = CHECKS[rule.params["check"]]
        scope = schools_in_scope(fr.schools, rule.criterion, rule.params)
        if scope.height == 0:
            continue
        fr.stale_before = None
        if term_year is not None:
            after = int(rule.params.get("stale_after_years", rule.rulebook.stale_after_years))
            fr.stale_before = term_year - after
        out[rule.criterion_id] = check(fr, rule.params, scope)
        if emit is not None and rule.criterion_id not in held_back:
            emit(rule.criterion_id, out[rule.criterion_id])
    fr.stale_before = None
    out = count_once(out, rules)
    if emit is not None:
        for criterion_id in held_back & out.keys():
            emit(criterion_id, out[criterion_id])
    return out


_FINISHED = object()


def stream_rules(
    fr: Frames,
    rules: list[Rule],
    *,
    term_year: int | None = None,
    cancelled: threading.Event | None = None,
) -> Generator[tuple[int, pl.DataFrame]]:
    """(criterion id, final results) of `run_rules`, one criterion at a time, as a thread makes them: the
    caller writes each while the next rules run (decision 0029).

    The rules are polars and Python, the write mostly the database's own work, which runs with the
    interpreter lock released (SQLite a thousand rows a statement, PostgreSQL in its server process). The
    rules never touch the database (their frames are loaded first), so the caller's connection and
    transaction stay the caller's. What the rules raise is raised here; if the caller stops early (its
    write failed: close the iterator), the thread is told to stop after its current rule (`cancelled` is set)
    and is waited for."""
    handed: queue.SimpleQueue[Any] = queue.SimpleQueue()
    cancelled = cancelled or threading.Event()

    def work() -> None:
        try:
            run_rules(
                fr, rules, term_year=term_year, emit=lambda c, f: handed.put((c, f)), cancelled=cancelled
            )
        except BaseException as exc:  # handed over and raised in the caller's thread
            handed.put(exc)
        else:
            handed.put(_FINISHED)

    thread = threading.Thread(target=work, name="risk-rules", daemon=True)
    thread.start()
    try:
        while (item := handed.get()) is not _FINISHED:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        cancelled.set()
        thread.join()


def count_once(results: dict[int, pl.DataFrame], rules: list[Rule]) -> dict[int, pl.DataFrame]:
    """One data item meets one criterion (issue 13).

    A rule's `counted_under` names the criteria (codes) its data items are counted under first. Where
    this criterion is met and one of those is met for the same school, each met evidence item whose data
    items (measure:academic year, or inspection:date:judgement) are all already met there is marked
    'counted under' that criterion; if no met item is left, the outcome is 'counted_under' (shown, never
    counted as met, never in the score). E.g. one 2018/19 absence figure meets viii, not also secondary 5."""
    by_code = {r.criterion.code: r for r in rules}
    for rule in rules:
        targets = [by_code[c] for c in rule.params.get("counted_under", []) if c in by_code]
        mine = results.get(rule.criterion_id)
        if not targets or mine is None:
            continue
        met = mine.filter(pl.col("outcome") == Outcome.MET.value)
        if met.height == 0:
            continue
        claimed: dict[int, dict[str, str]] = {}
        for target in targets:
            theirs = results.get(target.criterion_id)
            if theirs is None:
                continue
            hits = theirs.filter(
                (pl.col("outcome") == Outcome.MET.value)
                & pl.col("school_id").is_in(met["school_id"].implode())
            )
            for school_id, evidence in hits.select("school_id", "evidence").iter_rows():
                for item in _loads(evidence)["items"]:
                    for key in item.get("data_items", []):
                        claimed.setdefault(school_id, {}).setdefault(key, target.criterion.ref)
        if not claimed:
            continue
        changed: list[tuple[int, str, str]] = []
        for school_id, evidence in met.select("school_id", "evidence").iter_rows():
            keys = claimed.get(school_id)
            if not keys:
                continue
            ev = _loads(evidence)
            still_met = False
            under: set[str] = set()
            for item in ev["items"]:
                if item.get("outcome") != Outcome.MET.value:
                    continue
                items = item.get("data_items", [])
                if items and all(k in keys for k in items):
                    item["outcome"] = Outcome.COUNTED_UNDER.value
                    item["counted_under"] = sorted({keys[k] for k in items})
                    under.update(item["counted_under"])
                else:
                    still_met = True
            if not under:
                continue
            note = f"The same data already meet {', '.join(sorted(under))}, so they are counted once, there."
            ev["explanation"] = f"{note} {ev['explanation']}"
            ev["counted_under"] = sorted(under)
            changed.append(
                (school_id, Outcome.MET.value if still_met else Outcome.COUNTED_UNDER.value, _dumps(ev))
            )
        if changed:
            upd = pl.DataFrame(changed, schema=RESULT_SCHEMA, orient="row")
            results[rule.criterion_id] = (
                mine.join(upd, on="school_id", how="left", suffix="_new")
                .with_columns(
                    pl.coalesce("outcome_new", "outcome").alias("outcome"),
                    pl.coalesce("evidence_new", "evidence").alias("evidence"),
                )
                .select("school_id", "outcome", "evidence")
            )
    return results


def evaluate(
    term: Term,
    rulebook: Rulebook | None = None,
    school_ids: Iterable[int] | None = None,
    *,
    data_year: int | None = None,
    cutoff: dt.date | None = None,
    state_funded_only: bool = True,
    frames: Frames | None = None,
) -> EvaluationSummary:
    """Evaluate every enabled data rule for every school (or `school_ids`) and upsert the results.

    `data_year` / `cutoff` default to the term's (results up to the previous academic year,
    inspections and register history before the term starts); the backtest overrides them. `frames`:
    what `load_frames` returned for the same arguments, when the caller has already loaded it (the termly
    pass, which hands the school measures on to the early-warning scores)."""
    started = time.perf_counter()
    rulebook = rulebook or active_rulebook()
    rules = list(rulebook.rules.select_related("criterion", "rulebook"))
    fr = frames or load_frames(
        data_year=term.data_year if data_year is None else data_year,
        cutoff=term.start_date if cutoff is None else cutoff,
        school_ids=school_ids,
        state_funded_only=state_funded_only,
    )
    loaded = time.perf_counter()
    summary = EvaluationSummary(term=str(term), rulebook=str(rulebook), schools=fr.schools.height)
    codes = {r.criterion_id: r.criterion.code for r in rules}
    counts: dict[str, int] = {}
    streamed = stream_rules(fr, rules, term_year=term.academic_year if data_year is None else None)
    # Closed on the way out, also when a write fails: the rules' thread is then stopped and waited for before
    # the transaction is rolled back.
    with ResultWriter(term.pk, rulebook.pk, now=timezone.now()) as writer, contextlib.closing(streamed):
        for criterion_id, frame in streamed:
            by_outcome = dict(frame.group_by("outcome").len().iter_rows())
            summary.by_criterion[codes[criterion_id]] = by_outcome
            for outcome, n in by_outcome.items():
                counts[outcome] = counts.get(outcome, 0) + n
            summary.results += frame.height
            # In school order: each index takes the criterion's rows in its own order.
            writer.add(
                frame.sort("school_id").select(
                    "school_id",
                    pl.lit(criterion_id, dtype=pl.Int64).alias("criterion_id"),
                    "outcome",
                    "evidence",
                    fingerprint_expr(),
                )
            )
    done = time.perf_counter()
    summary.counts = counts
    summary.written = writer.counts if summary.results else None
    summary.load_seconds = loaded - started
    summary.write_seconds = writer.seconds
    summary.seconds = done - started
    return summary


@transaction.atomic
def new_rulebook_version(from_rulebook: Rulebook, user: Any = None, *, activate: bool = True) -> Rulebook:
    """Copy a rulebook (all its rules) into the next version; the old one and its results stay as they are."""
    latest = Rulebook.objects.filter(model=from_rulebook.model).order_by("-version").first()
    version = (latest.version if latest else 0) + 1
    book = Rulebook.objects.create(
        model=from_rulebook.model,
        version=version,
        name=from_rulebook.name,
        stale_after_years=from_rulebook.stale_after_years,
        notes=f"Copied from version {from_rulebook.version}.",
        is_active=False,
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )
    Rule.objects.bulk_create(
        [
            Rule(
                rulebook=book,
                criterion_id=r.criterion_id,
                enabled=r.enabled,
                weight=r.weight,
                params=json.loads(json.dumps(r.params)),
                explanation=r.explanation,
            )
            for r in from_rulebook.rules.all()
        ]
    )
    if activate:
        activate_rulebook(book)
    return book


def activate_rulebook(book: Rulebook) -> None:
    Rulebook.objects.filter(model=book.model).exclude(pk=book.pk).update(is_active=False)
    Rulebook.objects.filter(pk=book.pk).update(is_active=True)
    book.is_active = True
