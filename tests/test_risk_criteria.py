"""The criteria catalogues as data files (issue 15): the loader's checks, the checks registry, the strategies'
texts and the golden snapshot of the catalogue as the hand-written module defined it."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from beacon.risk import catalogue
from beacon.risk.checks import FAMILIES, REGISTRY
from beacon.risk.criteria import FILES, JUDGEMENT_FAMILY, CatalogueError, load, load_file

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
GOLDEN = Path(__file__).parent / "fixtures" / "risk" / "catalogue_golden.json"


def _canon(obj: object) -> str:
    """JSON with sorted keys: equal only if the values and their types (1 vs 1.0) are."""
    return json.dumps(obj, sort_keys=True)


def test_loaded_catalogue_equals_the_snapshot_of_the_old_module() -> None:
    golden = json.loads(GOLDEN.read_text())
    criteria = [
        {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(c).items() if k != "family"}
        for c in catalogue.ALL_CRITERIA
    ]
    assert len(criteria) == 158
    assert _canon(criteria) == _canon(golden["criteria"])
    rules = {
        str(model): {
            code: {"params": p, "weight": w, "explanation": e} for code, (p, w, e) in by_code.items()
        }
        for model, by_code in catalogue.DEFAULT_RULES.items()
    }
    assert _canon(rules) == _canon(golden["default_rules"])
    assert {str(k): v for k, v in catalogue.RULEBOOK_NAMES.items()} == golden["rulebook_names"]
    assert _canon(catalogue.SIMILAR_SCHOOLS) == _canon(golden["similar_schools"])
    # The model a criterion belongs to follows its file, as it followed the code's prefix before.
    assert all(
        catalogue.MODEL_OF[c.code] == ("cambridgeshire" if c.code.startswith("C-") else "camden")
        for c in catalogue.ALL_CRITERIA
    )


def test_every_data_criterion_resolves_to_a_registered_check_of_its_family() -> None:
    used: set[str] = set()
    for model, cat in catalogue.CATALOGUES.items():
        for c in cat.criteria:
            if c.kind == "data":
                rule = cat.rules[c.code]
                registered = REGISTRY[rule.check]
                assert c.family == registered.family, c.code
                assert callable(registered.function)
                used.add(rule.check)
            else:
                assert c.code not in cat.rules and c.family == JUDGEMENT_FAMILY, (model, c.code)
    # Every registered check is used, and lives in its family's module.
    assert used == set(REGISTRY)
    for name, registered in REGISTRY.items():
        assert registered.family in FAMILIES, name
        assert registered.function.__module__ == f"beacon.risk.checks.{registered.family}", name


def _normalised(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_texts_are_the_strategy_verbatim(path: Path) -> None:
    cat = load_file(path)
    seed = SEEDS / cat.seed
    assert seed.is_file(), f"seed {seed} not found"
    strategy = _normalised(seed.read_text())
    # Every item's text is found word for word (up to line breaks) in the strategy.
    missing = [c.code for c in cat.criteria if _normalised(c.text) not in strategy]
    assert missing == []


# ------------------------------------------------------------------------------------------------
# The loader refuses a file it cannot use, naming the file and the criterion

HEADER = """
[catalogue]
model = "camden"
title = "Test"
seed = "test.txt"
rulebook_name = "Test rules"
"""

JUDGEMENT = """
[[criterion]]
code = "T-1"
ref = "1"
group = "Criteria"
kind = "judgement"
family = "judgement"
phases = ["all"]
text = "Staff disaffection that is likely to lead to unplanned instability."
"""

DATA = """
[[criterion]]
code = "T-2"
ref = "2"
group = "Criteria"
kind = "data"
family = "personnel"
phases = ["all"]
text = "There is evidence of significant falling rolls likely to impact on school finances."

[criterion.rule]
check = "falling_rolls"
weight = 0.5
explanation = "Roll fell by 10%."

