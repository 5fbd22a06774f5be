"""The seam to the risk engine (beacon.risk): proposal, criterion results and risk scores.

Kept in one module so the people half of the process reads the engine's selectors in one place. The
active rulebook is looked up once per call here and passed to the engine explicitly."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import polars as pl

from beacon.core.frames import query_frame
from beacon.risk.models import CriterionResult, Outcome, RiskModel, Rulebook, Term
from beacon.schools.models import School


def _selectors() -> Any:
    from beacon.risk import selectors

    return selectors


def active_rulebook() -> Rulebook:
    """The active Camden rulebook (the engine's own lookup also re-seeds the catalogue: only if none)."""
    book = Rulebook.objects.active(RiskModel.CAMDEN)
    if book is not None:
        return book
    from beacon.risk.services import active_rulebook as engine_active

    return engine_active()


def engine_proposal(
    school: School,
    term: Term,
    extra_met: list[str],
    rulebook: Rulebook | None = None,
    overruled: list[str] | tuple[str, ...] = (),
) -> tuple[str, str, list[Any]]:
    """(rag, level, reasons) from the engine's `proposed_rag` under the rulebook, with the judgement
    criteria recorded as applying added to the data results and `overruled` (data criteria a person
    recorded as not applying, with a reason: the judgement route) taken out."""
    book = rulebook or active_rulebook()
    if book.model == RiskModel.CAMDEN:
        data = set(_selectors().met_codes(school, term, book)) - set(overruled)
        return proposal_from_codes({*data, *extra_met})
    else:
        rag, level, reasons = _selectors().proposed_rag(school, term, book, extra_met=extra_met)
    return str(rag), str(level), list(reasons or [])


def proposal_from_codes(codes: set[str] | frozenset[str]) -> tuple[str, str, list[Any]]:
    """The Camden matrix on a set of criterion codes met (data results and judgements)."""
    rag, level, reasons = _propose_cached(tuple(sorted(codes)))
    return rag, level, list(reasons)


def met_codes_by_school(term: Term, rulebook: Rulebook, school_ids: list[int] | None) -> dict[int, set[str]]:
    """school_id -> codes of the data criteria met this term under the rulebook (one query; None: every
    school)."""
    return _codes_by_school(_met_frame(term, rulebook, school_ids))


_MET_SCHEMA = {"school_id": pl.Int64, "criterion_id": pl.Int64, "code": pl.Utf8}


def _met_frame(term: Term, rulebook: Rulebook, school_ids: list[int] | None) -> pl.DataFrame:
    """The data results met this term under the rulebook: school_id, criterion_id, code."""
    qs = CriterionResult.objects.filter(term=term, rulebook=rulebook, outcome=Outcome.MET)
    if school_ids is not None:
        qs = qs.filter(school_id__in=school_ids)
    return query_frame(qs.order_by().values_list("school_id", "criterion_id", "criterion__code"), _MET_SCHEMA)


def _codes_by_school(met: pl.DataFrame) -> dict[int, set[str]]:
    return {school_id: set(codes) for school_id, codes in met.group_by("school_id").agg("code").iter_rows()}


@lru_cache(maxsize=512)
def _propose_cached(codes: tuple[str, ...]) -> tuple[str, str, tuple[str, ...]]:
    # The matrix depends only on the codes met and the (verbatim, fixed) criterion texts.
    rag, level, reasons = _selectors().propose(codes)
    return rag, level, tuple(reasons)


def results_for_school(school: School, term: Term, rulebook: Rulebook | None = None) -> list[CriterionResult]:
    return list(_selectors().results_for_school(school, term, rulebook or active_rulebook()))


def judgements_frame(term: Term, school_ids: list[int] | None = None) -> pl.DataFrame:
    """The judgements recorded for the term (risk.selectors.JUDGEMENT_SCHEMA), for the risk score."""
    from beacon.assessments.models import JudgementRecord

    qs = JudgementRecord.objects.filter(term=term, criterion__model=RiskModel.CAMDEN)
    if school_ids is not None:
        qs = qs.filter(school_id__in=school_ids)
    rows = qs.values_list(
        "school_id", "school__urn", "criterion_id", "criterion__code", "criterion__evaluation_area", "applies"
    )
    return pl.DataFrame(list(rows), schema=_selectors().JUDGEMENT_SCHEMA, orient="row")


def risk_scores(
    term: Term, rulebook: Rulebook | None = None, *, school_ids: list[int] | None = None
) -> dict[int, float]:
    """school_id -> risk score for the term: the weighted data criteria met and the judgement criteria
    recorded as met (a judgement on a data criterion replaces its data result); empty when nothing is held.
    `school_ids`: only these schools (None: every school). The same scores as the register's
    `risk.selectors.risk_score_frame`."""
    book = rulebook or active_rulebook()
    if book.model != RiskModel.CAMDEN:
        frame: pl.DataFrame = _selectors().risk_score_frame(term, book, None, school_ids=school_ids)
        return {
            int(a): float(b or 0)
            for a, b in zip(frame["school_id"].to_list(), frame["score"].to_list(), strict=True)
        }
    return met_and_scores(term, book, school_ids)[1]


def met_and_scores(
    term: Term, rulebook: Rulebook, school_ids: list[int] | None
) -> tuple[dict[int, set[str]], dict[int, float]]:
    """(`met_codes_by_school`, `risk_scores`) of a Camden rulebook from one read of the results met, where
    the register's `risk_score_frame` reads every result of the term (270,000 nationally): a score is the
    sum of the weights of the criteria met, a judgement replacing the data result of its criterion. A
    school with a result or a judgement but nothing met scores 0; one with neither has no score."""
    met = _met_frame(term, rulebook, school_ids)
    judged = judgements_frame(term, school_ids).select("school_id", "criterion_id", "applies")
    held = CriterionResult.objects.filter(term=term, rulebook=rulebook)
    if school_ids is not None:
        held = held.filter(school_id__in=school_ids)
    schools = query_frame(held.order_by().values_list("school_id").distinct(), {"school_id": pl.Int64})
    counted = pl.concat(
        [
            met.select("school_id", "criterion_id").join(
                judged, on=["school_id", "criterion_id"], how="anti"
            ),
            judged.filter(pl.col("applies")).select("school_id", "criterion_id"),
        ]
    )
    weight = _selectors().criterion_weight(rulebook)
    totals = counted.group_by("school_id").agg(weight.sum().alias("score"))
    scored = (
        pl.concat([schools, judged.select("school_id")])
        .unique()
        .join(totals, on="school_id", how="left")
        .with_columns(pl.col("score").fill_null(0.0))
    )
    return _codes_by_school(met), dict(
        zip(scored["school_id"].to_list(), scored["score"].to_list(), strict=True)
    )
