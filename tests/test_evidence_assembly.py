"""The results' evidence is assembled in polars (decision 0030): it must equal what the Python assembly it
replaced made, item by item, for every kind of item a check hands over."""

from __future__ import annotations

import random
from types import SimpleNamespace
from typing import Any

import orjson
import polars as pl
import pytest

from beacon.core.terms import academic_year_label
from beacon.risk.checks.base import (
    ITEM_RANK,
    _data_items,
    _detail_frame,
    _evidence_rows,
    _newest_year,
    combine,
    item_frame,
    join_explanations,
    measure_keys,
    with_formatted,
)
from beacon.risk.models import Outcome

NOTE = (
    " No progress score published for 2024, 2025 and too few schools with a similar intake to compare with."
)
TEXTS = [
    "Attainment was below England by more than 2 in 2 of 3 year(s) (needs 2); exam years 2023: 60.0 vs 62.0.",
    f"Reading was not below London.{NOTE}",
    f"  Maths: not enough published years to compare (no data).{NOTE} ",
    'Quotes " and \\ backslash, a tab\tand a line\nbreak, accents: é, ü, “curly”.',
    "",
    "   ",
    "Absence was 7.5% against 6.1% in England.",
]
OUTCOMES = [o.value for o in (Outcome.MET, Outcome.NOT_MET, Outcome.LOW_CONFIDENCE, Outcome.NO_EVIDENCE)]


def _reference(
    items: list[tuple[int, str, dict[str, Any]]], scope: list[int], stale_before: int | None, none_text: str
) -> dict[int, tuple[str, Any]]:
    """The assembly as it was written in Python before decision 0030 (test oracle): school_id -> (outcome,
    evidence as parsed JSON)."""
    inverse = {v: k for k, v in ITEM_RANK.items()}
    met, stale = Outcome.MET.value, Outcome.STALE.value
    by_school: dict[int, list[tuple[str, dict[str, Any]]]] = {}
    for school_id, outcome, item in items:
        by_school.setdefault(school_id, []).append((outcome, item))
    out: dict[int, tuple[str, Any]] = {}
    for school_id in scope:
        parsed = [d for _, d in by_school.get(school_id, [])]
        ranks = []
        for d, o in zip(parsed, [o for o, _ in by_school.get(school_id, [])], strict=True):
            newest = _newest_year(d)
            if newest is not None:
                d["latest_year"] = newest
                if stale_before is not None and newest < stale_before:
                    d["stale"] = True
                    o = stale
            d["outcome"] = o
            if o == met:
                d["data_items"] = _data_items(d)
            ranks.append(ITEM_RANK[o])
        outcome = inverse[max(ranks)] if ranks else Outcome.NO_EVIDENCE.value
        chosen = [d for d in parsed if d["outcome"] == outcome] or parsed
        if outcome == stale:
            latest = max(d["latest_year"] for d in chosen)
            sentence = f"No current evidence (latest {academic_year_label(latest)}): " + join_explanations(
                d["explanation"] for d in chosen
            )
            payload: dict[str, Any] = {
                "explanation": sentence,
                "items": parsed,
                "latest_year": latest,
                "stale": True,
            }
        else:
            sentence = join_explanations(d["explanation"] for d in chosen) if chosen else none_text
            payload = {"explanation": sentence, "items": parsed}
            years = [d["latest_year"] for d in parsed if "latest_year" in d]
            if years:
                payload["latest_year"] = max(years)
        out[school_id] = (str(outcome), orjson.loads(orjson.dumps(payload)))
    return out


def _random_item(rng: random.Random) -> tuple[str, dict[str, Any]]:
    outcome = rng.choice(OUTCOMES)
    text = rng.choice(TEXTS)
    kind = rng.random()
    if kind < 0.6:  # a yearly series (attainment, absence, trend)
        years = sorted(rng.sample(range(2016, 2026), rng.randint(0, 4)))
        values = [rng.choice([None, round(rng.uniform(0, 100), 1)]) for _ in years]
        item: dict[str, Any] = {
            "measure": rng.choice(["ks2_rwm_expected", "absence_overall"]),
            "years": years,
            "values": values,
            "explanation": text,
        }
        if rng.random() < 0.5:
            item["met_years"] = [y for y in years if rng.random() < 0.5]
    elif kind < 0.8:  # an inspection judgement: the check names its own data items
        item = {
            "inspection": "2024-03-05",
            "data_items": [f"inspection:2024-03-05:{rng.randint(1, 4)}"],
            "explanation": text,
        }
    else:  # no yearly data
        item = {"head": "A Head", "explanation": text}
    return outcome, item