[criterion.rule.params]
measure = "pupils"
min_fall_pct = 10.0
"""


def _write(tmp_path: Path, text: str, name: str = "test.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_valid_file_loads(tmp_path: Path) -> None:
    cat = load_file(_write(tmp_path, HEADER + JUDGEMENT + DATA))
    assert [c.code for c in cat.criteria] == ["T-1", "T-2"]
    assert cat.rules["T-2"].params == {"check": "falling_rolls", "measure": "pupils", "min_fall_pct": 10.0}
    assert cat.rules["T-2"].weight == 0.5


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            HEADER + DATA.replace('"falling_rolls"', '"falling_roll"'),
            "criterion T-2: rule: unknown check 'falling_roll'",
        ),
        (
            HEADER + JUDGEMENT.replace('text = "Staff', 'notes = "Staff'),
            "criterion T-1: missing field(s): text",
        ),
        (HEADER + JUDGEMENT.replace('family = "judgement"\n', ""), "criterion T-1: missing field(s): family"),
        (HEADER + DATA.replace("weight = 0.5\n", ""), "criterion T-2: rule: missing field(s): weight"),
        (HEADER + JUDGEMENT + JUDGEMENT, "criterion T-1: code defined twice"),
        (
            HEADER + DATA.replace('family = "personnel"', 'family = "attainment"'),
            "criterion T-2: family 'attainment'",
        ),
        (
            HEADER + DATA.split("[criterion.rule]")[0],
            "criterion T-2: a data criterion needs its [criterion.rule]",
        ),
        (
            HEADER + JUDGEMENT + '\n[criterion.rule]\ncheck = "head_change"\n',
            "criterion T-1: a judgement criterion",
        ),
        (
            HEADER + JUDGEMENT.replace('kind = "judgement"', 'kind = "opinion"'),
            "criterion T-1: kind 'opinion'",
        ),
        (
            HEADER + JUDGEMENT.replace('phases = ["all"]', 'phases = "all"'),
            "criterion T-1: 'phases' must be a list",
        ),
        (
            HEADER + JUDGEMENT.replace('phases = ["all"]', 'phases = ["infant"]'),
            "criterion T-1: phases ['infant']",
        ),
        (
            HEADER + JUDGEMENT.replace('ref = "1"', 'ref = "1"\nrefs = "1"'),
            "criterion T-1: unknown field(s): refs",
        ),
        (HEADER + JUDGEMENT.replace('ref = "1"', 'ref = "1"\nparent = "T-0"'), "criterion T-1: parent 'T-0'"),
        (
            HEADER + DATA.replace("weight = 0.5", 'weight = "high"'),
            "criterion T-2: rule: 'weight' must be a number",
        ),
        (
            HEADER + DATA.replace('kind = "data"', 'kind = "data"\njudgement_route = 1'),
            "'judgement_route' must be",
        ),
        (
            HEADER + JUDGEMENT.replace('phases = ["all"]', 'phases = ["all"]\njudgement_route = true'),
            "data criteria only",
        ),
        (HEADER.replace('"camden"', '"devon"') + JUDGEMENT, "test.toml: [catalogue] model 'devon'"),
        (JUDGEMENT, "test.toml: missing the [catalogue] table"),
        (HEADER + JUDGEMENT.replace('code = "T-1"', 'code = "T-1'), "test.toml: is not valid TOML"),
    ],
)
def test_the_loader_refuses_a_broken_file_naming_file_and_criterion(
    tmp_path: Path, text: str, message: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(CatalogueError) as err:
        load_file(path)
    assert str(err.value).startswith("test.toml"), str(err.value)
    assert message in str(err.value)


def test_a_code_or_model_in_two_files_is_refused(tmp_path: Path) -> None:
    one = _write(tmp_path, HEADER + JUDGEMENT, "one.toml")
    other = HEADER.replace('"camden"', '"cambridgeshire"')
    two = _write(tmp_path, other + JUDGEMENT, "two.toml")
    with pytest.raises(CatalogueError, match=r"two\.toml: criterion T-1: code already defined in one\.toml"):
        load([one, two])
    three = _write(tmp_path, HEADER + DATA, "three.toml")
    with pytest.raises(CatalogueError, match=r"three\.toml: model 'camden' is already defined by one\.toml"):
        load([one, three])
    assert [c.model for c in load([one, _write(tmp_path, other + DATA, "four.toml")])] == [
        "camden",
        "cambridgeshire",
    ]


@pytest.mark.django_db
def test_the_database_holds_the_files_criteria_and_rulebook_version_1() -> None:
    from beacon.risk.models import Criterion, Rulebook

    books = catalogue.ensure_catalogue()
    rows = list(Criterion.objects.order_by("sort_order").select_related("parent"))
    assert [r.code for r in rows] == [c.code for c in catalogue.ALL_CRITERIA]
    for row, c in zip(rows, catalogue.ALL_CRITERIA, strict=True):
        assert (row.text, row.kind, row.model, row.judgement_route) == (
            c.text,
            c.kind,
            catalogue.MODEL_OF[c.code],
            c.judgement_route,
        )
        assert (row.parent.code if row.parent else None) == c.parent
    for model, book in books.items():
        v1 = Rulebook.objects.get(model=model, version=1)
        assert book.model == model
        got = {r.criterion.code: (r.params, r.weight) for r in v1.rules.select_related("criterion")}
        assert got == {code: (p, w) for code, (p, w, _) in catalogue.DEFAULT_RULES[model].items()}
