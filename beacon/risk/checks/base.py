"""What every check shares: the comparator areas, outcome precedence, measure series, evidence rows.

A check is `check(frames, params, schools_in_scope) -> (school_id, outcome, evidence JSON)`; the
registry of checks by name is `beacon.risk.checks.CHECKS`."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson
import polars as pl

from beacon.core.frames import tuple_rows
from beacon.core.terms import academic_year_label
from beacon.indicators.catalogue import BY_CODE
from beacon.indicators.models import Polarity
from beacon.risk.models import Outcome

if TYPE_CHECKING:
    from beacon.risk.services import Frames


ENGLAND, LONDON = 970, 986
COMPARATOR_AREAS = {"national": ENGLAND, "london": LONDON}
COMPARATOR_LABELS = {"national": "England", "london": "London", "la": "the LA"}
# Outcome precedence when a criterion has several measures: any 'met' wins, then a judged 'not_met'.
PRECEDENCE = {Outcome.MET: 3, Outcome.NOT_MET: 2, Outcome.LOW_CONFIDENCE: 1, Outcome.NO_EVIDENCE: 0}
RESULT_SCHEMA = {"school_id": pl.Int64, "outcome": pl.Utf8, "evidence": pl.Utf8}
DETAIL_SCHEMA = {"school_id": pl.Int64, "outcome": pl.Utf8, "detail": pl.Int64}


_JSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


def _dumps(obj: Any) -> str:
    """Evidence as JSON text. NaN and infinities (e.g. a fall from a roll of 0) become null, dates ISO
    strings, tuples arrays (orjson does all three natively: the national pass writes ~270,000 of these,
    decision 0027)."""
    return orjson.dumps(obj, option=_JSON_OPTIONS).decode()


_loads = orjson.loads


def named_rows(frame: pl.DataFrame) -> Iterator[dict[str, Any]]:
    """The frame's rows as dicts, as `iter_rows(named=True)` gives them (see `tuple_rows`)."""
    columns = frame.columns
    return (dict(zip(columns, values, strict=True)) for values in tuple_rows(frame))


def _fmt(v: float | None, measure: str = "") -> str:
    if v is None:
        return "-"
    decimals = BY_CODE[measure].decimals if measure in BY_CODE else 1
    return f"{v:.{decimals}f}"


def _formatter(measure: str) -> Callable[[float | None], str]:
    """`_fmt` for one measure, its decimals looked up once (the national pass formats ~700,000 values)."""
    decimals = BY_CODE[measure].decimals if measure in BY_CODE else 1

    def fmt(v: float | None) -> str:
        return "-" if v is None else f"{v:.{decimals}f}"

    return fmt


def _label(measure: str) -> str:
    return BY_CODE[measure].label if measure in BY_CODE else measure


def _high_good(measure: str) -> bool:
    return BY_CODE[measure].polarity != Polarity.LOW_GOOD if measure in BY_CODE else True


def _ok(col: str = "status") -> pl.Expr:
    return pl.col(col) == "ok"


def series(fr: Frames, measure: str, cohort: str = "") -> pl.DataFrame:
    """school_id, year, value, ok, cohort for one measure (all years up to the data year)."""
    s = fr.school_measures.filter(pl.col("measure") == measure).select(
        "school_id", "year", "value", (_ok() & pl.col("value").is_not_null()).alias("ok"), "status"
    )
    if cohort:
        c = fr.school_measures.filter((pl.col("measure") == cohort) & _ok()).select(
            "school_id", "year", pl.col("value").alias("cohort")
        )
        s = s.join(c, on=["school_id", "year"], how="left")
    else:
        s = s.with_columns(pl.lit(None, dtype=pl.Float64).alias("cohort"))
    return s


def area_series(fr: Frames, measure: str, area_code: int) -> pl.DataFrame:
    return fr.area_measures.filter(
        (pl.col("measure") == measure) & (pl.col("area_code") == area_code) & _ok()
    ).select("year", pl.col("value").alias("bench"))


@dataclass
class Details:
    """A check's evidence items: `frame` holds (school_id, outcome, detail), `detail` indexing `items`.

    The items stay Python dicts from the check that made them to the one JSON text of each result: the
    national pass makes ~270,000 of them, and writing each as JSON and reading it back cost a second."""

    frame: pl.DataFrame
    items: list[dict[str, Any]]


def _detail_frame(rows: list[tuple[int, str, dict[str, Any]]]) -> Details:
    return Details(
        pl.DataFrame(
            {
                "school_id": [r[0] for r in rows],
                "outcome": [r[1] for r in rows],
                "detail": range(len(rows)),
            },
            schema=DETAIL_SCHEMA,
        ),
        [r[2] for r in rows],
    )


