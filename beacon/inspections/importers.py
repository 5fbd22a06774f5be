"""Ofsted inspection importers.

Sources (keys as `beacon.imports.demo.DEMO_ORDER` loads them):

* ``ofsted_inspection_history`` - every past graded inspection per URN (waiky8 ``ofsted_ratings_2018.csv``,
  ~60k rows nationally): one legacy `Inspection` per (school, framework, start date), the published
  word kept as ``outcome_text``. 'Satisfactory' was grade 3 before September 2012 and is stored as 3.
* ``ofsted_latest`` - latest graded inspection per school from the Ofsted official-statistics layout
  ('Overall effectiveness' 1-4 or 'Not judged', 'Inspection start date'), e.g. pvhee
  ``schools_london_complete.csv`` (as at 31 December 2024).
* ``ofsted_management_information`` - the Ofsted MI (2026 edition): the latest full inspection as a
  report card (five-point grade per evaluation area, safeguarding met / not met), the latest OEIF
  graded inspection (overall effectiveness + key judgements, 9 = not applicable) and the latest
  ungraded inspection (outcome as published).

Not imported, on purpose: GIAS ``ofsted_rating`` + ``ofsted_last_insp`` (clarelgibson ``dim_school.csv``)
and wrm65's rating. GIAS's date is the date of the *last inspection of any kind* (often the second
day of a graded inspection, or a later ungraded one: e.g. Gospel Oak 100025 'Outstanding' dated
2021-10-20, which the MI shows was an ungraded inspection), so the rating cannot be dated honestly.

Every cell is validated before anything is written: an unknown grade word, a date that is not a date
or a grade without its inspection date rejects the whole file with row, column and reason. Only
schools in the register (and in the run's LA, if one is set) are kept; the rest are counted in a note.
Writes are upserts by (school, framework, start_date) and (inspection, area), so re-runs add nothing.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import polars as pl
from django.db import connections, router

from beacon.imports.framework import (
    ROW_COL,
    Column,
    ImportContext,
    ImportRejected,
    LoadResult,
    Source,
    register,
    today,
    upsert_rows,
)
from beacon.inspections.models import (
    EvaluationArea,
    Framework,
    Inspection,
    InspectionGrade,
    OverallEffectiveness,
)

Error = dict[str, Any]

# --------------------------------------------------------------------------------------------
# Vocabularies (keys are lower case with single spaces)

LEGACY_WORDS: dict[str, int] = {
    "outstanding": OverallEffectiveness.OUTSTANDING,
    "good": OverallEffectiveness.GOOD,
    "requires improvement": OverallEffectiveness.REQUIRES_IMPROVEMENT,
    "satisfactory": OverallEffectiveness.REQUIRES_IMPROVEMENT,  # grade 3 until August 2012
    "inadequate": OverallEffectiveness.INADEQUATE,
}
NOT_JUDGED = 0  # sentinel: a graded inspection without an overall grade (from September 2024)
NOT_APPLICABLE = 9  # Ofsted's code for a key judgement that does not apply
OVERALL_CODES: dict[str, int] = {"1": 1, "2": 2, "3": 3, "4": 4, "not judged": NOT_JUDGED}
KEY_JUDGEMENT_CODES: dict[str, int] = {"1": 1, "2": 2, "3": 3, "4": 4, "9": NOT_APPLICABLE}
REPORT_CARD_WORDS: dict[str, int] = {
    "exceptional": 5,
    "strong standard": 4,
    "expected standard": 3,
    "needs attention": 2,
    "urgent improvement": 1,
    "not applicable": NOT_APPLICABLE,
}
MET_WORDS: dict[str, int] = {"met": 1, "not met": 0}
YES_NO: dict[str, int] = {"yes": 1, "no": 0}
SATISFACTORY_ENDED = dt.date(2012, 9, 1)


# --------------------------------------------------------------------------------------------
# Vectorised checks (each returns the parsed Series and every error, with the file's header)


def _words(s: pl.Series) -> pl.Series:
    return s.str.to_lowercase().str.replace_all(r"\s+", " ").str.strip_chars()


def coded(
    df: pl.DataFrame, col: str, header: str, vocab: Mapping[str, int], what: str
) -> tuple[pl.Series, list[Error]]:
    """Map words/codes to ints; a filled cell outside `vocab` is an error naming row and column."""
    raw = df[col]
    codes = _words(raw).replace_strict(dict(vocab), default=None, return_dtype=pl.Int64)
    bad = raw.is_not_null() & codes.is_null()
    allowed = ", ".join(f"'{k}'" for k in vocab)
    errors = [
        {
            "row": row,
            "column": header,
            "value": str(value)[:80],
            "reason": f"Not a {what} (expected {allowed})",
        }
        for row, value in zip(df[ROW_COL].filter(bad), raw.filter(bad), strict=True)
    ]
    return codes.alias(col), errors


def required_when(df: pl.DataFrame, mask: pl.Series, col: str, header: str, reason: str) -> list[Error]:
    bad = mask & df[col].is_null()
    return [{"row": row, "column": header, "value": "", "reason": reason} for row in df[ROW_COL].filter(bad)]


def dates_in_order(
    df: pl.DataFrame, start: str, later: str, header: str, *, start_header: str
) -> list[Error]:
    """A publication date before the start date, or a start date in the future, is an error."""
    errors: list[Error] = []
    bad = (df[later] < df[start]).fill_null(False)
    for row, value in zip(df[ROW_COL].filter(bad), df[later].filter(bad), strict=True):
        errors.append(
            {"row": row, "column": header, "value": str(value), "reason": "Before the inspection start date"}
        )
    future = (df[start] > today()).fill_null(False)
    for row, value in zip(df[ROW_COL].filter(future), df[start].filter(future), strict=True):
        errors.append({"row": row, "column": start_header, "value": str(value), "reason": "In the future"})
    return errors


def reject_if(errors: list[Error]) -> None:
    if errors:
        errors.sort(key=lambda e: (e["row"], e["column"]))
        raise ImportRejected(errors)


# --------------------------------------------------------------------------------------------
# Register and writing


def register_frame(ctx: ImportContext) -> pl.DataFrame:
    """URN -> school id for the register (limited to the run's LA, if set)."""
    from beacon.schools.models import School

    qs = School.objects.all()
    if ctx.la_code is not None:
        qs = qs.filter(la_code=ctx.la_code)
    return pl.DataFrame(
        list(qs.values_list("urn", "id")), schema={"urn": pl.Int64, "school_id": pl.Int64}, orient="row"
    )


def keep_register(df: pl.DataFrame, ctx: ImportContext, notes: list[str]) -> tuple[pl.DataFrame, int]:
    kept = df.join(register_frame(ctx), on="urn", how="inner")
    skipped = df.height - kept.height
    if skipped:
        where = f"LA {ctx.la_code}'s register" if ctx.la_code is not None else "the register"
        notes.append(
            f"{skipped} row(s) skipped: {df.filter(~pl.col('urn').is_in(kept['urn'].unique().to_list()))['urn'].n_unique()}"
            f" URN(s) not in {where}."
        )
    return kept, skipped


def _db_rows(frame: pl.DataFrame, date_cols: Iterable[str]) -> list[tuple[Any, ...]]:
    conn = connections[router.db_for_write(Inspection)]
    dates = {frame.columns.index(c) for c in date_cols if c in frame.columns}
    return [
        tuple(conn.ops.adapt_datefield_value(v) if i in dates else v for i, v in enumerate(row))
        for row in frame.iter_rows()
    ]


# Which file wins when two hold the same inspection (school, framework, start date): the higher rank.
# Ofsted's official statistics beat the MI sample (a transcription), the pvhee copy of the December 2024
# statistics and the waiky8 history (scraped). A lower-ranked file never overwrites a higher-ranked row;
# an equal or higher rank updates it. Decision: docs/decisions/0015-served-schools-and-inspection-snapshot.md.
SOURCE_PRECEDENCE: dict[str, int] = {
    "ofsted_inspection_history": 1,
    "ofsted_latest": 2,
    "ofsted_management_information": 3,
    "ofsted_official_statistics": 4,
}


def _outranked(frame: pl.DataFrame, ctx: ImportContext) -> pl.DataFrame:
    """Keys of `frame` already held from a source ranked above this run's (to be left alone)."""
    mine = SOURCE_PRECEDENCE.get(ctx.run.source, 0)
    higher = [k for k, rank in SOURCE_PRECEDENCE.items() if rank > mine]
    schema = {"school_id": pl.Int64, "framework": pl.Utf8, "start_date": pl.Date}
    if not higher:
        return pl.DataFrame(schema=schema)
    school_ids = frame["school_id"].unique().to_list()
    rows: list[tuple[Any, ...]] = []
    for chunk in itertools.batched(school_ids, 5000):
        rows += Inspection.objects.filter(school_id__in=chunk, source_run__source__in=higher).values_list(
            "school_id", "framework", "start_date"
        )
    return pl.DataFrame(rows, schema=schema, orient="row")


def save_inspections(
    frame: pl.DataFrame, update_fields: Sequence[str], ctx: ImportContext
) -> tuple[int, int, dict[tuple[int, str, dt.date], int]]:
    """Upsert inspections by (school, framework, start_date), leaving rows of higher-ranked sources alone.

    `frame` has `school_id`, `framework`, `start_date` and model field names. Text fields must not be
    null (use ""). Returns (inserted, updated, {(school_id, framework, start_date): inspection id}).
    """
    if frame.is_empty():
        return 0, 0, {}
    frame = frame.unique(subset=["school_id", "framework", "start_date"], keep="last", maintain_order=True)
    held = _outranked(frame, ctx)
    if held.height:
        frame = frame.join(held, on=["school_id", "framework", "start_date"], how="anti")
    frame = frame.with_columns(pl.lit(ctx.run.pk).alias("source_run"))
    fields = ["school" if c == "school_id" else c for c in frame.columns]
    date_cols = [c for c in ("start_date", "publication_date") if c in frame.columns]
    if frame.is_empty():
        return 0, 0, {}
    inserted, updated = upsert_rows(
        Inspection,
        fields,
        _db_rows(frame, date_cols),
        unique_fields=["school", "framework", "start_date"],
        update_fields=[*update_fields, "source_run"],
        ctx=ctx,
        total=frame.height,
    )
    ids: dict[tuple[int, str, dt.date], int] = {}
    school_ids = frame["school_id"].unique().to_list()
    frameworks = frame["framework"].unique().to_list()
    for chunk in itertools.batched(school_ids, 5000):
        qs = Inspection.objects.filter(school_id__in=chunk, framework__in=frameworks)
        for pk, school_id, framework, start_date in qs.values_list(
            "id", "school_id", "framework", "start_date"
        ):
            ids[(school_id, framework, start_date)] = pk
    for school_id, framework, start_date in held.iter_rows():
        ids.pop((school_id, framework, start_date), None)  # a higher-ranked row: not this run's grades
    return inserted, updated, ids


def save_grades(rows: list[tuple[int, str, int | None, bool]]) -> tuple[int, int]:
    """Upsert (inspection id, area, grade, not applicable) by (inspection, area)."""
    if not rows:
        return 0, 0
    return upsert_rows(
        InspectionGrade,
        ["inspection", "area", "grade", "not_applicable"],
        rows,
        unique_fields=["inspection", "area"],
        update_fields=["grade", "not_applicable"],
    )


# --------------------------------------------------------------------------------------------
# 1. Inspection history (URN, Rating, Inspection Date)

HISTORY_COLUMNS = (
    Column("urn", ("URN",), "int"),
    Column("rating", ("Rating", "Ofsted Rating", "OfstedRating")),
    Column("start_date", ("Inspection Date", "Inspection start date", "InspectionDate"), "date"),
)


def load_history(df: pl.DataFrame, ctx: ImportContext) -> LoadResult:
    grade, errors = coded(df, "rating", "Rating", LEGACY_WORDS, "recognised Ofsted rating")
    errors += required_when(df, pl.Series([True] * df.height), "urn", "URN", "URN is blank")
    errors += required_when(df, df["urn"].is_not_null(), "rating", "Rating", "Rating is blank")
    errors += required_when(df, df["urn"].is_not_null(), "start_date", "Inspection Date", "Date is blank")
    future = (df["start_date"] > today()).fill_null(False)
    errors += [
        {"row": r, "column": "Inspection Date", "value": str(v), "reason": "In the future"}
        for r, v in zip(df[ROW_COL].filter(future), df["start_date"].filter(future), strict=True)
    ]
    reject_if(errors)

    notes: list[str] = []
    df = df.with_columns(grade.alias("grade"))
    kept, skipped = keep_register(df, ctx, notes)
    late = kept.filter(
        (pl.col("rating").str.to_lowercase() == "satisfactory") & (pl.col("start_date") >= SATISFACTORY_ENDED)
    )
    if late.height:
        notes.append(
            f"{late.height} 'Satisfactory' rating(s) dated after August 2012 (when the word was replaced by "
            "'Requires improvement') stored as grade 3 with the published word."
        )
    # Same school and date twice: exact repeats collapse; if the words differ, keep the word in use at
    # the time (so 'Requires improvement' over 'Satisfactory' after August 2012), then the worse grade.
    kept = kept.with_columns(
        anachronism=(pl.col("rating").str.to_lowercase() == "satisfactory")
        & (pl.col("start_date") >= SATISFACTORY_ENDED)
    )
    conflicts = (
        kept.group_by("school_id", "start_date")
        .agg(pl.col("rating").n_unique().alias("n"))
        .filter(pl.col("n") > 1)
    )
    if conflicts.height:
        notes.append(f"{conflicts.height} inspection(s) listed twice with different ratings; kept one each.")
    repeats = kept.height - kept.select("school_id", "start_date").n_unique()
    kept = kept.sort(
        ["school_id", "start_date", "anachronism", "grade"], descending=[False, False, False, True]
    )
    kept = kept.unique(subset=["school_id", "start_date"], keep="first", maintain_order=True)
    frame = kept.select(
        "school_id",
        pl.lit(Framework.LEGACY.value).alias("framework"),
        "start_date",
        pl.col("grade").alias("overall_effectiveness"),
        pl.col("rating").alias("outcome_text"),
        pl.lit("").alias("inspection_number"),
        pl.lit("").alias("inspection_type"),
        pl.lit("").alias("category_of_concern"),
    )
    school_ids = frame["school_id"].unique().to_list()
    inserted, updated, _ = save_inspections(frame, ["overall_effectiveness", "outcome_text"], ctx)
    notes.insert(
        0, f"Graded inspections: {inserted} added, {updated} updated, for {len(school_ids)} schools."
    )
    return LoadResult(inserted=inserted, updated=updated, skipped=skipped + repeats, notes=notes)


HISTORY = register(
    Source(
        key="ofsted_inspection_history",
        label="Ofsted inspection history (overall effectiveness of every graded inspection)",
        description=(
            "One row per past graded inspection: URN, rating word (Outstanding, Good, Requires improvement, "
            "Inadequate; Satisfactory before September 2012 = grade 3) and inspection date. Stored as "
            "legacy inspections of schools in the register."
        ),
        columns=HISTORY_COLUMNS,
        loader=load_history,
        demo_files=(("waiky8-schools-data/ofsted_ratings_2018.csv", None),),
    )
)

# --------------------------------------------------------------------------------------------
# 2. Latest graded inspection (Ofsted official statistics layout)

LATEST_COLUMNS = (
    Column("urn", ("URN",), "int"),
    Column("name", ("EstablishmentName", "School name"), required=False),
    Column("overall", ("Overall effectiveness",)),
    Column("start_date", ("Inspection start date",), "date"),
    Column("rating", ("Ofsted Rating",), required=False),
)
OVERALL_WORDS: dict[str, int] = {
    **{k: v for k, v in LEGACY_WORDS.items() if k != "satisfactory"},
    "not judged": 0,
}


def load_latest(df: pl.DataFrame, ctx: ImportContext) -> LoadResult:
    overall, errors = coded(df, "overall", "Overall effectiveness", OVERALL_CODES, "grade")
    word, word_errors = coded(df, "rating", "Ofsted Rating", OVERALL_WORDS, "recognised Ofsted rating")
    errors += word_errors
    errors += required_when(df, pl.Series([True] * df.height), "urn", "URN", "URN is blank")
    errors += required_when(
        df,
        df["start_date"].is_not_null(),
        "overall",
        "Overall effectiveness",
        "Inspection date without a grade",
    )
    errors += required_when(
        df,
        df["overall"].is_not_null(),
        "start_date",
        "Inspection start date",
        "Grade without an inspection date",
    )
    disagree = (overall.is_not_null() & word.is_not_null() & (overall != word)).fill_null(False)
    errors += [
        {
            "row": r,
            "column": "Ofsted Rating",
            "value": v,
            "reason": f"Disagrees with overall effectiveness {o}",
        }
        for r, v, o in zip(
            df[ROW_COL].filter(disagree),
            df["rating"].filter(disagree),
            df["overall"].filter(disagree),
            strict=True,
        )
    ]
    future = (df["start_date"] > today()).fill_null(False)
    errors += [
        {"row": r, "column": "Inspection start date", "value": str(v), "reason": "In the future"}
        for r, v in zip(df[ROW_COL].filter(future), df["start_date"].filter(future), strict=True)
    ]
    reject_if(errors)

    notes: list[str] = []
    df = df.with_columns(overall.alias("grade"))
    kept, skipped = keep_register(df, ctx, notes)
    uninspected = kept.filter(pl.col("start_date").is_null())
    if uninspected.height:
        notes.append(
            f"{uninspected.height} school(s) in the register have no graded inspection in this file."
        )
    kept = kept.filter(pl.col("start_date").is_not_null())
    frame = kept.select(
        "school_id",
        pl.lit(Framework.LEGACY.value).alias("framework"),
        "start_date",
        pl.when(pl.col("grade") == NOT_JUDGED)
        .then(None)
        .otherwise(pl.col("grade"))
        .alias("overall_effectiveness"),
        pl.col("grade")
        .replace_strict(
            {NOT_JUDGED: "Not judged", **{g.value: g.label for g in OverallEffectiveness}},
            return_dtype=pl.Utf8,
        )
        .alias("outcome_text"),
        pl.lit("").alias("inspection_number"),
        pl.lit("").alias("inspection_type"),
        pl.lit("").alias("category_of_concern"),
    )
    not_judged = frame.filter(pl.col("overall_effectiveness").is_null()).height
    if not_judged:
        notes.append(
            f"{not_judged} graded inspection(s) from September 2024 have no overall effectiveness ('Not judged')."
        )
    inserted, updated, _ = save_inspections(frame, ["overall_effectiveness", "outcome_text"], ctx)
    notes.insert(0, f"Latest graded inspections: {inserted} added, {updated} updated.")
    return LoadResult(inserted=inserted, updated=updated, skipped=skipped + uninspected.height, notes=notes)


LATEST = register(
    Source(
        key="ofsted_latest",
        label="Ofsted latest graded inspection (overall effectiveness and date)",
        description=(
            "Ofsted official statistics layout: URN, 'Overall effectiveness' (1-4, or 'Not judged' for graded "
            "inspections from September 2024) and 'Inspection start date'. Adds or confirms each school's "
            "latest graded inspection."
        ),
        columns=LATEST_COLUMNS,
        loader=load_latest,
        demo_files=(("pvhee-london-schools/schools_london_complete.csv", None),),
    )
)

# --------------------------------------------------------------------------------------------
# 3. Ofsted management information (state-funded schools, 2026 edition: report cards)

# (canonical, header in the MI, evaluation area)
REPORT_CARD_AREAS: tuple[tuple[str, str, str], ...] = (
    ("rc_inclusion", "Inclusion", EvaluationArea.INCLUSION),
    ("rc_curriculum", "Curriculum and teaching", EvaluationArea.CURRICULUM),
    ("rc_achievement", "Achievement", EvaluationArea.ACHIEVEMENT),
    ("rc_attendance", "Attendance and behaviour", EvaluationArea.ATTENDANCE_BEHAVIOUR),
    ("rc_personal", "Personal development and wellbeing", EvaluationArea.PERSONAL_DEVELOPMENT),
    ("rc_early_years", "Early years (where applicable)", EvaluationArea.EARLY_YEARS),
    ("rc_post16", "Post-16 provision (where applicable)", EvaluationArea.POST16),
    ("rc_leadership", "Leadership and governance", EvaluationArea.LEADERSHIP),
)
GRADE_DATE_HEADERS: dict[str, str] = {
    "rc_safeguarding": "Safeguarding standards - date of grade",
    "rc_inclusion": "Inclusion - date of grade",
    "rc_curriculum": "Curriculum and teaching - date of grade",
    "rc_achievement": "Achievement - date of grade",
    "rc_attendance": "Attendance and behaviour - date of grade",
    "rc_personal": "Personal development and wellbeing - date of grade",
    "rc_early_years": "Early years - date of grade",
    "rc_post16": "Post-16 provision - date of grade",
    "rc_leadership": "Leadership and governance - date of grade",
}
OEIF_AREAS: tuple[tuple[str, str, str], ...] = (
    ("oeif_quality", "Latest OEIF quality of education", EvaluationArea.QUALITY_OF_EDUCATION),
    ("oeif_behaviour", "Latest OEIF behaviour and attitudes", EvaluationArea.BEHAVIOUR_ATTITUDES),
    ("oeif_personal", "Latest OEIF personal development", EvaluationArea.PERSONAL_DEVELOPMENT),
    (
        "oeif_leadership",
        "Latest OEIF effectiveness of leadership and management",
        EvaluationArea.LEADERSHIP_MANAGEMENT,
    ),
    ("oeif_early_years", "Latest OEIF early years provision (where applicable)", EvaluationArea.EARLY_YEARS),
    ("oeif_sixth_form", "Latest OEIF sixth form provision (where applicable)", EvaluationArea.POST16),
)
MI_HEADERS: dict[str, str] = {
    "urn": "URN",
    "rc_number": "Inspection number of latest full inspection",
    "rc_type": "Inspection type",
    "rc_start": "Inspection start date",
    "rc_published": "Publication date",
    "rc_concern": "Category of concern",
    "rc_safeguarding": "Safeguarding standards",
    "oeif_number": "Inspection number of latest OEIF graded inspection",
    "oeif_type": "Inspection type of latest OEIF graded inspection",
    "oeif_start": "Inspection start date of latest OEIF graded inspection",
    "oeif_published": "Publication date of latest OEIF graded inspection",
    "oeif_concern": "Latest OEIF category of concern",
    "oeif_overall": "Latest OEIF overall effectiveness",
    "oeif_safeguarding": "Latest OEIF safeguarding is effective?",  # two spaces in the MI header
    "ug_number": "Latest ungraded inspection number",
    "ug_start": "Date of latest ungraded inspection",
    "ug_published": "Ungraded inspection publication date",
    "ug_outcome": "Ungraded inspection overall outcome",
    "recent_concern": "Most recent category of concern",
    "rc_same_urn": "Does the latest full inspection relate to the URN of the current school?",
    "oeif_same_urn": "Does the latest OEIF graded inspection relate to the URN of the current school?",
    "ug_same_urn": "Does the ungraded inspection relate to the URN of the current school?",
}
_DATES = {"rc_start", "rc_published", "oeif_start", "oeif_published", "ug_start", "ug_published"}
_OPTIONAL = {"recent_concern", "rc_same_urn", "oeif_same_urn", "ug_same_urn"}
MI_COLUMNS = (
    *(
        Column(
            name,
            (header,),
            "int" if name == "urn" else "date" if name in _DATES else "str",
            required=name not in _OPTIONAL,
        )
        for name, header in MI_HEADERS.items()
    ),
    *(Column(name, (header,)) for name, header, _ in REPORT_CARD_AREAS),
    *(Column(name, (header,)) for name, header, _ in OEIF_AREAS),
    *(
        Column(f"{name}__date", (header,), "date", required=False)
        for name, header in GRADE_DATE_HEADERS.items()
    ),
)
RC_GRADE_COLS = ["rc_safeguarding", *(name for name, _, _ in REPORT_CARD_AREAS)]


def validate_mi(df: pl.DataFrame) -> tuple[pl.DataFrame, list[Error]]:
    """Parse the MI's grade words and codes (vectorised); return the frame with `*__code` columns."""
    h = MI_HEADERS
    errors: list[Error] = []
    codes: list[pl.Series] = []
    checks: list[tuple[str, str, Mapping[str, int], str]] = [
        ("rc_safeguarding", h["rc_safeguarding"], MET_WORDS, "safeguarding outcome"),
        *((name, header, REPORT_CARD_WORDS, "report-card grade") for name, header, _ in REPORT_CARD_AREAS),
        ("oeif_overall", h["oeif_overall"], OVERALL_CODES, "overall effectiveness grade"),
        ("oeif_safeguarding", h["oeif_safeguarding"], YES_NO, "yes/no answer"),
        *((name, header, KEY_JUDGEMENT_CODES, "key judgement grade") for name, header, _ in OEIF_AREAS),
    ]
    for name, header, vocab, what in checks:
        series, errs = coded(df, name, header, vocab, what)
        codes.append(series.alias(f"{name}__code"))
        errors += errs
    df = df.with_columns(codes)
    has_report_card = df.select(pl.any_horizontal(pl.col(RC_GRADE_COLS).is_not_null())).to_series()
    has_oeif = df.select(
        pl.any_horizontal(pl.col(["oeif_overall", *(n for n, _, _ in OEIF_AREAS)]).is_not_null())
    ).to_series()
    has_ungraded = df["ug_outcome"].is_not_null() | df["ug_number"].is_not_null()
    errors += required_when(df, pl.Series([True] * df.height), "urn", h["urn"], "URN is blank")
    errors += required_when(
        df, has_report_card, "rc_start", h["rc_start"], "Report-card grades without a start date"
    )
    errors += required_when(
        df, has_report_card, "rc_safeguarding", h["rc_safeguarding"], "Report card without safeguarding"
    )
    errors += required_when(df, has_oeif, "oeif_start", h["oeif_start"], "OEIF grades without a start date")
    errors += required_when(df, has_ungraded, "ug_start", h["ug_start"], "Ungraded inspection without a date")
    errors += required_when(
        df,
        df["ug_start"].is_not_null(),
        "ug_outcome",
        h["ug_outcome"],
        "Ungraded inspection without an outcome",
    )
    for start, published in (
        ("rc_start", "rc_published"),
        ("oeif_start", "oeif_published"),
        ("ug_start", "ug_published"),
    ):
        errors += dates_in_order(df, start, published, h[published], start_header=h[start])
    return df, errors


def load_mi(df: pl.DataFrame, ctx: ImportContext) -> LoadResult:
    df, errors = validate_mi(df)
    reject_if(errors)

    notes: list[str] = []
    kept, skipped = keep_register(df, ctx, notes)
    blank = pl.lit("")

    report_cards = kept.filter(pl.any_horizontal(pl.col(RC_GRADE_COLS).is_not_null()))
    rc_frame = report_cards.select(
        "school_id",
        pl.lit(Framework.REPORT_CARD.value).alias("framework"),
        pl.col("rc_start").alias("start_date"),
        pl.col("rc_published").alias("publication_date"),
        pl.col("rc_number").fill_null(blank).alias("inspection_number"),
        pl.col("rc_type").fill_null(blank).alias("inspection_type"),
        pl.lit(None, dtype=pl.Int64).alias("overall_effectiveness"),
        (pl.col("rc_safeguarding__code") == 1).alias("safeguarding_met"),
        pl.col("rc_concern").fill_null(blank).alias("category_of_concern"),
        blank.alias("outcome_text"),
    )
    redated = 0
    for name in RC_GRADE_COLS:
        redated += report_cards.filter(
            (pl.col(f"{name}__date") != pl.col("rc_start")).fill_null(False)
        ).height
    if redated:
        notes.append(f"{redated} report-card grade(s) dated after the inspection start (later monitoring).")

    oeif = kept.filter(pl.col("oeif_start").is_not_null())
    oeif_frame = oeif.select(
        "school_id",
        pl.lit(Framework.LEGACY.value).alias("framework"),
        pl.col("oeif_start").alias("start_date"),
        pl.col("oeif_published").alias("publication_date"),
        pl.col("oeif_number").fill_null(blank).alias("inspection_number"),
        pl.col("oeif_type").fill_null(blank).alias("inspection_type"),
        pl.when(pl.col("oeif_overall__code") == NOT_JUDGED)
        .then(None)
        .otherwise(pl.col("oeif_overall__code"))
        .alias("overall_effectiveness"),
        pl.when(pl.col("oeif_safeguarding__code").is_null())
        .then(None)
        .otherwise(pl.col("oeif_safeguarding__code") == 1)
        .alias("safeguarding_met"),
        pl.col("oeif_concern").fill_null(blank).alias("category_of_concern"),
        pl.col("oeif_overall__code")
        .replace_strict(
            {NOT_JUDGED: "Not judged", **{g.value: g.label for g in OverallEffectiveness}},
            default="",
            return_dtype=pl.Utf8,
        )
        .fill_null(blank)
        .alias("outcome_text"),
    )

    ungraded = kept.filter(pl.col("ug_start").is_not_null())
    ug_frame = ungraded.select(
        "school_id",
        pl.lit(Framework.UNGRADED.value).alias("framework"),
        pl.col("ug_start").alias("start_date"),
        pl.col("ug_published").alias("publication_date"),
        pl.col("ug_number").fill_null(blank).alias("inspection_number"),
        pl.lit("Ungraded inspection").alias("inspection_type"),
        pl.lit(None, dtype=pl.Int64).alias("overall_effectiveness"),
        pl.lit(None, dtype=pl.Boolean).alias("safeguarding_met"),
        blank.alias("category_of_concern"),
        pl.col("ug_outcome").fill_null(blank).alias("outcome_text"),
    )
    recent = kept.filter(
        pl.col("recent_concern").is_not_null()
        & (pl.col("recent_concern") != pl.col("rc_concern").fill_null(""))
        & (pl.col("recent_concern") != pl.col("oeif_concern").fill_null(""))
    )
    if recent.height:
        notes.append(
            f"{recent.height} school(s) have a most recent category of concern not from the inspections "
            f"above (URN {', '.join(str(u) for u in recent['urn'].to_list()[:10])}); not recorded."
        )
    for flag, what in (
        ("rc_same_urn", "report card"),
        ("oeif_same_urn", "OEIF"),
        ("ug_same_urn", "ungraded"),
    ):
        other = kept.filter(pl.col(flag).str.to_lowercase() == "no").height
        if other:
            notes.append(
                f"{other} {what} inspection(s) were of a predecessor URN; kept against the current school."
            )

    frame = pl.concat([rc_frame, oeif_frame, ug_frame], how="vertical_relaxed")
    inserted, updated, ids = save_inspections(
        frame,
        [
            "publication_date",
            "inspection_number",
            "inspection_type",
            "overall_effectiveness",
            "safeguarding_met",
            "category_of_concern",
            "outcome_text",
        ],
        ctx,
    )

    grade_rows: list[tuple[int, str, int | None, bool]] = []
    for source, framework, start, areas in (
        (report_cards, Framework.REPORT_CARD, "rc_start", REPORT_CARD_AREAS),
        (oeif, Framework.LEGACY, "oeif_start", OEIF_AREAS),
    ):
        cols = [f"{name}__code" for name, _, _ in areas]
        for row in source.select("school_id", start, *cols).iter_rows():
            inspection_id = ids.get((row[0], framework.value, row[1]))
            if inspection_id is None:  # held from a higher-ranked source
                continue
            for (_, _, area), code in zip(areas, row[2:], strict=True):
                if code is None:
                    continue
                na = code == NOT_APPLICABLE
                grade_rows.append((inspection_id, str(area), None if na else code, na))
    grades_added, grades_updated = save_grades(grade_rows)
    notes.insert(
        0,
        f"Inspections: {rc_frame.height} report card(s), {oeif_frame.height} OEIF graded, "
        f"{ug_frame.height} ungraded ({inserted} added, {updated} updated); evaluation-area grades: "
        f"{grades_added} added, {grades_updated} updated.",
    )
    return LoadResult(inserted=inserted, updated=updated, skipped=skipped, notes=notes)


MANAGEMENT_INFORMATION = register(
    Source(
        key="ofsted_management_information",
        label="Ofsted management information: state-funded schools (report cards and earlier inspections)",
        description=(
            "Ofsted's monthly MI for state-funded schools (2026 edition). Records the latest full inspection "
            "as a report card (evaluation-area grades, safeguarding met / not met), the latest OEIF graded "
            "inspection (overall effectiveness and key judgements) and the latest ungraded inspection."
        ),
        columns=MI_COLUMNS,
        loader=load_mi,
        demo_files=(
            ("hemaleed-ofsted-mi-2026-sample/ofsted_mi_state_funded_schools_2026_first18rows.csv", None),
        ),
    )
)


# The official statistics source lives in its own module; importing it here registers it with the others.
from beacon.inspections import official_statistics  # noqa: E402, F401
