"""Reading risk results: per school, as frames for the register, and the system's proposals.

The proposal follows the strategy's School Improvement Support Matrix:

* targeted (red): at risk of not being 'secure' in one or more Ofsted evaluation areas AND at risk in
  one or more other Appendix A areas;
* focused (amber): some specific areas of development (one or more criteria met) without that
  combination - the school is assumed to have the capacity to resolve them with specific support;
* universal (green): no criterion met.

People decide (beacon.assessments); this is only the proposal, with its reasons.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import polars as pl

from beacon.core.frames import query_frame
from beacon.risk.models import Criterion, CriterionResult, Outcome, RiskModel, Rulebook, Term
from beacon.schools.models import School

# Criteria whose being met means "at risk of not being secure in an Ofsted evaluation area".
OFSTED_RISK_CODES = frozenset({"A-i", "A-ix", "A-x-e"})
RAG_FOR_LEVEL = {"targeted": "red", "focused": "amber", "universal": "green"}


def _rulebook(rulebook: Rulebook | None, model: str = RiskModel.CAMDEN) -> Rulebook:
    if rulebook is not None:
        return rulebook
    from beacon.risk.services import active_rulebook

    return active_rulebook(model)


def results_for_school(school: School, term: Term, rulebook: Rulebook | None = None) -> list[CriterionResult]:
    """The school's results for the term under the (active) rulebook, in criterion order."""
    book = _rulebook(rulebook)
    return list(
        CriterionResult.objects.filter(school=school, term=term, rulebook=book)
        .select_related("criterion")
        .order_by("criterion__sort_order")
    )


def criterion_weight(rulebook: Rulebook) -> pl.Expr:
    """A criterion's weight in the risk score, from `criterion_id`: its rule's weight in the rulebook, 1.0
    where the rulebook has no rule for it (a judgement criterion)."""
    weights = dict(rulebook.rules.values_list("criterion_id", "weight"))
    return pl.col("criterion_id").replace_strict(weights, default=1.0, return_dtype=pl.Float64)


def results_frame(
    term: Term, rulebook: Rulebook | None = None, school_ids: list[int] | None = None
) -> pl.DataFrame:
    """One row per result: school_id, urn, criterion code, outcome, weight, evaluation area (`school_ids`:
    only these schools)."""
    book = _rulebook(rulebook)
    qs = CriterionResult.objects.filter(term=term, rulebook=book)
    schools = School.objects.order_by()  # joined below: no need for the register's order by name
    if school_ids is not None:
        qs = qs.filter(school_id__in=school_ids)
        schools = schools.filter(pk__in=school_ids)
    # The results' own columns only, read from the covering index (term, rulebook, school, criterion,
    # outcome, fingerprint) without the rows' evidence; URNs and criterion codes joined from their tables.
    results = query_frame(
        qs.values_list("school_id", "criterion_id", "outcome"),
        {"school_id": pl.Int64, "criterion_id": pl.Int64, "outcome": pl.Utf8},
    )
    urns = query_frame(schools.values_list("id", "urn"), {"school_id": pl.Int64, "urn": pl.Int64})
    criteria = query_frame(
        Criterion.objects.values_list("id", "code", "evaluation_area"),
        {"criterion_id": pl.Int64, "code": pl.Utf8, "evaluation_area": pl.Utf8},
    )
    df = (
        results.join(urns, on="school_id", how="inner", maintain_order="left")
        .join(criteria, on="criterion_id", how="inner", maintain_order="left")
        .select("school_id", "urn", "criterion_id", "code", "evaluation_area", "outcome")
    )
    return df.with_columns(criterion_weight(book).alias("weight"))


JUDGEMENT_SCHEMA = {
    "school_id": pl.Int64,
    "urn": pl.Int64,
    "criterion_id": pl.Int64,
    "code": pl.Utf8,
    "evaluation_area": pl.Utf8,
    "applies": pl.Boolean,
}


