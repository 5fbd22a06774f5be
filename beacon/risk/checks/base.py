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


def fixed(decimals: int) -> Callable[[float | None], str]:
    """A number shown with `decimals` decimals, '-' for none (counts, rates and measures in the sentences)."""

    def fmt(v: float | None) -> str:
        return "-" if v is None else f"{v:.{decimals}f}"

    return fmt


def _formatter(measure: str) -> Callable[[float | None], str]:
    """`_fmt` for one measure, its decimals looked up once (the national pass formats ~700,000 values)."""
    return fixed(BY_CODE[measure].decimals if measure in BY_CODE else 1)


def with_formatted(frame: pl.DataFrame, column: str, fmt: Callable[[Any], str], alias: str) -> pl.DataFrame:
    """`frame` with a text column `alias`: `fmt` of each value of `column`, called once per distinct value
    (a few thousand Python calls for a national column of hundreds of thousands of values)."""
    distinct = frame.get_column(column).unique()
    texts = pl.DataFrame(
        {column: distinct, alias: [fmt(v) for v in distinct.to_list()]},
        schema={column: distinct.dtype, alias: pl.Utf8},
    )
    out = frame.join(texts, on=column, how="left", nulls_equal=True, maintain_order="left")
    if distinct.dtype.is_float() and fmt(-0.0) != fmt(0.0):  # polars takes -0.0 and 0.0 as one value
        zero = pl.col(column) == 0
        out = out.with_columns(
            pl.when(zero & ((1.0 / pl.col(column)) < 0))
            .then(pl.lit(fmt(-0.0)))
            .when(zero)
            .then(pl.lit(fmt(0.0)))
            .otherwise(pl.col(alias))
            .alias(alias)
        )
    return out


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


# One row per evidence item, as every check hands its items to `_evidence_rows` (decision 0030):
# the item's own JSON object, its outcome, the newest academic year it has a value for, its explanation, and
# the data items it rests on (a JSON array: `met_keys` when it is met, `own_keys` as the check gave them).
ITEM_SCHEMA = {
    "school_id": pl.Int64,
    "outcome": pl.Utf8,
    "newest": pl.Int64,
    "item": pl.Utf8,
    "explanation": pl.Utf8,
    "met_keys": pl.Utf8,
    "own_keys": pl.Utf8,
}


@dataclass
class Details:
    """A check's evidence items, one row each (`ITEM_SCHEMA`); after `combine`, `schools` holds the schools
    in scope, in order, and the items are theirs.

    The items reach the result's one JSON text as JSON text: a check that builds them in polars (the
    attainment check, ~150,000 items nationally) never makes a Python object per item (decision 0030)."""

    frame: pl.DataFrame
    schools: pl.DataFrame | None = None


def _detail_frame(rows: list[tuple[int, str, dict[str, Any]]]) -> Details:
    """Items a check built as dicts, (school_id, outcome, item): each item as JSON, with the columns
    `_evidence_rows` reads from it."""
    met = Outcome.MET.value
    columns: tuple[list[Any], ...] = ([], [], [], [], [], [], [])
    ids, outcomes, newest, texts, explanations, met_keys, own_keys = columns
    for school_id, outcome, item in rows:
        # Only a met item lists its data items (staleness can turn a met item stale, never the reverse).
        keys = _dumps(_data_items(item)) if outcome == met else None
        own = item.pop("data_items", None)
        ids.append(school_id)
        outcomes.append(str(outcome))
        newest.append(_newest_year(item))
        texts.append(_dumps(item))
        explanations.append(item["explanation"])
        met_keys.append(keys)
        own_keys.append(None if own is None else _dumps(own))
    return Details(pl.DataFrame(dict(zip(ITEM_SCHEMA, columns, strict=True)), schema=ITEM_SCHEMA))


def _json_member(name: str, value: pl.Expr) -> pl.Expr:
    """`"name":value` (a JSON object's member, value encoded) for each row."""
    return pl.struct(value.alias(name)).struct.json_encode().str.strip_prefix("{").str.strip_suffix("}")


def _json_value(value: pl.Expr) -> pl.Expr:
    """The value as JSON text, for each row."""
    return _json_member("v", value).str.strip_prefix('"v":')


def measure_keys(measure: str, years: pl.Expr) -> pl.Expr:
    """The data items `measure:year` of a list of years (what `_data_items` makes of an item's years)."""
    return years.list.eval(pl.concat_str(pl.lit(f"{measure}:"), pl.element().cast(pl.Utf8)))


def item_frame(
    frame: pl.DataFrame,
    *,
    fields: dict[str, pl.Expr],
    newest: pl.Expr,
    data_items: pl.Expr,
    own_data_items: bool = False,
) -> Details:
    """Items built in polars: one per row of `frame` (which has `school_id`, `outcome` and `explanation`).

    `fields` are the item's keys and values, in order (`explanation` among them); `newest` the newest year
    with a value; `data_items` the list of data items that make it met (`measure_keys`, or the check's own
    keys: `own_data_items`, kept in the item whatever its outcome, as a dict item's `data_items`)."""
    keys = _json_value(data_items)
    return Details(
        frame.select(
            "school_id",
            "outcome",
            newest.cast(pl.Int64).alias("newest"),
            pl.struct([value.alias(key) for key, value in fields.items()]).struct.json_encode().alias("item"),
            "explanation",
            keys.alias("met_keys"),
            (keys if own_data_items else pl.lit(None, dtype=pl.Utf8)).alias("own_keys"),
        )
    )


