"""The criteria catalogue and the default rulebooks, from the data files in beacon/risk/criteria/.

Camden: every item of Appendix A "Targeted Support Criteria" of the School Support and Development
Strategy 2025 (`criteria/camden.toml`, 68 items). Cambridgeshire: the Appendix 4 categorisation
descriptors (GREEN / AMBER / RED, whole school and EYFS) of the School Improvement Strategy 2014-16, as a
second configurable model (`criteria/cambridgeshire.toml`, 90 items). The texts are the strategies',
verbatim; the files are read and validated by `beacon.risk.criteria.load` when this module is imported.

Thresholds are not constants in code: `DEFAULT_RULES` only seeds version 1 of each rulebook, which
people then copy and edit (services.new_rulebook_version).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from beacon.risk.criteria import Catalogue, CriterionDef, load
from beacon.risk.models import Criterion, RiskModel, Rule, Rulebook

__all__ = [
    "ALL_CRITERIA",
    "CAMBRIDGESHIRE",
    "CAMDEN",
    "CATALOGUES",
    "DEFAULT_RULES",
    "JUDGEMENT_ROUTE",
    "MODEL_OF",
    "RULEBOOK_NAMES",
    "SIMILAR_SCHOOLS",
    "CriterionDef",
    "ensure_catalogue",
]

CATALOGUES: dict[str, Catalogue] = {c.model: c for c in load()}

CAMDEN: tuple[CriterionDef, ...] = CATALOGUES[RiskModel.CAMDEN].criteria
CAMBRIDGESHIRE: tuple[CriterionDef, ...] = CATALOGUES[RiskModel.CAMBRIDGESHIRE].criteria
ALL_CRITERIA: tuple[CriterionDef, ...] = tuple(c for cat in CATALOGUES.values() for c in cat.criteria)
# criterion code -> the risk model (file) that defines it
MODEL_OF: dict[str, str] = {c.code: model for model, cat in CATALOGUES.items() for c in cat.criteria}

# Data-driven criteria the strategy also reaches by judgement (issue 13): "at risk of" an Ofsted area (i),
# "serious concerns about behaviour or safety" (vii), "evidence ... lack of strategies" (ix), "failure to
# meet statutory responsibilities" (x e) and "the headteacher is on long-term absence" (xxi a) are things
# a person knows before any file shows them (`judgement_route = true` in the file).
JUDGEMENT_ROUTE: frozenset[str] = frozenset(c.code for c in ALL_CRITERIA if c.judgement_route)

# model -> criterion code -> (params, weight, explanation): rulebook version 1.
DEFAULT_RULES: dict[str, dict[str, tuple[dict[str, Any], float, str]]] = {
    RiskModel(model): {code: (r.params, r.weight, r.explanation) for code, r in cat.rules.items()}
    for model, cat in CATALOGUES.items()
}

RULEBOOK_NAMES: dict[str, str] = {RiskModel(model): cat.rulebook_name for model, cat in CATALOGUES.items()}

# The similar-intake specification the attainment rules use where no progress score is published
# (docs/decisions/0017-attainment-against-similar-schools.md).
SIMILAR_SCHOOLS: dict[str, Any] = DEFAULT_RULES[RiskModel.CAMDEN]["A-ii"][0]["where_progress_absent"][
    "similar"
]


@transaction.atomic
def ensure_catalogue() -> dict[str, Rulebook]:
    """Create or refresh every criterion, and rulebook version 1 of each model if none exists.

    Idempotent. Existing rulebooks are never changed (thresholds are edited in new versions)."""
    by_code: dict[str, Criterion] = {}
    for order, c in enumerate(ALL_CRITERIA, start=1):
        obj, _ = Criterion.objects.update_or_create(
            code=c.code,
            defaults={
                "ref": c.ref,
                "group": c.group,
                "text": c.text,
                "notes": c.notes,
                "kind": c.kind,
                "phases": list(c.phases),
                "evaluation_area": c.evaluation_area,
                "model": MODEL_OF[c.code],
                "rag": c.rag,
                "parent": by_code.get(c.parent) if c.parent else None,
                "judgement_route": c.judgement_route,
                "sort_order": order,
            },
        )
        by_code[c.code] = obj
    books: dict[str, Rulebook] = {}
    for model, rules in DEFAULT_RULES.items():
        book = Rulebook.objects.filter(model=model).order_by("-is_active", "-version").first()
        if book is None:
            book = Rulebook.objects.create(
                model=model,
                version=1,
                name=RULEBOOK_NAMES[model],
                notes=f"Default thresholds seeded by Beacon (beacon/risk/criteria/{CATALOGUES[model].path.name}).",
                is_active=True,
            )
            Rule.objects.bulk_create(
                [
                    Rule(rulebook=book, criterion=by_code[code], params=params, weight=w, explanation=why)
                    for code, (params, w, why) in rules.items()
                ]
            )
        books[model] = book
    return books