def risk_score_frame(
    term: Term,
    rulebook: Rulebook | None = None,
    judgements: pl.DataFrame | None = None,
    *,
    school_ids: list[int] | None = None,
) -> pl.DataFrame:
    """Per school: weighted score of met criteria (the ranking), counts by outcome, met codes; riskiest first.

    `judgements` (JUDGEMENT_SCHEMA: the criteria people recorded this term) count too (issue 13): a
    judgement replaces the data result for its criterion (the judgement route), and a judgement
    criterion recorded as applying adds its weight: the rule's weight where the rulebook has a rule for
    it, else `judgement_weight` of the rulebook (1.0)."""
    book = _rulebook(rulebook)
    df = results_frame(term, book, school_ids)
    if judgements is not None and judgements.height:
        j = judgements.select(
            "school_id",
            "urn",
            "criterion_id",
            "code",
            "evaluation_area",
            pl.when(pl.col("applies"))
            .then(pl.lit(Outcome.MET.value))
            .otherwise(pl.lit(Outcome.NOT_MET.value))
            .alias("outcome"),
            criterion_weight(book).alias("weight"),
        )
        df = pl.concat(
            [df.join(j.select("school_id", "criterion_id"), on=["school_id", "criterion_id"], how="anti"), j]
        )
    met = pl.col("outcome") == Outcome.MET
    return (
        df.group_by("school_id", "urn")
        .agg(
            (pl.col("weight") * met.cast(pl.Float64)).sum().alias("score"),
            met.sum().alias("met"),
            (pl.col("outcome") == Outcome.NOT_MET).sum().alias("not_met"),
            (pl.col("outcome") == Outcome.LOW_CONFIDENCE).sum().alias("low_confidence"),
            (pl.col("outcome") == Outcome.NO_EVIDENCE).sum().alias("no_evidence"),
            pl.col("code").filter(met).sort().alias("met_codes"),
        )
        .sort(["score", "met", "urn"], descending=[True, True, False])
        .with_columns(pl.int_range(1, pl.len() + 1).alias("rank"))
    )


def propose(met_codes: Iterable[str]) -> tuple[str, str, list[str]]:
    """(rag, support level, reasons) from the criteria met (data results plus any judgements)."""
    met = sorted(set(met_codes))
    if not met:
        return "green", "universal", ["No Appendix A criterion is met on the data held."]
    crit = {c.code: c for c in Criterion.objects.filter(code__in=met)}

    def name(code: str) -> str:
        c = crit.get(code)
        return f"{c.ref} ({c.text})" if c else code

    ofsted = [c for c in met if c in OFSTED_RISK_CODES]
    other = [c for c in met if c not in OFSTED_RISK_CODES]
    reasons: list[str] = []
    if ofsted and other:
        reasons.append(
            "At risk of not being secure in an Ofsted evaluation area: " + "; ".join(name(c) for c in ofsted)
        )
        reasons.append("At risk in other Appendix A areas: " + "; ".join(name(c) for c in other))
        return "red", "targeted", reasons
    reasons.append("Specific areas of development: " + "; ".join(name(c) for c in met))
    if ofsted:
        reasons.append("Ofsted risk without another Appendix A area: focused support, reviewed termly.")
    if len(met) > 2:
        reasons.append(f"{len(met)} criteria met: consider whether targeted support is needed.")
    return "amber", "focused", reasons


def met_codes(school: School, term: Term, rulebook: Rulebook | None = None) -> list[str]:
    book = _rulebook(rulebook)
    return list(
        CriterionResult.objects.filter(school=school, term=term, rulebook=book, outcome=Outcome.MET)
        .order_by("criterion__sort_order")
        .values_list("criterion__code", flat=True)
    )


def proposed_support_level(
    school: School, term: Term, rulebook: Rulebook | None = None, extra_met: Iterable[str] = ()
) -> tuple[str, str, list[str]]:
    """('red'|'amber'|'green', 'universal'|'focused'|'targeted', reasons). `extra_met`: judgement
    criteria codes recorded as applying (beacon.assessments), combined with the data results."""
    return propose([*met_codes(school, term, rulebook), *extra_met])


def proposed_rag(
    school: School, term: Term, rulebook: Rulebook | None = None, extra_met: Iterable[str] = ()
) -> tuple[str, str, list[str]]:
    """Same as proposed_support_level; for a Cambridgeshire rulebook the RAG is the worst category met."""
    book = _rulebook(rulebook)
    if book.model == RiskModel.CAMBRIDGESHIRE:
        codes = [*met_codes(school, term, book), *extra_met]
        rags = dict(Criterion.objects.filter(code__in=codes).values_list("code", "rag"))
        for rag, level in (("red", "targeted"), ("amber", "focused")):
            hits = [c for c in codes if rags.get(c) == rag]
            if hits:
                return rag, level, [f"{rag.upper()} descriptors met: {', '.join(hits)}"]
        return "green", "universal", ["No AMBER or RED descriptor met on the data held."]
    return proposed_support_level(school, term, book, extra_met)


def evidence_rows(result: CriterionResult) -> list[dict[str, Any]]:
    """The per-measure evidence items of a result (for templates)."""
    return list(result.evidence.get("items", []))