@pytest.mark.parametrize("stale_before", [None, 2021])
def test_evidence_rows_equal_the_python_assembly(stale_before: int | None) -> None:
    rng = random.Random(30 + (stale_before or 0))
    scope = list(range(1, 400))
    rng.shuffle(scope)
    rows: list[tuple[int, str, dict[str, Any]]] = []
    for school_id in range(1, 420):  # schools 400-419 are out of scope: their items are dropped
        for _ in range(rng.choice([0, 0, 1, 1, 1, 2, 3, 5])):
            rows.append((school_id, *_random_item(rng)))
    expected = _reference(orjson.loads(orjson.dumps(rows)), scope, stale_before, "Nothing held.")
    # Two parts, as a check with several measures hands them over; items keep their order within a school.
    half = len(rows) // 2
    parts = [
        _detail_frame([(s, o, dict(d)) for s, o, d in rows[:half]]),
        _detail_frame([(s, o, dict(d)) for s, o, d in rows[half:]]),
    ]
    fr = SimpleNamespace(stale_before=stale_before)
    got = _evidence_rows(fr, combine(parts, pl.DataFrame({"school_id": scope})), "Nothing held.")  # type: ignore[arg-type]
    assert got["school_id"].to_list() == scope
    assert {s: (o, orjson.loads(e)) for s, o, e in got.iter_rows()} == expected
    outcomes = set(got["outcome"])
    assert {Outcome.MET.value, Outcome.NO_EVIDENCE.value} <= outcomes
    if stale_before is not None:
        assert Outcome.STALE.value in outcomes


def test_items_built_in_polars_equal_items_built_as_dicts() -> None:
    """`item_frame` (the attainment check's items) and `_detail_frame` (dicts) hand over the same items."""
    frame = pl.DataFrame(
        {
            "school_id": [1, 2, 3, 4],
            "outcome": [
                Outcome.MET.value,
                Outcome.NOT_MET.value,
                Outcome.MET.value,
                Outcome.NO_EVIDENCE.value,
            ],
            "year": [[2022, 2023, 2024], [2023], [2019, 2020], []],
            "value": [[55.5, None, 60.0], [70.0], [float("nan"), 1.0], []],
            "met_years": [[2022, 2024], [], [2019], []],
            "explanation": [TEXTS[0], TEXTS[3], f"Old.{NOTE}", ""],
        }
    )
    polars_items = item_frame(
        frame,
        fields={
            "measure": pl.lit('ks2 "rwm"'),
            "years": pl.col("year"),
            "values": pl.col("value"),
            "met_years": pl.col("met_years"),
            "explanation": pl.col("explanation"),
        },
        newest=pl.Series([2024, 2023, 2020, None]),  # the newest year with a value (NaN is a value)
        data_items=measure_keys('ks2 "rwm"', pl.col("met_years")),
    )
    dict_items = _detail_frame(
        [
            (s, o, {"measure": 'ks2 "rwm"', "years": y, "values": v, "met_years": m, "explanation": e})
            for s, o, y, v, m, e in frame.iter_rows()
        ]
    )
    scope = pl.DataFrame({"school_id": [4, 3, 2, 1, 5]})
    for stale_before in (None, 2021):
        fr = SimpleNamespace(stale_before=stale_before)
        a = _evidence_rows(fr, combine([polars_items], scope), "None.")  # type: ignore[arg-type]
        b = _evidence_rows(fr, combine([dict_items], scope), "None.")  # type: ignore[arg-type]
        assert a["outcome"].to_list() == b["outcome"].to_list()
        assert [orjson.loads(e) for e in a["evidence"]] == [orjson.loads(e) for e in b["evidence"]]
    met = orjson.loads(a["evidence"][3])["items"][0]
    assert met["data_items"] == ['ks2 "rwm":2022', 'ks2 "rwm":2024']
    assert met["values"] == [55.5, None, 60.0] and met["latest_year"] == 2024


def test_with_formatted_formats_each_value_as_the_formatter() -> None:
    calls: list[Any] = []

    def fmt(v: float | None) -> str:
        calls.append(v)
        return "-" if v is None else f"{v:.1f}"

    values = [1.25, None, 1.25, -0.05, 1e6, 0.0, -0.0, float("nan")] * 100
    frame = pl.DataFrame({"id": range(len(values)), "value": values})
    got = with_formatted(frame, "value", fmt, "text")
    assert got["id"].to_list() == list(range(len(values)))
    # Once per distinct value (polars takes 0.0 and -0.0 as one: six), and a few for -0.0, not once a row.
    assert len(calls) <= 10
    assert got["text"].to_list() == [fmt(v) for v in values]
    assert got["text"].to_list()[5:7] == ["0.0", "-0.0"]