def combine(parts: list[Details], schools: pl.DataFrame) -> Details:
    """One row per school in scope: the strongest outcome over the parts, with all their evidence (the
    frame's `details` lists indexes into the items of every part)."""
    frames: list[pl.DataFrame] = []
    items: list[dict[str, Any]] = []
    for part in parts:
        frames.append(part.frame.with_columns(pl.col("detail") + len(items)))
        items.extend(part.items)
    allp = pl.concat(frames) if frames else pl.DataFrame(schema=DETAIL_SCHEMA)
    allp = allp.with_columns(
        pl.col("outcome").replace_strict(PRECEDENCE, return_dtype=pl.Int64).alias("rank")
    )
    combined = (
        schools.select("school_id")
        .join(allp, on="school_id", how="left")
        .group_by("school_id", maintain_order=True)
        .agg(
            pl.col("rank").max().alias("rank"),
            pl.col("detail").drop_nulls().alias("details"),
            pl.col("outcome").drop_nulls().alias("outcomes"),
        )
    )
    return Details(combined, items)


def _newest_year(item: dict[str, Any]) -> int | None:
    """The newest academic year with a value in an evidence item (None: the item has no yearly data)."""
    years, values = item.get("years"), item.get("values")
    if not isinstance(years, list) or not isinstance(values, list):
        return None
    newest = None  # one pass, no list: the national pass asks this of ~260,000 items
    for y, v in zip(years, values, strict=False):
        if v is not None and isinstance(y, int) and (newest is None or y > newest):
            newest = y
    return newest


def _data_items(item: dict[str, Any]) -> list[str]:
    """The data items (measure and academic year, or inspection judgement) that make an item met."""
    if "data_items" in item:
        return [str(k) for k in item["data_items"]]
    years = item.get("met_years", item.get("years")) or []
    return [f"{item.get('measure', '')}:{y}" for y in years]


# Outcome of a criterion from its items: stale evidence ranks above no evidence, below a judged one.
ITEM_RANK = {**{str(k): v * 2 for k, v in PRECEDENCE.items()}, Outcome.STALE.value: 1}


_SHARED_NOTE_END = "and too few schools with a similar intake to compare with."  # every note ends so
_SHARED_NOTE = re.compile(
    r" ?No progress score published for [0-9, ]+ and too few schools with a similar intake to compare with\."
)


def join_explanations(texts: Iterable[str]) -> str:
    """The items' explanations as one text; the note several items share (no progress score published for a
    year and too few similar-intake schools to compare with) is said once, at the end, not after every item."""
    texts = list(texts)
    if len(texts) == 1 and _SHARED_NOTE_END not in texts[0]:  # most results: one item, no note
        return texts[0].strip()
    if not any(_SHARED_NOTE_END in text for text in texts):  # no note to move: the texts, stripped
        return " ".join(b for b in (text.strip() for text in texts) if b)
    body: list[str] = []
    notes: list[str] = []
    for text in texts:
        for note in _SHARED_NOTE.findall(text):
            if note.strip() not in notes:
                notes.append(note.strip())
        body.append(_SHARED_NOTE.sub("", text).strip())
    return " ".join([b for b in body if b] + notes)


def _evidence_rows(fr: Frames, combined: Details, none_text: str) -> pl.DataFrame:
    """Turn combined details into the result frame: each school's evidence as JSON text, with an
    explanation sentence.

    Each item keeps its own outcome. An item whose newest value is older than `fr.stale_before` is
    'stale evidence' (never met); the criterion's outcome is the strongest over its items. A met item
    lists the data items (measure:year) it rests on, so one data item is counted under one criterion."""
    inverse = {v: k for k, v in ITEM_RANK.items()}
    stale_before = fr.stale_before
    met, stale, no_evidence = Outcome.MET.value, Outcome.STALE.value, Outcome.NO_EVIDENCE.value
    out: list[tuple[int, str, str]] = []
    items = combined.items
    for school_id, _rank, details, outcomes in tuple_rows(combined.frame):
        parsed = [items[i] for i in details]
        ranks = []
        for d, o in zip(parsed, outcomes, strict=False):
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
        outcome = inverse[max(ranks)] if ranks else no_evidence
        chosen = [d for d in parsed if d["outcome"] == outcome] or parsed
        payload: dict[str, Any]
        if outcome == stale:
            latest = max(d["latest_year"] for d in chosen)
            sentence = f"No current evidence (latest {academic_year_label(latest)}): " + join_explanations(
                d["explanation"] for d in chosen
            )
            payload = {"explanation": sentence, "items": parsed, "latest_year": latest, "stale": True}
        else:
            sentence = join_explanations(d["explanation"] for d in chosen) if chosen else none_text
            payload = {"explanation": sentence, "items": parsed}
            years = [d["latest_year"] for d in parsed if "latest_year" in d]
            if years:
                payload["latest_year"] = max(years)
        out.append((school_id, str(outcome), _dumps(payload)))
    return pl.DataFrame(out, schema=RESULT_SCHEMA, orient="row")


def _windowed(s: pl.DataFrame, years: int) -> pl.DataFrame:
    """The latest `years` rows per school (by year) among the rows given."""
    return (
        s.sort("school_id", "year", descending=[False, True])
        .with_columns(pl.int_range(pl.len()).over("school_id").alias("_i"))
        .filter(pl.col("_i") < years)
        .drop("_i")
        .sort("school_id", "year")
    )


# `Frames` is named as a string: it lives in beacon.risk.services, which imports the checks.
Check = Callable[["Frames", dict[str, Any], pl.DataFrame], pl.DataFrame]
