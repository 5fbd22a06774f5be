"""The criteria catalogues as data: `camden.toml` and `cambridgeshire.toml` beside this module, and their loader.

Each file holds one risk model's criteria, each with its code, reference, heading, kind (data /
judgement), family, phases and the strategy's text verbatim, and, for a data criterion, the default rule
(rulebook version 1: check, weight, explanation, thresholds). `load()` reads both files and refuses them,
with a `CatalogueError` naming the file and the criterion, when a field is missing, unknown or of the wrong
type, a code is repeated (also across the files), a parent is not defined before its children, or a check
or family is not registered in `beacon.risk.checks.REGISTRY`. `beacon.risk.catalogue` turns what it returns
into the criteria and rulebooks in the database. docs/decisions/0024-criteria-as-data.md explains the choice.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from beacon.inspections.models import EvaluationArea
from beacon.risk.checks import REGISTRY, RegisteredCheck
from beacon.risk.models import CriterionKind, RiskModel

DIRECTORY = Path(__file__).resolve().parent
# In this order: criteria are numbered (sort_order) through both files, Camden's first.
FILES: tuple[Path, ...] = (DIRECTORY / "camden.toml", DIRECTORY / "cambridgeshire.toml")

JUDGEMENT_FAMILY = "judgement"
PHASES = frozenset({"all", "primary", "secondary", "special", "nursery"})
RAGS = frozenset({"", "green", "amber", "red"})

_HEADER_FIELDS = {"model": str, "title": str, "seed": str, "rulebook_name": str}
_REQUIRED = {"code": str, "ref": str, "group": str, "kind": str, "family": str, "phases": list, "text": str}
_OPTIONAL = {
    "parent": str,
    "evaluation_area": str,
    "rag": str,
    "judgement_route": bool,
    "notes": str,
    "rule": dict,
}
_RULE_REQUIRED = {"check": str, "weight": (int, float), "explanation": str}
_RULE_OPTIONAL = {"params": dict}


class CatalogueError(ValueError):
    """A catalogue file that cannot be used, with the file and (where there is one) the criterion."""

    def __init__(self, path: Path, code: str | None, problem: str) -> None:
        self.path, self.code, self.problem = path, code, problem
        where = f"{path.name}: criterion {code}" if code else path.name
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class CriterionDef:
    """One criterion as the catalogue file defines it (written to `beacon.risk.models.Criterion`)."""

    code: str
    ref: str
    group: str
    text: str
    kind: str
    phases: tuple[str, ...]
    evaluation_area: str = ""
    notes: str = ""
    parent: str | None = None
    rag: str = ""
    family: str = JUDGEMENT_FAMILY
    judgement_route: bool = False


@dataclass(frozen=True)
class DefaultRule:
    """A data criterion's rule in rulebook version 1. `params` is what `Rule.params` holds: the check's
    name under 'check', then its thresholds."""

    code: str
    weight: float
    explanation: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def check(self) -> str:
        return str(self.params["check"])


@dataclass(frozen=True)
class Catalogue:
    """One file: a risk model's criteria, in the strategy's order, and its default rules by code."""

    path: Path
    model: str
    title: str
    seed: str
    rulebook_name: str
    criteria: tuple[CriterionDef, ...]
    rules: dict[str, DefaultRule]


def _typed(
    path: Path, code: str | None, where: str, table: Mapping[str, Any], spec: Mapping[str, Any]
) -> None:
    for key, kind in spec.items():
        if key not in table:
            continue
        value = table[key]
        # TOML true / false are bools, and bool is an int in Python: never take one for the other.
        ok = (
            isinstance(value, bool)
            if kind is bool
            else isinstance(value, kind) and not isinstance(value, bool)
        )
        if not ok:
            raise CatalogueError(path, code, f"{where}'{key}' must be {_kind_name(kind)}")


def _kind_name(kind: Any) -> str:
    names = {str: "text", list: "a list", dict: "a table", bool: "true or false"}
    return names.get(kind, "a number")


def _check_fields(
    path: Path,
    code: str | None,
    where: str,
    table: Mapping[str, Any],
    required: Mapping[str, Any],
    optional: Mapping[str, Any],
) -> None:
    missing = [k for k in required if k not in table]
    if missing:
        raise CatalogueError(path, code, f"{where}missing field(s): {', '.join(missing)}")
    unknown = sorted(set(table) - set(required) - set(optional))
    if unknown:
        raise CatalogueError(path, code, f"{where}unknown field(s): {', '.join(unknown)}")
    _typed(path, code, where, table, {**required, **optional})
    empty = [k for k, kind in required.items() if kind is str and not str(table[k]).strip()]
    if empty:
        raise CatalogueError(path, code, f"{where}empty field(s): {', '.join(empty)}")


def _rule(
    path: Path, c: CriterionDef, table: Mapping[str, Any], registry: Mapping[str, RegisteredCheck]
) -> DefaultRule:
    _check_fields(path, c.code, "rule: ", table, _RULE_REQUIRED, _RULE_OPTIONAL)
    check = table["check"]
    registered = registry.get(check)
    if registered is None:
        raise CatalogueError(
            path, c.code, f"rule: unknown check '{check}' (registered: {', '.join(sorted(registry))})"
        )
    if c.family != registered.family:
        raise CatalogueError(
            path,
            c.code,
            f"family '{c.family}' is not the family of its check '{check}' ('{registered.family}')",
        )
    params = dict(table.get("params", {}))
    if "check" in params:
        raise CatalogueError(
            path, c.code, "rule: name the check in [criterion.rule] check, not in its params"
        )
    return DefaultRule(
        code=c.code,
        weight=float(table["weight"]),
        explanation=table["explanation"],
        params={"check": check, **params},
    )


def _criterion(path: Path, table: Mapping[str, Any], position: int) -> CriterionDef:
    code = table.get("code") if isinstance(table.get("code"), str) else None
    _check_fields(path, code or f"#{position}", "", table, _REQUIRED, _OPTIONAL)
    code = str(table["code"])
    kind = table["kind"]
    if kind not in CriterionKind.values:
        raise CatalogueError(path, code, f"kind '{kind}' is not one of {', '.join(CriterionKind.values)}")
    phases = table["phases"]
    bad = [p for p in phases if p not in PHASES]
    if not phases or bad:
        raise CatalogueError(
            path, code, f"phases {phases!r}: give one or more of {', '.join(sorted(PHASES))}"
        )
    area = table.get("evaluation_area", "")
    if area and area not in EvaluationArea.values:
        raise CatalogueError(path, code, f"evaluation_area '{area}' is not an Ofsted evaluation area")
    rag = table.get("rag", "")
    if rag not in RAGS:
        raise CatalogueError(path, code, f"rag '{rag}' is not green, amber or red")
    return CriterionDef(
        code=code,
        ref=table["ref"],
        group=table["group"],
        text=table["text"],
        kind=kind,
        phases=tuple(phases),
        evaluation_area=area,
        notes=table.get("notes", ""),
        parent=table.get("parent"),
        rag=rag,
        family=table["family"],
        judgement_route=bool(table.get("judgement_route", False)),
    )


def load_file(path: Path, registry: Mapping[str, RegisteredCheck] | None = None) -> Catalogue:
    """Read and validate one catalogue file (CatalogueError if it cannot be used)."""
    registry = REGISTRY if registry is None else registry
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except OSError as e:
        raise CatalogueError(path, None, f"cannot be read ({e.strerror})") from e
    except tomllib.TOMLDecodeError as e:
        raise CatalogueError(path, None, f"is not valid TOML: {e}") from e
    unknown = sorted(set(data) - {"catalogue", "criterion"})
    if unknown:
        raise CatalogueError(path, None, f"unknown table(s): {', '.join(unknown)}")
    header = data.get("catalogue")
    if not isinstance(header, dict):
        raise CatalogueError(path, None, "missing the [catalogue] table")
    _check_fields(path, None, "[catalogue] ", header, _HEADER_FIELDS, {})
    if header["model"] not in RiskModel.values:
        raise CatalogueError(
            path, None, f"[catalogue] model '{header['model']}' is not one of {RiskModel.values}"
        )
    tables = data.get("criterion")
    if not isinstance(tables, list) or not tables:
        raise CatalogueError(path, None, "no [[criterion]] entries")
    criteria: list[CriterionDef] = []
    rules: dict[str, DefaultRule] = {}
    seen: set[str] = set()
    for position, table in enumerate(tables, start=1):
        c = _criterion(path, table, position)
        if c.code in seen:
            raise CatalogueError(path, c.code, "code defined twice")
        if c.parent is not None and c.parent not in seen:
            raise CatalogueError(path, c.code, f"parent '{c.parent}' is not defined before it in this file")
        seen.add(c.code)
        if c.kind == CriterionKind.DATA:
            if "rule" not in table:
                raise CatalogueError(
                    path, c.code, "a data criterion needs its [criterion.rule] (check, weight)"
                )
            rules[c.code] = _rule(path, c, table["rule"], registry)
        else:
            if "rule" in table:
                raise CatalogueError(path, c.code, "a judgement criterion has no rule (people record it)")
            if c.family != JUDGEMENT_FAMILY:
                raise CatalogueError(path, c.code, f"a judgement criterion's family is '{JUDGEMENT_FAMILY}'")
            if c.judgement_route:
                raise CatalogueError(path, c.code, "judgement_route is for data criteria only")
        criteria.append(c)
    return Catalogue(
        path=path,
        model=header["model"],
        title=header["title"],
        seed=header["seed"],
        rulebook_name=header["rulebook_name"],
        criteria=tuple(criteria),
        rules=rules,
    )


def load(
    paths: Iterable[Path] = FILES, registry: Mapping[str, RegisteredCheck] | None = None
) -> tuple[Catalogue, ...]:
    """Every catalogue file, validated, in order; a code or model used by two files is refused too."""
    catalogues: list[Catalogue] = []
    first_seen: dict[str, Path] = {}
    models: dict[str, Path] = {}
    for path in paths:
        cat = load_file(path, registry)
        if cat.model in models:
            raise CatalogueError(
                path, None, f"model '{cat.model}' is already defined by {models[cat.model].name}"
            )
        models[cat.model] = path
        for c in cat.criteria:
            if c.code in first_seen:
                raise CatalogueError(path, c.code, f"code already defined in {first_seen[c.code].name}")
            first_seen[c.code] = path
        catalogues.append(cat)
    return tuple(catalogues)
