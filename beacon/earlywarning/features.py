"""Time-honest features for the early-warning model, read from the database.

Every feature of a school at a date `as_of` rests only on what was *published* before that date:

- inspections by their publication date (start date + 30 days where the file gives none);
- a school measure for academic year Y (by its start year) from the date its release came out
  (`available_from`): results (KS2, KS4, 16-18) in December of Y+1, the January census in July of Y+1,
  absence in April of Y+2, suspensions in August of Y+2, anything else (finance, workforce...) in
  September of Y+2 (conservative);
- the school's register details that do not change for a URN (phase, type, gender, sixth form,
  religious character, opening date). Closure dates, `is_open` and current ratings are never features.

Results are turned into the school's percentile among all schools with a value for that measure and
year in the database (on the national files: against England), plus the change in that percentile
from the school's previous available year. Missing is missing (NaN): the model learns what no data means.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl
from django.db import connection

from beacon.core.frames import PendingFrame, start_query_frames

GRADED_LEGACY_AREAS = (
    "quality_of_education",
    "behaviour_and_attitudes",
    "personal_development_and_wellbeing",
    "leadership_and_management",
)
KJ_FEATURES = tuple(f"kj_{a}" for a in GRADED_LEGACY_AREAS)
OFSTED_FEATURES = (
    "last_overall",
    "last_below",
    "last_worst_subgrade",
    *KJ_FEATURES,
    "last_concern",
    "prev_overall",
    "n_prior_below",
    "n_prior_graded",
    "years_since_graded",
    "ungraded_signal",
    "years_since_ungraded",
)
SCHOOL_NUMERIC = ("has_sixth_form", "religious", "school_age_years", "roll", "roll_change")
CATEGORICAL = ("phase", "establishment_type", "gender")
PUBLICATION_LAG_DAYS_DEFAULT = 30
EIF_START = dt.date(2019, 9, 1)
MIN_COVERAGE = 0.03  # a measure becomes a feature when at least 3% of schools had a value published


def available_from(topic: str, year: int) -> dt.date:
    """First date on which a school-level figure for academic year `year` (start year) was public."""
    if topic in {"ks2", "ks4", "post16", "send", "ks4dest"}:
        return dt.date(year + 1, 12, 15)
    if topic == "context":
        return dt.date(year + 1, 7, 1)
    if topic == "attendance":
        return dt.date(year + 2, 4, 1)
    if topic == "behaviour":
        return dt.date(year + 2, 8, 1)
    return dt.date(year + 2, 9, 1)


def _query(sql: str, params: list[Any] | None = None) -> list[tuple[object, ...]]:
    with connection.cursor() as cur:
        cur.execute(sql, params or [])
        return list(cur.fetchall())


@dataclass
class Sources:
    """Everything the features read, loaded once (inspections, measures, register). `measures` is derived
    from `values` when first read: each value's publication date and its percentile among the schools with
    the same measure and year (a rank over 1.6 million values nationally). The termly pass hands the
    sources to its scores' worker before then, so the worker derives them beside the rules, not the pass's
    own process (decision 0032)."""

    inspections: pl.DataFrame
    values: pl.DataFrame  # school_id, measure_id, year, value (not null), code
    schools: pl.DataFrame
    measure_meta: dict[str, tuple[str, str, str]] = field(
        default_factory=dict
    )  # code -> label, topic, polarity
    _measures: pl.DataFrame | None = field(default=None, repr=False)

    @property
    def measures(self) -> pl.DataFrame:
        """`values` with `avail` (the date the value was published) and `pct` (its percentile, 0-1]."""
        if self._measures is None:
            self._measures = _with_publication_and_percentile(self.values, self.measure_meta)
        return self._measures


def _with_publication_and_percentile(
    values: pl.DataFrame, meta: dict[str, tuple[str, str, str]]
) -> pl.DataFrame:
    topic_of = {c: m[1] for c, m in meta.items()}
    # The publication date of each (code, year) held: a few hundred pairs, joined back (not a Python call
    # per value: the national database holds millions).
    pairs = values.select("code", "year").unique()
    avail = pairs.with_columns(
        pl.Series(
            "avail",
            [available_from(topic_of.get(c, ""), y) for c, y in pairs.iter_rows()],
            dtype=pl.Date,
        )
    )
    return values.join(avail, on=["code", "year"], how="left", maintain_order="left").with_columns(
        (pl.col("value").rank("average").over("code", "year") / pl.len().over("code", "year")).alias("pct"),
    )


INSPECTION_SCHEMA = {
    "inspection_id": pl.Int64,
    "school_id": pl.Int64,
    "framework": pl.Utf8,
    "start_date": pl.Date,
    "publication_date": pl.Date,
    "overall": pl.Int64,
    "concern": pl.Utf8,
    "outcome_text": pl.Utf8,
    "safeguarding_met": pl.Boolean,
}
GRADE_SCHEMA = {"inspection_id": pl.Int64, "area": pl.Utf8, "grade": pl.Int64}
SCHOOL_SCHEMA = {
    "school_id": pl.Int64,
    "urn": pl.Int64,
    "la_code": pl.Int64,
    "phase": pl.Utf8,
    "establishment_type": pl.Utf8,
    "gender": pl.Utf8,
    "has_sixth_form": pl.Boolean,
    "religious_character": pl.Utf8,
    "open_date": pl.Date,
    "close_date": pl.Date,
    "is_state_funded": pl.Boolean,
    "name": pl.Utf8,
}


def start_sources() -> list[PendingFrame]:
    """Start reading the inspections, their grades and the register for `load_sources` (on a national SQLite
    file, outside a transaction, in a separate process while the caller goes on: decision 0032)."""
    from beacon.indicators.selectors import school_measures_held
    from beacon.inspections.models import Inspection, InspectionGrade
    from beacon.schools.models import School

    queries = [
        (
            Inspection.objects.order_by().values_list(
                "id",
                "school_id",
                "framework",
                "start_date",
                "publication_date",
                "overall_effectiveness",
                "category_of_concern",
                "outcome_text",
                "safeguarding_met",
            ),
            INSPECTION_SCHEMA,
        ),
        (
            InspectionGrade.objects.order_by()
            .filter(not_applicable=False, grade__isnull=False)
            .values_list("inspection_id", "area", "grade"),
            GRADE_SCHEMA,
        ),
        (
            School.objects.order_by().values_list(
                "id",
                "urn",
                "la_code",
                "phase",
                "establishment_type",
                "gender",
                "has_sixth_form",
                "religious_character",
                "open_date",
                "close_date",
                "is_state_funded",
                "name",
            ),
            SCHOOL_SCHEMA,
        ),
    ]
    return start_query_frames(queries, expected_rows=school_measures_held())


def load_sources(
    school_measures: pl.DataFrame | None = None, started: list[PendingFrame] | None = None
) -> Sources:
    """Everything the features read. `school_measures`: the school measures already read by the caller
    (school_id, measure (code), year, value; the risk pass's frame, `risk.services.Frames.school_measures`),
    holding at least every year published before the dates to be scored (a term's data year: nothing
    later is published before the term starts), instead of reading the table a second time. `started`:
    what `start_sources` returned, when the caller started the reads earlier (the termly pass)."""
    pending = started if started is not None else start_sources()
    try:
        insp_frame, grades, school_rows = (p.result() for p in pending)
    finally:
        for p in pending:
            p.close()
    insp = insp_frame.with_columns(pl.col("concern", "outcome_text").fill_null(""))
    fw = dict(insp.select("inspection_id", "framework").iter_rows())
    # Worst grade on the 1 (best) .. 4 (worst) legacy scale; report-card grades (5 best .. 1 worst) mapped.
    g = grades.with_columns(pl.col("inspection_id").replace_strict(fw, default="").alias("framework"))
    g = g.with_columns(
        pl.when(pl.col("framework") == "report_card")
        .then(pl.col("grade").replace_strict({1: 4, 2: 3, 3: 2, 4: 1, 5: 1}, default=None))
        .otherwise(pl.col("grade"))
        .alias("g4")
    )
    worst = g.group_by("inspection_id").agg(pl.col("g4").max().alias("worst_subgrade"))
    kj = (
        g.filter(pl.col("area").is_in(GRADED_LEGACY_AREAS))
        .pivot(on="area", index="inspection_id", values="g4", aggregate_function="first")
        .rename({a: f"kj_{a}" for a in GRADED_LEGACY_AREAS}, strict=False)
    )
    for c in KJ_FEATURES:
        if c not in kj.columns:
            kj = kj.with_columns(pl.lit(None, dtype=pl.Int64).alias(c))
    insp = insp.join(worst, on="inspection_id", how="left").join(
        kj.select("inspection_id", *KJ_FEATURES), on="inspection_id", how="left"
    )
    # Key-judgement sub-grades only from the framework that introduced them (September 2019). Before
    # that date the database holds sub-grades only for inspections that the 2025 snapshot lists as a
    # school's *previous* graded inspection, i.e. schools inspected at most once more since: their mere
    # presence would tell the model about later inspections (a selection leak found in the backtest).
    pre_eif = (pl.col("framework") == "legacy") & (pl.col("start_date") < EIF_START)
    insp = insp.with_columns(
        [pl.when(pre_eif).then(None).otherwise(pl.col(c)).alias(c) for c in ("worst_subgrade", *KJ_FEATURES)]
    )
    insp = insp.with_columns(
        pl.coalesce(
            "publication_date", pl.col("start_date") + pl.duration(days=PUBLICATION_LAG_DAYS_DEFAULT)
        ).alias("known"),
        (
            (pl.col("framework") == "report_card")
            | (
                (pl.col("framework") == "legacy")
                & (pl.col("overall").is_not_null() | pl.col("worst_subgrade").is_not_null())
            )
        ).alias("graded"),
    ).with_columns(
        pl.when(~pl.col("graded"))
        .then(None)
        .when(pl.col("overall").is_not_null())
        .then(pl.col("overall") >= 3)
        .otherwise((pl.col("worst_subgrade").fill_null(0) >= 3) | (pl.col("safeguarding_met") == False))  # noqa: E712
        .alias("below"),
        ((pl.col("concern") != "") | (pl.col("overall") == 4)).alias("has_concern"),
    )

    mrows = _query("SELECT id, code, label, topic, polarity FROM indicators_measure")
    code_of = {r[0]: str(r[1]) for r in mrows}
    meta = {str(r[1]): (str(r[2]), str(r[3]), str(r[4])) for r in mrows}
    if school_measures is None:
        sm = _query(
            "SELECT school_id, measure_id, year, value FROM indicators_schoolmeasure WHERE value IS NOT NULL"
        )
        measures = pl.DataFrame(
            sm,
            schema={"school_id": pl.Int64, "measure_id": pl.Int64, "year": pl.Int64, "value": pl.Float64},
            orient="row",
        ).with_columns(pl.col("measure_id").replace_strict(code_of, return_dtype=pl.Utf8).alias("code"))
    else:
        id_of = {c: i for i, c in code_of.items()}
        measures = school_measures.filter(pl.col("value").is_not_null()).select(
            pl.col("school_id").cast(pl.Int64),
            pl.col("measure").replace_strict(id_of, return_dtype=pl.Int64).alias("measure_id"),
            pl.col("year").cast(pl.Int64),
            pl.col("value").cast(pl.Float64),
            pl.col("measure").alias("code"),
        )

    religious = pl.col("religious_character")
    schools = school_rows.select(
        "school_id",
        "urn",
        "la_code",
        pl.col("phase", "establishment_type", "gender").fill_null(""),
        pl.col("has_sixth_form").cast(pl.Float64),
        (
            religious.is_not_null()
            & (religious != "")
            & ~religious.str.to_lowercase().is_in(["none", "does not apply"])
        )
        .cast(pl.Float64)
        .alias("religious"),
        "open_date",
        "close_date",
        pl.col("is_state_funded").fill_null(False),
        "name",
    )
    return Sources(inspections=insp, values=measures, schools=schools, measure_meta=meta)


def population(src: Sources, as_of: dt.date, la_code: int | None = None) -> pl.DataFrame:
    """State-funded schools open on `as_of` (school_id, as_of)."""
    s = src.schools.filter(
        pl.col("is_state_funded")
        & (pl.col("open_date").is_null() | (pl.col("open_date") < as_of))
        & (pl.col("close_date").is_null() | (pl.col("close_date") >= as_of))
    )
    if la_code is not None:
        s = s.filter(pl.col("la_code") == la_code)
    return s.select("school_id", pl.lit(as_of).alias("as_of"))


def feature_codes(src: Sources, as_of: dt.date) -> list[str]:
    """Measures with enough school-level values published before `as_of` to be features."""
    m = src.measures.filter(pl.col("avail") < as_of)
    n_schools = max(src.schools.height, 1)
    cov = m.group_by("code").agg(pl.col("school_id").n_unique().alias("n"))
    return sorted(cov.filter(pl.col("n") >= MIN_COVERAGE * n_schools)["code"].to_list())


def first_graded_after(
    src: Sources, start: dt.date, end: dt.date, known_before: dt.date | None = None
) -> pl.DataFrame:
    """school_id, below (bool), outcome_date: each school's first graded inspection in [start, end)."""
    g = src.inspections.filter(
        pl.col("graded") & (pl.col("start_date") >= start) & (pl.col("start_date") < end)
    )
    if known_before is not None:
        g = g.filter(pl.col("known") < known_before)
    return (
        g.sort("start_date")
        .group_by("school_id")
        .agg(pl.col("below").first(), pl.col("start_date").first().alias("outcome_date"))
    )


def _asof(left: pl.DataFrame, right: pl.DataFrame, on_right: str) -> pl.DataFrame:
    # Both sides sorted by the date key globally, as join_asof requires (it cannot check it within `by`).
    return left.sort("as_of").join_asof(
        right.sort(on_right),
        left_on="as_of",
        right_on=on_right,
        by="school_id",
        strategy="backward",
        allow_exact_matches=False,
        check_sortedness=False,
    )


def build_features(src: Sources, rows: pl.DataFrame, codes: list[str]) -> pl.DataFrame:
    """rows: (row_id, school_id, as_of). Returns one row per input row with feature and meta columns."""
    days = 365.25
    graded = (
        src.inspections.filter(pl.col("graded"))
        .sort("school_id", "known")
        .with_columns(
            pl.col("overall").shift(1).over("school_id").alias("prev_overall"),
            pl.col("below").cast(pl.Int64).cum_sum().over("school_id").alias("n_prior_below"),
            pl.int_range(1, pl.len() + 1).over("school_id").alias("n_prior_graded"),
        )
        .select(
            "school_id",
            pl.col("known").alias("g_known"),
            pl.col("start_date").alias("last_graded_date"),
            pl.col("overall").alias("last_overall"),
            pl.col("below").cast(pl.Float64).alias("last_below"),
            pl.col("worst_subgrade").alias("last_worst_subgrade"),
            *KJ_FEATURES,
            pl.col("has_concern").cast(pl.Float64).alias("last_concern"),
            "prev_overall",
            "n_prior_below",
            "n_prior_graded",
            pl.col("framework").alias("last_framework"),
        )
    )
    df = _asof(rows, graded, "g_known")
    ungraded = src.inspections.filter(pl.col("framework") == "ungraded").select(
        "school_id",
        pl.col("known").alias("u_known"),
        pl.col("start_date").alias("ungraded_date"),
        pl.col("outcome_text").alias("ungraded_outcome"),
    )
    df = _asof(df, ungraded, "u_known")
    low = pl.col("ungraded_outcome").str.to_lowercase()
    after_graded = pl.col("last_graded_date").is_null() | (
        pl.col("ungraded_date") > pl.col("last_graded_date")
    )
    df = df.with_columns(
        pl.when(pl.col("ungraded_date").is_null() | ~after_graded)
        .then(None)
        .when(low.str.contains("concern|not as strong|declin|graded inspection"))
        .then(1.0)
        .when(low.str.contains("improv"))
        .then(-1.0)
        .otherwise(0.0)
        .alias("ungraded_signal"),
        pl.when(after_graded)
        .then((pl.col("as_of") - pl.col("ungraded_date")).dt.total_days() / days)
        .otherwise(None)
        .alias("years_since_ungraded"),
        ((pl.col("as_of") - pl.col("last_graded_date")).dt.total_days() / days).alias("years_since_graded"),
        pl.col("n_prior_below").fill_null(0).cast(pl.Float64),
        pl.col("n_prior_graded").fill_null(0).cast(pl.Float64),
    )
    # Measures: latest published year of each code, its percentile, change from the previous year held.
    # Each code's rows, split once (not a scan of every measure value per code).
    by_code = src.measures.filter(pl.col("code").is_in(codes)).partition_by(
        "code", as_dict=True, maintain_order=True
    )
    empty = src.measures.clear()
    for code in codes:
        m = (
            by_code.get((code,), empty)
            .sort("school_id", "year")
            .with_columns(
                pl.col("pct").shift(1).over("school_id").alias("_prev_pct"),
                pl.col("value").shift(1).over("school_id").alias("_prev_value"),
                pl.col("year").shift(1).over("school_id").alias("_prev_year"),
            )
            .select(
                "school_id",
                pl.col("avail").alias(f"{code}__avail"),
                pl.col("pct").alias(f"{code}_pct"),
                pl.when(pl.col("year") - pl.col("_prev_year") <= 3)
                .then(pl.col("pct") - pl.col("_prev_pct"))
                .otherwise(None)
                .alias(f"{code}_chg"),
                pl.col("value").alias(f"{code}__value"),
                pl.col("year").alias(f"{code}__year"),
                pl.when(pl.col("year") - pl.col("_prev_year") <= 3)
                .then(pl.col("_prev_value"))
                .otherwise(None)
                .alias(f"{code}__prev_value"),
            )
        )
        df = _asof(df, m, f"{code}__avail")
    if "pupils" in codes:
        df = df.with_columns(
            pl.col("pupils__value").alias("roll"),
            (pl.col("pupils__value") / pl.col("pupils__prev_value") - 1.0).alias("roll_change"),
        )
    else:
        df = df.with_columns(
            pl.lit(None, dtype=pl.Float64).alias("roll"), pl.lit(None, dtype=pl.Float64).alias("roll_change")
        )
    df = df.join(
        src.schools.select(
            "school_id",
            "urn",
            "la_code",
            "phase",
            "establishment_type",
            "gender",
            "has_sixth_form",
            "religious",
            "open_date",
        ),
        on="school_id",
        how="left",
    ).with_columns(
        ((pl.col("as_of") - pl.col("open_date")).dt.total_days() / days).alias("school_age_years"),
    )
    return df.sort("row_id")


def feature_names(codes: list[str]) -> list[str]:
    names = list(OFSTED_FEATURES)
    for c in codes:
        names += [f"{c}_pct", f"{c}_chg"]
    return names + list(SCHOOL_NUMERIC) + list(CATEGORICAL)


@dataclass
class Matrix:
    X: np.ndarray
    names: list[str]
    categorical: list[bool]


def to_matrix(df: pl.DataFrame, codes: list[str], vocab: dict[str, list[str]]) -> Matrix:
    """Numeric matrix (NaN for missing); categoricals as codes in `vocab` (unknown -> NaN)."""
    names = feature_names(codes)
    cols: list[np.ndarray] = []
    for n in names:
        if n in CATEGORICAL:
            idx = {v: i for i, v in enumerate(vocab.get(n, []))}
            cols.append(np.array([idx.get(v, np.nan) if v else np.nan for v in df[n].to_list()], dtype=float))
        else:
            cols.append(df[n].cast(pl.Float64).fill_nan(None).to_numpy().astype(float))
    X = np.column_stack(cols) if cols else np.zeros((df.height, 0))
    return Matrix(X=X, names=names, categorical=[n in CATEGORICAL for n in names])


def build_vocab(df: pl.DataFrame) -> dict[str, list[str]]:
    return {c: sorted(v for v in df[c].unique().to_list() if v)[:250] for c in CATEGORICAL}
