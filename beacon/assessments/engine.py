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
    out: dict[int, set[str]] = {}
    qs = CriterionResult.objects.filter(term=term, rulebook=rulebook, outcome=Outcome.MET)
    if school_ids is not None:
        qs = qs.filter(school_id__in=school_ids)
    df = query_frame(qs.values_list("school_id", "criterion__code"), {"school_id": pl.Int64, "code": pl.Utf8})
    for school_id, codes in df.group_by("school_id").agg("code").iter_rows():
        out[school_id] = set(codes)
    return out


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
    `school_ids`: only these schools (None: every school)."""
    book = rulebook or active_rulebook()
    judgements = judgements_frame(term, school_ids) if book.model == RiskModel.CAMDEN else None
    frame: pl.DataFrame = _selectors().risk_score_frame(term, book, judgements, school_ids=school_ids)
    if frame.height == 0:
        return {}
    return {
        int(a): float(b or 0)
        for a, b in zip(frame["school_id"].to_list(), frame["score"].to_list(), strict=True)
    }