def combine(parts: list[Details], schools: pl.DataFrame) -> Details:
    """The items of every part for the schools in scope, in the parts' order."""
    frame = pl.concat([p.frame for p in parts]) if parts else pl.DataFrame(schema=ITEM_SCHEMA)
    scope = schools.select("school_id")
    return Details(frame.join(scope, on="school_id", how="semi", maintain_order="left"), scope)


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
    year and too few similar-intake schools to compare with) is said once, at the end, not after every item.
    (`_evidence_rows` does the same in polars.)"""
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


def year_label(year: pl.Expr) -> pl.Expr:
    """`academic_year_label` in polars: 2024 -> '2024/25' (null stays null)."""
    return pl.concat_str(year.cast(pl.Utf8), pl.lit("/"), ((year + 1) % 100).cast(pl.Utf8).str.zfill(2))


def _evidence_rows(fr: Frames, combined: Details, none_text: str) -> pl.DataFrame:
    """Turn combined details into the result frame: each school's evidence as JSON text, with an
    explanation sentence, built in polars (decision 0030).

    Each item keeps its own outcome. An item whose newest value is older than `fr.stale_before` is
    'stale evidence' (never met); the criterion's outcome is the strongest over its items, its explanation
    those of the items with that outcome (`join_explanations`). A met item lists the data items
    (measure:year) it rests on, so one data item is counted under one criterion."""
    assert combined.schools is not None, "combine() the parts first"
    met, stale = Outcome.MET.value, Outcome.STALE.value
    outcome, newest = pl.col("outcome"), pl.col("newest")
    if fr.stale_before is not None:
        outcome = pl.when(newest < fr.stale_before).then(pl.lit(stale)).otherwise(outcome)
    items = combined.frame.with_columns(outcome.alias("outcome"))
    o = pl.col("outcome")
    items = items.select(
        "school_id",
        "newest",
        o.replace_strict(ITEM_RANK, return_dtype=pl.Int64).alias("rank"),
        # The item with what the evaluation adds: its newest year, staleness, outcome and data items.
        pl.concat_str(
            pl.col("item").str.strip_suffix("}"),
            pl.when(newest.is_not_null())
            .then(pl.concat_str(pl.lit(',"latest_year":'), newest.cast(pl.Utf8)))
            .otherwise(pl.lit("")),
            pl.when(o == stale).then(pl.lit(',"stale":true')).otherwise(pl.lit("")),
            pl.concat_str(pl.lit(',"outcome":"'), o, pl.lit('"')),
            pl.when(o == met)
            .then(pl.concat_str(pl.lit(',"data_items":'), pl.col("met_keys")))
            .when(pl.col("own_keys").is_not_null())
            .then(pl.concat_str(pl.lit(',"data_items":'), pl.col("own_keys")))
            .otherwise(pl.lit("")),
            pl.lit("}"),
        ).alias("item"),
        pl.col("explanation").str.replace_all(_SHARED_NOTE.pattern, "").str.strip_chars().alias("body"),
        pl.col("explanation").str.extract_all(_SHARED_NOTE.pattern).alias("notes"),
    )
    top = pl.col("rank") == pl.col("rank").max()
    grouped = items.group_by("school_id", maintain_order=True).agg(
        pl.col("rank").max(),
        pl.col("item").str.join(",").alias("items"),
        pl.col("body").filter(top & (pl.col("body") != "")).alias("bodies"),
        pl.col("notes").filter(top).list.explode(keep_nulls=False, empty_as_null=False).alias("notes"),
        newest.max().alias("latest"),
        newest.filter(top).max().alias("latest_chosen"),
    )
    inverse = {v: k for k, v in ITEM_RANK.items()}
    is_stale = pl.col("rank") == ITEM_RANK[stale]
    joined = pl.concat_list(
        "bodies", pl.col("notes").list.eval(pl.element().str.strip_chars()).list.unique(maintain_order=True)
    ).list.join(" ")
    chosen = pl.col("latest_chosen")
    label = year_label(chosen)
    explanation = (
        pl.when(pl.col("rank").is_null())
        .then(pl.lit(none_text))
        .when(is_stale)
        .then(pl.concat_str(pl.lit("No current evidence (latest "), label, pl.lit("): "), joined))
        .otherwise(joined)
    )
    latest = pl.when(is_stale).then(chosen).otherwise(pl.col("latest"))
    return (
        combined.schools.join(grouped, on="school_id", how="left", maintain_order="left")
        .select(
            "school_id",
            pl.col("rank")
            .replace_strict(inverse, default=None, return_dtype=pl.Utf8)
            .fill_null(Outcome.NO_EVIDENCE.value)
            .alias("outcome"),
            pl.concat_str(
                pl.lit("{"),
                _json_member("explanation", explanation),
                pl.lit(',"items":['),
                pl.col("items").fill_null(""),
                pl.lit("]"),
                pl.when(latest.is_not_null())
                .then(pl.concat_str(pl.lit(',"latest_year":'), latest.cast(pl.Utf8)))
                .otherwise(pl.lit("")),
                pl.when(is_stale).then(pl.lit(',"stale":true')).otherwise(pl.lit("")),
                pl.lit("}"),
            ).alias("evidence"),
        )
        .cast(RESULT_SCHEMA)  # type: ignore[arg-type]
    )


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
